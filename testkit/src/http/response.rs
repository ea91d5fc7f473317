//! Canned responses, static bodies with ranges and entity tags, and their wire form.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::HttpError;
use super::conditional::{
    RangeOutcome, content_etag, if_none_match, if_range_matches, quote_etag, resolve_range,
};
use super::head::header_value;

/// A response the fixture server sends: a status, headers and a body.
///
/// Build one with [`Response::new`], [`Response::json`], [`Response::text`] or
/// [`Response::static_body`], then add headers and a body. The server writes
/// `Content-Length` (and `Connection: close` when it closes) itself: headers called
/// `Content-Length`, `Transfer-Encoding` or `Connection`, and headers whose name or
/// value contains CR or LF, are not sent.
///
/// A *static* body ([`Response::static_body`], [`Response::static_file`]) behaves
/// like a file on a web server: it carries a strong `ETag` (derived from its content
/// unless set with [`Response::etag`]) and `Accept-Ranges: bytes`, and answers `GET`
/// and `HEAD` according to `If-None-Match` (`304`), `Range` (`206` or `416`) and
/// `If-Range`. [`Response::without_ranges`] makes it ignore `Range`.
///
/// The body is framed by `Content-Length` unless [`Response::chunked`] (chunked
/// transfer coding) or [`Response::close_delimited`] (no length; the connection is
/// closed after the body) says otherwise.
///
/// Cloning is cheap: the body is shared.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Arc<[u8]>,
    static_options: Option<StaticOptions>,
    framing: WireFraming,
}

/// How a response body is delimited on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum WireFraming {
    /// `Content-Length`.
    #[default]
    Length,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the end of the connection ends the body.
    Close,
}

/// The largest chunk the server writes in a chunked body.
const WIRE_CHUNK: usize = 4096;

/// How a static body answers conditional and range requests.
#[derive(Debug, Clone)]
struct StaticOptions {
    etag: String,
    explicit_etag: bool,
    ranges: bool,
}

