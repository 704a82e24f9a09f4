//! TCP sequence analysis: per packet, what Wireshark's `tcp.analysis.*` fields say
//! (retransmissions, lost segments, duplicate ACKs, zero windows, ...), the ACK RTT and bytes
//! in flight; per connection, the handshake RTT, how it ended and per-direction counters.
//!
//! CONTRACT: `TcpAnalyzer::new()`, then for every TCP segment in file order, after the flow
//! table assigned it a stream, `observe(&Observation)`; then `records()` (one compact
//! [`PacketRecord`] per TCP packet, nothing for other packets) and `connections()` (indexed by
//! stream). It never panics on any input.
//!
//! # How it matches Wireshark
//!
//! The rules are those of `tcp_analyze_sequence_number` and the code around it in
//! `dissect_tcp` (Wireshark 4.0, `epan/dissectors/packet-tcp.c`), with its default preferences:
//! relative sequence numbers, no default window scaling, fast retransmission tested before
//! out-of-order. Each heuristic is a function in [`heuristics`] with its rule in prose. The
//! state they read is kept per connection and per direction in an [`Endpoint`] (which also
//! carries a Zeek-like [`EndpointState`], including "partial" for a direction first seen
//! without its SYN). Sequence numbers of a direction are also unwrapped into 64-bit relative
//! space ([`crate::seq::SeqUnwrapper`]) for the quantities that must not wrap (bytes in flight,
//! sequence span).
//!
//! Window scaling (RFC 7323) is applied as Wireshark applies it: from the options of the
//! handshake; [`WindowScale::Unknown`] without a handshake (Wireshark's -1: the field is shown
//! unscaled), [`WindowScale::NotUsed`] when the handshake shows it is off (-2).
//!
//! Where rstscope deliberately differs, the function's documentation says so; the corpus test
//! `tests/analysis_corpus.rs` lists every remaining disagreement with tshark 4.0.17.

mod endpoint;
pub mod findings;
pub mod heuristics;
pub mod record;
#[cfg(test)]
mod tests;
pub mod zeek;

pub use endpoint::{
    DupAcks, Endpoint, EndpointState, EndpointStats, WindowScale, MAX_UNACKED_SEGMENTS,
    MAX_WINDOW_SHIFT,
};
pub use findings::Findings;
pub use record::{AckOf, PacketRecord, RecordFields, Records};

use std::net::SocketAddr;

use crate::capture::{PacketIdx, Timestamp};
use crate::dissect::{TcpFlags, TcpSegment};
use crate::flow::{Connection, Direction, FlowKey, Side, StreamId};
use crate::seq::SeqNum;

use endpoint::{is_known, Unacked};
use heuristics::Seg;

/// Bytes in flight are only reported below this (Wireshark's sanity bound of 2,000,000,000 in
/// `tcp_analyze_sequence_number`: larger values come from confused state, not real traffic).
pub const MAX_BYTES_IN_FLIGHT: u32 = 2_000_000_000;

/// How a connection ended, first event wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// A FIN (without RST) was the first closing segment.
    Fin,
    /// A RST was the first closing segment.
    Rst,
}

/// The first FIN or RST of a connection and who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub kind: EndKind,
    /// The sender's side of the flow key (map it with [`ConnectionAnalysis::direction`]).
    pub by: Side,
    pub index: PacketIdx,
}

/// The analysis state of one connection.
#[derive(Debug, Clone)]
pub struct ConnectionAnalysis {
    /// The endpoint that is [`Side::Lo`] of the flow key.
    lo: SocketAddr,
    /// Timestamp of the connection's first packet: record times are offsets from it.
    pub first_ts: Timestamp,
    /// Per side of the flow key: `[Lo, Hi]`.
    endpoints: [Endpoint; 2],
    /// Time of the most recent pure SYN (Wireshark's `ts_mru_syn`).
    last_syn_ts: Option<Timestamp>,
    /// Wireshark's `tcp.analysis.initial_rtt`: from the most recent SYN to the first pure ACK
    /// after it, in nanoseconds.
    pub handshake_rtt_ns: Option<i64>,
    /// The first FIN or RST.
    pub ended: Option<Ending>,
}

impl ConnectionAnalysis {
    fn new(lo: SocketAddr, first_ts: Timestamp) -> Self {
        ConnectionAnalysis {
            lo,
            first_ts,
            endpoints: [Endpoint::default(), Endpoint::default()],
            last_syn_ts: None,
            handshake_rtt_ns: None,
            ended: None,
        }
    }

