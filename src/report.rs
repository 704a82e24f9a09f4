//! The report: the stable, documented shape of an analysis that the command-line tool prints
//! as JSON (see README.md, "JSON output") and the page receives from its worker. It is built
//! from an [`Analysis`] and owns nothing but plain data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::analysis::zeek::{ZeekConn, ZeekRecord};
use crate::analysis::{ConnectionAnalysis, EndKind, Endpoint, Findings, WindowScale};
use crate::capture::{Compression, Container, LinkType, PacketIdx, Timestamp};
use crate::diagnosis::{self, ConnectionDiagnosis, ResetVerdict, Summary};
use crate::flow::{Connection, Direction, DirectionStats};
use crate::pipeline::{both, Analysis, CaptureSummary};

/// Version of the JSON shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub capture: CaptureReport,
    /// The resets of the whole capture: by cause, by peers, over time, and the findings that
    /// matter most, in sentences.
    pub summary: Summary,
    pub connections: Vec<ConnectionReport>,
}

/// A [`Report`] without its connections' rows, and how many rows there are: the first part of
/// the report in parts ([`Report::parts`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportHead {
    pub schema: u32,
    pub capture: CaptureReport,
    pub summary: Summary,
    pub connections: usize,
}

/// The capture as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureReport {
    /// `pcap` or `pcapng` (empty when the file could not be recognised).
    pub format: String,
    /// Details of the container: byte order, timestamp resolution.
    pub format_detail: String,
    /// `gzip`, `zstd`, or null.
    pub compression: Option<String>,
    /// Size of the file in bytes, as read.
    pub bytes: u64,
    /// Every record in the file; frame numbers run from 1 to this.
    pub packets: u64,
    pub tcp_packets: u64,
    pub truncated_tcp_packets: u64,
    pub malformed_packets: u64,
    pub link_types: Vec<LinkTypeReport>,
    /// First and last packet time, RFC 3339 in UTC with nanoseconds; null without packets.
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// Seconds from the first to the last packet.
    pub duration: f64,
    /// Everything that could not be read, one sentence each.
    pub warnings: Vec<String>,
    /// The strings a pcapng file carries, as its author wrote them (UTF-8, invalid bytes as
    /// U+FFFD, each cut to 1 KiB with `…`; at most 100 in all). They are data: show them
    /// escaped. `shb_hardware`, `shb_os`, `shb_userappl` of the first section giving them;
    /// omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// Comments on the file's sections (`frame` null) and on its packets, in file order;
    /// omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentReport>,
    /// Interfaces that have a name or a description; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<InterfaceReport>,
    /// Strings of the file not shown (past the first 100); omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub strings_not_shown: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A comment of the capture file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentReport {
    /// 1-based frame number of the packet it is on; null for a comment on the file.
    pub frame: Option<u64>,
    pub text: String,
}

/// A pcapng interface's name and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceReport {
    /// The section (0-based) and the interface's number in it (`frame.interface_id`).
    pub section: u32,
    pub interface: u32,
    pub link_type: u16,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Packets of one link type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkTypeReport {
    pub link_type: u16,
    pub name: String,
    pub packets: u64,
    /// Packets of this link type that rstscope does not decode.
    pub not_decoded: u64,
}

/// One TCP connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
    /// `ip:port`, IPv6 as `[ip]:port`.
    pub client: String,
    pub server: String,
    /// Client and server were guessed (no handshake seen), not read off the handshake.
    pub roles_guessed: bool,
    /// 1-based frame numbers, as Wireshark numbers them.
    pub first_frame: u64,
    pub last_frame: u64,
    pub packets: u64,
    pub start: String,
    /// Seconds from the first to the last packet.
    pub duration: f64,
    pub from_client: DirectionReport,
    pub from_server: DirectionReport,
    /// How many packets (both directions) carry each `tcp.analysis.*` finding, by Wireshark's
    /// name; findings that never occur are left out.
    #[serde(default)]
    pub findings: BTreeMap<String, u64>,
    /// Wireshark's `tcp.analysis.initial_rtt` in seconds: from the (latest) SYN to the first
    /// ACK after it; null without a handshake.
    #[serde(default)]
    pub handshake_rtt: Option<f64>,
    /// The first FIN or RST of the connection and who sent it.
    #[serde(default)]
    pub ended_by: EndedBy,
    /// Zeek's `conn_state` (`SF`, `REJ`, `RSTO`, ...) of the connection, as Zeek's conn.log
    /// would give it.
    #[serde(default)]
    pub state: Option<String>,
    /// Zeek's `history` (`ShADadFf`, ...).
    #[serde(default)]
    pub history: Option<String>,
    /// Further conn.log rows Zeek would split this stream into (it ends a connection after
    /// inactivity or a close where Wireshark keeps one stream); usually empty, then omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zeek_more: Vec<ZeekRow>,
    /// How the connection ended: `completed`, `reset`, `refused`, `timeout` or `open`.
    #[serde(default)]
    pub outcome: String,
    /// One sentence on how the connection ended.
    #[serde(default)]
    pub outcome_summary: String,
    /// For a connection attempt never answered: when each SYN was sent, in seconds after the
    /// first (the retry schedule); omitted otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syn_attempts: Vec<f64>,
    /// Every RST of the connection, diagnosed, in frame order.
    #[serde(default)]
    pub resets: Vec<ResetVerdict>,
}

/// One Zeek conn.log row's `conn_state` and `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeekRow {
    pub state: String,
    pub history: String,
}

