//! Fuzzes the classic pcap file reader. Replayed on stable by
//! `testkit/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = testkit::parse_pcap(data);
});
