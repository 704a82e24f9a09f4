//! The table of TCP connections: filters, sortable columns, and only the rows on screen drawn
//! (the row selection and the window come from the pure `view::table` model).

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::{human_bytes, human_duration};
use crate::report::{ConnectionReport, Report};
use crate::view::table::{self, Column, Query};
use crate::view::timeline::TimeRange;

/// Every row is this tall (styles/connection-table.css keeps it so), which lets the table
/// know which rows are on screen without measuring them.
const ROW_HEIGHT: u32 = 28;
/// The viewport assumed before the table has been laid out once.
const DEFAULT_VIEWPORT: f64 = 700.0;

#[derive(Properties, PartialEq)]
pub struct ConnectionTableProps {
    pub report: Rc<Report>,
    /// Only connections active in this range (brushed on the timeline).
    #[prop_or_default]
    pub time_range: Option<TimeRange>,
    /// A row was clicked or Enter pressed on it: open that stream.
    #[prop_or_default]
    pub on_open: Callback<u32>,
}

/// Sets an element's height through the CSSOM (the page's Content-Security-Policy forbids
/// inline `style` attributes, not this).
fn set_height(node: &NodeRef, pixels: u64) {
    if let Some(element) = node.cast::<HtmlElement>() {
        let _ = element
            .style()
            .set_property("height", &format!("{pixels}px"));
    }
}