/// How a connection ended: the first FIN or RST seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedBy {
    /// `fin`, `rst`, or `open` (neither was seen).
    pub how: String,
    /// `client` or `server`; null when `open`.
    pub by: Option<String>,
    /// 1-based frame number of that FIN or RST; null when `open`.
    #[serde(default)]
    pub frame: Option<u64>,
}

impl Default for EndedBy {
    fn default() -> Self {
        EndedBy {
            how: "open".to_string(),
            by: None,
            frame: None,
        }
    }
}

/// Every connection's row, without its diagnosis, in stream order.
fn rows(analysis: &Analysis) -> impl Iterator<Item = ConnectionReport> + '_ {
    let zeek = zeek_by_stream(analysis);
    rows_of(analysis, analysis.flows.connections(), zeek.into_iter())
}

/// Zeek's rows by the stream they start in: a stable sort keeps Zeek's order within a stream.
fn zeek_by_stream(analysis: &Analysis) -> Vec<&ZeekRecord> {
    let mut zeek: Vec<&ZeekRecord> = analysis.zeek.iter().collect();
    zeek.sort_by_key(|record| record.stream);
    zeek
}

/// The rows of `conns`, connections of the analysis in stream order, with Zeek's rows taken
/// from `zeek` (by stream, from [`zeek_by_stream`]; rows of earlier streams are passed over):
/// one cursor walks them all.
fn rows_of<'a>(
    analysis: &'a Analysis,
    conns: &'a [Connection],
    zeek: impl Iterator<Item = &'a ZeekRecord> + 'a,
) -> impl Iterator<Item = ConnectionReport> + 'a {
    let mut zeek = zeek.peekable();
    conns.iter().map(move |conn| {
        let mut report = connection_report(conn, analysis.tcp.connection(conn.stream));
        while zeek.next_if(|record| record.stream < conn.stream).is_some() {}
        let mine = std::iter::from_fn(|| zeek.next_if(|record| record.stream == conn.stream));
        add_zeek_rows(&mut report, mine.map(|record| &record.conn));
        report
    })
}

/// The connections' rows of [`Report::parts`], with their diagnosis, a part at a time.
pub struct ReportRows<I> {
    rows: I,
    /// The diagnosis has one entry per connection, in stream order.
    verdicts: std::iter::Peekable<std::vec::IntoIter<ConnectionDiagnosis>>,
    per_part: usize,
}

impl<I: Iterator<Item = ConnectionReport>> Iterator for ReportRows<I> {
    type Item = Vec<ConnectionReport>;

    fn next(&mut self) -> Option<Vec<ConnectionReport>> {
        let mut part = Vec::with_capacity(self.per_part.min(1 << 16));
        for mut row in self.rows.by_ref().take(self.per_part) {
            if let Some(verdict) = self.verdicts.next_if(|v| v.stream == row.stream) {
                add_diagnosis(&mut row, verdict);
            }
            part.push(row);
        }
        (!part.is_empty()).then_some(part)
    }
}

/// The fields of the report before `connections`, with the same names in the same order,
/// written as a JSON object without its closing brace.
#[derive(Serialize)]
struct Head<'a> {
    schema: u32,
    capture: &'a CaptureReport,
    summary: &'a Summary,
}

impl Head<'_> {
    fn write<W: Write>(&self, mut out: W) -> io::Result<()> {
        let text = serde_json::to_vec(self)?;
        out.write_all(text.strip_suffix(b"}").unwrap_or(&text))
    }
}

/// The last fields of a [`ConnectionReport`], those its diagnosis fills, with the same names,
/// order and rules.
#[derive(Serialize, Default)]
struct DiagnosisFields<'a> {
    outcome: &'a str,
    outcome_summary: &'a str,
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    syn_attempts: &'a [f64],
    resets: &'a [ResetVerdict],
}

impl<'a> DiagnosisFields<'a> {
    fn of(diagnosis: &'a ConnectionDiagnosis) -> Self {
        DiagnosisFields {
            outcome: diagnosis.outcome.id(),
            outcome_summary: &diagnosis.summary,
            syn_attempts: &diagnosis.syn_attempts,
            resets: &diagnosis.resets,
        }
    }

    /// How a row without a diagnosis ends: the default fields, after [`Self::write_after_row`].
    fn empty_text() -> io::Result<Vec<u8>> {
        let mut text = Vec::new();
        DiagnosisFields::default().write_after_row(&mut text)?;
        Ok(text)
    }

    /// The fields as they follow the others in a row: `,"outcome":...}`.
    fn write_after_row(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let start = out.len();
        serde_json::to_writer(&mut *out, self)?;
        // `{` becomes `,`.
        if let Some(brace) = out.get_mut(start) {
            *brace = b',';
        }
        Ok(())
    }
}

/// Rows as one-line JSON without their diagnosis fields and closing brace, in blocks of about
/// [`RowTexts::BLOCK`] bytes (one buffer for all would be copied into new memory each time it
/// grew).
#[derive(Default)]
struct RowTexts {
    blocks: Vec<Vec<u8>>,
    rows: Vec<RowAt>,
}

/// Where a row's text is.
struct RowAt {
    stream: u32,
    block: usize,
    start: usize,
    end: usize,
}

impl RowTexts {
    const BLOCK: usize = 1 << 20;

