//! TCP sequence numbers: 32-bit serial numbers compared with wrapping (RFC 1982 / RFC 9293
//! section 3.4), never with `<` on raw `u32`s.
//!
//! Two values are compared through their signed distance `a - b` taken modulo 2^32 and read as
//! an `i32`: `a` is after `b` when that distance is positive. This is the usual TCP reading of
//! RFC 1982; it is well defined for any pair except the one exactly 2^31 apart, which this
//! module calls "before" (the distance reads as `i32::MIN`), as Linux's `before()`/`after()` do.
//!
//! [`SeqUnwrapper`] turns the sequence numbers of one direction into a 64-bit relative space
//! that does not wrap, the way Zeek's TCP endpoints do: the first value seen is the base (0),
//! and each later value is placed at the point nearest the highest one seen so far.

use std::fmt;

/// A raw 32-bit TCP sequence or acknowledgement number.
///
/// There is deliberately no `PartialOrd`/`Ord`: serial numbers have no total order. Use
/// [`SeqNum::is_after`], [`SeqNum::is_before`], [`SeqNum::diff`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The raw value, as carried in the TCP header.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// `self + n`, wrapping at 2^32.
    #[must_use]
    pub const fn wrapping_add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// `self - n`, wrapping at 2^32.
    #[must_use]
    pub const fn wrapping_sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }

    /// `self + delta` for a signed offset, wrapping at 2^32 (only the low 32 bits of `delta`
    /// matter).
    #[must_use]
    pub const fn offset(self, delta: i64) -> SeqNum {
        // Truncation is the point: arithmetic modulo 2^32.
        SeqNum(self.0.wrapping_add(delta as u32))
    }

    /// The signed serial distance `self - other`, in `-2^31 ..= 2^31 - 1`.
    ///
    /// Positive when `self` is after `other`; `other.offset(self.diff(other).into()) == self`
    /// always holds.
    pub const fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// [`SeqNum::diff`] widened to `i64`, for callers that go on adding to it.
    pub const fn distance_from(self, other: SeqNum) -> i64 {
        self.diff(other) as i64
    }

    /// The unsigned forward distance from `other` to `self` (how many numbers one must step
    /// forward from `other` to reach `self`), in `0 ..= 2^32 - 1`.
    pub const fn forward_from(self, other: SeqNum) -> u32 {
        self.0.wrapping_sub(other.0)
    }

    /// `self` comes strictly after `other` in serial order.
    pub const fn is_after(self, other: SeqNum) -> bool {
        self.diff(other) > 0
    }

    /// `self` comes strictly before `other` in serial order.
    pub const fn is_before(self, other: SeqNum) -> bool {
        self.diff(other) < 0
    }

    /// `self` is `other` or after it.
    pub const fn is_at_or_after(self, other: SeqNum) -> bool {
        self.diff(other) >= 0
    }

    /// `self` is `other` or before it.
    pub const fn is_at_or_before(self, other: SeqNum) -> bool {
        self.diff(other) <= 0
    }

    /// The later of the two in serial order (`self` when they are equal).
    #[must_use]
    pub const fn max(self, other: SeqNum) -> SeqNum {
        if other.is_after(self) {
            other
        } else {
            self
        }
    }

    /// The earlier of the two in serial order.
    #[must_use]
    pub const fn min(self, other: SeqNum) -> SeqNum {
        if other.is_before(self) {
            other
        } else {
            self
        }
    }

    /// `self` lies in the half-open window `[start, start + len)` (wrapping).
    pub const fn in_window(self, start: SeqNum, len: u32) -> bool {
        self.forward_from(start) < len
    }
}

