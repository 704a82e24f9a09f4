//! Hostile input: whatever the bytes, rstscope gives the user what could be read and a
//! sentence about the rest, in bounded memory, without panicking or looping.
//!
//! - Every capture of the corpus (`RSTSCOPE_CORPUS`), including those without oracles, goes
//!   through the whole analysis.
//! - Every prefix of a few varied captures, cut at random places, gives exactly the packets
//!   whose records end before the cut and a warning naming where the unreadable part starts.
//! - Files with absurd header values, generated here: memory is measured by counting
//!   allocations (this binary's global allocator), work is bounded by counts; nothing is timed.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use rstscope::capture::write::{block_type, PcapNgWriter, PcapWriter};
use rstscope::capture::{CaptureError, Decoder, Event, LinkType, Timestamp};
use rstscope::pipeline::Analyzer;
use rstscope::report::Report;

// --- memory, counted ---

/// The system allocator, counting the bytes each thread has live and their peak, so a test
/// can measure the memory its own work needs while other tests run on other threads.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: allocations during thread teardown are simply not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `work` and returns its result and the most bytes it had allocated at any one time on
/// this thread (beyond what was live before).
fn peak_memory<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let out = work();
    let peak = PEAK.with(Cell::get);
    (out, usize::try_from(peak - before).unwrap_or(0))
}

const MIB: usize = 1024 * 1024;

/// The measurements below mean something: an allocation is seen, and freed memory is not.
#[test]
fn the_allocator_counts_peak_memory() {
    let ((), peak) = peak_memory(|| {
        let big = vec![1u8; 10 * MIB];
        std::hint::black_box(&big);
    });
    assert!((10 * MIB..11 * MIB).contains(&peak), "{peak}");
    let ((), peak) = peak_memory(|| {
        for _ in 0..100 {
            std::hint::black_box(vec![1u8; MIB]);
        }
    });
    assert!((MIB..2 * MIB).contains(&peak), "{peak}");
}

// --- running the analysis ---

/// Feeds `chunks` to a fresh `Analyzer` and returns the report.
fn analyse<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<Report, CaptureError> {
    let mut analyzer = Analyzer::new();
    for chunk in chunks {
        analyzer.feed(chunk)?;
    }
    Ok(Report::new(&analyzer.finish()?))
}

/// The report of a whole file fed in 64 KiB chunks.
fn analyse_bytes(bytes: &[u8]) -> Result<Report, CaptureError> {
    analyse(bytes.chunks(64 * 1024))
}

/// Feeds `count` copies of `unit` (generated, never held whole) between `head` and `tail`.
fn analyse_repeated(head: &[u8], unit: &[u8], count: usize, tail: &[u8]) -> Report {
    let per_chunk = (64 * 1024 / unit.len().max(1)).max(1);
    let block = unit.repeat(per_chunk);
    let mut analyzer = Analyzer::new();
    analyzer.feed(head).expect("a valid beginning");
    let mut left = count;
    while left > 0 {
        let n = left.min(per_chunk);
        analyzer
            .feed(&block[..n * unit.len()])
            .expect("fed after a valid beginning");
        left -= n;
    }
    analyzer.feed(tail).expect("fed after a valid beginning");
    Report::new(&analyzer.finish().expect("a valid beginning"))
}

/// What the decoder gives for `bytes` fed in `chunk`-byte pieces: the packets (index, data
/// offset, captured length), the warnings and the result.
struct Decoded {
    packets: Vec<(u32, u64, usize)>,
    warnings: Vec<(u64, String)>,
    result: Result<(), CaptureError>,
}

fn decode(bytes: &[u8], chunk: usize) -> Decoded {
    let mut packets = Vec::new();
    let mut warnings = Vec::new();
    let mut sink = |event: Event<'_>| match event {
        Event::Packet(p) => packets.push((p.index.0, p.offset, p.data.len())),
        Event::Warning(w) => {
            // A warning is a sentence that names where the problem starts.
            assert!(
                w.to_string()
                    .starts_with(&format!("at byte {}: ", w.offset)),
                "{w}"
            );
            warnings.push((w.offset, w.message));
        }
        Event::Format { .. } | Event::Text(_) => {}
    };
    let mut decoder = Decoder::new();
    let mut result = Ok(());
    for c in bytes.chunks(chunk.max(1)) {
        result = decoder.feed(c, &mut sink);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = decoder.finish(&mut sink);
    }
    Decoded {
        packets,
        warnings,
        result,
    }
}

