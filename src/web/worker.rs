//! The worker side: receives a `File`, reads it in chunks with `FileReaderSync` (a worker may
//! block; the page never does), feeds the analyzer and posts progress and the report.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use super::protocol::FromWorker;
use crate::pipeline::Analyzer;
use crate::report::Report;

/// Bytes read per step: large enough to amortise the copy into wasm memory, small enough for
/// the progress bar to move often.
const CHUNK: f64 = 4.0 * 1024.0 * 1024.0;

/// Installs the message handler. Called from the worker binary's `main`.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let message = match event.data().dyn_into::<File>() {
            Ok(file) => analyze(&reply_scope, &file),
            Err(_) => FromWorker::Failed {
                message: "the page sent something that is not a file".into(),
            },
        };
        post(&reply_scope, &message);
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

fn analyze(scope: &DedicatedWorkerGlobalScope, file: &File) -> FromWorker {
    let started = now(scope);
    let reader = match FileReaderSync::new() {
        Ok(reader) => reader,
        Err(_) => {
            return FromWorker::Failed {
                message: "this browser cannot read files in a worker".into(),
            }
        }
    };
    let total = file.size();
    let mut analyzer = Analyzer::new();
    let mut buf = Vec::new();
    let mut offset = 0.0;
    while offset < total {
        let end = (offset + CHUNK).min(total);
        let bytes = file
            .slice_with_f64_and_f64(offset, end)
            .and_then(|blob| reader.read_as_array_buffer(&blob));
        let array = match bytes {
            Ok(bytes) => Uint8Array::new(&bytes),
            Err(_) => {
                return FromWorker::Failed {
                    message: format!("the browser could not read the file at byte {offset}"),
                }
            }
        };
        buf.resize(array.length() as usize, 0);
        array.copy_to(&mut buf);
        if let Err(error) = analyzer.feed(&buf) {
            return FromWorker::Failed {
                message: error.to_string(),
            };
        }
        offset = end;
        post(
            scope,
            &FromWorker::Progress {
                read: offset as u64,
                total: total as u64,
                packets: analyzer.packets(),
            },
        );
    }
    match analyzer.finish() {
        Ok(analysis) => FromWorker::Done {
            report: Report::new(&analysis),
            millis: now(scope) - started,
        },
        Err(error) => FromWorker::Failed {
            message: error.to_string(),
        },
    }
}