    /// Adds `row`, whose JSON ends with `empty` (its diagnosis fields when it has none).
    fn push(&mut self, row: &ConnectionReport, empty: &[u8]) -> io::Result<()> {
        // A new block when the row might not fit (a longer row makes the block grow).
        if self
            .blocks
            .last()
            .is_none_or(|b| b.len() + Self::BLOCK / 16 > b.capacity())
        {
            self.blocks.push(Vec::with_capacity(Self::BLOCK));
        }
        let block = self.blocks.len() - 1;
        let Some(text) = self.blocks.get_mut(block) else {
            return Ok(());
        };
        let start = text.len();
        serde_json::to_writer(&mut *text, row)?;
        if !text.ends_with(empty) {
            return Err(io::Error::other(
                "a connection's row does not end with its diagnosis fields",
            ));
        }
        text.truncate(text.len() - empty.len());
        self.rows.push(RowAt {
            stream: row.stream,
            block,
            start,
            end: text.len(),
        });
        Ok(())
    }

    /// The stream and text of the rows `range` (in the order they were added).
    fn get(&self, range: Range<usize>) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.rows.get(range).unwrap_or_default().iter().map(|r| {
            let text = self.blocks.get(r.block).and_then(|b| b.get(r.start..r.end));
            (r.stream, text.unwrap_or(&[]))
        })
    }
}

/// Makes every connection's [`RowTexts`] a run of connections at a time, on as many threads as
/// call [`RowMaker::make`]: the thread that writes the rows and, once its pass is done, the
/// diagnosis's (the rows take longer, 22 ms against 17 at 100 MB).
struct RowMaker<'a> {
    analysis: &'a Analysis,
    zeek: Vec<&'a ZeekRecord>,
    /// Connections per run.
    run: usize,
    /// The next run no thread has taken.
    next: AtomicUsize,
    /// How a row without a diagnosis ends.
    empty: Vec<u8>,
}

/// The rows one thread made, and which runs they are: `(run, rows)`, in the order made.
#[derive(Default)]
struct MadeRows {
    texts: RowTexts,
    runs: Vec<(usize, Range<usize>)>,
}

impl<'a> RowMaker<'a> {
    /// Connections per run: about half a millisecond of work, small enough that the two
    /// threads end close together.
    const RUN: usize = 256;

    fn new(analysis: &'a Analysis, run: usize) -> io::Result<RowMaker<'a>> {
        Ok(RowMaker {
            analysis,
            zeek: zeek_by_stream(analysis),
            run: run.max(1),
            next: AtomicUsize::new(0),
            empty: DiagnosisFields::empty_text()?,
        })
    }

    /// Makes runs until none is left.
    fn make(&self) -> io::Result<MadeRows> {
        let mut made = MadeRows::default();
        while self.make_run(&mut made)? {}
        Ok(made)
    }

    /// Makes the next run no thread has taken into `made`; `false` when none was left.
    fn make_run(&self, made: &mut MadeRows) -> io::Result<bool> {
        let conns = self.analysis.flows.connections();
        let run = self.next.fetch_add(1, Ordering::Relaxed);
        let start = run.saturating_mul(self.run);
        let end = conns.len().min(start.saturating_add(self.run));
        let Some(these @ [first, ..]) = conns.get(start..end) else {
            return Ok(false);
        };
        let zeek = self.zeek.partition_point(|r| r.stream < first.stream);
        let zeek = self.zeek.get(zeek..).unwrap_or_default().iter().copied();
        let from = made.texts.rows.len();
        for row in rows_of(self.analysis, these, zeek) {
            made.texts.push(&row, &self.empty)?;
        }
        made.runs.push((run, from..made.texts.rows.len()));
        Ok(true)
    }
}

/// Every connection's row, from the runs two threads made.
struct AllRows {
    made: [MadeRows; 2],
    /// Each run's maker and rows, in run (so stream) order.
    order: Vec<(usize, Range<usize>)>,
}

impl AllRows {
    fn of(made: [MadeRows; 2]) -> AllRows {
        let mut order: Vec<(usize, usize, Range<usize>)> = made
            .iter()
            .enumerate()
            .flat_map(|(maker, m)| {
                m.runs
                    .iter()
                    .map(move |(run, rows)| (*run, maker, rows.clone()))
            })
            .collect();
        order.sort_unstable_by_key(|(run, _, _)| *run);
        let order = order
            .into_iter()
            .map(|(_, maker, rows)| (maker, rows))
            .collect();
        AllRows { made, order }
    }

    /// How many rows there are.
    fn len(&self) -> usize {
        self.made.iter().map(|m| m.texts.rows.len()).sum()
    }

    /// Each row's stream and text, in stream order.
    fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.order.iter().flat_map(|(maker, rows)| {
            let made = self.made.get(*maker);
            made.into_iter().flat_map(|m| m.texts.get(rows.clone()))
        })
    }
}

/// Each connection's diagnosis fields as they end its row ([`DiagnosisFields::write_after_row`]),
/// in stream order, all in one buffer.
struct VerdictTexts {
    text: Vec<u8>,
    /// Each connection's stream and where its fields end in `text` (they start where the
    /// previous ones end).
    ends: Vec<(u32, usize)>,
}

impl VerdictTexts {
    fn of(verdicts: &[ConnectionDiagnosis]) -> io::Result<VerdictTexts> {
        let mut texts = VerdictTexts {
            text: Vec::new(),
            ends: Vec::with_capacity(verdicts.len()),
        };
        for verdict in verdicts {
            DiagnosisFields::of(verdict).write_after_row(&mut texts.text)?;
            texts.ends.push((verdict.stream, texts.text.len()));
        }
        Ok(texts)
    }

