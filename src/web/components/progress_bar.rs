//! Progress of the read, with a cancel button.

use yew::prelude::*;

use super::human_bytes;

#[derive(Properties, PartialEq)]
pub struct ProgressBarProps {
    pub file_name: String,
    pub read: u64,
    pub total: u64,
    pub packets: u64,
    pub on_cancel: Callback<()>,
}

/// The progress bar (bytes read of total).
#[component]
pub fn ProgressBar(props: &ProgressBarProps) -> Html {
    let percent = if props.total == 0 {
        0.0
    } else {
        props.read as f64 * 100.0 / props.total as f64
    };
    let on_click = {
        let on_cancel = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| on_cancel.emit(()))
    };
    html! {
        <section class="progress-bar" aria-label="Reading the capture">
            <div class="progress-bar__label">
                { format!("Reading {}: {} of {} ({} packets)", props.file_name, human_bytes(props.read), human_bytes(props.total), props.packets) }
            </div>
            <progress class="progress-bar__bar" max={props.total.to_string()} value={props.read.to_string()}
                aria-valuenow={format!("{percent:.0}")}>
                { format!("{percent:.0}%") }
            </progress>
            <button class="progress-bar__cancel" type="button" onclick={on_click}>{ "Cancel" }</button>
        </section>
    }
}