    /// The state of the direction sent by `side`.
    pub fn endpoint(&self, side: Side) -> &Endpoint {
        match side {
            Side::Lo => &self.endpoints[0],
            Side::Hi => &self.endpoints[1],
        }
    }

    /// The state of the direction `direction` of `conn` (the flow table's final client/server).
    pub fn endpoint_for(&self, conn: &Connection, direction: Direction) -> &Endpoint {
        self.endpoint(self.side(conn, direction))
    }

    /// Which side of the flow key sends in `direction`.
    pub fn side(&self, conn: &Connection, direction: Direction) -> Side {
        let sender = match direction {
            Direction::ToServer => conn.client,
            Direction::ToClient => conn.server,
        };
        if sender == self.lo {
            Side::Lo
        } else {
            Side::Hi
        }
    }

    /// The direction of what `side` sends, with the flow table's final client/server.
    pub fn direction(&self, conn: &Connection, side: Side) -> Direction {
        if self.side(conn, Direction::ToServer) == side {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// The sender's and the receiver's state.
    fn split(&mut self, side: Side) -> (&mut Endpoint, &mut Endpoint) {
        let [lo, hi] = &mut self.endpoints;
        match side {
            Side::Lo => (lo, hi),
            Side::Hi => (hi, lo),
        }
    }
}

/// One TCP segment to analyse, with where the flow table put it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub index: PacketIdx,
    pub ts: Timestamp,
    pub stream: StreamId,
    /// The flow table opened a new stream for this segment although the same endpoints already
    /// had one (a SYN with a new ISN: port reuse).
    pub reused_ports: bool,
    pub segment: &'a TcpSegment,
}

/// What the analysis says of one packet (also kept, compactly, in its [`PacketRecord`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketAnalysis {
    pub findings: Findings,
    /// `tcp.analysis.duplicate_ack_num`, for duplicate ACKs.
    pub dup_ack_num: Option<u32>,
    /// The segment this packet acknowledges (`tcp.analysis.acks_frame`) and the ACK RTT.
    pub acked: Option<AckOf>,
    /// `tcp.analysis.bytes_in_flight`.
    pub bytes_in_flight: Option<u32>,
}

/// The analyzer of a whole capture. See the module documentation.
#[derive(Debug, Default)]
pub struct TcpAnalyzer {
    connections: Vec<ConnectionAnalysis>,
    records: Records,
}

impl TcpAnalyzer {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes room for the records of `packets` more TCP packets in `connections` more
    /// connections.
    pub fn reserve(&mut self, packets: usize, connections: usize) {
        self.records.reserve(packets);
        self.connections.reserve(connections);
    }

    /// The capture has been read: gives back the spare capacity of what is kept.
    pub fn shrink_to_fit(&mut self) {
        self.connections.shrink_to_fit();
        self.records.shrink_to_fit();
    }

    /// Every connection's analysis, indexed by stream number.
    pub fn connections(&self) -> &[ConnectionAnalysis] {
        &self.connections
    }

    /// The analysis of one connection.
    pub fn connection(&self, stream: StreamId) -> Option<&ConnectionAnalysis> {
        self.connections.get(stream.index())
    }

    /// Every TCP packet's record, in file order.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Analyses the next TCP segment and records it; returns what was found.
    pub fn observe(&mut self, obs: &Observation<'_>) -> PacketAnalysis {
        let seg = obs.segment;
        let (key, side) = FlowKey::of(seg);
        let slot = obs.stream.index();
        // Streams are numbered densely in order of appearance; a gap (which the flow table
        // never leaves) is filled with placeholder states rather than trusted blindly.
        while self.connections.len() <= slot {
            let (addr, port) = key.lo();
            self.connections
                .push(ConnectionAnalysis::new(SocketAddr::new(addr, port), obs.ts));
        }
        let record_pos = self.records.next_position();
        let Some(conn) = self.connections.get_mut(slot) else {
            return PacketAnalysis::default();
        };
        let s = Seg {
            seq: seg.seq,
            ack: seg.ack,
            len: seg.payload_len,
            flags: seg.flags,
            window: seg.window,
            ts: obs.ts,
        };
        let mut findings = Findings::NONE;
        if obs.reused_ports {
            findings |= Findings::REUSED_PORTS;
        }
        before_analysis(conn, side, &s, &mut findings);
        let result = analyse(conn, side, &s, findings, record_pos);
        let (fwd, rev) = conn.split(side);
        let window_scaled = !s.flags.syn() && matches!(fwd.window_scale, WindowScale::Shift(_));
        let seq_rel = s.seq.forward_from(fwd.base_seq.unwrap_or(s.seq));
        let ack_rel = if s.flags.ack() {
            s.ack.forward_from(rev.base_seq.unwrap_or(s.ack))
        } else {
            0
        };
        after_analysis(conn, side, seg, obs);
        let record = PacketRecord::new(RecordFields {
            index: obs.index,
            stream: obs.stream,
            seq: seq_rel,
            ack: ack_rel,
            len: s.len,
            time_offset_ns: obs.ts.0.saturating_sub(conn.first_ts.0),
            window: s.window,
            flags: s.flags,
            side,
            window_scaled,
            findings: result.findings,
        });
        self.records.push(
            record,
            result.dup_ack_num,
            result.acked,
            result.bytes_in_flight,
        );
        result
    }
}

