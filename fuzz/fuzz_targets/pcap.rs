//! Fuzzes the classic pcap file reader. Replayed on stable by
//! `testkit/tests/fuzz_corpus.rs`.
#![no_main]
// The bodies file holds the other targets' bodies too.
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

include!("../bodies/testkit.rs");

fuzz_target!(|data: &[u8]| fuzz_pcap(data));
