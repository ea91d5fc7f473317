//! Digests, checksum files and the streaming hasher.

use std::io::Write;

use diskimage::{
    Algorithm, ChecksumEntry, Digest, Expected, HashError, Hasher, Stage, parse_checksum_entries,
    parse_checksum_file,
};

const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA512_EMPTY: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                            47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
const SHA512_ABC: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                          2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

fn hash(algorithm: Algorithm, data: &[u8]) -> Digest {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(data);
    hasher.finish()
}

fn digest(hex: &str) -> Digest {
    Digest::parse(hex).expect("valid digest")
}

#[test]
fn known_vectors() {
    for (algorithm, data, expected) in [
        (Algorithm::Sha256, &b""[..], SHA256_EMPTY),
        (Algorithm::Sha256, b"abc", SHA256_ABC),
        (Algorithm::Sha512, b"", SHA512_EMPTY),
        (Algorithm::Sha512, b"abc", SHA512_ABC),
    ] {
        let actual = hash(algorithm, data);
        assert_eq!(actual.to_string(), expected, "{algorithm} of {data:?}");
        assert_eq!(actual.algorithm(), algorithm);
        assert_eq!(actual.as_bytes().len(), algorithm.digest_len());
        assert_eq!(actual, digest(expected));
        digest(expected).verify(&actual).expect("same digest");
    }
}

#[test]
fn streaming_equals_one_shot() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        let mut hasher = Hasher::new(algorithm);
        for piece in data.chunks(997) {
            hasher.update(piece);
        }
        hasher.update(&[]);
        assert_eq!(hasher.bytes_hashed(), data.len() as u64);
        let mut writer = Hasher::new(algorithm);
        writer.write_all(&data).expect("hashing never fails");
        assert_eq!(hasher.finish(), hash(algorithm, &data));
        assert_eq!(writer.finish(), hash(algorithm, &data));
    }
}

#[test]
fn parse_prefixed_and_bare() {
    let upper = SHA256_ABC.to_ascii_uppercase();
    let cases = [
        (format!("sha256:{SHA256_ABC}"), Algorithm::Sha256),
        (format!("SHA256:{upper}"), Algorithm::Sha256),
        (format!("  sha512:{SHA512_ABC}\n"), Algorithm::Sha512),
        (SHA256_ABC.to_owned(), Algorithm::Sha256),
        (SHA512_ABC.to_owned(), Algorithm::Sha512),
        (upper.clone(), Algorithm::Sha256),
    ];
    for (input, algorithm) in cases {
        let parsed: Digest = input.parse().expect(&input);
        assert_eq!(parsed.algorithm(), algorithm, "{input}");
        assert_eq!(
            parsed.to_string(),
            input.trim().rsplit(':').next().unwrap().to_lowercase()
        );
    }
    assert_eq!(
        digest(SHA256_ABC).prefixed(),
        format!("sha256:{SHA256_ABC}")
    );
    assert_eq!(
        format!("{:?}", digest(SHA256_EMPTY)),
        format!("Digest(sha256:{SHA256_EMPTY})")
    );
}

#[test]
fn parse_errors() {
    let short = &SHA256_ABC[..62];
    assert!(matches!(Digest::parse(""), Err(HashError::Empty)));
    assert!(matches!(Digest::parse("   "), Err(HashError::Empty)));
    assert!(matches!(
        Digest::parse(&format!("md5:{SHA256_ABC}")),
        Err(HashError::UnknownAlgorithm { name }) if name == "md5"
    ));
    assert!(matches!(
        Digest::parse(short),
        Err(HashError::BadLength {
            hex_len: 62,
            algorithm: None
        })
    ));
    assert!(matches!(
        Digest::parse(&format!("sha512:{SHA256_ABC}")),
        Err(HashError::BadLength {
            hex_len: 64,
            algorithm: Some(Algorithm::Sha512)
        })
    ));
    let mut bad = SHA256_ABC.to_owned();
    bad.replace_range(10..11, "g");
    assert!(matches!(
        Digest::parse(&bad),
        Err(HashError::InvalidHex {
            character: 'g',
            position: 10
        })
    ));
    let mut unicode = SHA256_ABC[..63].to_owned();
    unicode.push('é');
    assert!(matches!(
        Digest::parse(&unicode),
        Err(HashError::InvalidHex {
            character: 'é',
            position: 63
        })
    ));
    assert!(matches!(
        Digest::from_bytes(Algorithm::Sha512, &[0; 32]),
        Err(HashError::BadLength {
            hex_len: 64,
            algorithm: Some(Algorithm::Sha512)
        })
    ));
    let ok = Digest::from_bytes(Algorithm::Sha256, &[0xab; 32]).expect("right length");
    assert_eq!(ok.to_string(), "ab".repeat(32));
}

