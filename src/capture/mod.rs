//! Capture decoding: a push decoder that turns the bytes of a pcap, pcapng, gzip'd or
//! zstd-compressed capture, fed in chunks of any size, into packet records.
//!
//! CONTRACT (shared with the rest of the crate; the implementation lives in the submodules):
//! - `Decoder::new()`, then `feed(chunk, &mut sink)` any number of times with chunk
//!   boundaries anywhere, then `finish(&mut sink)`.
//! - The sink receives `Event`s: packets in file order, and warnings about what could not be
//!   read (with the byte offset). A fatal error (not a capture at all) is returned as `Err`
//!   from `feed`/`finish`; after it, further calls return the same error and emit nothing.
//! - Packet data borrows from the decoder's buffer, valid only during the callback.

use std::borrow::Cow;
use std::fmt;

/// Index of a record in the capture file, 0-based over every record (TCP or not).
/// The 1-based frame number Wireshark shows is `index + 1` and exists only in output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PacketIdx(pub u32);

impl PacketIdx {
    /// Wireshark's 1-based frame number.
    pub fn frame_number(self) -> u64 {
        u64::from(self.0) + 1
    }
}

/// A timestamp in nanoseconds since the Unix epoch (may be negative for odd captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A link-layer header type, as numbered by tcpdump.org's LINKTYPE_ registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// The container format, detected from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// Classic pcap. `nanos`: nanosecond timestamps; `modified`: Kuznetzov's modified format.
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
    },
    /// pcapng (byte order may change per section).
    PcapNg,
}

/// A compression wrapper around the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

/// One record read from the capture.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub index: PacketIdx,
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// The captured bytes (may be shorter than `orig_len`: cut by the snaplen).
    pub data: &'a [u8],
    /// Byte offset of `data` in the (decompressed) capture stream, so the bytes can be read
    /// back on demand.
    pub offset: u64,
}

/// Something in the file that could not be read, with where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Byte offset in the (decompressed) stream where the problem starts.
    pub offset: u64,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

/// The longest string from the file passed on, in bytes of UTF-8: longer ones are cut (at a
/// character boundary) and end with `…`. Comments and names are a line or two in real
/// captures; a pcapng option may hold 64 KiB, and a hostile file fills every one.
pub const MAX_TEXT_BYTES: usize = 1024;

/// Where a string of the file comes from (pcapng only; pcap files carry none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextKind {
    /// A Section Header Block's `opt_comment`: a comment on the file.
    SectionComment,
    /// `shb_hardware`: the machine that wrote the section.
    Hardware,
    /// `shb_os`: its operating system.
    Os,
    /// `shb_userappl`: the program that wrote it.
    Application,
    /// `if_name` of interface `interface` (numbered per section) of section `section`
    /// (0-based, in file order).
    InterfaceName {
        section: u32,
        interface: u32,
        link_type: LinkType,
    },
    /// `if_description` of an interface, numbered like [`TextKind::InterfaceName`].
    InterfaceDescription {
        section: u32,
        interface: u32,
        link_type: LinkType,
    },
    /// A packet block's `opt_comment`, on the packet `index` (sent right after it).
    PacketComment { index: PacketIdx },
}

/// A string the file carries (a comment, a name), as the file's author wrote it: read as
/// UTF-8 with invalid bytes replaced by U+FFFD, trailing NULs removed, and cut to
/// [`MAX_TEXT_BYTES`]. It is data, never markup: whoever shows it must escape it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a> {
    /// Byte offset in the (decompressed) stream of the option that holds it.
    pub offset: u64,
    pub kind: TextKind,
    pub text: Cow<'a, str>,
}

