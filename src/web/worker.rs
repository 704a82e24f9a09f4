//! The worker side: receives `{job, file}`, has the page read the file in slices (awaiting
//! each, so a `{job, cancel}` message is seen between slices; a few slices are asked for ahead
//! of the one being analysed), feeds the analyzer and posts progress and the report (in parts,
//! in [`wire`]'s binary form, transferred, then the times of its last steps). One worker serves
//! every file the page opens.
//!
//! The page's thread reads the slices (see [`super::protocol`], `READ_KIND`): a browser
//! assembles the bytes of a slice being read on the thread that asked for them, so slices
//! read here would wait while the analysis keeps this thread busy, and reading and analysing
//! would take turns instead of overlapping.
//!
//! It keeps the finished analysis and the `File` of the latest job, to answer the page's
//! questions about it: one connection's packets, one packet's headers and bytes (read back
//! from the file at the offset the pipeline recorded; for a compressed file, by decoding it
//! again up to that packet), and connections as a capture file (every packet read back the
//! same way, written by `crate::export`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, File, MessageChannel, MessageEvent};

use super::protocol::{
    FromWorker, JobId, CAPTURE_KIND, READ_KIND, REPORT_KIND, SPARE_KEY, WARM_UP_JOB,
};
use super::wire;
use crate::capture::{Decoder, Event, PacketIdx};
use crate::diagnosis::{Diagnosis, Sender};
use crate::export::{self, Planned};
use crate::flow::StreamId;
use crate::pipeline::{Analysis, Analyzer};
use crate::report::Report;
use crate::synth;
use crate::view::fields::packet_detail;
use crate::view::ladder::connection_packets;

/// The finished analysis of the latest job, kept to answer questions about it.
struct Kept {
    job: JobId,
    file: File,
    analysis: Analysis,
    /// The reset diagnosis, computed at the first question that needs it.
    diagnosis: Option<Diagnosis>,
}

type SharedKept = Rc<RefCell<Option<Kept>>>;

/// A slice of a job's file the page is reading for the worker: where it starts, and how to
/// settle the promise its reader awaits.
struct PageRead {
    job: JobId,
    start: f64,
    resolve: Function,
    reject: Function,
}

/// The slices asked of the page and not answered yet.
type PageReads = Rc<RefCell<Vec<PageRead>>>;

/// Bytes read per step: large enough that the browser's cost per slice is small, small enough
/// for the progress bar to move often and for a cancel to take effect quickly. Chromium read
/// 1 GB, as the page reads it, with 1.5-2.0 s of CPU across its processes in 4 MiB slices and
/// 1.35-1.42 s in 8 MiB slices (16 MiB: no less; 32 MiB, two ahead: more), CPU taken from the
/// worker on two cores: gen-1GB in the page went from 2.40-2.80 s to 2.25-2.67 s (alternating).
const CHUNK: f64 = 8.0 * 1024.0 * 1024.0;

/// Connections' rows per part of the report: the page reads a part (about 6 ms for 1024 rows)
/// while the next is built, so the last part is the only one it reads after the worker is
/// done; a message per part costs little.
const ROWS_PER_PART: usize = 1024;

/// The first slice of a file is smaller: the analysis starts as soon as it is there (a browser
/// takes some 25 ms to deliver a file's first bytes). With 8 MiB slices throughout, gen-100MB
/// in the page took 357-375 ms; with this first slice, 322-350 ms (alternating).
const FIRST_SLICE: f64 = 2.0 * 1024.0 * 1024.0;

/// Where the slice of a `total`-byte file that starts at `start` ends.
fn slice_end(start: f64, total: f64) -> f64 {
    let len = if start == 0.0 { FIRST_SLICE } else { CHUNK };
    (start + len).min(total)
}

/// How many slices are being read ahead of the analysis, at most.
const SLICES_AHEAD: usize = 4;

