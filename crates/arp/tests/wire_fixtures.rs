//! The frames of real tools, captured once by `wire_capture.rs` (see
//! `tests/fixtures/README.md`): each one parses to the value written here field by
//! field, and that value emits exactly the captured bytes, less any padding.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use arp_ndp::{
    ArpOperation, ArpRepr, EtherType, EthernetRepr, Frame, Ipv6Repr, MacAddr, NdiscRepr, VlanTag,
    WireError,
};

const MAC_A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0b]);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks that the file holds `bytes`, that they parse to `expected`, and that
/// `expected` emits them back, padding aside (the padding must be zeros).
fn check(name: &str, bytes: &[u8], expected: Frame) {
    assert_eq!(
        fixture(name),
        bytes,
        "{name} differs from its commented copy"
    );
    let frame = Frame::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(frame, expected, "{name}");
    let emitted = expected.to_bytes();
    assert_eq!(emitted.len(), expected.buffer_len());
    assert_eq!(emitted, bytes[..emitted.len()], "{name} emits other bytes");
    assert!(
        bytes[emitted.len()..].iter().all(|&b| b == 0),
        "{name}: the bytes after the frame are not zero padding"
    );
}

fn eth(dst: MacAddr, src: MacAddr, ethertype: EtherType) -> EthernetRepr {
    EthernetRepr {
        dst,
        src,
        vlan: None,
        ethertype,
    }
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// `arping -U -i veth0 -S 10.0.0.100 -c 1 10.0.0.100`: the gratuitous request. Habets
/// arping puts the broadcast address in the target hardware address (RFC 5227 §3
/// would have zeros there; receivers ignore it) and pads the ARP packet to 44 bytes.
#[test]
fn arping_unsolicited_request() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // destination: broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a's MAC
        0x08, 0x06,                             // ethertype ARP
        // ARP
        0x00, 0x01,                             // hardware type Ethernet
        0x08, 0x00,                             // protocol type IPv4
        0x06, 0x04,                             // address lengths 6 and 4
        0x00, 0x01,                             // operation: request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // sender MAC
        10, 0, 0, 100,                          // sender IP: the VIP
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // target MAC: broadcast (arping -U)
        10, 0, 0, 100,                          // target IP: the VIP again
        // padding added by arping (16 bytes)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let arp = ArpRepr {
        operation: ArpOperation::Request,
        sender_mac: MAC_A,
        sender_ip: VIP,
        target_mac: MacAddr::BROADCAST,
        target_ip: VIP,
    };
    assert!(arp.is_gratuitous() && !arp.is_probe());
    check(
        "arping-U-request.bin",
        &bytes,
        Frame::Arp {
            eth: eth(MacAddr::BROADCAST, MAC_A, EtherType::Arp),
            arp,
        },
    );
}

/// `arping -P -i veth0 -S 10.0.0.100 -c 1 10.0.0.100`: the reply form, broadcast, with
/// the broadcast address as target hardware address too (`-U -P` sends the same bytes).
#[test]
fn arping_reply_form() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // destination: broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a's MAC
        0x08, 0x06,                             // ethertype ARP
        // ARP
        0x00, 0x01,                             // hardware type Ethernet
        0x08, 0x00,                             // protocol type IPv4
        0x06, 0x04,                             // address lengths 6 and 4
        0x00, 0x02,                             // operation: reply
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // sender MAC
        10, 0, 0, 100,                          // sender IP: the VIP
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // target MAC: broadcast
        10, 0, 0, 100,                          // target IP: the VIP
        // padding added by arping (16 bytes)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let arp = ArpRepr {
        operation: ArpOperation::Reply,
        sender_mac: MAC_A,
        sender_ip: VIP,
        target_mac: MacAddr::BROADCAST,
        target_ip: VIP,
    };
    assert!(arp.is_gratuitous());
    check(
        "arping-P-reply.bin",
        &bytes,
        Frame::Arp {
            eth: eth(MacAddr::BROADCAST, MAC_A, EtherType::Arp),
            arp,
        },
    );
}

