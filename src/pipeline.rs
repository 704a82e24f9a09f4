//! The analysis pipeline: bytes in, an [`Analysis`] out. It wires the stages together in the
//! one direction data flows (decoder -> dissector -> flow table -> TCP sequence analysis) and
//! keeps the capture-level counters. Both the command-line tool and the page's worker drive it the same way:
//! `Analyzer::new()`, `feed` chunk by chunk, then `finish`.

use std::collections::BTreeMap;

use crate::analysis::zeek::{ZeekConfig, ZeekRecord, ZeekTracker};
use crate::analysis::{Observation, TcpAnalyzer};
use crate::capture::{
    CaptureError, Compression, Container, Decoder, Event, LinkType, PacketIdx, Text, TextKind,
    Timestamp, Warning,
};
use crate::diagnosis::TtlObserver;
use crate::dissect::{Dissection, Dissector, TcpFlags, TcpSegment};
use crate::flow::{FlowTable, StreamId};

/// How many warnings are kept word for word; past that they are only counted, so a hostile
/// file cannot grow the report without bound.
const MAX_WARNINGS: usize = 100;

/// Bytes of capture file per TCP packet assumed when making room ahead for the records
/// ([`Analyzer::expecting`]): a little under what busy services' captures hold (about 240 in the
/// generated ones, 350 to 500 in the corpus's composites), so that the room is seldom too small.
/// Room too large costs address space only: its pages are never touched.
const BYTES_PER_PACKET_GUESS: u64 = 200;

/// At most this many packets' room is made ahead (about 1 GB of records at 60 bytes each).
const MAX_PACKETS_AHEAD: u64 = 1 << 24;

/// TCP packets per connection assumed when making room ahead for the connections: about 34 in
/// the generated captures, 14 and 157 in the corpus's composites.
const PACKETS_PER_CONNECTION_GUESS: usize = 32;

/// How many strings of the file (comments, names, descriptions) are kept; past that they are
/// only counted. Each is at most [`crate::capture::MAX_TEXT_BYTES`], so together at most
/// about 100 KiB whatever the file holds (a hostile one may hold millions).
pub const MAX_TEXTS: usize = 100;

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
    /// `shb_hardware`, `shb_os` and `shb_userappl` of the first section that gives them (as
    /// capinfos shows them).
    pub hardware: Option<String>,
    pub os: Option<String>,
    pub application: Option<String>,
    /// Comments on the file's sections and on its packets, in file order.
    pub comments: Vec<Comment>,
    /// The pcapng interfaces that have a name or a description, in file order.
    pub interfaces: Vec<InterfaceNames>,
    /// Strings of the file not kept: past the first [`MAX_TEXTS`], or a later section's
    /// hardware, OS or application.
    pub texts_dropped: u64,
    /// How many strings of the file are kept (in the fields above).
    texts_kept: usize,
}

impl CaptureSummary {
    /// How many strings of the file are kept.
    pub fn texts(&self) -> usize {
        self.texts_kept
    }

    /// Keeps a string of the file, or counts it when [`MAX_TEXTS`] are kept already.
    fn push_text(&mut self, text: Text<'_>) {
        if self.texts_kept >= MAX_TEXTS {
            self.texts_dropped += 1;
            return;
        }
        let value = text.text.into_owned();
        let section = |slot: &mut Option<String>| match slot {
            Some(_) => false,
            None => {
                *slot = Some(value.clone());
                true
            }
        };
        let kept = match text.kind {
            TextKind::Hardware => section(&mut self.hardware),
            TextKind::Os => section(&mut self.os),
            TextKind::Application => section(&mut self.application),
            TextKind::SectionComment => {
                self.comments.push(Comment {
                    packet: None,
                    text: value,
                });
                true
            }
            TextKind::PacketComment { index } => {
                self.comments.push(Comment {
                    packet: Some(index),
                    text: value,
                });
                true
            }
            TextKind::InterfaceName {
                section,
                interface,
                link_type,
            }
            | TextKind::InterfaceDescription {
                section,
                interface,
                link_type,
            } => {
                // An interface's name and description come one after the other.
                let same =
                    |i: &&mut InterfaceNames| (i.section, i.interface) == (section, interface);
                let entry = match self.interfaces.last_mut().filter(same) {
                    Some(entry) => entry,
                    None => {
                        self.interfaces.push(InterfaceNames {
                            section,
                            interface,
                            link_type,
                            name: None,
                            description: None,
                        });
                        let last = self.interfaces.len() - 1;
                        &mut self.interfaces[last]
                    }
                };
                let slot = if matches!(text.kind, TextKind::InterfaceName { .. }) {
                    &mut entry.name
                } else {
                    &mut entry.description
                };
                // A repeated option: the first one is kept.
                let kept = slot.is_none();
                slot.get_or_insert(value);
                kept
            }
        };
        if kept {
            self.texts_kept += 1;
        } else {
            self.texts_dropped += 1;
        }
    }
}

