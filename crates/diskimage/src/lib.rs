//! Writing an operating-system image to a disk, and reading one back, as fast as the
//! disk allows and without ever reporting a damaged write as success.
//!
//! # Contract
//!
//! The format logic (magic-byte detection, frame splitting, checksum files, the sparse
//! decision, size checks) is pure and tested without a disk. The I/O side streams from
//! HTTP(S), a file or stdin through decompression and hashing into a regular file or a
//! block device with bounded buffers. It refuses to write past the end of a device,
//! refuses a mounted target, treats a truncated or mismatching download as an error,
//! and reports success only after `fsync` and the partition-table re-read. Device
//! ioctls live in one small `sys` module, the only place where `unsafe` is allowed.
//!
//! # The write path
//!
//! [`write_image`] runs three threads joined by bounded queues of 512 KiB chunks:
//!
//! ```text
//! reader:   Source (HTTP with resume, file, stdin) ── compressed-stream digests
//! decoder:  magic-byte detection ── decoder (multi-frame zstd on all cores)
//! writer:   raw-stream digests ── SparseWriter (zero blocks skipped when the
//!           target reads zeros) ── fsync ── BLKRRPART
//! ```
//!
//! The target is opened (a mounted device refused) before the download starts; a
//! known image size (the caller's, or the length of a raw download) is checked
//! against the device before the first byte is written; an archive or a virtual-disk
//! file is refused at byte 0 ([`unsupported`]). Success is reported only after every
//! checksum matched, the data was `fsync`ed and the partition table re-read. On a
//! failure nothing is written after the failing point, and [`WriteError::exit_code`]
//! tells the stage that failed. [`verify_image`] runs the same path without a target.
//!
//! ```no_run
//! use diskimage::{SourceSpec, WriteOptions, write_image};
//!
//! let opts = WriteOptions::new(
//!     SourceSpec::parse("http://10.0.0.1/images/jammy.img.zst"),
//!     "/dev/sda",
//! );
//! let summary = write_image(&opts, &mut |p| eprintln!("{} bytes written", p.bytes_out))?;
//! println!("{} bytes, {} skipped as zeros", summary.report.bytes_total, summary.report.bytes_skipped);
//! # Ok::<(), diskimage::WriteError>(())
//! ```

mod decode;
mod format;
mod hash;
mod pipeline;
mod sink;
mod source;
#[allow(unsafe_code)]
mod sys;

pub use decode::{DecodeError, DecodeOptions, decode_error, decoder};
pub use format::{DETECT_LEN, Format, UNSUPPORTED_LEN, detect, unsupported};
pub use hash::{
    Algorithm, ChecksumEntry, Digest, Expected, HashError, Hasher, Stage, parse_checksum_entries,
    parse_checksum_file,
};
pub use source::{
    Source, SourceError, SourceOptions, SourceSpec, USER_AGENT, fetch_checksum, open,
};

pub use pipeline::{
    Progress, PublishedChecksum, VerifySummary, WriteError, WriteOptions, WriteSummary,
    verify_image, write_image,
};
pub use sink::{
    BLOCK_SIZE, SinkError, SparseWriter, Target, TargetKind, TargetOptions, WRITE_SIZE,
    WriteReport, Zeroing, open_target,
};
