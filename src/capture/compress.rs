//! Push decompressors for gzip (RFC 1952, several members allowed, as zlib's gzread and
//! Wireshark read them) and zstd (several frames; skippable frames skipped).
//!
//! Both take input in pieces of any size and produce at most `step` bytes of output per call,
//! so the caller can parse between calls and memory stays bounded. zstd is decoded block by
//! block with ruzstd's `FrameDecoder`: a block (at most 128 KiB) is buffered until complete.

use flate2::{Crc, Decompress, FlushDecompress};
use ruzstd::decoding::FrameDecoder;

/// What a push left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// All input was used; more input (or the end of the file) is needed.
    NeedInput,
    /// Output was cut at `step`: call again (with the remaining input, possibly none).
    HasOutput,
    /// The stream is corrupt or cut short; nothing more can be decompressed.
    Failed(String),
}

const GZIP_FHCRC: u8 = 0x02;
const GZIP_FEXTRA: u8 = 0x04;
const GZIP_FNAME: u8 = 0x08;
const GZIP_FCOMMENT: u8 = 0x10;

/// Where the gzip decoder is inside the current member.
enum GzPhase {
    /// Collecting the 10-byte fixed header.
    Fixed,
    /// Collecting the 2-byte FEXTRA length.
    ExtraLen,
    /// Skipping this many FEXTRA bytes.
    Extra(usize),
    /// Skipping a zero-terminated file name.
    Name,
    /// Skipping a zero-terminated comment.
    Comment,
    /// Skipping the 2-byte header CRC.
    HeaderCrc,
    Deflate,
    /// Collecting the 8-byte trailer (CRC-32 and length).
    Trailer,
    /// Between members: only another gzip header may follow.
    Between,
    /// Between members, after a first magic byte (0x1f, kept in `field`): waiting for the second.
    Magic,
    /// Trailing bytes after the last member are ignored.
    Garbage,
}

/// A streaming gzip decoder on top of flate2's raw-deflate `Decompress`.
pub(crate) struct Gunzip {
    phase: GzPhase,
    /// Bytes of a fixed-size field collected so far.
    field: Vec<u8>,
    flags: u8,
    inflate: Decompress,
    crc: Crc,
    members: u32,
    /// Compressed bytes consumed, for messages.
    consumed: u64,
    warnings: Vec<String>,
    scratch: Vec<u8>,
}

