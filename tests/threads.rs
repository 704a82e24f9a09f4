//! The two-thread analyzer the command line uses (`Analyzer::on_two_threads`) must give exactly
//! what the one-thread analyzer the page uses gives: the same per-packet records, and the same
//! report, for every fixture and every corpus capture. And the command line's one-line JSON,
//! written without building the report (`Report::write_json_of`: each row written while the
//! diagnosis runs, its diagnosis added after), must be exactly what `serde_json` writes of the
//! report; the report in parts, as the page's worker sends it (`Report::in_parts`), must put
//! together again into the same report. The size hint (`Analyzer::expecting`) changes nothing.

mod common;

use std::path::{Path, PathBuf};

use rstscope::pipeline::{Analysis, Analyzer};
use rstscope::report::Report;

fn analyse(bytes: &[u8], mut analyzer: Analyzer) -> Option<Analysis> {
    for chunk in bytes.chunks(1 << 16) {
        analyzer.feed(chunk).ok()?;
    }
    analyzer.finish().ok()
}

/// Returns how many TCP packets the file has.
fn assert_same(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    let one = analyse(&bytes, Analyzer::new());
    let two = analyse(&bytes, Analyzer::on_two_threads(bytes.len() as u64));
    let (one, two) = match (one, two) {
        (Some(one), Some(two)) => (one, two),
        (None, None) => return 0,
        _ => panic!("{}: only one analyzer could read it", path.display()),
    };
    assert_eq!(one.capture.tcp_packets, two.capture.tcp_packets);
    assert!(
        one.tcp.records() == two.tcp.records(),
        "{}: different per-packet records",
        path.display()
    );
    assert!(
        one.locations == two.locations,
        "{}: different packet locations",
        path.display()
    );
    let report = Report::new(&one);
    assert_eq!(
        report.to_json(),
        Report::new(&two).to_json(),
        "{}: different reports",
        path.display()
    );
    let mut written = Vec::new();
    Report::write_json_of(&two, &mut written).unwrap();
    assert!(
        written == serde_json::to_vec(&report).unwrap(),
        "{}: the command line's JSON differs from serde_json's of the report",
        path.display()
    );
    assert_parts_make(
        &report,
        &analyse(&bytes, Analyzer::expecting(bytes.len() as u64)).unwrap(),
    );
    one.capture.tcp_packets
}

/// The report of `analysis` in parts of three rows puts together again into `report`.
fn assert_parts_make(report: &Report, analysis: &Analysis) {
    let mut head = None;
    let mut rows = Vec::new();
    let mut parts = 0;
    Report::in_parts(
        analysis,
        3,
        |h| {
            head = Some(h.clone());
            Ok::<(), ()>(())
        },
        |part| {
            assert!(
                (1..=3).contains(&part.len()),
                "a part of {} rows",
                part.len()
            );
            rows.extend_from_slice(part);
            parts += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(parts, report.connections.len().div_ceil(3));
    let head = head.expect("the head comes first");
    assert_eq!(head.connections, report.connections.len());
    let mut short = rows.clone();
    if short.pop().is_some() {
        assert!(
            Report::from_parts(head.clone(), short).is_none(),
            "a row missing"
        );
    }
    assert!(
        Report::from_parts(head, rows).as_ref() == Some(report),
        "the parts differ"
    );
    // An error (the page gone, say) stops the parts at once.
    if report.connections.len() > 6 {
        let mut calls = 0;
        let stopped = Report::in_parts(
            analysis,
            3,
            |_| Ok(()),
            |_| {
                calls += 1;
                if calls == 2 {
                    Err("gone")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!((stopped, calls), (Err("gone"), 2));
    }
}

/// The project's own captures: tests/fixtures/formats and tests/fixtures/scenarios.
fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for dir in ["formats", "scenarios"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e != "md" && e != "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 20,
        "expected the project's fixtures in {}",
        root.display()
    );
    files
}

#[test]
fn two_threads_give_the_same_analysis_on_the_fixtures() {
    let tcp_packets: u64 = fixtures().iter().map(|f| assert_same(f)).sum();
    assert!(
        tcp_packets > 500,
        "{tcp_packets} TCP packets in the fixtures"
    );
}

#[test]
fn two_threads_give_the_same_analysis_on_the_corpus() {
    let Some(dir) = common::corpus_dir("two_threads_give_the_same_analysis_on_the_corpus") else {
        return;
    };
    let mut files = common::corpus_captures(&dir);
    assert!(
        files.len() > 100,
        "expected the corpus in {}",
        dir.display()
    );
    // The composites have no oracle of their own; in them, batches are handed over many times.
    files.push(dir.join("composite/ndpi-480-real-captures-merged.pcap"));
    files.push(dir.join("composite/zeek-traces-real-merged.pcap"));
    let tcp_packets: u64 = files.iter().map(|f| assert_same(f)).sum();
    // The composites alone hold 273,414 TCP packets.
    assert!(
        tcp_packets > 400_000,
        "{tcp_packets} TCP packets in the corpus"
    );
}
