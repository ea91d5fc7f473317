//! The generated BGP table is valid, and the three decoders the `bgp_decode` bench
//! compares see all of it: equal checksums over every decoded field, and the prefix
//! counts the generator wrote.

use benches::bgp_table::{
    Digest, digest_bgpkit, digest_metalkit, digest_zettabgp, frame_walk, generate_sized,
};
use bgp_codec::{Message, SessionContext, frame};

const IPV4: usize = 20_000;
const IPV6: usize = 4_000;

#[test]
fn the_three_decoders_agree_on_a_small_table() {
    let table = generate_sized(42, IPV4, IPV6);
    assert_eq!((table.ipv4, table.ipv6), (IPV4, IPV6));
    assert!(table.messages > 1_000, "{} messages", table.messages);
    assert_eq!(frame_walk(&table.bytes), table.messages);

    let ours = digest_metalkit(&table.bytes);
    let expected = Digest {
        checksum: ours.checksum,
        messages: table.messages,
        ipv4: IPV4,
        ipv6: IPV6,
    };
    assert_eq!(ours, expected, "bgp-codec");
    assert_eq!(digest_bgpkit(&table.bytes), expected, "bgpkit-parser");
    assert_eq!(digest_zettabgp(&table.bytes), expected, "zettabgp");
}

#[test]
fn our_codec_decodes_every_message_cleanly() {
    let table = generate_sized(42, IPV4, IPV6);
    let ctx = SessionContext::modern();
    let mut rest = &table.bytes[..];
    let (mut messages, mut v4, mut v6) = (0, 0, 0);
    while !rest.is_empty() {
        let len = frame(rest, &ctx).expect("a valid header").expect("whole");
        assert!(len <= bgp_codec::MAX_MESSAGE_LEN);
        let message = Message::decode(&rest[..len], &ctx).expect("decodes");
        let Message::Update(update) = message else {
            panic!("not an UPDATE: {message:?}");
        };
        assert!(
            update.issues.is_empty(),
            "RFC 7606 issues: {:?}",
            update.issues
        );
        assert!(update.withdrawn.is_empty());
        assert!(update.origin().is_some() && update.as_path().is_some());
        v4 += update.nlri.len();
        v6 += update.mp_reach().map_or(0, |m| m.nlri.prefixes().len());
        assert!(update.nlri.is_empty() != update.mp_reach().is_none());
        messages += 1;
        rest = &rest[len..];
    }
    assert_eq!((messages, v4, v6), (table.messages, IPV4, IPV6));
}

#[test]
fn the_checksums_see_a_changed_field() {
    let table = generate_sized(5, 2_000, 400);
    let ours = digest_metalkit(&table.bytes).checksum;
    // Flip one bit of the last byte: a prefix or attribute value of the last message.
    let mut changed = table.bytes.clone();
    *changed.last_mut().expect("bytes") ^= 0x01;
    assert_ne!(digest_metalkit(&changed).checksum, ours);
    assert_ne!(digest_bgpkit(&changed).checksum, ours);
    assert_ne!(digest_zettabgp(&changed).checksum, ours);
}
