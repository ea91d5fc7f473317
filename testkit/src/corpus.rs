//! Replaying the saved cargo-fuzz corpora (`fuzz/corpus/<target>/`) as ordinary tests.

use std::path::{Path, PathBuf};

/// The directory of one target's corpus, `fuzz/corpus/<target>` at the workspace root.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Feeds every file of `target`'s corpus to `run`, the fuzz target's body. Panics —
/// failing the calling test — when the corpus is missing or holds fewer than
/// `min_files` inputs, or naming every input that made `run` panic.
pub fn replay_corpus(target: &str, min_files: usize, run: fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no corpus at {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= min_files,
        "{} holds {} inputs, expected at least {min_files}",
        dir.display(),
        files.len()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            std::panic::catch_unwind(|| run(&data)).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "the {target} target panicked on {failed:#?}"
    );
}
