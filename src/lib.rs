//! rstscope's core: reading captures, dissecting packets, rebuilding TCP connections and
//! reporting on them. Plain Rust with no browser dependency; the page (`web`, wasm32 only) and
//! the command-line tool sit on top of it.

pub mod analysis;
pub mod capture;
pub mod diagnosis;
pub mod dissect;
pub mod export;
pub mod flow;
pub mod pipeline;
pub mod report;
pub mod seq;
pub mod synth;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod web;
