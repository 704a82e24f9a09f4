//! The per-packet findings of the sequence analysis, as a compact bitset.
//!
//! Names are Wireshark's `tcp.analysis.*` field names, so that a user can paste them into a
//! Wireshark display filter. Like those filter fields, the retransmission family nests: a fast
//! or spurious retransmission is also a `retransmission` (Wireshark adds the
//! `tcp.analysis.retransmission` expert item to both, `packet-tcp.c`,
//! `tcp_sequence_number_analysis_print_retransmission`).

use std::fmt;

/// A set of [`Findings`] constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Findings(pub u16);

/// Every finding with its Wireshark name, in the order they are listed.
const NAMES: [(Findings, &str); 15] = [
    (Findings::RETRANSMISSION, "retransmission"),
    (Findings::FAST_RETRANSMISSION, "fast_retransmission"),
    (Findings::SPURIOUS_RETRANSMISSION, "spurious_retransmission"),
    (Findings::OUT_OF_ORDER, "out_of_order"),
    (Findings::LOST_SEGMENT, "lost_segment"),
    (Findings::ACK_LOST_SEGMENT, "ack_lost_segment"),
    (Findings::DUPLICATE_ACK, "duplicate_ack"),
    (Findings::ZERO_WINDOW, "zero_window"),
    (Findings::ZERO_WINDOW_PROBE, "zero_window_probe"),
    (Findings::ZERO_WINDOW_PROBE_ACK, "zero_window_probe_ack"),
    (Findings::KEEP_ALIVE, "keep_alive"),
    (Findings::KEEP_ALIVE_ACK, "keep_alive_ack"),
    (Findings::WINDOW_UPDATE, "window_update"),
    (Findings::WINDOW_FULL, "window_full"),
    (Findings::REUSED_PORTS, "reused_ports"),
];

impl Findings {
    /// No finding.
    pub const NONE: Findings = Findings(0);
    /// `tcp.analysis.retransmission`: the segment does not advance the sequence number (set
    /// together with the fast and spurious variants).
    pub const RETRANSMISSION: Findings = Findings(1 << 0);
    /// `tcp.analysis.fast_retransmission`: a retransmission right after duplicate ACKs.
    pub const FAST_RETRANSMISSION: Findings = Findings(1 << 1);
    /// `tcp.analysis.spurious_retransmission`: resends data the receiver already acknowledged.
    pub const SPURIOUS_RETRANSMISSION: Findings = Findings(1 << 2);
    /// `tcp.analysis.out_of_order`: an earlier segment arriving shortly after a later one.
    pub const OUT_OF_ORDER: Findings = Findings(1 << 3);
    /// `tcp.analysis.lost_segment`: a gap before this segment ("previous segment not captured").
    pub const LOST_SEGMENT: Findings = Findings(1 << 4);
    /// `tcp.analysis.ack_lost_segment`: acknowledges data the capture never saw.
    pub const ACK_LOST_SEGMENT: Findings = Findings(1 << 5);
    /// `tcp.analysis.duplicate_ack`: repeats the previous ACK with nothing new.
    pub const DUPLICATE_ACK: Findings = Findings(1 << 6);
    /// `tcp.analysis.zero_window`: advertises a receive window of 0.
    pub const ZERO_WINDOW: Findings = Findings(1 << 7);
    /// `tcp.analysis.zero_window_probe`: one byte sent into a zero window.
    pub const ZERO_WINDOW_PROBE: Findings = Findings(1 << 8);
    /// `tcp.analysis.zero_window_probe_ack`: the answer to a zero window probe.
    pub const ZERO_WINDOW_PROBE_ACK: Findings = Findings(1 << 9);
    /// `tcp.analysis.keep_alive`: zero or one byte one below the next sequence number.
    pub const KEEP_ALIVE: Findings = Findings(1 << 10);
    /// `tcp.analysis.keep_alive_ack`: the answer to a keep-alive.
    pub const KEEP_ALIVE_ACK: Findings = Findings(1 << 11);
    /// `tcp.analysis.window_update`: only the window changed.
    pub const WINDOW_UPDATE: Findings = Findings(1 << 12);
    /// `tcp.analysis.window_full`: the segment fills the peer's advertised window.
    pub const WINDOW_FULL: Findings = Findings(1 << 13);
    /// `tcp.analysis.reused_ports`: a SYN (or SYN+ACK) with a new ISN on known ports.
    pub const REUSED_PORTS: Findings = Findings(1 << 14);

    /// No finding is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Every finding of `other` is set in `self`.
    pub const fn contains(self, other: Findings) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Adds the findings of `other`.
    pub fn insert(&mut self, other: Findings) {
        self.0 |= other.0;
    }

    /// Every finding, one at a time, with its Wireshark name.
    pub fn all() -> impl Iterator<Item = (Findings, &'static str)> {
        NAMES.iter().copied()
    }

    /// The Wireshark name of a single finding (`None` for a set of several, or none).
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(f, _)| *f == self).map(|(_, n)| *n)
    }

    /// The finding with this Wireshark name (`retransmission`, or `tcp.analysis.retransmission`).
    pub fn from_name(name: &str) -> Option<Findings> {
        let name = name.strip_prefix("tcp.analysis.").unwrap_or(name);
        NAMES.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// The names of the findings that are set, in the order of [`Findings::all`].
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
    }
}

impl std::ops::BitOr for Findings {
    type Output = Findings;
    fn bitor(self, rhs: Findings) -> Findings {
        Findings(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Findings {
    fn bitor_assign(&mut self, rhs: Findings) {
        self.0 |= rhs.0;
    }
}

/// Comma-separated names, empty for no finding (the `--packets` column).
impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct_bits() {
        let mut all = Findings::NONE;
        for (f, name) in Findings::all() {
            assert_eq!(f.0.count_ones(), 1, "{name}");
            assert!(!all.contains(f), "{name} reuses a bit");
            all |= f;
            assert_eq!(Findings::from_name(name), Some(f));
            assert_eq!(f.name(), Some(name));
            assert_eq!(
                Findings::from_name(&format!("tcp.analysis.{name}")),
                Some(f)
            );
        }
        assert_eq!(all.names().count(), 15);
        assert_eq!(Findings::from_name("nonsense"), None);
    }

    #[test]
    fn display_lists_names_in_order() {
        let f = Findings::FAST_RETRANSMISSION | Findings::RETRANSMISSION;
        assert_eq!(f.to_string(), "retransmission,fast_retransmission");
        assert_eq!(Findings::NONE.to_string(), "");
        assert!(Findings::NONE.is_empty());
        assert!(!Findings::NONE.contains(Findings::NONE));
    }
}
