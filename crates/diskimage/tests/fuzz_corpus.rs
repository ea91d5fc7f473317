//! Replays the saved cargo-fuzz corpus of diskimage on stable Rust.
//!
//! The target `fuzz/fuzz_targets/diskimage_input.rs` needs libFuzzer and nightly flags,
//! so it runs only by hand (see `fuzz/README.md`). Its body lives in
//! `fuzz/bodies/diskimage.rs`, included here too, so every saved input runs through
//! exactly the same code and oracles on every `cargo test`.

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/bodies/diskimage.rs"
));

/// The fewest inputs the corpus may hold: fewer means it was lost or never saved.
const MIN: usize = 10;

#[test]
fn diskimage_input_corpus() {
    testkit::replay_corpus("diskimage_input", MIN, fuzz_diskimage_input);
}
