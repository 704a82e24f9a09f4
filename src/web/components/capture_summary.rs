//! The capture as a whole: format, link types, counts, times, and what could not be read.

use std::rc::Rc;

use yew::prelude::*;

use super::{human_bytes, human_duration, offset_minutes, use_preferences};
use crate::capture::LinkType;
use crate::report::{link_type_name, CaptureReport, InterfaceReport, Report};
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
            { file_strings(c) }
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

/// What a pcapng file says about itself: the writer's hardware, OS and application, its
/// interfaces' names and descriptions, and its comments (a packet's with its frame number).
/// They are the file author's words, possibly hostile: each is a text node, never markup.
fn file_strings(c: &CaptureReport) -> Html {
    let written: Vec<(&'static str, &'static str, &String)> = [
        ("Hardware", "hardware", &c.hardware),
        ("OS", "os", &c.os),
        ("Application", "application", &c.application),
    ]
    .into_iter()
    .filter_map(|(name, key, value)| value.as_ref().map(|v| (name, key, v)))
    .collect();
    if written.is_empty()
        && c.interfaces.is_empty()
        && c.comments.is_empty()
        && c.strings_not_shown == 0
    {
        return html! {};
    }
    let interface = |i: &InterfaceReport| {
        let mut label = format!(
            "Interface {} ({})",
            i.interface,
            link_type_name(LinkType(i.link_type))
        );
        if i.section > 0 {
            label.push_str(&format!(", section {}", i.section + 1));
        }
        html! {
            <div class="capture-summary__item" data-key="interface">
                <dt class="capture-summary__name">{ label }</dt>
                <dd class="capture-summary__value capture-summary__text">
                    { i.name.clone().unwrap_or_default() }
                    if let Some(description) = &i.description {
                        <span class="capture-summary__description">{ description.clone() }</span>
                    }
                </dd>
            </div>
        }
    };
    html! {
        <div class="capture-summary__strings" aria-label="Written in the file">
            <h3 class="capture-summary__strings-title">{ "Written in the file" }</h3>
            <dl class="capture-summary__list">
                { for written.iter().map(|(name, key, value)| html! {
                    <div class="capture-summary__item" data-key={*key}>
                        <dt class="capture-summary__name">{ *name }</dt>
                        <dd class="capture-summary__value capture-summary__text">{ (*value).clone() }</dd>
                    </div>
                }) }
                { for c.interfaces.iter().map(interface) }
            </dl>
            if !c.comments.is_empty() {
                <ul class="capture-summary__comments">
                    { for c.comments.iter().enumerate().map(|(i, comment)| html! {
                        <li key={i} class="capture-summary__comment" data-frame={comment.frame.map(|f| f.to_string())}>
                            if let Some(frame) = comment.frame {
                                <span class="capture-summary__comment-frame">{ format!("Frame {frame}: ") }</span>
                            }
                            <span class="capture-summary__text">{ comment.text.clone() }</span>
                        </li>
                    }) }
                </ul>
            }
            if c.strings_not_shown > 0 {
                <p class="capture-summary__more">{ format!("{} more strings of the file not shown.", c.strings_not_shown) }</p>
            }
        </div>
    }
}
