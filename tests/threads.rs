//! The two-thread analyzer the command line uses (`Analyzer::on_two_threads`) must give exactly
//! what the one-thread analyzer the page uses gives: the same per-packet records, and the same
//! report, for every fixture and every corpus capture. And the command line's one-line JSON,
//! written without building the report (`Report::write_json_of`: each row written while the
//! diagnosis runs, its diagnosis added after), must be exactly what `serde_json` writes of the
//! report.

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
    let two = analyse(&bytes, Analyzer::on_two_threads());
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
    one.capture.tcp_packets
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
