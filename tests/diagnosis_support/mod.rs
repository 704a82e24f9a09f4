//! Shared by the diagnosis tests: runs a capture through the pipeline, then diagnoses it.
#![allow(dead_code)]

use rstscope::diagnosis::{diagnose, Diagnosis};
use rstscope::pipeline::{Analysis, Analyzer};

/// Chunk size for feeding: small enough that blocks are cut at chunk boundaries.
const CHUNK: usize = 1 << 20;

/// The analysis and the diagnosis of one capture file's bytes.
pub fn diagnose_bytes(bytes: &[u8]) -> Result<(Analysis, Diagnosis), String> {
    let mut analyzer = Analyzer::new();
    for chunk in bytes.chunks(CHUNK) {
        analyzer.feed(chunk).map_err(|e| e.to_string())?;
    }
    let analysis = analyzer.finish().map_err(|e| e.to_string())?;
    let diagnosis = diagnose(&analysis, &analysis.ttls);
    Ok((analysis, diagnosis))
}
