//! Zeek's connection summary: the `conn_state` (S0, SF, REJ, RSTO, ...) and `history`
//! (`ShADadFf`, ...) columns of Zeek's `conn.log`, computed the way Zeek computes them, so a
//! person who knows Zeek can read rstscope's connections in Zeek's words.
//!
//! The rules follow Zeek's sources (BSD-3-Clause; this is a re-implementation, not a copy):
//! - `src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`: the per-packet processing
//!   (`Process`), `update_history`, `init_endpoint`, `get_relative_seq`, `update_last_seq`,
//!   the endpoint state machine (`UpdateInactiveState`, `UpdateSYN_SentState`, ...),
//!   `ConnectionClosed`, the timers and `IsReuse`.
//! - `src/analyzer/protocol/tcp/TCP_Endpoint.{h,cc}`: endpoint states, sequence bookkeeping,
//!   `Size`, `CheckHistory`, the logarithmic letters (`DidRxmit`, `ZeroWindow`,
//!   `ChecksumError`).
//! - `src/Conn.cc`: `CheckHistory`, `ScaledHistoryEntry`, `FlipRoles`.
//! - `src/packet_analysis/protocol/tcp/TCP.cc` and `.../ip/IPBasedAnalyzer.cc`:
//!   `WantConnection` (who is the originator) and `NewConn`.
//! - `scripts/base/protocols/conn/main.zeek`: the `conn_state` function.
//! - `scripts/base/init-bare.zeek`: the timeouts (`tcp_close_delay` and friends).
//!
//! Two entry points:
//! - [`ZeekConn`]: one Zeek connection (one `conn.log` row). Feed it the segments between
//!   its two endpoints in file order; it decides which side is the originator.
//! - [`ZeekTracker`]: Zeek's session table. Zeek splits traffic into connections by its own
//!   rules, which differ from Wireshark's `tcp.stream`: a SYN that does not fit the
//!   connection's state starts a new one (`IsReuse`: a new SYN sequence number, or a
//!   SYN/SYN-ACK arriving on a connection that never saw a valid packet from that side), and
//!   timers remove connections (5 s after a close, 5 s after an unanswered SYN, after 1 or 5
//!   minutes of inactivity), so later packets on the same ports start a new `conn.log` row.
//!   The tracker reproduces this and tells, for each Zeek connection, which
//!   [`StreamId`] (Wireshark stream) its first packet belonged to.
//!
//! What is not reproduced (documented, and allow-listed in `tests/zeek_corpus.rs`):
//! - Checksums: rstscope does not verify them. Zeek drops a segment with a bad TCP checksum
//!   after logging `C`/`c`. Most Zeek tests run with `-C` (ignore checksums), which is what
//!   [`ZeekConn::push`] does; [`tcp_checksum_ok`] lets a caller check a segment from its
//!   record bytes and report it with [`ZeekConn::push_bad_checksum`] instead.
//! - Letters that come from Zeek's stream reassembler or application analyzers: `g` (content
//!   gap), `x` (analysis partial). Deferred closes while reassembled data is pending are
//!   taken as immediate.
//! - Timer subtleties: Zeek's per-packet cap on expired timers (`max_timer_expires`), and
//!   timers whose script-level event handler may not exist (`PartialCloseTimer`,
//!   `ResetTimer`) are not modelled.
//! - `likely_server_ports` depends on which scripts Zeek loaded: [`ServerPorts::Base`] is the
//!   set the default scripts register, [`ServerPorts::None`] is `zeek -b`.

use foldhash::HashMap;
use std::net::IpAddr;

use crate::capture::Timestamp;
use crate::dissect::{TcpFlags, TcpSegment};
use crate::flow::{Endpoint, FlowKey, StreamId};
use crate::seq::SeqNum;

/// Zeek's `TOO_LARGE_SEQ_DELTA` (TCPSessionAdapter.cc): sequence jumps on SYN/RST larger
/// than this (1 MiB) are not trusted to move the endpoint's last sequence number.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

const SECOND: i64 = 1_000_000_000;
/// `tcp_attempt_delay` (init-bare.zeek): an unanswered SYN is given up after 5 s.
const TCP_ATTEMPT_DELAY: i64 = 5 * SECOND;
/// `tcp_close_delay` (init-bare.zeek): a closed connection is removed 5 s after its last
/// packet.
const TCP_CLOSE_DELAY: i64 = 5 * SECOND;
/// `tcp_SYN_timeout` (init-bare.zeek): the first `ExpireTimer` runs 5 s after the start.
const TCP_SYN_TIMEOUT: i64 = 5 * SECOND;
/// `tcp_session_timer` (init-bare.zeek): later `ExpireTimer`s run every 6 s.
const TCP_SESSION_TIMER: i64 = 6 * SECOND;
/// `tcp_connection_linger` (init-bare.zeek): a half-closed connection idle this long (5 s)
/// may be expired.
const TCP_CONNECTION_LINGER: i64 = 5 * SECOND;
/// `tcp_inactivity_timeout` (init-bare.zeek): 5 min, once the handshake is over.
const TCP_INACTIVITY_TIMEOUT: i64 = 300 * SECOND;
/// `udp_inactivity_timeout` (init-bare.zeek): 1 min. `TCPAnalyzer::MakeSessionAdapter`
/// starts every TCP connection with it, until the handshake completes.
const UDP_INACTIVITY_TIMEOUT: i64 = 60 * SECOND;
/// `ScaledHistoryEntry`'s default `scaling_base` (Conn.h): `c`, `t`, `w` are logged again at
/// 10, 100, 1000, ... occurrences.
const HISTORY_SCALING_BASE: u32 = 10;

// History bits (TCP_Endpoint.h, `HIST_*`); the responder's are shifted 16 bits left.
const HIST_SYN_PKT: u32 = 0x1;
const HIST_FIN_PKT: u32 = 0x2;
const HIST_RST_PKT: u32 = 0x4;
const HIST_FIN_RST_PKT: u32 = 0x8;
const HIST_DATA_PKT: u32 = 0x10;
const HIST_ACK_PKT: u32 = 0x20;
const HIST_MULTI_FLAG_PKT: u32 = 0x40;

/// TCP ports in Zeek's `likely_server_ports` once the default scripts are loaded (each
/// `scripts/base/protocols/*/main.zeek` adds its ports: FTP, SSH, SMTP, DNS, HTTP, Kerberos,
/// POP3, DCE-RPC, IMAP, NetBIOS/SMB, LDAP, SSL/TLS, Modbus, SOCKS, MySQL, RDP, PostgreSQL,
/// XMPP, IRC, DNP3, MQTT, Redis, ...).
const BASE_LIKELY_SERVER_PORTS: &[u16] = &[
    21, 22, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631,
    636, 989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269,
    5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
];

/// Which ports Zeek takes as "likely server ports" when it guesses the originator of a
/// connection whose first packet is not a SYN (`likely_server_ports`, init-bare.zeek).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerPorts {
    /// The ports the default scripts register (`zeek -r capture`).
    #[default]
    Base,
    /// None (`zeek -b`, bare mode, without protocol scripts).
    None,
}

impl ServerPorts {
    /// Zeek's `IPBasedAnalyzer::IsLikelyServerPort` for TCP.
    pub fn is_likely_server_port(self, port: u16) -> bool {
        match self {
            ServerPorts::Base => BASE_LIKELY_SERVER_PORTS.binary_search(&port).is_ok(),
            ServerPorts::None => false,
        }
    }
}

/// How to run Zeek's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZeekConfig {
    pub server_ports: ServerPorts,
}

/// Zeek's `conn_state` (scripts/base/protocols/conn/main.zeek).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Connection established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected.
    REJ,
    /// Established, the originator tried to close, no reply from the responder.
    S2,
    /// Established, the responder tried to close, no reply from the originator.
    S3,
    /// Established, the originator aborted (sent a RST).
    RSTO,
    /// The responder sent a RST.
    RSTR,
    /// The originator sent a SYN then a RST; no SYN-ACK seen.
    RSTOS0,
    /// The responder sent a SYN-ACK then a RST; no SYN from the originator seen.
    RSTRH,
    /// The originator sent a SYN then a FIN; no SYN-ACK seen ("half" open).
    SH,
    /// The responder sent a SYN-ACK then a FIN; no SYN from the originator seen.
    SHR,
    /// No SYN seen, just midstream traffic.
    OTH,
}

