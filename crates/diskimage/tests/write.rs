//! The write path end to end: every compression format as the real CLI tools write it,
//! HTTP downloads with published checksums and resumes, and each fault with its typed
//! error, its exit code and nothing reported as success.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use diskimage::{
    Digest, Expected, Format, Progress, PublishedChecksum, SourceSpec, Stage, WriteError,
    WriteOptions, verify_image, write_image,
};
use testkit::{FixtureServer, Response, TempDir};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A deterministic image: runs of zeros (skippable), text-like and random-like data.
fn image(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let words = b"bare metal kubernetes image block partition ";
    for (i, chunk) in out.chunks_mut(64 * 1024).enumerate() {
        match i % 4 {
            0 => {} // zeros
            1 => {
                for (j, b) in chunk.iter_mut().enumerate() {
                    *b = words[(i * 7 + j) % words.len()];
                }
            }
            _ => {
                for b in chunk.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
            }
        }
    }
    out
}

/// Compresses `src` with a CLI tool into `dst` (`tool args... < src > dst`).
fn compress(tool: &str, args: &[&str], src: &Path, dst: &Path) -> TestResult {
    let bin = testkit::require(tool)?;
    let out = Command::new(bin)
        .args(args)
        .stdin(fs::File::open(src)?)
        .stdout(fs::File::create(dst)?)
        .status()?;
    assert!(out.success(), "{tool} {args:?} failed");
    Ok(())
}

fn quiet(_: &Progress) {}

fn write(opts: &WriteOptions) -> Result<diskimage::WriteSummary, WriteError> {
    write_image(opts, &mut quiet)
}

fn sha256_of(bytes: &[u8]) -> Digest {
    let mut h = diskimage::Hasher::new(diskimage::Algorithm::Sha256);
    h.update(bytes);
    h.finish()
}

struct Fixture {
    dir: TempDir,
    raw: Vec<u8>,
    raw_path: PathBuf,
}

fn fixture(len: usize) -> Result<Fixture, Box<dyn std::error::Error>> {
    let dir = TempDir::new("diskimage-write")?;
    let raw = image(len);
    let raw_path = dir.path().join("disk.img");
    fs::write(&raw_path, &raw)?;
    Ok(Fixture { dir, raw, raw_path })
}

#[test]
fn every_format_written_by_its_cli_tool_round_trips() -> TestResult {
    let f = fixture(6 << 20)?;
    // (tool, args, expected format)
    let table: &[(&str, &[&str], Format)] = &[
        ("gzip", &["-c", "-6"], Format::Gzip),
        ("pigz", &["-c", "-p", "2"], Format::Gzip),
        ("zstd", &["-c", "-q", "-3"], Format::Zstd),
        ("pzstd", &["-c", "-q", "-p", "2"], Format::Zstd),
        ("xz", &["-c", "-T2"], Format::Xz),
        ("bzip2", &["-c"], Format::Bzip2),
        ("lz4", &["-c", "-q"], Format::Lz4),
    ];
    for &(tool, args, format) in table {
        let packed = f.dir.path().join(format!("disk.img.{tool}"));
        compress(tool, args, &f.raw_path, &packed)?;
        let target = f.dir.path().join(format!("out-{tool}.img"));
        let mut opts = WriteOptions::new(SourceSpec::File(packed.clone()), &target);
        opts.expected = vec![
            Expected::new(sha256_of(&fs::read(&packed)?), Stage::Compressed),
            Expected::new(sha256_of(&f.raw), Stage::Raw),
        ];
        let summary = write(&opts).map_err(|e| format!("{tool}: {e}"))?;
        assert_eq!(summary.format, format, "{tool}");
        assert_eq!(summary.verified.len(), 2, "{tool}");
        assert_eq!(summary.report.bytes_total, f.raw.len() as u64);
        assert!(
            summary.report.bytes_skipped > 0,
            "{tool}: zeros were skipped"
        );
        assert_eq!(fs::read(&target)?, f.raw, "{tool}: bytes differ");
    }
    Ok(())
}

#[test]
fn raw_and_stdin_sources() -> TestResult {
    let f = fixture(1 << 20)?;
    let target = f.dir.path().join("out.img");
    let summary = write(&WriteOptions::new(
        SourceSpec::File(f.raw_path.clone()),
        &target,
    ))?;
    assert_eq!(summary.format, Format::Raw);
    assert_eq!(fs::read(&target)?, f.raw);
    let v = verify_image(
        &WriteOptions::new(SourceSpec::File(f.raw_path.clone()), ""),
        &mut quiet,
    )?;
    assert_eq!(v.image_size, f.raw.len() as u64);
    assert_eq!(v.sha256.1, sha256_of(&f.raw));
    Ok(())
}

