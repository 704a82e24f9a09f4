//! View models: what the page shows, computed from a [`crate::report::Report`] (or, for one
//! connection, from the analysis) by pure functions that are tested natively. Components only
//! draw their output.

pub mod export;
pub mod fields;
pub mod ladder;
pub mod table;
pub mod time;
pub mod timeline;
