//! Compact per-packet records: what later stages (ladder diagrams, reset diagnosis, exports)
//! need of every TCP packet, in 32 bytes, without its bytes (those are read back from the file
//! on demand, by frame).
//!
//! Layout of [`PacketRecord`] (32 bytes, alignment 4, no padding):
//!
//! | bytes | field | |
//! |---|---|---|
//! | 0..4 | `index` | the record's position in the file ([`PacketIdx`]) |
//! | 4..8 | `stream` | Wireshark's `tcp.stream` |
//! | 8..12 | `seq` | relative sequence number, as Wireshark shows `tcp.seq` |
//! | 12..16 | `ack` | relative acknowledgement number (`tcp.ack`), 0 without ACK |
//! | 16..20 | `len` | payload length (`tcp.len`) |
//! | 20..26 | time | nanoseconds since the connection's first packet, 48-bit signed |
//! | 26..28 | `window` | the raw window field |
//! | 28..30 | bits | TCP flags (12 bits), sender side, window-scaled |
//! | 30..32 | `findings` | [`Findings`] |
//!
//! What only some packets have is kept beside the records, sparse and in record order: the
//! duplicate-ACK number (duplicate ACKs only), the segment a packet acknowledges (8 bytes: its
//! ACK RTT is the difference of the two records' times, and the rare RTT those cannot give, a
//! time having saturated, is kept on its own) and the bytes in flight (data segments only).
//! [`Records`] answers for all of them.

use crate::capture::{PacketIdx, Timestamp};
use crate::dissect::TcpFlags;
use crate::flow::{Side, StreamId};

use super::Findings;

/// Nanosecond offsets are kept in 48 bits, signed: about ±39 hours from the connection's first
/// packet. Larger offsets saturate (see [`PacketRecord::time_offset_ns`]).
const TIME_BITS: u32 = 48;
const TIME_MAX: i64 = (1 << (TIME_BITS - 1)) - 1;
const TIME_MIN: i64 = -(1 << (TIME_BITS - 1));

/// The TCP flags use the low 12 bits of `bits`.
const FLAG_MASK: u16 = 0x0fff;
/// Set when the sender is the connection's [`Side::Hi`] endpoint.
const BIT_FROM_HI: u16 = 1 << 12;
/// Set when the window field is scaled by its direction's window scale (Wireshark applies the
/// scale to every non-SYN segment once the handshake negotiated it).
const BIT_SCALED: u16 = 1 << 13;

/// One TCP packet, compactly. See the module documentation for the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRecord {
    /// The packet's position in the capture (frame number - 1).
    pub index: PacketIdx,
    /// The connection (`tcp.stream`).
    pub stream: StreamId,
    /// Relative sequence number (raw minus the direction's base), as Wireshark's `tcp.seq`.
    pub seq: u32,
    /// Relative acknowledgement number, as Wireshark's `tcp.ack`; 0 when ACK is not set.
    pub ack: u32,
    /// TCP payload length (`tcp.len`).
    pub len: u32,
    time_lo: u32,
    time_hi: i16,
    /// The raw (unscaled) window field, `tcp.window_size_value`.
    pub window: u16,
    bits: u16,
    /// What the sequence analysis found.
    pub findings: Findings,
}

/// What [`PacketRecord::new`] takes, named.
#[derive(Debug, Clone, Copy)]
pub struct RecordFields {
    pub index: PacketIdx,
    pub stream: StreamId,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    /// Nanoseconds since the connection's first packet (negative if the clock went back).
    pub time_offset_ns: i64,
    pub window: u16,
    pub flags: TcpFlags,
    pub side: Side,
    pub window_scaled: bool,
    pub findings: Findings,
}

impl PacketRecord {
    /// Packs the fields; a time offset beyond ±2^47 ns saturates.
    pub fn new(f: RecordFields) -> PacketRecord {
        let t = f.time_offset_ns.clamp(TIME_MIN, TIME_MAX);
        let mut bits = f.flags.0 & FLAG_MASK;
        if f.side == Side::Hi {
            bits |= BIT_FROM_HI;
        }
        if f.window_scaled {
            bits |= BIT_SCALED;
        }
        PacketRecord {
            index: f.index,
            stream: f.stream,
            seq: f.seq,
            ack: f.ack,
            len: f.len,
            // Splitting a 48-bit value into its low 32 and high 16 bits.
            time_lo: t as u32,
            time_hi: (t >> 32) as i16,
            window: f.window,
            bits,
            findings: f.findings,
        }
    }

