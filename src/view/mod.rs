//! View models: what the page shows, computed from a [`crate::report::Report`] by pure
//! functions that are tested natively. Components only draw their output.

pub mod table;