/// Installs the message handler and tells the page the worker is ready. Called from the
/// worker binary's `main`.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // The job being worked on; a job whose number is no longer here stops at its next slice.
    let current: Rc<Cell<JobId>> = Rc::new(Cell::new(0));
    let kept: SharedKept = Rc::new(RefCell::new(None));
    let reads: PageReads = Rc::new(RefCell::new(Vec::new()));
    let spare: SpareBuffers = Rc::new(RefCell::new(Vec::new()));
    let reply_scope = scope.clone();
    let warm_up_spare = spare.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        if let Some(buffer) = Reflect::get(&data, &SPARE_KEY.into())
            .ok()
            .and_then(|b| b.dyn_into::<ArrayBuffer>().ok())
        {
            give_back(&spare, buffer);
            return;
        }
        let job = Reflect::get(&data, &"job".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as JobId;
        let cancel = Reflect::get(&data, &"cancel".into())
            .ok()
            .is_some_and(|v| v.is_truthy());
        if cancel {
            if current.get() == job {
                current.set(0);
            }
            return;
        }
        let number = |key: &str| {
            Reflect::get(&data, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
        };
        if let Some(start) = number("slice") {
            settle_read(&reads, job, start, &data);
            return;
        }
        if let Some(streams) = Reflect::get(&data, &"export".into())
            .ok()
            .filter(Array::is_array)
        {
            let streams: Vec<StreamId> = Array::from(&streams)
                .iter()
                .filter_map(|v| v.as_f64())
                .map(|v| StreamId(v as u32))
                .collect();
            let name = Reflect::get(&data, &"name".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_else(|| "connections".into());
            let (scope, kept) = (reply_scope.clone(), kept.clone());
            spawn_local(async move {
                match export_capture(&kept, job, &streams).await {
                    Ok((format, bytes)) => {
                        let name = format!("{name}.{}", format.extension());
                        if post_capture(&scope, job, &name, &bytes).is_err() {
                            post(
                                &scope,
                                &unanswered(job, "the capture file could not be sent"),
                            );
                        }
                    }
                    Err(message) => post(&scope, &unanswered(job, &message)),
                }
            });
            return;
        }
        if let Some(stream) = number("stream") {
            let stream = StreamId(stream as u32);
            match number("packet") {
                None => post(&reply_scope, &packets(&kept, job, stream)),
                Some(packet) => {
                    let (scope, kept) = (reply_scope.clone(), kept.clone());
                    spawn_local(async move {
                        post(&scope, &detail(&kept, job, packet as u32).await);
                    });
                }
            }
            return;
        }
        current.set(job);
        // The previous file's analysis is not needed any more.
        kept.borrow_mut().take();
        let file = Reflect::get(&data, &"file".into())
            .ok()
            .and_then(|v| v.dyn_into::<File>().ok());
        let scope = reply_scope.clone();
        let current = current.clone();
        let kept = kept.clone();
        let reads = reads.clone();
        let spare = spare.clone();
        spawn_local(async move {
            let mut marks = Marks::default();
            let job_state = Job {
                scope: &scope,
                job,
                current: &current,
                reads: &reads,
                spare: &spare,
            };
            let started = now(&scope);
            let analysed = match &file {
                Some(file) => analyze(&job_state, file, &mut marks).await,
                None => Err(FromWorker::Failed {
                    job,
                    message: "the page sent something that is not a file".into(),
                }),
            };
            let sent = match analysed {
                Ok(analysis) => send_report(&job_state, &analysis, started, &mut marks)
                    .await
                    .map(|()| {
                        if let Some(file) = file {
                            *kept.borrow_mut() = Some(Kept {
                                job,
                                file,
                                analysis,
                                diagnosis: None,
                            });
                        }
                    }),
                Err(message) => Err(message),
            };
            match sent {
                Ok(()) => post(
                    &scope,
                    &FromWorker::Timings {
                        job,
                        marks: marks.0,
                    },
                ),
                Err(message) => post(&scope, &message),
            }
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    spawn_local(async move {
        warm_up(&scope, &warm_up_spare).await;
        post(&scope, &FromWorker::Ready);
    });
}

/// How many times the worker analyses [`synth::warm_up`]'s capture when it starts.
///
/// A browser first runs WebAssembly as its quick baseline compiler made it, and compiles a
/// function to its optimised tier once it has run for a while: the first file the person
/// opened ran at about half speed (in one page, gen-100MB took 0.64 s the first time and
/// 0.30-0.32 s the next times). Three analyses of the 2 MB warm-up capture (every kind of
/// connection and reset, IPv4 and IPv6; about 130-180 ms in all) before the worker says it is
/// ready bring the hot code to the optimised tier: the first file then takes about as long as
/// the next ones.
const WARM_UP_RUNS: usize = 3;

/// How many times each warm-up run but the last makes and encodes the report's parts.
///
/// What runs once per connection rather than per packet (the rows, Zeek's state, the
/// connection's outcome, the encoding) ran too little on the warm-up capture's few hundred
/// connections to reach the optimised tier: at 100 MB, V8 still compiled about 30 ms of it
/// while the person's first report was being made. Five reports per run (a few milliseconds
/// each) bring it there.
const REPORTS_PER_RUN: usize = 5;

/// Does a job's work (analysis, diagnosis, the report's parts in [`wire`]'s form) on a
/// capture made here, [`WARM_UP_RUNS`] times (the report [`REPORTS_PER_RUN`] times in each
/// run but the last), and drops the results; the last run's parts go to the page as job
/// [`WARM_UP_JOB`], for the page's own code (see the protocol and `web::warm_up`).
async fn warm_up(scope: &DedicatedWorkerGlobalScope, spare: &SpareBuffers) {
    let capture = synth::warm_up();
    for run in 1..=WARM_UP_RUNS {
        let mut analyzer = Analyzer::expecting(capture.len() as u64);
        let fed = capture
            .chunks(CHUNK as usize)
            .try_for_each(|chunk| analyzer.feed(chunk));
        let Ok(analysis) = fed.and_then(|()| analyzer.finish()) else {
            return;
        };
        if run == WARM_UP_RUNS {
            let job = Job {
                scope,
                job: WARM_UP_JOB,
                current: &Cell::new(WARM_UP_JOB),
                reads: &PageReads::default(),
                spare,
            };
            let _ = send_report(&job, &analysis, now(scope), &mut Marks::default()).await;
        } else {
            for _ in 0..REPORTS_PER_RUN {
                let _ = Report::in_parts(
                    &analysis,
                    ROWS_PER_PART,
                    |head| wire::to_bytes(head).map(drop),
                    |rows| wire::to_bytes(rows).map(drop),
                );
            }
        }
    }
}

fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker) {
    let _ = scope.post_message(&JsValue::from_str(&message.to_json()));
}

fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map_or(0.0, |p| p.now())
}

/// When the worker passed each step of a job's last stage (see [`FromWorker::Timings`]).
#[derive(Default)]
struct Marks(Vec<(String, f64)>);

impl Marks {
    /// Notes that step `name` is done now (milliseconds since the Unix epoch).
    fn add(&mut self, scope: &DedicatedWorkerGlobalScope, name: &str) {
        if let Some(p) = scope.performance() {
            self.0
                .push((format!("rstscope:worker-{name}"), p.time_origin() + p.now()));
        }
    }
}

/// What a job's analysis needs of the worker.
struct Job<'a> {
    scope: &'a DedicatedWorkerGlobalScope,
    job: JobId,
    /// The job being worked on now (see `start`).
    current: &'a Cell<JobId>,
    reads: &'a PageReads,
    spare: &'a SpareBuffers,
}

async fn analyze(j: &Job<'_>, file: &File, marks: &mut Marks) -> Result<Analysis, FromWorker> {
    let (scope, job) = (j.scope, j.job);
    let total = file.size();
    let mut analyzer = Analyzer::expecting(total as u64);
    let mut buf = Vec::new();
    // Slices asked of the page and not analysed yet, in file order, with where each ends
    // (`None`: it could not be asked for); `asked` is where the next one starts.
    let mut reading: VecDeque<(Option<JsFuture>, f64)> = VecDeque::new();
    // Buffers the page has filled and the worker has copied from, for the next slices.
    let mut spare: Vec<ArrayBuffer> = Vec::new();
    let mut asked = 0.0;
    let mut offset = 0.0;
    while offset < total {
        while reading.len() < SLICES_AHEAD && asked < total {
            let end = slice_end(asked, total);
            let into = spare
                .pop()
                .unwrap_or_else(|| ArrayBuffer::new(CHUNK as u32));
            reading.push_back((read_by_page(j, asked, end, into), end));
            asked = end;
        }
        let Some((Some(next), end)) = reading.pop_front() else {
            return Err(unreadable(job, offset));
        };
        let bytes = next.await;
        if j.current.get() != job {
            return Err(FromWorker::Cancelled { job });
        }
        let Ok(bytes) = bytes else {
            return Err(unreadable(job, offset));
        };
        let bytes: Uint8Array = bytes.unchecked_into();
        buf.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut buf);
        let buffer = bytes.buffer();
        if f64::from(buffer.byte_length()) == CHUNK {
            spare.push(buffer);
        }
        if let Err(error) = analyzer.feed(&buf) {
            return Err(FromWorker::Failed {
                job,
                message: error.to_string(),
            });
        }
        offset = end;
        post(
            scope,
            &FromWorker::Progress {
                job,
                read: offset as u64,
                total: total as u64,
                packets: analyzer.packets(),
            },
        );
    }
    marks.add(scope, "read");
    let analysis = analyzer.finish().map_err(|error| FromWorker::Failed {
        job,
        message: error.to_string(),
    })?;
    marks.add(scope, "analysis-done");
    Ok(analysis)
}