impl Default for Gunzip {
    fn default() -> Self {
        Gunzip {
            phase: GzPhase::Fixed,
            field: Vec::new(),
            flags: 0,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            members: 0,
            consumed: 0,
            warnings: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl Gunzip {
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Decompresses from `input`, appending at most about `step` bytes to `out`. Returns how
    /// many input bytes were used.
    pub(crate) fn push(
        &mut self,
        input: &[u8],
        eof: bool,
        out: &mut Vec<u8>,
        step: usize,
    ) -> (usize, Status) {
        let mut pos = 0usize;
        let mut produced = 0usize;
        loop {
            let rest = input.get(pos..).unwrap_or(&[]);
            if rest.is_empty() && !matches!(self.phase, GzPhase::Deflate) {
                return (pos, self.at_end_of_input(eof));
            }
            match self.phase {
                GzPhase::Fixed | GzPhase::ExtraLen | GzPhase::HeaderCrc | GzPhase::Trailer => {
                    let want = match self.phase {
                        GzPhase::Fixed => 10,
                        GzPhase::Trailer => 8,
                        _ => 2,
                    };
                    let take = rest.len().min(want - self.field.len());
                    self.field.extend_from_slice(&rest[..take]);
                    pos += take;
                    self.consumed += take as u64;
                    if self.field.len() == want {
                        let member_end = matches!(self.phase, GzPhase::Trailer);
                        if let Err(why) = self.field_done() {
                            return (pos, Status::Failed(why));
                        }
                        if member_end {
                            // Let the caller parse this member's output before anything
                            // that follows (its warnings, the next member).
                            return (pos, Status::HasOutput);
                        }
                    }
                }
                GzPhase::Extra(left) => {
                    let take = rest.len().min(left);
                    pos += take;
                    self.consumed += take as u64;
                    self.phase = if left == take {
                        self.after_extra()
                    } else {
                        GzPhase::Extra(left - take)
                    };
                }
                GzPhase::Name | GzPhase::Comment => match rest.iter().position(|&b| b == 0) {
                    Some(nul) => {
                        pos += nul + 1;
                        self.consumed += nul as u64 + 1;
                        self.phase = if matches!(self.phase, GzPhase::Name) {
                            self.after_name()
                        } else {
                            self.after_comment()
                        };
                    }
                    None => {
                        pos += rest.len();
                        self.consumed += rest.len() as u64;
                    }
                },
                GzPhase::Deflate => {
                    if produced >= step {
                        return (pos, Status::HasOutput);
                    }
                    self.scratch.resize(step.max(1), 0);
                    let (before_in, before_out) =
                        (self.inflate.total_in(), self.inflate.total_out());
                    let result =
                        self.inflate
                            .decompress(rest, &mut self.scratch, FlushDecompress::None);
                    let used = (self.inflate.total_in() - before_in) as usize;
                    let made = (self.inflate.total_out() - before_out) as usize;
                    pos += used;
                    self.consumed += used as u64;
                    let made_bytes = self.scratch.get(..made).unwrap_or(&[]);
                    self.crc.update(made_bytes);
                    out.extend_from_slice(made_bytes);
                    produced += made;
                    match result {
                        Ok(flate2::Status::StreamEnd) => {
                            self.phase = GzPhase::Trailer;
                            self.field.clear();
                        }
                        Ok(_) => {
                            if used == 0 && made == 0 {
                                // No progress: the decoder wants more input.
                                return (pos, self.at_end_of_input(eof));
                            }
                        }
                        Err(e) => {
                            return (
                                pos,
                                Status::Failed(format!(
                                    "the gzip data is corrupt near compressed byte {} ({e})",
                                    self.consumed
                                )),
                            );
                        }
                    }
                }
                GzPhase::Between | GzPhase::Magic => {
                    // The two magic bytes decide, however the input is cut between them: a
                    // lone first byte is kept until the second arrives.
                    if matches!(self.phase, GzPhase::Between) {
                        self.field.clear();
                    }
                    let mut magic = self.field.iter().chain(rest).take(2);
                    match (magic.next(), magic.next()) {
                        (Some(0x1f), Some(0x8b)) => {
                            self.phase = GzPhase::Fixed;
                        }
                        (Some(0x1f), None) => {
                            self.field.push(0x1f);
                            pos += 1;
                            self.consumed += 1;
                            self.phase = GzPhase::Magic;
                        }
                        _ => self.trailing_garbage(),
                    }
                }
                GzPhase::Garbage => {
                    pos += rest.len();
                }
            }
        }
    }

    /// What follows the last member is not another member: it is ignored, as zlib ignores it.
    fn trailing_garbage(&mut self) {
        self.warnings.push(
            "the data after the end of the gzip stream is not gzip; it is ignored".to_string(),
        );
        self.field.clear();
        self.phase = GzPhase::Garbage;
    }

    /// Input ran out in the current phase.
    fn at_end_of_input(&self, eof: bool) -> Status {
        if !eof {
            return Status::NeedInput;
        }
        match self.phase {
            GzPhase::Between | GzPhase::Garbage => Status::NeedInput,
            GzPhase::Fixed if self.members > 0 && self.field.is_empty() => Status::NeedInput,
            _ => Status::Failed(format!(
                "the gzip stream is cut short after {} compressed bytes (the file is incomplete)",
                self.consumed
            )),
        }
    }

    fn field_done(&mut self) -> Result<(), String> {
        match self.phase {
            GzPhase::Fixed => {
                let f = &self.field;
                if f.first() != Some(&0x1f) || f.get(1) != Some(&0x8b) || f.get(2) != Some(&8) {
                    return Err(format!(
                        "the gzip member at compressed byte {} has a bad header",
                        self.consumed.saturating_sub(10)
                    ));
                }
                self.flags = f.get(3).copied().unwrap_or(0);
                self.field.clear();
                self.inflate.reset(false);
                self.crc.reset();
                self.phase = if self.flags & GZIP_FEXTRA != 0 {
                    GzPhase::ExtraLen
                } else {
                    self.after_extra()
                };
            }
            GzPhase::ExtraLen => {
                let n = usize::from(u16::from_le_bytes([
                    self.field.first().copied().unwrap_or(0),
                    self.field.get(1).copied().unwrap_or(0),
                ]));
                self.field.clear();
                self.phase = if n == 0 {
                    self.after_extra()
                } else {
                    GzPhase::Extra(n)
                };
            }
            GzPhase::HeaderCrc => {
                self.field.clear();
                self.phase = GzPhase::Deflate;
            }
            GzPhase::Trailer => {
                let word = |i: usize| {
                    u32::from_le_bytes(
                        [0, 1, 2, 3].map(|k| self.field.get(i + k).copied().unwrap_or(0)),
                    )
                };
                let (crc, size) = (word(0), word(4));
                if crc != self.crc.sum() || size != self.crc.amount() {
                    self.warnings.push(format!(
                        "gzip member {} fails its CRC or length check (the data may be damaged)",
                        self.members + 1
                    ));
                }
                self.members += 1;
                self.field.clear();
                self.phase = GzPhase::Between;
            }
            _ => {}
        }
        Ok(())
    }

    fn after_extra(&self) -> GzPhase {
        if self.flags & GZIP_FNAME != 0 {
            GzPhase::Name
        } else {
            self.after_name()
        }
    }

    fn after_name(&self) -> GzPhase {
        if self.flags & GZIP_FCOMMENT != 0 {
            GzPhase::Comment
        } else {
            self.after_comment()
        }
    }

    fn after_comment(&self) -> GzPhase {
        if self.flags & GZIP_FHCRC != 0 {
            GzPhase::HeaderCrc
        } else {
            GzPhase::Deflate
        }
    }
}

/// The zstd frame magic number (little-endian on the wire).
const ZSTD_MAGIC: u32 = 0xFD2F_B528;
/// Skippable frames: magic numbers 0x184D2A50 to 0x184D2A5F.
const ZSTD_SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
const ZSTD_SKIPPABLE: u32 = 0x184D_2A50;
/// The largest block a zstd frame may hold.
const ZSTD_MAX_BLOCK: usize = 128 * 1024;

enum ZPhase {
    /// Expecting a frame (or skippable frame) header.
    FrameStart,
    /// Skipping this many bytes of a skippable frame.
    Skip(u64),
    /// Inside a frame: the next thing is a block header.
    Block { checksum: bool },
}

/// A streaming zstd decoder: frames and blocks are cut out of the input here, and each complete
/// unit is handed to ruzstd.
pub(crate) struct Unzstd {
    phase: ZPhase,
    /// Compressed bytes of the current unit collected so far.
    pending: Vec<u8>,
    decoder: FrameDecoder,
    /// Decompressed bytes not yet handed out.
    ready: Vec<u8>,
    consumed: u64,
    frames: u32,
    warnings: Vec<String>,
}

impl Default for Unzstd {
    fn default() -> Self {
        Unzstd {
            phase: ZPhase::FrameStart,
            pending: Vec::new(),
            decoder: FrameDecoder::new(),
            ready: Vec::new(),
            consumed: 0,
            frames: 0,
            warnings: Vec::new(),
        }
    }
}

impl Unzstd {
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    pub(crate) fn push(
        &mut self,
        input: &[u8],
        eof: bool,
        out: &mut Vec<u8>,
        step: usize,
    ) -> (usize, Status) {
        let mut pos = 0usize;
        loop {
            // Hand out decoded bytes first, `step` at a time.
            if !self.ready.is_empty() {
                let n = self.ready.len().min(step.max(1));
                out.extend(self.ready.drain(..n));
                if !self.ready.is_empty() {
                    return (pos, Status::HasOutput);
                }
                if n >= step {
                    return (pos, Status::HasOutput);
                }
            }
            let rest = input.get(pos..).unwrap_or(&[]);
            let need = match self.unit_len() {
                Ok(need) => need,
                Err(why) => return (pos, Status::Failed(why)),
            };
            let Some(need) = need else {
                // Cannot tell the unit's size yet: take one more byte.
                if rest.is_empty() {
                    return (pos, self.at_end_of_input(eof));
                }
                self.take(rest, 1, &mut pos);
                continue;
            };
            if let ZPhase::Skip(left) = self.phase {
                if rest.is_empty() {
                    return (pos, self.at_end_of_input(eof));
                }
                let n = (rest.len() as u64).min(left) as usize;
                pos += n;
                self.consumed += n as u64;
                self.phase = if left == n as u64 {
                    ZPhase::FrameStart
                } else {
                    ZPhase::Skip(left - n as u64)
                };
                continue;
            }
            if self.pending.len() < need {
                if rest.is_empty() {
                    return (pos, self.at_end_of_input(eof));
                }
                let want = need - self.pending.len();
                self.take(rest, want, &mut pos);
                continue;
            }
            if let Err(why) = self.unit_done() {
                return (pos, Status::Failed(why));
            }
        }
    }

    fn take(&mut self, rest: &[u8], want: usize, pos: &mut usize) {
        let n = rest.len().min(want);
        self.pending.extend_from_slice(&rest[..n]);
        *pos += n;
        self.consumed += n as u64;
    }

    fn at_end_of_input(&self, eof: bool) -> Status {
        let clean =
            matches!(self.phase, ZPhase::FrameStart) && self.pending.is_empty() && self.frames > 0;
        if !eof || clean {
            Status::NeedInput
        } else {
            Status::Failed(format!(
                "the zstd stream is cut short after {} compressed bytes (the file is incomplete)",
                self.consumed
            ))
        }
    }

    /// How many bytes the current unit has in all, if that is known from `pending` yet.
    fn unit_len(&self) -> Result<Option<usize>, String> {
        let p = &self.pending;
        match self.phase {
            ZPhase::Skip(_) => Ok(Some(0)),
            ZPhase::FrameStart => {
                let Some(magic) = p
                    .get(..4)
                    .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]))
                else {
                    return Ok(None);
                };
                if magic & ZSTD_SKIPPABLE_MASK == ZSTD_SKIPPABLE {
                    return Ok(Some(8));
                }
                if magic != ZSTD_MAGIC {
                    return Err(format!(
                        "the zstd data at compressed byte {} is not a zstd frame",
                        self.consumed.saturating_sub(p.len() as u64)
                    ));
                }
                let Some(&fhd) = p.get(4) else {
                    return Ok(None);
                };
                let single_segment = fhd & 0x20 != 0;
                let dict_len = [0, 1, 2, 4][usize::from(fhd & 0x03)];
                let fcs_len = match fhd >> 6 {
                    0 => usize::from(single_segment),
                    1 => 2,
                    2 => 4,
                    _ => 8,
                };
                Ok(Some(5 + usize::from(!single_segment) + dict_len + fcs_len))
            }
            ZPhase::Block { checksum } => {
                let Some(h) = p.get(..3) else { return Ok(None) };
                let h = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
                let last = h & 1 != 0;
                let size = (h >> 3) as usize;
                let wire = match (h >> 1) & 3 {
                    0 | 2 => size,
                    1 => 1,
                    _ => {
                        return Err(format!(
                            "the zstd block near compressed byte {} has a reserved type",
                            self.consumed
                        ))
                    }
                };
                if size > ZSTD_MAX_BLOCK {
                    return Err(format!(
                        "the zstd block near compressed byte {} is larger than 128 KiB",
                        self.consumed
                    ));
                }
                Ok(Some(3 + wire + if last && checksum { 4 } else { 0 }))
            }
        }
    }

