//! The connection table's rows: which connections pass the filters, in which order, and the
//! window of rows that is on screen (the table draws only those).

use std::cmp::Ordering;

use crate::report::{ConnectionReport, Report};
use crate::view::timeline::{connection_spans, TimeRange};

/// A column the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Column {
    #[default]
    Stream,
    Client,
    Server,
    State,
    Packets,
    BytesToServer,
    BytesToClient,
    Retransmissions,
    Start,
    Duration,
    Flags,
    Resets,
}

impl Column {
    /// Every column, in the order the table shows them.
    pub const ALL: [Column; 12] = [
        Column::Stream,
        Column::Client,
        Column::Server,
        Column::State,
        Column::Packets,
        Column::BytesToServer,
        Column::BytesToClient,
        Column::Retransmissions,
        Column::Start,
        Column::Duration,
        Column::Flags,
        Column::Resets,
    ];

    /// The column's heading.
    pub fn title(self) -> &'static str {
        match self {
            Column::Stream => "Stream",
            Column::Client => "Client",
            Column::Server => "Server",
            Column::State => "State",
            Column::Packets => "Packets",
            Column::BytesToServer => "Bytes c→s",
            Column::BytesToClient => "Bytes s→c",
            Column::Retransmissions => "Retrans.",
            Column::Start => "Start (UTC)",
            Column::Duration => "Duration",
            Column::Flags => "Seen",
            Column::Resets => "RSTs",
        }
    }

    /// A stable id, for `data-col` attributes.
    pub fn id(self) -> &'static str {
        match self {
            Column::Stream => "stream",
            Column::Client => "client",
            Column::Server => "server",
            Column::State => "state",
            Column::Packets => "packets",
            Column::BytesToServer => "bytes_c2s",
            Column::BytesToClient => "bytes_s2c",
            Column::Retransmissions => "retransmissions",
            Column::Start => "start",
            Column::Duration => "duration",
            Column::Flags => "flags",
            Column::Resets => "rst",
        }
    }

    /// Numbers read right-aligned.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Column::Packets
                | Column::BytesToServer
                | Column::BytesToClient
                | Column::Retransmissions
                | Column::Duration
                | Column::Resets
        )
    }

    fn compare(self, a: &ConnectionReport, b: &ConnectionReport) -> Ordering {
        match self {
            Column::Stream => a.stream.cmp(&b.stream),
            // Addresses sort as the text people read, which keeps one host's ports together.
            Column::Client => a.client.cmp(&b.client),
            Column::Server => a.server.cmp(&b.server),
            Column::State => a.state.cmp(&b.state),
            Column::Packets => a.packets.cmp(&b.packets),
            Column::BytesToServer => a.from_client.bytes.cmp(&b.from_client.bytes),
            Column::BytesToClient => a.from_server.bytes.cmp(&b.from_server.bytes),
            Column::Retransmissions => retransmissions(a).cmp(&retransmissions(b)),
            // RFC 3339 strings in UTC with fixed width sort in time order.
            Column::Start => a.start.cmp(&b.start),
            Column::Duration => a.duration.total_cmp(&b.duration),
            Column::Flags => a.flags_seen().cmp(&b.flags_seen()),
            Column::Resets => resets(a).cmp(&resets(b)),
        }
    }
}

/// Retransmissions in both directions.
pub fn retransmissions(conn: &ConnectionReport) -> u32 {
    conn.from_client
        .retransmissions
        .saturating_add(conn.from_server.retransmissions)
}

/// RST packets in both directions.
pub fn resets(conn: &ConnectionReport) -> u32 {
    conn.from_client.rst.saturating_add(conn.from_server.rst)
}

/// What the person asked the table for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Case-insensitive text that the client or server `address:port` must contain.
    pub text: String,
    /// Only connections in this Zeek state (`SF`, `REJ`, ...).
    pub state: Option<String>,
    pub only_resets: bool,
    pub only_retransmissions: bool,
    pub sort: Column,
    pub descending: bool,
    /// Reset connections before the others (then by `sort`): what a person opening a capture
    /// to find a reset wants first. Choosing a column to sort by turns it off.
    pub resets_first: bool,
    /// Only connections with a packet in this range (brushed on the timeline).
    pub time_range: Option<TimeRange>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            text: String::new(),
            state: None,
            only_resets: false,
            only_retransmissions: false,
            sort: Column::default(),
            descending: false,
            resets_first: true,
            time_range: None,
        }
    }
}