impl ConnState {
    /// The name Zeek logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }
}

impl std::fmt::Display for ConnState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Zeek's per-endpoint TCP state (`EndpointState`, TCP_Endpoint.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointState {
    /// Nothing seen from this side.
    Inactive,
    /// SYN seen, no ACK.
    SynSent,
    /// SYN-ACK seen from this side, no initial SYN.
    SynAckSent,
    /// Data seen, but no SYN.
    Partial,
    /// SYN-ACK seen (implicit for a SYN sent by the responder).
    Established,
    /// FIN seen.
    Closed,
    /// RST seen.
    Reset,
}

impl EndpointState {
    /// `is_handshake` (TCP_Endpoint.cc).
    fn is_handshake(self) -> bool {
        matches!(
            self,
            EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent
        )
    }
}

/// One side of a Zeek connection (`TCP_Endpoint`). Sequence numbers are Zeek's: 32-bit
/// values plus a wrap count, compared the way Zeek compares them, because the history
/// letters depend on Zeek's exact arithmetic.
#[derive(Debug, Clone, Copy)]
struct Side {
    state: EndpointState,
    prev_state: EndpointState,
    start_seq: SeqNum,
    last_seq: SeqNum,
    ack_seq: SeqNum,
    seq_wraps: u32,
    ack_wraps: u32,
    fin_cnt: u32,
    did_close: bool,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    chk: Scaled,
    rxmt: Scaled,
    win0: Scaled,
}

/// A counter for a letter logged at 1, 10, 100, ... occurrences.
#[derive(Debug, Clone, Copy)]
struct Scaled {
    count: u32,
    threshold: u32,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled {
            count: 0,
            threshold: 1,
        }
    }
}

impl Scaled {
    /// `Connection::ScaledHistoryEntry` (Conn.cc): true when this occurrence is logged; the
    /// next threshold is ten times this one (and the count restarts if that overflows).
    fn bump(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count != self.threshold {
            return false;
        }
        let next = self.threshold.wrapping_mul(HISTORY_SCALING_BASE);
        if next <= self.threshold {
            self.count = 0;
        } else {
            self.threshold = next;
        }
        true
    }
}

impl Default for Side {
    fn default() -> Self {
        Side {
            state: EndpointState::Inactive,
            prev_state: EndpointState::Inactive,
            start_seq: SeqNum(0),
            last_seq: SeqNum(0),
            ack_seq: SeqNum(0),
            seq_wraps: 0,
            ack_wraps: 0,
            fin_cnt: 0,
            did_close: false,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            chk: Scaled::default(),
            rxmt: Scaled::default(),
            win0: Scaled::default(),
        }
    }
}

/// `ToFullSeqSpace` (TCP_Endpoint.h): a 32-bit value and a wrap count in 64 bits.
fn full_seq(seq: SeqNum, wraps: u32) -> u64 {
    (u64::from(wraps) << 32) | u64::from(seq.raw())
}

/// Zeek counts a wrap when a value that moves forward is numerically smaller than the old
/// one (`UpdateLastSeq`, `get_relative_seq`). Comparing the raw values is the point here:
/// this detects the crossing of 2^32, not an ordering.
fn crosses_wrap(from: SeqNum, to: SeqNum) -> bool {
    to.raw() < from.raw()
}

impl Side {
    /// `InitStartSeq` + `InitAckSeq` + `InitLastSeq`.
    fn init_seqs(&mut self, start: SeqNum, last: SeqNum) {
        self.start_seq = start;
        self.ack_seq = start;
        self.last_seq = last;
    }