impl From<u32> for SeqNum {
    fn from(raw: u32) -> Self {
        SeqNum(raw)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Unwraps the sequence numbers of one direction into a 64-bit space relative to the first
/// value seen (Zeek's `TCP_Endpoint` relative sequence space).
///
/// The first value unwraps to 0. Every later value is placed at the position nearest (within
/// ±2^31) to the highest position seen so far, so the space grows past 2^32 without wrapping,
/// and a late retransmission from before the first value comes out negative rather than near
/// 2^32. No subtraction here can underflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqUnwrapper {
    /// (base, highest raw value seen, its relative position), once a value has been seen.
    state: Option<UnwrapState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UnwrapState {
    base: SeqNum,
    high: SeqNum,
    high_rel: i64,
}

impl SeqUnwrapper {
    /// An unwrapper that has seen nothing yet.
    pub const fn new() -> Self {
        SeqUnwrapper { state: None }
    }

    /// An unwrapper whose relative 0 is `base` (e.g. the ISN read off a SYN).
    pub const fn with_base(base: SeqNum) -> Self {
        SeqUnwrapper {
            state: Some(UnwrapState {
                base,
                high: base,
                high_rel: 0,
            }),
        }
    }

    /// The raw value that unwraps to 0, once one has been seen.
    pub fn base(&self) -> Option<SeqNum> {
        self.state.map(|s| s.base)
    }

    /// The highest relative position seen so far.
    pub fn highest(&self) -> Option<i64> {
        self.state.map(|s| s.high_rel)
    }

    /// Unwraps `seq` and remembers it (it may raise the highest position).
    pub fn unwrap(&mut self, seq: SeqNum) -> i64 {
        match &mut self.state {
            None => {
                *self = Self::with_base(seq);
                0
            }
            Some(s) => {
                let rel = s.high_rel + seq.distance_from(s.high);
                if rel > s.high_rel {
                    s.high = seq;
                    s.high_rel = rel;
                }
                rel
            }
        }
    }

    /// Unwraps `seq` without remembering it (for acknowledgement numbers checked against this
    /// direction, or for looking ahead). Before any value was seen, `seq` would be the base: 0.
    pub fn peek(&self, seq: SeqNum) -> i64 {
        match self.state {
            None => 0,
            Some(s) => s.high_rel + seq.distance_from(s.high),
        }
    }

    /// The raw sequence number at relative position `rel` (the inverse of [`Self::unwrap`]).
    /// Before any value was seen the base is taken as 0.
    pub fn rewrap(&self, rel: i64) -> SeqNum {
        let base = self.state.map_or(SeqNum(0), |s| s.base);
        base.offset(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NEAR_TOP: SeqNum = SeqNum(u32::MAX - 9);

    #[test]
    fn comparison_wraps() {
        let after_wrap = NEAR_TOP.wrapping_add(20);
        assert_eq!(after_wrap, SeqNum(10));
        assert!(after_wrap.is_after(NEAR_TOP));
        assert!(NEAR_TOP.is_before(after_wrap));
        assert!(!NEAR_TOP.is_after(after_wrap));
        assert_eq!(after_wrap.diff(NEAR_TOP), 20);
        assert_eq!(NEAR_TOP.diff(after_wrap), -20);
        assert_eq!(after_wrap.forward_from(NEAR_TOP), 20);
        assert_eq!(NEAR_TOP.forward_from(after_wrap), u32::MAX - 19);
        assert_eq!(NEAR_TOP.max(after_wrap), after_wrap);
        assert_eq!(after_wrap.max(NEAR_TOP), after_wrap);
        assert_eq!(NEAR_TOP.min(after_wrap), NEAR_TOP);
        assert!(NEAR_TOP.is_at_or_after(NEAR_TOP) && NEAR_TOP.is_at_or_before(NEAR_TOP));
    }

    #[test]
    fn sub_and_offset_wrap_both_ways() {
        assert_eq!(SeqNum(5).wrapping_sub(10), SeqNum(u32::MAX - 4));
        assert_eq!(SeqNum(5).offset(-10), SeqNum(u32::MAX - 4));
        assert_eq!(NEAR_TOP.offset(10), SeqNum(0));
        assert_eq!(SeqNum(0).offset(i64::from(u32::MAX) + 2), SeqNum(1));
    }

    #[test]
    fn half_space_apart_is_before() {
        let a = SeqNum(0);
        let b = SeqNum(1 << 31);
        // Exactly 2^31 apart: each reads as before the other (distance i32::MIN).
        assert!(a.is_before(b) && b.is_before(a));
        assert!(!a.is_after(b) && !b.is_after(a));
    }

    #[test]
    fn window_wraps() {
        assert!(SeqNum(3).in_window(NEAR_TOP, 20));
        assert!(NEAR_TOP.in_window(NEAR_TOP, 1));
        assert!(!NEAR_TOP.in_window(NEAR_TOP, 0));
        assert!(!SeqNum(10).in_window(NEAR_TOP, 20));
    }

    #[test]
    fn unwrapper_crosses_2_pow_32() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(NEAR_TOP), 0);
        assert_eq!(u.unwrap(NEAR_TOP.wrapping_add(1000)), 1000);
        // A retransmission of the first byte after the wrap is still at 0.
        assert_eq!(u.unwrap(NEAR_TOP), 0);
        // Data from before the first value seen comes out negative, not near 2^32.
        assert_eq!(u.unwrap(NEAR_TOP.wrapping_sub(100)), -100);
        assert_eq!(u.highest(), Some(1000));
        assert_eq!(u.base(), Some(NEAR_TOP));
        assert_eq!(u.rewrap(1000), SeqNum(990));
    }

    #[test]
    fn unwrapper_goes_past_several_wraps() {
        let mut u = SeqUnwrapper::with_base(NEAR_TOP);
        let step = 1u32 << 30;
        let mut seq = NEAR_TOP;
        for i in 1..=12i64 {
            seq = seq.wrapping_add(step);
            assert_eq!(u.unwrap(seq), i * i64::from(step));
        }
        assert_eq!(u.peek(seq.wrapping_sub(5)), 12 * i64::from(step) - 5);
        assert_eq!(u.rewrap(12 * i64::from(step)), seq);
    }

    #[test]
    fn peek_does_not_move_the_anchor() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.peek(SeqNum(7)), 0);
        u.unwrap(SeqNum(100));
        assert_eq!(
            u.peek(SeqNum(3_000_000_000)),
            i64::from(3_000_000_000u32 - 100) - (1i64 << 32)
        );
        assert_eq!(u.highest(), Some(0));
    }

