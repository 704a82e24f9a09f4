//! Golden test of the TCP sequence analysis against tshark 4.0.17's `tcp.analysis.*` columns on
//! the capture corpus: the whole chain (decoder, dissector, flow table, analysis) on every
//! capture, compared packet by packet (matched on frame number).
//!
//! For each finding it prints precision and recall over every TCP packet of the corpus, then
//! the agreement of `duplicate_ack_num`, `ack_rtt` and the scaled window (`tcp.window_size`).
//! It fails when a measure is under the bar ([`BAR`]) or when a disagreement is not in
//! [`KNOWN`], the list of every remaining difference with its reason. Run it in release mode:
//! `RSTSCOPE_CORPUS=../shared/captures cargo test --release --test analysis_corpus -- --nocapture`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use rstscope::analysis::Findings;
use rstscope::pipeline::Analyzer;

/// The bar: every precision and recall at least this.
const BAR: f64 = 0.99;

/// A known difference from tshark: which capture, which frames, which measure, and why.
struct Known {
    file: &'static str,
    /// The finding name, or `dup_ack_num`, `ack_rtt`, `window_size`.
    what: &'static str,
    frames: &'static [u64],
    reason: &'static str,
}

/// Every remaining disagreement class. See the `reason`s; the unit tests in
/// `src/analysis/tests.rs` show the cases where our answer is the better one.
const KNOWN: &[Known] = &[
    // Known bug, in the dissector's contract rather than the analysis: frame 27 is a SYN whose
    // TCP header length (40) is larger than what the IP header says the segment has. Wireshark
    // calls it a "short segment": it gives it a stream but no `tcp.len`, and does not analyse
    // it. `TcpSegment` cannot say so (its `payload_len` saturates at 0), so we analyse it as a
    // SYN with a new ISN on known ports, which sets that direction's state. The frame itself is
    // not compared (tshark did not analyse it: no `tcp.len`), but two later verdicts of its
    // stream follow from it.
    Known {
        file: "ndpi/fuzz-2006-09-29-28586.pcap",
        what: "lost_segment",
        frames: &[40],
        reason: "follows from analysing the short segment of frame 27",
    },
    Known {
        file: "ndpi/fuzz-2006-09-29-28586.pcap",
        what: "ack_lost_segment",
        frames: &[42],
        reason: "follows from analysing the short segment of frame 27",
    },
    // Ours is better: frame 24 carries a SACK option with no block, which makes tshark's option
    // dissector throw; the TCP dissector stops there, before it prints the analysis of the
    // packet (the analysis itself ran: the next frames agree). The ACK does acknowledge frame
    // 20 exactly, 0.186323 s later. See `analysis::tests::ack_rtt_of_the_exact_ack`.
    Known {
        file: "suricata-verify/tcp-empty-sack/tcp-opt.pcap",
        what: "ack_rtt",
        frames: &[24],
        reason: "tshark stops at the empty SACK option before printing the analysis",
    },
    // Known bug outside the analysis (capture decoder): these timestamps are far out of range
    // (tshark shows 18446744073204.x s: it wraps them modulo 2^64); the decoder saturates them,
    // so two packets 0.5 ms apart get the same time and the RTT reads 0 (not shown).
    Known {
        file: "pcapplusplus/pcapng-example.pcapng",
        what: "ack_rtt",
        frames: PCAPNG_EXAMPLE_SATURATED,
        reason: "decoder saturates out-of-range timestamps that tshark wraps",
    },
    Known {
        file: "pcapplusplus/file_heuristics/pcapng-example.pcapng.zst",
        what: "ack_rtt",
        frames: PCAPNG_EXAMPLE_SATURATED,
        reason: "decoder saturates out-of-range timestamps that tshark wraps",
    },
    // Known bug outside the analysis (capture decoder): the record's nanosecond field is 10^9
    // or more; tshark and the decoder carry it into the seconds differently.
    Known {
        file: "tcpdump/timestamp_invalid_nano.pcap",
        what: "ack_rtt",
        frames: &[3],
        reason: "out-of-range nanosecond field read differently by the decoder",
    },
];

/// The frames of `pcapng-example.pcapng` whose timestamps the decoder saturates.
const PCAPNG_EXAMPLE_SATURATED: &[u64] = &[
    64, 68, 70, 72, 77, 80, 82, 83, 85, 87, 89, 91, 95, 96, 100, 101, 102, 103, 107, 109, 110, 111,
    112, 114, 115, 118, 119, 121, 124, 126, 129, 130, 132, 135, 136, 138, 140, 142, 145, 147, 150,
    152, 154, 155, 156, 157, 158,
];

