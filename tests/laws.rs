//! Laws of the whole analysis, as property tests (proptest): the `Analyzer` never panics on any
//! bytes, whether they start as nothing in particular or with a valid pcap, pcapng, gzip or
//! zstd beginning; and how a file is cut into chunks never changes its report.
//!
//! The decoder's own laws are in `tests/capture_chunking.rs`; sequence-number wrapping is
//! tested next to the code (`src/seq.rs`: `add_then_diff_round_trips`, `diff_is_antisymmetric`,
//! `unwrap_follows_a_walk`) and so is the flow key's symmetry (`src/flow/mod.rs`:
//! `key_is_the_same_from_both_directions`).

use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use rstscope::capture::write::{PcapNgWriter, PcapWriter};
use rstscope::capture::LinkType;
use rstscope::pipeline::Analyzer;
use rstscope::report::Report;

/// The report of `bytes` fed in chunks of the given sizes (used in turn, then the rest in
/// one piece), as JSON; `Err` with the decoder's sentence when it is not a capture.
fn report(bytes: &[u8], sizes: &[usize]) -> Result<String, String> {
    let mut analyzer = Analyzer::new();
    let mut rest = bytes;
    for &size in sizes {
        let (chunk, after) = rest.split_at(rest.len().min(size));
        analyzer.feed(chunk).map_err(|e| e.to_string())?;
        rest = after;
    }
    analyzer.feed(rest).map_err(|e| e.to_string())?;
    let analysis = analyzer.finish().map_err(|e| e.to_string())?;
    Ok(Report::new(&analysis).to_json())
}

/// The report of `bytes` in one piece.
fn whole(bytes: &[u8]) -> Result<String, String> {
    report(bytes, &[])
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).expect("writing to a Vec");
    z.finish().expect("writing to a Vec")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// How the arbitrary bytes of a case begin.
#[derive(Debug, Clone, Copy)]
enum Start {
    Nothing,
    Pcap {
        big_endian: bool,
        nanos: bool,
    },
    PcapNg {
        big_endian: bool,
    },
    /// gzip around a pcap header and the bytes.
    GzipPcap,
    /// zstd around a pcapng section and interface and the bytes.
    ZstdPcapNg,
}

fn start() -> impl Strategy<Value = Start> {
    prop_oneof![
        Just(Start::Nothing),
        (any::<bool>(), any::<bool>())
            .prop_map(|(big_endian, nanos)| Start::Pcap { big_endian, nanos }),
        any::<bool>().prop_map(|big_endian| Start::PcapNg { big_endian }),
        Just(Start::GzipPcap),
        Just(Start::ZstdPcapNg),
    ]
}

fn pcapng_head(big_endian: bool) -> Vec<u8> {
    let w = PcapNgWriter::new(big_endian);
    let mut b = w.section_header();
    b.extend(w.interface(LinkType::ETHERNET, 0, None, None));
    b.extend(w.interface(LinkType::RAW, 64, Some(9), None));
    b
}

fn build(start: Start, body: &[u8]) -> Vec<u8> {
    let mut bytes = match start {
        Start::Nothing => Vec::new(),
        Start::Pcap { big_endian, nanos } => PcapWriter::new(LinkType::ETHERNET, nanos)
            .big_endian(big_endian)
            .header(),
        Start::PcapNg { big_endian } => pcapng_head(big_endian),
        Start::GzipPcap => {
            let mut plain = PcapWriter::new(LinkType::ETHERNET, false).header();
            plain.extend_from_slice(body);
            return gzip(&plain);
        }
        Start::ZstdPcapNg => {
            let mut plain = pcapng_head(false);
            plain.extend_from_slice(body);
            return zstd(&plain);
        }
    };
    bytes.extend_from_slice(body);
    bytes
}

/// The project's own captures (formats and scenarios), read once.
fn fixtures() -> &'static [(String, Vec<u8>)] {
    static FIXTURES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files = Vec::new();
        for dir in ["formats", "scenarios"] {
            let entries = std::fs::read_dir(root.join(dir)).expect("tests/fixtures");
            for path in entries.flatten().map(|e| e.path()) {
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if matches!(ext, "md" | "json") {
                    continue;
                }
                let bytes = std::fs::read(&path).expect("a fixture");
                files.push((path.display().to_string(), bytes));
            }
        }
        files.sort();
        assert!(
            files.len() >= 40,
            "expected the format and scenario fixtures"
        );
        files
    })
}

/// A chunking plan: up to 24 chunks of 1 to 2000 bytes, then the rest.
fn sizes() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(prop_oneof![1usize..8, 8usize..200, 200usize..2000], 0..24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Any bytes after any valid beginning: no panic, and the same report (or the same error)
    /// in any chunking.
    #[test]
    fn analyzer_never_panics_and_chunking_does_not_matter(
        start in start(),
        body in proptest::collection::vec(any::<u8>(), 0..1500),
        sizes in sizes(),
    ) {
        let bytes = build(start, &body);
        prop_assert_eq!(report(&bytes, &sizes), whole(&bytes));
    }

    /// The project's fixtures, some bytes changed and the end maybe cut: no panic, and the
    /// report does not depend on the chunking.
    #[test]
    fn chunking_never_changes_the_report(
        which in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        keep_whole in any::<bool>(),
        sizes in sizes(),
    ) {
        let (name, original) = which.get(fixtures());
        let mut bytes = original.clone();
        if !bytes.is_empty() {
            for (at, value) in &flips {
                let n = bytes.len();
                bytes[at.index(n)] = *value;
            }
            if !keep_whole {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
        }
        let chunked = report(&bytes, &sizes);
        let expected = whole(&bytes);
        prop_assert!(chunked == expected, "{}: chunks {:?} change the report", name, sizes);
    }
}

/// Every fixture as it is: analysed in 1-byte chunks, the report is the same as in one piece.
#[test]
fn fixtures_report_the_same_in_one_byte_chunks() {
    for (name, bytes) in fixtures() {
        let ones = vec![1; bytes.len()];
        assert_eq!(report(bytes, &ones), whole(bytes), "{name}");
    }
}
