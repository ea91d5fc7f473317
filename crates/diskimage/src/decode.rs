//! Decompression of an image stream into the raw image bytes.
//!
//! [`decoder`] wraps the input in the decoder of a [`Format`] and returns a reader of
//! the raw image. Whatever the library underneath, the returned reader:
//!
//! - reports a truncated stream as an error (kind `UnexpectedEof`), never as a short
//!   successful read, also when the input stops exactly between two blocks;
//! - reports damaged data (bad magic, bad block, checksum mismatch) as an error (kind
//!   `InvalidData`);
//! - decodes every member of a multi-member gzip file (as `pigz` or `cat a.gz b.gz`
//!   make them) and every stream of concatenated xz, bzip2, zstd and LZ4 data;
//! - reports bytes after the end of the last complete stream as an error;
//! - reports an empty input as an error for every compressed format.
//!
//! Both errors carry a [`DecodeError`] (see [`decode_error`]) with the compressed byte
//! offset at which the problem was detected: the number of input bytes the decoder had
//! consumed. Errors of the input itself (a failed network read) are passed through
//! unchanged.
//!
//! A zstd stream of several frames, as `pzstd` writes, is decoded on
//! [`DecodeOptions::threads`] worker threads (plus one reading the input) with the
//! output in order; frames are found by
//! reading their headers and block headers, without decoding. Memory stays bounded
//! whatever the image size: a frame is buffered only when it is small (at most 16
//! MiB compressed, 32 MiB decoded, 16 MiB both together) and within a budget of 16
//! MiB of compressed plus decoded bytes in flight; a larger frame (a single-frame
//! file from `zstd -T0`, for example) is decoded as a stream by the reading thread, in
//! 1 MiB chunks.

mod frames;
mod lz4_framing;
mod parallel;

use std::io::{self, BufRead, BufReader, Read};

use crate::format::Format;

/// The most memory the xz decoder may use. `xz -9` needs 65 MiB; a file that needs
/// more is refused with an error rather than decoded past the memory target.
const XZ_MEMORY_LIMIT: u64 = 96 << 20;

/// A reader that fails once with the given error, then reports that error's kind.
struct Failing(Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("the decoder could not start")))
    }
}

/// The size of the input buffer of the streaming decoders.
const INPUT_BUFFER: usize = 256 * 1024;

/// How to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Threads decoding the frames of a zstd stream, besides the one reading its input
    /// (other formats decode on the calling thread); 0 counts as 1.
    pub threads: usize,
}

impl Default for DecodeOptions {
    /// As many threads as the machine runs in parallel.
    fn default() -> DecodeOptions {
        DecodeOptions {
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }
}

/// Damaged or truncated compressed data, carried inside the `io::Error` that the
/// decoder's `read` returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{format} data damaged at compressed byte {offset}: {message}")]
pub struct DecodeError {
    /// The format being decoded.
    pub format: Format,
    /// How many compressed bytes had been consumed when the problem was detected.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
}

impl DecodeError {
    fn new(format: Format, offset: u64, message: impl Into<String>) -> DecodeError {
        DecodeError {
            format,
            offset,
            message: message.into(),
        }
    }

    /// Wraps the error in an `io::Error` of `kind`.
    fn into_io(self, kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, self)
    }
}

/// The [`DecodeError`] inside an error returned by a [`decoder`], if it is one.
pub fn decode_error(e: &io::Error) -> Option<&DecodeError> {
    e.get_ref()?.downcast_ref::<DecodeError>()
}

/// A first error, kept to be returned again by later reads.
#[derive(Debug, Clone)]
enum Failure {
    Decode(io::ErrorKind, DecodeError),
    Source(io::ErrorKind, String),
}

impl Failure {
    fn of(e: &io::Error) -> Failure {
        match decode_error(e) {
            Some(d) => Failure::Decode(e.kind(), d.clone()),
            None => Failure::Source(e.kind(), e.to_string()),
        }
    }

