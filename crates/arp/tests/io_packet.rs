//! The `AF_PACKET` socket against a real veth pair in two network namespaces.
#![cfg(feature = "tokio")]

mod io_support;

use std::net::{Ipv4Addr, Ipv6Addr, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arp_ndp::io::{PacketSocket, SocketError};
use io_support::{PATIENCE, arp, block_on_in, describe, gratuitous_arp, icmpv6, parse_mac};
use testkit::{Bridge, Capture, Netns, VethPair};

const IFNAME: &str = VethPair::IFNAME;

/// Receives frames until `stop` accepts one (then 300 ms more, for frames that were
/// already on their way) or [`PATIENCE`] runs out.
async fn receive_until(socket: &PacketSocket, stop: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buf = [0u8; 2048];
    let mut until = Instant::now() + PATIENCE;
    let mut stopping = false;
    while let Ok(received) = tokio::time::timeout_at(until.into(), socket.recv(&mut buf)).await {
        let n = received.expect("receiving a frame");
        let frame = buf[..n].to_vec();
        if !stopping && stop(&frame) {
            stopping = true;
            until = Instant::now() + Duration::from_millis(300);
        }
        frames.push(frame);
    }
    frames
}

/// Receives every frame that arrives within `window`.
async fn receive_for(socket: &PacketSocket, window: Duration) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buf = [0u8; 2048];
    let until = Instant::now() + window;
    while let Ok(received) = tokio::time::timeout_at(until.into(), socket.recv(&mut buf)).await {
        frames.push(buf[..received.expect("receiving a frame")].to_vec());
    }
    frames
}

#[test]
fn the_socket_receives_arp_and_neighbor_discovery_and_nothing_else() {
    let pair = VethPair::new("pkf").unwrap();
    const SENTINEL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 99);
    let (ready_tx, ready_rx) = mpsc::channel();
    let frames = std::thread::scope(|scope| {
        let b = &pair.b;
        let receiver = scope.spawn(move || {
            block_on_in(b, move || async move {
                let socket = PacketSocket::open(IFNAME).unwrap();
                ready_tx.send(()).unwrap();
                receive_until(&socket, |f| {
                    arp(f).is_some_and(|(_, spa, _)| spa == SENTINEL)
                })
                .await
            })
        });
        ready_rx.recv().expect("the receiver is ready");
        // ARP request and ICMP echo.
        pair.a.run("ping", &["-c1", "-W1", "10.0.0.2"]).unwrap();
        // UDP (answered with ICMP port unreachable) and TCP (SYN, answered with RST).
        pair.a
            .run_in(|| {
                let udp = UdpSocket::bind("10.0.0.1:0").unwrap();
                udp.send_to(b"not for the filter", "10.0.0.2:9").unwrap();
                let to = "10.0.0.2:9".parse().unwrap();
                let refused = TcpStream::connect_timeout(&to, Duration::from_secs(2));
                assert!(refused.is_err(), "nothing listens on 10.0.0.2:9");
            })
            .unwrap();
        // Neighbor Solicitation for fd00::2, then ICMPv6 echo.
        pair.a
            .run("ping", &["-6", "-c1", "-W1", "fd00::2"])
            .unwrap();
        // The sentinel, sent after everything else.
        block_on_in(&pair.a, || async {
            let socket = PacketSocket::open(IFNAME).unwrap();
            let frame = gratuitous_arp(socket.interface().mac, SENTINEL);
            socket.send(&frame).await.unwrap();
        });
        receiver.join().unwrap()
    });

    let seen: Vec<String> = frames.iter().map(|f| describe(f)).collect();
    assert!(
        frames
            .iter()
            .any(|f| arp(f) == Some((1, VethPair::A_V4, VethPair::B_V4))),
        "no ARP request from a for 10.0.0.2 among {seen:?}"
    );
    assert!(
        frames
            .iter()
            .any(|f| icmpv6(f) == Some((135, Some(VethPair::B_V6)))),
        "no Neighbor Solicitation for fd00::2 among {seen:?}"
    );
    assert!(
        frames
            .iter()
            .any(|f| arp(f).is_some_and(|(_, spa, _)| spa == SENTINEL)),
        "the sentinel never arrived: {seen:?}"
    );
    // The host's own answers (outgoing frames) are not read back.
    assert!(
        !frames
            .iter()
            .any(|f| arp(f).is_some_and(|(op, spa, _)| op == 2 && spa == VethPair::B_V4)),
        "b's own ARP reply was read back: {seen:?}"
    );
    assert!(
        !frames
            .iter()
            .any(|f| icmpv6(f) == Some((136, Some(VethPair::B_V6)))),
        "b's own Neighbor Advertisement was read back: {seen:?}"
    );
    for frame in &frames {
        let wanted = arp(frame).is_some()
            || icmpv6(frame).is_some_and(|(kind, _)| kind == 135 || kind == 136);
        assert!(wanted, "the filter let through {}", describe(frame));
    }
}