/// The connection table.
#[component]
pub fn ConnectionTable(props: &ConnectionTableProps) -> Html {
    let query = use_state(Query::default);
    let viewport = use_state(|| (0.0_f64, DEFAULT_VIEWPORT));
    let scroller = use_node_ref();
    let spacer_before = use_node_ref();
    let spacer_after = use_node_ref();

    let report = &props.report;
    let rows = {
        let report = report.clone();
        let query = Query {
            time_range: props.time_range,
            ..(*query).clone()
        };
        use_memo((query, report), |(query, report)| {
            table::rows(report, query)
        })
    };
    let states = use_memo(report.clone(), |report| table::states(report));
    let window = table::window(rows.len(), ROW_HEIGHT, viewport.0, viewport.1);
    {
        let (before, after) = (spacer_before.clone(), spacer_after.clone());
        use_effect_with((window.before, window.after), move |&(b, a)| {
            set_height(&before, b);
            set_height(&after, a);
        });
    }

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
    let on_text = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                query.set(Query {
                    text: input.value(),
                    ..(*query).clone()
                });
            }
        })
    };
    let on_state = {
        let query = query.clone();
        Callback::from(move |event: Event| {
            if let Some(select) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            {
                let value = select.value();
                query.set(Query {
                    state: (!value.is_empty()).then_some(value),
                    ..(*query).clone()
                });
            }
        })
    };
    let checkbox =
        |label: &'static str, class: &'static str, checked: bool, set: fn(&mut Query, bool)| {
            let query = query.clone();
            let on_change = Callback::from(move |event: Event| {
                if let Some(input) = event
                    .target()
                    .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                {
                    let mut next = (*query).clone();
                    set(&mut next, input.checked());
                    query.set(next);
                }
            });
            html! {
                <label class="connection-table__toggle">
                    <input type="checkbox" class={class} checked={checked} onchange={on_change} />
                    { label }
                </label>
            }
        };

    if report.connections.is_empty() {
        return html! { <p class="connection-table__empty">{ "No TCP connections in this capture." }</p> };
    }

    let header = Column::ALL.iter().map(|&column| {
        let sorted = query.sort == column;
        let aria = match (sorted, query.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        let on_click = {
            let query = query.clone();
            Callback::from(move |_: MouseEvent| query.set(query.sorted_by(column)))
        };
        let arrow = match (sorted, query.descending) {
            (false, _) => "",
            (true, false) => " ▲",
            (true, true) => " ▼",
        };
        html! {
            <th scope="col" aria-sort={aria} data-col={column.id()}
                class={classes!(column.is_numeric().then_some("connection-table__num"))}>
                <button type="button" class="connection-table__sort" onclick={on_click}
                    title={format!("Sort by {}", column.title())}>
                    { column.title() }{ arrow }
                </button>
            </th>
        }
    });
    let drawn = rows
        .iter()
        .skip(window.first)
        .take(window.count)
        .map(|&i| row(&report.connections[i], &props.on_open));
    let columns = Column::ALL.len().to_string();

    html! {
        <section class="connection-table" aria-label="TCP connections">
            <div class="connection-table__bar">
                <h2 class="connection-table__title">{ format!("TCP connections ({})", report.connections.len()) }</h2>
                <input class="connection-table__filter" type="search" placeholder="Filter by address or port"
                    aria-label="Filter connections by address or port" value={query.text.clone()} oninput={on_text} />
                <select class="connection-table__state" aria-label="Only connections in this state" onchange={on_state}>
                    <option value="" selected={query.state.is_none()}>{ "Any state" }</option>
                    { for states.iter().map(|s| html! {
                        <option value={s.clone()} selected={query.state.as_ref() == Some(s)}>{ s.clone() }</option>
                    }) }
                </select>
                { checkbox("Has resets", "connection-table__only-resets", query.only_resets, |q, on| q.only_resets = on) }
                { checkbox("Has retransmissions", "connection-table__only-retransmissions", query.only_retransmissions, |q, on| q.only_retransmissions = on) }
                <span class="connection-table__count" role="status">{ format!("{} shown", rows.len()) }</span>
            </div>
            <div class="connection-table__scroll" ref={scroller} onscroll={on_scroll}>
                <table class="connection-table__table">
                    <thead><tr>{ for header }</tr></thead>
                    <tbody>
                        <tr class="connection-table__spacer" ref={spacer_before} aria-hidden="true"><td colspan={columns.clone()}></td></tr>
                        { for drawn }
                        <tr class="connection-table__spacer" ref={spacer_after} aria-hidden="true"><td colspan={columns}></td></tr>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

fn row(conn: &ConnectionReport, on_open: &Callback<u32>) -> Html {
    let (a, b) = (&conn.from_client, &conn.from_server);
    let stream = conn.stream;
    let on_click = on_open.reform(move |_: MouseEvent| stream);
    let on_key = {
        let on_open = on_open.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" {
                on_open.emit(stream);
            }
        })
    };
    let resets = table::resets(conn);
    let retransmissions = table::retransmissions(conn);
    html! {
        <tr key={conn.stream} class={classes!("connection-table__row", (resets > 0).then_some("connection-table__row--rst"))}
            data-stream={conn.stream.to_string()} tabindex="0" onclick={on_click} onkeydown={on_key}
            title="Open the sequence diagram">
            <td data-col="stream">{ conn.stream }</td>
            <td data-col="client">{ conn.client.clone() }{ if conn.roles_guessed { html! { <span class="connection-table__guess" title="No handshake seen: client and server are a guess">{ " ?" }</span> } } else { html! {} } }</td>
            <td data-col="server">{ conn.server.clone() }</td>
            <td data-col="state" title={conn.history.clone().map(|h| format!("Zeek history {h}")).unwrap_or_default()}>{ conn.state.clone().unwrap_or_default() }</td>
            <td data-col="packets" class="connection-table__num">{ conn.packets }</td>
            <td data-col="bytes_c2s" class="connection-table__num" title={format!("{} bytes", a.bytes)}>{ human_bytes(a.bytes) }</td>
            <td data-col="bytes_s2c" class="connection-table__num" title={format!("{} bytes", b.bytes)}>{ human_bytes(b.bytes) }</td>
            <td data-col="retransmissions" class="connection-table__num">{ if retransmissions > 0 { retransmissions.to_string() } else { String::new() } }</td>
            <td data-col="start" title={conn.start.clone()}>{ time_of_day(&conn.start) }</td>
            <td data-col="duration" class="connection-table__num">{ human_duration(conn.duration) }</td>
            <td data-col="flags">{ conn.flags_seen() }</td>
            <td data-col="rst" class="connection-table__num connection-table__rst">{ if resets > 0 { resets.to_string() } else { String::new() } }</td>
        </tr>
    }
}

/// `12:00:01.234567` from an RFC 3339 time (the full date and time is the cell's tooltip).
fn time_of_day(rfc3339: &str) -> String {
    let time = rfc3339
        .split_once('T')
        .map_or(rfc3339, |(_, time)| time)
        .trim_end_matches('Z');
    // Microseconds are enough to tell packets apart at a glance.
    time.get(..15).unwrap_or(time).to_string()
}
