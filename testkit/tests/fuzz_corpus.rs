//! Replays the saved cargo-fuzz corpora on stable Rust.
//!
//! The fuzz targets in `fuzz/fuzz_targets/` need libFuzzer and nightly flags, so they
//! run only by hand (see `fuzz/README.md`). Every input they found worth keeping is saved
//! in `fuzz/corpus/<target>/`; this test feeds each of those files to the same parser
//! calls on every `cargo test`, so a change that makes a parser panic on a known input
//! fails here without a fuzzer. It passes when nothing panics: what the parsers return
//! is not checked.
//!
//! Each `replay_*` function repeats the body of the fuzz target of the same name: keep
//! the two in step when either changes.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

/// The fewest files a corpus may hold: fewer means it was lost or never saved.
const MIN_CORPUS_FILES: usize = 3;

/// The files of `fuzz/corpus/<target>/`, sorted, after checking there are enough.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    assert!(dir.is_dir(), "no corpus directory {}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= MIN_CORPUS_FILES,
        "{} holds {} files, expected at least {MIN_CORPUS_FILES}",
        dir.display(),
        files.len()
    );
    files
}

/// Feeds every file of `target`'s corpus to `run` and fails naming each file that made
/// it panic (the panic messages themselves are printed as they happen).
fn replay(target: &str, run: fn(&[u8])) {
    let mut panicked = Vec::new();
    for path in corpus(target) {
        let data =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if panic::catch_unwind(|| run(&data)).is_err() {
            panicked.push(path.display().to_string());
        }
    }
    assert!(
        panicked.is_empty(),
        "the {target} parsers panicked on {panicked:#?}"
    );
}

/// Same as `fuzz/fuzz_targets/bird_output.rs`.
fn replay_bird_output(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(routes) = testkit::parse_routes(text) {
        for route in &routes {
            let _ = (
                route.origin(),
                route.as_path(),
                route.next_hop(),
                route.med(),
            );
            let _ = (
                route.local_pref(),
                route.communities(),
                route.large_communities(),
            );
        }
    }
    if let Ok(protocols) = testkit::parse_protocols(text) {
        let _ = protocols.iter().filter(|p| p.is_established()).count();
    }
    let _ = testkit::parse_route_count(text);
}

/// Same as `fuzz/fuzz_targets/http_request_head.rs`.
fn replay_http_request_head(data: &[u8]) {
    if let Ok(Some((head, len))) = testkit::parse_request_head(data) {
        let _ = (
            head.keep_alive(),
            head.expects_continue(),
            head.header("host"),
        );
        if head.framing == testkit::BodyFraming::Chunked {
            let _ = testkit::decode_chunked(&data[len..]);
        }
    }
    let _ = testkit::decode_chunked(data);
}

/// Same as `fuzz/fuzz_targets/multipart.rs`: the first line is the boundary (or a
/// `Content-Type` value carrying one), the rest is the body.
fn replay_multipart(data: &[u8]) {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let first = String::from_utf8_lossy(first);
    let first = first.trim_end_matches('\r');
    let boundary = testkit::multipart_boundary(first).unwrap_or_else(|| first.to_owned());
    let _ = testkit::parse_multipart(body, &boundary);
}

/// Same as `fuzz/fuzz_targets/pcap.rs`.
fn replay_pcap(data: &[u8]) {
    let _ = testkit::parse_pcap(data);
}

/// Same as `fuzz/fuzz_targets/ip_monitor.rs`.
fn replay_ip_monitor(data: &[u8]) {
    let _ = testkit::parse_event(&String::from_utf8_lossy(data));
}

/// Same as `fuzz/fuzz_targets/gobgp_json.rs`.
fn replay_gobgp_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = testkit::parse_neighbors(&text);
    let _ = testkit::parse_rib(&text);
}

#[test]
fn bird_output_corpus() {
    replay("bird_output", replay_bird_output);
}

#[test]
fn http_request_head_corpus() {
    replay("http_request_head", replay_http_request_head);
}

#[test]
fn multipart_corpus() {
    replay("multipart", replay_multipart);
}

#[test]
fn pcap_corpus() {
    replay("pcap", replay_pcap);
}

#[test]
fn ip_monitor_corpus() {
    replay("ip_monitor", replay_ip_monitor);
}

#[test]
fn gobgp_json_corpus() {
    replay("gobgp_json", replay_gobgp_json);
}
