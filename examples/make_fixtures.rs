//! Writes the small captures in `tests/fixtures/formats/`, one per container feature the
//! decoder must handle (see the README there). Run with `cargo run --example make_fixtures`.

use etherparse::PacketBuilder;
use rstscope::capture::write::{timestamp_units, PcapNgWriter, PcapWriter};
use rstscope::capture::{LinkType, Timestamp};
use std::io::Write;
use std::path::Path;

const CLIENT: [u8; 4] = [192, 0, 2, 10];
const SERVER: [u8; 4] = [198, 51, 100, 20];
/// 2024-01-02 03:04:05 UTC, plus a fraction that shows the resolution.
const T0: i64 = 1_704_164_645_123_456_789;

/// One Ethernet/IPv4/TCP frame of the conversation; `flags` may hold `S` (SYN) and `R` (RST).
fn frame(from_client: bool, seq: u32, ack: Option<u32>, flags: &str, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (CLIENT, SERVER, 49152, 80)
    } else {
        (SERVER, CLIENT, 80, 49152)
    };
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 65535);
    if flags.contains('S') {
        b = b.syn();
    }
    if flags.contains('R') {
        b = b.rst();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("write packet");
    out
}

/// A short TCP exchange ending in a reset: SYN, SYN-ACK, ACK, data, RST. Ethernet frames.
fn conversation() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut push = |from_client: bool, seq: u32, ack: Option<u32>, flags: &str, payload: &[u8]| {
        frames.push(frame(from_client, seq, ack, flags, payload));
    };
    // Client sequence numbers start near 2^32 on purpose.
    push(true, 0xffff_fff0, None, "S", &[]);
    push(false, 1000, Some(0xffff_fff1), "S", &[]);
    push(true, 0xffff_fff1, Some(1001), "", &[]);
    push(
        true,
        0xffff_fff1,
        Some(1001),
        "",
        b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
    );
    push(false, 1001, Some(0x0000_0013), "R", &[]);
    frames
}

fn ts(i: usize) -> Timestamp {
    Timestamp(T0 + i as i64 * 1_250_000)
}