    /// Each connection's stream and fields, in stream order.
    fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends
            .iter()
            .zip(starts)
            .map(|(&(stream, end), start)| (stream, self.text.get(start..end).unwrap_or(&[])))
    }
}

/// Writes `rows` (each connection's stream and row without its diagnosis fields) to `out`, the
/// first after `written` rows already there, each followed by the fields `fields_of` writes.
fn write_rows<'a, W: Write>(
    out: &mut W,
    rows: impl Iterator<Item = (u32, &'a [u8])>,
    written: usize,
    mut fields_of: impl FnMut(u32, &mut W) -> io::Result<()>,
) -> io::Result<()> {
    for (i, (stream, text)) in rows.enumerate() {
        if i + written > 0 {
            out.write_all(b",")?;
        }
        out.write_all(text)?;
        fields_of(stream, out)?;
    }
    Ok(())
}

/// One direction of a connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DirectionReport {
    pub packets: u64,
    /// TCP payload bytes.
    pub bytes: u64,
    pub syn: u32,
    pub fin: u32,
    pub rst: u32,
    /// Packets Wireshark calls retransmissions (`tcp.analysis.retransmission`: including the
    /// fast and spurious ones counted below).
    pub retransmissions: u32,
    pub fast_retransmissions: u32,
    pub spurious_retransmissions: u32,
    pub out_of_order: u32,
    /// Gaps before a segment of this direction (`tcp.analysis.lost_segment`).
    pub lost_segments: u32,
    /// ACKs of this direction for data the capture did not see (`tcp.analysis.ack_lost_segment`).
    pub acked_unseen: u32,
    pub duplicate_acks: u32,
    pub zero_windows: u32,
    pub zero_window_probes: u32,
    pub keep_alives: u32,
    pub window_updates: u32,
    pub window_full: u32,
    /// The largest `tcp.analysis.bytes_in_flight` of this direction's segments.
    pub max_bytes_in_flight: u32,
    /// Window scale shift negotiated in the handshake (RFC 7323); 0 when the handshake shows it
    /// is not used; null when unknown (no handshake seen: windows are shown unscaled).
    pub window_scale: Option<u8>,
    /// The sender's state at the end of the capture, Zeek-like: `inactive`, `syn_sent`,
    /// `syn_ack_sent`, `partial` (seen without its SYN), `established`, `closed`, `reset`.
    pub state: String,
}

impl Report {
    /// Builds the report of a finished analysis.
    ///
    /// Natively the diagnosis runs on a second thread while the connections' rows are built.
    pub fn new(analysis: &Analysis) -> Report {
        let (diagnosis, mut connections) = both(
            || diagnosis::diagnose(analysis, &analysis.ttls),
            || {
                let mut all = Vec::with_capacity(analysis.flows.connections().len());
                all.extend(rows(analysis));
                all
            },
        );
        // The diagnosis has one entry per connection, in stream order.
        let mut verdicts = diagnosis.connections.into_iter().peekable();
        for report in &mut connections {
            if let Some(verdict) = verdicts.next_if(|v| v.stream == report.stream) {
                add_diagnosis(report, verdict);
            }
        }
        Report {
            schema: SCHEMA_VERSION,
            capture: capture_report(&analysis.capture),
            summary: diagnosis.summary,
            connections,
        }
    }

    /// `Report::new(analysis)` in parts, for the page's worker, which sends each part on as
    /// soon as it is made, so that the page reads one part while the next is built: the
    /// [`ReportHead`], made with the diagnosis, and the connections' rows in stream order,
    /// `per_part` at a time (the last part may be shorter; none is empty), each made when it
    /// is asked for. [`Report::from_parts`] puts the parts together again.
    pub fn parts(
        analysis: &Analysis,
        per_part: usize,
    ) -> (
        ReportHead,
        ReportRows<impl Iterator<Item = ConnectionReport> + '_>,
    ) {
        let diagnosis = diagnosis::diagnose(analysis, &analysis.ttls);
        let head = ReportHead {
            schema: SCHEMA_VERSION,
            capture: capture_report(&analysis.capture),
            summary: diagnosis.summary,
            connections: analysis.flows.connections().len(),
        };
        let rows = ReportRows {
            rows: rows(analysis),
            verdicts: diagnosis.connections.into_iter().peekable(),
            per_part: per_part.max(1),
        };
        (head, rows)
    }

    /// [`Report::parts`] handed over: `head` gets the head, then `rows` each part of the rows.
    /// Stops at the first error of either and returns it.
    pub fn in_parts<E>(
        analysis: &Analysis,
        per_part: usize,
        head: impl FnOnce(&ReportHead) -> Result<(), E>,
        mut rows: impl FnMut(&[ConnectionReport]) -> Result<(), E>,
    ) -> Result<(), E> {
        let (first, parts) = Report::parts(analysis, per_part);
        head(&first)?;
        parts.into_iter().try_for_each(|part| rows(&part))
    }

