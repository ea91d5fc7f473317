//! Image sources: an HTTP(S) URL, a local file, or stdin, read as one byte stream.
//!
//! The contract is documented on [`Source`].

mod http;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use self::http::fetch_checksum;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// An `http://` or `https://` URL.
    Url(String),
    /// A local file (or device, or FIFO).
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl SourceSpec {
    /// Parses a source as given on a command line: `-` is stdin, a string starting
    /// with `http://` or `https://` (scheme case-insensitive) is a URL, anything else
    /// is a path.
    pub fn parse(s: &str) -> Self {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if s == "-" {
            Self::Stdin
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            Self::Url(s.to_owned())
        } else {
            Self::File(PathBuf::from(s))
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(url) => f.write_str(url),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Stdin => f.write_str("-"),
        }
    }
}

/// How sources are opened and HTTP downloads are retried.
///
/// Construct with [`SourceOptions::default`] and change fields as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceOptions {
    /// How long establishing a TCP (and TLS) connection may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long waiting for a response head, or for any single read of the body, may
    /// take before the connection counts as dropped (and is resumed if it can be).
    /// `None` waits forever. Default 60 s.
    pub read_timeout: Option<Duration>,
    /// How many resume requests one download may make in total. `0` disables
    /// resuming. Default 5.
    pub max_resumes: u32,
    /// The wait before the first resume request; it doubles for each further one, up
    /// to 32 times this value. Default 250 ms.
    pub resume_backoff: Duration,
    /// How many redirects are followed before giving up. Default 10.
    pub max_redirects: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(60)),
            max_resumes: 5,
            resume_backoff: Duration::from_millis(250),
            max_redirects: 10,
        }
    }
}

/// The `User-Agent` of HTTP requests: `diskimage/<version>`.
pub const USER_AGENT: &str = concat!("diskimage/", env!("CARGO_PKG_VERSION"));

/// An open image source: a byte stream that ends only when complete.
///
/// [`open`] gives a `Source`, an [`io::Read`] + [`Send`] that yields the image bytes
/// and reports end of stream (`Ok(0)`) **only** when the stream is known to be complete:
///
/// - **HTTP(S)** (reqwest, blocking, `User-Agent: diskimage/<version>`,
///   `Accept-Encoding: identity`, redirects followed up to
///   [`SourceOptions::max_redirects`]): a non-2xx answer is [`SourceError::Status`].
///   The body must be framed by `Content-Length` or by chunked transfer coding. End of stream is reported only when exactly
///   `Content-Length` bytes arrived, or when the chunked body ended with its last
///   chunk. A body delimited only by the server closing the connection cannot be told
///   apart from a truncated one and is refused ([`SourceError::Unframed`]).
/// - A **connection dropped mid-body** (a read error, a stall longer than
///   [`SourceOptions::read_timeout`], or an early end) is resumed with
///   `Range: bytes=<received>-` and `If-Range: <etag>` when the first response
///   advertised `Accept-Ranges: bytes` and a **strong** `ETag`. Weak tags (`W/"…"`)
///   do not enable resuming: RFC 9110 forbids them in `If-Range`, and they do not
///   promise byte-identical content. The `206` answer must carry exactly the same
///   `ETag` and a `Content-Range` starting at the received count and ending at the
///   original length; a `200` (the `If-Range` failed: the resource changed), a `416`,
///   another `ETag` or another length is [`SourceError::Changed`]: two versions are
///   never spliced. A dropped body that cannot be resumed is
///   [`SourceError::Truncated`]. Resume requests are bounded by
///   [`SourceOptions::max_resumes`] in total, with a doubling backoff from
///   [`SourceOptions::resume_backoff`]; a `5xx`, `408` or `429` answer to a resume
///   counts as one more failed attempt; when they run out the error is
///   [`SourceError::Interrupted`]. Resumes go to the URL that answered, after
///   redirects.
/// - A **local file** must yield exactly the size it had when opened: fewer bytes is
///   [`SourceError::Truncated`], more is [`SourceError::Grew`]. For anything but a
///   regular file (a block device, a FIFO) the length is unknown and end of file is
///   the end.
/// - **stdin** is read to its end; its length is unknown.
///
/// The errors [`Read::read`] returns wrap a [`SourceError`] (recover it with
/// [`SourceError::from_io`] or [`SourceError::try_from_io`]), except the operating
/// system's read errors of files and stdin, which come as they are. Once a read
/// failed, every later read fails too ([`SourceError::AlreadyFailed`]): a caller that
/// retries never sees an end of stream after an error.
#[derive(Debug)]
pub struct Source {
    inner: Inner,
    length: Option<u64>,
    name: Option<String>,
    etag: Option<String>,
    received: u64,
    failed: bool,
}

