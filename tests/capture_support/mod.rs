//! Helpers shared by the capture tests: decode a file in chunks and digest the events.
#![allow(dead_code)]

use rstscope::capture::{CaptureError, Decoder, Event};
use std::hash::{DefaultHasher, Hash, Hasher};

/// One event reduced to what must not depend on chunking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Digest {
    Format(String),
    Packet {
        index: u32,
        ts: i64,
        link: u16,
        iface: u32,
        orig_len: u32,
        caplen: usize,
        data: u64,
        offset: u64,
    },
    Warning(u64, String),
}

/// Decodes `bytes` fed in `chunk`-byte pieces; returns the events and the final result.
pub fn decode(bytes: &[u8], chunk: usize) -> (Vec<Digest>, Result<(), CaptureError>) {
    let (events, result, _) = decode_counting(bytes, chunk);
    (events, result)
}

/// Like `decode`, also returning `Decoder::records()`.
pub fn decode_counting(bytes: &[u8], chunk: usize) -> (Vec<Digest>, Result<(), CaptureError>, u64) {
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| {
        out.push(match e {
            Event::Format {
                container,
                compression,
            } => Digest::Format(format!("{container:?} {compression:?}")),
            Event::Packet(p) => {
                let mut h = DefaultHasher::new();
                p.data.hash(&mut h);
                Digest::Packet {
                    index: p.index.0,
                    ts: p.ts.0,
                    link: p.link_type.0,
                    iface: p.interface,
                    orig_len: p.orig_len,
                    caplen: p.data.len(),
                    data: h.finish(),
                    offset: p.offset,
                }
            }
            Event::Warning(w) => Digest::Warning(w.offset, w.message),
        })
    };
    let mut d = Decoder::new();
    for c in bytes.chunks(chunk.max(1)) {
        if let Err(e) = d.feed(c, &mut sink) {
            let records = d.records();
            return (out, Err(e), records);
        }
    }
    let r = d.finish(&mut sink);
    let records = d.records();
    (out, r, records)
}

pub fn packet_count(events: &[Digest]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Digest::Packet { .. }))
        .count()
}

pub fn warnings(events: &[Digest]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Digest::Warning(at, m) => Some(format!("at {at}: {m}")),
            _ => None,
        })
        .collect()
}
