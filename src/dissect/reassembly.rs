//! IP fragment reassembly, as Wireshark does it with its default preferences
//! (`ip.defragment` and `ipv6.defragment` on): the reassembled datagram is dissected in the
//! record whose fragment completes it; until then the fragments carry no TCP.
//!
//! Memory is bounded: a datagram still incomplete after [`MAX_AGE`] records is dropped, and so
//! is the oldest one when more than [`MAX_PENDING`] datagrams or [`MAX_BYTES`] bytes wait.

use std::net::IpAddr;

/// Records after which an incomplete datagram is given up. Wireshark keeps fragments for the
/// whole capture; a bounded analyzer cannot, and real fragment trains arrive within a few
/// records of each other (RFC 791 suggests a reassembly timeout of about 15 seconds).
pub const MAX_AGE: u64 = 10_000;

/// Incomplete datagrams kept at once (the oldest goes first).
pub const MAX_PENDING: usize = 1024;

/// Bytes of fragment data kept at once (the oldest datagram goes first).
pub const MAX_BYTES: usize = 16 << 20;

/// Largest datagram payload accepted: an IPv4 fragment offset is at most 8191 * 8 and a
/// fragment at most 65535 bytes long (IPv6 has the same limits without jumbograms).
const MAX_DATAGRAM: usize = 8191 * 8 + 65535;

/// Identifies the fragments of one datagram (RFC 791: source, destination, protocol and
/// identification; RFC 8200: source, destination and identification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragKey {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) id: u32,
    /// IPv4 protocol (0 for IPv6, whose fragments carry the next header themselves).
    pub(crate) protocol: u8,
}

/// One fragment's place in the datagram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fragment<'a> {
    /// Offset of `data` in the datagram's payload, in bytes.
    pub(crate) offset: usize,
    /// More fragments follow.
    pub(crate) more: bool,
    pub(crate) data: &'a [u8],
}

#[derive(Debug)]
struct Pending {
    key: FragKey,
    /// Record count when the first fragment arrived.
    since: u64,
    /// (offset, bytes), in arrival order.
    parts: Vec<(usize, Vec<u8>)>,
    /// Payload length, known once the last fragment (more = false) arrived.
    total: Option<usize>,
    bytes: usize,
}

/// Holds the fragments of incomplete datagrams. See the module documentation.
#[derive(Debug, Default)]
pub struct Reassembler {
    pending: Vec<Pending>,
    bytes: usize,
    /// Records seen (advanced by [`Reassembler::tick`]).
    clock: u64,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of datagrams waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Advances the clock by one record and drops the datagrams that waited too long.
    pub(crate) fn tick(&mut self) {
        self.clock = self.clock.wrapping_add(1);
        let clock = self.clock;
        let mut freed = 0;
        self.pending.retain(|p| {
            let keep = clock.wrapping_sub(p.since) <= MAX_AGE;
            if !keep {
                freed += p.bytes;
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
    }

    /// Adds a fragment; returns the datagram's payload if this fragment completes it.
    pub(crate) fn add(&mut self, key: FragKey, fragment: Fragment<'_>) -> Option<Vec<u8>> {
        let end = fragment.offset.checked_add(fragment.data.len())?;
        if end > MAX_DATAGRAM {
            return None;
        }
        let at = match self.pending.iter().position(|p| p.key == key) {
            Some(at) => at,
            None => {
                self.pending.push(Pending {
                    key,
                    since: self.clock,
                    parts: Vec::new(),
                    total: None,
                    bytes: 0,
                });
                self.pending.len() - 1
            }
        };
        let entry = &mut self.pending[at];
        entry.parts.push((fragment.offset, fragment.data.to_vec()));
        entry.bytes += fragment.data.len();
        self.bytes += fragment.data.len();
        if !fragment.more {
            entry.total = Some(end);
        }
        if let Some(datagram) = complete(entry) {
            let done = self.pending.swap_remove(at);
            self.bytes = self.bytes.saturating_sub(done.bytes);
            return Some(datagram);
        }
        self.evict();
        None
    }

    fn evict(&mut self) {
        while self.pending.len() > MAX_PENDING
            || (self.bytes > MAX_BYTES && !self.pending.is_empty())
        {
            let oldest = self.pending.remove(0);
            self.bytes = self.bytes.saturating_sub(oldest.bytes);
        }
    }
}

/// The datagram's payload if the parts cover `0..total` without a hole. Overlapping bytes
/// are taken from the fragment that arrived first.
fn complete(entry: &Pending) -> Option<Vec<u8>> {
    let total = entry.total?;
    let mut spans: Vec<(usize, usize)> =
        entry.parts.iter().map(|(o, d)| (*o, o + d.len())).collect();
    spans.sort_unstable();
    let mut covered = 0;
    for (start, end) in spans {
        if start > covered {
            return None;
        }
        covered = covered.max(end);
    }
    if covered < total {
        return None;
    }
    let mut out = vec![0; total];
    let mut filled = vec![false; total];
    for (offset, data) in &entry.parts {
        for (i, byte) in data.iter().enumerate() {
            let at = offset + i;
            if at < total && !filled[at] {
                out[at] = *byte;
                filled[at] = true;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const KEY: FragKey = FragKey {
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        id: 42,
        protocol: 6,
    };

    #[test]
    fn in_and_out_of_order() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.add(
                KEY,
                Fragment {
                    offset: 8,
                    more: false,
                    data: &[3; 4]
                }
            ),
            None
        );
        assert_eq!(r.pending(), 1);
        let done = r.add(
            KEY,
            Fragment {
                offset: 0,
                more: true,
                data: &[1; 8],
            },
        );
        assert_eq!(done, Some(vec![1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3]));
        assert_eq!((r.pending(), r.bytes), (0, 0));
    }

    #[test]
    fn a_hole_keeps_it_pending_and_age_drops_it() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.add(
                KEY,
                Fragment {
                    offset: 0,
                    more: true,
                    data: &[1; 8]
                }
            ),
            None
        );
        assert_eq!(
            r.add(
                KEY,
                Fragment {
                    offset: 16,
                    more: false,
                    data: &[1; 8]
                }
            ),
            None
        );
        for _ in 0..=MAX_AGE {
            r.tick();
        }
        assert_eq!((r.pending(), r.bytes), (0, 0));
    }

    #[test]
    fn different_keys_do_not_mix() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.add(
                KEY,
                Fragment {
                    offset: 0,
                    more: true,
                    data: &[1; 8]
                }
            ),
            None
        );
        let other = FragKey { id: 43, ..KEY };
        assert_eq!(
            r.add(
                other,
                Fragment {
                    offset: 8,
                    more: false,
                    data: &[1; 8]
                }
            ),
            None
        );
        assert_eq!(r.pending(), 2);
    }

    #[test]
    fn memory_is_bounded() {
        let mut r = Reassembler::new();
        for id in 0..(MAX_PENDING as u32 + 10) {
            r.add(
                FragKey { id, ..KEY },
                Fragment {
                    offset: 0,
                    more: true,
                    data: &[0; 8],
                },
            );
        }
        assert_eq!(r.pending(), MAX_PENDING);
        assert_eq!(
            r.add(
                KEY,
                Fragment {
                    offset: MAX_DATAGRAM,
                    more: false,
                    data: &[0; 8]
                }
            ),
            None
        );
    }
}
