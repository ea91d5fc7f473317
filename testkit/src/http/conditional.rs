//! Byte ranges and entity tags for static bodies: pure helpers over header values.

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeOutcome {
    /// Serve the whole representation: no usable range was asked for (a malformed
    /// header, another unit, or several ranges, which this server does not split).
    Full,
    /// Serve bytes `start..=end`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// The range lies outside the representation: answer `416`.
    Unsatisfiable,
}

/// Resolves a `Range` header value against a representation of `len` bytes.
///
/// Understands one `bytes=` range of the forms `a-b`, `a-` and `-n`. Numbers too large
/// for a `u64` count as `u64::MAX`. Never panics.
pub(crate) fn resolve_range(header: &str, len: u64) -> RangeOutcome {
    let Some((unit, spec)) = header.trim().split_once('=') else {
        return RangeOutcome::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeOutcome::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        (true, true) => RangeOutcome::Full,
        (true, false) => {
            let Some(suffix) = parse_digits(last) else {
                return RangeOutcome::Full;
            };
            if suffix == 0 || len == 0 {
                return RangeOutcome::Unsatisfiable;
            }
            RangeOutcome::Partial {
                start: len - suffix.min(len),
                end: len - 1,
            }
        }
        (false, open_ended) => {
            let Some(start) = parse_digits(first) else {
                return RangeOutcome::Full;
            };
            let end = if open_ended {
                u64::MAX
            } else {
                match parse_digits(last) {
                    Some(end) if end >= start => end,
                    _ => return RangeOutcome::Full,
                }
            };
            if start >= len {
                return RangeOutcome::Unsatisfiable;
            }
            RangeOutcome::Partial {
                start,
                end: end.min(len - 1),
            }
        }
    }
}

/// Parses a non-empty run of ASCII digits, saturating at `u64::MAX`.
fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().unwrap_or(u64::MAX))
}

/// A strong entity tag derived from `bytes` (64-bit FNV-1a and the length), quoted.
pub(crate) fn content_etag(bytes: &[u8]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("\"{:x}-{hash:016x}\"", bytes.len())
}

/// Normalises an entity tag given by a test: kept as is when already quoted (or weak),
/// quoted otherwise.
pub(crate) fn quote_etag(tag: &str) -> String {
    if tag.starts_with('"') || tag.starts_with("W/\"") {
        tag.to_owned()
    } else {
        format!("\"{tag}\"")
    }
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, `*` matches all).
pub(crate) fn if_none_match(header: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    header.trim() == "*"
        || header
            .split(',')
            .any(|candidate| opaque(candidate) == opaque(etag))
}

/// Whether an `If-Range` value lets the range through: only a strong entity tag that
/// equals `etag` does. A date never matches, as static bodies carry no `Last-Modified`.
pub(crate) fn if_range_matches(header: &str, etag: &str) -> bool {
    let header = header.trim();
    header.starts_with('"') && !etag.starts_with("W/") && header == etag
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::{Full, Partial, Unsatisfiable};
    use super::*;

    #[test]
    fn single_ranges() {
        assert_eq!(
            resolve_range("bytes=0-9", 100),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(
            resolve_range(" Bytes = 10 - 20 ", 100),
            Partial { start: 10, end: 20 }
        );
        assert_eq!(
            resolve_range("bytes=90-200", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range("bytes=40-", 100),
            Partial { start: 40, end: 99 }
        );
        assert_eq!(
            resolve_range("bytes=-10", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range("bytes=-1000", 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            resolve_range("bytes=5-5", 100),
            Partial { start: 5, end: 5 }
        );
        assert_eq!(
            resolve_range("bytes=1-99999999999999999999999", 100),
            Partial { start: 1, end: 99 }
        );
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(resolve_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(resolve_range("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(resolve_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(resolve_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(resolve_range("bytes=-5", 0), Unsatisfiable);
        assert_eq!(
            resolve_range("bytes=99999999999999999999-", 100),
            Unsatisfiable
        );
    }

    #[test]
    fn unusable_ranges_mean_full() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5",
            "bytes=9-3",
            "bytes=a-b",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=+1-2",
            "bytes=1--2",
            "bytes=\u{0663}-4",
        ] {
            assert_eq!(resolve_range(header, 100), Full, "{header:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = crate::http::test_rng(0x4a4e);
        let alphabet = "bytes=-,0123456789 \t\u{e9}";
        let chars: Vec<char> = alphabet.chars().collect();
        for _ in 0..20_000 {
            let len = (rng() % 24) as usize;
            let header: String = (0..len)
                .map(|_| chars[(rng() as usize) % chars.len()])
                .collect();
            let total = rng() % 50;
            if let Partial { start, end } = resolve_range(&header, total) {
                assert!(start <= end && end < total, "{header:?} on {total}");
            }
        }
    }

    #[test]
    fn etags() {
        let tag = content_etag(b"hello");
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag, content_etag(b"hello"));
        assert_ne!(tag, content_etag(b"hellp"));
        assert_eq!(quote_etag("v1"), "\"v1\"");
        assert_eq!(quote_etag("\"v1\""), "\"v1\"");
        assert_eq!(quote_etag("W/\"v1\""), "W/\"v1\"");
    }

    #[test]
    fn preconditions() {
        assert!(if_none_match("\"a\", \"b\"", "\"b\""));
        assert!(if_none_match("W/\"b\"", "\"b\""));
        assert!(if_none_match("*", "\"b\""));
        assert!(!if_none_match("\"a\"", "\"b\""));
        assert!(if_range_matches(" \"b\" ", "\"b\""));
        assert!(!if_range_matches("W/\"b\"", "\"b\""));
        assert!(!if_range_matches("\"b\"", "W/\"b\""));
        assert!(!if_range_matches("\"a\"", "\"b\""));
        assert!(!if_range_matches("Wed, 21 Oct 2015 07:28:00 GMT", "\"b\""));
    }
}
