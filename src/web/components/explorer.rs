//! The views a person moves through after a capture is read: the timeline and the connection
//! table, and one connection's sequence diagram with its detail pane. The connection shown is
//! kept in the URL fragment (`#stream=N`: a stream number, never capture data), so the
//! browser's Back button returns to the table.

use std::rc::Rc;

use gloo::events::EventListener;
use yew::prelude::*;

use super::{ConnectionTable, DetailPane, SequenceDiagram, Timeline};
use crate::report::Report;
use crate::view::export;
use crate::view::fields::PacketDetail;
use crate::view::ladder::ConnectionPackets;
use crate::view::timeline::TimeRange;
use crate::web::protocol::Question;

#[derive(Properties, PartialEq)]
pub struct ExplorerProps {
    pub report: Rc<Report>,
    /// The connection packets the worker last sent.
    #[prop_or_default]
    pub connection: Option<Rc<ConnectionPackets>>,
    /// The packet detail the worker last sent.
    #[prop_or_default]
    pub detail: Option<Rc<PacketDetail>>,
    /// Asks the worker for packets or a packet's detail.
    pub on_question: Callback<Question>,
    /// Name of the capture file (exports are named after it).
    #[prop_or_default]
    pub file_name: String,
    /// Asks the worker for these streams as a capture file with this name (no extension).
    #[prop_or_default]
    pub on_export: Callback<(Vec<u32>, String)>,
}

/// The stream named by the URL fragment (`#stream=N`).
pub fn stream_in_url() -> Option<u32> {
    let hash = gloo::utils::window().location().hash().ok()?;
    hash.strip_prefix("#stream=")?.parse().ok()
}

/// Shows stream `stream` (or the table, with `None`) as a new history entry.
fn go_to(stream: Option<u32>) {
    let window = gloo::utils::window();
    match stream {
        Some(s) => {
            let _ = window.location().set_hash(&format!("stream={s}"));
        }
        None => {
            let _ = window.history().map(|h| h.back());
        }
    }
}

/// The stream in the URL, following the browser's Back and Forward.
#[hook]
fn use_stream_in_url() -> UseStateHandle<Option<u32>> {
    let stream = use_state(stream_in_url);
    {
        let stream = stream.clone();
        use_effect_with((), move |()| {
            let window = gloo::utils::window();
            let on_hash = {
                let stream = stream.clone();
                EventListener::new(&window, "hashchange", move |_| stream.set(stream_in_url()))
            };
            let on_pop =
                EventListener::new(&window, "popstate", move |_| stream.set(stream_in_url()));
            move || drop((on_hash, on_pop))
        });
    }
    stream
}

/// The explorer.
#[component]
pub fn Explorer(props: &ExplorerProps) -> Html {
    let stream = use_stream_in_url();
    let range = use_state(|| None::<TimeRange>);
    let selected = use_state(|| None::<usize>);

    let current = props
        .connection
        .clone()
        .filter(|c| Some(c.stream) == *stream);
    // Ask for the connection's packets when it is shown and not here yet.
    {
        let on_question = props.on_question.clone();
        let known = props
            .report
            .connections
            .iter()
            .any(|c| Some(c.stream) == *stream);
        let have = current.is_some();
        let selected = selected.clone();
        use_effect_with(
            (*stream, known, props.report.clone()),
            move |(stream, known, _)| {
                // Setting a state re-renders even when it does not change it.
                if selected.is_some() {
                    selected.set(None);
                }
                if let (Some(s), true, false) = (*stream, *known, have) {
                    on_question.emit(Question {
                        stream: s,
                        packet: None,
                    });
                }
            },
        );
    }
    // Ask for the selected packet's detail.
    {
        let on_question = props.on_question.clone();
        let packet = current
            .as_ref()
            .zip(*selected)
            .and_then(|(c, pos)| c.packets.get(pos).map(|p| (c.stream, p.index)));
        use_effect_with(packet, move |packet| {
            if let Some((stream, index)) = *packet {
                on_question.emit(Question {
                    stream,
                    packet: Some(index),
                });
            }
        });
    }

    let Some(s) = *stream else {
        let on_brush = {
            let range = range.clone();
            Callback::from(move |r: Option<TimeRange>| range.set(r))
        };
        let on_open = Callback::from(|s: u32| go_to(Some(s)));
        return html! {
            <>
                <Timeline report={props.report.clone()} range={*range} on_brush={on_brush} />
                <ConnectionTable report={props.report.clone()} time_range={*range} on_open={on_open}
                    file_name={props.file_name.clone()} on_export={props.on_export.clone()} />
            </>
        };
    };
    let on_back = Callback::from(|_: MouseEvent| go_to(None));
    let on_export = {
        let on_export = props.on_export.clone();
        let name = format!("{}-stream-{s}", export::stem(&props.file_name));
        Callback::from(move |_: MouseEvent| on_export.emit((vec![s], name.clone())))
    };
    let known = props.report.connections.iter().any(|c| c.stream == s);
    let back = html! {
        <div class="explorer__bar">
            <button type="button" class="explorer__back" onclick={on_back}>{ "← All connections" }</button>
            if known {
                <button type="button" class="explorer__export-pcap" onclick={on_export}
                    title="Save this connection's packets as a capture file Wireshark opens (byte for byte the original packets)">
                    { format!("Export tcp.stream {s} as pcap") }
                </button>
            }
        </div>
    };
    let Some(connection) = current else {
        return html! {
            <div class="explorer">
                { back }
                if known {
                    <p class="sequence-diagram__loading" role="status">{ format!("Reading the packets of tcp.stream {s}…") }</p>
                } else {
                    <p class="explorer__error" role="alert">{ format!("This capture has no tcp.stream {s}.") }</p>
                }
            </div>
        };
    };
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |pos: Option<usize>| selected.set(pos))
    };
    let on_close = {
        let selected = selected.clone();
        Callback::from(move |()| selected.set(None))
    };
    let packet = selected.and_then(|pos| connection.packets.get(pos).copied());
    html! {
        <div class="explorer">
            { back }
            <div class="explorer__view">
                <div class="explorer__diagram">
                    <SequenceDiagram connection={connection.clone()} selected={*selected} on_select={on_select} />
                </div>
                if let Some(packet) = packet {
                    <DetailPane packet={packet} detail={props.detail.clone()} on_close={on_close}
                        bases={connection.bases} first_ts_ns={connection.first_ts_ns} />
                }
            </div>
        </div>
    }
}
