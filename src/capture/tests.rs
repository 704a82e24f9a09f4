//! Decoder tests on small hand-made captures (built with the writer in `write`).

use super::write::{PcapNgWriter, PcapWriter};
use super::*;

/// What a test keeps of each event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Format(Container, Option<Compression>),
    Packet {
        index: u32,
        ts: i64,
        link: u16,
        iface: u32,
        orig_len: u32,
        data: Vec<u8>,
        offset: u64,
    },
    Warning(u64, String),
    Text(u64, TextKind, String),
}

fn decode_chunks(bytes: &[u8], chunk: usize) -> (Vec<Seen>, Result<(), CaptureError>) {
    let mut seen = Vec::new();
    let mut sink = |e: Event<'_>| {
        seen.push(match e {
            Event::Format {
                container,
                compression,
            } => Seen::Format(container, compression),
            Event::Packet(p) => Seen::Packet {
                index: p.index.0,
                ts: p.ts.0,
                link: p.link_type.0,
                iface: p.interface,
                orig_len: p.orig_len,
                data: p.data.to_vec(),
                offset: p.offset,
            },
            Event::Warning(w) => Seen::Warning(w.offset, w.message),
            Event::Text(t) => Seen::Text(t.offset, t.kind, t.text.into_owned()),
        })
    };
    let mut d = Decoder::new();
    let mut result = Ok(());
    for c in bytes.chunks(chunk.max(1)) {
        result = d.feed(c, &mut sink);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = d.finish(&mut sink);
    }
    (seen, result)
}

fn decode(bytes: &[u8]) -> (Vec<Seen>, Result<(), CaptureError>) {
    let whole = decode_chunks(bytes, usize::MAX);
    for chunk in [1, 3, 7, 64] {
        assert_eq!(
            decode_chunks(bytes, chunk),
            whole,
            "chunk size {chunk} changes the result"
        );
    }
    whole
}

fn packets(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter()
        .filter(|s| matches!(s, Seen::Packet { .. }))
        .collect()
}

fn warnings(seen: &[Seen]) -> Vec<&str> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Warning(_, m) => Some(m.as_str()),
            _ => None,
        })
        .collect()
}

fn sample_pcap(nanos: bool, big_endian: bool) -> Vec<u8> {
    let w = PcapWriter::new(LinkType::ETHERNET, nanos).big_endian(big_endian);
    let mut f = w.header();
    w.write_record(
        &mut f,
        Timestamp(1_700_000_000_123_456_789),
        60,
        &[0xaa; 60],
    );
    w.write_record(
        &mut f,
        Timestamp(1_700_000_001_000_001_000),
        1514,
        &[0xbb; 100],
    );
    f
}

#[test]
fn pcap_both_orders_and_resolutions() {
    for nanos in [false, true] {
        for big_endian in [false, true] {
            let (seen, r) = decode(&sample_pcap(nanos, big_endian));
            assert_eq!(r, Ok(()));
            assert_eq!(
                seen[0],
                Seen::Format(
                    Container::Pcap {
                        big_endian,
                        nanos,
                        modified: false
                    },
                    None
                )
            );
            let p = packets(&seen);
            assert_eq!(p.len(), 2);
            let first_ts = if nanos {
                1_700_000_000_123_456_789
            } else {
                1_700_000_000_123_456_000
            };
            assert_eq!(
                p[0],
                &Seen::Packet {
                    index: 0,
                    ts: first_ts,
                    link: 1,
                    iface: 0,
                    orig_len: 60,
                    data: vec![0xaa; 60],
                    offset: 40
                }
            );
            assert!(matches!(
                p[1],
                Seen::Packet {
                    index: 1,
                    orig_len: 1514,
                    offset: 116,
                    ..
                }
            ));
            assert!(warnings(&seen).is_empty());
        }
    }
}

#[test]
fn truncated_pcap_keeps_complete_packets_and_names_the_offset() {
    let mut f = sample_pcap(false, false);
    f.truncate(f.len() - 10);
    let (seen, r) = decode(&f);
    assert_eq!(r, Ok(()));
    assert_eq!(packets(&seen).len(), 1);
    let w = warnings(&seen);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("ends inside a packet record at byte 100"),
        "{}",
        w[0]
    );
}

