//! Replays the saved cargo-fuzz corpora of arp-ndp on stable Rust.
//!
//! The targets in `fuzz/fuzz_targets/arp_*.rs` need libFuzzer and nightly flags, so they
//! run only by hand (see `fuzz/README.md`). Their bodies live in `fuzz/bodies/arp.rs`,
//! included here too, so every saved input runs through exactly the same code and
//! oracles on every `cargo test`.

use std::path::Path;

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/bodies/arp.rs"
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
fn arp_frame_corpus() {
    replay("arp_frame", fuzz_arp_frame);
}

#[test]
fn arp_layers_corpus() {
    replay("arp_layers", fuzz_arp_layers);
}
