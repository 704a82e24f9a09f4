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
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{PcapBlockOwned, PcapError};
use rstscope::capture::LinkType;
use rstscope::dissect::{Dissection, Dissector, TcpSegment};

/// Which differences of one capture are expected.
enum Allowed {
    /// These frames (1-based numbers), whatever the difference.
    Frames(&'static [u64]),
    /// Exactly this many frames differ.
    Count(usize),
}

/// Understood differences: (capture path relative to the corpus, frames, reason).
const ALLOWED: &[(&str, Allowed, &str)] = &[];

/// One record of a capture: its link type, captured bytes and original length.
struct Record {
    link_type: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

/// Reads every record of a pcap or pcapng file (gzip'd or not) with pcap-parser; stops at the
/// first block it cannot read, like tshark does.
fn read_records(path: &Path) -> Option<Vec<Record>> {
    let raw = std::fs::read(path).ok()?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        raw
    };
    let mut reader = pcap_parser::create_reader(1 << 20, &bytes[..]).ok()?;
    let mut records = Vec::new();
    let mut legacy_link = LinkType(0);
    let mut interfaces: Vec<LinkType> = Vec::new();
    let mut stalls = 0;
    loop {
        match reader.next() {
            Ok((consumed, block)) => {
                stalls = 0;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_link = LinkType((h.network.0 & 0xffff) as u16)
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let len = (b.caplen as usize).min(b.data.len());
                        records.push(Record {
                            link_type: legacy_link,
                            data: b.data[..len].to_vec(),
                            orig_len: b.origlen,
                        });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(LinkType((idb.linktype.0 & 0xffff) as u16))
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let link_type = interfaces
                            .get(epb.if_id as usize)
                            .copied()
                            .unwrap_or(LinkType(u16::MAX));
                        records.push(Record {
                            link_type,
                            data: epb.packet_data().to_vec(),
                            orig_len: epb.origlen,
                        });
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let link_type = interfaces.first().copied().unwrap_or(LinkType(u16::MAX));
                        records.push(Record {
                            link_type,
                            data: spb.packet_data().to_vec(),
                            orig_len: spb.origlen,
                        });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(consumed);
            }
            Err(PcapError::Incomplete(_)) => {
                stalls += 1;
                if stalls > 2 || reader.refill().is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(records)
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
        let Some(records) = read_records(&path) else {
            let _ = writeln!(table, "{name:<100} (not read by the test reader)");
            continue;
        };
        let oracle = read_oracle(&path);
        let mut dissector = Dissector::new();
        let mut differences = Vec::new();
        let mut ours = 0;
        for (i, record) in records.iter().enumerate() {
            let frame = i as u64 + 1;
            let result = dissector.dissect(record.link_type, &record.data, record.orig_len);
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
        }
        // Oracle rows past the records we read.
        for frame in oracle.keys().filter(|f| **f > records.len() as u64) {
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
            records.len(),
            oracle.len(),
            ours,
            differences.len()
        );
        let allowed = ALLOWED
            .iter()
            .enumerate()
            .find(|(_, (file, _, _))| *file == name);
        let explained = match allowed {
            Some((at, (_, Allowed::Frames(frames), _))) => {
                used[at] = true;
                differences.retain(|d| !frames.contains(&d.frame));
                if frames.len() != differing.len() {
                    unexplained.push(format!(
                        "{name}: allow-list names {} frames, {} differ",
                        frames.len(),
                        differing.len()
                    ));
                }
                true
            }
            Some((at, (_, Allowed::Count(count), _))) => {
                used[at] = true;
                if *count != differing.len() {
                    unexplained.push(format!(
                        "{name}: allow-list expects {count} differing frames, {} differ",
                        differing.len()
                    ));
                }
                differences.clear();
                true
            }
            None => false,
        };
        let _ = explained;
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
