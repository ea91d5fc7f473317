//! Image sources against the fixture HTTP server on 127.0.0.1, local files and stdin.

use std::io::{self, Read};
use std::path::PathBuf;
use std::time::Duration;

use diskimage::{
    Algorithm, Digest, Hasher, Source, SourceError, SourceOptions, SourceSpec, USER_AGENT,
    fetch_checksum, open, parse_checksum_file,
};
use testkit::{Fault, FixtureServer, Response, TempDir};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Content that is not all alike, so that misplaced bytes show.
fn image(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(7) ^ (i >> 9)) as u8 ^ seed)
        .collect()
}

/// Options with a short backoff, so that resume tests run fast.
fn fast() -> SourceOptions {
    let mut opts = SourceOptions::default();
    opts.resume_backoff = Duration::from_millis(5);
    opts.read_timeout = Some(Duration::from_secs(10));
    opts
}

fn open_url(url: &str) -> Result<Source, SourceError> {
    open(&SourceSpec::Url(url.to_owned()), &fast())
}

/// Reads the whole source, giving the bytes read before an error with it.
fn read_all(source: &mut Source) -> (Vec<u8>, io::Result<()>) {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match source.read(&mut buf) {
            Ok(0) => return (out, Ok(())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(error) => return (out, Err(error)),
        }
    }
}

/// Reads the source to an error and returns the `SourceError` inside it.
fn read_error(source: &mut Source) -> (Vec<u8>, SourceError) {
    let (bytes, result) = read_all(source);
    let error = result.expect_err("the read must fail");
    let error = SourceError::try_from_io(error).expect("a SourceError inside the io::Error");
    // A later read fails too: never an end of stream after an error.
    let again = source
        .read(&mut [0; 16])
        .expect_err("reads after an error fail");
    assert!(matches!(
        SourceError::from_io(&again),
        Some(SourceError::AlreadyFailed)
    ));
    (bytes, error)
}

fn ranges(server: &FixtureServer, path: &str) -> Vec<Option<(String, String)>> {
    server
        .requests_for(path)
        .iter()
        .map(|r| {
            r.header("range").map(|range| {
                (
                    range.to_owned(),
                    r.header("if-range").unwrap_or("").to_owned(),
                )
            })
        })
        .collect()
}

#[test]
fn full_download_equals_the_body() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(1_500_000, 0);
    let response = Response::static_body(content.clone());
    let etag = response.static_etag().map(str::to_owned);
    server.route("/images/disk.img", response);

    let mut source = open_url(&server.url("/images/disk.img"))?;
    assert_eq!(source.length(), Some(content.len() as u64));
    assert_eq!(source.name(), Some("disk.img"));
    assert_eq!(source.etag().map(str::to_owned), etag);
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content, "body differs");
    assert_eq!(source.bytes_read(), content.len() as u64);
    assert_eq!(source.resumes(), 0);
    // The end stays the end.
    assert_eq!(source.read(&mut [0; 8])?, 0);

    let requests = server.requests_for("/images/disk.img");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("diskimage/"));
    assert_eq!(requests[0].header("accept-encoding"), Some("identity"));
    assert_eq!(requests[0].header("range"), None);
    Ok(())
}

#[test]
fn dropped_connection_is_resumed_with_if_range() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(1_000_000, 1);
    let response = Response::static_body(content.clone());
    let etag = response.static_etag().expect("static").to_owned();
    server.route("/disk.img", response);
    server.drop_next_mid_body("/disk.img", 1, 300_000);

    let mut source = open_url(&server.url("/disk.img"))?;
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content, "resumed body differs");
    assert_eq!(source.resumes(), 1);
    assert_eq!(
        ranges(&server, "/disk.img"),
        [None, Some(("bytes=300000-".to_owned(), etag))]
    );
    let faults: Vec<Option<Fault>> = server.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        [
            Some(Fault::DroppedMidBody {
                after_bytes: 300_000
            }),
            None
        ]
    );
    Ok(())
}