    /// The report whose parts [`Report::parts`] made: its head and all its rows, in order.
    /// `None` when the rows are not as many as the head says.
    pub fn from_parts(head: ReportHead, connections: Vec<ConnectionReport>) -> Option<Report> {
        (connections.len() == head.connections).then_some(Report {
            schema: head.schema,
            capture: head.capture,
            summary: head.summary,
            connections,
        })
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the report as JSON to `out`: indented when `pretty`, else on one line (about a
    /// third smaller and faster to write and to read back), exactly as `serde_json` writes it.
    pub fn write_json<W: Write>(&self, out: W, pretty: bool) -> io::Result<()> {
        if pretty {
            serde_json::to_writer_pretty(out, self)?;
        } else {
            serde_json::to_writer(out, self)?;
        }
        Ok(())
    }

    /// Writes the one-line JSON of `Report::new(analysis)` to `out`, byte for byte, without
    /// building the report first. The diagnosis fields are the last of each connection's row,
    /// so every row is written into memory without them while the diagnosis runs (on another
    /// thread where there are threads, [`both`], which then helps with the last rows:
    /// [`RowMaker`]); then the capture, the summary, and each row followed by its diagnosis
    /// fields go to `out` (the second half's fields made beside the first half's writing). The
    /// command line's JSON.
    pub fn write_json_of<W: Write>(analysis: &Analysis, mut out: W) -> io::Result<()> {
        let maker = RowMaker::new(analysis, RowMaker::RUN)?;
        let ((diagnosis, later_rows), rows) = both(
            || (diagnosis::diagnose(analysis, &analysis.ttls), maker.make()),
            || maker.make(),
        );
        let rows = AllRows::of([rows?, later_rows?]);
        Head {
            schema: SCHEMA_VERSION,
            capture: &capture_report(&analysis.capture),
            summary: &diagnosis.summary,
        }
        .write(&mut out)?;
        out.write_all(b",\"connections\":[")?;
        // Both are in stream order; a row without a verdict ends with the empty fields. The
        // first half of the rows is written with its verdicts' fields made as they go, into
        // one small buffer used again, while the second half's are made on the other thread.
        // (All made on the diagnosis's thread after its pass, they kept the rows' thread
        // waiting at 1 GB; all made while writing, the writing took about as long.)
        let half = rows.len() / 2;
        let split = rows.iter().nth(half).map_or(u32::MAX, |(stream, _)| stream);
        let verdicts = &diagnosis.connections;
        let (now, later) = verdicts.split_at(verdicts.partition_point(|v| v.stream < split));
        let empty = DiagnosisFields::empty_text()?;
        let (later, written) = both(
            || VerdictTexts::of(later),
            || {
                let mut now = now.iter().peekable();
                let mut fields = Vec::new();
                write_rows(&mut out, rows.iter().take(half), 0, |stream, out| match now
                    .next_if(|verdict| verdict.stream == stream)
                {
                    Some(verdict) => {
                        fields.clear();
                        DiagnosisFields::of(verdict).write_after_row(&mut fields)?;
                        out.write_all(&fields)
                    }
                    None => out.write_all(&empty),
                })
            },
        );
        written?;
        let later = later?;
        let mut later = later.iter().peekable();
        // The diagnosis is no longer read: freed beside the writing of the second half.
        let ((), written) = both(
            move || drop(diagnosis),
            || {
                write_rows(&mut out, rows.iter().skip(half), half, |stream, out| {
                    let fields = later.next_if(|(s, _)| *s == stream).map(|(_, f)| f);
                    out.write_all(fields.unwrap_or(&empty))
                })
            },
        );
        written?;
        out.write_all(b"]}")
    }

    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let c = &self.capture;
        let _ = writeln!(
            out,
            "Capture: {}",
            format!("{} {}", c.format, c.format_detail).trim()
        );
        if let Some(compression) = &c.compression {
            let _ = writeln!(out, "Compression: {compression}");
        }
        let _ = writeln!(out, "Packets: {} ({} TCP)", c.packets, c.tcp_packets);
        for lt in &c.link_types {
            let _ = write!(
                out,
                "Link type {} ({}): {} packets",
                lt.link_type, lt.name, lt.packets
            );
            if lt.not_decoded > 0 {
                let _ = write!(out, ", {} not decoded", lt.not_decoded);
            }
            out.push('\n');
        }
        if let (Some(first), Some(last)) = (&c.first_time, &c.last_time) {
            let _ = writeln!(out, "Time: {first} to {last} ({:.6} s)", c.duration);
        }
        c.strings_text(&mut out);
        for warning in &c.warnings {
            let _ = writeln!(out, "Warning: {warning}");
        }
        self.resets_text(&mut out);
        let _ = writeln!(out, "\nTCP connections: {}", self.connections.len());
        if !self.connections.is_empty() {
            let _ = writeln!(
                out,
                "{:>6}  {:<46}  {:<46}  {:>8}  {:>12}  {:>12}  {:>10}  flags",
                "stream", "client", "server", "packets", "bytes c->s", "bytes s->c", "duration"
            );
        }
        for conn in &self.connections {
            let _ = writeln!(
                out,
                "{:>6}  {:<46}  {:<46}  {:>8}  {:>12}  {:>12}  {:>10.3}  {}",
                conn.stream,
                conn.client,
                conn.server,
                conn.packets,
                conn.from_client.bytes,
                conn.from_server.bytes,
                conn.duration,
                conn.flag_summary()
            );
        }
        out
    }
}

impl Report {
    /// The resets section of the text report: the summary, then every reset.
    fn resets_text(&self, out: &mut String) {
        let summary = &self.summary;
        let _ = writeln!(out, "\nResets: {}", summary.resets);
        for finding in &summary.findings {
            let _ = writeln!(out, "  * {finding}");
        }
        for count in &summary.by_cause {
            let _ = writeln!(out, "  {:>6}  {}", count.resets, count.cause.title());
        }
        for conn in &self.connections {
            for reset in &conn.resets {
                let _ = writeln!(
                    out,
                    "\nframe {} (stream {}): {} by the {} during {}",
                    reset.frame,
                    conn.stream,
                    reset.cause.id(),
                    reset.sender.id(),
                    reset.phase.id().replace('_', " ")
                );
                let _ = writeln!(out, "  {}", reset.summary);
                let _ = writeln!(out, "  Next: {}", reset.next_step);
                for evidence in &reset.evidence {
                    let _ = writeln!(out, "    frame {}: {}", evidence.frame, evidence.what);
                }
            }
        }
    }
}

impl CaptureReport {
    /// The file's own strings, each made safe for a terminal ([`inert`]).
    fn strings_text(&self, out: &mut String) {
        for (name, value) in [
            ("Hardware", &self.hardware),
            ("OS", &self.os),
            ("Application", &self.application),
        ] {
            if let Some(value) = value {
                let _ = writeln!(out, "{name}: {}", inert(value));
            }
        }
        for i in &self.interfaces {
            let _ = write!(
                out,
                "Interface {} (section {}, {}):",
                i.interface,
                i.section,
                link_type_name(LinkType(i.link_type))
            );
            if let Some(name) = &i.name {
                let _ = write!(out, " name \"{}\"", inert(name));
            }
            if let Some(description) = &i.description {
                let _ = write!(out, " description \"{}\"", inert(description));
            }
            out.push('\n');
        }
        for c in &self.comments {
            match c.frame {
                Some(frame) => {
                    let _ = writeln!(out, "Comment on frame {frame}: {}", inert(&c.text));
                }
                None => {
                    let _ = writeln!(out, "Comment: {}", inert(&c.text));
                }
            }
        }
        if self.strings_not_shown > 0 {
            let _ = writeln!(
                out,
                "({} more strings of the file not shown)",
                self.strings_not_shown
            );
        }
    }
}

/// A string of the capture made inert for a terminal: control characters (escape sequences
/// could move the cursor, retitle the window or hide text; newlines could fake lines of the
/// report) and bidirectional overrides (which reorder what is shown) are written as `\u{..}`
/// escapes; everything else is printed as it is.
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

impl ConnectionReport {
    /// `SYN FIN RST` seen in either direction (`---` for each missing), and whether the roles
    /// were guessed.
    pub fn flag_summary(&self) -> String {
        let guessed = if self.roles_guessed {
            " (roles guessed)"
        } else {
            ""
        };
        format!("{}{guessed}", self.flags_seen())
    }

