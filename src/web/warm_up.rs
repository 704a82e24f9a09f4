//! The page's own warm-up, on the worker's warm-up report (job [`WARM_UP_JOB`]).
//!
//! A browser runs WebAssembly from a quick baseline compilation at first and compiles a
//! function to its optimised tier only after it has run for a while; a call already running
//! stays on the slow code. Read once and modelled once, the warm-up report left the page's
//! drawing code (the Yew components, the table's sorts, the timeline, float formatting) and
//! most of the report's decoding to be compiled during the person's first file, while it
//! ran: at 100 MB about 0.1 s of compiling on the renderer's other threads, and the
//! drawing on the slow code. So the page reads each part of that report [`DECODES`] more
//! times and draws the report [`DRAWINGS`] times with the page's own [`ReportViews`], each
//! time into an element that is never put in the document, before it says it is ready. That
//! takes about 0.5 s after the worker's warm-up on a two-core machine, in turns of a few
//! milliseconds, and stops as soon as the person chooses a file.

use std::hint::black_box;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use web_sys::Element;
use yew::prelude::*;
use yew::AppHandle;

use super::components::{ReportViews, ReportViewsProps};
#[cfg(doc)]
use super::protocol::WARM_UP_JOB;
use super::wire;
use crate::report::{ConnectionReport, Report};

/// How many more times the page reads each part of the warm-up report's rows.
pub const DECODES: u32 = 12;

/// How many times the page draws the warm-up report off the document.
pub const DRAWINGS: u32 = 40;

/// Reads a part of the warm-up report's rows [`DECODES`] times and drops what it read.
pub fn decode_again(bytes: &[u8]) {
    for _ in 0..DECODES {
        let _ = black_box(wire::from_bytes::<Vec<ConnectionReport>>(bytes));
    }
}

/// Draws `report` `rounds` times, each with the views the page shows for a report, mounted on
/// a fresh element that is never put in the document, one drawing per turn of the event loop.
/// Before each it asks `keep_going` (a person's file comes first); `done` is called once, after
/// the last drawing or when `keep_going` says no.
pub fn draw(
    report: Rc<Report>,
    rounds: u32,
    keep_going: Rc<dyn Fn() -> bool>,
    done: Box<dyn FnOnce()>,
) {
    if rounds == 0 || !keep_going() {
        return done();
    }
    let Ok(root) = gloo::utils::document().create_element("div") else {
        return done();
    };
    let app = draw_on(root, report.clone());
    // Yew draws in a microtask; a timer runs after it, so the drawing is done by then.
    Timeout::new(0, move || {
        app.destroy();
        draw(report, rounds - 1, keep_going, done);
    })
    .forget();
}

/// Mounts the page's [`ReportViews`] of `report` on `root`, with callbacks that do nothing
/// (Yew draws it in a microtask).
pub fn draw_on(root: Element, report: Rc<Report>) -> AppHandle<ReportViews> {
    let props = ReportViewsProps {
        report,
        file_name: String::new(),
        millis: 0.0,
        connection: None,
        detail: None,
        on_open: Callback::noop(),
        on_question: Callback::noop(),
        on_export: Callback::noop(),
    };
    yew::Renderer::<ReportViews>::with_root_and_props(root, props).render()
}