/// A comment of the file: on a section (the file as a whole) or on one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The packet it is on; `None` for a section's comment.
    pub packet: Option<PacketIdx>,
    pub text: String,
}

/// A pcapng interface's `if_name` and `if_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceNames {
    /// The section (0-based, in file order) and the interface's number in it.
    pub section: u32,
    pub interface: u32,
    pub link_type: LinkType,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// The finished analysis of one capture.
pub struct Analysis {
    pub capture: CaptureSummary,
    pub flows: FlowTable,
    /// Per-packet records and per-connection sequence analysis, indexed like `flows`.
    pub tcp: TcpAnalyzer,
    /// Zeek's view of the same segments: one row per Zeek connection (Zeek splits some
    /// Wireshark streams in several), in order of first packet.
    pub zeek: Vec<ZeekRecord>,
    /// The IP TTL / hop limit of each side of each connection, for the reset diagnosis.
    pub ttls: TtlObserver,
    /// Where each TCP packet's bytes are in the capture, indexed like `tcp.records()`.
    pub locations: Vec<PacketLocation>,
}

/// Where a TCP packet's captured bytes are, so they can be read back on demand (the page's
/// hex dump and decoded header fields) instead of being kept: 16 bytes per TCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketLocation {
    /// Low 32 bits of the byte offset in the (decompressed) capture stream.
    offset_lo: u32,
    /// High 16 bits of it: offsets up to 2^48 bytes.
    offset_hi: u16,
    link_type: u16,
    /// Captured length.
    pub captured: u32,
    /// Length on the wire.
    pub orig_len: u32,
}

impl PacketLocation {
    fn of(packet: &crate::capture::Packet<'_>) -> PacketLocation {
        PacketLocation {
            // Splitting a 48-bit offset into its low 32 and high 16 bits.
            offset_lo: packet.offset as u32,
            offset_hi: (packet.offset >> 32) as u16,
            link_type: packet.link_type.0,
            captured: u32::try_from(packet.data.len()).unwrap_or(u32::MAX),
            orig_len: packet.orig_len,
        }
    }

    /// A location built from its parts (offsets beyond 2^48 bytes are cut to their low 48
    /// bits, as the pipeline's are).
    pub fn new(offset: u64, link_type: LinkType, captured: u32, orig_len: u32) -> PacketLocation {
        PacketLocation {
            // Splitting a 48-bit offset into its low 32 and high 16 bits.
            offset_lo: offset as u32,
            offset_hi: (offset >> 32) as u16,
            link_type: link_type.0,
            captured,
            orig_len,
        }
    }

    /// Byte offset of the captured bytes in the (decompressed) capture stream.
    pub fn offset(&self) -> u64 {
        (u64::from(self.offset_hi) << 32) | u64::from(self.offset_lo)
    }

    /// The packet's link type.
    pub fn link_type(&self) -> LinkType {
        LinkType(self.link_type)
    }
}

/// Drives the pipeline. See the module documentation.
pub struct Analyzer {
    decoder: Decoder,
    stages: Stages,
}

