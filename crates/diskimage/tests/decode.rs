//! Decoding against the real compression tools: round trips, concatenated streams,
//! truncation, damage and trailing garbage, for every format.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diskimage::{DETECT_LEN, DecodeOptions, Format, decode_error, decoder, detect};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use testkit::TempDir;

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Text-like data: words from a small vocabulary.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "disk",
        "image",
        "block",
        "frame",
        "the",
        "of",
        "metal",
        "kernel",
        "boot",
        "ext4",
        "partition",
        "sector",
        "\n",
        "zero",
        "stream",
        "provisioning",
        "0x1f8b",
        "GPT",
    ];
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(WORDS[(rng.next() % WORDS.len() as u64) as usize].as_bytes());
        out.push(b' ');
    }
    out.truncate(len);
    out
}

/// Incompressible data.
fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Text, random data and zeros mixed, `len` bytes.
fn mixed(len: usize, seed: u64) -> Vec<u8> {
    let mut out = text(len / 2, seed);
    out.extend(random(len / 4, seed + 1));
    out.resize(len, 0);
    out
}

/// Runs `tool args... file` and returns its standard output.
fn compress_file(tool: &str, args: &[&str], file: &Path) -> Result<Vec<u8>> {
    let path = testkit::require(tool)?;
    let out = Command::new(path)
        .args(args)
        .arg(file)
        .stderr(Stdio::inherit())
        .output()?;
    assert!(out.status.success(), "{tool} {args:?} failed");
    Ok(out.stdout)
}

/// Compresses `data` with `tool args...`, writing it to a temporary file first.
fn compress(tool: &str, args: &[&str], data: &[u8]) -> Result<Vec<u8>> {
    let dir = TempDir::new("decode")?;
    let file = dir.join("input");
    std::fs::write(&file, data)?;
    compress_file(tool, args, &file)
}

/// The tools and arguments (writing to stdout) for each format.
fn tools() -> Vec<(&'static str, Vec<&'static str>, Format)> {
    vec![
        ("gzip", vec!["-c", "-6"], Format::Gzip),
        ("pigz", vec!["-c", "-p", "2"], Format::Gzip),
        ("zstd", vec!["-q", "-c", "-3"], Format::Zstd),
        ("zstd", vec!["-q", "-c", "--no-check", "-1"], Format::Zstd),
        ("zstd", vec!["-q", "-c", "-T2", "-19"], Format::Zstd),
        ("pzstd", vec!["-q", "-c", "-p", "2", "-1"], Format::Zstd),
        ("xz", vec!["-c", "-1"], Format::Xz),
        (
            "xz",
            vec!["-c", "-T2", "--block-size=300000", "-3"],
            Format::Xz,
        ),
        ("bzip2", vec!["-c", "-9"], Format::Bzip2),
        ("lz4", vec!["-q", "-c"], Format::Lz4),
        (
            "lz4",
            vec!["-q", "-c", "-BD", "-BX", "--content-size", "-B64KB"],
            Format::Lz4,
        ),
    ]
}

fn decode_with(format: Format, data: Vec<u8>, threads: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    decoder(
        format,
        Box::new(io::Cursor::new(data)),
        &DecodeOptions { threads },
    )
    .read_to_end(&mut out)?;
    Ok(out)
}

/// Detects and decodes `data`, on one and on two threads, checking both agree.
fn decode_detected(data: &[u8]) -> io::Result<Vec<u8>> {
    let format = detect(&data[..data.len().min(DETECT_LEN)]);
    let one = decode_with(format, data.to_vec(), 1)?;
    let two = decode_with(format, data.to_vec(), 2)?;
    assert!(one == two, "one and two threads disagree");
    Ok(one)
}

/// Asserts that decoding `data` as `format` fails with a [`DecodeError`] whose offset
/// is at most `max_offset`, on one and on two threads.
fn assert_fails(format: Format, data: &[u8], max_offset: u64, what: &str) {
    for threads in [1, 2] {
        let Err(err) = decode_with(format, data.to_vec(), threads) else {
            panic!("{what}: {format} on {threads} threads decoded without error");
        };
        let inner = decode_error(&err)
            .unwrap_or_else(|| panic!("{what}: {format}: not a DecodeError: {err}"));
        assert_eq!(inner.format, format, "{what}");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ),
            "{what}: kind {:?}",
            err.kind()
        );
        assert!(
            inner.offset <= max_offset,
            "{what}: {format}: offset {} past {max_offset}: {err}",
            inner.offset
        );
    }
}