/// `arping -U -V 100 -Q 5 …`: the gratuitous request with an 802.1Q tag.
#[test]
fn arping_tagged_request() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // destination: broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a's MAC
        0x81, 0x00,                             // ethertype 802.1Q
        0xa0, 0x64,                             // TCI: priority 5, DEI 0, VLAN 100
        0x08, 0x06,                             // inner ethertype ARP
        // ARP
        0x00, 0x01,                             // hardware type Ethernet
        0x08, 0x00,                             // protocol type IPv4
        0x06, 0x04,                             // address lengths 6 and 4
        0x00, 0x01,                             // operation: request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // sender MAC
        10, 0, 0, 100,                          // sender IP: the VIP
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // target MAC: broadcast
        10, 0, 0, 100,                          // target IP: the VIP
        // padding added by arping (16 bytes)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    check(
        "arping-U-vlan.bin",
        &bytes,
        Frame::Arp {
            eth: EthernetRepr {
                dst: MacAddr::BROADCAST,
                src: MAC_A,
                vlan: Some(VlanTag {
                    pcp: 5,
                    dei: false,
                    vid: 100,
                }),
                ethertype: EtherType::Arp,
            },
            arp: ArpRepr {
                operation: ArpOperation::Request,
                sender_mac: MAC_A,
                sender_ip: VIP,
                target_mac: MacAddr::BROADCAST,
                target_ip: VIP,
            },
        },
    );
}

/// The kernel resolving 10.0.0.2 (`ping 10.0.0.2`): a request with a zero target MAC,
/// unpadded on the veth.
#[test]
fn kernel_arp_request() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // destination: broadcast
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a's MAC
        0x08, 0x06,                             // ethertype ARP
        // ARP
        0x00, 0x01,                             // hardware type Ethernet
        0x08, 0x00,                             // protocol type IPv4
        0x06, 0x04,                             // address lengths 6 and 4
        0x00, 0x01,                             // operation: request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // sender MAC
        10, 0, 0, 1,                            // sender IP
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     // target MAC: unknown
        10, 0, 0, 2,                            // target IP
    ];
    check(
        "kernel-arp-request.bin",
        &bytes,
        Frame::Arp {
            eth: eth(MacAddr::BROADCAST, MAC_A, EtherType::Arp),
            arp: ArpRepr {
                operation: ArpOperation::Request,
                sender_mac: MAC_A,
                sender_ip: Ipv4Addr::new(10, 0, 0, 1),
                target_mac: MacAddr::ZERO,
                target_ip: Ipv4Addr::new(10, 0, 0, 2),
            },
        },
    );
}

/// The kernel of `b` answering that request, unicast.
#[test]
fn kernel_arp_reply() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // destination: a
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,     // source: b
        0x08, 0x06,                             // ethertype ARP
        // ARP
        0x00, 0x01,                             // hardware type Ethernet
        0x08, 0x00,                             // protocol type IPv4
        0x06, 0x04,                             // address lengths 6 and 4
        0x00, 0x02,                             // operation: reply
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,     // sender MAC: b
        10, 0, 0, 2,                            // sender IP
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // target MAC: a
        10, 0, 0, 1,                            // target IP
    ];
    check(
        "kernel-arp-reply.bin",
        &bytes,
        Frame::Arp {
            eth: eth(MAC_A, MAC_B, EtherType::Arp),
            arp: ArpRepr {
                operation: ArpOperation::Reply,
                sender_mac: MAC_B,
                sender_ip: Ipv4Addr::new(10, 0, 0, 2),
                target_mac: MAC_A,
                target_ip: Ipv4Addr::new(10, 0, 0, 1),
            },
        },
    );
}

/// The kernel resolving fd00::2 (`ping -6 fd00::2`): a solicitation to the
/// solicited-node group, with the source link-layer address.
#[test]
fn kernel_neighbor_solicitation() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0x33, 0x33, 0xff, 0x00, 0x00, 0x02,     // destination: 33:33 + ff02::1:ff00:2
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a
        0x86, 0xdd,                             // ethertype IPv6
        // IPv6
        0x60, 0x00, 0x00, 0x00,                 // version 6, traffic class 0, flow label 0
        0x00, 0x20,                             // payload length 32
        0x3a,                                   // next header ICMPv6
        0xff,                                   // hop limit 255
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,          // source fd00::1
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0, 0x02, // ff02::1:ff00:2
        // ICMPv6
        0x87,                                   // type 135: Neighbor Solicitation
        0x00,                                   // code 0
        0x7d, 0x8e,                             // checksum
        0x00, 0x00, 0x00, 0x00,                 // reserved
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,          // target fd00::2
        0x01, 0x01,                             // option: source link-layer address, 8 bytes
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // a's MAC
    ];
    let ndisc = NdiscRepr::NeighborSolicit {
        target: v6("fd00::2"),
        source_lladdr: Some(MAC_A),
    };
    check(
        "kernel-ns.bin",
        &bytes,
        Frame::Ndisc {
            eth: eth(
                MacAddr::ipv6_multicast(v6("ff02::1:ff00:2")),
                MAC_A,
                EtherType::Ipv6,
            ),
            ip: Ipv6Repr {
                src: v6("fd00::1"),
                dst: arp_ndp::solicited_node_multicast(v6("fd00::2")),
                next_header: 58,
                payload_len: 32,
                hop_limit: 255,
            },
            ndisc,
        },
    );
}

