//! Any bytes, cut into chunks as the input's first bytes say (see `rstscope_fuzz`): the
//! decoder never panics, its events make sense, and feeding the same bytes in one piece gives
//! exactly the same events and result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rstscope_fuzz::{check_events, chunks, decode, split_input};

fuzz_target!(|data: &[u8]| {
    let (control, capture) = split_input(data);
    let chunked = decode(chunks(control, capture));
    check_events(&chunked.0);
    let whole = decode(std::iter::once(capture));
    assert_eq!(whole, chunked, "chunking changed the events");
});
