//! Dissection of whole records: every link type and encapsulation, built with etherparse's
//! `PacketBuilder` or by hand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{PacketBuilder, TcpOptionElement};
use proptest::prelude::*;

use super::*;

const A4: [u8; 4] = [192, 0, 2, 1];
const B4: [u8; 4] = [198, 51, 100, 2];
const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// Sequence numbers just below the wrap, on purpose.
const SEQ: u32 = 0xffff_fff0;
const ACK: u32 = 0xffff_ffff;

/// What the builders below produce, as the dissector must report it.
const TEMPLATE: TcpSegment = TcpSegment {
    src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    dst: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)),
    src_port: 40000,
    dst_port: 443,
    seq: SeqNum(SEQ),
    ack: SeqNum(ACK),
    flags: TcpFlags(TcpFlags::ACK | TcpFlags::PSH),
    window: 1024,
    payload_len: 5,
    header_len: 20,
    options: TcpOptions::NONE,
    ttl: 64,
    ip_id: Some(0),
    payload_offset: 0,
    truncated: false,
};

const PAYLOAD: &[u8] = b"hello";

/// An IPv4 packet carrying a TCP segment with PAYLOAD.
fn ipv4_tcp() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(A4, B4, 64)
        .tcp(40000, 443, SEQ, 1024)
        .ack(ACK)
        .psh()
        .write(&mut out, PAYLOAD)
        .expect("built");
    out
}

fn ipv6_tcp() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(A6, B6, 50)
        .tcp(40000, 443, SEQ, 1024)
        .ack(ACK)
        .psh()
        .write(&mut out, PAYLOAD)
        .expect("built");
    out
}

fn v6_template() -> TcpSegment {
    TcpSegment {
        src: IpAddr::V6(Ipv6Addr::from(A6)),
        dst: IpAddr::V6(Ipv6Addr::from(B6)),
        ttl: 50,
        ip_id: None,
        ..TEMPLATE
    }
}

fn whole(link: u16, record: &[u8]) -> Dissection {
    dissect(LinkType(link), record, record.len() as u32)
}

fn tcp(result: Dissection) -> TcpSegment {
    match result {
        Dissection::Tcp(segment) => segment,
        other => panic!("expected TCP, got {other:?}"),
    }
}

fn prefixed(prefix: &[u8], packet: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(packet);
    out
}

const ETH_ADDRS: [u8; 12] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];

fn ethernet(ethertype: u16, inner: &[u8]) -> Vec<u8> {
    let mut out = ETH_ADDRS.to_vec();
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(inner);
    out
}

