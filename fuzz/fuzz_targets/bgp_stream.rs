//! Fuzzes bgp-codec's framing and every message decoder on a byte stream, with an
//! exact re-encoding oracle. Replayed on stable by `crates/bgp-codec/tests/fuzz_corpus.rs`.
#![no_main]
// The bodies file holds the other targets' bodies too.
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

include!("../bodies/bgp_codec.rs");

fuzz_target!(|data: &[u8]| fuzz_bgp_stream(data));