    /// `UpdateLastSeq` (TCP_Endpoint.h).
    fn update_last_seq(&mut self, seq: SeqNum) {
        if crosses_wrap(self.last_seq, seq) {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    /// `UpdateAckSeq` (TCP_Endpoint.h).
    fn update_ack_seq(&mut self, seq: SeqNum) {
        if crosses_wrap(self.ack_seq, seq) {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = seq;
    }

    /// `NoDataAcked` (TCP_Endpoint.h): none of this side's data was acknowledged (one octet
    /// for the SYN allowed).
    fn no_data_acked(&self) -> bool {
        let ack = full_seq(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq.raw());
        ack == start || ack == start.wrapping_add(1)
    }

    /// `TCP_Endpoint::Size`: payload bytes sent, from the sequence numbers (the larger of the
    /// highest sequence number sent and the highest acknowledged, minus SYN and FIN).
    fn size(&self, peer_state: EndpointState) -> u64 {
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer_state == EndpointState::Inactive
            && !self.no_data_acked()
        {
            // A half-open connection discovered and aborted: the numbers would mislead.
            return 0;
        }
        let last = full_seq(self.last_seq, self.seq_wraps);
        let ack = full_seq(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq.raw());
        // Neither the SYN's octet nor the FIN's is data.
        let size = last.max(ack).wrapping_sub(start).saturating_sub(1);
        if self.fin_cnt > 0 {
            size.saturating_sub(1)
        } else {
            size
        }
    }
}

/// `get_relative_seq` (TCPSessionAdapter.cc): `seq` relative to `start`, in Zeek's 64-bit
/// space, using the wrap count of the reference value `last`. Returns the value (a negative
/// 32-bit distance sign-extended, as Zeek's `int32` to `uint64` conversion does) and whether
/// it fell before `start` (underflow).
fn relative_seq(start: SeqNum, seq: SeqNum, last: SeqNum, wraps: u32) -> (u64, bool) {
    let delta = seq.diff(last);
    let mut wraps = wraps;
    if delta < 0 {
        if wraps != 0 && crosses_wrap(seq, last) {
            // Part of the previous 32-bit space.
            wraps -= 1;
        }
    } else if delta > 0 && crosses_wrap(last, seq) {
        wraps = wraps.wrapping_add(1);
    }
    if wraps == 0 {
        let d = seq.diff(start);
        return (i64::from(d) as u64, d < 0);
    }
    (
        full_seq(seq, wraps).wrapping_sub(u64::from(start.raw())),
        false,
    )
}

/// `get_segment_len` (TCPSessionAdapter.cc): sequence space the segment occupies. SYN and
/// FIN count one each; a RST's payload is not part of the stream.
fn segment_len(payload_len: u32, flags: TcpFlags) -> u32 {
    let mut len = if flags.rst() { 0 } else { payload_len };
    if flags.syn() {
        len = len.wrapping_add(1);
    }
    if flags.fin() {
        len = len.wrapping_add(1);
    }
    len
}

/// Why a Zeek timer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerKind {
    /// `TCPSessionAdapter::AttemptTimer`.
    Attempt,
    /// `TCPSessionAdapter::ExpireTimer`.
    Expire,
    /// `ConnDeleteTimer` after a complete close.
    Delete,
    /// `Connection::InactivityTimer`.
    Inactivity,
}

#[derive(Debug, Clone, Copy)]
struct Timer {
    at: Timestamp,
    kind: TimerKind,
}

/// One Zeek connection: one row of `conn.log`. See the module documentation.
#[derive(Debug, Clone)]
pub struct ZeekConn {
    /// The two ends, in the order of the first packet: `[sender, receiver]`.
    ends: [Endpoint; 2],
    /// Which of `ends` is the originator (0 or 1); `FlipRoles` toggles it.
    orig: usize,
    sides: [Side; 2],
    history: String,
    /// `Connection::hist_seen`: letters already logged; the originator's bits low, the
    /// responder's shifted 16 bits. Not swapped by a flip, as in Zeek.
    hist_seen: u32,
    start_ts: Timestamp,
    /// `Connection::last_time`.
    last_time: Timestamp,
    /// `TCPSessionAdapter::is_active`.
    is_active: bool,
    /// Analyzer timers (canceled together on a complete close) and the connection's
    /// inactivity timer.
    timers: Vec<Timer>,
    /// The earliest `at` among `timers` (`i64::MAX` when there is none): most packets come
    /// before it, and then no timer needs looking at.
    earliest_timer: i64,
    inactivity_timeout: i64,
    /// A timer removed the connection: it takes no more packets.
    removed: bool,
    packets: u64,
}

/// `TcpSegment`'s sender endpoint.
fn src_of(seg: &TcpSegment) -> Endpoint {
    (seg.src, seg.src_port)
}

/// `TCPAnalyzer::WantConnection`: whether Zeek makes the receiver of the first packet the
/// originator. Only a first packet that is not a pure SYN is considered; the sender is taken
/// as the server when its port is a likely server port and the receiver's is not, or (not
/// for a SYN-ACK, to keep stealth scans apart) when both are and the sender's is lower.
fn flip_first_packet(config: &ZeekConfig, seg: &TcpSegment) -> bool {
    let f = seg.flags;
    if f.syn() && !f.ack() {
        return false;
    }
    let ports = config.server_ports;
    if !ports.is_likely_server_port(seg.src_port) {
        return false;
    }
    if ports.is_likely_server_port(seg.dst_port) {
        !f.syn() && seg.src_port < seg.dst_port
    } else {
        true
    }
}

impl ZeekConn {
    /// A connection started by `first` (Zeek's `NewConn`), which is not yet processed: call
    /// [`ZeekConn::push`] with it next.
    pub fn new(config: ZeekConfig, first: &TcpSegment, ts: Timestamp) -> ZeekConn {
        let mut conn = ZeekConn {
            ends: [src_of(first), (first.dst, first.dst_port)],
            orig: 0,
            sides: [Side::default(); 2],
            // Room for a typical history ("ShADadFf" and a few more) without regrowing.
            history: String::with_capacity(16),
            hist_seen: 0,
            start_ts: ts,
            last_time: ts,
            is_active: true,
            timers: Vec::new(),
            earliest_timer: i64::MAX,
            inactivity_timeout: 0,
            removed: false,
            packets: 0,
        };
        if flip_first_packet(&config, first) {
            conn.flip_roles();
        }
        // TCPSessionAdapter's constructor and TCPAnalyzer::MakeSessionAdapter.
        conn.add_timer(ts, TCP_SYN_TIMEOUT, TimerKind::Expire);
        conn.set_inactivity_timeout(UDP_INACTIVITY_TIMEOUT);
        conn
    }

    /// The originator (`id.orig_h`, `id.orig_p`).
    pub fn originator(&self) -> Endpoint {
        self.ends[self.orig]
    }

    /// The responder (`id.resp_h`, `id.resp_p`).
    pub fn responder(&self) -> Endpoint {
        self.ends[1 - self.orig]
    }

    /// The time of the first packet (`ts`).
    pub fn start(&self) -> Timestamp {
        self.start_ts
    }

    /// Packets processed (bad-checksum ones included).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Zeek's `history` so far.
    pub fn history(&self) -> String {
        self.history.clone()
    }

    /// The originator's endpoint state.
    pub fn orig_state(&self) -> EndpointState {
        self.sides[self.orig].state
    }

    /// The responder's endpoint state.
    pub fn resp_state(&self) -> EndpointState {
        self.sides[1 - self.orig].state
    }

    /// Whether `seg` travels between this connection's two endpoints.
    pub fn carries(&self, seg: &TcpSegment) -> bool {
        let (s, d) = (src_of(seg), (seg.dst, seg.dst_port));
        (s == self.ends[0] && d == self.ends[1]) || (s == self.ends[1] && d == self.ends[0])
    }

    /// The slot of the sender of `seg` (0 or 1 in `ends`).
    fn slot_of(&self, seg: &TcpSegment) -> usize {
        if src_of(seg) == self.ends[0] {
            0
        } else {
            1
        }
    }

    /// Zeek's `conn_state` (scripts/base/protocols/conn/main.zeek) from the endpoint states
    /// as they are now.
    pub fn conn_state(&self) -> ConnState {
        let o = &self.sides[self.orig];
        let r = &self.sides[1 - self.orig];
        conn_state_of(
            o.state,
            r.state,
            o.size(r.state),
            r.size(o.state),
            &self.history,
        )
    }

    /// Processes the next segment between the two endpoints, in file order, with its
    /// checksum taken as valid (Zeek's `-C`). `ts` is the packet's time.
    pub fn push(&mut self, seg: &TcpSegment, ts: Timestamp) {
        self.packets += 1;
        let me = self.slot_of(seg);
        self.process(me, seg, ts);
    }

    /// Records a segment whose TCP checksum is wrong: Zeek logs `C`/`c` (at 1, 10, 100, ...
    /// occurrences) and ignores the segment otherwise (`TCPAnalyzer::ValidateChecksum`).
    pub fn push_bad_checksum(&mut self, seg: &TcpSegment) {
        self.packets += 1;
        let me = self.slot_of(seg);
        if self.sides[me].chk.bump() {
            self.add_history(me, 'C');
        }
    }

    fn is_orig(&self, slot: usize) -> bool {
        slot == self.orig
    }

    /// `Connection::AddHistory` through `TCP_Endpoint::AddHistory`: upper case for the
    /// originator, lower case for the responder.
    fn add_history(&mut self, slot: usize, code: char) {
        let code = if self.is_orig(slot) {
            code
        } else {
            code.to_ascii_lowercase()
        };
        self.history.push(code);
    }

    /// `TCP_Endpoint::CheckHistory` / `Connection::CheckHistory`: logs `code` the first time
    /// this side shows `mask`; returns whether it had been seen before.
    fn check_history(&mut self, slot: usize, mask: u32, code: char) -> bool {
        let mask = if self.is_orig(slot) { mask } else { mask << 16 };
        if self.hist_seen & mask == 0 {
            self.hist_seen |= mask;
            self.add_history(slot, code);
            false
        } else {
            true
        }
    }

    /// `Connection::FlipRoles` + `TCPSessionAdapter::FlipRoles`: the originator and
    /// responder swap, and `^` is logged. Letters already logged keep their case.
    fn flip_roles(&mut self) {
        self.orig = 1 - self.orig;
        self.history.push('^');
    }

    fn add_timer(&mut self, now: Timestamp, after: i64, kind: TimerKind) {
        self.push_timer(Timer {
            at: Timestamp(now.0.saturating_add(after)),
            kind,
        });
    }

    fn push_timer(&mut self, timer: Timer) {
        self.earliest_timer = self.earliest_timer.min(timer.at.0);
        self.timers.push(timer);
    }

    /// Keeps the timers `keep` says to keep.
    fn retain_timers(&mut self, keep: impl Fn(&Timer) -> bool) {
        self.timers.retain(keep);
        self.find_earliest_timer();
    }

    fn remove_timer(&mut self, i: usize) -> Timer {
        let timer = self.timers.swap_remove(i);
        self.find_earliest_timer();
        timer
    }

    fn find_earliest_timer(&mut self) {
        self.earliest_timer = self.timers.iter().map(|t| t.at.0).min().unwrap_or(i64::MAX);
    }

    /// `Connection::SetInactivityTimeout`: replaces the inactivity timer.
    fn set_inactivity_timeout(&mut self, timeout: i64) {
        if timeout == self.inactivity_timeout {
            return;
        }
        self.retain_timers(|t| t.kind != TimerKind::Inactivity);
        let last = self.last_time;
        self.add_timer(last, timeout, TimerKind::Inactivity);
        self.inactivity_timeout = timeout;
    }

    /// `TCP_Endpoint::SetState`; finishing the handshake switches the inactivity timeout
    /// from UDP's to TCP's.
    fn set_state(&mut self, slot: usize, new: EndpointState) {
        let old = self.sides[slot].state;
        if new == old {
            return;
        }
        let peer_state = self.sides[1 - slot].state;
        if !new.is_handshake() && old.is_handshake() && peer_state.is_handshake() {
            self.set_inactivity_timeout(TCP_INACTIVITY_TIMEOUT);
        }
        let side = &mut self.sides[slot];
        side.prev_state = old;
        side.state = new;
    }

    /// Runs the timers due at network time `now` (Zeek dispatches them before the packet
    /// that advances the clock). Returns whether the connection was removed.
    pub fn run_timers(&mut self, now: Timestamp) -> bool {
        while !self.removed && self.earliest_timer <= now.0 {
            let due = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, t)| t.at <= now)
                .min_by_key(|(_, t)| t.at)
                .map(|(i, _)| i);
            let Some(i) = due else {
                break;
            };
            let timer = self.remove_timer(i);
            self.fire(timer);
        }
        self.removed
    }

