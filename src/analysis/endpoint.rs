//! One direction of a connection as an observer on the wire sees it: Zeek's endpoint state
//! and Wireshark's per-flow sequence-analysis state (`tcp_flow_t` and
//! `tcp_analyze_seq_flow_info_t` in `epan/dissectors/packet-tcp.c`).

use crate::capture::Timestamp;
use crate::dissect::TcpSegment;
use crate::seq::{SeqNum, SeqUnwrapper};

use super::Findings;

/// Wireshark stops remembering unacknowledged segments of a direction past this many
/// (`TCP_MAX_UNACKED_SEGMENTS` in `packet-tcp.h`), so that a one-sided capture with no ACKs
/// cannot grow without bound.
pub const MAX_UNACKED_SEGMENTS: usize = 10_000;

/// The largest window shift RFC 7323 section 2.3 allows; Wireshark clamps larger values to it.
pub const MAX_WINDOW_SHIFT: u8 = 14;

/// Where an endpoint is in the connection's life, as Zeek's `TCP_Endpoint` states name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointState {
    /// Nothing sent yet.
    #[default]
    Inactive,
    /// Sent a SYN.
    SynSent,
    /// Sent a SYN+ACK.
    SynAckSent,
    /// Sent data or ACKs without a SYN seen: the connection started before the capture.
    Partial,
    /// Sent an ACK after its SYN (or SYN+ACK).
    Established,
    /// Sent a FIN.
    Closed,
    /// Sent a RST.
    Reset,
}

impl EndpointState {
    /// Zeek's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            EndpointState::Inactive => "inactive",
            EndpointState::SynSent => "syn_sent",
            EndpointState::SynAckSent => "syn_ack_sent",
            EndpointState::Partial => "partial",
            EndpointState::Established => "established",
            EndpointState::Closed => "closed",
            EndpointState::Reset => "reset",
        }
    }

    /// The state after the endpoint sent `seg`: a RST resets, a FIN closes (both for good); a
    /// SYN or SYN+ACK opens; an ACK after them establishes; anything else sent by an endpoint
    /// whose SYN was not seen makes it partial.
    pub fn after_sending(self, seg: &TcpSegment) -> EndpointState {
        let f = seg.flags;
        match self {
            EndpointState::Reset => EndpointState::Reset,
            _ if f.rst() => EndpointState::Reset,
            EndpointState::Closed => EndpointState::Closed,
            _ if f.fin() => EndpointState::Closed,
            EndpointState::Inactive | EndpointState::SynSent if f.syn() && !f.ack() => {
                EndpointState::SynSent
            }
            EndpointState::Inactive | EndpointState::SynAckSent if f.syn() => {
                EndpointState::SynAckSent
            }
            EndpointState::SynSent | EndpointState::SynAckSent if f.ack() && !f.syn() => {
                EndpointState::Established
            }
            EndpointState::Inactive => EndpointState::Partial,
            other => other,
        }
    }
}

/// What is known of a direction's window scale (RFC 7323 section 2), in Wireshark's three
/// states (`win_scale`: -1, -2, or the shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowScale {
    /// No handshake seen: the window field may or may not be scaled (Wireshark's -1).
    #[default]
    Unknown,
    /// The handshake shows scaling is not in use: the field is the window (Wireshark's -2).
    NotUsed,
    /// The handshake negotiated this shift.
    Shift(u8),
}

impl WindowScale {
    /// The shift to apply to a non-SYN window field, when known.
    pub fn shift(self) -> Option<u8> {
        match self {
            WindowScale::Unknown => None,
            WindowScale::NotUsed => Some(0),
            WindowScale::Shift(s) => Some(s),
        }
    }
}

/// Duplicate-ACK counting of a direction (Wireshark's `dupacknum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DupAcks {
    /// This many duplicates of the current ACK so far.
    Count(u32),
    /// The other direction acknowledged data this direction was never seen to send.
    /// Wireshark stores -1 in its unsigned counter then: the next duplicate counts as the
    /// first, and until then the counter reads as "many" for the fast-retransmission test.
    AfterAckedUnseen,
}

