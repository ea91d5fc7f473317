//! The write target: a regular file or a block device, opened safely, written with
//! sparse, coalesced writes, and finished with `fsync` and a partition-table re-read.
//!
//! # Opening
//!
//! [`open_target`] refuses what must not be overwritten:
//! - a block device is opened `O_WRONLY | O_EXCL | O_CLOEXEC`, never with `O_CREAT`
//!   (`O_EXCL` on a block device makes the kernel refuse it while it is mounted,
//!   an active swap area or held by device-mapper/md);
//! - before that, the device and each of its partitions (from
//!   `/sys/dev/block/<maj>:<min>/*/partition`) are looked up in
//!   `/proc/self/mountinfo` and `/proc/swaps`, so the error names the mount point;
//! - a path that does not exist is created as a regular file only when the caller
//!   does not expect a device ([`TargetOptions::expect_device`]) and the path is not
//!   under `/dev` (a typo there would fill the devtmpfs);
//! - a device's size comes from `BLKGETSIZE64` (falling back to `lseek(SEEK_END)`),
//!   never from the metadata length, which is 0 for a block device.
//!
//! # Zeros and sparseness
//!
//! A target "reads zeros" when every byte not written reads back as zero: a regular
//! file that was just created or truncated, or a device after
//! [`TargetOptions::discard`]. Only then are all-zero 4 KiB blocks skipped (the write
//! offset moves past them); otherwise they are written, so the result is byte-identical
//! either way.
//!
//! For a device, `discard` zeroes the whole device with `BLKZEROOUT`, which the kernel
//! turns into the device's write-zeroes command (`REQ_OP_WRITE_ZEROES`: NVMe Write
//! Zeroes, SCSI WRITE SAME, `fallocate` zero-range on a loop device) and falls back to
//! writing zero pages when the device has none. `BLKDISCARD` is used only when
//! `/sys/dev/block/<maj>:<min>/queue/discard_zeroes_data` is `1`; since Linux 4.12 the
//! kernel always reports 0 there (a discard is only a hint and need not read back as
//! zeros), and on the loop devices of this host `discard_zeroes_data` is 0 although a
//! discard punches a hole in the backing file. So in practice `BLKZEROOUT` is used.
//! For a regular file, `discard` truncates it to length 0.
//!
//! # Writing
//!
//! [`SparseWriter::write_chunk`] takes the image in sequential chunks of any size.
//! Blocks are classified on 4 KiB boundaries of the image offset; consecutive data
//! blocks are gathered into writes of [`WRITE_SIZE`] bytes (`pwrite` at the block's
//! offset; a run of 1 MiB or more is written from where it lies, without a copy), so
//! a sparse image costs a few hundred system calls per GiB of data and none
//! per zero block. Every 128 MiB of the image the kernel is asked to start writing the
//! written pages back (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, a hint), so the
//! disk works while the image is still being decompressed and the final `fsync` finds
//! little left. A chunk that would end past the end of a device is refused whole
//! with [`SinkError::PastEnd`]: nothing of it is written, and the writer refuses every
//! later call, so an image that does not fit can never be reported as written.
//!
//! [`SparseWriter::finish`] writes what is buffered, sets the length of a regular file
//! (when its zero tail was skipped), calls `fsync`, and for a device asks the kernel
//! to re-read the partition table (`BLKRRPART`). Only then does it report success.

mod mounts;

