//! Parsing a request head (request line and headers): a pure function over bytes.

use super::HttpError;

/// The longest request head the server reads before answering `431`.
pub(crate) const MAX_HEAD_LEN: usize = 64 * 1024;

/// The most headers one request may carry.
const MAX_HEADERS: usize = 100;

/// How the body that follows a request head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body: neither `Content-Length` nor `Transfer-Encoding` was sent.
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestHead {
    /// The method, as sent (methods are case-sensitive).
    pub method: String,
    /// The request target, as sent.
    pub target: String,
    /// The path of the target: without query and fragment, and without scheme and
    /// authority when the target was in absolute form. Not percent-decoded.
    pub path: String,
    /// The query of the target, without the `?`, if it had one.
    pub query: Option<String>,
    /// The minor HTTP version: `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    /// The headers in the order sent. Values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// How the body is delimited.
    pub framing: BodyFraming,
}

impl RequestHead {
    /// The value of the first header called `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// Whether the connection stays open after this request: HTTP/1.1 without
    /// `Connection: close`. HTTP/1.0 connections are always closed.
    pub fn keep_alive(&self) -> bool {
        self.minor_version == 1 && !self.header_tokens("connection").any(|t| t == "close")
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.minor_version == 1
            && self
                .header("expect")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
    }

    /// The comma-separated tokens of every header called `name`, trimmed and
    /// lowercased, empty ones left out.
    fn header_tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        header_tokens(&self.headers, name)
    }
}

/// The value of the first header called `name` in `headers`, compared case-insensitively.
pub(crate) fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn header_tokens<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = String> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
}

/// Parses a request head at the start of `buf`.
///
/// Returns `Ok(None)` while the head is incomplete (read more and call again), and
/// `Ok(Some((head, len)))` once it is complete, `len` being the number of bytes of
/// `buf` the head took (its body, if any, starts there). Empty lines before the
/// request line are skipped. Never panics, whatever `buf` holds.
///
/// # Errors
///
/// [`HttpError::RequestHead`] for a malformed request line or header,
/// [`HttpError::HeadTooLarge`] when no complete head fits in 64 KiB, and
/// [`HttpError::Framing`] for invalid or contradictory `Content-Length` /
/// `Transfer-Encoding` headers (including any transfer coding other than `chunked`).
pub fn parse_request_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    let len = match req.parse(buf).map_err(HttpError::RequestHead)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if buf.len() >= MAX_HEAD_LEN => {
            return Err(HttpError::HeadTooLarge {
                limit: MAX_HEAD_LEN,
            });
        }
        httparse::Status::Partial => return Ok(None),
    };
    if len > MAX_HEAD_LEN {
        return Err(HttpError::HeadTooLarge {
            limit: MAX_HEAD_LEN,
        });
    }
    // A complete parse always fills method, path and version; treat a gap as malformed
    // rather than trusting that.
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(HttpError::RequestHead(httparse::Error::Token));
    };
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    let framing = body_framing(&headers, minor_version)?;
    let (path, query) = split_target(target);
    let head = RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        path,
        query,
        minor_version,
        headers,
        framing,
    };
    Ok(Some((head, len)))
}

/// Decides how the body is delimited (RFC 9112, section 6), refusing what is ambiguous.
fn body_framing(headers: &[(String, String)], minor_version: u8) -> Result<BodyFraming, HttpError> {
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if has("transfer-encoding") {
        if has("content-length") {
            return Err(HttpError::Framing {
                reason: "both Content-Length and Transfer-Encoding",
            });
        }
        if minor_version == 0 {
            return Err(HttpError::Framing {
                reason: "Transfer-Encoding in an HTTP/1.0 request",
            });
        }
        let codings: Vec<String> = header_tokens(headers, "transfer-encoding").collect();
        return if codings == ["chunked"] {
            Ok(BodyFraming::Chunked)
        } else {
            Err(HttpError::Framing {
                reason: "unsupported transfer coding",
            })
        };
    }
    let mut length = None;
    for value in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, v)| v.split(','))
    {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HttpError::Framing {
                reason: "invalid Content-Length",
            });
        }
        let n: u64 = value.parse().map_err(|_| HttpError::Framing {
            reason: "Content-Length out of range",
        })?;
        if length.is_some_and(|l| l != n) {
            return Err(HttpError::Framing {
                reason: "conflicting Content-Length values",
            });
        }
        length = Some(n);
    }
    Ok(length.map_or(BodyFraming::None, BodyFraming::Length))
}

