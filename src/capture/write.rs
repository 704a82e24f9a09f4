//! Small writers for pcap and pcapng: the project's own test captures, and exporting a
//! connection as a capture. They write what Wireshark reads back unchanged.

use super::{LinkType, Timestamp};

/// The snaplen written in headers: Wireshark's standard maximum.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// Writes a classic pcap file: `header()` once, then one `record` per packet.
#[derive(Debug, Clone, Copy)]
pub struct PcapWriter {
    link_type: LinkType,
    nanos: bool,
    big_endian: bool,
    modified: bool,
    snaplen: u32,
}

impl PcapWriter {
    /// A little-endian pcap writer with microsecond (or, with `nanos`, nanosecond) time stamps.
    pub fn new(link_type: LinkType, nanos: bool) -> PcapWriter {
        PcapWriter {
            link_type,
            nanos,
            big_endian: false,
            modified: false,
            snaplen: DEFAULT_SNAPLEN,
        }
    }

    /// Writes big-endian instead.
    pub fn big_endian(self, big_endian: bool) -> PcapWriter {
        PcapWriter { big_endian, ..self }
    }

    /// Writes Kuznetzov's "modified" pcap (magic 0xa1b2cd34, 24-byte record headers);
    /// microsecond time stamps only.
    pub fn modified(self, modified: bool) -> PcapWriter {
        PcapWriter {
            modified,
            nanos: self.nanos && !modified,
            ..self
        }
    }

    /// Sets the snaplen in the file header.
    pub fn snaplen(self, snaplen: u32) -> PcapWriter {
        PcapWriter { snaplen, ..self }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// The 24-byte file header.
    pub fn header(&self) -> Vec<u8> {
        let magic = match (self.modified, self.nanos) {
            (true, _) => 0xa1b2_cd34,
            (false, true) => 0xa1b2_3c4d,
            (false, false) => 0xa1b2_c3d4,
        };
        let mut h = Vec::with_capacity(24);
        h.extend(self.u32(magic));
        h.extend(self.u16(2));
        h.extend(self.u16(4));
        h.extend(self.u32(0)); // thiszone
        h.extend(self.u32(0)); // sigfigs
        h.extend(self.u32(self.snaplen));
        h.extend(self.u32(u32::from(self.link_type.0)));
        h
    }

    /// One packet record: `data` is what was captured, `orig_len` the length on the wire.
    pub fn record(&self, ts: Timestamp, orig_len: u32, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + data.len());
        self.write_record(&mut out, ts, orig_len, data);
        out
    }

    /// Appends one packet record to `out`. Time stamps before 1970 or after 2106 wrap, as
    /// the format's unsigned 32-bit seconds field does.
    pub fn write_record(&self, out: &mut Vec<u8>, ts: Timestamp, orig_len: u32, data: &[u8]) {
        let secs = ts.0.div_euclid(1_000_000_000);
        let nanos = ts.0.rem_euclid(1_000_000_000) as u32;
        let frac = if self.nanos { nanos } else { nanos / 1000 };
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        out.extend(self.u32(secs as u32));
        out.extend(self.u32(frac));
        out.extend(self.u32(caplen));
        out.extend(self.u32(orig_len));
        if self.modified {
            out.extend(self.u32(0)); // ifindex
            out.extend(self.u16(0x0800)); // protocol
            out.extend([0, 0]); // pkt_type, padding
        }
        out.extend_from_slice(&data[..caplen as usize]);
    }
}

/// pcapng block types written here.
pub mod block_type {
    pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    pub const INTERFACE: u32 = 1;
    pub const PACKET_OBSOLETE: u32 = 2;
    pub const SIMPLE_PACKET: u32 = 3;
    pub const NAME_RESOLUTION: u32 = 4;
    pub const INTERFACE_STATISTICS: u32 = 5;
    pub const ENHANCED_PACKET: u32 = 6;
    pub const CUSTOM: u32 = 0x0000_0BAD;
}

/// Writes pcapng blocks in one byte order. Each method returns one whole block.
#[derive(Debug, Clone, Copy)]
pub struct PcapNgWriter {
    big_endian: bool,
}

impl PcapNgWriter {
    pub fn new(big_endian: bool) -> PcapNgWriter {
        PcapNgWriter { big_endian }
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u64(&self, v: u64) -> [u8; 8] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// A block of any type around `body` (padded to 4 bytes).
    pub fn block(&self, block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded = body.len().div_ceil(4) * 4;
        let total = u32::try_from(12 + padded).unwrap_or(u32::MAX);
        let mut b = Vec::with_capacity(total as usize);
        b.extend(self.u32(block_type));
        b.extend(self.u32(total));
        b.extend_from_slice(body);
        b.resize(8 + padded, 0);
        b.extend(self.u32(total));
        b
    }

    /// Options (code, value) followed by opt_endofopt; empty when there are none.
    pub fn options(&self, options: &[(u16, &[u8])]) -> Vec<u8> {
        if options.is_empty() {
            return Vec::new();
        }
        let mut b = Vec::new();
        for (code, value) in options {
            b.extend(self.u16(*code));
            b.extend(self.u16(u16::try_from(value.len()).unwrap_or(u16::MAX)));
            b.extend_from_slice(value);
            b.resize(b.len().div_ceil(4) * 4, 0);
        }
        b.extend([0, 0, 0, 0]);
        b
    }

    /// A Section Header Block (version 1.0, unknown section length).
    pub fn section_header(&self) -> Vec<u8> {
        self.section_header_with(&[])
    }

    /// A Section Header Block with options (e.g. `(1, b"comment")`).
    pub fn section_header_with(&self, options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u32(0x1A2B_3C4D));
        body.extend(self.u16(1));
        body.extend(self.u16(0));
        body.extend(self.u64(u64::MAX));
        body.extend(self.options(options));
        self.block(block_type::SECTION_HEADER, &body)
    }

