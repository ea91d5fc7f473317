//! One connection: reads requests, answers them, keeps the connection alive or
//! closes it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::chunked::ChunkedDecoder;
use super::head::{BodyFraming, RequestHead, parse_request_head};
use super::response::Response;
use super::server::Shared;
use super::{HttpError, MAX_BODY_LEN};

/// How long one read blocks before the connection looks at the stop flag again.
const POLL: Duration = Duration::from_millis(50);
/// How long an idle keep-alive connection waits for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a request may stall half-sent.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one write may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection keeps reading what the client still sends, so that
/// closing does not reset the connection before the client read the answer.
const LINGER: Duration = Duration::from_millis(500);
/// Read buffer size.
const READ_CHUNK: usize = 64 * 1024;

/// Serves the connection until it closes, the client goes quiet, or the server stops.
pub(crate) fn serve(stream: TcpStream, shared: &Shared, id: u64) {
    let setup = stream
        .set_nodelay(true)
        .and_then(|()| stream.set_read_timeout(Some(POLL)))
        .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)));
    if setup.is_err() {
        return;
    }
    let mut connection = Connection {
        stream,
        shared,
        id,
        buf: Vec::new(),
        chunk: vec![0; READ_CHUNK],
    };
    // An I/O error means the client is gone: the connection just ends.
    let _ = connection.run();
    // The accept loop holds a second handle on the socket, so dropping this one does
    // not close it: shut it down explicitly (it may already be).
    let _ = connection.stream.shutdown(Shutdown::Both);
}

struct Connection<'a> {
    stream: TcpStream,
    shared: &'a Shared,
    id: u64,
    /// Bytes received and not yet consumed.
    buf: Vec<u8>,
    /// Scratch space for reads.
    chunk: Vec<u8>,
}

impl Connection<'_> {
    fn run(&mut self) -> io::Result<()> {
        loop {
            let head = match self.read_head() {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(()),
                Err(error) => return self.reject(&error),
            };
            let received_at = Instant::now();
            let body = match self.read_body(&head) {
                Ok(Some(body)) => body,
                Ok(None) => return Ok(()),
                Err(error) => return self.reject(&error),
            };
            let keep_alive = head.keep_alive();
            let exchange = self.shared.answer(head, body, received_at, self.id);
            if !exchange.latency.is_zero() && !self.shared.sleep(exchange.latency) {
                return Ok(());
            }
            let prepared = &exchange.prepared;
            if let Some(after_bytes) = exchange.cut_after {
                self.stream.write_all(&prepared.head_bytes(false))?;
                self.stream
                    .write_all(&prepared.framed_body(Some(after_bytes)))?;
                self.stream.flush()?;
                return self.stream.shutdown(Shutdown::Both);
            }
            let close = !keep_alive || prepared.closes();
            self.stream.write_all(&prepared.head_bytes(close))?;
            self.stream.write_all(&prepared.framed_body(None))?;
            if close {
                self.close_gracefully();
                return Ok(());
            }
        }
    }

    /// Reads the next request head; `None` when the client closed, went quiet or the
    /// server stops.
    fn read_head(&mut self) -> Result<Option<RequestHead>, HttpError> {
        loop {
            if let Some((head, len)) = parse_request_head(&self.buf)? {
                self.buf.drain(..len);
                return Ok(Some(head));
            }
            let patience = if self.buf.is_empty() {
                IDLE_TIMEOUT
            } else {
                STALL_TIMEOUT
            };
            if !self.fill(patience) {
                return Ok(None);
            }
        }
    }

    /// Reads the body `head` announces; `None` when the client stops sending it.
    fn read_body(&mut self, head: &RequestHead) -> Result<Option<Vec<u8>>, HttpError> {
        match head.framing {
            BodyFraming::None => Ok(Some(Vec::new())),
            BodyFraming::Length(len) => {
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&len| len as u64 <= MAX_BODY_LEN)
                    .ok_or(HttpError::BodyTooLarge {
                        limit: MAX_BODY_LEN,
                    })?;
                if head.expects_continue() && self.buf.len() < len {
                    self.send_continue();
                }
                while self.buf.len() < len {
                    if !self.fill(STALL_TIMEOUT) {
                        return Ok(None);
                    }
                }
                Ok(Some(self.buf.drain(..len).collect()))
            }
            BodyFraming::Chunked => {
                if head.expects_continue() && self.buf.is_empty() {
                    self.send_continue();
                }
                let mut decoder = ChunkedDecoder::new(MAX_BODY_LEN);
                loop {
                    let used = decoder.feed(&self.buf)?;
                    self.buf.drain(..used);
                    if decoder.is_done() {
                        return Ok(Some(decoder.into_body()));
                    }
                    if !self.fill(STALL_TIMEOUT) {
                        return Ok(None);
                    }
                }
            }
        }
    }

    fn send_continue(&mut self) {
        // A failed write shows up again at the next read or write.
        let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    /// Reads more bytes into the buffer; `false` when none will come: the client
    /// closed, an error, `patience` passed without data, or the server stops.
    fn fill(&mut self, patience: Duration) -> bool {
        let started = Instant::now();
        loop {
            if self.shared.is_stopped() {
                return false;
            }
            match self.stream.read(&mut self.chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buf.extend_from_slice(&self.chunk[..n]);
                    return true;
                }
                Err(error) if is_timeout(&error) => {
                    if started.elapsed() >= patience {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// Answers a request that cannot be served and closes the connection.
    fn reject(&mut self, error: &HttpError) -> io::Result<()> {
        let status = match error {
            HttpError::HeadTooLarge { .. } => 431,
            HttpError::BodyTooLarge { .. } => 413,
            _ => 400,
        };
        let prepared = Response::text(status, &format!("{error}\n")).prepare("GET", &[]);
        self.stream.write_all(&prepared.head_bytes(true))?;
        self.stream.write_all(prepared.wire_body())?;
        self.close_gracefully();
        Ok(())
    }

    /// Closes the sending side, then reads and drops what the client still sends for
    /// a short while, so that the client gets the answer before the connection ends.
    fn close_gracefully(&mut self) {
        if self
            .stream
            .flush()
            .and_then(|()| self.stream.shutdown(Shutdown::Write))
            .is_err()
        {
            return;
        }
        let started = Instant::now();
        while started.elapsed() < LINGER && !self.shared.is_stopped() {
            match self.stream.read(&mut self.chunk) {
                Ok(0) => return,
                Ok(_) => {}
                Err(error) if is_timeout(&error) => {}
                Err(_) => return,
            }
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