    /// Which of SYN, FIN and RST were seen in either direction, as `SYN FIN RST` with `---`
    /// for each one missing (`SYN FIN ---`).
    pub fn flags_seen(&self) -> String {
        let (a, b) = (&self.from_client, &self.from_server);
        let mark = |seen: bool, name: &'static str| if seen { name } else { "---" };
        format!(
            "{} {} {}",
            mark(a.syn + b.syn > 0, "SYN"),
            mark(a.fin + b.fin > 0, "FIN"),
            mark(a.rst + b.rst > 0, "RST")
        )
    }
}

fn capture_report(summary: &CaptureSummary) -> CaptureReport {
    let (format, format_detail) = match summary.container {
        Some(Container::Pcap {
            big_endian,
            nanos,
            modified,
        }) => (
            "pcap",
            format!(
                "({}, {}{})",
                if big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                },
                if nanos { "nanosecond" } else { "microsecond" },
                if modified {
                    ", modified (Kuznetzov) format"
                } else {
                    ""
                }
            ),
        ),
        Some(Container::PcapNg) => ("pcapng", String::new()),
        None => ("", String::new()),
    };
    let mut warnings: Vec<String> = summary.warnings.iter().map(ToString::to_string).collect();
    if summary.warnings_dropped > 0 {
        warnings.push(format!(
            "{} more warnings not shown",
            summary.warnings_dropped
        ));
    }
    for (lt, count) in &summary.link_types {
        if count.not_decoded > 0 {
            warnings.push(format!(
                "{} packets of link type {} ({}) not decoded",
                count.not_decoded,
                lt.0,
                link_type_name(*lt)
            ));
        }
    }
    if summary.malformed_packets > 0 {
        warnings.push(format!(
            "{} packets have an IP or TCP header that is cut short or invalid",
            summary.malformed_packets
        ));
    }
    CaptureReport {
        format: format.to_string(),
        format_detail,
        compression: summary.compression.map(|c| {
            match c {
                Compression::Gzip => "gzip",
                Compression::Zstd => "zstd",
            }
            .to_string()
        }),
        bytes: summary.bytes,
        packets: summary.packets,
        tcp_packets: summary.tcp_packets,
        truncated_tcp_packets: summary.truncated_tcp_packets,
        malformed_packets: summary.malformed_packets,
        link_types: summary
            .link_types
            .iter()
            .map(|(lt, count)| LinkTypeReport {
                link_type: lt.0,
                name: link_type_name(*lt).to_string(),
                packets: count.packets,
                not_decoded: count.not_decoded,
            })
            .collect(),
        first_time: summary.first_ts.map(rfc3339),
        last_time: summary.last_ts.map(rfc3339),
        duration: match (summary.first_ts, summary.last_ts) {
            (Some(a), Some(b)) => seconds_between(a, b),
            _ => 0.0,
        },
        warnings,
        hardware: summary.hardware.clone(),
        os: summary.os.clone(),
        application: summary.application.clone(),
        comments: summary
            .comments
            .iter()
            .map(|c| CommentReport {
                frame: c.packet.map(PacketIdx::frame_number),
                text: c.text.clone(),
            })
            .collect(),
        interfaces: summary
            .interfaces
            .iter()
            .map(|i| InterfaceReport {
                section: i.section,
                interface: i.interface,
                link_type: i.link_type.0,
                name: i.name.clone(),
                description: i.description.clone(),
            })
            .collect(),
        strings_not_shown: summary.texts_dropped,
    }
}

