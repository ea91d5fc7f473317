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
    let fresh = bgp_codec::Update::decode(body, &ctx);
    // A decoder that reuses the memory of earlier messages gives the same result.
    let mut decoder = bgp_codec::UpdateDecoder::new();
    let _ = decoder.decode(body, &ctx);
    let _ = decoder.decode(&[0, 0, 0, 0], &ctx);
    assert_eq!(decoder.decode(body, &ctx).cloned(), fresh, "the reusing decoder differs");
    if let Ok(update) = fresh {
        let _ = bgp_codec::Message::Update(update).to_bytes(&ctx);
    }
}

/// One message of a chosen type: the second byte is the type, the rest the body. The
/// body goes to that type's decoder directly and, with a header, through `Message`.
fn fuzz_bgp_message(data: &[u8]) {
    use bgp_codec::{Message, Notification, Open, Update};
    let [selector, kind, body @ ..] = data else { return };
    let ctx = fuzz_context(*selector);
    match kind % 6 {
        1 => {
            if let Ok(open) = Open::decode(body) {
                let _ = open.validate(None);
                let again = Message::Open(open.clone()).to_bytes(&ctx);
                if let Ok(again) = again {
                    assert_eq!(Open::decode(&again[19..]).expect("decodes again"), open);
                }
            }
        }
        2 => {
            let _ = Update::decode(body, &ctx);
        }
        3 => {
            let _ = Notification::decode(body).map(|n| n.shutdown_message().map(|m| format!("{m:?}")));
        }
        _ => {}
    }
    let Ok(len) = u16::try_from(body.len() + 19) else { return };
    let mut message = vec![0xff; 16];
    message.extend_from_slice(&len.to_be_bytes());
    message.push(*kind);
    message.extend_from_slice(body);
    if let Ok(decoded) = Message::decode(&message, &ctx) {
        let _ = decoded.to_string();
    }
}