#[test]
fn several_drops_are_each_resumed() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(50_000, 2);
    let response = Response::static_body(content.clone());
    let etag = response.static_etag().expect("static").to_owned();
    server.route("/disk.img", response);
    server.drop_next_mid_body("/disk.img", 3, 1_000);

    let mut source = open_url(&server.url("/disk.img"))?;
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content);
    assert_eq!(source.resumes(), 3);
    let expected: Vec<Option<(String, String)>> = [None, Some(1_000), Some(2_000), Some(3_000)]
        .into_iter()
        .map(|start| start.map(|s| (format!("bytes={s}-"), etag.clone())))
        .collect();
    assert_eq!(ranges(&server, "/disk.img"), expected);
    Ok(())
}

#[test]
fn resume_attempts_are_bounded() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(50_000, 3);
    server.route("/disk.img", Response::static_body(content.clone()));
    server.drop_next_mid_body("/disk.img", 10, 1_000);

    let mut opts = fast();
    opts.max_resumes = 2;
    let mut source = open(&SourceSpec::Url(server.url("/disk.img")), &opts)?;
    let (bytes, error) = read_error(&mut source);
    assert_eq!(bytes, content[..3_000]);
    match error {
        SourceError::Interrupted {
            attempts,
            received,
            expected,
            ..
        } => {
            assert_eq!((attempts, received, expected), (2, 3_000, Some(50_000)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.calls("/disk.img"), 3);
    Ok(())
}

#[test]
fn a_server_error_on_resume_is_retried() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(20_000, 4);
    server.route("/disk.img", Response::static_body(content.clone()));
    server.drop_next_mid_body("/disk.img", 1, 5_000);
    server.fail_next_on("/disk.img", 1, 503);

    let mut source = open_url(&server.url("/disk.img"))?;
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content);
    assert_eq!(source.resumes(), 1);
    let faults: Vec<Option<Fault>> = server.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        [
            Some(Fault::DroppedMidBody { after_bytes: 5_000 }),
            Some(Fault::Status(503)),
            None
        ]
    );
    Ok(())
}

#[test]
fn changed_resource_is_not_spliced() -> TestResult {
    let server = FixtureServer::start()?;
    let old = image(40_000, 5);
    let new = image(40_000, 6);
    server.route_sequence(
        "/disk.img",
        vec![
            Response::static_body(old.clone()),
            Response::static_body(new.clone()),
        ],
    );
    server.drop_next_mid_body("/disk.img", 1, 10_000);

    let mut source = open_url(&server.url("/disk.img"))?;
    let (bytes, error) = read_error(&mut source);
    assert_eq!(bytes, old[..10_000]);
    assert!(matches!(error, SourceError::Changed { .. }), "{error:?}");
    // The resume was conditional on the old entity tag.
    let requests = server.requests_for("/disk.img");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-range"), source.etag());
    assert_eq!(requests[1].header("range"), Some("bytes=10000-"));
    Ok(())
}

/// A hand-made `206` answering the resume after a drop at `cut` of `content`.
fn partial(content: &[u8], cut: usize, etag: &str, content_range: &str) -> Response {
    Response::new(206)
        .header("ETag", etag)
        .header("Content-Range", content_range)
        .body(&content[cut..])
}

#[test]
fn a_206_must_match_etag_length_and_start() -> TestResult {
    let content = image(10_000, 7);
    let first = Response::static_body(content.clone());
    let etag = first.static_etag().expect("static").to_owned();
    let cases = [
        (
            partial(&content, 4_000, "\"other\"", "bytes 4000-9999/10000"),
            "changed",
        ),
        (
            partial(
                &content,
                4_000,
                &format!("W/{etag}"),
                "bytes 4000-9999/10000",
            ),
            "changed",
        ),
        (
            partial(&content, 4_000, &etag, "bytes 4000-10999/11000"),
            "changed",
        ),
        (
            partial(&content, 3_000, &etag, "bytes 3000-9999/10000"),
            "protocol",
        ),
        (
            partial(&content, 4_000, &etag, "bytes 4000-8999/10000"),
            "protocol",
        ),
        (Response::new(206).header("ETag", &etag), "protocol"),
        (Response::error(416), "changed"),
        (Response::error(403), "status"),
    ];
    for (answer, kind) in cases {
        let server = FixtureServer::start()?;
        server.route_sequence("/disk.img", vec![first.clone(), answer]);
        server.drop_next_mid_body("/disk.img", 1, 4_000);
        let mut source = open_url(&server.url("/disk.img"))?;
        let (bytes, error) = read_error(&mut source);
        assert_eq!(bytes, content[..4_000]);
        let ok = match kind {
            "changed" => matches!(error, SourceError::Changed { .. }),
            "protocol" => matches!(error, SourceError::Protocol { .. }),
            _ => matches!(error, SourceError::Status { status: 403, .. }),
        };
        assert!(ok, "{kind}: {error:?}");
        assert_eq!(server.calls("/disk.img"), 2);
    }
    Ok(())
}