/// Serves `bytes` at `/disk.img.zst` and its digest at `/disk.img.zst.sha256`.
fn serve(bytes: &[u8], sidecar: Option<&str>) -> Result<FixtureServer, Box<dyn std::error::Error>> {
    let server = FixtureServer::start()?;
    server.route("/disk.img.zst", Response::static_body(bytes.to_vec()));
    if let Some(text) = sidecar {
        server.route("/disk.img.zst.sha256", Response::text(200, text));
    }
    Ok(server)
}

#[test]
fn http_with_a_published_checksum_and_a_resumed_drop() -> TestResult {
    let f = fixture(4 << 20)?;
    let packed = f.dir.path().join("disk.img.zst");
    compress("zstd", &["-c", "-q"], &f.raw_path, &packed)?;
    let bytes = fs::read(&packed)?;
    let sidecar = format!("{}  disk.img.zst\n", sha256_of(&bytes));
    let server = serve(&bytes, Some(&sidecar))?;
    server.drop_next_mid_body("/disk.img.zst", 1, bytes.len() / 3);
    let target = f.dir.path().join("out.img");
    let mut opts = WriteOptions::new(SourceSpec::Url(server.url("/disk.img.zst")), &target);
    opts.published_checksum = PublishedChecksum::Required;
    let mut reports = 0;
    let summary = write_image(&opts, &mut |p: &Progress| {
        reports += 1;
        assert!(p.bytes_out <= f.raw.len() as u64);
    })?;
    assert!(reports >= 1, "the final progress report is always made");
    assert_eq!(summary.resumes, 1);
    assert_eq!(summary.verified.len(), 1);
    assert_eq!(summary.verified[0].stage, Stage::Compressed);
    assert_eq!(fs::read(&target)?, f.raw);
    Ok(())
}