/// Zeek's `conn_state` and `history` of the connection: from the Zeek connection that starts
/// with the stream; Zeek rows the stream was split into after it (Zeek ends a connection on
/// timeouts where Wireshark keeps one stream) are listed in `zeek_more`.
fn add_zeek_rows<'a>(report: &mut ConnectionReport, rows: impl Iterator<Item = &'a ZeekConn>) {
    let mut rows = rows.map(|conn| ZeekRow {
        state: conn.conn_state().as_str().to_string(),
        history: conn.history(),
    });
    if let Some(first) = rows.next() {
        report.state = Some(first.state);
        report.history = Some(first.history);
    }
    report.zeek_more = rows.collect();
}

fn add_diagnosis(report: &mut ConnectionReport, diagnosis: ConnectionDiagnosis) {
    report.outcome = diagnosis.outcome.id().to_string();
    report.outcome_summary = diagnosis.summary;
    report.syn_attempts = diagnosis.syn_attempts;
    report.resets = diagnosis.resets;
}

fn connection_report(conn: &Connection, tcp: Option<&ConnectionAnalysis>) -> ConnectionReport {
    let side_state = |direction| tcp.map(|t| t.endpoint_for(conn, direction));
    let (to_server, to_client) = (
        side_state(Direction::ToServer),
        side_state(Direction::ToClient),
    );
    let mut findings = BTreeMap::new();
    for (finding, name) in Findings::all() {
        let count: u64 = [to_server, to_client]
            .iter()
            .flatten()
            .map(|e| u64::from(e.stats.count(finding)))
            .sum();
        if count > 0 {
            findings.insert(name.to_string(), count);
        }
    }
    let ended_by =
        tcp.and_then(|t| t.ended.map(|e| (t, e)))
            .map_or_else(EndedBy::default, |(t, e)| EndedBy {
                how: match e.kind {
                    EndKind::Fin => "fin",
                    EndKind::Rst => "rst",
                }
                .to_string(),
                by: Some(
                    match t.direction(conn, e.by) {
                        Direction::ToServer => "client",
                        Direction::ToClient => "server",
                    }
                    .to_string(),
                ),
                frame: Some(e.index.frame_number()),
            });
    ConnectionReport {
        stream: conn.stream.0,
        client: endpoint(conn.client),
        server: endpoint(conn.server),
        roles_guessed: conn.roles_guessed,
        first_frame: conn.first_packet.frame_number(),
        last_frame: conn.last_packet.frame_number(),
        packets: conn.to_server.packets + conn.to_client.packets,
        start: rfc3339(conn.first_ts),
        duration: seconds_between(conn.first_ts, conn.last_ts),
        from_client: direction_report(&conn.to_server, to_server),
        from_server: direction_report(&conn.to_client, to_client),
        findings,
        handshake_rtt: tcp
            .and_then(|t| t.handshake_rtt_ns)
            .map(|ns| ns as f64 / 1e9),
        ended_by,
        state: None,
        history: None,
        zeek_more: Vec::new(),
        ..ConnectionReport::default()
    }
}

fn direction_report(stats: &DirectionStats, tcp: Option<&Endpoint>) -> DirectionReport {
    let count = |f: Findings| tcp.map_or(0, |e| e.stats.count(f));
    DirectionReport {
        packets: stats.packets,
        bytes: stats.payload_bytes,
        syn: stats.syn,
        fin: stats.fin,
        rst: stats.rst,
        retransmissions: count(Findings::RETRANSMISSION),
        fast_retransmissions: count(Findings::FAST_RETRANSMISSION),
        spurious_retransmissions: count(Findings::SPURIOUS_RETRANSMISSION),
        out_of_order: count(Findings::OUT_OF_ORDER),
        lost_segments: count(Findings::LOST_SEGMENT),
        acked_unseen: count(Findings::ACK_LOST_SEGMENT),
        duplicate_acks: count(Findings::DUPLICATE_ACK),
        zero_windows: count(Findings::ZERO_WINDOW),
        zero_window_probes: count(Findings::ZERO_WINDOW_PROBE),
        keep_alives: count(Findings::KEEP_ALIVE),
        window_updates: count(Findings::WINDOW_UPDATE),
        window_full: count(Findings::WINDOW_FULL),
        max_bytes_in_flight: tcp.map_or(0, |e| e.stats.max_bytes_in_flight),
        window_scale: tcp.and_then(|e| match e.window_scale {
            WindowScale::Unknown => None,
            WindowScale::NotUsed => Some(0),
            WindowScale::Shift(s) => Some(s),
        }),
        state: tcp.map_or("inactive", |e| e.state.name()).to_string(),
    }
}

/// `ip:port`, with IPv6 addresses in brackets (what `SocketAddr`'s `Display` does). Every
/// connection's row has two, so IPv4's, the usual ones, are written digit by digit rather than
/// through `Display` (with [`rfc3339`]'s `format!`, it was a sixth of the page's worker's time
/// on the rows).
pub fn endpoint(addr: SocketAddr) -> String {
    let SocketAddr::V4(v4) = addr else {
        return addr.to_string();
    };
    let mut out = String::with_capacity("255.255.255.255:65535".len());
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_digits(&mut out, u32::from(octet), 1);
    }
    out.push(':');
    push_digits(&mut out, u32::from(v4.port()), 1);
    out
}