impl Response {
    /// A response with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Arc::from(&[][..]),
            static_options: None,
            framing: WireFraming::Length,
        }
    }

    /// A response with `status` and `json` as an `application/json` body.
    pub fn json(status: u16, json: &str) -> Self {
        Self::new(status)
            .content_type("application/json")
            .body(json)
    }

    /// A response with `status` and `text` as a `text/plain; charset=utf-8` body.
    pub fn text(status: u16, text: &str) -> Self {
        Self::new(status)
            .content_type("text/plain; charset=utf-8")
            .body(text)
    }

    /// A response with `status` whose body is the status's reason phrase, as text: the
    /// default answer of a scripted failure.
    pub fn error(status: u16) -> Self {
        Self::text(status, reason_phrase(status))
    }

    /// A `200` static body (see the type's documentation), served as
    /// `application/octet-stream` unless a `Content-Type` header is added.
    pub fn static_body(bytes: impl Into<Vec<u8>>) -> Self {
        let body: Arc<[u8]> = bytes.into().into();
        let static_options = StaticOptions {
            etag: content_etag(&body),
            explicit_etag: false,
            ranges: true,
        };
        Self {
            status: 200,
            headers: Vec::new(),
            body,
            static_options: Some(static_options),
            framing: WireFraming::Length,
        }
    }

    /// A `200` static body read from the file at `path`.
    ///
    /// # Errors
    ///
    /// [`HttpError::ReadFile`] when the file cannot be read.
    pub fn static_file(path: impl AsRef<Path>) -> Result<Self, HttpError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| HttpError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::static_body(bytes))
    }

    /// Adds a header; headers are sent in the order added.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a `Content-Type` header.
    pub fn content_type(self, content_type: &str) -> Self {
        self.header("Content-Type", content_type)
    }

    /// Adds a `Retry-After` header of `seconds`, as rate limiters and overloaded
    /// servers send with `429` and `503`.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.header("Retry-After", &seconds.to_string())
    }

    /// Replaces the body. A static body's derived entity tag follows the new content
    /// unless one was set with [`Response::etag`].
    pub fn body(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.body = Arc::from(bytes.as_ref());
        if let Some(options) = &mut self.static_options
            && !options.explicit_etag
        {
            options.etag = content_etag(&self.body);
        }
        self
    }

    /// Sets the entity tag, quoted if it is not already (`v2` becomes `"v2"`). On a
    /// static body it replaces the derived tag for every precondition, which lets a test
    /// pretend the content changed; on any other response it adds a plain `ETag`
    /// header.
    pub fn etag(mut self, tag: &str) -> Self {
        let tag = quote_etag(tag);
        match &mut self.static_options {
            Some(options) => {
                options.etag = tag;
                options.explicit_etag = true;
                self
            }
            None => self.header("ETag", &tag),
        }
    }

    /// Makes a static body ignore `Range` and `If-Range` and leave out `Accept-Ranges`,
    /// like a server without range support. No effect on other responses.
    pub fn without_ranges(mut self) -> Self {
        if let Some(options) = &mut self.static_options {
            options.ranges = false;
        }
        self
    }

    /// Sends the body with `Transfer-Encoding: chunked` (chunks of at most 4 KiB)
    /// instead of `Content-Length`. A response cut by
    /// [`FixtureServer::drop_next_mid_body`](super::FixtureServer::drop_next_mid_body)
    /// sends complete chunks holding the first bytes and no last chunk, so the client
    /// sees a chunked body that ends early.
    pub fn chunked(mut self) -> Self {
        self.framing = WireFraming::Chunked;
        self
    }

    /// Sends the body with neither `Content-Length` nor chunked coding, as an HTTP/1.0
    /// server does: the server closes the connection after the body, and that close is
    /// the only end-of-body mark the client gets.
    pub fn close_delimited(mut self) -> Self {
        self.framing = WireFraming::Close;
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers added so far (not those the server adds when sending).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The entity tag of a static body, quoted; `None` for other responses.
    pub fn static_etag(&self) -> Option<&str> {
        self.static_options
            .as_ref()
            .map(|options| options.etag.as_str())
    }

    /// Decides what to send for a request with `method` and `headers`.
    pub(crate) fn prepare(&self, method: &str, headers: &[(String, String)]) -> Prepared {
        let mut prepared = self.prepare_content(method, headers);
        prepared.framing = self.framing;
        prepared
    }

    /// The status, headers and body slice for a request, framed by `Content-Length`.
    fn prepare_content(&self, method: &str, headers: &[(String, String)]) -> Prepared {
        let send_body = method != "HEAD";
        let full = 0..self.body.len();
        let Some(options) = &self.static_options else {
            return Prepared::new(
                self.status,
                self.headers.clone(),
                &self.body,
                full,
                send_body,
            );
        };
        let mut out_headers = self.headers.clone();
        if header_value(&out_headers, "content-type").is_none() {
            out_headers.push(("Content-Type".into(), "application/octet-stream".into()));
        }
        out_headers.push(("ETag".into(), options.etag.clone()));
        if options.ranges {
            out_headers.push(("Accept-Ranges".into(), "bytes".into()));
        }
        if method != "GET" && method != "HEAD" {
            return Prepared::new(self.status, out_headers, &self.body, full, send_body);
        }
        if header_value(headers, "if-none-match").is_some_and(|v| if_none_match(v, &options.etag)) {
            return Prepared::new(304, out_headers, &self.body, 0..0, false);
        }
        let range = header_value(headers, "range")
            .filter(|_| options.ranges)
            .filter(|_| {
                header_value(headers, "if-range").is_none_or(|v| if_range_matches(v, &options.etag))
            });
        let len = self.body.len() as u64;
        match range.map_or(RangeOutcome::Full, |r| resolve_range(r, len)) {
            RangeOutcome::Full => {
                Prepared::new(self.status, out_headers, &self.body, full, send_body)
            }
            RangeOutcome::Partial { start, end } => {
                out_headers.push(("Content-Range".into(), format!("bytes {start}-{end}/{len}")));
                // Both bounds are below the body's length, which is a usize.
                let range = start as usize..end as usize + 1;
                Prepared::new(206, out_headers, &self.body, range, send_body)
            }
            RangeOutcome::Unsatisfiable => {
                out_headers.push(("Content-Range".into(), format!("bytes */{len}")));
                Prepared::new(416, out_headers, &self.body, 0..0, send_body)
            }
        }
    }
}

/// A response ready to be written: the status, all headers but the framing ones, and
/// the slice of the body to send.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    body: Arc<[u8]>,
    range: Range<usize>,
    send_body: bool,
    framing: WireFraming,
}

