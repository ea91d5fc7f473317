// The bodies of the arp-ndp fuzz targets. Included (`include!`) both by the targets in
// `fuzz_targets/` and by `crates/arp/tests/fuzz_corpus.rs`, which replays the saved
// corpora on stable Rust, so the two can never drift apart.

/// Parses a whole frame as received from a packet socket. A frame that parses must
/// emit, parse back to the same value and emit the same bytes again; an ARP frame,
/// every bit of which is represented, must emit exactly the bytes it was read from
/// (less the padding).
#[allow(dead_code)] // each target calls one body
fn fuzz_arp_frame(data: &[u8]) {
    use arp_ndp::Frame;
    let Ok(frame) = Frame::parse(data) else {
        return;
    };
    let bytes = frame.to_bytes();
    assert_eq!(bytes.len(), frame.buffer_len());
    let again = Frame::parse(&bytes).expect("an emitted frame parses");
    assert_eq!(again, frame, "emit → parse changed the frame");
    assert_eq!(again.to_bytes(), bytes, "re-emitting changed the bytes");
    if let Frame::Arp { .. } = frame {
        assert_eq!(
            &data[..bytes.len()],
            &bytes[..],
            "an ARP frame re-emits other bytes"
        );
    }
    // A buffer one byte short is an error, never a panic or a truncation.
    let mut short = vec![0u8; bytes.len() - 1];
    assert!(frame.emit(&mut short).is_err());
}

/// One layer's parser on its own, chosen by the first input byte, on a view made
/// without a length check (the parser must check it). What parses must emit and
/// parse back to the same value. For Neighbor Discovery the next 32 bytes are the
/// IPv6 source and destination of the checksum's pseudo-header.
#[allow(dead_code)] // each target calls one body
fn fuzz_arp_layers(data: &[u8]) {
    use arp_ndp::{
        ArpPacket, ArpRepr, EthernetFrame, EthernetRepr, Icmpv6Packet, Ipv6Packet, Ipv6Repr,
        NdiscRepr,
    };
    use std::net::Ipv6Addr;
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            let Ok(repr) = EthernetRepr::parse(&EthernetFrame::new_unchecked(rest)) else {
                return;
            };
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]))
                .expect("emits");
            assert_eq!(
                &out[..],
                &rest[..out.len()],
                "an Ethernet header re-emits other bytes"
            );
            let again = EthernetRepr::parse(&EthernetFrame::new_unchecked(&out[..]));
            assert_eq!(again, Ok(repr));
        }
        1 => {
            let Ok(repr) = ArpRepr::parse(&ArpPacket::new_unchecked(rest)) else {
                return;
            };
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]))
                .expect("emits");
            assert_eq!(
                &out[..],
                &rest[..out.len()],
                "an ARP packet re-emits other bytes"
            );
        }
        2 => {
            let Ok(repr) = Ipv6Repr::parse(&Ipv6Packet::new_unchecked(rest)) else {
                return;
            };
            let mut out = vec![0u8; repr.buffer_len() + repr.payload_len];
            repr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]))
                .expect("emits");
            let again = Ipv6Repr::parse(&Ipv6Packet::new_unchecked(&out[..]));
            assert_eq!(again, Ok(repr));
        }
        _ => {
            let Some((addrs, message)) = rest.split_at_checked(32) else {
                return;
            };
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src.copy_from_slice(&addrs[..16]);
            dst.copy_from_slice(&addrs[16..]);
            let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
            let Ok(repr) = NdiscRepr::parse(&Icmpv6Packet::new_unchecked(message), src, dst) else {
                return;
            };
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Icmpv6Packet::new_unchecked(&mut out[..]), src, dst)
                .expect("a parsed message emits");
            let again = NdiscRepr::parse(&Icmpv6Packet::new_unchecked(&out[..]), src, dst);
            assert_eq!(again, Ok(repr));
        }
    }
}