/// `n` in decimal, with leading zeros up to `width` digits.
fn push_digits(out: &mut String, mut n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut start = digits.len();
    while n > 0 || start + width > digits.len() {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if start == 0 {
            break;
        }
    }
    out.extend(digits.iter().skip(start).map(|&d| char::from(d)));
}

/// Seconds from `a` to `b` (negative if `b` is earlier).
pub fn seconds_between(a: Timestamp, b: Timestamp) -> f64 {
    (i128::from(b.0) - i128::from(a.0)) as f64 / 1e9
}

/// A timestamp as RFC 3339 in UTC with nanoseconds: `2013-03-07T21:42:06.869344000Z`.
/// (Nanoseconds in an `i64` reach the years 1677 to 2262.)
pub fn rfc3339(ts: Timestamp) -> String {
    let secs = ts.0.div_euclid(1_000_000_000);
    let nanos = ts.0.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity("2013-03-07T21:42:06.869344000Z".len());
    push_digits(&mut out, y as u32, 4);
    for (separator, n) in [
        ('-', m),
        ('-', d),
        ('T', rem / 3600),
        (':', rem % 3600 / 60),
        (':', rem % 60),
    ] {
        out.push(separator);
        push_digits(&mut out, n, 2);
    }
    out.push('.');
    push_digits(&mut out, nanos, 9);
    out.push('Z');
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day): the well-known
/// era-based conversion (400-year cycles of 146,097 days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A short name for a link type.
pub fn link_type_name(lt: LinkType) -> &'static str {
    match lt.0 {
        0 => "BSD loopback",
        1 => "Ethernet",
        12 | 14 | 101 => "Raw IP",
        108 => "OpenBSD loopback",
        113 => "Linux cooked v1",
        105 => "IEEE 802.11",
        127 => "IEEE 802.11 radiotap",
        228 => "Raw IPv4",
        229 => "Raw IPv6",
        239 => "Linux netfilter log",
        276 => "Linux cooked v2",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_made_in_runs_by_two_makers_come_out_in_stream_order() {
        let mut analyzer = crate::pipeline::Analyzer::new();
        analyzer.feed(&crate::synth::warm_up()).unwrap();
        let analysis = analyzer.finish().unwrap();
        let conns = analysis.flows.connections().len();
        assert!(conns > 100, "{conns} connections");
        let texts = |rows: &AllRows| -> Vec<(u32, Vec<u8>)> {
            rows.iter().map(|(s, t)| (s, t.to_vec())).collect()
        };
        // All in one run, by one maker.
        let whole = RowMaker::new(&analysis, usize::MAX)
            .unwrap()
            .make()
            .unwrap();
        let whole = texts(&AllRows::of([whole, MadeRows::default()]));
        assert_eq!(whole.len(), conns);
        assert!(whole.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(whole.iter().all(|(_, t)| t.starts_with(b"{\"stream\":")));
        // Runs of 7 taken by two makers in turn, the second taking two at a time.
        let maker = RowMaker::new(&analysis, 7).unwrap();
        let mut made = [MadeRows::default(), MadeRows::default()];
        'runs: loop {
            for (which, runs) in [(0, 1), (1, 2)] {
                for _ in 0..runs {
                    if !maker.make_run(&mut made[which]).unwrap() {
                        break 'runs;
                    }
                }
            }
        }
        assert!(made.iter().all(|m| m.runs.len() > 2));
        let shared = AllRows::of(made);
        assert_eq!(shared.len(), conns);
        assert!(
            texts(&shared) == whole,
            "the rows differ or come in another order"
        );
    }

    #[test]
    fn rfc3339_formats_epoch_and_known_dates() {
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(Timestamp(1_362_692_526_869_344_000)),
            "2013-03-07T21:42:06.869344000Z"
        );
        // Leap day, and a time before the epoch.
        assert_eq!(
            rfc3339(Timestamp(951_782_400_000_000_001)),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(rfc3339(Timestamp(-1)), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            rfc3339(Timestamp(i64::MIN)),
            "1677-09-21T00:12:43.145224192Z"
        );
        assert_eq!(
            rfc3339(Timestamp(i64::MAX)),
            "2262-04-11T23:47:16.854775807Z"
        );
    }

    proptest::proptest! {
        /// The digit-by-digit forms read as the formatting machinery writes them.
        #[test]
        fn endpoints_and_times_read_as_display_writes_them(
            ip: [u8; 4],
            port: u16,
            ns in i64::MIN..=i64::MAX,
        ) {
            let addr = SocketAddr::from((ip, port));
            proptest::prop_assert_eq!(endpoint(addr), addr.to_string());
            let secs = ns.div_euclid(1_000_000_000);
            let rem = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let formatted = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60,
                ns.rem_euclid(1_000_000_000)
            );
            proptest::prop_assert_eq!(rfc3339(Timestamp(ns)), formatted);
        }
    }

    #[test]
    fn endpoints_bracket_ipv6() {
        assert_eq!(endpoint("10.0.0.1:80".parse().unwrap()), "10.0.0.1:80");
        assert_eq!(endpoint("0.0.0.0:0".parse().unwrap()), "0.0.0.0:0");
        assert_eq!(
            endpoint("255.255.255.255:65535".parse().unwrap()),
            "255.255.255.255:65535"
        );
        assert_eq!(
            endpoint("[2001:db8::1]:443".parse().unwrap()),
            "[2001:db8::1]:443"
        );
    }
}