    /// Whether a timer has removed the connection.
    pub fn is_removed(&self) -> bool {
        self.removed
    }

    fn fire(&mut self, timer: Timer) {
        let t = timer.at;
        match timer.kind {
            TimerKind::Attempt => self.attempt_timer(),
            TimerKind::Expire => self.expire_timer(t),
            TimerKind::Delete => self.removed = true,
            TimerKind::Inactivity => self.inactivity_timer(t),
        }
    }

    /// `TCPSessionAdapter::AttemptTimer`: a SYN (or SYN-ACK) that got no answer at all.
    fn attempt_timer(&mut self) {
        if !self.is_active {
            return;
        }
        let (o, r) = (self.orig_state(), self.resp_state());
        if matches!(o, EndpointState::SynSent | EndpointState::SynAckSent)
            && r == EndpointState::Inactive
        {
            self.is_active = false;
            self.removed = true;
        }
    }

    /// `TCPSessionAdapter::ExpireTimer`: removes a connection idle for
    /// `tcp_connection_linger` that is closed, half-closed, reset, or never did anything.
    fn expire_timer(&mut self, t: Timestamp) {
        if !self.is_active {
            return;
        }
        let o = self.sides[self.orig];
        let r = self.sides[1 - self.orig];
        if self.last_time.0.saturating_add(TCP_CONNECTION_LINGER) < t.0 {
            if o.did_close || r.did_close {
                let inactive = EndpointState::Inactive;
                let reset = EndpointState::Reset;
                if (o.did_close && r.did_close)
                    || o.state == reset
                    || r.state == reset
                    || o.state == inactive
                    || r.state == inactive
                {
                    self.is_active = false;
                    self.removed = true;
                    return;
                }
            }
            if r.state == EndpointState::Inactive && o.state == EndpointState::Inactive {
                self.removed = true;
                return;
            }
        }
        self.add_timer(t, TCP_SESSION_TIMER, TimerKind::Expire);
    }

    /// `Connection::InactivityTimer`.
    fn inactivity_timer(&mut self, t: Timestamp) {
        let due = self.last_time.0.saturating_add(self.inactivity_timeout);
        if due <= t.0 {
            self.removed = true;
        } else {
            self.push_timer(Timer {
                at: Timestamp(due),
                kind: TimerKind::Inactivity,
            });
        }
    }

    /// `TCPSessionAdapter::IsReuse`: whether `seg` (for this connection's endpoints) starts
    /// a new Zeek connection. Only a SYN can; a SYN-ACK only while the originator is
    /// inactive. A SYN whose sequence number is the known initial one is a retransmission,
    /// unless the connection was closed; a SYN that completes a reversed SYN-ACK/SYN pair is
    /// not a reuse either.
    pub fn is_reuse(&self, seg: &TcpSegment) -> bool {
        let f = seg.flags;
        if !f.syn() {
            return false;
        }
        let orig = &self.sides[self.orig];
        let resp = &self.sides[1 - self.orig];
        let mut conn_orig = orig;
        if f.ack() {
            if orig.state != EndpointState::Inactive {
                return false;
            }
            conn_orig = resp;
        }
        let closed = orig.did_close || resp.did_close;
        if !closed {
            if seg.seq == conn_orig.start_seq {
                return false;
            }
            if !f.ack()
                && conn_orig.state == EndpointState::SynAckSent
                && resp.state == EndpointState::Inactive
                && seg.seq == resp.start_seq
            {
                return false;
            }
        }
        true
    }

    /// `TCPSessionAdapter::Process` for a segment from slot `me`.
    fn process(&mut self, me: usize, seg: &TcpSegment, ts: Timestamp) {
        let peer = 1 - me;
        let flags = seg.flags;
        let len = seg.payload_len;
        let base_seq = seg.seq;
        let ack_seq = seg.ack;
        let one_past = base_seq.wrapping_add(segment_len(len, flags));

        self.init_endpoint(me, flags, base_seq, one_past);
        let side = self.sides[me];
        let (rel_seq, _underflow) =
            relative_seq(side.start_seq, base_seq, side.last_seq, side.seq_wraps);

        self.update_history(me, flags, rel_seq, len);
        self.update_window(me, seg.window, flags);

        if !self.sides[0].did_close || !self.sides[1].did_close {
            self.last_time = ts;
        }
        if flags.fin() {
            self.sides[me].fin_cnt = self.sides[me].fin_cnt.wrapping_add(1);
        }
        if flags.ack() {
            self.note_ack(me, flags, ack_seq);
        }
        // Zeek's `delta_last` only feeds a weird in `UpdateClosedState`.
        let _delta_last = self.update_last_seq(me, one_past, flags, len);
        let close = self.update_state_machine(ts, me, base_seq, len, flags);
        if let Some(gen_event) = close {
            self.connection_closed(me, peer, gen_event);
        }
    }

    /// `init_endpoint`: sets a side's sequence numbers from its first segment (as if a SYN
    /// had been seen one before a mid-stream first segment), and again on a new SYN.
    fn init_endpoint(&mut self, me: usize, flags: TcpFlags, seq: SeqNum, one_past: SeqNum) {
        let side = &mut self.sides[me];
        match side.state {
            EndpointState::Inactive => {
                if flags.syn() {
                    side.init_seqs(seq, one_past);
                } else {
                    // Partial connection; the first packet is not a duplicate.
                    side.init_seqs(seq.wrapping_sub(1), seq);
                }
            }
            EndpointState::SynSent | EndpointState::SynAckSent => {
                if flags.syn() && seq != side.start_seq {
                    side.init_seqs(seq, one_past);
                }
            }
            EndpointState::Established | EndpointState::Partial => {
                if flags.syn() {
                    side.init_seqs(seq, one_past);
                }
            }
            EndpointState::Reset => {
                // A SYN after a RST that set the numbers: the RST may have been injected.
                if flags.syn() && side.prev_state == EndpointState::Inactive {
                    side.init_seqs(seq, one_past);
                }
            }
            EndpointState::Closed => {}
        }
    }

    /// `update_history`: the letters `s h f r` (again when the sequence number differs from
    /// the last of that kind), `a d` (once per side), `i` (FIN+RST) and `q` (SYN with FIN or
    /// RST), once per side.
    fn update_history(&mut self, me: usize, flags: TcpFlags, rel_seq: u64, len: u32) {
        let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
        if bits > 1 {
            if flags.fin() && flags.rst() {
                self.check_history(me, HIST_FIN_RST_PKT, 'I');
            } else {
                self.check_history(me, HIST_MULTI_FLAG_PKT, 'Q');
            }
        } else if bits == 1 {
            if flags.syn() {
                self.history_syn(me, flags.ack(), rel_seq);
            }
            if flags.fin() {
                self.history_fin(me, rel_seq.wrapping_add(u64::from(len)));
            }
            if flags.rst() {
                self.history_rst(me, rel_seq);
            }
        } else if len > 0 {
            self.check_history(me, HIST_DATA_PKT, 'D');
        } else if flags.ack() {
            self.check_history(me, HIST_ACK_PKT, 'A');
        }
    }

    /// `S` (SYN) or `H` (SYN-ACK): logged again for a SYN at another sequence number.
    fn history_syn(&mut self, me: usize, ack: bool, rel_seq: u64) {
        let code = if ack { 'H' } else { 'S' };
        if self.check_history(me, HIST_SYN_PKT, code) && rel_seq != self.sides[me].hist_last_syn {
            self.add_history(me, code);
        }
        self.sides[me].hist_last_syn = rel_seq;
    }