#[test]
fn oversized_pcap_record_stops_like_wireshark() {
    let w = PcapWriter::new(LinkType::ETHERNET, false);
    let mut f = w.header();
    w.write_record(&mut f, Timestamp(0), 4, &[1, 2, 3, 4]);
    // A record header claiming 300000 captured bytes (Wireshark's limit is 262144).
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&300_000u32.to_le_bytes());
    f.extend_from_slice(&300_000u32.to_le_bytes());
    f.extend_from_slice(&[0; 64]);
    let (seen, r) = decode(&f);
    assert_eq!(r, Ok(()));
    assert_eq!(packets(&seen).len(), 1);
    assert!(warnings(&seen)[0].contains("more than the 262144"));
}

#[test]
fn not_a_capture_and_empty() {
    let (_, r) = decode(b"GET / HTTP/1.1\r\n");
    assert_eq!(r, Err(CaptureError::NotACapture { magic: *b"GET " }));
    assert!(r
        .unwrap_err()
        .to_string()
        .contains("not a pcap or pcapng capture"));
    assert_eq!(decode(b"").1, Err(CaptureError::Empty));
    assert_eq!(
        decode(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).1,
        Err(CaptureError::Empty)
    );
    // After an error every call repeats it.
    let mut d = Decoder::new();
    let mut sink = |_: Event<'_>| {};
    assert!(d.feed(b"nope", &mut sink).is_err());
    assert!(d.feed(b"more", &mut sink).is_err());
    assert!(d.finish(&mut sink).is_err());
}

#[test]
fn pcapng_sections_interfaces_and_resolutions() {
    let mut w = PcapNgWriter::new(false);
    let mut f = w.section_header();
    f.extend(w.interface(LinkType::ETHERNET, 0, None, None));
    f.extend(w.interface(LinkType::RAW, 0, Some(9), None));
    f.extend(w.interface(LinkType::RAW, 0, Some(0x80 | 10), None));
    f.extend(w.enhanced_packet(0, 1_000_001, 60, &[1; 60]));
    f.extend(w.enhanced_packet(1, 2_000_000_001, 40, &[2; 40]));
    f.extend(w.enhanced_packet(2, 3 * 1024 + 512, 40, &[3; 40]));
    // A big-endian section: interface ids start again at 0.
    w = PcapNgWriter::new(true);
    f.extend(w.section_header());
    f.extend(w.interface(LinkType::LINUX_SLL, 0, None, None));
    f.extend(w.enhanced_packet(0, 5_000_000, 30, &[4; 30]));
    let (seen, r) = decode(&f);
    assert_eq!(r, Ok(()));
    assert_eq!(seen[0], Seen::Format(Container::PcapNg, None));
    let p = packets(&seen);
    let summary: Vec<_> = p
        .iter()
        .map(|s| match s {
            Seen::Packet {
                ts, link, iface, ..
            } => (*ts, *link, *iface),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1_000_001_000, 1, 0),
            (2_000_000_001, 101, 1),
            (3_500_000_000, 101, 2),
            (5_000_000_000, 113, 0)
        ]
    );
    assert!(warnings(&seen).is_empty());
}

#[test]
fn pcapng_mismatched_trailer_stops_with_a_warning() {
    let w = PcapNgWriter::new(false);
    let mut f = w.section_header();
    f.extend(w.interface(LinkType::ETHERNET, 0, None, None));
    f.extend(w.enhanced_packet(0, 1, 60, &[1; 60]));
    let mut bad = w.enhanced_packet(0, 2, 60, &[2; 60]);
    let n = bad.len();
    bad[n - 4] ^= 0x40;
    f.extend(bad);
    f.extend(w.enhanced_packet(0, 3, 60, &[3; 60]));
    let (seen, r) = decode(&f);
    assert_eq!(r, Ok(()));
    assert_eq!(packets(&seen).len(), 1);
    let w = warnings(&seen);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("corrupt") && w[0].contains("stops reading"),
        "{}",
        w[0]
    );
}

