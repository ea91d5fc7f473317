//! Watching what happens on the wire and in the kernel's tables.

use std::time::{Duration, SystemTime};

use testkit::{Capture, Monitor, MonitorChange, VethPair};

#[test]
fn neighbour_and_address_changes_are_seen_with_timestamps() {
    let pair = VethPair::new("mon").unwrap();
    let monitor = Monitor::start(&pair.b).unwrap();
    let before = SystemTime::now() - Duration::from_secs(1);
    let mac_a = pair.a.mac(VethPair::IFNAME).unwrap();

    pair.a
        .run("ping", &["-c", "1", "-W", "2", &VethPair::B_V4.to_string()])
        .unwrap();
    let learned = monitor
        .wait_for("b to learn a's MAC", Duration::from_secs(5), |e| {
            matches!(&e.change, MonitorChange::Neighbor { addr, lladdr: Some(mac), .. }
                if *addr == std::net::IpAddr::V4(VethPair::A_V4) && *mac == mac_a)
        })
        .unwrap();
    assert!(!learned.deleted);
    assert!(learned.at >= before && learned.at <= SystemTime::now() + Duration::from_secs(1));

    pair.b
        .add_address(VethPair::IFNAME, "10.0.0.42".parse().unwrap(), 32)
        .unwrap();
    pair.b
        .ip(&["addr", "del", "10.0.0.42/32", "dev", VethPair::IFNAME])
        .unwrap();
    let removed = monitor
        .wait_for("the address removal", Duration::from_secs(5), |e| {
            e.deleted && matches!(&e.change, MonitorChange::Address { addr, .. } if addr.to_string() == "10.0.0.42")
        })
        .unwrap();
    let added = monitor
        .events()
        .into_iter()
        .find(|e| !e.deleted && e.text.contains("10.0.0.42/32"))
        .expect("the addition was seen too");
    assert!(added.at <= removed.at);
}

#[test]
fn frames_are_captured_with_timestamps() {
    let pair = VethPair::new("cap").unwrap();
    let capture = Capture::start(&pair.b, VethPair::IFNAME, "arp").unwrap();
    pair.a
        .run("ping", &["-c", "1", "-W", "2", &VethPair::B_V4.to_string()])
        .unwrap();
    let frames = capture.wait_frames(2, Duration::from_secs(5)).unwrap();
    // Only ARP passed the filter: EtherType 0x0806, a request then a reply.
    assert!(
        frames
            .iter()
            .all(|f| f.data.len() >= 42 && f.data[12..14] == [0x08, 0x06])
    );
    assert_eq!(frames[0].data[20..22], [0, 1], "first an ARP request");
    assert_eq!(frames[1].data[20..22], [0, 2], "then an ARP reply");
    assert!(frames[0].at <= frames[1].at);
    let all = capture.stop().unwrap();
    assert!(all.len() >= 2);
}