/// Splits a request target into path and query, dropping any fragment, and any scheme
/// and authority of an absolute-form target.
fn split_target(target: &str) -> (String, Option<String>) {
    let without_fragment = target.split('#').next().unwrap_or_default();
    let mut rest = without_fragment;
    for scheme in ["http://", "https://"] {
        if rest
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            let after = &rest[scheme.len()..];
            rest = after.find(['/', '?']).map_or("", |i| &after[i..]);
            break;
        }
    }
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    (path.to_owned(), query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<(RequestHead, usize)>, HttpError> {
        parse_request_head(raw.as_bytes())
    }

    fn complete(raw: &str) -> (RequestHead, usize) {
        parse(raw).expect("valid head").expect("complete head")
    }

    #[test]
    fn simple_get_with_query() {
        let raw = "GET /maps/api/geocode/json?address=x&key=k HTTP/1.1\r\nHost: a\r\nX-Y:  z \r\n\r\nrest";
        let (head, len) = complete(raw);
        assert_eq!(len, raw.len() - 4);
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/maps/api/geocode/json");
        assert_eq!(head.query.as_deref(), Some("address=x&key=k"));
        assert_eq!(head.minor_version, 1);
        assert_eq!(head.header("x-y"), Some("z"));
        assert_eq!(head.header("HOST"), Some("a"));
        assert_eq!(head.framing, BodyFraming::None);
        assert!(head.keep_alive());
        assert!(!head.expects_continue());
    }

    #[test]
    fn incomplete_head_asks_for_more() {
        for raw in [
            "",
            "GE",
            "GET / HTTP/1.1\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n",
        ] {
            assert!(parse(raw).expect("no error yet").is_none(), "{raw:?}");
        }
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let (head, len) = complete("\r\nGET /a HTTP/1.1\r\n\r\n");
        assert_eq!(head.path, "/a");
        assert_eq!(len, 21);
    }

    #[test]
    fn absolute_form_and_fragment() {
        let (head, _) = complete("GET http://example.test:8080/x/y?q=1#frag HTTP/1.1\r\n\r\n");
        assert_eq!(head.path, "/x/y");
        assert_eq!(head.query.as_deref(), Some("q=1"));
        let (head, _) = complete("GET HTTPS://example.test?q HTTP/1.1\r\n\r\n");
        assert_eq!(head.path, "/");
        assert_eq!(head.query.as_deref(), Some("q"));
        let (head, _) = complete("OPTIONS * HTTP/1.1\r\n\r\n");
        assert_eq!(head.path, "*");
    }

    #[test]
    fn connection_and_expect() {
        let (head, _) = complete("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
        assert!(!head.keep_alive());
        let (head, _) = complete("GET / HTTP/1.0\r\n\r\n");
        assert!(!head.keep_alive());
        let (head, _) = complete("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n");
        assert!(head.expects_continue());
    }

    #[test]
    fn framing() {
        let (head, _) = complete("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(head.framing, BodyFraming::Length(12));
        let (head, _) = complete("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n");
        assert_eq!(head.framing, BodyFraming::Length(5));
        let (head, _) = complete("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert_eq!(head.framing, BodyFraming::Chunked);
    }

    #[test]
    fn bad_framing_is_an_error() {
        for raw in [
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: ,\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(
                matches!(parse(raw), Err(HttpError::Framing { .. })),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn malformed_heads_are_errors() {
        for raw in [
            "GARBAGE\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            "GET\x00 / HTTP/1.1\r\n\r\n",
            "\r\r\n",
        ] {
            assert!(
                matches!(parse(raw), Err(HttpError::RequestHead(_))),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn too_many_headers_is_an_error() {
        let mut raw = String::from("GET / HTTP/1.1\r\n");
        for i in 0..=MAX_HEADERS {
            raw.push_str(&format!("h{i}: v\r\n"));
        }
        raw.push_str("\r\n");
        assert!(matches!(parse(&raw), Err(HttpError::RequestHead(_))));
    }

    #[test]
    fn endless_head_is_too_large() {
        let mut raw = b"GET / HTTP/1.1\r\nX: ".to_vec();
        raw.resize(MAX_HEAD_LEN + 10, b'a');
        assert!(matches!(
            parse_request_head(&raw),
            Err(HttpError::HeadTooLarge { .. })
        ));
    }

    #[test]
    fn non_utf8_header_value_is_lossy() {
        let (head, _) = parse_request_head(b"GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n")
            .expect("ok")
            .expect("done");
        assert_eq!(head.header("x"), Some("caf\u{fffd}"));
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = crate::http::test_rng(0x5eed);
        let alphabet = b"GET /?#:\r\n \tHTP1.0-chunkedContent-LengthTransfer-Encoding,\x00\xff9";
        for _ in 0..20_000 {
            let len = (rng() % 120) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng() as usize) % alphabet.len()])
                .collect();
            let _ = parse_request_head(&buf);
            let random: Vec<u8> = (0..len).map(|_| rng() as u8).collect();
            let _ = parse_request_head(&random);
        }
    }
}