impl Query {
    fn admits(&self, conn: &ConnectionReport, needle: &str) -> bool {
        (!self.only_resets || resets(conn) > 0)
            && (!self.only_retransmissions || retransmissions(conn) > 0)
            && self
                .state
                .as_ref()
                .is_none_or(|s| conn.state.as_ref() == Some(s))
            && (needle.is_empty()
                || conn.client.to_lowercase().contains(needle)
                || conn.server.to_lowercase().contains(needle))
    }

    /// The same query sorted by `column`: a second click on the sorted column reverses it.
    pub fn sorted_by(&self, column: Column) -> Query {
        let descending = if self.sort == column {
            !self.descending
        } else {
            column.is_numeric()
        };
        Query {
            sort: column,
            descending,
            resets_first: false,
            ..self.clone()
        }
    }
}

/// Indices into `report.connections` of the rows to show, in order. Ties keep stream order.
pub fn rows(report: &Report, query: &Query) -> Vec<usize> {
    let needle = query.text.trim().to_lowercase();
    let mut rows: Vec<usize> = report
        .connections
        .iter()
        .enumerate()
        .filter(|(_, conn)| query.admits(conn, &needle))
        .map(|(i, _)| i)
        .collect();
    if let Some(range) = query.time_range {
        let spans = connection_spans(report);
        rows.retain(|&i| spans[i].is_some_and(|(s, e)| range.overlaps(s, e)));
    }
    let connections = &report.connections;
    // What the default order needs of each row, read once rather than at each of the sort's
    // comparisons (a million of them for 100,000 rows, each visiting two rows' reports).
    let mut keyed: Vec<(bool, u32, usize)> = rows
        .iter()
        .map(|&i| {
            let conn = &connections[i];
            (query.resets_first && resets(conn) > 0, conn.stream, i)
        })
        .collect();
    if query.sort == Column::Stream {
        // The default order, by a plain key (a comparison closure took twice as long).
        let flip = if query.descending { u32::MAX } else { 0 };
        keyed.sort_unstable_by_key(|&(reset, stream, i)| (!reset, stream ^ flip, i));
    } else {
        keyed.sort_by(|&(reset_a, _, a), &(reset_b, _, b)| {
            let order = query.sort.compare(&connections[a], &connections[b]);
            let order = if query.descending {
                order.reverse()
            } else {
                order
            };
            reset_b.cmp(&reset_a).then(order).then(a.cmp(&b))
        });
    }
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// The Zeek states that occur in the report, sorted, for the state filter.
pub fn states(report: &Report) -> Vec<String> {
    let states: std::collections::BTreeSet<&str> = report
        .connections
        .iter()
        .filter_map(|c| c.state.as_deref())
        .collect();
    states.into_iter().map(str::to_string).collect()
}

/// Rows drawn above and below the visible ones, so that scrolling a little shows no gap.
const OVERSCAN: usize = 10;

/// The rows of a scrolled table that are drawn: `first..first + count`, with `before` and
/// `after` pixels of empty space standing in for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: usize,
    pub count: usize,
    pub before: u64,
    pub after: u64,
}

