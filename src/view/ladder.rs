//! The sequence ("ladder") diagram of one connection: from its packets to SVG geometry.
//!
//! A lane for the client on the left, one for the server on the right (and one between them when
//! a middlebox is suspected), one arrow per packet from the sender's lane, where it was sent, to
//! the receiver's, slightly lower. Time runs down the page: consecutive packets are at least a
//! row apart, and further apart the longer the time between them, up to a cap; an idle gap longer
//! than [`IDLE_BREAK_NS`] is folded into a marked break that says how long it was.
//!
//! Built once per connection and zoom in O(packets) with one `f64` per packet ([`Ladder::new`]);
//! what is on screen is found by binary search on y ([`Ladder::visible`]), and only those arrows
//! are turned into geometry and labels ([`Ladder::arrow`]), so scrolling a 100,000-packet
//! connection allocates nothing proportional to it. Components only draw what this returns;
//! [`svg`] writes the whole diagram as a self-contained SVG document for export.

use std::fmt::Write as _;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::analysis::Findings;
use crate::capture::PacketIdx;
use crate::dissect::TcpFlags;
use crate::flow::{Direction, StreamId};
use crate::pipeline::Analysis;

/// One packet of a connection, as the diagram and the detail pane's header need it (what the
/// worker sends the page: short names keep 100,000 packets to a few MB of JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LadderPacket {
    /// Position of the packet in the capture (frame number - 1).
    #[serde(rename = "i")]
    pub index: u32,
    /// Nanoseconds since the connection's first packet.
    #[serde(rename = "t")]
    pub time_ns: i64,
    /// Sent by the client (else by the server).
    #[serde(rename = "c")]
    pub from_client: bool,
    /// TCP flags ([`TcpFlags`] bits).
    #[serde(rename = "f")]
    pub flags: u16,
    /// Relative sequence number.
    #[serde(rename = "s")]
    pub seq: u32,
    /// Relative acknowledgement number (0 without ACK).
    #[serde(rename = "a")]
    pub ack: u32,
    /// Payload length (`tcp.len`).
    #[serde(rename = "l")]
    pub len: u32,
    /// The window, scaled when the handshake negotiated scaling.
    #[serde(rename = "w")]
    pub window: u32,
    /// [`Findings`] bits.
    #[serde(rename = "x")]
    pub findings: u16,
}

impl LadderPacket {
    /// The packet's index in the capture.
    pub fn idx(&self) -> PacketIdx {
        PacketIdx(self.index)
    }

    /// Wireshark's 1-based frame number.
    pub fn frame_number(&self) -> u64 {
        self.idx().frame_number()
    }

    /// The TCP flags.
    pub fn tcp_flags(&self) -> TcpFlags {
        TcpFlags(self.flags)
    }

    /// What the sequence analysis found.
    pub fn found(&self) -> Findings {
        Findings(self.findings)
    }

    /// A packet a person chasing a reset wants to jump to: a RST, or anything the sequence
    /// analysis flagged.
    pub fn is_problem(&self) -> bool {
        self.tcp_flags().rst() || !self.found().is_empty()
    }
}

/// Every packet of one connection, with what the page needs around them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectionPackets {
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
    /// `address:port` of each end.
    pub client: String,
    pub server: String,
    /// The connection's first packet time, nanoseconds since the Unix epoch.
    pub first_ts_ns: i64,
    /// In file order.
    pub packets: Vec<LadderPacket>,
    /// Packets that prove the reset diagnosis (capture indices, sorted): highlighted.
    #[serde(default)]
    pub evidence: Vec<u32>,
    /// The diagnosis suspects a middlebox: a third lane is drawn.
    #[serde(default)]
    pub middlebox: bool,
    /// Each direction's base sequence number (Wireshark's `base_seq`, usually the ISN), to
    /// show absolute numbers; `None` when unknown.
    #[serde(default)]
    pub bases: SeqBases,
}

/// Each direction's base sequence number: relative numbers count from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeqBases {
    /// Of the client's sequence numbers.
    pub client: Option<u32>,
    /// Of the server's sequence numbers.
    pub server: Option<u32>,
}

impl SeqBases {
    /// `p` with its sequence and acknowledgement numbers absolute, as on the wire. A number
    /// whose base is unknown stays relative; an acknowledgement number without ACK stays 0.
    pub fn absolute(&self, p: &LadderPacket) -> LadderPacket {
        let (own, peer) = if p.from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        LadderPacket {
            seq: own.map_or(p.seq, |b| p.seq.wrapping_add(b)),
            ack: match peer {
                Some(b) if p.tcp_flags().ack() => p.ack.wrapping_add(b),
                _ => p.ack,
            },
            ..*p
        }
    }
}

/// The packets of `stream` in `analysis`, in file order (`None` for an unknown stream).
/// Evidence and middlebox are left empty: they come from the reset diagnosis.
pub fn connection_packets(analysis: &Analysis, stream: StreamId) -> Option<ConnectionPackets> {
    let conn = analysis.flows.connection(stream)?;
    let state = analysis.tcp.connection(stream)?;
    let records = analysis.tcp.records().as_slice();
    // Records are in file order, so the connection's are between its first and last packet.
    let from = records.partition_point(|r| r.index < conn.first_packet);
    let to = records.partition_point(|r| r.index <= conn.last_packet);
    let packets = records
        .get(from..to)
        .unwrap_or(&[])
        .iter()
        .filter(|r| r.stream == stream)
        .map(|r| LadderPacket {
            index: r.index.0,
            time_ns: r.time_offset_ns(),
            from_client: state.direction(conn, r.side()) == Direction::ToServer,
            flags: r.flags().0,
            seq: r.seq,
            ack: r.ack,
            len: r.len,
            window: if r.window_scaled() {
                state.endpoint(r.side()).scaled_window(r.window)
            } else {
                u32::from(r.window)
            },
            findings: r.findings.0,
        })
        .collect();
    Some(ConnectionPackets {
        stream: stream.0,
        client: conn.client.to_string(),
        server: conn.server.to_string(),
        first_ts_ns: state.first_ts.0,
        packets,
        evidence: Vec::new(),
        middlebox: false,
        // The base the connection ended with: a base that changed midway (a new SYN-ACK on a
        // reused port) shows the earlier packets' absolute numbers off by the difference.
        bases: SeqBases {
            client: state
                .endpoint_for(conn, Direction::ToServer)
                .base_seq()
                .map(|s| s.0),
            server: state
                .endpoint_for(conn, Direction::ToClient)
                .base_seq()
                .map(|s| s.0),
        },
    })
}