    /// `F`: logged again for a FIN at another sequence number (the FIN's, after the data).
    fn history_fin(&mut self, me: usize, fin_seq: u64) {
        if self.check_history(me, HIST_FIN_PKT, 'F') && fin_seq != self.sides[me].hist_last_fin {
            self.add_history(me, 'F');
        }
        self.sides[me].hist_last_fin = fin_seq;
    }

    /// `R`: logged again for a RST at another sequence number.
    fn history_rst(&mut self, me: usize, rel_seq: u64) {
        if self.check_history(me, HIST_RST_PKT, 'R') && rel_seq != self.sides[me].hist_last_rst {
            self.add_history(me, 'R');
        }
        self.sides[me].hist_last_rst = rel_seq;
    }

    /// `update_window`'s zero-window letter `W`: a zero window advertised without RST, while
    /// the peer has not closed and this side has not reset (logged at 1, 10, 100, ...). The
    /// scaled window is zero exactly when the raw field is (the shift is at most 14).
    fn update_window(&mut self, me: usize, window: u16, flags: TcpFlags) {
        if window == 0
            && !flags.rst()
            && self.sides[1 - me].state != EndpointState::Closed
            && self.sides[me].state != EndpointState::Reset
            && self.sides[me].win0.bump()
        {
            self.add_history(me, 'W');
        }
    }

    /// The ACK half of `Process`: a first ACK toward an inactive peer sets the peer's
    /// numbers (`init_peer`); later ones move its acknowledged point (`update_ack_seq`),
    /// except in RSTs and when the ACK is before the peer's start.
    fn note_ack(&mut self, me: usize, flags: TcpFlags, ack: SeqNum) {
        let peer = &mut self.sides[1 - me];
        if peer.state == EndpointState::Inactive {
            let start = ack.wrapping_sub(1);
            peer.init_seqs(start, start);
            return;
        }
        let (_, underflow) = relative_seq(peer.start_seq, ack, peer.ack_seq, peer.ack_wraps);
        if underflow || flags.rst() {
            return;
        }
        let delta = ack.diff(peer.ack_seq);
        // An ACK of 0 far ahead is more likely broken than a wrap (`update_ack_seq`).
        if ack.raw() == 0 && delta > TOO_LARGE_SEQ_DELTA {
            return;
        }
        if delta > 0 {
            peer.update_ack_seq(ack);
        }
    }

    /// `update_last_seq`: moves the side's highest sequence number, and logs a
    /// retransmission (`T`, at 1, 10, 100, ...) for data at or below it. Returns the
    /// distance from the previous highest.
    fn update_last_seq(&mut self, me: usize, last: SeqNum, flags: TcpFlags, len: u32) -> i32 {
        let side = &mut self.sides[me];
        let delta = last.diff(side.last_seq);
        let too_large = !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta);
        if (flags.syn() || flags.rst()) && too_large {
            // Outlandish SYN/RST sequence numbers are not trusted.
        } else if flags.fin() && side.last_seq == side.start_seq.wrapping_add(1) {
            // Only the SYN and the FIN seen: trust the FIN even backwards (> 2 GB flows).
            side.update_last_seq(last);
        } else if side.state == EndpointState::Reset {
            // Nothing after a RST is trusted.
        } else if delta > 0 {
            side.update_last_seq(last);
        } else if len > 0 && side.rxmt.bump() {
            self.add_history(me, 'T');
        }
        delta
    }

    /// `UpdateStateMachine`: dispatches on the sender's state. Returns `Some(gen_event)`
    /// when the connection is to be reported closed (`do_close`).
    #[allow(clippy::too_many_arguments)]
    fn update_state_machine(
        &mut self,
        ts: Timestamp,
        me: usize,
        base_seq: SeqNum,
        len: u32,
        flags: TcpFlags,
    ) -> Option<bool> {
        let is_orig = self.is_orig(me);
        match self.sides[me].state {
            EndpointState::Inactive => {
                self.update_inactive_state(ts, me, base_seq, len, is_orig, flags)
            }
            EndpointState::SynSent | EndpointState::SynAckSent => {
                self.update_syn_sent_state(me, flags)
            }
            EndpointState::Established | EndpointState::Partial => {
                self.update_established_state(me, flags)
            }
            EndpointState::Closed => self.update_closed_state(me, flags),
            EndpointState::Reset => None,
        }
    }

    /// `UpdateInactiveState`: a side's first segment. A SYN makes the originator SYN_SENT
    /// (SYN_ACK_SENT for a SYN-ACK) and the responder ESTABLISHED; a responder's pure SYN
    /// after the originator's SYN-ACK flips the roles. FIN closes, RST resets (a reject when
    /// it answers a SYN). Anything else makes the side PARTIAL, or ESTABLISHED when it is an
    /// ACK to a peer that sent a SYN-ACK.
    #[allow(clippy::too_many_arguments)]
    fn update_inactive_state(
        &mut self,
        ts: Timestamp,
        me: usize,
        base_seq: SeqNum,
        len: u32,
        is_orig: bool,
        flags: TcpFlags,
    ) -> Option<bool> {
        let peer = 1 - me;
        let mut close = None;
        if flags.syn() {
            if is_orig {
                let state = if flags.ack() {
                    EndpointState::SynAckSent
                } else {
                    EndpointState::SynSent
                };
                self.set_state(me, state);
                self.add_timer(ts, TCP_ATTEMPT_DELAY, TimerKind::Attempt);
            } else {
                if !flags.ack()
                    && self.sides[peer].state == EndpointState::SynAckSent
                    && base_seq == self.sides[me].start_seq
                {
                    // A SYN/SYN-ACK reversal: flip and establish.
                    self.flip_roles();
                    self.set_state(peer, EndpointState::Established);
                }
                if self.sides[peer].state == EndpointState::SynSent {
                    self.set_state(peer, EndpointState::Established);
                }
                self.set_state(me, EndpointState::Established);
            }
        }
        if flags.fin() {
            self.set_state(me, EndpointState::Closed);
            close = Some(true);
        }
        if flags.rst() {
            self.set_state(me, EndpointState::Reset);
            let peer_state = self.sides[peer].state;
            let is_reject = if is_orig {
                // A reverse scan: SYN-ACK seen, then the originator's RST.
                peer_state == EndpointState::Established
            } else {
                matches!(
                    peer_state,
                    EndpointState::SynSent | EndpointState::SynAckSent
                )
            };
            close = Some(!is_reject);
        }
        if self.sides[me].state == EndpointState::Inactive {
            let orig_state = self.orig_state();
            if !is_orig && len == 0 && orig_state == EndpointState::SynSent {
                // An ACK to a SYN before the SYN-ACK: not a partial connection.
            } else if flags.ack() && self.sides[peer].state == EndpointState::Established {
                // Missed the SYN; the SYN-ACK and this ACK establish the connection.
                self.set_state(me, EndpointState::Established);
            } else {
                self.set_state(me, EndpointState::Partial);
            }
        }
        close
    }

    /// `UpdateSYN_SentState`: FIN closes, RST resets.
    fn update_syn_sent_state(&mut self, me: usize, flags: TcpFlags) -> Option<bool> {
        let mut close = None;
        if flags.fin() {
            self.set_state(me, EndpointState::Closed);
            close = Some(true);
        }
        if flags.rst() {
            self.set_state(me, EndpointState::Reset);
            self.is_active = false; // ConnectionReset
            close = Some(close.unwrap_or(false));
        }
        close
    }

    /// `UpdateEstablishedState`: a pure SYN from a partial side facing an inactive peer makes
    /// it SYN_SENT; FIN closes (and turns a peer's FIN-then-RST back into a close); RST
    /// resets.
    fn update_established_state(&mut self, me: usize, flags: TcpFlags) -> Option<bool> {
        let peer = 1 - me;
        let mut close = None;
        if flags.syn()
            && self.sides[me].state == EndpointState::Partial
            && self.sides[peer].state == EndpointState::Inactive
            && !flags.ack()
        {
            self.set_state(me, EndpointState::SynSent);
        }
        if flags.fin() && !flags.rst() {
            self.set_state(me, EndpointState::Closed);
            let p = self.sides[peer];
            if p.state == EndpointState::Reset && p.prev_state == EndpointState::Closed {
                // The peer's FIN then RST was a normal termination after all.
                self.set_state(peer, EndpointState::Closed);
            }
            close = Some(true);
        }
        if flags.rst() {
            self.set_state(me, EndpointState::Reset);
            let p = self.sides[peer];
            if p.state != EndpointState::Reset || p.prev_state != EndpointState::Established {
                self.is_active = false; // ConnectionReset
            }
            close = Some(close.unwrap_or(false));
        }
        close
    }

    /// `UpdateClosedState`: a RST after this side's FIN resets it, unless the peer has
    /// closed too (the FIN exchange already ended the connection).
    fn update_closed_state(&mut self, me: usize, flags: TcpFlags) -> Option<bool> {
        if flags.rst() && self.sides[1 - me].state != EndpointState::Closed {
            self.set_state(me, EndpointState::Reset);
            if !self.sides[me].did_close {
                return Some(false);
            }
        }
        None
    }

    /// `ConnectionClosed` (without reassembly, nothing is pending): the side is marked
    /// closed once; when the close is complete (this side reset, the peer closed too, or the
    /// peer never spoke) the analyzer timers are canceled and the connection is removed
    /// `tcp_close_delay` after its last packet; otherwise an `ExpireTimer` watches it.
    fn connection_closed(&mut self, me: usize, peer: usize, gen_event: bool) {
        if self.sides[me].did_close {
            return;
        }
        self.sides[me].did_close = true;
        let p = self.sides[peer];
        let s = self.sides[me];
        let complete =
            s.state == EndpointState::Reset || p.did_close || p.state == EndpointState::Inactive;
        let last = self.last_time;
        if complete {
            if gen_event
                && (s.prev_state != EndpointState::Inactive || p.state != EndpointState::Inactive)
            {
                self.is_active = false; // ConnectionFinished
            }
            self.retain_timers(|t| t.kind == TimerKind::Inactivity);
            self.add_timer(last, TCP_CLOSE_DELAY, TimerKind::Delete);
        } else if s.prev_state != EndpointState::Inactive {
            self.add_timer(last, TCP_SESSION_TIMER, TimerKind::Expire);
        }
    }
}