#[test]
fn ethernet_ipv4_with_options() {
    let mut record = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(A4, B4, 64)
        .tcp(40000, 443, SEQ, 1024)
        .ack(ACK)
        .syn()
        .options(&[
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(0xffff_ffff, 1),
        ])
        .expect("options fit")
        .write(&mut record, &[])
        .expect("built");
    let s = tcp(whole(1, &record));
    assert_eq!(s.flags, TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
    assert_eq!(s.options.mss, Some(1460));
    assert_eq!(s.options.window_scale, Some(7));
    assert!(s.options.sack_permitted);
    assert_eq!(s.options.timestamps, Some((0xffff_ffff, 1)));
    assert_eq!(
        (s.payload_len, s.payload_offset as usize),
        (0, record.len())
    );
    assert_eq!((s.seq, s.ack), (SeqNum(SEQ), SeqNum(ACK)));
}

#[test]
fn ethernet_and_vlan_stacks() {
    let ip = ipv4_tcp();
    let expect = TcpSegment {
        payload_offset: 14 + 40,
        ..TEMPLATE
    };
    assert_eq!(tcp(whole(1, &ethernet(0x0800, &ip))), expect);
    // 802.1Q, 802.1ad + 802.1Q, and three tags with the old 0x9100 Q-in-Q type on the outside.
    let q = ethernet(0x8100, &prefixed(&[0x00, 0x64, 0x08, 0x00], &ip));
    assert_eq!(
        tcp(whole(1, &q)),
        TcpSegment {
            payload_offset: 58,
            ..TEMPLATE
        }
    );
    let qinq = ethernet(
        0x88a8,
        &prefixed(&[0x00, 0x0a, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00], &ip),
    );
    assert_eq!(
        tcp(whole(1, &qinq)),
        TcpSegment {
            payload_offset: 62,
            ..TEMPLATE
        }
    );
    let three = ethernet(
        0x9100,
        &prefixed(
            &[0, 1, 0x88, 0xa8, 0, 2, 0x81, 0x00, 0, 3, 0x86, 0xdd],
            &ipv6_tcp(),
        ),
    );
    assert_eq!(
        tcp(whole(1, &three)),
        TcpSegment {
            payload_offset: 26 + 60,
            ..v6_template()
        }
    );
    // The builder's own 802.1Q stack.
    let mut built = Vec::new();
    PacketBuilder::ethernet2([2; 6], [4; 6])
        .double_vlan(
            etherparse::VlanId::try_new(10).expect("id"),
            etherparse::VlanId::try_new(20).expect("id"),
        )
        .ipv4(A4, B4, 64)
        .tcp(40000, 443, SEQ, 1024)
        .ack(ACK)
        .psh()
        .write(&mut built, PAYLOAD)
        .expect("built");
    assert_eq!(
        tcp(whole(1, &built)),
        TcpSegment {
            payload_offset: 62,
            ..TEMPLATE
        }
    );
}

#[test]
fn ethernet_encapsulations() {
    let ip = ipv4_tcp();
    // 802.3 + LLC/SNAP (RFC 1042); padding after the LLC frame is ignored.
    let llc = prefixed(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], &ip);
    let mut frame = ETH_ADDRS.to_vec();
    frame.extend_from_slice(&(llc.len() as u16).to_be_bytes());
    frame.extend_from_slice(&llc);
    frame.extend_from_slice(&[0; 6]);
    assert_eq!(
        tcp(whole(1, &frame)),
        TcpSegment {
            payload_offset: 22 + 40,
            ..TEMPLATE
        }
    );
    // MPLS: two labels, bottom of stack on the second.
    let mpls = ethernet(
        0x8847,
        &prefixed(&[0, 0x01, 0x00, 0x40, 0, 0x02, 0x01, 0x40], &ip),
    );
    assert_eq!(
        tcp(whole(1, &mpls)),
        TcpSegment {
            payload_offset: 22 + 40,
            ..TEMPLATE
        }
    );
    // PPPoE session, PPP IPv4.
    let len = (ip.len() + 2) as u16;
    let pppoe_header = [
        0x11,
        0x00,
        0x12,
        0x34,
        (len >> 8) as u8,
        len as u8,
        0x00,
        0x21,
    ];
    let pppoe = ethernet(0x8864, &prefixed(&pppoe_header, &ip));
    assert_eq!(
        tcp(whole(1, &pppoe)),
        TcpSegment {
            payload_offset: 22 + 40,
            ..TEMPLATE
        }
    );
    // ARP is not IP.
    assert_eq!(whole(1, &ethernet(0x0806, &[0; 28])), Dissection::NotIp);
}

