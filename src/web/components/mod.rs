//! The page's components. Each takes plain props and `Callback`s and draws; none holds
//! analysis state of its own. CSS for each lives in `styles/<component>.css`.

mod capture_summary;
mod connection_table;
mod detail_pane;
mod drop_zone;
mod explorer;
mod progress_bar;
mod resets_summary;
mod sequence_diagram;
mod timeline;

pub use capture_summary::{CaptureSummary, CaptureSummaryProps};
pub use connection_table::{ConnectionTable, ConnectionTableProps};
pub use detail_pane::{DetailPane, DetailPaneProps};
pub use drop_zone::{DropZone, DropZoneProps};
pub use explorer::{Explorer, ExplorerProps};
pub use progress_bar::{ProgressBar, ProgressBarProps};
pub use resets_summary::{ResetsSummary, ResetsSummaryProps};
pub use sequence_diagram::{SequenceDiagram, SequenceDiagramProps, DIAGRAM_CSS};
pub use timeline::{Timeline, TimelineProps};

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
