//! Fuzzes the HTTP fixture server's request-head parser and chunked-body decoder.
//! Replayed on stable by `testkit/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, len))) = testkit::parse_request_head(data) {
        let _ = (
            head.keep_alive(),
            head.expects_continue(),
            head.header("host"),
        );
        // What follows the head is the body: decode it as the server would.
        if head.framing == testkit::BodyFraming::Chunked {
            let _ = testkit::decode_chunked(&data[len..]);
        }
    }
    // The decoder on its own too, so the fuzzer needs no valid head to reach it.
    let _ = testkit::decode_chunked(data);
});