/// A segment sent and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unacked {
    /// Position of its record.
    pub record: u32,
    pub ts: Timestamp,
    pub seq: SeqNum,
    pub next_seq: SeqNum,
}

/// The segments a direction sent that are not acknowledged yet, in the order they were sent.
///
/// Long one-way captures keep thousands of them here (up to [`MAX_UNACKED_SEGMENTS`]), and every
/// data segment asks for their lowest and highest position (bytes in flight) while every ACK is
/// applied to them: scanning the list each time made the analysis quadratic in a connection's
/// length. So the bounds are cached (recomputed only after the list shrank or before positions
/// were known), and an ACK number already applied, with nothing pushed since, is not applied
/// again: doing so would change nothing.
#[derive(Debug, Clone, Default)]
pub(super) struct UnackedSegments {
    items: Vec<Unacked>,
    /// Lowest `seq` and highest `next_seq` position among `items`; `None` when unknown.
    bounds: Option<(i64, i64)>,
    /// The ACK number last applied, with no segment pushed since.
    settled_ack: Option<SeqNum>,
}

impl UnackedSegments {
    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Remembers a segment just sent.
    pub(super) fn push(&mut self, segment: Unacked, positions: &SeqUnwrapper) {
        let known = positions.highest().is_some();
        let bounds = match (self.bounds, known) {
            (Some((lo, hi)), true) => Some((
                lo.min(positions.peek(segment.seq)),
                hi.max(positions.peek(segment.next_seq)),
            )),
            (None, true) if self.items.is_empty() => Some((
                positions.peek(segment.seq),
                positions.peek(segment.next_seq),
            )),
            _ => None,
        };
        self.items.push(segment);
        self.bounds = bounds;
        self.settled_ack = None;
    }

    /// The lowest `seq` and highest `next_seq` position of the segments; `None` when empty.
    pub(super) fn bounds(&mut self, positions: &SeqUnwrapper) -> Option<(i64, i64)> {
        if self.items.is_empty() {
            return None;
        }
        if let Some(bounds) = self.bounds {
            return Some(bounds);
        }
        let lo = self.items.iter().map(|u| positions.peek(u.seq)).min()?;
        let hi = self
            .items
            .iter()
            .map(|u| positions.peek(u.next_seq))
            .max()?;
        if positions.highest().is_some() {
            self.bounds = Some((lo, hi));
        }
        Some((lo, hi))
    }

    /// Applies an acknowledgement number: drops the segments it covers, trims the one it
    /// covers in part, and returns the segment it acknowledges exactly (the oldest such).
    pub(super) fn apply_ack(&mut self, ack: SeqNum) -> Option<Unacked> {
        if self.settled_ack == Some(ack) {
            return None;
        }
        let mut acked = None;
        let before = self.items.len();
        let mut trimmed = false;
        self.items.retain_mut(|u| {
            if ack == u.next_seq {
                acked.get_or_insert(*u);
                false
            } else if ack.is_after(u.seq) && ack.is_at_or_before(u.next_seq) {
                u.seq = ack;
                trimmed = true;
                true
            } else {
                u.next_seq.is_after(ack)
            }
        });
        if trimmed || self.items.len() != before {
            self.bounds = None;
        }
        self.settled_ack = Some(ack);
        acked
    }
}

/// Counters of one direction, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointStats {
    /// How many of this direction's packets carried each finding, indexed like
    /// [`Findings::all`].
    pub findings: [u32; 15],
    /// The largest bytes-in-flight value seen.
    pub max_bytes_in_flight: u32,
    /// Sequence space covered: from the base to the highest next sequence number, in 64-bit
    /// relative space (bytes sent plus SYN and FIN, retransmissions counted once).
    pub sequence_span: u64,
}

