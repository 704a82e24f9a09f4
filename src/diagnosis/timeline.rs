//! One pass over the per-packet records: per connection, what had happened before each packet
//! (handshake, FINs, the last ACK and largest window of each side, unacknowledged
//! retransmissions, zero windows, the last packets and their times). The rules read a copy of
//! this state as it was just before a RST.
//!
//! Sequence and acknowledgement numbers here are the records' relative numbers, which are
//! still 32-bit serial numbers (relative to a base, modulo 2^32): they are compared as
//! [`SeqNum`]s, with wrapping.

use crate::analysis::{ConnectionAnalysis, Findings, PacketRecord, WindowScale, MAX_WINDOW_SHIFT};
use crate::capture::{PacketIdx, Timestamp};
use crate::dissect::TcpFlags;
use crate::flow::{Connection, Direction, Side};
use crate::seq::SeqNum;

/// How many SYNs of an unanswered connection attempt are kept for its retry schedule.
pub const MAX_SYN_ATTEMPTS: usize = 8;

/// Client or server: the end of a connection a packet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

impl Role {
    /// The other end.
    pub fn other(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// `[client, server]` array position.
    pub fn index(self) -> usize {
        match self {
            Role::Client => 0,
            Role::Server => 1,
        }
    }

    /// The lowercase name used in sentences.
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

/// Where and when a packet was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub index: PacketIdx,
    pub ts: Timestamp,
}

impl At {
    /// Wireshark's 1-based frame number.
    pub fn frame(self) -> u64 {
        self.index.frame_number()
    }
}

/// One packet, as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pkt {
    pub at: At,
    pub role: Role,
    pub flags: TcpFlags,
    /// Relative sequence number (serial).
    pub seq: SeqNum,
    /// Relative acknowledgement number (serial); meaningful only with ACK.
    pub ack: SeqNum,
    pub len: u32,
    /// The raw window field.
    pub window_raw: u16,
    /// The largest window the field can stand for: scaled by the negotiated shift, or by the
    /// largest legal shift when the handshake was not seen.
    pub window_max: u64,
    pub findings: Findings,
}

impl Pkt {
    /// The sequence number after this segment (payload, plus one for SYN and FIN).
    pub fn end(&self) -> SeqNum {
        let syn_fin = u32::from(self.flags.syn()) + u32::from(self.flags.fin());
        self.seq.wrapping_add(self.len).wrapping_add(syn_fin)
    }

    /// Whether the segment occupies sequence space.
    pub fn occupies_sequence_space(&self) -> bool {
        self.len > 0 || self.flags.syn() || self.flags.fin()
    }
}

/// A side's data that was retransmitted and not acknowledged (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retrans {
    pub first: At,
    pub last: At,
    /// Retransmissions since the peer last acknowledged new data.
    pub count: u32,
    /// The end of the highest retransmitted segment.
    pub end: SeqNum,
}

/// The acknowledgement a side last advanced to, and the packet that carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckAt {
    pub ack: SeqNum,
    pub at: At,
}

/// What had happened in one connection so far. Arrays are indexed by [`Role::index`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Track {
    /// Packets so far, RSTs included.
    pub packets: u32,
    /// The first pure SYN.
    pub syn: Option<At>,
    /// Pure SYNs sent (retransmissions included).
    pub syns: u32,
    /// Offsets of the first [`MAX_SYN_ATTEMPTS`] SYNs from the first one, in nanoseconds.
    pub syn_offsets: [i64; MAX_SYN_ATTEMPTS],
    /// The first SYN+ACK.
    pub syn_ack: Option<At>,
    /// A non-SYN packet with ACK was seen: the connection is open (or was seen mid-stream).
    pub established: bool,
    /// Each side's first FIN.
    pub fin: [Option<At>; 2],
    /// How long the connection had been quiet when each side sent its first FIN (its idle
    /// timer, when it closes idle connections), in nanoseconds.
    pub fin_after_quiet_ns: [Option<i64>; 2],
    /// Each side's first RST.
    pub rst: [Option<At>; 2],
    /// The last two non-RST packets, either side, newest first.
    pub recent: [Option<Pkt>; 2],
    /// Each side's last non-RST packet.
    pub last_from: [Option<At>; 2],
    /// The highest acknowledgement each side sent (in the other side's sequence space).
    pub ack_from: [Option<AckAt>; 2],
    /// The largest window each side advertised (upper bound, see [`Pkt::window_max`]).
    pub max_window: [u64; 2],
    /// The highest sequence number each side reached.
    pub seq_end: [Option<SeqNum>; 2],
    /// Each side's first data segment after the other side's FIN.
    pub data_after_peer_fin: [Option<At>; 2],
    /// The start of the zero window each side is advertising now, if it is.
    pub zero_window: [Option<At>; 2],
    /// Each side's retransmitted data not acknowledged since.
    pub retrans: [Option<Retrans>; 2],
}

impl Track {
    /// Takes one packet into account.
    pub fn push(&mut self, p: &Pkt) {
        let me = p.role.index();
        let peer = p.role.other().index();
        let first_fin = p.flags.fin() && self.fin[me].is_none();
        self.push_outline(p);
        if p.flags.rst() {
            return;
        }
        if first_fin {
            self.fin_after_quiet_ns[me] =
                self.recent[0].map(|r| p.at.ts.0.saturating_sub(r.at.ts.0));
        }
        if p.len > 0 && self.fin[peer].is_some() && self.data_after_peer_fin[me].is_none() {
            self.data_after_peer_fin[me] = Some(p.at);
        }
        self.recent = [Some(*p), self.recent[0]];
        self.note_ack(p);
        self.max_window[me] = self.max_window[me].max(p.window_max);
        self.seq_end[me] = Some(self.seq_end[me].map_or(p.end(), |e| e.max(p.end())));
        self.note_zero_window(p);
        self.note_retransmission(p);
    }