/// What `dissect_tcp` does before the sequence analysis proper: a SYN+ACK with a sequence
/// number other than its direction's base starts over from it (port reuse seen from the server,
/// Wireshark issue 16944); a retransmitted SYN (same ISN) takes the next expected sequence
/// number back to the last contiguous one, since a RST may have carried the ACK's number as its
/// sequence number (RFC 9293 section 3.10.7.1; Wireshark issue 17616).
fn before_analysis(conn: &mut ConnectionAnalysis, side: Side, s: &Seg, findings: &mut Findings) {
    let (fwd, _) = conn.split(side);
    let syn_ack = s.flags.0 & (TcpFlags::SYN | TcpFlags::ACK);
    match (syn_ack, fwd.base_seq) {
        (f, Some(base)) if f == TcpFlags::SYN | TcpFlags::ACK && base != s.seq => {
            fwd.base_seq = Some(s.seq);
            fwd.positions = crate::seq::SeqUnwrapper::with_base(s.seq);
            *findings |= Findings::REUSED_PORTS;
        }
        (f, Some(base)) if f == TcpFlags::SYN && base == s.seq => {
            fwd.next_seq = fwd.max_seq_to_be_acked;
        }
        _ => {}
    }
}

/// The sequence analysis of one segment (Wireshark's `tcp_analyze_sequence_number`): findings,
/// then the state updates, the segments it acknowledges and the bytes in flight.
fn analyse(
    conn: &mut ConnectionAnalysis,
    side: Side,
    s: &Seg,
    mut findings: Findings,
    record_pos: u32,
) -> PacketAnalysis {
    let handshake_rtt = conn.handshake_rtt_ns;
    let (fwd, rev) = conn.split(side);
    learn_base_seq(fwd, rev, s);
    if s.flags.ack() {
        rev.valid_bif = true;
    }

    let mut dup_ack_num = None;
    let probe = heuristics::is_zero_window_probe(s, fwd, rev);
    if probe {
        findings |= Findings::ZERO_WINDOW_PROBE;
    } else {
        if heuristics::is_zero_window(s) {
            findings |= Findings::ZERO_WINDOW;
        }
        if heuristics::is_lost_segment(s, fwd) {
            findings |= Findings::LOST_SEGMENT;
            // Bytes in flight are unknown until the other side ACKs again.
            fwd.valid_bif = false;
        }
        if heuristics::is_keep_alive(s, fwd) {
            findings |= Findings::KEEP_ALIVE;
        }
        if heuristics::is_window_update(s, fwd) {
            findings |= Findings::WINDOW_UPDATE;
        }
        if heuristics::is_window_full(s, rev) {
            findings |= Findings::WINDOW_FULL;
        }
        // The answers to a keep-alive or a probe are not duplicate ACKs.
        if heuristics::is_keep_alive_ack(s, fwd, rev) {
            findings |= Findings::KEEP_ALIVE_ACK;
        } else if heuristics::is_zero_window_probe_ack(s, fwd, rev) {
            findings |= Findings::ZERO_WINDOW_PROBE_ACK;
        } else if heuristics::is_duplicate_ack(s, fwd) {
            let n = heuristics::next_dup_ack_num(fwd.dup_acks);
            fwd.dup_acks = DupAcks::Count(n);
            findings |= Findings::DUPLICATE_ACK;
            dup_ack_num = Some(n);
        }
    }
    if s.ack != fwd.last_ack {
        fwd.dup_acks = DupAcks::Count(0);
    }
    if heuristics::acks_unseen_segment(s, rev) {
        findings |= Findings::ACK_LOST_SEGMENT;
    }
    findings |= retransmission_kind(s, fwd, rev, handshake_rtt, findings);

    advance(fwd, s, probe, findings, record_pos);
    let acked = take_acked(rev, s.ack, s.ts);
    let bytes_in_flight = bytes_in_flight(fwd, rev, s);
    if let Some(b) = bytes_in_flight {
        fwd.stats.max_bytes_in_flight = fwd.stats.max_bytes_in_flight.max(b);
    }
    fwd.stats.add(findings);
    PacketAnalysis {
        findings,
        dup_ack_num,
        acked,
        bytes_in_flight,
    }
}

