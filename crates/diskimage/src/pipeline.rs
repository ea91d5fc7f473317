//! The write path: source → decompression → sparse writer, on three threads joined by
//! bounded queues, with streaming checksums and progress.
//!
//! ```text
//! reader thread:  Source (HTTP with resume, file, stdin) ── compressed digests
//!        │  bounded queue of 512 KiB chunks
//! decode thread:  magic-byte detection → decoder (zstd frames on all cores)
//!        │  bounded queue of 512 KiB chunks
//! writer thread:  raw digests ── SparseWriter (zero blocks skipped when the target
//!                 reads zeros) ── fsync ── BLKRRPART
//! ```
//!
//! The target is opened (and refused when mounted) before the download starts; a known
//! image size is checked against the device before the first byte is written. Success
//! is reported only after every checksum matched, the data was `fsync`ed and the
//! partition table re-read. On a failure nothing more is written after the failing
//! point, and the error says which stage failed ([`WriteError::exit_code`]).

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use crate::decode::{
    DecodeError, DecodeOptions, Owned, chunked_decoder, decode_error, fill, size_hint,
};
use crate::format::{DETECT_LEN, Format, UNSUPPORTED_LEN, detect, unsupported};
use crate::hash::{Digest, Expected, HashError, Hasher, Stage, parse_checksum_file};
use crate::sink::{SinkError, TargetOptions, WriteReport, open_target};
use crate::source::{Source, SourceError, SourceOptions, SourceSpec, fetch_checksum, open};

/// The size of the chunks passed between the threads.
const CHUNK: usize = 512 << 10;
/// Chunks queued between two threads (with as many more being recycled, and one in
/// the hands of each side, at most 6 MiB of chunks are alive).
const QUEUE: usize = 2;

/// Whether to use a checksum published beside an HTTP image (`<url>.sha256`, else
/// `<url>.sha512`), which covers the downloaded (compressed) file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PublishedChecksum {
    /// Do not look for one.
    #[default]
    Off,
    /// Use it when the server has one.
    IfPresent,
    /// The write fails when there is none.
    Required,
}

/// What to write where.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteOptions {
    /// The image: a URL, a file or stdin.
    pub source: SourceSpec,
    /// The target: a regular file or a block device.
    pub target: PathBuf,
    /// The compression; `None` detects it from the magic bytes.
    pub format: Option<Format>,
    /// Digests the streams must have.
    pub expected: Vec<Expected>,
    /// Whether to use a checksum published beside the image.
    pub published_checksum: PublishedChecksum,
    /// The size of the raw image, when the caller knows it (checked against the
    /// target before anything is written). The `Content-Length` or file size of a raw
    /// image is used without this.
    pub image_size: Option<u64>,
    /// Download behaviour.
    pub source_options: SourceOptions,
    /// Decompression threads.
    pub decode_options: DecodeOptions,
    /// How the target is opened (discard, expect a device).
    pub target_options: TargetOptions,
    /// How often the progress callback runs.
    pub progress_interval: Duration,
}

impl WriteOptions {
    /// Write `source` to `target` with every option at its default.
    pub fn new(source: SourceSpec, target: impl Into<PathBuf>) -> Self {
        Self {
            source,
            target: target.into(),
            format: None,
            expected: Vec::new(),
            published_checksum: PublishedChecksum::Off,
            image_size: None,
            source_options: SourceOptions::default(),
            decode_options: DecodeOptions::default(),
            target_options: TargetOptions::default(),
            progress_interval: Duration::from_millis(500),
        }
    }
}

/// A progress report.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Bytes read from the source (compressed).
    pub bytes_in: u64,
    /// Image bytes handled by the writer (written or skipped).
    pub bytes_out: u64,
    /// The source's length, when known.
    pub total_in: Option<u64>,
    /// Time since the write started.
    pub elapsed: Duration,
    /// Image bytes per second over the whole run so far.
    pub rate_out: f64,
    /// Source bytes per second over the whole run so far.
    pub rate_in: f64,
    /// Estimated time left, from the source's length and rate.
    pub eta: Option<Duration>,
    /// Whether this is the last report (the data is on disk).
    pub done: bool,
}

