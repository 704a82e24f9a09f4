//! Each format fixture (tests/fixtures/formats, made by `cargo run --example make_fixtures`)
//! decodes to the packets and warnings expected; the counts, lengths and time stamps are the
//! ones tshark 4.0.17 shows for the same files.

mod capture_support;

use capture_support::{decode_counting, Digest};
use rstscope::capture::CaptureError;
use std::path::Path;

/// 2024-01-02 03:04:05.123456789 UTC, the first packet's time; packets are 1.25 ms apart.
const T0: i64 = 1_704_164_645_123_456_789;
const STEP: i64 = 1_250_000;
/// The five frames' lengths (SYN, SYN-ACK, ACK, data, RST).
const LENS: [u32; 5] = [54, 54, 54, 87, 54];

struct Decoded {
    format: Option<String>,
    /// (index, ts, link, interface, orig_len, caplen, offset)
    packets: Vec<(u32, i64, u16, u32, u32, usize, u64)>,
    warnings: Vec<String>,
    /// (kind, text) of each string of the file.
    texts: Vec<(String, String)>,
    result: Result<(), CaptureError>,
    records: u64,
}

fn load(name: &str) -> Decoded {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (events, result, records) = decode_counting(&bytes, 4096);
    let mut d = Decoded {
        format: None,
        packets: Vec::new(),
        warnings: Vec::new(),
        texts: Vec::new(),
        result,
        records,
    };
    for e in events {
        match e {
            Digest::Format(f) => d.format = Some(f),
            Digest::Packet {
                index,
                ts,
                link,
                iface,
                orig_len,
                caplen,
                offset,
                ..
            } => d
                .packets
                .push((index, ts, link, iface, orig_len, caplen, offset)),
            Digest::Warning(at, m) => d.warnings.push(format!("at {at}: {m}")),
            Digest::Text(_, kind, text) => d.texts.push((kind, text)),
        }
    }
    d
}

fn micros(i: usize) -> i64 {
    (T0 + i as i64 * STEP) / 1000 * 1000
}

/// The plain five-packet conversation with the given time stamp function.
fn assert_conversation(d: &Decoded, ts: impl Fn(usize) -> i64) {
    assert_eq!(d.result, Ok(()));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.packets.len(), 5);
    for (i, p) in d.packets.iter().enumerate() {
        assert_eq!(
            (p.0, p.1, p.2, p.4, p.5),
            (i as u32, ts(i), 1, LENS[i], LENS[i] as usize),
            "packet {i}"
        );
    }
}

#[test]
fn pcap_byte_orders_and_resolutions() {
    for (name, nanos) in [
        ("pcap-le-usec.pcap", false),
        ("pcap-be-usec.pcap", false),
        ("pcap-le-nsec.pcap", true),
        ("pcap-be-nsec.pcap", true),
    ] {
        let d = load(name);
        let big = name.contains("-be-");
        assert_eq!(
            d.format.as_deref(),
            Some(
                format!("Pcap {{ big_endian: {big}, nanos: {nanos}, modified: false }} None")
                    .as_str()
            )
        );
        if nanos {
            assert_conversation(&d, |i| T0 + i as i64 * STEP);
        } else {
            assert_conversation(&d, micros);
        }
        // Offsets point at the packet data: after the 24-byte file header and 16-byte record headers.
        assert_eq!(d.packets[0].6, 40);
        assert_eq!(d.packets[1].6, 40 + 54 + 16);
    }
}

#[test]
fn modified_pcap() {
    let d = load("pcap-modified.pcap");
    assert_eq!(
        d.format.as_deref(),
        Some("Pcap { big_endian: false, nanos: false, modified: true } None")
    );
    assert_conversation(&d, micros);
    assert_eq!(d.packets[0].6, 24 + 24);
}

#[test]
fn snaplen_cut_packets_keep_their_wire_length() {
    let d = load("pcap-snaplen-cut.pcap");
    assert_eq!(d.packets.len(), 5);
    assert_eq!((d.packets[3].4, d.packets[3].5), (87, 54));
    assert!(d.warnings.is_empty());
}

#[test]
fn truncated_file_keeps_complete_packets_then_warns() {
    let d = load("pcap-truncated-mid-packet.pcap");
    assert_eq!(d.result, Ok(()));
    assert_eq!(d.packets.len(), 3);
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].contains("the file ends inside a packet record at byte 234")
            && d.warnings[0].contains("36 bytes ignored"),
        "{}",
        d.warnings[0]
    );
}

#[test]
fn oversized_record_stops_reading_like_wireshark() {
    let d = load("pcap-oversized-record.pcap");
    assert_eq!(
        d.packets.len(),
        1,
        "tshark reads 1 packet, then reports the 300000-byte packet"
    );
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].contains("300000 captured bytes, more than the 262144"),
        "{}",
        d.warnings[0]
    );
}

#[test]
fn pcapng_two_sections_with_their_own_byte_order_and_interfaces() {
    let d = load("pcapng-multi-section.pcapng");
    assert_eq!(d.format.as_deref(), Some("PcapNg None"));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let seen: Vec<_> = d.packets.iter().map(|p| (p.1, p.2, p.3, p.4)).collect();
    assert_eq!(
        seen,
        vec![
            (micros(0), 1, 0, 54),
            (micros(1), 1, 0, 54),
            (micros(2), 1, 1, 54),
            (micros(3), 101, 0, 87 - 14),
            (micros(4), 1, 1, 54),
        ]
    );
}

