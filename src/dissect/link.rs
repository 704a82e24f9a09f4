//! Link layers and the encapsulations below IP: from a record's first byte to the IP header,
//! following Wireshark's dissectors for each link type and ethertype.

use super::net::{self, Ctx};
use super::view::View;
use super::Dissection;
use crate::capture::LinkType;

/// Ethertypes (IEEE registry) this dissector follows.
mod ethertype {
    pub(super) const IPV4: u16 = 0x0800;
    pub(super) const IPV6: u16 = 0x86dd;
    pub(super) const VLAN: u16 = 0x8100;
    pub(super) const QINQ: u16 = 0x88a8;
    /// The pre-standard Q-in-Q tag Wireshark also decodes as VLAN (`vlan.qinq_ethertype`).
    pub(super) const QINQ_OLD: u16 = 0x9100;
    pub(super) const MPLS: u16 = 0x8847;
    pub(super) const MPLS_MULTICAST: u16 = 0x8848;
    pub(super) const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet bridging (Ethernet inside GRE).
    pub(super) const TEB: u16 = 0x6558;
    /// PPP (inside GRE, as PPTP uses it).
    pub(super) const PPP: u16 = 0x880b;
    /// IEEE 802.1ah provider backbone bridging: an I-TAG, then a customer Ethernet frame.
    pub(super) const PBB: u16 = 0x88e7;
    /// Cisco VN-Tag (IEEE 802.1Qbh): a 4-byte tag, then the ethertype.
    pub(super) const VNTAG: u16 = 0x8926;
    /// Cisco FabricPath: 2 bytes (FTAG, TTL), then the inner Ethernet frame.
    pub(super) const FABRICPATH: u16 = 0x8903;
}

/// Values up to this are an IEEE 802.3 length, not an ethertype.
const MAX_8023_LENGTH: u16 = 1500;

/// Link types numbered by tcpdump.org that need no constant in `capture`.
const LINKTYPE_FDDI: u16 = 10;
/// `DLT_RAW` as numbered on most systems (12) and on OpenBSD (14); libpcap writes 101 but old
/// files carry these, and Wireshark reads both as raw IP.
const LINKTYPE_RAW_12: u16 = 12;
const LINKTYPE_RAW_14: u16 = 14;
const LINKTYPE_NFLOG: u16 = 239;

/// Dissects a record of the given link type.
pub(crate) fn dissect_link(link_type: LinkType, view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    match link_type.0 {
        0 => null(view, ctx),
        1 => ethernet(view, ctx),
        LINKTYPE_FDDI => fddi(view, ctx),
        101 | LINKTYPE_RAW_12 | LINKTYPE_RAW_14 => raw_ip(view, ctx),
        108 => loopback(view, ctx),
        113 => linux_sll(view, ctx),
        228 | 229 => net::ip(view, ctx),
        LINKTYPE_NFLOG => nflog(view, ctx),
        276 => linux_sll2(view, ctx),
        _ => Dissection::UnsupportedLink(link_type),
    }
}

/// Ethernet II or IEEE 802.3 (then LLC), 14 bytes.
pub(crate) fn ethernet(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let Some(kind) = view.u16(12) else {
        return Dissection::Malformed;
    };
    let rest = view.skip(14);
    if kind <= MAX_8023_LENGTH {
        // 802.3: the field is the LLC frame's length (the rest is padding).
        return llc(rest.limit(usize::from(kind)), ctx);
    }
    by_ethertype(kind, rest, ctx)
}

/// Follows an ethertype.
pub(crate) fn by_ethertype(kind: u16, view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    if !ctx.enter() {
        return Dissection::Malformed;
    }
    match kind {
        ethertype::IPV4 | ethertype::IPV6 => net::ip(view, ctx),
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => vlan(view, ctx),
        ethertype::MPLS | ethertype::MPLS_MULTICAST => mpls(view, ctx),
        ethertype::PPPOE_SESSION => pppoe_session(view, ctx),
        ethertype::TEB => ethernet(view, ctx),
        ethertype::PPP => ppp(view, ctx),
        ethertype::PBB => ethernet(view.skip(4), ctx),
        ethertype::VNTAG => vlan(view.skip(2), ctx),
        // Wireshark 4.0 assumes a 4-byte FCS at the end of a FabricPath frame; the corpus's
        // frames have none (their IP lengths fill them exactly), so none is assumed here.
        ethertype::FABRICPATH => ethernet(view.skip(2), ctx),
        _ => Dissection::NotIp,
    }
}

/// IEEE 802.1Q / 802.1ad tag: TCI, then the inner ethertype or 802.3 length.
fn vlan(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let Some(kind) = view.u16(2) else {
        return Dissection::Malformed;
    };
    let rest = view.skip(4);
    if kind <= MAX_8023_LENGTH {
        return llc(rest.limit(usize::from(kind)), ctx);
    }
    by_ethertype(kind, rest, ctx)
}

