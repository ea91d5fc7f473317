//! UPDATE codec tests: field-by-field fixtures and one test per RFC 7606 case.

use super::*;
use crate::attribute::{AsSegment, ExtendedCommunity, LargeCommunity, NextHop, SegmentType};
use crate::prefix::Prefix;
use crate::{Message, Safi};

fn ctx4() -> SessionContext {
    SessionContext::modern()
}

fn ctx2() -> SessionContext {
    SessionContext::legacy()
}

fn v4(s: &str, len: u8) -> Nlri {
    Nlri::new(Prefix::new(s.parse().unwrap(), len).unwrap())
}

/// An UPDATE body from its three fields.
fn body(withdrawn: &[u8], attrs: &[&[u8]], nlri: &[u8]) -> Vec<u8> {
    let attrs: Vec<u8> = attrs.concat();
    let mut b = Vec::new();
    b.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(&attrs);
    b.extend_from_slice(nlri);
    b
}

const ORIGIN_IGP: &[u8] = &[0x40, 1, 1, 0];
const AS_PATH_65001: &[u8] = &[0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9];
const NEXT_HOP_10_0_0_2: &[u8] = &[0x40, 3, 4, 10, 0, 0, 2];
const NLRI_192_0_2: &[u8] = &[24, 192, 0, 2];

fn decode(b: &[u8], ctx: &SessionContext) -> Result<Update, UpdateError> {
    Update::decode(b, ctx)
}

/// Asserts exactly one issue with this attribute, problem and disposition.
fn assert_issue(u: &Update, attribute: AttrType, problem: Problem, disposition: Disposition) {
    assert_eq!(u.issues.len(), 1, "{:?}", u.issues);
    let i = &u.issues[0];
    assert_eq!(
        (i.attribute, i.problem, i.disposition),
        (attribute, problem, disposition)
    );
}

fn taw(attrs: &[&[u8]], attribute: AttrType, problem: Problem) {
    let u = decode(&body(&[], attrs, NLRI_192_0_2), &ctx4()).unwrap();
    assert_issue(&u, attribute, problem, Disposition::TreatAsWithdraw);
    assert!(u.treat_as_withdraw());
    assert_eq!(
        u.nlri,
        vec![v4("192.0.2.0", 24)],
        "the NLRI is still located"
    );
    assert_eq!(u.withdrawn_routes().count(), 1, "and handled as withdrawn");
}

fn discard(attrs: &[&[u8]], ctx: &SessionContext, attribute: AttrType, problem: Problem) {
    let u = decode(&body(&[], attrs, NLRI_192_0_2), ctx).unwrap();
    assert_issue(&u, attribute, problem, Disposition::AttributeDiscard);
    assert!(!u.treat_as_withdraw());
    assert!(u.attribute(attribute).is_none(), "the attribute is dropped");
    assert_eq!(u.announced_routes().count(), 1);
}

fn reset(b: &[u8], ctx: &SessionContext, code: (u8, u8)) -> UpdateError {
    let e = decode(b, ctx).unwrap_err();
    assert_eq!(e.notification().error.code_subcode(), code, "{e}");
    e
}

