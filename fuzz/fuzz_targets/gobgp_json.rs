//! Fuzzes the parsers of GoBGP's JSON answers (`gobgp neighbor -j`,
//! `gobgp global rib -j`). Replayed on stable by `testkit/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = testkit::parse_neighbors(&text);
    let _ = testkit::parse_rib(&text);
});
