//! Synthetic traffic: a deterministic simulation of a busy network segment, captured next to
//! the clients and written as a pcap or pcapng file as it goes. It makes the benchmarks' large
//! captures (`examples/gen_capture`, `make bench`) and the small capture the page's worker
//! analyses when it starts, so that the browser has compiled the analysis's hot code to its
//! optimised tier before the person's first file (`web::worker`).
//!
//! Every TCP connection is a script of actions (handshake, request/response exchanges, bulk
//! transfers, keep-alives, closes and resets). A connection expands one action at a time into a
//! short queue of packets; a heap merges the queues of all live connections in time order, so
//! memory is bounded by the live connections, not by the file. Packets are built with
//! etherparse's `PacketBuilder` (correct lengths and checksums) and written with
//! [`crate::capture::write`].
//!
//! Times: the capture point sits next to the clients. A client's packet is captured when it is
//! sent, a server's packet when it arrives; one-way delay is half the connection's RTT.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, Write};

use crate::capture::write::{timestamp_units, PcapNgWriter, PcapWriter, DEFAULT_SNAPLEN};
use crate::capture::{LinkType, Timestamp};
use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, IpHeaders, IpNumber, Ipv4Header,
    PacketBuilder, TcpOptionElement,
};

const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// 2026-01-05T09:00:00Z, the first packet's time stamp.
const EPOCH_NS: i64 = 1_767_603_600 * 1_000_000_000;

/// Average bytes per packet (record header included) of the traffic mix below, measured
/// (`gen_capture` prints it): turns a byte budget into a packet estimate for the plan.
const AVG_RECORD_BYTES: f64 = 242.0;
/// Average packets of a non-elephant TCP connection of the mix below, measured likewise:
/// sets the connection arrival rate.
const AVG_CONN_PACKETS: f64 = 30.0;
/// Packets per second of the whole capture: sets its duration (5 M packets: about 10 minutes).
const PACKETS_PER_SECOND: f64 = 8_000.0;
/// Share of the packets carried by each long-lived "elephant" connection (four of them).
const ELEPHANT_SHARE: f64 = 0.028;
/// Share of the packets that are not TCP (DNS over UDP, ARP).
const OTHER_SHARE: f64 = 0.015;

/// Linux's minimum retransmission timeout (`TCP_RTO_MIN`).
const RTO_MIN: u64 = 200 * MS;
/// Linux's delayed-ACK timeout (`TCP_DELACK_MAX` is 200 ms; 40 ms is the usual minimum).
const DELACK: u64 = 40 * MS;
/// Linux's initial congestion window (RFC 6928), and the cap this model uses.
const INIT_CWND: u32 = 10;
const MAX_CWND: u32 = 64;
/// The raw window most ACKs advertise, scaled by 2^7 (Linux's default receive window).
const RAW_WINDOW: u16 = 502;
const WSCALE: u8 = 7;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// Clients and servers of the simulated network.
const CLIENT_HOSTS: usize = 3_000;
const SERVER_HOSTS: usize = 300;
/// Every service speaks TLS (a service mesh): HTTPS, gRPC, the Kubernetes API, etcd, ...
const SERVICE_PORTS: [u16; 12] = [
    443, 443, 443, 443, 8443, 9443, 6443, 50051, 7443, 4443, 10250, 2379,
];
const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// The container written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Stop once the file has at least this many bytes.
    Bytes(u64),
    /// Stop after exactly this many packets.
    Packets(u64),
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub seed: u64,
    pub limit: Limit,
    pub format: Format,
}

/// The kinds of connection the mix holds (see [`Kind::WEIGHTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Short request/response exchanges (database, cache, RPC), graceful close.
    Rpc,
    /// Web-like exchanges with larger responses; some idle with keep-alives.
    Web,
    /// A download of 50 kB to 2 MB.
    Download,
    /// SYN answered by RST/ACK: nothing listens on the port.
    Refused,
    /// Idle connection kept up by keep-alives.
    KeepAlive,
    /// The client aborts a download: RST mid-stream, then RSTs to the data still in flight.
    Abort,
    /// The server forgot the connection while it was idle: data after idle gets a RST.
    RstAfterIdle,
    /// The server closed; the client writes anyway and gets a RST.
    DataAfterFin,
    /// A middlebox injects a RST (different TTL) into a download.
    Forged,
    /// The server vanished: the client's data is retransmitted unanswered, then it resets.
    RetransRst,
    /// One of many connections to one server that resets them all within milliseconds.
    Burst,
    /// A long-lived connection with 100 000+ packets (at 1 GB).
    Elephant,
}

impl Kind {
    /// Relative weights of new (non-elephant, non-burst) connections.
    const WEIGHTS: [(Kind, u32); 10] = [
        (Kind::Rpc, 600),
        (Kind::Web, 25),
        (Kind::Download, 1),
        (Kind::Refused, 60),
        (Kind::KeepAlive, 40),
        (Kind::Abort, 15),
        (Kind::RstAfterIdle, 30),
        (Kind::DataAfterFin, 25),
        (Kind::Forged, 6),
        (Kind::RetransRst, 20),
    ];

    /// Index into [`Stats::connections_by_kind`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// All kinds, in index order.
    pub const ALL: [Kind; 12] = [
        Kind::Rpc,
        Kind::Web,
        Kind::Download,
        Kind::Refused,
        Kind::KeepAlive,
        Kind::Abort,
        Kind::RstAfterIdle,
        Kind::DataAfterFin,
        Kind::Forged,
        Kind::RetransRst,
        Kind::Burst,
        Kind::Elephant,
    ];
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub packets: u64,
    pub tcp_packets: u64,
    pub other_packets: u64,
    pub rst_packets: u64,
    pub bytes: u64,
    /// TCP connections that put at least one packet in the file.
    pub connections: u64,
    pub ipv6_connections: u64,
    pub connections_by_kind: [u64; 12],
    pub packets_by_kind: [u64; 12],
    pub bytes_by_kind: [u64; 12],
    /// Packets of the largest connections, largest first (at most 5).
    pub largest: Vec<u64>,
    /// From the first to the last packet.
    pub duration_ns: u64,
    /// The duration the plan aimed at (elephants are paced to it).
    pub planned_duration_ns: u64,
}

/// The capture the page's worker analyses when it starts, before the person's first file
/// (`web::worker`): 2 MB of the mix (about 280 connections, every kind of [`Kind`], IPv4 and
/// IPv6), seed 1.
pub fn warm_up() -> Vec<u8> {
    in_memory(2_000_000, 1)
}

/// A pcap capture of the mix made in memory, of at least `bytes` bytes (the first packet that
/// reaches the size is the last), from `seed`.
pub fn in_memory(bytes: u64, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(bytes).unwrap_or(0).saturating_add(2048));
    let cfg = Config {
        seed,
        limit: Limit::Bytes(bytes),
        format: Format::Pcap,
    };
    // Writing into a vector cannot fail.
    let _ = Generator::new(cfg, &mut out).run();
    out
}

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Inclusive range.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Log-uniform between `lo` and `hi`: many small values, a long tail.
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }

    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    None,
    Syn,
    Ts,
    Sack(u32, u32),
}

/// One TCP segment to write.
#[derive(Debug, Clone, Copy)]
struct Seg {
    t: u64,
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    win: u16,
    len: u16,
    opt: Opt,
    /// A TTL other than the sender's (an injected packet).
    ttl: Option<u8>,
}