#[test]
fn a_plain_ipv4_update_decodes_field_by_field_and_encodes_back() {
    #[rustfmt::skip]
    let bytes = [
        0, 4,                           // withdrawn routes length
        16, 10, 1,                      //   10.1.0.0/16
        0,                              //   0.0.0.0/0
        0, 35,                          // total path attribute length
        0x40, 1, 1, 2,                  //   ORIGIN INCOMPLETE
        0x40, 2, 10, 2, 2,              //   AS_PATH: AS_SEQUENCE of 2
        0, 0, 0xfd, 0xe9,               //     65001
        0, 0, 0xfc, 0x00,               //     64512
        0x40, 3, 4, 10, 0, 0, 2,        //   NEXT_HOP 10.0.0.2
        0xc0, 8, 8,                     //   COMMUNITIES
        0xfd, 0xe8, 0, 1,               //     65000:1
        0xff, 0xff, 0xff, 0x01,         //     NO_EXPORT
        24, 192, 0, 2,                  // NLRI 192.0.2.0/24
        32, 198, 51, 100, 10,           // NLRI 198.51.100.10/32
    ];
    let u = decode(&bytes, &ctx4()).unwrap();
    let expected = Update {
        withdrawn: vec![v4("10.1.0.0", 16), v4("0.0.0.0", 0)],
        attributes: vec![
            Attribute {
                flags: 0x40,
                value: AttributeValue::Origin(Origin::Incomplete),
            },
            Attribute {
                flags: 0x40,
                value: AttributeValue::AsPath(AsPath::sequence(vec![65001, 64512])),
            },
            Attribute {
                flags: 0x40,
                value: AttributeValue::NextHop(Ipv4Addr::new(10, 0, 0, 2)),
            },
            Attribute {
                flags: 0xc0,
                value: AttributeValue::Communities(vec![
                    Community::new(65000, 1),
                    Community::NO_EXPORT,
                ]),
            },
        ],
        nlri: vec![v4("192.0.2.0", 24), v4("198.51.100.10", 32)],
        issues: vec![],
    };
    assert_eq!(u, expected);
    let mut out = Vec::new();
    u.encode_body(&ctx4(), &mut out).unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn an_ipv6_mp_reach_with_a_link_local_next_hop_round_trips() {
    #[rustfmt::skip]
    let mp: &[u8] = &[
        0x80, 14, 46,                   // MP_REACH_NLRI, optional, 46 bytes
        0, 2, 1,                        //   AFI IPv6, SAFI unicast
        32,                             //   next hop length: global + link-local
        0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,        // fd00::2
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,     // fe80::2
        0,                              //   reserved
        64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,                   // 2001:db8:1::/64
    ];
    let b = body(&[], &[ORIGIN_IGP, AS_PATH_65001, mp], &[]);
    let u = decode(&b, &ctx4()).unwrap();
    assert!(u.issues.is_empty(), "{:?}", u.issues);
    let reach = u.mp_reach().unwrap();
    assert_eq!(reach.family, Family::IPV6_UNICAST);
    assert_eq!(
        reach.next_hop,
        NextHop::V6 {
            global: "fd00::2".parse().unwrap(),
            link_local: Some("fe80::2".parse().unwrap())
        }
    );
    assert_eq!(
        reach.nlri.prefixes()[0].prefix.to_string(),
        "2001:db8:1::/64"
    );
    let mut out = Vec::new();
    u.encode_body(&ctx4(), &mut out).unwrap();
    assert_eq!(out, b);
}

#[test]
fn end_of_rib_markers() {
    let v4_eor = decode(&[0, 0, 0, 0], &ctx4()).unwrap();
    assert_eq!(v4_eor.end_of_rib_family(), Some(Family::IPV4_UNICAST));
    let v6 = Update::end_of_rib(Family::IPV6_UNICAST);
    let mut out = Vec::new();
    v6.encode_body(&ctx4(), &mut out).unwrap();
    #[rustfmt::skip]
    assert_eq!(out, [
        0, 0,               // no withdrawn routes
        0, 6,               // attributes
        0x80, 15, 3,        // MP_UNREACH_NLRI, 3 bytes
        0, 2, 1,            // IPv6 unicast, nothing withdrawn
    ]);
    assert_eq!(
        decode(&out, &ctx4()).unwrap().end_of_rib_family(),
        Some(Family::IPV6_UNICAST)
    );
    let plain = decode(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2],
            NLRI_192_0_2,
        ),
        &ctx4(),
    );
    assert_eq!(plain.unwrap().end_of_rib_family(), None);
}

#[test]
fn add_path_identifiers_follow_the_context() {
    let ctx = SessionContext {
        add_path_receive: vec![Family::IPV4_UNICAST],
        add_path_send: vec![Family::IPV4_UNICAST],
        ..ctx4()
    };
    let nlri = [0, 0, 0, 9, 24, 192, 0, 2];
    let b = body(&[], &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2], &nlri);
    let u = decode(&b, &ctx).unwrap();
    assert_eq!(
        u.nlri,
        vec![Nlri {
            path_id: Some(9),
            ..v4("192.0.2.0", 24)
        }]
    );
    let mut out = Vec::new();
    u.encode_body(&ctx, &mut out).unwrap();
    assert_eq!(out, b);
    // Without ADD-PATH the same bytes are a different (wrong) NLRI: /0 and 0.0.0.9/… fail.
    assert!(decode(&b, &ctx4()).is_err());
    // Encoding a path identifier on a session without ADD-PATH is an error.
    assert!(u.encode_body(&ctx4(), &mut Vec::new()).is_err());
}