/// The warnings of a report that contain `needle`.
fn warnings_with<'a>(report: &'a Report, needle: &str) -> Vec<&'a str> {
    report
        .capture
        .warnings
        .iter()
        .map(String::as_str)
        .filter(|w| w.contains(needle))
        .collect()
}

// --- (a) the corpus ---

/// Every capture the corpus describes (describe.jsonl lists those without oracles too), and
/// every capture with an oracle.
fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let describe = std::fs::read_to_string(dir.join("describe.jsonl")).expect("describe.jsonl");
    let mut files: Vec<PathBuf> = describe
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let path = row["path"].as_str().expect("a path in describe.jsonl");
            dir.join(path)
        })
        .collect();
    files.extend(common::corpus_captures(dir));
    files.sort();
    files.dedup();
    files
}

/// The most records a plain capture of `len` bytes can hold: a pcap record header is 16 bytes,
/// the smallest pcapng packet block (a Simple Packet Block) 16 too.
fn most_records(len: usize) -> u64 {
    (len / 16) as u64
}

#[test]
fn every_corpus_capture_is_analysed_without_panic() {
    let Some(dir) = common::corpus_dir("every_corpus_capture_is_analysed_without_panic") else {
        return;
    };
    let files = corpus_files(&dir);
    assert!(
        files.len() >= 150,
        "expected the corpus, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let outcome = std::panic::catch_unwind(|| analyse(bytes.chunks(1024 * 1024)));
        match outcome {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(Err(e)) => {
                // Not a capture at all: the sentence the user gets must say why.
                assert!(!e.to_string().is_empty(), "{name}: an empty error");
            }
            Ok(Ok(report)) => {
                // Bounded work: a plain file cannot hold more records than its size allows.
                if report.capture.compression.is_none() {
                    assert!(
                        report.capture.packets <= most_records(bytes.len()),
                        "{name}: {} packets in {} bytes",
                        report.capture.packets,
                        bytes.len()
                    );
                }
                assert_eq!(report.capture.bytes, bytes.len() as u64, "{name}");
                let json = report.to_json();
                assert!(
                    serde_json::from_str::<Report>(&json).is_ok(),
                    "{name}: the report's JSON does not read back"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// --- (b) prefixes ---

/// A small deterministic PRNG (SplitMix64), so the cuts are the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    fn below(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo).max(1) as u64) as usize
    }
}

/// How the file is compressed, by its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    Plain,
    Gzip,
    Zstd,
}

fn wrapper(bytes: &[u8]) -> Wrapper {
    match bytes {
        [0x1f, 0x8b, ..] => Wrapper::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Wrapper::Zstd,
        _ => Wrapper::Plain,
    }
}

/// As many decompressed bytes as a reference decompressor (flate2, ruzstd) gets out of
/// `compressed`, which may be cut anywhere.
fn decompressed(compressed: &[u8], how: Wrapper) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = |reader: &mut dyn std::io::Read| {
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
    };
    match how {
        Wrapper::Plain => return compressed.to_vec(),
        Wrapper::Gzip => read(&mut flate2::read::MultiGzDecoder::new(compressed)),
        Wrapper::Zstd => {
            // One frame after the other (StreamingDecoder reads one).
            let mut source = compressed;
            while !source.is_empty() {
                let before = source.len();
                let Ok(mut z) = ruzstd::decoding::StreamingDecoder::new(&mut source) else {
                    break;
                };
                read(&mut z);
                drop(z);
                if source.len() == before {
                    break;
                }
            }
        }
    }
    out
}

/// Where each packet's record ends in the (decompressed) stream, and every place a record or
/// block ends (where a cut leaves nothing half read). A pcap record ends with its data; pcapng
/// blocks are found by walking them.
fn record_ends(plain: &[u8], packets: &[(u32, u64, usize)]) -> (Vec<u64>, Vec<u64>) {
    if plain.get(..4) != Some(&block_type::SECTION_HEADER.to_le_bytes()[..]) {
        let ends: Vec<u64> = packets
            .iter()
            .map(|&(_, offset, len)| offset + len as u64)
            .collect();
        let mut boundaries = vec![24];
        boundaries.extend(&ends);
        return (ends, boundaries);
    }
    // pcapng: (start, end) of every block, in the byte order of its section.
    let mut blocks = Vec::new();
    let mut pos = 0usize;
    let mut big_endian = false;
    while let Some(head) = plain.get(pos..pos + 12) {
        if head[..4] == block_type::SECTION_HEADER.to_le_bytes() {
            big_endian = head[8..12] == [0x1a, 0x2b, 0x3c, 0x4d];
        }
        let len: [u8; 4] = head[4..8].try_into().unwrap();
        let len = if big_endian {
            u32::from_be_bytes(len)
        } else {
            u32::from_le_bytes(len)
        };
        let end = pos + (len as usize).div_ceil(4) * 4;
        if end <= pos {
            break;
        }
        blocks.push((pos as u64, end as u64));
        pos = end;
    }
    let ends = packets
        .iter()
        .map(|&(_, offset, _)| {
            let i = blocks.partition_point(|&(start, _)| start <= offset);
            blocks[i - 1].1
        })
        .collect();
    let mut boundaries = vec![0];
    boundaries.extend(blocks.iter().map(|&(_, end)| end));
    (ends, boundaries)
}

/// Cuts `name` at `cuts` random places: each prefix gives every packet whose record ends
/// before the cut (so the count never decreases as the cut moves on), the same packets as the
/// whole file, and, when part of a record is left over, a warning naming where it starts.
fn check_prefixes(name: &str, bytes: &[u8], cuts: usize, must_check: usize, seed: u64) {
    let how = wrapper(bytes);
    let full = decode(bytes, 64 * 1024);
    assert_eq!(full.result, Ok(()), "{name}");
    assert!(full.packets.len() >= 10, "{name}: too few packets to cut");
    let plain = decompressed(bytes, how);
    let (ends, boundaries) = record_ends(&plain, &full.packets);
    // The file has started validly once its container header is there in full.
    let header = if plain.starts_with(&block_type::SECTION_HEADER.to_le_bytes()) {
        12
    } else {
        24
    };
    let mut rng = SplitMix(seed);
    let mut at: Vec<usize> = (0..cuts).map(|_| rng.below(1, bytes.len())).collect();
    at.sort_unstable();
    let mut last_count = 0;
    let mut checked = 0;
    let mut partial = 0;
    for cut in at {
        let prefix = &bytes[..cut];
        let available = decompressed(prefix, how).len() as u64;
        let got = decode(prefix, 4096);
        if available < header {
            // Not even the container header can be read (a zstd block decodes only whole):
            // the file cannot be recognised, and the sentence says it is cut short.
            if let Err(e) = &got.result {
                let why = e.to_string();
                assert!(
                    why.contains("cut short") || why.contains("shorter than"),
                    "{name} cut at {cut}: {why}"
                );
            }
            assert!(got.packets.is_empty(), "{name} cut at {cut}");
            continue;
        }
        checked += 1;
        assert_eq!(got.result, Ok(()), "{name} cut at {cut}");
        let complete = ends.iter().take_while(|&&end| end <= available).count();
        assert_eq!(
            got.packets.len(),
            complete,
            "{name} cut at {cut} ({available} bytes decompressed)"
        );
        assert_eq!(got.packets, full.packets[..complete], "{name} cut at {cut}");
        assert!(complete >= last_count, "{name}: fewer packets at {cut}");
        last_count = complete;
        // Bytes after the last complete record or block are named by a warning.
        let last = boundaries
            .iter()
            .copied()
            .filter(|&b| b <= available)
            .max()
            .unwrap_or(0);
        if last < available {
            partial += 1;
            let named = got.warnings.iter().any(|(offset, message)| {
                *offset == last && message.contains(&format!("byte {last}"))
            });
            assert!(
                named,
                "{name} cut at {cut}: no warning names the unread part from byte {last}: {:?}",
                got.warnings
            );
        }
        if how != Wrapper::Plain && complete < full.packets.len() {
            assert!(
                got.warnings
                    .iter()
                    .any(|(_, m)| m.contains("stream is cut short")),
                "{name} cut at {cut}: nothing says the compressed stream is cut short: {:?}",
                got.warnings
            );
        }
    }
    eprintln!("{name}: {checked} cuts checked, {partial} inside a record");
    // Most cuts land after the header, and most inside a record: the checks above ran.
    assert!(
        checked >= must_check * 9 / 10 && partial >= checked / 2,
        "{name}: {checked} cuts checked, {partial} inside a record"
    );
}

#[test]
fn every_prefix_gives_the_packets_before_the_cut() {
    let Some(dir) = common::corpus_dir("every_prefix_gives_the_packets_before_the_cut") else {
        return;
    };
    for (i, name) in [
        // pcap, little-endian, microseconds
        "ndpi/synscan.pcap",
        // pcap, big-endian, nanoseconds
        "pcapplusplus/nanosecs_big_endian.pcap",
        // pcapng with several interfaces
        "pcapplusplus/many_interfaces-1.pcapng",
        // pcapng under a .pcap name
        "ndpi/rtsp.pcap",
        // gzip'd pcapng
        "zeek/contentline/telnet-long-line-no-eol.pcapng.gz",
        // gzip'd pcap
        "zeek/http/1000-requests-one-dropped-response.pcap.gz",
        // zstd
        "pcapplusplus/file_heuristics/pcapng-example.pcapng.zst",
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cuts = if wrapper(&bytes) == Wrapper::Zstd {
            // One zstd block (this file has one) decodes only whole: no prefix is readable.
            0
        } else {
            200
        };
        check_prefixes(name, &bytes, 200, cuts, 0x5eed_0000 + i as u64);
    }
    // zstd in many frames (as `zstd --block-size` or a streaming writer makes): every frame
    // that is whole gives its packets.
    let name = "ndpi/rtsp.pcap";
    let plain = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let frames: Vec<u8> = plain.chunks(4096).flat_map(zstd).collect();
    check_prefixes(
        "ndpi/rtsp.pcap in 4 KiB zstd frames",
        &frames,
        200,
        200,
        0x5eed_0100,
    );
}

// --- (c) absurd header values ---

/// A small Ethernet/IPv4/TCP frame (a SYN), built by hand: the dissector reads it as TCP.
fn tcp_frame(inner: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    f.extend_from_slice(inner);
    f
}

/// An IPv4 header (no options) around `payload` with protocol `proto`.
fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut h = vec![0x45, 0];
    h.extend(total.to_be_bytes());
    h.extend([
        0, 1, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
    ]);
    h.extend_from_slice(payload);
    h
}