/// `b`'s kernel answering that solicitation: Solicited and Override, with the target
/// link-layer address.
#[test]
fn kernel_solicited_advertisement() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // destination: a
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,     // source: b
        0x86, 0xdd,                             // ethertype IPv6
        // IPv6
        0x60, 0x00, 0x00, 0x00,                 // version 6, traffic class 0, flow label 0
        0x00, 0x20,                             // payload length 32
        0x3a,                                   // next header ICMPv6
        0xff,                                   // hop limit 255
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,          // source fd00::2
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,          // dest. fd00::1
        // ICMPv6
        0x88,                                   // type 136: Neighbor Advertisement
        0x00,                                   // code 0
        0x1c, 0x91,                             // checksum
        0x60, 0x00, 0x00, 0x00,                 // flags: Solicited, Override; reserved
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,          // target fd00::2
        0x02, 0x01,                             // option: target link-layer address, 8 bytes
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,     // b's MAC
    ];
    check(
        "kernel-na-solicited.bin",
        &bytes,
        Frame::Ndisc {
            eth: eth(MAC_A, MAC_B, EtherType::Ipv6),
            ip: Ipv6Repr {
                src: v6("fd00::2"),
                dst: v6("fd00::1"),
                next_header: 58,
                payload_len: 32,
                hop_limit: 255,
            },
            ndisc: NdiscRepr::NeighborAdvert {
                router: false,
                solicited: true,
                override_: true,
                target: v6("fd00::2"),
                target_lladdr: Some(MAC_B),
            },
        },
    );
}

/// `b`'s kernel answering a unicast probe (neighbor unreachability detection of a
/// stale entry): Solicited only, and no option, as RFC 4861 §7.2.4 allows when the
/// solicitation was unicast. The probe came from a's link-local address.
#[test]
fn kernel_advertisement_without_option() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // destination: a
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,     // source: b
        0x86, 0xdd,                             // ethertype IPv6
        // IPv6
        0x60, 0x00, 0x00, 0x00,                 // version 6, traffic class 0, flow label 0
        0x00, 0x18,                             // payload length 24
        0x3a,                                   // next header ICMPv6
        0xff,                                   // hop limit 255
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,          // source fd00::2
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0x0a,    // fe80::ff:fe00:a
        // ICMPv6
        0x88,                                   // type 136: Neighbor Advertisement
        0x00,                                   // code 0
        0x40, 0x1c,                             // checksum
        0x40, 0x00, 0x00, 0x00,                 // flags: Solicited; reserved
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,          // target fd00::2
    ];
    check(
        "kernel-na-no-option.bin",
        &bytes,
        Frame::Ndisc {
            eth: eth(MAC_A, MAC_B, EtherType::Ipv6),
            ip: Ipv6Repr {
                src: v6("fd00::2"),
                dst: v6("fe80::ff:fe00:a"),
                next_header: 58,
                payload_len: 24,
                hop_limit: 255,
            },
            ndisc: NdiscRepr::NeighborAdvert {
                router: false,
                solicited: true,
                override_: false,
                target: v6("fd00::2"),
                target_lladdr: None,
            },
        },
    );
}

/// The kernel's unsolicited advertisement after adding fd00::200 with
/// `ndisc_notify` on: to all nodes, Override only, with the target link-layer
/// address. This is the frame this crate sends for an IPv6 VIP.
#[test]
fn kernel_unsolicited_advertisement() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01,     // destination: 33:33 + ff02::1
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a
        0x86, 0xdd,                             // ethertype IPv6
        // IPv6
        0x60, 0x00, 0x00, 0x00,                 // version 6, traffic class 0, flow label 0
        0x00, 0x20,                             // payload length 32
        0x3a,                                   // next header ICMPv6
        0xff,                                   // hop limit 255
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00,       // source fd00::200
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,          // dest. ff02::1
        // ICMPv6
        0x88,                                   // type 136: Neighbor Advertisement
        0x00,                                   // code 0
        0x56, 0x94,                             // checksum
        0x20, 0x00, 0x00, 0x00,                 // flags: Override; reserved
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00,       // target fd00::200
        0x02, 0x01,                             // option: target link-layer address, 8 bytes
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // a's MAC
    ];
    let ndisc = NdiscRepr::NeighborAdvert {
        router: false,
        solicited: false,
        override_: true,
        target: v6("fd00::200"),
        target_lladdr: Some(MAC_A),
    };
    check(
        "kernel-na-unsolicited.bin",
        &bytes,
        Frame::Ndisc {
            eth: eth(
                MacAddr::ipv6_multicast(arp_ndp::ALL_NODES_MULTICAST),
                MAC_A,
                EtherType::Ipv6,
            ),
            ip: Ipv6Repr::ndisc(v6("fd00::200"), arp_ndp::ALL_NODES_MULTICAST, &ndisc),
            ndisc,
        },
    );
}