#[test]
fn lengths_that_exceed_the_body_reset_the_session() {
    let mut b = body(&[], &[ORIGIN_IGP], &[]);
    b[3] = 200; // attribute length beyond the body
    reset(&b, &ctx4(), (3, 1));
    reset(&[0, 9, 0, 0], &ctx4(), (3, 1)); // withdrawn length beyond the body
    reset(&[0, 0], &ctx4(), (3, 1)); // no attribute length at all
}

#[test]
fn an_unparsable_nlri_or_withdrawn_field_resets_the_session() {
    reset(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2],
            &[33, 1, 2, 3, 4, 5],
        ),
        &ctx4(),
        (3, 10),
    );
    reset(&body(&[24, 10, 0], &[], &[]), &ctx4(), (3, 10));
}

#[test]
fn an_attribute_overrunning_the_list_is_treat_as_withdraw() {
    // NEXT_HOP claims 9 bytes where 4 remain.
    taw(
        &[ORIGIN_IGP, AS_PATH_65001, &[0x40, 3, 9, 10, 0, 0, 2]],
        AttrType::NextHop,
        Problem::ListOverrun,
    );
}

#[test]
fn a_partial_attribute_header_is_treat_as_withdraw() {
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, &[0x40]],
            NLRI_192_0_2,
        ),
        &ctx4(),
    )
    .unwrap();
    assert_eq!(u.issues[0].problem, Problem::ListOverrun);
    assert!(u.treat_as_withdraw());
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, &[0x50, 8, 0]],
            NLRI_192_0_2,
        ),
        &ctx4(),
    )
    .unwrap();
    assert_eq!(u.issues[0].problem, Problem::ListOverrun);
}

#[test]
fn a_repeated_attribute_keeps_the_first() {
    let med1: &[u8] = &[0x80, 4, 4, 0, 0, 0, 1];
    let med2: &[u8] = &[0x80, 4, 4, 0, 0, 0, 2];
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, med1, med2],
            NLRI_192_0_2,
        ),
        &ctx4(),
    )
    .unwrap();
    assert_issue(
        &u,
        AttrType::MultiExitDisc,
        Problem::Duplicate,
        Disposition::AttributeDiscard,
    );
    assert_eq!(
        u.attribute(AttrType::MultiExitDisc),
        Some(&AttributeValue::MultiExitDisc(1))
    );
}

#[test]
fn a_repeated_mp_attribute_resets_the_session() {
    let unreach: &[u8] = &[0x80, 15, 3, 0, 2, 1];
    reset(&body(&[], &[unreach, unreach], &[]), &ctx4(), (3, 1));
}

#[test]
fn wrong_flags_follow_each_attribute_rule() {
    // ORIGIN marked optional: treat-as-withdraw.
    taw(
        &[&[0xc0, 1, 1, 0], AS_PATH_65001, NEXT_HOP_10_0_0_2],
        AttrType::Origin,
        Problem::Flags,
    );
    // AGGREGATOR marked non-transitive: attribute discard.
    discard(
        &[
            ORIGIN_IGP,
            AS_PATH_65001,
            NEXT_HOP_10_0_0_2,
            &[0x80, 7, 8, 0, 0, 0xfd, 0xe9, 10, 0, 0, 2],
        ],
        &ctx4(),
        AttrType::Aggregator,
        Problem::Flags,
    );
    // MP_UNREACH_NLRI marked transitive: session reset.
    reset(&body(&[], &[&[0xc0, 15, 3, 0, 2, 1]], &[]), &ctx4(), (3, 9));
}

#[test]
fn an_unrecognized_well_known_attribute_resets_the_session() {
    let unknown: &[u8] = &[0x40, 99, 1, 7];
    let e = reset(&body(&[], &[ORIGIN_IGP, unknown], &[]), &ctx4(), (3, 2));
    assert_eq!(e.notification().data, unknown);
}

