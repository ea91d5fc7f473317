//! The write target against real files, loop devices, mounts and partition tables.
//!
//! These tests run as root and fail (never skip) when a tool is missing, naming the
//! Debian package. Every loop device, mount and directory is owned by a guard, so a
//! failing test cleans up too.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use diskimage::{SinkError, Target, TargetKind, TargetOptions, WriteReport, Zeroing, open_target};
use testkit::{DataSpec, LoopDevice, TempDir, make_disk_image, require};

const MIB: u64 = 1 << 20;

/// Runs a tool (found with `require`, so a missing one names its package) and
/// returns its standard output; panics with its standard error on failure.
fn run(tool: &str, args: &[&str]) -> String {
    let path = require(tool).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(path).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn image(dir: &TempDir, size: u64) -> PathBuf {
    make_disk_image(dir.path(), size, &DataSpec::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes `image` into `target` in chunks of `chunk` bytes.
fn write_image(target: Target, image: &Path, chunk: usize) -> Result<WriteReport, SinkError> {
    let mut source = File::open(image).unwrap();
    let mut writer = target.writer()?;
    let mut buf = vec![0; chunk];
    loop {
        let n = source.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        writer.write_chunk(&buf[..n])?;
    }
    writer.finish()
}

fn fill(path: &Path, size: u64, byte: u8) {
    std::fs::write(path, vec![byte; size as usize]).unwrap();
}

fn read_prefix(path: &Path, len: u64) -> Vec<u8> {
    let mut buf = vec![0; len as usize];
    File::open(path).unwrap().read_exact(&mut buf).unwrap();
    buf
}

fn assert_same(got: &[u8], want: &[u8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("{what}: first difference at byte {at}");
    }
}

/// `(major, minor)` of a `dev_t`, as glibc splits it.
fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// Unmounts on drop.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Ok(umount) = require("umount") {
            let _ = Command::new(umount).arg(&self.0).status();
        }
    }
}

#[test]
fn a_file_target_skips_zeros_only_when_it_reads_zeros() {
    let dir = TempDir::new("sink-file").unwrap();
    let img = image(&dir, 64 * MIB);
    let want = std::fs::read(&img).unwrap();
    let size = want.len() as u64;

    // A new file reads zeros: zero blocks are skipped, the file is sparse.
    let new = dir.join("new.img");
    let target = open_target(&new, &TargetOptions::default()).unwrap();
    assert_eq!(target.kind(), TargetKind::File);
    assert!(target.reads_zeros());
    let report = write_image(target, &img, 128 * 1024).unwrap();
    assert_same(&std::fs::read(&new).unwrap(), &want, "new file");
    assert_eq!(report.bytes_total, size);
    assert_eq!(report.bytes_written + report.bytes_skipped, size);
    assert!(report.bytes_skipped > size / 2, "{report:?}");
    assert!(!report.partitions_reread);
    assert_eq!(report.zeroing, Some(Zeroing::Truncated));
    let allocated = std::fs::metadata(&new).unwrap().blocks() * 512;
    assert!(allocated < size / 2, "allocated {allocated} of {size}");
    // Few, large writes: on average at least 256 KiB each.
    assert!(
        report.write_calls * 256 * 1024 <= report.bytes_written,
        "{report:?}"
    );

    // An existing file kept as it is does not read zeros: everything is written.
    let old = dir.join("old.img");
    fill(&old, size, 0xa5);
    let target = open_target(&old, &TargetOptions::new().truncate(false)).unwrap();
    assert!(!target.reads_zeros());
    let report = write_image(target, &img, 1 << 20).unwrap();
    assert_eq!(report.bytes_skipped, 0);
    assert_eq!(report.bytes_written, size);
    assert_eq!(report.zeroing, None);
    assert_same(&std::fs::read(&old).unwrap(), &want, "existing file");

    // The same existing file, truncated (the default) or discarded: sparse again.
    for options in [
        TargetOptions::default(),
        TargetOptions::new().truncate(false).discard(true),
    ] {
        fill(&old, size + 3 * MIB, 0x5a);
        let report = write_image(open_target(&old, &options).unwrap(), &img, 300_001).unwrap();
        assert!(report.bytes_skipped > size / 2, "{options:?}: {report:?}");
        assert_same(&std::fs::read(&old).unwrap(), &want, "truncated file");
    }
}

