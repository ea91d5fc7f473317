//! The small value types of the wire layer and the views' accessors.

use std::net::{Ipv4Addr, Ipv6Addr};

use arp_ndp::{
    ALL_NODES_MULTICAST, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr,
    Frame, Icmpv6Packet, Ipv6Packet, MacAddr, NdiscRepr, VlanTag, WireError,
    is_solicited_node_multicast, solicited_node_multicast,
};

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

#[test]
fn mac_addresses() {
    let mac: MacAddr = "02:00:5E:10:00:01".parse().unwrap();
    assert_eq!(mac, MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]));
    assert_eq!(mac.to_string(), "02:00:5e:10:00:01");
    assert_eq!(format!("{mac:?}"), "MacAddr(02:00:5e:10:00:01)");
    assert_eq!("02-00-5e-10-00-01".parse::<MacAddr>(), Ok(mac));
    assert!(mac.is_unicast() && mac.is_locally_administered() && !mac.is_multicast());
    assert!(MacAddr::BROADCAST.is_broadcast() && MacAddr::BROADCAST.is_multicast());
    assert!(MacAddr::ZERO.is_zero() && !MacAddr::ZERO.is_broadcast());
    assert_eq!(MacAddr::BROADCAST.to_string(), "ff:ff:ff:ff:ff:ff");
    assert_eq!(MacAddr::from(mac.octets()), mac);
    assert_eq!(<[u8; 6]>::from(mac), mac.0);
    assert!(MacAddr::ZERO < mac && mac < MacAddr::BROADCAST);
}

#[test]
fn ipv6_multicast_mac() {
    // RFC 2464 §7: 33:33 and the low 32 bits.
    assert_eq!(
        MacAddr::ipv6_multicast(ALL_NODES_MULTICAST).to_string(),
        "33:33:00:00:00:01"
    );
    let group = solicited_node_multicast(v6("2001:db8::aabb:ccdd"));
    assert_eq!(group, v6("ff02::1:ffbb:ccdd"));
    assert_eq!(
        MacAddr::ipv6_multicast(group).to_string(),
        "33:33:ff:bb:cc:dd"
    );
    assert!(MacAddr::ipv6_multicast(group).is_multicast());
}

#[test]
fn solicited_node_addresses() {
    assert_eq!(
        solicited_node_multicast(v6("fd00::2")),
        v6("ff02::1:ff00:2")
    );
    assert!(is_solicited_node_multicast(v6("ff02::1:ff12:3456")));
    assert!(!is_solicited_node_multicast(v6("ff02::1")));
    assert!(!is_solicited_node_multicast(v6("ff02::2:ff12:3456")));
    assert!(!is_solicited_node_multicast(v6("ff05::1:ff12:3456")));
}

#[test]
fn ethertypes_and_operations() {
    for (value, ty, text) in [
        (0x0800, EtherType::Ipv4, "IPv4"),
        (0x0806, EtherType::Arp, "ARP"),
        (0x86dd, EtherType::Ipv6, "IPv6"),
        (0x8100, EtherType::Vlan, "802.1Q"),
        (0x88cc, EtherType::Unknown(0x88cc), "0x88cc"),
    ] {
        assert_eq!(EtherType::from(value), ty);
        assert_eq!(u16::from(ty), value);
        assert_eq!(ty.to_string(), text);
    }
    assert_eq!(ArpOperation::from(1), ArpOperation::Request);
    assert_eq!(ArpOperation::from(2), ArpOperation::Reply);
    assert_eq!(ArpOperation::from(3), ArpOperation::Unknown(3));
    assert_eq!(ArpOperation::Unknown(3).to_string(), "operation 3");
}

#[test]
fn vlan_tags() {
    let tag = VlanTag::from_tci(0xa064);
    assert_eq!(
        tag,
        VlanTag {
            pcp: 5,
            dei: false,
            vid: 100
        }
    );
    assert_eq!(tag.to_tci(), Ok(0xa064));
    assert_eq!(VlanTag::new(42).to_tci(), Ok(42));
    assert!(VlanTag::from_tci(0x1001).dei);
}

#[test]
fn arp_probe_and_announcement() {
    let mut arp = ArpRepr {
        operation: ArpOperation::Request,
        sender_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        sender_ip: Ipv4Addr::UNSPECIFIED,
        target_mac: MacAddr::ZERO,
        target_ip: Ipv4Addr::new(192, 0, 2, 1),
    };
    // RFC 5227 §2.1.1: a probe has sender IP 0.0.0.0.
    assert!(arp.is_probe() && !arp.is_gratuitous());
    // §2.3: an announcement has sender IP = target IP.
    arp.sender_ip = arp.target_ip;
    assert!(!arp.is_probe() && arp.is_gratuitous());
    arp.operation = ArpOperation::Unknown(8);
    assert!(!arp.is_probe() && !arp.is_gratuitous());
    assert_eq!(ArpRepr::LEN, 28);
}