    fn to_io(&self) -> io::Error {
        match self {
            Failure::Decode(kind, d) => d.clone().into_io(*kind),
            Failure::Source(kind, message) => io::Error::new(*kind, message.clone()),
        }
    }
}

/// A reader of the raw image bytes of `input`, compressed in `format`.
///
/// The reader reports a truncated stream (kind `UnexpectedEof`) and damaged data,
/// bytes after the last complete stream or an empty input (kind `InvalidData`) as
/// errors that carry a [`DecodeError`] with the compressed byte offset; it decodes
/// multi-member and concatenated streams whole, and a multi-frame zstd stream on
/// [`DecodeOptions::threads`] threads with bounded memory (at most 16 MiB in flight). With
/// [`Format::Raw`] the input is returned as it is: it has no framing to check, so a
/// truncated raw download must be caught by the source (its announced length).
pub fn decoder(
    format: Format,
    input: Box<dyn Read + Send>,
    opts: &DecodeOptions,
) -> Box<dyn Read + Send> {
    fn buffered(input: Box<dyn Read + Send>) -> Input {
        BufReader::with_capacity(INPUT_BUFFER, Counting::new(input))
    }
    match format {
        Format::Raw => input,
        Format::Gzip => Stream::boxed(
            format,
            flate2::bufread::MultiGzDecoder::new(buffered(input)),
        ),
        // The .xz format only (not LZMA-alone, whose header may ask for a 4 GiB
        // dictionary), concatenated streams, and a memory limit: a stream that needs
        // more (an `xz --lzma2=dict=1GiB` file, say) is an error, not an allocation.
        Format::Xz => match liblzma::stream::Stream::new_stream_decoder(
            XZ_MEMORY_LIMIT,
            liblzma::stream::CONCATENATED,
        ) {
            Ok(stream) => Stream::boxed(
                format,
                liblzma::bufread::XzDecoder::new_stream(buffered(input), stream),
            ),
            Err(e) => Box::new(Failing(Some(
                DecodeError::new(format, 0, format!("cannot start the xz decoder: {e}"))
                    .into_io(io::ErrorKind::Other),
            ))),
        },
        Format::Bzip2 => {
            Stream::boxed(format, bzip2::bufread::MultiBzDecoder::new(buffered(input)))
        }
        Format::Lz4 => Stream::boxed(format, Lz4::new(buffered(input))),
        Format::Zstd => Box::new(parallel::ParallelZstd::new(input, opts.threads.max(1))),
    }
}

/// Decoded bytes handed out by [`Chunks::next_chunk`]: the caller's buffer refilled, or
/// a decoder's own buffer, whose memory goes back to the decoder when this drops.
pub(crate) struct Owned {
    data: Vec<u8>,
    release: Option<Box<dyn FnOnce(Vec<u8>) + Send>>,
}

impl Owned {
    fn plain(data: Vec<u8>) -> Owned {
        Owned {
            data,
            release: None,
        }
    }

    fn with_release(data: Vec<u8>, release: Box<dyn FnOnce(Vec<u8>) + Send>) -> Owned {
        Owned {
            data,
            release: Some(release),
        }
    }

    /// The buffer back for reuse, when it was the caller's.
    pub(crate) fn into_reusable(mut self) -> Option<Vec<u8>> {
        self.release
            .is_none()
            .then(|| std::mem::take(&mut self.data))
    }
}

impl std::ops::Deref for Owned {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release(std::mem::take(&mut self.data));
        }
    }
}

/// A decoder that can also hand out whole chunks (the write path uses it to skip a
/// copy of every decoded byte).
pub(crate) trait Chunks: Read + Send {
    /// The next decoded bytes, at most `len` when copied into `buf`; `None` at the end.
    fn next_chunk(&mut self, buf: Vec<u8>, len: usize) -> io::Result<Option<Owned>> {
        copy_chunk(self, buf, len)
    }
}

