//! The root component: owns the state reducer and the worker, and lays out the views.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, File, MessageEvent, Worker, WorkerOptions};
use yew::prelude::*;

use super::components::{CaptureSummary, ConnectionTable, DropZone, ProgressBar};
use super::protocol::{FromWorker, WORKER_URL};
use super::state::{Action, Phase, State};

/// A running worker and the handler that must live as long as it does.
struct RunningWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Starts a fresh worker for `file`, which is sent once the worker says it is ready. A previous worker is dropped (terminated) by the caller
/// replacing it, so loading a second file, or cancelling, stops the first run at once.
fn spawn_worker(
    file: &File,
    dispatch: UseReducerDispatcher<State>,
) -> Result<RunningWorker, String> {
    let options = WorkerOptions::new();
    let worker = Worker::new_with_options(WORKER_URL, &options)
        .map_err(|_| "the browser refused to start the analysis worker".to_string())?;
    let sender = worker.clone();
    let failed = dispatch.clone();
    let file = file.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        let action = match FromWorker::from_json(&text) {
            Ok(FromWorker::Ready) => match sender.post_message(&file) {
                Ok(()) => return,
                Err(_) => Action::Failed {
                    message: "the file could not be handed to the worker".into(),
                },
            },
            Ok(FromWorker::Progress {
                read,
                total,
                packets,
            }) => Action::Progress {
                read,
                total,
                packets,
            },
            Ok(FromWorker::Done { report, millis }) => Action::Done {
                report: Rc::new(report),
                millis,
            },
            Ok(FromWorker::Failed { message }) => Action::Failed { message },
            Err(message) => Action::Failed { message },
        };
        dispatch.dispatch(action);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // A worker that fails to load or crashes (a bug, or the tab out of memory) must end in a
    // sentence on the page, never in a progress bar that waits forever.
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        event.prevent_default();
        let detail = event.message();
        failed.dispatch(Action::Failed {
            message: if detail.is_empty() {
                "the analysis worker stopped unexpectedly".to_string()
            } else {
                format!("the analysis worker stopped unexpectedly ({detail})")
            },
        });
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(RunningWorker {
        worker,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// The page.
#[component]
pub fn App() -> Html {
    let state = use_reducer(State::default);
    let worker: Rc<RefCell<Option<RunningWorker>>> = use_mut_ref(|| None);

    let on_file = {
        let dispatch = state.dispatcher();
        let worker = worker.clone();
        Callback::from(move |file: File| {
            // Terminate the previous run before its results can arrive.
            worker.borrow_mut().take();
            dispatch.dispatch(Action::Open {
                name: file.name(),
                size: file.size() as u64,
            });
            match spawn_worker(&file, dispatch.clone()) {
                Ok(running) => *worker.borrow_mut() = Some(running),
                Err(message) => dispatch.dispatch(Action::Failed { message }),
            }
        })
    };
    let on_cancel = {
        let dispatch = state.dispatcher();
        let worker = worker.clone();
        Callback::from(move |()| {
            worker.borrow_mut().take();
            dispatch.dispatch(Action::Cancel);
        })
    };

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
            <>
                <CaptureSummary report={report.clone()} file_name={file_name} millis={*millis} />
                <ConnectionTable report={report.clone()} />
            </>
        },
        Phase::Failed { message } => html! {
            <div class="app__error" role="alert">
                <strong>{ format!("{file_name} could not be read: ") }</strong>{ message.clone() }
            </div>
        },
        Phase::Cancelled => html! {
            <div class="app__notice" role="status">{ format!("Reading {file_name} was cancelled.") }</div>
        },
    };
    let busy = matches!(state.phase, Phase::Loading { .. });

    html! {
        <div class="app">
            <header class="app__header">
                <h1 class="app__title">{ "rstscope" }</h1>
                <p class="app__tagline">{ "Who reset this TCP connection, and why? Your capture never leaves this browser." }</p>
            </header>
            <main class="app__main">
                <DropZone on_file={on_file} busy={busy} />
                { body }
            </main>
        </div>
    }
}
