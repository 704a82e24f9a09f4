//! Every capture in the corpus: the decoder reads as many records as tshark 4.0 did
//! (`frames` in describe.jsonl), except for the differences listed and explained here.

mod capture_support;
mod common;

use std::collections::BTreeMap;

/// Captures where rstscope's count differs from tshark's: (path, ours, tshark's, why).
const KNOWN_DIFFERENCES: &[(&str, usize, usize, &str)] = &[
    (
        "tcpdump/kday6.pcap",
        1,
        0,
        "link type 182 is unknown to Wireshark 4.0, which refuses the whole file; rstscope reads the \
         record (the dissector then finds no IP in it)",
    ),
    (
        "pcapplusplus/solaris.snoop",
        0,
        250,
        "Solaris snoop is not a pcap or pcapng format; rstscope reports NotACapture, Wireshark reads it",
    ),
];

#[test]
fn corpus_packet_counts_match_tshark() {
    let Some(dir) = common::corpus_dir("corpus_packet_counts_match_tshark") else {
        return;
    };
    let describe = std::fs::read_to_string(dir.join("describe.jsonl")).expect("describe.jsonl");
    let mut frames = BTreeMap::new();
    for line in describe.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("describe.jsonl line");
        let path = v["path"].as_str().expect("path").to_string();
        let n = v["frames"].as_u64().expect("frames") as usize;
        frames.insert(path, n);
    }
    let mut agree = 0;
    let mut differences = Vec::new();
    // Every file describe.jsonl lists (a superset of `corpus_captures`: it also has the merged
    // composites and a Solaris snoop file).
    let captures: Vec<_> = frames.keys().map(|rel| dir.join(rel)).collect();
    assert!(captures.len() >= common::corpus_captures(&dir).len());
    println!("{:<90} {:>8} {:>8}  result", "capture", "ours", "tshark");
    for path in &captures {
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(path).unwrap();
        let (events, result, records) = capture_support::decode_counting(&bytes, 65536);
        let ours = records as usize;
        assert!(capture_support::packet_count(&events) <= ours);
        let Some(&theirs) = frames.get(&rel) else {
            panic!("{rel} has no line in describe.jsonl");
        };
        let note = match &result {
            Ok(()) => capture_support::warnings(&events).join(" | "),
            Err(e) => format!("error: {e}"),
        };
        if ours == theirs {
            agree += 1;
            println!("{rel:<90} {ours:>8} {theirs:>8}  ok {note}");
        } else {
            println!("{rel:<90} {ours:>8} {theirs:>8}  DIFFERENT {note}");
            differences.push((rel.clone(), ours, theirs));
        }
    }
    println!(
        "\n{agree} of {} captures agree with tshark on the packet count",
        captures.len()
    );
    for (rel, ours, theirs) in &differences {
        let known = KNOWN_DIFFERENCES.iter().find(|k| k.0 == rel);
        match known {
            Some(k) => {
                println!(
                    "known difference: {rel}: ours {ours}, tshark {theirs}: {}",
                    k.3
                );
                assert_eq!(
                    (k.1, k.2),
                    (*ours, *theirs),
                    "{rel}: the known difference changed"
                );
            }
            None => println!("UNEXPLAINED difference: {rel}: ours {ours}, tshark {theirs}"),
        }
    }
    let unexplained: Vec<_> = differences
        .iter()
        .filter(|d| !KNOWN_DIFFERENCES.iter().any(|k| k.0 == d.0))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained differences: {unexplained:?}"
    );
    for k in KNOWN_DIFFERENCES {
        assert!(
            differences.iter().any(|d| d.0 == k.0),
            "{} is listed as a known difference but now agrees",
            k.0
        );
    }
}
