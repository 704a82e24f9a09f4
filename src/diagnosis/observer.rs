//! The per-packet IP facts the reset diagnosis needs and the per-packet records do not keep:
//! the TTL (IPv6 hop limit) of every side of every connection, and the TTL and IP ID of every
//! RST. Fed in file order, beside the flow table, by whoever drives the pipeline.

use crate::capture::PacketIdx;
use crate::dissect::TcpSegment;
use crate::flow::{FlowKey, Side, StreamId};

/// How many distinct TTLs are kept per side of a connection. A genuine sender shows one TTL at
/// a capture point (two when routes change); past this many the side's baseline is marked as
/// overflowing and is no longer used to call a RST forged.
pub const MAX_TTLS_PER_SIDE: usize = 4;

/// How many RSTs are remembered with their TTL and IP ID (12 bytes each, so at most 12 MB);
/// RSTs beyond are diagnosed without TTL evidence.
pub const MAX_RST_FACTS: usize = 1_000_000;

/// One TTL value seen on a side's non-RST packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlSeen {
    pub ttl: u8,
    /// How many non-RST packets of the side carried it.
    pub packets: u32,
    /// The first of them.
    pub first: PacketIdx,
}

/// The TTLs one side of a connection sent with, RSTs left out: the baseline a RST claiming to
/// come from that side is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SideTtls {
    seen: [Option<TtlSeen>; MAX_TTLS_PER_SIDE],
    /// More distinct TTLs than [`MAX_TTLS_PER_SIDE`] were seen: no usable baseline.
    pub overflow: bool,
}

impl SideTtls {
    /// The distinct TTLs seen, in order of first appearance.
    pub fn values(&self) -> impl Iterator<Item = TtlSeen> + '_ {
        self.seen.iter().flatten().copied()
    }

    /// Whether a non-RST packet of this side carried `ttl`.
    pub fn contains(&self, ttl: u8) -> bool {
        self.values().any(|s| s.ttl == ttl)
    }

    /// No non-RST packet of this side was seen.
    pub fn is_empty(&self) -> bool {
        self.seen[0].is_none()
    }

    fn add(&mut self, ttl: u8, index: PacketIdx) {
        for slot in self.seen.iter_mut() {
            match slot {
                Some(s) if s.ttl == ttl => {
                    s.packets = s.packets.saturating_add(1);
                    return;
                }
                Some(_) => {}
                None => {
                    *slot = Some(TtlSeen {
                        ttl,
                        packets: 1,
                        first: index,
                    });
                    return;
                }
            }
        }
        self.overflow = true;
    }
}

/// The IP facts of one RST packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RstFact {
    pub index: PacketIdx,
    pub ttl: u8,
    /// IPv4 identification (`None` for IPv6).
    pub ip_id: Option<u16>,
}

/// Collects [`SideTtls`] per connection and [`RstFact`]s. See the module documentation.
///
/// CONTRACT: for every TCP segment, in file order, right after the flow table assigned it a
/// stream: `push(packet.index, stream, &segment)`.
#[derive(Debug, Clone, Default)]
pub struct TtlObserver {
    /// Per stream, `[Lo, Hi]` sides of the flow key.
    streams: Vec<[SideTtls; 2]>,
    /// In file order (so sorted by index).
    rsts: Vec<RstFact>,
}

impl TtlObserver {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes room for `connections` more streams.
    pub fn reserve(&mut self, connections: usize) {
        self.streams.reserve(connections);
    }

    /// Gives back the room not used (see [`TtlObserver::reserve`]).
    pub fn shrink_to_fit(&mut self) {
        self.streams.shrink_to_fit();
        self.rsts.shrink_to_fit();
    }

    /// Records one TCP segment of `stream`.
    pub fn push(&mut self, index: PacketIdx, stream: StreamId, seg: &TcpSegment) {
        let (_, side) = FlowKey::of(seg);
        if seg.flags.rst() {
            let in_order = self.rsts.last().is_none_or(|last| last.index < index);
            if in_order && self.rsts.len() < MAX_RST_FACTS {
                self.rsts.push(RstFact {
                    index,
                    ttl: seg.ttl,
                    ip_id: seg.ip_id,
                });
            }
            return;
        }
        let slot = stream.index();
        if self.streams.len() <= slot {
            self.streams.resize(slot + 1, [SideTtls::default(); 2]);
        }
        if let Some(sides) = self.streams.get_mut(slot) {
            sides[side_index(side)].add(seg.ttl, index);
        }
    }

    /// The TTL baseline of one side of a connection (empty if nothing was seen).
    pub fn side(&self, stream: StreamId, side: Side) -> SideTtls {
        self.streams
            .get(stream.index())
            .map(|sides| sides[side_index(side)])
            .unwrap_or_default()
    }

    /// The facts of the RST at `index`, if it was recorded.
    pub fn rst(&self, index: PacketIdx) -> Option<RstFact> {
        let i = self.rsts.partition_point(|r| r.index < index);
        self.rsts.get(i).filter(|r| r.index == index).copied()
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Lo => 0,
        Side::Hi => 1,
    }
}