/// Reads `r` until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn fill<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads up to `len` bytes into `buf` (until full or the end of the stream).
fn copy_chunk<R: Read + ?Sized>(
    r: &mut R,
    mut buf: Vec<u8>,
    len: usize,
) -> io::Result<Option<Owned>> {
    buf.resize(len, 0);
    let n = fill(r, &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    Ok(Some(Owned::plain(buf)))
}

/// Any other decoder: chunks are copies.
struct Copying(Box<dyn Read + Send>);

impl Read for Copying {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Chunks for Copying {}

/// [`decoder`], able to hand out whole chunks.
pub(crate) fn chunked_decoder(
    format: Format,
    input: Box<dyn Read + Send>,
    opts: &DecodeOptions,
) -> Box<dyn Chunks> {
    match format {
        Format::Zstd => Box::new(parallel::ParallelZstd::new(input, opts.threads.max(1))),
        _ => Box::new(Copying(decoder(format, input, opts))),
    }
}

/// The input, counting the bytes read and remembering whether it failed.
struct Counting {
    inner: Box<dyn Read + Send>,
    pos: u64,
    failed: bool,
}

impl Counting {
    fn new(inner: Box<dyn Read + Send>) -> Counting {
        Counting {
            inner,
            pos: 0,
            failed: false,
        }
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.pos += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed = true;
                }
                Err(e)
            }
        }
    }
}

type Input = BufReader<Counting>;

/// A streaming decoder of one of the libraries.
trait Engine: Read + Send {
    /// Its input.
    fn input(&mut self) -> &mut Input;

    /// Whether the input consumed so far ends on a stream boundary, for libraries that
    /// report a truncated stream as a clean end.
    fn complete(&self) -> bool {
        true
    }
}

impl Engine for flate2::bufread::MultiGzDecoder<Input> {
    fn input(&mut self) -> &mut Input {
        self.get_mut()
    }
}

impl Engine for liblzma::bufread::XzDecoder<Input> {
    fn input(&mut self) -> &mut Input {
        self.get_mut()
    }
}

impl Engine for bzip2::bufread::MultiBzDecoder<Input> {
    fn input(&mut self) -> &mut Input {
        self.get_mut()
    }
}

/// `lz4_flex`'s frame decoder, started afresh for each frame (it reports the end of
/// each frame as a clean end, and reuses buffers sized for the first frame).
struct Lz4 {
    decoder: Option<lz4_flex::frame::FrameDecoder<lz4_framing::Observed<Input>>>,
}

impl Lz4 {
    fn new(input: Input) -> Lz4 {
        Lz4 {
            decoder: Some(lz4_flex::frame::FrameDecoder::new(lz4_framing::Observed {
                inner: input,
                framing: lz4_framing::Lz4Framing::new(),
            })),
        }
    }

    fn decoder(&mut self) -> &mut lz4_flex::frame::FrameDecoder<lz4_framing::Observed<Input>> {
        // Only `read` takes the decoder out, and it always puts one back.
        self.decoder.as_mut().expect("an lz4 decoder")
    }
}

impl Read for Lz4 {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.decoder().read(buf)?;
            if n > 0 || buf.is_empty() || !self.complete() {
                return Ok(n);
            }
            if self.input().fill_buf()?.is_empty() {
                return Ok(0);
            }
            // A frame ended and more input follows: the next frame.
            if let Some(decoder) = self.decoder.take() {
                self.decoder = Some(lz4_flex::frame::FrameDecoder::new(decoder.into_inner()));
            }
        }
    }
}

impl Engine for Lz4 {
    fn input(&mut self) -> &mut Input {
        &mut self.decoder().get_mut().inner
    }

    fn complete(&self) -> bool {
        self.decoder
            .as_ref()
            .is_some_and(|d| d.get_ref().framing.complete())
    }
}

/// A library decoder with the end-of-stream checks and error mapping added.
struct Stream<E> {
    format: Format,
    engine: E,
    done: bool,
    failed: Option<Failure>,
}

impl<E: Engine + 'static> Stream<E> {
    fn boxed(format: Format, engine: E) -> Box<dyn Read + Send> {
        Box::new(Stream {
            format,
            engine,
            done: false,
            failed: None,
        })
    }
}

