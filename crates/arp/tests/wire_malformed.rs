//! Malformed and invalid frames, one error at a time, and values that cannot be
//! encoded. Each frame is a valid one with one field broken (and, for Neighbor
//! Discovery, its checksum recomputed, so that the intended check is the one that
//! fails).

use std::net::{Ipv4Addr, Ipv6Addr};

use arp_ndp::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Frame, Icmpv6Packet,
    Ipv6Packet, Ipv6Repr, MacAddr, NdiscRepr, VlanTag, WireError,
};

const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn eth(ethertype: EtherType) -> EthernetRepr {
    EthernetRepr {
        dst: MacAddr::BROADCAST,
        src: MAC,
        vlan: None,
        ethertype,
    }
}

fn arp_frame() -> Vec<u8> {
    Frame::Arp {
        eth: eth(EtherType::Arp),
        arp: ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: MAC,
            sender_ip: Ipv4Addr::new(192, 0, 2, 10),
            target_mac: MacAddr::ZERO,
            target_ip: Ipv4Addr::new(192, 0, 2, 10),
        },
    }
    .to_bytes()
}

fn ndisc_frame(src: &str, dst: &str, ndisc: NdiscRepr) -> Vec<u8> {
    Frame::Ndisc {
        eth: eth(EtherType::Ipv6),
        ip: Ipv6Repr::ndisc(v6(src), v6(dst), &ndisc),
        ndisc,
    }
    .to_bytes()
}

/// An unsolicited advertisement: 86 bytes, the option at 78..86.
fn na_frame() -> Vec<u8> {
    ndisc_frame(
        "fd00::100",
        "ff02::1",
        NdiscRepr::NeighborAdvert {
            router: false,
            solicited: false,
            override_: true,
            target: v6("fd00::100"),
            target_lladdr: Some(MAC),
        },
    )
}

/// A solicitation with a source link-layer address: 86 bytes, the option at 78..86.
fn ns_frame() -> Vec<u8> {
    ndisc_frame(
        "fd00::1",
        "ff02::1:ff00:100",
        NdiscRepr::NeighborSolicit {
            target: v6("fd00::100"),
            source_lladdr: Some(MAC),
        },
    )
}

/// Sets the IPv6 payload length of an untagged frame to what follows the header.
fn fix_payload_len(bytes: &mut [u8]) {
    let len = u16::try_from(bytes.len() - 54).unwrap();
    Ipv6Packet::new_unchecked(&mut bytes[14..]).set_payload_len(len);
}

/// Recomputes the ICMPv6 checksum of an untagged IPv6 frame.
fn fix_checksum(bytes: &mut [u8]) {
    let ip = Ipv6Packet::new_checked(&bytes[14..]).unwrap();
    let (src, dst, end) = (
        ip.src_addr(),
        ip.dst_addr(),
        54 + usize::from(ip.payload_len()),
    );
    Icmpv6Packet::new_unchecked(&mut bytes[54..end]).fill_checksum(src, dst);
}

fn parse(bytes: &[u8]) -> Result<Frame, WireError> {
    Frame::parse(bytes)
}

// ---- Ethernet ------------------------------------------------------------------

#[test]
fn truncated_ethernet_header() {
    for len in 0..14 {
        assert_eq!(
            parse(&arp_frame()[..len]),
            Err(WireError::Truncated {
                what: "Ethernet header",
                len,
                needed: 14
            })
        );
    }
}

#[test]
fn truncated_vlan_tag() {
    let mut bytes = arp_frame()[..16].to_vec();
    bytes[12..14].copy_from_slice(&[0x81, 0x00]);
    assert_eq!(
        parse(&bytes),
        Err(WireError::Truncated {
            what: "Ethernet header",
            len: 16,
            needed: 18
        })
    );
}

#[test]
fn unknown_ethertypes_are_not_arp_or_ndisc() {
    // IPv4, LLDP, an 802.3 length field, and a double tag (802.1Q inside 802.1Q).
    for (at, value) in [(12, [0x08, 0x00]), (12, [0x88, 0xcc]), (12, [0x00, 0x2e])] {
        let mut bytes = arp_frame();
        bytes[at..at + 2].copy_from_slice(&value);
        assert_eq!(parse(&bytes), Err(WireError::NotArpOrNdisc), "{value:02x?}");
    }
    let mut bytes = arp_frame();
    bytes.splice(12..12, [0x81, 0x00, 0x00, 0x64, 0x81, 0x00, 0x00, 0x65]);
    assert_eq!(parse(&bytes), Err(WireError::NotArpOrNdisc));
}

