//! The browser front end (wasm32 only): the Yew page and the Web Worker glue. Nothing in the
//! core knows this module exists; it drives [`crate::pipeline::Analyzer`] in the worker and
//! draws [`crate::report::Report`]s on the page.

pub mod app;
pub mod components;
pub mod protocol;
pub mod state;
pub mod warm_up;
pub mod wire;
pub mod worker;

/// Starts the page: mounts the Yew application on `<body>`.
pub fn start_app() {
    yew::Renderer::<app::App>::new().render();
}

/// Sets a performance mark on the page's clock (see `app` for which ones there are).
pub(crate) fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