/// A 20-byte TCP header, SYN from port 40000 to 80.
fn tcp_syn() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(40000u16.to_be_bytes());
    t.extend(80u16.to_be_bytes());
    t.extend(0xffff_fff0u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    t.extend([0x50, 0x02]);
    t.extend(65535u16.to_be_bytes());
    t.extend([0, 0, 0, 0]);
    t
}

fn syn_packet() -> Vec<u8> {
    tcp_frame(&ipv4(6, &tcp_syn()))
}

fn pcap_with(records: &[Vec<u8>]) -> Vec<u8> {
    let w = PcapWriter::new(LinkType::ETHERNET, false);
    let mut f = w.header();
    for (i, r) in records.iter().enumerate() {
        let len = u32::try_from(r.len()).unwrap();
        w.write_record(&mut f, Timestamp(i as i64 * 1_000_000), len, r);
    }
    f
}

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

#[test]
fn pcap_snaplen_of_4_gib_reads_every_record_in_little_memory() {
    let w = PcapWriter::new(LinkType::ETHERNET, false).snaplen(u32::MAX);
    let mut file = w.header();
    for i in 0..3 {
        w.write_record(&mut file, Timestamp(i), 54, &syn_packet());
    }
    let (report, peak) = peak_memory(|| analyse_bytes(&file).expect("a pcap"));
    assert_eq!(report.capture.packets, 3);
    assert_eq!(report.capture.tcp_packets, 3);
    assert!(report.capture.warnings.is_empty(), "{report:?}");
    assert!(peak < MIB, "{peak} bytes to read a 4 GiB snaplen file");
}

