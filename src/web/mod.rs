//! The browser front end (wasm32 only): the Yew page and the Web Worker glue. Nothing in the
//! core knows this module exists; it drives [`crate::pipeline::Analyzer`] in the worker and
//! draws [`crate::report::Report`]s on the page.

pub mod app;
pub mod components;
pub mod protocol;
pub mod state;
pub mod worker;

/// Starts the page: mounts the Yew application on `<body>`.
pub fn start_app() {
    yew::Renderer::<app::App>::new().render();
}
