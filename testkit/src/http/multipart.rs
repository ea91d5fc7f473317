//! Splitting `multipart/form-data` bodies (RFC 7578) into parts: pure functions.

use super::HttpError;

/// The most headers one part may carry.
const MAX_PART_HEADERS: usize = 32;

/// The longest boundary RFC 2046 allows.
const MAX_BOUNDARY_LEN: usize = 70;

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Part {
    /// The `name` parameter of its `Content-Disposition`.
    pub name: String,
    /// The `filename` parameter of its `Content-Disposition`, if any.
    pub filename: Option<String>,
    /// Its `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// All its headers, in the order sent.
    pub headers: Vec<(String, String)>,
    /// Its content.
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type, or `None` if `content_type`
/// is another type or has no boundary parameter.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    let (media_type, params) = split_params(content_type);
    if !media_type.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .into_iter()
        .find(|(name, _)| name == "boundary")
        .map(|(_, value)| value)
}

/// Splits a `multipart/form-data` body delimited by `boundary` into its parts.
///
/// A preamble before the first delimiter, transport padding after delimiters and an
/// epilogue after the closing delimiter are ignored. Never panics, whatever the input.
///
/// # Errors
///
/// [`HttpError::Multipart`] for an invalid boundary, a missing opening or closing
/// delimiter, a delimiter not followed by CRLF, or a part without a
/// `Content-Disposition` name; [`HttpError::MultipartHeaders`] for malformed part
/// headers.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Result<Vec<Part>, HttpError> {
    if boundary.is_empty()
        || boundary.len() > MAX_BOUNDARY_LEN
        || boundary.bytes().any(|b| b == b'\r' || b == b'\n')
    {
        return Err(multipart_error("invalid boundary"));
    }
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = [b"\r\n".as_slice(), &delimiter].concat();
    let mut pos = if body.starts_with(&delimiter) {
        delimiter.len()
    } else {
        find(body, &next_delimiter).ok_or(multipart_error("no opening delimiter"))?
            + next_delimiter.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        let padding = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if !rest[padding..].starts_with(b"\r\n") {
            return Err(multipart_error("delimiter not followed by CRLF"));
        }
        let start = pos + padding + 2;
        let len = find(&body[start..], &next_delimiter)
            .ok_or(multipart_error("part not closed by a delimiter"))?;
        parts.push(parse_part(&body[start..start + len])?);
        pos = start + len + next_delimiter.len();
    }
}

/// Parses one part: its headers, an empty line, its content.
fn parse_part(raw: &[u8]) -> Result<Part, HttpError> {
    let (header_len, headers) = if raw.starts_with(b"\r\n") {
        (2, Vec::new())
    } else {
        let mut slots = [httparse::EMPTY_HEADER; MAX_PART_HEADERS];
        match httparse::parse_headers(raw, &mut slots).map_err(HttpError::MultipartHeaders)? {
            httparse::Status::Complete((len, parsed)) => {
                let headers = parsed
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).trim().to_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                (len, headers)
            }
            httparse::Status::Partial => {
                return Err(multipart_error("part headers not ended by an empty line"));
            }
        }
    };
    let header = |name: &str| super::head::header_value(&headers, name);
    let (_, disposition) = split_params(header("content-disposition").unwrap_or_default());
    let param = |wanted: &str| {
        disposition
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.clone())
    };
    let name = param("name").ok_or(multipart_error("part without a Content-Disposition name"))?;
    Ok(Part {
        name,
        filename: param("filename"),
        content_type: header("content-type").map(str::to_owned),
        data: raw[header_len..].to_vec(),
        headers,
    })
}