#[test]
fn faults_fail_with_their_stage_and_exit_code() -> TestResult {
    let f = fixture(2 << 20)?;
    let packed = f.dir.path().join("disk.img.zst");
    compress("zstd", &["-c", "-q"], &f.raw_path, &packed)?;
    let bytes = fs::read(&packed)?;

    // Truncated stream.
    let cut = f.dir.path().join("cut.zst");
    fs::write(&cut, &bytes[..bytes.len() / 2])?;
    let err = write(&WriteOptions::new(
        SourceSpec::File(cut),
        f.dir.path().join("o1"),
    ))
    .unwrap_err();
    assert!(matches!(err, WriteError::Decode(_)), "{err}");
    assert_eq!(err.exit_code(), 4);
    assert!(err.to_string().contains("byte"), "{err}");

    // Corrupted data.
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    bad[mid + 1] ^= 0x55;
    let bad_path = f.dir.path().join("bad.zst");
    fs::write(&bad_path, &bad)?;
    let err = write(&WriteOptions::new(
        SourceSpec::File(bad_path),
        f.dir.path().join("o2"),
    ))
    .unwrap_err();
    assert!(matches!(err, WriteError::Decode(_)), "{err}");

    // Checksum mismatch: the data arrives whole, the run still fails.
    let mut opts = WriteOptions::new(SourceSpec::File(packed.clone()), f.dir.path().join("o3"));
    opts.expected = vec![Expected::new(
        sha256_of(b"something else"),
        Stage::Compressed,
    )];
    let err = write(&opts).unwrap_err();
    assert!(matches!(err, WriteError::Checksum { .. }), "{err}");
    assert_eq!(err.exit_code(), 5);

    // A forced format that does not match the data: an error at byte 0.
    let mut opts = WriteOptions::new(
        SourceSpec::File(f.raw_path.clone()),
        f.dir.path().join("o4"),
    );
    opts.format = Some(Format::Gzip);
    let err = write(&opts).unwrap_err();
    assert!(matches!(err, WriteError::Decode(_)), "{err}");

    // An archive is not an image: a tar.gz (refused after decompression) and a zip
    // (refused at once), before anything reaches the target.
    let tgz = f.dir.path().join("disk.tar.gz");
    let status = Command::new(testkit::require("tar")?)
        .arg("-czf")
        .arg(&tgz)
        .arg("-C")
        .arg(f.dir.path())
        .arg("disk.img")
        .status()?;
    assert!(status.success());
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(&[0u8; 100]);
    let zip_path = f.dir.path().join("disk.zip");
    fs::write(&zip_path, &zip)?;
    for (src, words) in [(tgz, "tar archive"), (zip_path, "zip archive")] {
        let out = f.dir.path().join("o-archive");
        let err = write(&WriteOptions::new(SourceSpec::File(src), &out)).unwrap_err();
        assert!(matches!(err, WriteError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains(words), "{err}");
        assert_eq!(err.exit_code(), 4);
        assert_eq!(fs::metadata(&out)?.len(), 0, "nothing written");
    }

    // A missing published checksum when one is required.
    let server = serve(&bytes, None)?;
    let mut opts = WriteOptions::new(
        SourceSpec::Url(server.url("/disk.img.zst")),
        f.dir.path().join("o5"),
    );
    opts.published_checksum = PublishedChecksum::Required;
    let err = write(&opts).unwrap_err();
    assert!(
        matches!(err, WriteError::NoPublishedChecksum { .. }),
        "{err}"
    );
    assert_eq!(server.calls("/disk.img.zst"), 0, "nothing downloaded");

    // A server that drops mid-body without range support.
    let server = FixtureServer::start()?;
    server.route(
        "/disk.img.zst",
        Response::static_body(bytes.clone()).without_ranges(),
    );
    server.drop_next_mid_body("/disk.img.zst", 1, bytes.len() / 2);
    let err = write(&WriteOptions::new(
        SourceSpec::Url(server.url("/disk.img.zst")),
        f.dir.path().join("o6"),
    ))
    .unwrap_err();
    assert!(matches!(err, WriteError::Source(_)), "{err}");
    assert_eq!(err.exit_code(), 3);

    // The ETag changed between the drop and the resume: never spliced.
    let server = FixtureServer::start()?;
    let mut other = bytes.clone();
    other.reverse();
    server.route_sequence(
        "/disk.img.zst",
        vec![
            Response::static_body(bytes.clone()),
            Response::static_body(other),
        ],
    );
    server.drop_next_mid_body("/disk.img.zst", 1, bytes.len() / 2);
    let err = write(&WriteOptions::new(
        SourceSpec::Url(server.url("/disk.img.zst")),
        f.dir.path().join("o7"),
    ))
    .unwrap_err();
    assert!(matches!(err, WriteError::Source(_)), "{err}");

    // 404.
    let err = write(&WriteOptions::new(
        SourceSpec::Url(server.url("/missing.img")),
        f.dir.path().join("o8"),
    ))
    .unwrap_err();
    assert!(matches!(err, WriteError::Source(_)), "{err}");
    Ok(())
}

#[test]
fn a_known_size_larger_than_a_device_is_refused_before_writing() -> TestResult {
    let f = fixture(1 << 20)?;
    // A 512 KiB loop device holding a marker.
    let backing = f.dir.path().join("small.dev");
    fs::write(&backing, vec![0xAB; 512 << 10])?;
    let dev = testkit::LoopDevice::attach(&backing)?;
    let opts = WriteOptions::new(SourceSpec::File(f.raw_path.clone()), dev.path());
    let err = write(&opts).unwrap_err();
    assert!(matches!(err, WriteError::Sink(_)), "{err}");
    assert_eq!(err.exit_code(), 6);
    drop(dev);
    assert!(
        fs::read(&backing)?.iter().all(|&b| b == 0xAB),
        "nothing written"
    );

    // zstd records the size of a file it compresses in the frame header: refused
    // before writing too.
    let packed = f.dir.path().join("disk.img.zst");
    let status = Command::new(testkit::require("zstd")?)
        .args(["-q", "-f", "-o"])
        .arg(&packed)
        .arg(&f.raw_path)
        .status()?;
    assert!(status.success());
    let dev = testkit::LoopDevice::attach(&backing)?;
    let err = write(&WriteOptions::new(SourceSpec::File(packed), dev.path())).unwrap_err();
    assert!(err.to_string().contains("larger"), "{err}");
    drop(dev);
    assert!(
        fs::read(&backing)?.iter().all(|&b| b == 0xAB),
        "nothing written"
    );

    // pzstd does not: the write stops at the device's end with nothing beyond it.
    let multi = f.dir.path().join("disk.img.multi.zst");
    compress("pzstd", &["-c", "-q", "-p", "2"], &f.raw_path, &multi)?;
    let dev = testkit::LoopDevice::attach(&backing)?;
    let err = write(&WriteOptions::new(SourceSpec::File(multi), dev.path())).unwrap_err();
    assert!(matches!(err, WriteError::Sink(_)), "{err}");
    assert!(err.to_string().contains("end"), "{err}");
    drop(dev);
    assert_eq!(fs::metadata(&backing)?.len(), 512 << 10);
    // Whatever was written is the image's own bytes at their offsets.
    let dev_bytes = fs::read(&backing)?;
    assert!(
        dev_bytes
            .iter()
            .zip(&f.raw)
            .all(|(&d, &r)| d == r || d == 0xAB),
        "only image bytes were written"
    );
    Ok(())
}