#[test]
fn cooked_raw_null_and_loopback() {
    let ip = ipv4_tcp();
    let sll = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    assert_eq!(
        tcp(whole(113, &prefixed(&sll, &ip))),
        TcpSegment {
            payload_offset: 56,
            ..TEMPLATE
        }
    );
    let sll2 = [
        0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0,
    ];
    assert_eq!(
        tcp(whole(276, &prefixed(&sll2, &ipv6_tcp()))),
        TcpSegment {
            payload_offset: 80,
            ..v6_template()
        }
    );
    for raw in [101, 12, 14, 228] {
        assert_eq!(
            tcp(whole(raw, &ip)),
            TcpSegment {
                payload_offset: 40,
                ..TEMPLATE
            },
            "link type {raw}"
        );
    }
    assert_eq!(
        tcp(whole(229, &ipv6_tcp())),
        TcpSegment {
            payload_offset: 60,
            ..v6_template()
        }
    );
    // Null: host byte order, either way round; the IPv6 families of the BSDs and Darwin.
    assert_eq!(
        tcp(whole(0, &prefixed(&[2, 0, 0, 0], &ip))).payload_offset,
        44
    );
    assert_eq!(
        tcp(whole(0, &prefixed(&[0, 0, 0, 2], &ip))).payload_offset,
        44
    );
    for family in [24u8, 28, 30] {
        assert_eq!(
            tcp(whole(0, &prefixed(&[family, 0, 0, 0], &ipv6_tcp()))).payload_offset,
            64
        );
    }
    assert_eq!(whole(0, &prefixed(&[7, 0, 0, 0], &ip)), Dissection::NotIp);
    // Loopback: network byte order only.
    assert_eq!(
        tcp(whole(108, &prefixed(&[0, 0, 0, 2], &ip))).payload_offset,
        44
    );
    assert_eq!(whole(108, &prefixed(&[2, 0, 0, 0], &ip)), Dissection::NotIp);
}

#[test]
fn fddi_and_nflog() {
    let ip = ipv4_tcp();
    let mut fddi = vec![0x50];
    fddi.extend_from_slice(&[0; 12]);
    fddi.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    assert_eq!(
        tcp(whole(10, &prefixed(&fddi, &ip))).payload_offset,
        21 + 40
    );
    // NFLOG: header, a prefix TLV (padded), then the payload TLV.
    let mut nflog = vec![2, 0, 0, 0];
    nflog.extend_from_slice(&[7, 0, 10, 0, b'a', b'b', b'c', 0]);
    nflog.extend_from_slice(&((ip.len() + 4) as u16).to_le_bytes());
    nflog.extend_from_slice(&[9, 0]);
    assert_eq!(
        tcp(whole(239, &prefixed(&nflog, &ip))).payload_offset,
        16 + 40
    );
}

#[test]
fn ipv4_header_options_and_ipv6_extension_headers() {
    // IPv4 with 4 bytes of options (NOP NOP NOP EOL): IHL 6.
    let ip = ipv4_tcp();
    let mut opt = vec![0x46];
    opt.push(ip[1]);
    opt.extend_from_slice(&((ip.len() + 4) as u16).to_be_bytes());
    opt.extend_from_slice(&ip[4..20]);
    opt.extend_from_slice(&[1, 1, 1, 0]);
    opt.extend_from_slice(&ip[20..]);
    assert_eq!(
        tcp(whole(101, &opt)),
        TcpSegment {
            payload_offset: 44,
            ..TEMPLATE
        }
    );

    // IPv6: hop-by-hop, routing, destination options, atomic fragment, AH, then TCP.
    let v6 = ipv6_tcp();
    let tcp_part = &v6[40..];
    let mut ext = Vec::new();
    ext.extend_from_slice(&[43, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop: PadN
    ext.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]); // routing type 0, segments left 0
    ext.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // destination options
    ext.extend_from_slice(&[51, 0, 0, 0, 0, 0, 0, 9]); // fragment: offset 0, M=0 (atomic)
    ext.extend_from_slice(&[
        6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]); // AH
    let mut packet = v6[..40].to_vec();
    packet[4..6].copy_from_slice(&((ext.len() + tcp_part.len()) as u16).to_be_bytes());
    packet[6] = 0;
    packet.extend_from_slice(&ext);
    packet.extend_from_slice(tcp_part);
    assert_eq!(
        tcp(whole(229, &packet)),
        TcpSegment {
            payload_offset: (40 + ext.len() + 20) as u32,
            ..v6_template()
        }
    );
    // No next header.
    packet[6] = 59;
    assert_eq!(whole(229, &packet), Dissection::OtherIp);
}