#[test]
fn unknown_optional_attributes_are_kept_and_forwarded_by_the_rules() {
    let transitive: &[u8] = &[0xc0, 240, 2, 0xab, 0xcd];
    let non_transitive: &[u8] = &[0x80, 241, 1, 0xef];
    let b = body(
        &[],
        &[
            ORIGIN_IGP,
            AS_PATH_65001,
            NEXT_HOP_10_0_0_2,
            transitive,
            non_transitive,
        ],
        NLRI_192_0_2,
    );
    let u = decode(&b, &ctx4()).unwrap();
    assert!(u.issues.is_empty());
    let t = &u.attributes[3];
    assert_eq!(
        t.value,
        AttributeValue::Unknown {
            code: 240,
            value: vec![0xab, 0xcd]
        }
    );
    assert_eq!(t.forwarded().unwrap().flags, 0xc0 | flags::PARTIAL);
    assert_eq!(u.attributes[4].forwarded(), None);
    let mut out = Vec::new();
    u.encode_body(&ctx4(), &mut out).unwrap();
    assert_eq!(out, b, "kept as raw bytes, re-encoded exactly");
}

#[test]
fn missing_mandatory_attributes_are_treat_as_withdraw() {
    taw(
        &[AS_PATH_65001, NEXT_HOP_10_0_0_2],
        AttrType::Origin,
        Problem::Missing,
    );
    taw(
        &[ORIGIN_IGP, NEXT_HOP_10_0_0_2],
        AttrType::AsPath,
        Problem::Missing,
    );
    taw(
        &[ORIGIN_IGP, AS_PATH_65001],
        AttrType::NextHop,
        Problem::Missing,
    );
    // A withdrawal needs no attributes at all.
    let u = decode(&body(NLRI_192_0_2, &[], &[]), &ctx4()).unwrap();
    assert!(u.issues.is_empty());
    // MP routes need no NEXT_HOP attribute.
    let mp: &[u8] = &[0x80, 14, 13, 0, 1, 1, 4, 10, 0, 0, 2, 0, 24, 192, 0, 2];
    let u = decode(&body(&[], &[ORIGIN_IGP, AS_PATH_65001, mp], &[]), &ctx4()).unwrap();
    assert!(u.issues.is_empty(), "{:?}", u.issues);
    assert_eq!(u.announced_routes().count(), 1);
}

#[test]
fn origin_rules() {
    taw(
        &[&[0x40, 1, 2, 0, 0], AS_PATH_65001, NEXT_HOP_10_0_0_2],
        AttrType::Origin,
        Problem::Length,
    );
    taw(
        &[&[0x40, 1, 1, 3], AS_PATH_65001, NEXT_HOP_10_0_0_2],
        AttrType::Origin,
        Problem::Value,
    );
}

#[test]
fn as_path_rules() {
    let cases: [&[u8]; 4] = [
        &[0x40, 2, 2, 2, 0],                      // a zero-length segment
        &[0x40, 2, 6, 2, 2, 0, 0, 0xfd, 0xe9],    // overrun: 2 ASes, 1 present
        &[0x40, 2, 7, 2, 1, 0, 0, 0xfd, 0xe9, 2], // one octet left over
        &[0x40, 2, 6, 9, 1, 0, 0, 0xfd, 0xe9],    // unknown segment type
    ];
    for case in cases {
        taw(
            &[ORIGIN_IGP, case, NEXT_HOP_10_0_0_2],
            AttrType::AsPath,
            Problem::Value,
        );
    }
}

#[test]
fn next_hop_rules() {
    taw(
        &[ORIGIN_IGP, AS_PATH_65001, &[0x40, 3, 5, 10, 0, 0, 2, 0]],
        AttrType::NextHop,
        Problem::Length,
    );
    taw(
        &[ORIGIN_IGP, AS_PATH_65001, &[0x40, 3, 4, 0, 0, 0, 0]],
        AttrType::NextHop,
        Problem::Value,
    );
    taw(
        &[ORIGIN_IGP, AS_PATH_65001, &[0x40, 3, 4, 224, 0, 0, 1]],
        AttrType::NextHop,
        Problem::Value,
    );
}