#[test]
fn every_tool_round_trips() -> Result {
    let data = mixed(3 << 20, 1);
    for (tool, args, format) in tools() {
        let compressed = compress(tool, &args, &data)?;
        assert_eq!(detect(&compressed[..DETECT_LEN]), format, "{tool} {args:?}");
        let decoded = decode_detected(&compressed)?;
        assert!(decoded == data, "{tool} {args:?}: decoded data differs");
    }
    Ok(())
}

#[test]
fn incompressible_data_round_trips() -> Result {
    let data = random(5 << 20, 2);
    for (tool, args, format) in tools() {
        let compressed = compress(tool, &args, &data)?;
        assert_eq!(detect(&compressed), format, "{tool} {args:?}");
        assert!(decode_detected(&compressed)? == data, "{tool} {args:?}");
    }
    Ok(())
}

#[test]
fn empty_input_round_trips() -> Result {
    for (tool, args, format) in tools() {
        let compressed = compress(tool, &args, b"")?;
        assert_eq!(detect(&compressed), format, "{tool} {args:?}");
        assert!(decode_detected(&compressed)?.is_empty(), "{tool} {args:?}");
    }
    // Nothing at all is a raw (empty) image, but never a compressed stream.
    assert_eq!(detect(b""), Format::Raw);
    assert!(decode_with(Format::Raw, Vec::new(), 1)?.is_empty());
    for format in Format::ALL.into_iter().filter(|f| *f != Format::Raw) {
        assert_fails(format, b"", 0, "empty input");
    }
    Ok(())
}

#[test]
fn concatenated_streams_are_decoded_entirely() -> Result {
    let a = text(700_000, 3);
    let b = random(300_000, 4);
    let c = text(10, 5);
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    expected.extend_from_slice(&c);
    for (tool, args, _) in tools() {
        let mut joined = compress(tool, &args, &a)?;
        joined.extend(compress(tool, &args, &b)?);
        joined.extend(compress(tool, &args, b"")?);
        joined.extend(compress(tool, &args, &c)?);
        assert!(decode_detected(&joined)? == expected, "{tool} {args:?}");
    }
    Ok(())
}

/// The number of zstd frames of a file, as `zstd -lv` reports it.
fn zstd_frames(file: &Path) -> Result<usize> {
    let out = Command::new(testkit::require("zstd")?)
        .args(["-lv"])
        .arg(file)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Zstandard Frames:"))
        .ok_or("no frame count")?;
    Ok(line.rsplit(' ').next().ok_or("no count")?.trim().parse()?)
}

#[test]
fn a_large_multi_frame_pzstd_file_round_trips() -> Result {
    // 80 MiB with long zero runs, like a disk image.
    let dir = TempDir::new("pzstd-large")?;
    let input = dir.join("image");
    let mut expected = Sha256::new();
    {
        let mut file = io::BufWriter::new(std::fs::File::create(&input)?);
        for i in 0..80u64 {
            let mut mib = vec![0u8; 1 << 20];
            if i % 3 == 0 {
                let piece = mixed(300_000, i);
                mib[4096..4096 + piece.len()].copy_from_slice(&piece);
            }
            expected.update(&mib);
            file.write_all(&mib)?;
        }
        file.flush()?;
    }
    let expected = expected.finalize();
    let output = dir.join("image.zst");
    let status = Command::new(testkit::require("pzstd")?)
        .args(["-q", "-p", "2", "-3", "-o"])
        .arg(&output)
        .arg(&input)
        .status()?;
    assert!(status.success());
    assert!(zstd_frames(&output)? > 4, "pzstd wrote few frames");
    for threads in [1, 2, 3] {
        let file = std::fs::File::open(&output)?;
        let mut reader = decoder(Format::Zstd, Box::new(file), &DecodeOptions { threads });
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
            hash.update(&buf[..n]);
        }
        assert_eq!(total, 80 << 20);
        assert_eq!(hash.finalize(), expected, "{threads} threads");
    }
    Ok(())
}

