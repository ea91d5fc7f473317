//! The announcer on a real link: three namespaces on one bridge — a peer (the router),
//! the node that owned the VIP before and the node that takes it over.
#![cfg(feature = "tokio")]

mod io_support;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::{Duration, Instant};

use arp_ndp::io::{Command, PacketSocket, run};
use arp_ndp::{
    Announcer, ArpOperation, Event, Frame, InterfaceConfig, MacAddr, NdiscRepr, Ownership, Schedule,
};
use testkit::{Bridge, Capture, Netns};
use tokio::sync::mpsc;

const VIP4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100);
const PEER: usize = 0;
const OLD: usize = 1;
const NEW: usize = 2;

fn mac(ns: &Netns) -> MacAddr {
    MacAddr::from_str(&ns.mac(Bridge::IFNAME).unwrap()).unwrap()
}

/// The MAC the neighbour table of namespace `ns` holds for `addr`, if any.
fn neighbour(ns: &str, addr: IpAddr) -> Option<MacAddr> {
    let out = std::process::Command::new("ip")
        .args([
            "-n",
            ns,
            "neigh",
            "show",
            &addr.to_string(),
            "dev",
            Bridge::IFNAME,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    words.find(|w| *w == "lladdr")?;
    words.next().and_then(|m| MacAddr::from_str(m).ok())
}

/// Waits (without blocking the runtime) until `check` holds.
async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < io_support::PATIENCE,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs the announcer loop in `ns` while `body` runs beside it (both on one runtime
/// thread inside the namespace); `body` gets the command sender and the event receiver.
fn with_announcer<F, Fut>(ns: &Netns, ownership: Ownership, body: F)
where
    F: FnOnce(mpsc::Sender<Command>, mpsc::Receiver<Event>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let ns_mac = mac(ns);
    io_support::block_on_in(ns, move || async move {
        let socket = PacketSocket::open(Bridge::IFNAME).expect("a packet socket");
        let announcer = Announcer::new(
            InterfaceConfig {
                mac: ns_mac,
                vlan: None,
                ownership,
                link_local: None,
            },
            Schedule::default(),
        );
        let (tx, rx) = mpsc::channel(16);
        let (etx, erx) = mpsc::channel(16);
        let task = tokio::spawn(run(socket, announcer, ownership, rx, etx));
        body(tx, erx).await;
        task.await
            .expect("the loop did not panic")
            .expect("the loop ended cleanly");
    });
}

fn lan(label: &str) -> Bridge {
    let lan = Bridge::new(label, 3).unwrap();
    // The peer creates neighbour entries from gratuitous ARP too (arp_accept), as a
    // router configured for VIPs would; an existing entry is updated either way.
    lan.member(PEER)
        .sysctl("net.ipv4.conf.all.arp_accept", "1")
        .unwrap();
    lan
}

#[test]
fn a_takeover_moves_the_peer_neighbour_entries_to_the_new_mac() {
    let lan = lan("take");
    let (peer, old, new) = (lan.member(PEER), lan.member(OLD), lan.member(NEW));
    let (old_mac, new_mac) = (mac(old), mac(new));
    // The peer learned the VIPs at the old owner's MAC.
    for (family, addr) in [("-4", VIP4.to_string()), ("-6", VIP6.to_string())] {
        peer.ip(&[
            family,
            "neigh",
            "replace",
            &addr,
            "lladdr",
            &old_mac.to_string(),
            "dev",
            Bridge::IFNAME,
            "nud",
            "stale",
        ])
        .unwrap();
    }
    assert_eq!(neighbour(peer.name(), VIP4.into()), Some(old_mac));
    let capture = Capture::start(peer, Bridge::IFNAME, "arp or icmp6").unwrap();
    let peer_name = peer.name().to_owned();
    with_announcer(new, Ownership::Responder, move |tx, _events| async move {
        tx.send(Command::TakeOver(VIP4.into())).await.unwrap();
        tx.send(Command::TakeOver(VIP6.into())).await.unwrap();
        wait_for("the peer's IPv4 entry to move", || {
            neighbour(&peer_name, VIP4.into()) == Some(new_mac)
        })
        .await;
        wait_for("the peer's IPv6 entry to move", || {
            neighbour(&peer_name, VIP6.into()) == Some(new_mac)
        })
        .await;
    });
    // What went over the wire: the announcement, the reply form and the unsolicited NA.
    let frames: Vec<Frame> = capture
        .wait_frames(3, io_support::PATIENCE)
        .unwrap()
        .iter()
        .filter_map(|f| Frame::parse(&f.data).ok())
        .filter(|f| f.eth().src == new_mac)
        .collect();
    assert!(
        frames.iter().any(
            |f| matches!(f, Frame::Arp { eth, arp } if eth.dst == MacAddr::BROADCAST
        && arp.operation == ArpOperation::Request && arp.sender_ip == VIP4 && arp.target_ip == VIP4)
        ),
        "{frames:?}"
    );
    assert!(
        frames.iter().any(
            |f| matches!(f, Frame::Arp { arp, .. } if arp.operation == ArpOperation::Reply
        && arp.sender_ip == VIP4 && arp.target_mac == new_mac)
        ),
        "{frames:?}"
    );
    assert!(frames.iter().any(|f| matches!(f, Frame::Ndisc { ip, ndisc: NdiscRepr::NeighborAdvert { solicited: false, override_: true, target, target_lladdr: Some(m), .. }, .. }
        if ip.dst == arp_ndp::ALL_NODES_MULTICAST && ip.hop_limit == 255 && *target == VIP6 && *m == new_mac)), "{frames:?}");
}

#[test]
fn the_responder_answers_arping_and_ndisc6_for_owned_addresses_only() {
    let lan = lan("resp");
    let (peer, new) = (lan.member(PEER), lan.member(NEW));
    let new_mac = mac(new);
    testkit::require("arping").unwrap();
    testkit::require("ndisc6").unwrap();
    let peer_name = peer.name().to_owned();
    with_announcer(new, Ownership::Responder, move |tx, _events| async move {
        tx.send(Command::TakeOver(VIP4.into())).await.unwrap();
        tx.send(Command::TakeOver(VIP6.into())).await.unwrap();
        let run = |program: &'static str, args: Vec<String>| {
            let name = peer_name.clone();
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("ip")
                    .args(["netns", "exec", &name, program])
                    .args(&args)
                    .output()
                    .unwrap()
            })
        };
        let arping = |ip: Ipv4Addr| {
            run(
                "arping",
                vec![
                    "-c".into(),
                    "1".into(),
                    "-w".into(),
                    "2".into(),
                    "-i".into(),
                    Bridge::IFNAME.into(),
                    ip.to_string(),
                ],
            )
        };
        let ndisc = |ip: Ipv6Addr| {
            run(
                "ndisc6",
                vec![
                    "-1".into(),
                    "-r".into(),
                    "2".into(),
                    ip.to_string(),
                    Bridge::IFNAME.into(),
                ],
            )
        };
        let owned = arping(VIP4).await.unwrap();
        let text = String::from_utf8_lossy(&owned.stdout).to_lowercase();
        assert!(text.contains(&new_mac.to_string()), "arping {VIP4}: {text}");
        let other = arping(Ipv4Addr::new(10, 0, 0, 101)).await.unwrap();
        assert!(
            !other.status.success(),
            "nobody answers for an address we do not own"
        );
        let owned = ndisc(VIP6).await.unwrap();
        let text = String::from_utf8_lossy(&owned.stdout).to_lowercase();
        assert!(text.contains(&new_mac.to_string()), "ndisc6 {VIP6}: {text}");
        let other = ndisc("fd00::101".parse().unwrap()).await.unwrap();
        assert!(
            !other.status.success(),
            "{}",
            String::from_utf8_lossy(&other.stdout)
        );
    });
}