/// IEEE 802.2 LLC: IP directly on SAP 0x06, or SNAP with an ethertype (RFC 1042).
fn llc(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const SAP_IP: u8 = 0x06;
    const SAP_SNAP: u8 = 0xaa;
    /// Unnumbered information: the only control field with a 1-byte length used for data.
    const UI: u8 = 0x03;
    let (Some(dsap), Some(ssap), Some(control)) = (view.u8(0), view.u8(1), view.u8(2)) else {
        return Dissection::Malformed;
    };
    // The control field is one byte for U frames (low bits 11), two otherwise.
    let llc_len = if control & 0x03 == 0x03 { 3 } else { 4 };
    match (dsap, ssap) {
        (SAP_SNAP, SAP_SNAP) if control == UI => {
            let (Some(oui), Some(kind)) = (view.array::<3>(3), view.u16(6)) else {
                return Dissection::Malformed;
            };
            // OUI 00-00-00 (RFC 1042) and 00-00-F8 (Cisco) carry ethertypes.
            if oui == [0, 0, 0] || oui == [0, 0, 0xf8] {
                by_ethertype(kind, view.skip(8), ctx)
            } else {
                Dissection::NotIp
            }
        }
        (SAP_IP, _) => net::ip(view.skip(llc_len), ctx),
        _ => Dissection::NotIp,
    }
}

/// MPLS label stack (RFC 3032), then IP as Wireshark guesses it from the first nibble.
fn mpls(mut view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const BOTTOM_OF_STACK: u32 = 0x100;
    loop {
        let Some(entry) = view.u32(0) else {
            return Dissection::Malformed;
        };
        view = view.skip(4);
        if entry & BOTTOM_OF_STACK != 0 {
            break;
        }
    }
    let Some(first) = view.u8(0) else {
        return Dissection::Malformed;
    };
    match first >> 4 {
        4 | 6 => net::ip(view, ctx),
        // A zero nibble is the pseudowire control word (RFC 4385); Ethernet follows.
        0 => ethernet(view.skip(4), ctx),
        _ => Dissection::NotIp,
    }
}

/// PPPoE session stage (RFC 2516): 6-byte header, then a PPP protocol field.
fn pppoe_session(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let Some(len) = view.u16(4) else {
        return Dissection::Malformed;
    };
    ppp_protocol(view.skip(6).limit(usize::from(len)), ctx)
}

/// PPP in HDLC-like framing (RFC 1662) as GRE carries it: address and control bytes are
/// optional (address/control field compression).
fn ppp(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    if view.u16(0) == Some(0xff03) {
        return ppp_protocol(view.skip(2), ctx);
    }
    ppp_protocol(view, ctx)
}

/// PPP protocol field (RFC 1661), possibly compressed to one byte (odd first byte).
fn ppp_protocol(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const PPP_IPV4: u16 = 0x0021;
    const PPP_IPV6: u16 = 0x0057;
    let Some(first) = view.u8(0) else {
        return Dissection::Malformed;
    };
    let (protocol, len) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else {
        let Some(p) = view.u16(0) else {
            return Dissection::Malformed;
        };
        (p, 2)
    };
    match protocol {
        PPP_IPV4 | PPP_IPV6 => net::ip(view.skip(len), ctx),
        _ => Dissection::NotIp,
    }
}

/// FDDI (ANSI X3.139): frame control, destination, source, then LLC.
fn fddi(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const FDDI_HEADER: usize = 13;
    /// Frame control values of LLC frames (asynchronous and synchronous).
    const FC_LLC_MASK: u8 = 0xf0;
    const FC_LLC_ASYNC: u8 = 0x50;
    const FC_LLC_SYNC: u8 = 0xd0;
    let Some(fc) = view.u8(0) else {
        return Dissection::Malformed;
    };
    if !view.has(FDDI_HEADER) {
        return Dissection::Malformed;
    }
    match fc & FC_LLC_MASK {
        FC_LLC_ASYNC | FC_LLC_SYNC => llc(view.skip(FDDI_HEADER), ctx),
        _ => Dissection::NotIp,
    }
}

/// Raw IP (no link header): the version nibble tells IPv4 from IPv6.
fn raw_ip(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    // Wireshark's raw dissector also recognises PPP in HDLC framing.
    if view.u16(0) == Some(0xff03) {
        return ppp_protocol(view.skip(2), ctx);
    }
    net::ip(view, ctx)
}

/// BSD address families Wireshark's null/loopback dissectors map to IP.
fn bsd_family(family: u32, view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const AF_INET: u32 = 2;
    /// AF_INET6 on NetBSD/OpenBSD/BSD/OS, FreeBSD/DragonFly, and Darwin.
    const AF_INET6: [u32; 3] = [24, 28, 30];
    if family == AF_INET || AF_INET6.contains(&family) {
        net::ip(view, ctx)
    } else {
        Dissection::NotIp
    }
}