/// What the decoder reports to its sink.
#[derive(Debug)]
pub enum Event<'a> {
    /// The container was recognised (sent once, before any packet).
    Format {
        container: Container,
        compression: Option<Compression>,
    },
    Packet(Packet<'a>),
    Warning(Warning),
    /// A string of the file (a pcapng comment, name or description), sent when the block
    /// holding it has been read whole, so for any chunking at the same place among the events.
    Text(Text<'a>),
}

/// The file cannot be read as a capture at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// The first bytes are not a pcap, pcapng, gzip or zstd header.
    NotACapture { magic: [u8; 4] },
    /// The file ended before a complete file header.
    Empty,
    /// The compressed stream is corrupt before any packet could be read.
    Decompress(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotACapture { magic } => write!(
                f,
                "not a pcap or pcapng capture (the file starts with bytes {:02x} {:02x} {:02x} {:02x})",
                magic[0], magic[1], magic[2], magic[3]
            ),
            CaptureError::Empty => write!(f, "the file is empty or shorter than a capture file header"),
            CaptureError::Decompress(why) => write!(f, "the compressed capture cannot be decompressed: {why}"),
        }
    }
}

impl std::error::Error for CaptureError {}

// --- implementation ---

mod bytes;
mod compress;
mod pcap;
mod pcapng;
pub mod write;

use compress::{Gunzip, Unzstd};

/// How many decompressed bytes are produced before the container parser runs again, so
/// memory stays bounded by the largest record even for a highly compressed file.
const DECOMPRESS_STEP: usize = 64 * 1024;

/// Where the decoder is in the file.
enum Stage {
    /// Collecting the first bytes to recognise the compression and the container.
    Sniff(Vec<u8>),
    Plain,
    Gzip(Box<Gunzip>),
    Zstd(Box<Unzstd>),
    /// A fatal error, or the container parser gave up on the rest of the file.
    Stopped,
}

/// The push decoder. See the module documentation.
pub struct Decoder {
    stage: Stage,
    compression: Option<Compression>,
    parser: Option<Parser>,
    /// Decompressed bytes not yet consumed by the container parser.
    buf: Vec<u8>,
    /// Offset in the decompressed stream of `buf[0]`.
    base: u64,
    /// How many bytes `buf` must hold before the parser can make progress.
    need: usize,
    out: OutState,
    error: Option<CaptureError>,
    finished: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder waiting for the first bytes of a file.
    pub fn new() -> Self {
        Decoder {
            stage: Stage::Sniff(Vec::new()),
            compression: None,
            parser: None,
            buf: Vec::new(),
            base: 0,
            need: 0,
            out: OutState::default(),
            error: None,
            finished: false,
        }
    }