/// What tshark said of one packet.
#[derive(Debug, Default, Clone)]
struct Row {
    stream: Option<u32>,
    /// tshark computed `tcp.len`, so it analysed the packet.
    analysed: bool,
    findings: BTreeSet<&'static str>,
    dup_ack_num: Option<u32>,
    ack_rtt_ns: Option<i64>,
    window_size: Option<u32>,
}

/// What we say of one packet.
#[derive(Debug, Default, Clone)]
struct Ours {
    stream: u32,
    findings: BTreeSet<&'static str>,
    dup_ack_num: Option<u32>,
    ack_rtt_ns: Option<i64>,
    window_size: Option<u32>,
}

fn read_oracle(path: &Path) -> BTreeMap<u64, Row> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return BTreeMap::new();
    };
    let cols: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let finding_cols: Vec<(usize, &'static str)> = Findings::all()
        .filter_map(|(_, name)| col(&format!("tcp.analysis.{name}")).map(|i| (i, name)))
        .collect();
    let (c_frame, c_len, c_stream, c_dup, c_rtt, c_win) = (
        col("frame.number"),
        col("tcp.len"),
        col("tcp.stream"),
        col("tcp.analysis.duplicate_ack_num"),
        col("tcp.analysis.ack_rtt"),
        col("tcp.window_size"),
    );
    let mut rows = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let field = |i: Option<usize>| i.and_then(|i| f.get(i).copied()).unwrap_or("");
        let Ok(frame) = field(c_frame).parse::<u64>() else {
            continue;
        };
        let row = Row {
            stream: field(c_stream).parse().ok(),
            analysed: !field(c_len).is_empty(),
            findings: finding_cols
                .iter()
                .filter(|(i, _)| !field(Some(*i)).is_empty())
                .map(|(_, n)| *n)
                .collect(),
            dup_ack_num: field(c_dup).parse().ok(),
            ack_rtt_ns: parse_seconds(field(c_rtt)),
            window_size: field(c_win).parse().ok(),
        };
        rows.insert(frame, row);
    }
    rows
}

/// "0.000022000" seconds in nanoseconds.
fn parse_seconds(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut ns: i64 = secs.parse::<i64>().ok()? * 1_000_000_000;
    for (i, d) in frac.bytes().take(9).enumerate() {
        ns += i64::from(d.wrapping_sub(b'0') % 10) * 10i64.pow(8 - i as u32);
    }
    Some(if neg { -ns } else { ns })
}

fn analyse(capture: &Path) -> BTreeMap<u64, Ours> {
    let Ok(bytes) = std::fs::read(capture) else {
        return BTreeMap::new();
    };
    let mut analyzer = Analyzer::new();
    for chunk in bytes.chunks(1 << 20) {
        if analyzer.feed(chunk).is_err() {
            return BTreeMap::new();
        }
    }
    let Ok(analysis) = analyzer.finish() else {
        return BTreeMap::new();
    };
    let records = analysis.tcp.records();
    let mut out = BTreeMap::new();
    for (pos, r) in records.as_slice().iter().enumerate() {
        let pos = pos as u32;
        let scale = analysis
            .tcp
            .connection(r.stream)
            .map(|c| c.endpoint(r.side()).scaled_window(r.window));
        out.insert(
            r.frame_number(),
            Ours {
                stream: r.stream.0,
                findings: r.findings.names().collect(),
                dup_ack_num: records.dup_ack_num(pos),
                ack_rtt_ns: records.ack_rtt_ns(pos),
                window_size: if r.window_scaled() {
                    scale
                } else {
                    Some(u32::from(r.window))
                },
            },
        );
    }
    out
}