/// The stages after the decoder, and what they have built so far.
struct Stages {
    dissector: Dissector,
    flows: FlowTable,
    sequence: Sequence,
    summary: CaptureSummary,
}

/// The stages after the flow table, which need nothing from the others but each TCP segment
/// with its stream: the sequence analysis, Zeek's connection state, the TTLs and where the
/// packets are. They run on the caller's thread, or (natively, [`Analyzer::on_two_threads`])
/// on a thread of their own, fed in batches. (The TTLs were beside the flow table until its
/// thread became the busier: at 100 MB the CLI is 3-4% faster with them here.)
enum Sequence {
    Here(Box<SequenceStages>),
    #[cfg(not(target_arch = "wasm32"))]
    Thread(threaded::Feeder),
}

/// The stages [`Sequence`] runs.
struct SequenceStages {
    tcp: TcpAnalyzer,
    zeek: ZeekTracker,
    ttls: TtlObserver,
    locations: Vec<PacketLocation>,
}

impl SequenceStages {
    /// With room for `packets` TCP packets' records and their connections (see
    /// [`Analyzer::expecting`]).
    fn new(packets: usize) -> SequenceStages {
        let connections = packets / PACKETS_PER_CONNECTION_GUESS;
        let mut tcp = TcpAnalyzer::new();
        tcp.reserve(packets, connections);
        let mut zeek = ZeekTracker::new(ZeekConfig::default());
        zeek.reserve(connections);
        let mut ttls = TtlObserver::new();
        ttls.reserve(connections);
        SequenceStages {
            tcp,
            zeek,
            ttls,
            locations: Vec::with_capacity(packets),
        }
    }

    fn push(&mut self, seen: &Observed) {
        self.tcp.observe(&Observation {
            index: seen.index,
            ts: seen.ts,
            stream: seen.stream,
            reused_ports: seen.reused_ports,
            segment: &seen.segment,
        });
        self.zeek.push(seen.stream, &seen.segment, seen.ts);
        self.ttls.push(seen.index, seen.stream, &seen.segment);
        self.locations.push(seen.location);
    }
}

/// One TCP segment as the [`Sequence`] stages take it (an owned [`Observation`]).
#[derive(Clone, Copy)]
struct Observed {
    index: PacketIdx,
    ts: Timestamp,
    stream: StreamId,
    reused_ports: bool,
    segment: TcpSegment,
    location: PacketLocation,
}

impl Sequence {
    fn push(&mut self, seen: Observed) {
        match self {
            Sequence::Here(stages) => stages.push(&seen),
            #[cfg(not(target_arch = "wasm32"))]
            Sequence::Thread(feeder) => feeder.push(seen),
        }
    }

    fn finish(self) -> SequenceStages {
        match self {
            Sequence::Here(stages) => *stages,
            #[cfg(not(target_arch = "wasm32"))]
            Sequence::Thread(feeder) => feeder.finish(),
        }
    }
}

/// The [`Sequence`] stages on a thread of their own (not in WebAssembly, which has no threads
/// without shared memory).
#[cfg(not(target_arch = "wasm32"))]
mod threaded {
    use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
    use std::thread::JoinHandle;

    use super::{Observed, SequenceStages};

    /// Segments handed over at a time: large enough that the hand-over costs little per
    /// segment, small enough (about 150 KiB) to stay in the cache between the two threads.
    const BATCH: usize = 1024;

    /// Full batches waiting for the stages' thread at most; then the reading thread waits.
    const BATCHES_QUEUED: usize = 8;

    /// The reading thread's end.
    pub(super) struct Feeder {
        batch: Vec<Observed>,
        full: Option<SyncSender<Vec<Observed>>>,
        /// Batches the stages' thread is done with, for reuse (no allocation per batch).
        empty: Receiver<Vec<Observed>>,
        worker: Option<JoinHandle<SequenceStages>>,
    }