/// Small streams of every kind, for the fault tests.
fn fault_cases() -> Result<Vec<(String, Format, Vec<u8>)>> {
    let data = mixed(1 << 20, 6);
    let mut cases = Vec::new();
    for (tool, args, format) in tools() {
        cases.push((
            format!("{tool} {args:?}"),
            format,
            compress(tool, &args, &data)?,
        ));
    }
    // A multi-frame zstd stream with skippable frames, small enough to be decoded by
    // the workers.
    let mut pz = Vec::new();
    for part in data.chunks(300_000) {
        pz.extend(compress("pzstd", &["-q", "-c", "-p", "1"], part)?);
    }
    cases.push(("pzstd joined".into(), Format::Zstd, pz));
    Ok(cases)
}

#[test]
fn a_truncated_stream_is_always_an_error() -> Result {
    for (what, format, full) in fault_cases()? {
        let len = full.len();
        let mut cuts = vec![1, 2, 3, 4, 5, 6, 9, 12, 13, 20, 100, len / 3, len / 2];
        cuts.extend([
            len - 100,
            len - 9,
            len - 5,
            len - 4,
            len - 3,
            len - 2,
            len - 1,
        ]);
        for cut in cuts {
            assert_fails(
                format,
                &full[..cut],
                cut as u64,
                &format!("{what} cut at {cut}"),
            );
        }
    }
    Ok(())
}