#[test]
fn snaplen_cut_and_tso() {
    let ip = ipv4_tcp();
    let record = ethernet(0x0800, &ip);
    // Cut in the payload: tcp.len still from the IP total length.
    let cut = &record[..record.len() - 3];
    let s = tcp(dissect(LinkType::ETHERNET, cut, record.len() as u32));
    assert_eq!(
        s,
        TcpSegment {
            payload_offset: 54,
            truncated: true,
            ..TEMPLATE
        }
    );
    // Cut in the TCP header: nothing usable.
    assert_eq!(
        dissect(
            LinkType::ETHERNET,
            &record[..14 + 20 + 19],
            record.len() as u32
        ),
        Dissection::Malformed
    );
    // Cut in the IP header.
    assert_eq!(
        dissect(LinkType::ETHERNET, &record[..14 + 19], record.len() as u32),
        Dissection::Malformed
    );
    // Total length 0 (TCP segmentation offload): the frame's length counts.
    let mut tso = record.clone();
    tso[16] = 0;
    tso[17] = 0;
    tso.extend_from_slice(&[0; 100]);
    assert_eq!(tcp(whole(1, &tso)).payload_len, 105);
    // Ethernet padding after the IP packet is not payload.
    let mut padded = record;
    padded.extend_from_slice(&[0; 10]);
    assert_eq!(tcp(whole(1, &padded)).payload_len, 5);
}

#[test]
fn unsupported_and_garbage() {
    assert_eq!(
        whole(147, &ipv4_tcp()),
        Dissection::UnsupportedLink(LinkType(147))
    );
    assert_eq!(whole(1, &[]), Dissection::Malformed);
    assert_eq!(whole(101, &[0x45]), Dissection::Malformed);
    assert_eq!(whole(101, &[0x15; 40]), Dissection::Malformed);
}

/// Splits the IPv4 packet's payload into fragments at the given byte offsets (multiples of 8).
fn ipv4_fragments(packet: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let payload = &packet[20..];
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload.len());
    bounds
        .windows(2)
        .map(|w| {
            let mut f = packet[..20].to_vec();
            f[2..4].copy_from_slice(&((20 + w[1] - w[0]) as u16).to_be_bytes());
            let more = if w[1] < payload.len() { 0x2000 } else { 0 };
            f[6..8].copy_from_slice(&((w[0] / 8) as u16 | more).to_be_bytes());
            f.extend_from_slice(&payload[w[0]..w[1]]);
            f
        })
        .collect()
}

#[test]
fn ipv4_fragments_are_reassembled_in_the_last_record() {
    let packet = ipv4_tcp();
    let parts = ipv4_fragments(&packet, &[8, 16]);
    let mut d = Dissector::new();
    assert_eq!(
        d.dissect(LinkType::RAW, &parts[1], parts[1].len() as u32),
        Dissection::OtherIp
    );
    assert_eq!(
        d.dissect(LinkType::RAW, &parts[0], parts[0].len() as u32),
        Dissection::OtherIp
    );
    let s = tcp(d.dissect(LinkType::RAW, &parts[2], parts[2].len() as u32));
    // The payload is not in this record.
    assert_eq!(
        s,
        TcpSegment {
            payload_offset: parts[2].len() as u32,
            truncated: true,
            ..TEMPLATE
        }
    );
    assert_eq!(d.reassembler().pending(), 0);
    // Without reassembly the first fragment is dissected as far as it goes (8 bytes: too
    // short for a TCP header), the others are not.
    assert_eq!(whole(101, &parts[0]), Dissection::Malformed);
    assert_eq!(whole(101, &parts[2]), Dissection::OtherIp);
    let first = ipv4_fragments(&packet, &[24]);
    assert_eq!(tcp(whole(101, &first[0])).payload_len, 4);
}