#[test]
fn pcap_record_longer_than_the_file_keeps_what_came_before() {
    let whole = pcap_with(&[syn_packet(), syn_packet(), syn_packet()]);
    let at = whole.len();
    for caplen in [200_000u32, 262_144, 262_145, u32::MAX] {
        let mut file = whole.clone();
        file.extend(le32(0));
        file.extend(le32(0));
        file.extend(le32(caplen));
        file.extend(le32(caplen));
        file.extend([0xab; 100]);
        let (report, peak) = peak_memory(|| analyse_bytes(&file).expect("a pcap"));
        assert_eq!(report.capture.packets, 3, "caplen {caplen}");
        let named = warnings_with(&report, &format!("at byte {at}"));
        assert_eq!(
            named.len(),
            1,
            "caplen {caplen}: {:?}",
            report.capture.warnings
        );
        // Either the file ends inside the record, or the record is larger than Wireshark
        // accepts (256 KiB): the sentence says which.
        let expected = if caplen <= 262_144 {
            "the file ends inside a packet record"
        } else {
            "more than the 262144 Wireshark accepts"
        };
        assert!(named[0].contains(expected), "{}", named[0]);
        assert!(peak < MIB, "caplen {caplen}: {peak} bytes");
    }
}

/// A pcapng section with one Ethernet interface (snaplen 0: no limit) and a packet on it.
fn pcapng_start(w: &PcapNgWriter) -> Vec<u8> {
    let mut f = w.section_header();
    f.extend(w.interface(LinkType::ETHERNET, 0, None, None));
    f.extend(w.enhanced_packet(0, 1_000_000, 54, &syn_packet()));
    f
}