/// What a successful write did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteSummary {
    /// The compression format used.
    pub format: Format,
    /// Bytes read from the source.
    pub bytes_in: u64,
    /// The writer's report (written, skipped, partition table re-read).
    pub report: WriteReport,
    /// The digests that were checked, with their stage.
    pub verified: Vec<Expected>,
    /// How often the download was resumed.
    pub resumes: u32,
    /// How long it took.
    pub elapsed: Duration,
}

/// Why a write failed. [`WriteError::exit_code`] tells the kinds apart for a CLI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The source could not be opened or read (HTTP status, dropped and not resumable,
    /// truncated, changed while resuming, file errors).
    #[error("source: {0}")]
    Source(#[source] SourceError),
    /// Reading the source failed with an operating-system error.
    #[error("source: {0}")]
    SourceIo(#[source] io::Error),
    /// The compressed data is damaged, truncated or of an unknown format.
    #[error("decompression: {0}")]
    Decode(#[source] DecodeError),
    /// The stream is a format this crate recognises but does not write: an archive, a
    /// virtual disk or an unsupported compressor (at byte 0 of the `stage` stream).
    #[error("the {stage} stream is {what}, not a disk image (at byte 0)")]
    Unsupported {
        /// What it is.
        what: &'static str,
        /// Which stream.
        stage: Stage,
    },
    /// The data does not have the expected digest, or a published checksum file is
    /// unusable or missing.
    #[error("checksum of the {stage} stream: {source}")]
    Checksum {
        /// The stream.
        stage: Stage,
        /// The mismatch or the parse error.
        #[source]
        source: HashError,
    },
    /// No checksum is published beside the image although one was required.
    #[error("no checksum is published beside {url} (.sha256 or .sha512)")]
    NoPublishedChecksum {
        /// The image URL.
        url: String,
    },
    /// The target refused the image (mounted, too small, past its end, I/O).
    #[error("target: {0}")]
    Sink(#[source] SinkError),
    /// `verify`: the decompressed image has another size than the caller said.
    #[error("the image is {actual} bytes, expected {expected}")]
    SizeMismatch {
        /// The size given.
        expected: u64,
        /// The size found.
        actual: u64,
    },
    /// A worker thread panicked.
    #[error("internal error: a {0} thread panicked")]
    Panicked(&'static str),
}

impl WriteError {
    /// A process exit code per kind of failure: 3 source, 4 decompression, 5 checksum,
    /// 6 target, 70 internal (0 is success, 2 a usage error of the CLI).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Source(_) | Self::SourceIo(_) => 3,
            Self::Decode(_) | Self::Unsupported { .. } => 4,
            Self::Checksum { .. }
            | Self::NoPublishedChecksum { .. }
            | Self::SizeMismatch { .. } => 5,
            Self::Sink(_) => 6,
            Self::Panicked(_) => 70,
        }
    }
}

/// Shared counters read by the progress loop.
#[derive(Debug, Default)]
struct Counters {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    /// Set when any stage fails, so the others stop early.
    failed: AtomicBool,
}

/// A `Read` over the chunks of a queue; errors travel in the queue.
struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// Empty buffers go back to the reader thread.
    back: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let old = std::mem::replace(&mut self.current, chunk);
                    let _ = self.back.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The reader thread ended without an error: end of stream.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn hashers(expected: &[Expected], stage: Stage) -> Vec<(Expected, Hasher)> {
    expected
        .iter()
        .filter(|e| e.stage == stage)
        .map(|e| (e.clone(), Hasher::new(e.digest.algorithm())))
        .collect()
}

fn verify(hashed: Vec<(Expected, Hasher)>) -> Result<Vec<Expected>, WriteError> {
    let mut out = Vec::new();
    for (expected, hasher) in hashed {
        let actual: Digest = hasher.finish();
        expected
            .digest
            .verify(&actual)
            .map_err(|source| WriteError::Checksum {
                stage: expected.stage,
                source,
            })?;
        out.push(expected);
    }
    Ok(out)
}

/// Turns an error met while reading the decoded stream into the stage that caused it.
fn classify(e: io::Error) -> WriteError {
    if SourceError::from_io(&e).is_some() {
        return match SourceError::try_from_io(e) {
            Ok(s) => WriteError::Source(s),
            Err(e) => WriteError::SourceIo(e),
        };
    }
    if let Some(d) = decode_error(&e) {
        return WriteError::Decode(d.clone());
    }
    WriteError::SourceIo(e)
}

/// Writes an image; the stages and guarantees are in the [crate documentation](crate).
///
/// `progress` runs on the calling thread every `progress_interval` and once at the
/// end (with `done` set) after a success.
pub fn write_image(
    opts: &WriteOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<WriteSummary, WriteError> {
    // The target first: a mounted or missing device is refused before any download.
    let target = open_target(&opts.target, &opts.target_options).map_err(WriteError::Sink)?;
    let done = run(opts, Some(target), progress)?;
    Ok(WriteSummary {
        format: done.format,
        bytes_in: done.bytes_in,
        report: done.report.expect("a target was given"),
        verified: done.verified,
        resumes: done.resumes,
        elapsed: done.elapsed,
    })
}

/// What [`verify_image`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifySummary {
    /// The compression format.
    pub format: Format,
    /// Bytes read from the source.
    pub bytes_in: u64,
    /// The size of the decompressed image.
    pub image_size: u64,
    /// The expected digests that were checked (the computed SHA-256 of both streams
    /// are in `sha256`).
    pub verified: Vec<Expected>,
    /// SHA-256 of the downloaded stream and of the decompressed image.
    pub sha256: (Digest, Digest),
    /// How often the download was resumed.
    pub resumes: u32,
    /// How long it took.
    pub elapsed: Duration,
}

/// Reads and decompresses an image without writing it: the stream is checked to be
/// complete and undamaged, every expected digest is checked, a given `image_size` must
/// match, and the SHA-256 of both streams is reported. The target fields of `opts` are
/// not used.
pub fn verify_image(
    opts: &WriteOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<VerifySummary, WriteError> {
    let done = run(opts, None, progress)?;
    let image_size = done.bytes_out;
    if let Some(want) = opts.image_size
        && want != image_size
    {
        return Err(WriteError::SizeMismatch {
            expected: want,
            actual: image_size,
        });
    }
    Ok(VerifySummary {
        format: done.format,
        bytes_in: done.bytes_in,
        image_size,
        verified: done.verified,
        sha256: done.sha256.expect("computed without a target"),
        resumes: done.resumes,
        elapsed: done.elapsed,
    })
}

/// What [`run`] did.
struct Done {
    format: Format,
    bytes_in: u64,
    bytes_out: u64,
    report: Option<WriteReport>,
    verified: Vec<Expected>,
    sha256: Option<(Digest, Digest)>,
    resumes: u32,
    elapsed: Duration,
}

/// The three-thread pipeline, into `target` or (verify) into nothing.
fn run(
    opts: &WriteOptions,
    target: Option<crate::sink::Target>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Done, WriteError> {
    let start = Instant::now();
    let verify_only = target.is_none();
    let mut expected = opts.expected.clone();
    if let SourceSpec::Url(url) = &opts.source
        && opts.published_checksum != PublishedChecksum::Off
    {
        match fetch_checksum(url, &opts.source_options).map_err(WriteError::Source)? {
            Some(text) => {
                let name = url.rsplit('/').next().filter(|n| !n.is_empty());
                let digest =
                    parse_checksum_file(&text, name).map_err(|source| WriteError::Checksum {
                        stage: Stage::Compressed,
                        source,
                    })?;
                expected.push(Expected::new(digest, Stage::Compressed));
            }
            None if opts.published_checksum == PublishedChecksum::Required => {
                return Err(WriteError::NoPublishedChecksum { url: url.clone() });
            }
            None => {}
        }
    }

    let source = open(&opts.source, &opts.source_options).map_err(WriteError::Source)?;
    let total_in = source.length();
    let counters = Counters::default();

    let (raw_tx, raw_rx) = sync_channel::<io::Result<Vec<u8>>>(QUEUE);
    let (raw_back_tx, raw_back_rx) = sync_channel::<Vec<u8>>(QUEUE);
    let (img_tx, img_rx) = sync_channel::<Owned>(QUEUE);
    let (img_back_tx, img_back_rx) = sync_channel::<Vec<u8>>(QUEUE);
    let (done_tx, done_rx) = sync_channel::<()>(3);
    // The decoder tells the writer the image size once the format is known.
    let (size_tx, size_rx) = sync_channel::<Option<u64>>(1);

    let mut compressed = hashers(&expected, Stage::Compressed);
    let mut raw = hashers(&expected, Stage::Raw);
    if verify_only {
        // Reported digests: last in each list.
        let sha = crate::hash::Algorithm::Sha256;
        let zero = Digest::from_bytes(sha, &[0; 32]).expect("32 bytes is a SHA-256");
        let probe = |stage| (Expected::new(zero.clone(), stage), Hasher::new(sha));
        compressed.push(probe(Stage::Compressed));
        raw.push(probe(Stage::Raw));
    }
    let known_size = opts.image_size;

    let outcome = std::thread::scope(|s| {
        let counters = &counters;
        // ---- reader ----
        let reader = {
            let done = done_tx.clone();
            s.spawn(move || {
                let mut source: Source = source;
                let mut hashed = compressed;
                let result = (|| {
                    loop {
                        if counters.failed.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let mut buf = raw_back_rx.try_recv().unwrap_or_default();
                        buf.resize(CHUNK, 0);
                        match fill(&mut source, &mut buf) {
                            Ok(0) => return Ok(()),
                            Ok(n) => {
                                buf.truncate(n);
                                for (_, h) in &mut hashed {
                                    h.update(&buf);
                                }
                                counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                                if raw_tx.send(Ok(buf)).is_err() {
                                    return Ok(());
                                }
                            }
                            Err(e) => {
                                // The decoder sees it too, but the reader's copy is the
                                // one reported (it has the full cause).
                                let copy = io::Error::new(e.kind(), e.to_string());
                                let _ = raw_tx.send(Err(copy));
                                return Err(e);
                            }
                        }
                    }
                })();
                drop(raw_tx);
                let _ = done.send(());
                (result, hashed, source.resumes())
            })
        };

        // ---- decoder ----
        let decode_thread = {
            let done = done_tx.clone();
            let format_override = opts.format;
            let decode_options = opts.decode_options.clone();
            s.spawn(move || {
                let result = (|| -> Result<Format, WriteError> {
                    let mut input = ChannelReader {
                        rx: raw_rx,
                        back: raw_back_tx,
                        current: Vec::new(),
                        pos: 0,
                        done: false,
                    };
                    let mut head = vec![0u8; DETECT_LEN.max(UNSUPPORTED_LEN)];
                    let n = fill(&mut input, &mut head).map_err(classify)?;
                    head.truncate(n);
                    let format = format_override.unwrap_or_else(|| detect(&head));
                    if format == Format::Raw
                        && let Some(what) = unsupported(&head)
                    {
                        return Err(WriteError::Unsupported {
                            what,
                            stage: Stage::Compressed,
                        });
                    }
                    // A raw image is exactly as long as the download; the first zstd
                    // frame's header gives a lower bound, enough to refuse early.
                    let size = known_size
                        .or(if format == Format::Raw {
                            total_in
                        } else {
                            None
                        })
                        .or_else(|| size_hint(format, &head));
                    let _ = size_tx.send(size);
                    let chained: Box<dyn Read + Send> =
                        Box::new(io::Cursor::new(head).chain(input));
                    let mut raw = chunked_decoder(format, chained, &decode_options);
                    let mut first = true;
                    loop {
                        if counters.failed.load(Ordering::Relaxed) {
                            return Ok(format);
                        }
                        let buf = img_back_rx.try_recv().unwrap_or_default();
                        // A decoder's own buffer when it has one (multi-frame zstd),
                        // else `buf` refilled.
                        let Some(buf) = raw.next_chunk(buf, CHUNK).map_err(classify)? else {
                            return Ok(format);
                        };
                        // A compressed archive or virtual disk (`.tar.gz`, `.qcow2.xz`)
                        // is refused before its first byte reaches the target.
                        if std::mem::take(&mut first)
                            && format != Format::Raw
                            && let Some(what) = unsupported(&buf[..buf.len().min(UNSUPPORTED_LEN)])
                        {
                            return Err(WriteError::Unsupported {
                                what,
                                stage: Stage::Raw,
                            });
                        }
                        if img_tx.send(buf).is_err() {
                            return Ok(format);
                        }
                    }
                })();
                if result.is_err() {
                    counters.failed.store(true, Ordering::Relaxed);
                }
                drop(img_tx);
                let _ = done.send(());
                result
            })
        };

        // ---- writer ----
        let writer_thread = {
            let done = done_tx.clone();
            s.spawn(move || {
                let mut hashed = raw;
                let result = (|| -> Result<Option<crate::sink::SparseWriter>, WriteError> {
                    // Before the first byte: an image known to be larger than the
                    // device is refused. (No message: the decoder failed first.)
                    let size = size_rx.recv().ok().flatten();
                    let mut writer = match target {
                        Some(target) => {
                            if let Some(size) = size {
                                target.check_size(size).map_err(WriteError::Sink)?;
                            }
                            Some(target.writer().map_err(WriteError::Sink)?)
                        }
                        None => None,
                    };
                    while let Ok(buf) = img_rx.recv() {
                        for (_, h) in &mut hashed {
                            h.update(&buf);
                        }
                        if let Some(writer) = &mut writer {
                            writer.write_chunk(&buf).map_err(WriteError::Sink)?;
                        }
                        counters
                            .bytes_out
                            .fetch_add(buf.len() as u64, Ordering::Relaxed);
                        // The pipeline's own buffers go back; a decoder's go home.
                        if let Some(buf) = buf.into_reusable() {
                            let _ = img_back_tx.try_send(buf);
                        }
                    }
                    Ok(writer)
                })();
                if result.is_err() {
                    counters.failed.store(true, Ordering::Relaxed);
                }
                let _ = done.send(());
                (result, hashed)
            })
        };
        drop(done_tx);

        // ---- progress ----
        let mut finished = 0;
        while finished < 3 {
            match done_rx.recv_timeout(opts.progress_interval) {
                Ok(()) => finished += 1,
                Err(RecvTimeoutError::Timeout) => {
                    progress(&snapshot(counters, total_in, start, false));
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let reader = reader.join().map_err(|_| WriteError::Panicked("reader"));
        let decoded = decode_thread
            .join()
            .map_err(|_| WriteError::Panicked("decoder"));
        let written = writer_thread
            .join()
            .map_err(|_| WriteError::Panicked("writer"));
        (reader, decoded, written)
    });

    let (reader, decoded, written) = outcome;
    let (read_result, compressed_hashed, resumes) = reader?;
    let format = decoded?;
    let (write_result, raw_hashed) = written?;
    // The source's error explains the decoder's. A writer error (the target refused
    // the image) comes next: it stops the reader early, and the decoder may then see
    // a stream cut short, which is its consequence, not its cause. The writer never
    // fails because of the decoder: a decoder error just ends its stream.
    if let Err(e) = read_result {
        return Err(match SourceError::try_from_io(e) {
            Ok(s) => WriteError::Source(s),
            Err(e) => WriteError::SourceIo(e),
        });
    }
    let writer = write_result?;
    let format = format?;
    let (mut compressed_hashed, mut raw_hashed) = (compressed_hashed, raw_hashed);
    let sha256 = if verify_only {
        let c = compressed_hashed.pop().expect("probe").1.finish();
        let r = raw_hashed.pop().expect("probe").1.finish();
        Some((c, r))
    } else {
        None
    };
    let mut verified = verify(compressed_hashed)?;
    verified.extend(verify(raw_hashed)?);
    // Only now, with every digest right: fsync and the partition-table re-read.
    let report = match writer {
        Some(w) => Some(w.finish().map_err(WriteError::Sink)?),
        None => None,
    };
    let done = Done {
        format,
        bytes_in: counters.bytes_in.load(Ordering::Relaxed),
        bytes_out: counters.bytes_out.load(Ordering::Relaxed),
        report,
        verified,
        sha256,
        resumes,
        elapsed: start.elapsed(),
    };
    progress(&snapshot(&counters, total_in, start, true));
    Ok(done)
}

fn snapshot(c: &Counters, total_in: Option<u64>, start: Instant, done: bool) -> Progress {
    let elapsed = start.elapsed();
    let secs = elapsed.as_secs_f64().max(1e-9);
    let bytes_in = c.bytes_in.load(Ordering::Relaxed);
    let bytes_out = c.bytes_out.load(Ordering::Relaxed);
    let rate_in = bytes_in as f64 / secs;
    let eta = match total_in {
        Some(total) if rate_in > 0.0 && total >= bytes_in && !done => {
            Some(Duration::from_secs_f64((total - bytes_in) as f64 / rate_in))
        }
        Some(_) if done => Some(Duration::ZERO),
        _ => None,
    };
    Progress {
        bytes_in,
        bytes_out,
        total_in,
        elapsed,
        rate_out: bytes_out as f64 / secs,
        rate_in,
        eta,
        done,
    }
}
