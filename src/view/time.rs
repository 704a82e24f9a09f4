//! Times for people, in UTC or in a local time zone given as its offset from UTC.
//!
//! A capture does not record the time zone it was taken in, so "local" can only mean the
//! viewer's (the browser's) time zone: the page asks the browser for the offset at each time
//! (it changes with daylight saving) and passes it here. These functions stay pure.

use crate::capture::Timestamp;
use crate::report::rfc3339;

/// Which clock times are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// Coordinated Universal Time: what the capture stores, and the default.
    #[default]
    Utc,
    /// The viewer's local time zone.
    Local,
}

impl Zone {
    /// A short name for a toggle or a column heading.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Utc => "UTC",
            Zone::Local => "Local",
        }
    }

    /// The other zone.
    pub fn toggled(self) -> Zone {
        match self {
            Zone::Utc => Zone::Local,
            Zone::Local => Zone::Utc,
        }
    }
}

/// `UTC`, or `UTC+01:00` for an offset of 60 minutes east of UTC.
pub fn offset_text(offset_minutes: i32) -> String {
    if offset_minutes == 0 {
        return "UTC".to_string();
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
}

/// `(date, time of day with microseconds)` of `ns` (since the Unix epoch) shifted by
/// `offset_minutes`: `("2026-01-02", "04:04:05.123456")`.
fn parts(ns: i64, offset_minutes: i32) -> (String, String) {
    let shifted = ns.saturating_add(i64::from(offset_minutes).saturating_mul(60_000_000_000));
    let text = rfc3339(Timestamp(shifted));
    let (date, time) = text.split_once('T').unwrap_or((&text, ""));
    // Microseconds are enough to tell packets apart at a glance.
    (date.to_string(), time.get(..15).unwrap_or(time).to_string())
}

/// The time of day: `04:04:05.123456` (the zone is said once, in a heading or a tooltip).
pub fn time_of_day(ns: i64, offset_minutes: i32) -> String {
    parts(ns, offset_minutes).1
}

/// Date, time and zone: `2026-01-02 04:04:05.123456 UTC+01:00`.
pub fn date_time(ns: i64, offset_minutes: i32) -> String {
    let (date, time) = parts(ns, offset_minutes);
    format!("{date} {time} {}", offset_text(offset_minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::timeline::parse_rfc3339;

    const T: &str = "2026-01-02T03:04:05.123456789Z";

    #[test]
    fn utc_is_the_report_time_cut_to_microseconds() {
        let ns = parse_rfc3339(T).unwrap();
        assert_eq!(time_of_day(ns, 0), "03:04:05.123456");
        assert_eq!(date_time(ns, 0), "2026-01-02 03:04:05.123456 UTC");
    }

    #[test]
    fn offsets_shift_the_clock_and_the_date() {
        let ns = parse_rfc3339(T).unwrap();
        assert_eq!(date_time(ns, 60), "2026-01-02 04:04:05.123456 UTC+01:00");
        // West of UTC the date goes back.
        assert_eq!(date_time(ns, -330), "2026-01-01 21:34:05.123456 UTC-05:30");
        assert_eq!(time_of_day(ns, 13 * 60 + 45), "16:49:05.123456");
    }

    #[test]
    fn extreme_times_do_not_panic() {
        for ns in [i64::MIN, -1, 0, i64::MAX] {
            for offset in [i32::MIN, -720, 0, 840, i32::MAX] {
                let _ = date_time(ns, offset);
            }
        }
        assert_eq!(date_time(0, 0), "1970-01-01 00:00:00.000000 UTC");
    }

    #[test]
    fn zone_toggles() {
        assert_eq!(Zone::default(), Zone::Utc);
        assert_eq!(Zone::Utc.toggled(), Zone::Local);
        assert_eq!(Zone::Local.toggled().name(), "UTC");
    }
}
