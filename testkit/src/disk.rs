//! Disks for tests: loop devices and generated disk images.
//!
//! [`LoopDevice`] attaches a file with `losetup` and detaches it on drop (also when
//! the test panics); a loop device whose backing file lies in a directory of a dead
//! test process is detached by [`sweep()`](crate::sweep()).
//!
//! [`make_disk_image`] builds a deterministic GPT disk with one ext4 partition filled
//! with generated files: the disk image of the writer's tests, benches and the lab.
//! The kernel of the test hosts does not create partition devices for loop devices by
//! itself (even with `--partscan`), so [`LoopDevice::partitions`] adds them with
//! `partx`.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::{Error, Result, process, require};

/// A loop device attached to a file, detached on drop (`partx -d`, then `losetup -d`).
#[derive(Debug)]
pub struct LoopDevice {
    path: PathBuf,
    backing: PathBuf,
}

/// A partition of a [`LoopDevice`], as `partx --show` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Its number (1 for the first).
    pub number: u32,
    /// Its first sector (512 bytes).
    pub start: u64,
    /// Its length in sectors (512 bytes).
    pub sectors: u64,
    /// Its device node, e.g. `/dev/loop3p1`.
    pub path: PathBuf,
}

impl LoopDevice {
    /// Attaches `file` to the first free loop device (`losetup -f --show`).
    pub fn attach(file: &Path) -> Result<LoopDevice> {
        Self::attach_with(file, false)
    }

    /// Attaches `file` with `losetup --partscan`: the kernel then re-reads the
    /// partition table on `BLKRRPART` (which otherwise fails with `EINVAL`).
    pub fn attach_partscan(file: &Path) -> Result<LoopDevice> {
        Self::attach_with(file, true)
    }

    fn attach_with(file: &Path, partscan: bool) -> Result<LoopDevice> {
        let losetup = require("losetup")?;
        let backing = std::path::absolute(file)
            .map_err(|e| Error::io(format!("resolving {}", file.display()), e))?;
        let mut cmd = Command::new(losetup);
        cmd.args(["-f", "--show"]);
        if partscan {
            cmd.arg("--partscan");
        }
        cmd.arg(&backing);
        let out = process::run(&mut cmd)?;
        let path = PathBuf::from(out.trim());
        if !path.starts_with("/dev") {
            return Err(Error::Parse {
                what: "`losetup -f --show` output".to_owned(),
                detail: out,
            });
        }
        Ok(LoopDevice { path, backing })
    }

    /// The device node, e.g. `/dev/loop3`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The attached file.
    pub fn backing_file(&self) -> &Path {
        &self.backing
    }

    /// Makes the kernel's partitions match the table on the device (`partx -u`,
    /// which adds, resizes and removes partition devices) and lists them
    /// (`partx --show`); waits until their device nodes exist.
    pub fn partitions(&self) -> Result<Vec<Partition>> {
        let partx = require("partx")?;
        process::run(Command::new(&partx).arg("-u").arg(&self.path))?;
        let out = process::run(
            Command::new(&partx)
                .args(["--show", "-g", "-o", "NR,START,SECTORS"])
                .arg(&self.path),
        )?;
        let parts = parse_partx(&out, &self.path)?;
        for part in &parts {
            process::wait_until(
                &format!("device node {}", part.path.display()),
                Duration::from_secs(5),
                || Ok(part.path.exists().then_some(())),
                String::new,
            )?;
        }
        Ok(parts)
    }

    /// Detaches now, reporting a failure (drop ignores it).
    pub fn detach(mut self) -> Result<()> {
        let result = detach(&self.path);
        self.path = PathBuf::new();
        result
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = detach(&self.path);
        }
    }
}

/// Removes the partition devices of a loop device, then detaches it.
pub(crate) fn detach(device: &Path) -> Result<()> {
    if let Ok(partx) = require("partx") {
        let _ = process::output(Command::new(partx).arg("-d").arg(device));
    }
    process::run(Command::new(require("losetup")?).arg("-d").arg(device)).map(drop)
}

