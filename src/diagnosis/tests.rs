//! One test per rule, on segments built from a template and run through the real flow table
//! and TCP analyzer. Sequence numbers sit near 2^32 on purpose, and several captures start
//! mid-connection (no handshake).

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use super::*;
use crate::analysis::Observation;
use crate::capture::PacketIdx;
use crate::dissect::{TcpFlags, TcpOptions, TcpSegment};
use crate::seq::SeqNum;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const S: u16 = TcpFlags::SYN;
const A: u16 = TcpFlags::ACK;
const R: u16 = TcpFlags::RST;
const F: u16 = TcpFlags::FIN;
const P: u16 = TcpFlags::PSH;
const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;

/// Near 2^32: the client's sequence numbers wrap during the test.
const ISN_C: u32 = u32::MAX - 9;
const ISN_S: u32 = u32::MAX - 100_000;

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
    ip_id: Some(1),
    payload_offset: 0,
    truncated: false,
};

fn c2s(seq: u32, ack: u32, flags: u16, len: u32) -> TcpSegment {
    TcpSegment {
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags: TcpFlags(flags),
        payload_len: len,
        ..TEMPLATE
    }
}

fn s2c(seq: u32, ack: u32, flags: u16, len: u32) -> TcpSegment {
    TcpSegment {
        src: SERVER,
        dst: CLIENT,
        src_port: 80,
        dst_port: 40000,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags: TcpFlags(flags),
        payload_len: len,
        // Seen from the client's side: the server is one hop away.
        ttl: 63,
        ..TEMPLATE
    }
}

/// Another client port: a second connection between the same hosts.
fn port(seg: TcpSegment, client_port: u16) -> TcpSegment {
    if seg.src == CLIENT {
        TcpSegment {
            src_port: client_port,
            ..seg
        }
    } else {
        TcpSegment {
            dst_port: client_port,
            ..seg
        }
    }
}

fn ttl(seg: TcpSegment, ttl: u8) -> TcpSegment {
    TcpSegment { ttl, ..seg }
}

/// Drives the stages as the pipeline does, plus the TTL observer.
#[derive(Default)]
struct Capture {
    flows: FlowTable,
    tcp: TcpAnalyzer,
    ttls: TtlObserver,
    now: i64,
    next: u32,
    first: Option<Timestamp>,
}

impl Capture {
    /// The next packet, `dt` nanoseconds after the previous one.
    fn at(&mut self, dt: i64, seg: TcpSegment) -> &mut Self {
        self.now += dt;
        let ts = Timestamp(1_700_000_000 * SEC + self.now);
        self.first.get_or_insert(ts);
        let index = PacketIdx(self.next);
        self.next += 1;
        let stream = self.flows.push(index, ts, &seg);
        self.tcp.observe(&Observation {
            index,
            ts,
            stream,
            reused_ports: false,
            segment: &seg,
        });
        self.ttls.push(index, stream, &seg);
        self
    }

    fn handshake(&mut self) -> &mut Self {
        self.at(0, c2s(ISN_C, 0, S, 0))
            .at(MS, s2c(ISN_S, ISN_C.wrapping_add(1), S | A, 0))
            .at(MS, c2s(ISN_C.wrapping_add(1), ISN_S.wrapping_add(1), A, 0))
    }

    fn diagnose(&self) -> Diagnosis {
        let last = Timestamp(1_700_000_000 * SEC + self.now);
        diagnose_parts(Inputs {
            flows: &self.flows,
            tcp: &self.tcp,
            ttls: &self.ttls,
            span: self.first.map(|f| (f, last)),
        })
    }
}

fn only_verdict(d: &Diagnosis) -> &ResetVerdict {
    let all: Vec<&ResetVerdict> = d.resets().collect();
    assert_eq!(all.len(), 1, "{d:#?}");
    all[0]
}

/// Client and server sequence numbers after the handshake and `n` bytes of request.
fn c(n: u32) -> u32 {
    ISN_C.wrapping_add(1).wrapping_add(n)
}
fn s(n: u32) -> u32 {
    ISN_S.wrapping_add(1).wrapping_add(n)
}