/// Sends the report of `analysis` to the page in parts ([`Report::parts`], [`wire`]'s form,
/// see the module documentation), each as soon as it is made: the page reads one while the
/// next is built. Between parts it lets the worker's messages in: the buffers the page gives
/// back (each part is copied into one), and a cancel or a new file, which stop it. The last
/// part carries the time since `started`.
async fn send_report(
    j: &Job<'_>,
    analysis: &Analysis,
    started: f64,
    marks: &mut Marks,
) -> Result<(), FromWorker> {
    let (scope, job) = (j.scope, j.job);
    let send = |part: u32, last: bool, bytes: &[u8]| {
        let millis = if last { now(scope) - started } else { 0.0 };
        let buffer = buffer_for(j.spare, bytes.len());
        post_report(scope, job, part, last, millis, bytes, buffer).map_err(|_| FromWorker::Failed {
            job,
            message: "the report could not be sent to the page".into(),
        })
    };
    let (head, parts) = Report::parts(analysis, ROWS_PER_PART);
    marks.add(scope, "diagnosed");
    let mut bytes = Vec::new();
    encode(job, &head, &mut bytes)?;
    // Rows still to come after the parts sent so far.
    let mut left = head.connections;
    send(0, left == 0, &bytes)?;
    let next_task = NextTask::new();
    for (part, rows) in (1..).zip(parts) {
        left = left.saturating_sub(rows.len());
        encode(job, &rows, &mut bytes)?;
        drop(rows);
        send(part, left == 0, &bytes)?;
        if left == 0 {
            // The last part: the analysis is kept at once, before any question about it.
            break;
        }
        next_task.wait().await;
        if j.current.get() != job {
            return Err(FromWorker::Cancelled { job });
        }
    }
    marks.add(scope, "report-posted");
    Ok(())
}

