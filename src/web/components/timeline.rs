//! The capture's timeline: connections as bars over time and resets as marks; dragging across
//! it selects a time range (which filters the connection table), a click clears it. The
//! geometry comes from the pure [`crate::view::timeline`] model.

use std::rc::Rc;

use web_sys::Element;
use yew::prelude::*;

use crate::report::Report;
use crate::view::ladder::duration_text;
use crate::view::timeline::{self, TimeRange, ROW_HEIGHT};

/// The drawing's width in its own units (the SVG scales to the page's width).
const WIDTH: f64 = 1000.0;
/// A drag shorter than this (in drawing units) is a click.
const MIN_BRUSH: f64 = 3.0;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub report: Rc<Report>,
    #[prop_or_default]
    pub range: Option<TimeRange>,
    #[prop_or_default]
    pub on_brush: Callback<Option<TimeRange>>,
}

/// x in drawing units of a mouse event over the SVG. (The SVG is found by its node: Yew
/// delegates events, so `current_target` is not the SVG.)
fn drawing_x(svg: &NodeRef, event: &MouseEvent) -> Option<f64> {
    let svg: Element = svg.cast()?;
    let rect = svg.get_bounding_client_rect();
    (rect.width() > 0.0).then(|| (f64::from(event.client_x()) - rect.left()) / rect.width() * WIDTH)
}

/// The timeline.
#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let model = use_memo(props.report.clone(), |report| {
        timeline::timeline(report, WIDTH)
    });
    // The drag in progress: where it started and where it is.
    let drag = use_state(|| None::<(f64, f64)>);
    let svg = use_node_ref();

    let on_down = {
        let (drag, svg) = (drag.clone(), svg.clone());
        Callback::from(move |event: MouseEvent| {
            if let Some(x) = drawing_x(&svg, &event) {
                event.prevent_default();
                drag.set(Some((x, x)));
            }
        })
    };
    let on_move = {
        let (drag, svg) = (drag.clone(), svg.clone());
        Callback::from(move |event: MouseEvent| {
            if let (Some((start, _)), Some(x)) = (*drag, drawing_x(&svg, &event)) {
                drag.set(Some((start, x)));
            }
        })
    };
    let on_up = {
        let (drag, model, on_brush) = (drag.clone(), model.clone(), props.on_brush.clone());
        let svg = svg.clone();
        Callback::from(move |event: MouseEvent| {
            let Some((start, last)) = *drag else { return };
            let end = drawing_x(&svg, &event).unwrap_or(last);
            drag.set(None);
            on_brush.emit(((end - start).abs() >= MIN_BRUSH).then(|| model.range(start, end)));
        })
    };
    let on_clear = {
        let on_brush = props.on_brush.clone();
        Callback::from(move |_: MouseEvent| on_brush.emit(None))
    };

    let bars_height = model.rows.max(1) as f64 * ROW_HEIGHT;
    let brush = match (*drag, props.range) {
        (Some((a, b)), _) => Some((a.min(b), (a - b).abs())),
        (None, Some(r)) => {
            let (a, b) = (model.x_of(r.from_ns), model.x_of(r.to_ns));
            Some((a, (b - a).max(1.0)))
        }
        _ => None,
    };
    let f = |v: f64| format!("{v:.1}");
    html! {
        <section class="timeline" aria-label="Timeline of the capture">
            <div class="timeline__bar">
                <h2 class="timeline__title">{ "Timeline" }</h2>
                if let Some(r) = props.range {
                    <span class="timeline__range" role="status">{ format!("Connections active from +{} to +{}", duration_text(r.from_ns), duration_text(r.to_ns)) }</span>
                    <button type="button" class="timeline__clear" onclick={on_clear}>{ "Show all" }</button>
                } else {
                    <span class="timeline__range">{ "Drag across the timeline to show only the connections active then." }</span>
                }
            </div>
            <svg class="timeline__svg" ref={svg} viewBox={format!("0 0 {WIDTH} {}", f(model.height()))} preserveAspectRatio="none"
                height={f(model.height())} onmousedown={on_down} onmousemove={on_move} onmouseup={on_up}>
                { for model.bars.iter().enumerate().map(|(i, b)| html! {
                    <rect key={i} class={classes!("timeline__conn", b.reset.then_some("timeline__conn--rst"))}
                        x={f(b.x)} y={f(b.row as f64 * ROW_HEIGHT + 1.0)} width={f(b.width.max(1.0))} height={f(ROW_HEIGHT - 2.0)} />
                }) }
                { for model.marks.iter().enumerate().map(|(i, x)| html! {
                    <line key={format!("m{i}")} class="timeline__mark" x1={f(*x)} x2={f(*x)} y1="0" y2={f(bars_height)} />
                }) }
                <line class="timeline__axis" x1="0" x2={f(WIDTH)} y1={f(bars_height + 1.0)} y2={f(bars_height + 1.0)} />
                { for model.ticks().into_iter().enumerate().map(|(i, (x, label))| html! {
                    <text key={format!("t{i}")} class="timeline__tick" x={f(x)} y={f(bars_height + 14.0)}
                        text-anchor={if i == 0 { "start" } else if x >= WIDTH - 1.0 { "end" } else { "middle" }}>{ label }</text>
                }) }
                if let Some((x, w)) = brush {
                    <rect class="timeline__brush" x={f(x)} y="0" width={f(w)} height={f(bars_height)} />
                }
            </svg>
        </section>
    }
}