#[test]
fn a_correct_hand_made_206_is_accepted() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(10_000, 8);
    let first = Response::static_body(content.clone());
    let etag = first.static_etag().expect("static").to_owned();
    let rest = partial(&content, 4_000, &etag, "bytes 4000-9999/10000");
    server.route_sequence("/disk.img", vec![first, rest]);
    server.drop_next_mid_body("/disk.img", 1, 4_000);
    let mut source = open_url(&server.url("/disk.img"))?;
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content);
    Ok(())
}

#[test]
fn no_range_support_means_truncated() -> TestResult {
    let content = image(30_000, 9);
    let variants = [
        (
            "no Accept-Ranges",
            Response::static_body(content.clone()).without_ranges(),
            fast(),
        ),
        (
            "weak ETag",
            Response::static_body(content.clone()).etag("W/\"v1\""),
            fast(),
        ),
        (
            "resuming disabled",
            Response::static_body(content.clone()),
            {
                let mut opts = fast();
                opts.max_resumes = 0;
                opts
            },
        ),
        (
            "no ETag",
            Response::new(200)
                .header("Accept-Ranges", "bytes")
                .body(&content),
            fast(),
        ),
    ];
    for (what, response, opts) in variants {
        let server = FixtureServer::start()?;
        server.route("/disk.img", response);
        server.drop_next_mid_body("/disk.img", 1, 12_345);
        let mut source = open(&SourceSpec::Url(server.url("/disk.img")), &opts)?;
        let (bytes, error) = read_error(&mut source);
        assert_eq!(bytes, content[..12_345], "{what}");
        match error {
            SourceError::Truncated {
                received, expected, ..
            } => assert_eq!((received, expected), (12_345, Some(30_000)), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(server.calls("/disk.img"), 1, "{what}: no resume request");
    }
    Ok(())
}

#[test]
fn chunked_bodies_end_only_with_their_last_chunk() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(100_000, 10);
    server.route(
        "/chunked.img",
        Response::static_body(content.clone()).chunked(),
    );
    server.route(
        "/chunked-plain.img",
        Response::static_body(content.clone())
            .chunked()
            .without_ranges(),
    );

    // Complete: the length is unknown, the bytes are all there.
    let mut source = open_url(&server.url("/chunked.img"))?;
    assert_eq!(source.length(), None);
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content);

    // Cut without range support: an error, never an end of stream.
    server.drop_next_mid_body("/chunked-plain.img", 1, 50_000);
    let mut source = open_url(&server.url("/chunked-plain.img"))?;
    let (bytes, error) = read_error(&mut source);
    assert_eq!(bytes, content[..50_000]);
    match error {
        SourceError::Truncated {
            received, expected, ..
        } => assert_eq!((received, expected), (50_000, None)),
        other => panic!("{other:?}"),
    }

    // Cut with range support: resumed, the 206 tells the full length.
    server.drop_next_mid_body("/chunked.img", 1, 50_000);
    let mut source = open_url(&server.url("/chunked.img"))?;
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content);
    assert_eq!(source.resumes(), 1);
    Ok(())
}