#[test]
fn another_host_announcing_our_address_raises_a_conflict_naming_it() {
    let lan = lan("confl");
    let (old, new) = (lan.member(OLD), lan.member(NEW));
    let intruder_mac = mac(old);
    let intruder = old.name().to_owned();
    with_announcer(
        new,
        Ownership::Responder,
        move |tx, mut events| async move {
            tx.send(Command::TakeOver(VIP4.into())).await.unwrap();
            // The old owner still announces the address (sender = target = VIP).
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        &intruder,
                        "arping",
                        "-U",
                        "-c",
                        "1",
                        "-i",
                        Bridge::IFNAME,
                        "-S",
                        &VIP4.to_string(),
                        &VIP4.to_string(),
                    ])
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            let event = tokio::time::timeout(io_support::PATIENCE, events.recv())
                .await
                .expect("a conflict event");
            assert_eq!(
                event,
                Some(Event::Conflict {
                    addr: VIP4.into(),
                    mac: intruder_mac,
                    defended: true
                })
            );
        },
    );
}

#[test]
fn in_kernel_mode_only_the_kernel_answers_for_a_configured_vip() {
    let lan = lan("kern");
    let (peer, new) = (lan.member(PEER), lan.member(NEW));
    let new_mac = mac(new);
    let peer_name = peer.name().to_owned();
    with_announcer(new, Ownership::Kernel, move |tx, _events| async move {
        // The VIP is configured on the interface, as kube-vip does it (/32, preferred_lft 0).
        let iface = arp_ndp::io::interface(Bridge::IFNAME).await.unwrap();
        arp_ndp::io::add_address(&iface, VIP4.into()).await.unwrap();
        tx.send(Command::TakeOver(VIP4.into())).await.unwrap();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &peer_name,
                    "arping",
                    "-c",
                    "3",
                    "-w",
                    "4",
                    "-i",
                    Bridge::IFNAME,
                    &VIP4.to_string(),
                ])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        // Three requests, three answers from the node's MAC, and no duplicate answers
        // (arping counts those as "extra"): the responder stayed silent.
        assert!(text.contains(&new_mac.to_string()), "{text}");
        assert!(text.contains("3 packets received"), "{text}");
        assert!(text.contains("(0 extra)"), "{text}");
    });
}
