//! Components in a real headless browser (wasm-bindgen-test): each is mounted with plain
//! props and its DOM is checked. Run by `make test` as
//! `cargo test --target wasm32-unknown-unknown --test web`.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use rstscope::report::{
    CaptureReport, ConnectionReport, DirectionReport, LinkTypeReport, Report, SCHEMA_VERSION,
};
use rstscope::web::components::{
    CaptureSummary, CaptureSummaryProps, ConnectionTable, ConnectionTableProps,
};
use rstscope::web::protocol::JobId;
use rstscope::web::state::{Action, Phase, State};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

fn direction(packets: u64, bytes: u64, rst: u32) -> DirectionReport {
    DirectionReport {
        packets,
        bytes,
        syn: 1,
        fin: 0,
        rst,
        ..DirectionReport::default()
    }
}

fn report() -> Rc<Report> {
    Rc::new(Report {
        schema: SCHEMA_VERSION,
        summary: Default::default(),
        capture: CaptureReport {
            format: "pcapng".into(),
            format_detail: String::new(),
            compression: Some("gzip".into()),
            bytes: 4096,
            packets: 12,
            tcp_packets: 10,
            truncated_tcp_packets: 0,
            malformed_packets: 0,
            link_types: vec![LinkTypeReport {
                link_type: 1,
                name: "Ethernet".into(),
                packets: 12,
                not_decoded: 0,
            }],
            first_time: Some("2026-01-02T03:04:05.000000000Z".into()),
            last_time: Some("2026-01-02T03:04:06.500000000Z".into()),
            duration: 1.5,
            warnings: vec!["at byte 4000: the file ends inside a packet record".into()],
            ..CaptureReport::default()
        },
        connections: vec![
            ConnectionReport {
                stream: 0,
                client: "10.0.0.1:40000".into(),
                server: "10.0.0.2:80".into(),
                roles_guessed: false,
                first_frame: 1,
                last_frame: 6,
                packets: 6,
                start: "2026-01-02T03:04:05.000000000Z".into(),
                duration: 0.25,
                from_client: direction(3, 100, 0),
                from_server: direction(3, 2048, 1),
                ..ConnectionReport::default()
            },
            ConnectionReport {
                stream: 1,
                client: "[2001:db8::1]:50000".into(),
                server: "[2001:db8::2]:443".into(),
                roles_guessed: true,
                first_frame: 7,
                last_frame: 12,
                packets: 4,
                start: "2026-01-02T03:04:06.000000000Z".into(),
                duration: 0.5,
                from_client: direction(2, 0, 0),
                from_server: direction(2, 0, 0),
                ..ConnectionReport::default()
            },
        ],
    })
}

/// A fresh element in the document to mount a component on.
fn mount_point() -> Element {
    let document = gloo::utils::document();
    install_styles(&document);
    let div = document.create_element("div").expect("a div");
    gloo::utils::body().append_child(&div).expect("appended");
    div
}

/// The page's own stylesheets, as Trunk links them: the diagram and the table scroll inside
/// boxes of bounded height, which is what lets them draw only what is in view.
fn install_styles(document: &web_sys::Document) {
    const ID: &str = "rstscope-test-styles";
    if document.get_element_by_id(ID).is_some() {
        return;
    }
    let style = document.create_element("style").expect("a style element");
    style.set_id(ID);
    style.set_text_content(Some(concat!(
        include_str!("../styles/base.css"),
        include_str!("../styles/connection-table.css"),
        include_str!("../styles/sequence-diagram.css"),
    )));
    document
        .head()
        .expect("a head")
        .append_child(&style)
        .expect("appended");
}