/// A kind of packet, each drawn with its own style class
/// (`sequence-diagram__arrow--<id>`). A packet may be of several kinds (a retransmitted FIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// SYN or SYN+ACK.
    Handshake,
    /// Carries payload.
    Data,
    /// An ACK with nothing else.
    Ack,
    Fin,
    Rst,
    /// `tcp.analysis.retransmission` (also fast and spurious).
    Retransmission,
    /// `tcp.analysis.out_of_order`.
    OutOfOrder,
    /// `tcp.analysis.duplicate_ack`.
    DupAck,
    /// `tcp.analysis.zero_window`.
    ZeroWindow,
    /// `tcp.analysis.lost_segment`: the capture missed a segment before this one.
    LostSegment,
    /// `tcp.analysis.keep_alive`.
    KeepAlive,
}

impl Kind {
    /// Every kind, in the legend's order. Later kinds' styles win (the CSS lists them in this
    /// order), so a RST is drawn as a RST whatever else it is.
    pub const ALL: [Kind; 11] = [
        Kind::Ack,
        Kind::Data,
        Kind::Handshake,
        Kind::Fin,
        Kind::KeepAlive,
        Kind::ZeroWindow,
        Kind::DupAck,
        Kind::OutOfOrder,
        Kind::Retransmission,
        Kind::LostSegment,
        Kind::Rst,
    ];

    /// The class suffix: `sequence-diagram__arrow--<id>`.
    pub fn id(self) -> &'static str {
        match self {
            Kind::Handshake => "handshake",
            Kind::Data => "data",
            Kind::Ack => "ack",
            Kind::Fin => "fin",
            Kind::Rst => "rst",
            Kind::Retransmission => "retransmission",
            Kind::OutOfOrder => "out-of-order",
            Kind::DupAck => "dup-ack",
            Kind::ZeroWindow => "zero-window",
            Kind::LostSegment => "lost-segment",
            Kind::KeepAlive => "keep-alive",
        }
    }

    /// The legend's words.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Handshake => "Handshake (SYN)",
            Kind::Data => "Data",
            Kind::Ack => "Pure ACK",
            Kind::Fin => "FIN",
            Kind::Rst => "RST",
            Kind::Retransmission => "Retransmission",
            Kind::OutOfOrder => "Out of order",
            Kind::DupAck => "Duplicate ACK",
            Kind::ZeroWindow => "Zero window",
            Kind::LostSegment => "Previous segment not captured",
            Kind::KeepAlive => "Keep-alive",
        }
    }

    /// Whether `p` is of this kind.
    pub fn matches(self, p: &LadderPacket) -> bool {
        let flags = p.tcp_flags();
        let found = p.found();
        match self {
            Kind::Handshake => flags.syn(),
            Kind::Data => p.len > 0,
            Kind::Ack => {
                flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) == 0
                    && flags.ack()
                    && p.len == 0
            }
            Kind::Fin => flags.fin(),
            Kind::Rst => flags.rst(),
            Kind::Retransmission => found.contains(Findings::RETRANSMISSION),
            Kind::OutOfOrder => found.contains(Findings::OUT_OF_ORDER),
            Kind::DupAck => found.contains(Findings::DUPLICATE_ACK),
            Kind::ZeroWindow => found.contains(Findings::ZERO_WINDOW),
            Kind::LostSegment => found.contains(Findings::LOST_SEGMENT),
            Kind::KeepAlive => found.contains(Findings::KEEP_ALIVE),
        }
    }
}

/// The kinds of a packet, in [`Kind::ALL`] order.
pub fn kinds(p: &LadderPacket) -> impl Iterator<Item = Kind> + '_ {
    Kind::ALL.into_iter().filter(move |k| k.matches(p))
}

/// The legend: every kind with its class and words.
pub fn legend() -> impl Iterator<Item = (Kind, &'static str)> {
    Kind::ALL.into_iter().rev().map(|k| (k, k.title()))
}

/// An idle gap longer than this is folded into a break: one second is well above any RTT on a
/// path a person debugs from a capture (and Linux's minimum RTO, 200 ms), so a longer pause is
/// an application or a timer waiting, and its length matters more than its height.
pub const IDLE_BREAK_NS: i64 = 1_000_000_000;

/// Height of a row (the least distance between two packets) at zoom 1, in pixels: one label line.
pub const ROW: f64 = 26.0;
/// Extra pixels per second between two packets, at zoom 1 (2 ms per pixel)...
const PX_PER_SECOND: f64 = 500.0;
/// ...up to this many: a gap just under [`IDLE_BREAK_NS`] stays on screen.
const MAX_TIME_STEP: f64 = 120.0;
/// Height of a folded idle break, at zoom 1.
pub const BREAK_HEIGHT: f64 = 40.0;
/// Space above the first arrow and below the last, at any zoom.
const PAD: f64 = 16.0;
/// An arrow arrives this fraction of a row below where it left: "slightly later".
const DROP: f64 = 0.5;
/// Labels are drawn at this zoom and above (below it the rows are too thin for text; the
/// tooltip still has everything).
const LABEL_ZOOM: f64 = 1.0;
/// Pixels drawn beyond the viewport on each side, so a small scroll shows no gap.
const OVERSCAN_PX: f64 = 200.0;

/// The zoom levels the buttons and +/- step through.
pub const ZOOMS: [f64; 6] = [0.25, 0.5, 1.0, 1.5, 2.0, 3.0];

