//! The detail pane's decoded header fields and hex dump of one packet, from its captured bytes.
//!
//! This is a presentation decoder: it lists what the bytes say, layer by layer (link layer with
//! VLAN tags, IPv4 with options or IPv6 with extension headers, TCP with options), each field
//! with its byte range so the pane can point into the hex dump. The analysis never reads it; the
//! values the analysis uses come from [`crate::dissect`]. Every read is checked: a packet cut
//! short lists what could be read and says where it stopped.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::capture::{LinkType, PacketIdx, MAX_TEXT_BYTES};
use crate::dissect::TcpFlags;

/// One decoded field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// `Ethernet`, `802.1Q`, `IPv4`, `IPv6`, `TCP`, ...
    pub layer: String,
    pub name: String,
    pub value: String,
    /// Byte range in the captured bytes.
    pub offset: u32,
    pub len: u32,
}

/// Checked big-endian reads over the captured bytes, collecting fields.
struct Reader<'a> {
    bytes: &'a [u8],
    fields: Vec<Field>,
    layer: &'static str,
}

impl Reader<'_> {
    fn get(&self, at: usize, len: usize) -> Option<&[u8]> {
        self.bytes.get(at..at.checked_add(len)?)
    }

    fn u8(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn u16(&self, at: usize) -> Option<u16> {
        self.get(at, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&self, at: usize) -> Option<u32> {
        self.get(at, 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn push(&mut self, name: &str, value: String, at: usize, len: usize) {
        self.fields.push(Field {
            layer: self.layer.to_string(),
            name: name.to_string(),
            value,
            offset: u32::try_from(at).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(u32::MAX),
        });
    }

    /// Records that the layer stops here because the capture does.
    fn cut(&mut self, at: usize) {
        let left = self.bytes.len().saturating_sub(at);
        self.push(
            "(cut short)",
            format!("the capture ends {left} bytes into this header"),
            at,
            left,
        );
    }
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x86dd => "IPv6",
        0x8100 => "802.1Q VLAN",
        0x88a8 => "802.1ad QinQ",
        0x0806 => "ARP",
        0x8847 => "MPLS",
        0x8864 => "PPPoE session",
        _ => "",
    }
}

/// Every header field of a captured packet, in order.
pub fn decode(link_type: LinkType, bytes: &[u8], orig_len: u32) -> Vec<Field> {
    let mut r = Reader {
        bytes,
        fields: Vec::new(),
        layer: "Frame",
    };
    r.push(
        "Length",
        if orig_len as usize > bytes.len() {
            format!("{} bytes on the wire, {} captured", orig_len, bytes.len())
        } else {
            format!("{} bytes", bytes.len())
        },
        0,
        bytes.len(),
    );
    r.push("Link type", format!("{}", link_type.0), 0, 0);
    let next = match link_type {
        LinkType::ETHERNET => ethernet(&mut r),
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => r.u8(0).and_then(|b| match b >> 4 {
            4 => Some((0x0800, 0)),
            6 => Some((0x86dd, 0)),
            _ => None,
        }),
        LinkType::NULL | LinkType::LOOP => null(&mut r, link_type == LinkType::LOOP),
        LinkType::LINUX_SLL => sll(&mut r),
        LinkType::LINUX_SLL2 => sll2(&mut r),
        _ => None,
    };
    match next {
        Some((0x0800, at)) => ipv4(&mut r, at),
        Some((0x86dd, at)) => ipv6(&mut r, at),
        _ => {}
    }
    r.fields
}

/// Ethernet and any VLAN tags; the ethertype and offset of what follows.
fn ethernet(r: &mut Reader<'_>) -> Option<(u16, usize)> {
    r.layer = "Ethernet";
    let (Some(dst), Some(src)) = (r.get(0, 6), r.get(6, 6)) else {
        r.cut(0);
        return None;
    };
    let (dst, src) = (mac(dst), mac(src));
    r.push("Destination", dst, 0, 6);
    r.push("Source", src, 6, 6);
    let mut at = 12;
    loop {
        let Some(t) = r.u16(at) else {
            r.cut(at);
            return None;
        };
        r.push(
            "Type",
            format!("0x{t:04x} {}", ethertype_name(t))
                .trim_end()
                .to_string(),
            at,
            2,
        );
        if t != 0x8100 && t != 0x88a8 {
            return Some((t, at + 2));
        }
        r.layer = if t == 0x8100 { "802.1Q" } else { "802.1ad" };
        let Some(tci) = r.u16(at + 2) else {
            r.cut(at + 2);
            return None;
        };
        r.push("Priority", format!("{}", tci >> 13), at + 2, 2);
        r.push("VLAN ID", format!("{}", tci & 0x0fff), at + 2, 2);
        at += 4;
    }
}

/// BSD loopback: a 4-byte address family in host (null) or network (loop) byte order.
fn null(r: &mut Reader<'_>, network_order: bool) -> Option<(u16, usize)> {
    r.layer = "Loopback";
    let b = r.get(0, 4)?;
    let family = if network_order {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    } else {
        // Host order: whichever reading is small.
        let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        le.min(be)
    };
    r.push("Family", family.to_string(), 0, 4);
    match family {
        2 => Some((0x0800, 4)),
        24 | 28 | 30 => Some((0x86dd, 4)),
        _ => None,
    }
}

fn sll(r: &mut Reader<'_>) -> Option<(u16, usize)> {
    r.layer = "Linux cooked";
    let Some(t) = r.u16(14) else {
        r.cut(0);
        return None;
    };
    if let Some(kind) = r.u16(0) {
        r.push("Packet type", kind.to_string(), 0, 2);
    }
    r.push("Protocol", format!("0x{t:04x}"), 14, 2);
    Some((t, 16))
}

fn sll2(r: &mut Reader<'_>) -> Option<(u16, usize)> {
    r.layer = "Linux cooked v2";
    let Some(t) = r.u16(0) else {
        r.cut(0);
        return None;
    };
    r.push("Protocol", format!("0x{t:04x}"), 0, 2);
    if let Some(ifindex) = r.u32(4) {
        r.push("Interface index", ifindex.to_string(), 4, 4);
    }
    Some((t, 20))
}

fn ipv4(r: &mut Reader<'_>, at: usize) {
    r.layer = "IPv4";
    let Some(vihl) = r.u8(at) else {
        r.cut(at);
        return;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    r.push("Version", (vihl >> 4).to_string(), at, 1);
    r.push("Header length", format!("{ihl} bytes"), at, 1);
    if r.get(at, 20).is_none() {
        r.cut(at);
        return;
    }
    let tos = r.u8(at + 1).unwrap_or(0);
    r.push(
        "DSCP / ECN",
        format!("{} / {}", tos >> 2, tos & 3),
        at + 1,
        1,
    );
    let total = r.u16(at + 2).unwrap_or(0);
    r.push("Total length", total.to_string(), at + 2, 2);
    r.push(
        "Identification",
        format!("0x{:04x}", r.u16(at + 4).unwrap_or(0)),
        at + 4,
        2,
    );
    let frag = r.u16(at + 6).unwrap_or(0);
    let mut flags = Vec::new();
    if frag & 0x4000 != 0 {
        flags.push("DF");
    }
    if frag & 0x2000 != 0 {
        flags.push("MF");
    }
    r.push(
        "Flags",
        if flags.is_empty() {
            "none".into()
        } else {
            flags.join(", ")
        },
        at + 6,
        2,
    );
    r.push(
        "Fragment offset",
        format!("{}", (frag & 0x1fff) * 8),
        at + 6,
        2,
    );
    r.push("TTL", r.u8(at + 8).unwrap_or(0).to_string(), at + 8, 1);
    let proto = r.u8(at + 9).unwrap_or(0);
    r.push("Protocol", protocol_name(proto), at + 9, 1);
    r.push(
        "Header checksum",
        format!("0x{:04x}", r.u16(at + 10).unwrap_or(0)),
        at + 10,
        2,
    );
    if let (Some(s), Some(d)) = (r.get(at + 12, 4), r.get(at + 16, 4)) {
        let (s, d) = (
            Ipv4Addr::new(s[0], s[1], s[2], s[3]),
            Ipv4Addr::new(d[0], d[1], d[2], d[3]),
        );
        r.push("Source", s.to_string(), at + 12, 4);
        r.push("Destination", d.to_string(), at + 16, 4);
    }
    if ihl > 20 {
        match r.get(at + 20, ihl - 20) {
            Some(opts) => {
                let hex = opts.iter().map(|b| format!("{b:02x}")).collect::<String>();
                r.push("Options", hex, at + 20, ihl - 20);
            }
            None => {
                r.cut(at + 20);
                return;
            }
        }
    }
    if proto == 6 && frag & 0x1fff == 0 && ihl >= 20 {
        let ip_payload = usize::from(total).saturating_sub(ihl);
        tcp(r, at + ihl, ip_payload);
    }
}

fn protocol_name(p: u8) -> String {
    let name = match p {
        6 => "TCP",
        17 => "UDP",
        1 => "ICMP",
        58 => "ICMPv6",
        _ => "",
    };
    format!("{p} {name}").trim_end().to_string()
}

fn ipv6(r: &mut Reader<'_>, at: usize) {
    r.layer = "IPv6";
    let Some(first) = r.u32(at) else {
        r.cut(at);
        return;
    };
    if r.get(at, 40).is_none() {
        r.cut(at);
        return;
    }
    r.push("Version", (first >> 28).to_string(), at, 1);
    r.push(
        "Traffic class",
        format!("0x{:02x}", (first >> 20) & 0xff),
        at,
        2,
    );
    r.push(
        "Flow label",
        format!("0x{:05x}", first & 0xfffff),
        at + 1,
        3,
    );
    let payload = r.u16(at + 4).unwrap_or(0);
    r.push("Payload length", payload.to_string(), at + 4, 2);
    let mut next = r.u8(at + 6).unwrap_or(0);
    r.push("Next header", protocol_name(next), at + 6, 1);
    r.push(
        "Hop limit",
        r.u8(at + 7).unwrap_or(0).to_string(),
        at + 7,
        1,
    );
    let addr = |b: &[u8]| {
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ipv6Addr::from(a).to_string()
    };
    if let (Some(s), Some(d)) = (r.get(at + 8, 16), r.get(at + 24, 16)) {
        let (s, d) = (addr(s), addr(d));
        r.push("Source", s, at + 8, 16);
        r.push("Destination", d, at + 24, 16);
    }
    let mut pos = at + 40;
    let mut left = usize::from(payload);
    // Extension headers: hop-by-hop, routing, fragment, destination options.
    while matches!(next, 0 | 43 | 44 | 60) {
        let (Some(nh), Some(len)) = (r.u8(pos), r.u8(pos + 1)) else {
            r.cut(pos);
            return;
        };
        let size = if next == 44 {
            8
        } else {
            (usize::from(len) + 1) * 8
        };
        let name = match next {
            0 => "Hop-by-hop options",
            43 => "Routing header",
            44 => "Fragment header",
            _ => "Destination options",
        };
        r.push(
            name,
            format!("{size} bytes, next {}", protocol_name(nh)),
            pos,
            size,
        );
        if next == 44 && r.u16(pos + 2).unwrap_or(0) & 0xfff8 != 0 {
            return;
        }
        next = nh;
        pos += size;
        left = left.saturating_sub(size);
    }
    if next == 6 {
        tcp(r, pos, left);
    }
}

fn tcp(r: &mut Reader<'_>, at: usize, ip_payload: usize) {
    r.layer = "TCP";
    let (Some(sport), Some(dport)) = (r.u16(at), r.u16(at + 2)) else {
        r.cut(at);
        return;
    };
    r.push("Source port", sport.to_string(), at, 2);
    r.push("Destination port", dport.to_string(), at + 2, 2);
    let (Some(seq), Some(ack), Some(off_flags)) = (r.u32(at + 4), r.u32(at + 8), r.u16(at + 12))
    else {
        r.cut(at + 4);
        return;
    };
    r.push("Sequence number (raw)", seq.to_string(), at + 4, 4);
    r.push("Acknowledgment number (raw)", ack.to_string(), at + 8, 4);
    let header = usize::from(off_flags >> 12) * 4;
    r.push("Header length", format!("{header} bytes"), at + 12, 1);
    r.push(
        "Flags",
        format!(
            "0x{:03x} {}",
            off_flags & 0x0fff,
            crate::view::ladder::flags_text(crate::dissect::TcpFlags(off_flags & 0x0fff))
        ),
        at + 12,
        2,
    );
    let Some(window) = r.u16(at + 14) else {
        r.cut(at + 14);
        return;
    };
    r.push("Window", window.to_string(), at + 14, 2);
    if let (Some(sum), Some(urg)) = (r.u16(at + 16), r.u16(at + 18)) {
        r.push("Checksum", format!("0x{sum:04x}"), at + 16, 2);
        r.push("Urgent pointer", urg.to_string(), at + 18, 2);
    } else {
        r.cut(at + 16);
        return;
    }
    if header > 20 {
        tcp_options(r, at + 20, at + header);
    }
    if header >= 20 {
        let payload = ip_payload.saturating_sub(header);
        r.push("Payload", format!("{payload} bytes"), at + header, payload);
        // Wireshark's tcp.reset_cause: the text some stacks put in a RST (RFC 9293 3.5.3
        // allows it), e.g. which firewall rule or which error. Only what was captured.
        if off_flags & TcpFlags::RST != 0 && payload > 0 {
            let start = at + header;
            let captured = r.bytes.get(start..).unwrap_or(&[]);
            let text = captured.get(..payload).unwrap_or(captured);
            if !text.is_empty() {
                r.push("Reset cause", printable(text), start, text.len());
            }
        }
    }
}

/// Bytes from a packet as one line of text: UTF-8 (invalid bytes as U+FFFD), control and
/// bidirectional-override characters as `.` (as Wireshark's bytes pane shows the
/// unprintable), cut to [`MAX_TEXT_BYTES`] with `…`. The page shows it as a text node.
pub fn printable(bytes: &[u8]) -> String {
    // Lossy UTF-8 never shortens, so the bytes past the limit (plus one straddling
    // character) cannot show.
    let head = bytes.get(..MAX_TEXT_BYTES + 3).unwrap_or(bytes);
    let mut out = String::new();
    for c in String::from_utf8_lossy(head).chars() {
        if out.len() + c.len_utf8() > MAX_TEXT_BYTES {
            out.push('…');
            return out;
        }
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        out.push(if c.is_control() || bidi { '.' } else { c });
    }
    if head.len() < bytes.len() {
        out.push('…');
    }
    out
}

fn tcp_options(r: &mut Reader<'_>, mut at: usize, end: usize) {
    while at < end {
        let Some(kind) = r.u8(at) else {
            r.cut(at);
            return;
        };
        match kind {
            0 => {
                r.push("Option", "End of options".into(), at, end - at);
                return;
            }
            1 => {
                r.push("Option", "No-operation".into(), at, 1);
                at += 1;
                continue;
            }
            _ => {}
        }
        let len = usize::from(r.u8(at + 1).unwrap_or(0));
        if len < 2 || at + len > end {
            r.push(
                "Option",
                format!("kind {kind}: bad length {len}"),
                at,
                end - at,
            );
            return;
        }
        let value = match (kind, len) {
            (2, 4) => format!("MSS {}", r.u16(at + 2).unwrap_or(0)),
            (3, 3) => {
                let shift = r.u8(at + 2).unwrap_or(0);
                format!(
                    "Window scale {shift} (multiply by {})",
                    1u64 << shift.min(30)
                )
            }
            (4, 2) => "SACK permitted".to_string(),
            (5, _) => {
                let mut text = String::from("SACK");
                let mut b = at + 2;
                while b + 8 <= at + len {
                    let _ = write!(
                        text,
                        " {}-{}",
                        r.u32(b).unwrap_or(0),
                        r.u32(b + 4).unwrap_or(0)
                    );
                    b += 8;
                }
                text
            }
            (8, 10) => format!(
                "Timestamps TSval {} TSecr {}",
                r.u32(at + 2).unwrap_or(0),
                r.u32(at + 6).unwrap_or(0)
            ),
            _ => format!("kind {kind}, {len} bytes"),
        };
        if r.get(at, len).is_none() {
            r.cut(at);
            return;
        }
        r.push("Option", value, at, len);
        at += len;
    }
}

/// What the detail pane shows of one packet beyond its arrow: every decoded field, the hex
/// dump, and what the sequence analysis found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PacketDetail {
    pub stream: u32,
    /// Position of the packet in the capture (frame number - 1).
    pub index: u32,
    pub fields: Vec<Field>,
    /// The captured bytes (empty when they could not be read back; see `unavailable`).
    pub bytes: Vec<u8>,
    /// Why the bytes are not shown, when they are not.
    pub unavailable: Option<String>,
    /// Wireshark's names of the findings.
    pub findings: Vec<String>,
    pub dup_ack_num: Option<u32>,
    /// Seconds from the segment this packet acknowledges to it.
    pub ack_rtt: Option<f64>,
    /// 1-based frame number of the segment it acknowledges.
    pub acks_frame: Option<u64>,
    pub bytes_in_flight: Option<u32>,
    /// The capture file's comments on this packet (pcapng `opt_comment`), as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
}

/// The detail of the TCP packet with capture index `index` of `analysis`, with its captured
/// `bytes` when they could be read back (`Err`: why not). `None` for a packet that is not TCP.
pub fn packet_detail(
    analysis: &crate::pipeline::Analysis,
    index: u32,
    bytes: Result<&[u8], String>,
) -> Option<PacketDetail> {
    let records = analysis.tcp.records();
    let pos = records.position_of(crate::capture::PacketIdx(index))?;
    let record = records.get(pos)?;
    let location = analysis.locations.get(pos as usize);
    let (fields, bytes, unavailable) = match (bytes, location) {
        (Ok(b), Some(loc)) => (decode(loc.link_type(), b, loc.orig_len), b.to_vec(), None),
        (Ok(_), None) => (
            Vec::new(),
            Vec::new(),
            Some("the packet's place in the file is unknown".into()),
        ),
        (Err(why), _) => (Vec::new(), Vec::new(), Some(why)),
    };
    Some(PacketDetail {
        stream: record.stream.0,
        index,
        fields,
        bytes,
        unavailable,
        findings: record.findings.names().map(str::to_string).collect(),
        dup_ack_num: records.dup_ack_num(pos),
        ack_rtt: records.ack_rtt_ns(pos).map(|ns| ns as f64 / 1e9),
        acks_frame: records
            .acked(pos)
            .and_then(|p| records.get(p))
            .map(|r| r.frame_number()),
        bytes_in_flight: records.bytes_in_flight(pos),
        comments: analysis
            .capture
            .comments
            .iter()
            .filter(|c| c.packet == Some(PacketIdx(index)))
            .map(|c| c.text.clone())
            .collect(),
    })
}

/// Bytes per hex dump line.
pub const HEX_WIDTH: usize = 16;

/// One line of a hex dump: offset, bytes in hex, and the printable ones as text
/// (`0010  45 00 00 3c ...  E..<`), as Wireshark's bytes pane shows them.
pub fn hex_lines(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(HEX_WIDTH)
        .enumerate()
        .map(|(i, chunk)| {
            let mut line = format!("{:04x} ", i * HEX_WIDTH);
            for (j, b) in chunk.iter().enumerate() {
                if j == HEX_WIDTH / 2 {
                    line.push(' ');
                }
                let _ = write!(line, " {b:02x}");
            }
            let missing = HEX_WIDTH - chunk.len();
            line.push_str(&" ".repeat(missing * 3 + usize::from(chunk.len() <= HEX_WIDTH / 2)));
            line.push_str("  ");
            line.extend(chunk.iter().map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            }));
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::{dissect, Dissection};

    fn value<'a>(fields: &'a [Field], layer: &str, name: &str) -> &'a str {
        fields
            .iter()
            .find(|f| f.layer == layer && f.name == name)
            .map(|f| f.value.as_str())
            .unwrap_or_else(|| panic!("no {layer} {name} in {fields:#?}"))
    }

    /// Ethernet, a VLAN tag, IPv4 and a SYN with MSS, SACK permitted, timestamps, NOP and
    /// window scale, as Linux sends it.
    fn syn() -> Vec<u8> {
        let mut p = Vec::new();
        p.extend([
            2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00,
        ]);
        p.extend([
            0x45, 0, 0, 60, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        p.extend([0x9c, 0x40, 0, 80]);
        p.extend(0xffff_fff0_u32.to_be_bytes());
        p.extend(0_u32.to_be_bytes());
        p.extend([0xa0, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
        p.extend([
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ]);
        p
    }

    #[test]
    fn lists_every_layer_with_options() {
        let bytes = syn();
        let f = decode(LinkType::ETHERNET, &bytes, bytes.len() as u32);
        assert_eq!(value(&f, "Ethernet", "Source"), "02:00:00:00:00:01");
        assert_eq!(value(&f, "802.1Q", "VLAN ID"), "100");
        assert_eq!(value(&f, "802.1Q", "Priority"), "1");
        assert_eq!(value(&f, "IPv4", "TTL"), "64");
        assert_eq!(value(&f, "IPv4", "Flags"), "DF");
        assert_eq!(value(&f, "IPv4", "Destination"), "10.0.0.2");
        assert_eq!(value(&f, "TCP", "Source port"), "40000");
        assert_eq!(value(&f, "TCP", "Sequence number (raw)"), "4294967280");
        assert_eq!(value(&f, "TCP", "Flags"), "0x002 SYN");
        assert_eq!(value(&f, "TCP", "Payload"), "0 bytes");
        let options: Vec<&str> = f
            .iter()
            .filter(|x| x.name == "Option")
            .map(|x| x.value.as_str())
            .collect();
        assert_eq!(
            options,
            [
                "MSS 1460",
                "SACK permitted",
                "Timestamps TSval 1 TSecr 0",
                "No-operation",
                "Window scale 7 (multiply by 128)"
            ]
        );
        // The byte ranges point into the packet.
        assert!(f.iter().all(|x| (x.offset + x.len) as usize <= bytes.len()));
        // Agrees with the dissector.
        let Dissection::Tcp(seg) = dissect(LinkType::ETHERNET, &bytes, bytes.len() as u32) else {
            panic!("a TCP segment")
        };
        assert_eq!(seg.options.window_scale, Some(7));
    }

    #[test]
    fn a_packet_cut_short_says_where() {
        let bytes = syn();
        for cut in 0..bytes.len() {
            // Never panics, and says so when a header is incomplete.
            let f = decode(LinkType::ETHERNET, &bytes[..cut], bytes.len() as u32);
            assert!(f[0].value.contains("captured"));
        }
        let f = decode(LinkType::ETHERNET, &bytes[..40], bytes.len() as u32);
        assert!(f
            .iter()
            .any(|x| x.name == "(cut short)" && x.layer == "TCP"));
        for link in [0u16, 101, 108, 113, 276, 228, 229, 9999] {
            let _ = decode(LinkType(link), &bytes, 0);
        }
    }

    #[test]
    fn a_rst_with_text_shows_it_as_the_reset_cause() {
        let mut rst = syn();
        // After Ethernet and a VLAN tag: flags RST+ACK, 12 bytes of text after the 40-byte TCP
        // header (IPv4 total length 72).
        rst[20..22].copy_from_slice(&72u16.to_be_bytes());
        rst[18 + 20 + 13] = 0x14;
        rst.extend(b"<b>\x1b[2J\n\xff\xe2\x80\xae");
        let f = decode(LinkType::ETHERNET, &rst, rst.len() as u32);
        assert_eq!(value(&f, "TCP", "Payload"), "12 bytes");
        // Control and bidi-override characters as dots, bytes that are not UTF-8 as U+FFFD.
        assert_eq!(value(&f, "TCP", "Reset cause"), "<b>.[2J.\u{fffd}.");
        // Only what was captured, and nothing for a RST without payload or a non-RST.
        let f = decode(LinkType::ETHERNET, &rst[..rst.len() - 9], rst.len() as u32);
        assert_eq!(value(&f, "TCP", "Reset cause"), "<b>");
        let f = decode(LinkType::ETHERNET, &rst[..rst.len() - 12], rst.len() as u32);
        assert!(f.iter().all(|x| x.name != "Reset cause"));
        assert_eq!(
            printable(&[b'x'; 5000]),
            format!("{}…", "x".repeat(MAX_TEXT_BYTES))
        );
        assert_eq!(printable("é".repeat(600).as_bytes()).len(), 1024 + 3);
    }

    #[test]
    fn the_hostile_fixture_shows_its_reset_cause_and_packet_comment() {
        let path = format!(
            "{}/tests/fixtures/formats/hostile-strings.pcapng",
            env!("CARGO_MANIFEST_DIR")
        );
        let file = std::fs::read(path).expect("the fixture");
        let mut analyzer = crate::pipeline::Analyzer::new();
        analyzer.feed(&file).unwrap();
        let analysis = analyzer.finish().unwrap();
        let loc = analysis.locations[4];
        let at = loc.offset() as usize;
        let bytes = &file[at..at + loc.captured as usize];
        let detail = packet_detail(&analysis, 4, Ok(bytes)).unwrap();
        assert_eq!(
            value(&detail.fields, "TCP", "Reset cause"),
            r#"<script>window.__rstscope_pwned=8</script><img src=x onerror="window.__rstscope_pwned=9">"#
        );
        assert_eq!(
            detail.comments,
            [r#""><svg onload=window.__rstscope_pwned=7> on the RST"#]
        );
        let detail = packet_detail(&analysis, 3, Ok(bytes)).unwrap();
        assert!(detail.comments.is_empty());
    }

    #[test]
    fn hex_dump_lines() {
        let lines = hex_lines(b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert_eq!(
            lines[0],
            "0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1.."
        );
        assert_eq!(lines[1].len(), lines[0].len() - (HEX_WIDTH - 9));
        assert!(lines[1].starts_with("0010  48 6f 73 74"));
        assert!(lines[1].ends_with("Host: x.."));
        assert!(hex_lines(&[]).is_empty());
    }

    #[test]
    fn the_scenario_packets_read_back_from_their_locations_decode_as_analysed() {
        let path = format!(
            "{}/tests/fixtures/scenarios/middlebox_inject.client.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let file = std::fs::read(path).expect("the scenario");
        let mut analyzer = crate::pipeline::Analyzer::new();
        analyzer.feed(&file).unwrap();
        let analysis = analyzer.finish().unwrap();
        let records = analysis.tcp.records().as_slice();
        assert_eq!(analysis.locations.len(), records.len());
        for (record, loc) in records.iter().zip(&analysis.locations) {
            let at = loc.offset() as usize;
            let bytes = &file[at..at + loc.captured as usize];
            let f = decode(loc.link_type(), bytes, loc.orig_len);
            let flags = value(&f, "TCP", "Flags");
            assert!(
                flags.starts_with(&format!("0x{:03x}", record.flags().0)),
                "{flags}"
            );
            let detail = packet_detail(&analysis, record.index.0, Ok(bytes)).unwrap();
            assert_eq!(detail.bytes.len(), loc.captured as usize);
            assert_eq!(detail.findings.len(), record.findings.names().count());
        }
        let gone = packet_detail(&analysis, records[0].index.0, Err("compressed".into())).unwrap();
        assert_eq!(gone.unavailable.as_deref(), Some("compressed"));
        assert!(packet_detail(&analysis, u32::MAX, Ok(&[])).is_none());
    }
}
