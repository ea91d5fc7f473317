//! Property tests of the wire layer: every representation survives emit → parse,
//! every frame re-emits to the same bytes, and no input makes a parser panic.

use std::net::{Ipv4Addr, Ipv6Addr};

use arp_ndp::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Frame, Icmpv6Packet,
    Ipv6Packet, Ipv6Repr, MacAddr, NdiscRepr, VlanTag, WireError, solicited_node_multicast,
};
use proptest::prelude::*;

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

/// An address that is neither multicast nor unspecified.
fn unicast6() -> impl Strategy<Value = Ipv6Addr> {
    ipv6().prop_filter("unicast", |a| !a.is_multicast() && !a.is_unspecified())
}

fn vlan() -> impl Strategy<Value = VlanTag> {
    (0u8..8, any::<bool>(), 0u16..4096).prop_map(|(pcp, dei, vid)| VlanTag { pcp, dei, vid })
}

fn ethertype() -> impl Strategy<Value = EtherType> {
    any::<u16>().prop_map(EtherType::from)
}

fn ethernet() -> impl Strategy<Value = EthernetRepr> {
    (mac(), mac(), proptest::option::of(vlan()), ethertype())
        .prop_filter(
            "an untagged header cannot carry 802.1Q",
            |(_, _, vlan, ty)| vlan.is_some() || *ty != EtherType::Vlan,
        )
        .prop_map(|(dst, src, vlan, ethertype)| EthernetRepr {
            dst,
            src,
            vlan,
            ethertype,
        })
}

fn arp() -> impl Strategy<Value = ArpRepr> {
    (any::<u16>(), mac(), ipv4(), mac(), ipv4()).prop_map(
        |(op, sender_mac, sender_ip, target_mac, target_ip)| ArpRepr {
            operation: op.into(),
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
        },
    )
}

/// A valid Neighbor Discovery message with its IPv6 source and destination: the
/// shapes RFC 4861 allows (a solicitation from `::` goes to a solicited-node group
/// without a link-layer address; a solicited advertisement is unicast).
fn ndisc() -> impl Strategy<Value = (Ipv6Addr, Ipv6Addr, NdiscRepr)> {
    let solicit = (
        unicast6(),
        unicast6(),
        any::<bool>(),
        proptest::option::of(mac()),
    )
        .prop_map(|(src, target, multicast, source_lladdr)| {
            let dst = if multicast {
                solicited_node_multicast(target)
            } else {
                target
            };
            let ndisc = NdiscRepr::NeighborSolicit {
                target,
                source_lladdr,
            };
            (src, dst, ndisc)
        });
    let dad = (unicast6(), ipv6()).prop_map(|(target, any)| {
        let ndisc = NdiscRepr::NeighborSolicit {
            target,
            source_lladdr: None,
        };
        (Ipv6Addr::UNSPECIFIED, solicited_node_multicast(any), ndisc)
    });
    let advert = (
        ipv6(),
        ipv6(),
        any::<[bool; 3]>(),
        unicast6(),
        proptest::option::of(mac()),
    )
        .prop_map(
            |(src, dst, [router, solicited, override_], target, target_lladdr)| {
                let ndisc = NdiscRepr::NeighborAdvert {
                    router,
                    solicited: solicited && !dst.is_multicast(),
                    override_,
                    target,
                    target_lladdr,
                };
                (src, dst, ndisc)
            },
        );
    prop_oneof![solicit, dad, advert]
}

