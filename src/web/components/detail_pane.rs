//! The detail pane of the selected packet: its summary, what the analysis found, every decoded
//! header field and the hex dump. The fields and bytes come from the worker, which reads the
//! packet back from the file on demand.

use std::rc::Rc;

use yew::prelude::*;

use super::{offset_minutes, use_preferences};
use crate::view::fields::{hex_lines, PacketDetail};
use crate::view::ladder::{self, LadderPacket, SeqBases};
use crate::view::time;

#[derive(Properties, PartialEq)]
pub struct DetailPaneProps {
    /// The selected packet, as the diagram knows it.
    pub packet: LadderPacket,
    /// Its decoded fields and bytes, once the worker has sent them (for this packet).
    #[prop_or_default]
    pub detail: Option<Rc<PacketDetail>>,
    #[prop_or_default]
    pub on_close: Callback<()>,
    /// The connection's base sequence numbers, for absolute numbers.
    #[prop_or_default]
    pub bases: SeqBases,
    /// The connection's first packet time (nanoseconds since the Unix epoch).
    #[prop_or_default]
    pub first_ts_ns: i64,
}

/// The detail pane.
#[component]
pub fn DetailPane(props: &DetailPaneProps) -> Html {
    let preferences = use_preferences();
    let p = &props.packet;
    let shown = if preferences.absolute_seq {
        props.bases.absolute(p)
    } else {
        *p
    };
    let at = props.first_ts_ns.saturating_add(p.time_ns);
    let clock = time::date_time(at, offset_minutes(preferences.zone, at));
    let detail = props.detail.as_ref().filter(|d| d.index == p.index);
    let on_close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let findings: Vec<&str> = p.found().names().collect();
    let body = match detail {
        None => html! { <p class="detail-pane__loading">{ "Reading the packet…" }</p> },
        Some(d) => {
            let mut rows = Vec::new();
            let mut layer = "";
            for (i, f) in d.fields.iter().enumerate() {
                if f.layer != layer {
                    layer = &f.layer;
                    rows.push(html! {
                        <tr key={format!("layer-{i}")} class="detail-pane__layer"><th colspan="2">{ f.layer.clone() }</th></tr>
                    });
                }
                rows.push(html! {
                    <tr key={i} class="detail-pane__field" data-layer={f.layer.clone()}>
                        <td class="detail-pane__name">{ f.name.clone() }</td>
                        <td class="detail-pane__value">{ f.value.clone() }</td>
                    </tr>
                });
            }
            let mut analysis = Vec::new();
            let mut item = |key: &str, value: Option<String>| {
                if let Some(value) = value {
                    analysis.push(html! { <><dt>{ key.to_string() }</dt><dd>{ value }</dd></> });
                }
            };
            item("Duplicate ACK #", d.dup_ack_num.map(|n| n.to_string()));
            item("ACKs frame", d.acks_frame.map(|n| n.to_string()));
            item("ACK RTT", d.ack_rtt.map(|s| format!("{s:.6} s")));
            item("Bytes in flight", d.bytes_in_flight.map(|n| n.to_string()));
            html! {
                <>
                    if !d.comments.is_empty() {
                        <ul class="detail-pane__comments" aria-label="Comments in the file">
                            { for d.comments.iter().map(|c| html! { <li class="detail-pane__comment">{ c.clone() }</li> }) }
                        </ul>
                    }
                    if !analysis.is_empty() {
                        <dl class="detail-pane__analysis">{ for analysis }</dl>
                    }
                    <table class="detail-pane__fields"><tbody>{ for rows }</tbody></table>
                    if let Some(why) = &d.unavailable {
                        <p class="detail-pane__unavailable">{ format!("Bytes unavailable: {why}.") }</p>
                    } else {
                        <pre class="detail-pane__hex" aria-label="Hex dump">{ hex_lines(&d.bytes).join("\n") }</pre>
                    }
                </>
            }
        }
    };
    html! {
        <aside class="detail-pane" aria-label="Packet detail" data-frame={p.frame_number().to_string()}>
            <div class="detail-pane__head">
                <h3 class="detail-pane__title">{ format!("Frame {}", p.frame_number()) }</h3>
                <span title={clock.clone()}>{ format!("+{} s", ladder::seconds_text(p.time_ns)) }</span>
                <button type="button" class="detail-pane__close" title="Close (Esc)" aria-label="Close" onclick={on_close}>{ "×" }</button>
            </div>
            <p class="detail-pane__summary">
                { if p.from_client { "client → server " } else { "server → client " } }{ ladder::label(&shown) }
            </p>
            <p class="detail-pane__clock">{ clock }</p>
            if !findings.is_empty() {
                <ul class="detail-pane__findings">
                    { for findings.iter().map(|f| html! { <li key={*f}>{ format!("tcp.analysis.{f}") }</li> }) }
                </ul>
            }
            { body }
        </aside>
    }
}
