//! IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers, fragment reassembly and the
//! tunnels Wireshark follows by default (IP in IP, GRE, Teredo, VXLAN, Geneve), down to TCP.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::link;
use super::reassembly::{FragKey, Fragment, Reassembler};
use super::tcp::{dissect_tcp, IpInfo};
use super::view::View;
use super::Dissection;

/// Nested headers followed before giving up (VLAN stacks, tunnels in tunnels): real packets
/// use a handful; the bound keeps hostile input from recursing deeply.
const MAX_DEPTH: u8 = 32;

/// What the dissection of one record carries along.
pub(crate) struct Ctx<'r> {
    /// `None`: fragments are not reassembled (Wireshark with `ip.defragment` off).
    reassembler: Option<&'r mut Reassembler>,
    depth: u8,
}

impl<'r> Ctx<'r> {
    pub(crate) fn new(reassembler: Option<&'r mut Reassembler>) -> Self {
        Ctx {
            reassembler,
            depth: 0,
        }
    }

    /// Counts one more nested header; false once too deep.
    pub(crate) fn enter(&mut self) -> bool {
        self.depth = self.depth.saturating_add(1);
        self.depth <= MAX_DEPTH
    }

    /// The dissection gave up because the headers nest too deeply.
    fn too_deep(&self) -> bool {
        self.depth > MAX_DEPTH
    }
}

/// IP protocol numbers (IANA).
mod proto {
    pub(super) const HOP_BY_HOP: u8 = 0;
    pub(super) const IPIP: u8 = 4;
    pub(super) const TCP: u8 = 6;
    pub(super) const UDP: u8 = 17;
    pub(super) const IPV6: u8 = 41;
    pub(super) const ROUTING: u8 = 43;
    pub(super) const FRAGMENT: u8 = 44;
    pub(super) const GRE: u8 = 47;
    pub(super) const AH: u8 = 51;
    pub(super) const NO_NEXT: u8 = 59;
    pub(super) const DEST_OPTIONS: u8 = 60;
    pub(super) const MOBILITY: u8 = 135;
    pub(super) const HIP: u8 = 139;
    pub(super) const SHIM6: u8 = 140;
}

/// An IP header of either version, chosen by the version nibble (Wireshark's "ip" dissector
/// hands version 6 to IPv6 whatever the ethertype said).
pub(crate) fn ip(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    match view.u8(0).map(|b| b >> 4) {
        Some(4) => ipv4(view, ctx),
        Some(6) => ipv6(view, ctx),
        _ => Dissection::Malformed,
    }
}

fn ipv4(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const MIN_HEADER: usize = 20;
    const MORE_FRAGMENTS: u16 = 0x2000;
    const OFFSET_MASK: u16 = 0x1fff;
    if !ctx.enter() {
        return Dissection::Malformed;
    }
    let Some(first) = view.u8(0) else {
        return Dissection::Malformed;
    };
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < MIN_HEADER || !view.has(header_len) {
        return Dissection::Malformed;
    }
    let (Some(total), Some(id), Some(frag), Some(ttl), Some(protocol), Some(src), Some(dst)) = (
        view.u16(2),
        view.u16(4),
        view.u16(6),
        view.u8(8),
        view.u8(9),
        view.array::<4>(12),
        view.array::<4>(16),
    ) else {
        return Dissection::Malformed;
    };
    // Total length 0 is what TCP segmentation offload leaves: Wireshark then takes the
    // reported length of the frame.
    let total = if total == 0 {
        view.reported()
    } else {
        usize::from(total)
    };
    if total < header_len {
        return Dissection::Malformed;
    }
    let view = view.limit(total);
    let info = IpInfo {
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        ttl,
        ip_id: Some(id),
    };
    let payload = view.skip(header_len);
    let more = frag & MORE_FRAGMENTS != 0;
    let offset = usize::from(frag & OFFSET_MASK) * 8;
    if more || offset != 0 {
        let key = FragKey {
            src: info.src,
            dst: info.dst,
            id: u32::from(id),
            protocol,
        };
        return fragment(
            ctx,
            key,
            Fragment {
                offset,
                more,
                data: payload.bytes(),
            },
            payload,
            |v, ctx| by_protocol(protocol, v, info, ctx),
        );
    }
    by_protocol(protocol, payload, info, ctx)
}