#[test]
fn pcapng_interface_resolutions_and_offset() {
    let d = load("pcapng-multi-interface.pcapng");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let ts: Vec<_> = d.packets.iter().map(|p| (p.3, p.1)).collect();
    let t = |i: usize| T0 + i as i64 * STEP;
    // 2^-20 s units: the fraction is rounded down to a multiple of 1/1048576 s.
    let units = (t(2) as i128 * (1 << 20) / 1_000_000_000) as i64;
    let binary = (units >> 20) * 1_000_000_000 + (((units & 0xfffff) * 1_000_000_000) >> 20);
    assert_eq!(
        ts,
        vec![
            (0, micros(0)),
            (1, t(1)),
            (2, binary),
            (3, micros(3)),
            (0, micros(4))
        ]
    );
}

#[test]
fn pcapng_simple_packet_blocks_use_the_snaplen() {
    let d = load("pcapng-spb.pcapng");
    assert!(d.warnings.is_empty());
    let lens: Vec<_> = d.packets.iter().map(|p| (p.1, p.4, p.5)).collect();
    assert_eq!(
        lens,
        vec![
            (0, 54, 54),
            (0, 54, 54),
            (0, 54, 54),
            (0, 87, 64),
            (0, 54, 54)
        ]
    );
}

#[test]
fn pcapng_obsolete_packet_blocks() {
    assert_conversation(&load("pcapng-obsolete-pb.pcapng"), micros);
}

#[test]
fn pcapng_comments_and_custom_blocks_keep_wireshark_numbering() {
    let d = load("pcapng-comments-custom.pcapng");
    assert_eq!(d.result, Ok(()));
    // tshark shows 6 frames: the custom block is frame 4, so the third packet is frame 5.
    assert_eq!(d.records, 6);
    let idx: Vec<_> = d.packets.iter().map(|p| p.0).collect();
    assert_eq!(idx, vec![0, 1, 3, 4, 5]);
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].contains("custom block"));
}

#[test]
fn pcapng_corrupt_block_stops_with_a_warning() {
    let d = load("pcapng-corrupt-block.pcapng");
    assert_eq!(d.result, Ok(()));
    assert_eq!(
        d.packets.len(),
        2,
        "tshark reads 2 packets, then reports the length mismatch"
    );
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].contains("88 at the start but 92 at the end"),
        "{}",
        d.warnings[0]
    );
}

#[test]
fn compressed_captures() {
    for name in [
        "pcap-gzip.pcap.gz",
        "pcap-gzip-two-members.pcap.gz",
        "pcap-zstd.pcap.zst",
    ] {
        let d = load(name);
        assert_conversation(&d, micros);
        let z = if name.ends_with(".zst") {
            "Zstd"
        } else {
            "Gzip"
        };
        assert_eq!(
            d.format.as_deref(),
            Some(
                format!("Pcap {{ big_endian: false, nanos: false, modified: false }} Some({z})")
                    .as_str()
            )
        );
    }
    let ng = load("pcapng-gzip.pcapng.gz");
    let plain = load("pcapng-multi-section.pcapng");
    assert_eq!(ng.packets, plain.packets);
    assert_eq!(ng.format.as_deref(), Some("PcapNg Some(Gzip)"));
}

#[test]
fn not_a_capture() {
    let d = load("not-a-capture.bin");
    assert_eq!(d.result, Err(CaptureError::NotACapture { magic: *b"GET " }));
    assert!(d.packets.is_empty());
}

#[test]
fn hostile_strings_are_read_as_text_and_cut() {
    let d = load("hostile-strings.pcapng");
    assert_eq!(d.result, Ok(()));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.packets.len(), 5);
    let kinds: Vec<&str> = d.texts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "SectionComment",
            "SectionComment",
            "Hardware",
            "Os",
            "Application",
            "InterfaceName { section: 0, interface: 0, link_type: LinkType(1) }",
            "InterfaceDescription { section: 0, interface: 0, link_type: LinkType(1) }",
            "PacketComment { index: PacketIdx(4) }",
        ]
    );
    let text = |i: usize| d.texts[i].1.as_str();
    assert_eq!(
        text(0),
        r#"<img src=x onerror="window.__rstscope_pwned=1">"#
    );
    // The long comment is cut to 1 KiB and says so.
    assert_eq!(text(1).len(), 1024 + '…'.len_utf8());
    assert!(text(1).starts_with("javascript:alert(1)//") && text(1).ends_with('…'));
    assert_eq!(text(2), "<script>window.__rstscope_pwned=2</script>");
    // Bytes that are not UTF-8 become U+FFFD; control characters stay (they are data).
    assert_eq!(
        text(3),
        "\"><svg onload=window.__rstscope_pwned=3> \u{1b}[31mred\u{fffd}\u{fffd}"
    );
    assert!(text(6).contains("\u{fffd}( line one\nline two"));
    assert_eq!(
        text(7),
        r#""><svg onload=window.__rstscope_pwned=7> on the RST"#
    );
    // The older comments fixture carries its comments too.
    let d = load("pcapng-comments-custom.pcapng");
    let texts: Vec<_> = d.texts.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "made by rstscope make_fixtures",
            "rstscope",
            "the SYN",
            "the RST"
        ]
    );
}