#[test]
fn refused_when_the_syn_is_answered_by_a_reset() {
    let mut cap = Capture::default();
    cap.at(0, c2s(ISN_C, 0, S, 0))
        .at(MS, s2c(0, ISN_C.wrapping_add(1), R | A, 0));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!(
        (v.sender, v.phase, v.cause),
        (Sender::Server, Phase::Handshake, Cause::Refused)
    );
    assert_eq!(
        v.evidence.iter().map(|e| e.frame).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(d.connections[0].outcome, Outcome::Refused);
    assert_eq!(d.summary.by_cause[0].cause, Cause::Refused);
}

#[test]
fn abortive_close_mid_connection_across_the_wrap() {
    let mut cap = Capture::default();
    // No handshake: the capture starts with the client's data crossing 2^32.
    cap.at(0, c2s(u32::MAX - 4, 500, A | P, 10))
        .at(MS, s2c(500, 5, A, 0))
        .at(MS, s2c(500, 5, A | P, 100))
        .at(MS, c2s(5, 600, A, 0))
        .at(50 * MS, s2c(600, 5, R | A, 0));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!(
        (v.sender, v.phase, v.cause),
        (Sender::Server, Phase::Established, Cause::AbortiveClose)
    );
    assert_eq!(d.connections[0].outcome, Outcome::Reset);
}

#[test]
fn data_after_close_is_the_keep_alive_race() {
    let mut cap = Capture::default();
    cap.handshake()
        .at(MS, c2s(c(0), s(0), A | P, 20))
        .at(MS, s2c(s(0), c(20), A | P, 30))
        .at(MS, c2s(c(20), s(30), A, 0))
        .at(SEC, s2c(s(30), c(20), F | A, 0))
        .at(MS, c2s(c(20), s(31), A, 0))
        .at(300 * MS, c2s(c(20), s(31), A | P, 20))
        .at(MS / 10, s2c(s(31), 0, R, 0));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!(
        (v.sender, v.phase, v.cause),
        (Sender::Server, Phase::Closing, Cause::DataAfterClose)
    );
    assert_eq!(
        v.evidence.iter().map(|e| e.frame).collect::<Vec<_>>(),
        [7, 9, 10]
    );
}

#[test]
fn out_of_window_beyond_and_below_but_not_inside() {
    let build = |rst_seq: u32| {
        let mut cap = Capture::default();
        cap.handshake()
            .at(MS, c2s(c(0), s(0), A | P, 20))
            .at(MS, s2c(s(0), c(20), A | P, 30))
            .at(MS, c2s(c(20), s(30), A, 0))
            // Forged in the server's name, with the server's TTL: only the window says so.
            .at(MS, s2c(rst_seq, c(20), R | A, 0))
            .at(MS, c2s(c(20), s(30), F | A, 0))
            .at(MS, s2c(s(30), c(21), F | A, 0))
            .at(MS, c2s(c(21), s(31), A, 0));
        cap.diagnose()
    };
    // 2^30 beyond the client's window (its window is 1000 bytes, unscaled).
    let d = build(s(30).wrapping_add(1 << 30));
    let v = only_verdict(&d);
    assert_eq!((v.sender, v.cause), (Sender::Server, Cause::OutOfWindow));
    assert_eq!(d.connections[0].outcome, Outcome::Completed);
    // Just below what the client acknowledged: stale (relative sequence wraps below 0).
    let d = build(s(0).wrapping_sub(5));
    assert_eq!(only_verdict(&d).cause, Cause::OutOfWindow);
    // Inside the window: a real reset.
    let d = build(s(30).wrapping_add(10));
    let v = only_verdict(&d);
    assert_eq!(v.cause, Cause::AbortiveClose);
    assert_eq!(d.connections[0].outcome, Outcome::Reset);
}

#[test]
fn forged_by_ttl_and_genuine_with_the_same_ttl() {
    let build = |rst_ttl: u8| {
        let mut cap = Capture::default();
        cap.handshake()
            .at(MS, c2s(c(0), s(0), A | P, 20))
            .at(MS, s2c(s(0), c(20), A | P, 30))
            .at(MS, c2s(c(20), s(30), A, 0))
            .at(200 * MS, c2s(c(20), s(30), A | P, 20))
            .at(MS / 10, ttl(s2c(s(30), 0, R, 0), rst_ttl));
        cap.diagnose()
    };
    let d = build(64);
    let v = only_verdict(&d);
    assert_eq!(
        (v.sender, v.claimed_sender, v.cause),
        (Sender::Middlebox, Sender::Server, Cause::Middlebox)
    );
    assert!(
        v.evidence.iter().any(|e| e.what.contains("TTL 63")),
        "{v:#?}"
    );
    let d = build(63);
    let v = only_verdict(&d);
    assert_eq!((v.sender, v.cause), (Sender::Server, Cause::AbortiveClose));
}

#[test]
fn forged_after_a_long_quiet_is_an_idle_timeout() {
    let mut cap = Capture::default();
    cap.handshake()
        .at(MS, c2s(c(0), s(0), A | P, 20))
        .at(MS, s2c(s(0), c(20), A | P, 30))
        .at(MS, c2s(c(20), s(30), A, 0))
        .at(400 * SEC, c2s(c(20), s(30), A | P, 20))
        .at(MS / 10, ttl(s2c(s(30), 0, R, 0), 64));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!((v.sender, v.cause), (Sender::Middlebox, Cause::IdleTimeout));
    assert_eq!(v.also, [Cause::Middlebox]);
    assert!(
        v.next_step.contains("AWS NLB idle timeout, 350 s"),
        "{}",
        v.next_step
    );
}

#[test]
fn genuine_reset_after_a_long_quiet_is_an_idle_timeout() {
    let mut cap = Capture::default();
    cap.handshake()
        .at(MS, c2s(c(0), s(0), A | P, 20))
        .at(MS, s2c(s(0), c(20), A | P, 30))
        .at(MS, c2s(c(20), s(30), A, 0))
        .at(80 * SEC, s2c(s(30), c(20), R | A, 0));
    let v = only_verdict(&cap.diagnose()).clone();
    assert_eq!((v.sender, v.cause), (Sender::Server, Cause::IdleTimeout));
    assert!(v.also.contains(&Cause::AbortiveClose));
    assert!(
        v.next_step.contains("nginx keepalive_timeout, 75 s"),
        "{}",
        v.next_step
    );
}

#[test]
fn unacknowledged_retransmissions_then_reset() {
    let mut cap = Capture::default();
    cap.handshake().at(MS, c2s(c(0), s(0), A | P, 20));
    for backoff in [200, 400, 800] {
        cap.at(backoff * MS, c2s(c(0), s(0), A | P, 20));
    }
    cap.at(1600 * MS, c2s(c(20), s(0), R | A, 0));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!(
        (v.sender, v.cause),
        (Sender::Client, Cause::RetransmissionTimeout)
    );
    assert!(v.summary.contains("3 times"), "{}", v.summary);
}

#[test]
fn silent_drop_seen_from_the_far_side_mid_connection() {
    let mut cap = Capture::default();
    cap.at(0, c2s(u32::MAX, 7, A | P, 20))
        .at(MS, s2c(7, 19, A | P, 30))
        .at(MS, c2s(19, 37, A, 0))
        .at(7 * SEC, s2c(37, 19, A | P, 25))
        .at(MS / 10, c2s(19, 0, R, 0));
    let v = only_verdict(&cap.diagnose()).clone();
    assert_eq!(
        (v.sender, v.cause),
        (Sender::Client, Cause::RetransmissionTimeout)
    );
    assert!(v.summary.contains("bare RST"), "{}", v.summary);
}

#[test]
fn zero_window_stall() {
    let mut cap = Capture::default();
    cap.handshake().at(MS, c2s(c(0), s(0), A, 1000)).at(
        MS,
        TcpSegment {
            window: 0,
            ..s2c(s(0), c(1000), A, 0)
        },
    );
    for _ in 0..3 {
        cap.at(500 * MS, c2s(c(999), s(0), A, 0)).at(
            MS,
            TcpSegment {
                window: 0,
                ..s2c(s(0), c(1000), A, 0)
            },
        );
    }
    cap.at(SEC, c2s(c(1000), s(0), R | A, 0));
    let v = only_verdict(&cap.diagnose()).clone();
    assert_eq!(
        (v.sender, v.cause),
        (Sender::Client, Cause::ZeroWindowStall)
    );
}

#[test]
fn after_close_is_harmless() {
    let mut cap = Capture::default();
    cap.handshake()
        .at(MS, c2s(c(0), s(0), A | P, 20))
        .at(MS, s2c(s(0), c(20), A | P, 30))
        .at(MS, c2s(c(20), s(30), F | A, 0))
        .at(MS, s2c(s(30), c(21), F | A, 0))
        .at(MS, c2s(c(21), s(31), A, 0))
        .at(SEC, c2s(c(0), s(0), A | P, 20))
        .at(MS / 10, s2c(s(0), 0, R, 0));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!((v.phase, v.cause), (Phase::AfterClose, Cause::AfterClose));
    assert_eq!(d.connections[0].outcome, Outcome::Completed);
}

#[test]
fn lone_reset_has_no_connection() {
    let mut cap = Capture::default();
    cap.at(0, s2c(u32::MAX, 0, R, 0));
    let d = cap.diagnose();
    let v = only_verdict(&d);
    assert_eq!(
        (v.phase, v.cause),
        (Phase::NoConnection, Cause::NoConnection)
    );
}

#[test]
fn mass_reset_needs_three_connections_within_the_window() {
    let build = |connections: u16| {
        let mut cap = Capture::default();
        for i in 0..connections {
            cap.at(MS, port(c2s(c(0), s(0), A | P, 20), 40000 + i))
                .at(MS, port(s2c(s(0), c(20), A, 0), 40000 + i));
        }
        for i in 0..connections {
            cap.at(MS / 10, port(s2c(s(0), c(20), R | A, 0), 40000 + i));
        }
        cap.diagnose()
    };
    let d = build(3);
    assert!(d
        .resets()
        .all(|v| v.cause == Cause::MassReset && v.also == [Cause::AbortiveClose]));
    assert!(
        d.summary.findings[0]
            .starts_with("3 connections from 10.0.0.1 to 10.0.0.2:80 were reset by the server"),
        "{:?}",
        d.summary.findings
    );
    let d = build(2);
    assert!(d.resets().all(|v| v.cause == Cause::AbortiveClose));
}

#[test]
fn unanswered_syns_time_out_with_their_schedule() {
    let mut cap = Capture::default();
    cap.at(0, c2s(ISN_C, 0, S, 0))
        .at(SEC, c2s(ISN_C, 0, S, 0))
        .at(2 * SEC, c2s(ISN_C, 0, S, 0));
    let d = cap.diagnose();
    let c = &d.connections[0];
    assert_eq!(c.outcome, Outcome::Timeout);
    assert_eq!(c.syn_attempts, [0.0, 1.0, 3.0]);
    // One SYN with the capture ending right after: still open.
    let mut cap = Capture::default();
    cap.at(0, c2s(ISN_C, 0, S, 0))
        .at(10 * MS, port(c2s(1, 1, A, 0), 1));
    assert_eq!(cap.diagnose().connections[0].outcome, Outcome::Open);
}

#[test]
fn ids_round_trip_and_every_cause_is_explained() {
    for cause in Cause::ALL {
        assert_eq!(Cause::from_id(cause.id()), Some(cause));
        let json = serde_json::to_string(&cause).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", cause.id()));
        assert!(cause.explanation().len() > 80, "{}", cause.id());
    }
    assert_eq!(
        serde_json::to_string(&Phase::AfterClose).unwrap_or_default(),
        "\"after_close\""
    );
    assert!(COMMON_IDLE_TIMERS
        .windows(2)
        .all(|w| w[0].seconds <= w[1].seconds));
}

#[test]
fn time_histogram_uses_round_buckets() {
    let mut cap = Capture::default();
    cap.at(0, c2s(ISN_C, 0, S, 0))
        .at(MS, s2c(0, ISN_C.wrapping_add(1), R | A, 0))
        .at(5 * SEC, port(c2s(ISN_C, 0, S, 0), 1))
        .at(MS, port(s2c(0, ISN_C.wrapping_add(1), R | A, 0), 1));
    let h = cap.diagnose().summary.by_time;
    assert_eq!(h.bucket_seconds, 0.1);
    assert_eq!(h.resets.iter().sum::<u32>(), 2);
    assert_eq!((h.resets[0], h.resets[h.resets.len() - 1]), (1, 1));
}

/// A connection's track is kept only while it is open: the slot of one that has ended is
/// given to the next, which must start from nothing.
#[test]
fn a_connection_opened_after_another_ended_starts_a_fresh_track() {
    let mut cap = Capture::default();
    // Stream 0: a whole connection, closed by both sides, then the next one's SYN is refused.
    cap.at(0, c2s(ISN_C, 0, S, 0))
        .at(MS, s2c(ISN_S, ISN_C.wrapping_add(1), S | A, 0))
        .at(MS, c2s(ISN_C.wrapping_add(1), ISN_S.wrapping_add(1), A, 0))
        .at(
            MS,
            c2s(ISN_C.wrapping_add(1), ISN_S.wrapping_add(1), F | A, 0),
        )
        .at(
            MS,
            s2c(ISN_S.wrapping_add(1), ISN_C.wrapping_add(2), F | A, 0),
        )
        .at(MS, c2s(ISN_C.wrapping_add(2), ISN_S.wrapping_add(2), A, 0))
        .at(SEC, port(c2s(ISN_C, 0, S, 0), 40001))
        .at(MS, port(s2c(0, ISN_C.wrapping_add(1), R | A, 0), 40001));
    let d = cap.diagnose();
    assert_eq!(d.connections.len(), 2);
    assert_eq!(d.connections[0].outcome, Outcome::Completed);
    let v = only_verdict(&d);
    assert_eq!((v.phase, v.cause), (Phase::Handshake, Cause::Refused));
    assert_eq!(d.connections[1].outcome, Outcome::Refused);
}

fn arb_packet() -> impl Strategy<Value = Pkt> {
    (
        (any::<bool>(), 0u16..0x200, 0i64..(3 * SEC)),
        (
            any::<u32>(),
            any::<u32>(),
            prop_oneof![Just(0u32), 1u32..2000],
        ),
    )
        .prop_map(|((from_client, flags, ts), (seq, ack, len))| Pkt {
            at: timeline::At {
                index: PacketIdx(0),
                ts: Timestamp(ts),
            },
            role: if from_client {
                Role::Client
            } else {
                Role::Server
            },
            flags: TcpFlags(flags),
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            len,
            window_raw: 1000,
            window_max: 1000,
            findings: crate::analysis::Findings::default(),
        })
}

fn arb_segment() -> impl Strategy<Value = (bool, u32, u32, u16, u32, u16, u8, i64)> {
    (
        any::<bool>(),
        prop_oneof![any::<u32>(), (u32::MAX - 50)..=u32::MAX, 0u32..50],
        any::<u32>(),
        0u16..0x200,
        prop_oneof![Just(0u32), 1u32..2000],
        any::<u16>(),
        prop_oneof![Just(64u8), Just(63u8), any::<u8>()],
        prop_oneof![Just(0i64), 0i64..(10 * SEC), Just(-SEC)],
    )
}

proptest! {
    /// Whatever the segments, the diagnosis does not panic and gives every RST one verdict.
    #[test]
    fn never_panics_and_judges_every_reset(segs in proptest::collection::vec(arb_segment(), 0..60)) {
        let mut cap = Capture::default();
        let mut rsts = 0;
        for (from_client, seq, ack, flags, len, window, t, dt) in segs {
            let seg = if from_client { c2s(seq, ack, flags, len) } else { s2c(seq, ack, flags, len) };
            let seg = TcpSegment { window, ttl: t, ..seg };
            rsts += usize::from(seg.flags.rst());
            cap.at(dt, seg);
        }
        let d = cap.diagnose();
        prop_assert_eq!(d.resets().count(), rsts);
        prop_assert!(d.resets().all(|v| !v.summary.is_empty() && !v.evidence.is_empty()));
    }

    /// A connection without RST is followed in outline ([`Track::push_outline`]): what its
    /// outcome reads comes out as from the full [`Track::push`].
    #[test]
    fn the_outline_keeps_what_the_outcome_reads(pkts in proptest::collection::vec(arb_packet(), 0..40)) {
        let (mut full, mut outline) = (Track::default(), Track::default());
        for (i, p) in pkts.iter().enumerate() {
            let p = Pkt { at: timeline::At { index: PacketIdx(i as u32), ..p.at }, ..*p };
            full.push(&p);
            outline.push_outline(&p);
        }
        let read = |t: &Track| (t.packets, t.syn, t.syns, t.syn_offsets, t.syn_ack, t.fin, t.rst, t.last_from);
        prop_assert_eq!(read(&full), read(&outline));
        let last = Some(Timestamp(10 * SEC));
        let mut cap = Capture::default();
        cap.at(0, c2s(ISN_C, 0, S, 0));
        let conn = &cap.flows.connections()[0];
        prop_assert_eq!(connection_outcome(conn, &full, last), connection_outcome(conn, &outline, last));
    }

}
