//! Small formatting helpers for the sentences: durations, clock times, TTL hop estimates.

use crate::capture::Timestamp;

/// Initial TTLs in common use: 64 (Linux, macOS, BSDs), 128 (Windows), 255 (network gear,
/// Solaris), and 32 (old Windows 9x), as in p0f's signature database.
const INITIAL_TTLS: [u8; 4] = [32, 64, 128, 255];

/// A duration for a sentence: "35 µs", "0.4 ms", "20 ms", "2.7 s", "4 min 10 s", "5 days".
pub fn duration(ns: i64) -> String {
    let ns = ns.max(0);
    if ns == 0 {
        "0 s".into()
    } else if ns < 1_000_000 {
        format!("{} µs", ns / 1_000)
    } else if ns < 10_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else if ns < 1_000_000_000 {
        format!("{} ms", ns / 1_000_000)
    } else if ns < 60_000_000_000 && ns % 1_000_000_000 == 0 {
        format!("{} s", ns / 1_000_000_000)
    } else if ns < 60_000_000_000 {
        format!("{:.1} s", ns as f64 / 1e9)
    } else if ns < 3_600_000_000_000 {
        let secs = ns / 1_000_000_000;
        match secs % 60 {
            0 => format!("{} min", secs / 60),
            s => format!("{} min {s} s", secs / 60),
        }
    } else if ns < 172_800_000_000_000 {
        format!("{:.1} h", ns as f64 / 3.6e12)
    } else {
        format!("{} days", ns / 86_400_000_000_000)
    }
}

/// A wall-clock time of day in UTC, to the millisecond: "12:00:01.234".
pub fn clock(ts: Timestamp) -> String {
    let ms = ts.0.div_euclid(1_000_000);
    let day_ms = ms.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1_000 % 60,
        day_ms % 1_000
    )
}

/// How far the sender of a packet with this TTL probably is: the hops from the nearest common
/// initial TTL at or above it.
pub fn hops_from(ttl: u8) -> String {
    let initial = INITIAL_TTLS
        .into_iter()
        .find(|i| *i >= ttl)
        .unwrap_or(u8::MAX);
    let hops = initial - ttl;
    let s = if hops == 1 { "" } else { "s" };
    format!("{hops} hop{s} away if it started at {initial}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(35_000), "35 µs");
        assert_eq!(duration(387_000), "387 µs");
        assert_eq!(duration(3_200_000), "3.2 ms");
        assert_eq!(duration(20_300_000), "20 ms");
        assert_eq!(duration(2_700_000_000), "2.7 s");
        assert_eq!(duration(250_000_000_000), "4 min 10 s");
        assert_eq!(duration(240_000_000_000), "4 min");
        assert_eq!(duration(7_200_000_000_000), "2.0 h");
        assert_eq!(duration(432_000_000_000_000), "5 days");
        assert_eq!(duration(-5), "0 s");
        assert_eq!(duration(5_000_000_000), "5 s");
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        // 2026-01-02T12:00:01.234Z
        let ts = Timestamp(1_767_355_201_234_000_000);
        assert_eq!(clock(ts), "12:00:01.234");
        assert_eq!(clock(Timestamp(-1_000_000)), "23:59:59.999");
    }

    #[test]
    fn hops_from_common_initial_ttls() {
        assert_eq!(hops_from(64), "0 hops away if it started at 64");
        assert_eq!(hops_from(63), "1 hop away if it started at 64");
        assert_eq!(hops_from(118), "10 hops away if it started at 128");
        assert_eq!(hops_from(255), "0 hops away if it started at 255");
    }
}