/// True/false positives and false negatives of one finding.
#[derive(Default, Clone, Copy)]
struct Score {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Score {
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// One disagreement: (file, measure) -> frames, with an example of each side.
type Diffs = BTreeMap<(String, &'static str), Vec<(u64, String)>>;

#[test]
fn findings_agree_with_tshark() {
    let Some(dir) = common::corpus_dir("analysis_corpus") else {
        return;
    };
    let mut scores: BTreeMap<&'static str, Score> = BTreeMap::new();
    // Agreement of the valued columns: (agree, compared).
    let mut valued: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut diffs: Diffs = BTreeMap::new();
    let mut packets = 0u64;
    let mut not_analysed = 0u64;
    for capture in common::corpus_captures(&dir) {
        let file = capture
            .strip_prefix(&dir)
            .unwrap_or(&capture)
            .to_string_lossy()
            .into_owned();
        let mut oracle_path = capture.as_os_str().to_owned();
        oracle_path.push(".tshark.tsv");
        let oracle = read_oracle(Path::new(&oracle_path));
        let ours = analyse(&capture);
        for (frame, want) in &oracle {
            // Only packets both sides analysed in the same stream are comparable: a stream
            // difference is the flow table's (tests/stream_corpus.rs), a missing packet the
            // dissector's (tests/dissect_corpus.rs).
            let Some(got) = ours.get(frame) else { continue };
            if want.stream != Some(got.stream) {
                continue;
            }
            // tshark gives a stream to TCP headers whose segment length it cannot know (header
            // longer than the IP payload, ...) but does not analyse them.
            if !want.analysed {
                not_analysed += 1;
                continue;
            }
            packets += 1;
            for (_, name) in Findings::all() {
                let (w, g) = (want.findings.contains(name), got.findings.contains(name));
                let s = scores.entry(name).or_default();
                match (w, g) {
                    (true, true) => s.tp += 1,
                    (false, true) => s.fp += 1,
                    (true, false) => s.fn_ += 1,
                    (false, false) => {}
                }
                if w != g {
                    diffs.entry((file.clone(), name)).or_default().push((
                        *frame,
                        format!("tshark {w}, ours {g} (ours: {:?})", got.findings),
                    ));
                }
            }
            let mut compare = |what: &'static str, w: Option<i64>, g: Option<i64>| {
                if w.is_none() && g.is_none() {
                    return;
                }
                let v = valued.entry(what).or_default();
                v.1 += 1;
                if w == g {
                    v.0 += 1;
                } else {
                    diffs
                        .entry((file.clone(), what))
                        .or_default()
                        .push((*frame, format!("tshark {w:?}, ours {g:?}")));
                }
            };
            compare(
                "dup_ack_num",
                want.dup_ack_num.map(i64::from),
                got.dup_ack_num.map(i64::from),
            );
            compare("ack_rtt", want.ack_rtt_ns, got.ack_rtt_ns);
            compare(
                "window_size",
                want.window_size.map(i64::from),
                got.window_size.map(i64::from),
            );
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nTCP analysis vs tshark 4.0.17 over {packets} TCP packets ({not_analysed} more that tshark \
         did not analyse)\n{:<26} {:>7} {:>7} {:>7} {:>10} {:>10}",
        "finding", "tp", "fp", "fn", "precision", "recall"
    );
    let mut failures = Vec::new();
    for (name, s) in &scores {
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>7} {:>7} {:>9.3}% {:>9.3}%",
            name,
            s.tp,
            s.fp,
            s.fn_,
            100.0 * s.precision(),
            100.0 * s.recall()
        );
        if s.precision() < BAR || s.recall() < BAR {
            failures.push(format!("{name}: under the {BAR} bar"));
        }
    }
    let _ = writeln!(
        out,
        "{:<26} {:>7} {:>7} {:>10}",
        "value", "agree", "of", "agreement"
    );
    for (what, (agree, of)) in &valued {
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>7} {:>9.3}%",
            what,
            agree,
            of,
            100.0 * ratio(*agree, *of)
        );
        if ratio(*agree, *of) < BAR {
            failures.push(format!("{what}: under the {BAR} bar"));
        }
    }
    let _ = writeln!(out, "\nDisagreements (file, measure: frames):");
    for ((file, what), frames) in &diffs {
        let known = KNOWN.iter().find(|k| k.file == file && k.what == *what);
        let listed: BTreeSet<u64> = known
            .map(|k| k.frames.iter().copied().collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {file} {what}: {} frame(s) {:?} e.g. frame {} {}{}",
            frames.len(),
            frames.iter().map(|f| f.0).take(12).collect::<Vec<_>>(),
            frames[0].0,
            frames[0].1,
            known.map_or(String::new(), |k| format!("\n      known: {}", k.reason))
        );
        for (frame, detail) in frames {
            if !listed.contains(frame) {
                failures.push(format!("{file} frame {frame} {what}: {detail}"));
            }
        }
        for frame in listed.difference(&frames.iter().map(|f| f.0).collect()) {
            failures.push(format!(
                "{file} frame {frame} {what}: listed as known but agrees now"
            ));
        }
    }
    for k in KNOWN {
        if !diffs.contains_key(&(k.file.to_string(), k.what)) {
            failures.push(format!(
                "{} {}: listed as known but agrees now",
                k.file, k.what
            ));
        }
    }
    eprintln!("{out}");
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures
            .iter()
            .take(100)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
