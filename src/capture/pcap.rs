//! Classic pcap (libpcap) files, read as Wireshark 4.0's `wiretap/libpcap.c` reads them:
//! both byte orders, microsecond and nanosecond magic, the "modified" (Kuznetzov) record
//! headers, pre-2.3 swapped length fields, AIX's variant, and the same limits.

use super::bytes::Endian;
use super::{
    max_snaplen, timestamp, CaptureError, Compression, Container, LinkType, Out, Parsed, RawPacket,
};

const FILE_HEADER_LEN: usize = 24;
/// The upper 16 bits of the link-type field that must be zero (`LT_RESERVED1`).
const LINKTYPE_RESERVED_BITS: u32 = 0x03FF_0000;
/// How many records Wireshark reads to guess the record-header variant (`MAX_RECORDS_TO_TRY`).
const RECORDS_TO_TRY: usize = 3;
/// An original length above this counts against a variant guess (libpcap.c: "128MB").
const IMPLAUSIBLE_ORIG_LEN: u32 = 128 * 1024 * 1024;

/// Which per-record header layout the file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// The standard 16-byte header, microseconds.
    Pcap,
    /// The standard header with nanoseconds.
    Nsec,
    /// AIX: the standard header with nanoseconds.
    Aix,
    /// Alexey Kuznetzov's patch of 1999-10-29: 8 more bytes (ifindex, protocol, pkt_type, pad).
    Ss991029,
    /// The patch of 1999-09-15: 12 more bytes.
    Ss990915,
}

impl Variant {
    fn header_len(self) -> usize {
        match self {
            Variant::Pcap | Variant::Nsec | Variant::Aix => 16,
            Variant::Ss991029 => 24,
            Variant::Ss990915 => 28,
        }
    }

    fn nanos(self) -> bool {
        matches!(self, Variant::Nsec | Variant::Aix)
    }
}

/// Whether the captured and original lengths are stored in the pre-2.3 order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lengths {
    InOrder,
    Swapped,
    /// Version 2.3 files: swapped only when the captured length looks larger.
    MaybeSwapped,
}

#[derive(Debug, Clone, Copy)]
struct Records {
    variant: Variant,
    lengths: Lengths,
    link_type: u16,
    snaplen: u32,
}

enum State {
    FileHeader,
    /// The file header is read; the variant is still to be guessed from the first records.
    Guessing {
        records: Records,
        candidates: &'static [Variant],
    },
    Records(Records),
    Done,
}

