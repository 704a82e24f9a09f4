//! The page's components. Each takes plain props and `Callback`s and draws; none holds
//! analysis state of its own. CSS for each lives in `styles/<component>.css`.

mod capture_summary;
mod connection_table;
mod detail_pane;
mod drop_zone;
mod explorer;
mod progress_bar;
mod report_views;
mod resets_summary;
mod sequence_diagram;
mod shortcut_help;
mod timeline;

pub use capture_summary::{CaptureSummary, CaptureSummaryProps};
pub use connection_table::{ConnectionTable, ConnectionTableProps};
pub use detail_pane::{DetailPane, DetailPaneProps};
pub use drop_zone::{DropZone, DropZoneProps};
pub use explorer::{Explorer, ExplorerProps};
pub use progress_bar::{ProgressBar, ProgressBarProps};
pub use report_views::{ReportViews, ReportViewsProps};
pub use resets_summary::{ResetsSummary, ResetsSummaryProps};
pub use sequence_diagram::{SequenceDiagram, SequenceDiagramProps, DIAGRAM_CSS};
pub use shortcut_help::{ShortcutHelp, ShortcutHelpProps, SHORTCUTS};
pub use timeline::{Timeline, TimelineProps};

use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use crate::view::time::Zone;
use crate::web::state::Toggle;

/// How the person wants times and sequence numbers shown: page-wide choices, provided by the
/// app as a context (components mounted without it get the defaults: UTC, relative numbers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preferences {
    /// Times in UTC (the default) or in the browser's local time zone.
    pub zone: Zone,
    /// Absolute sequence numbers (as on the wire) instead of relative ones (the default, as in
    /// Wireshark).
    pub absolute_seq: bool,
    /// Flips one of them.
    pub on_toggle: Callback<Toggle>,
}

/// The page's preferences (the defaults when no app provides them).
#[hook]
pub fn use_preferences() -> Preferences {
    use_context::<Preferences>().unwrap_or_default()
}

/// Minutes east of UTC of `zone` at `ns` (since the Unix epoch): 0 for UTC; the browser's
/// offset at that moment for local time (it changes with daylight saving).
pub fn offset_minutes(zone: Zone, ns: i64) -> i32 {
    match zone {
        Zone::Utc => 0,
        Zone::Local => {
            let date = js_sys::Date::new(&JsValue::from_f64(ns as f64 / 1e6));
            let west = date.get_timezone_offset();
            if west.is_finite() {
                -(west as i32)
            } else {
                0
            }
        }
    }
}

/// Offers `parts` (strings or byte arrays) as a file download through a Blob URL: nothing
/// leaves the browser, and the page's Content-Security-Policy allows it.
fn download_parts(name: &str, mime: &str, parts: &js_sys::Array) -> Result<(), JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = gloo::utils::document();
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    gloo::utils::body().append_child(&a)?;
    a.click();
    a.remove();
    web_sys::Url::revoke_object_url(&url)
}

/// Offers `text` as a file download.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    download_parts(name, mime, &js_sys::Array::of1(&JsValue::from_str(text)))
}

/// Offers `bytes` as a file download.
pub fn download_bytes(name: &str, mime: &str, bytes: &js_sys::Uint8Array) -> Result<(), JsValue> {
    download_parts(name, mime, &js_sys::Array::of1(bytes))
}

/// Bytes with a binary unit, for people.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Seconds for people: `850 ms`, `12.3 s`, `4 min 02 s`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 120.0 {
        format!("{seconds:.1} s")
    } else {
        let whole = seconds as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}
