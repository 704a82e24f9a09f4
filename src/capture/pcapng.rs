//! pcapng files, read as Wireshark 4.0's `wiretap/pcapng.c` reads them: sections with their own
//! byte order and interface table, Enhanced, Simple and obsolete Packet Blocks, every other
//! block skipped, and the same sanity checks. Where Wireshark stops with an error (a corrupt
//! block), this reader stops too, with a warning that says where and why, so both count the
//! same packets.

use super::bytes::Endian;
use super::{
    max_snaplen, timestamp, CaptureError, Compression, Container, LinkType, Out, Parsed, RawPacket,
    TextKind,
};

/// The Section Header Block type, the same in both byte orders; also the file's magic.
pub(crate) const SHB_TYPE_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

const BLOCK_IDB: u32 = 0x0000_0001;
const BLOCK_PB: u32 = 0x0000_0002;
const BLOCK_SPB: u32 = 0x0000_0003;
const BLOCK_NRB: u32 = 0x0000_0004;
const BLOCK_ISB: u32 = 0x0000_0005;
const BLOCK_EPB: u32 = 0x0000_0006;
const BLOCK_DSB: u32 = 0x0000_000A;
const BLOCK_CB_COPY: u32 = 0x0000_0BAD;
const BLOCK_CB_NO_COPY: u32 = 0x4000_0BAD;

/// Block header (type, length) plus the trailing length.
const MIN_BLOCK: u64 = 12;
const MIN_SHB: u64 = MIN_BLOCK + 16;
const MIN_IDB: u64 = MIN_BLOCK + 8;
const MIN_PB: u64 = MIN_BLOCK + 20;
const MIN_EPB: u64 = MIN_BLOCK + 20;
const MIN_SPB: u64 = MIN_BLOCK + 4;
const MIN_NRB: u64 = MIN_BLOCK + 4;
const MIN_ISB: u64 = MIN_BLOCK + 12;
const MIN_DSB: u64 = MIN_BLOCK + 8;
const MIN_CB: u64 = MIN_BLOCK + 4;
/// Wireshark's `MAX_BLOCK_SIZE`: an EPB holding a maximum-size D-Bus packet and 128 KiB of
/// options. Larger blocks are treated as corruption, which also bounds our buffer.
const MAX_BLOCK: u64 = MIN_EPB + 128 * 1024 * 1024 + 131_072;
/// Wireshark's sanity limit on a Decryption Secrets Block (1 GiB).
const MAX_SECRETS: u32 = 1024 * 1024 * 1024;
/// if_tsresol's default: microseconds.
const DEFAULT_UNITS_PER_SECOND: u64 = 1_000_000;

const OPT_ENDOFOPT: u16 = 0;
/// opt_comment, in every block.
const OPT_COMMENT: u16 = 1;
const OPT_SHB_HARDWARE: u16 = 2;
const OPT_SHB_OS: u16 = 3;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IDB_NAME: u16 = 2;
const OPT_IDB_DESCRIPTION: u16 = 3;
const OPT_CUSTOM: [u16; 4] = [2988, 2989, 19372, 19373];
const OPT_IDB_FILTER: u16 = 11;
const OPT_IDB_TSRESOL: u16 = 9;
const OPT_IDB_TSOFFSET: u16 = 14;
const OPT_EPB_FLAGS: u16 = 2;
const OPT_EPB_HASH: u16 = 3;
const OPT_EPB_DROPCOUNT: u16 = 4;
const OPT_EPB_PACKETID: u16 = 5;
const OPT_EPB_QUEUE: u16 = 6;
const OPT_EPB_VERDICT: u16 = 7;

/// At most this many runs of identical interfaces are kept per section (see [`Interfaces`]).
/// Real captures have a handful of interfaces (the most in the corpus: 95, in
/// pcapplusplus/too_many_interfaces.pcapng); this bounds memory at about 2 MiB for a
/// hostile file that declares millions of different ones.
const MAX_INTERFACE_RUNS: usize = 65_536;

/// One interface of the current section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interface {
    link_type: u16,
    snaplen: u32,
    units_per_second: u64,
    /// if_tsoffset: seconds added to every time stamp (tshark 4.0.17 applies it).
    tsoffset: i64,
}

struct Section {
    endian: Endian,
    interfaces: Interfaces,
}

