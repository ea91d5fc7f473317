//! Checksums: expected digests as users and publishers write them, and a streaming hasher.
//!
//! Everything here is pure. An expected value comes from the command line
//! (`sha256:<hex>`, `sha512:<hex>`, or bare hex whose length decides the algorithm,
//! see [`Digest::parse`]) or from a checksum file as `sha256sum`/`sha512sum` write it
//! ([`parse_checksum_file`]). The actual value comes from a [`Hasher`] fed with the
//! stream, and [`Digest::verify`] compares the two, failing with
//! [`HashError::Mismatch`]. A [`Stage`] says which stream a checksum covers: the file
//! as downloaded (often compressed) or the raw image written to the disk.

use std::fmt;
use std::io;
use std::str::FromStr;

use sha2::Digest as _;

/// A hash algorithm the crate can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-256 (32-byte digest, 64 hex digits).
    Sha256,
    /// SHA-512 (64-byte digest, 128 hex digits).
    Sha512,
}

impl Algorithm {
    /// The lowercase name used in prefixes and file extensions: `sha256`, `sha512`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// The algorithm whose digest is written with `hex_len` hex digits, if any.
    pub fn from_hex_len(hex_len: usize) -> Option<Self> {
        match hex_len {
            64 => Some(Self::Sha256),
            128 => Some(Self::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = HashError;

    /// Parses `sha256`/`sha512`, ASCII case-insensitively, also as BSD tags spell them
    /// (`SHA256`, `SHA2-256`, `SHA-256`).
    fn from_str(s: &str) -> Result<Self, HashError> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "sha256" | "sha-256" | "sha2-256" => Ok(Self::Sha256),
            "sha512" | "sha-512" | "sha2-512" => Ok(Self::Sha512),
            _ => Err(HashError::UnknownAlgorithm {
                name: s.trim().to_owned(),
            }),
        }
    }
}

/// Which stream a checksum is over.
///
/// A `<url>.sha256` published beside `image.raw.zst` covers the compressed file as
/// downloaded ([`Stage::Compressed`]); a checksum of the image itself, e.g. from a
/// build pipeline, covers the decompressed bytes written to the disk ([`Stage::Raw`]).
/// For an uncompressed image both are the same stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The bytes as read from the source, before decompression.
    Compressed,
    /// The decompressed image, as written to the target.
    Raw,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Compressed => "compressed",
            Self::Raw => "raw",
        })
    }
}

/// A digest: an algorithm and its output bytes.
///
/// Displays as lowercase hex; [`Digest::prefixed`] adds the `sha256:` form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    bytes: Box<[u8]>,
}

impl Digest {
    /// A digest from raw bytes, which must be as long as `algorithm` produces.
    ///
    /// # Errors
    ///
    /// [`HashError::BadLength`] when `bytes` has the wrong length (counted in hex
    /// digits, as in parsed input).
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<Self, HashError> {
        if bytes.len() != algorithm.digest_len() {
            return Err(HashError::BadLength {
                hex_len: bytes.len() * 2,
                algorithm: Some(algorithm),
            });
        }
        Ok(Self {
            algorithm,
            bytes: bytes.into(),
        })
    }