    /// Nanoseconds since the first packet of the connection (saturated at ±2^47 ns, about
    /// 39 hours).
    pub fn time_offset_ns(&self) -> i64 {
        (i64::from(self.time_hi) << 32) | i64::from(self.time_lo)
    }

    /// The packet's timestamp, given its connection's first timestamp.
    pub fn ts(&self, connection_start: Timestamp) -> Timestamp {
        Timestamp(connection_start.0.saturating_add(self.time_offset_ns()))
    }

    /// The TCP flags.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.bits & FLAG_MASK)
    }

    /// Which endpoint of the connection's [`crate::flow::FlowKey`] sent the packet (stable even
    /// when the flow table corrects a guessed client/server later).
    pub fn side(&self) -> Side {
        if self.bits & BIT_FROM_HI != 0 {
            Side::Hi
        } else {
            Side::Lo
        }
    }

    /// Whether the window is to be scaled by its direction's negotiated window scale.
    pub fn window_scaled(&self) -> bool {
        self.bits & BIT_SCALED != 0
    }

    /// The frame number Wireshark shows (1-based).
    pub fn frame_number(&self) -> u64 {
        self.index.frame_number()
    }
}

/// A sparse per-record value: the position of the record in [`Records`] and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sparse {
    record: u32,
    value: u32,
}

/// Whether the ACK RTT `rtt_ns` of `record` is the difference of its time and its acknowledged
/// segment's, as their records keep them: when neither time saturated, nor the RTT. (Decided
/// from the ACK's record alone: reading the segment's, often far back, missed the cache.)
fn times_give(record: &PacketRecord, rtt_ns: i64) -> bool {
    let within = |t: i64| (TIME_MIN..=TIME_MAX).contains(&t);
    let offset = record.time_offset_ns();
    // At the limits the time may have been cut.
    let exact = offset > TIME_MIN && offset < TIME_MAX;
    exact
        && rtt_ns != i64::MAX
        && rtt_ns != i64::MIN
        && offset.checked_sub(rtt_ns).is_some_and(within)
}

/// Looks up the value of record `pos` in a sparse list kept in record order.
fn sparse_get(list: &[Sparse], pos: u32) -> Option<u32> {
    let i = list.partition_point(|s| s.record < pos);
    list.get(i).filter(|s| s.record == pos).map(|s| s.value)
}

/// An ACK round-trip time that the two records' times do not give (see [`Records::push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OddRtt {
    record: u32,
    rtt_ns: i64,
}

/// What a packet acknowledged (see [`Records::push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckOf {
    /// Position of the acknowledged segment's record.
    pub record: u32,
    /// Nanoseconds from that segment to the acknowledging packet.
    pub rtt_ns: i64,
}

/// Every TCP packet's record, in file order, and the sparse values beside them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Records {
    records: Vec<PacketRecord>,
    dup_ack_num: Vec<Sparse>,
    /// Each acknowledging record and the position of the segment it acknowledges. The ACK
    /// RTT is the difference of the two records' times, which is exact unless a time
    /// saturated (far from the connection's start): those few RTTs are in `odd_rtts`.
    acked: Vec<Sparse>,
    odd_rtts: Vec<OddRtt>,
    bytes_in_flight: Vec<Sparse>,
}

impl Records {
    /// No record yet.
    pub fn new() -> Records {
        Records::default()
    }

    /// Makes room for `packets` more records and their sparse values: up to three quarters
    /// of the packets acknowledge a segment, and as many carry data (40 to 75% in the corpus's
    /// composites, about 70% in the generated captures); duplicate ACKs are rare.
    pub fn reserve(&mut self, packets: usize) {
        let sparse = packets - packets / 4;
        self.records.reserve(packets);
        self.acked.reserve(sparse);
        self.bytes_in_flight.reserve(sparse);
    }

    /// Gives back the room the vectors grew into but do not use (up to half of each): called
    /// once the capture has been read, since the records are then kept as long as it is shown.
    pub fn shrink_to_fit(&mut self) {
        self.records.shrink_to_fit();
        self.dup_ack_num.shrink_to_fit();
        self.acked.shrink_to_fit();
        self.odd_rtts.shrink_to_fit();
        self.bytes_in_flight.shrink_to_fit();
    }

