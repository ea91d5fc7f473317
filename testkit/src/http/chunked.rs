//! Decoding `Transfer-Encoding: chunked` request bodies, incrementally and purely.

use super::HttpError;

/// The longest chunk-size or trailer line accepted.
const MAX_LINE_LEN: usize = 4096;

/// Where the decoder is within the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data, with this many bytes still to come.
    Data { remaining: u64 },
    /// Expecting the CRLF that ends chunk data.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty line.
    Trailer,
    /// The body is complete.
    Done,
}

/// An incremental decoder for a chunked body.
///
/// Feed it the bytes received so far; it consumes what it can and tells how many bytes
/// it took. The bytes it leaves (at most an incomplete line) must be fed again,
/// followed by more input.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    body: Vec<u8>,
    limit: u64,
}

impl ChunkedDecoder {
    /// A decoder that refuses bodies longer than `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            state: State::Size,
            body: Vec::new(),
            limit,
        }
    }

    /// Whether the final chunk and the trailer section have been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The decoded body.
    pub(crate) fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Consumes as much of `input` as possible and returns how many bytes were taken.
    /// Nothing is consumed once the body is complete: what follows belongs to the next
    /// request.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<usize, HttpError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Done => return Ok(pos),
                State::Size => {
                    let Some(line) = take_line(rest)? else {
                        return Ok(pos);
                    };
                    pos += line.len() + 2;
                    let size = parse_chunk_size(line)?;
                    if size == 0 {
                        self.state = State::Trailer;
                    } else {
                        let total = (self.body.len() as u64).saturating_add(size);
                        if total > self.limit {
                            return Err(HttpError::BodyTooLarge { limit: self.limit });
                        }
                        self.state = State::Data { remaining: size };
                    }
                }
                State::Data { remaining } => {
                    let take = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    self.body.extend_from_slice(&rest[..take]);
                    pos += take;
                    let remaining = remaining - take as u64;
                    if remaining > 0 {
                        self.state = State::Data { remaining };
                        return Ok(pos);
                    }
                    self.state = State::DataEnd;
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(HttpError::Chunked {
                            reason: "chunk data not followed by CRLF",
                        });
                    }
                    pos += 2;
                    self.state = State::Size;
                }
                State::Trailer => {
                    let Some(line) = take_line(rest)? else {
                        return Ok(pos);
                    };
                    pos += line.len() + 2;
                    if line.is_empty() {
                        self.state = State::Done;
                    } else if !line.contains(&b':') {
                        return Err(HttpError::Chunked {
                            reason: "malformed trailer field",
                        });
                    }
                }
            }
        }
    }
}

/// The line at the start of `input` without its CRLF, or `None` if it is not complete.
fn take_line(input: &[u8]) -> Result<Option<&[u8]>, HttpError> {
    match input.windows(2).position(|w| w == b"\r\n") {
        Some(end) if end <= MAX_LINE_LEN => Ok(Some(&input[..end])),
        None if input.len() <= MAX_LINE_LEN => Ok(None),
        _ => Err(HttpError::Chunked {
            reason: "line too long",
        }),
    }
}

/// Parses `chunk-size [ ; chunk-ext ]`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let size_end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..size_end].trim_ascii_end();
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(HttpError::Chunked {
            reason: "invalid chunk size",
        });
    }
    // Only ASCII hex digits remain, at most 16 of them, so both steps succeed.
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or(HttpError::Chunked {
            reason: "invalid chunk size",
        })
}

/// Decodes a complete chunked body at the start of `input`.
///
/// Returns `Ok(None)` while the body is incomplete, and `Ok(Some((body, len)))` once
/// the last chunk and the trailer section are in, `len` being the number of bytes of
/// `input` the encoded body took. Chunk extensions and trailer fields are accepted and
/// dropped. Never panics, whatever `input` holds.
///
/// # Errors
///
/// [`HttpError::Chunked`] for a malformed chunk size, a missing CRLF, a malformed
/// trailer or an overlong line; [`HttpError::BodyTooLarge`] past 512 MiB.
pub fn decode_chunked(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, HttpError> {
    let mut decoder = ChunkedDecoder::new(super::MAX_BODY_LEN);
    let used = decoder.feed(input)?;
    Ok(decoder.is_done().then(|| (decoder.into_body(), used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let raw = b"5\r\nhello\r\n6;name=val\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        let (body, used) = decode_chunked(raw).expect("valid").expect("complete");
        assert_eq!(body, b"hello world");
        assert_eq!(&raw[used..], b"NEXT");
    }

    #[test]
    fn hex_sizes_upper_and_lower() {
        let mut raw = b"a\r\n".to_vec();
        raw.extend_from_slice(&[b'x'; 10]);
        raw.extend_from_slice(b"\r\n1A \r\n");
        raw.extend_from_slice(&[b'y'; 26]);
        raw.extend_from_slice(b"\r\n0\r\n\r\n");
        let (body, used) = decode_chunked(&raw).expect("valid").expect("complete");
        assert_eq!(body.len(), 36);
        assert_eq!(used, raw.len());
    }

    #[test]
    fn incomplete_input_asks_for_more() {
        let raw = b"5\r\nhello\r\n0\r\n\r\n";
        for cut in 0..raw.len() {
            assert!(
                decode_chunked(&raw[..cut]).expect("valid prefix").is_none(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn byte_by_byte_feeding_gives_the_same_body() {
        let raw = b"3\r\nabc\r\n4;x\r\ndefg\r\n0\r\nT: v\r\n\r\n";
        let mut decoder = ChunkedDecoder::new(1024);
        let mut pending = Vec::new();
        for &b in raw {
            pending.push(b);
            let used = decoder.feed(&pending).expect("valid");
            pending.drain(..used);
        }
        assert!(decoder.is_done());
        assert!(pending.is_empty());
        assert_eq!(decoder.into_body(), b"abcdefg");
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for raw in [
            &b"x\r\n"[..],
            b"\r\n",
            b"-1\r\n",
            b"5\r\nhelloXX",
            b"11111111111111111\r\n",
            b"0\r\nno colon here\r\n",
            b" 5\r\nhello\r\n",
        ] {
            assert!(
                matches!(decode_chunked(raw), Err(HttpError::Chunked { .. })),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn overlong_line_is_an_error() {
        let raw = vec![b'1'; MAX_LINE_LEN + 1];
        assert!(matches!(
            decode_chunked(&raw),
            Err(HttpError::Chunked { .. })
        ));
    }

    #[test]
    fn body_limit_is_enforced() {
        let mut decoder = ChunkedDecoder::new(4);
        assert!(matches!(
            decoder.feed(b"5\r\n"),
            Err(HttpError::BodyTooLarge { limit: 4 })
        ));
        assert!(matches!(
            decode_chunked(b"ffffffffffffffff\r\n"),
            Err(HttpError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = crate::http::test_rng(0xc0ffee);
        let alphabet = b"0123456789abcdefABCDEFxyz;:= \t\r\n";
        for _ in 0..20_000 {
            let len = (rng() % 64) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng() as usize) % alphabet.len()])
                .collect();
            let _ = decode_chunked(&buf);
            let mut decoder = ChunkedDecoder::new(1 << 20);
            let mut pending = Vec::new();
            for piece in buf.chunks(3) {
                pending.extend_from_slice(piece);
                match decoder.feed(&pending) {
                    Ok(used) => {
                        pending.drain(..used);
                    }
                    Err(_) => break,
                }
            }
        }
    }
}