fn multipart_error(reason: &'static str) -> HttpError {
    HttpError::Multipart { reason }
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Splits `value; name=value; name="quoted \" value"` into its first item and its
/// parameters, names lowercased, quoted values unquoted. Semicolons inside quotes do
/// not split; an unterminated quote runs to the end.
fn split_params(header: &str) -> (String, Vec<(String, String)>) {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut escaped = false;
    for c in header.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => {
                segments.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    segments.push(current);
    let mut segments = segments.into_iter();
    let first = segments.next().unwrap_or_default().trim().to_owned();
    let params = segments
        .filter_map(|segment| {
            let (name, value) = segment.split_once('=')?;
            Some((name.trim().to_ascii_lowercase(), unquote(value.trim())))
        })
        .collect();
    (first, params)
}

/// Removes the quotes and backslash escapes of a quoted string; other values are
/// returned as they are.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"') else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => break,
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "----testkitBoundary7MA4YWxk";

    fn body(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    #[test]
    fn field_and_file() {
        let raw = body(&[
            b"Content-Disposition: form-data; name=\"title\"\r\n\r\nmy image",
            b"Content-Disposition: form-data; name=\"image\"; filename=\"disk;1.img\"\r\n\
              Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--not-a-boundary\r\n\xff",
        ]);
        let parts = parse_multipart(&raw, BOUNDARY).expect("valid body");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "title");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[0].content_type, None);
        assert_eq!(parts[0].data, b"my image");
        assert_eq!(parts[1].name, "image");
        assert_eq!(parts[1].filename.as_deref(), Some("disk;1.img"));
        assert_eq!(
            parts[1].content_type.as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(parts[1].data, b"\x00\x01\r\n--not-a-boundary\r\n\xff");
        assert_eq!(parts[1].headers.len(), 2);
    }

    #[test]
    fn preamble_padding_epilogue_and_empty_content() {
        let raw = format!(
            "preamble\r\n--{BOUNDARY} \t\r\nContent-Disposition: form-data; name=empty\r\n\r\n\
             \r\n--{BOUNDARY}--epilogue"
        );
        let parts = parse_multipart(raw.as_bytes(), BOUNDARY).expect("valid body");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].name, "empty");
        assert!(parts[0].data.is_empty());
    }

    #[test]
    fn no_parts_at_all() {
        let raw = format!("--{BOUNDARY}--\r\n");
        assert_eq!(
            parse_multipart(raw.as_bytes(), BOUNDARY).expect("valid"),
            Vec::new()
        );
    }

    #[test]
    fn escaped_quotes_in_parameters() {
        let raw = body(&[
            b"Content-Disposition: form-data; name=\"a\\\"b\"; filename=\"x\\\\y\"\r\n\r\nv",
        ]);
        let parts = parse_multipart(&raw, BOUNDARY).expect("valid body");
        assert_eq!(parts[0].name, "a\"b");
        assert_eq!(parts[0].filename.as_deref(), Some("x\\y"));
    }

    #[test]
    fn boundaries_from_content_types() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            multipart_boundary("Multipart/Form-Data ; charset=utf-8; Boundary=\"a b;c\"")
                .as_deref(),
            Some("a b;c")
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(multipart_boundary("application/json; boundary=abc"), None);
        assert_eq!(multipart_boundary(""), None);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let long_boundary = "b".repeat(MAX_BOUNDARY_LEN + 1);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"no delimiter here".to_vec(), BOUNDARY),
            (format!("--{BOUNDARY}").into_bytes(), BOUNDARY),
            (format!("--{BOUNDARY}X\r\n").into_bytes(), BOUNDARY),
            (
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\nunclosed")
                    .into_bytes(),
                BOUNDARY,
            ),
            (body(&[b"\r\nno headers, so no name"]), BOUNDARY),
            (
                body(&[b"Content-Disposition: form-data\r\n\r\nno name"]),
                BOUNDARY,
            ),
            (body(&[b"Content-Disposition: form-data; name=a"]), BOUNDARY),
            (body(&[b"x"]), ""),
            (body(&[b"x"]), "a\r\nb"),
            (body(&[b"x"]), &long_boundary),
        ];
        for (raw, boundary) in cases {
            let result = parse_multipart(&raw, boundary);
            assert!(
                matches!(result, Err(HttpError::Multipart { .. })),
                "{:?}: {result:?}",
                String::from_utf8_lossy(&raw)
            );
        }
        let bad_header = body(&[b"Bad Header: x\r\n\r\nv"]);
        assert!(matches!(
            parse_multipart(&bad_header, BOUNDARY),
            Err(HttpError::MultipartHeaders(_))
        ));
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = crate::http::test_rng(0xb0b);
        let boundary = "xy";
        let pieces: [&[u8]; 8] = [
            b"--xy",
            b"\r\n",
            b"--",
            b"Content-Disposition: form-data; name=\"n\"",
            b"; filename=",
            b"\"",
            b"Content-Type: a/b",
            b" \x00\xff",
        ];
        for _ in 0..20_000 {
            let count = rng() % 12;
            let raw: Vec<u8> = (0..count)
                .flat_map(|_| pieces[(rng() as usize) % pieces.len()].to_vec())
                .collect();
            if let Ok(parts) = parse_multipart(&raw, boundary) {
                assert!(parts.iter().all(|p| p.data.len() <= raw.len()));
            }
            let text = String::from_utf8_lossy(&raw);
            let _ = multipart_boundary(&text);
            let _ = split_params(&text);
        }
    }
}