#[test]
fn a_sent_frame_reaches_the_peer_and_is_not_read_back() {
    let pair = VethPair::new("pks").unwrap();
    let b_mac = parse_mac(&pair.b.mac(IFNAME).unwrap());
    let capture = Capture::start(&pair.a, IFNAME, "arp").unwrap();
    let frame = gratuitous_arp(b_mac, VethPair::B_V4);
    assert_eq!(frame.len(), 42);
    let sent = frame.clone();
    let read_back = block_on_in(&pair.b, move || async move {
        let socket = PacketSocket::open(IFNAME).unwrap();
        assert_eq!(socket.interface().name, IFNAME);
        assert_eq!(socket.interface().mac, b_mac);
        assert!(socket.interface().index > 1, "{:?}", socket.interface());
        socket.send(&sent).await.unwrap();
        // Our own frame must not come back to us.
        receive_for(&socket, Duration::from_secs(1)).await
    });
    assert!(
        !read_back.contains(&frame),
        "the socket read back its own frame"
    );
    let captured = capture.wait_frames(1, PATIENCE).unwrap();
    assert!(
        captured.iter().any(|c| c.data == frame),
        "a did not capture the gratuitous ARP: {:?}",
        captured
            .iter()
            .map(|c| describe(&c.data))
            .collect::<Vec<_>>()
    );
}

/// The link-layer and IPv6 multicast groups of `ifname` in namespace `ns`.
fn multicast_groups(ns: &str, ifname: &str) -> String {
    let out = Command::new(testkit::require("ip").unwrap())
        .args(["-n", ns, "maddr", "show", "dev", ifname])
        .output()
        .expect("running ip maddr");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_solicited_node_join_brings_solicitations_for_an_address_not_configured() {
    let pair = VethPair::new("pkm").unwrap();
    let vip: Ipv6Addr = "fd00::77".parse().unwrap();
    // Another address with the same low 24 bits, so the same group.
    let twin: Ipv6Addr = "fd00:1::77".parse().unwrap();
    let b_name = pair.b.name().to_owned();
    let (ready_tx, ready_rx) = mpsc::channel();
    let frames = std::thread::scope(|scope| {
        let b = &pair.b;
        let receiver = scope.spawn(move || {
            block_on_in(b, move || async move {
                let socket = PacketSocket::open(IFNAME).unwrap();
                let before = multicast_groups(&b_name, IFNAME);
                assert!(!before.contains("ff02::1:ff00:77"), "{before}");
                socket.join_solicited_node(vip).unwrap();
                socket.join_solicited_node(twin).unwrap();
                let joined = multicast_groups(&b_name, IFNAME);
                assert!(joined.contains("33:33:ff:00:00:77"), "{joined}");
                assert!(joined.contains("ff02::1:ff00:77"), "{joined}");
                ready_tx.send(()).unwrap();
                let frames = receive_until(&socket, |f| icmpv6(f) == Some((135, Some(vip)))).await;
                // The group is shared: it stays until both addresses left it.
                socket.leave_solicited_node(twin).unwrap();
                let once = multicast_groups(&b_name, IFNAME);
                assert!(once.contains("ff02::1:ff00:77"), "{once}");
                socket.leave_solicited_node(vip).unwrap();
                let left = multicast_groups(&b_name, IFNAME);
                assert!(!left.contains("ff02::1:ff00:77"), "{left}");
                assert!(!left.contains("33:33:ff:00:00:77"), "{left}");
                // Leaving again, or a group never joined, is no error.
                socket.leave_solicited_node(vip).unwrap();
                frames
            })
        });
        ready_rx.recv().expect("the receiver joined the group");
        // Nobody has fd00::77: the ping fails, after soliciting it.
        let _ = pair.a.run("ping", &["-6", "-c1", "-W1", "fd00::77"]);
        receiver.join().unwrap()
    });
    assert!(
        frames.iter().any(|f| icmpv6(f) == Some((135, Some(vip)))),
        "no Neighbor Solicitation for {vip}: {:?}",
        frames.iter().map(|f| describe(f)).collect::<Vec<_>>()
    );
}

#[test]
fn opening_a_missing_or_non_ethernet_interface_fails_with_its_name() {
    let ns = Netns::new("pke").unwrap();
    block_on_in(&ns, || async {
        let missing = PacketSocket::open("nosuch0").unwrap_err();
        assert!(
            matches!(&missing, SocketError::NoSuchInterface { interface, .. } if interface == "nosuch0"),
            "{missing:?}"
        );
        assert!(missing.to_string().contains("nosuch0"), "{missing}");
        let lo = PacketSocket::open("lo").unwrap_err();
        assert!(
            matches!(&lo, SocketError::NotEthernet { interface, .. } if interface == "lo"),
            "{lo:?}"
        );
    });
}

/// A frame from `mac` with an 802.1Q or 802.1ad tag (`tpid`, `tci`) carrying a
/// gratuitous ARP for `ip`.
fn tagged_gratuitous_arp(mac: [u8; 6], ip: Ipv4Addr, tpid: u16, tci: u16) -> Vec<u8> {
    let untagged = gratuitous_arp(mac, ip);
    let mut frame = untagged[..12].to_vec();
    frame.extend(tpid.to_be_bytes());
    frame.extend(tci.to_be_bytes());
    frame.extend(&untagged[12..]);
    frame
}

#[test]
fn tagged_frames_do_not_reach_a_socket_on_the_parent_but_priority_tagged_ones_do() {
    let pair = VethPair::new("pkv").unwrap();
    const VLAN_100: Ipv4Addr = Ipv4Addr::new(10, 0, 100, 9);
    const QINQ_200: Ipv4Addr = Ipv4Addr::new(10, 0, 200, 9);
    const PRIORITY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
    const SENTINEL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 99);
    let (ready_tx, ready_rx) = mpsc::channel();
    let frames = std::thread::scope(|scope| {
        let b = &pair.b;
        let receiver = scope.spawn(move || {
            block_on_in(b, move || async move {
                let socket = PacketSocket::open(IFNAME).unwrap();
                ready_tx.send(()).unwrap();
                receive_until(&socket, |f| {
                    arp(f).is_some_and(|(_, spa, _)| spa == SENTINEL)
                })
                .await
            })
        });
        ready_rx.recv().expect("the receiver is ready");
        block_on_in(&pair.a, || async {
            let socket = PacketSocket::open(IFNAME).unwrap();
            let mac = socket.interface().mac;
            for frame in [
                tagged_gratuitous_arp(mac, VLAN_100, 0x8100, 100),
                tagged_gratuitous_arp(mac, QINQ_200, 0x88a8, 200),
                // Priority 5, VLAN 0.
                tagged_gratuitous_arp(mac, PRIORITY, 0x8100, 0xa000),
                gratuitous_arp(mac, SENTINEL),
            ] {
                socket.send(&frame).await.unwrap();
            }
        });
        receiver.join().unwrap()
    });
    let senders: Vec<Ipv4Addr> = frames.iter().filter_map(|f| arp(f)).map(|a| a.1).collect();
    assert!(senders.contains(&SENTINEL), "{senders:?}");
    assert!(
        senders.contains(&PRIORITY),
        "priority-tagged ARP dropped: {senders:?}"
    );
    assert!(
        !senders.contains(&VLAN_100),
        "VLAN 100 ARP on the parent: {senders:?}"
    );
    assert!(
        !senders.contains(&QINQ_200),
        "802.1ad ARP on the parent: {senders:?}"
    );
}

