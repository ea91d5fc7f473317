//! Integration tests of the HTTP fixture server, driven by hand-written requests on raw
//! TCP connections.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use testkit::{Fault, FixtureServer, HttpError, Response, UploadBody};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Client-side timeout, so that a broken server fails a test instead of hanging it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A response as a client read it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One client connection.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: &FixtureServer) -> std::io::Result<Self> {
        let stream = TcpStream::connect(server.addr())?;
        stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
        Ok(Self {
            reader: BufReader::new(stream),
        })
    }

    fn send(&mut self, raw: &[u8]) -> std::io::Result<()> {
        self.reader.get_mut().write_all(raw)
    }

    /// Reads a status line and headers.
    fn read_head(&mut self) -> std::io::Result<Answer> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let line = line.trim_end_matches("\r\n");
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| std::io::Error::other(format!("bad header {line:?}")))?;
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        Ok(Answer {
            status,
            headers,
            body: Vec::new(),
        })
    }

    /// Reads one whole response; `head_request` when it answers a `HEAD`.
    fn read_answer(&mut self, head_request: bool) -> std::io::Result<Answer> {
        let mut answer = self.read_head()?;
        let bodiless = head_request || matches!(answer.status, 100..=199 | 204 | 304);
        if !bodiless {
            match answer.content_length() {
                Some(len) => {
                    answer.body.resize(len, 0);
                    self.reader.read_exact(&mut answer.body)?;
                }
                None => {
                    self.reader.read_to_end(&mut answer.body)?;
                }
            }
        }
        Ok(answer)
    }

    /// Reads until the server closes the connection.
    fn read_rest(&mut self) -> std::io::Result<Vec<u8>> {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest)?;
        Ok(rest)
    }

    fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: fixture\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str("\r\n");
        self.send(raw.as_bytes()).expect("send request");
        self.read_answer(method == "HEAD").expect("read answer")
    }
}

/// Sends one request on a new connection and reads the answer.
fn request(server: &FixtureServer, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    Client::connect(server)
        .expect("connect")
        .request(method, path, headers)
}

fn get(server: &FixtureServer, path: &str) -> Answer {
    request(server, "GET", path, &[])
}

/// Sends raw bytes on a new connection and reads one answer.
fn raw_exchange(server: &FixtureServer, raw: &[u8]) -> std::io::Result<(Answer, Client)> {
    let mut client = Client::connect(server)?;
    client.send(raw)?;
    let answer = client.read_answer(false)?;
    Ok((answer, client))
}

/// Content that is not all alike, so that misplaced ranges show.
fn image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn canned_response_and_counts() -> TestResult {
    let server = FixtureServer::start()?;
    server.route(
        "/maps/api/geocode/json",
        Response::json(200, r#"{"status":"OK"}"#),
    );
    assert!(
        server
            .url("/x")
            .starts_with(&format!("http://127.0.0.1:{}/", server.addr().port()))
    );

    for _ in 0..2 {
        let answer = get(&server, "/maps/api/geocode/json?address=Berlin&key=k");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.text(), r#"{"status":"OK"}"#);
    }
    assert_eq!(server.calls("/maps/api/geocode/json"), 2);
    assert_eq!(server.total_calls(), 2);
    let requests = server.requests_for("/maps/api/geocode/json");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].query.as_deref(), Some("address=Berlin&key=k"));
    assert_eq!(requests[0].header("host"), Some("fixture"));
    assert_eq!(requests[0].fault, None);
    assert!(requests[0].received_at <= requests[1].received_at);

    server.clear_log();
    assert_eq!(server.total_calls(), 0);
    assert!(server.requests().is_empty());
    Ok(())
}

#[test]
fn unknown_path_is_404_and_counted() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/known", Response::text(200, "yes"));
    let answer = get(&server, "/unknown");
    assert_eq!(answer.status, 404);
    assert_eq!(server.calls("/unknown"), 1);
    assert_eq!(server.calls("/known"), 0);
    Ok(())
}

