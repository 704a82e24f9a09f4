//! The first view once a capture is loaded: its resets at a glance. The findings that matter
//! most in sentences, the resets by cause (each with what it means), by peers and over time,
//! and every reset with its verdict.

use std::rc::Rc;

use yew::prelude::*;

use crate::diagnosis::{Cause, ResetVerdict};
use crate::report::Report;

/// Resets listed one by one before the list is cut (the table and diagrams show the rest).
const MAX_LISTED: usize = 50;
/// Height of the histogram's drawing area, in SVG units.
const HISTOGRAM_HEIGHT: f64 = 60.0;

#[derive(Properties, PartialEq)]
pub struct ResetsSummaryProps {
    pub report: Rc<Report>,
    /// Opens a connection (by stream) in the diagram.
    #[prop_or_default]
    pub on_open: Callback<u32>,
}

/// The resets summary.
#[component]
pub fn ResetsSummary(props: &ResetsSummaryProps) -> Html {
    let report = &props.report;
    let summary = &report.summary;
    let outcomes = summary
        .outcomes
        .iter()
        .map(|o| format!("{} {}", o.connections, o.outcome.id()))
        .collect::<Vec<_>>()
        .join(", ");
    let headline = match summary.resets {
        0 => "No resets in this capture".to_string(),
        1 => "1 reset".to_string(),
        n => format!("{n} resets"),
    };
    let resets: Vec<(u32, &ResetVerdict)> = report
        .connections
        .iter()
        .flat_map(|c| c.resets.iter().map(move |r| (c.stream, r)))
        .collect();

    html! {
        <section class="resets-summary" aria-label="Resets">
            <header class="resets-summary__header">
                <h2 class="resets-summary__title">{ headline }</h2>
                <span class="resets-summary__outcomes">{ format!("{} connections: {outcomes}", summary.connections) }</span>
            </header>
            if !summary.findings.is_empty() {
                <ul class="resets-summary__findings">
                    { for summary.findings.iter().map(|f| html! { <li class="resets-summary__finding">{ f.clone() }</li> }) }
                </ul>
            }
            if summary.resets > 0 {
                <div class="resets-summary__panels">
                    { causes(report) }
                    { peers(report) }
                    { histogram(report) }
                </div>
                { list(&resets, &props.on_open) }
            }
        </section>
    }
}

fn causes(report: &Report) -> Html {
    html! {
        <div class="resets-summary__panel resets-summary__causes">
            <h3 class="resets-summary__panel-title">{ "By cause" }</h3>
            { for report.summary.by_cause.iter().map(|c| html! {
                <details class="resets-summary__cause" data-cause={c.cause.id()}>
                    <summary>
                        <span class="resets-summary__count">{ c.resets }</span>
                        { c.cause.title() }
                    </summary>
                    <p class="resets-summary__explanation">{ c.cause.explanation() }</p>
                </details>
            }) }
        </div>
    }
}

fn peers(report: &Report) -> Html {
    html! {
        <div class="resets-summary__panel">
            <h3 class="resets-summary__panel-title">{ "By peers" }</h3>
            <table class="resets-summary__peers">
                <thead><tr><th scope="col">{ "Client" }</th><th scope="col">{ "Server" }</th><th scope="col">{ "Resets" }</th></tr></thead>
                <tbody>
                    { for report.summary.by_peers.iter().map(|p| html! {
                        <tr>
                            <td>{ p.client.clone() }</td>
                            <td>{ p.server.clone() }</td>
                            <td class="resets-summary__num" title={p.by_cause.iter().map(|c| format!("{} {}", c.resets, c.cause.id())).collect::<Vec<_>>().join(", ")}>{ p.resets }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

fn histogram(report: &Report) -> Html {
    let hist = &report.summary.by_time;
    let max = hist.resets.iter().copied().max().unwrap_or(0).max(1);
    let width = hist.resets.len().max(1) as f64;
    let bars = hist.resets.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| {
        let h = HISTOGRAM_HEIGHT * f64::from(n) / f64::from(max);
        let start = i as f64 * hist.bucket_seconds;
        html! {
            <rect class="resets-summary__bar" x={i.to_string()} y={(HISTOGRAM_HEIGHT - h).to_string()}
                width="0.8" height={h.to_string()}>
                <title>{ format!("{n} resets from {start:.3} s to {:.3} s", start + hist.bucket_seconds) }</title>
            </rect>
        }
    });
    html! {
        <div class="resets-summary__panel">
            <h3 class="resets-summary__panel-title">{ "Over time" }</h3>
            <svg class="resets-summary__histogram" viewBox={format!("0 0 {width} {HISTOGRAM_HEIGHT}")}
                preserveAspectRatio="none" role="img"
                aria-label={format!("Resets over the capture, in buckets of {} s", hist.bucket_seconds)}>
                { for bars }
            </svg>
            <div class="resets-summary__axis">
                <span>{ "start" }</span>
                <span>{ format!("{} s per bar", hist.bucket_seconds) }</span>
                <span>{ format!("+{:.1} s", width * hist.bucket_seconds) }</span>
            </div>
        </div>
    }
}

fn list(resets: &[(u32, &ResetVerdict)], on_open: &Callback<u32>) -> Html {
    let shown = resets.iter().take(MAX_LISTED).map(|&(stream, r)| {
        let open = {
            let on_open = on_open.clone();
            Callback::from(move |_: MouseEvent| on_open.emit(stream))
        };
        let forged = r.sender != r.claimed_sender;
        html! {
            <li class={classes!("resets-summary__reset", forged.then_some("resets-summary__reset--forged"))}
                data-frame={r.frame.to_string()} data-cause={r.cause.id()}>
                <div class="resets-summary__reset-head">
                    <button type="button" class="resets-summary__open" onclick={open}
                        title="Open this connection's sequence diagram">
                        { format!("Frame {} · stream {}", r.frame, stream) }
                    </button>
                    <span class="resets-summary__cause-id">{ r.cause.title() }</span>
                    <span class="resets-summary__who">{ format!("sent by the {} during {}", r.sender.id(), r.phase.id().replace('_', " ")) }</span>
                    if !r.also.is_empty() {
                        <span class="resets-summary__also">{ format!("also: {}", r.also.iter().map(|c: &Cause| c.id()).collect::<Vec<_>>().join(", ")) }</span>
                    }
                </div>
                <p class="resets-summary__sentence">{ r.summary.clone() }</p>
                <p class="resets-summary__next"><strong>{ "Next: " }</strong>{ r.next_step.clone() }</p>
                <ul class="resets-summary__evidence">
                    { for r.evidence.iter().map(|e| html! {
                        <li><span class="resets-summary__frame">{ format!("frame {}", e.frame) }</span>{ format!(": {}", e.what) }</li>
                    }) }
                </ul>
            </li>
        }
    });
    html! {
        <details class="resets-summary__all" open={resets.len() <= 5}>
            <summary>{ format!("Every reset ({})", resets.len()) }</summary>
            <ol class="resets-summary__resets">{ for shown }</ol>
            if resets.len() > MAX_LISTED {
                <p class="resets-summary__more">{ format!("and {} more: filter the table by \"Has resets\" to see them all.", resets.len() - MAX_LISTED) }</p>
            }
        </details>
    }
}