/// Wireshark's base sequence numbers: the first segment of a direction sets its base (the ISN
/// of a SYN, else `seq - 1`, so that relative numbers start at 1 mid-stream), and the first
/// segment with an ACK sets the other direction's to `ack - 1` if still unknown.
fn learn_base_seq(fwd: &mut Endpoint, rev: &mut Endpoint, s: &Seg) {
    if fwd.base_seq.is_none() {
        let base = if s.flags.syn() {
            s.seq
        } else {
            s.seq.wrapping_sub(1)
        };
        fwd.base_seq = Some(base);
        fwd.positions = crate::seq::SeqUnwrapper::with_base(base);
    }
    if rev.base_seq.is_none() && s.flags.ack() {
        let base = s.ack.wrapping_sub(1);
        rev.base_seq = Some(base);
        rev.positions = crate::seq::SeqUnwrapper::with_base(base);
    }
}

/// Which of spurious retransmission, fast retransmission, out-of-order or plain retransmission
/// a segment that occupies sequence space is, in Wireshark 4.0's order of precedence; none for a
/// keep-alive or a segment that advances the sequence number. The three kinds of
/// retransmission also carry [`Findings::RETRANSMISSION`], as in Wireshark's filter fields.
fn retransmission_kind(
    s: &Seg,
    fwd: &Endpoint,
    rev: &Endpoint,
    handshake_rtt_ns: Option<i64>,
    found: Findings,
) -> Findings {
    if !s.occupies_sequence_space() || found.contains(Findings::KEEP_ALIVE) {
        return Findings::NONE;
    }
    let not_advanced = heuristics::does_not_advance(s, fwd);
    if heuristics::is_spurious_retransmission(s, rev) {
        Findings::SPURIOUS_RETRANSMISSION | Findings::RETRANSMISSION
    } else if heuristics::is_fast_retransmission(s, rev, not_advanced) {
        Findings::FAST_RETRANSMISSION | Findings::RETRANSMISSION
    } else if heuristics::is_out_of_order(s, fwd, handshake_rtt_ns, not_advanced) {
        Findings::OUT_OF_ORDER
    } else if not_advanced {
        Findings::RETRANSMISSION
    } else {
        Findings::NONE
    }
}

/// Updates the sender's state after the heuristics: remembers the segment until it is
/// acknowledged (up to [`MAX_UNACKED_SEGMENTS`]), moves the next expected sequence number and
/// the highest contiguous one forward (not for a zero window probe, which does not advance the
/// stream), and keeps the window and ACK for the next segment's checks.
fn advance(fwd: &mut Endpoint, s: &Seg, probe: bool, findings: Findings, record_pos: u32) {
    let mut next = s.seq.wrapping_add(s.len);
    if s.occupies_sequence_space() && fwd.unacked.len() < MAX_UNACKED_SEGMENTS {
        // Wireshark adds the SYN/FIN's sequence number only for segments it remembers.
        next = next.wrapping_add(u32::from(s.has_syn_fin()));
        fwd.unacked.push(
            Unacked {
                record: record_pos,
                ts: s.ts,
                seq: s.seq,
                next_seq: next,
            },
            &fwd.positions,
        );
    }
    if !probe && (next.is_after(fwd.next_seq) || !is_known(fwd.next_seq)) {
        fwd.next_seq = next;
        fwd.next_seq_time = s.ts;
    }
    if !probe && (s.seq == fwd.max_seq_to_be_acked || !is_known(fwd.max_seq_to_be_acked)) {
        fwd.max_seq_to_be_acked = fwd.next_seq;
    }
    fwd.window = Some(s.window);
    fwd.last_ack = s.ack;
    fwd.last_ack_time = s.ts;
    fwd.last_findings = findings;
    let span = fwd.positions.unwrap(fwd.next_seq);
    fwd.stats.sequence_span = fwd
        .stats
        .sequence_span
        .max(u64::try_from(span).unwrap_or(0));
}