#[test]
fn a_solicited_node_join_is_reported_to_an_mld_snooping_bridge() {
    // Members 0 (asking) and 1 (joining) on a bridge that snoops MLD and is the querier.
    let lan = Bridge::new("pkb", 2).unwrap();
    lan.switch()
        .ip(&[
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "1",
            "mcast_querier",
            "1",
        ])
        .unwrap();
    // MLD reports leave from the link-local address; a snooping bridge ignores the
    // ones sent before it exists. Wait for it, so the join's own report counts.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let link_local = lan
            .member(1)
            .ip(&[
                "-6",
                "-o",
                "addr",
                "show",
                "dev",
                Bridge::IFNAME,
                "scope",
                "link",
            ])
            .unwrap();
        if link_local.contains("fe80::") && !link_local.contains("tentative") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no link-local address: {link_local}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let vip: Ipv6Addr = "fd00::7:77".parse().unwrap();
    let group = "ff02::1:ff07:77";
    let switch = lan.switch().name().to_owned();
    let (ready_tx, ready_rx) = mpsc::channel();
    let frames = std::thread::scope(|scope| {
        let member = lan.member(1);
        let receiver = scope.spawn(move || {
            block_on_in(member, move || async move {
                let socket = PacketSocket::open(Bridge::IFNAME).unwrap();
                socket.join_solicited_node(vip).unwrap();
                // The join sent MLD reports: the bridge now forwards the group to p1.
                // They usually arrive at once; on a busy machine the bridge may learn
                // the group only from the answer to its next query, sent within 10 s.
                let deadline = Instant::now() + 3 * PATIENCE;
                let mut mdb = String::new();
                while Instant::now() < deadline {
                    let out = Command::new(testkit::require("bridge").unwrap())
                        .args(["-n", &switch, "mdb", "show"])
                        .output()
                        .expect("running bridge mdb show");
                    mdb = String::from_utf8_lossy(&out.stdout).into_owned();
                    if mdb
                        .lines()
                        .any(|l| l.contains("port p1") && l.contains(group))
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                assert!(
                    mdb.lines()
                        .any(|l| l.contains("port p1") && l.contains(group)),
                    "the bridge never learned {group} on p1: {mdb}"
                );
                ready_tx.send(()).unwrap();
                receive_until(&socket, |f| icmpv6(f) == Some((135, Some(vip)))).await
            })
        });
        ready_rx.recv().expect("the receiver joined the group");
        let _ = lan
            .member(0)
            .run("ping", &["-6", "-c1", "-W1", "fd00::7:77"]);
        receiver.join().unwrap()
    });
    assert!(
        frames.iter().any(|f| icmpv6(f) == Some((135, Some(vip)))),
        "no Neighbor Solicitation for {vip} through the snooping bridge: {:?}",
        frames.iter().map(|f| describe(f)).collect::<Vec<_>>()
    );
}