impl Seg {
    /// A reset (`flags` RST, perhaps with ACK) from one side, with no payload, window or
    /// options, at the sender's TTL.
    fn reset(t: u64, from_client: bool, flags: u8, seq: u32, ack: u32) -> Seg {
        Seg {
            t,
            from_client,
            flags,
            seq,
            ack,
            win: 0,
            len: 0,
            opt: Opt::None,
            ttl: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    Tcp(Seg),
    Dns { t: u64, query: bool, id: u16 },
    Arp { t: u64, reply: bool },
}

impl Frame {
    fn t(&self) -> u64 {
        match *self {
            Frame::Tcp(s) => s.t,
            Frame::Dns { t, .. } | Frame::Arp { t, .. } => t,
        }
    }

    fn set_t(&mut self, new: u64) {
        match self {
            Frame::Tcp(s) => s.t = new,
            Frame::Dns { t, .. } | Frame::Arp { t, .. } => *t = new,
        }
    }
}

/// One endpoint's TCP state, as the model needs it.
#[derive(Debug, Clone, Copy, Default)]
struct Peer {
    /// Next sequence number to send.
    nxt: u32,
    /// Next sequence number expected from the other side (what ACKs carry).
    rcv: u32,
    /// Raw window advertised.
    win: u16,
    ttl: u8,
    ts_base: u32,
    ip_id: u16,
}

/// What a segment sender's flight should suffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impair {
    None,
    /// Segment k is lost (before the capture point when the server sends, after it when the
    /// client does) and retransmitted: fast, after three duplicate ACKs, or on timeout.
    Loss(usize),
    /// Segments k and k+1 arrive swapped.
    Swap(usize),
}

#[derive(Debug, Clone, Copy)]
struct FlightSpec<'a> {
    from_client: bool,
    t0: u64,
    /// Time between segments at the sender.
    gap: u64,
    lens: &'a [u16],
    imp: Impair,
    /// Delay of the ACK of a last odd segment; `None`: it rides on the receiver's next packet.
    trailing_ack: Option<u64>,
    psh_each: bool,
    /// The receiver's last ACK advertises a zero window.
    zero_window: bool,
}

#[derive(Debug, Clone, Copy)]
struct FlightOut {
    /// When the receiver had all of it (receiver's clock, i.e. the capture clock shifted).
    last_recv: u64,
    last_cap: u64,
    first_ack: Option<u64>,
    last_ack: Option<u64>,
}

/// One step of a connection's script.
#[derive(Debug, Clone, Copy)]
enum Act {
    Handshake,
    Refused,
    Exchange {
        req: u32,
        resp: u32,
        think: u64,
    },
    Bulk {
        left: u64,
        flights: u32,
        abort_at: Option<u32>,
        forged_at: Option<u32>,
    },
    KeepAlives {
        n: u32,
        interval: u64,
    },
    Idle(u64),
    Close {
        client_first: bool,
    },
    RstAfterIdle,
    DataAfterFin,
    RetransRst {
        n: u32,
    },
    ExchangesUntil(u64),
    ServerRstAt(u64),
    /// Elephants: `left` packets still to send until `until`.
    ElephantRpc {
        left: u64,
        until: u64,
    },
    ElephantBulk {
        left: u64,
        until: u64,
    },
    ElephantUpload {
        left: u64,
        until: u64,
    },
}

#[derive(Debug, Clone, Copy)]
enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// A TCP connection (or, with `kind == None`, a non-TCP exchange).
#[derive(Debug)]
struct Conn {
    kind: Option<Kind>,
    client: Addr,
    server: Addr,
    client_mac: [u8; 6],
    cport: u16,
    sport: u16,
    c: Peer,
    s: Peer,
    rtt: u64,
    /// Client's time to answer a received segment.
    ack_delay: u64,
    /// Time between back-to-back segments on the wire.
    wire_gap: u64,
    mss: u16,
    cwnd: u32,
    /// The server's longest time to answer a request.
    process_max: u64,
    /// Where the script is: the next action starts here.
    t: u64,
    /// Time of the last packet queued.
    pushed_t: u64,
    packets: u64,
    queue: VecDeque<Frame>,
    script: VecDeque<Act>,
}

fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl Conn {
    /// Queues the packets of one action in time order. A packet the model placed before one
    /// already queued (e.g. a server answering faster than its own ACK) is moved up to it, so
    /// the connection's packets, and the file, stay in time order.
    fn push(&mut self, mut frames: Vec<Frame>) {
        frames.sort_by_key(Frame::t);
        for f in &mut frames {
            if f.t() < self.pushed_t {
                f.set_t(self.pushed_t);
            }
            self.pushed_t = f.t();
        }
        self.t = self.t.max(self.pushed_t);
        self.queue.extend(frames);
    }

    fn sender(&mut self, from_client: bool) -> &mut Peer {
        if from_client {
            &mut self.c
        } else {
            &mut self.s
        }
    }

    /// A segment from one side carrying its current state; advances its `nxt`.
    fn seg(&mut self, t: u64, from_client: bool, flags: u8, len: u16, opt: Opt) -> Seg {
        let p = self.sender(from_client);
        let seg = Seg {
            t,
            from_client,
            flags,
            seq: p.nxt,
            ack: if flags & ACK != 0 { p.rcv } else { 0 },
            win: if flags & RST != 0 { 0 } else { p.win },
            len,
            opt,
            ttl: None,
        };
        let used = u32::from(len) + u32::from(flags & (SYN | FIN) != 0);
        p.nxt = p.nxt.wrapping_add(used);
        let peer = if from_client {
            &mut self.s
        } else {
            &mut self.c
        };
        if used > 0 && flags & RST == 0 {
            peer.rcv = seg.seq.wrapping_add(used);
        }
        seg
    }

    /// When the side that receives a packet captured at `t` answers, as captured: the client
    /// answers at once; the server's answer is captured a round trip later.
    fn answer(&self, t: u64, by_client: bool) -> u64 {
        if by_client {
            t + self.ack_delay
        } else {
            t + self.rtt
        }
    }

    fn split(&self, len: u64) -> Vec<u16> {
        let mss = u64::from(self.mss);
        let mut lens = Vec::with_capacity(len.div_ceil(mss) as usize);
        let mut left = len;
        while left > 0 {
            let l = left.min(mss);
            lens.push(l as u16);
            left -= l;
        }
        lens
    }

    /// One flight of data segments from one side and the receiver's ACKs (every second
    /// segment, duplicate ACKs with SACK for anything out of order), with the impairment.
    fn flight(&mut self, spec: FlightSpec<'_>) -> FlightOut {
        let near = spec.from_client;
        let half = self.rtt / 2;
        let rtt = self.rtt;
        let d = self.ack_delay;
        let snd = *self.sender(spec.from_client);
        let rcv = if near { self.s } else { self.c };
        let mut frames = Vec::with_capacity(spec.lens.len() * 2 + 4);
        // (capture time, receive time, seq, len)
        let mut segs: Vec<(Option<u64>, Option<u64>, u32, u16)> =
            Vec::with_capacity(spec.lens.len());
        let mut seq = snd.nxt;
        for (i, &len) in spec.lens.iter().enumerate() {
            let t = spec.t0 + i as u64 * spec.gap;
            let lost = spec.imp == Impair::Loss(i);
            let cap = (!lost || near).then_some(t);
            let recv = (!lost).then_some(t + if near { half } else { 0 });
            segs.push((cap, recv, seq, len));
            seq = seq.wrapping_add(u32::from(len));
        }
        if let Impair::Swap(k) = spec.imp {
            if k + 1 < segs.len() {
                let (a, b) = (segs[k], segs[k + 1]);
                segs[k].1 = b.1;
                segs[k + 1].1 = a.1;
                if !near {
                    segs[k].0 = b.0;
                    segs[k + 1].0 = a.0;
                }
            }
        }
        self.sender(spec.from_client).nxt = seq;
        let last = spec.lens.len().saturating_sub(1);
        let data_flags = |i: usize| ACK | if spec.psh_each || i == last { PSH } else { 0 };
        let mut last_cap = spec.t0;
        for (i, s) in segs.iter().enumerate() {
            if let Some(cap) = s.0 {
                last_cap = last_cap.max(cap);
                frames.push(Frame::Tcp(Seg {
                    t: cap,
                    from_client: spec.from_client,
                    flags: data_flags(i),
                    seq: s.2,
                    ack: snd.rcv,
                    win: snd.win,
                    len: s.3,
                    opt: Opt::Ts,
                    ttl: None,
                }));
            }
        }
        let mut rx: Vec<(u64, u32, u16)> = segs
            .iter()
            .filter_map(|s| s.1.map(|r| (r, s.2, s.3)))
            .collect();
        rx.sort_by_key(|r| r.0);
        let lost = match spec.imp {
            Impair::Loss(k) if k < segs.len() => Some(k),
            _ => None,
        };
        let mut retrans: Option<(u64, u64)> = None;
        let mut retrans_done = false;
        let mut st = Recv {
            rcv_nxt: rcv.rcv,
            ooo: None,
            unacked: 0,
            dupacks: 0,
            acks: Vec::new(),
        };
        let mut last_recv = spec.t0;
        let mut i = 0;
        let ack_seg = |t: u64, ack: u32, sack: Option<(u32, u32)>| Seg {
            t,
            from_client: !spec.from_client,
            flags: ACK,
            seq: rcv.nxt,
            ack,
            win: rcv.win,
            len: 0,
            opt: sack.map_or(Opt::Ts, |(l, r)| Opt::Sack(l, r)),
            ttl: None,
        };
        loop {
            let pending_retrans = retrans.filter(|_| !retrans_done);
            let next = match (pending_retrans, rx.get(i)) {
                (Some((rc, rr)), Some(&(r, _, _))) if rr <= r => Some((rc, rr)),
                (_, Some(&x)) => {
                    i += 1;
                    let (r, s, l) = x;
                    self.receive(r, s, l, &mut st, near, &ack_seg);
                    last_recv = last_recv.max(r);
                    if st.dupacks >= 3 && lost.is_some() && retrans.is_none() {
                        // The sender retransmits on the third duplicate ACK.
                        let ack_cap = st.acks.last().map_or(r, |a| a.t);
                        let cap = if near { ack_cap + d } else { ack_cap + rtt };
                        retrans = Some((cap, cap + if near { half } else { 0 }));
                    }
                    None
                }
                (Some(x), None) => Some(x),
                (None, None) => match lost {
                    Some(k) if retrans.is_none() => {
                        // Too few segments after the loss for three duplicate ACKs: the
                        // retransmission timer fires.
                        let sent = spec.t0 + k as u64 * spec.gap;
                        let cap = (sent + RTO_MIN + rtt).max(last_recv + spec.gap);
                        retrans = Some((cap, cap + if near { half } else { 0 }));
                        continue;
                    }
                    _ => break,
                },
            };
            if let Some((rc, rr)) = next {
                retrans_done = true;
                let k = lost.unwrap_or(0);
                let (s, l) = (segs[k].2, segs[k].3);
                frames.push(Frame::Tcp(Seg {
                    t: rc,
                    from_client: spec.from_client,
                    flags: data_flags(k),
                    seq: s,
                    ack: snd.rcv,
                    win: snd.win,
                    len: l,
                    opt: Opt::Ts,
                    ttl: None,
                }));
                last_cap = last_cap.max(rc);
                self.receive(rr, s, l, &mut st, near, &ack_seg);
                last_recv = last_recv.max(rr);
            }
        }
        if st.unacked > 0 {
            let delay = if spec.zero_window {
                Some(d)
            } else {
                spec.trailing_ack
            };
            if let Some(delay) = delay {
                let t = last_recv + delay + if near { half } else { 0 };
                st.acks.push(ack_seg(t, st.rcv_nxt, None));
            }
        }
        if spec.zero_window {
            if let Some(a) = st.acks.last_mut() {
                a.win = 0;
            }
        }
        if near {
            self.s.rcv = st.rcv_nxt;
        } else {
            self.c.rcv = st.rcv_nxt;
        }
        if lost.is_some() {
            self.cwnd = (self.cwnd / 2).max(2);
        }
        let first_ack = st.acks.first().map(|a| a.t);
        let last_ack = st.acks.iter().map(|a| a.t).max();
        frames.extend(st.acks.into_iter().map(Frame::Tcp));
        self.push(frames);
        FlightOut {
            last_recv,
            last_cap,
            first_ack,
            last_ack,
        }
    }

    /// The receiver's reaction to one arriving segment.
    #[allow(clippy::too_many_arguments)]
    fn receive(
        &self,
        r: u64,
        seq: u32,
        len: u16,
        st: &mut Recv,
        near: bool,
        ack_seg: &dyn Fn(u64, u32, Option<(u32, u32)>) -> Seg,
    ) {
        let ack_t = r + self.ack_delay + if near { self.rtt / 2 } else { 0 };
        let end = seq.wrapping_add(u32::from(len));
        if seq == st.rcv_nxt {
            st.rcv_nxt = end;
            if let Some((lo, hi)) = st.ooo {
                if lo == end {
                    st.rcv_nxt = hi;
                    st.ooo = None;
                }
                // Filling (part of) a hole is acknowledged at once.
                let sack = st.ooo;
                st.acks.push(ack_seg(ack_t, st.rcv_nxt, sack));
                st.unacked = 0;
                return;
            }
            st.unacked += 1;
            if st.unacked >= 2 {
                st.acks.push(ack_seg(ack_t, st.rcv_nxt, None));
                st.unacked = 0;
            }
        } else if seq_after(seq, st.rcv_nxt) {
            let block = match st.ooo {
                Some((lo, _)) => (lo, end),
                None => (seq, end),
            };
            st.ooo = Some(block);
            st.dupacks += 1;
            st.acks.push(ack_seg(ack_t, st.rcv_nxt, Some(block)));
        } else {
            st.acks.push(ack_seg(ack_t, st.rcv_nxt, None));
        }
    }

    fn handshake(&mut self, rng: &mut Rng) {
        let t = self.t;
        let mut frames = Vec::with_capacity(4);
        let syn = self.seg(t, true, SYN, 0, Opt::Syn);
        let syn = Seg { win: 64_240, ..syn };
        frames.push(Frame::Tcp(syn));
        let mut t_syn = t;
        if rng.chance(0.004) {
            // The first SYN (or its SYN/ACK) was lost: Linux retransmits after one second.
            t_syn = t + S;
            frames.push(Frame::Tcp(Seg { t: t_syn, ..syn }));
        }
        let synack = self.seg(t_syn + self.rtt, false, SYN | ACK, 0, Opt::Syn);
        frames.push(Frame::Tcp(Seg {
            win: 65_160,
            ..synack
        }));
        let ack = self.seg(synack.t + self.ack_delay, true, ACK, 0, Opt::Ts);
        frames.push(Frame::Tcp(ack));
        self.push(frames);
    }

    fn refused(&mut self) {
        let syn = self.seg(self.t, true, SYN, 0, Opt::Syn);
        let syn = Seg { win: 64_240, ..syn };
        // The server's stack answers a SYN to a closed port with RST/ACK, seq 0.
        let rst = Seg::reset(
            syn.t + self.rtt,
            false,
            RST | ACK,
            0,
            syn.seq.wrapping_add(1),
        );
        self.push(vec![Frame::Tcp(syn), Frame::Tcp(rst)]);
    }

    /// A request from the client and the server's response, then `think` idle time.
    fn exchange(&mut self, rng: &mut Rng, req: u32, resp: u32, think: u64) {
        let lens = self.split(u64::from(req));
        let imp = if !lens.is_empty() && rng.chance(0.002) {
            Impair::Loss(rng.below(lens.len() as u64) as usize)
        } else {
            Impair::None
        };
        let t0 = self.t;
        let out = self.flight(FlightSpec {
            from_client: true,
            t0,
            gap: self.wire_gap,
            lens: &lens,
            imp,
            trailing_ack: None,
            psh_each: false,
            zero_window: false,
        });
        // Server processing time: mostly fast, sometimes slow.
        let process = rng.log_uniform(30.0 * US as f64, self.process_max as f64) as u64;
        let half = self.rtt / 2;
        if process >= DELACK {
            let ack = self.seg(out.last_recv + DELACK + half, false, ACK, 0, Opt::Ts);
            self.push(vec![Frame::Tcp(ack)]);
        }
        let mut t = out.last_recv + process + half;
        if resp > 0 {
            let lens = self.split(u64::from(resp));
            let mut start = 0;
            while start < lens.len() {
                let n = (self.cwnd as usize).min(lens.len() - start);
                let last = start + n == lens.len();
                let imp = impairment(rng, n, 0.01, 0.01);
                let out = self.flight(FlightSpec {
                    from_client: false,
                    t0: t,
                    gap: self.wire_gap,
                    lens: &lens[start..start + n],
                    imp,
                    trailing_ack: (last && think >= DELACK).then_some(DELACK),
                    psh_each: false,
                    zero_window: false,
                });
                start += n;
                if n as u32 == self.cwnd {
                    self.cwnd = (self.cwnd * 2).min(MAX_CWND);
                }
                t = next_flight(self, &out, false);
            }
        }
        self.t = self.t.max(t) + think;
    }

    /// One flight of a download (server to client); returns false when the connection ended.
    fn bulk_flight(
        &mut self,
        rng: &mut Rng,
        left: &mut u64,
        flight_no: u32,
        abort_at: Option<u32>,
        forged_at: Option<u32>,
    ) -> bool {
        let bytes = (*left).min(u64::from(self.cwnd) * u64::from(self.mss));
        let lens = self.split(bytes);
        *left -= bytes;
        let t0 = self.t;
        if abort_at == Some(flight_no) || forged_at == Some(flight_no) {
            let m = rng.range(1, lens.len().max(2) as u64 - 1) as usize;
            let m = m.min(lens.len());
            let out = self.flight(FlightSpec {
                from_client: false,
                t0,
                gap: self.wire_gap,
                lens: &lens[..m],
                imp: Impair::None,
                trailing_ack: None,
                psh_each: false,
                zero_window: false,
            });
            let mut frames = Vec::new();
            let t_rst = out.last_cap + self.wire_gap / 2 + 1;
            if abort_at == Some(flight_no) {
                // The client application closes with SO_LINGER 0: RST/ACK.
                frames.push(Frame::Tcp(self.seg(t_rst, true, RST | ACK, 0, Opt::None)));
            } else {
                // Injected "from the server": right sequence number, wrong TTL and IP ID.
                let forged_ttl = if self.s.ttl > 100 { 60 } else { 128 };
                frames.push(Frame::Tcp(Seg {
                    ttl: Some(forged_ttl),
                    ..Seg::reset(t_rst, false, RST | ACK, self.c.rcv, self.c.nxt)
                }));
            }
            // What the server had already sent arrives, and each gets a RST (the client's
            // stack answers segments for a connection it no longer has, seq = their ACK).
            let mut seq = self.s.nxt;
            for (j, &len) in lens[m..].iter().enumerate() {
                let t = out.last_cap + (j as u64 + 1) * self.wire_gap;
                frames.push(Frame::Tcp(Seg {
                    t,
                    from_client: false,
                    flags: ACK,
                    seq,
                    ack: self.s.rcv,
                    win: self.s.win,
                    len,
                    opt: Opt::Ts,
                    ttl: None,
                }));
                let t_rst = t + self.ack_delay.min(self.wire_gap / 2);
                frames.push(Frame::Tcp(Seg::reset(t_rst, true, RST, self.s.rcv, 0)));
                seq = seq.wrapping_add(u32::from(len));
            }
            self.push(frames);
            return false;
        }
        let imp = impairment(rng, lens.len(), 0.05, 0.02);
        let zero_window = rng.chance(0.005);
        let out = self.flight(FlightSpec {
            from_client: false,
            t0,
            gap: self.wire_gap,
            lens: &lens,
            imp,
            trailing_ack: (*left == 0).then_some(DELACK),
            psh_each: false,
            zero_window,
        });
        self.cwnd = (self.cwnd * 2).min(MAX_CWND);
        let mut next = next_flight(self, &out, false);
        if zero_window {
            next = self.zero_window_episode(rng, false, out.last_ack.unwrap_or(out.last_cap));
        }
        self.t = self.t.max(next);
        true
    }

    /// The receiver's window is zero: the sender probes (1 byte at the next sequence
    /// number, as Wireshark's ZeroWindowProbe) with backoff until a window update.
    /// Returns when the sender may send again.
    fn zero_window_episode(&mut self, rng: &mut Rng, from_client: bool, after: u64) -> u64 {
        let probes = rng.range(1, 4);
        let mut frames = Vec::new();
        let mut t = after;
        let receiver_is_client = !from_client;
        for j in 0..probes {
            t += RTO_MIN << j;
            let snd = *self.sender(from_client);
            frames.push(Frame::Tcp(Seg {
                t,
                from_client,
                flags: ACK,
                seq: snd.nxt,
                ack: snd.rcv,
                win: snd.win,
                len: 1,
                opt: Opt::Ts,
                ttl: None,
            }));
            let r = *self.sender(!from_client);
            t = self.answer(t, receiver_is_client);
            frames.push(Frame::Tcp(Seg {
                t,
                from_client: !from_client,
                flags: ACK,
                seq: r.nxt,
                ack: r.rcv,
                win: 0,
                len: 0,
                opt: Opt::Ts,
                ttl: None,
            }));
        }
        let r = *self.sender(!from_client);
        let t_update = t + rng.range(10 * MS, 300 * MS);
        frames.push(Frame::Tcp(Seg {
            t: t_update,
            from_client: !from_client,
            flags: ACK,
            seq: r.nxt,
            ack: r.rcv,
            win: r.win,
            len: 0,
            opt: Opt::Ts,
            ttl: None,
        }));
        self.push(frames);
        self.answer(t_update, from_client)
    }

    fn keep_alives(&mut self, n: u32, interval: u64, rng: &mut Rng) {
        let mut frames = Vec::new();
        let mut t = self.t;
        for _ in 0..n {
            t += interval + rng.below(interval / 50 + 1);
            // Linux's keep-alive: no data, one below the next sequence number.
            let c = self.c;
            frames.push(Frame::Tcp(Seg {
                t,
                from_client: true,
                flags: ACK,
                seq: c.nxt.wrapping_sub(1),
                ack: c.rcv,
                win: c.win,
                len: 0,
                opt: Opt::Ts,
                ttl: None,
            }));
            let s = self.s;
            frames.push(Frame::Tcp(Seg {
                t: t + self.rtt,
                from_client: false,
                flags: ACK,
                seq: s.nxt,
                ack: s.rcv,
                win: s.win,
                len: 0,
                opt: Opt::Ts,
                ttl: None,
            }));
        }
        self.push(frames);
    }

    fn close(&mut self, client_first: bool, rng: &mut Rng) {
        let mut frames = Vec::new();
        let t = self.t;
        let fin1 = self.seg(t, client_first, FIN | ACK, 0, Opt::Ts);
        frames.push(Frame::Tcp(fin1));
        let t2 = self.answer(t, !client_first);
        let peer_fin = if rng.chance(0.5) {
            // The peer's application closes later: ACK first, FIN after.
            frames.push(Frame::Tcp(self.seg(t2, !client_first, ACK, 0, Opt::Ts)));
            t2 + rng.range(100 * US, 5 * MS)
        } else {
            t2
        };
        let fin2 = self.seg(peer_fin, !client_first, FIN | ACK, 0, Opt::Ts);
        frames.push(Frame::Tcp(fin2));
        let t4 = self.answer(peer_fin, client_first);
        frames.push(Frame::Tcp(self.seg(t4, client_first, ACK, 0, Opt::Ts)));
        self.push(frames);
    }

    /// The client writes after a long idle; the server no longer has the connection.
    fn rst_after_idle(&mut self, rng: &mut Rng) {
        let len = rng.range(40, 400) as u16;
        let req = self.seg(self.t, true, PSH | ACK, len, Opt::Ts);
        let rst = Seg::reset(req.t + self.rtt, false, RST, req.ack, 0);
        self.push(vec![Frame::Tcp(req), Frame::Tcp(rst)]);
    }

    /// The server closes; the client acknowledges the FIN but then writes: RST.
    fn data_after_fin(&mut self, rng: &mut Rng) {
        let fin = self.seg(self.t, false, FIN | ACK, 0, Opt::Ts);
        let ack = self.seg(fin.t + self.ack_delay, true, ACK, 0, Opt::Ts);
        let len = rng.range(40, 600) as u16;
        let data = self.seg(
            ack.t + rng.range(MS, 500 * MS),
            true,
            PSH | ACK,
            len,
            Opt::Ts,
        );
        let rst = Seg::reset(data.t + self.rtt, false, RST, data.ack, 0);
        self.push(vec![
            Frame::Tcp(fin),
            Frame::Tcp(ack),
            Frame::Tcp(data),
            Frame::Tcp(rst),
        ]);
    }

    /// The client's request is never acknowledged: retransmissions with exponential backoff,
    /// then the application gives up and resets.
    fn retrans_rst(&mut self, n: u32, rng: &mut Rng) {
        let len = rng.range(60, 1200) as u16;
        let req = self.seg(self.t, true, PSH | ACK, len, Opt::Ts);
        let mut frames = vec![Frame::Tcp(req)];
        let rto = RTO_MIN.max(self.rtt * 2);
        let mut t = req.t;
        for j in 0..n {
            t += rto << j;
            frames.push(Frame::Tcp(Seg { t, ..req }));
        }
        t += rng.range(100 * MS, 3 * S);
        frames.push(Frame::Tcp(self.seg(t, true, RST | ACK, 0, Opt::None)));
        self.push(frames);
    }

    fn server_rst(&mut self, at: u64) {
        let t = self.t.max(at);
        let rst = self.seg(t, false, RST | ACK, 0, Opt::None);
        self.push(vec![Frame::Tcp(rst)]);
    }

    /// A batch of small messages from the client (log shipping), acknowledged by the server.
    fn upload(&mut self, rng: &mut Rng, msgs: usize, gap: u64) {
        let lens: Vec<u16> = (0..msgs).map(|_| rng.range(80, 700) as u16).collect();
        let imp = impairment(rng, lens.len(), 0.03, 0.0);
        let zero_window = rng.chance(0.01);
        let out = self.flight(FlightSpec {
            from_client: true,
            t0: self.t,
            gap,
            lens: &lens,
            imp,
            trailing_ack: Some(DELACK),
            psh_each: true,
            zero_window,
        });
        let mut next = out.last_cap + gap;
        if zero_window {
            next = self.zero_window_episode(rng, true, out.last_ack.unwrap_or(out.last_cap));
        }
        self.t = self.t.max(next);
    }

    /// After one unit of an elephant (its packets are the whole queue): waits until the unit's
    /// share of the time is over and queues the next unit, or the close when none is left.
    fn next_unit(&mut self, start: u64, until: u64, left: u64, next: impl Fn(u64) -> Act) {
        let made = self.queue.len() as u64;
        self.t = self.t.max(paced_end(start, until, left, made));
        if left > made {
            self.script.push_front(next(left - made));
        }
    }

    /// Expands the next action; false when the script is done.
    fn step(&mut self, rng: &mut Rng) -> bool {
        let Some(act) = self.script.pop_front() else {
            return false;
        };
        match act {
            Act::Handshake => self.handshake(rng),
            Act::Refused => self.refused(),
            Act::Exchange { req, resp, think } => self.exchange(rng, req, resp, think),
            Act::Bulk {
                mut left,
                flights,
                abort_at,
                forged_at,
            } => {
                if left > 0 && self.bulk_flight(rng, &mut left, flights, abort_at, forged_at) {
                    self.script.push_front(Act::Bulk {
                        left,
                        flights: flights + 1,
                        abort_at,
                        forged_at,
                    });
                } else if left > 0 {
                    self.script.clear();
                }
            }
            Act::KeepAlives { n, interval } => self.keep_alives(n, interval, rng),
            Act::Idle(d) => self.t += d,
            Act::Close { client_first } => self.close(client_first, rng),
            Act::RstAfterIdle => self.rst_after_idle(rng),
            Act::DataAfterFin => self.data_after_fin(rng),
            Act::RetransRst { n } => self.retrans_rst(n, rng),
            Act::ExchangesUntil(until) => {
                if self.t + 3 * S < until {
                    let think = rng.range(200 * MS, 3 * S).min(until - self.t - 2 * S);
                    let (req, resp) = (rng.range(40, 300) as u32, rng.range(20, 900) as u32);
                    self.exchange(rng, req, resp, think);
                    self.script.push_front(Act::ExchangesUntil(until));
                }
            }
            Act::ServerRstAt(at) => self.server_rst(at),
            Act::ElephantRpc { left, until } => {
                let start = self.t;
                let (req, resp) = (rng.range(30, 200) as u32, rng.range(20, 400) as u32);
                self.exchange(rng, req, resp, 0);
                self.next_unit(start, until, left, |left| Act::ElephantRpc { left, until });
            }
            Act::ElephantBulk { left, until } => {
                let start = self.t;
                let mut bytes = u64::from(self.cwnd.min(32)) * u64::from(self.mss);
                self.bulk_flight(rng, &mut bytes, 1, None, None);
                self.next_unit(start, until, left, |left| Act::ElephantBulk { left, until });
            }
            Act::ElephantUpload { left, until } => {
                let start = self.t;
                let msgs = rng.range(8, 40);
                // About one ACK per two messages.
                let unit = paced_end(start, until, left, msgs * 3 / 2) - start;
                self.upload(rng, msgs as usize, (unit / msgs).max(10 * US));
                self.next_unit(start, until, left, |left| Act::ElephantUpload {
                    left,
                    until,
                });
            }
        }
        true
    }
}

