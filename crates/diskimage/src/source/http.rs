//! HTTP(S) bodies that end only when complete, resumed with `Range`/`If-Range` after
//! a dropped connection; and checksum files published beside an image.

use std::io::{self, Read};
use std::thread;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap};
use reqwest::{StatusCode, Url, Version};

use super::{SourceError, SourceOptions, USER_AGENT};

/// The largest checksum file [`fetch_checksum`] reads.
const MAX_CHECKSUM_LEN: u64 = 1 << 20;

/// The backoff doubles at most this many times.
const MAX_BACKOFF_DOUBLINGS: u32 = 5;

/// What the first response said about the stream.
#[derive(Debug)]
pub(super) struct Head {
    /// The full length, from `Content-Length`.
    pub(super) length: Option<u64>,
    /// The file name part of the URL as given.
    pub(super) name: Option<String>,
    /// The `ETag`, as sent.
    pub(super) etag: Option<String>,
}

/// A download in progress.
#[derive(Debug)]
pub(super) struct HttpBody {
    client: Client,
    /// The URL that answered, after redirects: resumes go there directly.
    url: Url,
    /// The response being read; `None` after a failure, until a resume.
    response: Option<Response>,
    received: u64,
    /// The full length, if known.
    total: Option<u64>,
    /// The strong `ETag` that resumes are conditional on; `None` when the first
    /// response did not allow resuming.
    validator: Option<String>,
    attempts: u32,
    resumes: u32,
    max_resumes: u32,
    backoff: Duration,
    done: bool,
}

/// The outcome of a failed resume request.
enum Attempt {
    /// Worth another attempt (connection error, `5xx`, `408`, `429`).
    Retry(io::Error),
    /// Resuming cannot succeed.
    Fatal(SourceError),
}