#[test]
fn pcapng_with_millions_of_interfaces_stays_small() {
    let w = PcapNgWriter::new(false);
    const COUNT: u32 = 3_000_000;
    let idb = w.interface(LinkType::ETHERNET, 0, None, None);
    // Three million identical interfaces, then packets on the first and the last one.
    let mut tail = w.enhanced_packet(0, 2_000_000, 54, &syn_packet());
    tail.extend(w.enhanced_packet(COUNT, 3_000_000, 54, &syn_packet()));
    let (report, peak) =
        peak_memory(|| analyse_repeated(&pcapng_start(&w), &idb, COUNT as usize, &tail));
    assert_eq!(report.capture.packets, 3);
    assert_eq!(report.capture.tcp_packets, 3);
    assert!(
        report.capture.warnings.is_empty(),
        "{:?}",
        report.capture.warnings
    );
    assert!(peak < 2 * MIB, "{peak} bytes for {COUNT} interfaces");

    // Interfaces that all differ (by snaplen): the table stops growing at 65536 of them,
    // and the reader stops there, saying so.
    let mut head = pcapng_start(&w);
    let mut distinct = Vec::new();
    for snaplen in 1..=70_000u32 {
        distinct.extend(w.interface(LinkType::ETHERNET, snaplen, None, None));
    }
    let stop_at = head.len() + idb.len() * (65_536 - 1);
    head.extend(distinct);
    head.extend(w.enhanced_packet(0, 4_000_000, 54, &syn_packet()));
    let (report, peak) = peak_memory(|| analyse_bytes(&head).expect("a pcapng"));
    assert_eq!(report.capture.packets, 1);
    let named = warnings_with(&report, &format!("at byte {stop_at}"));
    assert!(
        named.len() == 1 && named[0].contains("more than 65536 different interfaces"),
        "{:?}",
        report.capture.warnings
    );
    // 65536 interfaces of 32 bytes, and the file itself (read whole here).
    assert!(peak < 8 * MIB + head.len(), "{peak} bytes");
}

