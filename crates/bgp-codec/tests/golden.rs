//! Golden sessions: every message of real BIRD, GoBGP and ExaBGP sessions (captured in
//! `tests/golden/`, see its README) decodes without an error or an RFC 7606 issue under
//! the context negotiated from the two OPENs, and re-encodes to the same bytes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use bgp_codec::{
    AttrType, AttributeValue, CeaseSubcode, ErrorCode, Family, Message, MessageType, Open,
    ShutdownMessage, frame, negotiate,
};

/// The messages each side of each connection sent, in order.
struct Session {
    /// `(sender, receiver)` → messages.
    messages: BTreeMap<(SocketAddr, SocketAddr), Vec<Vec<u8>>>,
}

fn load(name: &str) -> Session {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let pcap = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let frames = testkit::parse_pcap(&pcap).unwrap();
    let mut messages = BTreeMap::new();
    for stream in testkit::tcp_streams(&frames) {
        let mut rest = &stream.data[..];
        let mut list = Vec::new();
        // Framing needs only the marker and length: the largest limit lets every
        // message through, its own checks come with decoding.
        let any = bgp_codec::SessionContext {
            extended_message: true,
            ..Default::default()
        };
        while !rest.is_empty() {
            let len = frame(rest, &any)
                .unwrap()
                .expect("the capture holds whole messages");
            list.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        messages.insert((stream.from, stream.to), list);
    }
    // Connection attempts that carried nothing (refused, or cut by the other side
    // before its OPEN) hold no messages to check.
    let complete: Vec<_> = messages
        .iter()
        .filter(|((from, to), list)| {
            !list.is_empty() && messages.get(&(*to, *from)).is_some_and(|r| !r.is_empty())
        })
        .map(|(k, _)| *k)
        .collect();
    messages.retain(|k, _| complete.contains(k));
    assert!(!messages.is_empty(), "{name}: no complete BGP connection");
    Session { messages }
}

fn open_of(messages: &[Vec<u8>]) -> Open {
    match Message::decode(&messages[0], &bgp_codec::SessionContext::legacy()).unwrap() {
        Message::Open(open) => open,
        other => panic!("the first message is not an OPEN: {other:?}"),
    }
}

/// Decodes and re-encodes every message; returns them decoded, per direction.
fn check(name: &str) -> BTreeMap<(SocketAddr, SocketAddr), Vec<Message>> {
    let session = load(name);
    let mut decoded = BTreeMap::new();
    for (&(from, to), sent) in &session.messages {
        let reply = session
            .messages
            .get(&(to, from))
            .expect("both directions captured");
        let (sender, receiver) = (open_of(sent), open_of(reply));
        // What the receiver decodes with, and what the sender encoded with.
        let receive = negotiate(&receiver, &sender);
        let send = negotiate(&sender, &receiver);
        assert_eq!(receive.add_path_receive, send.add_path_send);
        let mut out = Vec::new();
        for (i, bytes) in sent.iter().enumerate() {
            let ctx = if i == 0 {
                bgp_codec::SessionContext::legacy()
            } else {
                receive.clone()
            };
            let message = Message::decode(bytes, &ctx)
                .unwrap_or_else(|e| panic!("{name} {from}->{to} message {i}: {e}"));
            if let Message::Update(u) = &message {
                assert!(
                    u.issues.is_empty(),
                    "{name} {from}->{to} message {i}: {:?}",
                    u.issues
                );
            }
            let send_ctx = if i == 0 {
                bgp_codec::SessionContext::legacy()
            } else {
                send.clone()
            };
            let again = message.to_bytes(&send_ctx).unwrap();
            assert_eq!(
                &again, bytes,
                "{name} {from}->{to} message {i} re-encodes differently"
            );
            out.push(message);
        }
        decoded.insert((from, to), out);
    }
    decoded
}

fn kinds(messages: &[Message]) -> Vec<MessageType> {
    messages.iter().map(Message::kind).collect()
}

#[test]
fn bird_and_gobgp() {
    let decoded = check("bird-gobgp.pcap");
    assert_eq!(decoded.len(), 2);
    let all: Vec<&Message> = decoded.values().flatten().collect();
    // An IPv6 route in MP_REACH_NLRI, GoBGP's large community, End-of-RIB markers.
    assert!(all.iter().any(|m| matches!(m, Message::Update(u) if u.mp_reach().is_some_and(|r| r.family == Family::IPV6_UNICAST))));
    assert!(all.iter().any(
        |m| matches!(m, Message::Update(u) if u.attribute(AttrType::LargeCommunities).is_some())
    ));
    assert!(all.iter().any(
        |m| matches!(m, Message::Update(u) if u.end_of_rib_family() == Some(Family::IPV4_UNICAST))
    ));
    // BIRD's shutdown communication.
    let notification = all
        .iter()
        .find_map(|m| match m {
            Message::Notification(n) => Some(n),
            _ => None,
        })
        .expect("a NOTIFICATION");
    assert_eq!(
        notification.error,
        ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown)
    );
    assert_eq!(
        notification.shutdown_message(),
        Some(ShutdownMessage::Text {
            text: "maintenance window",
            trailing: &[]
        })
    );
    // GoBGP announces the FQDN capability.
    let gobgp = decoded.values().map(|m| &m[0]).find_map(|m| match m {
        Message::Open(o) if o.asn() == 65001 => Some(o),
        _ => None,
    });
    assert!(
        gobgp
            .unwrap()
            .capabilities()
            .any(|c| matches!(c, bgp_codec::Capability::Fqdn { .. }))
    );
}

