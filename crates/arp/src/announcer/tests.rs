//! The announcer: schedules, the responder, conflict detection.

use super::*;
use crate::wire::{ArpRepr, EtherType, EthernetRepr, Ipv6Repr};
use std::net::Ipv4Addr;

const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const VIP4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

fn announcer(ownership: Ownership) -> Announcer {
    Announcer::new(
        InterfaceConfig {
            mac: OUR_MAC,
            vlan: None,
            ownership,
            link_local: Some(LINK_LOCAL),
        },
        Schedule::default(),
    )
}

fn sent(a: &mut Announcer) -> Vec<Frame> {
    std::iter::from_fn(|| a.poll_transmit())
        .map(|b| Frame::parse(&b).expect("we send valid frames"))
        .collect()
}

fn events(a: &mut Announcer) -> Vec<Event> {
    std::iter::from_fn(|| a.poll_event()).collect()
}

fn arp_from(mac: MacAddr, op: ArpOperation, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Vec<u8> {
    Frame::Arp {
        eth: EthernetRepr {
            dst: MacAddr::BROADCAST,
            src: mac,
            vlan: None,
            ethertype: EtherType::Arp,
        },
        arp: ArpRepr {
            operation: op,
            sender_mac: mac,
            sender_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        },
    }
    .to_bytes()
}

fn ns_from(mac: MacAddr, src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let ndisc = NdiscRepr::NeighborSolicit {
        target,
        source_lladdr: (!src.is_unspecified()).then_some(mac),
    };
    let len = if src.is_unspecified() { 24 } else { 32 };
    Frame::Ndisc {
        eth: EthernetRepr {
            dst: MacAddr::ipv6_multicast(target),
            src: mac,
            vlan: None,
            ethertype: EtherType::Ipv6,
        },
        ip: Ipv6Repr {
            src,
            dst: if src.is_unspecified() {
                crate::solicited_node_multicast(target)
            } else {
                target
            },
            next_header: 58,
            payload_len: len,
            hop_limit: 255,
        },
        ndisc,
    }
    .to_bytes()
}

#[test]
fn a_takeover_sends_at_once_then_a_burst_then_refreshes() {
    let mut a = announcer(Ownership::Kernel);
    let t0 = Instant::now();
    a.take_over(t0, IpAddr::V4(VIP4));
    let first = sent(&mut a);
    assert_eq!(first.len(), 2, "request and reply form at once");
    match &first[0] {
        Frame::Arp { eth, arp } => {
            assert_eq!(eth.dst, MacAddr::BROADCAST);
            assert_eq!(eth.src, OUR_MAC);
            assert_eq!(arp.operation, ArpOperation::Request);
            assert_eq!(
                (arp.sender_ip, arp.target_ip),
                (VIP4, VIP4),
                "RFC 5227: SPA = TPA"
            );
            assert_eq!(arp.sender_mac, OUR_MAC);
            assert_eq!(arp.target_mac, MacAddr::ZERO);
        }
        other => panic!("{other:?}"),
    }
    match &first[1] {
        Frame::Arp { arp, .. } => {
            assert_eq!(arp.operation, ArpOperation::Reply);
            assert_eq!(
                (arp.sender_ip, arp.target_ip, arp.target_mac),
                (VIP4, VIP4, OUR_MAC)
            );
        }
        other => panic!("{other:?}"),
    }
    // Four more rounds, 1.1 s apart.
    let mut now = t0;
    for round in 2..=5 {
        let due = a.poll_timeout().unwrap();
        assert_eq!(due - now, Duration::from_millis(1100), "round {round}");
        now = due;
        a.handle_timeout(now);
        assert_eq!(sent(&mut a).len(), 2);
    }
    // Then a refresh every 60 s.
    assert_eq!(a.poll_timeout().unwrap() - now, Duration::from_secs(60));
    a.handle_timeout(now + Duration::from_secs(30));
    assert!(sent(&mut a).is_empty(), "nothing before it is due");
    a.handle_timeout(now + Duration::from_secs(60));
    assert_eq!(sent(&mut a).len(), 2);
}

#[test]
fn refresh_can_be_disabled_and_forms_chosen() {
    let mut a = Announcer::new(
        InterfaceConfig {
            mac: OUR_MAC,
            vlan: None,
            ownership: Ownership::Kernel,
            link_local: None,
        },
        Schedule {
            burst_rounds: 2,
            refresh_interval: None,
            arp_reply: false,
            ..Schedule::default()
        },
    );
    let t0 = Instant::now();
    a.take_over(t0, IpAddr::V4(VIP4));
    assert_eq!(sent(&mut a).len(), 1, "only the request form");
    a.handle_timeout(t0 + Duration::from_millis(1100));
    assert_eq!(sent(&mut a).len(), 1);
    assert_eq!(a.poll_timeout(), None, "no refresh");
}

#[test]
fn an_ipv6_takeover_sends_an_unsolicited_na() {
    let mut a = announcer(Ownership::Kernel);
    a.take_over(Instant::now(), IpAddr::V6(VIP6));
    let frames = sent(&mut a);
    assert_eq!(frames.len(), 1);
    let Frame::Ndisc { eth, ip, ndisc } = &frames[0] else {
        panic!("{frames:?}")
    };
    assert_eq!(eth.dst, MacAddr([0x33, 0x33, 0, 0, 0, 1]));
    assert_eq!(ip.dst, crate::ALL_NODES_MULTICAST);
    assert_eq!(ip.src, LINK_LOCAL);
    assert_eq!(ip.hop_limit, 255);
    assert_eq!(
        *ndisc,
        NdiscRepr::NeighborAdvert {
            router: false,
            solicited: false,
            override_: true,
            target: VIP6,
            target_lladdr: Some(OUR_MAC)
        }
    );
}

#[test]
fn every_address_keeps_its_own_schedule() {
    let mut a = announcer(Ownership::Kernel);
    let t0 = Instant::now();
    let b = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 11));
    a.take_over(t0, IpAddr::V4(VIP4));
    a.take_over(t0 + Duration::from_millis(500), b);
    sent(&mut a);
    a.handle_timeout(t0 + Duration::from_millis(1100));
    let frames = sent(&mut a);
    assert!(
        frames
            .iter()
            .all(|f| matches!(f, Frame::Arp { arp, .. } if arp.sender_ip == VIP4))
    );
    assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_millis(1600)));
    a.handle_timeout(t0 + Duration::from_millis(1600));
    let frames = sent(&mut a);
    assert_eq!(frames.len(), 2);
    assert!(
        frames
            .iter()
            .all(|f| matches!(f, Frame::Arp { arp, .. } if IpAddr::V4(arp.sender_ip) == b))
    );
    // Releasing one leaves the other alone.
    a.release(b);
    assert!(!a.owns(b) && a.owns(IpAddr::V4(VIP4)));
}