/// Which of `total` rows of `row_height` pixels to draw in a viewport of `height` pixels
/// scrolled to `scroll_top`.
pub fn window(total: usize, row_height: u32, scroll_top: f64, height: f64) -> Window {
    let row_height = row_height.max(1);
    let row = f64::from(row_height);
    let top = if scroll_top.is_finite() {
        scroll_top.max(0.0)
    } else {
        0.0
    };
    let height = if height.is_finite() {
        height.max(0.0)
    } else {
        0.0
    };
    let first_visible = (top / row) as usize;
    let visible = (height / row).ceil() as usize + 1;
    let first = first_visible.saturating_sub(OVERSCAN).min(total);
    let end = first_visible
        .saturating_add(visible)
        .saturating_add(OVERSCAN)
        .min(total);
    let count = end - first;
    Window {
        first,
        count,
        before: first as u64 * u64::from(row_height),
        after: (total - end) as u64 * u64::from(row_height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CaptureReport, DirectionReport, SCHEMA_VERSION};

    fn conn(
        stream: u32,
        client: &str,
        state: &str,
        rst: u32,
        retrans: u32,
        bytes: u64,
    ) -> ConnectionReport {
        ConnectionReport {
            stream,
            client: client.to_string(),
            server: "10.0.0.9:443".to_string(),
            state: Some(state.to_string()),
            start: format!("2026-01-02T03:04:0{stream}.000000000Z"),
            from_client: DirectionReport {
                rst,
                retransmissions: retrans,
                bytes,
                ..DirectionReport::default()
            },
            ..ConnectionReport::default()
        }
    }

    fn report() -> Report {
        Report {
            schema: SCHEMA_VERSION,
            summary: Default::default(),
            capture: CaptureReport {
                first_time: Some("2026-01-02T03:04:00.000000000Z".into()),
                ..CaptureReport::default()
            },
            connections: vec![
                conn(0, "10.0.0.1:5000", "SF", 0, 0, 300),
                conn(1, "10.0.0.2:5001", "RSTO", 1, 2, 100),
                conn(2, "[2001:db8::1]:5002", "SF", 0, 5, 200),
                conn(3, "10.0.0.1:5003", "REJ", 1, 0, 0),
            ],
        }
    }

    #[test]
    fn filters_combine() {
        let r = report();
        assert_eq!(rows(&r, &Query::default()), [1, 3, 0, 2], "resets first");
        let plain = Query {
            resets_first: false,
            ..Query::default()
        };
        assert_eq!(rows(&r, &plain), [0, 1, 2, 3]);
        assert_eq!(
            rows(
                &r,
                &Query {
                    only_resets: true,
                    ..plain.clone()
                }
            ),
            [1, 3]
        );
        assert_eq!(
            rows(
                &r,
                &Query {
                    only_retransmissions: true,
                    ..plain.clone()
                }
            ),
            [1, 2]
        );
        assert_eq!(
            rows(
                &r,
                &Query {
                    state: Some("SF".into()),
                    ..plain.clone()
                }
            ),
            [0, 2]
        );
        assert_eq!(
            rows(
                &r,
                &Query {
                    text: " 10.0.0.1: ".into(),
                    ..plain.clone()
                }
            ),
            [0, 3]
        );
        assert_eq!(
            rows(
                &r,
                &Query {
                    text: "2001:DB8".into(),
                    ..plain.clone()
                }
            ),
            [2]
        );
        assert_eq!(
            rows(
                &r,
                &Query {
                    text: ":443".into(),
                    only_resets: true,
                    ..plain.clone()
                }
            ),
            [1, 3]
        );
        let early = Query {
            time_range: Some(TimeRange {
                from_ns: 0,
                to_ns: 1_000_000_000,
            }),
            ..plain.clone()
        };
        assert_eq!(rows(&r, &early), [0, 1], "connections 2 and 3 start later");
    }

    #[test]
    fn sorting_reverses_on_a_second_click_and_keeps_ties_in_stream_order() {
        let r = report();
        let by_bytes = Query::default().sorted_by(Column::BytesToServer);
        assert!(by_bytes.descending, "numbers sort largest first");
        assert_eq!(rows(&r, &by_bytes), [0, 2, 1, 3]);
        assert_eq!(
            rows(&r, &by_bytes.sorted_by(Column::BytesToServer)),
            [3, 1, 2, 0]
        );
        let by_state = Query::default().sorted_by(Column::State);
        assert_eq!(
            rows(&r, &by_state),
            [3, 1, 0, 2],
            "REJ, RSTO, SF, SF (ties by stream)"
        );
        assert_eq!(states(&r), ["REJ", "RSTO", "SF"]);
        // Stream order is the default: the first click reverses it (and resets first is off).
        let by_stream = Query::default().sorted_by(Column::Stream);
        assert_eq!(rows(&r, &by_stream), [3, 2, 1, 0]);
        assert_eq!(rows(&r, &by_stream.sorted_by(Column::Stream)), [0, 1, 2, 3]);
    }

    #[test]
    fn the_window_covers_the_viewport_and_the_spacers_the_rest() {
        let w = window(100_000, 28, 28.0 * 5000.0, 700.0);
        assert_eq!(w.first, 4990);
        assert_eq!(w.count, 10 + 26 + 10);
        assert_eq!(w.before, 4990 * 28);
        assert_eq!(w.before + w.count as u64 * 28 + w.after, 100_000 * 28);
        let top = window(5, 28, 0.0, 700.0);
        assert_eq!((top.first, top.count, top.before, top.after), (0, 5, 0, 0));
        let odd = window(10, 0, f64::NAN, f64::INFINITY);
        assert_eq!((odd.first, odd.count), (0, 10));
        let past_end = window(10, 28, 1e12, 700.0);
        assert_eq!((past_end.first, past_end.count, past_end.after), (10, 0, 0));
    }
}