#[derive(Debug)]
enum Inner {
    File(File),
    Stdin(StdinReader),
    Http(Box<http::HttpBody>),
}

/// Standard input, owned: `Send`, unlike a lock on it.
#[derive(Debug)]
struct StdinReader(io::Stdin);

impl Source {
    /// The length of the whole stream: the `Content-Length` of the first full
    /// response, or the size of a regular file. `None` for stdin, chunked responses,
    /// devices and pipes.
    pub fn length(&self) -> Option<u64> {
        self.length
    }

    /// The file name part of the source (the last segment of the URL path as given,
    /// percent-decoded; the file name of a path), to pick the line of a checksum file.
    /// `None` for stdin or a URL whose path ends with `/`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The `ETag` of the first HTTP response, as sent (weak ones included).
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// How many times the download was resumed successfully (a `206` accepted).
    pub fn resumes(&self) -> u32 {
        match &self.inner {
            Inner::Http(body) => body.resumes(),
            Inner::File(_) | Inner::Stdin(_) => 0,
        }
    }

    /// How many bytes were read so far.
    pub fn bytes_read(&self) -> u64 {
        self.received
    }

    /// At the end of a file: an error unless exactly its length was read.
    fn check_file_end(&self) -> Result<(), SourceError> {
        match self.length {
            Some(expected) if self.received != expected => Err(SourceError::Truncated {
                received: self.received,
                expected: Some(expected),
                source: None,
            }),
            _ => Ok(()),
        }
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Http(body) => body.read(buf),
            Inner::Stdin(stdin) => stdin.0.read(buf),
            Inner::File(file) => {
                let n = file.read(buf)?;
                if n == 0 && !buf.is_empty() {
                    self.check_file_end()?;
                } else if self
                    .length
                    .is_some_and(|len| self.received + n as u64 > len)
                {
                    return Err(SourceError::Grew {
                        expected: self.length.unwrap_or_default(),
                    }
                    .into());
                }
                Ok(n)
            }
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(SourceError::AlreadyFailed.into());
        }
        match self.read_inner(buf) {
            Ok(n) => {
                self.received += n as u64;
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => {
                self.failed = true;
                Err(error)
            }
        }
    }
}

/// Opens `spec`: connects and reads the response head of a URL, opens a file, or
/// takes stdin.
///
/// # Errors
///
/// For a URL: [`SourceError::InvalidUrl`], [`SourceError::Client`],
/// [`SourceError::Request`] (connection, TLS, timeout), [`SourceError::Redirects`],
/// [`SourceError::Status`] for a non-2xx answer, [`SourceError::Unframed`] and
/// [`SourceError::Protocol`]. For a file: [`SourceError::Open`].
pub fn open(spec: &SourceSpec, opts: &SourceOptions) -> Result<Source, SourceError> {
    match spec {
        SourceSpec::Url(url) => {
            let (body, head) = http::HttpBody::open(url, opts)?;
            Ok(Source {
                inner: Inner::Http(Box::new(body)),
                length: head.length,
                name: head.name,
                etag: head.etag,
                received: 0,
                failed: false,
            })
        }
        SourceSpec::File(path) => open_file(path),
        SourceSpec::Stdin => Ok(Source {
            inner: Inner::Stdin(StdinReader(io::stdin())),
            length: None,
            name: None,
            etag: None,
            received: 0,
            failed: false,
        }),
    }
}