#[test]
fn a_truncated_stream_reports_a_plausible_offset() -> Result {
    for (what, format, full) in fault_cases()? {
        let cut = full.len() / 2;
        for threads in [1, 2] {
            let err = decode_with(format, full[..cut].to_vec(), threads).unwrap_err();
            let offset = decode_error(&err).unwrap().offset;
            // The decoder consumed (nearly) all the input before noticing its end.
            assert!(
                offset + 300_000 >= cut as u64 && offset <= cut as u64,
                "{what}: offset {offset} for a cut at {cut}: {err}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_flipped_byte_is_an_error() -> Result {
    for (what, format, full) in fault_cases()? {
        if what.contains("--no-check") {
            // Without a checksum, some flips decode to other data: nothing to detect.
            continue;
        }
        for at in [full.len() / 2, full.len() / 3 + 1, full.len() * 3 / 4] {
            let mut damaged = full.clone();
            damaged[at] ^= 0x10;
            assert_fails(
                format,
                &damaged,
                full.len() as u64,
                &format!("{what} flipped at {at}"),
            );
        }
    }
    Ok(())
}

#[test]
fn trailing_garbage_is_an_error() -> Result {
    for (what, format, full) in fault_cases()? {
        if format == Format::Xz {
            // Zero bytes in multiples of four are xz stream padding, part of the format.
            let mut padded = full.clone();
            padded.extend_from_slice(&[0u8; 512]);
            assert!(decode_detected(&padded).is_ok(), "{what}: padding refused");
        }
        let tails: [&[u8]; 5] = [b"garbage!", &[0u8; 1], &[0u8; 6], &[0x1f], &[0x42; 512]];
        for tail in tails {
            let mut data = full.clone();
            data.extend_from_slice(tail);
            assert_fails(
                format,
                &data,
                data.len() as u64,
                &format!("{what} + {} trailing bytes", tail.len()),
            );
        }
    }
    Ok(())
}

#[test]
fn unknown_data_is_raw_and_passes_through() -> Result {
    for data in [random(100_000, 7), text(5000, 8), vec![0u8; 4096]] {
        assert_eq!(detect(&data[..DETECT_LEN]), Format::Raw);
        assert!(decode_detected(&data)? == data);
    }
    Ok(())
}

#[test]
fn garbage_given_as_a_compressed_format_is_an_error() {
    let data = random(10_000, 9);
    for format in Format::ALL.into_iter().filter(|f| *f != Format::Raw) {
        assert_fails(format, &data, data.len() as u64, "random data");
    }
}

/// An input that fails after `ok` bytes.
struct Failing {
    data: io::Cursor<Vec<u8>>,
    ok: u64,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.position() >= self.ok {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "network gone",
            ));
        }
        let room = (self.ok - self.data.position()) as usize;
        let n = room.min(buf.len());
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn an_input_error_is_passed_through() -> Result {
    for (what, format, full) in fault_cases()? {
        for threads in [1, 2] {
            let input = Failing {
                data: io::Cursor::new(full.clone()),
                ok: full.len() as u64 / 2,
            };
            let mut out = Vec::new();
            let err = decoder(format, Box::new(input), &DecodeOptions { threads })
                .read_to_end(&mut out)
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{what}: {err}");
            assert!(decode_error(&err).is_none(), "{what}");
        }
    }
    Ok(())
}

#[test]
fn errors_repeat_on_later_reads() -> Result {
    for (what, format, full) in fault_cases()? {
        for threads in [1, 2] {
            let cut = full[..full.len() - 3].to_vec();
            let mut reader = decoder(
                format,
                Box::new(io::Cursor::new(cut)),
                &DecodeOptions { threads },
            );
            let mut out = Vec::new();
            let first = reader.read_to_end(&mut out).unwrap_err();
            let mut buf = [0u8; 16];
            let second = reader.read(&mut buf).unwrap_err();
            assert_eq!(first.kind(), second.kind(), "{what}");
            assert_eq!(decode_error(&first), decode_error(&second), "{what}");
        }
    }
    Ok(())
}

/// A slow, endless stream of small zstd frames.
struct EndlessFrames {
    frame: Vec<u8>,
    pos: usize,
}

impl Read for EndlessFrames {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.frame[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos = (self.pos + n) % self.frame.len();
        Ok(n)
    }
}

#[test]
fn dropping_the_reader_early_stops_the_threads() -> Result {
    let frame = zstd::bulk::compress(&text(1 << 20, 10), 1)?;
    for _ in 0..5 {
        let input = EndlessFrames {
            frame: frame.clone(),
            pos: 0,
        };
        let mut reader = decoder(Format::Zstd, Box::new(input), &DecodeOptions { threads: 2 });
        let mut buf = vec![0u8; 3 << 20];
        reader.read_exact(&mut buf)?;
        let start = Instant::now();
        drop(reader);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "drop took too long"
        );
    }
    Ok(())
}

fn encode_all(format: Format, data: &[u8], split: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in data.chunks(split.max(1)) {
        match format {
            Format::Raw => out.extend_from_slice(part),
            Format::Gzip => {
                let mut e = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
                e.write_all(part).unwrap();
                e.finish().unwrap();
            }
            Format::Zstd => out.extend(zstd::bulk::compress(part, 1).unwrap()),
            Format::Xz => {
                let mut e = liblzma::write::XzEncoder::new(&mut out, 0);
                e.write_all(part).unwrap();
                e.finish().unwrap();
            }
            Format::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(&mut out, bzip2::Compression::fast());
                e.write_all(part).unwrap();
                e.finish().unwrap();
            }
            Format::Lz4 => {
                let mut e = lz4_flex::frame::FrameEncoder::new(&mut out);
                e.write_all(part).unwrap();
                e.finish().unwrap();
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn in_process_streams_round_trip(
        format in proptest::sample::select(Format::ALL.to_vec()),
        seed in any::<u64>(),
        len in 1usize..150_000,
        split in 1usize..200_000,
        kind in 0u8..3,
        threads in 1usize..4,
    ) {
        let data = match kind {
            0 => text(len, seed),
            1 => random(len, seed),
            _ => mixed(len, seed),
        };
        let encoded = encode_all(format, &data, split);
        let decoded = decode_with(format, encoded, threads).unwrap();
        prop_assert!(decoded == data);
    }

    #[test]
    fn random_bytes_never_panic(
        format in proptest::sample::select(Format::ALL.to_vec()),
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        prefix in any::<bool>(),
    ) {
        let mut data = Vec::new();
        if prefix {
            data.extend_from_slice(match format {
                Format::Zstd => &[0x28, 0xb5, 0x2f, 0xfd][..],
                Format::Lz4 => &[0x04, 0x22, 0x4d, 0x18],
                Format::Gzip => &[0x1f, 0x8b, 8, 0],
                _ => b"",
            });
        }
        data.extend_from_slice(&bytes);
        for threads in [1, 2] {
            let _ = decode_with(format, data.clone(), threads);
        }
    }
}