/// A fragment, as Wireshark's IP dissectors treat it: reassembled when the whole fragment was
/// captured (then the datagram is dissected in the record that completes it, and no other);
/// otherwise only a first fragment is dissected, as far as it goes.
fn fragment<'a>(
    ctx: &mut Ctx<'_>,
    key: FragKey,
    part: Fragment<'_>,
    payload: View<'a>,
    then: impl FnOnce(View<'_>, &mut Ctx<'_>) -> Dissection,
) -> Dissection {
    let whole = payload.reported() > 0 && payload.has(payload.reported());
    if let (true, Some(reassembler)) = (whole, ctx.reassembler.as_deref_mut()) {
        return match reassembler.add(key, part) {
            Some(datagram) => then(View::reassembled(&datagram), ctx),
            None => Dissection::OtherIp,
        };
    }
    if part.offset != 0 {
        return Dissection::OtherIp;
    }
    then(payload, ctx)
}

fn ipv6(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const HEADER: usize = 40;
    if !ctx.enter() {
        return Dissection::Malformed;
    }
    let (Some(payload_len), Some(mut next), Some(hop_limit), Some(src), Some(dst)) = (
        view.u16(4),
        view.u8(6),
        view.u8(7),
        view.array::<16>(8),
        view.array::<16>(24),
    ) else {
        return Dissection::Malformed;
    };
    let info = IpInfo {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        ttl: hop_limit,
        ip_id: None,
    };
    let mut length = usize::from(payload_len);
    if length == 0 && next == proto::HOP_BY_HOP {
        // A jumbogram (RFC 2675) carries its length in a hop-by-hop option.
        if let Some(jumbo) = jumbo_length(view.skip(HEADER)) {
            length = jumbo;
        }
    }
    let mut payload = view.limit(HEADER.saturating_add(length)).skip(HEADER);
    loop {
        if !ctx.enter() {
            return Dissection::Malformed;
        }
        match next {
            proto::HOP_BY_HOP
            | proto::ROUTING
            | proto::DEST_OPTIONS
            | proto::MOBILITY
            | proto::HIP
            | proto::SHIM6 => {
                let (Some(after), Some(units)) = (payload.u8(0), payload.u8(1)) else {
                    return Dissection::Malformed;
                };
                let len = (usize::from(units) + 1) * 8;
                if !payload.has(len) {
                    return Dissection::Malformed;
                }
                next = after;
                payload = payload.skip(len);
            }
            proto::AH => {
                let (Some(after), Some(units)) = (payload.u8(0), payload.u8(1)) else {
                    return Dissection::Malformed;
                };
                let len = (usize::from(units) + 2) * 4;
                if !payload.has(len) {
                    return Dissection::Malformed;
                }
                next = after;
                payload = payload.skip(len);
            }
            proto::FRAGMENT => {
                const MORE: u16 = 0x0001;
                const OFFSET_MASK: u16 = 0xfff8;
                let (Some(after), Some(frag), Some(id)) =
                    (payload.u8(0), payload.u16(2), payload.u32(4))
                else {
                    return Dissection::Malformed;
                };
                let more = frag & MORE != 0;
                let offset = usize::from(frag & OFFSET_MASK);
                payload = payload.skip(8);
                if !more && offset == 0 {
                    // An atomic fragment (RFC 6946): the whole datagram, processed in place.
                    next = after;
                    continue;
                }
                let key = FragKey {
                    src: info.src,
                    dst: info.dst,
                    id,
                    protocol: 0,
                };
                let part = Fragment {
                    offset,
                    more,
                    data: payload.bytes(),
                };
                return fragment(ctx, key, part, payload, |v, ctx| {
                    after_fragment(after, v, info, ctx)
                });
            }
            proto::NO_NEXT => return Dissection::OtherIp,
            _ => return by_protocol(next, payload, info, ctx),
        }
    }
}

/// The payload of a reassembled (or first) IPv6 fragment: more extension headers may follow,
/// so it goes through a pseudo IPv6 header walk.
fn after_fragment(next: u8, view: View<'_>, info: IpInfo, ctx: &mut Ctx<'_>) -> Dissection {
    match next {
        proto::HOP_BY_HOP | proto::ROUTING | proto::DEST_OPTIONS | proto::AH => {
            let (Some(after), Some(units)) = (view.u8(0), view.u8(1)) else {
                return Dissection::Malformed;
            };
            let len = if next == proto::AH {
                (usize::from(units) + 2) * 4
            } else {
                (usize::from(units) + 1) * 8
            };
            if !view.has(len) || !ctx.enter() {
                return Dissection::Malformed;
            }
            after_fragment(after, view.skip(len), info, ctx)
        }
        proto::NO_NEXT => Dissection::OtherIp,
        _ => by_protocol(next, view, info, ctx),
    }
}