#[test]
fn method_routes() -> TestResult {
    let server = FixtureServer::start()?;
    server.route_method("GET", "/item", Response::text(200, "got"));
    server.route_method("DELETE", "/item", Response::new(204));
    assert_eq!(get(&server, "/item").text(), "got");
    let head = request(&server, "HEAD", "/item", &[]);
    assert_eq!((head.status, head.content_length()), (200, Some(3)));
    assert_eq!(request(&server, "DELETE", "/item", &[]).status, 204);
    let post = request(&server, "POST", "/item", &[("Content-Length", "0")]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, DELETE, HEAD"));
    Ok(())
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/a", Response::text(200, "first"));
    server.route("/b", Response::text(200, "second"));
    let mut client = Client::connect(&server)?;
    assert_eq!(client.request("GET", "/a", &[]).text(), "first");
    let answer = client.request("GET", "/b", &[]);
    assert_eq!(answer.text(), "second");
    assert_eq!(answer.header("connection"), None);

    // Pipelined: two requests in one write, two answers in order.
    client.send(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n")?;
    assert_eq!(client.read_answer(false)?.text(), "second");
    assert_eq!(client.read_answer(false)?.text(), "first");

    // Connection: close is honoured: the answer says so and the server closes.
    let last = client.request("GET", "/a", &[("Connection", "close")]);
    assert_eq!(last.header("connection"), Some("close"));
    assert!(client.read_rest()?.is_empty());

    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    assert!(
        requests
            .iter()
            .all(|r| r.connection == requests[0].connection)
    );
    let other = get(&server, "/a");
    assert_eq!(other.status, 200);
    assert_ne!(server.requests()[5].connection, requests[0].connection);
    Ok(())
}

#[test]
fn chunked_request_body_is_decoded() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/ingest", Response::new(204));
    let raw = b"POST /ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n\
                GET /ingest HTTP/1.1\r\nHost: x\r\n\r\n";
    let (answer, mut client) = raw_exchange(&server, raw)?;
    assert_eq!(answer.status, 204);
    // The request after the chunked body was read as a request of its own.
    assert_eq!(client.read_answer(false)?.status, 204);
    let requests = server.requests_for("/ingest");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, b"hello, world");
    assert!(requests[1].body.is_empty());
    Ok(())
}

#[test]
fn expect_100_continue_is_answered() -> TestResult {
    let server = FixtureServer::start()?;
    server.upload_route("/upload");
    let mut client = Client::connect(&server)?;
    client.send(
        b"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
          Content-Length: 11\r\nExpect: 100-continue\r\n\r\n",
    )?;
    let interim = client.read_head()?;
    assert_eq!(interim.status, 100);
    client.send(b"hello world")?;
    let answer = client.read_answer(false)?;
    assert_eq!(answer.status, 201);

    // The same with a chunked body, as curl streams uploads.
    client.send(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
          Expect: 100-continue\r\n\r\n",
    )?;
    assert_eq!(client.read_head()?.status, 100);
    client.send(b"3\r\nabc\r\n0\r\n\r\n")?;
    assert_eq!(client.read_answer(false)?.status, 201);

    let uploads = server.uploads("/upload");
    assert_eq!(uploads[0].plain(), Some(&b"hello world"[..]));
    assert_eq!(uploads[1].plain(), Some(&b"abc"[..]));
    Ok(())
}

#[test]
fn sequence_takes_the_next_response_and_repeats_the_last() -> TestResult {
    let server = FixtureServer::start()?;
    server.route_sequence(
        "/seq",
        vec![
            Response::error(500),
            Response::text(200, "one"),
            Response::text(200, "two"),
        ],
    );
    let answers: Vec<(u16, String)> = (0..4)
        .map(|_| get(&server, "/seq"))
        .map(|answer| (answer.status, answer.text()))
        .collect();
    assert_eq!(
        answers,
        [
            (500, "Internal Server Error".to_owned()),
            (200, "one".to_owned()),
            (200, "two".to_owned()),
            (200, "two".to_owned())
        ]
    );
    assert_eq!(server.calls("/seq"), 4);

    server.route_sequence("/seq", Vec::new());
    assert_eq!(get(&server, "/seq").status, 404);
    Ok(())
}

#[test]
fn fail_next_then_success_counts_every_request() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/api", Response::json(200, "{}"));
    server.fail_next(2, 503);
    assert_eq!(server.pending_faults(), 2);

    let statuses: Vec<u16> = (0..3).map(|_| get(&server, "/api").status).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(server.calls("/api"), 3);
    assert_eq!(server.faults_applied(), 2);
    assert_eq!(server.pending_faults(), 0);
    let faults: Vec<Option<Fault>> = server.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        [Some(Fault::Status(503)), Some(Fault::Status(503)), None]
    );

    server.fail_next_with(1, Response::error(429).retry_after(2));
    let limited = get(&server, "/api");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("2"));
    assert_eq!(get(&server, "/api").status, 200);
    Ok(())
}

