//! Unit tests of the sequence analysis: one scenario per heuristic, built from segment
//! templates with struct update, with sequence numbers near 2^32 on purpose (the ISNs below make
//! every connection wrap within its first few kilobytes), and connections that start mid-stream.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::dissect::TcpOptions;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const S: u16 = TcpFlags::SYN;
const A: u16 = TcpFlags::ACK;
const F: u16 = TcpFlags::FIN;
const R: u16 = TcpFlags::RST;
const P: u16 = TcpFlags::PSH;

/// Client ISN: 1000 below 2^32, so data wraps after the first kilobyte.
const ISN_C: u32 = u32::MAX - 999;
/// Server ISN: 10 below 2^32.
const ISN_S: u32 = u32::MAX - 9;
const MS: i64 = 1_000_000;

const NO_OPTIONS: TcpOptions = TcpOptions::NONE;

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
    options: NO_OPTIONS,
    ttl: 64,
    ip_id: None,
    payload_offset: 0,
    truncated: false,
};

/// Client to server: `seq`/`ack` relative to the ISNs (+1 is the first data byte).
fn c2s(seq: u32, ack: u32, flags: u16, len: u32) -> TcpSegment {
    TcpSegment {
        seq: SeqNum(ISN_C.wrapping_add(seq)),
        ack: SeqNum(ISN_S.wrapping_add(ack)),
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
        seq: SeqNum(ISN_S.wrapping_add(seq)),
        ack: SeqNum(ISN_C.wrapping_add(ack)),
        flags: TcpFlags(flags),
        payload_len: len,
        ..TEMPLATE
    }
}

/// Feeds segments at the given millisecond times; returns each packet's analysis.
fn run(segs: &[(i64, TcpSegment)]) -> (TcpAnalyzer, Vec<PacketAnalysis>) {
    let mut tcp = TcpAnalyzer::new();
    let out = segs
        .iter()
        .enumerate()
        .map(|(i, (t, seg))| {
            tcp.observe(&Observation {
                index: PacketIdx(i as u32),
                ts: Timestamp(t * MS),
                stream: StreamId(0),
                reused_ports: false,
                segment: seg,
            })
        })
        .collect();
    (tcp, out)
}

fn findings(segs: &[(i64, TcpSegment)]) -> Vec<Findings> {
    run(segs).1.iter().map(|a| a.findings).collect()
}

fn handshake() -> Vec<(i64, TcpSegment)> {
    vec![
        (0, c2s(0, 0, S, 0)),
        (10, s2c(0, 1, S | A, 0)),
        (20, c2s(1, 1, A, 0)),
    ]
}

const RETX: Findings = Findings::RETRANSMISSION;
const NONE: Findings = Findings::NONE;

#[test]
fn clean_transfer_across_the_wrap_has_no_finding() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(1, 1, A | P, 1460)),
        (31, c2s(1461, 1, A | P, 1460)),
        (40, s2c(1, 2921, A, 0)),
        (50, c2s(2921, 1, F | A, 0)),
        (60, s2c(1, 2922, F | A, 0)),
        (70, c2s(2922, 2, A, 0)),
    ]);
    let (tcp, out) = run(&segs);
    assert!(out.iter().all(|a| a.findings.is_empty()), "{out:?}");
    let conn = &tcp.connections()[0];
    assert_eq!(conn.handshake_rtt_ns, Some(20 * MS));
    assert_eq!(
        conn.ended.map(|e| (e.kind, e.by)),
        Some((EndKind::Fin, Side::Lo))
    );
    // The record shows Wireshark's relative numbers even after the raw ones wrapped.
    let r = tcp
        .records()
        .get(4)
        .copied()
        .unwrap_or_else(|| panic!("no record"));
    assert_eq!((r.seq, r.ack, r.len), (1461, 1, 1460));
    assert_eq!(tcp.records().bytes_in_flight(4), Some(2920));
    // The ACK of both segments acknowledges the second, 9 ms later.
    assert_eq!(tcp.records().acked(5), Some(4));
    assert_eq!(tcp.records().ack_rtt_ns(5), Some(9 * MS));
    let client = conn.endpoint(Side::Lo);
    assert_eq!(client.state, EndpointState::Closed);
    assert_eq!(client.stats.sequence_span, 2922);
}

#[test]
fn retransmission_after_the_rto() {
    let mut segs = handshake();
    segs.extend([(30, c2s(1, 1, A | P, 100)), (300, c2s(1, 1, A | P, 100))]);
    assert_eq!(findings(&segs)[4], RETX);
}

#[test]
fn out_of_order_within_the_handshake_rtt() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(101, 1, A, 100)),
        // The earlier segment, 5 ms later: within the 20 ms handshake RTT.
        (35, c2s(1, 1, A, 100)),
    ]);
    let f = findings(&segs);
    assert_eq!(f[3], Findings::LOST_SEGMENT);
    assert_eq!(f[4], Findings::OUT_OF_ORDER);
}

