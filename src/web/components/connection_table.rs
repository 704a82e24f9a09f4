//! The table of TCP connections: filters, sortable columns, and only the rows on screen drawn
//! (the row selection and the window come from the pure `view::table` model).

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::{download, human_bytes, human_duration, offset_minutes, use_preferences};
use crate::report::{ConnectionReport, Report};
use crate::view::export;
use crate::view::table::{self, Column, Query};
use crate::view::time::{self, Zone};
use crate::view::timeline::{parse_rfc3339, TimeRange};

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
    /// Name of the capture file (exports are named after it).
    #[prop_or_default]
    pub file_name: String,
    /// Asks for these streams as a capture file with this name (no extension).
    #[prop_or_default]
    pub on_export: Callback<(Vec<u32>, String)>,
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
    let zone = use_preferences().zone;
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

    let stem = export::stem(&props.file_name);
    let on_csv = {
        let (report, rows, stem) = (report.clone(), rows.clone(), stem.clone());
        Callback::from(move |_: MouseEvent| {
            let text = export::csv(&report, &rows);
            let _ = download(&format!("{stem}-connections.csv"), "text/csv", &text);
        })
    };
    let on_json = {
        let (report, rows, stem) = (report.clone(), rows.clone(), stem.clone());
        Callback::from(move |_: MouseEvent| {
            let text = export::filtered_report(&report, &rows).to_json();
            let _ = download(
                &format!("{stem}-connections.json"),
                "application/json",
                &text,
            );
        })
    };
    let on_pcap = {
        let (report, rows, on_export) = (report.clone(), rows.clone(), props.on_export.clone());
        Callback::from(move |_: MouseEvent| {
            let streams = rows.iter().map(|&i| report.connections[i].stream).collect();
            on_export.emit((streams, format!("{stem}-connections")));
        })
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
        let title = match (column, zone) {
            (Column::Start, Zone::Local) => "Start (local)",
            _ => column.title(),
        };
        html! {
            <th scope="col" aria-sort={aria} data-col={column.id()}
                class={classes!(column.is_numeric().then_some("connection-table__num"))}>
                <button type="button" class="connection-table__sort" onclick={on_click}
                    title={format!("Sort by {title}")}>
                    { title }{ arrow }
                </button>
            </th>
        }
    });
    let drawn = rows
        .iter()
        .skip(window.first)
        .take(window.count)
        .map(|&i| row(&report.connections[i], &props.on_open, zone));
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
                <div class="connection-table__exports" role="group" aria-label="Export the connections shown">
                    <span class="connection-table__exports-label" aria-hidden="true">{ "Export" }</span>
                    <button type="button" class="connection-table__export connection-table__export-csv" onclick={on_csv} aria-label="Export CSV"
                        title="Save the rows shown (filters applied) as CSV">{ "CSV" }</button>
                    <button type="button" class="connection-table__export connection-table__export-json" onclick={on_json} aria-label="Export JSON"
                        title="Save the connections shown as JSON: the command-line tool's report, with only these connections">{ "JSON" }</button>
                    <button type="button" class="connection-table__export connection-table__export-pcap" onclick={on_pcap} aria-label="Export pcap"
                        disabled={rows.is_empty()}
                        title="Save the packets of the connections shown as a capture file Wireshark opens">{ "pcap" }</button>
                </div>
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

fn row(conn: &ConnectionReport, on_open: &Callback<u32>, zone: Zone) -> Html {
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
            <td data-col="start" title={start_title(&conn.start, zone)}>{ start_text(&conn.start, zone) }</td>
            <td data-col="duration" class="connection-table__num">{ human_duration(conn.duration) }</td>
            <td data-col="flags">{ conn.flags_seen() }</td>
            <td data-col="rst" class="connection-table__num connection-table__rst">{ if resets > 0 { resets.to_string() } else { String::new() } }</td>
        </tr>
    }
}

/// `12:00:01.234567` in `zone` from the report's RFC 3339 time.
fn start_text(rfc3339: &str, zone: Zone) -> String {
    match parse_rfc3339(rfc3339) {
        Some(ns) => time::time_of_day(ns, offset_minutes(zone, ns)),
        None => rfc3339.to_string(),
    }
}

/// The full date and time in `zone`, for the cell's tooltip.
fn start_title(rfc3339: &str, zone: Zone) -> String {
    match parse_rfc3339(rfc3339) {
        Some(ns) => time::date_time(ns, offset_minutes(zone, ns)),
        None => rfc3339.to_string(),
    }
}
