//! The per-packet heuristics, one function each. They read the state of the two directions
//! before the packet (`fwd`: the sender's, `rev`: the receiver's) and say whether the packet is
//! one of Wireshark's `tcp.analysis.*` cases. Each follows `tcp_analyze_sequence_number` in
//! Wireshark 4.0's `epan/dissectors/packet-tcp.c` (and its User's Guide, "TCP Analysis"),
//! rewritten here; where a rule reads odd, the comment says so and why it is kept.
//!
//! All comparisons of sequence numbers are serial (RFC 1982) through [`SeqNum`], as Wireshark's
//! `GT_SEQ`/`LT_SEQ`/`LE_SEQ` macros are.

use crate::capture::Timestamp;
use crate::dissect::TcpFlags;
use crate::seq::SeqNum;

use super::endpoint::{is_known, DupAcks, Endpoint};
use super::Findings;

/// A fast retransmission follows the duplicate ACKs that asked for it within this many
/// nanoseconds (Wireshark's 20 ms in `tcp_analyze_sequence_number`).
pub const FAST_RETRANSMISSION_WINDOW_NS: i64 = 20_000_000;

/// An earlier segment counts as out of order (rather than retransmitted) if it arrives within
/// the connection's handshake RTT of the highest segment; without a handshake RTT Wireshark
/// uses 3 ms.
pub const OUT_OF_ORDER_DEFAULT_NS: i64 = 3_000_000;

/// Fast retransmission needs at least this many duplicate ACKs seen (Wireshark asks for 2, not
/// RFC 5681's 3, because some duplicates may be missing from the capture).
pub const FAST_RETRANSMISSION_DUP_ACKS: u32 = 2;

/// The parts of a segment the heuristics look at.
#[derive(Debug, Clone, Copy)]
pub struct Seg {
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub len: u32,
    pub flags: TcpFlags,
    /// Raw window field.
    pub window: u16,
    pub ts: Timestamp,
}

impl Seg {
    /// SYN, FIN or RST: never a keep-alive, window update, duplicate ACK, ...
    fn has_syn_fin_rst(&self) -> bool {
        self.flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) != 0
    }

    /// SYN or FIN: occupies one sequence number.
    pub fn has_syn_fin(&self) -> bool {
        self.flags.0 & (TcpFlags::SYN | TcpFlags::FIN) != 0
    }

    /// Carries data or a SYN/FIN: something that the receiver acknowledges.
    pub fn occupies_sequence_space(&self) -> bool {
        self.len > 0 || self.has_syn_fin()
    }

    /// Repeats the sender's previous sequence and acknowledgement numbers with no data: the
    /// common part of window updates, duplicate ACKs and the keep-alive / probe answers.
    fn repeats_last_ack(&self, fwd: &Endpoint) -> bool {
        self.len == 0
            && self.seq == fwd.next_seq
            && self.ack == fwd.last_ack
            && !self.has_syn_fin_rst()
    }
}

/// Nanoseconds from `earlier` to `later`, or `None` when the clock went back (Wireshark
/// computes it unsigned, so a negative interval is never "within" anything).
fn elapsed_ns(earlier: Timestamp, later: Timestamp) -> Option<i64> {
    later.0.checked_sub(earlier.0).filter(|d| *d >= 0)
}

/// Zero window probe (RFC 9293 section 3.8.6.1): exactly one byte at the next expected
/// sequence number while the receiver advertises a zero window.
pub fn is_zero_window_probe(seg: &Seg, fwd: &Endpoint, rev: &Endpoint) -> bool {
    seg.len == 1 && seg.seq == fwd.next_seq && rev.window == Some(0)
}

/// Zero window: the sender advertises a receive window of 0 (SYN, FIN and RST excepted).
pub fn is_zero_window(seg: &Seg) -> bool {
    seg.window == 0 && !seg.has_syn_fin_rst()
}

/// Previous segment not captured: the segment starts beyond the next expected sequence number,
/// so something in between was not seen. Only once data was seen; RSTs are not checked.
pub fn is_lost_segment(seg: &Seg, fwd: &Endpoint) -> bool {
    is_known(fwd.next_seq) && seg.seq.is_after(fwd.next_seq) && !seg.flags.rst()
}

/// Keep-alive (RFC 9293 section 3.8.4 / RFC 1122 4.2.3.6): zero or one byte at one below the
/// next expected sequence number, without SYN, FIN or RST.
pub fn is_keep_alive(seg: &Seg, fwd: &Endpoint) -> bool {
    seg.len <= 1 && seg.seq == fwd.next_seq.wrapping_sub(1) && !seg.has_syn_fin_rst()
}

/// Window update: no data, same sequence and acknowledgement numbers as the sender's previous
/// segment, and a different, non-zero window.
pub fn is_window_update(seg: &Seg, fwd: &Endpoint) -> bool {
    seg.window != 0 && fwd.window != Some(seg.window) && seg.repeats_last_ack(fwd)
}

/// Window full: data that reaches exactly the right edge of the window the receiver last
/// advertised (its last ACK plus its scaled window). Only when the receiver's window scale is
/// known; the window of a SYN is never scaled, so until the receiver's first ACK after its SYN
/// no shift applies (Wireshark issue 14690).
pub fn is_window_full(seg: &Seg, rev: &Endpoint) -> bool {
    let Some(shift) = rev.window_scale.shift() else {
        return false;
    };
    let shift = if rev.is_first_ack { 0 } else { shift };
    // Wireshark starts the window at G_MAXUINT32 and shifts in 32 bits.
    let window = rev
        .window
        .map_or(u32::MAX, u32::from)
        .wrapping_shl(u32::from(shift));
    seg.len > 0
        && seg.seq.wrapping_add(seg.len) == rev.last_ack.wrapping_add(window)
        && !seg.has_syn_fin_rst()
}

