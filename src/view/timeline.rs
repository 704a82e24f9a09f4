//! The capture's timeline: every connection as a bar over time and every reset connection's end
//! as a mark, and the time range a person brushes on it (which filters the connection table).
//!
//! Bars are packed into at most [`MAX_ROWS`] rows (first row where they fit), and bars of one
//! row that touch at the drawing's resolution are merged, so a capture of 100,000 connections
//! draws at most a few thousand rectangles.

use serde::{Deserialize, Serialize};

use crate::report::Report;
use crate::view::table::resets;

/// A time range, in nanoseconds since the capture's first packet (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TimeRange {
    pub from_ns: i64,
    pub to_ns: i64,
}

impl TimeRange {
    /// Whether `[start, end]` overlaps the range.
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        start <= self.to_ns && end >= self.from_ns
    }
}

/// Rows of bars: enough to see parallel connections, few enough to stay a strip.
pub const MAX_ROWS: usize = 24;
/// Height of a row, in pixels.
pub const ROW_HEIGHT: f64 = 6.0;
/// Bars of one row closer than this many pixels are drawn as one.
const MERGE_PX: f64 = 1.0;
/// Height of the axis under the bars.
pub const AXIS_HEIGHT: f64 = 18.0;

/// One bar (or several merged connections) on a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    pub row: usize,
    /// Connections drawn in this bar.
    pub connections: u32,
    /// One of them was reset.
    pub reset: bool,
}

/// The timeline's geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub width: f64,
    pub rows: usize,
    pub bars: Vec<Bar>,
    /// x of each reset connection's end (deduplicated per pixel).
    pub marks: Vec<f64>,
    /// The capture's first packet, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// From the first packet to the last.
    pub span_ns: i64,
}

impl Timeline {
    /// Height of the drawing.
    pub fn height(&self) -> f64 {
        self.rows.max(1) as f64 * ROW_HEIGHT + AXIS_HEIGHT
    }

    /// x of a time (nanoseconds since the first packet).
    pub fn x_of(&self, ns: i64) -> f64 {
        if self.span_ns <= 0 {
            return 0.0;
        }
        (ns as f64 / self.span_ns as f64 * self.width).clamp(0.0, self.width)
    }

    /// The time range between two x positions (either order).
    pub fn range(&self, x0: f64, x1: f64) -> TimeRange {
        let to_ns = |x: f64| {
            let x = if x.is_finite() { x } else { 0.0 };
            (x.clamp(0.0, self.width.max(1e-9)) / self.width.max(1e-9) * self.span_ns as f64) as i64
        };
        let (a, b) = (to_ns(x0.min(x1)), to_ns(x0.max(x1)));
        TimeRange {
            from_ns: a,
            to_ns: b,
        }
    }

    /// Axis ticks: x and the time since the first packet they mark, about every 100 px.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        let n = (self.width / 100.0).floor().max(1.0) as i64;
        (0..=n)
            .map(|i| {
                let ns = self.span_ns / n * i;
                (self.x_of(ns), crate::view::ladder::duration_text(ns))
            })
            .collect()
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 UTC time as the report writes them
/// (`2026-01-02T03:04:05.123456789Z`); `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':');
    let (h, min, s): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    // Up to nine digits of fraction, read as nanoseconds (once per connection: no `format!`).
    let digits = frac.get(..frac.len().min(9))?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ns = digits
        .bytes()
        .fold(0_i64, |n, b| n * 10 + i64::from(b - b'0'))
        * 10_i64.pow(9 - digits.len() as u32);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = ((days * 24 + h) * 60 + min) * 60 + s;
    secs.checked_mul(1_000_000_000)?.checked_add(ns)
}

/// When each connection starts and ends, in nanoseconds since the capture's first packet.
pub fn connection_spans(report: &Report) -> Vec<Option<(i64, i64)>> {
    let start = report.capture.first_time.as_deref().and_then(parse_rfc3339);
    report
        .connections
        .iter()
        .map(|c| {
            let s = parse_rfc3339(&c.start)? - start?;
            Some((s, s + (c.duration * 1e9) as i64))
        })
        .collect()
}