#[test]
fn view_accessors() {
    let ndisc = NdiscRepr::NeighborAdvert {
        router: true,
        solicited: false,
        override_: true,
        target: v6("fd00::100"),
        target_lladdr: Some(MacAddr([2, 0, 0, 0, 0, 1])),
    };
    let frame = Frame::Ndisc {
        eth: EthernetRepr {
            dst: MacAddr::ipv6_multicast(ALL_NODES_MULTICAST),
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            vlan: Some(VlanTag::new(7)),
            ethertype: EtherType::Ipv6,
        },
        ip: arp_ndp::Ipv6Repr::ndisc(v6("fd00::100"), ALL_NODES_MULTICAST, &ndisc),
        ndisc,
    };
    assert_eq!(frame.buffer_len(), 18 + 40 + 32);
    let mut bytes = frame.to_bytes();
    let eth = EthernetFrame::new_checked(&bytes[..]).unwrap();
    assert_eq!(eth.outer_ethertype(), EtherType::Vlan);
    assert_eq!(eth.ethertype(), EtherType::Ipv6);
    assert_eq!(eth.vlan_tag(), Some(VlanTag::new(7)));
    assert_eq!(eth.header_len(), EthernetFrame::<&[u8]>::TAGGED_HEADER_LEN);
    let ip = Ipv6Packet::new_checked(eth.payload()).unwrap();
    assert_eq!(
        (ip.next_header(), ip.hop_limit(), ip.payload_len()),
        (58, 255, 32)
    );
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.msg_code()), (136, 0));
    assert!(icmp.router_flag() && !icmp.solicited_flag() && icmp.override_flag());
    assert_eq!(icmp.target_addr(), v6("fd00::100"));
    assert_eq!(icmp.options(), [2, 1, 2, 0, 0, 0, 0, 1]);
    assert!(icmp.verify_checksum(v6("fd00::100"), ALL_NODES_MULTICAST));
    assert_eq!(
        icmp.compute_checksum(v6("fd00::100"), ALL_NODES_MULTICAST),
        icmp.checksum()
    );

    // The traffic class and flow label setters keep their neighbours.
    let mut ip = Ipv6Packet::new_unchecked(&mut bytes[18..]);
    ip.set_traffic_class(0xab);
    ip.set_flow_label(0xf_edcb);
    assert_eq!(
        (ip.version(), ip.traffic_class(), ip.flow_label()),
        (6, 0xab, 0xf_edcb)
    );
    // They are not represented: the frame still parses to the same value.
    assert_eq!(Frame::parse(&bytes), Ok(frame));
    assert_eq!(frame.eth().vlan, Some(VlanTag::new(7)));
}

#[test]
fn arp_view_of_another_hardware() {
    // An ARP packet over IEEE 1394 (hardware type 24, 16-byte addresses): the view
    // reads it, the Ethernet/IPv4 representation refuses it.
    let mut buffer = [0u8; 8 + 2 * (16 + 4)];
    let mut packet = ArpPacket::new_unchecked(&mut buffer[..]);
    packet.set_hardware_type(24);
    packet.set_protocol_type(EtherType::Ipv4);
    packet.set_hardware_len(16);
    packet.set_protocol_len(4);
    packet.set_operation(ArpOperation::Request);
    packet.set_source_hardware_addr(&[0xaa; 16]);
    packet.set_target_protocol_addr(&[10, 0, 0, 1]);
    let packet = ArpPacket::new_checked(&buffer[..]).unwrap();
    assert_eq!(packet.packet_len(), 48);
    assert_eq!(packet.source_hardware_addr(), [0xaa; 16]);
    assert_eq!(packet.target_protocol_addr(), [10, 0, 0, 1]);
    assert_eq!(ArpRepr::parse(&packet), Err(WireError::ArpHardwareType(24)));
}

#[test]
fn errors_read_well() {
    assert_eq!(
        WireError::Ipv6HopLimit(64).to_string(),
        "Neighbor Discovery message with hop limit 64 (must be 255)"
    );
    assert_eq!(
        WireError::Truncated {
            what: "ARP packet",
            len: 10,
            needed: 28
        }
        .to_string(),
        "ARP packet truncated: 10 bytes where 28 are needed"
    );
    assert_eq!(
        WireError::EthertypeMismatch {
            expected: EtherType::Arp,
            found: EtherType::Unknown(0x1234)
        }
        .to_string(),
        "ethertype 0x1234 for a payload of type ARP"
    );
}