#[test]
fn fast_retransmission_after_two_duplicate_acks() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(1, 1, A, 100)),
        (31, c2s(101, 1, A, 100)),
        (40, s2c(1, 1, A, 0)),
        (41, s2c(1, 1, A, 0)),
        (42, s2c(1, 1, A, 0)),
        (45, c2s(1, 1, A, 100)),
    ]);
    let (tcp, out) = run(&segs);
    let f: Vec<_> = out.iter().map(|a| a.findings).collect();
    // The server's first pure ACK already counts: it repeats the SYN+ACK's sequence number,
    // ACK and window (Wireshark compares with the sender's previous segment, whatever it was).
    assert_eq!(f[5], Findings::DUPLICATE_ACK);
    assert_eq!(f[6], Findings::DUPLICATE_ACK);
    assert_eq!(out[6].dup_ack_num, Some(2));
    assert_eq!(f[8], Findings::FAST_RETRANSMISSION | RETX);
    assert_eq!(tcp.records().dup_ack_num(6), Some(2));
}

#[test]
fn spurious_retransmission_of_acknowledged_data() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(1, 1, A, 100)),
        (40, s2c(1, 101, A, 0)),
        (500, c2s(1, 1, A, 100)),
    ]);
    assert_eq!(findings(&segs)[5], Findings::SPURIOUS_RETRANSMISSION | RETX);
}

#[test]
fn lost_segment_and_ack_of_unseen_data() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(101, 1, A, 100)),
        (40, s2c(1, 201, A, 0)),
        (41, s2c(1, 201, A, 0)),
    ]);
    let f = findings(&segs);
    assert_eq!(f[3], Findings::LOST_SEGMENT);
    assert_eq!(f[4], Findings::ACK_LOST_SEGMENT);
    // Reported once: the client sent nothing since, and its duplicate-ACK count is set aside.
    assert!(!f[5].contains(Findings::ACK_LOST_SEGMENT));
}

#[test]
fn zero_window_probe_and_its_ack() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(1, 1, A, 100)),
        (40, s2c(1, 101, A, 0)),
        (41, TCPSEG_ZERO_WINDOW),
        (300, c2s(101, 1, A, 1)),
        (310, TCPSEG_ZERO_WINDOW),
    ]);
    let f = findings(&segs);
    assert_eq!(f[5], Findings::ZERO_WINDOW);
    assert_eq!(f[6], Findings::ZERO_WINDOW_PROBE);
    assert_eq!(
        f[7],
        Findings::ZERO_WINDOW | Findings::ZERO_WINDOW_PROBE_ACK
    );
}

/// The server's ACK of the first 100 bytes with a zero window.
const TCPSEG_ZERO_WINDOW: TcpSegment = TcpSegment {
    src: SERVER,
    dst: CLIENT,
    src_port: 80,
    dst_port: 40000,
    seq: SeqNum(ISN_S.wrapping_add(1)),
    ack: SeqNum(ISN_C.wrapping_add(101)),
    flags: TcpFlags(A),
    window: 0,
    ..TEMPLATE
};

#[test]
fn keep_alive_and_its_ack_mid_stream() {
    // A connection first seen mid-stream: no handshake, relative numbers start at 1.
    let segs = [
        (0, c2s(5000, 7000, A, 10)),
        (10, s2c(7000, 5010, A, 0)),
        (60_000, c2s(5009, 7000, A, 0)),
        (60_010, s2c(7000, 5010, A, 0)),
    ];
    let (tcp, out) = run(&segs);
    assert_eq!(out[2].findings, Findings::KEEP_ALIVE);
    assert_eq!(out[3].findings, Findings::KEEP_ALIVE_ACK);
    let conn = &tcp.connections()[0];
    assert_eq!(conn.endpoint(Side::Lo).state, EndpointState::Partial);
    assert_eq!(conn.endpoint(Side::Lo).window_scale, WindowScale::Unknown);
    assert_eq!(conn.handshake_rtt_ns, None);
    assert_eq!(tcp.records().get(0).map(|r| (r.seq, r.ack)), Some((1, 1)));
}

#[test]
fn window_update_and_window_full() {
    let mut segs = handshake();
    segs.extend([
        // The server's window is 1000 (not scaled: no option in the handshake).
        (30, c2s(1, 1, A, 1000)),
        (40, s2c(1, 1001, A, 0)),
        (
            41,
            TcpSegment {
                window: 3000,
                ..s2c(1, 1001, A, 0)
            },
        ),
    ]);
    let f = findings(&segs);
    assert_eq!(f[3], Findings::WINDOW_FULL);
    assert_eq!(f[5], Findings::WINDOW_UPDATE);
}