impl EndpointStats {
    /// How many packets carried `finding` (a single finding).
    pub fn count(&self, finding: Findings) -> u32 {
        Findings::all()
            .position(|(f, _)| f == finding)
            .and_then(|i| self.findings.get(i).copied())
            .unwrap_or(0)
    }

    pub(super) fn add(&mut self, found: Findings) {
        for (i, (f, _)) in Findings::all().enumerate() {
            if found.contains(f) {
                if let Some(c) = self.findings.get_mut(i) {
                    *c = c.saturating_add(1);
                }
            }
        }
    }
}

/// One direction of a connection. Sequence numbers here are raw; Wireshark's convention that a
/// raw 0 means "not seen yet" is kept (see [`is_known`]) because its verdicts depend on it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Zeek-like state of the sender.
    pub state: EndpointState,
    /// Counters for the report.
    pub stats: EndpointStats,
    /// Window scale in use for this direction's window fields.
    pub window_scale: WindowScale,
    /// Wireshark's `base_seq`: relative sequence numbers count from it.
    pub(super) base_seq: Option<SeqNum>,
    /// 64-bit positions of this direction's sequence numbers, from the base.
    pub(super) positions: SeqUnwrapper,
    pub(super) next_seq: SeqNum,
    pub(super) next_seq_time: Timestamp,
    pub(super) max_seq_to_be_acked: SeqNum,
    pub(super) last_ack: SeqNum,
    pub(super) last_ack_time: Timestamp,
    /// The last raw window field; `None` before any (Wireshark starts at `G_MAXUINT32`).
    pub(super) window: Option<u16>,
    pub(super) is_first_ack: bool,
    pub(super) dup_acks: DupAcks,
    pub(super) last_findings: Findings,
    /// Bytes in flight can be trusted (Wireshark's `valid_bif`).
    pub(super) valid_bif: bool,
    pub(super) unacked: UnackedSegments,
    /// SACK blocks of this direction's latest segment.
    pub(super) sack: [(SeqNum, SeqNum); 4],
    pub(super) sack_count: u8,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            state: EndpointState::Inactive,
            stats: EndpointStats::default(),
            window_scale: WindowScale::Unknown,
            base_seq: None,
            positions: SeqUnwrapper::new(),
            next_seq: SeqNum(0),
            next_seq_time: Timestamp(0),
            max_seq_to_be_acked: SeqNum(0),
            last_ack: SeqNum(0),
            last_ack_time: Timestamp(0),
            window: None,
            is_first_ack: false,
            dup_acks: DupAcks::Count(0),
            last_findings: Findings::NONE,
            valid_bif: true,
            unacked: UnackedSegments::default(),
            sack: [(SeqNum(0), SeqNum(0)); 4],
            sack_count: 0,
        }
    }
}

impl Endpoint {
    /// The raw sequence number relative 0 stands for, once known.
    pub fn base_seq(&self) -> Option<SeqNum> {
        self.base_seq
    }

    /// The next sequence number expected from this direction, once data was seen.
    pub fn next_seq(&self) -> Option<SeqNum> {
        Some(self.next_seq).filter(|s| is_known(*s))
    }

    /// The window field scaled as Wireshark scales a non-SYN segment's (`tcp.window_size`).
    pub fn scaled_window(&self, raw: u16) -> u32 {
        let shift = self.window_scale.shift().unwrap_or(0);
        u32::from(raw).wrapping_shl(u32::from(shift))
    }

    /// Segments sent and not yet acknowledged (bounded by [`MAX_UNACKED_SEGMENTS`]).
    pub fn unacked_segments(&self) -> usize {
        self.unacked.len()
    }
}

/// Wireshark keeps `nextseq`, `lastack` and `maxseqtobeacked` as raw numbers with 0 meaning
/// "not seen yet" (`packet-tcp.c` tests them for truth). A real 0 is therefore unknown too;
/// reproducing that keeps our verdicts equal to Wireshark's.
pub(super) fn is_known(seq: SeqNum) -> bool {
    seq.raw() != 0
}