/// The interface table of a section, as runs of identical consecutive interfaces: a file that
/// declares millions of interfaces (a hostile one: Wireshark keeps them all) costs memory for
/// its distinct runs only, and at most [`MAX_INTERFACE_RUNS`] of those.
#[derive(Default)]
struct Interfaces {
    /// The index of each run's first interface, and the interface; in index order.
    runs: Vec<(u64, Interface)>,
    /// Interfaces declared so far.
    len: u64,
}

impl Interfaces {
    /// Adds the next interface; `false` (and nothing added) when it would start one run too many.
    fn push(&mut self, iface: Interface) -> bool {
        if self.runs.last().is_none_or(|(_, last)| *last != iface) {
            if self.runs.len() >= MAX_INTERFACE_RUNS {
                return false;
            }
            self.runs.push((self.len, iface));
        }
        self.len += 1;
        true
    }

    fn get(&self, index: u32) -> Option<&Interface> {
        let index = u64::from(index);
        if index >= self.len {
            return None;
        }
        let after = self.runs.partition_point(|(first, _)| *first <= index);
        self.runs.get(after.checked_sub(1)?).map(|(_, iface)| iface)
    }

    fn first(&self) -> Option<&Interface> {
        self.runs.first().map(|(_, iface)| iface)
    }

    fn len(&self) -> u64 {
        self.len
    }
}

/// The pcapng container parser.
pub(crate) struct PcapNgParser {
    compression: Option<Compression>,
    section: Option<Section>,
    /// Sections read so far (the current one is `sections - 1`).
    sections: u32,
    done: bool,
    /// Whether the custom-block warning was given.
    custom_seen: bool,
}

/// What a block turned out to hold.
enum Block<'a> {
    Packet {
        interface: u32,
        ts: super::Timestamp,
        orig_len: u32,
        data: &'a [u8],
        data_at: usize,
        strings: Vec<Str<'a>>,
    },
    Section(Section, Vec<Str<'a>>),
    Interface(Interface, Vec<Str<'a>>),
    /// A record Wireshark numbers as a frame although it holds no packet (a custom block).
    NotAPacket,
    Other,
}

/// Which option handler applies (`pcapng_process_options` callbacks).
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Section,
    Interface,
    Packet,
    Other,
}

impl PcapNgParser {
    pub(crate) fn new(compression: Option<Compression>) -> PcapNgParser {
        PcapNgParser {
            compression,
            section: None,
            sections: 0,
            done: false,
            custom_seen: false,
        }
    }

