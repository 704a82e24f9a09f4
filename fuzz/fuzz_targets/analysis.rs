//! Any bytes through the whole analysis, chunked as the input's first bytes say (see
//! `rstscope_fuzz`): `Analyzer::feed`/`finish`, every public view of the result, the report,
//! its JSON (which must read back as a report) and its text. The same bytes in one
//! piece must give the same report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rstscope::pipeline::{Analysis, Analyzer};
use rstscope::report::Report;
use rstscope_fuzz::{chunks, split_input};

fn analyse<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Option<Analysis> {
    let mut analyzer = Analyzer::new();
    for chunk in chunks {
        analyzer.feed(chunk).ok()?;
    }
    analyzer.finish().ok()
}

/// The report as JSON, after exercising everything the analysis exposes.
fn report(analysis: &Analysis) -> String {
    // The later stages' own views (TCP analysis per connection and per packet).
    std::hint::black_box(format!("{:?}", analysis.tcp));
    let report = Report::new(analysis);
    let json = report.to_json();
    // It reads back (a NaN or infinite duration would have become `null` and fail here).
    let back: Result<Report, _> = serde_json::from_str(&json);
    assert!(back.is_ok(), "the report's JSON does not read back: {back:?}");
    std::hint::black_box(report.to_text());
    json
}

fuzz_target!(|data: &[u8]| {
    let (control, capture) = split_input(data);
    let chunked = analyse(chunks(control, capture)).map(|a| report(&a));
    let whole = analyse(std::iter::once(capture)).map(|a| report(&a));
    assert_eq!(whole, chunked, "chunking changed the report");
});