#[test]
fn bird_and_exabgp_with_add_path() {
    let decoded = check("bird-exabgp.pcap");
    let all: Vec<&Message> = decoded.values().flatten().collect();
    // ExaBGP's rich UPDATE: AS_SET, repeated communities, the unknown attribute.
    let rich = all
        .iter()
        .find_map(|m| match m {
            Message::Update(u) if u.attribute(AttrType::LargeCommunities).is_some() => Some(u),
            _ => None,
        })
        .expect("ExaBGP's UPDATE");
    assert_eq!(
        rich.as_path().unwrap().to_string(),
        "65002 64512 {64513 64514}"
    );
    assert_eq!(rich.communities().len(), 4);
    assert_eq!(
        rich.communities()[0],
        rich.communities()[2],
        "duplicates are kept in order"
    );
    assert!(matches!(
        rich.attribute(AttrType::Unknown(240)),
        Some(AttributeValue::Unknown { .. })
    ));
    assert!(rich.attribute(AttrType::AtomicAggregate).is_some());
    // BIRD's two paths for one prefix carry path identifiers.
    let paths: Vec<u32> = all
        .iter()
        .filter_map(|m| match m {
            Message::Update(u) => Some(u.nlri.iter().filter_map(|n| n.path_id).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(paths.len() >= 2, "path identifiers: {paths:?}");
    // BIRD's route refresh.
    assert!(
        all.iter().any(|m| m.kind() == MessageType::RouteRefresh),
        "{:?}",
        decoded.values().map(|m| kinds(m)).collect::<Vec<_>>()
    );
}

#[test]
fn a_two_octet_session_with_as4_path() {
    let decoded = check("two-octet.pcap");
    let old = decoded
        .iter()
        .find(|(_, m)| matches!(&m[0], Message::Open(o) if o.four_octet_as().is_none() && o.asn() == 65000))
        .expect("BIRD's OPEN without the 4-octet AS capability");
    let update = old
        .1
        .iter()
        .find_map(|m| match m {
            Message::Update(u) if !u.nlri.is_empty() => Some(u),
            _ => None,
        })
        .expect("the route BIRD passed on");
    let ctx = bgp_codec::SessionContext::legacy();
    assert!(
        update
            .as_path()
            .unwrap()
            .asns()
            .any(|a| a == bgp_codec::AS_TRANS)
    );
    let merged = update.effective_as_path(&ctx).unwrap();
    assert_eq!(
        merged.asns().collect::<Vec<_>>(),
        vec![65000, 4_200_000_001, 4_200_000_002, 65010]
    );
}
