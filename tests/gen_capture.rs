//! The benchmark capture generator (`examples/gen_capture`): what it writes is a capture our
//! decoder reads packet for packet, tshark agrees on the packets, the TCP streams and the
//! checksums, and a seed always gives the same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use rstscope::diagnosis::diagnose;
use rstscope::pipeline::{Analysis, Analyzer};
use rstscope::synth::{self, Config, Format, Generator, Limit, Stats};

const TSHARK: &str = "/usr/bin/tshark";

fn generate(name: &str, cfg: Config) -> (PathBuf, Stats) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let file = std::fs::File::create(&path).expect("create capture");
    let stats = Generator::new(cfg, std::io::BufWriter::new(file))
        .run()
        .expect("generate");
    (path, stats)
}

fn analyze(path: &Path) -> Analysis {
    let bytes = std::fs::read(path).expect("read capture");
    let mut analyzer = Analyzer::new();
    // Odd chunk size: block boundaries fall anywhere.
    for chunk in bytes.chunks(65_521) {
        analyzer.feed(chunk).expect("a capture");
    }
    analyzer.finish().expect("a capture")
}

/// tshark's output for `args`, or `None` (saying so) when tshark is not installed.
fn tshark(path: &Path, args: &[&str]) -> Option<String> {
    if !Path::new(TSHARK).exists() {
        eprintln!("{TSHARK} is absent: the comparison with tshark did not run");
        return None;
    }
    let out = Command::new(TSHARK)
        .arg("-n")
        .arg("-r")
        .arg(path)
        .args(args)
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed: {out:?}");
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

fn check_against_tshark(path: &Path, stats: &Stats, analysis: &Analysis) {
    // One line per packet: is it TCP, its stream, and the checksum verdicts.
    let Some(fields) = tshark(
        path,
        &[
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "tcp.stream",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
            "-e",
            "udp.checksum.status",
            "-e",
            "_ws.malformed",
        ],
    ) else {
        return;
    };
    let mut packets = 0u64;
    let mut tcp = 0u64;
    let mut streams = 0u64;
    for line in fields.lines() {
        packets += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        if let Some(stream) = cols.first().and_then(|s| s.parse::<u64>().ok()) {
            tcp += 1;
            streams = streams.max(stream + 1);
        }
        for status in &cols[1..4] {
            // 0 is "Bad"; 1 "Good", 2 "Unverified", empty: no such layer.
            assert_ne!(*status, "0", "bad checksum in packet {packets}: {line}");
        }
        assert!(
            cols.get(4).is_none_or(|m| m.is_empty()),
            "tshark finds packet {packets} malformed"
        );
    }
    assert_eq!(packets, stats.packets, "tshark's packet count");
    assert_eq!(tcp, stats.tcp_packets, "tshark's TCP packet count");
    assert_eq!(
        streams,
        analysis.flows.connections().len() as u64,
        "tshark's tcp.stream count"
    );
}

#[test]
fn pcap_is_read_packet_for_packet_and_tshark_agrees() {
    let cfg = Config {
        seed: 7,
        limit: Limit::Packets(20_000),
        format: Format::Pcap,
    };
    let (path, stats) = generate("gen-20k.pcap", cfg);
    assert_eq!(stats.packets, 20_000);
    assert_eq!(
        std::fs::metadata(&path).expect("file").len(),
        stats.bytes,
        "bytes written"
    );
    assert!(stats.connections > 300, "{stats:?}");
    assert!(stats.ipv6_connections > 0 && stats.other_packets > 0);
    assert!(stats.rst_packets > 50, "{stats:?}");

    let analysis = analyze(&path);
    assert_eq!(analysis.capture.packets, stats.packets);
    assert_eq!(analysis.capture.tcp_packets, stats.tcp_packets);
    assert_eq!(analysis.capture.malformed_packets, 0);
    assert!(analysis.capture.warnings.is_empty());
    assert_eq!(analysis.flows.connections().len() as u64, stats.connections);
    check_against_tshark(&path, &stats, &analysis);
}

/// The page's worker analyses this capture when it starts, so that the browser has compiled the
/// code a real capture runs: it must hold every kind of connection, and resets of many causes.
#[test]
fn the_warm_up_capture_runs_every_kind_of_connection_and_reset() {
    let capture = synth::warm_up();
    assert!(capture.len() >= 2_000_000, "{} bytes", capture.len());
    assert!(capture == synth::warm_up(), "the same bytes every time");
    let mut analyzer = Analyzer::new();
    analyzer.feed(&capture).expect("a capture");
    let analysis = analyzer.finish().expect("a capture");
    assert!(analysis.capture.warnings.is_empty());
    assert_eq!(analysis.capture.malformed_packets, 0);
    let connections = analysis.flows.connections();
    assert!(connections.len() > 200, "{} connections", connections.len());
    assert!(connections.iter().any(|c| c.client.is_ipv6()));
    let diagnosis = diagnose(&analysis, &analysis.ttls);
    let causes: Vec<_> = diagnosis.summary.by_cause.iter().map(|c| c.cause).collect();
    assert!(causes.len() >= 6, "causes: {causes:?}");
    assert!(
        diagnosis.summary.resets > 50,
        "{}",
        diagnosis.summary.resets
    );
}

#[test]
fn pcapng_is_read_packet_for_packet_and_tshark_agrees() {
    let cfg = Config {
        seed: 11,
        limit: Limit::Packets(5_000),
        format: Format::PcapNg,
    };
    let (path, stats) = generate("gen-5k.pcapng", cfg);
    let analysis = analyze(&path);
    assert_eq!(analysis.capture.packets, 5_000);
    assert_eq!(analysis.capture.tcp_packets, stats.tcp_packets);
    check_against_tshark(&path, &stats, &analysis);
}

#[test]
fn a_seed_gives_the_same_bytes_and_a_size_limit_is_met() {
    let cfg = |seed| Config {
        seed,
        limit: Limit::Bytes(1_000_000),
        format: Format::Pcap,
    };
    let (a, sa) = generate("gen-seed-a.pcap", cfg(3));
    let (b, _) = generate("gen-seed-b.pcap", cfg(3));
    let (c, _) = generate("gen-seed-c.pcap", cfg(4));
    let (a, b, c) = (
        std::fs::read(a).expect("a"),
        std::fs::read(b).expect("b"),
        std::fs::read(c).expect("c"),
    );
    assert!(a == b, "same seed, same bytes");
    assert!(a != c, "another seed, other bytes");
    // Stops at the first packet that reaches the limit.
    assert!(sa.bytes >= 1_000_000 && sa.bytes < 1_000_000 + 1_600);
}
