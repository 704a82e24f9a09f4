//! Messages between the page and its worker.
//!
//! The page starts one worker when it loads and keeps it: starting a worker later would fetch
//! its scripts then, and after load the page makes no network request at all. Each file is a
//! numbered *job*. The page sends a plain object `{job, file}` (the `File` is
//! structured-cloneable, so no bytes are copied on the main thread) or `{job, cancel: true}`;
//! the worker answers with [`FromWorker`] messages serialised as JSON strings, each naming its
//! job, so the page can drop what belongs to a job it has moved past.
//!
//! The one large answer, the finished job's [`Report`](crate::report::Report), is not JSON, and
//! comes in parts ([`Report::parts`](crate::report::Report::parts)), each sent as soon as
//! it is made so that the page reads one while the worker builds the next: plain objects
//! `{kind: "report", job, part, last, millis, bytes}`, `bytes` a transferred `Uint8Array`
//! holding, in [`super::wire`]'s binary form, the [`ReportHead`](crate::report::ReportHead)
//! for part 0, and then up to 1024 connections' rows per part, in stream order. `last` is true
//! on the final part, whose `millis` is the time the worker spent on the job.
//! [`FromWorker::Timings`] follows it. `bytes` is a view of the start of a larger buffer: once
//! the page has copied the part out, it gives the buffer back, `{spare: buffer}` transferred,
//! and the worker copies a later part into it (a browser takes about 1 ms to copy half a MiB
//! into a new buffer, and a twentieth of that into one used before). Between parts, the worker
//! lets its messages in: those buffers, and a cancel or a new file, which stop the parts.
//!
//! The page's thread reads the file for the worker, slice by slice: the worker posts a plain
//! object `{kind: "read", job, start, end, into}` (bytes `start..end` of the job's file, which
//! the page keeps; `into` a transferred `ArrayBuffer` at least as large, to read them into),
//! and the page answers `{job, slice: start, bytes}`, `bytes` a `Uint8Array` of the slice's bytes
//! whose buffer is transferred (`into` again, which the worker reuses for a later slice, or a
//! new buffer where the browser cannot read a file into a given one), or `{job, slice: start,
//! failed: true}` when the slice could not be read or handed over (the worker then stops with
//! a sentence saying where). (A browser assembles a slice's bytes on the thread that reads it,
//! which in the worker would take turns with the analysis.)
//!
//! When it starts, before [`FromWorker::Ready`], the worker analyses a small capture of its own
//! (see `worker::WARM_UP_RUNS` for why) and posts that report's parts as job
//! [`WARM_UP_JOB`], like any other report: the page reads them (each part several times) and
//! draws the report off the document several times, then drops it (see `web::warm_up`), and
//! says it is ready once both are done. No job the person starts has that number.
//!
//! The worker keeps the finished analysis (and the `File`) of the current job, so the page can
//! ask about it later: `{job, stream}` for one connection's packets ([`FromWorker::Packets`]),
//! `{job, stream, packet}` (a capture index) for one packet's decoded headers and bytes, read
//! back from the file on demand ([`FromWorker::Detail`]), and `{job, export: [streams], name}`
//! for those connections as a capture file: the worker reads every packet's bytes back from
//! the file and answers with a plain object `{kind: "capture", job, name, bytes}` (`name` with
//! `.pcap` or `.pcapng` added, `bytes` a transferred `Uint8Array`: no JSON for binary data), or
//! [`FromWorker::Unanswered`].

use serde::{Deserialize, Serialize};

use crate::view::fields::PacketDetail;
use crate::view::ladder::ConnectionPackets;

/// Name of the worker's loader script that Trunk writes next to `index.html`.
pub const WORKER_URL: &str = "./rstscope-worker_loader.js";

/// The `kind` of the worker's capture-file answer (see the module documentation).
pub const CAPTURE_KIND: &str = "capture";

/// The `kind` of the worker's request to read a slice of the file (see the module
/// documentation).
pub const READ_KIND: &str = "read";

/// The `kind` of the worker's report messages (see the module documentation).
pub const REPORT_KIND: &str = "report";

/// The key of the page's message giving a report part's buffer back to the worker (see the
/// module documentation).
pub const SPARE_KEY: &str = "spare";

/// A job number: one per file the person opens, from 1.
pub type JobId = u32;

/// The job number of the report the worker makes of its own warm-up capture (see the module
/// documentation).
pub const WARM_UP_JOB: JobId = 0;

/// A question the page asks the worker about the current job's analysis: one connection's
/// packets, or (with `packet`, a capture index) one packet's headers and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub stream: u32,
    pub packet: Option<u32>,
}

/// What the worker tells the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has loaded and listens: the page may send files now. (A message sent before
    /// the worker's wasm has installed its handler would be lost.)
    Ready,
    /// Bytes read so far of the file's total.
    Progress {
        job: JobId,
        read: u64,
        total: u64,
        packets: u64,
    },
    /// The file cannot be read as a capture (one sentence).
    Failed { job: JobId, message: String },
    /// The job stopped because the page cancelled it.
    Cancelled { job: JobId },
    /// One connection's packets, as asked with `{job, stream}`.
    Packets {
        job: JobId,
        connection: ConnectionPackets,
    },
    /// One packet's decoded headers and bytes, as asked with `{job, stream, packet}`.
    Detail { job: JobId, detail: PacketDetail },
    /// A question about a job's analysis that cannot be answered (one sentence).
    Unanswered { job: JobId, message: String },
    /// When the worker passed each step of a job's last stage, sent right after the report
    /// (see the module documentation): `(name, time)` with the time in milliseconds since the Unix epoch
    /// (`performance.timeOrigin + performance.now()`), so the page can set them as performance
    /// marks on its own clock (the browser benchmark, tests/e2e/bench.mjs, reads them).
    Timings {
        job: JobId,
        marks: Vec<(String, f64)>,
    },
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<FromWorker, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable message from the worker: {e}"))
    }
}