    /// The position the next record will have.
    pub fn next_position(&self) -> u32 {
        u32::try_from(self.records.len()).unwrap_or(u32::MAX)
    }

    /// Appends a record with its sparse values; returns its position.
    pub fn push(
        &mut self,
        record: PacketRecord,
        dup_ack_num: Option<u32>,
        acked: Option<AckOf>,
        bytes_in_flight: Option<u32>,
    ) -> u32 {
        let record_pos = self.next_position();
        if let Some(a) = acked {
            if !times_give(&record, a.rtt_ns) {
                self.odd_rtts.push(OddRtt {
                    record: record_pos,
                    rtt_ns: a.rtt_ns,
                });
            }
        }
        self.records.push(record);
        let add = |list: &mut Vec<Sparse>, v: Option<u32>| {
            if let Some(value) = v {
                list.push(Sparse {
                    record: record_pos,
                    value,
                });
            }
        };
        add(&mut self.dup_ack_num, dup_ack_num);
        add(&mut self.bytes_in_flight, bytes_in_flight);
        add(&mut self.acked, acked.map(|a| a.record));
        record_pos
    }

    /// All records, in file order.
    pub fn as_slice(&self) -> &[PacketRecord] {
        &self.records
    }

    /// The record at a position.
    pub fn get(&self, pos: u32) -> Option<&PacketRecord> {
        self.records.get(pos as usize)
    }

    /// Number of records (TCP packets).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// No TCP packet.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The position of the record of a packet (records are in file order).
    pub fn position_of(&self, index: PacketIdx) -> Option<u32> {
        let i = self.records.partition_point(|r| r.index < index);
        self.records
            .get(i)
            .filter(|r| r.index == index)
            .and_then(|_| u32::try_from(i).ok())
    }

    /// Wireshark's `tcp.analysis.duplicate_ack_num` of the record at `pos`.
    pub fn dup_ack_num(&self, pos: u32) -> Option<u32> {
        sparse_get(&self.dup_ack_num, pos)
    }

    /// The position of the segment the record at `pos` acknowledges (`tcp.analysis.acks_frame`).
    pub fn acked(&self, pos: u32) -> Option<u32> {
        sparse_get(&self.acked, pos)
    }

    /// Wireshark's `tcp.analysis.ack_rtt` of the record at `pos`, in nanoseconds: the time from
    /// the segment it acknowledges to it. Like Wireshark, `None` when that time is zero.
    pub fn ack_rtt_ns(&self, pos: u32) -> Option<i64> {
        let acked = self.acked(pos)?;
        let i = self.odd_rtts.partition_point(|o| o.record < pos);
        match self.odd_rtts.get(i).filter(|o| o.record == pos) {
            Some(odd) => Some(odd.rtt_ns),
            None => self.rtt_between(self.get(pos)?, acked),
        }
        .filter(|rtt| *rtt != 0)
    }

    /// The time from the record at `acked` to `record` (of the same connection), as their
    /// times give it.
    fn rtt_between(&self, record: &PacketRecord, acked: u32) -> Option<i64> {
        let segment = self.get(acked)?;
        Some(
            record
                .time_offset_ns()
                .saturating_sub(segment.time_offset_ns()),
        )
    }