/// The kernel's duplicate address detection of fd00::200: from `::` to the
/// solicited-node group, without a link-layer address, with a nonce option
/// (RFC 7527, type 14). The nonce is skipped, so the frame re-emits 8 bytes shorter,
/// with its own payload length and checksum.
#[test]
fn kernel_dad_solicitation() {
    #[rustfmt::skip]
    let bytes = [
        // Ethernet
        0x33, 0x33, 0xff, 0x00, 0x02, 0x00,     // destination: 33:33 + ff02::1:ff00:200
        0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,     // source: a
        0x86, 0xdd,                             // ethertype IPv6
        // IPv6
        0x60, 0x00, 0x00, 0x00,                 // version 6, traffic class 0, flow label 0
        0x00, 0x20,                             // payload length 32
        0x3a,                                   // next header ICMPv6
        0xff,                                   // hop limit 255
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                   // source ::
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x02, 0x00, // ff02::1:ff00:200
        // ICMPv6
        0x87,                                   // type 135: Neighbor Solicitation
        0x00,                                   // code 0
        0x6f, 0xb9,                             // checksum
        0x00, 0x00, 0x00, 0x00,                 // reserved
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00,       // target fd00::200
        0x0e, 0x01,                             // option: nonce (14), 8 bytes
        0xc4, 0x50, 0x03, 0x4b, 0x34, 0x49,     // the nonce
    ];
    assert_eq!(fixture("kernel-ns-dad.bin"), bytes);
    let expected = Frame::Ndisc {
        eth: eth(
            MacAddr([0x33, 0x33, 0xff, 0x00, 0x02, 0x00]),
            MAC_A,
            EtherType::Ipv6,
        ),
        ip: Ipv6Repr {
            src: Ipv6Addr::UNSPECIFIED,
            dst: v6("ff02::1:ff00:200"),
            next_header: 58,
            // The message as represented, without the skipped nonce option.
            payload_len: 24,
            hop_limit: 255,
        },
        ndisc: NdiscRepr::NeighborSolicit {
            target: v6("fd00::200"),
            source_lladdr: None,
        },
    };
    assert_eq!(Frame::parse(&bytes).unwrap(), expected);
    let emitted = expected.to_bytes();
    assert_eq!(emitted.len(), 78);
    assert_eq!(emitted[..18], bytes[..18]);
    assert_eq!(emitted[18..20], [0x00, 0x18], "payload length 24");
    assert_eq!(emitted[20..56], bytes[20..56]);
    assert_ne!(emitted[56..58], bytes[56..58], "the checksum changes");
    assert_eq!(emitted[58..], bytes[58..78]);
    assert_eq!(Frame::parse(&emitted).unwrap(), expected);
}

/// Frames of other kinds, captured alongside: an IPv4 echo request, an ICMPv6 echo
/// request and an MLDv2 report (a hop-by-hop header before ICMPv6).
#[test]
fn other_kernel_frames_are_not_arp_or_ndisc() {
    for name in [
        "kernel-icmp-echo.bin",
        "kernel-icmpv6-echo.bin",
        "kernel-mld-report.bin",
    ] {
        assert_eq!(
            Frame::parse(&fixture(name)),
            Err(WireError::NotArpOrNdisc),
            "{name}"
        );
    }
}

/// Every captured Neighbor Discovery frame is rejected once its hop limit is changed
/// (RFC 4861 §7.1), or any of its bytes after the Ethernet header is flipped.
#[test]
fn captured_ndisc_frames_are_checked() {
    for name in [
        "kernel-ns.bin",
        "kernel-na-solicited.bin",
        "kernel-na-no-option.bin",
        "kernel-na-unsolicited.bin",
        "kernel-ns-dad.bin",
    ] {
        let bytes = fixture(name);
        let mut hop = bytes.clone();
        hop[21] = 64;
        assert_eq!(
            Frame::parse(&hop),
            Err(WireError::Ipv6HopLimit(64)),
            "{name}"
        );
        // A flipped bit in the checksummed part of the message (addresses, ICMPv6) is
        // caught by the checksum or another check, never accepted silently.
        for i in 22..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x01;
            assert!(Frame::parse(&flipped).is_err(), "{name}: byte {i} flipped");
        }
    }
}