#[test]
fn gzip_and_zstd_wrappers() {
    use std::io::Write;
    let plain = sample_pcap(false, false);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let (seen, r) = decode(&gz);
    assert_eq!(r, Ok(()));
    assert_eq!(
        seen[0],
        Seen::Format(
            Container::Pcap {
                big_endian: false,
                nanos: false,
                modified: false
            },
            Some(Compression::Gzip)
        )
    );
    assert_eq!(packets(&seen).len(), 2);
    assert!(warnings(&seen).is_empty());
    // Two members: the second continues the stream.
    let (a, b) = plain.split_at(50);
    let mut two = Vec::new();
    for part in [a, b] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part).unwrap();
        two.extend(e.finish().unwrap());
    }
    let (seen2, r) = decode(&two);
    assert_eq!(r, Ok(()));
    assert_eq!(packets(&seen2), packets(&seen));
    // Truncated gzip: the complete packets survive, then warnings say where it broke.
    let w = PcapWriter::new(LinkType::ETHERNET, false);
    let mut big = w.header();
    for i in 0..200u32 {
        let data: Vec<u8> = (0..100).map(|k| (i * 7 + k * 13) as u8).collect();
        w.write_record(&mut big, Timestamp(i64::from(i)), 100, &data);
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&big).unwrap();
    let gz = e.finish().unwrap();
    let (seen, r) = decode(&gz[..gz.len() / 2]);
    assert_eq!(r, Ok(()));
    assert!(packets(&seen).len() > 10);
    let w = warnings(&seen);
    assert!(
        w.iter().any(|m| m.contains("gzip stream is cut short")),
        "{w:?}"
    );
    // Corrupt from the start: an error, not a warning.
    let mut bad = gz.clone();
    bad[12..40].fill(0xff);
    assert!(matches!(decode(&bad).1, Err(CaptureError::Decompress(_))));
}

/// Found by the `decoder` fuzz target: after a gzip member, a 0x1f that ends a chunk was taken
/// for the start of another member, so a file whose next byte is not 0x8b failed only when
/// cut there. The two magic bytes decide, wherever the chunk boundary falls.
#[test]
fn bytes_after_a_gzip_member_are_judged_on_both_magic_bytes() {
    use std::io::Write;
    let plain = sample_pcap(false, false);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let member = gz.finish().unwrap();
    let ignored = "the data after the end of the gzip stream is not gzip; it is ignored";
    // A lone 0x1f at the end may be a member cut short: that is what the warning says.
    let cut_short = "the gzip stream is cut short";
    for (tail, warning) in [
        (&[0x1f, 0x05, 0x00, 0x00][..], ignored),
        (&[0x1f, 0x8b - 1], ignored),
        (&[0x1f], cut_short),
    ] {
        let mut file = member.clone();
        file.extend_from_slice(tail);
        // `decode` also checks that chunks of 1, 3, 7 and 64 bytes give the same events,
        // which cuts the file between the two magic bytes.
        let (seen, r) = decode(&file);
        assert_eq!(r, Ok(()), "tail {tail:02x?}");
        assert_eq!(packets(&seen).len(), 2, "tail {tail:02x?}");
        let w = warnings(&seen);
        assert!(
            w.len() == 1 && w[0].starts_with(warning),
            "tail {tail:02x?}: {w:?}"
        );
        // Every cut of the file, not only regular chunk sizes.
        for cut in 1..file.len() {
            let mut events = Vec::new();
            let mut sink = |e: Event<'_>| events.push(format!("{e:?}"));
            let mut d = Decoder::new();
            let (a, b) = file.split_at(cut);
            let r = d
                .feed(a, &mut sink)
                .and_then(|()| d.feed(b, &mut sink))
                .and_then(|()| d.finish(&mut sink));
            assert_eq!(r, Ok(()), "tail {tail:02x?} cut at {cut}");
            assert!(
                events.last().is_some_and(|e| e.contains(warning)),
                "cut at {cut}: {events:?}"
            );
        }
    }
    // A second member cut between its magic bytes still continues the stream.
    let mut two = Vec::new();
    let (a, b) = plain.split_at(50);
    for part in [a, b] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part).unwrap();
        two.extend(e.finish().unwrap());
    }
    let (seen, r) = decode(&two);
    assert_eq!(r, Ok(()));
    assert_eq!(packets(&seen).len(), 2);
    assert!(warnings(&seen).is_empty());
}

fn texts(seen: &[Seen]) -> Vec<(u64, TextKind, &str)> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Text(at, kind, text) => Some((*at, *kind, text.as_str())),
            _ => None,
        })
        .collect()
}