/// Buffers for the report's parts that the page has given back (see the protocol).
type SpareBuffers = Rc<RefCell<Vec<ArrayBuffer>>>;

/// The smallest buffer made for a report's part: a part of 1024 rows takes about 0.5 MiB.
const PART_BUFFER: usize = 1 << 20;

/// Spare buffers kept at most: a few parts are in the page's hands at a time.
const SPARE_BUFFERS: usize = 8;

/// A buffer of at least `len` bytes for a report's part: a spare one when one is large
/// enough, or a new one. Copying into a new buffer costs the browser about 1 ms per 0.5 MiB
/// (fresh memory), into one used before about 0.05 ms.
pub fn buffer_for(spare: &RefCell<Vec<ArrayBuffer>>, len: usize) -> ArrayBuffer {
    let reused = {
        let mut spare = spare.borrow_mut();
        let at = spare.iter().position(|b| b.byte_length() as usize >= len);
        at.map(|at| spare.swap_remove(at))
    };
    reused.unwrap_or_else(|| {
        let size = len
            .max(PART_BUFFER)
            .checked_next_power_of_two()
            .unwrap_or(len);
        ArrayBuffer::new(u32::try_from(size).unwrap_or(u32::MAX))
    })
}

/// Keeps a buffer the page gave back, for [`buffer_for`], unless enough are kept.
pub fn give_back(spare: &RefCell<Vec<ArrayBuffer>>, buffer: ArrayBuffer) {
    let mut spare = spare.borrow_mut();
    if spare.len() < SPARE_BUFFERS {
        spare.push(buffer);
    }
}

/// Waits for the worker's next task, so that the messages already queued (the page's) are
/// handled first: a message to itself on a channel. (A promise already resolved would go on
/// before them, and a timer is held back a few milliseconds once timers nest.)
struct NextTask(Option<MessageChannel>);