/// Comments are kept up to a count and a length: 10,000 packets with a 4 KiB comment each,
/// and a section comment of 64 KiB (the most an option holds), keep 100 strings of at most
/// 1 KiB each and count the rest.
#[test]
fn ten_thousand_comments_keep_a_hundred() {
    let w = PcapNgWriter::new(false);
    let mut head = w.section_header_with(&[(1, &[b'<'; 65_535])]);
    head.extend(w.interface_with(LinkType::ETHERNET, 0, &[(2, b"eth0")]));
    let comment = "<script>".repeat(512);
    let unit = w.enhanced_packet_with(0, 1_000_000, 54, &syn_packet(), &[(1, comment.as_bytes())]);
    const COUNT: usize = 10_000;
    let (report, peak) = peak_memory(|| analyse_repeated(&head, &unit, COUNT, &[]));
    let c = &report.capture;
    assert_eq!(c.packets, COUNT as u64);
    assert_eq!(c.interfaces.len(), 1);
    assert_eq!(c.comments.len(), 99);
    assert_eq!(c.strings_not_shown, (COUNT + 2 - 100) as u64);
    assert_eq!(c.comments[0].text, format!("{}…", "<".repeat(1024)));
    assert_eq!(c.comments[0].frame, None);
    assert_eq!(c.comments[1].frame, Some(1));
    assert_eq!(c.comments[98].frame, Some(98));
    assert!(c.comments.iter().all(|x| x.text.len() <= 1024 + 3));
    // The strings kept take about 100 KiB; the rest is the analysis of 10,000 packets.
    assert!(peak < 4 * MIB, "{peak} bytes");
    // Chunking does not change which strings are kept.
    let mut whole = head.clone();
    for _ in 0..COUNT {
        whole.extend(&unit);
    }
    let one_piece = analyse(std::iter::once(&whole[..])).expect("a pcapng");
    assert_eq!(one_piece.capture, report.capture);
}

#[test]
fn endless_minimal_blocks_terminate() {
    let w = PcapNgWriter::new(false);
    let start = pcapng_start(&w);
    let packet = w.enhanced_packet(0, 2_000_000, 54, &syn_packet());

    // A million empty blocks of a local-use type (12 bytes each: the minimum) are skipped.
    let empty = w.block(0x8000_0001, &[]);
    assert_eq!(empty.len(), 12);
    let report = analyse_repeated(&start, &empty, 1_000_000, &packet);
    assert_eq!(report.capture.packets, 2);
    assert!(
        report.capture.warnings.is_empty(),
        "{:?}",
        report.capture.warnings
    );

    // A million minimal section headers: each starts a new (empty) section.
    let shb = w.section_header();
    let report = analyse_repeated(&start, &shb, 1_000_000, &[]);
    assert_eq!(report.capture.packets, 1);
    assert!(
        report.capture.warnings.is_empty(),
        "{:?}",
        report.capture.warnings
    );

    // A block whose length is zero (or 4, or 8): the reader stops there, saying so.
    for len in [0u32, 4, 8] {
        let mut file = start.clone();
        let at = file.len();
        file.extend(le32(0x8000_0001));
        file.extend(le32(len));
        file.extend(packet.iter().cycle().take(10_000));
        let report = analyse_bytes(&file).expect("a pcapng");
        assert_eq!(report.capture.packets, 1, "length {len}");
        let named = warnings_with(&report, &format!("at byte {at}"));
        assert!(
            named.len() == 1 && named[0].contains(&format!("total length of {len}")),
            "{:?}",
            report.capture.warnings
        );
    }

    // pcap: a million records of zero bytes are a million (empty) packets, read to the end;
    // the only sentence is about the packets having no headers.
    let pcap = PcapWriter::new(LinkType::ETHERNET, false);
    let empty_record = pcap.record(Timestamp(0), 0, &[]);
    let report = analyse_repeated(&pcap.header(), &empty_record, 1_000_000, &[]);
    assert_eq!(report.capture.packets, 1_000_000);
    assert!(
        warnings_with(&report, "at byte").is_empty(),
        "{:?}",
        report.capture.warnings
    );

    // gzip: a hundred thousand empty members after the capture.
    let empty_member = gzip(&[]);
    let report = analyse_repeated(
        &gzip(&pcap_with(&[syn_packet()])),
        &empty_member,
        100_000,
        &[],
    );
    assert_eq!(report.capture.packets, 1);
    assert!(
        report.capture.warnings.is_empty(),
        "{:?}",
        report.capture.warnings
    );

    // zstd: a hundred thousand empty skippable frames between the header and a packet.
    let mut skippable = le32(0x184d_2a50).to_vec();
    skippable.extend(le32(0));
    let file = pcap_with(&[syn_packet()]);
    let (header, record) = file.split_at(24);
    let report = analyse_repeated(&zstd(header), &skippable, 100_000, &zstd(record));
    assert_eq!(report.capture.packets, 1);
    assert!(
        report.capture.warnings.is_empty(),
        "{:?}",
        report.capture.warnings
    );
}