    /// Parses an expected digest: `sha256:<hex>`, `sha512:<hex>` (prefix
    /// case-insensitive) or bare hex, whose length (64 or 128 digits) decides the
    /// algorithm. Hex digits may be upper- or lowercase; surrounding whitespace is
    /// ignored.
    ///
    /// # Errors
    ///
    /// [`HashError::UnknownAlgorithm`] for another prefix, [`HashError::InvalidHex`]
    /// for a non-hex character, [`HashError::BadLength`] for a length that does not
    /// fit the (named or guessed) algorithm, [`HashError::Empty`] for nothing.
    pub fn parse(s: &str) -> Result<Self, HashError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(HashError::Empty);
        }
        match s.split_once(':') {
            Some((name, hex)) => Self::from_hex(Some(name.parse()?), hex.trim()),
            None => Self::from_hex(None, s),
        }
    }

    /// Parses hex digits for `algorithm`, or for the algorithm their length names.
    ///
    /// # Errors
    ///
    /// As [`Digest::parse`].
    pub fn from_hex(algorithm: Option<Algorithm>, hex: &str) -> Result<Self, HashError> {
        if let Some(position) = hex.find(|c: char| !c.is_ascii_hexdigit()) {
            // `position` is at a char boundary: every char before it is ASCII.
            let character = hex[position..].chars().next().unwrap_or_default();
            return Err(HashError::InvalidHex {
                character,
                position,
            });
        }
        let algorithm = match (algorithm, Algorithm::from_hex_len(hex.len())) {
            (Some(named), Some(guessed)) if named == guessed => named,
            (None, Some(guessed)) => guessed,
            (named, _) => {
                return Err(HashError::BadLength {
                    hex_len: hex.len(),
                    algorithm: named,
                });
            }
        };
        let bytes: Box<[u8]> = hex
            .as_bytes()
            .chunks_exact(2)
            .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1]))
            .collect();
        Ok(Self { algorithm, bytes })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The digest as `<algorithm>:<lowercase hex>`, e.g. `sha256:ba7816bf…`.
    pub fn prefixed(&self) -> String {
        format!("{}:{self}", self.algorithm)
    }

    /// Compares `self`, the expected digest, with `actual`.
    ///
    /// # Errors
    ///
    /// [`HashError::Mismatch`] when they differ, [`HashError::AlgorithmMismatch`] when
    /// `actual` was computed with another algorithm (a caller bug: hash with
    /// `Hasher::new(expected.algorithm())`).
    pub fn verify(&self, actual: &Digest) -> Result<(), HashError> {
        if self.algorithm != actual.algorithm {
            return Err(HashError::AlgorithmMismatch {
                expected: self.algorithm,
                actual: actual.algorithm,
            });
        }
        if self.bytes != actual.bytes {
            return Err(HashError::Mismatch {
                algorithm: self.algorithm,
                expected: self.clone(),
                actual: actual.clone(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({}:{self})", self.algorithm)
    }
}

impl FromStr for Digest {
    type Err = HashError;

    fn from_str(s: &str) -> Result<Self, HashError> {
        Self::parse(s)
    }
}

/// The value of an ASCII hex digit (callers check `is_ascii_hexdigit` first).
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// An expected digest and the stream it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The digest the stream must have.
    pub digest: Digest,
    /// Which stream: as downloaded, or decompressed.
    pub stage: Stage,
}

impl Expected {
    /// An expected `digest` over the `stage` stream.
    pub fn new(digest: Digest, stage: Stage) -> Self {
        Self { digest, stage }
    }
}

/// A streaming hasher for one [`Algorithm`].
///
/// Feed it with [`Hasher::update`] (or as an [`io::Write`]) and take the result with
/// [`Hasher::finish`].
#[derive(Clone)]
pub struct Hasher {
    state: State,
    bytes: u64,
}

#[derive(Clone)]
enum State {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        Self { state, bytes: 0 }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            State::Sha256(_) => Algorithm::Sha256,
            State::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Hashes `data`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Sha256(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
        self.bytes += data.len() as u64;
    }

    /// How many bytes were hashed so far.
    pub fn bytes_hashed(&self) -> u64 {
        self.bytes
    }

    /// The digest of everything hashed.
    pub fn finish(self) -> Digest {
        let (algorithm, bytes): (Algorithm, Box<[u8]>) = match self.state {
            State::Sha256(h) => (Algorithm::Sha256, h.finalize().as_slice().into()),
            State::Sha512(h) => (Algorithm::Sha512, h.finalize().as_slice().into()),
        };
        Digest { algorithm, bytes }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One line of a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// The digest.
    pub digest: Digest,
    /// The file name the line names, unescaped; `None` for a line of bare hex.
    pub name: Option<String>,
}

/// Parses every entry of a checksum file: lines as `sha256sum`/`sha512sum` write them
/// (`<hex>  <name>`, `<hex> *<name>`, the escaped form starting with `\`), BSD style
/// (`SHA256 (<name>) = <hex>`, as `--tag` writes), or bare hex. Empty lines and lines
/// starting with `#` are skipped; a trailing CR is ignored.
///
/// # Errors
///
/// [`HashError::MalformedLine`] naming the first line (1-based) that is none of these,
/// [`HashError::Empty`] when there is no entry at all.
pub fn parse_checksum_entries(text: &str) -> Result<Vec<ChecksumEntry>, HashError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let entry = parse_line(line).map_err(|reason| HashError::MalformedLine {
            line: index + 1,
            reason: Box::new(reason),
        })?;
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(HashError::Empty);
    }
    Ok(entries)
}

/// Picks the expected digest for the file called `name` from a checksum file (see
/// [`parse_checksum_entries`] for the accepted syntax).
///
/// The entry whose name equals `name` wins; failing that, the entry whose name's last
/// `/`-separated component equals `name` (lines such as `./image.raw` or
/// `out/image.raw`). Several matching entries must agree. When nothing matches, or
/// `name` is `None`, a file with a single entry gives that entry: a `.sha256` file
/// published beside an image often names it differently, and a wrong digest still
/// fails the later comparison.
///
/// # Errors
///
/// [`HashError::NoMatch`] when several entries exist and none names `name`,
/// [`HashError::Ambiguous`] when matching entries disagree (or, without a name,
/// several entries exist), and the errors of [`parse_checksum_entries`].
pub fn parse_checksum_file(text: &str, name: Option<&str>) -> Result<Digest, HashError> {
    let entries = parse_checksum_entries(text)?;
    if let Some(name) = name {
        let exact: Vec<&ChecksumEntry> = entries
            .iter()
            .filter(|e| e.name.as_deref() == Some(name))
            .collect();
        let matching = if exact.is_empty() {
            entries
                .iter()
                .filter(|e| {
                    e.name
                        .as_deref()
                        .is_some_and(|n| n.rsplit('/').next() == Some(name))
                })
                .collect()
        } else {
            exact
        };
        if let Some(first) = matching.first() {
            if matching.iter().any(|e| e.digest != first.digest) {
                return Err(HashError::Ambiguous {
                    name: Some(name.to_owned()),
                    entries: matching.len(),
                });
            }
            return Ok(first.digest.clone());
        }
    }
    match (entries.as_slice(), name) {
        ([only], _) => Ok(only.digest.clone()),
        (_, Some(name)) => Err(HashError::NoMatch {
            name: name.to_owned(),
            entries: entries.len(),
        }),
        (_, None) => Err(HashError::Ambiguous {
            name: None,
            entries: entries.len(),
        }),
    }
}

/// Parses one non-empty, non-comment line.
fn parse_line(line: &str) -> Result<ChecksumEntry, HashError> {
    let trimmed = line.trim();
    // BSD style: `SHA256 (name) = hex`.
    if let Some((tag, rest)) = trimmed.split_once(" (")
        && !tag.contains(char::is_whitespace)
        && !tag.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let (name, hex) = rest.rsplit_once(") = ").ok_or(HashError::Syntax {
            expected: "`) = <hex>` after a BSD-style name",
        })?;
        let digest = Digest::from_hex(Some(tag.parse()?), hex.trim())?;
        return Ok(ChecksumEntry {
            digest,
            name: Some(name.to_owned()),
        });
    }
    // GNU style. A leading backslash marks an escaped name (`\\` and `\n`).
    let (escaped, body) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (hex, name) = match body.split_once(' ') {
        Some((hex, rest)) if rest.trim().is_empty() => (hex, None),
        None => (body.trim(), None),
        Some((hex, rest)) => {
            // `<hex>  <name>` (text mode) or `<hex> *<name>` (binary mode).
            let name = rest
                .strip_prefix(' ')
                .or_else(|| rest.strip_prefix('*'))
                .ok_or(HashError::Syntax {
                    expected: "two spaces or ` *` between the digest and the name",
                })?;
            if name.is_empty() {
                return Err(HashError::Syntax {
                    expected: "a file name after the digest",
                });
            }
            (hex, Some(name))
        }
    };
    let digest = Digest::from_hex(None, hex)?;
    let name = match (name, escaped) {
        (Some(name), true) => Some(unescape(name)?),
        (name, _) => name.map(str::to_owned),
    };
    Ok(ChecksumEntry { digest, name })
}