fn open_file(path: &Path) -> Result<Source, SourceError> {
    let open_error = |source| SourceError::Open {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(open_error)?;
    let metadata = file.metadata().map_err(open_error)?;
    if metadata.is_dir() {
        return Err(open_error(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    Ok(Source {
        inner: Inner::File(file),
        length: metadata.is_file().then_some(metadata.len()),
        name: path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned()),
        etag: None,
        received: 0,
        failed: false,
    })
}

/// Why a source could not be opened or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The URL does not parse, or is not `http`/`https`.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (e.g. no TLS backend).
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The request failed: connection refused, DNS, TLS, timeout.
    #[error("request for {url} failed")]
    Request {
        /// The URL requested.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// More redirects than [`SourceOptions::max_redirects`].
    #[error("{url}: more than {limit} redirects")]
    Redirects {
        /// The URL requested.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The server answered with a status that is not success.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL that answered (after redirects).
        url: String,
        /// The status code.
        status: u16,
    },
    /// The response body is delimited only by the end of the connection, so a
    /// truncated download could not be detected.
    #[error("{url}: response has neither Content-Length nor chunked framing")]
    Unframed {
        /// The URL that answered.
        url: String,
    },
    /// The stream ended early and could not be resumed (no `Accept-Ranges: bytes`, no
    /// strong `ETag`, resuming disabled, or a local file shrank).
    #[error(
        "truncated: received {received} bytes of {}",
        expected.map_or_else(|| "a body of unknown length".to_owned(), |e| e.to_string())
    )]
    Truncated {
        /// Bytes received.
        received: u64,
        /// The announced length, if any.
        expected: Option<u64>,
        /// The error that cut the stream, if it was not a plain early end.
        #[source]
        source: Option<io::Error>,
    },
    /// The download kept failing and the resume attempts ran out.
    #[error(
        "download interrupted after {received} bytes and {attempts} resume attempts{}",
        expected.map_or_else(String::new, |e| format!(" (of {e} bytes)"))
    )]
    Interrupted {
        /// Resume requests made.
        attempts: u32,
        /// Bytes received.
        received: u64,
        /// The announced length, if any.
        expected: Option<u64>,
        /// The last failure.
        #[source]
        source: io::Error,
    },
    /// The resource changed while it was downloaded: resuming would splice two
    /// versions.
    #[error("{url} changed during the download: {detail}")]
    Changed {
        /// The URL resumed.
        url: String,
        /// What showed the change.
        detail: String,
    },
    /// A local file grew while it was read.
    #[error("the file grew past its size of {expected} bytes while being read")]
    Grew {
        /// The size when it was opened.
        expected: u64,
    },
    /// The server broke the protocol (e.g. a `206` for another range).
    #[error("{url}: {detail}")]
    Protocol {
        /// The URL that answered.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// A local file could not be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The path.
        path: PathBuf,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// A read after an earlier read of this source failed.
    #[error("the source failed earlier")]
    AlreadyFailed,
}

impl SourceError {
    /// The [`SourceError`] inside an error returned by [`Source`]'s `read`, if any.
    pub fn from_io(error: &io::Error) -> Option<&SourceError> {
        error.get_ref()?.downcast_ref()
    }

    /// Takes the [`SourceError`] out of an error returned by [`Source`]'s `read`, or
    /// gives the error back when it holds none (a plain file or stdin error).
    ///
    /// # Errors
    ///
    /// `error` itself when it does not wrap a [`SourceError`].
    pub fn try_from_io(error: io::Error) -> Result<SourceError, io::Error> {
        if Self::from_io(&error).is_none() {
            return Err(error);
        }
        let kind = error.kind();
        match error
            .into_inner()
            .map(|inner| inner.downcast::<SourceError>())
        {
            Some(Ok(source_error)) => Ok(*source_error),
            Some(Err(inner)) => Err(io::Error::new(kind, inner)),
            None => Err(io::Error::from(kind)),
        }
    }

    /// The I/O error kind this error is reported with from `read`.
    fn io_kind(&self) -> io::ErrorKind {
        match self {
            Self::Truncated { .. } | Self::Interrupted { .. } => io::ErrorKind::UnexpectedEof,
            Self::Changed { .. } | Self::Grew { .. } | Self::Protocol { .. } => {
                io::ErrorKind::InvalidData
            }
            _ => io::ErrorKind::Other,
        }
    }
}

impl From<SourceError> for io::Error {
    fn from(error: SourceError) -> Self {
        io::Error::new(error.io_kind(), error)
    }
}