impl NextTask {
    fn new() -> NextTask {
        NextTask(MessageChannel::new().ok())
    }

    async fn wait(&self) {
        let Some(channel) = &self.0 else {
            return;
        };
        let promise = Promise::new(&mut |resolve, _| {
            channel.port1().set_onmessage(Some(&resolve));
            if channel.port2().post_message(&JsValue::NULL).is_err() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        });
        let _ = JsFuture::from(promise).await;
    }
}

/// Asks the page to read bytes `start..end` of the job's file into `into` (see the module
/// documentation): posts `{kind: "read", job, start, end, into}`, `into` transferred, and
/// returns what resolves to the slice's bytes (a `Uint8Array`) when the page answers `{job,
/// slice: start, bytes}` (or fails on `{job, slice: start, failed}`); `None` if the request
/// could not be made.
fn read_by_page(j: &Job<'_>, start: f64, end: f64, into: ArrayBuffer) -> Option<JsFuture> {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let (resolve, reject) = settle?;
    let message = Object::new();
    Reflect::set(&message, &"kind".into(), &READ_KIND.into()).ok()?;
    Reflect::set(&message, &"job".into(), &JsValue::from(j.job)).ok()?;
    Reflect::set(&message, &"start".into(), &JsValue::from(start)).ok()?;
    Reflect::set(&message, &"end".into(), &JsValue::from(end)).ok()?;
    Reflect::set(&message, &"into".into(), &into).ok()?;
    j.scope
        .post_message_with_transfer(&message, &Array::of1(&into))
        .ok()?;
    j.reads.borrow_mut().push(PageRead {
        job: j.job,
        start,
        resolve,
        reject,
    });
    Some(JsFuture::from(promise))
}

/// The page's answer for the slice of `job` at `start`: resolves its promise with `bytes`, or
/// rejects it. An answer nobody waits for any more is dropped.
fn settle_read(reads: &PageReads, job: JobId, start: f64, data: &JsValue) {
    let read = {
        let mut reads = reads.borrow_mut();
        let Some(at) = reads.iter().position(|r| r.job == job && r.start == start) else {
            return;
        };
        reads.swap_remove(at)
    };
    let _ = match Reflect::get(data, &"bytes".into()) {
        Ok(bytes) if bytes.is_instance_of::<Uint8Array>() => {
            read.resolve.call1(&JsValue::NULL, &bytes)
        }
        _ => read.reject.call0(&JsValue::NULL),
    };
}

fn unreadable(job: JobId, offset: f64) -> FromWorker {
    FromWorker::Failed {
        job,
        message: format!("the browser could not read the file at byte {offset}"),
    }
}

fn unanswered(job: JobId, message: &str) -> FromWorker {
    FromWorker::Unanswered {
        job,
        message: message.to_string(),
    }
}

/// One connection's packets, with the reset diagnosis's evidence and whether it suspects a
/// middlebox.
fn packets(kept: &RefCell<Option<Kept>>, job: JobId, stream: StreamId) -> FromWorker {
    let mut guard = kept.borrow_mut();
    let Some(k) = guard.as_mut().filter(|k| k.job == job) else {
        return unanswered(job, "this capture's analysis is no longer in memory");
    };
    let Some(mut connection) = connection_packets(&k.analysis, stream) else {
        return unanswered(job, "there is no such connection in this capture");
    };
    // TTLs are not kept by the pipeline yet, so forged-RST evidence is missing here; the rest
    // of the diagnosis stands.
    let analysis = &k.analysis;
    let diagnosis = k
        .diagnosis
        .get_or_insert_with(|| crate::diagnosis::diagnose(analysis, &analysis.ttls));
    if let Some(d) = crate::diagnosis::connection(diagnosis, stream) {
        for reset in &d.resets {
            connection.middlebox |= reset.sender == Sender::Middlebox;
            let frames = std::iter::once(reset.frame).chain(reset.evidence.iter().map(|e| e.frame));
            connection
                .evidence
                .extend(frames.filter_map(|f| u32::try_from(f.checked_sub(1)?).ok()));
        }
        connection.evidence.sort_unstable();
        connection.evidence.dedup();
    }
    FromWorker::Packets { job, connection }
}

