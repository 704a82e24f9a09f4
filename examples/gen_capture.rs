//! Writes a large, realistic, deterministic capture for benchmarks:
//!
//! ```sh
//! cargo run --release --example gen_capture -- --out FILE --size 1GB [--seed N] [--format pcap|pcapng]
//! cargo run --release --example gen_capture -- --out FILE --packets 100000
//! ```
//!
//! Tens of thousands of Ethernet/IPv4/IPv6 TCP connections interleaved in time (handshakes,
//! request/response exchanges, bulk transfers), with losses and retransmissions (fast ones after
//! duplicate ACKs, and on timeout), out-of-order segments, zero windows and keep-alives; resets
//! of several causes (refused SYN, abortive close, RST after idle, RST answering data after FIN,
//! a forged RST with another TTL, a burst of resets from one server, RST after unanswered
//! retransmissions); four long connections (100 000+ packets each at 1 GB); some DNS and ARP.
//! The same seed and limit give the same bytes. Memory stays small whatever the size: packets
//! are written as the simulation makes them. The model is `rstscope::synth`.

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

use rstscope::synth::{Config, Format, Generator, Kind, Limit};

const USAGE: &str =
    "usage: gen_capture --out FILE (--size SIZE | --packets N) [--seed N] [--format pcap|pcapng] [--truth FILE]
  SIZE: bytes, or with a unit: 500KB, 100MB, 1GB (powers of 1000)
  --truth FILE: one line per TCP connection: client, server, the kind of connection generated";

fn parse_size(s: &str) -> Option<u64> {
    let upper = s.to_ascii_uppercase();
    let (digits, mult) = [
        ("GB", 1e9),
        ("MB", 1e6),
        ("KB", 1e3),
        ("G", 1e9),
        ("M", 1e6),
    ]
    .iter()
    .find_map(|(unit, m)| upper.strip_suffix(unit).map(|d| (d.to_owned(), *m)))
    .unwrap_or((upper.clone(), 1.0));
    let n: f64 = digits.trim().parse().ok()?;
    (n > 0.0).then_some((n * mult) as u64)
}

fn main() -> ExitCode {
    let mut out = None;
    let mut limit = None;
    let mut seed = 1u64;
    let mut format = None;
    let mut truth = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next();
        let ok = match arg.as_str() {
            "--out" => value().map(|v| out = Some(v)).is_some(),
            "--truth" => value().map(|v| truth = Some(v)).is_some(),
            "--size" => value()
                .and_then(|v| parse_size(&v))
                .map(|b| limit = Some(Limit::Bytes(b)))
                .is_some(),
            "--packets" => value()
                .and_then(|v| v.parse().ok())
                .map(|n| limit = Some(Limit::Packets(n)))
                .is_some(),
            "--seed" => value()
                .and_then(|v| v.parse().ok())
                .map(|n| seed = n)
                .is_some(),
            "--format" => match value().as_deref() {
                Some("pcap") => {
                    format = Some(Format::Pcap);
                    true
                }
                Some("pcapng") => {
                    format = Some(Format::PcapNg);
                    true
                }
                _ => false,
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => false,
        };
        if !ok {
            eprintln!("gen_capture: bad argument near {arg:?}\n{USAGE}");
            return ExitCode::from(1);
        }
    }
    let (Some(out), Some(limit)) = (out, limit) else {
        eprintln!("{USAGE}");
        return ExitCode::from(1);
    };
    let format = format.unwrap_or(if out.ends_with(".pcapng") {
        Format::PcapNg
    } else {
        Format::Pcap
    });
    let file = match File::create(&out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen_capture: {out}: {e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let cfg = Config {
        seed,
        limit,
        format,
    };
    let mut generator = Generator::new(cfg, BufWriter::with_capacity(1 << 20, file));
    if let Some(path) = &truth {
        match File::create(path) {
            Ok(f) => generator = generator.with_truth(BufWriter::new(f)),
            Err(e) => {
                eprintln!("gen_capture: {path}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let stats = match generator.run() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gen_capture: {out}: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{out}: {} bytes, {} packets ({} TCP, {} other; {:.0} bytes/packet), {} TCP connections \
         ({} IPv6), {} RST packets, {:.0} s of traffic (planned {:.0} s), largest connections {:?} \
         packets; written in {:.1} s",
        stats.bytes,
        stats.packets,
        stats.tcp_packets,
        stats.other_packets,
        stats.bytes as f64 / stats.packets.max(1) as f64,
        stats.connections,
        stats.ipv6_connections,
        stats.rst_packets,
        stats.duration_ns as f64 / 1e9,
        stats.planned_duration_ns as f64 / 1e9,
        stats.largest,
        started.elapsed().as_secs_f64()
    );
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .map(|k| {
            let i = k.index();
            format!(
                "{k:?} {} ({} packets, {:.1} MB)",
                stats.connections_by_kind[i],
                stats.packets_by_kind[i],
                stats.bytes_by_kind[i] as f64 / 1e6
            )
        })
        .collect();
    println!("connections by kind: {}", kinds.join(", "));
    ExitCode::SUCCESS
}