/// The pcap container parser.
pub(crate) struct PcapParser {
    endian: Endian,
    magic_variant: MagicVariant,
    compression: Option<Compression>,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MagicVariant {
    Standard,
    Nanosecond,
    Modified,
}

impl PcapParser {
    /// A parser if `magic` is one of the pcap magic numbers (in either byte order).
    pub(crate) fn new(magic: [u8; 4], compression: Option<Compression>) -> Option<PcapParser> {
        let (endian, magic_variant) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, MagicVariant::Standard),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, MagicVariant::Standard),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, MagicVariant::Nanosecond),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, MagicVariant::Nanosecond),
            [0x34, 0xcd, 0xb2, 0xa1] => (Endian::Little, MagicVariant::Modified),
            [0xa1, 0xb2, 0xcd, 0x34] => (Endian::Big, MagicVariant::Modified),
            _ => return None,
        };
        Some(PcapParser {
            endian,
            magic_variant,
            compression,
            state: State::FileHeader,
        })
    }

    pub(crate) fn parse(
        &mut self,
        input: &[u8],
        base: u64,
        eof: bool,
        out: &mut Out<'_, '_>,
    ) -> Result<Parsed, CaptureError> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Done => {
                    return Ok(Parsed {
                        consumed: pos,
                        need: 0,
                        done: true,
                    })
                }
                State::FileHeader => {
                    if input.len() < FILE_HEADER_LEN {
                        if eof {
                            return Err(CaptureError::Empty);
                        }
                        return Ok(Parsed {
                            consumed: 0,
                            need: FILE_HEADER_LEN,
                            done: false,
                        });
                    }
                    pos = FILE_HEADER_LEN;
                    self.state = self.file_header(input, out);
                }
                State::Guessing {
                    records,
                    candidates,
                } => {
                    let rest = input.get(pos..).unwrap_or(&[]);
                    match guess_variant(rest, self.endian, records, candidates, eof) {
                        Some(variant) => {
                            let records = Records { variant, ..records };
                            self.send_format(records.variant, out);
                            self.state = State::Records(records);
                        }
                        // Wait until the first records are all here (bounded: they are each at
                        // most `max_snaplen` bytes, or the guess ends early).
                        None => {
                            return Ok(Parsed {
                                consumed: pos,
                                need: rest.len() + 1,
                                done: false,
                            })
                        }
                    }
                }
                State::Records(records) => {
                    let (step, parsed) = self.record(input, pos, base, eof, records, out);
                    match step {
                        Some(next) => pos = next,
                        None => return Ok(parsed),
                    }
                }
            }
        }
    }

    fn send_format(&self, variant: Variant, out: &mut Out<'_, '_>) {
        let container = Container::Pcap {
            big_endian: self.endian == Endian::Big,
            nanos: variant.nanos(),
            modified: matches!(variant, Variant::Ss991029 | Variant::Ss990915),
        };
        out.format(container, self.compression);
    }

    /// Reads the 24-byte file header (the caller checked it is all there).
    fn file_header(&self, input: &[u8], out: &mut Out<'_, '_>) -> State {
        let e = self.endian;
        let major = e.u16(input, 4).unwrap_or(0);
        let minor = e.u16(input, 6).unwrap_or(0);
        let snaplen = e.u32(input, 16).unwrap_or(0);
        let mut network = e.u32(input, 20).unwrap_or(0);
        let fallback = match self.magic_variant {
            MagicVariant::Nanosecond => Variant::Nsec,
            MagicVariant::Standard => Variant::Pcap,
            MagicVariant::Modified => Variant::Ss991029,
        };
        if major < 2 {
            self.send_format(fallback, out);
            out.warn(0, format!("pcap major version {major} is not supported (Wireshark refuses this file); no packet is read"));
            return State::Done;
        }
        let lengths = match (major, minor) {
            (2, m) if m < 3 => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            (543, _) => Lengths::Swapped,
            _ => Lengths::InOrder,
        };
        // Old-style files: no variant guessing (libpcap.c picks plain pcap for them).
        let old = matches!(lengths, Lengths::Swapped | Lengths::MaybeSwapped);
        let mut variant = None;
        if self.magic_variant == MagicVariant::Standard && major == 2 && minor == 2 {
            // AIX writes RFC 1573 ifType values instead of link types.
            let aix = match network {
                6 => Some(1),
                9 => Some(6),
                15 => Some(10),
                24 => Some(0),
                _ => None,
            };
            if let Some(link) = aix {
                network = link;
                variant = Some(Variant::Aix);
            }
        }
        if network & LINKTYPE_RESERVED_BITS != 0 {
            self.send_format(fallback, out);
            out.warn(
                20,
                format!(
                    "the pcap link-type field has reserved bits set (0x{:08x}); Wireshark refuses this file, no packet is read",
                    network & LINKTYPE_RESERVED_BITS
                ),
            );
            return State::Done;
        }
        let records = Records {
            variant: fallback,
            lengths,
            link_type: (network & 0xffff) as u16,
            snaplen,
        };
        let candidates: &'static [Variant] = match self.magic_variant {
            MagicVariant::Nanosecond => &[],
            MagicVariant::Standard if old || variant.is_some() => &[],
            // Wireshark also tries the ss990417 and Nokia layouts for the standard magic; this
            // reader keeps plain pcap there (see the module tests for why).
            MagicVariant::Standard => &[],
            MagicVariant::Modified => &[Variant::Ss991029, Variant::Ss990915],
        };
        let records = Records {
            variant: variant.unwrap_or(fallback),
            ..records
        };
        if candidates.is_empty() {
            self.send_format(records.variant, out);
            State::Records(records)
        } else {
            State::Guessing {
                records,
                candidates,
            }
        }
    }

    /// Reads the record at `pos`. Returns the position after it, or `None` with what to report.
    fn record(
        &mut self,
        input: &[u8],
        pos: usize,
        base: u64,
        eof: bool,
        r: Records,
        out: &mut Out<'_, '_>,
    ) -> (Option<usize>, Parsed) {
        let rest = input.get(pos..).unwrap_or(&[]);
        let at = base + pos as u64;
        let hlen = r.variant.header_len();
        let wait = |need| {
            (
                None,
                Parsed {
                    consumed: pos,
                    need,
                    done: false,
                },
            )
        };
        let Some(hdr) = RecordHeader::read(rest, self.endian, r) else {
            if !eof {
                return wait(hlen);
            }
            if !rest.is_empty() {
                out.warn(
                    at,
                    format!(
                        "the file ends inside a packet record header at byte {at}; {} bytes ignored",
                        rest.len()
                    ),
                );
            }
            self.state = State::Done;
            return (
                None,
                Parsed {
                    consumed: input.len(),
                    need: 0,
                    done: true,
                },
            );
        };
        let max = max_snaplen(r.link_type);
        if hdr.incl_len > max {
            out.warn(
                at,
                format!(
                    "the packet record at byte {at} claims {} captured bytes, more than the {max} Wireshark accepts \
                     for link type {}; the file is corrupt here and nothing after this point is read",
                    hdr.incl_len, r.link_type
                ),
            );
            self.state = State::Done;
            return (
                None,
                Parsed {
                    consumed: input.len(),
                    need: 0,
                    done: true,
                },
            );
        }
        let total = hlen + hdr.incl_len as usize;
        let Some(data) = rest.get(hlen..total) else {
            if !eof {
                return wait(total);
            }
            out.warn(
                at,
                format!(
                    "the file ends inside a packet record at byte {at} (it should hold {} captured bytes, only {} are \
                     present); {} bytes ignored",
                    hdr.incl_len,
                    rest.len().saturating_sub(hlen),
                    rest.len()
                ),
            );
            self.state = State::Done;
            return (
                None,
                Parsed {
                    consumed: input.len(),
                    need: 0,
                    done: true,
                },
            );
        };
        // C arithmetic on the u32 fraction field, as Wireshark does (it wraps into an int).
        let nanos = if r.variant.nanos() {
            i64::from(hdr.ts_frac as i32)
        } else {
            i64::from(hdr.ts_frac.wrapping_mul(1000) as i32)
        };
        let packet = RawPacket {
            ts: timestamp(i64::from(hdr.ts_sec), nanos),
            link_type: LinkType(r.link_type),
            interface: 0,
            orig_len: hdr.orig_len,
            data,
            offset: at + hlen as u64,
        };
        if !out.packet(packet) {
            out.warn(
                at,
                "more than 2^32 packets; the rest of the file is not read".to_string(),
            );
            self.state = State::Done;
            return (
                None,
                Parsed {
                    consumed: input.len(),
                    need: 0,
                    done: true,
                },
            );
        }
        (
            Some(pos + total),
            Parsed {
                consumed: pos + total,
                need: 0,
                done: false,
            },
        )
    }
}