#[test]
fn the_responder_answers_only_for_owned_addresses() {
    let mut a = announcer(Ownership::Responder);
    let now = Instant::now();
    a.take_over(now, IpAddr::V4(VIP4));
    a.take_over(now, IpAddr::V6(VIP6));
    sent(&mut a);
    let peer_ip = Ipv4Addr::new(198, 51, 100, 1);
    a.handle_frame(
        now,
        &arp_from(PEER_MAC, ArpOperation::Request, peer_ip, VIP4),
    );
    let frames = sent(&mut a);
    assert_eq!(frames.len(), 1);
    let Frame::Arp { eth, arp } = &frames[0] else {
        panic!()
    };
    assert_eq!(eth.dst, PEER_MAC);
    assert_eq!(arp.operation, ArpOperation::Reply);
    assert_eq!((arp.sender_mac, arp.sender_ip), (OUR_MAC, VIP4));
    assert_eq!((arp.target_mac, arp.target_ip), (PEER_MAC, peer_ip));
    // Not ours: silence.
    a.handle_frame(
        now,
        &arp_from(
            PEER_MAC,
            ArpOperation::Request,
            peer_ip,
            Ipv4Addr::new(198, 51, 100, 99),
        ),
    );
    assert!(sent(&mut a).is_empty());
    // A Neighbor Solicitation for our IPv6 address gets a solicited NA.
    let peer6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    a.handle_frame(now, &ns_from(PEER_MAC, peer6, VIP6));
    let frames = sent(&mut a);
    let Frame::Ndisc { eth, ip, ndisc } = &frames[0] else {
        panic!("{frames:?}")
    };
    assert_eq!((eth.dst, ip.dst, ip.src), (PEER_MAC, peer6, VIP6));
    assert!(
        matches!(ndisc, NdiscRepr::NeighborAdvert { solicited: true, override_: true, target, target_lladdr: Some(m), .. } if *target == VIP6 && *m == OUR_MAC)
    );
    // Duplicate address detection for our address: answered to all-nodes, not solicited.
    a.handle_frame(now, &ns_from(PEER_MAC, Ipv6Addr::UNSPECIFIED, VIP6));
    let frames = sent(&mut a);
    assert!(
        matches!(&frames[0], Frame::Ndisc { ip, ndisc: NdiscRepr::NeighborAdvert { solicited: false, .. }, .. } if ip.dst == crate::ALL_NODES_MULTICAST)
    );
    // Not ours.
    a.handle_frame(
        now,
        &ns_from(PEER_MAC, peer6, "2001:db8::99".parse().unwrap()),
    );
    assert!(sent(&mut a).is_empty());
}