impl<E: Engine> Stream<E> {
    /// Compressed bytes consumed by the library so far.
    fn offset(&mut self) -> u64 {
        let input = self.engine.input();
        input.get_ref().pos - input.buffer().len() as u64
    }

    fn decode_error(&mut self, kind: io::ErrorKind, message: impl Into<String>) -> io::Error {
        let offset = self.offset();
        DecodeError::new(self.format, offset, message).into_io(kind)
    }

    /// Whether input bytes remain after what the library consumed.
    fn more_input(&mut self) -> io::Result<bool> {
        Ok(!self.engine.input().fill_buf()?.is_empty())
    }

    /// Checks a clean end reported by the library.
    fn finish(&mut self) -> io::Result<()> {
        if self.engine.input().get_ref().pos == 0 {
            return Err(self.decode_error(
                io::ErrorKind::UnexpectedEof,
                "empty input: no compressed stream",
            ));
        }
        if !self.engine.complete() {
            return Err(self.decode_error(
                io::ErrorKind::UnexpectedEof,
                "truncated: the input ends inside a frame",
            ));
        }
        if self.more_input()? {
            return Err(self.decode_error(
                io::ErrorKind::InvalidData,
                "trailing data after the end of the compressed stream",
            ));
        }
        Ok(())
    }
}

impl<E: Engine> Read for Stream<E> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(failure) = &self.failed {
            return Err(failure.to_io());
        }
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let result = match self.engine.read(buf) {
            Ok(0) => self.finish().map(|()| 0),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) if self.engine.input().get_ref().failed => Err(e),
            Err(e) => {
                let kind = match e.kind() {
                    io::ErrorKind::UnexpectedEof => io::ErrorKind::UnexpectedEof,
                    _ => io::ErrorKind::InvalidData,
                };
                let message = match kind {
                    io::ErrorKind::UnexpectedEof => format!("truncated: {e}"),
                    _ => e.to_string(),
                };
                Err(self.decode_error(kind, message))
            }
        };
        match result {
            Ok(n) => {
                self.done = true;
                Ok(n)
            }
            Err(e) => {
                self.failed = Some(Failure::of(&e));
                Err(e)
            }
        }
    }
}

/// A lower bound of the decoded size read from the first bytes of a stream, when the
/// format records one there: the content size in the header of the first zstd frame
/// (after any skippable frames; `zstd` writes it for a file it compresses). Used to
/// refuse an image larger than the target before anything is written.
pub(crate) fn size_hint(format: Format, head: &[u8]) -> Option<u64> {
    if format != Format::Zstd {
        return None;
    }
    let mut at = 0usize;
    while crate::format::is_skippable_magic(head.get(at..)?) {
        let size = u32::from_le_bytes(head.get(at + 4..at + 8)?.try_into().ok()?);
        at = at.checked_add(8)?.checked_add(size as usize)?;
    }
    frames::parse_header(head.get(at..)?)
        .ok()
        .flatten()
        .and_then(|h| h.content_size)
}

#[cfg(test)]
mod size_hint_tests {
    use super::*;

    #[test]
    fn the_first_zstd_frame_tells_its_size() {
        let data = vec![7u8; 100_000];
        let packed = zstd::bulk::compress(&data, 3).expect("compresses");
        let head = &packed[..packed.len().min(64)];
        assert_eq!(size_hint(Format::Zstd, head), Some(100_000));
        // Behind a skippable frame too.
        let mut skipped = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        skipped.extend_from_slice(&packed);
        assert_eq!(
            size_hint(Format::Zstd, &skipped[..skipped.len().min(64)]),
            Some(100_000)
        );
        assert_eq!(size_hint(Format::Gzip, head), None);
        assert_eq!(size_hint(Format::Zstd, &packed[..3]), None);
        assert_eq!(size_hint(Format::Zstd, b"garbage garbage"), None);
    }
}