/// The receiver's state during one flight.
struct Recv {
    rcv_nxt: u32,
    ooo: Option<(u32, u32)>,
    unacked: u32,
    dupacks: u32,
    acks: Vec<Seg>,
}

/// When a unit of an elephant that started at `start` should end, so that its `left` packets,
/// `per_unit` at a time, last until `until`.
fn paced_end(start: u64, until: u64, left: u64, per_unit: u64) -> u64 {
    let units = (left / per_unit.max(1)).max(1);
    start + until.saturating_sub(start) / units
}

/// When the next flight of an ACK-clocked sender is captured.
fn next_flight(conn: &Conn, out: &FlightOut, from_client: bool) -> u64 {
    let clocked = out
        .first_ack
        .map_or(out.last_cap + conn.rtt, |a| conn.answer(a, from_client));
    clocked.max(out.last_cap + conn.wire_gap)
}

/// A loss or a swap for a flight of `n` segments, with the given probabilities.
fn impairment(rng: &mut Rng, n: usize, loss: f64, swap: f64) -> Impair {
    if n == 0 {
        return Impair::None;
    }
    let x = rng.unit();
    if x < loss {
        Impair::Loss(rng.below(n as u64) as usize)
    } else if x < loss + swap && n >= 2 {
        Impair::Swap(rng.below(n as u64 - 1) as usize)
    } else {
        Impair::None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Conn(usize),
    Spawn,
    Other,
    Burst(usize),
}

/// The simulation and the writer.
pub struct Generator<W: Write> {
    cfg: Config,
    rng: Rng,
    out: W,
    buf: Vec<u8>,
    frame: Vec<u8>,
    payload: Vec<u8>,
    pcap: PcapWriter,
    pcapng: PcapNgWriter,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    heap: BinaryHeap<Reverse<(u64, u64, Source)>>,
    tiebreak: u64,
    next_port: Vec<u16>,
    /// Mean time between new connections, and between non-TCP exchanges.
    conn_interval: f64,
    other_interval: f64,
    duration: u64,
    bursts: Vec<u64>,
    stats: Stats,
    last_t: u64,
    /// Where each TCP connection's kind is written, if asked (`with_truth`).
    truth: Option<Box<dyn Write>>,
}

impl<W: Write> Generator<W> {
    pub fn new(cfg: Config, out: W) -> Generator<W> {
        let mut rng = Rng::new(cfg.seed);
        let packets = match cfg.limit {
            Limit::Bytes(b) => b as f64 / AVG_RECORD_BYTES,
            Limit::Packets(n) => n as f64,
        }
        .max(1_000.0);
        let duration_s = (packets / PACKETS_PER_SECOND).max(20.0);
        let conn_packets = packets * (1.0 - 4.0 * ELEPHANT_SHARE - OTHER_SHARE);
        let conn_interval = duration_s * S as f64 / (conn_packets / AVG_CONN_PACKETS);
        let other_interval = duration_s * S as f64 / (packets * OTHER_SHARE / 2.0);
        let payload = (0..65_536).map(|_| rng.next_u64() as u8).collect();
        let next_port = (0..CLIENT_HOSTS)
            .map(|_| rng.range(32_768, 60_999) as u16)
            .collect();
        let duration = (duration_s * S as f64) as u64;
        let n_bursts = 1 + (packets / 2_000_000.0) as usize;
        let bursts = (0..n_bursts)
            .map(|_| rng.range(duration / 5, duration * 9 / 10))
            .collect();
        let mut g = Generator {
            cfg,
            rng,
            out,
            buf: Vec::with_capacity(4096),
            frame: Vec::with_capacity(2048),
            payload,
            pcap: PcapWriter::new(LinkType::ETHERNET, false),
            pcapng: PcapNgWriter::new(false),
            conns: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            tiebreak: 0,
            next_port,
            conn_interval,
            other_interval,
            duration,
            bursts,
            stats: Stats::default(),
            last_t: 0,
            truth: None,
        };
        g.schedule(0, Source::Spawn);
        g.schedule(g.other_interval as u64 / 2, Source::Other);
        for i in 0..g.bursts.len() {
            let at = g.bursts[i].saturating_sub(60 * S);
            g.schedule(at, Source::Burst(i));
        }
        // The elephants start in the first second and last the planned duration.
        let elephant_packets = (packets * ELEPHANT_SHARE) as u64;
        let until = duration * 97 / 100;
        let kinds = [
            Act::ElephantBulk {
                left: elephant_packets,
                until,
            },
            Act::ElephantRpc {
                left: elephant_packets,
                until,
            },
            Act::ElephantUpload {
                left: elephant_packets,
                until,
            },
            Act::ElephantRpc {
                left: elephant_packets,
                until,
            },
        ];
        for (i, act) in kinds.into_iter().enumerate() {
            let t = g.rng.range(MS, S);
            let mut conn = g.new_conn(Kind::Elephant, t, i == 3);
            // Fast, nearby servers: their exchanges do not wait on the network.
            conn.rtt = 300 * US + i as u64 * 400 * US;
            conn.process_max = 2 * MS;
            conn.script = VecDeque::from([Act::Handshake, act, Act::Close { client_first: true }]);
            g.start(conn);
        }
        g
    }

    /// Also writes the ground truth: one tab-separated line per TCP connection, in order of
    /// first packet: client, server (as the report writes them), the [`Kind`] that made it.
    pub fn with_truth(mut self, truth: impl Write + 'static) -> Generator<W> {
        self.truth = Some(Box::new(truth));
        self
    }

    fn schedule(&mut self, t: u64, source: Source) {
        self.tiebreak += 1;
        self.heap.push(Reverse((t, self.tiebreak, source)));
    }

    fn start(&mut self, conn: Conn) {
        let t = conn.t;
        let slot = match self.free.pop() {
            Some(i) => {
                self.conns[i] = Some(conn);
                i
            }
            None => {
                self.conns.push(Some(conn));
                self.conns.len() - 1
            }
        };
        self.schedule(t, Source::Conn(slot));
    }

    fn new_conn(&mut self, kind: Kind, t: u64, v6: bool) -> Conn {
        let rng = &mut self.rng;
        let ci = rng.below(CLIENT_HOSTS as u64) as usize;
        let si = rng.below(SERVER_HOSTS as u64) as usize;
        let (client, server) = host_addrs(ci, si, v6);
        let port = self.next_port[ci];
        self.next_port[ci] = if port >= 60_997 {
            32_768
        } else {
            port + rng.range(1, 3) as u16
        };
        let isn = |rng: &mut Rng| {
            if rng.chance(0.05) {
                // Near the wrap on purpose: sequence numbers pass 2^32 mid-connection.
                u32::MAX - rng.below(2_000_000) as u32
            } else {
                rng.next_u64() as u32
            }
        };
        let c_isn = isn(rng);
        let s_isn = isn(rng);
        let server_ttl = [64u8, 64, 64, 128, 255][rng.below(5) as usize] - rng.range(2, 14) as u8;
        let rtt = rng.log_uniform(150.0 * US as f64, 120.0 * MS as f64) as u64;
        Conn {
            kind: Some(kind),
            client,
            server,
            client_mac: [0x02, 0x00, 0x0a, 0x01, (ci >> 8) as u8, ci as u8],
            cport: port,
            sport: SERVICE_PORTS[si % SERVICE_PORTS.len()],
            c: Peer {
                nxt: c_isn,
                rcv: 0,
                win: RAW_WINDOW,
                ttl: 64,
                ts_base: rng.next_u64() as u32,
                ip_id: rng.next_u64() as u16,
            },
            s: Peer {
                nxt: s_isn,
                rcv: 0,
                win: 509,
                ttl: server_ttl,
                ts_base: rng.next_u64() as u32,
                ip_id: rng.next_u64() as u16,
            },
            rtt,
            ack_delay: rng.range(5 * US, 40 * US),
            wire_gap: rng.range(12 * US, 120 * US),
            mss: if v6 { 1428 } else { 1448 },
            cwnd: INIT_CWND,
            process_max: 80 * MS,
            t,
            pushed_t: t,
            packets: 0,
            queue: VecDeque::new(),
            script: VecDeque::new(),
        }
    }

    fn script(&mut self, kind: Kind) -> VecDeque<Act> {
        let rng = &mut self.rng;
        let mut s = VecDeque::new();
        let rpc = |rng: &mut Rng, s: &mut VecDeque<Act>, n: u64| {
            for _ in 0..n {
                s.push_back(Act::Exchange {
                    req: rng.log_uniform(20.0, 300.0) as u32,
                    resp: rng.log_uniform(8.0, 700.0) as u32,
                    think: rng.log_uniform(100.0 * US as f64, 400.0 * MS as f64) as u64,
                });
            }
        };
        let web = |rng: &mut Rng, s: &mut VecDeque<Act>, n: u64| {
            for _ in 0..n {
                s.push_back(Act::Exchange {
                    req: rng.range(200, 900) as u32,
                    resp: rng.log_uniform(300.0, 15_000.0) as u32,
                    think: rng.log_uniform(5.0 * MS as f64, 3.0 * S as f64) as u64,
                });
            }
        };
        let close = |rng: &mut Rng, s: &mut VecDeque<Act>| {
            s.push_back(Act::Close {
                client_first: rng.chance(0.7),
            })
        };
        match kind {
            Kind::Rpc => {
                s.push_back(Act::Handshake);
                let n = 1 + rng.exp(12.0) as u64;
                rpc(rng, &mut s, n);
                close(rng, &mut s);
            }
            Kind::Web => {
                s.push_back(Act::Handshake);
                let n = rng.range(1, 6);
                web(rng, &mut s, n);
                if rng.chance(0.25) {
                    s.push_back(Act::KeepAlives {
                        n: rng.range(1, 3) as u32,
                        interval: rng.range(10, 45) * S,
                    });
                }
                close(rng, &mut s);
            }
            Kind::Download => {
                s.push_back(Act::Handshake);
                rpc(rng, &mut s, 1);
                s.push_back(Act::Bulk {
                    left: rng.log_uniform(30e3, 1e6) as u64,
                    flights: 0,
                    abort_at: None,
                    forged_at: None,
                });
                close(rng, &mut s);
            }
            Kind::Refused => s.push_back(Act::Refused),
            Kind::KeepAlive => {
                s.push_back(Act::Handshake);
                rpc(rng, &mut s, 2);
                s.push_back(Act::KeepAlives {
                    n: rng.range(2, 8) as u32,
                    interval: rng.range(10, 60) * S,
                });
                close(rng, &mut s);
            }
            Kind::Abort | Kind::Forged => {
                s.push_back(Act::Handshake);
                rpc(rng, &mut s, 1);
                let at = Some(0);
                s.push_back(Act::Bulk {
                    left: 4_000_000,
                    flights: 0,
                    abort_at: if kind == Kind::Abort { at } else { None },
                    forged_at: if kind == Kind::Forged { at } else { None },
                });
            }
            Kind::RstAfterIdle => {
                s.push_back(Act::Handshake);
                let n = rng.range(1, 5);
                rpc(rng, &mut s, n);
                s.push_back(Act::Idle(rng.range(30, 300) * S));
                s.push_back(Act::RstAfterIdle);
            }
            Kind::DataAfterFin => {
                s.push_back(Act::Handshake);
                let n = rng.range(1, 3);
                rpc(rng, &mut s, n);
                s.push_back(Act::Idle(rng.range(S, 10 * S)));
                s.push_back(Act::DataAfterFin);
            }
            Kind::RetransRst => {
                s.push_back(Act::Handshake);
                let n = rng.range(0, 2);
                rpc(rng, &mut s, n);
                s.push_back(Act::RetransRst {
                    n: rng.range(3, 7) as u32,
                });
            }
            Kind::Burst | Kind::Elephant => {}
        }
        s
    }

    fn spawn(&mut self, t: u64) {
        let total: u32 = Kind::WEIGHTS.iter().map(|w| w.1).sum();
        let mut x = self.rng.below(u64::from(total)) as u32;
        let mut kind = Kind::Rpc;
        for (k, w) in Kind::WEIGHTS {
            if x < w {
                kind = k;
                break;
            }
            x -= w;
        }
        let v6 = self.rng.chance(0.2);
        let mut conn = self.new_conn(kind, t, v6);
        if kind == Kind::Refused {
            conn.sport = [81, 8081, 9000, 6380][self.rng.below(4) as usize];
        }
        conn.script = self.script(kind);
        self.start(conn);
    }

    /// Connections to one server, opened during the minute before `at`, all reset by it
    /// within a few milliseconds of `at` (a crashing process).
    fn spawn_burst(&mut self, now: u64, at: u64) {
        let n = self.rng.range(60, 160);
        let v6 = self.rng.chance(0.2);
        let server = self.rng.below(SERVER_HOSTS as u64) as usize;
        for i in 0..n {
            let t = self.rng.range(now, at.saturating_sub(5 * S).max(now));
            let mut conn = self.new_conn(Kind::Burst, t, v6);
            conn.server = host_addrs(0, server, v6).1;
            conn.sport = 8443;
            let when = at + i * self.rng.range(20 * US, 60 * US);
            conn.script = VecDeque::from([
                Act::Handshake,
                Act::ExchangesUntil(at),
                Act::ServerRstAt(when),
            ]);
            self.start(conn);
        }
    }

    /// A DNS query and answer, or an ARP request and reply.
    fn spawn_other(&mut self, t: u64) {
        let mut conn = self.new_conn(Kind::Rpc, t, false);
        conn.kind = None;
        let later = t + self.rng.range(300 * US, 20 * MS);
        conn.queue = if self.rng.chance(0.7) {
            let id = self.rng.next_u64() as u16;
            VecDeque::from([
                Frame::Dns { t, query: true, id },
                Frame::Dns {
                    t: later,
                    query: false,
                    id,
                },
            ])
        } else {
            VecDeque::from([
                Frame::Arp { t, reply: false },
                Frame::Arp {
                    t: t + self.rng.range(50 * US, 2 * MS),
                    reply: true,
                },
            ])
        };
        self.start(conn);
    }

    fn done(&self) -> bool {
        match self.cfg.limit {
            Limit::Bytes(b) => self.stats.bytes >= b,
            Limit::Packets(n) => self.stats.packets >= n,
        }
    }

    /// Runs the simulation until the limit; returns what was written.
    pub fn run(mut self) -> io::Result<Stats> {
        let header = match self.cfg.format {
            Format::Pcap => self.pcap.header(),
            Format::PcapNg => {
                let mut h = self.pcapng.section_header();
                h.extend(
                    self.pcapng
                        .interface(LinkType::ETHERNET, DEFAULT_SNAPLEN, None, None),
                );
                h
            }
        };
        self.out.write_all(&header)?;
        self.stats.bytes = header.len() as u64;
        while !self.done() {
            let Some(Reverse((t, _, source))) = self.heap.pop() else {
                break;
            };
            match source {
                Source::Spawn => {
                    self.spawn(t);
                    let next = t + self.rng.exp(self.conn_interval) as u64 + 1;
                    self.schedule(next, Source::Spawn);
                }
                Source::Other => {
                    self.spawn_other(t);
                    let next = t + self.rng.exp(self.other_interval) as u64 + 1;
                    self.schedule(next, Source::Other);
                }
                Source::Burst(i) => {
                    let at = self.bursts[i];
                    self.spawn_burst(t, at);
                }
                Source::Conn(slot) => {
                    let Some(mut conn) = self.conns[slot].take() else {
                        continue;
                    };
                    if let Some(frame) = conn.queue.pop_front() {
                        self.write_frame(&mut conn, frame)?;
                    }
                    while conn.queue.is_empty() && conn.step(&mut self.rng) {}
                    match conn.queue.front() {
                        Some(f) => {
                            let next = f.t();
                            self.conns[slot] = Some(conn);
                            self.schedule(next, Source::Conn(slot));
                        }
                        None => {
                            self.finish_conn(&conn);
                            self.free.push(slot);
                        }
                    }
                }
            }
        }
        for conn in self.conns.iter().flatten() {
            if conn.kind.is_some() && conn.packets > 0 {
                note_largest(&mut self.stats.largest, conn.packets);
            }
        }
        self.out.flush()?;
        if let Some(truth) = &mut self.truth {
            truth.flush()?;
        }
        self.stats.duration_ns = self.last_t;
        self.stats.planned_duration_ns = self.duration;
        Ok(self.stats)
    }

    fn finish_conn(&mut self, conn: &Conn) {
        if conn.kind.is_some() && conn.packets > 0 {
            note_largest(&mut self.stats.largest, conn.packets);
        }
    }

    fn write_frame(&mut self, conn: &mut Conn, frame: Frame) -> io::Result<()> {
        self.frame.clear();
        let t = frame.t();
        match frame {
            Frame::Tcp(seg) => {
                if conn.packets == 0 {
                    self.stats.connections += 1;
                    if matches!(conn.client, Addr::V6(_)) {
                        self.stats.ipv6_connections += 1;
                    }
                    if let Some(k) = conn.kind {
                        self.stats.connections_by_kind[k.index()] += 1;
                        if let Some(truth) = &mut self.truth {
                            writeln!(
                                truth,
                                "{}\t{}\t{k:?}",
                                endpoint(conn.client, conn.cport),
                                endpoint(conn.server, conn.sport)
                            )?;
                        }
                    }
                }
                self.stats.tcp_packets += 1;
                if seg.flags & RST != 0 {
                    self.stats.rst_packets += 1;
                }
                build_tcp(&mut self.frame, conn, &seg, &self.payload, &mut self.rng)
            }
            Frame::Dns { query, id, .. } => {
                self.stats.other_packets += 1;
                build_dns(&mut self.frame, conn, query, id)
            }
            Frame::Arp { reply, .. } => {
                self.stats.other_packets += 1;
                build_arp(&mut self.frame, conn, reply)
            }
        }
        conn.packets += 1;
        let ts = Timestamp(EPOCH_NS + t as i64);
        self.buf.clear();
        match self.cfg.format {
            Format::Pcap => {
                self.pcap
                    .write_record(&mut self.buf, ts, self.frame.len() as u32, &self.frame)
            }
            Format::PcapNg => self.buf.extend(self.pcapng.enhanced_packet(
                0,
                timestamp_units(ts, 1_000_000),
                self.frame.len() as u32,
                &self.frame,
            )),
        }
        self.out.write_all(&self.buf)?;
        self.stats.bytes += self.buf.len() as u64;
        if let Some(k) = conn.kind {
            self.stats.packets_by_kind[k.index()] += 1;
            self.stats.bytes_by_kind[k.index()] += self.buf.len() as u64;
        }
        self.stats.packets += 1;
        self.last_t = t;
        Ok(())
    }
}

fn note_largest(largest: &mut Vec<u64>, packets: u64) {
    largest.push(packets);
    largest.sort_unstable_by(|a, b| b.cmp(a));
    largest.truncate(5);
}

fn host_addrs(ci: usize, si: usize, v6: bool) -> (Addr, Addr) {
    if v6 {
        let mut c = [0u8; 16];
        c[..4].copy_from_slice(&[0xfd, 0x00, 0x00, 0x01]);
        c[14..].copy_from_slice(&(ci as u16 + 1).to_be_bytes());
        let mut s = [0u8; 16];
        s[..4].copy_from_slice(&[0xfd, 0x00, 0x00, 0x20]);
        s[14..].copy_from_slice(&(si as u16 + 1).to_be_bytes());
        (Addr::V6(c), Addr::V6(s))
    } else {
        (
            Addr::V4([10, 1, (ci / 250) as u8, (ci % 250) as u8 + 1]),
            Addr::V4([10, 20, (si / 250) as u8, (si % 250) as u8 + 1]),
        )
    }
}

/// "10.0.0.1:40000" or "[fd00::1]:40000", as the report writes endpoints.
fn endpoint(addr: Addr, port: u16) -> String {
    match addr {
        Addr::V4(a) => format!("{}:{port}", std::net::Ipv4Addr::from(a)),
        Addr::V6(a) => format!("[{}]:{port}", std::net::Ipv6Addr::from(a)),
    }
}

fn ms_clock(base: u32, t: u64) -> u32 {
    base.wrapping_add((t / MS) as u32)
}

fn build_tcp(out: &mut Vec<u8>, conn: &mut Conn, seg: &Seg, payload: &[u8], rng: &mut Rng) {
    let (src_mac, dst_mac) = if seg.from_client {
        (conn.client_mac, ROUTER_MAC)
    } else {
        (ROUTER_MAC, conn.client_mac)
    };
    let (me, peer) = if seg.from_client {
        (&mut conn.c, &conn.s)
    } else {
        (&mut conn.s, &conn.c)
    };
    let ttl = seg.ttl.unwrap_or(me.ttl);
    let ip_id = if seg.ttl.is_some() {
        rng.next_u64() as u16
    } else {
        me.ip_id = me.ip_id.wrapping_add(1);
        me.ip_id
    };
    let ts_val = ms_clock(me.ts_base, seg.t);
    let ts_ecr = ms_clock(peer.ts_base, seg.t.saturating_sub(conn.rtt / 2));
    let (src, dst, sp, dp) = if seg.from_client {
        (conn.client, conn.server, conn.cport, conn.sport)
    } else {
        (conn.server, conn.client, conn.sport, conn.cport)
    };
    let eth = PacketBuilder::ethernet2(src_mac, dst_mac);
    let ip = match (src, dst) {
        (Addr::V4(s), Addr::V4(d)) => eth.ip(IpHeaders::Ipv4(
            Ipv4Header {
                identification: ip_id,
                dont_fragment: true,
                time_to_live: ttl,
                protocol: IpNumber::TCP,
                source: s,
                destination: d,
                ..Default::default()
            },
            Default::default(),
        )),
        (Addr::V6(s), Addr::V6(d)) => eth.ipv6(s, d, ttl),
        _ => unreachable!("both ends of a connection have the same IP version"),
    };
    let mut b = ip.tcp(sp, dp, seg.seq, seg.win);
    if seg.flags & SYN != 0 {
        b = b.syn();
    }
    if seg.flags & FIN != 0 {
        b = b.fin();
    }
    if seg.flags & RST != 0 {
        b = b.rst();
    }
    if seg.flags & PSH != 0 {
        b = b.psh();
    }
    if seg.flags & ACK != 0 {
        b = b.ack(seg.ack);
    }
    let ts = TcpOptionElement::Timestamp(ts_val, if seg.flags == SYN { 0 } else { ts_ecr });
    let opts: &[TcpOptionElement] = match seg.opt {
        Opt::None => &[],
        Opt::Ts => &[TcpOptionElement::Noop, TcpOptionElement::Noop, ts],
        Opt::Syn => &[
            TcpOptionElement::MaximumSegmentSize(conn.mss + 12),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            ts,
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(WSCALE),
        ],
        Opt::Sack(l, r) => &[
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
            ts,
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
            TcpOptionElement::SelectiveAcknowledgement((l, r), [None; 3]),
        ],
    };
    let b = b.options(opts).expect("TCP options fit in 40 bytes");
    let len = usize::from(seg.len);
    let start = (seg.seq as usize) % (payload.len() - len.min(payload.len() - 1));
    let mut data = [0u8; 1500];
    let data = &mut data[..len];
    data.copy_from_slice(&payload[start..start + len]);
    if len > 5 {
        // Each segment holds one TLS application-data record (encrypted: random bytes).
        data[..3].copy_from_slice(&[0x17, 0x03, 0x03]);
        data[3..5].copy_from_slice(&(len as u16 - 5).to_be_bytes());
    }
    b.write(out, data).expect("writing to a Vec cannot fail");
}

fn build_dns(out: &mut Vec<u8>, conn: &Conn, query: bool, id: u16) {
    let Addr::V4(client) = conn.client else {
        return;
    };
    let resolver = [10, 0, 0, 53];
    // A query for svcN.cluster.internal (type A) and its answer.
    let mut msg = Vec::with_capacity(80);
    msg.extend(id.to_be_bytes());
    msg.extend(if query {
        [0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
    } else {
        [0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
    });
    let label = format!("svc{}", id % 500);
    msg.push(label.len() as u8);
    msg.extend(label.as_bytes());
    for part in ["cluster", "internal"] {
        msg.push(part.len() as u8);
        msg.extend(part.as_bytes());
    }
    msg.extend([0, 0, 1, 0, 1]);
    if !query {
        // Name: pointer to the question; A, IN, TTL 30 s, 4 bytes of address.
        msg.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 20]);
        msg.extend((id % 500).to_be_bytes());
    }
    let b = if query {
        PacketBuilder::ethernet2(conn.client_mac, ROUTER_MAC)
            .ipv4(client, resolver, 64)
            .udp(conn.cport, 53)
    } else {
        PacketBuilder::ethernet2(ROUTER_MAC, conn.client_mac)
            .ipv4(resolver, client, 62)
            .udp(53, conn.cport)
    };
    b.write(out, &msg).expect("writing to a Vec cannot fail");
}

fn build_arp(out: &mut Vec<u8>, conn: &Conn, reply: bool) {
    let Addr::V4(client) = conn.client else {
        return;
    };
    let gateway = [10, 1, 0, 254];
    let arp = if reply {
        ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            ArpOperation::REPLY,
            &ROUTER_MAC,
            &gateway,
            &conn.client_mac,
            &client,
        )
    } else {
        ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            ArpOperation::REQUEST,
            &conn.client_mac,
            &client,
            &[0; 6],
            &gateway,
        )
    }
    .expect("valid ARP addresses");
    let dst = if reply { conn.client_mac } else { [0xff; 6] };
    let src = if reply { ROUTER_MAC } else { conn.client_mac };
    PacketBuilder::ethernet2(src, dst)
        .arp(arp)
        .write(out)
        .expect("writing to a Vec cannot fail");
}
