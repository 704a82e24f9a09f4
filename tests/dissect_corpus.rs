//! Golden test of the dissector against tshark 4.0 on the shared corpus of real captures.
//!
//! For every record of every capture, the dissector's verdict (TCP or not) and the TCP fields
//! are compared with the `.tshark.tsv` oracle next to the capture (one row per frame tshark
//! shows as TCP; see the corpus README). Differences that are understood are listed in
//! [`ALLOWED`] with the reason; any other difference fails the test, and so does an allowed
//! entry that no longer matches (so the list stays honest).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use rstscope::capture::{Decoder, Event, LinkType};
use rstscope::dissect::{Dissection, Dissector, TcpSegment};

/// Understood differences: (capture path relative to the corpus, frames, reason).
///
/// Reasons, by kind:
/// - SHORT: the IP payload is shorter than the TCP header length ("Short segment"): tshark
///   shows the header but leaves `tcp.len` empty; we say 0.
/// - PARTIAL: tshark shows a TCP layer with whatever fields were there (header cut before
///   byte 20, or a header length below 20: "Bogus TCP header length"); with no complete
///   header there is no segment to analyse, so we say `Malformed`.
/// - QUOTED: an ICMP/ICMPv6 error (or an sFlow sample) quoting a TCP header: tshark's `tcp`
///   filter matches the quote; it is not a segment of the connection, so we say `OtherIp`.
/// - GARBAGE: fuzzed fragments whose reassembly tshark turns into a partial TCP header.
const ALLOWED: &[(&str, &[u64], &str)] = &[
    (
        "gopacket/layers/testdata/linux_sll_oversized_addr.pcapng",
        &[87, 95],
        "87 SHORT; 95 PARTIAL (header length 0)",
    ),
    (
        "ndpi/fuzz-2006-09-29-28586.pcap",
        &[27, 80, 111],
        "27, 80 SHORT; 111 PARTIAL (header cut at 15 bytes)",
    ),
    (
        "ndpi/gnutella.pcap",
        &[372, 587, 754, 1229],
        "QUOTED (ICMP host unreachable)",
    ),
    ("ndpi/ip_fragmented_garbage.pcap", &[313, 1252], "GARBAGE"),
    (
        "pcapplusplus/examples/tcp-reassembly.pcap",
        &[66],
        "QUOTED (sFlow flow sample)",
    ),
    (
        "suricata-verify/ipv6-evasion/ipv6-dos-with-ext-headers-5/denial6-5.pcap",
        &[6, 12299, 16267],
        "QUOTED (ICMPv6 destination unreachable)",
    ),
    (
        "tcpdump/tcp_header_heapoverflow.pcap",
        &[1],
        "PARTIAL (header cut short)",
    ),
];

/// Feeds every record of a capture (any format the project reads) to `on_record` with its
/// link type, captured bytes and original length, through the project's own decoder. Returns
/// the number of records, or `None` when the file is not a capture at all.
fn for_each_record(path: &Path, mut on_record: impl FnMut(LinkType, &[u8], u32)) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut decoder = Decoder::new();
    let mut records = 0;
    let mut sink = |event: Event<'_>| {
        if let Event::Packet(packet) = event {
            records += 1;
            on_record(packet.link_type, packet.data, packet.orig_len);
        }
    };
    // Chunks of an odd size, so that blocks straddle chunk boundaries as they do in the page.
    let mut ok = true;
    for chunk in bytes.chunks(1 << 16 | 17) {
        ok &= decoder.feed(chunk, &mut sink).is_ok();
    }
    ok &= decoder.finish(&mut sink).is_ok();
    (ok || records > 0).then_some(records)
}

/// One row of the tshark oracle, by column name.
struct Row(HashMap<String, String>);

impl Row {
    fn get(&self, column: &str) -> &str {
        self.0.get(column).map(String::as_str).unwrap_or("")
    }
}

fn read_oracle(path: &Path) -> BTreeMap<u64, Row> {
    let mut oracle = path.as_os_str().to_owned();
    oracle.push(".tshark.tsv");
    let text = std::fs::read_to_string(&oracle).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let mut rows = BTreeMap::new();
    for line in lines {
        let row: HashMap<String, String> = header
            .iter()
            .zip(line.split('\t'))
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        if let Ok(frame) = row
            .get("frame.number")
            .map(String::as_str)
            .unwrap_or("")
            .parse::<u64>()
        {
            rows.insert(frame, Row(row));
        }
    }
    rows
}