#[test]
fn multi_exit_disc_local_pref_originator_and_otc_lengths() {
    let base = [ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2];
    for (attr, t) in [
        (&[0x80u8, 4, 3, 0, 0, 1][..], AttrType::MultiExitDisc),
        (&[0x40, 5, 2, 0, 1][..], AttrType::LocalPref),
        (&[0x80, 9, 3, 10, 0, 0][..], AttrType::OriginatorId),
        (&[0xc0, 35, 3, 0, 0, 1][..], AttrType::Otc),
    ] {
        let mut attrs = base.to_vec();
        attrs.push(attr);
        taw(&attrs, t, Problem::Length);
    }
}

#[test]
fn atomic_aggregate_and_aggregator_are_discarded_when_malformed() {
    let base = [ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2];
    discard(
        &[base[0], base[1], base[2], &[0x40, 6, 1, 0]],
        &ctx4(),
        AttrType::AtomicAggregate,
        Problem::Length,
    );
    discard(
        &[
            base[0],
            base[1],
            base[2],
            &[0xc0, 7, 6, 0xfd, 0xe9, 10, 0, 0, 2],
        ],
        &ctx4(),
        AttrType::Aggregator,
        Problem::Length,
    );
    // On a 2-octet session 6 bytes is right.
    let two: &[u8] = &[0x40, 2, 4, 2, 1, 0xfd, 0xe9];
    let u = decode(
        &body(
            &[],
            &[
                ORIGIN_IGP,
                two,
                NEXT_HOP_10_0_0_2,
                &[0xc0, 7, 6, 0xfd, 0xe9, 10, 0, 0, 2],
            ],
            NLRI_192_0_2,
        ),
        &ctx2(),
    )
    .unwrap();
    assert!(u.issues.is_empty());
    assert_eq!(u.effective_aggregator(&ctx2()).unwrap().asn, 65001);
}

#[test]
fn community_list_rules() {
    let base = [ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2];
    for (attr, t) in [
        (&[0xc0u8, 8, 0][..], AttrType::Communities),
        (&[0xc0, 8, 5, 0, 0, 0, 1, 2][..], AttrType::Communities),
        (
            &[0x80, 10, 6, 10, 0, 0, 1, 10, 0][..],
            AttrType::ClusterList,
        ),
        (
            &[0xc0, 16, 12, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0][..],
            AttrType::ExtendedCommunities,
        ),
        (
            &[0xc0, 32, 13, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9][..],
            AttrType::LargeCommunities,
        ),
    ] {
        let mut attrs = base.to_vec();
        attrs.push(attr);
        taw(&attrs, t, Problem::Length);
    }
}

#[test]
fn communities_keep_duplicates_and_order() {
    let c: &[u8] = &[0xc0, 8, 12, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
    let large: &[u8] = &[
        0xc0, 32, 24, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2,
    ];
    let ext: &[u8] = &[0xc0, 16, 8, 0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 7];
    let b = body(
        &[],
        &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, c, ext, large],
        NLRI_192_0_2,
    );
    let u = decode(&b, &ctx4()).unwrap();
    assert_eq!(u.communities(), &[Community(2), Community(1), Community(2)]);
    let lc = LargeCommunity {
        global: 9,
        local1: 1,
        local2: 2,
    };
    assert_eq!(
        u.attribute(AttrType::LargeCommunities),
        Some(&AttributeValue::LargeCommunities(vec![lc, lc]))
    );
    assert_eq!(
        u.attribute(AttrType::ExtendedCommunities),
        Some(&AttributeValue::ExtendedCommunities(vec![
            ExtendedCommunity([0, 2, 0xfd, 0xe8, 0, 0, 0, 7])
        ]))
    );
    let mut out = Vec::new();
    u.encode_body(&ctx4(), &mut out).unwrap();
    assert_eq!(out, b);
}