impl HttpBody {
    /// Sends the first request and checks its answer.
    pub(super) fn open(url: &str, opts: &SourceOptions) -> Result<(Self, Head), SourceError> {
        let requested = parse_url(url)?;
        let client = client(opts)?;
        let response = get(&client, &requested, opts)?;
        let url = response.url().clone();
        let status = response.status();
        if !status.is_success() {
            return Err(SourceError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        if status == StatusCode::PARTIAL_CONTENT {
            return Err(SourceError::Protocol {
                url: url.to_string(),
                detail: "206 Partial Content to a request without Range".to_owned(),
            });
        }
        let headers = response.headers();
        let length = body_length(&url, headers, response.version())?;
        let etag = header_str(headers, &header::ETAG).map(str::to_owned);
        let ranges = header_str(headers, &header::ACCEPT_RANGES).is_some_and(|value| {
            value
                .split(',')
                .any(|unit| unit.trim().eq_ignore_ascii_case("bytes"))
        });
        let validator = etag
            .as_deref()
            .filter(|tag| ranges && is_strong(tag))
            .map(str::to_owned);
        let head = Head {
            length,
            name: file_name(&requested),
            etag,
        };
        let body = Self {
            client,
            url,
            response: Some(response),
            received: 0,
            total: length,
            validator,
            attempts: 0,
            resumes: 0,
            max_resumes: opts.max_resumes,
            backoff: opts.resume_backoff,
            done: false,
        };
        Ok((body, head))
    }

    /// Successful resumes so far.
    pub(super) fn resumes(&self) -> u32 {
        self.resumes
    }

    /// Reads body bytes, resuming after a dropped connection; `Ok(0)` only at the
    /// complete end.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.done {
            return Ok(0);
        }
        loop {
            let Some(response) = self.response.as_mut() else {
                // Only reachable after an error was returned; `Source` does not read
                // again after one, but stay safe.
                return Err(SourceError::AlreadyFailed.into());
            };
            match response.read(buf) {
                Ok(0) => match self.total {
                    Some(total) if self.received < total => self.recover(None)?,
                    _ => {
                        // Exactly `Content-Length` bytes, or a chunked body whose last
                        // chunk arrived (the client reports a framing error otherwise).
                        self.done = true;
                        self.response = None;
                        return Ok(0);
                    }
                },
                Ok(n) => {
                    self.received += n as u64;
                    if let Some(total) = self.total
                        && self.received > total
                    {
                        return Err(SourceError::Protocol {
                            url: self.url.to_string(),
                            detail: format!("body longer than the announced {total} bytes"),
                        }
                        .into());
                    }
                    return Ok(n);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => self.recover(Some(error))?,
            }
        }
    }

    /// Handles a dropped body (`cause`, or an early end when `None`): resumes it, or
    /// fails.
    fn recover(&mut self, cause: Option<io::Error>) -> Result<(), SourceError> {
        self.response = None;
        let truncated = |cause| SourceError::Truncated {
            received: self.received,
            expected: self.total,
            source: cause,
        };
        let Some(etag) = self.validator.clone() else {
            return Err(truncated(cause));
        };
        if self.max_resumes == 0 {
            return Err(truncated(cause));
        }
        let mut cause = cause.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before the end of the body",
            )
        });
        loop {
            if self.attempts >= self.max_resumes {
                return Err(SourceError::Interrupted {
                    attempts: self.attempts,
                    received: self.received,
                    expected: self.total,
                    source: cause,
                });
            }
            let doublings = self.attempts.min(MAX_BACKOFF_DOUBLINGS);
            thread::sleep(self.backoff.saturating_mul(1 << doublings));
            self.attempts += 1;
            match self.request_rest(&etag) {
                Ok(response) => {
                    self.response = Some(response);
                    self.resumes += 1;
                    return Ok(());
                }
                Err(Attempt::Retry(error)) => cause = error,
                Err(Attempt::Fatal(error)) => return Err(error),
            }
        }
    }

    /// Asks for the rest of the body, conditional on `etag`, and checks the answer.
    fn request_rest(&self, etag: &str) -> Result<Response, Attempt> {
        let url = self.url.to_string();
        let response = self
            .client
            .get(self.url.clone())
            .header(header::ACCEPT_ENCODING, "identity")
            .header(header::RANGE, format!("bytes={}-", self.received))
            .header(header::IF_RANGE, etag)
            .send()
            .map_err(|error| Attempt::Retry(io::Error::other(error)))?;
        let status = response.status();
        let changed = |detail: String| {
            Attempt::Fatal(SourceError::Changed {
                url: url.clone(),
                detail,
            })
        };
        let protocol = |detail: String| {
            Attempt::Fatal(SourceError::Protocol {
                url: url.clone(),
                detail,
            })
        };
        match status {
            StatusCode::PARTIAL_CONTENT => {}
            StatusCode::OK => {
                let now = header_str(response.headers(), &header::ETAG).unwrap_or("none");
                return Err(changed(format!(
                    "the resume request (If-Range: {etag}) was answered with the whole \
                     body (ETag {now})"
                )));
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                return Err(changed(format!(
                    "the resume request for bytes {}- was answered 416 (shorter now?)",
                    self.received
                )));
            }
            status
                if status.is_server_error()
                    || status == StatusCode::REQUEST_TIMEOUT
                    || status == StatusCode::TOO_MANY_REQUESTS =>
            {
                return Err(Attempt::Retry(io::Error::other(format!(
                    "the resume request was answered with HTTP status {status}"
                ))));
            }
            status => {
                return Err(Attempt::Fatal(SourceError::Status {
                    url,
                    status: status.as_u16(),
                }));
            }
        }
        let headers = response.headers();
        match header_str(headers, &header::ETAG) {
            Some(now) if now == etag => {}
            now => {
                return Err(changed(format!(
                    "the ETag was {etag} and the resumed response has {}",
                    now.unwrap_or("none")
                )));
            }
        }
        let Some(value) = header_str(headers, &header::CONTENT_RANGE) else {
            return Err(protocol("206 without Content-Range".to_owned()));
        };
        let Some((start, end, complete)) = parse_content_range(value) else {
            return Err(protocol(format!("unusable Content-Range {value:?}")));
        };
        if let Some(total) = self.total
            && total != complete
        {
            return Err(changed(format!(
                "the length was {total} and the resumed response says {complete}"
            )));
        }
        if start != self.received || end + 1 != complete {
            return Err(protocol(format!(
                "asked for bytes {}- and got Content-Range {value:?}",
                self.received
            )));
        }
        if let Some(length) = header_str(headers, &header::CONTENT_LENGTH)
            && length.trim().parse::<u64>().ok() != Some(complete - start)
        {
            return Err(protocol(format!(
                "Content-Length {length} does not match Content-Range {value:?}"
            )));
        }
        Ok(response)
    }
}

/// Fetches the checksum file published beside `url`: `<url>.sha256`, else
/// `<url>.sha512` (the suffix goes at the end of the path, before any query). `Ok(None)`
/// when both answer `404` (or `410`). The text is returned as served; parse it with
/// [`parse_checksum_file`](crate::parse_checksum_file) and the image's
/// [`Source::name`](super::Source::name). Such a checksum covers the file as
/// published, i.e. [`Stage::Compressed`](crate::Stage::Compressed) for a compressed
/// image.
///
/// # Errors
///
/// [`SourceError::InvalidUrl`], [`SourceError::Client`], [`SourceError::Request`],
/// [`SourceError::Redirects`], [`SourceError::Status`] for any other non-2xx status,
/// [`SourceError::Truncated`] for a body cut short, [`SourceError::Protocol`] for a
/// body over 1 MiB or not UTF-8.
pub fn fetch_checksum(url: &str, opts: &SourceOptions) -> Result<Option<String>, SourceError> {
    let image = parse_url(url)?;
    let client = client(opts)?;
    for extension in ["sha256", "sha512"] {
        let mut checksum_url = image.clone();
        checksum_url.set_path(&format!("{}.{extension}", image.path()));
        checksum_url.set_fragment(None);
        let mut response = get(&client, &checksum_url, opts)?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            continue;
        }
        let answered = response.url().to_string();
        if !status.is_success() {
            return Err(SourceError::Status {
                url: answered,
                status: status.as_u16(),
            });
        }
        let too_large = || SourceError::Protocol {
            url: answered.clone(),
            detail: format!("checksum file larger than {MAX_CHECKSUM_LEN} bytes"),
        };
        let expected = header_str(response.headers(), &header::CONTENT_LENGTH)
            .and_then(|length| length.trim().parse::<u64>().ok());
        if expected.is_some_and(|length| length > MAX_CHECKSUM_LEN) {
            return Err(too_large());
        }
        let mut text = Vec::new();
        (&mut response)
            .take(MAX_CHECKSUM_LEN + 1)
            .read_to_end(&mut text)
            .map_err(|error| SourceError::Truncated {
                received: text.len() as u64,
                expected,
                source: Some(error),
            })?;
        if text.len() as u64 > MAX_CHECKSUM_LEN {
            return Err(too_large());
        }
        return String::from_utf8(text)
            .map(Some)
            .map_err(|_| SourceError::Protocol {
                url: answered.clone(),
                detail: "checksum file is not UTF-8".to_owned(),
            });
    }
    Ok(None)
}