/// Undoes the escaping of GNU coreutils for names with `\` or a newline.
fn unescape(name: &str) -> Result<String, HashError> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            _ => {
                return Err(HashError::Syntax {
                    expected: "`\\\\`, `\\n` or `\\r` in an escaped name",
                });
            }
        }
    }
    Ok(out)
}

/// What can go wrong with an expected digest or a comparison.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// No digest: empty input, or a checksum file without entries.
    #[error("no checksum given")]
    Empty,
    /// An algorithm name other than sha256 and sha512.
    #[error("unsupported hash algorithm {name:?} (supported: sha256, sha512)")]
    UnknownAlgorithm {
        /// The name as given.
        name: String,
    },
    /// A character that is not a hex digit.
    #[error("invalid hex digit {character:?} at position {position} of the digest")]
    InvalidHex {
        /// The offending character.
        character: char,
        /// Its byte position in the hex digits.
        position: usize,
    },
    /// A digest length that fits no algorithm, or not the named one.
    #[error(
        "a digest of {hex_len} hex digits is {}",
        match algorithm {
            Some(a) => format!("not a {a} digest ({} digits)", a.digest_len() * 2),
            None => "neither sha256 (64 digits) nor sha512 (128 digits)".to_owned(),
        }
    )]
    BadLength {
        /// The number of hex digits.
        hex_len: usize,
        /// The algorithm named by a prefix or tag, if any.
        algorithm: Option<Algorithm>,
    },
    /// A line's syntax is not that of a checksum line.
    #[error("expected {expected}")]
    Syntax {
        /// What was expected.
        expected: &'static str,
    },
    /// A line of a checksum file could not be parsed.
    #[error("checksum file line {line}: {reason}")]
    MalformedLine {
        /// The line number, from 1.
        line: usize,
        /// Why.
        reason: Box<HashError>,
    },
    /// A checksum file with several entries has none for the image.
    #[error("the checksum file has {entries} entries and none for {name:?}")]
    NoMatch {
        /// The image's file name.
        name: String,
        /// How many entries the file has.
        entries: usize,
    },
    /// A checksum file does not say unambiguously which digest applies.
    #[error(
        "the checksum file has {entries} disagreeing entries{}",
        name.as_deref().map(|n| format!(" for {n:?}")).unwrap_or_else(|| " and no file name to choose by".to_owned())
    )]
    Ambiguous {
        /// The image's file name, if known.
        name: Option<String>,
        /// How many entries were candidates.
        entries: usize,
    },
    /// The data does not have the expected digest.
    #[error("{algorithm} mismatch: expected {expected}, got {actual}")]
    Mismatch {
        /// The algorithm.
        algorithm: Algorithm,
        /// The expected digest.
        expected: Digest,
        /// The digest of the data.
        actual: Digest,
    },
    /// An expected and an actual digest of different algorithms were compared.
    #[error("cannot compare a {expected} digest with a {actual} digest")]
    AlgorithmMismatch {
        /// The expected digest's algorithm.
        expected: Algorithm,
        /// The actual digest's algorithm.
        actual: Algorithm,
    },
}