#[test]
fn in_kernel_mode_the_responder_is_silent() {
    let mut a = announcer(Ownership::Kernel);
    let now = Instant::now();
    a.take_over(now, IpAddr::V4(VIP4));
    a.take_over(now, IpAddr::V6(VIP6));
    sent(&mut a);
    a.handle_frame(
        now,
        &arp_from(
            PEER_MAC,
            ArpOperation::Request,
            Ipv4Addr::new(198, 51, 100, 1),
            VIP4,
        ),
    );
    a.handle_frame(
        now,
        &ns_from(PEER_MAC, "2001:db8::1".parse().unwrap(), VIP6),
    );
    assert!(sent(&mut a).is_empty());
}

#[test]
fn a_conflict_is_reported_and_defended_once_per_interval() {
    let mut a = announcer(Ownership::Kernel);
    let t0 = Instant::now();
    a.take_over(t0, IpAddr::V4(VIP4));
    sent(&mut a);
    let claim = arp_from(PEER_MAC, ArpOperation::Request, VIP4, VIP4);
    a.handle_frame(t0, &claim);
    assert_eq!(
        events(&mut a),
        vec![Event::Conflict {
            addr: IpAddr::V4(VIP4),
            mac: PEER_MAC,
            defended: true
        }]
    );
    assert_eq!(sent(&mut a).len(), 2, "one defending announcement round");
    a.handle_frame(t0 + Duration::from_secs(5), &claim);
    assert_eq!(
        events(&mut a),
        vec![Event::Conflict {
            addr: IpAddr::V4(VIP4),
            mac: PEER_MAC,
            defended: false
        }]
    );
    assert!(sent(&mut a).is_empty());
    a.handle_frame(t0 + Duration::from_secs(10), &claim);
    assert!(matches!(
        events(&mut a)[..],
        [Event::Conflict { defended: true, .. }]
    ));
    // IPv6: an NA for our address from another MAC.
    a.take_over(t0, IpAddr::V6(VIP6));
    sent(&mut a);
    let na = Link {
        mac: PEER_MAC,
        vlan: None,
    }
    .unsolicited_na(VIP6, VIP6)
    .to_bytes();
    a.handle_frame(t0, &na);
    assert_eq!(
        events(&mut a),
        vec![Event::Conflict {
            addr: IpAddr::V6(VIP6),
            mac: PEER_MAC,
            defended: true
        }]
    );
}

#[test]
fn our_own_frames_and_unowned_claims_raise_nothing() {
    let mut a = announcer(Ownership::Responder);
    let now = Instant::now();
    a.take_over(now, IpAddr::V4(VIP4));
    let own = a.poll_transmit().unwrap();
    a.handle_frame(now, &own);
    a.handle_frame(
        now,
        &arp_from(
            PEER_MAC,
            ArpOperation::Request,
            Ipv4Addr::new(198, 51, 100, 50),
            Ipv4Addr::new(198, 51, 100, 50),
        ),
    );
    a.handle_frame(now, &[1, 2, 3]);
    assert!(events(&mut a).is_empty());
    sent(&mut a);
    // After release nothing is answered or defended.
    a.release(IpAddr::V4(VIP4));
    a.handle_frame(now, &arp_from(PEER_MAC, ArpOperation::Request, VIP4, VIP4));
    a.handle_frame(
        now,
        &arp_from(
            PEER_MAC,
            ArpOperation::Request,
            Ipv4Addr::new(198, 51, 100, 1),
            VIP4,
        ),
    );
    assert!(events(&mut a).is_empty());
    assert!(sent(&mut a).is_empty());
    assert_eq!(a.poll_timeout(), None);
}
