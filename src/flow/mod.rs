//! The flow table: groups TCP segments into connections numbered exactly as Wireshark's
//! `tcp.stream`, and keeps per-connection statistics.
//!
//! CONTRACT: `FlowTable::new()`, `push(index, ts, &segment) -> StreamId` for every TCP segment
//! in file order, then `connections()`.
//!
//! # How Wireshark numbers streams (4.0, `dissect_tcp` in `epan/dissectors/packet-tcp.c`)
//!
//! - A segment belongs to the most recent conversation with the same two (address, port)
//!   endpoints, in either direction. Nothing else is part of the key with the default
//!   preferences: not the VLAN, not the capture interface, not the link layer.
//! - When there is none, a new conversation starts and gets the next stream number.
//! - Port reuse: a pure SYN (SYN set, ACK clear; other flags do not matter) whose sequence number
//!   differs from the base sequence number of its direction, when that base is known, starts a
//!   new conversation with the next stream number. A pure SYN with the *same* sequence number is
//!   a retransmission and stays, even after the connection saw a FIN or a RST (checked against
//!   tshark 4.0.17).
//! - A SYN+ACK whose sequence number differs from its direction's base does not start a new
//!   conversation; it only replaces that base (Wireshark issue 16944).
//! - The base sequence number of a direction is set by the first segment of that direction that
//!   Wireshark analyses (its ISN if it is a SYN, else `seq - 1`), or earlier by the first
//!   analysed segment of the other direction that carries an ACK (`ack - 1`).
//! - Segments whose length Wireshark cannot know (a TCP header quoted in an ICMP error, an IP
//!   fragment, a header longer than the packet) are assigned to a stream, and can start one, but
//!   are not analysed: they set no base. Feed them with [`FlowTable::push_without_length`].
//!
//! Not reproduced: some of Wireshark's application dissectors create TCP conversations of their
//! own, which take a stream number or move the rest of a connection to a new stream (seen with
//! SOCKS, whose proxied connection takes a number no packet shows, and VNC, whose connection
//! moves to a new stream at its first VNC message). Stream numbers after such a connection are
//! then higher in Wireshark; the corpus oracles have no such capture.

use std::collections::hash_map::Entry;
// foldhash: several times faster than SipHash on these small keys; natively its seeds change
// from run to run (see SECURITY.md for the page, where they cannot).
use foldhash::{HashMap, HashMapExt};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

use crate::capture::{PacketIdx, Timestamp};
use crate::dissect::{TcpFlags, TcpSegment};
use crate::seq::SeqNum;

/// Wireshark's `tcp.stream` index: connections numbered from 0 in order of first appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u32);

impl StreamId {
    /// The position of this connection in [`FlowTable::connections`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Statistics of one direction of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectionStats {
    pub packets: u64,
    /// Sum of TCP payload lengths (`tcp.len`).
    pub payload_bytes: u64,
    pub syn: u32,
    pub fin: u32,
    pub rst: u32,
}

impl DirectionStats {
    fn count(&mut self, seg: &TcpSegment) {
        self.packets += 1;
        self.payload_bytes += u64::from(seg.payload_len);
        self.syn += u32::from(seg.flags.syn());
        self.fin += u32::from(seg.flags.fin());
        self.rst += u32::from(seg.flags.rst());
    }
}

/// Which way a segment travels within its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

/// One TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub stream: StreamId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Client and server were guessed (no SYN seen), not read off the handshake.
    pub roles_guessed: bool,
    pub first_packet: PacketIdx,
    /// The last packet of this connection in file order.
    pub last_packet: PacketIdx,
    pub first_ts: Timestamp,
    /// The timestamp of `last_packet` (file order, so not necessarily the latest timestamp).
    pub last_ts: Timestamp,
    /// Client to server.
    pub to_server: DirectionStats,
    /// Server to client.
    pub to_client: DirectionStats,
    /// TCP headers assigned to this stream whose segment length is unknown (quoted in ICMP
    /// errors, IP fragments, cut headers: see [`FlowTable::push_without_length`]); they are not
    /// in the direction statistics.
    pub headers_without_length: u64,
}

