//! Fuzzes diskimage's parsers (detection, unsupported formats, checksum files, digests,
//! source specs) and every decoder with arbitrary compressed input. Replayed on stable by
//! `crates/diskimage/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../bodies/diskimage.rs");

fuzz_target!(|data: &[u8]| fuzz_diskimage_input(data));
