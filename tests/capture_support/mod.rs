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
    /// A string of the file: offset, kind, text.
    Text(u64, String, String),
}

/// One event reduced to what must not depend on chunking.
pub fn digest(e: Event<'_>) -> Digest {
    match e {
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
        Event::Text(t) => Digest::Text(t.offset, format!("{:?}", t.kind), t.text.into_owned()),
    }
}

/// Decodes `bytes` fed in `chunk`-byte pieces; returns the events and the final result.
pub fn decode(bytes: &[u8], chunk: usize) -> (Vec<Digest>, Result<(), CaptureError>) {
    let (events, result, _) = decode_counting(bytes, chunk);
    (events, result)
}

/// Decodes `bytes` cut into pieces of the given sizes, used in turn (cyclically).
pub fn decode_planned(bytes: &[u8], plan: &[usize]) -> (Vec<Digest>, Result<(), CaptureError>) {
    let mut pieces = Vec::new();
    let (mut rest, mut turn) = (bytes, 0);
    while !rest.is_empty() {
        let size = plan
            .get(turn % plan.len().max(1))
            .copied()
            .unwrap_or(usize::MAX)
            .max(1);
        let (piece, tail) = rest.split_at(rest.len().min(size));
        pieces.push(piece);
        rest = tail;
        turn += 1;
    }
    let joined: Vec<u8> = pieces.concat();
    assert_eq!(joined, bytes);
    let mut out = Vec::new();
    let mut decoder = Decoder::new();
    let mut result = Ok(());
    for piece in pieces {
        result = decoder.feed(piece, &mut |e| out.push(digest(e)));
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = decoder.finish(&mut |e| out.push(digest(e)));
    }
    (out, result)
}

/// Like `decode`, also returning `Decoder::records()`.
pub fn decode_counting(bytes: &[u8], chunk: usize) -> (Vec<Digest>, Result<(), CaptureError>, u64) {
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(digest(e));
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
