// The bodies of the testkit fuzz targets. Included (`include!`) both by the targets in
// `fuzz_targets/` and by `testkit/tests/fuzz_corpus.rs`, which replays the saved corpora
// on stable Rust, so the two never drift apart. Each only checks that nothing panics.

/// The body of `fuzz_targets/bird_output.rs`.
fn fuzz_bird_output(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(routes) = testkit::parse_routes(text) {
        for route in &routes {
            let _ = (
                route.origin(),
                route.as_path(),
                route.next_hop(),
                route.med(),
            );
            let _ = (
                route.local_pref(),
                route.communities(),
                route.large_communities(),
            );
        }
    }
    if let Ok(protocols) = testkit::parse_protocols(text) {
        let _ = protocols.iter().filter(|p| p.is_established()).count();
    }
    let _ = testkit::parse_route_count(text);
}

/// The body of `fuzz_targets/http_request_head.rs`.
fn fuzz_http_request_head(data: &[u8]) {
    if let Ok(Some((head, len))) = testkit::parse_request_head(data) {
        let _ = (
            head.keep_alive(),
            head.expects_continue(),
            head.header("host"),
        );
        if head.framing == testkit::BodyFraming::Chunked {
            let _ = testkit::decode_chunked(&data[len..]);
        }
    }
    let _ = testkit::decode_chunked(data);
}

/// The body of `fuzz_targets/multipart.rs`: the first line is the boundary (or a
/// `Content-Type` value carrying one), the rest is the body.
fn fuzz_multipart(data: &[u8]) {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let first = String::from_utf8_lossy(first);
    let first = first.trim_end_matches('\r');
    let boundary = testkit::multipart_boundary(first).unwrap_or_else(|| first.to_owned());
    let _ = testkit::parse_multipart(body, &boundary);
}

/// The body of `fuzz_targets/pcap.rs`.
fn fuzz_pcap(data: &[u8]) {
    let _ = testkit::parse_pcap(data);
}

/// The body of `fuzz_targets/ip_monitor.rs`.
fn fuzz_ip_monitor(data: &[u8]) {
    let _ = testkit::parse_event(&String::from_utf8_lossy(data));
}

/// The body of `fuzz_targets/gobgp_json.rs`.
fn fuzz_gobgp_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = testkit::parse_neighbors(&text);
    let _ = testkit::parse_rib(&text);
}