/// The timeline of a report, `width` pixels wide.
pub fn timeline(report: &Report, width: f64) -> Timeline {
    let width = if width.is_finite() && width > 0.0 {
        width
    } else {
        1.0
    };
    let start_ns = report
        .capture
        .first_time
        .as_deref()
        .and_then(parse_rfc3339)
        .unwrap_or(0);
    let span_ns = (report.capture.duration * 1e9) as i64;
    let mut t = Timeline {
        width,
        rows: 0,
        bars: Vec::new(),
        marks: Vec::new(),
        start_ns,
        span_ns,
    };
    let spans = connection_spans(report);
    let mut order: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].is_some()).collect();
    order.sort_by_key(|&i| spans[i].map(|s| s.0));
    // The x where each row is free again, and each row's bar being extended.
    let mut row_end: Vec<f64> = Vec::new();
    let mut open: Vec<Option<Bar>> = Vec::new();
    for i in order {
        let Some((s, e)) = spans[i] else { continue };
        let (x0, x1) = (t.x_of(s), t.x_of(e));
        let reset = resets(&report.connections[i]) > 0;
        let row = row_end.iter().position(|end| *end < x0).unwrap_or_else(|| {
            if row_end.len() < MAX_ROWS {
                row_end.push(f64::NEG_INFINITY);
                open.push(None);
                row_end.len() - 1
            } else {
                // Every row is busy: the one that frees first.
                (0..row_end.len())
                    .min_by(|&a, &b| row_end[a].total_cmp(&row_end[b]))
                    .unwrap_or(0)
            }
        });
        row_end[row] = row_end[row].max(x1);
        match &mut open[row] {
            Some(bar) if x0 <= bar.x + bar.width + MERGE_PX => {
                bar.width = bar.width.max(x1 - bar.x);
                bar.connections += 1;
                bar.reset |= reset;
            }
            slot => {
                if let Some(done) = slot.take() {
                    t.bars.push(done);
                }
                *slot = Some(Bar {
                    x: x0,
                    width: x1 - x0,
                    row,
                    connections: 1,
                    reset,
                });
            }
        }
        if reset && t.marks.last().is_none_or(|m| (m - x1).abs() >= MERGE_PX) {
            t.marks.push(x1);
        }
    }
    t.bars.extend(open.into_iter().flatten());
    t.marks.sort_by(f64::total_cmp);
    t.marks.dedup_by(|a, b| (*a - *b).abs() < MERGE_PX);
    t.rows = row_end.len();
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CaptureReport, ConnectionReport, DirectionReport, SCHEMA_VERSION};

    fn conn(start_s: u32, duration: f64, rst: u32) -> ConnectionReport {
        ConnectionReport {
            start: format!("2026-01-02T03:04:{start_s:02}.500000000Z"),
            duration,
            from_server: DirectionReport {
                rst,
                ..DirectionReport::default()
            },
            ..ConnectionReport::default()
        }
    }

    fn report(connections: Vec<ConnectionReport>) -> Report {
        Report {
            schema: SCHEMA_VERSION,
            summary: Default::default(),
            capture: CaptureReport {
                first_time: Some("2026-01-02T03:04:00.500000000Z".into()),
                duration: 10.0,
                ..CaptureReport::default()
            },
            connections,
        }
    }

    #[test]
    fn parses_the_reports_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000000000Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-01-02T03:04:05.123456789Z"),
            Some(1_767_323_045_123_456_789)
        );
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00Z"),
            Some(951_868_800_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00.5Z"),
            Some(951_868_800_500_000_000)
        );
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00.+5Z"), None);
        assert_eq!(parse_rfc3339("not a time"), None);
        assert_eq!(parse_rfc3339(""), None);
    }

    proptest::proptest! {
        /// Every time the report writes reads back as itself.
        #[test]
        fn reads_back_the_times_the_report_writes(ns: i64) {
            let text = crate::report::rfc3339(crate::capture::Timestamp(ns));
            proptest::prop_assert_eq!(parse_rfc3339(&text), Some(ns));
        }
    }

    #[test]
    fn bars_pack_into_rows_and_resets_are_marked() {
        let r = report(vec![conn(0, 2.0, 0), conn(1, 2.0, 1), conn(5, 1.0, 0)]);
        let t = timeline(&r, 1000.0);
        assert_eq!(t.rows, 2, "the first two overlap");
        assert_eq!(t.bars.len(), 3);
        let second = t.bars.iter().find(|b| b.reset).unwrap();
        assert_eq!(second.row, 1);
        assert!((second.x - 100.0).abs() < 1e-6 && (second.width - 200.0).abs() < 1e-6);
        assert_eq!(t.marks.len(), 1);
        assert!((t.marks[0] - 300.0).abs() < 1e-6);
        let range = t.range(250.0, 90.0);
        assert_eq!((range.from_ns, range.to_ns), (900_000_000, 2_500_000_000));
        assert_eq!(t.ticks().len(), 11);
        let spans = connection_spans(&r);
        assert_eq!(spans[1], Some((1_000_000_000, 3_000_000_000)));
        assert!(range.overlaps(spans[1].unwrap().0, spans[1].unwrap().1));
        assert!(!range.overlaps(spans[2].unwrap().0, spans[2].unwrap().1));
    }

    #[test]
    fn a_hundred_thousand_connections_stay_a_bounded_drawing() {
        let conns = (0..100_000)
            .map(|i| conn((i % 9) as u32, 0.5, u32::from(i % 7 == 0)))
            .collect();
        let t = timeline(&report(conns), 800.0);
        assert!(t.rows <= MAX_ROWS);
        assert!(t.bars.len() <= MAX_ROWS * 800, "{}", t.bars.len());
        assert!(t.marks.len() <= 800);
        let drawn: u32 = t.bars.iter().map(|b| b.connections).sum();
        assert_eq!(drawn, 100_000);
    }
}