/// Parses an `http`/`https` URL.
fn parse_url(url: &str) -> Result<Url, SourceError> {
    let invalid = |reason: String| SourceError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|error| invalid(error.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        scheme => Err(invalid(format!("scheme {scheme:?} is not http or https"))),
    }
}

/// The blocking client for `opts`.
fn client(opts: &SourceOptions) -> Result<Client, SourceError> {
    Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::limited(opts.max_redirects))
        .connect_timeout(opts.connect_timeout)
        // The blocking client applies this to waiting for the head and to each read.
        .timeout(opts.read_timeout)
        .build()
        .map_err(SourceError::Client)
}

/// Sends a `GET` for `url` without content codings, so that lengths and ranges count
/// the bytes of the file itself.
fn get(client: &Client, url: &Url, opts: &SourceOptions) -> Result<Response, SourceError> {
    let request = client
        .get(url.clone())
        .header(header::ACCEPT_ENCODING, "identity");
    request.send().map_err(|source| {
        if source.is_redirect() {
            SourceError::Redirects {
                url: url.to_string(),
                limit: opts.max_redirects,
            }
        } else {
            SourceError::Request {
                url: url.to_string(),
                source,
            }
        }
    })
}

/// The length of a body framed by `Content-Length`, `None` for a chunked one; an error
/// for a body only the end of the connection delimits.
fn body_length(
    url: &Url,
    headers: &HeaderMap,
    version: Version,
) -> Result<Option<u64>, SourceError> {
    let chunked = header_str(headers, &header::TRANSFER_ENCODING).is_some_and(|value| {
        value
            .rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    });
    if chunked {
        // Transfer-Encoding overrides Content-Length (RFC 9112, 6.3).
        return Ok(None);
    }
    match header_str(headers, &header::CONTENT_LENGTH) {
        Some(value) => value
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| SourceError::Protocol {
                url: url.to_string(),
                detail: format!("invalid Content-Length {value:?}"),
            }),
        // HTTP/2 and later frame every body; HTTP/1 without either header does not.
        None if version >= Version::HTTP_2 => Ok(None),
        None => Err(SourceError::Unframed {
            url: url.to_string(),
        }),
    }
}

/// A header's value, when present and visible ASCII.
fn header_str<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Whether an entity tag is strong: quoted, without the `W/` prefix.
fn is_strong(tag: &str) -> bool {
    tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"')
}

/// Parses `bytes <first>-<last>/<complete>` into its three numbers.
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let (unit, rest) = value.trim().split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, complete) = rest.trim().split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (first, last, complete) = (number(first)?, number(last)?, number(complete)?);
    (first <= last && last < complete).then_some((first, last, complete))
}

/// The last segment of the URL's path, percent-decoded; `None` when empty.
fn file_name(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    (!segment.is_empty()).then(|| percent_decode(segment))
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 5-9/10"), Some((5, 9, 10)));
        assert_eq!(parse_content_range(" Bytes 0-0/1 "), Some((0, 0, 1)));
        for bad in [
            "bytes */10",
            "bytes 5-9/*",
            "bytes 9-5/10",
            "bytes 5-10/10",
            "bytes 5-9",
            "items 5-9/10",
            "bytes +5-9/10",
            "bytes 5-99999999999999999999/100000000000000000000",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_and_tags() {
        let url = |s| Url::parse(s).expect("valid URL");
        assert_eq!(
            file_name(&url("http://h/a/b%20c.raw.zst?x=1")).as_deref(),
            Some("b c.raw.zst")
        );
        assert_eq!(file_name(&url("http://h/dir/")), None);
        assert_eq!(file_name(&url("http://h")), None);
        assert_eq!(percent_decode("100%-%zz%4"), "100%-%zz%4");
        assert!(is_strong("\"abc\""));
        assert!(is_strong("\"\""));
        assert!(!is_strong("W/\"abc\""));
        assert!(!is_strong("abc"));
        assert!(!is_strong("\""));
    }
}