#[test]
fn malformed_mp_attributes_reset_the_session() {
    // IPv6 next hop of 5 bytes.
    reset(
        &body(
            &[],
            &[
                ORIGIN_IGP,
                AS_PATH_65001,
                &[0x80, 14, 10, 0, 2, 1, 5, 1, 2, 3, 4, 5, 0],
            ],
            &[],
        ),
        &ctx4(),
        (3, 9),
    );
    // NLRI that overruns.
    reset(
        &body(
            &[],
            &[
                ORIGIN_IGP,
                AS_PATH_65001,
                &[0x80, 14, 10, 0, 1, 1, 4, 10, 0, 0, 2, 0, 24, 192],
            ],
            &[],
        ),
        &ctx4(),
        (3, 9),
    );
    // MP_REACH shorter than its fixed part.
    reset(&body(&[], &[&[0x80, 14, 2, 0, 1]], &[]), &ctx4(), (3, 9));
    // MP_UNREACH with a bad prefix length.
    reset(
        &body(&[], &[&[0x80, 15, 5, 0, 2, 1, 200, 1]], &[]),
        &ctx4(),
        (3, 9),
    );
    // MP_UNREACH whose header is cut short at the end of the list.
    reset(
        &body(&[], &[ORIGIN_IGP, &[0x90, 15, 0]], &[]),
        &ctx4(),
        (3, 9),
    );
    // MP_REACH whose length runs past the attribute list.
    reset(
        &body(&[], &[&[0x80, 14, 40, 0, 2, 1]], &[]),
        &ctx4(),
        (3, 9),
    );
}

#[test]
fn families_without_a_parser_are_kept_raw() {
    // AFI 1, SAFI 128 (L3VPN): next hop and NLRI kept as bytes.
    let mp: &[u8] = &[0x80, 14, 9, 0, 1, 128, 2, 0xaa, 0xbb, 0, 0x01, 0x02];
    let b = body(&[], &[ORIGIN_IGP, AS_PATH_65001, mp], &[]);
    let u = decode(&b, &ctx4()).unwrap();
    let reach = u.mp_reach().unwrap();
    assert_eq!(reach.family.safi, Safi::Unknown(128));
    assert_eq!(reach.next_hop, NextHop::Other(vec![0xaa, 0xbb]));
    assert_eq!(reach.nlri, MpNlri::Raw(vec![1, 2]));
    let mut out = Vec::new();
    u.encode_body(&ctx4(), &mut out).unwrap();
    assert_eq!(out, b);
}

#[test]
fn as4_attributes_follow_rfc_6793() {
    // From a 4-octet speaker they are discarded.
    let as4: &[u8] = &[0xc0, 17, 6, 2, 1, 0, 1, 0, 0];
    discard(
        &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, as4],
        &ctx4(),
        AttrType::As4Path,
        Problem::Unexpected,
    );
    // Malformed from a 2-octet speaker: discarded.
    let two: &[u8] = &[0x40, 2, 4, 2, 1, 0x5b, 0xa0];
    discard(
        &[ORIGIN_IGP, two, NEXT_HOP_10_0_0_2, &[0xc0, 17, 2, 2, 0]],
        &ctx2(),
        AttrType::As4Path,
        Problem::Value,
    );
    discard(
        &[
            ORIGIN_IGP,
            two,
            NEXT_HOP_10_0_0_2,
            &[0xc0, 18, 6, 0, 1, 0, 0, 10, 0],
        ],
        &ctx2(),
        AttrType::As4Aggregator,
        Problem::Length,
    );
}

#[test]
fn a_two_octet_peer_path_is_merged_with_as4_path() {
    // AS_PATH: 65001 23456 23456 65002 (2 octets); AS4_PATH: 4200000001 4200000002 65002.
    let as_path: &[u8] = &[
        0x40, 2, 10, 2, 4, 0xfd, 0xe9, 0x5b, 0xa0, 0x5b, 0xa0, 0xfd, 0xea,
    ];
    #[rustfmt::skip]
    let as4_path: &[u8] = &[
        0xc0, 17, 14, 2, 3,
        0xfa, 0x56, 0xea, 0x01,  // 4200000001
        0xfa, 0x56, 0xea, 0x02,  // 4200000002
        0, 0, 0xfd, 0xea,        // 65002
    ];
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, as_path, NEXT_HOP_10_0_0_2, as4_path],
            NLRI_192_0_2,
        ),
        &ctx2(),
    )
    .unwrap();
    assert!(u.issues.is_empty(), "{:?}", u.issues);
    let merged = u.effective_as_path(&ctx2()).unwrap();
    assert_eq!(
        merged.asns().collect::<Vec<_>>(),
        vec![65001, 4_200_000_001, 4_200_000_002, 65002]
    );
    // An AS4_PATH longer than AS_PATH is ignored.
    let short = AsPath::sequence(vec![1]);
    let long = AsPath::sequence(vec![5, 6]);
    assert_eq!(AsPath::merge_as4(&short, &long), short);
    // A set counts as one AS.
    let with_set = AsPath {
        segments: vec![
            AsSegment {
                kind: SegmentType::Sequence,
                asns: vec![1, 23456],
            },
            AsSegment {
                kind: SegmentType::Set,
                asns: vec![7, 8],
            },
        ],
    };
    let as4 = AsPath::sequence(vec![4_200_000_000]);
    let m = AsPath::merge_as4(&with_set, &as4);
    assert_eq!(m.route_len(), with_set.route_len());
    assert_eq!(m.asns().collect::<Vec<_>>(), vec![1, 23456, 4_200_000_000]);
}