    /// Feeds the next chunk of the file.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), CaptureError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        if self.finished {
            return Ok(());
        }
        let result = self.feed_inner(chunk, false, sink);
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }

    /// Signals the end of the file: whatever is left over becomes a warning.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> Result<(), CaptureError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        if self.finished {
            return Ok(());
        }
        let result = self.feed_inner(&[], true, sink);
        self.finished = true;
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }

    /// How many records have been read so far: every packet, plus the pcapng custom blocks
    /// that Wireshark numbers as frames without a packet in them (packet indexes skip those,
    /// so they stay equal to Wireshark's frame numbers minus one). This is the number
    /// `capinfos`/tshark report as the file's frame count.
    pub fn records(&self) -> u64 {
        self.out.packets
    }

    fn fail(&mut self, err: CaptureError) {
        self.error = Some(err);
        self.stage = Stage::Stopped;
        self.buf = Vec::new();
    }

    fn feed_inner(
        &mut self,
        chunk: &[u8],
        eof: bool,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), CaptureError> {
        let mut input = chunk;
        if let Stage::Sniff(head) = &mut self.stage {
            // Keep at most 4 bytes aside: enough to recognise every magic number we know.
            let take = input.len().min(4 - head.len());
            head.extend_from_slice(&input[..take]);
            input = &input[take..];
            if head.len() < 4 && !eof {
                return Ok(());
            }
            let head = std::mem::take(head);
            self.stage = if head.starts_with(&[0x1f, 0x8b]) {
                self.compression = Some(Compression::Gzip);
                Stage::Gzip(Box::default())
            } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                self.compression = Some(Compression::Zstd);
                Stage::Zstd(Box::default())
            } else {
                Stage::Plain
            };
            // Replay the sniffed bytes through the chosen path.
            self.push_raw(&head, false, sink)?;
        }
        self.push_raw(input, eof, sink)
    }

    /// Passes raw (possibly compressed) bytes through the decompressor into the parser.
    fn push_raw(
        &mut self,
        mut input: &[u8],
        eof: bool,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), CaptureError> {
        loop {
            let (status, warnings) = match &mut self.stage {
                Stage::Sniff(_) | Stage::Stopped => return Ok(()),
                Stage::Plain if self.buf.is_empty() => {
                    // Straight from the caller's bytes: only an unread tail is copied.
                    let consumed = self.parse_bytes(input, eof, sink)?;
                    if !matches!(self.stage, Stage::Stopped) {
                        self.buf
                            .extend_from_slice(input.get(consumed..).unwrap_or(&[]));
                    }
                    return Ok(());
                }
                Stage::Plain => {
                    // Complete the buffered tail with what the parser says it needs (or a
                    // little more), then go round: once the tail is read, the rest of the
                    // input is read in place.
                    let want = match self.need.checked_sub(self.buf.len()) {
                        Some(short) if short > 0 => short,
                        _ => PLAIN_TOP_UP,
                    };
                    let (now, later) = input.split_at(want.min(input.len()));
                    self.buf.extend_from_slice(now);
                    input = later;
                    (compress::Status::NeedInput, Vec::new())
                }
                Stage::Gzip(z) => {
                    let (used, status) = z.push(input, eof, &mut self.buf, DECOMPRESS_STEP);
                    input = input.get(used..).unwrap_or(&[]);
                    (status, z.take_warnings())
                }
                Stage::Zstd(z) => {
                    let (used, status) = z.push(input, eof, &mut self.buf, DECOMPRESS_STEP);
                    input = input.get(used..).unwrap_or(&[]);
                    (status, z.take_warnings())
                }
            };
            if let compress::Status::Failed(why) = status {
                return self.decompress_failed(why, sink);
            }
            let more = matches!(status, compress::Status::HasOutput) || !input.is_empty();
            self.parse(!more && eof, sink)?;
            // After parsing, so a warning follows every packet decompressed before it,
            // however the input was cut.
            if !matches!(self.stage, Stage::Stopped) {
                for why in warnings {
                    let offset = self.base + self.buf.len() as u64;
                    self.out.warn(sink, offset, why);
                }
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// The compressed stream is corrupt or cut short: keep what was decompressed, then stop.
    fn decompress_failed(
        &mut self,
        why: String,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), CaptureError> {
        // First read what was decompressed (it may already show this is not a capture).
        self.parse(false, sink)?;
        if self.out.packets == 0 && !self.out.format_sent {
            return Err(CaptureError::Decompress(why));
        }
        // The container may itself have stopped reading before the damage (a corrupt record):
        // then what lies beyond was never going to be read, and chunked input, which would
        // never have decompressed that far, says nothing more either.
        if matches!(self.stage, Stage::Stopped) {
            return Ok(());
        }
        let offset = self.base + self.buf.len() as u64;
        self.parse(true, sink)?;
        self.out.warn(
            sink,
            offset,
            format!("{why}; nothing after this point can be read"),
        );
        self.stage = Stage::Stopped;
        self.buf = Vec::new();
        Ok(())
    }

    /// Runs the container parser over the buffered decompressed bytes.
    fn parse(&mut self, eof: bool, sink: &mut dyn FnMut(Event<'_>)) -> Result<(), CaptureError> {
        let mut buf = std::mem::take(&mut self.buf);
        let consumed = self.parse_bytes(&buf, eof, sink)?;
        if !matches!(self.stage, Stage::Stopped) {
            buf.drain(..consumed);
            self.buf = buf;
        }
        Ok(())
    }

    /// Runs the container parser over `bytes`, the decompressed stream from `self.base` on;
    /// returns how many of them it consumed (`self.base` moves on by as many).
    fn parse_bytes(
        &mut self,
        bytes: &[u8],
        eof: bool,
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<usize, CaptureError> {
        if matches!(self.stage, Stage::Stopped) || (bytes.len() < self.need && !eof) {
            return Ok(0);
        }
        if self.parser.is_none() {
            match detect(bytes, eof, self.compression)? {
                Some(parser) => self.parser = Some(parser),
                None => return Ok(0),
            }
        }
        let Some(parser) = &mut self.parser else {
            return Ok(0);
        };
        let parsed = parser.parse(
            bytes,
            self.base,
            eof,
            &mut Out {
                state: &mut self.out,
                sink,
            },
        )?;
        let consumed = parsed.consumed.min(bytes.len());
        self.base += consumed as u64;
        self.need = parsed.need;
        if parsed.done {
            self.stage = Stage::Stopped;
        }
        Ok(consumed)
    }
}

/// How much input is added at a time to an unread tail of an uncompressed capture when the
/// parser has not said how much it needs.
const PLAIN_TOP_UP: usize = 1 << 12;

/// Recognises the container from its first four bytes.
fn detect(
    head: &[u8],
    eof: bool,
    compression: Option<Compression>,
) -> Result<Option<Parser>, CaptureError> {
    let Some(magic) = head.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) else {
        return if eof {
            Err(CaptureError::Empty)
        } else {
            Ok(None)
        };
    };
    if let Some(p) = pcap::PcapParser::new(magic, compression) {
        return Ok(Some(Parser::Pcap(p)));
    }
    if magic == pcapng::SHB_TYPE_BYTES {
        return Ok(Some(Parser::PcapNg(pcapng::PcapNgParser::new(compression))));
    }
    Err(CaptureError::NotACapture { magic })
}

/// The container parser chosen by `detect`.
enum Parser {
    Pcap(pcap::PcapParser),
    PcapNg(pcapng::PcapNgParser),
}

impl Parser {
    fn parse(
        &mut self,
        input: &[u8],
        base: u64,
        eof: bool,
        out: &mut Out<'_, '_>,
    ) -> Result<Parsed, CaptureError> {
        match self {
            Parser::Pcap(p) => p.parse(input, base, eof, out),
            Parser::PcapNg(p) => p.parse(input, base, eof, out),
        }
    }
}

/// What a container parser did with the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed {
    /// Bytes fully read (records emitted or skipped) from the start of the input.
    consumed: usize,
    /// How many bytes, counted from `consumed`, the next step needs before it can progress.
    need: usize,
    /// Nothing more will be read from this file (end of file or an error Wireshark stops at).
    done: bool,
}

/// Counters shared by the parsers' output.
#[derive(Default)]
struct OutState {
    /// Records numbered so far (packets, and custom blocks Wireshark also numbers).
    packets: u64,
    format_sent: bool,
}

impl OutState {
    fn warn(&mut self, sink: &mut dyn FnMut(Event<'_>), offset: u64, message: String) {
        sink(Event::Warning(Warning { offset, message }));
    }
}

/// The parsers' view of the sink: numbers packets and sends events.
struct Out<'a, 's> {
    state: &'a mut OutState,
    sink: &'a mut (dyn FnMut(Event<'_>) + 's),
}

impl Out<'_, '_> {
    fn format(&mut self, container: Container, compression: Option<Compression>) {
        if !self.state.format_sent {
            self.state.format_sent = true;
            (self.sink)(Event::Format {
                container,
                compression,
            });
        }
    }

    /// Emits a packet; returns `false` when the index space is exhausted (2^32 records).
    fn packet(&mut self, packet: RawPacket<'_>) -> bool {
        let Ok(index) = u32::try_from(self.state.packets) else {
            return false;
        };
        self.state.packets += 1;
        (self.sink)(Event::Packet(Packet {
            index: PacketIdx(index),
            ts: packet.ts,
            link_type: packet.link_type,
            interface: packet.interface,
            orig_len: packet.orig_len,
            data: packet.data,
            offset: packet.offset,
        }));
        true
    }

    /// Counts a record Wireshark numbers as a frame but that holds no packet, so later
    /// packets keep Wireshark's frame numbers; returns `false` when the index space is exhausted.
    fn not_a_packet(&mut self) -> bool {
        if u32::try_from(self.state.packets).is_err() {
            return false;
        }
        self.state.packets += 1;
        true
    }

    fn warn(&mut self, offset: u64, message: String) {
        (self.sink)(Event::Warning(Warning { offset, message }));
    }

    /// The index of the packet sent last (right after `packet` returned `true`).
    fn last_packet(&self) -> Option<PacketIdx> {
        let last = self.state.packets.checked_sub(1)?;
        u32::try_from(last).ok().map(PacketIdx)
    }

    /// Sends a string of the file, read as [`Text`] says.
    fn text(&mut self, offset: u64, kind: TextKind, bytes: &[u8]) {
        (self.sink)(Event::Text(Text {
            offset,
            kind,
            text: text_of(bytes),
        }));
    }
}

/// A string option's bytes as text: lossy UTF-8, trailing NULs removed (some writers
/// terminate strings), cut at a character boundary to [`MAX_TEXT_BYTES`] plus `…`.
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    // Lossy UTF-8 never makes a string shorter, so the first MAX_TEXT_BYTES + 3 bytes (room for
    // a character that straddles the limit) are all that can be kept; the rest is not read.
    let head = bytes.get(..MAX_TEXT_BYTES + 3).unwrap_or(bytes);
    let text = match String::from_utf8_lossy(head) {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_end_matches('\0')),
        Cow::Owned(s) => Cow::Owned(s.trim_end_matches('\0').to_string()),
    };
    if text.len() <= MAX_TEXT_BYTES && head.len() == bytes.len() {
        return text;
    }
    let cut = text.floor_char_boundary(MAX_TEXT_BYTES);
    let mut owned = text.get(..cut).unwrap_or_default().to_string();
    owned.push('…');
    Cow::Owned(owned)
}