/// The partition device of `disk` numbered `n`: `loop0` → `loop0p1`, `sda` → `sda1`.
fn partition_path(disk: &Path, n: u32) -> PathBuf {
    let name = disk.to_string_lossy();
    let sep = if name.ends_with(|c: char| c.is_ascii_digit()) {
        "p"
    } else {
        ""
    };
    PathBuf::from(format!("{name}{sep}{n}"))
}

/// Parses `partx --show -g -o NR,START,SECTORS` output.
fn parse_partx(out: &str, disk: &Path) -> Result<Vec<Partition>> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let bad = || Error::Parse {
                what: "`partx --show` output".to_owned(),
                detail: line.to_owned(),
            };
            let mut fields = line.split_whitespace().map(str::parse::<u64>);
            let mut next = || fields.next().and_then(|f| f.ok()).ok_or_else(bad);
            let number = u32::try_from(next()?).map_err(|_| bad())?;
            Ok(Partition {
                number,
                start: next()?,
                sectors: next()?,
                path: partition_path(disk, number),
            })
        })
        .collect()
}

/// Loop devices attached now: `(device, backing file)` from
/// `/sys/block/loop*/loop/backing_file` (a deleted file ends in ` (deleted)`).
pub(crate) fn attached_loops() -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, String)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let backing = std::fs::read_to_string(e.path().join("loop/backing_file")).ok()?;
            Some((
                PathBuf::from("/dev").join(name),
                backing.trim_end().to_owned(),
            ))
        })
        .collect();
    found.sort();
    found
}

/// What [`make_disk_image`] puts into the file system.
///
/// The disk is GPT with one Linux partition (type 8300, name `root`) from sector 2048
/// to the last 1 MiB boundary before the backup table, holding ext4 (4 KiB blocks,
/// 256-byte inodes, label `root`, `-T default`). The file system's tree has
/// directories `d000`, `d001`, … of up to 24 files each: text-like files (`*.txt`:
/// lines of words from a generated vocabulary; zstd compresses them about 3–4×) and
/// random-like files (`*.bin`: PRNG output, incompressible), with sizes spread
/// log-uniformly between 4 KiB and `min(8 MiB, data / 16)`. Everything (content,
/// GUIDs, UUID, hash seed, times) derives from `seed`, so the same spec and size give
/// a byte-identical image.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    /// The seed of every pseudo-random choice.
    pub seed: u64,
    /// File content as a fraction of the disk size. The default 0.24 gives about 25 %
    /// of the disk mapped (content plus file-system metadata), as in the reference
    /// measurements (2 GiB, 24.7 % mapped).
    pub data_fraction: f64,
    /// The share of the content that is random-like; the rest is text-like. The
    /// default 0.4 matches the reference (315 MB text, 210 MB random on 2 GiB).
    pub random_share: f64,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            seed: 1,
            data_fraction: 0.24,
            random_share: 0.4,
        }
    }
}

/// The fixed time of every inode and of the file system (2020-09-13 12:26:40 UTC).
const FAKE_TIME: u64 = 1_600_000_000;
const FAKE_TIME_DEBUGFS: &str = "20200913122640";

/// The splitmix64 generator: small, fast, and good enough for test data.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        let hex = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-8{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }
}