    proptest! {
        #[test]
        fn add_then_diff_round_trips(a in any::<u32>(), n in 0u32..=(i32::MAX as u32)) {
            let a = SeqNum(a);
            let b = a.wrapping_add(n);
            prop_assert_eq!(i64::from(b.diff(a)), i64::from(n));
            prop_assert_eq!(b.wrapping_sub(n), a);
            prop_assert_eq!(b.forward_from(a), n);
            prop_assert!(n == 0 || b.is_after(a));
            prop_assert!(n == 0 || a.is_before(b));
        }

        #[test]
        fn diff_is_antisymmetric(a in any::<u32>(), b in any::<u32>()) {
            let (a, b) = (SeqNum(a), SeqNum(b));
            let d = a.diff(b);
            if d != i32::MIN {
                prop_assert_eq!(b.diff(a), -d);
                prop_assert_eq!(a.is_after(b), b.is_before(a));
            }
            prop_assert_eq!(b.offset(i64::from(d)), a);
            prop_assert!(!(a.is_after(b) && a.is_before(b)));
            prop_assert_eq!(a == b, d == 0);
        }

        #[test]
        fn max_min_pick_one_of_the_two(a in any::<u32>(), b in any::<u32>()) {
            let (a, b) = (SeqNum(a), SeqNum(b));
            let hi = a.max(b);
            let lo = a.min(b);
            prop_assert!(hi == a || hi == b);
            prop_assert!(lo == a || lo == b);
            prop_assert!(hi.is_at_or_after(lo) || a.diff(b) == i32::MIN);
        }

        #[test]
        fn unwrap_follows_a_walk(start in any::<u32>(), steps in prop::collection::vec(-100_000i64..1_000_000_000, 1..64)) {
            let mut u = SeqUnwrapper::new();
            let start = SeqNum(start);
            prop_assert_eq!(u.unwrap(start), 0);
            let mut pos = 0i64;
            let mut high = 0i64;
            for step in steps {
                // Stay within 2^31 of the highest position, as real traffic does.
                let next = (pos + step).max(high - 1_000_000);
                pos = next;
                high = high.max(pos);
                let seq = start.offset(pos);
                prop_assert_eq!(u.unwrap(seq), pos);
                prop_assert_eq!(u.rewrap(pos), seq);
            }
            prop_assert_eq!(u.highest(), Some(high));
        }
    }
}