    pub(crate) fn parse(
        &mut self,
        input: &[u8],
        base: u64,
        eof: bool,
        out: &mut Out<'_, '_>,
    ) -> Result<Parsed, CaptureError> {
        let mut pos = 0usize;
        loop {
            let finished = Parsed {
                consumed: input.len(),
                need: 0,
                done: true,
            };
            if self.done {
                return Ok(finished);
            }
            let rest = input.get(pos..).unwrap_or(&[]);
            let at = base + pos as u64;
            let wait = |need| {
                Ok(Parsed {
                    consumed: pos,
                    need,
                    done: false,
                })
            };
            let is_shb = rest.get(..4) == Some(&SHB_TYPE_BYTES[..]);
            let head_len = if is_shb { 12 } else { 8 };
            if rest.len() < head_len {
                if !eof {
                    return wait(head_len);
                }
                if self.section.is_none() {
                    return Err(CaptureError::Empty);
                }
                if !rest.is_empty() {
                    out.warn(
                        at,
                        format!(
                            "the file ends inside a block header at byte {at}; {} bytes ignored",
                            rest.len()
                        ),
                    );
                }
                self.done = true;
                continue;
            }
            let endian = if is_shb {
                match rest.get(8..12) {
                    Some([0x4d, 0x3c, 0x2b, 0x1a]) => Endian::Little,
                    Some([0x1a, 0x2b, 0x3c, 0x4d]) => Endian::Big,
                    _ => {
                        self.format(out);
                        let magic = rest.get(8..12).unwrap_or(&[]);
                        self.stop(out, at, format!("the section header at byte {at} has an unknown byte-order magic {magic:02x?}"));
                        continue;
                    }
                }
            } else {
                match &self.section {
                    Some(s) => s.endian,
                    None => {
                        self.stop(
                            out,
                            at,
                            "the file does not start with a section header block".into(),
                        );
                        continue;
                    }
                }
            };
            let block_type = endian.u32(rest, 0).unwrap_or(0);
            let len = endian.u32(rest, 4).unwrap_or(0);
            // Wireshark rounds a length that is not a multiple of 4 up rather than failing.
            let rounded = u64::from(len).div_ceil(4) * 4;
            let min = if is_shb { MIN_SHB } else { MIN_BLOCK };
            if rounded < min {
                self.format(out);
                self.stop(out, at, format!("the block at byte {at} has a total length of {len}, less than the minimum {min}"));
                continue;
            }
            if rounded > MAX_BLOCK {
                self.format(out);
                self.stop(
                    out,
                    at,
                    format!("the block at byte {at} has a total length of {len}, more than the {MAX_BLOCK} Wireshark accepts"),
                );
                continue;
            }
            let rounded = rounded as usize;
            let Some(block) = rest.get(..rounded) else {
                if !eof {
                    return wait(rounded);
                }
                self.format(out);
                out.warn(
                    at,
                    format!(
                        "the file ends inside a block at byte {at} (its header says {len} bytes, only {} are present); \
                         {} bytes ignored",
                        rest.len(),
                        rest.len()
                    ),
                );
                self.done = true;
                continue;
            };
            let parsed = if is_shb {
                shb(block, endian)
            } else {
                self.block(block, block_type, endian)
            };
            let parsed = parsed.and_then(|b| {
                let trailer = endian.u32(block, rounded - 4).unwrap_or(0);
                if trailer == len || u64::from(trailer) == rounded as u64 {
                    Ok(b)
                } else {
                    Err(format!(
                        "its total length is {len} at the start but {trailer} at the end"
                    ))
                }
            });
            match parsed {
                Err(why) => {
                    self.format(out);
                    self.stop(out, at, format!("the block at byte {at} is corrupt: {why}"));
                    continue;
                }
                Ok(Block::Section(section, strings)) => {
                    self.section = Some(section);
                    self.sections = self.sections.saturating_add(1);
                    self.format(out);
                    for s in strings {
                        let kind = match s.code {
                            OPT_COMMENT => TextKind::SectionComment,
                            OPT_SHB_HARDWARE => TextKind::Hardware,
                            OPT_SHB_OS => TextKind::Os,
                            _ => TextKind::Application,
                        };
                        out.text(at + s.at as u64, kind, s.value);
                    }
                }
                Ok(Block::Interface(iface, strings)) => {
                    if let Some(s) = &mut self.section {
                        if !s.interfaces.push(iface) {
                            out.warn(
                                at,
                                format!(
                                    "the interface block at byte {at} would make more than {MAX_INTERFACE_RUNS} \
                                     different interfaces in one section; rstscope reads no further"
                                ),
                            );
                            self.done = true;
                            continue;
                        }
                        // The interface just added (numbers past u32::MAX, which no packet
                        // block can name, saturate).
                        let interface = u32::try_from(s.interfaces.len() - 1).unwrap_or(u32::MAX);
                        let section = self.sections.saturating_sub(1);
                        let link_type = LinkType(iface.link_type);
                        for string in strings {
                            let kind = if string.code == OPT_IDB_NAME {
                                TextKind::InterfaceName {
                                    section,
                                    interface,
                                    link_type,
                                }
                            } else {
                                TextKind::InterfaceDescription {
                                    section,
                                    interface,
                                    link_type,
                                }
                            };
                            out.text(at + string.at as u64, kind, string.value);
                        }
                    }
                }
                Ok(Block::Packet {
                    interface,
                    ts,
                    orig_len,
                    data,
                    data_at,
                    strings,
                }) => {
                    let link_type = self
                        .section
                        .as_ref()
                        .and_then(|s| s.interfaces.get(interface))
                        .map_or(0, |i| i.link_type);
                    let packet = RawPacket {
                        ts,
                        link_type: LinkType(link_type),
                        interface,
                        orig_len,
                        data,
                        offset: at + data_at as u64,
                    };
                    if !out.packet(packet) {
                        self.stop(out, at, "more than 2^32 packets".into());
                        continue;
                    }
                    if let Some(index) = out.last_packet() {
                        for s in strings {
                            out.text(at + s.at as u64, TextKind::PacketComment { index }, s.value);
                        }
                    }
                }
                Ok(Block::NotAPacket) => {
                    if !self.custom_seen {
                        self.custom_seen = true;
                        out.warn(
                            at,
                            format!(
                                "the custom block at byte {at} holds no packet; Wireshark counts custom blocks as \
                                 frames, so packet numbers here skip them too"
                            ),
                        );
                    }
                    if !out.not_a_packet() {
                        self.stop(out, at, "more than 2^32 records".into());
                        continue;
                    }
                }
                Ok(Block::Other) => {}
            }
            pos += rounded;
        }
    }