/// Lets the browser's event loop turn (Yew renders from its scheduler, which may defer work
/// to a later task), until `done` holds: a bounded number of turns, not a timed wait.
async fn rendered(root: &Element, done: impl Fn(&Element) -> bool) {
    for _ in 0..200 {
        if done(root) {
            return;
        }
        let turn = js_sys::Promise::new(&mut |resolve, _| {
            let _ = gloo::utils::window()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        wasm_bindgen_futures::JsFuture::from(turn)
            .await
            .expect("a turn of the event loop");
    }
    panic!("the component did not render: {}", root.inner_html());
}

#[wasm_bindgen_test]
async fn connection_table_has_one_row_per_connection_and_marks_resets() {
    let root = mount_point();
    yew::Renderer::<ConnectionTable>::with_root_and_props(
        root.clone(),
        ConnectionTableProps {
            report: report(),
            time_range: None,
            on_open: yew::Callback::noop(),
            file_name: "trace.pcapng.gz".into(),
            on_export: yew::Callback::noop(),
        },
    )
    .render();
    rendered(&root, |r| {
        r.query_selector("tbody").ok().flatten().is_some()
    })
    .await;

    let rows = root
        .query_selector_all("tr.connection-table__row")
        .expect("rows");
    assert_eq!(rows.length(), 2);
    let first = root
        .query_selector("tr[data-stream='0']")
        .expect("query")
        .expect("row 0");
    assert!(
        first.class_list().contains("connection-table__row--rst"),
        "a reset connection is marked"
    );
    let cell = |row: &Element, col: &str| {
        row.query_selector(&format!("td[data-col='{col}']"))
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    assert_eq!(cell(&first, "client"), "10.0.0.1:40000");
    assert_eq!(cell(&first, "server"), "10.0.0.2:80");
    assert_eq!(cell(&first, "packets"), "6");
    assert_eq!(cell(&first, "bytes_s2c"), "2.0 KiB");
    assert_eq!(cell(&first, "rst"), "1");
    assert_eq!(cell(&first, "flags"), "SYN --- RST");
    let second = root.query_selector("tr[data-stream='1']").unwrap().unwrap();
    assert!(!second.class_list().contains("connection-table__row--rst"));
    assert_eq!(
        cell(&second, "client"),
        "[2001:db8::1]:50000 ?",
        "guessed roles are flagged"
    );
}

#[wasm_bindgen_test]
async fn capture_summary_shows_counts_times_and_warnings() {
    let root = mount_point();
    let props = CaptureSummaryProps {
        report: report(),
        file_name: "trace.pcapng.gz".into(),
        millis: 12.0,
    };
    yew::Renderer::<CaptureSummary>::with_root_and_props(root.clone(), props).render();
    rendered(&root, |r| {
        r.query_selector(".capture-summary")
            .ok()
            .flatten()
            .is_some()
    })
    .await;

    let value = |key: &str| {
        root.query_selector(&format!(".capture-summary__item[data-key='{key}'] dd"))
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    assert_eq!(value("packets"), "12");
    assert_eq!(value("tcp_packets"), "10");
    assert_eq!(value("connections"), "2");
    assert_eq!(value("format"), "pcapng (gzip)");
    assert_eq!(value("duration"), "1.5 s");
    let warnings = root
        .query_selector_all(".capture-summary__warning")
        .unwrap();
    assert_eq!(warnings.length(), 1);
    assert!(warnings
        .get(0)
        .unwrap()
        .text_content()
        .unwrap()
        .contains("ends inside a packet record"));
}

// The page's reducer: pure, so it is tested here without mounting anything.

fn open(job: JobId) -> Rc<State> {
    Rc::new(State::default()).reduce(Action::Open {
        job,
        name: format!("f{job}"),
        size: 100,
    })
}

#[wasm_bindgen_test]
fn messages_of_an_older_job_are_ignored() {
    let state = open(1).reduce(Action::Open {
        job: 2,
        name: "second".into(),
        size: 10,
    });
    let after = state.clone().reduce(Action::Failed {
        job: 1,
        message: "late".into(),
    });
    assert_eq!(after, state);
    let after = after.reduce(Action::Progress {
        job: 2,
        read: 5,
        total: 10,
        packets: 1,
    });
    assert_eq!(
        after.phase,
        Phase::Loading {
            read: 5,
            total: 10,
            packets: 1
        }
    );
}

#[wasm_bindgen_test]
fn a_cancelled_job_stays_cancelled() {
    let state = open(1).reduce(Action::Cancel);
    assert_eq!(state.phase, Phase::Cancelled);
    let after = state.clone().reduce(Action::Progress {
        job: 1,
        read: 50,
        total: 100,
        packets: 3,
    });
    assert_eq!(after.phase, Phase::Cancelled);
}

#[wasm_bindgen_test]
fn a_crashed_worker_fails_the_running_job() {
    let state = open(1).reduce(Action::Crashed {
        message: "out of memory".into(),
    });
    assert_eq!(
        state.phase,
        Phase::Failed {
            message: "out of memory".into()
        }
    );
}

#[wasm_bindgen_test]
fn a_crashed_worker_is_not_ready_again() {
    let ready = Rc::new(State::default()).reduce(Action::WorkerReady);
    assert!(ready.worker_ready);
    let crashed = ready.reduce(Action::Crashed {
        message: "out of memory".into(),
    });
    assert!(!crashed.worker_ready);
    // The page's warm-up can end after the crash: its WorkerReady changes nothing.
    let after = crashed.clone().reduce(Action::WorkerReady);
    assert!(!after.worker_ready);
    assert_eq!(after, crashed);
}

// The sequence diagram.

use rstscope::dissect::TcpFlags;
use rstscope::view::ladder::{ConnectionPackets, LadderPacket};
use rstscope::web::components::{SequenceDiagram, SequenceDiagramProps};
use yew::prelude::*;

fn packet(index: u32, ms: i64, from_client: bool, flags: u16, len: u32) -> LadderPacket {
    LadderPacket {
        index,
        time_ns: ms * 1_000_000,
        from_client,
        flags,
        seq: 1,
        ack: 1,
        len,
        window: 64240,
        findings: 0,
    }
}

/// A connection that the server resets after a request; the RST is the diagnosis's evidence.
fn reset_connection() -> Rc<ConnectionPackets> {
    const ACK: u16 = TcpFlags::ACK;
    Rc::new(ConnectionPackets {
        stream: 7,
        client: "10.0.0.1:40000".into(),
        server: "10.0.0.2:80".into(),
        first_ts_ns: 0,
        packets: vec![
            packet(0, 0, true, TcpFlags::SYN, 0),
            packet(1, 1, false, TcpFlags::SYN | ACK, 0),
            packet(2, 2, true, ACK, 0),
            packet(3, 3, true, ACK | TcpFlags::PSH, 120),
            LadderPacket {
                findings: rstscope::analysis::Findings::DUPLICATE_ACK.0,
                ..packet(4, 4, false, ACK, 0)
            },
            packet(5, 5, false, TcpFlags::RST | ACK, 0),
        ],
        evidence: vec![3, 5],
        middlebox: false,
        bases: Default::default(),
    })
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).map_or(0, |l| l.length())
}

#[wasm_bindgen_test]
async fn the_diagram_of_a_reset_connection_draws_the_rst_arrow_as_evidence() {
    let root = mount_point();
    yew::Renderer::<SequenceDiagram>::with_root_and_props(
        root.clone(),
        SequenceDiagramProps {
            connection: reset_connection(),
            selected: None,
            on_select: Callback::noop(),
        },
    )
    .render();
    rendered(&root, |r| {
        count(r, "g.sequence-diagram__arrow[data-pos]") == 6
    })
    .await;
    let rst = root
        .query_selector("g.sequence-diagram__arrow--rst[data-pos]")
        .unwrap()
        .expect("a RST arrow");
    assert_eq!(rst.get_attribute("data-frame").as_deref(), Some("6"));
    assert!(rst
        .class_list()
        .contains("sequence-diagram__arrow--evidence"));
    assert_eq!(
        count(&root, ".sequence-diagram__arrow--evidence[data-pos]"),
        2
    );
    assert_eq!(
        count(&root, ".sequence-diagram__arrow--handshake[data-pos]"),
        2
    );
    assert_eq!(
        count(&root, ".sequence-diagram__arrow--dup-ack[data-pos]"),
        1
    );
    assert!(rst.text_content().unwrap().contains("[RST, ACK]"));
    // Two lanes and a legend.
    assert_eq!(count(&root, "line.sequence-diagram__lane"), 2);
    assert!(count(&root, ".sequence-diagram__legend-item") >= 10);
}

#[derive(Properties, PartialEq)]
struct HolderProps {
    connection: Rc<ConnectionPackets>,
}

/// Holds the selection, as the page does.
#[component]
fn Selecting(props: &HolderProps) -> Html {
    let selected = use_state(|| None::<usize>);
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |pos: Option<usize>| selected.set(pos))
    };
    html! { <SequenceDiagram connection={props.connection.clone()} selected={*selected} on_select={on_select} /> }
}

fn press(root: &Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    root.query_selector(".sequence-diagram__scroll")
        .unwrap()
        .expect("the scrolling diagram")
        .dispatch_event(&event)
        .unwrap();
}

fn selected_frame(root: &Element) -> Option<String> {
    root.query_selector(".sequence-diagram")
        .unwrap()?
        .get_attribute("data-selected-frame")
}

#[wasm_bindgen_test]
async fn keys_move_the_selection_between_packets_and_problems() {
    let root = mount_point();
    yew::Renderer::<Selecting>::with_root_and_props(
        root.clone(),
        HolderProps {
            connection: reset_connection(),
        },
    )
    .render();
    rendered(&root, |r| {
        count(r, "g.sequence-diagram__arrow[data-pos]") == 6
    })
    .await;
    assert_eq!(selected_frame(&root), None);
    let arrow: web_sys::HtmlElement = root
        .query_selector("g[data-pos='0'] line")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let click = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &{
        let i = web_sys::MouseEventInit::new();
        i.set_bubbles(true);
        i
    })
    .unwrap();
    arrow.dispatch_event(&click).unwrap();
    rendered(&root, |r| selected_frame(r).as_deref() == Some("1")).await;
    press(&root, "ArrowUp");
    rendered(&root, |r| selected_frame(r).as_deref() == Some("1")).await;
    press(&root, "ArrowDown");
    rendered(&root, |r| selected_frame(r).as_deref() == Some("2")).await;
    // n: the next problem (the duplicate ACK), then the RST.
    press(&root, "n");
    rendered(&root, |r| selected_frame(r).as_deref() == Some("5")).await;
    press(&root, "n");
    rendered(&root, |r| selected_frame(r).as_deref() == Some("6")).await;
    assert_eq!(count(&root, ".sequence-diagram__arrow--selected"), 1);
    press(&root, "p");
    rendered(&root, |r| selected_frame(r).as_deref() == Some("5")).await;
    press(&root, "ArrowUp");
    rendered(&root, |r| selected_frame(r).as_deref() == Some("4")).await;
    press(&root, "Escape");
    rendered(&root, |r| selected_frame(r).is_none()).await;
    // Zoom in with +.
    press(&root, "+");
    rendered(&root, |r| {
        r.query_selector(".sequence-diagram")
            .unwrap()
            .and_then(|d| d.get_attribute("data-zoom"))
            .as_deref()
            == Some("1.5")
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_100k_packet_connection_draws_only_its_first_screen() {
    let packets: Vec<LadderPacket> = (0..100_000u32)
        .map(|i| LadderPacket {
            seq: i * 100,
            ..packet(i, i64::from(i), i % 2 == 0, TcpFlags::ACK, 100 * (i % 2))
        })
        .collect();
    let connection = Rc::new(ConnectionPackets {
        stream: 1,
        client: "10.0.0.1:40000".into(),
        server: "10.0.0.2:80".into(),
        packets,
        ..ConnectionPackets::default()
    });
    let root = mount_point();
    let performance = gloo::utils::window().performance().expect("performance");
    let started = performance.now();
    yew::Renderer::<SequenceDiagram>::with_root_and_props(
        root.clone(),
        SequenceDiagramProps {
            connection,
            selected: None,
            on_select: Callback::noop(),
        },
    )
    .render();
    rendered(&root, |r| {
        count(r, "g.sequence-diagram__arrow[data-pos]") > 0
    })
    .await;
    let millis = performance.now() - started;
    let drawn = count(&root, "g.sequence-diagram__arrow[data-pos]");
    console_log!("100,000-packet connection: first screen of {drawn} arrows in {millis:.1} ms");
    assert!(drawn < 500, "{drawn} arrows drawn");
    assert!(drawn >= 10);
    // Once the diagram has measured its box, it still draws only what is in view.
    for _ in 0..5 {
        let turn = js_sys::Promise::new(&mut |resolve, _| {
            let _ = gloo::utils::window()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        wasm_bindgen_futures::JsFuture::from(turn)
            .await
            .expect("a turn of the event loop");
    }
    let settled = count(&root, "g.sequence-diagram__arrow[data-pos]");
    assert!(
        settled < 500,
        "{settled} arrows drawn after the diagram measured its box"
    );
}

use rstscope::view::time::Zone;
use rstscope::web::components::{ShortcutHelp, ShortcutHelpProps, SHORTCUTS};
use rstscope::web::state::Toggle;

#[wasm_bindgen_test]
fn display_choices_toggle_and_default_to_utc_relative_and_closed() {
    let state = Rc::new(State::default());
    assert_eq!(
        (state.zone, state.absolute_seq, state.help),
        (Zone::Utc, false, false)
    );
    let state = state
        .reduce(Action::Toggle(Toggle::Zone))
        .reduce(Action::Toggle(Toggle::Seq))
        .reduce(Action::Toggle(Toggle::Help));
    assert_eq!(
        (state.zone, state.absolute_seq, state.help),
        (Zone::Local, true, true)
    );
    let state = state.reduce(Action::CloseHelp);
    assert!(!state.help);
    // Closing a closed help changes nothing.
    let same = state.clone().reduce(Action::CloseHelp);
    assert!(Rc::ptr_eq(&state, &same));
    let state = state.reduce(Action::Toggle(Toggle::Zone));
    assert_eq!(state.zone, Zone::Utc);
}

#[wasm_bindgen_test]
async fn shortcut_help_lists_every_shortcut_focuses_close_and_escape_closes() {
    let root = mount_point();
    let closed = Rc::new(std::cell::Cell::new(0));
    let on_close = {
        let closed = closed.clone();
        Callback::from(move |()| closed.set(closed.get() + 1))
    };
    yew::Renderer::<ShortcutHelp>::with_root_and_props(
        root.clone(),
        ShortcutHelpProps { on_close },
    )
    .render();
    rendered(&root, |r| {
        r.query_selector(".shortcut-help__dialog")
            .ok()
            .flatten()
            .is_some()
    })
    .await;
    let dialog = root
        .query_selector(".shortcut-help__dialog")
        .unwrap()
        .unwrap();
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("dialog"));
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    assert_eq!(
        root.query_selector_all(".shortcut-help__item")
            .unwrap()
            .length() as usize,
        SHORTCUTS.len()
    );
    // Focus moves to the close button once the effect has run.
    rendered(&root, |_| {
        gloo::utils::document()
            .active_element()
            .is_some_and(|e| e.class_list().contains("shortcut-help__close"))
    })
    .await;
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    gloo::utils::document()
        .active_element()
        .unwrap()
        .dispatch_event(&event)
        .unwrap();
    assert_eq!(closed.get(), 1);
}

mod wire {
    use std::collections::BTreeMap;

    use rstscope::pipeline::Analyzer;
    use rstscope::report::{ConnectionReport, Report, ReportHead};
    use rstscope::web::wire::{from_bytes, to_bytes};
    use serde::{Deserialize, Serialize};
    use wasm_bindgen_test::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Wrapped(u32),
        Pair(i8, String),
        Named { at: f64 },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
    struct Inner {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        list: Vec<i64>,
        maybe: Option<u64>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Outer {
        kinds: Vec<Kind>,
        inner: Vec<Inner>,
        map: BTreeMap<String, u64>,
        flag: bool,
        small: u8,
        big: u64,
        float: f32,
        tuple: (u16, char),
        nothing: (),
    }

    #[wasm_bindgen_test]
    fn round_trip() {
        let value = Outer {
            kinds: vec![
                Kind::Plain,
                Kind::Wrapped(7),
                Kind::Pair(-128, "é".into()),
                Kind::Named { at: -0.5 },
                Kind::Plain,
            ],
            inner: vec![
                Inner::default(),
                Inner {
                    text: "x".into(),
                    list: vec![i64::MIN, -1, 0, i64::MAX],
                    maybe: Some(u64::MAX),
                },
            ],
            map: [("a".to_string(), 1), ("b".to_string(), 300)].into(),
            flag: true,
            small: 255,
            big: 1 << 53,
            float: 1.25,
            tuple: (65535, '✓'),
            nothing: (),
        };
        let bytes = to_bytes(&value).expect("written");
        assert_eq!(from_bytes::<Outer>(&bytes), Ok(value));
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wider {
        first: u32,
        extra: String,
        #[serde(rename = "renamed")]
        second: String,
        kind: Kind,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Narrower {
        #[serde(rename = "renamed")]
        second: String,
        kind: Kind,
        first: u32,
    }

    /// Fields are read by name: another order, a renamed field, or a field the reader does not
    /// have, reads the same.
    #[wasm_bindgen_test]
    fn fields_are_matched_by_name_not_by_place() {
        let wider = Wider {
            first: 7,
            extra: "ignored".into(),
            second: "two".into(),
            kind: Kind::Named { at: 2.5 },
        };
        let rows = vec![
            wider,
            Wider {
                first: 8,
                extra: String::new(),
                second: "2".into(),
                kind: Kind::Plain,
            },
        ];
        let bytes = to_bytes(&rows).expect("written");
        let read: Vec<Narrower> = from_bytes(&bytes).expect("read back");
        assert_eq!(
            read,
            [
                Narrower {
                    second: "two".into(),
                    kind: Kind::Named { at: 2.5 },
                    first: 7
                },
                Narrower {
                    second: "2".into(),
                    kind: Kind::Plain,
                    first: 8
                },
            ]
        );
    }

    #[wasm_bindgen_test]
    fn damaged_input_is_an_error_not_a_panic() {
        let bytes = to_bytes(&vec![Inner::default(); 3]).expect("written");
        for cut in 0..bytes.len() {
            assert!(
                from_bytes::<Vec<Inner>>(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        for i in 0..flipped.len() {
            for bit in 0..8 {
                flipped[i] ^= 1 << bit;
                let _ = from_bytes::<Vec<Inner>>(&flipped);
                flipped[i] ^= 1 << bit;
            }
        }
        // A length far past the end.
        assert!(from_bytes::<Vec<Inner>>(&[9, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        // Numbers: the longest (ten bytes), one byte too long, one cut short.
        let mut longest = vec![4];
        longest.extend([0xff; 9]);
        longest.push(0x01);
        assert_eq!(from_bytes::<u64>(&longest), Ok(u64::MAX));
        let mut too_long = vec![4];
        too_long.extend([0x80; 10]);
        too_long.push(0x01);
        assert!(from_bytes::<u64>(&too_long).is_err());
        assert!(from_bytes::<u64>(&[4, 0x80, 0x80]).is_err());
        // Bytes left over.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_bytes::<Vec<Inner>>(&longer).is_err());
    }

    /// A real capture's report (resets diagnosed, Zeek rows, findings) reads back equal, and
    /// its JSON is the same as the original's.
    #[wasm_bindgen_test]
    fn a_report_round_trips() {
        for capture in [
            &include_bytes!("fixtures/scenarios/mass_reset.server.pcap")[..],
            &include_bytes!("fixtures/scenarios/middlebox_inject.client.pcap")[..],
            &include_bytes!("fixtures/scenarios/everyday.client.pcap")[..],
        ] {
            let mut analyzer = Analyzer::new();
            analyzer.feed(capture).expect("a capture");
            let report = Report::new(&analyzer.finish().expect("an analysis"));
            assert!(!report.connections.is_empty());
            let bytes = to_bytes(&report).expect("written");
            // Smaller than even compact JSON (the page's report used to be compact JSON; on a
            // large capture it is about 40% of it, here the names written once weigh more).
            let json = serde_json::to_string(&report).expect("JSON");
            assert!(
                bytes.len() < json.len(),
                "{} vs {}",
                bytes.len(),
                json.len()
            );
            let back: Report = from_bytes(&bytes).expect("read back");
            assert_eq!(back.to_json(), report.to_json());
            assert_eq!(back, report);
        }
    }

    /// The report in parts, as the worker sends it (`Report::in_parts`, each part in the wire
    /// form), reads back and puts together into the same report, as the page does.
    #[wasm_bindgen_test]
    fn a_report_in_parts_round_trips() {
        let mut analyzer = Analyzer::new();
        analyzer
            .feed(include_bytes!("fixtures/scenarios/mass_reset.server.pcap"))
            .expect("a capture");
        let analysis = analyzer.finish().expect("an analysis");
        let report = Report::new(&analysis);
        assert!(report.connections.len() > 4);
        let mut head = None;
        let mut parts = Vec::new();
        Report::in_parts(
            &analysis,
            2,
            |h| to_bytes(h).map(|bytes| head = Some(bytes)),
            |rows| to_bytes(rows).map(|bytes| parts.push(bytes)),
        )
        .expect("written");
        assert_eq!(parts.len(), report.connections.len().div_ceil(2));
        let head: ReportHead = from_bytes(&head.expect("a head")).expect("read back");
        let mut rows = Vec::new();
        for part in &parts {
            rows.extend(from_bytes::<Vec<ConnectionReport>>(part).expect("read back"));
        }
        assert_eq!(Report::from_parts(head, rows), Some(report));
    }
}

/// The page reads each slice of the file the worker asks for into the buffer the worker sent
/// (`rstscope::web::app::read_blob`), or into a new one where it cannot.
mod reading {
    use js_sys::{Array, ArrayBuffer, Uint8Array};
    use rstscope::web::app::read_blob;
    use wasm_bindgen_test::*;
    use web_sys::Blob;

    fn blob_of(bytes: &[u8]) -> Blob {
        let parts = Array::of1(&Uint8Array::from(bytes));
        Blob::new_with_u8_array_sequence(&parts).expect("a blob")
    }

    /// Reads a blob of `len` bytes into `into` and checks the bytes read.
    async fn read(len: usize, into: Option<ArrayBuffer>) -> Uint8Array {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let read = read_blob(&blob_of(&bytes), into).await.expect("read");
        assert_eq!(read.to_vec(), bytes);
        read
    }

    #[wasm_bindgen_test]
    async fn a_slice_is_read_into_the_buffer_it_is_given() {
        let given = ArrayBuffer::new(8192);
        let read = read(5000, Some(given.clone())).await;
        // The given buffer was handed to the stream (so it is detached here) and came back
        // holding the bytes, whole.
        assert_eq!(given.byte_length(), 0);
        assert_eq!(read.buffer().byte_length(), 8192);
        assert_eq!(read.byte_offset(), 0);
    }

    #[wasm_bindgen_test]
    async fn without_a_large_enough_buffer_a_slice_is_read_into_a_new_one() {
        let small = ArrayBuffer::new(4096);
        read(5000, Some(small.clone())).await;
        assert_eq!(small.byte_length(), 4096, "the small buffer is left alone");
        read(5000, None).await;
        assert_eq!(read(0, Some(ArrayBuffer::new(16))).await.length(), 0);
    }
}

/// The worker copies each part of the report into a buffer the page gave back when one is
/// large enough (`rstscope::web::worker::buffer_for`), and keeps a few of them.
mod report_buffers {
    use std::cell::RefCell;

    use js_sys::ArrayBuffer;
    use rstscope::web::worker::{buffer_for, give_back};
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn a_part_goes_into_a_spare_buffer_large_enough() {
        let spare = RefCell::new(Vec::new());
        let (small, large) = (ArrayBuffer::new(1 << 20), ArrayBuffer::new(4 << 20));
        give_back(&spare, small.clone());
        give_back(&spare, large.clone());
        let chosen = buffer_for(&spare, 3 << 20);
        assert!(chosen == large, "the large spare buffer is used again");
        assert_eq!(spare.borrow().len(), 1);
        assert!(buffer_for(&spare, 1000) == small);
        // None left: a new one, of at least a MiB, whole powers of two.
        let new = buffer_for(&spare, 1000);
        assert!(new != small && new != large);
        assert_eq!(new.byte_length(), 1 << 20);
        assert_eq!(buffer_for(&spare, (2 << 20) + 1).byte_length(), 4 << 20);
    }

    #[wasm_bindgen_test]
    fn only_a_few_buffers_are_kept() {
        let spare = RefCell::new(Vec::new());
        for _ in 0..100 {
            give_back(&spare, ArrayBuffer::new(16));
        }
        assert_eq!(spare.borrow().len(), 8);
    }
}

mod warm_up {
    use std::cell::Cell;
    use std::rc::Rc;

    use rstscope::web::warm_up::{draw, draw_on};
    use wasm_bindgen_test::*;

    use super::{rendered, report};

    /// The views the page warms up on are the real ones, drawn on an element that is not in
    /// the document.
    #[wasm_bindgen_test]
    async fn the_warm_up_draws_the_real_views_off_the_document() {
        let root = gloo::utils::document()
            .create_element("div")
            .expect("a div");
        let app = draw_on(root.clone(), report());
        rendered(&root, |r| {
            r.query_selector_all("tr.connection-table__row")
                .expect("a selector")
                .length()
                == 2
                && r.query_selector(".capture-summary")
                    .ok()
                    .flatten()
                    .is_some()
        })
        .await;
        assert!(!root.is_connected(), "the drawing stays off the document");
        app.destroy();
    }

    /// A `keep_going` that answers `answer` and counts how often it was asked, and a `done`
    /// that notes it was called.
    type Watch = (
        Rc<Cell<u32>>,
        Rc<Cell<bool>>,
        Rc<dyn Fn() -> bool>,
        Box<dyn FnOnce()>,
    );
    fn watch(answer: bool) -> Watch {
        let (asked, done) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
        let keep_going = {
            let asked = asked.clone();
            Rc::new(move || {
                asked.set(asked.get() + 1);
                answer
            })
        };
        let on_done = {
            let done = done.clone();
            Box::new(move || done.set(true))
        };
        (asked, done, keep_going, on_done)
    }

    /// It draws as many times as asked, asking before each drawing whether to go on, leaves
    /// nothing in the document, and says when it is done; told to stop, it stops at once.
    #[wasm_bindgen_test]
    async fn the_warm_up_draws_as_often_as_asked_and_stops_when_told() {
        let document = gloo::utils::document();
        let before = document
            .query_selector_all("*")
            .expect("a selector")
            .length();
        let (asked, done, keep_going, on_done) = watch(true);
        draw(report(), 3, keep_going, on_done);
        let body: web_sys::Element = gloo::utils::body().into();
        rendered(&body, |_| done.get()).await;
        assert_eq!(asked.get(), 3);
        assert_eq!(
            document
                .query_selector_all("*")
                .expect("a selector")
                .length(),
            before
        );
        assert!(document
            .query_selector(".connection-table")
            .unwrap()
            .is_none());

        let (asked, done, stop, on_done) = watch(false);
        draw(report(), 3, stop, on_done);
        assert!(done.get(), "done at once");
        assert_eq!(asked.get(), 1);
    }
}