/// The jumbo payload length from the hop-by-hop header at the start of `view`, if present.
fn jumbo_length(view: View<'_>) -> Option<usize> {
    const PAD1: u8 = 0;
    const JUMBO: u8 = 0xc2;
    let units = view.u8(1)?;
    let end = (usize::from(units) + 1) * 8;
    let mut at = 2;
    while at < end {
        let kind = view.u8(at)?;
        if kind == PAD1 {
            at += 1;
            continue;
        }
        let len = usize::from(view.u8(at + 1)?);
        if kind == JUMBO && len == 4 {
            return usize::try_from(view.u32(at + 2)?).ok();
        }
        at += 2 + len;
    }
    None
}

/// Follows the IP protocol (or IPv6 next header) of a payload.
fn by_protocol(protocol: u8, view: View<'_>, info: IpInfo, ctx: &mut Ctx<'_>) -> Dissection {
    match protocol {
        proto::TCP => dissect_tcp(view, info),
        proto::IPIP | proto::IPV6 => tunnel(ip(view, ctx), ctx),
        proto::GRE => tunnel(gre(view, ctx), ctx),
        proto::UDP => tunnel(udp(view, ctx), ctx),
        proto::AH => {
            // IPv4 authentication header (RFC 4302): length in 32-bit words, minus 2.
            let (Some(next), Some(units)) = (view.u8(0), view.u8(1)) else {
                return Dissection::OtherIp;
            };
            let len = (usize::from(units) + 2) * 4;
            if !view.has(len) {
                return Dissection::OtherIp;
            }
            if !ctx.enter() {
                return Dissection::Malformed;
            }
            by_protocol(next, view.skip(len), info, ctx)
        }
        _ => Dissection::OtherIp,
    }
}

/// What a tunnel's content turned out to be, seen from the outer IP packet: anything but TCP
/// is IP traffic that is not TCP, except tunnels nested too deeply to follow (hostile input,
/// never real traffic), which are malformed so the report says something was not read.
fn tunnel(inner: Dissection, ctx: &Ctx<'_>) -> Dissection {
    match inner {
        Dissection::Tcp(segment) => Dissection::Tcp(segment),
        _ if ctx.too_deep() => Dissection::Malformed,
        _ => Dissection::OtherIp,
    }
}

/// GRE protocol types Aruba access points use to tunnel 802.11 frames (Wireshark's
/// `GRE_ARUBA_8200` to `GRE_ARUBA_8310`).
const ARUBA: std::ops::RangeInclusive<u16> = 0x8200..=0x8310;

/// GRE (RFC 2784, RFC 2890; version 1 is PPTP's enhanced GRE, RFC 2637).
fn gre(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const CHECKSUM: u16 = 0x8000;
    const ROUTING: u16 = 0x4000;
    const KEY: u16 = 0x2000;
    const SEQUENCE: u16 = 0x1000;
    const ACK: u16 = 0x0080;
    const VERSION: u16 = 0x0007;
    let (Some(flags), Some(protocol)) = (view.u16(0), view.u16(2)) else {
        return Dissection::OtherIp;
    };
    if flags & ROUTING != 0 {
        // Source routing entries (RFC 1701): deprecated, not followed.
        return Dissection::OtherIp;
    }
    let mut len = 4;
    for (bit, field) in [(CHECKSUM, 4), (KEY, 4), (SEQUENCE, 4)] {
        if flags & bit != 0 {
            len += field;
        }
    }
    if flags & VERSION == 1 && flags & ACK != 0 {
        len += 4;
    }
    if !view.has(len) {
        return Dissection::OtherIp;
    }
    if ARUBA.contains(&protocol) {
        return link::wlan(view.skip(len), ctx);
    }
    link::by_ethertype(protocol, view.skip(len), ctx)
}