fn pcap(w: PcapWriter, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = w.header();
    for (i, frame) in frames.iter().enumerate() {
        w.write_record(&mut f, ts(i), frame.len() as u32, frame);
    }
    f
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    std::fs::create_dir_all(&dir).expect("create fixtures dir");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).expect("write fixture");
        println!("{name}: {} bytes", bytes.len());
    };
    let frames = conversation();
    let eth = LinkType::ETHERNET;

    // Classic pcap in every byte order and resolution, and the modified format.
    write(
        "pcap-le-usec.pcap",
        &pcap(PcapWriter::new(eth, false), &frames),
    );
    write(
        "pcap-be-usec.pcap",
        &pcap(PcapWriter::new(eth, false).big_endian(true), &frames),
    );
    write(
        "pcap-le-nsec.pcap",
        &pcap(PcapWriter::new(eth, true), &frames),
    );
    write(
        "pcap-be-nsec.pcap",
        &pcap(PcapWriter::new(eth, true).big_endian(true), &frames),
    );
    write(
        "pcap-modified.pcap",
        &pcap(PcapWriter::new(eth, false).modified(true), &frames),
    );

    // Packets cut by a 54-byte snaplen (headers only), as `tcpdump -s 54` writes them.
    let w = PcapWriter::new(eth, false).snaplen(54);
    let mut f = w.header();
    for (i, frame) in frames.iter().enumerate() {
        w.write_record(
            &mut f,
            ts(i),
            frame.len() as u32,
            &frame[..frame.len().min(54)],
        );
    }
    write("pcap-snaplen-cut.pcap", &f);

    // Cut in the middle of the fourth packet's data.
    let whole = pcap(PcapWriter::new(eth, false), &frames);
    let fourth_data = 24 + frames[..3].iter().map(|f| 16 + f.len()).sum::<usize>() + 16;
    write("pcap-truncated-mid-packet.pcap", &whole[..fourth_data + 20]);

    // A record claiming more captured bytes than Wireshark accepts (262144): reading stops.
    let w = PcapWriter::new(eth, false);
    let mut f = w.header();
    w.write_record(&mut f, ts(0), frames[0].len() as u32, &frames[0]);
    f.extend(ts_bytes(ts(1)));
    f.extend(300_000u32.to_le_bytes());
    f.extend(300_000u32.to_le_bytes());
    f.extend(&frames[1]);
    w.write_record(&mut f, ts(2), frames[2].len() as u32, &frames[2]);
    write("pcap-oversized-record.pcap", &f);

    // pcapng: two sections, the second big-endian; interface ids restart per section.
    let le = PcapNgWriter::new(false);
    let be = PcapNgWriter::new(true);
    let us = |i: usize| timestamp_units(ts(i), 1_000_000);
    let mut f = le.section_header();
    f.extend(le.interface(eth, 0, None, None));
    for (i, frame) in frames.iter().enumerate().take(2) {
        f.extend(le.enhanced_packet(0, us(i), frame.len() as u32, frame));
    }
    f.extend(be.section_header());
    f.extend(be.interface(LinkType::RAW, 0, None, None));
    f.extend(be.interface(eth, 0, None, None));
    f.extend(be.enhanced_packet(1, us(2), frames[2].len() as u32, &frames[2]));
    // Raw IP on interface 0 of the second section: the frame without its 14-byte Ethernet header.
    let raw = &frames[3][14..];
    f.extend(be.enhanced_packet(0, us(3), raw.len() as u32, raw));
    f.extend(be.enhanced_packet(1, us(4), frames[4].len() as u32, &frames[4]));
    write("pcapng-multi-section.pcapng", &f);

    // One section, interfaces with different resolutions: microseconds, nanoseconds, 2^-20 s,
    // and microseconds with if_tsoffset = 3600 s (added to the time stamps).
    let mut f = le.section_header();
    f.extend(le.interface(eth, 0, None, None));
    f.extend(le.interface(eth, 0, Some(9), None));
    f.extend(le.interface(eth, 0, Some(0x80 | 20), None));
    f.extend(le.interface(eth, 0, Some(6), Some(3600)));
    f.extend(le.enhanced_packet(0, us(0), frames[0].len() as u32, &frames[0]));
    f.extend(le.enhanced_packet(
        1,
        timestamp_units(ts(1), 1_000_000_000),
        frames[1].len() as u32,
        &frames[1],
    ));
    f.extend(le.enhanced_packet(
        2,
        timestamp_units(ts(2), 1 << 20),
        frames[2].len() as u32,
        &frames[2],
    ));
    f.extend(le.enhanced_packet(3, us(3) - 3_600_000_000, frames[3].len() as u32, &frames[3]));
    f.extend(le.enhanced_packet(0, us(4), frames[4].len() as u32, &frames[4]));
    write("pcapng-multi-interface.pcapng", &f);

    // Simple Packet Blocks: no time stamp; the captured length is the interface's snaplen (64)
    // when the packet is longer.
    let mut f = le.section_header();
    f.extend(le.interface(eth, 64, None, None));
    for frame in &frames {
        f.extend(le.simple_packet(frame.len() as u32, &frame[..frame.len().min(64)]));
    }
    write("pcapng-spb.pcapng", &f);

    // The obsolete Packet Block (type 2).
    let mut f = le.section_header();
    f.extend(le.interface(eth, 0, None, None));
    for (i, frame) in frames.iter().enumerate() {
        f.extend(le.obsolete_packet(0, us(i), frame.len() as u32, frame));
    }
    write("pcapng-obsolete-pb.pcapng", &f);

    // Comments and blocks that hold no packet: SHB and EPB comments, a name resolution block,
    // an interface statistics block, a custom block (which Wireshark numbers as a frame), and
    // an unknown local-use block.
    let mut f = le.section_header_with(&[(1, b"made by rstscope make_fixtures"), (4, b"rstscope")]);
    f.extend(le.interface(eth, 0, None, None));
    f.extend(le.enhanced_packet_with(
        0,
        us(0),
        frames[0].len() as u32,
        &frames[0],
        &[(1, b"the SYN")],
    ));
    let mut nrb = Vec::new();
    nrb.extend(1u16.to_le_bytes());
    nrb.extend(16u16.to_le_bytes());
    nrb.extend(SERVER);
    nrb.extend(b"example.org\0");
    nrb.extend([0, 0, 0, 0]); // end of records
    f.extend(le.block(4, &nrb));
    f.extend(le.enhanced_packet(0, us(1), frames[1].len() as u32, &frames[1]));
    f.extend(le.custom(32473, b"opaque custom data"));
    f.extend(le.enhanced_packet(0, us(2), frames[2].len() as u32, &frames[2]));
    f.extend(le.block(0x8000_1234, b"local use block"));
    f.extend(le.enhanced_packet(0, us(3), frames[3].len() as u32, &frames[3]));
    let mut isb = Vec::new();
    isb.extend(0u32.to_le_bytes());
    isb.extend(((us(4) >> 32) as u32).to_le_bytes());
    isb.extend((us(4) as u32).to_le_bytes());
    f.extend(le.block(5, &isb));
    f.extend(le.enhanced_packet_with(
        0,
        us(4),
        frames[4].len() as u32,
        &frames[4],
        &[(1, b"the RST")],
    ));
    write("pcapng-comments-custom.pcapng", &f);

    // A corrupt block: the third EPB's trailing length does not match its leading one.
    let mut f = le.section_header();
    f.extend(le.interface(eth, 0, None, None));
    for (i, frame) in frames.iter().enumerate() {
        let mut b = le.enhanced_packet(0, us(i), frame.len() as u32, frame);
        if i == 2 {
            let n = b.len();
            b[n - 4] = b[n - 4].wrapping_add(4);
        }
        f.extend(b);
    }
    write("pcapng-corrupt-block.pcapng", &f);

    // Compressed: gzip'd pcap and pcapng, a two-member gzip, zstd.
    let plain = pcap(PcapWriter::new(eth, false), &frames);
    write("pcap-gzip.pcap.gz", &gzip(&plain));
    let ng = std::fs::read(dir.join("pcapng-multi-section.pcapng")).expect("read back");
    write("pcapng-gzip.pcapng.gz", &gzip(&ng));
    let (a, b) = plain.split_at(100);
    let mut two = gzip(a);
    two.extend(gzip(b));
    write("pcap-gzip-two-members.pcap.gz", &two);
    let zst =
        ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
    write("pcap-zstd.pcap.zst", &zst);

    // Hostile strings: every string rstscope shows from a capture carries markup, script, a
    // terminal escape or bytes that are not UTF-8, and one is longer than rstscope keeps
    // (1 KiB). The page must show them as text (tests/e2e/hostile.test.js), the CLI as
    // escaped JSON and inert text (tests/cli.rs). The RST carries text too (Wireshark's
    // "reset cause"), and the EPB comment is on it.
    let long = format!("{}<b>end</b>", "javascript:alert(1)//".repeat(200));
    let mut f = le.section_header_with(&[
        (1, br#"<img src=x onerror="window.__rstscope_pwned=1">"#),
        (1, long.as_bytes()),
        (2, b"<script>window.__rstscope_pwned=2</script>"),
        (
            3,
            b"\"><svg onload=window.__rstscope_pwned=3> \x1b[31mred\xff\xfe",
        ),
        (4, b"javascript:window.__rstscope_pwned=4 &lt;b&gt;"),
    ]);
    f.extend(le.interface_with(
        eth,
        0,
        &[
            (
                2,
                br#"<iframe src="javascript:window.__rstscope_pwned=5"></iframe>"#,
            ),
            (
                3,
                b"<style>*{display:none}</style>\xc3\x28 line one\nline two",
            ),
        ],
    ));
    let rst = frame(
        false,
        1001,
        Some(0x0000_0013),
        "R",
        br#"<script>window.__rstscope_pwned=8</script><img src=x onerror="window.__rstscope_pwned=9">"#,
    );
    let mut hostile = frames[..4].to_vec();
    hostile.push(rst);
    for (i, frame) in hostile.iter().enumerate() {
        let comment: &[(u16, &[u8])] = if i == 4 {
            &[(1, br#""><svg onload=window.__rstscope_pwned=7> on the RST"#)]
        } else {
            &[]
        };
        f.extend(le.enhanced_packet_with(0, us(i), frame.len() as u32, frame, comment));
    }
    write("hostile-strings.pcapng", &f);

    // Not a capture: an HTTP request.
    write(
        "not-a-capture.bin",
        b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n",
    );
}

fn ts_bytes(t: Timestamp) -> Vec<u8> {
    let secs = (t.0 / 1_000_000_000) as u32;
    let usecs = ((t.0 % 1_000_000_000) / 1000) as u32;
    [secs.to_le_bytes(), usecs.to_le_bytes()].concat()
}
