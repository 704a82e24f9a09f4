//! Where a capture comes in: drop a file, or click to pick one.

use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

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
        </label>
    }
}
