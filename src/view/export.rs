//! The connection table's exports: CSV (one line per row shown, in the order shown) and JSON
//! (the CLI's [`Report`] with only the connections shown). Pure functions of the report and the
//! rows `view::table::rows` chose; the page turns them into a download.
//!
//! CSV follows RFC 4180: comma-separated, CRLF line ends, a header line, and a field quoted
//! (with inner quotes doubled) when it holds a comma, a quote or a line break. Numbers are
//! plain (bytes as bytes, durations in seconds), times RFC 3339 in UTC, exactly as the JSON
//! has them, so a spreadsheet or a script reads the same values the CLI prints.

use crate::report::{ConnectionReport, Report};
use crate::view::table;

/// The CSV columns, in order (the README documents each).
pub const CSV_COLUMNS: [&str; 18] = [
    "stream",
    "client",
    "server",
    "roles_guessed",
    "state",
    "history",
    "packets",
    "bytes_c2s",
    "bytes_s2c",
    "retransmissions",
    "rsts",
    "start",
    "duration",
    "seen",
    "outcome",
    "cause",
    "first_frame",
    "last_frame",
];

/// One field, quoted when RFC 4180 says it must be.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_line(fields: &[String], out: &mut String) {
    let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&quoted.join(","));
    out.push_str("\r\n");
}

/// The CSV fields of one connection, in [`CSV_COLUMNS`] order.
pub fn csv_record(c: &ConnectionReport) -> Vec<String> {
    vec![
        c.stream.to_string(),
        c.client.clone(),
        c.server.clone(),
        c.roles_guessed.to_string(),
        c.state.clone().unwrap_or_default(),
        c.history.clone().unwrap_or_default(),
        c.packets.to_string(),
        c.from_client.bytes.to_string(),
        c.from_server.bytes.to_string(),
        table::retransmissions(c).to_string(),
        table::resets(c).to_string(),
        c.start.clone(),
        c.duration.to_string(),
        c.flags_seen(),
        c.outcome.clone(),
        // The primary cause of the connection's first reset.
        c.resets
            .first()
            .map(|r| r.cause.id().to_string())
            .unwrap_or_default(),
        c.first_frame.to_string(),
        c.last_frame.to_string(),
    ]
}

/// The rows `rows` (indices into `report.connections`, in the table's order) as CSV.
pub fn csv(report: &Report, rows: &[usize]) -> String {
    let mut out = String::with_capacity(64 + rows.len() * 160);
    let header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    csv_line(&header, &mut out);
    for c in rows.iter().filter_map(|&i| report.connections.get(i)) {
        csv_line(&csv_record(c), &mut out);
    }
    out
}

/// The report with only the connections of `rows`, in stream order (the CLI's order, whatever
/// the table is sorted by). `capture` and `summary` still describe the whole capture: a filter
/// chooses connections, it does not change what the capture holds. With every row, this is the
/// report itself.
pub fn filtered_report(report: &Report, rows: &[usize]) -> Report {
    let mut keep = rows.to_vec();
    keep.sort_unstable();
    keep.dedup();
    Report {
        connections: keep
            .iter()
            .filter_map(|&i| report.connections.get(i).cloned())
            .collect(),
        ..report.clone()
    }
}

/// The capture's file name without its directory and capture extensions: `trace.pcapng.gz`
/// is `trace` (`capture` when nothing is left).
pub fn stem(capture: &str) -> String {
    let mut stem = capture.rsplit(['/', '\\']).next().unwrap_or(capture);
    for suffix in [".gz", ".zst", ".pcapng", ".pcap", ".cap"] {
        stem = stem.strip_suffix(suffix).unwrap_or(stem);
    }
    if stem.is_empty() { "capture" } else { stem }.to_string()
}

/// The file name of an export: `trace.pcapng.gz` becomes `trace-connections.csv`.
pub fn file_name(capture: &str, what: &str, extension: &str) -> String {
    format!("{}-{what}.{extension}", stem(capture))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Analyzer;
    use crate::view::table::{rows, Query};

    fn scenario(name: &str) -> Report {
        let path = format!(
            "{}/tests/fixtures/scenarios/{name}.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut analyzer = Analyzer::new();
        analyzer.feed(&bytes).expect("a capture");
        Report::new(&analyzer.finish().expect("a capture"))
    }

    /// A small RFC 4180 reader, to check that what is written reads back.
    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let (mut record, mut field) = (Vec::new(), String::new());
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(ch) = chars.next() {
            match (quoted, ch) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') => {}
                (false, '\n') => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => field.push(c),
            }
        }
        records
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("10.0.0.1:80"), "10.0.0.1:80");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn csv_has_a_header_and_one_record_per_row_in_table_order() {
        let report = scenario("mass_reset.client");
        let query = Query {
            only_resets: true,
            ..Query::default()
        };
        let shown = rows(&report, &query);
        assert!(
            shown.len() >= 2,
            "the fixture has several reset connections"
        );
        let text = csv(&report, &shown);
        assert!(text.ends_with("\r\n"));
        let records = parse_csv(&text);
        assert_eq!(records[0], CSV_COLUMNS.map(String::from).to_vec());
        assert_eq!(records.len(), shown.len() + 1);
        for (record, &i) in records[1..].iter().zip(&shown) {
            let c = &report.connections[i];
            assert_eq!(record.len(), CSV_COLUMNS.len());
            assert_eq!(record[0], c.stream.to_string());
            assert_eq!(record[1], c.client);
            assert_eq!(record[2], c.server);
            assert_eq!(record[6], c.packets.to_string());
            assert_eq!(record[11], c.start);
            assert_ne!(record[10], "0", "only reset connections were shown");
            assert_eq!(record[15], c.resets[0].cause.id());
            assert_eq!(record[13], c.flags_seen(), "{record:?}");
        }
    }

    #[test]
    fn quoted_fields_read_back() {
        let mut report = scenario("mass_reset.client");
        report.connections[0].history = Some("weird, \"history\"".into());
        let text = csv(&report, &[0]);
        assert_eq!(parse_csv(&text)[1][5], "weird, \"history\"");
    }

    #[test]
    fn json_keeps_the_shown_connections_in_stream_order_and_the_whole_capture() {
        let report = scenario("mass_reset.client");
        let all: Vec<usize> = rows(&report, &Query::default());
        // Unfiltered, the export is the CLI's report, whatever order the table shows.
        assert_eq!(filtered_report(&report, &all), report);
        assert_eq!(filtered_report(&report, &all).to_json(), report.to_json());
        let text = Query {
            text: report.connections[1].client.clone(),
            ..Query::default()
        };
        let some = rows(&report, &text);
        let filtered = filtered_report(&report, &some);
        assert_eq!(filtered.connections.len(), some.len());
        assert!(filtered
            .connections
            .windows(2)
            .all(|w| w[0].stream < w[1].stream));
        assert_eq!(filtered.capture, report.capture);
        assert_eq!(filtered.summary, report.summary);
        // And it is still a report the CLI's schema describes.
        let back: Report = serde_json::from_str(&filtered.to_json()).expect("a report");
        assert_eq!(back, filtered);
    }

    #[test]
    fn export_names_follow_the_capture() {
        assert_eq!(
            file_name("trace.pcapng.gz", "connections", "csv"),
            "trace-connections.csv"
        );
        assert_eq!(file_name("a.pcap", "stream-3", "pcap"), "a-stream-3.pcap");
        assert_eq!(
            file_name("", "connections", "json"),
            "capture-connections.json"
        );
    }
}