#[test]
fn block_length_of_4_gib_stops_with_a_warning() {
    let w = PcapNgWriter::new(false);
    for (len, sentence) in [
        (0xffff_fffcu32, "more than"),
        (u32::MAX, "more than"),
        // Within Wireshark's limit (128 MiB and a bit): the file ends inside it.
        (100 * 1024 * 1024, "the file ends inside a block"),
    ] {
        let mut file = pcapng_start(&w);
        let at = file.len();
        file.extend(le32(block_type::ENHANCED_PACKET));
        file.extend(le32(len));
        file.extend([0u8; 4096]);
        let (report, peak) = peak_memory(|| analyse_bytes(&file).expect("a pcapng"));
        assert_eq!(report.capture.packets, 1, "length {len}");
        let named = warnings_with(&report, &format!("at byte {at}"));
        assert!(
            named.len() == 1 && named[0].contains(sentence),
            "length {len}: {:?}",
            report.capture.warnings
        );
        // Nothing is allocated for the length the header claims.
        assert!(peak < MIB, "length {len}: {peak} bytes");
    }
}

/// Dissects one record of `frame` (with a good SYN after it) and checks the user gets the good
/// one and a sentence about the bad one.
fn check_deep(what: &str, link: LinkType, frame: &[u8]) {
    let w = PcapWriter::new(link, false);
    let mut file = w.header();
    let len = u32::try_from(frame.len()).unwrap();
    w.write_record(&mut file, Timestamp(0), len, frame);
    let good = if link == LinkType::ETHERNET {
        syn_packet()
    } else {
        ipv4(6, &tcp_syn())
    };
    w.write_record(&mut file, Timestamp(1), good.len() as u32, &good);
    let report = analyse_bytes(&file).expect("a pcap");
    assert_eq!(report.capture.packets, 2, "{what}");
    assert_eq!(
        report.capture.tcp_packets, 1,
        "{what}: the good packet is read"
    );
    assert_eq!(report.capture.malformed_packets, 1, "{what}");
    assert_eq!(
        warnings_with(&report, "1 packets have an IP or TCP header").len(),
        1,
        "{what}: {:?}",
        report.capture.warnings
    );
}

