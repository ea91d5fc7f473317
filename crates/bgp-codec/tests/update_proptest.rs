//! Property tests: every UPDATE and attribute the codec can represent round-trips, and
//! no input makes decoding panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_codec::{
    AS_TRANS, Afi, Aggregator, AsPath, AsSegment, Attribute, AttributeValue, Community,
    ExtendedCommunity, Family, LargeCommunity, Message, MpNlri, MpReach, MpUnreach, NextHop, Nlri,
    Origin, Prefix, SegmentType, SessionContext, Update, flags, frame,
};
use proptest::prelude::*;

fn prefix(afi: Afi) -> impl Strategy<Value = Prefix> {
    match afi {
        Afi::Ipv6 => (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| Prefix::new(IpAddr::V6(Ipv6Addr::from(a)), l).unwrap())
            .boxed(),
        _ => (any::<u32>(), 0u8..=32)
            .prop_map(|(a, l)| Prefix::new(IpAddr::V4(Ipv4Addr::from(a)), l).unwrap())
            .boxed(),
    }
}

/// A prefix whose bits after the length are zero, as a real speaker sends it; the codec
/// keeps other bits too, but only those beyond the last whole octet survive a round trip.
fn wire_prefix(afi: Afi) -> impl Strategy<Value = Prefix> {
    prefix(afi).prop_map(|p| {
        let bits = usize::from(p.prefix_len()).div_ceil(8) * 8;
        let addr = match p.addr() {
            IpAddr::V4(a) => {
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Prefix::new(addr, p.prefix_len()).unwrap()
    })
}

fn nlri(afi: Afi, add_path: bool, max: usize) -> impl Strategy<Value = Vec<Nlri>> {
    prop::collection::vec((wire_prefix(afi), any::<u32>()), 0..max).prop_map(move |v| {
        v.into_iter()
            .map(|(prefix, id)| Nlri {
                path_id: add_path.then_some(id),
                prefix,
            })
            .collect()
    })
}

fn as_path(four_octet: bool) -> impl Strategy<Value = AsPath> {
    let asn = if four_octet {
        any::<u32>().boxed()
    } else {
        (0u32..=65535).boxed()
    };
    let kind = prop_oneof![
        Just(SegmentType::Sequence),
        Just(SegmentType::Set),
        Just(SegmentType::ConfedSequence),
        Just(SegmentType::ConfedSet),
    ];
    prop::collection::vec((kind, prop::collection::vec(asn, 1..8)), 0..5).prop_map(|segs| AsPath {
        segments: segs
            .into_iter()
            .map(|(kind, asns)| AsSegment { kind, asns })
            .collect(),
    })
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn value(four: bool, v6_add_path: bool) -> impl Strategy<Value = AttributeValue> {
    let agg_as = if four {
        any::<u32>().boxed()
    } else {
        (0u32..=65535).boxed()
    };
    prop_oneof![
        prop_oneof![
            Just(Origin::Igp),
            Just(Origin::Egp),
            Just(Origin::Incomplete)
        ]
        .prop_map(AttributeValue::Origin),
        as_path(four).prop_map(AttributeValue::AsPath),
        ipv4().prop_map(AttributeValue::NextHop),
        any::<u32>().prop_map(AttributeValue::MultiExitDisc),
        any::<u32>().prop_map(AttributeValue::LocalPref),
        Just(AttributeValue::AtomicAggregate),
        (agg_as, ipv4())
            .prop_map(|(asn, addr)| AttributeValue::Aggregator(Aggregator { asn, addr })),
        prop::collection::vec(any::<u32>().prop_map(Community), 1..40)
            .prop_map(AttributeValue::Communities),
        ipv4().prop_map(AttributeValue::OriginatorId),
        prop::collection::vec(ipv4(), 1..20).prop_map(AttributeValue::ClusterList),
        prop::collection::vec(any::<[u8; 8]>().prop_map(ExtendedCommunity), 1..20)
            .prop_map(AttributeValue::ExtendedCommunities),
        as_path(true).prop_map(AttributeValue::As4Path),
        (any::<u32>(), ipv4())
            .prop_map(|(asn, addr)| AttributeValue::As4Aggregator(Aggregator { asn, addr })),
        prop::collection::vec(
            (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(global, local1, local2)| {
                LargeCommunity {
                    global,
                    local1,
                    local2,
                }
            }),
            1..15
        )
        .prop_map(AttributeValue::LargeCommunities),
        any::<u32>().prop_map(AttributeValue::Otc),
        (
            any::<u128>(),
            prop::option::of(any::<u128>()),
            nlri(Afi::Ipv6, v6_add_path, 12)
        )
            .prop_map(|(g, ll, n)| AttributeValue::MpReach(Box::new(MpReach {
                family: Family::IPV6_UNICAST,
                next_hop: NextHop::V6 {
                    global: Ipv6Addr::from(g),
                    link_local: ll.map(Ipv6Addr::from)
                },
                reserved: 0,
                nlri: MpNlri::Prefixes(n),
            }))),
        nlri(Afi::Ipv6, v6_add_path, 12).prop_map(|n| AttributeValue::MpUnreach(MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: MpNlri::Prefixes(n),
        })),
        (200u8..=254, prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(code, value)| AttributeValue::Unknown { code, value }),
    ]
}

/// An UPDATE with at most one attribute of each type, as a well-formed message has.
fn update(ctx: SessionContext) -> impl Strategy<Value = Update> {
    let v4_add_path = ctx.receives_path_id(Family::IPV4_UNICAST);
    let v6_add_path = ctx.receives_path_id(Family::IPV6_UNICAST);
    let four = ctx.four_octet_as;
    (
        nlri(Afi::Ipv4, v4_add_path, 20),
        prop::collection::vec((value(four, v6_add_path), any::<bool>()), 0..10),
        nlri(Afi::Ipv4, v4_add_path, 20),
    )
        .prop_map(move |(withdrawn, values, announced)| {
            let mut attributes: Vec<Attribute> = Vec::new();
            for (value, extended) in values {
                let as4 = matches!(
                    value.kind(),
                    bgp_codec::AttrType::As4Path | bgp_codec::AttrType::As4Aggregator
                );
                // A 4-octet speaker never sends AS4_* attributes (RFC 6793 §3); the
                // decoder discards them, as tested elsewhere.
                if attributes.iter().any(|a| a.kind() == value.kind()) || (four && as4) {
                    continue;
                }
                let mut a = Attribute::new(value);
                if extended {
                    a.flags |= flags::EXTENDED_LENGTH;
                }
                attributes.push(a);
            }
            let mut u = Update {
                withdrawn,
                attributes,
                nlri: announced,
                issues: Vec::new(),
            };
            // Announcements carry the mandatory attributes; without them decoding would
            // rightly report treat-as-withdraw.
            if !u.nlri.is_empty() || u.mp_reach().is_some_and(|m| !m.nlri.is_empty()) {
                for (kind, v) in [
                    (
                        bgp_codec::AttrType::Origin,
                        AttributeValue::Origin(Origin::Igp),
                    ),
                    (
                        bgp_codec::AttrType::AsPath,
                        AttributeValue::AsPath(AsPath::sequence(vec![AS_TRANS])),
                    ),
                    (
                        bgp_codec::AttrType::NextHop,
                        AttributeValue::NextHop(Ipv4Addr::new(10, 0, 0, 1)),
                    ),
                ] {
                    if u.attribute(kind).is_none() {
                        u.attributes.push(Attribute::new(v));
                    }
                }
            }
            // A NEXT_HOP that is no host address is treat-as-withdraw; use a valid one.
            for a in &mut u.attributes {
                if let AttributeValue::NextHop(h) = &mut a.value
                    && (h.is_unspecified() || h.is_broadcast() || h.is_multicast())
                {
                    *h = Ipv4Addr::new(10, 0, 0, 1);
                }
            }
            u
        })
}

fn contexts() -> impl Strategy<Value = SessionContext> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(four, v4ap, v6ap)| {
        let mut ctx = if four {
            SessionContext::modern()
        } else {
            SessionContext::legacy()
        };
        ctx.extended_message = true;
        for (on, family) in [(v4ap, Family::IPV4_UNICAST), (v6ap, Family::IPV6_UNICAST)] {
            if on {
                ctx.add_path_receive.push(family);
                ctx.add_path_send.push(family);
            }
        }
        ctx
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn updates_round_trip((ctx, u) in contexts().prop_flat_map(|ctx| (Just(ctx.clone()), update(ctx)))) {
        let mut bytes = Vec::new();
        Message::Update(u.clone()).encode(&ctx, &mut bytes).unwrap();
        prop_assert_eq!(frame(&bytes, &ctx).unwrap(), Some(bytes.len()));
        let back = Message::decode(&bytes, &ctx).unwrap();
        let Message::Update(back) = back else { panic!("not an UPDATE") };
        // The codec sets the extended-length bit by itself when a value needs it.
        let mut expected = u.clone();
        for (a, b) in expected.attributes.iter_mut().zip(&back.attributes) {
            if b.flags & flags::EXTENDED_LENGTH != 0 {
                a.flags |= flags::EXTENDED_LENGTH;
            }
        }
        prop_assert_eq!(&back, &expected);
        prop_assert_eq!(Message::Update(back).to_bytes(&ctx).unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..600), ctx in contexts()) {
        let _ = Update::decode(&body, &ctx);
        let mut msg = vec![0xff; 16];
        msg.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
        msg.push(2);
        msg.extend_from_slice(&body);
        let _ = Message::decode(&msg, &ctx);
        let _ = frame(&body, &ctx);
    }

    #[test]
    fn structured_garbage_never_panics(
        attrs in prop::collection::vec((any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..40)), 0..8),
        ctx in contexts(),
    ) {
        // Well-framed attributes with arbitrary flags, codes and values reach the
        // per-attribute parsers instead of failing at the framing.
        let mut list = Vec::new();
        for (flag, code, value) in attrs {
            list.extend_from_slice(&[flag & !flags::EXTENDED_LENGTH, code, value.len() as u8]);
            list.extend_from_slice(&value);
        }
        let mut body = vec![0, 0];
        body.extend_from_slice(&(list.len() as u16).to_be_bytes());
        body.extend_from_slice(&list);
        body.extend_from_slice(&[24, 192, 0, 2]);
        if let Ok(u) = Update::decode(&body, &ctx) {
            // Whatever was accepted encodes again.
            let _ = Message::Update(u).to_bytes(&ctx);
        }
    }
}