#[test]
fn a_close_delimited_body_is_refused() -> TestResult {
    let server = FixtureServer::start()?;
    server.route(
        "/disk.img",
        Response::static_body(image(1_000, 11)).close_delimited(),
    );
    match open_url(&server.url("/disk.img")) {
        Err(SourceError::Unframed { url }) => assert!(url.ends_with("/disk.img")),
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[test]
fn error_statuses_are_typed() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/broken.img", Response::error(500));
    match open_url(&server.url("/missing.img")) {
        Err(SourceError::Status { status: 404, url }) => assert!(url.ends_with("/missing.img")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        open_url(&server.url("/broken.img")),
        Err(SourceError::Status { status: 500, .. })
    ));
    server.route("/disk.img", Response::static_body(image(10, 0)));
    server.fail_next(1, 503);
    assert!(matches!(
        open_url(&server.url("/disk.img")),
        Err(SourceError::Status { status: 503, .. })
    ));
    Ok(())
}

#[test]
fn bad_urls_and_refused_connections() -> TestResult {
    for url in ["http://", "ftp://example.com/x.img", "not a url"] {
        assert!(
            matches!(open_url(url), Err(SourceError::InvalidUrl { .. })),
            "{url}"
        );
    }
    let server = FixtureServer::start()?;
    let url = server.url("/disk.img");
    drop(server);
    assert!(matches!(open_url(&url), Err(SourceError::Request { .. })));
    Ok(())
}

#[test]
fn redirects_are_followed_and_resumes_go_to_the_target() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(20_000, 12);
    server.route(
        "/latest.img",
        Response::new(302).header("Location", "/v2/disk.img"),
    );
    server.route("/v2/disk.img", Response::static_body(content.clone()));
    server.drop_next_mid_body("/v2/disk.img", 1, 7_000);

    let mut source = open_url(&server.url("/latest.img"))?;
    // The name is the one asked for, not the redirect target's.
    assert_eq!(source.name(), Some("latest.img"));
    let (bytes, result) = read_all(&mut source);
    result?;
    assert!(bytes == content);
    assert_eq!(server.calls("/latest.img"), 1);
    assert_eq!(server.calls("/v2/disk.img"), 2);
    assert_eq!(
        ranges(&server, "/v2/disk.img")[1]
            .as_ref()
            .map(|(r, _)| r.as_str()),
        Some("bytes=7000-")
    );

    // Too many hops.
    server.route("/loop", Response::new(302).header("Location", "/loop"));
    match open_url(&server.url("/loop")) {
        Err(SourceError::Redirects { limit: 10, .. }) => {}
        other => panic!("{other:?}"),
    }
    server.route(
        "/hop1",
        Response::new(301).header("Location", "/latest.img"),
    );
    let mut opts = fast();
    opts.max_redirects = 1;
    assert!(matches!(
        open(&SourceSpec::Url(server.url("/hop1")), &opts),
        Err(SourceError::Redirects { limit: 1, .. })
    ));
    opts.max_redirects = 2;
    let mut source = open(&SourceSpec::Url(server.url("/hop1")), &opts)?;
    let mut bytes = Vec::new();
    source.read_to_end(&mut bytes)?;
    assert!(bytes == content);
    Ok(())
}

#[test]
fn checksum_published_beside_the_image() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(64_000, 13);
    let mut hasher = Hasher::new(Algorithm::Sha256);
    hasher.update(&content);
    let digest = hasher.finish();
    let sums = format!("{}  other.img\n{digest}  disk.img.zst\n", "0".repeat(64));
    server.route("/disk.img.zst", Response::static_body(content.clone()));
    server.route("/disk.img.zst.sha256", Response::text(200, &sums));
    server.route(
        "/only512.img.sha512",
        Response::text(200, &format!("{}\n", "a".repeat(128))),
    );
    server.route("/broken.img.sha256", Response::error(500));

    // Found, parsed with the source's name, verified.
    let url = server.url("/disk.img.zst?token=abc");
    let text = fetch_checksum(&url, &fast())?.expect("published checksum");
    assert_eq!(text, sums);
    let mut source = open_url(&url)?;
    assert_eq!(source.name(), Some("disk.img.zst"));
    let expected = parse_checksum_file(&text, source.name())?;
    let mut hasher = Hasher::new(expected.algorithm());
    io::copy(&mut source, &mut hasher)?;
    expected.verify(&hasher.finish())?;
    let asked = server.requests_for("/disk.img.zst.sha256");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].query.as_deref(), Some("token=abc"));

    // Only a .sha512.
    let text = fetch_checksum(&server.url("/only512.img"), &fast())?;
    assert_eq!(
        text.as_deref()
            .map(Digest::parse)
            .transpose()?
            .map(|d| d.algorithm()),
        Some(Algorithm::Sha512)
    );
    assert_eq!(server.calls("/only512.img.sha256"), 1);

    // Neither.
    assert_eq!(fetch_checksum(&server.url("/none.img"), &fast())?, None);
    assert_eq!(server.calls("/none.img.sha256"), 1);
    assert_eq!(server.calls("/none.img.sha512"), 1);

    // Another error is not "absent".
    assert!(matches!(
        fetch_checksum(&server.url("/broken.img"), &fast()),
        Err(SourceError::Status { status: 500, .. })
    ));
    Ok(())
}

