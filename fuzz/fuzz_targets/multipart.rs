//! Fuzzes the `multipart/form-data` splitter. The input's first line is the boundary
//! (or a `Content-Type` value carrying one), the rest is the body. Replayed on stable by
//! `testkit/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let first = String::from_utf8_lossy(first);
    let first = first.trim_end_matches('\r');
    let boundary = testkit::multipart_boundary(first).unwrap_or_else(|| first.to_owned());
    let _ = testkit::parse_multipart(body, &boundary);
});
