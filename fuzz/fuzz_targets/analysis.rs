//! Any bytes through the whole analysis, chunked as the input's first bytes say (see
//! `rstscope_fuzz`): `Analyzer::feed`/`finish`, the report with its reset diagnosis, its JSON
//! (which must read back as a report) and its text, and the view models the page draws from
//! them (packet fields and hex dump, the ladder of every connection, the timeline, the table's
//! states). The same bytes in one piece must give the same report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rstscope::capture::{Decoder, Event};
use rstscope::pipeline::{Analysis, Analyzer};
use rstscope::report::Report;
use rstscope::view::{fields, ladder, table, timeline};
use rstscope_fuzz::{chunks, split_input};

fn analyse<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Option<Analysis> {
    let mut analyzer = Analyzer::new();
    for chunk in chunks {
        analyzer.feed(chunk).ok()?;
    }
    analyzer.finish().ok()
}

/// The report as JSON, after exercising everything built from the analysis.
fn report(analysis: &Analysis) -> String {
    std::hint::black_box(format!("{:?}", analysis.tcp));
    let report = Report::new(analysis);
    let json = report.to_json();
    // It reads back (a NaN or infinite duration would have become `null` and fail here).
    let back: Result<Report, _> = serde_json::from_str(&json);
    assert!(
        back.is_ok(),
        "the report's JSON does not read back: {back:?}"
    );
    std::hint::black_box(report.to_text());
    for conn in analysis.flows.connections() {
        if let Some(packets) = ladder::connection_packets(analysis, conn.stream) {
            let layout = ladder::Ladder::new(
                &packets.packets,
                &packets.client,
                &packets.server,
                &[],
                packets.middlebox,
                1.0,
            );
            std::hint::black_box(layout.visible(0.0, layout.height()));
        }
    }
    std::hint::black_box(timeline::timeline(&report, 800.0));
    std::hint::black_box(table::states(&report));
    json
}

/// The page's packet detail decodes the bytes of a packet on its own: every packet's fields
/// and hex dump.
fn packet_views(capture: &[u8]) {
    let mut sink = |event: Event<'_>| {
        if let Event::Packet(p) = event {
            std::hint::black_box(fields::decode(p.link_type, p.data, p.orig_len));
            std::hint::black_box(fields::hex_lines(p.data));
        }
    };
    let mut decoder = Decoder::new();
    if decoder.feed(capture, &mut sink).is_ok() {
        let _ = decoder.finish(&mut sink);
    }
}

fuzz_target!(|data: &[u8]| {
    let (control, capture) = split_input(data);
    let chunked = analyse(chunks(control, capture)).map(|a| report(&a));
    let whole = analyse(std::iter::once(capture)).map(|a| report(&a));
    assert_eq!(whole, chunked, "chunking changed the report");
    packet_views(capture);
});
