//! Replays the saved cargo-fuzz corpora of the test kit's parsers on stable Rust.
//!
//! The targets in `fuzz/fuzz_targets/` need libFuzzer and nightly flags, so they run
//! only by hand (see `fuzz/README.md`). Their bodies live in `fuzz/bodies/testkit.rs`,
//! included here too, so every saved input runs through exactly the same code on every
//! `cargo test`.

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fuzz/bodies/testkit.rs"
));

/// The fewest inputs a corpus may hold: fewer means it was lost or never saved.
const MIN: usize = 3;

#[test]
fn bird_output_corpus() {
    testkit::replay_corpus("bird_output", MIN, fuzz_bird_output);
}

#[test]
fn http_request_head_corpus() {
    testkit::replay_corpus("http_request_head", MIN, fuzz_http_request_head);
}

#[test]
fn multipart_corpus() {
    testkit::replay_corpus("multipart", MIN, fuzz_multipart);
}

#[test]
fn pcap_corpus() {
    testkit::replay_corpus("pcap", MIN, fuzz_pcap);
}

#[test]
fn ip_monitor_corpus() {
    testkit::replay_corpus("ip_monitor", MIN, fuzz_ip_monitor);
}

#[test]
fn gobgp_json_corpus() {
    testkit::replay_corpus("gobgp_json", MIN, fuzz_gobgp_json);
}