#[test]
fn pcapng_strings_are_sent_with_their_kind_and_offset() {
    let w = PcapNgWriter::new(false);
    let shb = w.section_header_with(&[
        (1, b"<b>file</b>"),
        (2, b"hw"),
        (3, b"os\xff"),
        (4, b"app\0\0"),
    ]);
    let idb = w.interface_with(LinkType::RAW, 0, &[(2, b"eth0"), (3, b"uplink")]);
    let epb = w.enhanced_packet_with(0, 1, 20, &[0x45; 20], &[(1, b"a packet")]);
    let first = w.enhanced_packet(0, 0, 20, &[0x45; 20]);
    let mut f = shb.clone();
    f.extend(&idb);
    f.extend(&first);
    f.extend(&epb);
    let (seen, r) = decode(&f);
    assert_eq!(r, Ok(()));
    // SHB options start at byte 24 of the block, IDB options at 16, EPB options after the
    // padded data (28 + 20); each value 4 bytes after its option header.
    let idb_at = shb.len() as u64;
    let epb_at = idb_at + (idb.len() + first.len()) as u64;
    let iface = |name| {
        let (section, interface, link_type) = (0, 0, LinkType::RAW);
        if name {
            TextKind::InterfaceName {
                section,
                interface,
                link_type,
            }
        } else {
            TextKind::InterfaceDescription {
                section,
                interface,
                link_type,
            }
        }
    };
    assert_eq!(
        texts(&seen),
        [
            (28, TextKind::SectionComment, "<b>file</b>"),
            (44, TextKind::Hardware, "hw"),
            (52, TextKind::Os, "os\u{fffd}"),
            (60, TextKind::Application, "app"),
            (idb_at + 20, iface(true), "eth0"),
            (idb_at + 28, iface(false), "uplink"),
            (
                epb_at + 52,
                TextKind::PacketComment {
                    index: PacketIdx(1)
                },
                "a packet"
            ),
        ]
    );
    // The offsets point at the values in the file.
    for (at, _, text) in texts(&seen) {
        let at = at as usize;
        assert_eq!(f[at], text.as_bytes()[0], "{text}");
    }
    // The section's strings follow its format event; a packet's comment follows the packet.
    assert!(matches!(seen[0], Seen::Format(..)));
    assert!(matches!(seen.last(), Some(Seen::Text(..))));
    assert!(matches!(
        seen[seen.len() - 2],
        Seen::Packet { index: 1, .. }
    ));
}

#[test]
fn a_string_is_cut_to_the_cap_at_a_character_boundary() {
    // The longest a pcapng option can be: 65,535 bytes.
    let w = PcapNgWriter::new(true);
    let long = "é".repeat(40_000);
    let value = &long.as_bytes()[..65_535];
    let mut f = w.section_header_with(&[(1, value)]);
    f.extend(w.interface(LinkType::RAW, 0, None, None));
    let (seen, r) = decode(&f);
    assert_eq!(r, Ok(()));
    let t = texts(&seen);
    assert_eq!(t.len(), 1);
    let expected = format!("{}…", "é".repeat(MAX_TEXT_BYTES / 2));
    assert_eq!(t[0].2, expected);
    // One MiB, and invalid UTF-8 that grows when replaced, are cut the same way.
    let mib = vec![b'<'; 1 << 20];
    assert_eq!(text_of(&mib), format!("{}…", "<".repeat(MAX_TEXT_BYTES)));
    let bad = vec![0xff; MAX_TEXT_BYTES];
    let cut = text_of(&bad);
    assert!(
        cut.len() <= MAX_TEXT_BYTES + '…'.len_utf8(),
        "{}",
        cut.len()
    );
    assert!(cut.ends_with("\u{fffd}…"));
    assert_eq!(text_of(b"fits"), "fits");
    assert!(matches!(text_of(b"fits"), Cow::Borrowed(_)));
}

#[test]
fn strings_of_a_corrupt_block_are_not_sent() {
    let w = PcapNgWriter::new(false);
    let mut f = w.section_header();
    let mut idb = w.interface_with(LinkType::RAW, 0, &[(2, b"eth0")]);
    let n = idb.len();
    idb[n - 4] ^= 4;
    f.extend(idb);
    let (seen, _) = decode(&f);
    assert!(texts(&seen).is_empty());
    assert_eq!(warnings(&seen).len(), 1);
}
