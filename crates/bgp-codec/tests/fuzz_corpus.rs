//! Replays the saved cargo-fuzz corpora of bgp-codec on stable Rust.
//!
//! The targets in `fuzz/fuzz_targets/bgp_*.rs` need libFuzzer and nightly flags, so they
//! run only by hand (see `fuzz/README.md`). Their bodies live in
//! `fuzz/bodies/bgp_codec.rs`, included here too, so every saved input runs through
//! exactly the same code and oracles on every `cargo test`.

use std::path::Path;

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/bodies/bgp_codec.rs"
));

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no corpus at {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{} holds only {} inputs",
        dir.display(),
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).expect("a corpus file");
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("{} fails", file.display());
        }
    }
}

#[test]
fn bgp_stream_corpus() {
    replay("bgp_stream", fuzz_bgp_stream);
}

#[test]
fn bgp_update_corpus() {
    replay("bgp_update", fuzz_bgp_update);
}

#[test]
fn bgp_message_corpus() {
    replay("bgp_message", fuzz_bgp_message);
}
