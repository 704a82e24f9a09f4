//! The TCP header (RFC 9293 section 3.1) and its options, as Wireshark's `packet-tcp.c`
//! reads them.

use std::net::IpAddr;

use super::view::View;
use super::{Dissection, TcpFlags, TcpOptions, TcpSegment};
use crate::seq::SeqNum;

/// Length of the TCP header without options.
const TCP_MIN_HEADER: usize = 20;

/// The 12 flag bits (Wireshark's `TH_MASK`): the low 12 bits of the data-offset word.
const FLAGS_MASK: u16 = 0x0fff;

/// What the IP layer knows that the TCP segment needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpInfo {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) ttl: u8,
    pub(crate) ip_id: Option<u16>,
}

/// Parses the TCP header at the start of `view` (the IP payload).
///
/// The fixed 20 bytes must have been captured; the options may be cut by the snaplen (what
/// was captured of them is parsed). `payload_len` is Wireshark's `tcp.len`: the IP payload's
/// reported length minus the header length, whatever was captured.
pub(crate) fn dissect_tcp(view: View<'_>, ip: IpInfo) -> Dissection {
    let (Some(src_port), Some(dst_port), Some(seq), Some(ack), Some(off_flags), Some(window)) = (
        view.u16(0),
        view.u16(2),
        view.u32(4),
        view.u32(8),
        view.u16(12),
        view.u16(14),
    ) else {
        return Dissection::Malformed;
    };
    if !view.has(TCP_MIN_HEADER) {
        return Dissection::Malformed;
    }
    let header_len = usize::from(off_flags >> 12) * 4;
    if header_len < TCP_MIN_HEADER {
        // Wireshark: "Bogus TCP header length": it stops before the flags.
        return Dissection::Malformed;
    }
    let payload_len = view.reported().saturating_sub(header_len);
    let captured = view.bytes().len();
    let options_end = header_len.min(captured);
    let options = view
        .bytes()
        .get(TCP_MIN_HEADER..options_end)
        .map(parse_options)
        .unwrap_or_default();
    // Without a record offset (reassembled datagram) no payload byte is in the record: point
    // past its end so that the captured payload is empty.
    let payload_offset = match view.offset() {
        Some(o) => o.saturating_add(header_len),
        None => usize::MAX,
    };
    let payload_captured = if view.offset().is_some() {
        captured.saturating_sub(header_len)
    } else {
        0
    };
    Dissection::Tcp(TcpSegment {
        src: ip.src,
        dst: ip.dst,
        src_port,
        dst_port,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags: TcpFlags(off_flags & FLAGS_MASK),
        window,
        payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
        header_len: u8::try_from(header_len).unwrap_or(u8::MAX),
        options,
        ttl: ip.ttl,
        ip_id: ip.ip_id,
        payload_offset: u32::try_from(payload_offset).unwrap_or(u32::MAX),
        truncated: captured < header_len || payload_captured < payload_len,
    })
}

/// TCP option kinds (IANA "TCP Option Kind Numbers").
mod kind {
    pub(super) const END: u8 = 0;
    pub(super) const NOP: u8 = 1;
    pub(super) const MSS: u8 = 2;
    pub(super) const WINDOW_SCALE: u8 = 3;
    pub(super) const SACK_PERMITTED: u8 = 4;
    pub(super) const SACK: u8 = 5;
    pub(super) const TIMESTAMPS: u8 = 8;
}