    fn format(&self, out: &mut Out<'_, '_>) {
        out.format(Container::PcapNg, self.compression);
    }

    /// Wireshark stops reading at this error; so do we, saying so.
    fn stop(&mut self, out: &mut Out<'_, '_>, at: u64, why: String) {
        out.warn(
            at,
            format!("{why}; Wireshark stops reading the file here, and so does rstscope"),
        );
        self.done = true;
    }

    /// Any block but a Section Header Block; `b` is the whole block (length checked).
    fn block<'a>(&self, b: &'a [u8], block_type: u32, e: Endian) -> Result<Block<'a>, String> {
        let total = b.len() as u64;
        let too_short = |what: &str, min: u64| {
            if total < min {
                Err(format!(
                    "its total length {total} is less than the minimum {what} size {min}"
                ))
            } else {
                Ok(())
            }
        };
        let body_end = b.len().saturating_sub(4);
        let no_interfaces = Interfaces::default();
        let interfaces = self
            .section
            .as_ref()
            .map_or(&no_interfaces, |s| &s.interfaces);
        match block_type {
            BLOCK_IDB => {
                too_short("IDB", MIN_IDB)?;
                let link_type = e.u16(b, 8).unwrap_or(0);
                let snaplen = e.u32(b, 12).unwrap_or(0);
                let opts = options(
                    b.get(16..body_end).unwrap_or(&[]),
                    16,
                    e,
                    OptionsOf::Interface,
                )?;
                Ok(Block::Interface(
                    Interface {
                        link_type,
                        snaplen,
                        units_per_second: opts
                            .tsresol
                            .map_or(DEFAULT_UNITS_PER_SECOND, units_per_second),
                        tsoffset: opts.tsoffset.unwrap_or(0),
                    },
                    opts.strings,
                ))
            }
            BLOCK_EPB | BLOCK_PB => {
                let enhanced = block_type == BLOCK_EPB;
                let (what, min) = if enhanced {
                    ("EPB", MIN_EPB)
                } else {
                    ("PB", MIN_PB)
                };
                too_short(what, min)?;
                let interface = if enhanced {
                    e.u32(b, 8).unwrap_or(0)
                } else {
                    u32::from(e.u16(b, 8).unwrap_or(0))
                };
                let ts = (u64::from(e.u32(b, 12).unwrap_or(0)) << 32)
                    | u64::from(e.u32(b, 16).unwrap_or(0));
                let cap_len = e.u32(b, 20).unwrap_or(0);
                let orig_len = e.u32(b, 24).unwrap_or(0);
                let padded = u64::from(cap_len).div_ceil(4) * 4;
                if total < min + padded {
                    return Err(format!(
                        "its total length {total} is too small for {cap_len} bytes of packet data"
                    ));
                }
                let Some(iface) = interfaces.get(interface) else {
                    return Err(format!(
                        "interface index {interface} is not less than the section's interface count {}",
                        interfaces.len()
                    ));
                };
                let max = max_snaplen(iface.link_type);
                if cap_len > max {
                    return Err(format!("cap_len {cap_len} is larger than {max}"));
                }
                let data_end = 28 + cap_len as usize;
                let data = b.get(28..data_end).unwrap_or(&[]);
                let opts_start = 28 + padded as usize;
                let opts = options(
                    b.get(opts_start..body_end).unwrap_or(&[]),
                    opts_start,
                    e,
                    OptionsOf::Packet,
                )?;
                Ok(Block::Packet {
                    interface,
                    ts: packet_time(ts, iface),
                    orig_len,
                    data,
                    data_at: 28,
                    strings: opts.strings,
                })
            }
            BLOCK_SPB => {
                too_short("SPB", MIN_SPB)?;
                let orig_len = e.u32(b, 8).unwrap_or(0);
                let Some(iface) = interfaces.first() else {
                    return Err(
                        "a Simple Packet Block appears before any interface in its section".into(),
                    );
                };
                // The captured length is the packet length cut to the snaplen (0: no limit).
                let cap_len = if iface.snaplen != 0 {
                    orig_len.min(iface.snaplen)
                } else {
                    orig_len
                };
                let padded = u64::from(cap_len).div_ceil(4) * 4;
                if total < MIN_SPB + padded {
                    return Err(format!(
                        "its total length {total} is too small for {orig_len} bytes of packet data"
                    ));
                }
                let max = max_snaplen(iface.link_type);
                if cap_len > max {
                    return Err(format!("cap_len {cap_len} is larger than {max}"));
                }
                let data = b.get(12..12 + cap_len as usize).unwrap_or(&[]);
                // An SPB has no time stamp; Wireshark shows 0 (1970-01-01).
                Ok(Block::Packet {
                    interface: 0,
                    ts: super::Timestamp(0),
                    orig_len,
                    data,
                    data_at: 12,
                    strings: Vec::new(),
                })
            }
            BLOCK_NRB => {
                too_short("NRB", MIN_NRB)?;
                let body = b.get(8..body_end).unwrap_or(&[]);
                let mut pos = 0usize;
                while pos < body.len() {
                    let left = body.len() - pos;
                    if left < 4 {
                        return Err(format!(
                            "{left} bytes left in the block < NRB record header size 4"
                        ));
                    }
                    let rtype = e.u16(body, pos).unwrap_or(0);
                    let rlen = usize::from(e.u16(body, pos + 2).unwrap_or(0));
                    pos += 4;
                    let padded = rlen.div_ceil(4) * 4;
                    if body.len() - pos < padded {
                        return Err(format!(
                            "{} bytes left in the block < NRB record length + padding {padded}",
                            body.len() - pos
                        ));
                    }
                    match rtype {
                        0 => {
                            options(body.get(pos..).unwrap_or(&[]), 0, e, OptionsOf::Other)?;
                            break;
                        }
                        1 if rlen < 4 => {
                            return Err(format!(
                                "NRB record length for IPv4 record {rlen} < minimum length 4"
                            ))
                        }
                        2 if rlen < 16 => {
                            return Err(format!(
                                "NRB record length for IPv6 record {rlen} < minimum length 16"
                            ))
                        }
                        _ => pos += padded,
                    }
                }
                Ok(Block::Other)
            }
            BLOCK_ISB => {
                too_short("ISB", MIN_ISB)?;
                options(b.get(20..body_end).unwrap_or(&[]), 20, e, OptionsOf::Other)?;
                Ok(Block::Other)
            }
            BLOCK_DSB => {
                too_short("DSB", MIN_DSB)?;
                let secrets_len = e.u32(b, 12).unwrap_or(0);
                if secrets_len > MAX_SECRETS {
                    return Err(format!("secrets block is too large: {secrets_len}"));
                }
                let opts_start = 16 + (u64::from(secrets_len).div_ceil(4) * 4) as usize;
                if opts_start > body_end {
                    return Err(format!(
                        "its {secrets_len} bytes of secrets run past the end of the block"
                    ));
                }
                options(
                    b.get(opts_start..body_end).unwrap_or(&[]),
                    opts_start,
                    e,
                    OptionsOf::Other,
                )?;
                Ok(Block::Other)
            }
            BLOCK_CB_COPY | BLOCK_CB_NO_COPY => {
                too_short("CB", MIN_CB)?;
                Ok(Block::NotAPacket)
            }
            // Unknown, local-use, Sysdig and systemd-journal blocks: skipped.
            _ => Ok(Block::Other),
        }
    }
}