/// The next zoom level in (`dir > 0`) or out from `zoom`.
pub fn step_zoom(zoom: f64, dir: i32) -> f64 {
    let i = ZOOMS
        .iter()
        .position(|z| *z >= zoom - 1e-9)
        .unwrap_or(ZOOMS.len() - 1);
    let j = if dir > 0 {
        (i + 1).min(ZOOMS.len() - 1)
    } else {
        i.saturating_sub(1)
    };
    ZOOMS[j]
}

/// Width of the drawing, in pixels.
pub const WIDTH: f64 = 700.0;
/// x of the time column's right edge.
const TIME_X: f64 = 104.0;
/// x of the client's and server's lanes, and of the middlebox's.
const CLIENT_X: f64 = 150.0;
const SERVER_X: f64 = 650.0;
const MIDDLEBOX_X: f64 = 400.0;

/// Who a lane stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneRole {
    Client,
    Middlebox,
    Server,
}

impl LaneRole {
    /// The class suffix: `sequence-diagram__lane--<id>`.
    pub fn id(self) -> &'static str {
        match self {
            LaneRole::Client => "client",
            LaneRole::Middlebox => "middlebox",
            LaneRole::Server => "server",
        }
    }
}

/// A vertical lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub role: LaneRole,
    pub x: f64,
    /// What the lane's heading says.
    pub title: String,
}

impl Lane {
    /// Where the heading goes and its SVG `text-anchor`: centred over the lane, but kept
    /// inside the drawing at the right edge (an IPv6 server is long).
    pub fn title_at(&self) -> (f64, &'static str) {
        match self.role {
            LaneRole::Server => (WIDTH - 4.0, "end"),
            LaneRole::Client | LaneRole::Middlebox => (self.x, "middle"),
        }
    }
}

/// A folded idle gap: drawn as a marked band between two packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Break {
    /// Top of the band.
    pub y: f64,
    pub height: f64,
    /// How long nothing was seen.
    pub gap_ns: i64,
    /// The position (in the connection's packets) of the packet after the gap.
    pub before_packet: usize,
}

impl Break {
    /// The words in the band: `idle 42.0 s`.
    pub fn label(&self) -> String {
        format!("idle {}", duration_text(self.gap_ns))
    }
}

/// One arrow, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    /// Position in the connection's packets.
    pub pos: usize,
    /// 1-based frame number.
    pub frame: u64,
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    /// Every kind the packet is, in [`Kind::ALL`] order.
    pub kinds: Vec<Kind>,
    /// The packet proves the diagnosis.
    pub evidence: bool,
    /// `[SYN, ACK] Seq=0 Ack=1 Win=64240 Len=0`; empty when zoomed out too far to read.
    pub label: String,
    /// Where the label's centre baseline is.
    pub label_x: f64,
    pub label_y: f64,
    /// Seconds since the connection's first packet (`0.012345`), drawn in the time column.
    pub time: String,
}

impl Arrow {
    /// The arrow's classes: `sequence-diagram__arrow` and one modifier per kind (and
    /// `--evidence`).
    pub fn classes(&self) -> String {
        let mut out = String::from("sequence-diagram__arrow");
        for kind in &self.kinds {
            let _ = write!(out, " sequence-diagram__arrow--{}", kind.id());
        }
        if self.evidence {
            out.push_str(" sequence-diagram__arrow--evidence");
        }
        out
    }
}

/// The geometry of one connection's diagram. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    /// y where each packet leaves its sender, increasing.
    ys: Vec<f64>,
    breaks: Vec<Break>,
    lanes: Vec<Lane>,
    /// Sorted capture indices of the evidence packets.
    evidence: Vec<u32>,
    middlebox: bool,
    zoom: f64,
    height: f64,
    /// Labels show absolute sequence numbers from these bases (relative when `None`).
    absolute: Option<SeqBases>,
}

impl Ladder {
    /// Lays out `packets` (in file order) at `zoom`. `evidence`: capture indices of packets to
    /// highlight; `middlebox`: draw a middlebox lane (and RSTs among the evidence from it).
    pub fn new(
        packets: &[LadderPacket],
        client: &str,
        server: &str,
        evidence: &[PacketIdx],
        middlebox: bool,
        zoom: f64,
    ) -> Ladder {
        let zoom = if zoom.is_finite() && zoom > 0.0 {
            zoom
        } else {
            1.0
        };
        let row = ROW * zoom;
        let mut ys = Vec::with_capacity(packets.len());
        let mut breaks = Vec::new();
        let mut y = PAD;
        let mut last_t = None;
        for (pos, p) in packets.iter().enumerate() {
            if let Some(last) = last_t {
                // Packets are in file order; a clock that went back counts as no time.
                let dt: i64 = p.time_ns.saturating_sub(last).max(0);
                if dt > IDLE_BREAK_NS {
                    let height = BREAK_HEIGHT * zoom;
                    breaks.push(Break {
                        y: y + row * DROP,
                        height,
                        gap_ns: dt,
                        before_packet: pos,
                    });
                    y += row * DROP + height + row * (1.0 - DROP).max(0.5);
                } else {
                    let extra = (dt as f64 / 1e9 * PX_PER_SECOND).min(MAX_TIME_STEP);
                    y += row + extra * zoom;
                }
            }
            ys.push(y);
            last_t = Some(p.time_ns);
        }
        let height = ys.last().map_or(PAD, |y| y + row) + PAD;
        let mut evidence: Vec<u32> = evidence.iter().map(|i| i.0).collect();
        evidence.sort_unstable();
        evidence.dedup();
        let mut lanes = vec![Lane {
            role: LaneRole::Client,
            x: CLIENT_X,
            title: format!("Client {client}"),
        }];
        if middlebox {
            lanes.push(Lane {
                role: LaneRole::Middlebox,
                x: MIDDLEBOX_X,
                title: "Middlebox?".to_string(),
            });
        }
        lanes.push(Lane {
            role: LaneRole::Server,
            x: SERVER_X,
            title: format!("Server {server}"),
        });
        Ladder {
            ys,
            breaks,
            lanes,
            evidence,
            middlebox,
            zoom,
            height,
            absolute: None,
        }
    }