    /// An Interface Description Block; `tsresol` is the if_tsresol byte (default 6:
    /// microseconds), `tsoffset` if_tsoffset in seconds.
    pub fn interface(
        &self,
        link_type: LinkType,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u16(link_type.0));
        body.extend(self.u16(0));
        body.extend(self.u32(snaplen));
        let resol = tsresol.map(|r| [r]);
        let offset = tsoffset.map(|o| self.u64(o as u64));
        let mut opts: Vec<(u16, &[u8])> = Vec::new();
        if let Some(r) = &resol {
            opts.push((9, r));
        }
        if let Some(o) = &offset {
            opts.push((14, o));
        }
        body.extend(self.options(&opts));
        self.block(block_type::INTERFACE, &body)
    }

    /// An Interface Description Block with any options (e.g. `(2, b"eth0")`, if_name, and
    /// `(3, b"uplink")`, if_description); time stamps in microseconds.
    pub fn interface_with(
        &self,
        link_type: LinkType,
        snaplen: u32,
        options: &[(u16, &[u8])],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u16(link_type.0));
        body.extend(self.u16(0));
        body.extend(self.u32(snaplen));
        body.extend(self.options(options));
        self.block(block_type::INTERFACE, &body)
    }

    /// An Enhanced Packet Block; `ts` counts the interface's time units since the epoch.
    pub fn enhanced_packet(&self, interface: u32, ts: u64, orig_len: u32, data: &[u8]) -> Vec<u8> {
        self.enhanced_packet_with(interface, ts, orig_len, data, &[])
    }

    /// An Enhanced Packet Block with options (e.g. a comment, code 1).
    pub fn enhanced_packet_with(
        &self,
        interface: u32,
        ts: u64,
        orig_len: u32,
        data: &[u8],
        options: &[(u16, &[u8])],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u32(interface));
        body.extend(self.u32((ts >> 32) as u32));
        body.extend(self.u32(ts as u32));
        body.extend(self.u32(u32::try_from(data.len()).unwrap_or(u32::MAX)));
        body.extend(self.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        body.extend(self.options(options));
        self.block(block_type::ENHANCED_PACKET, &body)
    }

    /// A Simple Packet Block: no interface id or time stamp; the reader cuts `data` to
    /// interface 0's snaplen.
    pub fn simple_packet(&self, orig_len: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u32(orig_len));
        body.extend_from_slice(data);
        self.block(block_type::SIMPLE_PACKET, &body)
    }

    /// An obsolete Packet Block (type 2), as old versions of Wireshark wrote.
    pub fn obsolete_packet(&self, interface: u16, ts: u64, orig_len: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u16(interface));
        body.extend(self.u16(0xffff)); // drops count unknown
        body.extend(self.u32((ts >> 32) as u32));
        body.extend(self.u32(ts as u32));
        body.extend(self.u32(u32::try_from(data.len()).unwrap_or(u32::MAX)));
        body.extend(self.u32(orig_len));
        body.extend_from_slice(data);
        self.block(block_type::PACKET_OBSOLETE, &body)
    }

    /// A Custom Block (copiable) with a Private Enterprise Number and opaque data.
    pub fn custom(&self, pen: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(self.u32(pen));
        body.extend_from_slice(data);
        self.block(block_type::CUSTOM, &body)
    }
}

/// A time stamp in an interface's units (`units_per_second`, e.g. 10^6 or 10^9), as EPBs hold.
pub fn timestamp_units(ts: Timestamp, units_per_second: u64) -> u64 {
    let nanos = u128::try_from(ts.0).unwrap_or(0);
    (nanos * u128::from(units_per_second) / 1_000_000_000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_header_layout() {
        let h = PcapWriter::new(LinkType::ETHERNET, false).header();
        assert_eq!(&h[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(h.len(), 24);
        let h = PcapWriter::new(LinkType::RAW, true)
            .big_endian(true)
            .header();
        assert_eq!(&h[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&h[20..], &[0, 0, 0, 101]);
    }

    #[test]
    fn records_split_the_time_stamp() {
        let w = PcapWriter::new(LinkType::ETHERNET, false);
        let r = w.record(Timestamp(1_500_000_000), 10, &[1, 2]);
        assert_eq!(
            &r[..16],
            &[1, 0, 0, 0, 0x20, 0xa1, 0x07, 0, 2, 0, 0, 0, 10, 0, 0, 0]
        );
        assert_eq!(w.modified(true).record(Timestamp(0), 2, &[1, 2]).len(), 26);
    }

    #[test]
    fn pcapng_blocks_are_padded_and_framed() {
        let w = PcapNgWriter::new(false);
        let b = w.enhanced_packet(0, 1, 3, &[1, 2, 3]);
        assert_eq!(b.len(), 32 + 4);
        assert_eq!(&b[4..8], &36u32.to_le_bytes());
        assert_eq!(&b[32..], &36u32.to_le_bytes());
        assert_eq!(
            timestamp_units(Timestamp(1_500_000_000), 1_000_000),
            1_500_000
        );
    }
}