// ---- ARP -----------------------------------------------------------------------

#[test]
fn truncated_arp() {
    let bytes = arp_frame();
    for len in 14..42 {
        let needed = if len < 14 + 8 { 8 } else { 28 };
        assert_eq!(
            parse(&bytes[..len]),
            Err(WireError::Truncated {
                what: "ARP packet",
                len: len - 14,
                needed
            }),
            "{len} bytes"
        );
    }
    // Address lengths that run past the buffer are caught before they are read.
    let mut long = bytes.clone();
    long[18] = 255;
    assert_eq!(
        parse(&long),
        Err(WireError::Truncated {
            what: "ARP packet",
            len: 28,
            needed: 8 + 2 * (255 + 4)
        })
    );
}

#[test]
fn arp_hardware_type_other_than_ethernet() {
    let mut bytes = arp_frame();
    bytes[14..16].copy_from_slice(&[0x00, 0x06]); // IEEE 802
    assert_eq!(parse(&bytes), Err(WireError::ArpHardwareType(6)));
}

#[test]
fn arp_protocol_type_other_than_ipv4() {
    let mut bytes = arp_frame();
    bytes[16..18].copy_from_slice(&[0x86, 0xdd]);
    assert_eq!(parse(&bytes), Err(WireError::ArpProtocolType(0x86dd)));
}

#[test]
fn arp_address_lengths_other_than_6_and_4() {
    // Lengths that still fit the (padded) buffer: 8/4 needs 32 bytes, 6/16 needs 52.
    for (hlen, plen) in [(8, 4), (6, 16), (0, 0), (6, 6)] {
        let mut bytes = arp_frame();
        bytes.resize(14 + 60, 0);
        bytes[18] = hlen;
        bytes[19] = plen;
        assert_eq!(
            parse(&bytes),
            Err(WireError::ArpAddressLengths { hlen, plen }),
            "{hlen}/{plen}"
        );
    }
}

#[test]
fn arp_padding_is_ignored() {
    let mut bytes = arp_frame();
    let frame = parse(&bytes).unwrap();
    bytes.resize(60, 0xee);
    assert_eq!(parse(&bytes), Ok(frame));
}

// ---- IPv6 ----------------------------------------------------------------------

#[test]
fn truncated_ipv6_header() {
    let bytes = na_frame();
    for len in 14..54 {
        assert_eq!(
            parse(&bytes[..len]),
            Err(WireError::Truncated {
                what: "IPv6 packet",
                len: len - 14,
                needed: 40
            })
        );
    }
}

#[test]
fn ipv6_payload_length_beyond_the_frame() {
    let bytes = na_frame();
    for len in 54..bytes.len() {
        assert_eq!(
            parse(&bytes[..len]),
            Err(WireError::Truncated {
                what: "IPv6 packet",
                len: len - 14,
                needed: 72
            })
        );
    }
}

#[test]
fn ipv6_version_other_than_6() {
    let mut bytes = na_frame();
    bytes[14] = 0x40;
    assert_eq!(parse(&bytes), Err(WireError::Ipv6Version(4)));
}

#[test]
fn ipv6_next_header_other_than_icmpv6() {
    let mut bytes = na_frame();
    bytes[20] = 6; // TCP
    assert_eq!(parse(&bytes), Err(WireError::NotArpOrNdisc));
}

#[test]
fn ipv6_padding_is_ignored() {
    let mut bytes = na_frame();
    let frame = parse(&bytes).unwrap();
    bytes.extend_from_slice(&[0xee; 8]);
    assert_eq!(parse(&bytes), Ok(frame));
}

#[test]
fn hop_limit_other_than_255() {
    for hop_limit in [0, 1, 64, 254] {
        let mut bytes = na_frame();
        bytes[21] = hop_limit;
        assert_eq!(parse(&bytes), Err(WireError::Ipv6HopLimit(hop_limit)));
    }
}

// ---- ICMPv6 and Neighbor Discovery ---------------------------------------------

