//! The root component: owns the state reducer and the worker, and lays out the views.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ErrorEvent, File, HtmlElement, MessageEvent, ReadableStreamByobReader, Worker,
};
use yew::prelude::*;

use super::components::{
    download_bytes, DropZone, Preferences, ProgressBar, ReportViews, ShortcutHelp,
};
use super::protocol::{
    FromWorker, JobId, Question, CAPTURE_KIND, READ_KIND, REPORT_KIND, SPARE_KEY, WARM_UP_JOB,
    WORKER_URL,
};
use super::state::{Action, Phase, State, Toggle};
use super::{warm_up, wire};
use crate::report::{ConnectionReport, Report, ReportHead};
use crate::view::time::Zone;

/// The page's one worker, started when the page loads, and what waits for it to be ready.
struct Analyst {
    worker: Worker,
    ready: bool,
    /// The latest job and its file, which the page reads for the worker (see
    /// [`super::protocol`]).
    file: Option<(JobId, File)>,
    /// Whether that job was chosen before the worker was ready, and waits to be sent.
    pending: bool,
    /// The page is drawing the worker's warm-up report (see [`warm_up`]); it says it is ready
    /// once that is done and the worker is ready.
    warming_up: bool,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

type SharedAnalyst = Rc<RefCell<Option<Analyst>>>;

fn send(worker: &Worker, job: JobId, file: Option<&File>) -> Result<(), JsValue> {
    let message = Object::new();
    Reflect::set(&message, &"job".into(), &JsValue::from(job))?;
    match file {
        Some(file) => Reflect::set(&message, &"file".into(), file)?,
        None => Reflect::set(&message, &"cancel".into(), &JsValue::TRUE)?,
    };
    worker.post_message(&message)
}

/// Asks the worker about job `job`'s analysis (see [`Question`]).
fn ask(worker: &Worker, job: JobId, question: Question) -> Result<(), JsValue> {
    let message = Object::new();
    Reflect::set(&message, &"job".into(), &JsValue::from(job))?;
    Reflect::set(&message, &"stream".into(), &JsValue::from(question.stream))?;
    if let Some(packet) = question.packet {
        Reflect::set(&message, &"packet".into(), &JsValue::from(packet))?;
    }
    worker.post_message(&message)
}

/// Asks the worker for connections `streams` of job `job` as a capture file named `name`
/// (without extension; the worker adds `.pcap` or `.pcapng`).
fn ask_export(worker: &Worker, job: JobId, streams: &[u32], name: &str) -> Result<(), JsValue> {
    let message = Object::new();
    Reflect::set(&message, &"job".into(), &JsValue::from(job))?;
    let list: Array = streams.iter().map(|s| JsValue::from(*s)).collect();
    Reflect::set(&message, &"export".into(), &list)?;
    Reflect::set(&message, &"name".into(), &name.into())?;
    worker.post_message(&message)
}

/// A capture file the worker wrote (`{kind: "capture", name, bytes}`), offered as a download.
fn offer_capture(data: &JsValue) {
    let field = |key: &str| Reflect::get(data, &key.into()).ok();
    if field("kind").and_then(|k| k.as_string()).as_deref() != Some(CAPTURE_KIND) {
        return;
    }
    let name = field("name")
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "connections.pcap".into());
    if let Some(bytes) = field("bytes").and_then(|b| b.dyn_into::<Uint8Array>().ok()) {
        if download_bytes(&name, "application/vnd.tcpdump.pcap", &bytes).is_err() {
            gloo::console::warn!("the capture file could not be offered as a download");
        }
    }
}