/// Removes from the receiver's unacknowledged segments those this ACK covers, trims the one it
/// covers in part, and returns the segment it acknowledges exactly (the oldest such, for
/// `tcp.analysis.acks_frame` and the ACK RTT). As in Wireshark, the ACK number is used whether
/// or not the ACK flag is set.
fn take_acked(rev: &mut Endpoint, ack: SeqNum, now: Timestamp) -> Option<AckOf> {
    rev.unacked.apply_ack(ack).map(|u| AckOf {
        record: u.record,
        rtt_ns: now.0.saturating_sub(u.ts.0),
    })
}

/// Bytes in flight after a data segment (Wireshark's default, payload-based method): the span
/// from the lowest to the highest unacknowledged byte of the sender, less what the receiver's
/// latest SACK blocks cover, and less the SYN or FIN's virtual byte. Computed in the 64-bit
/// relative space so it cannot wrap; `None` when not trustworthy (after a lost segment, before
/// an ACK) or out of bounds.
fn bytes_in_flight(fwd: &mut Endpoint, rev: &Endpoint, s: &Seg) -> Option<u32> {
    if s.len == 0 || fwd.unacked.is_empty() || !fwd.valid_bif {
        return None;
    }
    let (first, last) = fwd.unacked.bounds(&fwd.positions)?;
    let sacked: i64 = rev
        .sack
        .iter()
        .take(usize::from(rev.sack_count))
        .map(|(left, right)| i64::from(right.forward_from(*left)))
        .sum();
    let in_flight = last - first - sacked;
    let in_flight = u32::try_from(in_flight)
        .ok()
        .filter(|b| *b > 0 && *b < MAX_BYTES_IN_FLIGHT)?;
    Some(in_flight - u32::from(s.has_syn_fin()))
}

/// What `dissect_tcp` does after the analysis: SYN and handshake bookkeeping (the handshake RTT
/// from the latest SYN to the first pure ACK, the window scale read off the options and checked
/// against the other direction's), SACK blocks for the next bytes-in-flight computation, the
/// Zeek-like endpoint state, and how the connection ended.
fn after_analysis(conn: &mut ConnectionAnalysis, side: Side, seg: &TcpSegment, obs: &Observation) {
    let flags = seg.flags;
    let pure = flags.0 & (TcpFlags::SYN | TcpFlags::ACK);
    if flags.syn() && !flags.ack() {
        conn.last_syn_ts = Some(obs.ts);
    }
    if pure == TcpFlags::ACK && conn.handshake_rtt_ns.is_none() {
        if let Some(syn) = conn.last_syn_ts {
            let rtt = obs.ts.0.saturating_sub(syn.0);
            // Wireshark keeps a zero RTT as "not measured" and tries again.
            conn.handshake_rtt_ns = (rtt != 0).then_some(rtt);
        }
    }
    if conn.ended.is_none() && (flags.fin() || flags.rst()) {
        conn.ended = Some(Ending {
            kind: if flags.rst() {
                EndKind::Rst
            } else {
                EndKind::Fin
            },
            by: side,
            index: obs.index,
        });
    }
    let (fwd, rev) = conn.split(side);
    if flags.syn() {
        fwd.is_first_ack = true;
    } else if pure == TcpFlags::ACK {
        fwd.is_first_ack = false;
    }
    fwd.sack_count = seg.options.sack_count.min(4);
    fwd.sack = seg.options.sack;
    if let Some(ws) = seg.options.window_scale {
        fwd.window_scale = WindowScale::Shift(ws.min(MAX_WINDOW_SHIFT));
    }
    if flags.syn() {
        check_window_scaling(fwd, rev, flags.ack());
    }
    fwd.state = fwd.state.after_sending(seg);
}

/// RFC 7323 section 2.2: scaling is in use only if both SYN and SYN+ACK carry the option. After
/// a SYN without it, neither direction scales; after a SYN+ACK without it, neither does; a
/// SYN+ACK with it answering a SYN without it does not scale either (Wireshark's
/// `verify_tcp_window_scaling`). A SYN+ACK whose SYN was not seen keeps its own shift and
/// leaves the other direction unknown.
fn check_window_scaling(fwd: &mut Endpoint, rev: &mut Endpoint, is_syn_ack: bool) {
    if fwd.window_scale == WindowScale::Unknown {
        fwd.window_scale = WindowScale::NotUsed;
        rev.window_scale = WindowScale::NotUsed;
    } else if is_syn_ack && rev.window_scale == WindowScale::NotUsed {
        fwd.window_scale = WindowScale::NotUsed;
    }
}
