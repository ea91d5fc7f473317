// The bodies of the diskimage fuzz targets. Included (`include!`) both by the targets in
// `fuzz_targets/` and by `crates/diskimage/tests/fuzz_corpus.rs`, which replays the
// saved corpora on stable Rust.

/// Feeds the pure parsers (format detection, the unsupported-format check, checksum
/// files, digests, source specs) and then every decoder with the input as its
/// compressed stream: decoding must end in bytes or a typed error, never a panic or a
/// hang, and an error must carry the offset of the compressed byte it was found at.
#[allow(dead_code)] // each target calls one body
fn fuzz_diskimage_input(data: &[u8]) {
    use std::io::Read;

    use diskimage::{
        DecodeOptions, Digest, Format, SourceSpec, decode_error, decoder, detect,
        parse_checksum_entries, parse_checksum_file, unsupported,
    };

    let _ = detect(data);
    let _ = unsupported(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_checksum_entries(text);
        let _ = parse_checksum_file(text, Some("disk.img"));
        let _ = parse_checksum_file(text, None);
        if let Ok(d) = Digest::parse(text) {
            // Display → parse is the identity.
            assert_eq!(Digest::parse(&d.prefixed()).expect("displayed digest parses"), d);
        }
        let _ = SourceSpec::parse(text);
    }
    let threads = 1 + usize::from(data.first().copied().unwrap_or(0) & 1);
    for format in [Format::Gzip, Format::Zstd, Format::Xz, Format::Bzip2, Format::Lz4] {
        let input: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
        let mut raw = decoder(format, input, &DecodeOptions { threads });
        let mut out = Vec::new();
        // Bounded: a tiny input cannot honestly expand past this; stop reading there.
        let mut limited = (&mut raw).take(64 << 20);
        if let Err(e) = limited.read_to_end(&mut out) {
            let d = decode_error(&e).expect("a decode error carries its DecodeError");
            assert!(d.offset <= data.len() as u64, "{format}: offset {} past the input", d.offset);
        }
    }
}
