//! What the fuzz targets share: how an input is split into a chunking plan and a capture, and
//! a chunking-independent digest of the decoder's events.
//!
//! An input is `CONTROL_LEN` control bytes, then the capture bytes. Each control byte is the
//! size of one chunk, used in turn until the capture is consumed (see [`chunk_size`]), so the
//! fuzzer explores chunk boundaries as freely as the bytes themselves. The seeds that
//! `scripts/fuzz.sh` makes from the project's fixtures put [`SEED_CONTROL`] in front of each file.

use rstscope::capture::{CaptureError, Decoder, Event};

/// Control bytes at the start of every input.
pub const CONTROL_LEN: usize = 4;

/// The control bytes the seeds start with: small, odd and large chunks.
pub const SEED_CONTROL: [u8; CONTROL_LEN] = [0x07, 0x01, 0x90, 0x00];

/// The chunk size one control byte stands for: 0 is "everything left", 1..=127 that many
/// bytes (cutting headers in every place), 128..=255 multiples of 509 bytes up to 64 KiB
/// (several records per chunk; 509 is prime, so boundaries keep moving).
pub fn chunk_size(control: u8) -> usize {
    match control {
        0 => usize::MAX,
        1..=127 => usize::from(control),
        _ => usize::from(control - 127) * 509,
    }
}

/// Splits a fuzz input into its control bytes and the capture.
pub fn split_input(data: &[u8]) -> (&[u8], &[u8]) {
    data.split_at(data.len().min(CONTROL_LEN))
}

/// The capture cut into chunks following the control bytes (whole when there are none).
pub fn chunks<'a>(control: &'a [u8], mut bytes: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut turn = 0usize;
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let size = control
            .get(turn % control.len().max(1))
            .map_or(usize::MAX, |&c| chunk_size(c));
        turn += 1;
        let (chunk, rest) = bytes.split_at(bytes.len().min(size));
        bytes = rest;
        Some(chunk)
    })
}

/// One decoder event, reduced to what must not depend on chunking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    Format(String),
    Packet {
        index: u32,
        ts: i64,
        link_type: u16,
        interface: u32,
        orig_len: u32,
        data: Vec<u8>,
        offset: u64,
    },
    Warning(u64, String),
    Text(u64, String, String),
}

/// Every event of the decoder fed `chunks`, then its final result.
pub fn decode<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Digest>, Result<(), CaptureError>) {
    let mut events = Vec::new();
    let mut sink = |event: Event<'_>| {
        events.push(match event {
            Event::Format {
                container,
                compression,
            } => Digest::Format(format!("{container:?} {compression:?}")),
            Event::Packet(p) => Digest::Packet {
                index: p.index.0,
                ts: p.ts.0,
                link_type: p.link_type.0,
                interface: p.interface,
                orig_len: p.orig_len,
                data: p.data.to_vec(),
                offset: p.offset,
            },
            Event::Warning(w) => Digest::Warning(w.offset, w.message),
            Event::Text(t) => Digest::Text(t.offset, format!("{:?}", t.kind), t.text.into_owned()),
        })
    };
    let mut decoder = Decoder::new();
    let mut result = Ok(());
    for chunk in chunks {
        result = decoder.feed(chunk, &mut sink);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = decoder.finish(&mut sink);
    }
    // Afterwards the decoder repeats its verdict and emits nothing more.
    let mut late = 0usize;
    let mut count = |_: Event<'_>| late += 1;
    match &result {
        Ok(()) => assert_eq!(decoder.finish(&mut count), Ok(())),
        Err(err) => {
            assert_eq!(decoder.feed(b"more", &mut count).as_ref(), Err(err));
            assert_eq!(decoder.finish(&mut count).as_ref(), Err(err));
        }
    }
    assert_eq!(late, 0, "events after the end");
    (events, result)
}

/// Checks what holds for the events of any input: one format event before any packet,
/// packet indexes and offsets strictly increasing, warnings as sentences.
pub fn check_events(events: &[Digest]) {
    let mut format_seen = false;
    let mut last: Option<(u32, u64)> = None;
    for event in events {
        match event {
            Digest::Format(_) => {
                assert!(!format_seen, "two format events");
                format_seen = true;
            }
            Digest::Packet { index, offset, .. } => {
                assert!(format_seen, "a packet before the format event");
                if let Some((i, o)) = last {
                    assert!(*index > i, "packet index {index} after {i}");
                    assert!(*offset > o, "packet offset {offset} after {o}");
                }
                last = Some((*index, *offset));
            }
            Digest::Warning(_, message) => assert!(!message.is_empty(), "an empty warning"),
            Digest::Text(..) => {}
        }
    }
}