#[test]
fn algorithm_names() {
    for (name, algorithm) in [
        ("sha256", Algorithm::Sha256),
        ("SHA256", Algorithm::Sha256),
        ("SHA2-256", Algorithm::Sha256),
        ("sha-512", Algorithm::Sha512),
        ("SHA512", Algorithm::Sha512),
    ] {
        assert_eq!(name.parse::<Algorithm>().expect(name), algorithm);
    }
    assert!("sha1".parse::<Algorithm>().is_err());
    assert_eq!(Algorithm::Sha512.to_string(), "sha512");
    assert_eq!(Algorithm::from_hex_len(64), Some(Algorithm::Sha256));
    assert_eq!(Algorithm::from_hex_len(128), Some(Algorithm::Sha512));
    assert_eq!(Algorithm::from_hex_len(40), None);
}

#[test]
fn checksum_file_lines() {
    let other = SHA256_EMPTY;
    // (file content, image name, expected digest)
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        // GNU text and binary mode.
        (
            format!("{SHA256_ABC}  img.raw\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        (
            format!("{SHA256_ABC} *img.raw\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        // CRLF, comments, blank lines.
        (
            format!("# built today\r\n\r\n{SHA256_ABC}  img.raw\r\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        // BSD style, as `sha256sum --tag` writes it.
        (
            format!("SHA256 (img.raw) = {SHA256_ABC}\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        (
            format!("SHA512 (img.raw) = {SHA512_ABC}\n"),
            Some("img.raw"),
            SHA512_ABC,
        ),
        // Bare hex, no name.
        (format!("{SHA256_ABC}\n"), Some("img.raw"), SHA256_ABC),
        (format!("{SHA512_ABC} \n"), None, SHA512_ABC),
        // Several lines: the matching one wins, whatever its position and style.
        (
            format!("{other}  a.iso\n{SHA256_ABC}  img.raw.zst\n{other} *b.iso\n"),
            Some("img.raw.zst"),
            SHA256_ABC,
        ),
        (
            format!("SHA256 (a.iso) = {other}\nSHA256 (img.raw) = {SHA256_ABC}\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        // The name is a prefix of another: exact match only.
        (
            format!("{other}  img.raw.zst\n{SHA256_ABC}  img.raw\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        // Paths in the file: the last component matches.
        (
            format!("{other}  ./a.iso\n{SHA256_ABC}  ./out/img.raw\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        // An exact match beats a basename match.
        (
            format!("{other}  out/img.raw\n{SHA256_ABC}  img.raw\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        // A single line is used whatever it names (a wrong digest still fails later).
        (
            format!("{SHA256_ABC}  renamed.raw\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
        (format!("{SHA256_ABC}  img.raw\n"), None, SHA256_ABC),
        // Names with spaces and parentheses.
        (
            format!("{other}  x\n{SHA256_ABC}  my image (v2).raw\n"),
            Some("my image (v2).raw"),
            SHA256_ABC,
        ),
        (
            format!("SHA256 (my (v2)) = x.raw) = {SHA256_ABC}\nSHA256 (b) = {other}\n"),
            Some("my (v2)) = x.raw"),
            SHA256_ABC,
        ),
        // GNU escaping of a backslash in the name.
        (
            format!("\\{SHA256_ABC}  a\\\\b.raw\n{other}  c.raw\n"),
            Some("a\\b.raw"),
            SHA256_ABC,
        ),
        // Identical duplicate lines are fine.
        (
            format!("{SHA256_ABC}  img.raw\n{SHA256_ABC} *img.raw\n{other}  x\n"),
            Some("img.raw"),
            SHA256_ABC,
        ),
    ];
    for (text, name, expected) in cases {
        let parsed = parse_checksum_file(&text, name)
            .unwrap_or_else(|error| panic!("{text:?} for {name:?}: {error}"));
        assert_eq!(parsed, digest(expected), "{text:?} for {name:?}");
    }
}

#[test]
fn checksum_file_entries() {
    let text = format!("{SHA256_ABC}  a.raw\n{SHA512_ABC}\nSHA256 (b c) = {SHA256_EMPTY}\n");
    let entries = parse_checksum_entries(&text).expect("valid file");
    let names: Vec<Option<&str>> = entries.iter().map(|e| e.name.as_deref()).collect();
    assert_eq!(names, [Some("a.raw"), None, Some("b c")]);
    assert_eq!(
        entries[1],
        ChecksumEntry {
            digest: digest(SHA512_ABC),
            name: None
        }
    );
}

#[test]
fn checksum_file_errors() {
    let other = SHA256_EMPTY;
    let two = format!("{other}  a.iso\n{SHA256_ABC}  b.iso\n");
    assert!(matches!(
        parse_checksum_file(&two, Some("img.raw")),
        Err(HashError::NoMatch { name, entries: 2 }) if name == "img.raw"
    ));
    assert!(matches!(
        parse_checksum_file(&two, None),
        Err(HashError::Ambiguous {
            name: None,
            entries: 2
        })
    ));
    let disagree = format!("{other}  img.raw\n{SHA256_ABC} *img.raw\n");
    assert!(matches!(
        parse_checksum_file(&disagree, Some("img.raw")),
        Err(HashError::Ambiguous {
            name: Some(_),
            entries: 2
        })
    ));
    for empty in ["", "\n\n", "# only a comment\n"] {
        assert!(
            matches!(parse_checksum_file(empty, None), Err(HashError::Empty)),
            "{empty:?}"
        );
    }
    // (file, 1-based line of the error)
    let malformed = [
        (format!("{SHA256_ABC} img.raw\n"), 1),
        (format!("{other}  a\nnot a checksum line\n"), 2),
        (format!("{other}  a\n\n{}  b\n", &SHA256_ABC[..40]), 3),
        (format!("MD5 (img.raw) = {SHA256_ABC}\n"), 1),
        (format!("SHA512 (img.raw) = {SHA256_ABC}\n"), 1),
        (format!("SHA256 (img.raw) {SHA256_ABC}\n"), 1),
        (format!("\\{SHA256_ABC}  a\\qb\n"), 1),
    ];
    for (text, line) in malformed {
        match parse_checksum_file(&text, Some("img.raw")) {
            Err(HashError::MalformedLine { line: got, .. }) => assert_eq!(got, line, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn mismatch_errors() {
    let expected = digest(SHA256_ABC);
    let actual = hash(Algorithm::Sha256, b"abd");
    match expected.verify(&actual) {
        Err(HashError::Mismatch {
            algorithm,
            expected: e,
            actual: a,
        }) => {
            assert_eq!(algorithm, Algorithm::Sha256);
            assert_eq!(e, expected);
            assert_eq!(a, actual);
        }
        other => panic!("{other:?}"),
    }
    let message = expected.verify(&actual).unwrap_err().to_string();
    assert!(
        message.contains(SHA256_ABC) && message.contains(&actual.to_string()),
        "{message}"
    );
    assert!(message.starts_with("sha256 mismatch"), "{message}");

    assert!(matches!(
        expected.verify(&hash(Algorithm::Sha512, b"abc")),
        Err(HashError::AlgorithmMismatch {
            expected: Algorithm::Sha256,
            actual: Algorithm::Sha512
        })
    ));
}

#[test]
fn expected_carries_its_stage() {
    let expected = Expected::new(digest(SHA256_ABC), Stage::Compressed);
    assert_eq!(expected.stage, Stage::Compressed);
    assert_eq!(expected.digest.algorithm(), Algorithm::Sha256);
    assert_eq!(Stage::Raw.to_string(), "raw");
    assert_eq!(Stage::Compressed.to_string(), "compressed");
}
