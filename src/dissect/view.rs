//! A checked view of one protocol layer's bytes, with the two lengths Wireshark tracks for
//! every buffer: what was captured, and what the packet had on the wire (its "reported" length).

/// The bytes of one layer, from its first byte to the end of what the layer may use.
///
/// `bytes` is what was captured; `reported` is how long the layer really was (the on-wire
/// length, cut down by the length fields of the layers around it), as Wireshark's
/// `tvb_reported_length`. `bytes.len() <= reported` except for invalid length fields, where
/// `bytes` is cut to `reported` too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    bytes: &'a [u8],
    reported: usize,
    /// Offset of `bytes[0]` in the captured record, or `None` for a reassembled datagram
    /// (whose bytes live in the reassembler, not in the record).
    offset: Option<usize>,
}

impl<'a> View<'a> {
    /// The whole captured record; `orig_len` is its length on the wire.
    pub(crate) fn record(data: &'a [u8], orig_len: u32) -> View<'a> {
        let orig = usize::try_from(orig_len).unwrap_or(usize::MAX);
        // A record whose original length is smaller than what was captured is invalid; trust
        // the captured length, as Wireshark does.
        View {
            bytes: data,
            reported: orig.max(data.len()),
            offset: Some(0),
        }
    }

    /// A reassembled datagram's payload.
    pub(crate) fn reassembled(bytes: &'a [u8]) -> View<'a> {
        View {
            bytes,
            reported: bytes.len(),
            offset: None,
        }
    }

    /// The captured bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Wireshark's reported length of this layer.
    pub(crate) fn reported(&self) -> usize {
        self.reported
    }

    /// Offset of the first byte in the record, if the bytes come from the record.
    pub(crate) fn offset(&self) -> Option<usize> {
        self.offset
    }

    pub(crate) fn u8(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    pub(crate) fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u16_le(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&self, at: usize) -> Option<u32> {
        self.array::<4>(at).map(u32::from_be_bytes)
    }

    pub(crate) fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        let b = self.bytes.get(at..at.checked_add(N)?)?;
        b.try_into().ok()
    }

    /// Whether the first `len` bytes were all captured.
    pub(crate) fn has(&self, len: usize) -> bool {
        self.bytes.len() >= len
    }

    /// The layer after a header of `len` bytes (empty if the capture or the packet ends first).
    pub(crate) fn skip(&self, len: usize) -> View<'a> {
        let start = len.min(self.bytes.len());
        View {
            bytes: &self.bytes[start..],
            reported: self.reported.saturating_sub(len),
            offset: self.offset.and_then(|o| o.checked_add(len)),
        }
    }

    /// Cuts the layer to `len` bytes when a length field says it is shorter than reported
    /// (Wireshark's `set_actual_length`: it only ever shrinks).
    pub(crate) fn limit(&self, len: usize) -> View<'a> {
        if len >= self.reported {
            return *self;
        }
        View {
            bytes: &self.bytes[..len.min(self.bytes.len())],
            reported: len,
            offset: self.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let v = View::record(&[1, 2, 3], 10);
        assert_eq!(v.u16(1), Some(0x0203));
        assert_eq!(v.u16(2), None);
        assert_eq!(v.u32(0), None);
        assert_eq!(v.u16(usize::MAX), None);
        assert_eq!(v.reported(), 10);
    }

    #[test]
    fn skip_and_limit_track_both_lengths() {
        let v = View::record(&[0; 8], 100);
        let s = v.skip(6);
        assert_eq!(
            (s.bytes().len(), s.reported(), s.offset()),
            (2, 94, Some(6))
        );
        let s = v.skip(20);
        assert_eq!(
            (s.bytes().len(), s.reported(), s.offset()),
            (0, 80, Some(20))
        );
        let l = v.limit(4);
        assert_eq!((l.bytes().len(), l.reported()), (4, 4));
        let l = v.limit(1000);
        assert_eq!((l.bytes().len(), l.reported()), (8, 100));
    }
}
