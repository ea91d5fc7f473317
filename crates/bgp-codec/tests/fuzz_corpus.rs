//! Replays the saved cargo-fuzz corpora of bgp-codec on stable Rust.
//!
//! The targets in `fuzz/fuzz_targets/bgp_*.rs` need libFuzzer and nightly flags, so they
//! run only by hand (see `fuzz/README.md`). Their bodies live in
//! `fuzz/bodies/bgp_codec.rs`, included here too, so every saved input runs through
//! exactly the same code and oracles on every `cargo test`.

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/bodies/bgp_codec.rs"
));

/// The fewest inputs a corpus may hold: fewer means it was lost or never saved.
const MIN: usize = 10;

#[test]
fn bgp_stream_corpus() {
    testkit::replay_corpus("bgp_stream", MIN, fuzz_bgp_stream);
}

#[test]
fn bgp_update_corpus() {
    testkit::replay_corpus("bgp_update", MIN, fuzz_bgp_update);
}

#[test]
fn bgp_message_corpus() {
    testkit::replay_corpus("bgp_message", MIN, fuzz_bgp_message);
}