#[test]
fn fail_next_on_only_affects_its_path() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/a", Response::text(200, "a"));
    server.route("/b", Response::text(200, "b"));
    server.fail_next_on("/a", 1, 429);
    assert_eq!(get(&server, "/b").status, 200);
    assert_eq!(get(&server, "/a").status, 429);
    assert_eq!(get(&server, "/a").status, 200);
    assert_eq!(server.requests_for("/a")[0].fault, Some(Fault::Status(429)));
    assert_eq!(server.requests_for("/b")[0].fault, None);

    // A path fault is taken before a global one.
    server.fail_next(1, 500);
    server.fail_next_on("/a", 1, 502);
    assert_eq!(get(&server, "/a").status, 502);
    assert_eq!(get(&server, "/a").status, 500);
    assert_eq!(get(&server, "/a").status, 200);
    Ok(())
}

#[test]
fn latency_delays_the_response() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/slow", Response::text(200, "late"));
    let delay = Duration::from_millis(300);
    server.set_latency(delay);
    let started = Instant::now();
    let answer = get(&server, "/slow");
    let elapsed = started.elapsed();
    assert_eq!(answer.text(), "late");
    assert!(
        elapsed >= delay,
        "answered after {elapsed:?}, latency is {delay:?}"
    );
    server.set_latency(Duration::ZERO);
    assert_eq!(get(&server, "/slow").status, 200);
    Ok(())
}

#[test]
fn drop_mid_body_cuts_the_response_and_closes() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(10_000);
    server.route("/disk.img", Response::static_body(content.clone()));
    server.drop_next_mid_body("/disk.img", 1, 1_000);

    let mut client = Client::connect(&server)?;
    client.send(b"GET /disk.img HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let head = client.read_head()?;
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length(), Some(10_000));
    assert_eq!(head.header("connection"), None);
    let received = client.read_rest()?;
    assert_eq!(received, content[..1_000]);

    // Resume where the cut happened, as a downloader does.
    let etag = head
        .header("etag")
        .expect("static bodies carry an ETag")
        .to_owned();
    let rest = request(
        &server,
        "GET",
        "/disk.img",
        &[("Range", "bytes=1000-"), ("If-Range", &etag)],
    );
    assert_eq!(rest.status, 206);
    assert_eq!(rest.header("content-range"), Some("bytes 1000-9999/10000"));
    assert_eq!([received, rest.body].concat(), content);

    let faults: Vec<Option<Fault>> = server.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        [Some(Fault::DroppedMidBody { after_bytes: 1_000 }), None]
    );
    Ok(())
}

