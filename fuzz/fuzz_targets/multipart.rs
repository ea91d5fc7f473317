//! Fuzzes the `multipart/form-data` splitter. The input's first line is the boundary
//! (or a `Content-Type` value carrying one), the rest is the body. Replayed on stable by
//! `testkit/tests/fuzz_corpus.rs`.
#![no_main]
// The bodies file holds the other targets' bodies too.
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

include!("../bodies/testkit.rs");

fuzz_target!(|data: &[u8]| fuzz_multipart(data));