impl Connection {
    /// The direction of a segment between this connection's endpoints, or `None` if the
    /// segment is not between them.
    pub fn direction_of(&self, seg: &TcpSegment) -> Option<Direction> {
        let src = SocketAddr::new(seg.src, seg.src_port);
        let dst = SocketAddr::new(seg.dst, seg.dst_port);
        if src == self.client && dst == self.server {
            Some(Direction::ToServer)
        } else if src == self.server && dst == self.client {
            Some(Direction::ToClient)
        } else {
            None
        }
    }

    /// Statistics of one direction.
    pub fn stats(&self, direction: Direction) -> &DirectionStats {
        match direction {
            Direction::ToServer => &self.to_server,
            Direction::ToClient => &self.to_client,
        }
    }

    /// All packets of the connection, both ways (headers without length included).
    pub fn packets(&self) -> u64 {
        self.to_server.packets + self.to_client.packets + self.headers_without_length
    }

    fn stats_mut(&mut self, direction: Direction) -> &mut DirectionStats {
        match direction {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }

    fn swap_roles(&mut self) {
        std::mem::swap(&mut self.client, &mut self.server);
        std::mem::swap(&mut self.to_server, &mut self.to_client);
    }
}

/// One end of a connection.
pub type Endpoint = (IpAddr, u16);

/// The two endpoints of a connection in a canonical order, so that both directions of a
/// connection have the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    lo: Endpoint,
    hi: Endpoint,
}

/// Hashed once per packet (or more): as a few whole words rather than field by field (each
/// address's kind, bytes and port one call at a time), which costs several times as much.
/// Equal keys give equal words, so this agrees with the derived `PartialEq`.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let ports = (u32::from(self.lo.1) << 16) | u32::from(self.hi.1);
        match (self.lo.0, self.hi.0) {
            (IpAddr::V4(lo), IpAddr::V4(hi)) => {
                let addrs = (u64::from(lo.to_bits()) << 32) | u64::from(hi.to_bits());
                state.write_u64(addrs);
                state.write_u32(ports);
            }
            (lo, hi) => {
                state.write_u128(ip_bits(lo));
                state.write_u128(ip_bits(hi));
                state.write_u32(ports);
            }
        }
    }
}

/// `a <= b`, as `Endpoint`'s derived order says, but faster: two endpoints of one address
/// family (every real segment's) compare as numbers; only mixed ones go field by field.
fn endpoint_le(a: Endpoint, b: Endpoint) -> bool {
    match (a.0, b.0) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (x.to_bits(), a.1) <= (y.to_bits(), b.1),
        (IpAddr::V6(x), IpAddr::V6(y)) => (x.to_bits(), a.1) <= (y.to_bits(), b.1),
        _ => a <= b,
    }
}

/// An address as 128 bits: IPv6 as is, IPv4 in its IPv4-mapped IPv6 form (a key with one IPv4
/// and one IPv6 end hashes like this; only equal keys need equal hashes).
fn ip_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// Which end of a [`FlowKey`] sent a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The smaller endpoint (`FlowKey::lo`).
    Lo,
    /// The larger endpoint (`FlowKey::hi`).
    Hi,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Lo => 0,
            Side::Hi => 1,
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Lo => Side::Hi,
            Side::Hi => Side::Lo,
        }
    }
}

impl FlowKey {
    /// The key of a segment from `src` to `dst`, and which end of it sent the segment.
    pub fn new(src: Endpoint, dst: Endpoint) -> (FlowKey, Side) {
        if endpoint_le(src, dst) {
            (FlowKey { lo: src, hi: dst }, Side::Lo)
        } else {
            (FlowKey { lo: dst, hi: src }, Side::Hi)
        }
    }

    /// The key of a segment and which end of it sent the segment.
    pub fn of(seg: &TcpSegment) -> (FlowKey, Side) {
        FlowKey::new((seg.src, seg.src_port), (seg.dst, seg.dst_port))
    }

    /// The smaller endpoint.
    pub fn lo(&self) -> Endpoint {
        self.lo
    }

    /// The larger endpoint.
    pub fn hi(&self) -> Endpoint {
        self.hi
    }

    fn endpoint(&self, side: Side) -> SocketAddr {
        let (addr, port) = match side {
            Side::Lo => self.lo,
            Side::Hi => self.hi,
        };
        SocketAddr::new(addr, port)
    }
}

