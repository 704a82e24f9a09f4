//! Where a capture comes in: drop a file, or click to pick one.

use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

/// The sample a first-time visitor can open in one click: a real capture made by the project's
/// scenario script (tests/fixtures/scenarios/README.md): four HTTP connections, one of them
/// reused just as the server's idle timeout closed it, and reset. Built into the page, so
/// opening it fetches nothing.
const SAMPLE: &[u8] = include_bytes!("../../../tests/fixtures/scenarios/everyday.client.pcap");
/// The name the sample is shown under.
pub const SAMPLE_NAME: &str = "sample-keepalive-race.pcap";

/// The sample as a `File`, as if the person had chosen it.
fn sample_file() -> Option<File> {
    let bytes = js_sys::Uint8Array::from(SAMPLE);
    let parts = js_sys::Array::of1(&bytes);
    File::new_with_u8_array_sequence(&parts, SAMPLE_NAME).ok()
}

#[derive(Properties, PartialEq)]
pub struct DropZoneProps {
    /// Called with the chosen file.
    pub on_file: Callback<File>,
    /// A file is being read (the zone stays usable: a new file replaces it).
    pub busy: bool,
}

/// The drop zone, which is also a file picker.
#[component]
pub fn DropZone(props: &DropZoneProps) -> Html {
    let hovering = use_state(|| false);

    let on_change = {
        let on_file = props.on_file.clone();
        Callback::from(move |event: Event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_file.emit(file);
            }
            // Choosing the same file again must fire `change` again.
            input.set_value("");
        })
    };
    let on_drag_over = {
        let hovering = hovering.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            hovering.set(true);
        })
    };
    let on_drag_leave = {
        let hovering = hovering.clone();
        Callback::from(move |_: DragEvent| hovering.set(false))
    };
    let on_drop = {
        let on_file = props.on_file.clone();
        let hovering = hovering.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            hovering.set(false);
            if let Some(file) = event
                .data_transfer()
                .and_then(|dt| dt.files())
                .and_then(|files| files.get(0))
            {
                on_file.emit(file);
            }
        })
    };

    let on_sample = {
        let on_file = props.on_file.clone();
        Callback::from(move |event: MouseEvent| {
            // The button sits inside the label: do not also open the file picker.
            event.prevent_default();
            if let Some(file) = sample_file() {
                on_file.emit(file);
            }
        })
    };

    let class = classes!(
        "drop-zone",
        hovering.then_some("drop-zone--hover"),
        props.busy.then_some("drop-zone--busy")
    );
    html! {
        <label class={class} ondragover={on_drag_over} ondragleave={on_drag_leave} ondrop={on_drop}>
            <input
                class="drop-zone__input"
                type="file"
                accept=".pcap,.pcapng,.cap,.gz,.zst,.pcap.gz,.pcapng.gz,application/vnd.tcpdump.pcap"
                aria-label="Open a capture file"
                onchange={on_change}
            />
            <span class="drop-zone__title">{ "Drop a pcap or pcapng capture here, or click to choose one" }</span>
            <span class="drop-zone__hint">{ "gzip and zstd compressed captures work too. Nothing is uploaded: the analysis runs in this tab." }</span>
            <button class="drop-zone__sample" type="button" onclick={on_sample}
                title="A capture made by rstscope's own test scenarios: an HTTP keep-alive connection reset by the server">
                { "Try a sample capture" }
            </button>
        </label>
    }
}