/// A Section Header Block; `b` is the whole block (length checked against `MIN_SHB`).
fn shb(b: &[u8], e: Endian) -> Result<Block<'_>, String> {
    let major = e.u16(b, 12).unwrap_or(0);
    let minor = e.u16(b, 14).unwrap_or(0);
    // Wireshark 4.0 reads versions 1.0 and 1.2 (1.2 is written by some tools) and no other.
    if !(major == 1 && (minor == 0 || minor == 2)) {
        return Err(format!("unknown section header version {major}.{minor}"));
    }
    let opts = options(
        b.get(24..b.len().saturating_sub(4)).unwrap_or(&[]),
        24,
        e,
        OptionsOf::Section,
    )?;
    Ok(Block::Section(
        Section {
            endian: e,
            interfaces: Interfaces::default(),
        },
        opts.strings,
    ))
}

/// A string option of a block: its code, where its value starts in the block, and the value.
struct Str<'a> {
    code: u16,
    at: usize,
    value: &'a [u8],
}

/// What the options of a block said that matters here.
#[derive(Default)]
struct Options<'a> {
    tsresol: Option<u8>,
    tsoffset: Option<i64>,
    /// The string options shown to the user, in order: comments of sections and packets,
    /// `shb_hardware`/`shb_os`/`shb_userappl`, `if_name`/`if_description`. A block holds at
    /// most 128 KiB of options, so at most 32 Ki of them.
    strings: Vec<Str<'a>>,
}