/// What the table needs, beyond the public statistics, to follow Wireshark's conversation
/// rules, for the latest connection of a key. Kept in the key's entry of the hash table (not in
/// `Connection`, so the public type stays plain data): the lookup that finds a segment's
/// connection brings it along, one memory access less per packet.
#[derive(Debug, Clone, Copy)]
struct Tracking {
    /// The connection's stream number.
    id: u32,
    /// Wireshark's `base_seq` of each side's direction (`tcp_analyze_sequence_number`).
    base_seq: [Option<SeqNum>; 2],
    /// The side that is the client.
    client: Side,
    /// A copy of the connection's `roles_guessed`, checked on every packet.
    roles_guessed: bool,
}

impl Tracking {
    fn direction(&self, side: Side) -> Direction {
        if side == self.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct FlowTable {
    /// The latest connection of each key (older ones with the same key are closed for good:
    /// Wireshark never goes back to them on the first pass).
    latest: HashMap<FlowKey, Tracking>,
    connections: Vec<Connection>,
}

impl FlowTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table with room for `connections` connections before it reallocates.
    pub fn with_capacity(connections: usize) -> Self {
        FlowTable {
            latest: HashMap::with_capacity(connections),
            connections: Vec::with_capacity(connections),
        }
    }

    /// Assigns the next TCP segment of the capture (in file order) to its connection, and counts
    /// it there.
    pub fn push(&mut self, index: PacketIdx, ts: Timestamp, seg: &TcpSegment) -> StreamId {
        self.assign(index, ts, seg, true)
    }

    /// Assigns a TCP header whose segment length Wireshark does not know: one quoted in an ICMP
    /// error, carried in an IP fragment that was not reassembled, or with a header length larger
    /// than the packet. Wireshark gives it a stream (and may start a new one for it) but does not
    /// analyse it, so it sets no base sequence number and it is not in the direction statistics
    /// (it is counted in [`Connection::headers_without_length`]).
    pub fn push_without_length(
        &mut self,
        index: PacketIdx,
        ts: Timestamp,
        seg: &TcpSegment,
    ) -> StreamId {
        self.assign(index, ts, seg, false)
    }

    /// Every connection, indexed by stream number.
    pub fn connections(&self) -> &[Connection] {
        &self.connections
    }

    /// The connection with this stream number.
    pub fn connection(&self, stream: StreamId) -> Option<&Connection> {
        self.connections.get(stream.index())
    }

    /// The connection a segment between these endpoints would join now (ignoring port reuse).
    pub fn current(&self, src: Endpoint, dst: Endpoint) -> Option<&Connection> {
        let (key, _) = FlowKey::new(src, dst);
        self.latest
            .get(&key)
            .and_then(|track| self.connections.get(track.id as usize))
    }

    /// Number of connections so far.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// No connection yet.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Gives back the room made ahead ([`FlowTable::with_capacity`]) and not used: called once
    /// the capture has been read, since the table is kept as long as it is shown.
    pub fn shrink_to_fit(&mut self) {
        self.latest.shrink_to_fit();
        self.connections.shrink_to_fit();
    }

    /// Hands over the connections, indexed by stream number.
    pub fn into_connections(self) -> Vec<Connection> {
        self.connections
    }

    fn assign(
        &mut self,
        index: PacketIdx,
        ts: Timestamp,
        seg: &TcpSegment,
        analysed: bool,
    ) -> StreamId {
        let (key, side) = FlowKey::of(seg);
        let next = self.connections.len() as u32;
        let connections = &mut self.connections;
        let (track, is_new) = match self.latest.entry(key) {
            Entry::Vacant(slot) => (
                slot.insert(open(connections, key, side, index, ts, seg)),
                true,
            ),
            Entry::Occupied(slot) => {
                let track = slot.into_mut();
                if starts_reused_port(track, side, seg) {
                    *track = open(connections, key, side, index, ts, seg);
                    (track, true)
                } else {
                    rebase_on_syn_ack(track, side, seg);
                    (track, false)
                }
            }
        };
        debug_assert!(!is_new || track.id == next);
        if analysed {
            learn_base_seq(track, side, seg);
        }
        let Some(conn) = connections.get_mut(track.id as usize) else {
            return StreamId(track.id);
        };
        if !is_new && track.roles_guessed {
            if let Some(client) = client_from_handshake(side, seg.flags) {
                if client != track.client {
                    track.client = client;
                    conn.swap_roles();
                }
                conn.roles_guessed = false;
                track.roles_guessed = false;
            }
        }
        if analysed {
            let direction = track.direction(side);
            conn.stats_mut(direction).count(seg);
        } else {
            conn.headers_without_length += 1;
        }
        conn.last_packet = index;
        conn.last_ts = ts;
        StreamId(track.id)
    }
}

/// Opens the next stream, for a segment between `key`'s endpoints sent by `side`; returns what
/// the table tracks of it.
fn open(
    connections: &mut Vec<Connection>,
    key: FlowKey,
    side: Side,
    index: PacketIdx,
    ts: Timestamp,
    seg: &TcpSegment,
) -> Tracking {
    let stream = StreamId(connections.len() as u32);
    let (client, roles_guessed) = match client_from_handshake(side, seg.flags) {
        Some(client) => (client, false),
        None => (guess_client(side, seg.src_port, seg.dst_port), true),
    };
    connections.push(Connection {
        stream,
        client: key.endpoint(client),
        server: key.endpoint(client.other()),
        roles_guessed,
        first_packet: index,
        last_packet: index,
        first_ts: ts,
        last_ts: ts,
        to_server: DirectionStats::default(),
        to_client: DirectionStats::default(),
        headers_without_length: 0,
    });
    Tracking {
        id: stream.0,
        base_seq: [None, None],
        client,
        roles_guessed,
    }
}

/// A pure SYN (ACK clear) is Wireshark's only sign of a new connection on the same ports: it
/// starts one when its sequence number differs from the known base sequence number of its
/// direction (`dissect_tcp`, "port reuse", expert info `tcp.analysis.reused_ports`). One with
/// the same sequence number is a retransmission, even after a FIN or RST.
fn starts_reused_port(track: &Tracking, side: Side, seg: &TcpSegment) -> bool {
    is_pure_syn(seg.flags) && track.base_seq[side.index()].is_some_and(|base| base != seg.seq)
}

/// A SYN+ACK with a sequence number other than its direction's base replaces the base and stays
/// in the conversation (Wireshark issue 16944).
fn rebase_on_syn_ack(track: &mut Tracking, side: Side, seg: &TcpSegment) {
    let base = &mut track.base_seq[side.index()];
    if is_syn_ack(seg.flags) && base.is_some_and(|b| b != seg.seq) {
        *base = Some(seg.seq);
    }
}

/// Wireshark's `tcp_analyze_sequence_number`: the first analysed segment of a direction sets its
/// base (the ISN of a SYN, else `seq - 1` so relative numbers start at 1), and the first one
/// with an ACK sets the other direction's base to `ack - 1` if still unknown.
fn learn_base_seq(track: &mut Tracking, side: Side, seg: &TcpSegment) {
    let own = &mut track.base_seq[side.index()];
    if own.is_none() {
        *own = Some(if seg.flags.syn() {
            seg.seq
        } else {
            seg.seq.wrapping_sub(1)
        });
    }
    let other = &mut track.base_seq[side.other().index()];
    if other.is_none() && seg.flags.ack() {
        *other = Some(seg.ack.wrapping_sub(1));
    }
}

fn is_pure_syn(flags: TcpFlags) -> bool {
    flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN
}

fn is_syn_ack(flags: TcpFlags) -> bool {
    flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN | TcpFlags::ACK
}

/// The client, read off the handshake: the sender of a pure SYN is the client, the sender of a
/// SYN+ACK is the server. Any other segment says nothing.
fn client_from_handshake(sender: Side, flags: TcpFlags) -> Option<Side> {
    if is_pure_syn(flags) {
        Some(sender)
    } else if is_syn_ack(flags) {
        Some(sender.other())
    } else {
        None
    }
}

/// Ports below this are IANA "system" (well-known) ports (RFC 6335 section 6): servers.
const SYSTEM_PORTS_END: u16 = 1024;
/// Ports from here up are likely ephemeral client ports: IANA's dynamic range starts at 49152
/// (RFC 6335 section 6), Linux's default `ip_local_port_range` at 32768; the lower bound wins.
const EPHEMERAL_PORTS_START: u16 = 32768;

/// How likely a port is to be a server's: 0 (system port) is the most likely.
fn port_rank(port: u16) -> u8 {
    if port < SYSTEM_PORTS_END {
        0
    } else if port < EPHEMERAL_PORTS_START {
        1
    } else {
        2
    }
}

/// Guesses the client of a connection first seen mid-stream, from the first segment's sender and
/// ports: the port more likely to be a server's (system, then registered, then ephemeral) is the
/// server; between two system or two registered ports, the lower one; between two ephemeral
/// ports (or equal ports), the first sender is taken as the client.
fn guess_client(sender: Side, src_port: u16, dst_port: u16) -> Side {
    let (src_rank, dst_rank) = (port_rank(src_port), port_rank(dst_port));
    let sender_is_server = if src_rank != dst_rank {
        src_rank < dst_rank
    } else if src_rank < 2 && src_port != dst_port {
        src_port < dst_port
    } else {
        false
    };
    if sender_is_server {
        sender.other()
    } else {
        sender
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::TcpOptions;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    const S: u16 = TcpFlags::SYN;
    const A: u16 = TcpFlags::ACK;
    const R: u16 = TcpFlags::RST;
    const F: u16 = TcpFlags::FIN;

    const TEMPLATE: TcpSegment = TcpSegment {
        src: CLIENT,
        dst: SERVER,
        src_port: 40000,
        dst_port: 80,
        seq: SeqNum(0),
        ack: SeqNum(0),
        flags: TcpFlags(0),
        window: 8192,
        payload_len: 0,
        header_len: 20,
        options: TcpOptions::NONE,
        ttl: 64,
        ip_id: None,
        payload_offset: 0,
        truncated: false,
    };

    // Near 2^32 on purpose: `seq - 1` and `ack - 1` wrap.
    const ISN_C: u32 = u32::MAX - 1;
    const ISN_S: u32 = 0;

    fn c2s(seq: u32, ack: u32, flags: u16) -> TcpSegment {
        TcpSegment {
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags: TcpFlags(flags),
            ..TEMPLATE
        }
    }

    fn s2c(seq: u32, ack: u32, flags: u16) -> TcpSegment {
        TcpSegment {
            src: SERVER,
            dst: CLIENT,
            src_port: 80,
            dst_port: 40000,
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags: TcpFlags(flags),
            ..TEMPLATE
        }
    }

    fn handshake() -> Vec<TcpSegment> {
        vec![
            c2s(ISN_C, 0, S),
            s2c(ISN_S, ISN_C.wrapping_add(1), S | A),
            c2s(ISN_C.wrapping_add(1), ISN_S.wrapping_add(1), A),
        ]
    }

    /// Feeds the segments and returns their stream numbers.
    fn streams(segs: &[TcpSegment]) -> (FlowTable, Vec<u32>) {
        let mut table = FlowTable::new();
        let ids = segs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                table
                    .push(PacketIdx(i as u32), Timestamp(i as i64 * 1000), s)
                    .0
            })
            .collect();
        (table, ids)
    }