#[test]
fn truncated_icmpv6_header() {
    let mut bytes = na_frame();
    bytes.truncate(54 + 3);
    fix_payload_len(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::Truncated {
            what: "ICMPv6 header",
            len: 3,
            needed: 4
        })
    );
}

#[test]
fn truncated_neighbor_discovery_message() {
    let mut bytes = na_frame();
    bytes.truncate(54 + 20);
    fix_payload_len(&mut bytes);
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::Truncated {
            what: "Neighbor Discovery message",
            len: 20,
            needed: 24
        })
    );
}

#[test]
fn other_icmpv6_types_are_not_ndisc() {
    // Router Solicitation, Router Advertisement, Redirect, echo request.
    for kind in [133, 134, 137, 128] {
        let mut bytes = na_frame();
        bytes[54] = kind;
        fix_checksum(&mut bytes);
        assert_eq!(parse(&bytes), Err(WireError::NotArpOrNdisc), "type {kind}");
        // The Neighbor Discovery parser, called directly, names the type.
        let packet = Icmpv6Packet::new_checked(&bytes[54..]).unwrap();
        assert_eq!(
            NdiscRepr::parse(&packet, v6("fd00::100"), v6("ff02::1")),
            Err(WireError::Icmpv6Type(kind))
        );
    }
}

#[test]
fn icmpv6_code_other_than_0() {
    let mut bytes = ns_frame();
    bytes[55] = 1;
    fix_checksum(&mut bytes);
    assert_eq!(parse(&bytes), Err(WireError::Icmpv6Code(1)));
}

#[test]
fn bad_icmpv6_checksum() {
    let bytes = na_frame();
    let good = u16::from_be_bytes([bytes[56], bytes[57]]);
    let mut bad = bytes.clone();
    bad[57] ^= 0x40;
    assert_eq!(
        parse(&bad),
        Err(WireError::Icmpv6Checksum {
            found: good ^ 0x40,
            computed: good
        })
    );
    // A changed address in the pseudo-header breaks it too.
    let mut moved = bytes.clone();
    moved[37] ^= 0x01;
    assert!(matches!(
        parse(&moved),
        Err(WireError::Icmpv6Checksum { .. })
    ));
}

#[test]
fn checksum_zero_may_be_sent_as_ffff() {
    // Find a target whose message sums to 0xffff (checksum field 0x0000), then send the
    // other one's complement zero, 0xffff: both verify.
    let mut bytes = na_frame();
    for low in 0..=u16::MAX {
        bytes[68..70].copy_from_slice(&low.to_be_bytes());
        bytes[70..72].copy_from_slice(&[0, 0]);
        fix_checksum(&mut bytes);
        if bytes[56..58] == [0, 0] {
            break;
        }
    }
    assert_eq!(bytes[56..58], [0, 0]);
    let frame = parse(&bytes).unwrap();
    bytes[56..58].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(parse(&bytes), Ok(frame));
    assert_eq!(frame.to_bytes()[56..58], [0, 0]);
}

#[test]
fn zero_length_option() {
    let mut bytes = ns_frame();
    bytes[79] = 0;
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::NdiscOptionZeroLength { kind: 1 })
    );
    // Also when it is an option this crate would skip.
    let mut bytes = na_frame();
    bytes.extend_from_slice(&[0x05, 0x00, 0, 0, 0, 0, 0, 0]);
    fix_payload_len(&mut bytes);
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::NdiscOptionZeroLength { kind: 5 })
    );
}

#[test]
fn option_overrunning_the_message() {
    let mut bytes = ns_frame();
    bytes[79] = 2; // 16 bytes where 8 remain
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::NdiscOptionOverrun { len: 16, left: 8 })
    );
    // A message ending in a lone byte: not even a type and a length.
    let mut bytes = ns_frame();
    bytes.push(0x01);
    fix_payload_len(&mut bytes);
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::NdiscOptionOverrun { len: 2, left: 1 })
    );
}

#[test]
fn link_layer_address_option_of_the_wrong_length() {
    let mut bytes = ns_frame();
    bytes[79] = 2;
    bytes.extend_from_slice(&[0; 8]);
    fix_payload_len(&mut bytes);
    fix_checksum(&mut bytes);
    assert_eq!(parse(&bytes), Err(WireError::NdiscLladdrLength(2)));
}