/// Parses the option bytes (after the fixed header, up to the header length or the capture's
/// end). Like Wireshark, parsing stops at End of Option List, at an option whose length byte is
/// below 2, or at one that runs past the end; options read before that are kept. A known
/// option with the wrong length is skipped.
pub(crate) fn parse_options(mut bytes: &[u8]) -> TcpOptions {
    let mut options = TcpOptions::default();
    while let Some((&kind, rest)) = bytes.split_first() {
        match kind {
            kind::END => break,
            kind::NOP => {
                bytes = rest;
                continue;
            }
            _ => {}
        }
        let Some(&len) = rest.first() else { break };
        let len = usize::from(len);
        if len < 2 {
            break;
        }
        let Some(body) = bytes.get(2..len) else { break };
        match (kind, body) {
            (kind::MSS, &[a, b]) => options.mss = Some(u16::from_be_bytes([a, b])),
            (kind::WINDOW_SCALE, &[shift]) => options.window_scale = Some(shift),
            (kind::SACK_PERMITTED, &[]) => options.sack_permitted = true,
            (kind::SACK, blocks) if blocks.len() % 8 == 0 => {
                let mut count = 0;
                for (slot, block) in options.sack.iter_mut().zip(blocks.chunks_exact(8)) {
                    let left = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                    let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                    *slot = (SeqNum(left), SeqNum(right));
                    count += 1;
                }
                options.sack_count = count;
            }
            (kind::TIMESTAMPS, ts) => {
                if let Ok(ts) = <[u8; 8]>::try_from(ts) {
                    let val = u32::from_be_bytes([ts[0], ts[1], ts[2], ts[3]]);
                    let ecr = u32::from_be_bytes([ts[4], ts[5], ts[6], ts[7]]);
                    options.timestamps = Some((val, ecr));
                }
            }
            _ => {}
        }
        bytes = bytes.get(len..).unwrap_or_default();
    }
    options
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const IP: IpInfo = IpInfo {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        ttl: 64,
        ip_id: Some(7),
    };

    /// A SYN with every option, sequence numbers just below 2^32.
    const SYN: [u8; 40] = [
        0x04, 0xd2, 0x00, 0x50, // ports 1234 -> 80
        0xff, 0xff, 0xff, 0xfe, // seq
        0xff, 0xff, 0xff, 0xff, // ack
        0xa0, 0x02, 0xff, 0xff, // data offset 10 (40 bytes), SYN; window 65535
        0x00, 0x00, 0x00, 0x00, // checksum, urgent
        2, 4, 0x05, 0xb4, // MSS 1460
        4, 2, // SACK permitted
        8, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, // timestamps 1, 2^32-1
        1,    // NOP
        3, 3, 7, // window scale 7
    ];

    fn segment(bytes: &[u8], reported: u32) -> TcpSegment {
        match dissect_tcp(View::record(bytes, reported), IP) {
            Dissection::Tcp(s) => s,
            other => panic!("not TCP: {other:?}"),
        }
    }

    #[test]
    fn syn_with_all_options() {
        let s = segment(&SYN, 40);
        assert_eq!((s.src_port, s.dst_port), (1234, 80));
        assert_eq!((s.seq, s.ack), (SeqNum(0xffff_fffe), SeqNum(0xffff_ffff)));
        assert_eq!(s.flags, TcpFlags(TcpFlags::SYN));
        assert_eq!(
            (s.window, s.header_len, s.payload_len, s.payload_offset),
            (65535, 40, 0, 40)
        );
        assert_eq!(
            s.options,
            TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                timestamps: Some((1, u32::MAX)),
                ..TcpOptions::default()
            }
        );
        assert!(!s.truncated);
    }

    #[test]
    fn payload_len_comes_from_the_reported_length() {
        // 40-byte header captured, 1000 bytes of payload on the wire, none captured.
        let s = segment(&SYN, 1040);
        assert_eq!(s.payload_len, 1000);
        assert!(s.truncated);
    }

    #[test]
    fn cut_options_keep_the_header() {
        // Captured up to the middle of the timestamps option.
        let s = segment(&SYN[..30], 40);
        assert_eq!(s.options.mss, Some(1460));
        assert!(s.options.sack_permitted);
        assert_eq!(s.options.timestamps, None);
        assert_eq!(s.payload_len, 0);
        assert!(s.truncated);
    }

    #[test]
    fn short_or_bogus_headers_are_malformed() {
        assert_eq!(
            dissect_tcp(View::record(&SYN[..19], 40), IP),
            Dissection::Malformed
        );
        let mut bogus = SYN;
        bogus[12] = 0x40; // data offset 4: 16 bytes
        assert_eq!(
            dissect_tcp(View::record(&bogus, 40), IP),
            Dissection::Malformed
        );
    }

    #[test]
    fn all_twelve_flag_bits() {
        let mut b = SYN;
        b[12] = 0xaf;
        b[13] = 0xff;
        assert_eq!(segment(&b, 40).flags, TcpFlags(0x0fff));
    }

    #[test]
    fn sack_blocks_near_the_wrap() {
        let opts = [
            1, 1, 5, 18, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30,
        ];
        let o = parse_options(&opts);
        assert_eq!(o.sack_count, 2);
        assert_eq!(o.sack[0], (SeqNum(0xffff_fff0), SeqNum(0x10)));
        assert_eq!(o.sack[1], (SeqNum(0x20), SeqNum(0x30)));
    }

    #[test]
    fn garbage_options_stop_parsing_without_losing_earlier_ones() {
        assert_eq!(parse_options(&[2, 4, 1, 0, 99, 0, 3, 3, 1]).mss, Some(256));
        assert_eq!(
            parse_options(&[2, 4, 1, 0, 99, 0, 3, 3, 1]).window_scale,
            None
        );
        assert_eq!(parse_options(&[3, 40, 1]), TcpOptions::default());
        // Wrong length for MSS: skipped, the next option is still read.
        let o = parse_options(&[2, 3, 1, 3, 3, 2]);
        assert_eq!((o.mss, o.window_scale), (None, Some(2)));
        // More than four SACK blocks: the first four are kept.
        let mut many = vec![5, 2 + 5 * 8];
        many.extend(std::iter::repeat_n(0u8, 40));
        assert_eq!(parse_options(&many).sack_count, 4);
    }
}