/// A packet as a parser found it, before it is numbered.
struct RawPacket<'a> {
    ts: Timestamp,
    link_type: LinkType,
    interface: u32,
    orig_len: u32,
    data: &'a [u8],
    offset: u64,
}

/// The most bytes Wireshark 4.0 accepts in one packet record of a link type
/// (`wtap_max_snaplen_for_encap` in wiretap/wtap.c): 256 KiB except D-Bus and USB (128 MiB)
/// and EBHSCR (8 MiB).
fn max_snaplen(link_type: u16) -> u32 {
    const STANDARD: u32 = 262_144; // WTAP_MAX_PACKET_SIZE_STANDARD
    const DBUS_USB: u32 = 128 * 1024 * 1024; // WTAP_MAX_PACKET_SIZE_DBUS / _USBPCAP
    const EBHSCR: u32 = 8 * 1024 * 1024; // WTAP_MAX_PACKET_SIZE_EBHSCR
    match link_type {
        // LINKTYPE_DBUS, USBPCAP, USB_LINUX, USB_LINUX_MMAPPED, USB_DARWIN, USB_FREEBSD
        231 | 249 | 189 | 220 | 266 | 186 => DBUS_USB,
        279 => EBHSCR,
        _ => STANDARD,
    }
}

/// Seconds plus nanoseconds as one count of nanoseconds, saturating at the i64 range
/// (about the years 1677 to 2262).
fn timestamp(secs: i64, nanos: i64) -> Timestamp {
    Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

#[cfg(test)]
mod tests;
