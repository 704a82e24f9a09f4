//! Chunk boundaries must not matter: every fixture and every corpus capture gives the same
//! events fed in 1-, 7- and 65536-byte chunks. Plus the never-panic property on any bytes.

mod capture_support;
mod common;

use capture_support::decode;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/formats (run `cargo run --example make_fixtures`)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

fn assert_chunking_invariant(path: &Path, small_chunks: &[usize]) {
    let bytes = std::fs::read(path).unwrap();
    let reference = decode(&bytes, 65536);
    for &chunk in small_chunks {
        let other = decode(&bytes, chunk);
        assert!(
            other == reference,
            "{}: {chunk}-byte chunks give different events",
            path.display()
        );
    }
}

#[test]
fn fixtures_decode_the_same_in_any_chunks() {
    let files = fixtures();
    assert!(files.len() >= 10, "expected the format fixtures");
    for f in &files {
        assert_chunking_invariant(f, &[1, 7]);
    }
}

#[test]
fn corpus_decodes_the_same_in_any_chunks() {
    let Some(dir) = common::corpus_dir("corpus_decodes_the_same_in_any_chunks") else {
        return;
    };
    let mut files = common::corpus_captures(&dir);
    files.push(dir.join("composite/ndpi-480-real-captures-merged.pcap"));
    files.push(dir.join("composite/zeek-traces-real-merged.pcap"));
    files.push(dir.join("pcapplusplus/solaris.snoop"));
    for f in &files {
        // Every file, the 140 MB of composites too (seconds in the release build `make test`
        // uses; in a debug build the composites take minutes).
        assert_chunking_invariant(f, &[1, 7]);
    }
}

/// A valid pcap header, then arbitrary bytes.
fn pcap_prefix() -> Vec<u8> {
    rstscope::capture::write::PcapWriter::new(rstscope::capture::LinkType::ETHERNET, false).header()
}

/// A valid pcapng section header and interface, then arbitrary bytes.
fn pcapng_prefix(big_endian: bool) -> Vec<u8> {
    let w = rstscope::capture::write::PcapNgWriter::new(big_endian);
    let mut b = w.section_header();
    b.extend(w.interface(rstscope::capture::LinkType::ETHERNET, 0, None, None));
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_chunking_does_not_matter(
        prefix in 0usize..5,
        body in proptest::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..50,
    ) {
        let mut bytes = match prefix {
            0 => Vec::new(),
            1 => pcap_prefix(),
            2 => pcapng_prefix(false),
            3 => pcapng_prefix(true),
            _ => vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        };
        bytes.extend(body);
        let whole = decode(&bytes, usize::MAX);
        let chunked = decode(&bytes, chunk);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..64,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
        chunk in 1usize..40,
    ) {
        let files = fixtures();
        let mut bytes = std::fs::read(&files[which % files.len()]).unwrap();
        for (at, v) in flips {
            if !bytes.is_empty() {
                let n = bytes.len();
                bytes[at % n] = v;
            }
        }
        let keep = if bytes.is_empty() { 0 } else { cut % (bytes.len() + 1) };
        bytes.truncate(keep.max(bytes.len() / 2));
        let whole = decode(&bytes, usize::MAX);
        let chunked = decode(&bytes, chunk);
        prop_assert_eq!(whole, chunked);
    }
}

/// Found by the `decoder` fuzz target (scripts/fuzz.sh): gzip data whose events depended on
/// where the chunks were cut (chunk plan 7, 1, 112, 1 bytes).
#[test]
fn a_gzip_input_found_by_the_fuzzer_decodes_the_same_in_any_chunks() {
    let hex = "1f8b08000000000002ff458cb1098040144373df43c4da0904c15eb0fe8dadde103a862ee104aee0\
               0407821338818dad1b7cef6b61208f40428e6d5d0816bf2c4c6031ce039f0675c8010000000000210a\
               029075cf2a425d35bce9e3141f8b080000000800caa54a9f44aced2215eef97dffff004a020a0d0d0f\
               00006958059e35000000000000000001000000000000100000";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let whole = capture_support::decode_planned(&bytes, &[usize::MAX]);
    for plan in [&[7, 1, 112, 1][..], &[1], &[7], &[3, 5]] {
        assert_eq!(
            capture_support::decode_planned(&bytes, plan),
            whole,
            "plan {plan:?}"
        );
    }
}