/// The `conn_state` function of scripts/base/protocols/conn/main.zeek, from the two
/// endpoint states, their sizes, and the history (for RSTOS0).
pub fn conn_state_of(
    os: EndpointState,
    rs: EndpointState,
    orig_size: u64,
    resp_size: u64,
    history: &str,
) -> ConnState {
    use EndpointState as E;
    let o_inactive = matches!(os, E::Inactive | E::Partial);
    let r_inactive = matches!(rs, E::Inactive | E::Partial);
    if rs == E::Reset {
        if matches!(os, E::SynSent | E::SynAckSent)
            || (os == E::Reset && orig_size == 0 && resp_size == 0)
        {
            ConnState::REJ
        } else if o_inactive {
            ConnState::RSTRH
        } else {
            ConnState::RSTR
        }
    } else if os == E::Reset {
        if r_inactive {
            if history_is_syn_then_rst(history) {
                ConnState::RSTOS0
            } else {
                ConnState::OTH
            }
        } else {
            ConnState::RSTO
        }
    } else if rs == E::Closed && os == E::Closed {
        ConnState::SF
    } else if os == E::Closed {
        if r_inactive {
            ConnState::SH
        } else {
            ConnState::S2
        }
    } else if rs == E::Closed {
        if o_inactive {
            ConnState::SHR
        } else {
            ConnState::S3
        }
    } else if os == E::SynSent && rs == E::Inactive {
        ConnState::S0
    } else if os == E::Established && rs == E::Established {
        ConnState::S1
    } else {
        ConnState::OTH
    }
}