/// Reads the slice of job `file`'s file the worker asks for (`{kind: "read", job, start, end,
/// into}`, see [`super::protocol`]) and sends it its bytes, transferred.
fn serve_read(worker: Worker, file: Option<&(JobId, File)>, data: &JsValue) {
    let field = |key: &str| Reflect::get(data, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let (job, start, end) = (field("job"), field("start"), field("end"));
    // Sliced here rather than by the worker: a slice made in the worker costs it about half a
    // millisecond (150 ms of its time at 1 GB), one made here much less.
    let blob = file
        .filter(|(latest, _)| job.as_f64() == Some(f64::from(*latest)))
        .zip(start.as_f64().zip(end.as_f64()))
        .and_then(|((_, file), (start, end))| file.slice_with_f64_and_f64(start, end).ok());
    let into = field("into").dyn_into::<ArrayBuffer>().ok();
    wasm_bindgen_futures::spawn_local(async move {
        let bytes = match blob {
            Some(blob) => read_blob(&blob, into).await,
            None => None,
        };
        let answer = Object::new();
        let _ = Reflect::set(&answer, &"job".into(), &job);
        let _ = Reflect::set(&answer, &"slice".into(), &start);
        let sent = bytes.is_some_and(|bytes| {
            Reflect::set(&answer, &"bytes".into(), &bytes)
                .and_then(|_| {
                    worker.post_message_with_transfer(&answer, &Array::of1(&bytes.buffer()))
                })
                .is_ok()
        });
        if !sent {
            // Unread, or the bytes could not be handed over: the worker must hear either way,
            // or it would wait for this slice for ever.
            let _ = Reflect::delete_property(&answer, &"bytes".into());
            let _ = Reflect::set(&answer, &"failed".into(), &JsValue::TRUE)
                .and_then(|_| worker.post_message(&answer));
        }
    });
}

/// The bytes of `blob`: read into `into` when it is large enough and the browser can read the
/// blob's stream into a buffer it is given (a "BYOB" reader), else into a new buffer. Reading
/// into the worker's buffers, which travel back and forth, spares the browser a fresh 8 MiB of
/// memory per slice: at 1 GB, about half of the CPU time the reading took.
pub async fn read_blob(blob: &Blob, into: Option<ArrayBuffer>) -> Option<Uint8Array> {
    let size = blob.size();
    if let Some(into) = into.filter(|into| f64::from(into.byte_length()) >= size) {
        if let Ok(reader) = ReadableStreamByobReader::new(&blob.stream()) {
            return read_into(&reader, into, size as u32).await;
        }
    }
    let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buffer))
}

/// The first `size` bytes `reader` gives, read into `buffer` (each read hands the buffer over
/// and gives it back); `None` if the stream ends before or fails.
async fn read_into(
    reader: &ReadableStreamByobReader,
    mut buffer: ArrayBuffer,
    size: u32,
) -> Option<Uint8Array> {
    let mut filled = 0;
    while filled < size {
        let view = Uint8Array::new_with_byte_offset_and_length(&buffer, filled, size - filled);
        let result = JsFuture::from(reader.read_with_array_buffer_view(&view))
            .await
            .ok()?;
        let value = Reflect::get(&result, &"value".into())
            .ok()?
            .dyn_into::<Uint8Array>()
            .ok()?;
        buffer = value.buffer();
        if value.length() == 0 {
            break;
        }
        filled += value.length();
    }
    (filled == size).then(|| Uint8Array::new_with_byte_offset_and_length(&buffer, 0, size))
}

/// A report arriving in parts (see [`super::protocol`]): its head, and the rows so far.
struct Arriving {
    job: JobId,
    head: ReportHead,
    rows: Vec<ConnectionReport>,
}