use std::fs::{File, OpenOptions};
use std::io::{self, Seek as _, SeekFrom};
use std::os::unix::fs::{FileExt as _, FileTypeExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use crate::sys;
use mounts::DevNum;

/// The granularity of zero detection, in bytes.
pub const BLOCK_SIZE: usize = 4096;

/// The size of the coalesced writes, in bytes.
pub const WRITE_SIZE: usize = 4 << 20;

/// What can go wrong while opening, preparing or writing a target. Every variant
/// names the target path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A system call on the target failed.
    #[error("{path}: {what}")]
    Io {
        /// The target.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The path does not exist and is not created (a device was expected, or the path
    /// is under `/dev`).
    #[error("{path} does not exist (a device path is never created as a file)")]
    NotFound {
        /// The target.
        path: PathBuf,
    },
    /// A device was expected, or the path is neither a regular file nor a block device.
    #[error("{path} is a {kind}, not a block device{}", if *expected_device { "" } else { " or regular file" })]
    NotADevice {
        /// The target.
        path: PathBuf,
        /// What it is instead (`"regular file"`, `"directory"`, …).
        kind: &'static str,
        /// Whether the caller asked for a block device.
        expected_device: bool,
    },
    /// The device, one of its partitions, or the file is mounted or an active swap area.
    #[error("{path} is in use: device {}:{} is mounted on {mount_point}", device.0, device.1)]
    Mounted {
        /// The target.
        path: PathBuf,
        /// The `(major, minor)` of the mounted device (the target or a partition).
        device: (u32, u32),
        /// Where it is mounted (`"swap"` for an active swap area).
        mount_point: String,
    },
    /// The kernel refused the exclusive open (`EBUSY`): the device is mounted, a swap
    /// area, or held by another driver (device-mapper, md, another exclusive opener).
    #[error(
        "{path} is busy: the kernel refused an exclusive open (mounted, swap, or held by another device)"
    )]
    Busy {
        /// The target.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The image does not fit on the device; nothing was written.
    #[error(
        "the image ({image_size} bytes) is larger than {path} ({device_size} bytes); nothing was written"
    )]
    TooLarge {
        /// The target.
        path: PathBuf,
        /// The size of the image.
        image_size: u64,
        /// The size of the device.
        device_size: u64,
    },
    /// A chunk would cross the end of the device. Nothing of that chunk was written.
    #[error(
        "{path}: {len} bytes at offset {at} would cross the end of the device ({device_size} bytes); nothing of them was written"
    )]
    PastEnd {
        /// The target.
        path: PathBuf,
        /// The size of the device.
        device_size: u64,
        /// The image offset of the refused chunk.
        at: u64,
        /// The length of the refused chunk.
        len: u64,
    },
    /// The partition table could not be re-read (e.g. `EBUSY`: a partition is in use).
    #[error("{path}: re-reading the partition table failed")]
    Reread {
        /// The target.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// An earlier call failed; the target is incomplete and the writer refuses to go on.
    #[error("{path}: an earlier write failed, the target is incomplete")]
    Poisoned {
        /// The target.
        path: PathBuf,
    },
}

fn io_err(path: &Path, what: &'static str) -> impl FnOnce(io::Error) -> SinkError {
    move |source| SinkError::Io {
        path: path.to_owned(),
        what,
        source,
    }
}

/// How a target is opened. `Default`: no discard, a device is not required, an
/// existing regular file is truncated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TargetOptions {
    /// Zero the target before writing, so that zero blocks can be skipped. On a
    /// device this is `BLKZEROOUT` over the whole device (also clearing old data past
    /// the image's end), which the kernel turns into the device's write-zeroes command
    /// (or writes zero pages when it has none); `BLKDISCARD` only when the device's
    /// `queue/discard_zeroes_data` is 1 (never since Linux 4.12, and 0 on loop
    /// devices although their discard punches holes). On a regular file it truncates
    /// it.
    pub discard: bool,
    /// The caller expects a block device: a missing path or a regular file is an error
    /// instead of a file to create or overwrite.
    pub expect_device: bool,
    /// Truncate an existing regular file when opening it (then it reads zeros). When
    /// false, the file keeps its content beyond the image's end, like a device.
    pub truncate: bool,
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            discard: false,
            expect_device: false,
            truncate: true,
        }
    }
}

