//! The analysis pipeline: bytes in, an [`Analysis`] out. It wires the stages together in the
//! one direction data flows (decoder -> dissector -> flow table) and keeps the capture-level
//! counters. Both the command-line tool and the page's worker drive it the same way:
//! `Analyzer::new()`, `feed` chunk by chunk, then `finish`.

use std::collections::BTreeMap;

use crate::capture::{
    CaptureError, Compression, Container, Decoder, Event, LinkType, Timestamp, Warning,
};
use crate::dissect::{Dissection, Dissector};
use crate::flow::FlowTable;

/// How many warnings are kept word for word; past that they are only counted, so a hostile
/// file cannot grow the report without bound.
const MAX_WARNINGS: usize = 100;

/// Per-link-type counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkTypeCount {
    pub packets: u64,
    /// Records of this link type the dissector does not decode.
    pub not_decoded: u64,
}

/// What was learnt about the capture file as a whole.
#[derive(Debug, Clone, Default)]
pub struct CaptureSummary {
    pub container: Option<Container>,
    pub compression: Option<Compression>,
    /// Bytes fed to the analyzer (the file size, compressed).
    pub bytes: u64,
    /// Every record in the file.
    pub packets: u64,
    pub tcp_packets: u64,
    /// Records whose IP or TCP header could not be read.
    pub malformed_packets: u64,
    /// Records whose TCP segment was cut short by the snaplen.
    pub truncated_tcp_packets: u64,
    pub link_types: BTreeMap<LinkType, LinkTypeCount>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub warnings: Vec<Warning>,
    /// Warnings beyond [`MAX_WARNINGS`], counted only.
    pub warnings_dropped: u64,
}

/// The finished analysis of one capture.
pub struct Analysis {
    pub capture: CaptureSummary,
    pub flows: FlowTable,
}

/// Drives the pipeline. See the module documentation.
pub struct Analyzer {
    decoder: Decoder,
    dissector: Dissector,
    flows: FlowTable,
    summary: CaptureSummary,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        Analyzer {
            decoder: Decoder::new(),
            dissector: Dissector::new(),
            flows: FlowTable::new(),
            summary: CaptureSummary::default(),
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.summary.bytes
    }

    /// Packets read so far.
    pub fn packets(&self) -> u64 {
        self.summary.packets
    }

    /// Feeds the next chunk of the capture file.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), CaptureError> {
        let Analyzer {
            decoder,
            dissector,
            flows,
            summary,
        } = self;
        summary.bytes += chunk.len() as u64;
        decoder.feed(chunk, &mut |event| {
            on_event(event, dissector, flows, summary)
        })
    }

    /// Ends the input and returns the analysis.
    pub fn finish(mut self) -> Result<Analysis, CaptureError> {
        let Analyzer {
            decoder,
            dissector,
            flows,
            summary,
        } = &mut self;
        decoder.finish(&mut |event| on_event(event, dissector, flows, summary))?;
        Ok(Analysis {
            capture: self.summary,
            flows: self.flows,
        })
    }
}

fn on_event(
    event: Event<'_>,
    dissector: &mut Dissector,
    flows: &mut FlowTable,
    summary: &mut CaptureSummary,
) {
    match event {
        Event::Format {
            container,
            compression,
        } => {
            summary.container = Some(container);
            summary.compression = compression;
        }
        Event::Warning(warning) => {
            if summary.warnings.len() < MAX_WARNINGS {
                summary.warnings.push(warning);
            } else {
                summary.warnings_dropped += 1;
            }
        }
        Event::Packet(packet) => {
            summary.packets += 1;
            summary.first_ts = Some(summary.first_ts.map_or(packet.ts, |t| t.min(packet.ts)));
            summary.last_ts = Some(summary.last_ts.map_or(packet.ts, |t| t.max(packet.ts)));
            let count = summary.link_types.entry(packet.link_type).or_default();
            count.packets += 1;
            match dissector.dissect(packet.link_type, packet.data, packet.orig_len) {
                Dissection::Tcp(segment) => {
                    summary.tcp_packets += 1;
                    if segment.truncated {
                        summary.truncated_tcp_packets += 1;
                    }
                    flows.push(packet.index, packet.ts, &segment);
                }
                Dissection::UnsupportedLink(_) => count.not_decoded += 1,
                Dissection::Malformed => summary.malformed_packets += 1,
                Dissection::OtherIp | Dissection::NotIp => {}
            }
        }
    }
}