/// Takes one of the worker's report messages (`{kind: "report", job, part, last, millis,
/// bytes}`, see [`super::protocol`]) into `arriving`: `Some` with the action the report leads
/// to once its last part is in, or at the first that cannot be read; `None` for a part before
/// the last, a part of a job whose head did not come, and any other message (the caller
/// tells them apart with [`is_report`]).
fn read_report(data: &JsValue, arriving: &mut Option<Arriving>) -> Option<Action> {
    let field = |key: &str| Reflect::get(data, &key.into()).ok();
    let job = field("job").and_then(|j| j.as_f64()).unwrap_or(0.0) as JobId;
    let part = field("part").and_then(|p| p.as_f64()).unwrap_or(0.0);
    let last = field("last").is_some_and(|l| l.is_truthy());
    let bytes = field("bytes")
        .and_then(|b| b.dyn_into::<Uint8Array>().ok())
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let unreadable = |e: wire::WireError| Action::Failed {
        job,
        message: format!("the report from the worker could not be read ({e})"),
    };
    // The warm-up's report is not the person's: no marks for the benchmark.
    let mark = |name: &str| {
        if job != WARM_UP_JOB {
            mark(name);
        }
    };
    if part == 0.0 {
        mark("rstscope:report-received");
        let head: ReportHead = match wire::from_bytes(&bytes) {
            Ok(head) => head,
            Err(e) => return Some(unreadable(e)),
        };
        // The count comes from this page's own worker; capped all the same.
        let rows = Vec::with_capacity(head.connections.min(1 << 20));
        *arriving = Some(Arriving { job, head, rows });
    } else {
        let into = arriving.as_mut().filter(|a| a.job == job)?;
        if job == WARM_UP_JOB {
            warm_up::decode_again(&bytes);
        }
        match wire::from_bytes::<Vec<ConnectionReport>>(&bytes) {
            Ok(rows) => into.rows.extend(rows),
            Err(e) => {
                *arriving = None;
                return Some(unreadable(e));
            }
        }
    }
    if !last {
        return None;
    }
    let Arriving { head, rows, .. } = arriving.take()?;
    let millis = field("millis").and_then(|m| m.as_f64()).unwrap_or(0.0);
    Some(match Report::from_parts(head, rows) {
        Some(report) => {
            mark("rstscope:report-decoded");
            Action::Done {
                job,
                report: Rc::new(report),
                millis,
            }
        }
        None => Action::Failed {
            job,
            message: "the report from the worker came incomplete".into(),
        },
    })
}

/// Draws the worker's warm-up report off the document (see [`warm_up`]), then says the page
/// is ready if the worker is. Stops early once the person has chosen a file.
fn warm_up_views(
    shared: &SharedAnalyst,
    dispatch: &UseReducerDispatcher<State>,
    report: Rc<Report>,
) {
    if let Some(analyst) = shared.borrow_mut().as_mut() {
        analyst.warming_up = true;
    }
    let keep_going = {
        let shared = shared.clone();
        Rc::new(move || shared.borrow().as_ref().is_some_and(|a| a.file.is_none()))
    };
    let done = {
        let (shared, dispatch) = (shared.clone(), dispatch.clone());
        Box::new(move || {
            let ready = shared.borrow_mut().as_mut().is_some_and(|analyst| {
                analyst.warming_up = false;
                analyst.ready
            });
            if ready {
                dispatch.dispatch(Action::WorkerReady);
            }
        })
    };
    warm_up::draw(report, warm_up::DRAWINGS, keep_going, done);
}

/// Gives the buffer of a report's part, read by now, back to the worker for a later part
/// (see [`super::protocol`]).
fn give_back(worker: &Worker, data: &JsValue) {
    let Some(bytes) = Reflect::get(data, &"bytes".into())
        .ok()
        .and_then(|b| b.dyn_into::<Uint8Array>().ok())
    else {
        return;
    };
    let buffer = bytes.buffer();
    let message = Object::new();
    if Reflect::set(&message, &SPARE_KEY.into(), &buffer).is_ok() {
        let _ = worker.post_message_with_transfer(&message, &Array::of1(&buffer));
    }
}

/// Whether `data` is one of the worker's report messages.
fn is_report(data: &JsValue) -> bool {
    Reflect::get(data, &"kind".into())
        .ok()
        .and_then(|k| k.as_string())
        .as_deref()
        == Some(REPORT_KIND)
}

/// Whether a key press belongs to the page's shortcuts: not typed into a text field, not with
/// a modifier (those are the browser's).
fn is_shortcut(event: &KeyboardEvent) -> bool {
    if event.ctrl_key() || event.meta_key() || event.alt_key() || event.default_prevented() {
        return false;
    }
    let typing = event
        .target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        .is_some_and(|e| {
            matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.is_content_editable()
        });
    !typing
}