impl TargetOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TargetOptions::discard`].
    pub fn discard(mut self, on: bool) -> Self {
        self.discard = on;
        self
    }

    /// Sets [`TargetOptions::expect_device`].
    pub fn expect_device(mut self, on: bool) -> Self {
        self.expect_device = on;
        self
    }

    /// Sets [`TargetOptions::truncate`].
    pub fn truncate(mut self, on: bool) -> Self {
        self.truncate = on;
        self
    }
}

/// What a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A regular file.
    File,
    /// A block device.
    BlockDevice,
}

/// How a target was made to read zeros before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zeroing {
    /// A regular file was created or truncated.
    Truncated,
    /// `BLKZEROOUT` over the whole device.
    ZeroOut,
    /// `BLKDISCARD` over the whole device, which guarantees zeroed data.
    Discard,
}

/// An open write target. Check the image size with [`Target::check_size`], then write
/// through [`Target::writer`].
#[derive(Debug)]
pub struct Target {
    file: File,
    path: PathBuf,
    kind: TargetKind,
    dev: Option<DevNum>,
    device_size: Option<u64>,
    sector_size: u32,
    zeroing: Option<Zeroing>,
    discard: bool,
}

fn kind_name(ft: std::fs::FileType) -> &'static str {
    if ft.is_file() {
        "regular file"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

fn under_dev(path: &Path) -> bool {
    std::path::absolute(path).is_ok_and(|p| p.starts_with("/dev"))
}

fn read_proc(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Opens `path` as a write target.
///
/// - A block device is opened `O_WRONLY | O_EXCL | O_CLOEXEC`, never `O_CREAT`
///   (`O_EXCL` makes the kernel refuse it while mounted, swap or held: [`SinkError::Busy`]);
///   before that, the device and its partitions (sysfs) are looked up in
///   `/proc/self/mountinfo` and `/proc/swaps` ([`SinkError::Mounted`] names the mount
///   point). Its size comes from `BLKGETSIZE64` (or `lseek(SEEK_END)`).
/// - A missing path becomes a new regular file, unless the caller expects a device or
///   the path is under `/dev` ([`SinkError::NotFound`]).
/// - An existing regular file is truncated unless [`TargetOptions::truncate`] is off.
/// - Anything else is [`SinkError::NotADevice`].
pub fn open_target(path: impl AsRef<Path>, options: &TargetOptions) -> Result<Target, SinkError> {
    let path = path.as_ref();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if options.expect_device || under_dev(path) {
                return Err(SinkError::NotFound {
                    path: path.to_owned(),
                });
            }
            open_file(path, true, options)
        }
        Err(e) => Err(io_err(path, "examining the target")(e)),
        Ok(meta) if meta.file_type().is_block_device() => open_device(path, &meta, options),
        Ok(meta) if meta.is_file() && !options.expect_device => {
            if mounts::is_swap_file(meta.dev(), meta.ino(), &read_proc("/proc/swaps")) {
                return Err(SinkError::Mounted {
                    path: path.to_owned(),
                    device: mounts::split_dev(meta.dev()),
                    mount_point: "swap".to_owned(),
                });
            }
            open_file(path, options.truncate, options)
        }
        Ok(meta) => Err(SinkError::NotADevice {
            path: path.to_owned(),
            kind: kind_name(meta.file_type()),
            expected_device: options.expect_device,
        }),
    }
}

fn open_file(path: &Path, truncate: bool, options: &TargetOptions) -> Result<Target, SinkError> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
        .map_err(io_err(path, "opening the target file"))?;
    let meta = file
        .metadata()
        .map_err(io_err(path, "examining the target file"))?;
    if !meta.is_file() {
        return Err(SinkError::NotADevice {
            path: path.to_owned(),
            kind: kind_name(meta.file_type()),
            expected_device: false,
        });
    }
    Ok(Target {
        file,
        path: path.to_owned(),
        kind: TargetKind::File,
        dev: None,
        device_size: None,
        sector_size: 512,
        zeroing: (truncate || meta.len() == 0).then_some(Zeroing::Truncated),
        discard: options.discard,
    })
}

fn open_device(
    path: &Path,
    meta: &std::fs::Metadata,
    options: &TargetOptions,
) -> Result<Target, SinkError> {
    let dev = mounts::split_dev(meta.rdev());
    let mut devs = vec![dev];
    devs.extend(mounts::partitions_of(dev));
    let mountinfo = read_proc("/proc/self/mountinfo");
    if let Some((device, mount_point)) =
        mounts::in_use(&devs, &mountinfo, &read_proc("/proc/swaps"))
    {
        return Err(SinkError::Mounted {
            path: path.to_owned(),
            device,
            mount_point,
        });
    }
    let mut file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_EXCL)
        .open(path)
        .map_err(|source| {
            if source.raw_os_error() == Some(libc::EBUSY) {
                SinkError::Busy {
                    path: path.to_owned(),
                    source,
                }
            } else {
                io_err(path, "opening the target device")(source)
            }
        })?;
    let opened = file
        .metadata()
        .map_err(io_err(path, "examining the target device"))?;
    if !opened.file_type().is_block_device() || opened.rdev() != meta.rdev() {
        return Err(SinkError::NotADevice {
            path: path.to_owned(),
            kind: "file that changed while it was opened",
            expected_device: true,
        });
    }
    let size = match sys::device_size(&file) {
        Ok(size) => size,
        Err(_) => file
            .seek(SeekFrom::End(0))
            .map_err(io_err(path, "measuring the device"))?,
    };
    let sector_size = sys::logical_sector_size(&file).unwrap_or(512);
    Ok(Target {
        file,
        path: path.to_owned(),
        kind: TargetKind::BlockDevice,
        dev: Some(dev),
        device_size: Some(size),
        sector_size,
        zeroing: None,
        discard: options.discard,
    })
}

/// Whether the device's queue promises that discarded blocks read as zeros.
fn discard_zeroes_data(dev: DevNum) -> bool {
    let base = PathBuf::from(format!("/sys/dev/block/{}:{}", dev.0, dev.1));
    // A partition has no queue of its own; it shares its disk's.
    [base.join("queue"), base.join("../queue")]
        .iter()
        .find(|q| q.is_dir())
        .is_some_and(|q| {
            let read = |name: &str| std::fs::read_to_string(q.join(name)).unwrap_or_default();
            read("discard_zeroes_data").trim() == "1"
                && read("discard_max_bytes").trim().parse::<u64>().unwrap_or(0) > 0
        })
}

impl Target {
    /// The path it was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is a regular file or a block device.
    pub fn kind(&self) -> TargetKind {
        self.kind
    }

    /// The size of a block device (`None` for a regular file, which grows).
    pub fn device_size(&self) -> Option<u64> {
        self.device_size
    }

    /// The logical sector size of a block device (512 for a regular file).
    pub fn logical_sector_size(&self) -> u32 {
        self.sector_size
    }

    /// Whether every byte not written reads back as zero right now (before a
    /// requested discard, which [`Target::writer`] performs, is applied).
    pub fn reads_zeros(&self) -> bool {
        self.zeroing.is_some()
    }

    /// Refuses an image larger than the device ([`SinkError::TooLarge`]); a regular
    /// file takes any size. Call this before [`Target::writer`], which may zero the
    /// device.
    pub fn check_size(&self, image_size: u64) -> Result<(), SinkError> {
        match self.device_size {
            Some(device_size) if image_size > device_size => Err(SinkError::TooLarge {
                path: self.path.clone(),
                image_size,
                device_size,
            }),
            _ => Ok(()),
        }
    }

    /// Applies a requested discard (see [`TargetOptions::discard`]) and returns the
    /// writer, positioned at offset 0.
    pub fn writer(mut self) -> Result<SparseWriter, SinkError> {
        if self.discard {
            self.zero_all()?;
        }
        Ok(SparseWriter::new(self))
    }

    fn zero_all(&mut self) -> Result<(), SinkError> {
        match (self.kind, self.device_size, self.dev) {
            (TargetKind::BlockDevice, Some(size), Some(dev)) => {
                let method = if discard_zeroes_data(dev) {
                    Zeroing::Discard
                } else {
                    Zeroing::ZeroOut
                };
                // The range must be a multiple of the logical sector size; a device's
                // size always is, but be safe with the tail.
                let len = size - size % u64::from(self.sector_size.max(512));
                if len > 0 {
                    let result = match method {
                        Zeroing::Discard => sys::discard(&self.file, 0, len),
                        _ => sys::zero_out(&self.file, 0, len),
                    };
                    result.map_err(io_err(&self.path, "zeroing the device"))?;
                }
                if len < size {
                    self.file
                        .write_all_at(&vec![0; (size - len) as usize], len)
                        .map_err(io_err(&self.path, "zeroing the device's tail"))?;
                }
                self.zeroing = Some(method);
            }
            _ => {
                self.file
                    .set_len(0)
                    .map_err(io_err(&self.path, "truncating the target file"))?;
                self.zeroing = Some(Zeroing::Truncated);
            }
        }
        Ok(())
    }
}

/// What [`SparseWriter::finish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteReport {
    /// Bytes written to the target.
    pub bytes_written: u64,
    /// Bytes of zeros skipped because the target reads zeros.
    pub bytes_skipped: u64,
    /// The image size: written plus skipped.
    pub bytes_total: u64,
    /// Whether the kernel re-read the partition table (`false` for a regular file and
    /// for a device without partition support).
    pub partitions_reread: bool,
    /// The number of write system calls issued for data.
    pub write_calls: u64,
    /// How the target came to read zeros, when it did (then zero blocks were skipped).
    pub zeroing: Option<Zeroing>,
}