    /// The same layout with labels showing absolute sequence numbers from `bases` (`None`:
    /// relative, Wireshark's default).
    pub fn with_absolute(self, bases: Option<SeqBases>) -> Ladder {
        Ladder {
            absolute: bases,
            ..self
        }
    }

    /// Total height of the drawing, in pixels.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// Width of the drawing, in pixels.
    pub fn width(&self) -> f64 {
        WIDTH
    }

    /// The zoom it was laid out at.
    pub fn zoom(&self) -> f64 {
        self.zoom
    }

    /// The lanes, left to right.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// Every folded idle gap, top to bottom.
    pub fn breaks(&self) -> &[Break] {
        &self.breaks
    }

    /// Number of packets laid out.
    pub fn len(&self) -> usize {
        self.ys.len()
    }

    /// No packet.
    pub fn is_empty(&self) -> bool {
        self.ys.is_empty()
    }

    /// y where packet `pos` leaves its sender.
    pub fn y(&self, pos: usize) -> Option<f64> {
        self.ys.get(pos).copied()
    }

    /// Whether the packet with this capture index is evidence.
    pub fn is_evidence(&self, index: u32) -> bool {
        self.evidence.binary_search(&index).is_ok()
    }

    /// The packets to draw for a viewport of `height` pixels scrolled to `top`: those whose
    /// arrow is within the viewport or [`OVERSCAN_PX`] of it. Binary search: O(log n).
    pub fn visible(&self, top: f64, height: f64) -> Range<usize> {
        let (lo, hi) = self.band(top, height);
        let drop = ROW * self.zoom * DROP;
        let first = self.ys.partition_point(|y| y + drop < lo);
        let end = self.ys.partition_point(|y| *y <= hi);
        first..end.max(first)
    }

    /// The folded gaps within the same band as [`Ladder::visible`].
    pub fn visible_breaks(&self, top: f64, height: f64) -> &[Break] {
        let (lo, hi) = self.band(top, height);
        let first = self.breaks.partition_point(|b| b.y + b.height < lo);
        let end = self.breaks.partition_point(|b| b.y <= hi);
        &self.breaks[first..end.max(first)]
    }

    fn band(&self, top: f64, height: f64) -> (f64, f64) {
        let top = if top.is_finite() { top.max(0.0) } else { 0.0 };
        let height = if height.is_finite() {
            height.max(0.0)
        } else {
            0.0
        };
        (top - OVERSCAN_PX, top + height + OVERSCAN_PX)
    }

    /// The packet whose arrow is nearest to y (for a click between arrows), if any.
    pub fn at_y(&self, y: f64) -> Option<usize> {
        let i = self.ys.partition_point(|v| *v < y);
        let before = i.checked_sub(1);
        match (before, (i < self.ys.len()).then_some(i)) {
            (Some(b), Some(a)) => Some(if y - self.ys[b] <= self.ys[a] - y {
                b
            } else {
                a
            }),
            (Some(b), None) => Some(b),
            (None, a) => a,
        }
    }

    /// The arrow of packet `pos`, with its label and classes.
    pub fn arrow(&self, packets: &[LadderPacket], pos: usize) -> Option<Arrow> {
        let p = packets.get(pos)?;
        let y1 = self.y(pos)?;
        let evidence = self.is_evidence(p.index);
        let sender_x = if self.middlebox && evidence && p.tcp_flags().rst() {
            MIDDLEBOX_X
        } else if p.from_client {
            CLIENT_X
        } else {
            SERVER_X
        };
        let receiver_x = if p.from_client { SERVER_X } else { CLIENT_X };
        let y2 = y1 + ROW * self.zoom * DROP;
        let label = if self.zoom >= LABEL_ZOOM {
            label(&self.absolute.map_or(*p, |b| b.absolute(p)))
        } else {
            String::new()
        };
        Some(Arrow {
            pos,
            frame: p.frame_number(),
            x1: sender_x,
            y1,
            x2: receiver_x,
            y2,
            kinds: kinds(p).collect(),
            evidence,
            label,
            label_x: (sender_x + receiver_x) / 2.0,
            // Above the arrow's middle, clear of the line.
            label_y: (y1 + y2) / 2.0 - 4.0,
            time: seconds_text(p.time_ns),
        })
    }

    /// x of the time column's right edge (time labels end there).
    pub fn time_x(&self) -> f64 {
        TIME_X
    }
}

/// The position of the next (`forward`) or previous problem packet after `from` (from the start
/// or the end when `None`), wrapping around neither end.
pub fn next_problem(packets: &[LadderPacket], from: Option<usize>, forward: bool) -> Option<usize> {
    if forward {
        let start = from.map_or(0, |f| f + 1);
        packets
            .get(start..)?
            .iter()
            .position(LadderPacket::is_problem)
            .map(|i| start + i)
    } else {
        let end = from.unwrap_or(packets.len()).min(packets.len());
        packets[..end].iter().rposition(LadderPacket::is_problem)
    }
}

/// The flags as Wireshark's Info column lists them: `SYN, ACK`.
pub fn flags_text(flags: TcpFlags) -> String {
    const NAMES: [(u16, &str); 9] = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
        (TcpFlags::NS, "NS"),
    ];
    let names: Vec<&str> = NAMES
        .iter()
        .filter(|(bit, _)| flags.0 & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "<none>".to_string()
    } else {
        names.join(", ")
    }
}

/// An arrow's label, as in Wireshark's flow graph: `[SYN, ACK] Seq=0 Ack=1 Win=64240 Len=0`.
pub fn label(p: &LadderPacket) -> String {
    let flags = p.tcp_flags();
    let mut out = format!("[{}] Seq={}", flags_text(flags), p.seq);
    if flags.ack() {
        let _ = write!(out, " Ack={}", p.ack);
    }
    let _ = write!(out, " Win={} Len={}", p.window, p.len);
    out
}

