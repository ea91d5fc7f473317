//! The `diskimage` command: exit codes per kind of failure, no success line on a
//! failure, plain progress lines when stderr is not a terminal, and a GPT disk image
//! written to a loop device whose partition table the kernel then sees.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use testkit::{DataSpec, LoopDevice, TempDir, make_disk_image};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn diskimage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diskimage"))
        .args(args)
        .output()
        .expect("diskimage runs")
}

fn zstd(src: &Path, dst: &Path) -> TestResult {
    let status = Command::new(testkit::require("zstd")?)
        .args(["-q", "-f", "-o"])
        .arg(dst)
        .arg(src)
        .status()?;
    assert!(status.success());
    Ok(())
}

#[test]
fn usage_and_exit_codes() -> TestResult {
    let dir = TempDir::new("diskimage-cli")?;
    let raw = dir.path().join("disk.img");
    let mut data = vec![0u8; 3 << 20];
    for (i, b) in data.iter_mut().enumerate().skip(1 << 20) {
        *b = (i * 31 % 251) as u8;
    }
    fs::write(&raw, &data)?;
    let packed = dir.path().join("disk.img.zst");
    zstd(&raw, &packed)?;
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    let out = diskimage(&["write"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
    assert_eq!(diskimage(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(diskimage(&["--help"]).status.code(), Some(0));

    // Success: one summary line on stdout, plain progress lines on stderr.
    let out = diskimage(&["write", &p("disk.img.zst"), &p("out.img")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("wrote ") && stdout.contains("(zstd)"),
        "{stdout}"
    );
    assert!(stdout.contains("3.0 MiB image"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\r') && stderr.contains("100.0% of"),
        "{stderr}"
    );
    assert_eq!(fs::read(p("out.img"))?, data);

    // (args, exit code, words in the error)
    let cut = dir.path().join("cut.zst");
    let bytes = fs::read(&packed)?;
    fs::write(&cut, &bytes[..bytes.len() - 100])?;
    let wrong = "0".repeat(64);
    let table: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["write".into(), p("missing.zst"), p("o1")], 3, "source"),
        (
            vec!["write".into(), cut.to_string_lossy().into(), p("o2")],
            4,
            "decompression",
        ),
        (
            vec![
                "write".into(),
                "--checksum".into(),
                wrong.clone(),
                p("disk.img.zst"),
                p("o3"),
            ],
            5,
            "mismatch",
        ),
        (
            vec![
                "verify".into(),
                "--size".into(),
                "12".into(),
                p("disk.img.zst"),
            ],
            5,
            "expected 12",
        ),
        (
            vec![
                "write".into(),
                p("disk.img.zst"),
                "/dev/mktk-no-such-device".into(),
            ],
            6,
            "target",
        ),
    ];
    for (args, code, words) in table {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = diskimage(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: no success line");
        assert!(
            stderr.contains("FAILED") && stderr.contains(words),
            "{args:?}: {stderr}"
        );
    }
    Ok(())
}

#[test]
fn an_image_on_stdin_is_written_and_verified() -> TestResult {
    use std::io::Write;
    use std::process::Stdio;

    let dir = TempDir::new("diskimage-stdin")?;
    let raw = dir.path().join("disk.img");
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
    fs::write(&raw, &data)?;
    let packed = dir.path().join("disk.img.zst");
    zstd(&raw, &packed)?;
    let bytes = fs::read(&packed)?;
    let out = dir.path().join("out.img");
    for args in [
        vec!["write", "--quiet", "-", out.to_str().expect("utf-8")],
        vec!["verify", "--quiet", "-"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_diskimage"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let feed = {
            let bytes = bytes.clone();
            std::thread::spawn(move || stdin.write_all(&bytes))
        };
        let result = child.wait_with_output()?;
        feed.join().expect("feeder")?;
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert_eq!(
            result.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        assert!(stdout.contains("(zstd)"), "{args:?}: {stdout}");
    }
    assert_eq!(fs::read(&out)?, data);
    Ok(())
}

#[test]
fn a_gpt_image_on_a_loop_device_is_read_back_by_the_kernel_tools() -> TestResult {
    let dir = TempDir::new("diskimage-gpt")?;
    let image = make_disk_image(dir.path(), 64 << 20, &DataSpec::default())?;
    let packed = dir.path().join("gpt.img.zst");
    zstd(&image, &packed)?;
    let backing = dir.path().join("target.dev");
    // As large as the image (the GPT backup header sits at the device's end), and
    // full of 0xEE: the zeros skipped after --discard must read back as zeros.
    fs::write(&backing, vec![0xEE; 64 << 20])?;
    let dev = LoopDevice::attach_partscan(&backing)?;
    let devpath = dev.path().to_string_lossy().into_owned();
    let out = diskimage(&["write", "--discard", &packed.to_string_lossy(), &devpath]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("partition table re-read"), "{stdout}");
    assert!(stdout.contains("skipped as zeros"), "{stdout}");

    let dump = Command::new(testkit::require("sfdisk")?)
        .arg("--dump")
        .arg(dev.path())
        .output()?;
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("label: gpt"), "{dump}");
    let sgdisk = Command::new(testkit::require("sgdisk")?)
        .arg("-v")
        .arg(dev.path())
        .output()?;
    assert!(
        String::from_utf8_lossy(&sgdisk.stdout).contains("No problems found"),
        "{}",
        String::from_utf8_lossy(&sgdisk.stdout)
    );
    let parts = dev.partitions()?;
    assert_eq!(parts.len(), 1, "{parts:?}");
    // The device holds exactly the image.
    assert!(
        fs::read(dev.path())? == fs::read(&image)?,
        "device differs from the image"
    );
    Ok(())
}
