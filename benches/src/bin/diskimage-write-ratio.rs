//! Writes a 2 GiB GPT + ext4 disk image (about 25% mapped, from
//! `testkit::make_disk_image`) to a file target with `diskimage` and with the peer tools,
//! interleaved, and prints medians and ratios against the targets:
//!
//! - `.zst` (one frame): ours vs `zstd -dc | dd bs=4M conv=fsync` (≥ 2×) and vs
//!   `bmaptool copy` with its bmap, verification on for both (≥ 1.5×);
//! - `.zst` with several frames (as `pzstd` writes): ours vs `bmaptool copy` (≥ 2.5×);
//! - `.gz`: ours vs `gzip -dc | dd` (≥ 1.5×), and `pigz -dc | dd` reported;
//! - 1 GiB of incompressible data: ours within 10% of `zstd -dc > target; sync`;
//! - peak RSS of a write (a fresh process reads its own `VmHWM`): under 64 MiB.
//!
//! Every result of ours is checked byte-identical to the image; ours runs as the
//! `diskimage` command, a process like the tools; the order of the tools rotates from
//! round to round. Usage: `cargo build --release -p diskimage-cli`, then
//! `cargo run --release -p benches --bin diskimage-write-ratio -- [RUNS] [DIR]`
//! (default 3 runs, in a new directory under the system's temporary directory).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use benches::Summary;
use diskimage::{Digest, Expected, Hasher, Progress, SourceSpec, Stage, WriteOptions, write_image};
use testkit::{DataSpec, TempDir, make_disk_image, require};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn sh(script: &str) -> Result<()> {
    let status = Command::new("sh").arg("-c").arg(script).status()?;
    if !status.success() {
        return Err(format!("failed: {script}").into());
    }
    Ok(())
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

fn sha256_file(path: &Path) -> Result<Digest> {
    let mut h = Hasher::new(diskimage::Algorithm::Sha256);
    let mut f = fs::File::open(path)?;
    std::io::copy(&mut f, &mut h)?;
    Ok(h.finish())
}

/// Removes the target and lets the kernel write back what is dirty, so every run
/// starts alike.
fn reset(target: &Path) -> Result<()> {
    let _ = fs::remove_file(target);
    sh("sync")
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<Duration> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// The `diskimage` command built beside this program (`cargo build --release -p
/// diskimage-cli`): ours runs as a process, like every tool it is compared with.
fn cli() -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("diskimage");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build it first with `cargo build --release -p diskimage-cli`",
            path.display()
        )
        .into())
    }
}

