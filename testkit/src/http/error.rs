//! The one error type of the HTTP fixture.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can go wrong in the HTTP fixture: starting the server, and parsing
/// what a client sent (the pure parsers return these; the server turns them into `400`,
/// `413` or `431` answers and never into a panic).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The listening socket could not be bound.
    #[error("cannot bind the HTTP fixture server to {addr}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: io::Error,
    },
    /// The bound listener could not be set up (local address, socket options).
    #[error("cannot set up the HTTP fixture server's listener")]
    Listener(#[source] io::Error),
    /// The accept thread could not be started.
    #[error("cannot start the HTTP fixture server's accept thread")]
    Spawn(#[source] io::Error),
    /// A file to serve as a static body could not be read.
    #[error("cannot read {} to serve it", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: io::Error,
    },
    /// The request line or a header is not valid HTTP/1.x.
    #[error("malformed request head")]
    RequestHead(#[source] httparse::Error),
    /// The request head did not end within the size limit.
    #[error("request head is longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The headers that frame the body (`Content-Length`, `Transfer-Encoding`) are
    /// invalid or contradict each other.
    #[error("invalid message framing: {reason}")]
    Framing {
        /// What is wrong.
        reason: &'static str,
    },
    /// A `Transfer-Encoding: chunked` body is malformed.
    #[error("malformed chunked body: {reason}")]
    Chunked {
        /// What is wrong.
        reason: &'static str,
    },
    /// The request body is larger than the server accepts.
    #[error("request body is longer than {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A `multipart/form-data` body is malformed.
    #[error("malformed multipart body: {reason}")]
    Multipart {
        /// What is wrong.
        reason: &'static str,
    },
    /// The headers of one multipart part are malformed.
    #[error("malformed multipart part headers")]
    MultipartHeaders(#[source] httparse::Error),
}