/// BSD null encapsulation: a 4-byte address family in the capturing host's byte order.
///
/// Like Wireshark's `packet-null.c`: the byte order is guessed (a family fits in 16 bits), and
/// a value above 1500 is an ethertype, as some systems write.
fn null(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let Some(raw) = view.array::<4>(0) else {
        return Dissection::Malformed;
    };
    if raw[..2] == [0xff, 0x03] {
        return ppp_protocol(view.skip(2), ctx);
    }
    let mut family = u32::from_le_bytes(raw);
    if family & 0xffff_0000 != 0 {
        family = family.swap_bytes();
    }
    let rest = view.skip(4);
    match u16::try_from(family) {
        Ok(kind) if kind > MAX_8023_LENGTH => by_ethertype(kind, rest, ctx),
        _ => bsd_family(family, rest, ctx),
    }
}

/// OpenBSD loopback: a 4-byte address family in network byte order.
fn loopback(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let Some(family) = view.u32(0) else {
        return Dissection::Malformed;
    };
    bsd_family(family, view.skip(4), ctx)
}

/// Linux `ARPHRD_*` device types that change what the protocol field means.
mod arphrd {
    /// The protocol field is the GRE protocol type (an ethertype).
    pub(super) const IPGRE: u16 = 778;
    pub(super) const NETLINK: u16 = 824;
}

/// Linux "cooked" capture v1: 16-byte header ending in the protocol.
fn linux_sll(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let (Some(hatype), Some(protocol)) = (view.u16(2), view.u16(14)) else {
        return Dissection::Malformed;
    };
    sll_payload(hatype, protocol, view.skip(16), ctx)
}

/// Linux "cooked" capture v2: 20-byte header starting with the protocol.
fn linux_sll2(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    let (Some(protocol), Some(hatype)) = (view.u16(0), view.u16(8)) else {
        return Dissection::Malformed;
    };
    if !view.has(20) {
        return Dissection::Malformed;
    }
    sll_payload(hatype, protocol, view.skip(20), ctx)
}

/// The payload of a cooked capture: protocol values below 1536 are Linux `ETH_P_*` pseudo
/// types (802.2 LLC is the one that can carry IP).
fn sll_payload(hatype: u16, protocol: u16, view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const ETH_P_802_2: u16 = 0x0004;
    if hatype == arphrd::NETLINK {
        return Dissection::NotIp;
    }
    if hatype == arphrd::IPGRE {
        return by_ethertype(protocol, view, ctx);
    }
    match protocol {
        ETH_P_802_2 => llc(view, ctx),
        p if p <= MAX_8023_LENGTH => Dissection::NotIp,
        p => by_ethertype(p, view, ctx),
    }
}

/// Linux NFLOG: family, version, resource id, then TLVs (length and type in host byte order,
/// each padded to 4 bytes); the packet is the `NFULA_PAYLOAD` TLV.
fn nflog(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const NFULA_PAYLOAD: u16 = 9;
    const TLV_HEADER: usize = 4;
    let Some(_family) = view.u8(0) else {
        return Dissection::Malformed;
    };
    let mut at = 4;
    loop {
        let (Some(len), Some(kind)) = (view.u16_le(at), view.u16_le(at + 2)) else {
            return Dissection::Malformed;
        };
        let len = usize::from(len);
        if len < TLV_HEADER {
            return Dissection::Malformed;
        }
        if kind & 0x7fff == NFULA_PAYLOAD {
            let payload = view.skip(at + TLV_HEADER).limit(len - TLV_HEADER);
            return net::ip(payload, ctx);
        }
        // Padded to a multiple of 4.
        at += (len + 3) & !3;
    }
}

/// An IEEE 802.11 frame without FCS (as Aruba access points tunnel it in GRE): only unprotected
/// data frames carry IP, after LLC.
pub(crate) fn wlan(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const TYPE_DATA: u8 = 2;
    /// Data subtypes with this bit carry no payload (Null, QoS Null, CF-Ack ...).
    const SUBTYPE_NO_DATA: u8 = 0x4;
    const SUBTYPE_QOS: u8 = 0x8;
    const TO_DS_FROM_DS: u8 = 0x03;
    const PROTECTED: u8 = 0x40;
    const ORDER: u8 = 0x80;
    let (Some(control), Some(flags)) = (view.u8(0), view.u8(1)) else {
        return Dissection::Malformed;
    };
    let (kind, subtype) = ((control >> 2) & 0x3, control >> 4);
    if kind != TYPE_DATA || subtype & SUBTYPE_NO_DATA != 0 || flags & PROTECTED != 0 {
        return Dissection::NotIp;
    }
    let mut len = 24;
    if flags & TO_DS_FROM_DS == TO_DS_FROM_DS {
        len += 6;
    }
    if subtype & SUBTYPE_QOS != 0 {
        len += 2;
        if flags & ORDER != 0 {
            len += 4;
        }
    }
    if !view.has(len) {
        return Dissection::Malformed;
    }
    llc(view.skip(len), ctx)
}