/// Keep-alive ACK: repeats the sender's previous ACK and (non-zero) window right after the
/// other direction sent a keep-alive.
pub fn is_keep_alive_ack(seg: &Seg, fwd: &Endpoint, rev: &Endpoint) -> bool {
    seg.window != 0
        && fwd.window == Some(seg.window)
        && rev.last_findings.contains(Findings::KEEP_ALIVE)
        && seg.repeats_last_ack(fwd)
}

/// Zero window probe ACK: repeats the sender's previous ACK and its zero window right after
/// the other direction sent a zero window probe.
pub fn is_zero_window_probe_ack(seg: &Seg, fwd: &Endpoint, rev: &Endpoint) -> bool {
    seg.window == 0
        && fwd.window == Some(0)
        && rev.last_findings.contains(Findings::ZERO_WINDOW_PROBE)
        && seg.repeats_last_ack(fwd)
}

/// Duplicate ACK (RFC 5681 section 2's definition, as Wireshark checks it): no data, same
/// sequence number, acknowledgement number and non-zero window as the sender's previous
/// segment.
pub fn is_duplicate_ack(seg: &Seg, fwd: &Endpoint) -> bool {
    seg.window != 0 && fwd.window == Some(seg.window) && seg.repeats_last_ack(fwd)
}

/// ACKed unseen segment: the ACK is beyond anything the other direction was seen to send in
/// one piece (its "max seq to be acked"), so the capture missed some of its segments. Only
/// once the other direction sent something, and only with the ACK flag.
///
/// Reported once per gap: if the other direction sent more since (its next sequence number is
/// past the bound), the bound moves up to it and this is reported; otherwise it is reported
/// only if the other direction's duplicate-ACK count is at zero, and that count is then set
/// aside ([`DupAcks::AfterAckedUnseen`]) until its ACK changes. (This is what tshark 4.0.17
/// does on the corpus; newer Wireshark sources compare the bound and the next sequence number
/// the other way round.)
pub fn acks_unseen_segment(seg: &Seg, rev: &mut Endpoint) -> bool {
    if !(is_known(rev.max_seq_to_be_acked)
        && seg.ack.is_after(rev.max_seq_to_be_acked)
        && seg.flags.ack())
    {
        return false;
    }
    if rev.next_seq.is_after(rev.max_seq_to_be_acked) {
        rev.max_seq_to_be_acked = rev.next_seq;
        return true;
    }
    let first = rev.dup_acks == DupAcks::Count(0);
    rev.dup_acks = DupAcks::AfterAckedUnseen;
    first
}

/// The number of a duplicate ACK in its run (`tcp.analysis.duplicate_ack_num`): one more than
/// the last, or the first after an ACKed unseen segment.
pub fn next_dup_ack_num(dup_acks: DupAcks) -> u32 {
    match dup_acks {
        DupAcks::Count(n) => n.saturating_add(1),
        DupAcks::AfterAckedUnseen => 1,
    }
}

/// The segment does not advance the sequence number (it starts before the next expected one),
/// so it is some kind of retransmission or out of order. A segment of more than one byte that
/// starts one below the next expected number is taken as new data after a zero window probe.
pub fn does_not_advance(seg: &Seg, fwd: &Endpoint) -> bool {
    let probe_then_data = seg.len > 1 && fwd.next_seq.wrapping_sub(1) == seg.seq;
    is_known(fwd.next_seq) && seg.seq.is_before(fwd.next_seq) && !probe_then_data
}

/// Spurious retransmission: data the receiver had already acknowledged (it ends at or before
/// the receiver's last ACK).
pub fn is_spurious_retransmission(seg: &Seg, rev: &Endpoint) -> bool {
    seg.len > 0
        && is_known(rev.last_ack)
        && seg.seq.wrapping_add(seg.len).is_at_or_before(rev.last_ack)
}

/// Fast retransmission (RFC 5681 section 3.2): resends the segment the receiver's duplicate
/// ACKs ask for ([`FAST_RETRANSMISSION_DUP_ACKS`] or more), within
/// [`FAST_RETRANSMISSION_WINDOW_NS`] of the last of them.
pub fn is_fast_retransmission(seg: &Seg, rev: &Endpoint, not_advanced: bool) -> bool {
    let enough = match rev.dup_acks {
        DupAcks::Count(n) => n >= FAST_RETRANSMISSION_DUP_ACKS,
        DupAcks::AfterAckedUnseen => true,
    };
    not_advanced
        && enough
        && rev.last_ack == seg.seq
        && elapsed_ns(rev.last_ack_time, seg.ts).is_some_and(|t| t < FAST_RETRANSMISSION_WINDOW_NS)
}

/// Out of order: an earlier segment that arrives shortly (within the handshake RTT, or
/// [`OUT_OF_ORDER_DEFAULT_NS`]) after the segment with the highest sequence number, and does
/// not end exactly where that one ended (which would make it a plain retransmission; a SYN or
/// FIN counts as one more sequence number).
pub fn is_out_of_order(
    seg: &Seg,
    fwd: &Endpoint,
    handshake_rtt_ns: Option<i64>,
    not_advanced: bool,
) -> bool {
    let threshold = handshake_rtt_ns
        .filter(|t| *t != 0)
        .unwrap_or(OUT_OF_ORDER_DEFAULT_NS);
    let end = seg
        .seq
        .wrapping_add(seg.len)
        .wrapping_add(u32::from(seg.has_syn_fin()));
    not_advanced
        && elapsed_ns(fwd.next_seq_time, seg.ts).is_some_and(|t| t < threshold)
        && fwd.next_seq != end
}