#[test]
fn window_scale_from_the_handshake() {
    let ws = |shift| TcpOptions {
        window_scale: Some(shift),
        ..NO_OPTIONS
    };
    let segs = [
        (
            0,
            TcpSegment {
                options: ws(7),
                ..c2s(0, 0, S, 0)
            },
        ),
        (
            10,
            TcpSegment {
                options: ws(20),
                ..s2c(0, 1, S | A, 0)
            },
        ),
        (20, c2s(1, 1, A, 0)),
    ];
    let (tcp, _) = run(&segs);
    let conn = &tcp.connections()[0];
    assert_eq!(conn.endpoint(Side::Lo).window_scale, WindowScale::Shift(7));
    // Clamped to RFC 7323's maximum, as Wireshark does.
    assert_eq!(
        conn.endpoint(Side::Hi).window_scale,
        WindowScale::Shift(MAX_WINDOW_SHIFT)
    );
    assert_eq!(conn.endpoint(Side::Lo).scaled_window(1000), 128_000);
    assert!(tcp.records().get(2).is_some_and(|r| r.window_scaled()));
    assert!(tcp.records().get(0).is_some_and(|r| !r.window_scaled()));

    // Only one side offers it: neither scales.
    let segs = [
        (
            0,
            TcpSegment {
                options: ws(7),
                ..c2s(0, 0, S, 0)
            },
        ),
        (10, s2c(0, 1, S | A, 0)),
    ];
    let (tcp, _) = run(&segs);
    let conn = &tcp.connections()[0];
    assert_eq!(conn.endpoint(Side::Lo).window_scale, WindowScale::NotUsed);
    assert_eq!(conn.endpoint(Side::Hi).window_scale, WindowScale::NotUsed);
}

#[test]
fn syn_ack_with_a_new_isn_is_reused_ports_and_rebases() {
    let segs = [
        (0, c2s(0, 0, S, 0)),
        (10, s2c(0, 1, S | A, 0)),
        (20, s2c(5000, 1, S | A, 0)),
        (30, s2c(5001, 1, A, 10)),
    ];
    let (tcp, out) = run(&segs);
    // Only the base moves: the jump from the first SYN+ACK is also a gap, as in Wireshark
    // (ndpi/tls_multiple_synack_different_seq.pcapng agrees with tshark on it).
    assert_eq!(
        out[2].findings,
        Findings::REUSED_PORTS | Findings::LOST_SEGMENT
    );
    assert_eq!(out[3].findings, NONE);
    assert_eq!(tcp.records().get(3).map(|r| r.seq), Some(1));
}

#[test]
fn rst_ends_the_connection_and_is_never_lost_segment() {
    let mut segs = handshake();
    segs.push((30, s2c(500, 1, R, 0)));
    let (tcp, out) = run(&segs);
    assert_eq!(out[3].findings, NONE);
    let conn = &tcp.connections()[0];
    assert_eq!(
        conn.ended.map(|e| (e.kind, e.by, e.index)),
        Some((EndKind::Rst, Side::Hi, PacketIdx(3)))
    );
    assert_eq!(conn.endpoint(Side::Hi).state, EndpointState::Reset);
}

/// Why we keep `tcp.analysis.ack_rtt` for frame 24 of `tcp-empty-sack/tcp-opt.pcap` where
/// tshark shows none: an empty SACK option changes nothing in the analysis, the ACK does
/// acknowledge a segment exactly, and its RTT is measured.
#[test]
fn ack_rtt_of_the_exact_ack() {
    let mut segs = handshake();
    segs.extend([
        (30, c2s(1, 1, A, 1440)),
        (
            216,
            TcpSegment {
                options: TcpOptions {
                    sack_permitted: false,
                    sack_count: 0,
                    ..NO_OPTIONS
                },
                ..s2c(1, 1441, A, 0)
            },
        ),
    ]);
    let (tcp, _) = run(&segs);
    assert_eq!(tcp.records().acked(4), Some(3));
    assert_eq!(tcp.records().ack_rtt_ns(4), Some(186 * MS));
}

#[test]
fn never_panics_on_odd_input() {
    // All flags, huge lengths, sequence numbers 2^31 apart, time going backwards.
    let segs = [
        (1_000, c2s(0, 0, 0x0fff, u32::MAX)),
        (0, c2s(1 << 31, 1 << 31, 0x0fff, u32::MAX)),
        (-5, s2c(0, 0, S | A | F | R, 1)),
        (i64::MAX / MS, s2c(1 << 31, 0, A, 0)),
    ];
    let (tcp, out) = run(&segs);
    assert_eq!(out.len(), 4);
    assert_eq!(tcp.records().len(), 4);
}