#[test]
fn other_options_are_skipped() {
    // An advertisement with an MTU option (5), a source link-layer address option
    // (meaningless in an advertisement, and 16 bytes long) and a nonce (14) around its
    // target link-layer address option; then a second, different target address.
    let mut bytes = na_frame();
    let option = bytes[78..86].to_vec();
    bytes.truncate(78);
    bytes.extend_from_slice(&[0x05, 0x01, 0, 0, 0, 0, 0x05, 0xdc]);
    bytes.extend_from_slice(&[
        0x01, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    bytes.extend_from_slice(&option);
    bytes.extend_from_slice(&[0x0e, 0x01, 1, 2, 3, 4, 5, 6]);
    bytes.extend_from_slice(&[0x02, 0x01, 0x02, 0, 0, 0, 0, 0x0b]);
    fix_payload_len(&mut bytes);
    fix_checksum(&mut bytes);
    let frame = parse(&bytes).unwrap();
    let Frame::Ndisc { ip, ndisc, .. } = frame else {
        panic!("{frame:?}")
    };
    assert_eq!(ndisc.lladdr(), Some(MAC), "the first target address counts");
    assert_eq!(ip.payload_len, 32, "the skipped options are not counted");
    assert_eq!(frame.to_bytes(), na_frame());
}

#[test]
fn multicast_target() {
    for (src, dst, ndisc) in [
        (
            "fd00::1",
            "ff02::1:ff00:1",
            NdiscRepr::NeighborSolicit {
                target: v6("ff02::1"),
                source_lladdr: None,
            },
        ),
        (
            "fd00::1",
            "ff02::1",
            NdiscRepr::NeighborAdvert {
                router: false,
                solicited: false,
                override_: true,
                target: v6("ff02::1"),
                target_lladdr: Some(MAC),
            },
        ),
    ] {
        // Encoding refuses it; a received one is rejected.
        let frame = Frame::Ndisc {
            eth: eth(EtherType::Ipv6),
            ip: Ipv6Repr::ndisc(v6(src), v6(dst), &ndisc),
            ndisc,
        };
        let expected = WireError::NdiscTargetMulticast(v6("ff02::1"));
        assert_eq!(frame.emit(&mut [0; 100]), Err(expected));
        let mut bytes = ndisc_frame(
            src,
            dst,
            match ndisc {
                NdiscRepr::NeighborSolicit { source_lladdr, .. } => NdiscRepr::NeighborSolicit {
                    target: v6("fd00::1"),
                    source_lladdr,
                },
                NdiscRepr::NeighborAdvert { target_lladdr, .. } => NdiscRepr::NeighborAdvert {
                    router: false,
                    solicited: false,
                    override_: true,
                    target: v6("fd00::1"),
                    target_lladdr,
                },
            },
        );
        bytes[62..78].copy_from_slice(&v6("ff02::1").octets());
        fix_checksum(&mut bytes);
        assert_eq!(parse(&bytes), Err(expected));
    }
}

#[test]
fn dad_solicitation_to_another_destination() {
    let ndisc = NdiscRepr::NeighborSolicit {
        target: v6("fd00::100"),
        source_lladdr: None,
    };
    // Valid to the solicited-node group.
    let mut bytes = ndisc_frame("::", "ff02::1:ff00:100", ndisc);
    assert!(parse(&bytes).is_ok());
    bytes[38..54].copy_from_slice(&v6("ff02::1").octets());
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::NdiscDadDestination(v6("ff02::1")))
    );
    let frame = Frame::Ndisc {
        eth: eth(EtherType::Ipv6),
        ip: Ipv6Repr::ndisc(Ipv6Addr::UNSPECIFIED, v6("fd00::100"), &ndisc),
        ndisc,
    };
    assert_eq!(
        frame.emit(&mut [0; 100]),
        Err(WireError::NdiscDadDestination(v6("fd00::100")))
    );
}

#[test]
fn dad_solicitation_with_a_source_link_layer_address() {
    let mut bytes = ns_frame();
    bytes[22..38].copy_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
    fix_checksum(&mut bytes);
    assert_eq!(parse(&bytes), Err(WireError::NdiscDadWithLladdr));
    let ndisc = NdiscRepr::NeighborSolicit {
        target: v6("fd00::100"),
        source_lladdr: Some(MAC),
    };
    let frame = Frame::Ndisc {
        eth: eth(EtherType::Ipv6),
        ip: Ipv6Repr::ndisc(Ipv6Addr::UNSPECIFIED, v6("ff02::1:ff00:100"), &ndisc),
        ndisc,
    };
    assert_eq!(
        frame.emit(&mut [0; 100]),
        Err(WireError::NdiscDadWithLladdr)
    );
}

