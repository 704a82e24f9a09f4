//! The capture as a whole: format, link types, counts, times, and what could not be read.

use std::rc::Rc;

use yew::prelude::*;

use super::{human_bytes, human_duration, offset_minutes, use_preferences};
use crate::report::Report;
use crate::view::time::{self, Zone};
use crate::view::timeline::parse_rfc3339;

/// An RFC 3339 time of the report as a date and time in `zone` (`-` when there is none).
fn when(rfc3339: Option<&str>, zone: Zone) -> String {
    match rfc3339 {
        None => "-".into(),
        Some(text) => match parse_rfc3339(text) {
            Some(ns) => time::date_time(ns, offset_minutes(zone, ns)),
            None => text.to_string(),
        },
    }
}

#[derive(Properties, PartialEq)]
pub struct CaptureSummaryProps {
    pub report: Rc<Report>,
    pub file_name: String,
    /// Time the worker took, in milliseconds.
    pub millis: f64,
}

/// The capture summary.
#[component]
pub fn CaptureSummary(props: &CaptureSummaryProps) -> Html {
    let c = &props.report.capture;
    let zone = use_preferences().zone;
    let mut format = format!("{} {}", c.format, c.format_detail)
        .trim()
        .to_string();
    if let Some(compression) = &c.compression {
        format.push_str(&format!(" ({compression})"));
    }
    let link_types = c
        .link_types
        .iter()
        .map(|lt| format!("{} ({}): {} packets", lt.name, lt.link_type, lt.packets))
        .collect::<Vec<_>>()
        .join("; ");
    let row = |name: &'static str, key: &'static str, value: String| {
        html! {
            <div class="capture-summary__item" data-key={key}>
                <dt class="capture-summary__name">{ name }</dt>
                <dd class="capture-summary__value">{ value }</dd>
            </div>
        }
    };
    html! {
        <section class="capture-summary" aria-label="Capture summary">
            <h2 class="capture-summary__title">{ props.file_name.clone() }</h2>
            <dl class="capture-summary__list">
                { row("Format", "format", format) }
                { row("Size", "bytes", human_bytes(c.bytes)) }
                { row("Link types", "link_types", link_types) }
                { row("Packets", "packets", c.packets.to_string()) }
                { row("TCP packets", "tcp_packets", c.tcp_packets.to_string()) }
                { row("TCP connections", "connections", props.report.connections.len().to_string()) }
                { row("First packet", "first_time", when(c.first_time.as_deref(), zone)) }
                { row("Last packet", "last_time", when(c.last_time.as_deref(), zone)) }
                { row("Duration", "duration", human_duration(c.duration)) }
                { row("Analysed in", "millis", format!("{:.0} ms", props.millis)) }
            </dl>
            if !c.warnings.is_empty() {
                <div class="capture-summary__warnings" role="status">
                    <h3 class="capture-summary__warnings-title">{ "Not everything could be read" }</h3>
                    <ul>
                        { for c.warnings.iter().map(|w| html! { <li class="capture-summary__warning">{ w.clone() }</li> }) }
                    </ul>
                </div>
            }
        </section>
    }
}
