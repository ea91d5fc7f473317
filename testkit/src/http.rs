//! An HTTP/1.1 fixture server for the integration tests of HTTP clients.
//!
//! # Contract
//!
//! [`FixtureServer::start`] binds `127.0.0.1` on a port the system picks and serves on
//! std threads: one accept thread, one thread per connection. Dropping the server stops
//! it: the listener is closed (the port refuses connections once `drop` returns),
//! open connections are shut down, and every server thread is joined. Connection
//! threads read and write with timeouts and give up on a client that stays quiet, so
//! none hangs forever.
//!
//! **Protocol.** HTTP/1.1 with keep-alive: several requests, pipelined or not, on one
//! connection, until the client sends `Connection: close` (HTTP/1.0 connections close
//! after one request). Request bodies framed by `Content-Length` or
//! `Transfer-Encoding: chunked` are read and de-chunked; `Expect: 100-continue` is
//! answered with `100 Continue`. A request that cannot be parsed, or whose framing is
//! invalid or ambiguous, is answered `400` (`413` for a body over 512 MiB, `431` for a
//! head over 64 KiB) and its connection closed; such requests are not recorded. No
//! input makes the server panic. The pure parsers it uses are public so that they can
//! be fuzzed: [`parse_request_head`], [`decode_chunked`], [`parse_multipart`].
//!
//! **Routes.** A path (compared without its query, not percent-decoded) answers a
//! canned [`Response`] ([`FixtureServer::route`]), a sequence of them where the last
//! repeats ([`FixtureServer::route_sequence`]), possibly per method
//! ([`FixtureServer::route_method`]), or receives uploads
//! ([`FixtureServer::upload_route`]). Unknown paths get `404`. A *static* response
//! ([`Response::static_body`]) behaves like a file: strong `ETag`, `Accept-Ranges`,
//! single byte ranges (`206`, `416`), `If-Range`, `If-None-Match` (`304`) and `HEAD`.
//! Bodies are framed by `Content-Length`, or chunked ([`Response::chunked`]), or
//! delimited by closing the connection ([`Response::close_delimited`]).
//!
//! **Faults.** Settable at any time, queued in order and consumed one per request:
//! [`FixtureServer::fail_next`] and [`FixtureServer::fail_next_on`] answer the next
//! requests with an error status instead of their route;
//! [`FixtureServer::drop_next_mid_body`] cuts the next responses of a path after some
//! body bytes and closes the connection; [`FixtureServer::set_latency`] delays every
//! response before its status line.
//!
//! **Log.** Every parsed request is recorded before it is answered, faulted ones
//! included, with its method, path, query, headers, body, arrival time, connection and
//! the [`Fault`] applied: [`FixtureServer::requests`], [`FixtureServer::calls`].
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//!
//! use testkit::{FixtureServer, Response};
//!
//! let server = FixtureServer::start()?;
//! server.route("/status", Response::json(200, r#"{"status":"OK"}"#));
//! server.fail_next(1, 503);
//!
//! let mut answers = Vec::new();
//! for _ in 0..2 {
//!     let mut stream = TcpStream::connect(server.addr())?;
//!     stream.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//!     let mut answer = String::new();
//!     stream.read_to_string(&mut answer)?;
//!     answers.push(answer);
//! }
//! assert!(answers[0].starts_with("HTTP/1.1 503 "));
//! assert!(answers[1].starts_with("HTTP/1.1 200 OK"));
//! assert!(answers[1].ends_with(r#"{"status":"OK"}"#));
//! assert_eq!(server.calls("/status"), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chunked;
mod conditional;
mod conn;
mod error;
mod head;
mod multipart;
mod response;
mod server;

pub use chunked::decode_chunked;
pub use error::HttpError;
pub use head::{BodyFraming, RequestHead, parse_request_head};
pub use multipart::{Part, multipart_boundary, parse_multipart};
pub use response::Response;
pub use server::{Fault, FixtureServer, RecordedRequest, Upload, UploadBody};

/// The largest request body the server reads (512 MiB).
const MAX_BODY_LEN: u64 = 512 * 1024 * 1024;

/// A small deterministic pseudo-random generator (xorshift64*) for the garbage-input
/// tests of the parsers.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed | 1;
    move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