/// Starts the worker; its messages become actions.
fn start_analyst(
    shared: SharedAnalyst,
    dispatch: UseReducerDispatcher<State>,
) -> Result<Analyst, String> {
    let worker = Worker::new(WORKER_URL)
        .map_err(|_| "the browser refused to start the analysis worker".to_string())?;
    let on_message = {
        let dispatch = dispatch.clone();
        let mut arriving = None;
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let Some(text) = data.as_string() else {
                let kind = Reflect::get(&data, &"kind".into()).ok();
                if kind.and_then(|k| k.as_string()).as_deref() == Some(READ_KIND) {
                    if let Some(analyst) = shared.borrow().as_ref() {
                        serve_read(analyst.worker.clone(), analyst.file.as_ref(), &data);
                    }
                    return;
                }
                if !is_report(&data) {
                    offer_capture(&data);
                    return;
                }
                let action = read_report(&data, &mut arriving);
                if let Some(analyst) = shared.borrow().as_ref() {
                    give_back(&analyst.worker, &data);
                }
                if let Some(action) = action {
                    match &action {
                        Action::Done {
                            job: WARM_UP_JOB,
                            report,
                            ..
                        } => return warm_up_views(&shared, &dispatch, report.clone()),
                        Action::Failed {
                            job: WARM_UP_JOB, ..
                        } => return,
                        _ => {}
                    }
                    let done = matches!(action, Action::Done { .. });
                    dispatch.dispatch(action);
                    if done {
                        mark("rstscope:report-dispatched");
                    }
                }
                return;
            };
            let action = match FromWorker::from_json(&text) {
                Ok(FromWorker::Ready) => {
                    let mut guard = shared.borrow_mut();
                    let Some(analyst) = guard.as_mut() else {
                        return;
                    };
                    analyst.ready = true;
                    if !analyst.warming_up {
                        dispatch.dispatch(Action::WorkerReady);
                    }
                    let Some((job, file)) = analyst.file.as_ref().filter(|_| analyst.pending)
                    else {
                        return;
                    };
                    let job = *job;
                    analyst.pending = false;
                    match send(&analyst.worker, job, Some(file)) {
                        Ok(()) => return,
                        Err(_) => Action::Failed {
                            job,
                            message: "the file could not be handed to the worker".into(),
                        },
                    }
                }
                Ok(FromWorker::Progress {
                    job,
                    read,
                    total,
                    packets,
                }) => Action::Progress {
                    job,
                    read,
                    total,
                    packets,
                },
                Ok(FromWorker::Failed { job, message }) => Action::Failed { job, message },
                Ok(FromWorker::Cancelled { .. }) => return,
                Ok(FromWorker::Packets { job, connection }) => Action::Packets {
                    job,
                    connection: Rc::new(connection),
                },
                Ok(FromWorker::Detail { job, detail }) => Action::Detail {
                    job,
                    detail: Rc::new(detail),
                },
                Ok(FromWorker::Timings { marks, .. }) => {
                    for (name, at) in marks {
                        mark_at(&name, at);
                    }
                    return;
                }
                Ok(FromWorker::Unanswered { message, .. }) => {
                    gloo::console::warn!(message);
                    return;
                }
                Err(message) => Action::Failed { job: 0, message },
            };
            dispatch.dispatch(action);
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // A worker that fails to load or crashes (a bug, or the tab out of memory) must end in a
    // sentence on the page, never in a progress bar that waits forever.
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        event.prevent_default();
        let detail = event.message();
        dispatch.dispatch(Action::Crashed {
            message: if detail.is_empty() {
                "the analysis worker stopped unexpectedly".to_string()
            } else {
                format!("the analysis worker stopped unexpectedly ({detail})")
            },
        });
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Analyst {
        worker,
        ready: false,
        file: None,
        pending: false,
        warming_up: false,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// Registers the service worker that keeps the app's files for offline use, and reports when
/// it is active. Without a secure context (a `file:` URL, say) there is none, and the page
/// simply works online only.
fn register_service_worker(dispatch: UseReducerDispatcher<State>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if !window.is_secure_context() {
        return;
    }
    let container = window.navigator().service_worker();
    let _ = container.register("./sw.js");
    if let Ok(ready) = container.ready() {
        wasm_bindgen_futures::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(ready).await.is_ok() {
                dispatch.dispatch(Action::OfflineReady);
            }
        });
    }
}

/// Sets a performance mark (the browser benchmark, tests/e2e/bench.mjs, reads them): when a
/// file was chosen, when its report arrived from the worker, was decoded and handed to the
/// state, and when it was first shown. The worker's steps (read, analysed, report built,
/// encoded, posted) come as marks too, from [`FromWorker::Timings`].
fn mark(name: &str) {
    super::mark(name);
}

/// Sets a performance mark at `epoch_ms` (milliseconds since the Unix epoch, as the worker
/// reports its steps), converted to the page's clock.
fn mark_at(name: &str, epoch_ms: f64) {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else {
        return;
    };
    let options = Object::new();
    let start = epoch_ms - performance.time_origin();
    if !start.is_finite() || start < 0.0 {
        return;
    }
    // `mark(name, {startTime})` (User Timing Level 3), called through JS: web-sys's typed
    // binding needs a feature the crate does not enable.
    let _ = Reflect::set(&options, &"startTime".into(), &JsValue::from_f64(start));
    if let Ok(function) =
        Reflect::get(&performance, &"mark".into()).and_then(|f| f.dyn_into::<js_sys::Function>())
    {
        let _ = function.call2(&performance, &name.into(), &options);
    }
}

/// The page.
#[component]
pub fn App() -> Html {
    let state = use_reducer(State::default);
    let analyst: SharedAnalyst = use_mut_ref(|| None);
    let next_job = use_mut_ref(|| 0 as JobId);

    {
        // Start the worker with the page, so that opening a file fetches nothing.
        let analyst = analyst.clone();
        let dispatch = state.dispatcher();
        use_effect_with((), move |()| {
            register_service_worker(dispatch.clone());
            match start_analyst(analyst.clone(), dispatch.clone()) {
                Ok(started) => *analyst.borrow_mut() = Some(started),
                Err(message) => dispatch.dispatch(Action::Crashed { message }),
            }
            move || {
                if let Some(analyst) = analyst.borrow_mut().take() {
                    analyst.worker.terminate();
                }
            }
        });
    }

    let on_file = {
        let dispatch = state.dispatcher();
        let analyst = analyst.clone();
        Callback::from(move |file: File| {
            mark("rstscope:file-selected");
            let job = {
                let mut next = next_job.borrow_mut();
                *next += 1;
                *next
            };
            dispatch.dispatch(Action::Open {
                job,
                name: file.name(),
                size: file.size() as u64,
            });
            let mut guard = analyst.borrow_mut();
            let Some(analyst) = guard.as_mut() else {
                dispatch.dispatch(Action::Failed {
                    job,
                    message: "the analysis worker is not running".into(),
                });
                return;
            };
            analyst.pending = !analyst.ready;
            let sent = analyst.pending || send(&analyst.worker, job, Some(&file)).is_ok();
            analyst.file = Some((job, file));
            if !sent {
                dispatch.dispatch(Action::Failed {
                    job,
                    message: "the file could not be handed to the worker".into(),
                });
            }
        })
    };
    let on_cancel = {
        let dispatch = state.dispatcher();
        let analyst = analyst.clone();
        let job = state.job;
        Callback::from(move |()| {
            if let Some(analyst) = analyst.borrow_mut().as_mut() {
                analyst.pending = false;
                let _ = send(&analyst.worker, job, None);
            }
            dispatch.dispatch(Action::Cancel);
        })
    };

    let on_question = {
        let analyst = analyst.clone();
        let job = state.job;
        Callback::from(move |question: Question| {
            if let Some(analyst) = analyst.borrow().as_ref() {
                let _ = ask(&analyst.worker, job, question);
            }
        })
    };

    let on_export = {
        let analyst = analyst.clone();
        let job = state.job;
        Callback::from(move |(streams, name): (Vec<u32>, String)| {
            if let Some(analyst) = analyst.borrow().as_ref() {
                let _ = ask_export(&analyst.worker, job, &streams, &name);
            }
        })
    };

    // The page's shortcuts: `?` help, `t` time zone, `s` sequence numbers.
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |()| {
            let document = gloo::utils::document();
            // Not passive: a shortcut's key must not also do what it would do otherwise.
            let options = EventListenerOptions::enable_prevent_default();
            let listener =
                EventListener::new_with_options(&document, "keydown", options, move |event| {
                    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    if !is_shortcut(event) {
                        return;
                    }
                    let toggle = match event.key().as_str() {
                        "?" => Toggle::Help,
                        "t" => Toggle::Zone,
                        "s" => Toggle::Seq,
                        _ => return,
                    };
                    event.prevent_default();
                    dispatch.dispatch(Action::Toggle(toggle));
                });
            move || drop(listener)
        });
    }
    let preferences = Preferences {
        zone: state.zone,
        absolute_seq: state.absolute_seq,
        on_toggle: {
            let dispatch = state.dispatcher();
            Callback::from(move |toggle| dispatch.dispatch(Action::Toggle(toggle)))
        },
    };
    let on_zone = preferences.on_toggle.reform(|_: MouseEvent| Toggle::Zone);
    let on_help = preferences.on_toggle.reform(|_: MouseEvent| Toggle::Help);
    let on_close_help = {
        let dispatch = state.dispatcher();
        Callback::from(move |()| dispatch.dispatch(Action::CloseHelp))
    };

    // A connection opens through the URL fragment (`#stream=N`), so that Back returns.
    let open_stream = Callback::from(|stream: u32| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_hash(&format!("stream={stream}"));
        }
    });
    {
        let shown = matches!(state.phase, Phase::Done { .. });
        use_effect_with((shown, state.job), move |&(shown, _)| {
            if shown {
                mark("rstscope:report-shown");
            }
        });
    }
    let file_name = state.file_name.clone().unwrap_or_default();
    let body = match &state.phase {
        Phase::Idle => html! {},
        Phase::Loading {
            read,
            total,
            packets,
        } => html! {
            <ProgressBar read={*read} total={*total} packets={*packets} file_name={file_name} on_cancel={on_cancel} />
        },
        Phase::Done { report, millis } => html! {
            <ReportViews report={report.clone()} file_name={file_name} millis={*millis}
                connection={state.connection.clone()} detail={state.detail.clone()}
                on_open={open_stream} on_question={on_question} on_export={on_export} />
        },
        Phase::Failed { message } => html! {
            <div class="app__error" role="alert">
                if file_name.is_empty() {
                    { message.clone() }
                } else {
                    <strong>{ format!("{file_name} could not be read: ") }</strong>{ message.clone() }
                }
            </div>
        },
        Phase::Cancelled => html! {
            <div class="app__notice" role="status">{ format!("Reading {file_name} was cancelled.") }</div>
        },
    };
    let busy = matches!(state.phase, Phase::Loading { .. });

    html! {
        <ContextProvider<Preferences> context={preferences}>
        <div class="app" data-worker={if state.worker_ready { "ready" } else { "starting" }}
            data-offline={if state.offline_ready { "ready" } else { "no" }}
            data-zone={if state.zone == Zone::Utc { "utc" } else { "local" }}>
            <header class="app__header">
                <h1 class="app__title">{ "rstscope" }</h1>
                <p class="app__tagline">{ "Who reset this TCP connection, and why? Your capture never leaves this browser." }</p>
                <div class="app__tools">
                    <button type="button" class="app__button app__zone" onclick={on_zone}
                        title={"Times are shown in UTC unless this is on (t). A capture does not record the                             time zone it was taken in, so local time means this browser's time zone."}>
                        { if state.zone == Zone::Utc { "Times: UTC" } else { "Times: local" } }
                    </button>
                    <button type="button" class="app__button app__help-button" onclick={on_help}
                        aria-label="Keyboard shortcuts" aria-haspopup="dialog" title="Keyboard shortcuts (?)">{ "?" }</button>
                </div>
            </header>
            <main class="app__main">
                <DropZone on_file={on_file} busy={busy} />
                { body }
            </main>
            if state.help {
                <ShortcutHelp on_close={on_close_help} />
            }
        </div>
        </ContextProvider<Preferences>>
    }
}