#[test]
fn solicited_advertisement_to_a_multicast_address() {
    let mut bytes = na_frame();
    bytes[58] |= 0x40; // the Solicited flag, to ff02::1
    fix_checksum(&mut bytes);
    assert_eq!(
        parse(&bytes),
        Err(WireError::NdiscSolicitedToMulticast(v6("ff02::1")))
    );
}

#[test]
fn reserved_bits_are_ignored() {
    let mut bytes = na_frame();
    let frame = parse(&bytes).unwrap();
    bytes[58] |= 0x1f;
    bytes[59..62].copy_from_slice(&[0xff; 3]);
    fix_checksum(&mut bytes);
    assert_eq!(parse(&bytes), Ok(frame));
    let mut bytes = ns_frame();
    let frame = parse(&bytes).unwrap();
    bytes[58..62].copy_from_slice(&[0xff; 4]);
    fix_checksum(&mut bytes);
    assert_eq!(parse(&bytes), Ok(frame));
}

// ---- Encoding ------------------------------------------------------------------

#[test]
fn emitting_into_a_short_buffer() {
    for frame in [parse(&arp_frame()).unwrap(), parse(&na_frame()).unwrap()] {
        let len = frame.buffer_len();
        for short in 0..len {
            let mut out = vec![0; short];
            assert_eq!(
                frame.emit(&mut out),
                Err(WireError::BufferTooShort {
                    len: short,
                    needed: len
                })
            );
        }
        let mut out = vec![0xee; len + 10];
        frame.emit(&mut out).unwrap();
        assert_eq!(out[..len], frame.to_bytes());
        assert_eq!(out[len..], [0xee; 10], "nothing written past the frame");
    }
    // Each layer on its own.
    let arp = ArpRepr {
        operation: ArpOperation::Reply,
        sender_mac: MAC,
        sender_ip: Ipv4Addr::LOCALHOST,
        target_mac: MAC,
        target_ip: Ipv4Addr::LOCALHOST,
    };
    assert_eq!(
        arp.emit(&mut ArpPacket::new_unchecked(&mut [0u8; 27][..])),
        Err(WireError::BufferTooShort {
            len: 27,
            needed: 28
        })
    );
    let header = eth(EtherType::Arp);
    assert_eq!(
        header.emit(&mut EthernetFrame::new_unchecked(&mut [0u8; 13][..])),
        Err(WireError::BufferTooShort {
            len: 13,
            needed: 14
        })
    );
    let ip = Ipv6Repr::ndisc(
        v6("::1"),
        v6("::2"),
        &NdiscRepr::NeighborSolicit {
            target: v6("::3"),
            source_lladdr: None,
        },
    );
    assert_eq!(
        ip.emit(&mut Ipv6Packet::new_unchecked(&mut [0u8; 39][..])),
        Err(WireError::BufferTooShort {
            len: 39,
            needed: 40
        })
    );
    let ndisc = NdiscRepr::NeighborSolicit {
        target: v6("::3"),
        source_lladdr: Some(MAC),
    };
    assert_eq!(
        ndisc.emit(
            &mut Icmpv6Packet::new_unchecked(&mut [0u8; 31][..]),
            v6("::1"),
            v6("::2")
        ),
        Err(WireError::BufferTooShort {
            len: 31,
            needed: 32
        })
    );
}

#[test]
fn vlan_fields_that_do_not_fit() {
    let mut header = eth(EtherType::Arp);
    let mut out = [0u8; 18];
    header.vlan = Some(VlanTag {
        pcp: 8,
        dei: false,
        vid: 1,
    });
    assert_eq!(
        header.emit(&mut EthernetFrame::new_unchecked(&mut out[..])),
        Err(WireError::VlanPriority(8))
    );
    header.vlan = Some(VlanTag {
        pcp: 7,
        dei: true,
        vid: 4096,
    });
    assert_eq!(
        header.emit(&mut EthernetFrame::new_unchecked(&mut out[..])),
        Err(WireError::VlanId(4096))
    );
    assert_eq!(
        VlanTag {
            pcp: 7,
            dei: true,
            vid: 4095
        }
        .to_tci(),
        Ok(0xffff)
    );
}

