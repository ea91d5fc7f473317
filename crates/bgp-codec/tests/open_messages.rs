//! OPEN messages as real peers send them, through the public API: framing, decoding,
//! re-encoding, validation and negotiation.

use std::net::Ipv4Addr;

use bgp_codec::{
    AddPathEntry, AddPathMode, Afi, Capability, CapabilityCode, DecodeError, ErrorCode,
    ExtendedNextHopEntry, Family, Message, Open, OpenError, OpenSubcode, OptionalParameter,
    SessionContext, frame, negotiate,
};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The whole OPEN (header included) BIRD 2.0.12 sent on a loopback session with IPv4
/// (extended next hop on) and IPv6 channels, graceful restart and LLGR on.
const BIRD: &str = "ffffffffffffffffffffffffffffffff00590104fde800f0c00002013c023a0104000100010104\
                    0002000102000506000100010002400a0078000101000002010041040000fde84600470e0001\
                    0100000e1000020100000e10";

/// GoBGP 3.10 on an IPv6 loopback session with IPv4 unicast.
const GOBGP: &str = "ffffffffffffffffffffffffffffffff003b0104fde8005ac00002021e021c0200490402766d\
                     0001040001000141040000fde80506000100010002";

/// ExaBGP 4.2.21 with a 4-octet AS: one Capabilities parameter per capability.
const EXABGP: &str = "ffffffffffffffffffffffffffffffff005b01045ba0005ac00002033e020601040001000102\
                      06010400020001020641 04fa56ea01020a45080001010300020103020c400a807800010180\
                      00020180020202000202460002020600";

fn message(s: &str) -> Vec<u8> {
    hex(&s.replace(' ', ""))
}

fn open_of(bytes: &[u8]) -> Open {
    let ctx = SessionContext::legacy();
    assert_eq!(frame(bytes, &ctx), Ok(Some(bytes.len())));
    let Ok(Message::Open(open)) = Message::decode(bytes, &ctx) else {
        panic!("not an OPEN");
    };
    assert_eq!(
        Message::Open(open.clone()).to_bytes(&ctx).unwrap(),
        bytes,
        "re-encoded exactly"
    );
    open
}

#[test]
fn real_opens_are_decoded_and_encoded_exactly() {
    let bird = open_of(&message(BIRD));
    assert_eq!(bird.asn(), 65000);
    assert_eq!(bird.hold_time, 240);
    assert_eq!(bird.bgp_id, Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(bird.params.len(), 1);
    assert_eq!(bird.capabilities().count(), 8);
    assert!(bird.has_capability(CapabilityCode::LongLivedGracefulRestart));
    assert_eq!(bird.validate(Some(65000)), Ok(()));

    let gobgp = open_of(&message(GOBGP));
    assert_eq!(
        gobgp.capabilities().nth(1),
        Some(&Capability::Fqdn {
            hostname: "vm".into(),
            domain: String::new()
        })
    );
    assert_eq!(
        gobgp.extended_next_hop().collect::<Vec<_>>(),
        [&ExtendedNextHopEntry {
            family: Family::IPV4_UNICAST,
            next_hop_afi: Afi::Ipv6
        }]
    );

    let exabgp = open_of(&message(EXABGP));
    assert_eq!(exabgp.my_as, 23456);
    assert_eq!(exabgp.asn(), 4_200_000_001);
    assert_eq!(exabgp.params.len(), 8);
    assert!(
        exabgp
            .params
            .iter()
            .all(|p| matches!(p, OptionalParameter::Capabilities(c) if c.len() == 1))
    );
    assert_eq!(
        exabgp.graceful_restart().map(|gr| gr.restart_state),
        Some(true)
    );
    assert_eq!(exabgp.validate(Some(4_200_000_001)), Ok(()));
}

#[test]
fn real_peers_negotiate_with_us() {
    let ours = Open::new(
        65001,
        90,
        Ipv4Addr::new(192, 0, 2, 9),
        vec![
            Capability::MultiProtocol(Family::IPV4_UNICAST),
            Capability::MultiProtocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::ExtendedNextHop(vec![ExtendedNextHopEntry {
                family: Family::IPV4_UNICAST,
                next_hop_afi: Afi::Ipv6,
            }]),
            Capability::ExtendedMessage,
            Capability::AddPath(vec![AddPathEntry {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::Receive,
            }]),
        ],
    );
    let bird = negotiate(&ours, &open_of(&message(BIRD)));
    assert!(bird.four_octet_as && !bird.extended_message);
    assert_eq!(bird.extended_next_hop, [(Family::IPV4_UNICAST, Afi::Ipv6)]);
    assert!(bird.add_path_receive.is_empty());

    let exabgp = negotiate(&ours, &open_of(&message(EXABGP)));
    assert!(exabgp.four_octet_as && exabgp.extended_message);
    assert_eq!(exabgp.add_path_receive, [Family::IPV4_UNICAST]);
    assert!(exabgp.add_path_send.is_empty() && exabgp.extended_next_hop.is_empty());
}

#[test]
fn a_malformed_open_carries_its_notification() {
    let mut bytes = message(GOBGP);
    // The 4-octet AS capability (offset 19 + 10 + 2 + 2 + 6 + 6) claims 3 bytes.
    let at = 19 + 10 + 2 + 2 + 6 + 6;
    assert_eq!(bytes[at..at + 2], [65, 4]);
    bytes[at + 1] = 3;
    let err = Message::decode(&bytes, &SessionContext::legacy()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Open(OpenError::MalformedCapability {
            code: 65,
            value: vec![0, 0, 0xfd]
        })
    );
    let notification = err.notification();
    assert_eq!(notification.error, ErrorCode::Open(OpenSubcode::Unspecific));
    assert_eq!(notification.data, [65, 3, 0, 0, 0xfd]);

    // A parameter length that overruns the message.
    let mut bytes = message(GOBGP);
    bytes[19 + 11] = 29;
    let err = Message::decode(&bytes, &SessionContext::legacy()).unwrap_err();
    assert!(
        matches!(err, DecodeError::Open(OpenError::OptionalParameters { .. })),
        "{err:?}"
    );
    assert_eq!(err.notification().error.code_subcode(), (2, 0));
}

#[test]
fn an_open_bigger_than_4096_bytes_is_refused() {
    let open = Open::new(
        65000,
        90,
        Ipv4Addr::new(10, 0, 0, 1),
        vec![
            Capability::Unknown {
                code: 200,
                value: vec![0; 255]
            };
            16
        ],
    );
    let ctx = SessionContext {
        extended_message: true,
        ..SessionContext::modern()
    };
    assert!(Message::Open(open).to_bytes(&ctx).is_err());
}

proptest! {
    #[test]
    fn arbitrary_open_messages_never_panic(body in prop::collection::vec(any::<u8>(), 10..200)) {
        let mut bytes = vec![0xff; 16];
        bytes.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
        bytes.push(1);
        bytes.extend_from_slice(&body);
        let ctx = SessionContext::legacy();
        if let Ok(message) = Message::decode(&bytes, &ctx) {
            prop_assert_eq!(message.to_bytes(&ctx).unwrap(), bytes);
        }
    }
}
