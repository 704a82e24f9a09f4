//! Shared by the diagnosis tests: runs a capture through the pipeline and, beside it, the
//! decoder -> dissector -> flow table loop that feeds the `TtlObserver` (the pipeline does not
//! drive it yet), then diagnoses.
#![allow(dead_code)]

use rstscope::capture::{Decoder, Event};
use rstscope::diagnosis::{diagnose, Diagnosis, TtlObserver};
use rstscope::dissect::{Dissection, Dissector};
use rstscope::flow::FlowTable;
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
    let ttls = observe_ttls(bytes)?;
    let diagnosis = diagnose(&analysis, &ttls);
    Ok((analysis, diagnosis))
}

/// Feeds a `TtlObserver` exactly as the pipeline would: every TCP segment, after the flow table
/// gave it its stream.
pub fn observe_ttls(bytes: &[u8]) -> Result<TtlObserver, String> {
    let mut decoder = Decoder::new();
    let mut dissector = Dissector::new();
    let mut flows = FlowTable::new();
    let mut ttls = TtlObserver::new();
    let mut sink = |event: Event<'_>| {
        if let Event::Packet(p) = event {
            if let Dissection::Tcp(seg) = dissector.dissect(p.link_type, p.data, p.orig_len) {
                let stream = flows.push(p.index, p.ts, &seg);
                ttls.push(p.index, stream, &seg);
            }
        }
    };
    for chunk in bytes.chunks(CHUNK) {
        decoder.feed(chunk, &mut sink).map_err(|e| e.to_string())?;
    }
    decoder.finish(&mut sink).map_err(|e| e.to_string())?;
    Ok(ttls)
}
