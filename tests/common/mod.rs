//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The corpus of real captures (`../shared/captures`), from `RSTSCOPE_CORPUS`.
///
/// When the variable is not set the corpus tests cannot run: under CI (`CI` set) that is a
/// failure; elsewhere the test says so loudly on stderr and returns `None`.
pub fn corpus_dir(test: &str) -> Option<PathBuf> {
    match std::env::var_os("RSTSCOPE_CORPUS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.is_dir(),
                "RSTSCOPE_CORPUS={} is not a directory",
                dir.display()
            );
            Some(dir)
        }
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: RSTSCOPE_CORPUS is not set, and CI must run the corpus tests"
            );
            eprintln!(
                "\n*** {test}: NOT RUN: RSTSCOPE_CORPUS is not set (point it at ../shared/captures) ***\n"
            );
            None
        }
    }
}

/// Every capture file under `dir` (recursively), sorted, leaving out the oracle and side files.
pub fn corpus_captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if is_capture(&path) {
            out.push(path);
        }
    }
}

fn is_capture(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let side = [
        ".tsv", ".txt", ".md", ".json", ".jsonl", ".out", ".log", ".cut",
    ];
    if side.iter().any(|s| name.ends_with(s)) || name.contains(".zeek.") {
        return false;
    }
    // Zeek baselines have many suffixes (`.output`, `.output2`, ...): keep only files that have
    // a tshark oracle next to them, which every capture in the corpus does.
    let mut oracle = path.as_os_str().to_owned();
    oracle.push(".tshark.tsv");
    Path::new(&oracle).exists()
}