    #[test]
    fn handshake_and_data_are_one_connection() {
        let mut segs = handshake();
        segs.push(TcpSegment {
            payload_len: 100,
            ..c2s(ISN_C.wrapping_add(1), 1, A)
        });
        segs.push(s2c(1, ISN_C.wrapping_add(101), A | F));
        let (table, ids) = streams(&segs);
        assert_eq!(ids, [0, 0, 0, 0, 0]);
        let c = &table.connections()[0];
        assert_eq!(c.client, SocketAddr::new(CLIENT, 40000));
        assert_eq!(c.server, SocketAddr::new(SERVER, 80));
        assert!(!c.roles_guessed);
        assert_eq!(
            c.to_server,
            DirectionStats {
                packets: 3,
                payload_bytes: 100,
                syn: 1,
                fin: 0,
                rst: 0
            }
        );
        assert_eq!(
            c.to_client,
            DirectionStats {
                packets: 2,
                payload_bytes: 0,
                syn: 1,
                fin: 1,
                rst: 0
            }
        );
        assert_eq!(
            (c.first_packet, c.last_packet),
            (PacketIdx(0), PacketIdx(4))
        );
        assert_eq!((c.first_ts, c.last_ts), (Timestamp(0), Timestamp(4000)));
        assert_eq!(c.direction_of(&segs[1]), Some(Direction::ToClient));
        assert_eq!(table.connection(StreamId(0)), Some(c));
        assert_eq!(table.connection(StreamId(1)), None);
    }