#[test]
fn vlan_ethertype_without_a_tag() {
    let header = eth(EtherType::Vlan);
    assert_eq!(
        header.emit(&mut EthernetFrame::new_unchecked(&mut [0u8; 18][..])),
        Err(WireError::VlanWithoutTag)
    );
}

#[test]
fn ipv6_payload_too_long() {
    let mut ip = Ipv6Repr::ndisc(
        v6("::1"),
        v6("::2"),
        &NdiscRepr::NeighborSolicit {
            target: v6("::3"),
            source_lladdr: None,
        },
    );
    ip.payload_len = 65536;
    assert_eq!(
        ip.emit(&mut Ipv6Packet::new_unchecked(&mut [0u8; 40][..])),
        Err(WireError::Ipv6PayloadTooLong(65536))
    );
}

#[test]
fn inconsistent_frames_are_not_encoded() {
    let Frame::Ndisc { eth, ip, ndisc } = parse(&na_frame()).unwrap() else {
        panic!("an advertisement")
    };
    let emit = |frame: Frame| frame.emit(&mut [0; 128]);
    assert_eq!(
        emit(Frame::Ndisc {
            eth,
            ip: Ipv6Repr {
                next_header: 17,
                ..ip
            },
            ndisc
        }),
        Err(WireError::Ipv6NextHeader(17))
    );
    assert_eq!(
        emit(Frame::Ndisc {
            eth,
            ip: Ipv6Repr {
                hop_limit: 64,
                ..ip
            },
            ndisc
        }),
        Err(WireError::Ipv6HopLimit(64))
    );
    assert_eq!(
        emit(Frame::Ndisc {
            eth,
            ip: Ipv6Repr {
                payload_len: 24,
                ..ip
            },
            ndisc
        }),
        Err(WireError::Ipv6PayloadLength {
            header: 24,
            message: 32
        })
    );
    assert_eq!(
        emit(Frame::Ndisc {
            eth: EthernetRepr {
                ethertype: EtherType::Arp,
                ..eth
            },
            ip,
            ndisc
        }),
        Err(WireError::EthertypeMismatch {
            expected: EtherType::Ipv6,
            found: EtherType::Arp
        })
    );
    let Frame::Arp { arp, .. } = parse(&arp_frame()).unwrap() else {
        panic!("ARP")
    };
    assert_eq!(
        emit(Frame::Arp { eth, arp }),
        Err(WireError::EthertypeMismatch {
            expected: EtherType::Arp,
            found: EtherType::Ipv6
        })
    );
    assert_eq!(
        emit(Frame::Ndisc {
            eth,
            ip: Ipv6Repr::ndisc(ip.src, ip.dst, &ndisc),
            ndisc: NdiscRepr::NeighborAdvert {
                router: false,
                solicited: true,
                override_: true,
                target: ndisc.target(),
                target_lladdr: ndisc.lladdr(),
            }
        }),
        Err(WireError::NdiscSolicitedToMulticast(ip.dst))
    );
}

#[test]
#[should_panic(expected = "cannot encode")]
fn to_bytes_panics_on_an_inconsistent_frame() {
    let Frame::Ndisc { eth, ip, ndisc } = parse(&na_frame()).unwrap() else {
        panic!("an advertisement")
    };
    let _ = Frame::Ndisc {
        eth,
        ip: Ipv6Repr { hop_limit: 1, ..ip },
        ndisc,
    }
    .to_bytes();
}

#[test]
fn invalid_mac_addresses() {
    for s in [
        "",
        "02:00:00:00:00",
        "02:00:00:00:00:0a:",
        "02:00:00:00:00:0g",
        "02-00:00:00:00:0a",
        "02:00:00:00:00:+a",
        "2:0:0:0:0:a",
        "02:00:00:00:00:0a0",
        "0200.0000.000a",
        "02:00:00:00:00:éa",
    ] {
        assert_eq!(
            s.parse::<MacAddr>(),
            Err(WireError::InvalidMacAddr),
            "{s:?}"
        );
    }
}