/// Writes an image sequentially into a [`Target`], skipping zero blocks when the
/// target reads zeros and coalescing data into large writes. It also implements
/// [`io::Write`] (errors are [`SinkError`]s wrapped in [`io::Error`]); call
/// [`SparseWriter::finish`] at the end: dropping the writer does not flush.
#[derive(Debug)]
pub struct SparseWriter {
    target: Target,
    /// Bytes accepted so far (the image offset of the next chunk).
    pos: u64,
    /// The offset of the first byte not yet classified as data or zeros.
    next: u64,
    /// Data waiting to be written at `buf_start`; it ends at `next`.
    buf: Vec<u8>,
    buf_start: u64,
    /// The start of an incomplete block, at offset `next`.
    partial: Vec<u8>,
    written: u64,
    skipped: u64,
    writes: u64,
    /// The start of the written range whose writeback was not started yet.
    writeback_from: u64,
    failed: bool,
}

static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// A run of data at least this long, with nothing buffered, is written directly.
const DIRECT_WRITE: usize = 1 << 20;

/// Writeback is started for every this many bytes of the image written. Measured
/// here: starting it early makes a sparse image's final fsync short (a multi-frame
/// 2 GiB image: 1.1-1.3 s without, 0.6-0.9 s with), but small batches (4-32 MiB)
/// throttle a dense write (1 GiB incompressible: 1-3 s against 0.6 s with 128 MiB).
const WRITEBACK_BATCH: u64 = 128 << 20;