/// One packet's headers and bytes, read back from the file.
async fn detail(kept: &RefCell<Option<Kept>>, job: JobId, index: u32) -> FromWorker {
    let (file, location, compressed) = {
        let guard = kept.borrow();
        let Some(k) = guard.as_ref().filter(|k| k.job == job) else {
            return unanswered(job, "this capture's analysis is no longer in memory");
        };
        let records = k.analysis.tcp.records();
        let Some(pos) = records.position_of(PacketIdx(index)) else {
            return unanswered(job, "that packet is not a TCP packet of this capture");
        };
        (
            k.file.clone(),
            k.analysis.locations.get(pos as usize).copied(),
            k.analysis.capture.compression.is_some(),
        )
    };
    let bytes = match location {
        None => Err("the packet's place in the file is unknown".to_string()),
        Some(_) if compressed => redecode(&file, index).await,
        Some(loc) => {
            let start = loc.offset() as f64;
            read(&file, start, start + f64::from(loc.captured))
                .await
                .map_err(|()| "the browser could not read the packet's bytes".to_string())
        }
    };
    let guard = kept.borrow();
    let Some(k) = guard.as_ref().filter(|k| k.job == job) else {
        return unanswered(job, "this capture's analysis is no longer in memory");
    };
    match packet_detail(&k.analysis, index, bytes.as_deref().map_err(Clone::clone)) {
        Some(detail) => FromWorker::Detail { job, detail },
        None => unanswered(job, "that packet is not a TCP packet of this capture"),
    }
}

/// The packets of `streams` as a capture file, read back from the file byte for byte.
async fn export_capture(
    kept: &RefCell<Option<Kept>>,
    job: JobId,
    streams: &[StreamId],
) -> Result<(export::Format, Vec<u8>), String> {
    let (file, planned, compressed) = {
        let guard = kept.borrow();
        let Some(k) = guard.as_ref().filter(|k| k.job == job) else {
            return Err("this capture's analysis is no longer in memory".into());
        };
        (
            k.file.clone(),
            export::plan(&k.analysis, streams),
            k.analysis.capture.compression.is_some(),
        )
    };
    let bytes = if compressed {
        redecode_all(&file, &planned).await?
    } else {
        read_all(&file, &planned).await?
    };
    let packets: Vec<(Planned, &[u8])> = planned
        .iter()
        .copied()
        .zip(bytes.iter().map(Vec::as_slice))
        .collect();
    Ok((export::format_for(&planned), export::write(&packets)))
}

/// Each planned packet's bytes from an uncompressed file, read in slices of up to `CHUNK`
/// bytes that hold as many consecutive packets as fit.
async fn read_all(file: &File, planned: &[Planned]) -> Result<Vec<Vec<u8>>, String> {
    let total = file.size() as u64;
    let mut out = Vec::with_capacity(planned.len());
    let (mut buf, mut buf_start) = (Vec::new(), 0_u64);
    for p in planned {
        let start = p.location.offset();
        let end = start + u64::from(p.location.captured);
        if start < buf_start || end > buf_start + buf.len() as u64 {
            let to = (start + CHUNK as u64).max(end).min(total);
            buf = read(file, start as f64, to as f64)
                .await
                .map_err(|()| format!("the browser could not read the file at byte {start}"))?;
            buf_start = start;
        }
        let bytes = usize::try_from(start - buf_start)
            .ok()
            .zip(usize::try_from(end - buf_start).ok())
            .and_then(|(s, e)| buf.get(s..e))
            .ok_or_else(|| format!("the file ends before frame {}", p.index.frame_number()))?;
        out.push(bytes.to_vec());
    }
    Ok(out)
}

/// Each planned packet's bytes from a compressed file: decoded again from the start, up to
/// the last planned packet.
async fn redecode_all(file: &File, planned: &[Planned]) -> Result<Vec<Vec<u8>>, String> {
    let total = file.size();
    let mut decoder = Decoder::new();
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(planned.len());
    let mut offset = 0.0;
    while offset < total && out.len() < planned.len() {
        let end = (offset + CHUNK).min(total);
        let chunk = read(file, offset, end)
            .await
            .map_err(|()| format!("the browser could not read the file at byte {offset}"))?;
        let mut sink = |event: Event<'_>| {
            if let Event::Packet(p) = event {
                // Planned packets are in file order, as the decoder reports them.
                if planned
                    .get(out.len())
                    .is_some_and(|want| want.index == p.index)
                {
                    out.push(p.data.to_vec());
                }
            }
        };
        decoder.feed(&chunk, &mut sink).map_err(|e| e.to_string())?;
        offset = end;
    }
    if out.len() < planned.len() {
        let mut sink = |event: Event<'_>| {
            if let Event::Packet(p) = event {
                if planned
                    .get(out.len())
                    .is_some_and(|want| want.index == p.index)
                {
                    out.push(p.data.to_vec());
                }
            }
        };
        decoder.finish(&mut sink).map_err(|e| e.to_string())?;
    }
    if out.len() == planned.len() {
        Ok(out)
    } else {
        Err("some packets were not found when decompressing the file again".into())
    }
}