/// UDP tunnels on their IANA ports, as Wireshark dissects them by default: Teredo (RFC 4380),
/// VXLAN (RFC 7348), Geneve (RFC 8926), GTP-U (3GPP TS 29.281), AYIYA, GRE in UDP (RFC 8086).
fn udp(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const TEREDO: u16 = 3544;
    const VXLAN: u16 = 4789;
    const GENEVE: u16 = 6081;
    const GTP_U: u16 = 2152;
    const AYIYA: u16 = 5072;
    const GRE_IN_UDP: u16 = 4754;
    let (Some(src), Some(dst), Some(len)) = (view.u16(0), view.u16(2), view.u16(4)) else {
        return Dissection::OtherIp;
    };
    let mut body = view.skip(8);
    if usize::from(len) >= 8 {
        body = view.limit(usize::from(len)).skip(8);
    }
    if src == TEREDO || dst == TEREDO {
        teredo(body, ctx)
    } else if dst == VXLAN {
        link::ethernet(body.skip(8), ctx)
    } else if dst == GENEVE {
        let (Some(first), Some(protocol)) = (body.u8(0), body.u16(2)) else {
            return Dissection::OtherIp;
        };
        let options = usize::from(first & 0x3f) * 4;
        link::by_ethertype(protocol, body.skip(8 + options), ctx)
    } else if src == GTP_U || dst == GTP_U {
        gtp_u(body, ctx)
    } else if src == AYIYA || dst == AYIYA {
        ayiya(body, ctx)
    } else if src == GRE_IN_UDP || dst == GRE_IN_UDP {
        gre(body, ctx)
    } else {
        Dissection::OtherIp
    }
}

/// Teredo: optional authentication and origin indication headers, then IPv6.
fn teredo(mut view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const AUTHENTICATION: u16 = 0x0001;
    const ORIGIN: u16 = 0x0000;
    if view.u16(0) == Some(AUTHENTICATION) {
        let (Some(id_len), Some(auth_len)) = (view.u8(2), view.u8(3)) else {
            return Dissection::OtherIp;
        };
        // Type, lengths, client id, authenticator, 8-byte nonce, confirmation byte.
        view = view.skip(4 + usize::from(id_len) + usize::from(auth_len) + 9);
    }
    if view.u16(0) == Some(ORIGIN) {
        view = view.skip(8);
    }
    match view.u8(0).map(|b| b >> 4) {
        Some(6) => ipv6(view, ctx),
        _ => Dissection::OtherIp,
    }
}

/// GTP-U version 1: an 8-byte header, 4 more bytes when any of E, S, PN is set, then extension
/// headers; a G-PDU carries an IP packet.
fn gtp_u(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const VERSION_1: u8 = 1;
    const OPTIONAL_FIELDS: u8 = 0x07;
    const EXTENSION: u8 = 0x04;
    const G_PDU: u8 = 0xff;
    let (Some(flags), Some(kind)) = (view.u8(0), view.u8(1)) else {
        return Dissection::OtherIp;
    };
    if flags >> 5 != VERSION_1 || kind != G_PDU {
        return Dissection::OtherIp;
    }
    let mut len = 8;
    if flags & OPTIONAL_FIELDS != 0 {
        len = 12;
        if flags & EXTENSION != 0 {
            // Each extension header: length in 4-byte units, ..., next extension type.
            let mut next = view.u8(11);
            while let Some(kind) = next.filter(|k| *k != 0) {
                let _ = kind;
                let Some(units) = view.u8(len).filter(|u| *u > 0) else {
                    return Dissection::OtherIp;
                };
                len += usize::from(units) * 4;
                next = view.u8(len - 1);
                if !ctx.enter() {
                    return Dissection::OtherIp;
                }
            }
        }
    }
    ip(view.skip(len), ctx)
}

/// AYIYA ("Anything In Anything", SixXS): 8 bytes, identity and signature of the lengths the
/// header gives, then the payload of the protocol in byte 3.
fn ayiya(view: View<'_>, ctx: &mut Ctx<'_>) -> Dissection {
    const OPCODE_FORWARD: u8 = 1;
    let (Some(id), Some(sig), Some(op), Some(next)) =
        (view.u8(0), view.u8(1), view.u8(2), view.u8(3))
    else {
        return Dissection::OtherIp;
    };
    if op & 0x0f != OPCODE_FORWARD {
        return Dissection::OtherIp;
    }
    let len = 8 + (1usize << (id >> 4)) + usize::from(sig >> 4) * 4;
    match next {
        proto::IPIP | proto::IPV6 => ip(view.skip(len), ctx),
        _ => Dissection::OtherIp,
    }
}