    impl Feeder {
        /// With room for `packets` TCP packets' records in the stages.
        pub(super) fn start(packets: usize) -> Feeder {
            let (full, full_rx) = sync_channel::<Vec<Observed>>(BATCHES_QUEUED);
            let (empty_tx, empty) = channel();
            let worker = std::thread::Builder::new()
                .name("rstscope-sequence".into())
                .spawn(move || run(packets, full_rx, empty_tx))
                .ok();
            Feeder {
                batch: Vec::with_capacity(BATCH),
                full: Some(full),
                empty,
                worker,
            }
        }

        pub(super) fn push(&mut self, seen: Observed) {
            self.batch.push(seen);
            if self.batch.len() >= BATCH {
                let next = self
                    .empty
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                let full = std::mem::replace(&mut self.batch, next);
                self.send(full);
            }
        }

        fn send(&mut self, batch: Vec<Observed>) {
            let Some(full) = &self.full else {
                return;
            };
            if let Err(failed) = full.send(batch) {
                // The stages' thread is gone (it could not start, or it panicked): run the
                // stages here from now on; `finish` reports the panic.
                self.full = None;
                self.batch = failed.0;
            }
        }

        pub(super) fn finish(mut self) -> SequenceStages {
            let last = std::mem::take(&mut self.batch);
            self.send(last);
            drop(self.full.take());
            let stages = match self.worker.take().map(JoinHandle::join) {
                Some(Ok(stages)) => Some(stages),
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => None,
            };
            match stages {
                Some(stages) if self.batch.is_empty() => stages,
                // The thread never started: everything is still in `batch`.
                _ => {
                    let mut stages = SequenceStages::new(self.batch.len());
                    for seen in &self.batch {
                        stages.push(seen);
                    }
                    stages
                }
            }
        }
    }

    fn run(
        packets: usize,
        full: Receiver<Vec<Observed>>,
        empty: Sender<Vec<Observed>>,
    ) -> SequenceStages {
        let mut stages = SequenceStages::new(packets);
        for mut batch in full {
            for seen in &batch {
                stages.push(seen);
            }
            batch.clear();
            // The reading thread may have finished already: then the batch is just dropped.
            let _ = empty.send(batch);
        }
        stages
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    /// An analyzer that does all its work on the caller's thread.
    pub fn new() -> Self {
        Self::expecting(0)
    }

    /// [`Analyzer::new`], for a capture file of about `file_bytes` bytes: room for its TCP
    /// packets' records is made at the start (one per [`BYTES_PER_PACKET_GUESS`] bytes), so
    /// they seldom outgrow it. Growing copies them all each time the room doubles, which
    /// WebAssembly's allocator cannot avoid (natively, the kernel remaps large blocks instead).
    /// Only a hint: any capture of any size is analysed the same.
    pub fn expecting(file_bytes: u64) -> Self {
        let packets = packets_expected(file_bytes);
        Self::with(
            Sequence::Here(Box::new(SequenceStages::new(packets))),
            packets,
        )
    }

    /// An analyzer that runs the sequence analysis and Zeek's connection state on a second
    /// thread while the caller's thread reads, dissects and assigns streams: the same
    /// [`Analysis`], sooner on a machine with two cores or more. `file_bytes` as for
    /// [`Analyzer::expecting`]. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_two_threads(file_bytes: u64) -> Self {
        let packets = packets_expected(file_bytes);
        Self::with(Sequence::Thread(threaded::Feeder::start(packets)), packets)
    }

    /// With room for `packets` TCP packets' connections in the flow table.
    fn with(sequence: Sequence, packets: usize) -> Self {
        let connections = packets / PACKETS_PER_CONNECTION_GUESS;
        Analyzer {
            decoder: Decoder::new(),
            stages: Stages {
                dissector: Dissector::new(),
                flows: FlowTable::with_capacity(connections),
                sequence,
                summary: CaptureSummary::default(),
            },
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.stages.summary.bytes
    }

    /// Packets read so far.
    pub fn packets(&self) -> u64 {
        self.stages.summary.packets
    }

    /// Feeds the next chunk of the capture file.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), CaptureError> {
        let Analyzer { decoder, stages } = self;
        stages.summary.bytes += chunk.len() as u64;
        decoder.feed(chunk, &mut |event| on_event(event, stages))
    }

