//! The sequence diagram of one connection: lanes, one arrow per packet, idle breaks, a legend,
//! zoom, keyboard navigation and SVG export. The geometry comes from the pure
//! [`crate::view::ladder`] layout; this component draws only the arrows in view.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use super::{offset_minutes, use_preferences};
use crate::capture::PacketIdx;
use crate::view::ladder::{
    self, arrow_head, legend, next_problem, step_zoom, Arrow, ConnectionPackets, Ladder, ROW,
};
use crate::view::time;
use crate::web::state::Toggle;

/// The diagram's stylesheet, inlined into exported SVG files.
pub const DIAGRAM_CSS: &str = include_str!("../../../styles/sequence-diagram.css");

/// The viewport assumed before the diagram has been laid out once.
const DEFAULT_VIEWPORT: f64 = 600.0;
/// Right edge of the time column (as `view::ladder` lays it out).
const TIME_X: f64 = 104.0;
/// Height of the lane headings above the scrolling diagram.
const HEAD_HEIGHT: f64 = 30.0;

#[derive(Properties, PartialEq)]
pub struct SequenceDiagramProps {
    pub connection: Rc<ConnectionPackets>,
    /// Position (in `connection.packets`) of the selected packet.
    #[prop_or_default]
    pub selected: Option<usize>,
    /// A packet was selected (or, with `None`, the selection closed).
    #[prop_or_default]
    pub on_select: Callback<Option<usize>>,
}

/// Sets a style property through the CSSOM (the Content-Security-Policy forbids inline `style`
/// attributes, not this).
fn set_style(node: &NodeRef, property: &str, value: &str) {
    if let Some(element) = node.cast::<HtmlElement>() {
        let _ = element.style().set_property(property, value);
    }
}

/// The packet position of the arrow an event happened on.
fn event_pos(event: &Event) -> Option<usize> {
    let target: Element = event.target()?.dyn_into().ok()?;
    target
        .closest("[data-pos]")
        .ok()??
        .get_attribute("data-pos")?
        .parse()
        .ok()
}

fn draw_arrow(a: &Arrow, selected: bool, row: f64) -> Html {
    let mut classes = a.classes();
    if selected {
        classes.push_str(" sequence-diagram__arrow--selected");
    }
    let band = html! {
        if selected {
            <rect class="sequence-diagram__selection" x="0" y={format!("{:.1}", a.y1 - row * 0.6)}
                width={format!("{}", ladder::WIDTH)} height={format!("{:.1}", row)} />
        } else if a.evidence {
            <rect class="sequence-diagram__evidence-mark" x={format!("{:.1}", a.x1.min(a.x2) - 6.0)}
                y={format!("{:.1}", a.y1 - row * 0.55)} rx="4"
                width={format!("{:.1}", (a.x2 - a.x1).abs() + 12.0)} height={format!("{:.1}", a.y2 - a.y1 + row * 0.55 + 5.0)} />
        }
    };
    html! {
        <g key={a.pos} class={classes} data-pos={a.pos.to_string()} data-frame={a.frame.to_string()}>
            { band }
            <line class="sequence-diagram__line" x1={format!("{}", a.x1)} y1={format!("{:.1}", a.y1)}
                x2={format!("{}", a.x2)} y2={format!("{:.1}", a.y2)} />
            <polygon class="sequence-diagram__head" points={arrow_head(a)} />
            <text class="sequence-diagram__time" x={format!("{}", TIME_X)} y={format!("{:.1}", a.y1 + 4.0)} text-anchor="end">{ a.time.clone() }</text>
            if !a.label.is_empty() {
                <text class="sequence-diagram__label" x={format!("{}", a.label_x)} y={format!("{:.1}", a.label_y)} text-anchor="middle">{ a.label.clone() }</text>
            }
        </g>
    }
}

