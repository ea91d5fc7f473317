//! Fuzzes the parsers of BIRD's `birdc` answers (`show route all`, `show protocols`,
//! `show route count`). Replayed on stable by `testkit/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // birdc answers are text: input that is not UTF-8 cannot reach the parsers.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(routes) = testkit::parse_routes(text) {
        // The accessors parse attribute values again: exercise them too.
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
});