/// Whether `block` is all zeros. The first bytes are checked one by one (data blocks
/// usually differ there); the rest is OR-reduced in 256-byte pieces, which the
/// compiler vectorises.
pub(crate) fn is_zero(block: &[u8]) -> bool {
    let (head, rest) = block.split_at(block.len().min(16));
    head.iter().all(|&b| b == 0)
        && rest
            .chunks(256)
            .all(|piece| piece.iter().fold(0u8, |acc, &b| acc | b) == 0)
}

impl SparseWriter {
    fn new(target: Target) -> SparseWriter {
        SparseWriter {
            target,
            pos: 0,
            next: 0,
            buf: Vec::with_capacity(WRITE_SIZE),
            buf_start: 0,
            partial: Vec::with_capacity(BLOCK_SIZE),
            written: 0,
            skipped: 0,
            writes: 0,
            writeback_from: 0,
            failed: false,
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Bytes accepted so far: the image offset of the next chunk.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Whether zero blocks are skipped.
    pub fn skips_zeros(&self) -> bool {
        self.target.reads_zeros()
    }

    fn poisoned(&self) -> SinkError {
        SinkError::Poisoned {
            path: self.target.path.clone(),
        }
    }

    fn check_fits(&mut self, len: u64) -> Result<(), SinkError> {
        if self.failed {
            return Err(self.poisoned());
        }
        if let Some(device_size) = self.target.device_size
            && self
                .pos
                .checked_add(len)
                .is_none_or(|end| end > device_size)
        {
            self.failed = true;
            return Err(SinkError::PastEnd {
                path: self.target.path.clone(),
                device_size,
                at: self.pos,
                len,
            });
        }
        Ok(())
    }

    /// Takes the next `data.len()` bytes of the image. A chunk that would end past the
    /// end of a device is refused whole ([`SinkError::PastEnd`]); after any error the
    /// writer refuses every later call ([`SinkError::Poisoned`]).
    pub fn write_chunk(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.check_fits(data.len() as u64)?;
        self.pos += data.len() as u64;
        let result = self.accept(data);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// Takes `len` zero bytes of the image (a hole known from a block map, say),
    /// skipping them when the target reads zeros, writing them otherwise.
    pub fn write_zeros(&mut self, len: u64) -> Result<(), SinkError> {
        self.check_fits(len)?;
        let result = self.accept_zeros(len);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn accept_zeros(&mut self, mut len: u64) -> Result<(), SinkError> {
        // Complete an incomplete block first, so that whole blocks start aligned.
        if !self.partial.is_empty() {
            let fill = ((BLOCK_SIZE - self.partial.len()) as u64).min(len);
            self.pos += fill;
            self.accept(&ZEROS[..fill as usize])?;
            len -= fill;
        }
        if self.target.reads_zeros() {
            let whole = len - len % BLOCK_SIZE as u64;
            if whole > 0 {
                self.pos += whole;
                self.skip(whole)?;
                len -= whole;
            }
        }
        while len > 0 {
            let n = len.min(ZEROS.len() as u64);
            self.pos += n;
            self.accept(&ZEROS[..n as usize])?;
            len -= n;
        }
        Ok(())
    }

    fn accept(&mut self, mut data: &[u8]) -> Result<(), SinkError> {
        if !self.partial.is_empty() {
            let take = (BLOCK_SIZE - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < BLOCK_SIZE {
                return Ok(());
            }
            let block = std::mem::take(&mut self.partial);
            self.classify(&block)?;
            self.partial = block;
            self.partial.clear();
        }
        let whole = data.len() - data.len() % BLOCK_SIZE;
        self.classify(&data[..whole])?;
        self.partial.extend_from_slice(&data[whole..]);
        Ok(())
    }

    /// Splits `data` (starting at `next`, block-aligned, whole blocks except at the
    /// image's end) into runs of data blocks and zero blocks.
    fn classify(&mut self, data: &[u8]) -> Result<(), SinkError> {
        if !self.target.reads_zeros() {
            return self.data(data);
        }
        let mut i = 0;
        while i < data.len() {
            let start = i;
            while i < data.len() {
                let end = (i + BLOCK_SIZE).min(data.len());
                if is_zero(&data[i..end]) {
                    break;
                }
                i = end;
            }
            if i > start {
                self.data(&data[start..i])?;
            }
            let zeros = i;
            while i < data.len() {
                let end = (i + BLOCK_SIZE).min(data.len());
                if !is_zero(&data[i..end]) {
                    break;
                }
                i = end;
            }
            if i > zeros {
                self.skip((i - zeros) as u64)?;
            }
        }
        Ok(())
    }

    fn skip(&mut self, len: u64) -> Result<(), SinkError> {
        self.flush_buf()?;
        self.next += len;
        self.skipped += len;
        Ok(())
    }

    fn data(&mut self, mut bytes: &[u8]) -> Result<(), SinkError> {
        while !bytes.is_empty() {
            // A run of 1 MiB or more is written from where it lies, without a copy.
            if self.buf.is_empty() && bytes.len() >= DIRECT_WRITE {
                self.write_at(bytes, self.next)?;
                self.next += bytes.len() as u64;
                return Ok(());
            }
            if self.buf.is_empty() {
                self.buf_start = self.next;
            }
            let take = (WRITE_SIZE - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            self.next += take as u64;
            bytes = &bytes[take..];
            if self.buf.len() >= WRITE_SIZE {
                self.flush_buf()?;
            }
        }
        Ok(())
    }

    fn write_at(&mut self, bytes: &[u8], offset: u64) -> Result<(), SinkError> {
        self.target
            .file
            .write_all_at(bytes, offset)
            .map_err(io_err(&self.target.path, "writing"))?;
        // Start the writeback of what was just written (overlapping the disk with the
        // decompression instead of leaving it all to the final fsync). Only a hint:
        // a failure changes nothing, fsync still decides.
        let end = offset + bytes.len() as u64;
        if end - self.writeback_from >= WRITEBACK_BATCH {
            let _ = crate::sys::start_writeback(
                &self.target.file,
                self.writeback_from,
                end - self.writeback_from,
            );
            self.writeback_from = end;
        }
        self.written += bytes.len() as u64;
        self.writes += 1;
        Ok(())
    }

    fn flush_buf(&mut self) -> Result<(), SinkError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let result = self.write_at(&buf, self.buf_start);
        self.buf = buf;
        self.buf.clear();
        result
    }

    /// Writes what is buffered, sets a regular file's length to the image size, calls
    /// `fsync`, and re-reads a device's partition table (`EINVAL`/`ENOTTY`, a device or
    /// partition without partition support, is reported as `partitions_reread: false`;
    /// other failures, such as `EBUSY`, are errors). Success means the image is on the
    /// target.
    pub fn finish(mut self) -> Result<WriteReport, SinkError> {
        if self.failed {
            return Err(self.poisoned());
        }
        let tail = std::mem::take(&mut self.partial);
        self.classify(&tail)?;
        self.flush_buf()?;
        debug_assert_eq!(self.next, self.pos);
        let target = &self.target;
        let path = &target.path;
        if target.kind == TargetKind::File {
            let len = target
                .file
                .metadata()
                .map_err(io_err(path, "examining the target file"))?
                .len();
            if len < self.pos {
                target
                    .file
                    .set_len(self.pos)
                    .map_err(io_err(path, "setting the file's length"))?;
            }
        }
        target.file.sync_all().map_err(io_err(
            path,
            "flushing the target to stable storage (fsync)",
        ))?;
        let partitions_reread = match target.kind {
            TargetKind::File => false,
            TargetKind::BlockDevice => match sys::reread_partitions(&target.file) {
                Ok(()) => true,
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOTTY)) => false,
                Err(source) => {
                    return Err(SinkError::Reread {
                        path: path.clone(),
                        source,
                    });
                }
            },
        };
        Ok(WriteReport {
            bytes_written: self.written,
            bytes_skipped: self.skipped,
            bytes_total: self.pos,
            partitions_reread,
            write_calls: self.writes,
            zeroing: target.zeroing,
        })
    }
}

impl io::Write for SparseWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_chunk(buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    /// Writes the coalesced data gathered so far (not an incomplete last block, and
    /// without `fsync`: that is [`SparseWriter::finish`]).
    fn flush(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(self.poisoned()));
        }
        self.flush_buf().map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_detection() {
        assert!(is_zero(&[]));
        assert!(is_zero(&[0; 4096]));
        assert!(is_zero(&[0; 100]));
        for at in [0, 15, 16, 17, 255, 256, 4095] {
            let mut block = [0u8; 4096];
            block[at] = 1;
            assert!(!is_zero(&block), "byte {at}");
        }
    }

    #[test]
    fn options_builder() {
        let o = TargetOptions::new()
            .discard(true)
            .expect_device(true)
            .truncate(false);
        assert!(o.discard && o.expect_device && !o.truncate);
        assert!(TargetOptions::default().truncate);
    }

    fn write_in_chunks(target: Target, image: &[u8], sizes: &[usize]) -> WriteReport {
        let mut w = target.writer().unwrap();
        let mut rest = image;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            w.write_chunk(&rest[..n]).unwrap();
            rest = &rest[n..];
            i += 1;
        }
        w.finish().unwrap()
    }

    fn sample_image() -> Vec<u8> {
        // data, zeros, a block with one byte set at its end, zeros, an unaligned tail
        let mut image = vec![7u8; 3 * BLOCK_SIZE + 5];
        image.extend(vec![0; 5 * BLOCK_SIZE - 5]);
        let mut block = vec![0; BLOCK_SIZE];
        block[BLOCK_SIZE - 1] = 9;
        image.extend(block);
        image.extend(vec![0; 7 * BLOCK_SIZE]);
        image.extend(vec![3; 100]);
        image.extend(vec![0; 50]);
        image
    }

    #[test]
    fn any_chunking_gives_the_same_file() {
        let dir = std::env::temp_dir().join(format!("diskimage-sink-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let image = sample_image();
        for sizes in [
            &[1usize][..],
            &[7, 4096, 3],
            &[4096],
            &[100_000],
            &[5000, 1],
        ] {
            let path = dir.join("out");
            let target = open_target(&path, &TargetOptions::default()).unwrap();
            assert!(target.reads_zeros());
            let report = write_in_chunks(target, &image, sizes);
            assert_eq!(std::fs::read(&path).unwrap(), image, "chunks {sizes:?}");
            assert_eq!(report.bytes_total, image.len() as u64);
            assert_eq!(
                report.bytes_written + report.bytes_skipped,
                report.bytes_total
            );
            // blocks 0..4 data, 4..8 zeros, 8 data, 9..16 zeros, tail data
            assert_eq!(
                report.bytes_skipped,
                11 * BLOCK_SIZE as u64,
                "chunks {sizes:?}"
            );
            assert_eq!(report.write_calls, 3, "chunks {sizes:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_zeros_matches_write_chunk() {
        let dir = std::env::temp_dir().join(format!("diskimage-sink-zeros-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for truncate in [true, false] {
            let path = dir.join("out");
            std::fs::write(&path, vec![0xaa; 40_000]).unwrap();
            let target = open_target(&path, &TargetOptions::new().truncate(truncate)).unwrap();
            let mut w = target.writer().unwrap();
            w.write_chunk(&[1; 10]).unwrap();
            w.write_zeros(3 * BLOCK_SIZE as u64 + 1).unwrap();
            w.write_chunk(&[2; 10]).unwrap();
            w.write_zeros(5).unwrap();
            let report = w.finish().unwrap();
            let mut expected = vec![1u8; 10];
            expected.extend(vec![0; 3 * BLOCK_SIZE + 1]);
            expected.extend([2; 10]);
            expected.extend([0; 5]);
            let got = std::fs::read(&path).unwrap();
            assert_eq!(&got[..expected.len()], &expected[..]);
            if truncate {
                assert_eq!(got.len(), expected.len());
                assert_eq!(report.bytes_skipped, 2 * BLOCK_SIZE as u64);
            } else {
                assert_eq!(got.len(), 40_000);
                assert!(got[expected.len()..].iter().all(|&b| b == 0xaa));
                assert_eq!(report.bytes_skipped, 0);
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