/// The fields of a record header every variant has, with the lengths put in order.
struct RecordHeader {
    ts_sec: u32,
    ts_frac: u32,
    incl_len: u32,
    orig_len: u32,
}

impl RecordHeader {
    fn read(b: &[u8], e: Endian, r: Records) -> Option<RecordHeader> {
        b.get(..r.variant.header_len())?;
        let (mut incl_len, mut orig_len) = (e.u32(b, 8)?, e.u32(b, 12)?);
        let swap = match r.lengths {
            Lengths::InOrder => false,
            Lengths::Swapped => true,
            Lengths::MaybeSwapped => incl_len > orig_len,
        };
        if swap {
            std::mem::swap(&mut incl_len, &mut orig_len);
        }
        Some(RecordHeader {
            ts_sec: e.u32(b, 0)?,
            ts_frac: e.u32(b, 4)?,
            incl_len,
            orig_len,
        })
    }
}

/// Wireshark's guess of the record layout (`libpcap_try_variants`): read the first records
/// with each candidate layout, count what looks wrong, and keep the first flawless one or else
/// the least bad. `None`: more bytes are needed to decide.
fn guess_variant(
    rest: &[u8],
    e: Endian,
    r: Records,
    candidates: &[Variant],
    eof: bool,
) -> Option<Variant> {
    let mut best: Option<(u32, Variant)> = None;
    for &variant in candidates {
        let merit = figure_of_merit(rest, e, Records { variant, ..r }, eof)?;
        if merit == 0 {
            return Some(variant);
        }
        if best.is_none_or(|(b, _)| merit < b) {
            best = Some((merit, variant));
        }
    }
    best.map(|(_, v)| v).or(candidates.first().copied())
}

/// How many things look wrong when the first records are read as `r.variant`
/// (`libpcap_try_record`); `None` if more bytes are needed.
fn figure_of_merit(rest: &[u8], e: Endian, r: Records, eof: bool) -> Option<u32> {
    let mut merit = 0;
    let mut pos = 0usize;
    let hlen = r.variant.header_len();
    for _ in 0..RECORDS_TO_TRY {
        let b = rest.get(pos..).unwrap_or(&[]);
        if b.is_empty() {
            return if eof { Some(merit) } else { None };
        }
        if b.len() < hlen {
            // A short read counts once; the fields read so far were already judged by
            // Wireshark, but a header cut short this early is too rare to model further.
            return if eof { Some(merit + 1) } else { None };
        }
        let ts_frac = e.u32(b, 4)?;
        let incl_len = e.u32(b, 8)?;
        let orig_len = e.u32(b, 12)?;
        if ts_frac >= 1_000_000 {
            merit += 1;
        }
        let incl_ok = incl_len <= max_snaplen(r.link_type);
        if !incl_ok {
            merit += 1;
        }
        if incl_len > r.snaplen {
            merit += 1;
        }
        if orig_len > IMPLAUSIBLE_ORIG_LEN {
            merit += 1;
        }
        if incl_len > orig_len {
            merit += 1;
        }
        if matches!(r.variant, Variant::Ss991029 | Variant::Ss990915) {
            let ifindex = e.u32(b, 16)?;
            let protocol = e.u16(b, 20)?;
            let pkt_type = *b.get(22)?;
            if ifindex > 10_000 {
                merit += 1;
            }
            let protocol_ok = protocol >= 0x0600
                || matches!(protocol, 0x0060 | 0x0200 | 0x0400 | 0x0000)
                || (0x0001..=0x0017).contains(&protocol);
            if !protocol_ok {
                merit += 1;
            }
            if pkt_type > 4 {
                merit += 1;
            }
        }
        if !incl_ok {
            return Some(merit);
        }
        let end = hlen + incl_len as usize;
        if b.len() < end {
            return if eof { Some(merit + 1) } else { None };
        }
        pos += end;
    }
    Some(merit)
}
