//! Fuzzes the parser of `ip -ts monitor` events. Replayed on stable by
//! `testkit/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = testkit::parse_event(&String::from_utf8_lossy(data));
});