#[test]
fn file_sources() -> TestResult {
    let dir = TempDir::new("diskimage-source")?;
    let content = image(200_000, 14);
    let path = dir.join("disk image.raw");
    std::fs::write(&path, &content)?;

    let spec = SourceSpec::parse(path.to_str().expect("UTF-8 path"));
    assert_eq!(spec, SourceSpec::File(path.clone()));
    let mut source = open(&spec, &fast())?;
    assert_eq!(source.length(), Some(content.len() as u64));
    assert_eq!(source.name(), Some("disk image.raw"));
    assert_eq!(source.etag(), None);
    let mut bytes = Vec::new();
    source.read_to_end(&mut bytes)?;
    assert!(bytes == content);
    assert_eq!(source.resumes(), 0);

    // A file that shrinks while read is truncated, one that grows is refused.
    let mut source = open(&spec, &fast())?;
    std::fs::write(&path, &content[..1_000])?;
    let (bytes, error) = read_error(&mut source);
    assert_eq!(bytes, content[..1_000]);
    assert!(matches!(
        error,
        SourceError::Truncated {
            received: 1_000,
            expected: Some(200_000),
            ..
        }
    ));
    let mut source = open(&spec, &fast())?;
    std::fs::write(&path, image(1_001, 0))?;
    let (_, error) = read_error(&mut source);
    assert!(
        matches!(error, SourceError::Grew { expected: 1_000 }),
        "{error:?}"
    );

    for bad in [dir.join("missing.raw"), dir.path().to_owned()] {
        match open(&SourceSpec::File(bad.clone()), &fast()) {
            Err(SourceError::Open { path, .. }) => assert_eq!(path, bad),
            other => panic!("{}: {other:?}", bad.display()),
        }
    }
    Ok(())
}

#[test]
fn spec_parsing() {
    let cases = [
        ("-", SourceSpec::Stdin),
        ("http://h/x.img", SourceSpec::Url("http://h/x.img".into())),
        ("HTTPS://h/x.img", SourceSpec::Url("HTTPS://h/x.img".into())),
        ("./-", SourceSpec::File(PathBuf::from("./-"))),
        ("/dev/sda", SourceSpec::File(PathBuf::from("/dev/sda"))),
        ("http", SourceSpec::File(PathBuf::from("http"))),
        ("httpx://h", SourceSpec::File(PathBuf::from("httpx://h"))),
        (
            "image.raw.zst",
            SourceSpec::File(PathBuf::from("image.raw.zst")),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(SourceSpec::parse(input), expected, "{input}");
        assert_eq!(SourceSpec::parse(input).to_string(), input);
    }
}

/// Opening stdin gives a `Send` source of unknown length (reading it end to end is
/// tested through the `diskimage` command, `examples/diskimage/tests/cli.rs`).
#[test]
fn stdin_source_is_send_and_unsized() -> TestResult {
    fn assert_send<T: Send>(_: &T) {}
    let source = open(&SourceSpec::Stdin, &SourceOptions::default())?;
    assert_send(&source);
    assert_eq!((source.length(), source.name()), (None, None));
    Ok(())
}