    /// Ends the input and returns the analysis.
    pub fn finish(mut self) -> Result<Analysis, CaptureError> {
        let Analyzer { decoder, stages } = &mut self;
        decoder.finish(&mut |event| on_event(event, stages))?;
        let stages = self.stages;
        let SequenceStages {
            mut tcp,
            zeek,
            mut ttls,
            mut locations,
        } = stages.sequence.finish();
        // What is kept is kept while the capture is shown: no spare capacity.
        let mut flows = stages.flows;
        flows.shrink_to_fit();
        tcp.shrink_to_fit();
        ttls.shrink_to_fit();
        locations.shrink_to_fit();
        Ok(Analysis {
            capture: stages.summary,
            flows,
            tcp,
            zeek: zeek.finish(),
            ttls,
            locations,
        })
    }
}

fn on_event(event: Event<'_>, stages: &mut Stages) {
    let Stages {
        dissector,
        flows,
        sequence,
        summary,
    } = stages;
    match event {
        Event::Format {
            container,
            compression,
        } => {
            summary.container = Some(container);
            summary.compression = compression;
        }
        Event::Text(text) => summary.push_text(text),
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
                    let reused_ports = starts_new_stream_on_known_ports(flows, &segment);
                    let stream = flows.push(packet.index, packet.ts, &segment);
                    let reused_ports = reused_ports.is_some_and(|before| before != stream);
                    sequence.push(Observed {
                        index: packet.index,
                        ts: packet.ts,
                        stream,
                        reused_ports,
                        segment,
                        location: PacketLocation::of(&packet),
                    });
                }
                Dissection::UnsupportedLink(_) => count.not_decoded += 1,
                Dissection::Malformed => summary.malformed_packets += 1,
                Dissection::OtherIp | Dissection::NotIp => {}
            }
        }
    }
}

/// The TCP packets to make room for in a capture file of `file_bytes` bytes.
fn packets_expected(file_bytes: u64) -> usize {
    let packets = (file_bytes / BYTES_PER_PACKET_GUESS).min(MAX_PACKETS_AHEAD);
    usize::try_from(packets).unwrap_or(0)
}

/// Set by [`use_one_thread`].
static ONE_THREAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on, [`both`] runs its two parts one after the other in this process, as in
/// WebAssembly (the CLI's `--one-thread`: the page's work, measured natively).
pub fn use_one_thread() {
    ONE_THREAD.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`both`] runs its parts at the same time: natively, unless [`use_one_thread`] was
/// called. (Work split in two only to run at once can be done in one go otherwise.)
pub fn threads_available() -> bool {
    cfg!(not(target_arch = "wasm32")) && !ONE_THREAD.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs `a` and `b` at the same time where there are threads ([`threads_available`]), else one
/// after the other.
pub fn both<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    #[cfg(not(target_arch = "wasm32"))]
    if !threads_available() {
        (a(), b())
    } else {
        std::thread::scope(|scope| {
            let first = scope.spawn(a);
            let second = b();
            match first.join() {
                Ok(first) => (first, second),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        (a(), b())
    }
}

/// For a pure SYN, the stream its endpoints are on before the flow table sees it: if the table
/// then puts the SYN on another stream, the ports were reused (Wireshark's
/// `tcp.analysis.reused_ports`). Other segments cannot start a stream on known ports.
fn starts_new_stream_on_known_ports(flows: &FlowTable, seg: &TcpSegment) -> Option<StreamId> {
    if seg.flags.0 & (TcpFlags::SYN | TcpFlags::ACK) != TcpFlags::SYN {
        return None;
    }
    flows
        .current((seg.src, seg.src_port), (seg.dst, seg.dst_port))
        .map(|c| c.stream)
}