/// The hover text of a packet: frame, time, label and what the analysis found.
pub fn tooltip(p: &LadderPacket) -> String {
    let mut out = format!(
        "Frame {} at +{} s, {}\n{}",
        p.frame_number(),
        seconds_text(p.time_ns),
        if p.from_client {
            "client → server"
        } else {
            "server → client"
        },
        label(p)
    );
    let found: Vec<&str> = p.found().names().collect();
    if !found.is_empty() {
        let _ = write!(out, "\n{}", found.join(", "));
    }
    out
}

/// Seconds with microseconds: `12.345678`.
pub fn seconds_text(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    format!(
        "{sign}{}.{:06}",
        abs / 1_000_000_000,
        abs % 1_000_000_000 / 1_000
    )
}

/// A duration for people: `850 ms`, `42.0 s`, `4 min 02 s`, `3 h 05 min`.
pub fn duration_text(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        let whole = s as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        let whole = s as u64;
        format!("{} h {:02} min", whole / 3600, whole % 3600 / 60)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Height of the lane headings above the diagram in the exported SVG.
const HEADER: f64 = 56.0;

/// The whole diagram as a self-contained SVG document: `css` (the diagram's stylesheet) is
/// inlined in a `<style>` element so the file looks the same outside the page; every arrow is
/// written (an export is not windowed), with a legend at the bottom.
pub fn svg(packets: &ConnectionPackets, ladder: &Ladder, css: &str) -> String {
    let legend_height = 24.0 * (Kind::ALL.len() as f64 / 3.0).ceil() + 16.0;
    let height = HEADER + ladder.height() + legend_height;
    let mut out = String::with_capacity(512 + packets.packets.len() * 220);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence-diagram__svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n<title>tcp.stream {s}: {c} ↔ {v}</title>\n<style>\n{css}\n</style>\n<rect class=\"sequence-diagram__background\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/>\n",
        w = WIDTH,
        h = height.ceil(),
        s = packets.stream,
        c = escape(&packets.client),
        v = escape(&packets.server),
        css = css.replace("</style", "<\\/style"),
    );
    for lane in ladder.lanes() {
        let _ = writeln!(
            out,
            "<text class=\"sequence-diagram__lane-title sequence-diagram__lane-title--{id}\" x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\">{t}</text>",
            id = lane.role.id(),
            x = lane.title_at().0,
            anchor = lane.title_at().1,
            y = HEADER / 2.0,
            t = escape(&lane.title),
        );
    }
    let _ = writeln!(out, "<g transform=\"translate(0 {HEADER})\">");
    for line in body(packets, ladder, 0..ladder.len()) {
        out.push_str(&line);
        out.push('\n');
    }
    let _ = writeln!(out, "</g>");
    let legend_top = HEADER + ladder.height() + 8.0;
    for (i, (kind, title)) in legend().enumerate() {
        let x = 20.0 + (i % 3) as f64 * 260.0;
        let y = legend_top + (i / 3) as f64 * 24.0 + 12.0;
        let _ = writeln!(
            out,
            "<line class=\"sequence-diagram__arrow sequence-diagram__arrow--{id}\" x1=\"{x}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\"/><text class=\"sequence-diagram__legend-text\" x=\"{tx}\" y=\"{ty}\">{title}</text>",
            id = kind.id(),
            x2 = x + 40.0,
            tx = x + 48.0,
            ty = y + 4.0,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The SVG elements of the lanes, breaks and the arrows of `range`, one per line.
fn body(packets: &ConnectionPackets, ladder: &Ladder, range: Range<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    for lane in ladder.lanes() {
        lines.push(format!(
            "<line class=\"sequence-diagram__lane sequence-diagram__lane--{}\" x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{h}\"/>",
            lane.role.id(),
            x = lane.x,
            h = ladder.height(),
        ));
    }
    for b in ladder.breaks() {
        lines.push(format!(
            "<g class=\"sequence-diagram__break\"><rect class=\"sequence-diagram__break-band\" x=\"0\" y=\"{y:.1}\" width=\"{w}\" height=\"{h:.1}\"/><text class=\"sequence-diagram__break-text\" x=\"{cx}\" y=\"{ty:.1}\" text-anchor=\"middle\">{t}</text></g>",
            y = b.y,
            w = WIDTH,
            h = b.height,
            cx = WIDTH / 2.0,
            ty = b.y + b.height / 2.0 + 4.0,
            t = escape(&b.label()),
        ));
    }
    for pos in range {
        let Some(a) = ladder.arrow(&packets.packets, pos) else {
            continue;
        };
        lines.push(format!(
            "<g class=\"{c}\" data-frame=\"{f}\"><line class=\"sequence-diagram__line\" x1=\"{x1}\" y1=\"{y1:.1}\" x2=\"{x2}\" y2=\"{y2:.1}\"/><polygon class=\"sequence-diagram__head\" points=\"{head}\"/><text class=\"sequence-diagram__time\" x=\"{tx}\" y=\"{y1t:.1}\" text-anchor=\"end\">{time}</text><text class=\"sequence-diagram__label\" x=\"{lx}\" y=\"{ly:.1}\" text-anchor=\"middle\">{label}</text></g>",
            c = a.classes(),
            f = a.frame,
            x1 = a.x1,
            y1 = a.y1,
            x2 = a.x2,
            y2 = a.y2,
            head = arrow_head(&a),
            tx = TIME_X,
            y1t = a.y1 + 4.0,
            time = a.time,
            lx = a.label_x,
            ly = a.label_y,
            label = escape(&a.label),
        ));
    }
    lines
}

/// The points of an arrow's head (a small triangle at its end), as an SVG `points` list.
pub fn arrow_head(a: &Arrow) -> String {
    let (dx, dy) = (a.x2 - a.x1, a.y2 - a.y1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let (size, half) = (9.0, 4.0);
    let (bx, by) = (a.x2 - ux * size, a.y2 - uy * size);
    format!(
        "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
        a.x2,
        a.y2,
        bx - uy * half,
        by + ux * half,
        bx + uy * half,
        by - ux * half
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    const P: LadderPacket = LadderPacket {
        index: 0,
        time_ns: 0,
        from_client: true,
        flags: TcpFlags::ACK,
        seq: 1,
        ack: 1,
        len: 0,
        window: 64240,
        findings: 0,
    };

    fn at(index: u32, time_ns: i64, from_client: bool, flags: u16, len: u32) -> LadderPacket {
        LadderPacket {
            index,
            time_ns,
            from_client,
            flags,
            len,
            ..P
        }
    }

    fn handshake_then_reset() -> Vec<LadderPacket> {
        vec![
            LadderPacket {
                seq: 0,
                ack: 0,
                ..at(0, 0, true, TcpFlags::SYN, 0)
            },
            LadderPacket {
                seq: 0,
                ..at(1, MS, false, TcpFlags::SYN | TcpFlags::ACK, 0)
            },
            at(2, 2 * MS, true, TcpFlags::ACK, 0),
            at(3, 3 * MS, true, TcpFlags::ACK | TcpFlags::PSH, 100),
            // Thirty idle seconds, then the server resets.
            at(5, 30_003 * MS, false, TcpFlags::RST, 0),
        ]
    }

    fn ladder(packets: &[LadderPacket], zoom: f64) -> Ladder {
        Ladder::new(packets, "10.0.0.1:4000", "10.0.0.2:80", &[], false, zoom)
    }

    #[test]
    fn lanes_client_left_server_right_and_a_middlebox_between_when_asked() {
        let packets = handshake_then_reset();
        let plain = ladder(&packets, 1.0);
        let roles: Vec<LaneRole> = plain.lanes().iter().map(|l| l.role).collect();
        assert_eq!(roles, [LaneRole::Client, LaneRole::Server]);
        assert_eq!(plain.lanes()[0].title, "Client 10.0.0.1:4000");
        let mb = Ladder::new(&packets, "c", "s", &[PacketIdx(5)], true, 1.0);
        let lanes = mb.lanes();
        assert_eq!(lanes[1].role, LaneRole::Middlebox);
        assert!(lanes[0].x < lanes[1].x && lanes[1].x < lanes[2].x);
        // The RST that is evidence of a middlebox is drawn from the middlebox's lane.
        let rst = mb.arrow(&packets, 4).unwrap();
        assert_eq!((rst.x1, rst.x2), (lanes[1].x, lanes[0].x));
        assert!(rst.evidence);
        assert!(rst.classes().contains("sequence-diagram__arrow--evidence"));
    }

    #[test]
    fn absolute_numbers_add_each_directions_base_and_wrap() {
        let packets = handshake_then_reset();
        // Bases near 2^32 on purpose: absolute numbers wrap as on the wire.
        let bases = SeqBases {
            client: Some(u32::MAX - 10),
            server: Some(1000),
        };
        let syn_ack = bases.absolute(&packets[1]);
        assert_eq!((syn_ack.seq, syn_ack.ack), (1000, u32::MAX - 9));
        let data = bases.absolute(&packets[3]);
        assert_eq!(data.seq, packets[3].seq.wrapping_add(u32::MAX - 10));
        // No ACK flag: the acknowledgement number stays 0; an unknown base stays relative.
        let syn = SeqBases {
            client: None,
            ..bases
        }
        .absolute(&packets[0]);
        assert_eq!((syn.seq, syn.ack), (0, 0));
        let relative = ladder(&packets, 1.0).arrow(&packets, 1).unwrap().label;
        let absolute = ladder(&packets, 1.0)
            .with_absolute(Some(bases))
            .arrow(&packets, 1)
            .unwrap()
            .label;
        assert_eq!(relative, "[SYN, ACK] Seq=0 Ack=1 Win=64240 Len=0");
        assert_eq!(
            absolute,
            format!("[SYN, ACK] Seq=1000 Ack={} Win=64240 Len=0", u32::MAX - 9)
        );
    }

    #[test]
    fn the_scenarios_bases_are_their_isns() {
        let analysis = scenario("mass_reset.client");
        let c = connection_packets(&analysis, StreamId(0)).expect("stream 0");
        let (client, server) = (c.bases.client.unwrap(), c.bases.server.unwrap());
        let syn = c
            .packets
            .iter()
            .find(|p| p.tcp_flags() == TcpFlags(TcpFlags::SYN))
            .unwrap();
        assert_eq!(c.bases.absolute(syn).seq, client);
        let syn_ack = c
            .packets
            .iter()
            .find(|p| p.tcp_flags() == TcpFlags(TcpFlags::SYN | TcpFlags::ACK))
            .unwrap();
        assert_eq!(c.bases.absolute(syn_ack).seq, server);
        assert_eq!(c.bases.absolute(syn_ack).ack, client.wrapping_add(1));
    }

    #[test]
    fn arrows_go_down_from_sender_to_receiver_in_time_order() {
        let packets = handshake_then_reset();
        let l = ladder(&packets, 1.0);
        let syn = l.arrow(&packets, 0).unwrap();
        let syn_ack = l.arrow(&packets, 1).unwrap();
        assert_eq!((syn.x1, syn.x2), (CLIENT_X, SERVER_X));
        assert_eq!((syn_ack.x1, syn_ack.x2), (SERVER_X, CLIENT_X));
        assert!(syn.y2 > syn.y1, "arrives slightly later");
        assert!(syn_ack.y1 >= syn.y1 + ROW, "a row apart at least");
        for pos in 1..packets.len() {
            assert!(l.y(pos).unwrap() > l.y(pos - 1).unwrap());
        }
        assert_eq!(syn.frame, 1);
        assert_eq!(syn.time, "0.000000");
        assert_eq!(syn_ack.time, "0.001000");
    }

    #[test]
    fn labels_and_classes() {
        let packets = handshake_then_reset();
        let l = ladder(&packets, 1.0);
        let label_of = |pos| l.arrow(&packets, pos).unwrap().label;
        assert_eq!(label_of(0), "[SYN] Seq=0 Win=64240 Len=0");
        assert_eq!(label_of(1), "[SYN, ACK] Seq=0 Ack=1 Win=64240 Len=0");
        assert_eq!(label_of(3), "[PSH, ACK] Seq=1 Ack=1 Win=64240 Len=100");
        let classes = |pos| l.arrow(&packets, pos).unwrap().kinds;
        assert_eq!(classes(0), [Kind::Handshake]);
        assert_eq!(classes(2), [Kind::Ack]);
        assert_eq!(classes(3), [Kind::Data]);
        assert_eq!(classes(4), [Kind::Rst]);
        let retrans_fin = LadderPacket {
            findings: (Findings::RETRANSMISSION | Findings::LOST_SEGMENT).0,
            ..at(9, 0, true, TcpFlags::FIN | TcpFlags::ACK, 0)
        };
        assert_eq!(
            kinds(&retrans_fin).collect::<Vec<_>>(),
            [Kind::Fin, Kind::Retransmission, Kind::LostSegment]
        );
        let a = l.arrow(&packets, 4).unwrap();
        assert_eq!(
            a.classes(),
            "sequence-diagram__arrow sequence-diagram__arrow--rst"
        );
        // Zoomed out, labels are left to the tooltip.
        let small = ladder(&packets, 0.5);
        assert_eq!(small.arrow(&packets, 0).unwrap().label, "");
        assert!(tooltip(&packets[4]).contains("Frame 6 at +30.003000 s, server → client"));
        assert_eq!(legend().count(), Kind::ALL.len());
        assert_eq!(legend().next().unwrap().0, Kind::Rst);
    }

    #[test]
    fn idle_gaps_fold_into_a_break_that_says_how_long() {
        let packets = handshake_then_reset();
        let l = ladder(&packets, 1.0);
        assert_eq!(l.breaks().len(), 1);
        let b = l.breaks()[0];
        assert_eq!(b.before_packet, 4);
        assert_eq!(b.gap_ns, 30_000 * MS);
        assert_eq!(b.label(), "idle 30.0 s");
        assert!(b.y > l.y(3).unwrap() && b.y + b.height < l.y(4).unwrap());
        // Folded: the 30 s gap takes less room than a 0.9 s one would at full scale.
        assert!(l.y(4).unwrap() - l.y(3).unwrap() < ROW * 4.0);
        // Just under the threshold: no break, more room than a back-to-back pair.
        let near = [
            at(0, 0, true, 0x10, 0),
            at(1, IDLE_BREAK_NS, false, 0x10, 0),
        ];
        let n = ladder(&near, 1.0);
        assert!(n.breaks().is_empty());
        assert_eq!(n.y(1).unwrap() - n.y(0).unwrap(), ROW + MAX_TIME_STEP);
        // A clock that goes back counts as no time.
        let back = [at(0, 5 * MS, true, 0x10, 0), at(1, 0, false, 0x10, 0)];
        assert_eq!(ladder(&back, 1.0).y(1).unwrap() - PAD, ROW);
    }

    #[test]
    fn zoom_scales_rows_and_steps_through_levels() {
        let packets = handshake_then_reset();
        let one = ladder(&packets, 1.0);
        let two = ladder(&packets, 2.0);
        let d = |l: &Ladder| l.y(1).unwrap() - l.y(0).unwrap();
        assert!((d(&two) - 2.0 * d(&one)).abs() < 1e-9);
        assert_eq!(step_zoom(1.0, 1), 1.5);
        assert_eq!(step_zoom(1.0, -1), 0.5);
        assert_eq!(step_zoom(ZOOMS[0], -1), ZOOMS[0]);
        assert_eq!(step_zoom(3.0, 1), 3.0);
        assert_eq!(ladder(&packets, f64::NAN).zoom(), 1.0);
    }

    #[test]
    fn problems_are_found_both_ways() {
        let mut packets = handshake_then_reset();
        packets[2].findings = Findings::DUPLICATE_ACK.0;
        assert_eq!(next_problem(&packets, None, true), Some(2));
        assert_eq!(next_problem(&packets, Some(2), true), Some(4));
        assert_eq!(next_problem(&packets, Some(4), true), None);
        assert_eq!(next_problem(&packets, None, false), Some(4));
        assert_eq!(next_problem(&packets, Some(4), false), Some(2));
        assert_eq!(next_problem(&packets, Some(2), false), None);
        assert_eq!(next_problem(&[], None, true), None);
    }

    fn synthetic(n: u32) -> Vec<LadderPacket> {
        (0..n)
            .map(|i| LadderPacket {
                seq: i * 100,
                findings: if i % 1000 == 999 {
                    Findings::RETRANSMISSION.0
                } else {
                    0
                },
                // 1 ms apart, with a 5 s pause every 10,000 packets.
                ..at(
                    i,
                    i64::from(i) * MS + i64::from(i / 10_000) * 5_000 * MS,
                    i % 2 == 0,
                    TcpFlags::ACK,
                    100 * (i % 2),
                )
            })
            .collect()
    }

    #[test]
    fn windowing_draws_only_what_is_on_screen_of_100k_packets() {
        let packets = synthetic(100_000);
        for zoom in ZOOMS {
            let l = ladder(&packets, zoom);
            assert_eq!(l.len(), 100_000);
            assert_eq!(l.breaks().len(), 9);
            for top in [0.0, l.height() / 2.0, l.height() - 800.0, l.height() + 1e6] {
                let range = l.visible(top, 800.0);
                // At most a viewport and the overscan, a row each.
                let bound = ((800.0 + 2.0 * OVERSCAN_PX) / (ROW * zoom)).ceil() as usize + 2;
                assert!(range.len() <= bound, "zoom {zoom} top {top}: {range:?}");
                for pos in range.clone() {
                    let y = l.y(pos).unwrap();
                    assert!(y + ROW * zoom >= top - OVERSCAN_PX && y <= top + 800.0 + OVERSCAN_PX);
                }
                if top < l.height() {
                    assert!(!range.is_empty());
                }
            }
        }
        let l = ladder(&packets, 1.0);
        let mid = l.y(50_000).unwrap();
        let range = l.visible(mid, 800.0);
        assert!(range.contains(&50_000));
        assert_eq!(l.at_y(mid + 1.0), Some(50_000));
        assert_eq!(l.at_y(-5.0), Some(0));
        assert_eq!(l.at_y(1e12), Some(99_999));
        let b = l.breaks()[4];
        assert_eq!(l.visible_breaks(b.y - 10.0, 100.0), &[b]);
        assert!(l.visible_breaks(0.0, 100.0).is_empty());
    }

    #[test]
    fn export_is_a_whole_svg_document_with_the_styles_inlined() {
        let packets = ConnectionPackets {
            stream: 3,
            client: "10.0.0.1:4000".into(),
            server: "10.0.0.2:80".into(),
            packets: handshake_then_reset(),
            evidence: vec![5],
            ..ConnectionPackets::default()
        };
        let ev: Vec<PacketIdx> = packets.evidence.iter().map(|i| PacketIdx(*i)).collect();
        let l = Ladder::new(
            &packets.packets,
            &packets.client,
            &packets.server,
            &ev,
            false,
            1.0,
        );
        let css = ".sequence-diagram__arrow--rst { stroke: red; }";
        let doc = svg(&packets, &l, css);
        assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(doc.trim_end().ends_with("</svg>"));
        assert!(doc.contains(css));
        assert_eq!(doc.matches("data-frame=").count(), 5);
        assert!(doc.contains("sequence-diagram__arrow--rst sequence-diagram__arrow--evidence"));
        assert!(doc.contains("idle 30.0 s"));
        assert!(doc.contains("10.0.0.1:4000 ↔ 10.0.0.2:80"));
        // Balanced groups: every opened <g> is closed.
        assert_eq!(doc.matches("<g").count(), doc.matches("</g>").count());
    }

    /// The analysis of one of the project's scenario captures.
    fn scenario(name: &str) -> Analysis {
        let path = format!(
            "{}/tests/fixtures/scenarios/{name}.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut analyzer = crate::pipeline::Analyzer::new();
        analyzer.feed(&bytes).expect("a capture");
        analyzer.finish().expect("a capture")
    }

    #[test]
    fn every_scenario_connection_lays_out_in_order_with_its_resets_marked() {
        let dir = format!("{}/tests/fixtures/scenarios", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("the scenarios")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".pcap").map(str::to_string))
            .collect();
        names.sort();
        assert!(names.len() >= 20, "{names:?}");
        let mut resets = 0;
        for name in &names {
            let analysis = scenario(name);
            for conn in analysis.flows.connections() {
                let cp = connection_packets(&analysis, conn.stream).expect("known stream");
                assert_eq!(
                    cp.packets.len() as u64,
                    conn.packets(),
                    "{name} {:?}",
                    conn.stream
                );
                assert_eq!(cp.client, conn.client.to_string());
                let to_server = cp.packets.iter().filter(|p| p.from_client).count() as u64;
                assert_eq!(to_server, conn.to_server.packets, "{name}");
                let l = Ladder::new(&cp.packets, &cp.client, &cp.server, &[], false, 1.0);
                assert_eq!(l.len(), cp.packets.len());
                for pos in 0..cp.packets.len() {
                    let a = l.arrow(&cp.packets, pos).unwrap();
                    let p = cp.packets[pos];
                    assert_eq!(a.x1 < a.x2, p.from_client, "{name}: client arrows go right");
                    assert!(a.y2 > a.y1);
                    if pos > 0 {
                        assert!(a.y1 > l.y(pos - 1).unwrap(), "{name}: time runs down");
                        assert!(p.index > cp.packets[pos - 1].index, "{name}: file order");
                    }
                    if p.tcp_flags().rst() {
                        resets += 1;
                        assert!(a.kinds.contains(&Kind::Rst));
                        assert!(a.label.starts_with("[RST"), "{}", a.label);
                    }
                }
                assert!(l.height() > l.y(cp.packets.len() - 1).unwrap());
            }
        }
        assert!(resets >= 20, "the scenarios reset {resets} times");
    }

    #[test]
    fn the_idle_timeout_scenario_folds_its_idle_period() {
        let analysis = scenario("idle_timeout.client");
        let cp = connection_packets(&analysis, StreamId(0)).unwrap();
        let l = Ladder::new(&cp.packets, &cp.client, &cp.server, &[], false, 1.0);
        assert_eq!(l.breaks().len(), 1, "one idle period");
        let b = l.breaks()[0];
        assert!(b.gap_ns > IDLE_BREAK_NS);
        let after = cp.packets[b.before_packet];
        let before = cp.packets[b.before_packet - 1];
        assert_eq!(after.time_ns - before.time_ns, b.gap_ns);
        assert!(label(&cp.packets[0]).starts_with("[SYN] Seq=0"));
        assert!(cp.packets.last().unwrap().tcp_flags().rst());
        assert!(next_problem(&cp.packets, None, true).is_some());
        assert!(connection_packets(&analysis, StreamId(99)).is_none());
    }

    #[test]
    fn texts() {
        assert_eq!(seconds_text(1_234_567_890), "1.234567");
        assert_eq!(seconds_text(-1_500), "-0.000001");
        assert_eq!(duration_text(850 * MS), "850 ms");
        assert_eq!(duration_text(242_000 * MS), "4 min 02 s");
        assert_eq!(
            duration_text(3 * 3_600_000 * MS + 300_000 * MS),
            "3 h 05 min"
        );
        assert_eq!(flags_text(TcpFlags(0)), "<none>");
        assert_eq!(escape("<a&\">"), "&lt;a&amp;&quot;&gt;");
    }
}