/// Walks a block's options with Wireshark's checks (`pcapng_process_options`): an option that
/// runs past the end of the block, or a known option with an impossible length, is an error.
/// `start` is where `b` begins in the block, so strings can say where they are.
fn options(mut b: &[u8], start: usize, e: Endian, of: OptionsOf) -> Result<Options<'_>, String> {
    let mut found = Options::default();
    let mut at = start;
    while !b.is_empty() {
        let (Some(code), Some(len)) = (e.u16(b, 0), e.u16(b, 2)) else {
            return Err("not enough data for an option header".into());
        };
        b = b.get(4..).unwrap_or(&[]);
        at += 4;
        let padded = usize::from(len).div_ceil(4) * 4;
        if padded > b.len() {
            return Err(format!(
                "not enough data to handle an option of length {len}"
            ));
        }
        let value = b.get(..usize::from(len)).unwrap_or(&[]);
        if code == OPT_ENDOFOPT {
            break;
        }
        if OPT_CUSTOM.contains(&code) {
            if len < 4 {
                return Err(format!("option length ({len}) too small for custom option"));
            }
        } else {
            let string = matches!(
                (of, code),
                (
                    OptionsOf::Section,
                    OPT_COMMENT | OPT_SHB_HARDWARE | OPT_SHB_OS | OPT_SHB_USERAPPL
                ) | (OptionsOf::Interface, OPT_IDB_NAME | OPT_IDB_DESCRIPTION)
                    | (OptionsOf::Packet, OPT_COMMENT)
            );
            if string {
                found.strings.push(Str { code, at, value });
            }
            match (of, code) {
                (OptionsOf::Interface, OPT_IDB_TSRESOL) if len == 1 => {
                    found.tsresol = value.first().copied()
                }
                (OptionsOf::Interface, OPT_IDB_TSOFFSET) if len == 8 => {
                    found.tsoffset = e.u64(value, 0).map(|v| v as i64)
                }
                (OptionsOf::Interface, OPT_IDB_FILTER) if len < 1 => {
                    return Err(format!("interface filter option length {len} is < 1"));
                }
                (OptionsOf::Packet, OPT_EPB_FLAGS | OPT_EPB_QUEUE) if len != 4 => {
                    return Err(format!(
                        "packet block option {code} has length {len}, not 4"
                    ));
                }
                (OptionsOf::Packet, OPT_EPB_DROPCOUNT | OPT_EPB_PACKETID) if len != 8 => {
                    return Err(format!(
                        "packet block option {code} has length {len}, not 8"
                    ));
                }
                (OptionsOf::Packet, OPT_EPB_HASH | OPT_EPB_VERDICT) if len < 1 => {
                    return Err(format!(
                        "packet block option {code} has length {len}, less than 1"
                    ));
                }
                // Linux TC and XDP verdicts carry exactly 8 bytes after the type byte.
                (OptionsOf::Packet, OPT_EPB_VERDICT)
                    if matches!(value.first(), Some(1 | 2)) && len != 9 =>
                {
                    return Err(format!("packet block verdict option length {len} is not 9"));
                }
                _ => {}
            }
        }
        b = b.get(padded..).unwrap_or(&[]);
        at += padded;
    }
    Ok(found)
}

/// if_tsresol to time units per second: 10^n, or 2^n when the top bit is set; Wireshark uses
/// u64::MAX for exponents it cannot represent.
fn units_per_second(tsresol: u8) -> u64 {
    let exponent = u32::from(tsresol & 0x7f);
    let base: u64 = if tsresol & 0x80 != 0 { 2 } else { 10 };
    base.checked_pow(exponent)
        .filter(|_| (base == 2 && exponent < 64) || (base == 10 && exponent < 20))
        .unwrap_or(u64::MAX)
}