    /// `pending` holds a complete unit: decode it.
    fn unit_done(&mut self) -> Result<(), String> {
        let unit = std::mem::take(&mut self.pending);
        match self.phase {
            ZPhase::FrameStart => {
                let magic =
                    u32::from_le_bytes([0, 1, 2, 3].map(|i| unit.get(i).copied().unwrap_or(0)));
                if magic & ZSTD_SKIPPABLE_MASK == ZSTD_SKIPPABLE {
                    let len =
                        u32::from_le_bytes([4, 5, 6, 7].map(|i| unit.get(i).copied().unwrap_or(0)));
                    self.phase = ZPhase::Skip(u64::from(len));
                    if len == 0 {
                        self.phase = ZPhase::FrameStart;
                    }
                    return Ok(());
                }
                let checksum = unit.get(4).is_some_and(|fhd| fhd & 0x04 != 0);
                self.decoder.reset(&unit[..]).map_err(|e| {
                    format!(
                        "the zstd frame header near compressed byte {} is bad ({e})",
                        self.consumed
                    )
                })?;
                self.phase = ZPhase::Block { checksum };
            }
            ZPhase::Block { .. } => {
                self.decoder.decode_from_to(&unit, &mut []).map_err(|e| {
                    format!(
                        "the zstd data is corrupt near compressed byte {} ({e})",
                        self.consumed
                    )
                })?;
                if let Some(bytes) = self.decoder.collect() {
                    self.ready.extend_from_slice(&bytes);
                }
                if self.decoder.is_finished() {
                    self.frames += 1;
                    self.phase = ZPhase::FrameStart;
                }
            }
            ZPhase::Skip(_) => self.phase = ZPhase::FrameStart,
        }
        Ok(())
    }
}