    #[test]
    fn retransmitted_syn_stays_even_after_rst_or_fin() {
        for closing in [
            c2s(ISN_C.wrapping_add(1), 1, R | A),
            s2c(1, ISN_C.wrapping_add(1), F | A),
        ] {
            let mut segs = handshake();
            segs.push(closing);
            segs.push(c2s(ISN_C, 0, S));
            let (_, ids) = streams(&segs);
            assert_eq!(ids, [0, 0, 0, 0, 0]);
        }
    }

    #[test]
    fn syn_with_new_isn_is_port_reuse() {
        let mut segs = handshake();
        segs.push(c2s(ISN_C.wrapping_add(1), 1, R | A));
        segs.push(c2s(12345, 0, S | TcpFlags::ECE | TcpFlags::CWR));
        segs.push(s2c(999, 12346, S | A));
        // A late segment of the old connection goes to the latest one, as in Wireshark.
        segs.push(c2s(ISN_C.wrapping_add(1), 1, A));
        segs.push(c2s(777, 0, S | F));
        let (table, ids) = streams(&segs);
        assert_eq!(ids, [0, 0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(table.len(), 3);
        assert_eq!(table.connections()[1].first_packet, PacketIdx(4));
        assert_eq!(table.connections()[0].last_packet, PacketIdx(3));
    }

    #[test]
    fn syn_ack_with_new_isn_only_rebases() {
        let mut segs = handshake();
        segs.push(s2c(777, ISN_C.wrapping_add(1), S | A));
        segs.push(c2s(ISN_C, 0, S));
        // The server's side base is now 777: a pure SYN from the server with 777 stays.
        segs.push(s2c(777, 0, S));
        segs.push(s2c(778, 0, S));
        let (_, ids) = streams(&segs);
        assert_eq!(ids, [0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn base_from_the_other_sides_ack() {
        // First seen: the server's ACK of the client's ISN + 1.
        let segs = [
            s2c(500, ISN_C.wrapping_add(1), A),
            c2s(ISN_C, 0, S),
            c2s(ISN_C.wrapping_sub(1), 0, S),
        ];
        let (_, ids) = streams(&segs);
        assert_eq!(ids, [0, 0, 1]);
    }

    #[test]
    fn base_from_mid_stream_data_is_seq_minus_one() {
        let segs = [c2s(0, 5, A), c2s(u32::MAX, 0, S), c2s(0, 0, S)];
        let (_, ids) = streams(&segs);
        assert_eq!(ids, [0, 0, 1]);
    }

    #[test]
    fn syn_before_any_base_joins() {
        // An RST without ACK from the server sets only the server's base.
        let segs = [s2c(5, 0, R), c2s(ISN_C, 0, S), c2s(ISN_C, 0, S)];
        let (table, ids) = streams(&segs);
        assert_eq!(ids, [0, 0, 0]);
        // The SYN fixed the guessed roles (they were right already).
        assert!(!table.connections()[0].roles_guessed);
        assert_eq!(
            table.connections()[0].client,
            SocketAddr::new(CLIENT, 40000)
        );
    }

    #[test]
    fn headers_without_length_set_no_base() {
        let mut table = FlowTable::new();
        let quoted = c2s(ISN_C, 0, S);
        assert_eq!(
            table.push_without_length(PacketIdx(0), Timestamp(0), &quoted),
            StreamId(0)
        );
        // Not a port reuse: the quoted header set no base.
        assert_eq!(
            table.push(PacketIdx(1), Timestamp(1), &c2s(7, 0, S)),
            StreamId(0)
        );
        assert_eq!(
            table.push(PacketIdx(2), Timestamp(2), &c2s(8, 0, S)),
            StreamId(1)
        );
        let c = &table.connections()[0];
        assert_eq!(c.headers_without_length, 1);
        assert_eq!(c.to_server.packets, 1);
        assert_eq!(c.packets(), 2);
    }

    #[test]
    fn roles_from_syn_ack_when_syn_missed() {
        let (table, _) = streams(&[s2c(ISN_S, ISN_C.wrapping_add(1), S | A)]);
        let c = &table.connections()[0];
        assert!(!c.roles_guessed);
        assert_eq!(c.server, SocketAddr::new(SERVER, 80));
        assert_eq!(c.to_client.packets, 1);
    }

    #[test]
    fn roles_guessed_from_ports_then_fixed_by_handshake() {
        // Mid-stream, the server speaks first: the well-known port still makes it the server.
        let (table, _) = streams(&[s2c(1, 1, A)]);
        let c = &table.connections()[0];
        assert!(c.roles_guessed);
        assert_eq!(c.server, SocketAddr::new(SERVER, 80));

        // Two ephemeral ports: the first sender is the client, until a SYN+ACK says otherwise.
        let p2p = |src, dst, sp, dp, flags| TcpSegment {
            src,
            dst,
            src_port: sp,
            dst_port: dp,
            flags: TcpFlags(flags),
            ..TEMPLATE
        };
        let segs = [
            p2p(CLIENT, SERVER, 50000, 60000, A),
            p2p(CLIENT, SERVER, 50000, 60000, S | A),
        ];
        let (table, _) = streams(&segs);
        let c = &table.connections()[0];
        assert!(!c.roles_guessed);
        assert_eq!(c.server, SocketAddr::new(CLIENT, 50000));
        assert_eq!(c.to_client.packets, 2);
        assert_eq!(c.to_server.packets, 0);
    }

    #[test]
    fn guess_prefers_system_then_registered_then_lower() {
        assert_eq!(guess_client(Side::Lo, 40000, 443), Side::Lo);
        assert_eq!(guess_client(Side::Lo, 443, 40000), Side::Hi);
        assert_eq!(guess_client(Side::Lo, 8080, 50000), Side::Hi);
        assert_eq!(guess_client(Side::Lo, 1023, 513), Side::Lo);
        assert_eq!(guess_client(Side::Lo, 3306, 8080), Side::Hi);
        assert_eq!(guess_client(Side::Hi, 50000, 60000), Side::Hi);
        assert_eq!(guess_client(Side::Hi, 7, 7), Side::Hi);
    }

    #[test]
    fn same_endpoints_on_both_ends() {
        let me = TcpSegment {
            dst: CLIENT,
            src_port: 7,
            dst_port: 7,
            ..c2s(1, 1, A)
        };
        let (table, ids) = streams(&[me, me]);
        assert_eq!(ids, [0, 0]);
        assert_eq!(
            table.connections()[0].to_server.packets + table.connections()[0].to_client.packets,
            2
        );
    }

    fn endpoint() -> impl Strategy<Value = Endpoint> {
        let v4 = any::<[u8; 4]>().prop_map(IpAddr::from);
        let v6 = any::<[u8; 16]>().prop_map(IpAddr::from);
        (prop_oneof![v4, v6], any::<u16>())
    }

    proptest! {
        #[test]
        fn key_is_the_same_from_both_directions(a in endpoint(), b in endpoint()) {
            let (k1, s1) = FlowKey::new(a, b);
            let (k2, s2) = FlowKey::new(b, a);
            prop_assert_eq!(k1, k2);
            prop_assert!(k1.lo() <= k1.hi());
            if a != b {
                prop_assert_ne!(s1, s2);
            }
            prop_assert_eq!(k1.endpoint(s1), SocketAddr::new(a.0, a.1));
        }

        #[test]
        fn endpoints_order_as_derived(a in endpoint(), b in endpoint(), same in any::<bool>()) {
            // Half the pairs share `a`'s address, so equal addresses and the port decide.
            let b = if same { (a.0, b.1) } else { b };
            prop_assert_eq!(endpoint_le(a, b), a <= b);
            prop_assert_eq!(endpoint_le(b, a), b <= a);
        }

        #[test]
        fn both_directions_join_one_stream(a in endpoint(), b in endpoint(), flags in prop::collection::vec(any::<u16>(), 1..20)) {
            // Without SYNs, nothing can start a second stream.
            let mut table = FlowTable::new();
            for (i, f) in flags.iter().enumerate() {
                let (src, dst) = if f & 0x8000 == 0 { (a, b) } else { (b, a) };
                let seg = TcpSegment {
                    src: src.0, src_port: src.1, dst: dst.0, dst_port: dst.1,
                    flags: TcpFlags(f & !TcpFlags::SYN & 0x1ff),
                    seq: SeqNum(i as u32),
                    ..TEMPLATE
                };
                prop_assert_eq!(table.push(PacketIdx(i as u32), Timestamp(0), &seg), StreamId(0));
            }
            prop_assert_eq!(table.len(), 1);
            prop_assert_eq!(table.connections()[0].packets(), flags.len() as u64);
        }
    }
}