impl Prepared {
    fn new(
        status: u16,
        headers: Vec<(String, String)>,
        body: &Arc<[u8]>,
        range: Range<usize>,
        send_body: bool,
    ) -> Self {
        let range = if has_no_content(status) { 0..0 } else { range };
        Self {
            status,
            headers,
            body: Arc::clone(body),
            range,
            send_body,
            framing: WireFraming::Length,
        }
    }

    /// Whether the connection must close after this response: its body is delimited
    /// by the close.
    pub(crate) fn closes(&self) -> bool {
        self.framing == WireFraming::Close && !has_no_content(self.status)
    }

    /// The body as it goes on the wire, framing included; with `cut_after`, only the
    /// first that many content bytes (for a chunked body: complete chunks holding
    /// them, without the last chunk).
    pub(crate) fn framed_body(&self, cut_after: Option<usize>) -> Cow<'_, [u8]> {
        let body = self.wire_body();
        let content = &body[..cut_after.unwrap_or(body.len()).min(body.len())];
        if self.framing != WireFraming::Chunked || !self.send_body || has_no_content(self.status) {
            return Cow::Borrowed(content);
        }
        let mut out = Vec::with_capacity(content.len() + content.len() / WIRE_CHUNK * 8 + 16);
        for chunk in content.chunks(WIRE_CHUNK) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        if cut_after.is_none_or(|cut| cut >= body.len()) {
            out.extend_from_slice(b"0\r\n\r\n");
        }
        Cow::Owned(out)
    }

    /// The body bytes that go on the wire (none for `HEAD` and body-less statuses).
    pub(crate) fn wire_body(&self) -> &[u8] {
        if self.send_body {
            &self.body[self.range.clone()]
        } else {
            &[]
        }
    }

    /// The status line and headers, `Content-Length` included where it applies, and
    /// `Connection: close` when `close`.
    pub(crate) fn head_bytes(&self, close: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            self.status,
            reason_phrase(self.status)
        );
        for (name, value) in &self.headers {
            let framing = ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|f| name.eq_ignore_ascii_case(f));
            let broken = [name, value].iter().any(|s| s.contains(['\r', '\n']));
            if !framing && !broken {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        if !has_no_content(self.status) {
            match self.framing {
                WireFraming::Length => {
                    head.push_str(&format!("Content-Length: {}\r\n", self.range.len()));
                }
                WireFraming::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
                WireFraming::Close => {}
            }
        }
        if close || self.closes() {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

/// Statuses that never carry content nor `Content-Length`.
fn has_no_content(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// The reason phrase of common statuses; empty for the others, which HTTP allows.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn head_text(prepared: &Prepared, close: bool) -> String {
        String::from_utf8(prepared.head_bytes(close)).expect("ASCII head")
    }

    #[test]
    fn plain_response_head() {
        let response = Response::json(429, "{}")
            .retry_after(3)
            .header("Content-Length", "999")
            .header("X-Evil", "a\r\nInjected: 1");
        let prepared = response.prepare("GET", &[]);
        let head = head_text(&prepared, true);
        assert_eq!(
            head,
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n\
             Retry-After: 3\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(prepared.wire_body(), b"{}");
    }

    #[test]
    fn head_request_keeps_length_but_sends_no_body() {
        let prepared = Response::text(200, "hello").prepare("HEAD", &[]);
        assert!(head_text(&prepared, false).contains("Content-Length: 5\r\n"));
        assert!(prepared.wire_body().is_empty());
    }

    #[test]
    fn no_content_statuses_have_no_length() {
        let prepared = Response::new(204).body("ignored").prepare("GET", &[]);
        assert!(!head_text(&prepared, false).contains("Content-Length"));
        assert!(prepared.wire_body().is_empty());
    }

    #[test]
    fn static_body_ranges_and_preconditions() {
        let response = Response::static_body(&b"0123456789"[..]);
        let etag = response.static_etag().expect("static").to_owned();

        let full = response.prepare("GET", &[]);
        assert_eq!(full.status, 200);
        let head = head_text(&full, false);
        assert!(head.contains(&format!("ETag: {etag}\r\n")));
        assert!(head.contains("Accept-Ranges: bytes\r\n"));
        assert!(head.contains("Content-Type: application/octet-stream\r\n"));

        let partial = response.prepare("GET", &headers(&[("Range", "bytes=2-4")]));
        assert_eq!(partial.status, 206);
        assert_eq!(partial.wire_body(), b"234");
        assert!(head_text(&partial, false).contains("Content-Range: bytes 2-4/10\r\n"));

        let unsatisfiable = response.prepare("GET", &headers(&[("Range", "bytes=10-")]));
        assert_eq!(unsatisfiable.status, 416);
        assert!(head_text(&unsatisfiable, false).contains("Content-Range: bytes */10\r\n"));

        let if_range = headers(&[("Range", "bytes=2-4"), ("If-Range", &etag)]);
        assert_eq!(response.prepare("GET", &if_range).status, 206);
        let stale = headers(&[("Range", "bytes=2-4"), ("If-Range", "\"old\"")]);
        assert_eq!(response.prepare("GET", &stale).status, 200);

        let not_modified = response.prepare("GET", &headers(&[("If-None-Match", &etag)]));
        assert_eq!(not_modified.status, 304);
        assert!(!head_text(&not_modified, false).contains("Content-Length"));

        let post = response.prepare("POST", &headers(&[("Range", "bytes=2-4")]));
        assert_eq!(post.status, 200);
    }

    #[test]
    fn chunked_and_close_delimited_framing() {
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
        let chunked = Response::static_body(content.clone()).chunked();

        let full = chunked.prepare("GET", &[]);
        let head = head_text(&full, false);
        assert!(head.contains("Transfer-Encoding: chunked\r\n"));
        assert!(!head.contains("Content-Length"));
        assert!(!head.contains("Connection"));
        assert!(!full.closes());
        let wire = full.framed_body(None).into_owned();
        let (decoded, used) = crate::http::decode_chunked(&wire)
            .expect("valid chunked body")
            .expect("complete chunked body");
        assert_eq!((decoded, used), (content.clone(), wire.len()));

        // Cut: complete chunks with the first bytes, no last chunk.
        let cut = full.framed_body(Some(5_000)).into_owned();
        let mut expected = b"1000\r\n".to_vec();
        expected.extend_from_slice(&content[..4096]);
        expected.extend_from_slice(format!("\r\n{:x}\r\n", 5_000 - 4096).as_bytes());
        expected.extend_from_slice(&content[4096..5_000]);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(cut, expected);

        let ranged = chunked.prepare("GET", &headers(&[("Range", "bytes=9998-")]));
        assert_eq!(ranged.status, 206);
        let mut expected = b"2\r\n".to_vec();
        expected.extend_from_slice(&content[9998..]);
        expected.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(&ranged.framed_body(None)[..], &expected[..]);

        let head_request = chunked.prepare("HEAD", &[]);
        assert!(head_request.framed_body(None).is_empty());
        let empty = Response::new(204).chunked().prepare("GET", &[]);
        assert!(empty.framed_body(None).is_empty());
        assert!(!head_text(&empty, false).contains("Transfer-Encoding"));

        let close = Response::text(200, "hello").close_delimited();
        let prepared = close.prepare("GET", &[]);
        assert!(prepared.closes());
        let head = head_text(&prepared, false);
        assert!(!head.contains("Content-Length"));
        assert!(head.contains("Connection: close\r\n"));
        assert_eq!(&prepared.framed_body(None)[..], b"hello");
        assert_eq!(&prepared.framed_body(Some(2))[..], b"he");

        let plain = Response::text(200, "hello").prepare("GET", &[]);
        assert!(!plain.closes());
        assert_eq!(&plain.framed_body(Some(3))[..], b"hel");
    }

    #[test]
    fn explicit_etag_and_no_ranges() {
        let response = Response::static_body("abc")
            .etag("v2")
            .without_ranges()
            .body("abcd");
        assert_eq!(response.static_etag(), Some("\"v2\""));
        let prepared = response.prepare("GET", &headers(&[("Range", "bytes=0-0")]));
        assert_eq!(prepared.status, 200);
        assert_eq!(prepared.wire_body(), b"abcd");
        assert!(!head_text(&prepared, false).contains("Accept-Ranges"));

        let derived = Response::static_body("abc").body("abcd");
        assert_eq!(derived.static_etag(), Some(content_etag(b"abcd").as_str()));

        let plain = Response::new(200).etag("x");
        assert_eq!(plain.headers(), &headers(&[("ETag", "\"x\"")])[..]);
    }
}