#[test]
fn an_aggregator_other_than_as_trans_makes_as4_path_ignored() {
    let as_path: &[u8] = &[0x40, 2, 4, 2, 1, 0x5b, 0xa0];
    let aggregator: &[u8] = &[0xc0, 7, 6, 0xfd, 0xe9, 10, 0, 0, 9];
    let as4_path: &[u8] = &[0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x01];
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, as_path, NEXT_HOP_10_0_0_2, aggregator, as4_path],
            NLRI_192_0_2,
        ),
        &ctx2(),
    )
    .unwrap();
    assert_eq!(
        u.effective_as_path(&ctx2())
            .unwrap()
            .asns()
            .collect::<Vec<_>>(),
        vec![23456]
    );
}

#[test]
fn the_strongest_approach_wins_when_errors_combine() {
    let u = decode(
        &body(
            &[],
            &[
                ORIGIN_IGP,
                AS_PATH_65001,
                NEXT_HOP_10_0_0_2,
                &[0x40, 6, 1, 0],
                &[0x80, 4, 1, 0],
            ],
            NLRI_192_0_2,
        ),
        &ctx4(),
    )
    .unwrap();
    assert_eq!(u.issues.len(), 2);
    assert!(
        u.treat_as_withdraw(),
        "discard + treat-as-withdraw = treat-as-withdraw"
    );
}

#[test]
fn values_that_do_not_fit_are_encoding_errors() {
    let big = Update {
        attributes: vec![
            Attribute::new(AttributeValue::Origin(Origin::Igp)),
            Attribute::new(AttributeValue::AsPath(AsPath::sequence(vec![
                4_200_000_000,
            ]))),
        ],
        ..Update::default()
    };
    assert!(
        big.encode_body(&ctx2(), &mut Vec::new()).is_err(),
        "4-octet AS on a 2-octet session"
    );
    assert!(big.encode_body(&ctx4(), &mut Vec::new()).is_ok());
    let segment = Update {
        attributes: vec![Attribute::new(AttributeValue::AsPath(AsPath::sequence(
            vec![1; 256],
        )))],
        ..Update::default()
    };
    assert!(
        segment.encode_body(&ctx4(), &mut Vec::new()).is_err(),
        "256 ASes in one segment"
    );
    // A message over 4096 bytes is refused whole, and nothing is left in the buffer.
    let many = Update {
        withdrawn: (0..1100u32)
            .map(|i| Nlri::new(Prefix::host(Ipv4Addr::from(i).into())))
            .collect(),
        ..Update::default()
    };
    let mut out = vec![1, 2, 3];
    assert!(
        Message::Update(many.clone())
            .encode(&ctx4(), &mut out)
            .is_err()
    );
    assert_eq!(out, [1, 2, 3]);
    let extended = SessionContext {
        extended_message: true,
        ..ctx4()
    };
    assert!(Message::Update(many).encode(&extended, &mut out).is_ok());
}

#[test]
fn long_attributes_switch_to_the_extended_length() {
    let communities: Vec<Community> = (0..100).map(Community).collect();
    let u = Update {
        attributes: vec![Attribute::new(AttributeValue::Communities(communities))],
        ..Update::default()
    };
    let mut out = Vec::new();
    u.encode_body(&ctx4(), &mut out).unwrap();
    assert_eq!(&out[4..8], &[0xc0 | flags::EXTENDED_LENGTH, 8, 1, 144]);
    let back = decode(&out, &ctx4()).unwrap();
    assert_eq!(back.attributes[0].value, u.attributes[0].value);
    assert_eq!(
        back.attributes[0].flags,
        0xc0 | flags::EXTENDED_LENGTH,
        "the flag as sent is kept"
    );
}

