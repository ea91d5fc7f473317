//! Replays the saved cargo-fuzz corpus of lb-core on stable Rust.
//!
//! The target `fuzz/fuzz_targets/lb_config.rs` needs libFuzzer and nightly flags, so it
//! runs only by hand (see `fuzz/README.md`). Its body lives in `fuzz/bodies/lb_core.rs`,
//! included here too, so every saved input runs through exactly the same code and
//! oracles on every `cargo test`.

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/bodies/lb_core.rs"
));

/// The fewest inputs the corpus may hold: fewer means it was lost or never saved.
const MIN: usize = 10;

#[test]
fn lb_config_corpus() {
    testkit::replay_corpus("lb_config", MIN, fuzz_lb_config);
}
