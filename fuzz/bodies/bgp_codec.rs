// The bodies of the bgp-codec fuzz targets. Included (`include!`) both by the targets in
// `fuzz_targets/` and by `crates/bgp-codec/tests/fuzz_corpus.rs`, which replays the saved
// corpora on stable Rust, so the two can never drift apart.

/// The session context chosen by the first input byte: 4-octet AS, extended
/// messages, ADD-PATH for IPv4 and for IPv6.
fn fuzz_context(selector: u8) -> bgp_codec::SessionContext {
    use bgp_codec::{Family, SessionContext};
    let mut ctx = if selector & 1 != 0 { SessionContext::modern() } else { SessionContext::legacy() };
    ctx.extended_message = selector & 2 != 0;
    for (bit, family) in [(4, Family::IPV4_UNICAST), (8, Family::IPV6_UNICAST)] {
        if selector & bit != 0 {
            ctx.add_path_receive.push(family);
            ctx.add_path_send.push(family);
        }
    }
    ctx
}

/// Frames a byte stream and decodes every message. A message that decodes cleanly
/// must re-encode to exactly its bytes, and decode again to the same value.
fn fuzz_bgp_stream(data: &[u8]) {
    use bgp_codec::{Message, frame};
    let Some((&selector, mut stream)) = data.split_first() else { return };
    let ctx = fuzz_context(selector);
    while let Ok(Some(len)) = frame(stream, &ctx) {
        let bytes = &stream[..len];
        stream = &stream[len..];
        let Ok(message) = Message::decode(bytes, &ctx) else { continue };
        if let Message::Update(u) = &message
            && !u.issues.is_empty()
        {
            // Re-encoding leaves the rejected attributes out; it must still work.
            let _ = message.to_bytes(&ctx);
            continue;
        }
        let again = message.to_bytes(&ctx).expect("a decoded message encodes");
        assert_eq!(again, bytes, "re-encoding changed the bytes of {message:?}");
        assert_eq!(Message::decode(&again, &ctx).expect("decodes again"), message);
    }
}

/// Decodes an UPDATE body under every context, and re-encodes what is accepted.
fn fuzz_bgp_update(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let ctx = fuzz_context(selector);
    if let Ok(update) = bgp_codec::Update::decode(body, &ctx) {
        let _ = bgp_codec::Message::Update(update).to_bytes(&ctx);
    }
}
