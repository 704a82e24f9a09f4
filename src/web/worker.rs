//! The worker side: receives `{job, file}`, reads the file in slices (awaiting each, so a
//! `{job, cancel}` message is seen between slices), feeds the analyzer and posts progress and
//! the report. One worker serves every file the page opens.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

use super::protocol::{FromWorker, JobId};
use crate::pipeline::Analyzer;
use crate::report::Report;

/// Bytes read per step: large enough to amortise the copy into wasm memory, small enough for
/// the progress bar to move often and for a cancel to take effect quickly.
const CHUNK: f64 = 4.0 * 1024.0 * 1024.0;

/// Installs the message handler and tells the page the worker is ready. Called from the
/// worker binary's `main`.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // The job being worked on; a job whose number is no longer here stops at its next slice.
    let current: Rc<Cell<JobId>> = Rc::new(Cell::new(0));
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
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
        current.set(job);
        let file = Reflect::get(&data, &"file".into())
            .ok()
            .and_then(|v| v.dyn_into::<File>().ok());
        let scope = reply_scope.clone();
        let current = current.clone();
        spawn_local(async move {
            let message = match file {
                Some(file) => analyze(&scope, job, &file, &current).await,
                None => FromWorker::Failed {
                    job,
                    message: "the page sent something that is not a file".into(),
                },
            };
            post(&scope, &message);
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &FromWorker::Ready);
}

fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker) {
    let _ = scope.post_message(&JsValue::from_str(&message.to_json()));
}

fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map_or(0.0, |p| p.now())
}

async fn analyze(
    scope: &DedicatedWorkerGlobalScope,
    job: JobId,
    file: &File,
    current: &Cell<JobId>,
) -> FromWorker {
    let started = now(scope);
    let total = file.size();
    let mut analyzer = Analyzer::new();
    let mut buf = Vec::new();
    let mut offset = 0.0;
    while offset < total {
        let end = (offset + CHUNK).min(total);
        let slice = match file.slice_with_f64_and_f64(offset, end) {
            Ok(slice) => slice,
            Err(_) => return unreadable(job, offset),
        };
        let bytes = match JsFuture::from(slice.array_buffer()).await {
            Ok(bytes) => Uint8Array::new(&bytes),
            Err(_) => return unreadable(job, offset),
        };
        if current.get() != job {
            return FromWorker::Cancelled { job };
        }
        buf.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut buf);
        if let Err(error) = analyzer.feed(&buf) {
            return FromWorker::Failed {
                job,
                message: error.to_string(),
            };
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
    match analyzer.finish() {
        Ok(analysis) => FromWorker::Done {
            job,
            report: Report::new(&analysis),
            millis: now(scope) - started,
        },
        Err(error) => FromWorker::Failed {
            job,
            message: error.to_string(),
        },
    }
}

fn unreadable(job: JobId, offset: f64) -> FromWorker {
    FromWorker::Failed {
        job,
        message: format!("the browser could not read the file at byte {offset}"),
    }
}
