//! The table of TCP connections.

use std::rc::Rc;

use yew::prelude::*;

use super::{human_bytes, human_duration};
use crate::report::{ConnectionReport, Report};

#[derive(Properties, PartialEq)]
pub struct ConnectionTableProps {
    pub report: Rc<Report>,
}

/// One row per connection, in `tcp.stream` order.
#[component]
pub fn ConnectionTable(props: &ConnectionTableProps) -> Html {
    let connections = &props.report.connections;
    if connections.is_empty() {
        return html! { <p class="connection-table__empty">{ "No TCP connections in this capture." }</p> };
    }
    html! {
        <section class="connection-table" aria-label="TCP connections">
            <h2 class="connection-table__title">{ format!("TCP connections ({})", connections.len()) }</h2>
            <table class="connection-table__table">
                <thead>
                    <tr>
                        <th scope="col">{ "Stream" }</th>
                        <th scope="col">{ "Client" }</th>
                        <th scope="col">{ "Server" }</th>
                        <th scope="col" class="connection-table__num">{ "Packets" }</th>
                        <th scope="col" class="connection-table__num">{ "Bytes client → server" }</th>
                        <th scope="col" class="connection-table__num">{ "Bytes server → client" }</th>
                        <th scope="col">{ "Start (UTC)" }</th>
                        <th scope="col" class="connection-table__num">{ "Duration" }</th>
                        <th scope="col">{ "SYN" }</th>
                        <th scope="col">{ "FIN" }</th>
                        <th scope="col">{ "RST" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for connections.iter().map(row) }
                </tbody>
            </table>
        </section>
    }
}

fn row(conn: &ConnectionReport) -> Html {
    let (a, b) = (&conn.from_client, &conn.from_server);
    let seen = |count: u32| if count > 0 { "yes" } else { "" };
    let rst = a.rst + b.rst > 0;
    html! {
        <tr key={conn.stream} class={classes!("connection-table__row", rst.then_some("connection-table__row--rst"))}
            data-stream={conn.stream.to_string()}>
            <td data-col="stream">{ conn.stream }</td>
            <td data-col="client">{ conn.client.clone() }{ if conn.roles_guessed { html! { <span class="connection-table__guess" title="No handshake seen: client and server are a guess">{ " ?" }</span> } } else { html! {} } }</td>
            <td data-col="server">{ conn.server.clone() }</td>
            <td data-col="packets" class="connection-table__num">{ conn.packets }</td>
            <td data-col="bytes_c2s" class="connection-table__num" title={format!("{} bytes", a.bytes)}>{ human_bytes(a.bytes) }</td>
            <td data-col="bytes_s2c" class="connection-table__num" title={format!("{} bytes", b.bytes)}>{ human_bytes(b.bytes) }</td>
            <td data-col="start">{ conn.start.replace('T', " ").trim_end_matches('Z').to_string() }</td>
            <td data-col="duration" class="connection-table__num">{ human_duration(conn.duration) }</td>
            <td data-col="syn">{ seen(a.syn + b.syn) }</td>
            <td data-col="fin">{ seen(a.fin + b.fin) }</td>
            <td data-col="rst" class="connection-table__rst">{ seen(a.rst + b.rst) }</td>
        </tr>
    }
}