/// A vocabulary of pronounceable pseudo-words.
fn vocabulary(rng: &mut SplitMix64) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "to", "ri", "mu", "se", "lan", "dor", "vi", "nep", "qua", "zel", "or", "tis", "bre",
        "gu", "fa", "mon", "ix", "el", "sta",
    ];
    (0..600)
        .map(|_| {
            let n = 1 + rng.below(4);
            (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn text_content(rng: &mut SplitMix64, words: &[String], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let n = 6 + rng.below(10);
        for i in 0..n {
            // Zipf-like: low indices are much more frequent.
            let r = rng.below(words.len() as u64);
            let idx = (r * r / words.len() as u64) as usize;
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(words[idx].as_bytes());
        }
        out.extend_from_slice(if rng.below(8) == 0 { b".\n\n" } else { b".\n" });
    }
    out.truncate(len);
    out
}

/// Writes the generated tree into `root`; returns the paths (relative, with a
/// leading `/`) of every file and directory, for the time fix-up.
fn generate_tree(root: &Path, size: u64, spec: &DataSpec) -> Result<Vec<String>> {
    let mut rng = SplitMix64(spec.seed);
    let words = vocabulary(&mut rng);
    let total = (size as f64 * spec.data_fraction) as u64;
    let mut random_left = (total as f64 * spec.random_share) as u64;
    let mut text_left = total - random_left;
    let max_file = (total / 16).clamp(4096, 8 << 20);
    let (min_ln, max_ln) = (4096f64.ln(), (max_file as f64).ln());
    let mut names = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0u64;
    let io = |what: &str, p: &Path| {
        let p = p.display().to_string();
        let what = what.to_owned();
        move |e| Error::io(format!("{what} {p}"), e)
    };
    while random_left + text_left > 0 {
        let dir_name = format!("/d{:03}", n / 24);
        let dir = root.join(&dir_name[1..]);
        if n.is_multiple_of(24) {
            std::fs::create_dir(&dir).map_err(io("creating", &dir))?;
            names.push(dir_name.clone());
        }
        // Interleave the kinds in proportion to what is left of each.
        let random = rng.below(random_left + text_left) < random_left;
        let unit = rng.next() as f64 / u64::MAX as f64;
        let want = (min_ln + unit * (max_ln - min_ln)).exp() as u64;
        let left = if random {
            &mut random_left
        } else {
            &mut text_left
        };
        let len = want.min(*left);
        *left -= len;
        if random {
            buf.resize(len as usize, 0);
            rng.fill(&mut buf);
        } else {
            buf = text_content(&mut rng, &words, len as usize);
        }
        let name = format!("{dir_name}/f{n:05}.{}", if random { "bin" } else { "txt" });
        let path = root.join(&name[1..]);
        std::fs::write(&path, &buf).map_err(io("writing", &path))?;
        names.push(name);
        n += 1;
    }
    Ok(names)
}

/// Builds a deterministic GPT disk image of `size` bytes (at least 8 MiB) in `dir`
/// and returns its path (`dir/disk-<size>-<seed>.img`, replaced if present). See
/// [`DataSpec`] for the layout.
///
/// Steps: the tree is generated into a scratch directory; the image is a sparse file
/// partitioned with `sgdisk` (fixed disk and partition GUIDs); `mke2fs -d` builds the
/// file system directly at the partition offset (`-E offset=`), with a fixed UUID and
/// `hash_seed`, `root_owner=0:0` and `E2FSPROGS_FAKE_TIME`; `mke2fs` copies the host's
/// change times of the tree, so `debugfs -w` then sets every inode's times to the fixed
/// time. The image stays sparse: only the metadata and file content are allocated.
pub fn make_disk_image(dir: &Path, size: u64, spec: &DataSpec) -> Result<PathBuf> {
    let (sgdisk, mke2fs, debugfs) = (require("sgdisk")?, require("mke2fs")?, require("debugfs")?);
    if size < 8 << 20 || !(0.0..=0.8).contains(&spec.data_fraction) {
        return Err(Error::Invalid(format!(
            "disk image of {size} bytes with data fraction {}",
            spec.data_fraction
        )));
    }
    let size = size - size % 4096;
    let image = dir.join(format!("disk-{size}-{}.img", spec.seed));
    let scratch = dir.join(format!("disk-{size}-{}.tree", spec.seed));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir(&scratch)
        .map_err(|e| Error::io(format!("creating {}", scratch.display()), e))?;
    let result = build(&image, &scratch, size, spec, [&sgdisk, &mke2fs, &debugfs]);
    let _ = std::fs::remove_dir_all(&scratch);
    result.map(|()| image)
}

fn build(
    image: &Path,
    scratch: &Path,
    size: u64,
    spec: &DataSpec,
    [sgdisk, mke2fs, debugfs]: [&Path; 3],
) -> Result<()> {
    let tree = scratch.join("root");
    std::fs::create_dir(&tree).map_err(|e| Error::io("creating the tree root", e))?;
    let names = generate_tree(&tree, size, spec)?;
    let fake = SystemTime::UNIX_EPOCH + Duration::from_secs(FAKE_TIME);
    for name in names.iter().rev().map(|n| &n[1..]).chain([""]) {
        let path = tree.join(name);
        File::open(&path)
            .and_then(|f| {
                f.set_times(
                    std::fs::FileTimes::new()
                        .set_accessed(fake)
                        .set_modified(fake),
                )
            })
            .map_err(|e| Error::io(format!("setting the times of {}", path.display()), e))?;
    }

    let _ = std::fs::remove_file(image);
    File::create(image)
        .and_then(|f| f.set_len(size))
        .map_err(|e| Error::io(format!("creating {}", image.display()), e))?;
    let mut rng = SplitMix64(spec.seed ^ 0x5eed_d15c);
    let (disk_guid, part_guid, fs_uuid, hash_seed) =
        (rng.uuid(), rng.uuid(), rng.uuid(), rng.uuid());
    // The last usable sector is 34 before the end (backup header and table); the
    // partition ends on the last 1 MiB boundary before it.
    let first = 2048u64;
    let last = ((size / 512 - 34) / 2048) * 2048 - 1;
    process::run(
        Command::new(sgdisk)
            .arg("-o")
            .arg(format!("--disk-guid={disk_guid}"))
            .arg(format!("--new=1:{first}:{last}"))
            .arg("--typecode=1:8300")
            .arg(format!("--partition-guid=1:{part_guid}"))
            .arg("--change-name=1:root")
            .arg(image),
    )?;
    let offset = first * 512;
    let blocks = (last + 1 - first) * 512 / 4096;
    let fake_env = ("E2FSPROGS_FAKE_TIME", FAKE_TIME.to_string());
    process::run(
        Command::new(mke2fs)
            .env(fake_env.0, &fake_env.1)
            .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256"])
            .args(["-T", "default", "-L", "root", "-U", &fs_uuid])
            .arg("-E")
            .arg(format!(
                "offset={offset},root_owner=0:0,hash_seed={hash_seed}"
            ))
            .arg("-d")
            .arg(&tree)
            .arg(image)
            .arg(blocks.to_string()),
    )?;
    let cmds = scratch.join("debugfs.cmds");
    let mut script = String::new();
    for name in &names {
        for field in ["atime", "mtime", "ctime"] {
            script.push_str(&format!("sif {name} {field} {FAKE_TIME_DEBUGFS}\n"));
        }
    }
    File::create(&cmds)
        .and_then(|mut f| f.write_all(script.as_bytes()))
        .map_err(|e| Error::io("writing the debugfs script", e))?;
    let out = process::output(
        Command::new(debugfs)
            .env(fake_env.0, &fake_env.1)
            .arg("-w")
            .arg("-f")
            .arg(&cmds)
            .arg(format!("{}?offset={offset}", image.display())),
    )?;
    // debugfs exits 0 even when a command fails; its errors go to standard error.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("debugfs ") && !l.trim().is_empty())
        .collect();
    if !out.status.success() || !errors.is_empty() {
        return Err(Error::Command {
            command: "debugfs -w -f <time fix-up>".to_owned(),
            status: out.status.to_string(),
            stderr: errors.join("\n"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partx_output_is_parsed() {
        let parts = parse_partx("1 2048 126976\n2 129024 2048\n", Path::new("/dev/loop3")).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].path, Path::new("/dev/loop3p1"));
        assert_eq!(
            (parts[1].number, parts[1].start, parts[1].sectors),
            (2, 129024, 2048)
        );
        assert_eq!(
            partition_path(Path::new("/dev/sda"), 2),
            Path::new("/dev/sda2")
        );
        assert!(parse_partx("x 1 2\n", Path::new("/dev/loop0")).is_err());
    }

    #[test]
    fn the_generator_is_deterministic_and_spreads_sizes() {
        let mut a = SplitMix64(7);
        let mut b = SplitMix64(7);
        assert_eq!(a.next(), b.next());
        assert_eq!(a.uuid().len(), 36);
        let words = vocabulary(&mut SplitMix64(1));
        let text = text_content(&mut SplitMix64(2), &words, 10_000);
        assert_eq!(text.len(), 10_000);
        assert!(text.iter().all(|b| b.is_ascii()));
        assert_eq!(text, text_content(&mut SplitMix64(2), &words, 10_000));
    }
}