fn frame() -> impl Strategy<Value = Frame> {
    let arp_frame = (ethernet(), arp()).prop_map(|(eth, arp)| Frame::Arp {
        eth: EthernetRepr {
            ethertype: EtherType::Arp,
            ..eth
        },
        arp,
    });
    let ndisc_frame = (ethernet(), ndisc()).prop_map(|(eth, (src, dst, ndisc))| Frame::Ndisc {
        eth: EthernetRepr {
            ethertype: EtherType::Ipv6,
            ..eth
        },
        ip: Ipv6Repr::ndisc(src, dst, &ndisc),
        ndisc,
    });
    prop_oneof![arp_frame, ndisc_frame]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ethernet_round_trip(repr in ethernet(), extra in 0usize..8) {
        let mut buffer = vec![0u8; repr.buffer_len() + extra];
        repr.emit(&mut EthernetFrame::new_unchecked(&mut buffer[..])).unwrap();
        let view = EthernetFrame::new_checked(&buffer[..]).unwrap();
        prop_assert_eq!(EthernetRepr::parse(&view).unwrap(), repr);
        prop_assert_eq!(view.header_len(), repr.buffer_len());
        prop_assert_eq!(view.payload().len(), extra);
        prop_assert_eq!(view.is_tagged(), repr.vlan.is_some());
    }

    #[test]
    fn arp_round_trip(repr in arp()) {
        let mut buffer = [0u8; 28];
        repr.emit(&mut ArpPacket::new_unchecked(&mut buffer[..])).unwrap();
        let view = ArpPacket::new_checked(&buffer[..]).unwrap();
        prop_assert_eq!(ArpRepr::parse(&view).unwrap(), repr);
        prop_assert_eq!(view.packet_len(), repr.buffer_len());
        prop_assert_eq!(view.source_hardware_addr(), &repr.sender_mac.0[..]);
        prop_assert_eq!(view.target_protocol_addr(), &repr.target_ip.octets()[..]);
    }

    #[test]
    fn ipv6_round_trip(src in ipv6(), dst in ipv6(), next_header: u8, hop_limit: u8, len in 0usize..64) {
        let repr = Ipv6Repr { src, dst, next_header, payload_len: len, hop_limit };
        let mut buffer = vec![0u8; 40 + len];
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut buffer[..])).unwrap();
        let view = Ipv6Packet::new_checked(&buffer[..]).unwrap();
        prop_assert_eq!(Ipv6Repr::parse(&view).unwrap(), repr);
        prop_assert_eq!((view.version(), view.traffic_class(), view.flow_label()), (6, 0, 0));
    }

    #[test]
    fn ndisc_round_trip((src, dst, repr) in ndisc()) {
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv6Packet::new_unchecked(&mut buffer[..]), src, dst).unwrap();
        let view = Icmpv6Packet::new_checked(&buffer[..]).unwrap();
        prop_assert!(view.verify_checksum(src, dst));
        prop_assert_eq!(NdiscRepr::parse(&view, src, dst).unwrap(), repr);
        // The checksum binds the message to its addresses.
        let other = Ipv6Addr::from(u128::from(dst) ^ 1);
        prop_assert!(!view.verify_checksum(src, other));
    }

    #[test]
    fn frame_round_trip(frame in frame()) {
        let bytes = frame.to_bytes();
        prop_assert_eq!(bytes.len(), frame.buffer_len());
        let parsed = Frame::parse(&bytes).unwrap();
        prop_assert_eq!(parsed, frame);
        prop_assert_eq!(&parsed.to_bytes(), &bytes);
        // Padding is ignored.
        let mut padded = bytes.clone();
        padded.resize(bytes.len().max(60) + 4, 0);
        prop_assert_eq!(Frame::parse(&padded).unwrap(), frame);
    }

    #[test]
    fn emit_needs_exactly_buffer_len(frame in frame(), len in 0usize..120) {
        let mut out = vec![0u8; len];
        let result = frame.emit(&mut out);
        if len >= frame.buffer_len() {
            prop_assert_eq!(result, Ok(()));
            prop_assert_eq!(&out[..frame.buffer_len()], &frame.to_bytes()[..]);
        } else {
            prop_assert_eq!(result, Err(WireError::BufferTooShort { len, needed: frame.buffer_len() }));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_bytes(&bytes)?;
    }

    #[test]
    fn broken_frames_never_panic(
        frame in frame(),
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..4),
        cut in any::<usize>(),
    ) {
        let mut bytes = frame.to_bytes();
        for (at, xor) in flips {
            let at = at % bytes.len();
            bytes[at] ^= xor;
        }
        bytes.truncate(cut % (bytes.len() + 8));
        check_bytes(&bytes)?;
    }

    #[test]
    fn unchecked_views_never_panic_the_parsers(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
        src in ipv6(),
        dst in ipv6(),
    ) {
        let _ = EthernetRepr::parse(&EthernetFrame::new_unchecked(&bytes[..]));
        let _ = ArpRepr::parse(&ArpPacket::new_unchecked(&bytes[..]));
        let _ = Ipv6Repr::parse(&Ipv6Packet::new_unchecked(&bytes[..]));
        let _ = NdiscRepr::parse(&Icmpv6Packet::new_unchecked(&bytes[..]), src, dst);
    }

    #[test]
    fn mac_text_round_trip(mac in mac()) {
        let text = mac.to_string();
        prop_assert_eq!(text.len(), 17);
        prop_assert_eq!(text.parse::<MacAddr>().unwrap(), mac);
        prop_assert_eq!(text.to_uppercase().replace(':', "-").parse::<MacAddr>().unwrap(), mac);
    }

    #[test]
    fn numeric_conversions_round_trip(value: u16) {
        prop_assert_eq!(u16::from(EtherType::from(value)), value);
        prop_assert_eq!(u16::from(ArpOperation::from(value)), value);
        prop_assert_eq!(VlanTag::from_tci(value).to_tci(), Ok(value));
    }
}

/// Parses `bytes`; what parses must re-emit and parse back to the same frame.
fn check_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(frame) = Frame::parse(bytes) {
        let again = frame.to_bytes();
        prop_assert_eq!(Frame::parse(&again).unwrap(), frame);
        if let Frame::Arp { .. } = frame {
            // Every bit of an ARP frame is represented.
            prop_assert_eq!(&bytes[..again.len()], &again[..]);
        }
    }
    Ok(())
}