#[test]
fn deep_nesting_in_the_dissector_is_cut_off() {
    // 50,000 VLAN tags (802.1Q, then 802.1ad, alternating), then IPv4/TCP.
    let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x81, 0x00];
    for i in 0..50_000 {
        let next: u16 = if i % 2 == 0 { 0x88a8 } else { 0x8100 };
        frame.extend([0, 1]);
        frame.extend(next.to_be_bytes());
    }
    let n = frame.len();
    frame[n - 2..].copy_from_slice(&0x0800u16.to_be_bytes());
    frame.extend(ipv4(6, &tcp_syn()));
    check_deep("VLAN tags", LinkType::ETHERNET, &frame);

    // IPv6 with 20,000 hop-by-hop / destination options headers, then TCP.
    let mut exts = Vec::new();
    for i in 0..20_000 {
        let next = if i == 19_999 {
            6
        } else if i % 2 == 0 {
            60
        } else {
            0
        };
        exts.extend([next, 0, 1, 4, 0, 0, 0, 0]);
    }
    exts.extend(tcp_syn());
    let mut ip6 = vec![0x60, 0, 0, 0];
    ip6.extend(u16::try_from(exts.len()).unwrap_or(u16::MAX).to_be_bytes());
    ip6.extend([0, 64]);
    ip6.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[1]));
    ip6.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[2]));
    ip6.extend(exts);
    check_deep("IPv6 extension headers", LinkType::RAW, &ip6);

    // 3,000 IPv4 headers, each carrying the next (IP in IP), then TCP.
    let mut inner = ipv4(6, &tcp_syn());
    for _ in 0..3_000 {
        inner = ipv4(4, &inner);
    }
    check_deep("IP in IP", LinkType::RAW, &inner);

    // 1,000 GRE tunnels carrying Ethernet (transparent bridging), then IPv4/TCP.
    let mut inner = syn_packet();
    for _ in 0..1_000 {
        let mut gre = vec![0, 0, 0x65, 0x58];
        gre.extend(inner);
        inner = tcp_frame(&ipv4(47, &gre));
    }
    check_deep("GRE tunnels", LinkType::ETHERNET, &inner);

    // 1,000 VXLAN tunnels (UDP port 4789), then IPv4/TCP.
    let mut inner = syn_packet();
    for _ in 0..1_000 {
        let mut udp = Vec::new();
        udp.extend(50000u16.to_be_bytes());
        udp.extend(4789u16.to_be_bytes());
        udp.extend(
            u16::try_from(16 + inner.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        udp.extend([0, 0]);
        udp.extend([0x08, 0, 0, 0, 0, 0, 1, 0]);
        udp.extend(inner);
        inner = tcp_frame(&ipv4(17, &udp));
    }
    check_deep("VXLAN tunnels", LinkType::ETHERNET, &inner);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).expect("writing to a Vec");
    z.finish().expect("writing to a Vec")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

#[test]
fn gzip_bomb_streams_in_bounded_memory() {
    const RECORD: usize = 262_144;
    let w = PcapWriter::new(LinkType::ETHERNET, false);
    let zeros = vec![0u8; RECORD];
    // One deflate stream: 64 MiB of records full of zeros, about 64 KiB compressed.
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&w.header()).unwrap();
    let record = w.record(Timestamp(0), RECORD as u32, &zeros);
    for _ in 0..256 {
        z.write_all(&record).unwrap();
    }
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 1024 * 1024, "{} bytes compressed", bomb.len());
    let (report, peak) = peak_memory(|| analyse_bytes(&bomb).expect("a gzip'd pcap"));
    assert_eq!(report.capture.packets, 256);
    // (The frames, all zeros, are counted as malformed: that is the only sentence.)
    assert!(
        warnings_with(&report, "at byte").is_empty(),
        "{:?}",
        report.capture.warnings
    );
    assert!(
        peak < 4 * MIB,
        "{peak} bytes to read 64 MiB from a gzip stream"
    );

    // Many members: 256 MiB from a few hundred KiB, fed in one piece.
    let head = gzip(&w.header());
    let member = gzip(&record);
    let mut file = head;
    for _ in 0..1024 {
        file.extend_from_slice(&member);
    }
    let (report, peak) = peak_memory(|| analyse([&file[..]]).expect("a gzip'd pcap"));
    assert_eq!(report.capture.packets, 1024);
    assert!(
        warnings_with(&report, "at byte").is_empty(),
        "{:?}",
        report.capture.warnings
    );
    assert!(
        peak < 4 * MIB,
        "{peak} bytes to read 256 MiB from gzip members"
    );

    // zstd: the same record in 256 frames.
    let frame = zstd(&record);
    let mut file = zstd(&w.header());
    for _ in 0..256 {
        file.extend_from_slice(&frame);
    }
    let (report, peak) = peak_memory(|| analyse([&file[..]]).expect("a zstd'd pcap"));
    assert_eq!(report.capture.packets, 256);
    assert!(
        warnings_with(&report, "at byte").is_empty(),
        "{:?}",
        report.capture.warnings
    );
    assert!(
        peak < 8 * MIB,
        "{peak} bytes to read 64 MiB from zstd frames"
    );

    // Cut inside the stream: the packets before, and a sentence about the rest.
    let cut = &bomb[..bomb.len() / 2];
    let report = analyse_bytes(cut).expect("a gzip'd pcap");
    assert!(report.capture.packets > 0 && report.capture.packets < 256);
    assert_eq!(
        warnings_with(&report, "the gzip stream is cut short").len(),
        1,
        "{:?}",
        report.capture.warnings
    );
}

/// Bytes after a valid beginning never stop the decoder from saying what it read: a short
/// sanity check on the decoder directly, for the warning offsets `check_prefixes` relies on.
#[test]
fn decoder_warning_names_the_cut_record() {
    let file = pcap_with(&[syn_packet(), syn_packet()]);
    let second = 24 + 16 + syn_packet().len();
    let got = decode(&file[..file.len() - 5], 7);
    assert_eq!(got.result, Ok(()));
    assert_eq!(got.packets.len(), 1);
    assert_eq!(got.warnings.len(), 1);
    assert_eq!(got.warnings[0].0, second as u64);
    let mut gz = Vec::new();
    flate2::read::GzEncoder::new(&file[..], flate2::Compression::fast())
        .read_to_end(&mut gz)
        .unwrap();
    assert_eq!(decode(&gz, 3).packets.len(), 2);
}