#[test]
fn chunked_and_close_delimited_bodies() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(10_000);
    server.route("/chunked", Response::static_body(content.clone()).chunked());
    server.route(
        "/close",
        Response::static_body(content.clone()).close_delimited(),
    );

    // A chunked body, then a cut one: complete chunks, no last chunk, closed.
    let mut client = Client::connect(&server)?;
    client.send(b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let head = client.read_head()?;
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.content_length(), None);
    server.drop_next_mid_body("/chunked", 1, 5_000);
    client.send(b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let rest = client.read_rest()?;
    let (body, used) = testkit::decode_chunked(&rest)?.expect("complete chunked body");
    assert_eq!(body, content);
    let cut = &rest[used..];
    let second_head = cut
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("second response head")
        + 4;
    assert!(cut.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(testkit::decode_chunked(&cut[second_head..])?, None);
    let mut expected = b"1000\r\n".to_vec();
    expected.extend_from_slice(&content[..4096]);
    expected.extend_from_slice(b"\r\n388\r\n");
    expected.extend_from_slice(&content[4096..5_000]);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(&cut[second_head..], &expected[..]);

    // A close-delimited body: no length, and the server closes after it.
    let mut client = Client::connect(&server)?;
    client.send(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let head = client.read_head()?;
    assert_eq!(head.content_length(), None);
    assert_eq!(head.header("transfer-encoding"), None);
    assert_eq!(head.header("connection"), Some("close"));
    assert_eq!(client.read_rest()?, content);
    Ok(())
}

#[test]
fn static_body_ranges_and_preconditions() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(1_000);
    server.route("/f", Response::static_body(content.clone()));

    let full = get(&server, "/f");
    assert_eq!(full.status, 200);
    assert_eq!(full.body, content);
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    let etag = full.header("etag").expect("ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag {etag}"
    );

    let cases = [
        ("bytes=0-99", 0..100, "bytes 0-99/1000"),
        ("bytes=990-", 990..1000, "bytes 990-999/1000"),
        ("bytes=-10", 990..1000, "bytes 990-999/1000"),
        ("bytes=500-5000", 500..1000, "bytes 500-999/1000"),
    ];
    for (range, expected, content_range) in cases {
        let answer = request(&server, "GET", "/f", &[("Range", range)]);
        assert_eq!(answer.status, 206, "{range}");
        assert_eq!(
            answer.header("content-range"),
            Some(content_range),
            "{range}"
        );
        assert_eq!(answer.body, content[expected], "{range}");
    }

    let unsatisfiable = request(&server, "GET", "/f", &[("Range", "bytes=1000-")]);
    assert_eq!(unsatisfiable.status, 416);
    assert_eq!(unsatisfiable.header("content-range"), Some("bytes */1000"));

    let matching = request(
        &server,
        "GET",
        "/f",
        &[("Range", "bytes=0-0"), ("If-Range", &etag)],
    );
    assert_eq!((matching.status, matching.body.len()), (206, 1));
    let stale = request(
        &server,
        "GET",
        "/f",
        &[("Range", "bytes=0-0"), ("If-Range", "\"other\"")],
    );
    assert_eq!((stale.status, stale.body.len()), (200, 1_000));

    let not_modified = request(&server, "GET", "/f", &[("If-None-Match", &etag)]);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(
        request(&server, "GET", "/f", &[("If-None-Match", "\"x\"")]).status,
        200
    );

    // HEAD: the headers of a GET, no body; the connection stays usable, which shows
    // that no body bytes were sent.
    let mut client = Client::connect(&server)?;
    let head = client.request("HEAD", "/f", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length(), Some(1_000));
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    let partial_head = client.request("HEAD", "/f", &[("Range", "bytes=0-9")]);
    assert_eq!(
        (partial_head.status, partial_head.content_length()),
        (206, Some(10))
    );
    assert_eq!(client.request("GET", "/f", &[]).body, content);

    // The file "changes": a new ETag makes the old If-Range fail.
    server.route("/f", Response::static_body(content.clone()).etag("v2"));
    let changed = request(
        &server,
        "GET",
        "/f",
        &[("Range", "bytes=0-0"), ("If-Range", &etag)],
    );
    assert_eq!(changed.status, 200);
    assert_eq!(changed.header("etag"), Some("\"v2\""));
    Ok(())
}

#[test]
fn range_disabled_route_ignores_range() -> TestResult {
    let server = FixtureServer::start()?;
    let content = image(300);
    server.route(
        "/plain",
        Response::static_body(content.clone()).without_ranges(),
    );
    let answer = request(&server, "GET", "/plain", &[("Range", "bytes=0-9")]);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, content);
    assert_eq!(answer.header("accept-ranges"), None);
    assert_eq!(answer.header("content-range"), None);
    Ok(())
}

#[test]
fn static_file_is_served() -> TestResult {
    let path = std::env::temp_dir().join(format!("http-fixture-{}.bin", std::process::id()));
    std::fs::write(&path, b"file content")?;
    let response = Response::static_file(&path);
    std::fs::remove_file(&path)?;
    let server = FixtureServer::start()?;
    server.route("/file", response?);
    assert_eq!(get(&server, "/file").body, b"file content");

    let missing = Response::static_file(&path);
    assert!(matches!(missing, Err(HttpError::ReadFile { .. })));
    Ok(())
}

#[test]
fn multipart_upload_is_split_into_parts() -> TestResult {
    let server = FixtureServer::start()?;
    server.upload_route("/upload");
    let file = image(2_000);
    let boundary = "------------------------d74496d66958873e";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n\
             nightly image\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; \
             filename=\"disk.img\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut raw = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; \
         boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);

    let (answer, _) = raw_exchange(&server, &raw)?;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.text(),
        format!("{{\"upload\":0,\"bytes\":{},\"parts\":2}}", body.len())
    );

    let uploads = server.uploads("/upload");
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].method, "POST");
    let parts = uploads[0].parts();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].name, "description");
    assert_eq!(parts[0].filename, None);
    assert_eq!(parts[0].data, b"nightly image");
    assert_eq!(parts[1].name, "image");
    assert_eq!(parts[1].filename.as_deref(), Some("disk.img"));
    assert_eq!(
        parts[1].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(parts[1].data, file);
    assert_eq!(server.requests_for("/upload")[0].body, body);
    Ok(())
}