#[test]
fn ipv6_fragments_are_reassembled() {
    let v6 = ipv6_tcp();
    let tcp_part = &v6[40..];
    let fragment = |offset: usize, more: bool, data: &[u8]| {
        let mut f = v6[..40].to_vec();
        f[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        f[6] = 44;
        let field = (offset as u16) | u16::from(more);
        f.extend_from_slice(&[6, 0]);
        f.extend_from_slice(&field.to_be_bytes());
        f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        f.extend_from_slice(data);
        f
    };
    let a = fragment(0, true, &tcp_part[..16]);
    let b = fragment(16, false, &tcp_part[16..]);
    let mut d = Dissector::new();
    assert_eq!(
        d.dissect(LinkType::IPV6, &a, a.len() as u32),
        Dissection::OtherIp
    );
    let s = tcp(d.dissect(LinkType::IPV6, &b, b.len() as u32));
    assert_eq!(
        s,
        TcpSegment {
            payload_offset: b.len() as u32,
            truncated: true,
            ..v6_template()
        }
    );
}

#[test]
fn tunnels() {
    let inner = ipv4_tcp();
    // IP in IP.
    let mut outer = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 9)
        .write(&mut outer, etherparse::IpNumber(4), &inner)
        .expect("built");
    assert_eq!(
        tcp(whole(101, &outer)),
        TcpSegment {
            payload_offset: 60,
            ..TEMPLATE
        }
    );
    // GRE carrying IPv4.
    let mut gre = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 9)
        .write(
            &mut gre,
            etherparse::IpNumber(47),
            &prefixed(&[0, 0, 0x08, 0x00], &inner),
        )
        .expect("built");
    assert_eq!(
        tcp(whole(101, &gre)),
        TcpSegment {
            payload_offset: 64,
            ..TEMPLATE
        }
    );
    // Teredo: IPv6 in UDP port 3544.
    let mut teredo = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 9)
        .udp(3544, 50000)
        .write(&mut teredo, &ipv6_tcp())
        .expect("built");
    assert_eq!(
        tcp(whole(101, &teredo)),
        TcpSegment {
            payload_offset: 28 + 60,
            ..v6_template()
        }
    );
    // ICMP errors quote a header but are not a segment of the connection.
    let mut icmp = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 9)
        .write(
            &mut icmp,
            etherparse::IpNumber(1),
            &prefixed(&[3, 3, 0, 0, 0, 0, 0, 0], &inner),
        )
        .expect("built");
    assert_eq!(whole(101, &icmp), Dissection::OtherIp);
}

/// Every link type the dissector knows, and one it does not.
const LINK_TYPES: [u16; 13] = [0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 239, 276, 147];

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(
        link in proptest::sample::select(LINK_TYPES.to_vec()),
        data in proptest::collection::vec(any::<u8>(), 0..200),
        extra in 0u32..100_000,
    ) {
        let orig_len = (data.len() as u32).saturating_add(extra);
        let _ = dissect(LinkType(link), &data, orig_len);
        let _ = Dissector::new().dissect(LinkType(link), &data, orig_len);
    }

    #[test]
    fn never_panics_on_damaged_packets(
        flips in proptest::collection::vec((0usize..120, any::<u8>()), 1..8),
        cut in 0usize..120,
        v6 in any::<bool>(),
    ) {
        let mut record = ethernet(0x8100, &prefixed(&[0, 1, 0x08, 0x00], &if v6 { ipv6_tcp() } else { ipv4_tcp() }));
        if v6 {
            record[16] = 0x86;
            record[17] = 0xdd;
        }
        for (at, byte) in flips {
            if let Some(b) = record.get_mut(at) {
                *b = byte;
            }
        }
        let len = record.len() as u32;
        record.truncate(cut.min(record.len()));
        let mut d = Dissector::new();
        for _ in 0..3 {
            if let Dissection::Tcp(s) = d.dissect(LinkType::ETHERNET, &record, len) {
                prop_assert!(s.payload_offset as usize <= record.len());
            }
        }
    }
}