/// Ours as a process: `diskimage write --quiet [--checksum sha256:…] SRC TARGET`.
fn ours_cli(src: &Path, target: &Path, verify: Option<&Digest>) -> Result<()> {
    let mut cmd = Command::new(cli()?);
    cmd.args(["write", "--quiet"]);
    if let Some(d) = verify {
        cmd.arg("--checksum").arg(d.prefixed());
    }
    let out = cmd.arg(src).arg(target).output()?;
    if !out.status.success() {
        return Err(format!("diskimage failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// Ours, in process: source file → target file, with a streaming SHA-256 of the
/// compressed file when `verify` is given.
fn ours(src: &Path, target: &Path, verify: Option<&Digest>) -> Result<()> {
    let mut opts = WriteOptions::new(SourceSpec::File(src.to_path_buf()), target);
    if let Some(d) = verify {
        opts.expected = vec![Expected::new(d.clone(), Stage::Compressed)];
    }
    write_image(&opts, &mut |_: &Progress| {})?;
    Ok(())
}

/// `--rss-probe SRC TARGET`: one write in this fresh process, then its peak RSS.
fn rss_probe(src: &Path, target: &Path) -> Result<()> {
    ours(src, target, None)?;
    let status = fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .ok_or("no VmHWM")?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse::<u64>()?;
    println!("{}", hwm * 1024);
    Ok(())
}

fn peak_rss(src: &Path, target: &Path) -> Result<u64> {
    reset(target)?;
    let out = Command::new(std::env::current_exe()?)
        .arg("--rss-probe")
        .arg(src)
        .arg(target)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err("rss probe failed".into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

/// One way of writing the image.
type Runner = Box<dyn Fn() -> Result<()>>;

struct Workload {
    name: &'static str,
    /// (label, command) pairs; "ours" runs in process.
    runs: Vec<(&'static str, Runner)>,
    times: Vec<Vec<Duration>>,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("diskimage-write-ratio: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--rss-probe") {
        rss_probe(Path::new(&args[1]), Path::new(&args[2]))?;
        return Ok(true);
    }
    let runs: usize = args.first().map_or(Ok(3), |a| a.parse())?;
    let tmp;
    let dir: PathBuf = match args.get(1) {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = TempDir::new("diskimage-bench")?;
            tmp.path().to_path_buf()
        }
    };
    for tool in ["zstd", "pzstd", "gzip", "pigz", "dd", "bmaptool", "sync"] {
        require(tool)?;
    }
    cli()?;

    eprintln!(
        "preparing a 2 GiB disk image and its compressed forms in {}",
        dir.display()
    );
    let img = make_disk_image(&dir, 2 << 30, &DataSpec::default())?;
    let zst = dir.join("disk.img.zst");
    let pzst = dir.join("disk.img.multi.zst");
    let gz = dir.join("disk.img.gz");
    let bmap = dir.join("disk.img.bmap");
    let rnd = dir.join("random.img");
    let rnd_zst = dir.join("random.img.zst");
    let target = dir.join("target.img");
    sh(&format!(
        "zstd -q -f -3 -T0 --single-thread {} -o {}",
        q(&img),
        q(&zst)
    ))?;
    sh(&format!("pzstd -q -f -p 2 {} -o {}", q(&img), q(&pzst)))?;
    sh(&format!("pigz -6 -c {} > {}", q(&img), q(&gz)))?;
    sh(&format!("bmaptool -q create -o {} {}", q(&bmap), q(&img)))?;
    sh(&format!(
        "head -c 1073741824 /dev/urandom > {r} && zstd -q -f -1 {r} -o {rz}",
        r = q(&rnd),
        rz = q(&rnd_zst)
    ))?;
    let img_sha = sha256_file(&img)?;
    let rnd_sha = sha256_file(&rnd)?;
    let zst_sha = sha256_file(&zst)?;
    let pzst_sha = sha256_file(&pzst)?;
    let gz_sha = sha256_file(&gz)?;
    let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "image {} MB mapped of 2048 MiB; .zst {} MB, multi-frame .zst {} MB, .gz {} MB",
        fs::metadata(&img)?.blocks_bytes() / 1_000_000,
        size(&zst) / 1_000_000,
        size(&pzst) / 1_000_000,
        size(&gz) / 1_000_000
    );

    // Correctness first: each of ours byte-identical.
    for (src, want) in [
        (&zst, &img_sha),
        (&pzst, &img_sha),
        (&gz, &img_sha),
        (&rnd_zst, &rnd_sha),
    ] {
        reset(&target)?;
        ours(src, &target, None)?;
        let got = sha256_file(&target)?;
        if &got != want {
            return Err(format!("{} written wrong", src.display()).into());
        }
    }
    println!("check: every write of ours is byte-identical to its image");

    let t = target.clone();
    let cmd = |script: String| -> Runner { Box::new(move || sh(&script)) };
    let own = |src: PathBuf, sha: Digest| -> Runner {
        let t = t.clone();
        Box::new(move || ours_cli(&src, &t, Some(&sha)))
    };
    let tq = q(&target);
    let mut workloads = vec![
        Workload {
            name: "2 GiB image, .zst (one frame)",
            runs: vec![
                ("ours (sha256 on)", own(zst.clone(), zst_sha.clone())),
                (
                    "zstd -dc | dd bs=4M conv=fsync",
                    cmd(format!(
                        "zstd -dc {} | dd of={tq} bs=4M conv=fsync status=none",
                        q(&zst)
                    )),
                ),
                (
                    "bmaptool copy (verify on)",
                    cmd(format!(
                        "bmaptool -q copy --bmap {} {} {tq}",
                        q(&bmap),
                        q(&zst)
                    )),
                ),
            ],
            times: Vec::new(),
        },
        Workload {
            name: "2 GiB image, .zst (several frames, pzstd)",
            runs: vec![
                ("ours (sha256 on)", own(pzst.clone(), pzst_sha)),
                (
                    "bmaptool copy (verify on)",
                    cmd(format!(
                        "bmaptool -q copy --bmap {} {} {tq}",
                        q(&bmap),
                        q(&pzst)
                    )),
                ),
                (
                    "pzstd -dc | dd bs=4M conv=fsync",
                    cmd(format!(
                        "pzstd -q -p 2 -dc {} | dd of={tq} bs=4M conv=fsync status=none",
                        q(&pzst)
                    )),
                ),
                (
                    "floor: pzstd -p2 -dc > /dev/null",
                    cmd(format!("pzstd -q -p 2 -dc {} > /dev/null", q(&pzst))),
                ),
                (
                    "floor: cp --sparse=always; sync",
                    cmd(format!("cp --sparse=always {} {tq} && sync", q(&img))),
                ),
            ],
            times: Vec::new(),
        },
        Workload {
            name: "2 GiB image, .gz",
            runs: vec![
                ("ours (sha256 on)", own(gz.clone(), gz_sha)),
                (
                    "gzip -dc | dd bs=4M conv=fsync",
                    cmd(format!(
                        "gzip -dc {} | dd of={tq} bs=4M conv=fsync status=none",
                        q(&gz)
                    )),
                ),
                (
                    "pigz -dc | dd bs=4M conv=fsync",
                    cmd(format!(
                        "pigz -dc {} | dd of={tq} bs=4M conv=fsync status=none",
                        q(&gz)
                    )),
                ),
            ],
            times: Vec::new(),
        },
        Workload {
            name: "1 GiB incompressible, .zst",
            runs: vec![
                ("ours", {
                    let (s, t) = (rnd_zst.clone(), target.clone());
                    Box::new(move || ours_cli(&s, &t, None))
                }),
                (
                    "zstd -dc > target; sync",
                    cmd(format!("zstd -q -dc {} > {tq} && sync", q(&rnd_zst))),
                ),
            ],
            times: Vec::new(),
        },
    ];
    for w in &mut workloads {
        w.times = vec![Vec::new(); w.runs.len()];
    }
    for round in 0..runs {
        eprintln!("round {}/{runs}", round + 1);
        // The order rotates every round: the run after a tool that filled the page
        // cache pays for the memory the virtual machine gave back meanwhile (1-4 s
        // of system time here), so every tool takes that place equally often.
        for w in &mut workloads {
            let n = w.runs.len();
            for k in 0..n {
                let i = (k + round) % n;
                reset(&target)?;
                let d = timed(&w.runs[i].1)?;
                w.times[i].push(d);
            }
        }
    }
    reset(&target)?;

    println!("{runs} interleaved runs; medians (min–max), file target, fsync included:");
    let mut medians = Vec::new();
    for w in &workloads {
        println!("{}:", w.name);
        let mut m = Vec::new();
        for ((label, _), times) in w.runs.iter().zip(&w.times) {
            let s = Summary::of(times).ok_or("no runs")?;
            println!(
                "  {label:<36} {:>7.2} s  ({:.2}–{:.2})",
                s.median.as_secs_f64(),
                s.min.as_secs_f64(),
                s.max.as_secs_f64()
            );
            m.push(s.median.as_secs_f64());
        }
        medians.push(m);
    }
    let rss = peak_rss(&pzst, &target)?.max(peak_rss(&zst, &target)?);
    reset(&target)?;
    println!(
        "peak RSS of a write (multi-frame and single-frame .zst): {:.1} MiB",
        rss as f64 / 1048576.0
    );

    let mut ok = true;
    let mut target_line = |what: &str, value: f64, want: f64, higher: bool| {
        let met = if higher { value >= want } else { value <= want };
        ok &= met;
        println!(
            "  {what}: {value:.2} ({} {want}) {}",
            if higher { ">=" } else { "<=" },
            if met { "met" } else { "NOT met" }
        );
    };
    println!("targets:");
    target_line(
        "zstd|dd / ours, .zst",
        medians[0][1] / medians[0][0],
        2.0,
        true,
    );
    target_line(
        "bmaptool / ours, .zst",
        medians[0][2] / medians[0][0],
        1.5,
        true,
    );
    target_line(
        "bmaptool / ours, multi-frame .zst",
        medians[1][1] / medians[1][0],
        2.5,
        true,
    );
    println!(
        "  (multi-frame floors: decoding alone {:.2} s, a sparse copy of the raw image {:.2} s; \
         ours takes {:.2}x the larger)",
        medians[1][3],
        medians[1][4],
        medians[1][0] / medians[1][3].max(medians[1][4])
    );
    target_line(
        "gzip|dd / ours, .gz",
        medians[2][1] / medians[2][0],
        1.5,
        true,
    );
    println!(
        "  (pigz|dd / ours, .gz: {:.2})",
        medians[2][2] / medians[2][0]
    );
    target_line(
        "ours / (zstd > target; sync), incompressible",
        medians[3][0] / medians[3][1],
        1.10,
        false,
    );
    target_line("peak RSS MiB", rss as f64 / 1048576.0, 64.0, false);
    Ok(ok)
}

/// Allocated bytes of a file.
trait BlocksBytes {
    fn blocks_bytes(&self) -> u64;
}

impl BlocksBytes for fs::Metadata {
    fn blocks_bytes(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        self.blocks() * 512
    }
}
