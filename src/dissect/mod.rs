//! Packet dissection: from the captured bytes of one record (and its link type) to the parsed,
//! owned form of its TCP segment, if it carries one.
//!
//! CONTRACT: `dissect(link_type, data, orig_len) -> Dissection`; never panics on any input.
//! [`Dissector`] does the same with IP fragment reassembly, which needs state across records.
//!
//! The segment is found where Wireshark 4.0 finds it with its default preferences, with the
//! same field values: the link layers and encapsulations of [`link`], IPv4/IPv6 with extension
//! headers and tunnels in [`net`], fragments in [`reassembly`], the TCP header in [`tcp`].
//! Lengths follow Wireshark's two lengths per layer ([`view`]): what was captured, and what the
//! packet had on the wire, so `payload_len` is `tcp.len` even when the capture is cut short.

mod link;
mod net;
pub mod reassembly;
mod tcp;
mod view;

pub use reassembly::Reassembler;

use std::net::IpAddr;

use crate::capture::LinkType;
use crate::seq::SeqNum;

/// TCP header flags (the 12 bits Wireshark shows as `tcp.flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// Parsed TCP options. Absent options are `None`, never sentinels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// Up to four SACK blocks (left, right edges); `sack_count` of them are valid.
    pub sack: [(SeqNum, SeqNum); 4],
    pub sack_count: u8,
    /// Timestamps option (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
}

impl TcpOptions {
    /// No option at all.
    pub const NONE: TcpOptions = TcpOptions {
        mss: None,
        window_scale: None,
        sack_permitted: false,
        sack: [(SeqNum(0), SeqNum(0)); 4],
        sack_count: 0,
        timestamps: None,
    };
}

/// The parsed form of one TCP segment and the IP header fields the analysis needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub flags: TcpFlags,
    /// The raw (unscaled) window field.
    pub window: u16,
    /// TCP payload length as Wireshark's `tcp.len` computes it: from the IP length fields,
    /// not from what was captured.
    pub payload_len: u32,
    /// TCP header length in bytes.
    pub header_len: u8,
    pub options: TcpOptions,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (None for IPv6).
    pub ip_id: Option<u16>,
    /// Offset of the TCP payload within the captured bytes (for the hex dump / reset text).
    pub payload_offset: u32,
    /// The capture holds fewer bytes than the packet had (snaplen): the payload is cut.
    pub truncated: bool,
}

/// What one record turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dissection {
    Tcp(TcpSegment),
    /// IP, but not TCP (or a non-first fragment).
    OtherIp,
    /// A known link type carrying something other than IP (ARP, ...).
    NotIp,
    /// A link type this dissector does not decode.
    UnsupportedLink(LinkType),
    /// IP or TCP headers cut short or invalid: nothing usable.
    Malformed,
}

/// Dissects one captured record, without fragment reassembly: a first fragment is dissected as
/// far as it goes, the others are [`Dissection::OtherIp`] (Wireshark with `ip.defragment` off).
/// Use [`Dissector`] to reassemble as Wireshark does by default.
pub fn dissect(link_type: LinkType, data: &[u8], orig_len: u32) -> Dissection {
    dissect_with(link_type, data, orig_len, None)
}

/// Dissects the records of one capture in file order, reassembling IP fragments: the TCP
/// segment of a fragmented datagram is reported in the record of the fragment that completes
/// it (the other fragments are [`Dissection::OtherIp`]), as Wireshark does with its default
/// preferences. Such a segment's payload is not in the record: its `payload_offset` is the
/// record's length and `truncated` is set when it has payload.
#[derive(Debug, Default)]
pub struct Dissector {
    reassembler: Reassembler,
}

impl Dissector {
    /// A dissector with no fragments pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Dissects the next record of the capture.
    pub fn dissect(&mut self, link_type: LinkType, data: &[u8], orig_len: u32) -> Dissection {
        self.reassembler.tick();
        dissect_with(link_type, data, orig_len, Some(&mut self.reassembler))
    }

    /// The fragment reassembler (to see how many datagrams wait).
    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }
}

fn dissect_with(
    link_type: LinkType,
    data: &[u8],
    orig_len: u32,
    reassembler: Option<&mut Reassembler>,
) -> Dissection {
    let mut ctx = net::Ctx::new(reassembler);
    let result = link::dissect_link(link_type, view::View::record(data, orig_len), &mut ctx);
    match result {
        Dissection::Tcp(mut segment) => {
            // Keep the offset inside the record (header cut short, or a reassembled datagram).
            let end = u32::try_from(data.len()).unwrap_or(u32::MAX);
            segment.payload_offset = segment.payload_offset.min(end);
            Dissection::Tcp(segment)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