#[test]
fn broken_multipart_upload_is_refused() -> TestResult {
    let server = FixtureServer::start()?;
    server.upload_route("/upload");
    let raw = b"POST /upload HTTP/1.1\r\nHost: x\r\n\
                Content-Type: multipart/form-data; boundary=abc\r\n\
                Content-Length: 9\r\n\r\nnot parts";
    let (answer, _) = raw_exchange(&server, raw)?;
    assert_eq!(answer.status, 400);
    assert!(answer.text().contains("error"));
    assert!(server.uploads("/upload").is_empty());
    assert_eq!(server.calls("/upload"), 1);
    Ok(())
}

#[test]
fn plain_upload_is_stored_whole() -> TestResult {
    let server = FixtureServer::start()?;
    server.upload_route("/blob");
    let body = image(5_000);
    let mut raw = format!(
        "PUT /blob HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let (answer, mut client) = raw_exchange(&server, &raw)?;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.text(), "{\"upload\":0,\"bytes\":5000,\"parts\":0}");

    let second = client.request("POST", "/blob", &[("Content-Length", "0")]);
    assert_eq!(second.text(), "{\"upload\":1,\"bytes\":0,\"parts\":0}");
    assert_eq!(client.request("GET", "/blob", &[]).status, 405);

    let uploads = server.uploads("/blob");
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].method, "PUT");
    assert_eq!(
        uploads[0].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(uploads[0].body, UploadBody::Plain(body));
    assert!(uploads[0].parts().is_empty());
    assert_eq!(uploads[1].plain(), Some(&[][..]));
    Ok(())
}

#[test]
fn malformed_requests_get_400_and_a_closed_connection() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/", Response::text(200, "root"));
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
    ] {
        let (answer, mut client) = raw_exchange(&server, raw)?;
        assert_eq!(answer.status, 400, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(
            client.read_rest()?.is_empty(),
            "connection closed after 400"
        );
    }
    assert_eq!(
        server.total_calls(),
        0,
        "unparsable requests are not recorded"
    );
    // The server still serves after all that.
    assert_eq!(get(&server, "/").text(), "root");
    Ok(())
}

#[test]
fn dropped_server_refuses_connections_and_closes_open_ones() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/", Response::text(200, "up"));
    let addr = server.addr();
    let mut idle = Client::connect(&server)?;
    assert_eq!(idle.request("GET", "/", &[]).text(), "up");

    drop(server);

    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    assert!(refused.is_err(), "connection to a dropped server succeeded");
    match idle.read_rest() {
        Ok(rest) => assert!(rest.is_empty()),
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset),
    }
    Ok(())
}

#[test]
fn start_on_a_taken_address_fails_with_the_address() -> TestResult {
    let server = FixtureServer::start()?;
    match FixtureServer::start_on(server.addr()) {
        Err(HttpError::Bind { addr, source }) => {
            assert_eq!(addr, server.addr());
            assert_eq!(source.kind(), ErrorKind::AddrInUse);
        }
        other => panic!("binding a taken address: {other:?}"),
    }
    Ok(())
}

#[test]
fn garbage_on_the_wire_does_not_break_the_server() -> TestResult {
    let server = FixtureServer::start()?;
    server.route("/", Response::text(200, "alive"));
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let prefixes: [&[u8]; 4] = [
        b"",
        b"GET / HTTP/1.1\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n",
    ];
    let mut rejected = 0;
    for round in 0..40 {
        let mut raw = prefixes[round % prefixes.len()].to_vec();
        let len = (next() % 200) as usize;
        raw.extend((0..len).map(|_| next() as u8));
        raw.extend_from_slice(b"\r\n\r\n");
        let mut client = Client::connect(&server)?;
        client.send(&raw)?;
        client
            .reader
            .get_ref()
            .shutdown(std::net::Shutdown::Write)?;
        let answer = client.read_rest().unwrap_or_default();
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
        if answer.starts_with(b"HTTP/1.1 400 ") {
            rejected += 1;
        }
    }
    assert!(rejected > 0, "random bytes were never rejected");
    assert_eq!(get(&server, "/").text(), "alive");
    Ok(())
}
