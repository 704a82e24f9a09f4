//! Messages between the page and its worker. The page sends the `File` object itself (it is
//! structured-cloneable, so no bytes are copied on the main thread); the worker answers with
//! [`FromWorker`] messages serialised as JSON strings.

use serde::{Deserialize, Serialize};

use crate::report::Report;

/// Name of the worker's loader script that Trunk writes next to `index.html`.
pub const WORKER_URL: &str = "./rstscope-worker_loader.js";

/// What the worker tells the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has loaded and listens: the page may send the file now. (A message sent
    /// before the worker's wasm has installed its handler would be lost.)
    Ready,
    /// Bytes read so far of the file's total.
    Progress { read: u64, total: u64, packets: u64 },
    /// The analysis is complete. `millis`: time spent in the worker.
    Done { report: Report, millis: f64 },
    /// The file cannot be read as a capture (one sentence).
    Failed { message: String },
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<FromWorker, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable message from the worker: {e}"))
    }
}
