//! Replays the saved cargo-fuzz corpora of arp-ndp on stable Rust.
//!
//! The targets in `fuzz/fuzz_targets/arp_*.rs` need libFuzzer and nightly flags, so they
//! run only by hand (see `fuzz/README.md`). Their bodies live in `fuzz/bodies/arp.rs`,
//! included here too, so every saved input runs through exactly the same code and
//! oracles on every `cargo test`.

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/bodies/arp.rs"
));

/// The fewest inputs a corpus may hold: fewer means it was lost or never saved.
const MIN: usize = 10;

#[test]
fn arp_frame_corpus() {
    testkit::replay_corpus("arp_frame", MIN, fuzz_arp_frame);
}

#[test]
fn arp_layers_corpus() {
    testkit::replay_corpus("arp_layers", MIN, fuzz_arp_layers);
}