/// `value` in [`wire`]'s form, or the sentence for the page if it cannot be.
fn encode<T: serde::Serialize + ?Sized>(
    job: JobId,
    value: &T,
    into: &mut Vec<u8>,
) -> Result<(), FromWorker> {
    wire::to_bytes_into(value, into).map_err(|e| FromWorker::Failed {
        job,
        message: format!("the report could not be encoded ({e})"),
    })
}

/// Sends part `part` of the report to the page in [`wire`]'s binary form: the bytes are
/// copied into `buffer` (at least as large), which is transferred (see the protocol's module
/// documentation).
fn post_report(
    scope: &DedicatedWorkerGlobalScope,
    job: JobId,
    part: u32,
    last: bool,
    millis: f64,
    bytes: &[u8],
    buffer: ArrayBuffer,
) -> Result<(), JsValue> {
    let message = Object::new();
    Reflect::set(&message, &"kind".into(), &REPORT_KIND.into())?;
    Reflect::set(&message, &"job".into(), &JsValue::from(job))?;
    Reflect::set(&message, &"part".into(), &JsValue::from(part))?;
    Reflect::set(&message, &"last".into(), &JsValue::from_bool(last))?;
    Reflect::set(&message, &"millis".into(), &JsValue::from_f64(millis))?;
    let len = u32::try_from(bytes.len()).map_err(|_| JsValue::NULL)?;
    let array = Uint8Array::new_with_byte_offset_and_length(&buffer, 0, len);
    array.copy_from(bytes);
    Reflect::set(&message, &"bytes".into(), &array)?;
    scope.post_message_with_transfer(&message, &Array::of1(&buffer))
}

/// Sends a capture file to the page, its bytes transferred rather than copied.
fn post_capture(
    scope: &DedicatedWorkerGlobalScope,
    job: JobId,
    name: &str,
    bytes: &[u8],
) -> Result<(), JsValue> {
    let message = Object::new();
    Reflect::set(&message, &"kind".into(), &CAPTURE_KIND.into())?;
    Reflect::set(&message, &"job".into(), &JsValue::from(job))?;
    Reflect::set(&message, &"name".into(), &name.into())?;
    let array = Uint8Array::from(bytes);
    Reflect::set(&message, &"bytes".into(), &array)?;
    scope.post_message_with_transfer(&message, &Array::of1(&array.buffer()))
}

/// Bytes `start..end` of the file.
async fn read(file: &File, start: f64, end: f64) -> Result<Vec<u8>, ()> {
    let slice = file.slice_with_f64_and_f64(start, end).map_err(|_| ())?;
    let bytes = JsFuture::from(slice.array_buffer()).await.map_err(|_| ())?;
    Ok(Uint8Array::new(&bytes).to_vec())
}

/// A packet of a compressed file: its offset is in the decompressed stream, so the file is
/// decoded again from the start up to it (slower, and only done on demand).
async fn redecode(file: &File, index: u32) -> Result<Vec<u8>, String> {
    let total = file.size();
    let mut decoder = Decoder::new();
    let mut found: Option<Vec<u8>> = None;
    let mut offset = 0.0;
    while offset < total && found.is_none() {
        let end = (offset + CHUNK).min(total);
        let chunk = read(file, offset, end)
            .await
            .map_err(|()| format!("the browser could not read the file at byte {offset}"))?;
        let mut sink = |event: Event<'_>| {
            if let Event::Packet(p) = event {
                if p.index.0 == index && found.is_none() {
                    found = Some(p.data.to_vec());
                }
            }
        };
        decoder.feed(&chunk, &mut sink).map_err(|e| e.to_string())?;
        offset = end;
    }
    found.ok_or_else(|| "the packet was not found when decompressing the file again".to_string())
}