#[test]
fn a_loop_device_gets_identical_bytes_with_and_without_discard() {
    let dir = TempDir::new("sink-loop").unwrap();
    let img = image(&dir, 48 * MIB);
    let want = std::fs::read(&img).unwrap();
    let backing = dir.join("backing");
    let device_size = 64 * MIB;
    for discard in [false, true] {
        fill(&backing, device_size, 0xee);
        let dev = LoopDevice::attach(&backing).unwrap();
        let target = open_target(
            dev.path(),
            &TargetOptions::new().discard(discard).expect_device(true),
        )
        .unwrap();
        assert_eq!(target.kind(), TargetKind::BlockDevice);
        assert_eq!(target.device_size(), Some(device_size));
        assert_eq!(target.logical_sector_size(), 512);
        assert!(!target.reads_zeros());
        target.check_size(want.len() as u64).unwrap();
        let report = write_image(target, &img, 64 * 1024).unwrap();
        assert_eq!(report.bytes_total, want.len() as u64);
        // Without partition scanning the kernel refuses BLKRRPART: not an error.
        assert!(!report.partitions_reread);
        let got = read_prefix(dev.path(), device_size);
        assert_same(
            &got[..want.len()],
            &want,
            &format!("device, discard {discard}"),
        );
        let tail = &got[want.len()..];
        if discard {
            assert_eq!(report.zeroing, Some(Zeroing::ZeroOut));
            assert!(report.bytes_skipped > want.len() as u64 / 2, "{report:?}");
            assert!(tail.iter().all(|&b| b == 0), "the zeroed tail");
        } else {
            assert_eq!(report.zeroing, None);
            assert_eq!(report.bytes_skipped, 0);
            assert!(tail.iter().all(|&b| b == 0xee), "the untouched tail");
        }
        dev.detach().unwrap();
        let backed = std::fs::read(&backing).unwrap();
        assert_same(&backed[..want.len()], &want, "backing file");
    }
}