/// The fields of `segment` that differ from the oracle row, as "field ours/tshark".
fn field_differences(segment: &TcpSegment, row: &Row) -> Vec<String> {
    let (src_col, dst_col, ttl_col) = match segment.src {
        IpAddr::V4(_) => ("ip.src", "ip.dst", "ip.ttl"),
        IpAddr::V6(_) => ("ipv6.src", "ipv6.dst", "ipv6.hlim"),
    };
    let ip_id = match segment.src {
        IpAddr::V4(_) => segment
            .ip_id
            .map(|id| format!("0x{id:04x}"))
            .unwrap_or_default(),
        IpAddr::V6(_) => row.get("ip.id").to_string(),
    };
    let ours = [
        (src_col, segment.src.to_string()),
        (dst_col, segment.dst.to_string()),
        ("tcp.srcport", segment.src_port.to_string()),
        ("tcp.dstport", segment.dst_port.to_string()),
        ("tcp.flags", format!("0x{:04x}", segment.flags.0)),
        ("tcp.seq_raw", segment.seq.0.to_string()),
        ("tcp.ack_raw", segment.ack.0.to_string()),
        ("tcp.len", segment.payload_len.to_string()),
        ("tcp.window_size_value", segment.window.to_string()),
        (ttl_col, segment.ttl.to_string()),
        ("ip.id", ip_id),
    ];
    ours.iter()
        .filter(|(col, value)| row.get(col) != value)
        .map(|(col, value)| format!("{col} {value}/{}", row.get(col)))
        .collect()
}

/// A frame where we and tshark disagree.
struct Difference {
    frame: u64,
    what: String,
}

#[test]
fn dissector_agrees_with_tshark() {
    let Some(dir) = common::corpus_dir("dissect_corpus") else {
        return;
    };
    let mut table = String::new();
    let mut unexplained = Vec::new();
    let (mut files, mut exact_files, mut tshark_total, mut ours_total, mut agreeing_total) =
        (0, 0, 0, 0, 0);
    let mut used = vec![false; ALLOWED.len()];
    let _ = writeln!(
        table,
        "{:<100} {:>7} {:>7} {:>7} {:>5}",
        "capture", "frames", "tshark", "ours", "diff"
    );
    for path in common::corpus_captures(&dir) {
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let oracle = read_oracle(&path);
        let mut dissector = Dissector::new();
        let mut differences = Vec::new();
        let mut ours = 0;
        let mut frame = 0;
        let records = for_each_record(&path, |link_type, data, orig_len| {
            frame += 1;
            let result = dissector.dissect(link_type, data, orig_len);
            match (&result, oracle.get(&frame)) {
                (Dissection::Tcp(segment), Some(row)) => {
                    ours += 1;
                    let fields = field_differences(segment, row);
                    if !fields.is_empty() {
                        differences.push(Difference {
                            frame,
                            what: fields.join(", "),
                        });
                    }
                }
                (Dissection::Tcp(_), None) => {
                    ours += 1;
                    differences.push(Difference {
                        frame,
                        what: "TCP for us, not for tshark".into(),
                    });
                }
                (other, Some(_)) => differences.push(Difference {
                    frame,
                    what: format!("TCP for tshark, {other:?} for us"),
                }),
                (_, None) => {}
            }
        });
        let Some(records) = records else {
            let _ = writeln!(table, "{name:<100} (not a capture for the decoder)");
            continue;
        };
        // Oracle rows past the records we read.
        for frame in oracle.keys().filter(|f| **f > records) {
            differences.push(Difference {
                frame: *frame,
                what: "TCP for tshark, record not read".into(),
            });
        }
        if let Some(dump) = std::env::var_os("RSTSCOPE_DISSECT_DIFFS") {
            // Every difference, for investigation (`tshark -r F -V -Y frame.number==N`).
            let mut text = String::new();
            for d in &differences {
                let _ = writeln!(text, "{name}\t{}\t{}", d.frame, d.what);
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dump)
                .expect("diff dump file");
            std::io::Write::write_all(&mut file, text.as_bytes()).expect("diff dump written");
        }
        files += 1;
        tshark_total += oracle.len();
        ours_total += ours;
        let differing: std::collections::BTreeSet<u64> =
            differences.iter().map(|d| d.frame).collect();
        agreeing_total += oracle.keys().filter(|f| !differing.contains(f)).count();
        if differences.is_empty() {
            exact_files += 1;
        }
        let _ = writeln!(
            table,
            "{name:<100} {:>7} {:>7} {:>7} {:>5}",
            records,
            oracle.len(),
            ours,
            differences.len()
        );
        let allowed = ALLOWED
            .iter()
            .enumerate()
            .find(|(_, (file, _, _))| *file == name);
        if let Some((at, (_, frames, _))) = allowed {
            used[at] = true;
            differences.retain(|d| !frames.contains(&d.frame));
            if frames.len() != differing.len() {
                unexplained.push(format!(
                    "{name}: the allow-list names {} frames, {} differ",
                    frames.len(),
                    differing.len()
                ));
            }
        }
        for d in differences.iter().take(20) {
            unexplained.push(format!("{name} frame {}: {}", d.frame, d.what));
        }
        if differences.len() > 20 {
            unexplained.push(format!("{name}: ... {} more", differences.len() - 20));
        }
    }
    for (at, (file, _, _)) in ALLOWED.iter().enumerate() {
        if !used[at] {
            unexplained.push(format!("{file}: in the allow-list but not in the corpus"));
        }
    }
    let _ = writeln!(
        table,
        "TOTAL: {files} captures, {exact_files} in exact agreement; TCP packets: tshark {tshark_total}, ours {ours_total}, agreeing {agreeing_total}"
    );
    eprintln!("{table}");
    assert!(
        unexplained.is_empty(),
        "unexplained differences with tshark:\n{}",
        unexplained.join("\n")
    );
}