#[test]
fn a_reused_decoder_gives_the_same_messages() {
    // Varied messages in a row: every one decodes through the decoder exactly as alone.
    let bodies = [
        body(
            &[],
            &[
                ORIGIN_IGP,
                AS_PATH_65001,
                NEXT_HOP_10_0_0_2,
                &[0xc0, 8, 8, 0, 0, 0, 1, 0, 0, 0, 2],
            ],
            NLRI_192_0_2,
        ),
        body(&[24, 10, 0, 0], &[], &[]),
        body(
            &[],
            &[
                ORIGIN_IGP,
                &[0x40, 2, 14, 2, 1, 0, 0, 0, 1, 1, 2, 0, 0, 0, 2, 0, 0, 0, 3],
                NEXT_HOP_10_0_0_2,
            ],
            NLRI_192_0_2,
        ),
        body(
            &[],
            &[
                ORIGIN_IGP,
                AS_PATH_65001,
                &[0x80, 14, 13, 0, 1, 1, 4, 10, 0, 0, 2, 0, 24, 192, 0, 2],
            ],
            &[],
        ),
        body(
            &[],
            &[&[0x80, 15, 8, 0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8]],
            &[],
        ),
        body(
            &[],
            &[
                ORIGIN_IGP,
                AS_PATH_65001,
                NEXT_HOP_10_0_0_2,
                &[0xc0, 32, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
            ],
            NLRI_192_0_2,
        ),
        body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2],
            NLRI_192_0_2,
        ),
    ];
    let mut decoder = UpdateDecoder::new();
    for _ in 0..3 {
        for b in &bodies {
            let alone = decode(b, &ctx4()).unwrap();
            assert_eq!(decoder.decode(b, &ctx4()).unwrap(), &alone);
        }
    }
    // An error leaves the decoder usable.
    assert!(decoder.decode(&[0, 9], &ctx4()).is_err());
    assert_eq!(
        decoder.decode(&bodies[0], &ctx4()).unwrap(),
        &decode(&bodies[0], &ctx4()).unwrap()
    );
    assert_eq!(decoder.take(), decode(&bodies[0], &ctx4()).unwrap());
}

fn external(enforce_first_as: bool) -> SessionContext {
    SessionContext {
        external: Some(crate::ExternalPeer {
            asn: 65001,
            enforce_first_as,
        }),
        ..ctx4()
    }
}

#[test]
fn local_pref_from_an_external_peer_is_discarded() {
    let lp: &[u8] = &[0x40, 5, 4, 0, 0, 0, 200];
    discard(
        &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, lp],
        &external(true),
        AttrType::LocalPref,
        Problem::Unexpected,
    );
    // From an internal peer it is kept.
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, lp],
            NLRI_192_0_2,
        ),
        &ctx4(),
    )
    .unwrap();
    assert_eq!(
        u.attribute(AttrType::LocalPref),
        Some(&AttributeValue::LocalPref(200))
    );
}

#[test]
fn an_external_as_path_must_start_with_the_peer_and_have_no_confederation() {
    let other_first: &[u8] = &[0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea]; // 65002
    let confed: &[u8] = &[0x40, 2, 12, 3, 1, 0, 0, 0xfd, 0xe9, 2, 1, 0, 0, 0xfd, 0xe9];
    let ctx = external(true);
    for path in [other_first, confed] {
        let u = decode(
            &body(&[], &[ORIGIN_IGP, path, NEXT_HOP_10_0_0_2], NLRI_192_0_2),
            &ctx,
        )
        .unwrap();
        assert_issue(
            &u,
            AttrType::AsPath,
            Problem::Value,
            Disposition::TreatAsWithdraw,
        );
    }
    // A route server does not prepend its AS: the first-AS rule can be off.
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, other_first, NEXT_HOP_10_0_0_2],
            NLRI_192_0_2,
        ),
        &external(false),
    )
    .unwrap();
    assert!(u.issues.is_empty());
    // The peer's own AS first is fine.
    let u = decode(
        &body(
            &[],
            &[ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2],
            NLRI_192_0_2,
        ),
        &ctx,
    )
    .unwrap();
    assert!(u.issues.is_empty());
}