#[test]
fn an_image_larger_than_the_device_is_refused_before_any_write() {
    let dir = TempDir::new("sink-small").unwrap();
    let img = image(&dir, 32 * MIB);
    let backing = dir.join("backing");
    fill(&backing, 16 * MIB, 0x11);
    let dev = LoopDevice::attach(&backing).unwrap();
    let target = open_target(dev.path(), &TargetOptions::new().discard(true)).unwrap();
    let err = target.check_size(32 * MIB).unwrap_err();
    match &err {
        SinkError::TooLarge {
            image_size,
            device_size,
            path,
        } => {
            assert_eq!((*image_size, *device_size), (32 * MIB, 16 * MIB));
            assert_eq!(path, dev.path());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("larger than"), "{err}");
    drop(target);
    let got = read_prefix(dev.path(), 16 * MIB);
    assert!(got.iter().all(|&b| b == 0x11), "the device was changed");
    drop(img);
}

#[test]
fn nothing_is_written_past_the_end_of_a_device() {
    let dir = TempDir::new("sink-end").unwrap();
    let backing = dir.join("backing");
    let size = 2 * MIB;
    fill(&backing, size, 0x22);
    let dev = LoopDevice::attach(&backing).unwrap();
    let target = open_target(dev.path(), &TargetOptions::default()).unwrap();
    let mut writer = target.writer().unwrap();
    writer.write_chunk(&vec![0x33; MIB as usize]).unwrap();
    // 1.5 MiB at 1 MiB would end 0.5 MiB past the end: refused whole.
    let err = writer
        .write_chunk(&vec![0x44; 3 * MIB as usize / 2])
        .unwrap_err();
    match err {
        SinkError::PastEnd {
            device_size,
            at,
            len,
            ..
        } => assert_eq!((device_size, at, len), (size, MIB, 3 * MIB / 2)),
        other => panic!("unexpected {other:?}"),
    }
    // The writer is poisoned: a failed image is never reported as written.
    assert!(matches!(
        writer.write_chunk(&[0; 512]),
        Err(SinkError::Poisoned { .. })
    ));
    assert!(matches!(writer.finish(), Err(SinkError::Poisoned { .. })));
    let got = read_prefix(dev.path(), size);
    assert!(
        !got.contains(&0x44),
        "part of the refused chunk was written"
    );
    assert!(got[MIB as usize..].iter().all(|&b| b == 0x22));
    dev.detach().unwrap();
    assert_eq!(std::fs::metadata(&backing).unwrap().len(), size);

    // Exactly up to the end is fine.
    let dev = LoopDevice::attach(&backing).unwrap();
    let mut writer = open_target(dev.path(), &TargetOptions::default())
        .unwrap()
        .writer()
        .unwrap();
    writer.write_chunk(&vec![0x55; size as usize]).unwrap();
    assert_eq!(writer.finish().unwrap().bytes_written, size);
    assert!(read_prefix(dev.path(), size).iter().all(|&b| b == 0x55));
}

#[test]
fn a_mounted_device_or_partition_is_refused() {
    require("mount").unwrap_or_else(|e| panic!("{e}"));
    let dir = TempDir::new("sink-mounted").unwrap();
    let img = image(&dir, 32 * MIB);
    let before = std::fs::read(&img).unwrap();
    let dev = LoopDevice::attach(&img).unwrap();
    let parts = dev.partitions().unwrap();
    assert_eq!(parts.len(), 1, "{parts:?}");
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    run(
        "mount",
        &[
            "-t",
            "ext4",
            "-o",
            "ro",
            parts[0].path.to_str().unwrap(),
            mnt.to_str().unwrap(),
        ],
    );
    let guard = Mounted(mnt.clone());
    let part_dev = std::fs::metadata(&parts[0].path).unwrap().rdev();
    for (path, options) in [
        (dev.path(), TargetOptions::default()),
        (
            dev.path(),
            TargetOptions::new().discard(true).expect_device(true),
        ),
        (parts[0].path.as_path(), TargetOptions::default()),
    ] {
        let err = open_target(path, &options).unwrap_err();
        match &err {
            SinkError::Mounted {
                mount_point,
                device,
                ..
            } => {
                assert_eq!(Path::new(mount_point), mnt);
                assert_eq!(*device, split_dev(part_dev));
            }
            other => panic!("{}: unexpected {other:?}", path.display()),
        }
        assert!(err.to_string().contains(mnt.to_str().unwrap()), "{err}");
    }
    drop(guard);
    // Once unmounted, the device opens.
    open_target(dev.path(), &TargetOptions::default()).unwrap();
    drop(dev);
    assert_same(&std::fs::read(&img).unwrap(), &before, "the mounted image");
}

#[test]
fn paths_that_must_not_become_files_are_refused() {
    let dir = TempDir::new("sink-paths").unwrap();
    let missing = PathBuf::from(format!("/dev/mktk-{}-nonexistent", std::process::id()));
    let err = open_target(&missing, &TargetOptions::default()).unwrap_err();
    assert!(matches!(err, SinkError::NotFound { .. }), "{err:?}");
    assert!(!missing.exists());

    let elsewhere = dir.join("typo");
    let err = open_target(&elsewhere, &TargetOptions::new().expect_device(true)).unwrap_err();
    assert!(matches!(err, SinkError::NotFound { .. }), "{err:?}");
    assert!(!elsewhere.exists());

    let file = dir.join("file");
    fill(&file, 4096, 1);
    let err = open_target(&file, &TargetOptions::new().expect_device(true)).unwrap_err();
    assert!(
        matches!(
            err,
            SinkError::NotADevice {
                kind: "regular file",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        vec![1; 4096],
        "the file was truncated"
    );
    let err = open_target(dir.path(), &TargetOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SinkError::NotADevice {
                kind: "directory",
                ..
            }
        ),
        "{err:?}"
    );
    let err = open_target("/dev/null", &TargetOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SinkError::NotADevice {
                kind: "character device",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_written_partition_table_is_read_back() {
    let dir = TempDir::new("sink-gpt").unwrap();
    let img = image(&dir, 40 * MIB);
    let backing = dir.join("backing");
    fill(&backing, 40 * MIB, 0xc3);
    let dev = LoopDevice::attach_partscan(&backing).unwrap();
    let target = open_target(dev.path(), &TargetOptions::new().discard(true)).unwrap();
    target.check_size(40 * MIB).unwrap();
    let report = write_image(target, &img, 1 << 20).unwrap();
    assert!(report.partitions_reread, "{report:?}");

    let device = dev.path().to_str().unwrap();
    let image = img.to_str().unwrap();
    let dump = run("sfdisk", &["--dump", device]);
    assert!(dump.contains("label: gpt"), "{dump}");
    assert!(dump.contains("start=        2048"), "{dump}");
    // The device's table is the image's.
    let entries = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_once(" : start="))
            .map(|(_, entry)| entry.to_owned())
            .collect()
    };
    assert_eq!(entries(&dump), entries(&run("sfdisk", &["--dump", image])));
    let verify = run("sgdisk", &["-v", device]);
    assert!(verify.contains("No problems found"), "{verify}");
    let show = run("partx", &["--show", "-g", "-o", "NR,START", device]);
    assert_eq!(
        show.split_whitespace().collect::<Vec<_>>(),
        ["1", "2048"],
        "{show}"
    );
    let parts = dev.partitions().unwrap();
    assert_eq!(parts.len(), 1);
    run("e2fsck", &["-fn", parts[0].path.to_str().unwrap()]);
}

#[test]
fn the_test_image_is_deterministic_and_clean() {
    let (a, b) = (
        TempDir::new("sink-gen-a").unwrap(),
        TempDir::new("sink-gen-b").unwrap(),
    );
    let size = 40 * MIB;
    let spec = DataSpec::default();
    let first = make_disk_image(a.path(), size, &spec).unwrap();
    let second = make_disk_image(b.path(), size, &spec).unwrap();
    let bytes = std::fs::read(&first).unwrap();
    assert_same(
        &std::fs::read(&second).unwrap(),
        &bytes,
        "two generated images",
    );
    let other = make_disk_image(
        b.path(),
        size,
        &DataSpec {
            seed: 2,
            ..spec.clone()
        },
    )
    .unwrap();
    assert_ne!(std::fs::read(&other).unwrap(), bytes, "another seed");

    // About a quarter of the disk is mapped.
    let allocated = std::fs::metadata(&first).unwrap().blocks() * 512;
    let fraction = allocated as f64 / size as f64;
    assert!(
        (0.2..0.35).contains(&fraction),
        "mapped fraction {fraction}"
    );
    let nonzero = bytes
        .chunks(4096)
        .filter(|b| b.iter().any(|&x| x != 0))
        .count();
    let fraction = nonzero as f64 * 4096.0 / size as f64;
    assert!(
        (0.2..0.35).contains(&fraction),
        "non-zero fraction {fraction}"
    );

    let fsck = format!("{}?offset={}", first.display(), 2048 * 512);
    run("e2fsck", &["-fn", &fsck]);
    let verify = run("sgdisk", &["-v", first.to_str().unwrap()]);
    assert!(verify.contains("No problems found"), "{verify}");
    assert!(!verify.contains("Caution"), "{verify}");
}

#[test]
fn write_calls_are_few_on_a_sparse_image() {
    let dir = TempDir::new("sink-calls").unwrap();
    let size = 64 * MIB as usize;
    // 16 data runs of 1 MiB between 3 MiB of zeros, fed in 64 KiB chunks.
    let mut image = vec![0u8; size];
    for run in 0..16 {
        let start = run * 4 * MIB as usize;
        image[start..start + MIB as usize].fill(run as u8 + 1);
    }
    let path = dir.join("out");
    let mut writer = open_target(&path, &TargetOptions::default())
        .unwrap()
        .writer()
        .unwrap();
    for chunk in image.chunks(64 * 1024) {
        writer.write_chunk(chunk).unwrap();
    }
    let report = writer.finish().unwrap();
    assert_eq!(report.write_calls, 16, "{report:?}");
    assert_eq!(report.bytes_written, 16 * MIB);
    let file = File::open(&path).unwrap();
    let mut tail = [0xffu8; 4096];
    file.read_exact_at(&mut tail, size as u64 - 4096).unwrap();
    assert_eq!(tail, [0; 4096]);
    assert_eq!(file.metadata().unwrap().len(), size as u64);
}