/// The sequence diagram.
#[component]
pub fn SequenceDiagram(props: &SequenceDiagramProps) -> Html {
    let zoom = use_state(|| 1.0_f64);
    let viewport = use_state(|| (0.0_f64, DEFAULT_VIEWPORT));
    let hover = use_state(|| None::<usize>);
    let scroller = use_node_ref();
    let tooltip = use_node_ref();
    let connection = props.connection.clone();
    let preferences = use_preferences();
    let absolute = preferences.absolute_seq;

    let layout = {
        let connection = connection.clone();
        let level = *zoom;
        let key = (Rc::as_ptr(&connection) as usize, level.to_bits(), absolute);
        use_memo(key, move |_| {
            let evidence: Vec<PacketIdx> =
                connection.evidence.iter().map(|i| PacketIdx(*i)).collect();
            Ladder::new(
                &connection.packets,
                &connection.client,
                &connection.server,
                &evidence,
                connection.middlebox,
                level,
            )
            .with_absolute(absolute.then_some(connection.bases))
        })
    };

    // Measure the viewport once laid out.
    {
        let (scroller, viewport) = (scroller.clone(), viewport.clone());
        use_effect_with((), move |()| {
            if let Some(element) = scroller.cast::<Element>() {
                viewport.set((
                    f64::from(element.scroll_top()),
                    f64::from(element.client_height()),
                ));
            }
        });
    }
    // Keep the selected packet in view (after a key press or a zoom).
    {
        let (scroller, layout) = (scroller.clone(), layout.clone());
        let height = viewport.1;
        use_effect_with((props.selected, zoom.to_bits()), move |(selected, _)| {
            let (Some(pos), Some(element)) = (*selected, scroller.cast::<Element>()) else {
                return;
            };
            let Some(y) = layout.y(pos) else { return };
            let top = f64::from(element.scroll_top());
            let row = ROW * layout.zoom();
            if y < top + row || y > top + height - 2.0 * row {
                element.set_scroll_top((y - height / 3.0).max(0.0) as i32);
            }
        });
    }
    // Place the tooltip next to the hovered arrow.
    {
        let (tooltip, layout) = (tooltip.clone(), layout.clone());
        use_effect_with(*hover, move |hover| {
            if let Some(y) = hover.and_then(|pos| layout.y(pos)) {
                set_style(&tooltip, "left", "180px");
                set_style(
                    &tooltip,
                    "top",
                    &format!("{:.0}px", y + ROW * layout.zoom() * 0.8),
                );
            }
        });
    }

    let n = connection.packets.len();
    let on_scroll = {
        let viewport = viewport.clone();
        Callback::from(move |event: Event| {
            if let Some(element) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                viewport.set((
                    f64::from(element.scroll_top()),
                    f64::from(element.client_height()),
                ));
            }
        })
    };
    let on_click = {
        let on_select = props.on_select.clone();
        let scroller = scroller.clone();
        Callback::from(move |event: MouseEvent| {
            if let Some(pos) = event_pos(&event) {
                on_select.emit(Some(pos));
            }
            // Keys go to the diagram after a click.
            if let Some(element) = scroller.cast::<HtmlElement>() {
                let _ = element.focus();
            }
        })
    };
    let on_over = {
        let hover = hover.clone();
        Callback::from(move |event: MouseEvent| {
            let pos = event_pos(&event);
            if *hover != pos {
                hover.set(pos);
            }
        })
    };
    let on_leave = {
        let hover = hover.clone();
        Callback::from(move |_: MouseEvent| hover.set(None))
    };
    let zoom_by = |dir: i32| {
        let zoom = zoom.clone();
        Callback::from(move |_: MouseEvent| zoom.set(step_zoom(*zoom, dir)))
    };
    let on_key = {
        let on_select = props.on_select.clone();
        let selected = props.selected;
        let zoom = zoom.clone();
        let connection = connection.clone();
        Callback::from(move |event: KeyboardEvent| {
            let last = n.checked_sub(1);
            let next = match event.key().as_str() {
                "ArrowDown" => {
                    Some(selected.map_or(Some(0), |s| Some((s + 1).min(last.unwrap_or(0)))))
                }
                "ArrowUp" => Some(selected.map_or(last, |s| Some(s.saturating_sub(1)))),
                "Home" => Some((n > 0).then_some(0)),
                "End" => Some(last),
                "n" => Some(next_problem(&connection.packets, selected, true).or(selected)),
                "p" => Some(next_problem(&connection.packets, selected, false).or(selected)),
                "Escape" => Some(None),
                "+" | "=" => {
                    zoom.set(step_zoom(*zoom, 1));
                    None
                }
                "-" | "_" => {
                    zoom.set(step_zoom(*zoom, -1));
                    None
                }
                _ => return,
            };
            event.prevent_default();
            if let Some(next) = next {
                if n > 0 {
                    on_select.emit(next);
                }
            }
        })
    };
    let on_export = {
        let (connection, layout) = (connection.clone(), layout.clone());
        Callback::from(move |_: MouseEvent| {
            // The export is laid out at zoom 1 with labels, whatever the screen shows.
            let evidence: Vec<PacketIdx> =
                connection.evidence.iter().map(|i| PacketIdx(*i)).collect();
            let full = if layout.zoom() == 1.0 {
                (*layout).clone()
            } else {
                Ladder::new(
                    &connection.packets,
                    &connection.client,
                    &connection.server,
                    &evidence,
                    connection.middlebox,
                    1.0,
                )
                .with_absolute(absolute.then_some(connection.bases))
            };
            let text = ladder::svg(&connection, &full, DIAGRAM_CSS);
            let name = format!("tcp-stream-{}.svg", connection.stream);
            let _ = super::download(&name, "image/svg+xml", &text);
        })
    };

    let range = layout.visible(viewport.0, viewport.1);
    let row = ROW * layout.zoom();
    let arrows = range
        .clone()
        .filter_map(|pos| layout.arrow(&connection.packets, pos))
        .map(|a| draw_arrow(&a, props.selected == Some(a.pos), row));
    let breaks = layout.visible_breaks(viewport.0, viewport.1).iter().map(|b| {
        html! {
            <g key={format!("break-{}", b.before_packet)} class="sequence-diagram__break">
                <rect class="sequence-diagram__break-band" x="0" y={format!("{:.1}", b.y)}
                    width={format!("{}", ladder::WIDTH)} height={format!("{:.1}", b.height)} />
                <text class="sequence-diagram__break-text" x={format!("{}", ladder::WIDTH / 2.0)}
                    y={format!("{:.1}", b.y + b.height / 2.0 + 4.0)} text-anchor="middle">{ b.label() }</text>
            </g>
        }
    });
    let height = format!("{:.0}", layout.height());
    let lanes: Vec<Html> = layout.lanes().iter().map(|lane| {
        html! {
            <line key={lane.role.id()} class={format!("sequence-diagram__lane sequence-diagram__lane--{}", lane.role.id())}
                x1={format!("{}", lane.x)} y1="0" x2={format!("{}", lane.x)} y2={height.clone()} />
        }
    }).collect();
    let titles = layout.lanes().iter().map(|lane| {
        html! {
            <text key={lane.role.id()} class={format!("sequence-diagram__lane-title sequence-diagram__lane-title--{}", lane.role.id())}
                x={format!("{}", lane.title_at().0)} y="20" text-anchor={lane.title_at().1}>{ lane.title.clone() }</text>
        }
    });
    let offset_at = |ns: i64| offset_minutes(preferences.zone, ns);
    let tip = hover.and_then(|pos| connection.packets.get(pos)).map(|p| {
        let shown = if absolute {
            connection.bases.absolute(p)
        } else {
            *p
        };
        let at = connection.first_ts_ns.saturating_add(p.time_ns);
        format!(
            "{}\n{}",
            ladder::tooltip(&shown),
            time::date_time(at, offset_at(at))
        )
    });
    let started = time::date_time(connection.first_ts_ns, offset_at(connection.first_ts_ns));
    let on_seq = preferences.on_toggle.reform(|_: MouseEvent| Toggle::Seq);
    let selected_frame = props
        .selected
        .and_then(|pos| connection.packets.get(pos))
        .map(|p| p.frame_number().to_string());
    let width = format!("{}", ladder::WIDTH);

    html! {
        <section class="sequence-diagram" aria-label="Sequence diagram" data-stream={connection.stream.to_string()}
            data-selected-frame={selected_frame} data-zoom={zoom.to_string()} data-drawn={range.len().to_string()}>
            <div class="sequence-diagram__bar">
                <h2 class="sequence-diagram__title">{ format!("tcp.stream {}: {} packets", connection.stream, n) }</h2>
                <span class="sequence-diagram__started">{ format!("from {started}") }</span>
                <button type="button" class="sequence-diagram__button sequence-diagram__zoom-out" title="Zoom out (-)" aria-label="Zoom out" onclick={zoom_by(-1)}>{ "−" }</button>
                <span class="sequence-diagram__zoom">{ format!("{:.0} %", *zoom * 100.0) }</span>
                <button type="button" class="sequence-diagram__button sequence-diagram__zoom-in" title="Zoom in (+)" aria-label="Zoom in" onclick={zoom_by(1)}>{ "+" }</button>
                <button type="button" class="sequence-diagram__button sequence-diagram__seq" onclick={on_seq}
                    title="Relative sequence numbers count from each side's first (as Wireshark shows them); absolute ones are as on the wire (s)">
                    { if absolute { "Seq: absolute" } else { "Seq: relative" } }
                </button>
                <button type="button" class="sequence-diagram__button sequence-diagram__export" onclick={on_export}>{ "Export SVG" }</button>
                <span class="sequence-diagram__hint">{ "↑/↓ packet · n/p next/previous problem · Esc close · +/− zoom · ? all keys" }</span>
            </div>
            <svg class="sequence-diagram__svg sequence-diagram__head" width={width.clone()} height={format!("{HEAD_HEIGHT}")} aria-hidden="true">
                { for titles }
            </svg>
            <div class="sequence-diagram__scroll" ref={scroller} tabindex="0" onscroll={on_scroll} onkeydown={on_key}
                role="listbox" aria-label="Packets, one arrow each">
                <svg class="sequence-diagram__svg" width={width} height={height.clone()}
                    onclick={on_click} onmouseover={on_over} onmouseleave={on_leave}>
                    <rect class="sequence-diagram__background" x="0" y="0" width={format!("{}", ladder::WIDTH)} height={format!("{:.0}", layout.height())} />
                    { for lanes }
                    { for breaks }
                    { for arrows }
                </svg>
                if let Some(tip) = tip {
                    <div class="sequence-diagram__tooltip" ref={tooltip} role="tooltip">{ tip }</div>
                }
            </div>
            <ul class="sequence-diagram__legend" aria-label="Legend">
                { for legend().map(|(kind, title)| html! {
                    <li key={kind.id()} class="sequence-diagram__legend-item">
                        <svg class="sequence-diagram__svg sequence-diagram__swatch" width="28" height="10" aria-hidden="true">
                            <g class={format!("sequence-diagram__arrow sequence-diagram__arrow--{}", kind.id())}>
                                <line class="sequence-diagram__line" x1="1" y1="5" x2="27" y2="5" />
                            </g>
                        </svg>
                        { title }
                    </li>
                }) }
            </ul>
        </section>
    }
}