/// The RSTOS0 pattern `/\^?S[^HAFGIQ]*R.*/` (anchored, as Zeek's `pattern == string` is):
/// an optional flip mark, the originator's SYN, then its RST before any of the originator's
/// SYN-ACK, ACK, FIN, gap, FIN+RST or multi-flag letters.
fn history_is_syn_then_rst(history: &str) -> bool {
    let rest = history.strip_prefix('^').unwrap_or(history);
    let Some(rest) = rest.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

/// A finished (or still open) Zeek connection and where it came from.
#[derive(Debug, Clone)]
pub struct ZeekRecord {
    /// The Wireshark stream of the connection's first packet.
    pub stream: StreamId,
    pub conn: ZeekConn,
}

/// Zeek's session table: splits the segments of a capture into Zeek connections (see the
/// module documentation). Feed every TCP segment in file order with the stream the
/// [`crate::flow::FlowTable`] gave it, then [`ZeekTracker::finish`].
#[derive(Debug, Default)]
pub struct ZeekTracker {
    config: ZeekConfig,
    /// The current Zeek connection of each endpoint pair: index into `records`.
    current: HashMap<FlowKey, usize>,
    /// The same, by stream: what `current` held for the stream's key at its last packet.
    /// A stream's packets all have one key, and once the flow table opens a new stream on a
    /// key it sends nothing more to the old one; so only a stream's first packet needs the
    /// hash table (the others, nearly all, skip building and hashing the key).
    by_stream: Vec<Option<usize>>,
    records: Vec<ZeekRecord>,
    /// Zeek's network time: the latest packet time so far (it never goes back).
    now: Option<Timestamp>,
}

impl ZeekTracker {
    /// An empty table.
    pub fn new(config: ZeekConfig) -> Self {
        ZeekTracker {
            config,
            ..ZeekTracker::default()
        }
    }

    /// Processes one segment; returns the index of its Zeek connection in
    /// [`ZeekTracker::records`]. `stream` is the segment's stream in the [`FlowTable`]
    /// (crate::flow::FlowTable) fed the same segments: all of a stream's segments must be
    /// between the same two endpoints.
    pub fn push(&mut self, stream: StreamId, seg: &TcpSegment, ts: Timestamp) -> usize {
        self.push_checked(stream, seg, ts, true)
    }

    /// [`ZeekTracker::push`] with the segment's TCP checksum status: a segment with a bad
    /// checksum still finds or starts its connection, then only logs `C`/`c`.
    pub fn push_checked(
        &mut self,
        stream: StreamId,
        seg: &TcpSegment,
        ts: Timestamp,
        checksum_ok: bool,
    ) -> usize {
        let now = self.now.map_or(ts, |n| n.max(ts));
        self.now = Some(now);
        let slot = stream.index();
        if self.by_stream.len() <= slot {
            self.by_stream.resize(slot + 1, None);
        }
        let current = match self.by_stream.get(slot).copied().flatten() {
            Some(i) => Some(i),
            None => self.current.get(&FlowKey::of(seg).0).copied(),
        };
        let existing = current.filter(|&i| {
            self.records
                .get_mut(i)
                .is_some_and(|r| !r.conn.run_timers(now) && !r.conn.is_reuse(seg))
        });
        let index = match existing {
            Some(i) => i,
            None => {
                let i = self.records.len();
                self.records.push(ZeekRecord {
                    stream,
                    conn: ZeekConn::new(self.config, seg, now),
                });
                self.current.insert(FlowKey::of(seg).0, i);
                i
            }
        };
        if let Some(cached) = self.by_stream.get_mut(slot) {
            *cached = Some(index);
        }
        if let Some(r) = self.records.get_mut(index) {
            if checksum_ok {
                r.conn.push(seg, now);
            } else {
                r.conn.push_bad_checksum(seg);
            }
        }
        index
    }

    /// The Zeek connections so far, in order of their first packet.
    pub fn records(&self) -> &[ZeekRecord] {
        &self.records
    }

    /// Makes room for `connections` more connections.
    pub fn reserve(&mut self, connections: usize) {
        self.current.reserve(connections);
        self.by_stream.reserve(connections);
        self.records.reserve(connections);
    }

    /// Hands over the Zeek connections (Zeek logs the ones still open at the end of the
    /// capture with their state at that point), without spare room.
    pub fn finish(self) -> Vec<ZeekRecord> {
        let mut records = self.records;
        records.shrink_to_fit();
        records
    }
}

/// Whether the TCP checksum of `seg` is right, from the captured bytes of its record
/// (`data`, as given to the dissector). `None` when it cannot be told: the segment is cut
/// short by the snaplen (Zeek does not check those either), or its header is not where the
/// segment says. IP fragments reassembled by the dissector are not in the record: `None`.
pub fn tcp_checksum_ok(seg: &TcpSegment, data: &[u8]) -> Option<bool> {
    if seg.truncated {
        return None;
    }
    let header_len = u32::from(seg.header_len);
    let start = seg.payload_offset.checked_sub(header_len)?;
    let tcp_len = header_len.checked_add(seg.payload_len)?;
    let end = start.checked_add(tcp_len)?;
    let bytes = data.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)?;
    let mut sum: u64 = 0;
    let mut add = |b: &[u8]| {
        for pair in b.chunks(2) {
            let hi = u64::from(pair.first().copied().unwrap_or(0));
            let lo = u64::from(pair.get(1).copied().unwrap_or(0));
            sum += (hi << 8) | lo;
        }
    };
    match (seg.src, seg.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        _ => return None,
    }
    add(&[0, 6]);
    add(&tcp_len.to_be_bytes());
    add(bytes);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    Some(sum == 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::TcpOptions;
    use std::net::Ipv4Addr;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    /// Near 2^32 on purpose: the handshake and the data cross the wrap.
    const C_ISN: u32 = u32::MAX - 2;
    const S_ISN: u32 = u32::MAX - 100;

    /// `zeek -b`: no likely server ports, so the first packet's sender stays the originator.
    const BARE: ZeekConfig = ZeekConfig {
        server_ports: ServerPorts::None,
    };

    const SYN: u16 = TcpFlags::SYN;
    const ACK: u16 = TcpFlags::ACK;
    const FIN: u16 = TcpFlags::FIN;
    const RST: u16 = TcpFlags::RST;
    const PSH: u16 = TcpFlags::PSH;

    const TEMPLATE: TcpSegment = TcpSegment {
        src: CLIENT,
        dst: SERVER,
        src_port: 40000,
        dst_port: 80,
        seq: SeqNum(0),
        ack: SeqNum(0),
        flags: TcpFlags(0),
        window: 1000,
        payload_len: 0,
        header_len: 20,
        options: TcpOptions::NONE,
        ttl: 64,
        ip_id: None,
        payload_offset: 0,
        truncated: false,
    };

    /// Client to server: flags, seq offset from the client ISN, ack offset from the server
    /// ISN, payload length.
    fn c(flags: u16, seq: u32, ack: u32, len: u32) -> TcpSegment {
        TcpSegment {
            flags: TcpFlags(flags),
            seq: SeqNum(C_ISN.wrapping_add(seq)),
            ack: SeqNum(S_ISN.wrapping_add(ack)),
            payload_len: len,
            ..TEMPLATE
        }
    }

    /// Server to client.
    fn s(flags: u16, seq: u32, ack: u32, len: u32) -> TcpSegment {
        TcpSegment {
            src: SERVER,
            dst: CLIENT,
            src_port: 80,
            dst_port: 40000,
            flags: TcpFlags(flags),
            seq: SeqNum(S_ISN.wrapping_add(seq)),
            ack: SeqNum(C_ISN.wrapping_add(ack)),
            payload_len: len,
            ..TEMPLATE
        }
    }

    /// Runs the segments 1 ms apart through one connection (bare mode unless said).
    fn run_with(config: ZeekConfig, segs: &[TcpSegment]) -> ZeekConn {
        let mut conn = ZeekConn::new(config, &segs[0], Timestamp(0));
        for (i, seg) in segs.iter().enumerate() {
            conn.push(seg, Timestamp(i as i64 * 1_000_000));
        }
        conn
    }

    fn run(segs: &[TcpSegment]) -> (String, &'static str) {
        let conn = run_with(BARE, segs);
        (conn.history(), conn.conn_state().as_str())
    }

    fn handshake() -> Vec<TcpSegment> {
        vec![c(SYN, 0, 0, 0), s(SYN | ACK, 0, 1, 0), c(ACK, 1, 1, 0)]
    }

    #[test]
    fn s0_syn_only() {
        assert_eq!(run(&[c(SYN, 0, 0, 0)]), ("S".into(), "S0"));
    }

    #[test]
    fn s1_established() {
        let mut v = handshake();
        v.push(c(ACK | PSH, 1, 1, 10));
        v.push(s(ACK, 1, 11, 0));
        assert_eq!(run(&v), ("ShADa".into(), "S1"));
    }

    #[test]
    fn sf_normal_close_across_the_wrap() {
        let mut v = handshake();
        v.push(c(ACK | PSH, 1, 1, 100));
        v.push(s(ACK | PSH, 1, 101, 50));
        v.push(c(FIN | ACK, 101, 51, 0));
        v.push(s(FIN | ACK, 51, 102, 0));
        v.push(c(ACK, 102, 52, 0));
        // The client's last ACK adds nothing: its `A` is already logged.
        assert_eq!(run(&v), ("ShADdFf".into(), "SF"));
    }

    #[test]
    fn rej_rst_answers_syn() {
        assert_eq!(
            run(&[c(SYN, 0, 0, 0), s(RST | ACK, 0, 1, 0)]),
            ("Sr".into(), "REJ")
        );
    }

    #[test]
    fn s2_originator_fin_unanswered() {
        let mut v = handshake();
        v.push(c(FIN | ACK, 1, 1, 0));
        assert_eq!(run(&v), ("ShAF".into(), "S2"));
    }

    #[test]
    fn s3_responder_fin_unanswered() {
        let mut v = handshake();
        v.push(s(FIN | ACK, 1, 1, 0));
        assert_eq!(run(&v), ("ShAf".into(), "S3"));
    }

    #[test]
    fn rsto_originator_aborts() {
        let mut v = handshake();
        v.push(c(RST | ACK, 1, 1, 0));
        assert_eq!(run(&v), ("ShAR".into(), "RSTO"));
    }

    #[test]
    fn rstr_responder_aborts() {
        let mut v = handshake();
        v.push(s(RST, 1, 0, 0));
        assert_eq!(run(&v), ("ShAr".into(), "RSTR"));
    }

    #[test]
    fn rstos0_syn_then_rst() {
        assert_eq!(
            run(&[c(SYN, 0, 0, 0), c(RST, 1, 0, 0)]),
            ("SR".into(), "RSTOS0")
        );
    }

    #[test]
    fn rstrh_synack_then_rst_mid_capture() {
        // Bare mode: the SYN-ACK sender stays the originator, so flip by port instead.
        let config = ZeekConfig {
            server_ports: ServerPorts::Base,
        };
        let conn = run_with(config, &[s(SYN | ACK, 0, 1, 0), s(RST, 1, 0, 0)]);
        assert_eq!(conn.history(), "^hr");
        assert_eq!(conn.conn_state(), ConnState::RSTRH);
        assert_eq!(conn.originator(), (CLIENT, 40000));
    }

    #[test]
    fn sh_syn_then_fin() {
        assert_eq!(
            run(&[c(SYN, 0, 0, 0), c(FIN, 1, 0, 0)]),
            ("SF".into(), "SH")
        );
    }

    #[test]
    fn shr_synack_then_fin() {
        let config = ZeekConfig {
            server_ports: ServerPorts::Base,
        };
        let conn = run_with(config, &[s(SYN | ACK, 0, 1, 0), s(FIN | ACK, 1, 1, 0)]);
        assert_eq!(conn.history(), "^hf");
        assert_eq!(conn.conn_state(), ConnState::SHR);
    }

    #[test]
    fn oth_mid_stream() {
        // Starts mid-capture with data, both ways, no SYN.
        let (h, st) = run(&[c(ACK | PSH, 500, 500, 10), s(ACK, 500, 510, 0)]);
        assert_eq!((h.as_str(), st), ("Da", "OTH"));
    }

    #[test]
    fn lone_rst_is_oth() {
        assert_eq!(run(&[c(RST, 5, 0, 0)]), ("R".into(), "OTH"));
    }

    #[test]
    fn flip_on_likely_server_port_only_with_base_scripts() {
        let mid = [s(ACK | PSH, 1, 1, 10), c(ACK, 1, 11, 0)];
        let bare = run_with(BARE, &mid);
        assert_eq!(bare.history(), "Da");
        assert_eq!(bare.originator(), (SERVER, 80));
        let base = run_with(
            ZeekConfig {
                server_ports: ServerPorts::Base,
            },
            &mid,
        );
        assert_eq!(base.history(), "^dA");
        assert_eq!(base.originator(), (CLIENT, 40000));
    }

    #[test]
    fn syn_synack_reversal_flips() {
        // The SYN-ACK is captured before the SYN (zeek: core.connection_flipped).
        let v = [s(SYN | ACK, 0, 1, 0), c(SYN, 0, 0, 0), c(ACK, 1, 1, 0)];
        let conn = run_with(BARE, &v);
        assert_eq!(conn.history(), "Hs^A");
        assert_eq!(conn.originator(), (CLIENT, 40000));
        assert_eq!(conn.conn_state(), ConnState::S1);
    }

    #[test]
    fn repeated_syn_same_seq_logged_once_new_seq_again() {
        let (h, _) = run(&[c(SYN, 0, 0, 0), c(SYN, 0, 0, 0)]);
        assert_eq!(h, "S");
        // A new ISN while SYN_SENT re-initializes the side (`init_endpoint`): relative
        // sequence 0 again, so no second letter.
        let (h, _) = run(&[c(SYN, 0, 0, 0), c(SYN, 7, 0, 0)]);
        assert_eq!(h, "S");
        // After a FIN the side keeps its numbers: a SYN elsewhere is logged again.
        let (h, _) = run(&[c(SYN, 0, 0, 0), c(FIN, 1, 0, 0), c(SYN, 7, 0, 0)]);
        assert_eq!(h, "SFS");
    }

    #[test]
    fn repeated_rst_and_fin_letters() {
        let mut v = handshake();
        v.push(c(RST, 1, 0, 0));
        v.push(c(RST, 1, 0, 0));
        v.push(c(RST, 9, 0, 0));
        assert_eq!(run(&v).0, "ShARR");
        let mut v = handshake();
        v.push(c(FIN | ACK, 1, 1, 0));
        v.push(c(FIN | ACK, 1, 1, 0));
        assert_eq!(run(&v).0, "ShAF");
    }

    #[test]
    fn retransmissions_logged_at_1_10_100() {
        let mut v = handshake();
        v.push(c(ACK | PSH, 1, 1, 10));
        for _ in 0..100 {
            v.push(c(ACK | PSH, 1, 1, 10));
        }
        assert_eq!(run(&v).0, "ShADTTT");
        let mut v = handshake();
        v.push(c(ACK | PSH, 1, 1, 10));
        for _ in 0..99 {
            v.push(c(ACK | PSH, 1, 1, 10));
        }
        assert_eq!(run(&v).0, "ShADTT");
    }

    #[test]
    fn zero_window_letter() {
        let mut v = handshake();
        v.push(TcpSegment {
            window: 0,
            ..s(ACK, 1, 1, 0)
        });
        assert_eq!(run(&v).0, "ShAaw");
    }

    #[test]
    fn multi_flag_letters() {
        assert_eq!(run(&[c(SYN | FIN, 0, 0, 0)]).0, "Q");
        assert_eq!(run(&[c(FIN | RST, 0, 0, 0)]).0, "I");
        assert_eq!(run(&[c(SYN | RST, 0, 0, 0), c(SYN | RST, 0, 0, 0)]).0, "Q");
    }

    #[test]
    fn bad_checksum_letters_scale() {
        let mut conn = ZeekConn::new(BARE, &c(SYN, 0, 0, 0), Timestamp(0));
        for _ in 0..10 {
            conn.push_bad_checksum(&c(SYN, 0, 0, 0));
        }
        conn.push_bad_checksum(&s(SYN | ACK, 0, 1, 0));
        assert_eq!(conn.history(), "CCc");
        assert_eq!(conn.conn_state(), ConnState::OTH);
    }

    #[test]
    fn reuse_after_close_and_new_isn() {
        let mut v = handshake();
        v.push(c(FIN | ACK, 1, 1, 0));
        let conn = run_with(BARE, &v);
        assert!(!conn.is_reuse(&c(ACK, 2, 1, 0)));
        assert!(conn.is_reuse(&c(SYN, 0, 0, 0)), "closed: even the same ISN");
        let open = run_with(BARE, &handshake());
        assert!(!open.is_reuse(&c(SYN, 0, 0, 0)), "a retransmitted SYN");
        assert!(open.is_reuse(&c(SYN, 1000, 0, 0)), "a new ISN");
    }

    #[test]
    fn tracker_splits_after_close_delay() {
        let mut t = ZeekTracker::new(BARE);
        let stream = StreamId(0);
        // A lone RST every minute, as in Zeek's llc.pcap: one connection each.
        for i in 0..3 {
            t.push(stream, &c(RST, 5, 0, 0), Timestamp(i * 60 * SECOND));
        }
        let recs = t.finish();
        assert_eq!(recs.len(), 3);
        assert!(recs.iter().all(|r| r.conn.history() == "R"));
    }

    #[test]
    fn tracker_attempt_timer_removes_unanswered_syn() {
        let mut t = ZeekTracker::new(BARE);
        t.push(StreamId(0), &c(SYN, 0, 0, 0), Timestamp(0));
        t.push(StreamId(0), &c(ACK, 1, 1, 0), Timestamp(6 * SECOND));
        let recs = t.finish();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].conn.conn_state(), ConnState::S0);
    }

    #[test]
    fn size_and_rej_for_two_resets() {
        // Both sides reset with no data: REJ.
        let st = conn_state_of(EndpointState::Reset, EndpointState::Reset, 0, 0, "Rr");
        assert_eq!(st, ConnState::REJ);
        let st = conn_state_of(EndpointState::Reset, EndpointState::Reset, 5, 0, "Rr");
        assert_eq!(st, ConnState::RSTR);
    }

    #[test]
    fn rstos0_pattern() {
        assert!(history_is_syn_then_rst("SR"));
        assert!(history_is_syn_then_rst("^SdR"));
        assert!(!history_is_syn_then_rst("SaFR"));
        assert!(!history_is_syn_then_rst("R"));
        assert!(!history_is_syn_then_rst("SAR"));
    }

    #[test]
    fn never_panics_on_odd_segments() {
        let odd = [
            c(0, 0, 0, 0),
            c(0xfff, u32::MAX, u32::MAX, u32::MAX),
            s(SYN | ACK | FIN | RST, 1 << 31, 1 << 31, 65535),
            c(ACK, 1 << 31, 0, 0),
            s(0, 0, 0, 0),
        ];
        for a in &odd {
            let mut conn = ZeekConn::new(BARE, a, Timestamp(i64::MAX - 1));
            for b in &odd {
                conn.push(b, Timestamp(i64::MAX));
                conn.push(b, Timestamp(i64::MIN));
                let _ = conn.conn_state();
                let _ = conn.run_timers(Timestamp(i64::MAX));
            }
        }
    }

    #[test]
    fn checksum_of_a_built_segment() {
        // 20-byte TCP header in a buffer, checksum filled in by hand.
        let mut bytes = vec![0u8; 20];
        bytes[12] = 5 << 4;
        let seg = TcpSegment {
            payload_offset: 20,
            ..c(SYN, 0, 0, 0)
        };
        bytes[4..8].copy_from_slice(&seg.seq.raw().to_be_bytes());
        bytes[13] = 0x02;
        assert_eq!(tcp_checksum_ok(&seg, &bytes), Some(false));
        // Fix the checksum: ones' complement of the sum.
        let mut sum: u32 = 0;
        for pair in [10u8, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20]
            .chunks(2)
            .chain(bytes.chunks(2))
        {
            sum += u32::from(pair[0]) << 8 | u32::from(pair[1]);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let ck = !(sum as u16);
        bytes[16..18].copy_from_slice(&ck.to_be_bytes());
        assert_eq!(tcp_checksum_ok(&seg, &bytes), Some(true));
        assert_eq!(tcp_checksum_ok(&seg, &bytes[..10]), None);
    }
}