/// A block's 64-bit time stamp in the interface's units, converted with Wireshark's integer
/// arithmetic (including its wrap-around for absurd resolutions).
fn packet_time(ts: u64, iface: &Interface) -> super::Timestamp {
    let units = iface.units_per_second.max(1);
    let secs = ((ts / units) as i64).wrapping_add(iface.tsoffset);
    let nanos = ((ts % units).wrapping_mul(1_000_000_000) / units) as i32;
    timestamp(secs, i64::from(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETHERNET: Interface = Interface {
        link_type: 1,
        snaplen: 0,
        units_per_second: DEFAULT_UNITS_PER_SECOND,
        tsoffset: 0,
    };

    #[test]
    fn interfaces_are_kept_as_runs_and_capped() {
        let raw = Interface {
            link_type: 101,
            ..ETHERNET
        };
        let mut t = Interfaces::default();
        assert!(t.get(0).is_none() && t.first().is_none());
        for iface in [ETHERNET, ETHERNET, raw, raw, raw, ETHERNET] {
            assert!(t.push(iface));
        }
        assert_eq!(t.len(), 6);
        assert_eq!(t.runs.len(), 3);
        let links: Vec<_> = (0..7).map(|i| t.get(i).map(|f| f.link_type)).collect();
        assert_eq!(
            links,
            [
                Some(1),
                Some(1),
                Some(101),
                Some(101),
                Some(101),
                Some(1),
                None
            ]
        );
        assert_eq!(t.get(u32::MAX), None);
        // A million identical interfaces take one run.
        let mut t = Interfaces::default();
        for _ in 0..1_000_000 {
            assert!(t.push(ETHERNET));
        }
        assert_eq!((t.len(), t.runs.len()), (1_000_000, 1));
        assert_eq!(t.get(999_999), Some(&ETHERNET));
        // Different ones stop at the cap.
        let mut t = Interfaces::default();
        for i in 0..MAX_INTERFACE_RUNS {
            let snaplen = u32::try_from(i).unwrap();
            assert!(t.push(Interface {
                snaplen,
                ..ETHERNET
            }));
        }
        assert!(!t.push(ETHERNET));
        assert!(t.push(Interface {
            snaplen: u32::try_from(MAX_INTERFACE_RUNS - 1).unwrap(),
            ..ETHERNET
        }));
        assert_eq!(t.len(), MAX_INTERFACE_RUNS as u64 + 1);
    }

    #[test]
    fn tsresol_powers_of_ten_and_two() {
        assert_eq!(units_per_second(6), 1_000_000);
        assert_eq!(units_per_second(9), 1_000_000_000);
        assert_eq!(units_per_second(0x80 | 10), 1024);
        assert_eq!(units_per_second(19), 10_000_000_000_000_000_000);
        assert_eq!(units_per_second(20), u64::MAX);
        assert_eq!(units_per_second(0x80 | 64), u64::MAX);
    }

    #[test]
    fn packet_time_splits_seconds_and_fraction() {
        let iface = Interface {
            link_type: 1,
            snaplen: 0,
            units_per_second: 1024,
            tsoffset: 0,
        };
        // 3.5 seconds in 1/1024 s units.
        assert_eq!(
            packet_time(3 * 1024 + 512, &iface),
            super::super::Timestamp(3_500_000_000)
        );
    }

    #[test]
    fn options_refuse_overruns() {
        let e = Endian::Little;
        // Comment option claiming 12 bytes with only 4 present.
        let b = [1, 0, 12, 0, b'a', b'b', b'c', b'd'];
        assert!(options(&b, 0, e, OptionsOf::Section).is_err());
        // Truncated option header.
        assert!(options(&[1, 0], 0, e, OptionsOf::Section).is_err());
        // End-of-options stops even with trailing bytes.
        let b = [0, 0, 0, 0, 0xff, 0xff];
        assert!(options(&b, 0, e, OptionsOf::Section).is_ok());
        // A flags option must be 4 bytes long.
        let b = [2, 0, 2, 0, 0, 0, 0, 0];
        assert!(options(&b, 0, e, OptionsOf::Packet).is_err());
        assert!(options(&b, 0, e, OptionsOf::Other).is_ok());
    }
}