    /// Takes one packet into account as far as the connection's outcome needs it (packets,
    /// the handshake, the first FINs, each side's last packet), which is all that is read of
    /// a connection without RST: no rule looks at it. [`Track::push`] starts with it.
    pub fn push_outline(&mut self, p: &Pkt) {
        self.packets = self.packets.saturating_add(1);
        let me = p.role.index();
        if p.flags.rst() {
            self.rst[me].get_or_insert(p.at);
            return;
        }
        self.note_handshake(p);
        if p.flags.fin() {
            self.fin[me].get_or_insert(p.at);
        }
        self.last_from[me] = Some(p.at);
    }

    fn note_handshake(&mut self, p: &Pkt) {
        let syn_ack = p.flags.0 & (TcpFlags::SYN | TcpFlags::ACK);
        if syn_ack == TcpFlags::SYN {
            let first = *self.syn.get_or_insert(p.at);
            if let Some(slot) = self.syn_offsets.get_mut(self.syns as usize) {
                *slot = p.at.ts.0.saturating_sub(first.ts.0);
            }
            self.syns = self.syns.saturating_add(1);
        } else if syn_ack == TcpFlags::SYN | TcpFlags::ACK {
            self.syn_ack.get_or_insert(p.at);
        } else if p.flags.ack() {
            self.established = true;
        }
    }

    fn note_ack(&mut self, p: &Pkt) {
        if !p.flags.ack() {
            return;
        }
        let me = p.role.index();
        let advanced = self.ack_from[me].is_none_or(|a| p.ack.is_after(a.ack));
        if advanced {
            self.ack_from[me] = Some(AckAt {
                ack: p.ack,
                at: p.at,
            });
        }
        let peer = p.role.other().index();
        if self.retrans[peer].is_some_and(|r| p.ack.is_at_or_after(r.end)) {
            self.retrans[peer] = None;
        }
    }

    fn note_zero_window(&mut self, p: &Pkt) {
        if p.flags.syn() {
            return;
        }
        let me = p.role.index();
        if p.window_raw == 0 {
            self.zero_window[me].get_or_insert(p.at);
        } else {
            self.zero_window[me] = None;
        }
    }

    fn note_retransmission(&mut self, p: &Pkt) {
        let probe = Findings::ZERO_WINDOW_PROBE;
        let keep_alive = Findings::KEEP_ALIVE;
        if !p.findings.contains(Findings::RETRANSMISSION)
            || p.findings.contains(probe)
            || p.findings.contains(keep_alive)
            || !p.occupies_sequence_space()
            || p.flags.syn()
        {
            return;
        }
        let me = p.role.index();
        let acked =
            self.ack_from[p.role.other().index()].is_some_and(|a| a.ack.is_at_or_after(p.end()));
        if acked {
            return;
        }
        self.retrans[me] = Some(match self.retrans[me] {
            Some(r) => Retrans {
                last: p.at,
                count: r.count.saturating_add(1),
                end: r.end.max(p.end()),
                ..r
            },
            None => Retrans {
                first: p.at,
                last: p.at,
                count: 1,
                end: p.end(),
            },
        });
    }
}

/// What turning a connection's records into [`Pkt`]s needs of it: a few bytes, gathered once
/// per connection (the full state is spread over several structures and cache lines, which
/// the pass over millions of records would otherwise visit on every one).
#[derive(Debug, Clone, Copy)]
pub struct PacketView {
    first_ts: Timestamp,
    /// The role of the flow key's low side (the flow table's final client/server).
    lo_role: Role,
    /// Each side's window shift, `[Lo, Hi]`, for segments other than SYNs.
    shift: [u8; 2],
}

impl PacketView {
    /// The view of one connection, with its final client and server.
    pub fn of(conn: &Connection, analysis: &ConnectionAnalysis) -> PacketView {
        let lo_role = match analysis.direction(conn, Side::Lo) {
            Direction::ToServer => Role::Client,
            Direction::ToClient => Role::Server,
        };
        let shift = |side| match analysis.endpoint(side).window_scale {
            WindowScale::Shift(s) => s.min(MAX_WINDOW_SHIFT),
            WindowScale::NotUsed => 0,
            WindowScale::Unknown => MAX_WINDOW_SHIFT,
        };
        PacketView {
            first_ts: analysis.first_ts,
            lo_role,
            shift: [shift(Side::Lo), shift(Side::Hi)],
        }
    }

    /// Converts a record of this connection into a [`Pkt`].
    pub fn packet(&self, record: &PacketRecord) -> Pkt {
        let side = record.side();
        let (role, shift) = match side {
            Side::Lo => (self.lo_role, self.shift[0]),
            Side::Hi => (self.lo_role.other(), self.shift[1]),
        };
        let flags = record.flags();
        let shift = if flags.syn() { 0 } else { shift };
        Pkt {
            at: At {
                index: record.index,
                ts: record.ts(self.first_ts),
            },
            role,
            flags,
            seq: SeqNum(record.seq),
            ack: SeqNum(record.ack),
            len: record.len,
            window_raw: record.window,
            window_max: u64::from(record.window) << shift,
            findings: record.findings,
        }
    }
}