    /// Wireshark's `tcp.analysis.bytes_in_flight` of the record at `pos`.
    pub fn bytes_in_flight(&self, pos: u32) -> Option<u32> {
        sparse_get(&self.bytes_in_flight, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const _: () = assert!(std::mem::size_of::<PacketRecord>() <= 32);

    #[test]
    fn record_is_32_bytes() {
        assert_eq!(std::mem::size_of::<PacketRecord>(), 32);
    }

    const FIELDS: RecordFields = RecordFields {
        index: PacketIdx(7),
        stream: StreamId(3),
        seq: u32::MAX - 5,
        ack: 1,
        len: 1460,
        time_offset_ns: 0,
        window: 65535,
        flags: TcpFlags(TcpFlags::ACK | TcpFlags::PSH | TcpFlags::NS),
        side: Side::Hi,
        window_scaled: true,
        findings: Findings::RETRANSMISSION,
    };

    #[test]
    fn fields_round_trip() {
        for t in [
            0,
            1,
            -1,
            123_456_789_012,
            -98_765_432_101,
            TIME_MAX,
            TIME_MIN,
        ] {
            let r = PacketRecord::new(RecordFields {
                time_offset_ns: t,
                ..FIELDS
            });
            assert_eq!(r.time_offset_ns(), t);
            assert_eq!(r.flags(), FIELDS.flags);
            assert_eq!(r.side(), Side::Hi);
            assert!(r.window_scaled());
            assert_eq!(r.ts(Timestamp(1_000)), Timestamp(1_000 + t));
        }
        let lo = PacketRecord::new(RecordFields {
            side: Side::Lo,
            window_scaled: false,
            ..FIELDS
        });
        assert_eq!((lo.side(), lo.window_scaled()), (Side::Lo, false));
        assert_eq!(lo.frame_number(), 8);
    }

    #[test]
    fn time_saturates() {
        let far = PacketRecord::new(RecordFields {
            time_offset_ns: i64::MAX,
            ..FIELDS
        });
        assert_eq!(far.time_offset_ns(), TIME_MAX);
        let back = PacketRecord::new(RecordFields {
            time_offset_ns: i64::MIN,
            ..FIELDS
        });
        assert_eq!(back.time_offset_ns(), TIME_MIN);
    }

    /// A record of packet `i`, `t` nanoseconds after its connection's start.
    fn at(i: u32, t: i64) -> PacketRecord {
        PacketRecord::new(RecordFields {
            index: PacketIdx(i),
            time_offset_ns: t,
            ..FIELDS
        })
    }

    /// Appends the record of packet `i` at `t`, acknowledging the record at `acked` `rtt_ns`
    /// after it; returns its position.
    fn push_ack(records: &mut Records, i: u32, t: i64, acked: u32, rtt_ns: i64) -> u32 {
        let ack = AckOf {
            record: acked,
            rtt_ns,
        };
        records.push(at(i, t), None, Some(ack), None)
    }

    #[test]
    fn sparse_values_and_rtt() {
        let mut records = Records::new();
        let a = records.push(at(0, 0), None, None, Some(100));
        let b = records.push(
            at(2, 5_000),
            Some(1),
            Some(AckOf {
                record: a,
                rtt_ns: 5_000,
            }),
            None,
        );
        let c = push_ack(&mut records, 5, 5_000, b, 0);
        assert_eq!(records.len(), 3);
        assert_eq!(records.dup_ack_num(b), Some(1));
        assert_eq!(records.dup_ack_num(a), None);
        assert_eq!(records.ack_rtt_ns(b), Some(5_000));
        // Zero RTT is not shown, as in Wireshark.
        assert_eq!(records.ack_rtt_ns(c), None);
        assert_eq!(records.acked(c), Some(b));
        assert_eq!(records.bytes_in_flight(a), Some(100));
        assert_eq!(records.position_of(PacketIdx(5)), Some(c));
        assert_eq!(records.position_of(PacketIdx(3)), None);
        assert_eq!(records.get(9), None);
        // Both RTTs came from the records' times.
        assert!(records.odd_rtts.is_empty());
    }

    #[test]
    fn an_rtt_the_saturated_times_cannot_give_is_kept_exactly() {
        let mut records = Records::new();
        // A segment 50 hours after its connection's start (beyond the records' 39 hours),
        // acknowledged 20 ms later: both times saturate to the same value.
        let hours_50 = 50 * 3_600 * 1_000_000_000;
        let late = records.push(at(0, hours_50), None, None, None);
        let ack = push_ack(&mut records, 1, hours_50 + 20_000_000, late, 20_000_000);
        assert_eq!(records.ack_rtt_ns(ack), Some(20_000_000));
        assert_eq!(records.acked(ack), Some(late));
        // A segment acknowledged across the limit: the difference of the times is short of it.
        let before = records.push(at(2, TIME_MAX - 1_000), None, None, None);
        let across = push_ack(&mut records, 3, TIME_MAX + 4_000, before, 5_000);
        assert_eq!(records.ack_rtt_ns(across), Some(5_000));
        assert_eq!(records.odd_rtts.len(), 2);
        // A zero RTT kept this way is still not shown.
        let zero = push_ack(&mut records, 4, hours_50, late, 0);
        assert_eq!(records.ack_rtt_ns(zero), None);
    }
}
