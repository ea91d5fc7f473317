//! Whole frames: Ethernet (with an optional 802.1Q tag) carrying ARP, or IPv6
//! carrying an ICMPv6 Neighbor Solicitation or Advertisement.

use super::WireError;
use super::arp::{ArpPacket, ArpRepr};
use super::ethernet::{EtherType, EthernetFrame, EthernetRepr, check_buffer};
use super::icmpv6::{Icmpv6Packet, NdiscRepr};
use super::ipv6::{Ipv6Packet, Ipv6Repr};

/// The ICMPv6 types [`Frame::parse`] takes for Neighbor Discovery.
const NDISC_TYPES: [u8; 2] = [135, 136];

/// A frame this crate sends or answers.
///
/// In a parsed frame, [`Ipv6Repr::payload_len`] is the length of the message as
/// represented ([`NdiscRepr::buffer_len`]): options that parsing skips (a nonce, an
/// unknown option) are not counted, so that [`Frame::emit`] of a parsed frame always
/// succeeds and parses back to the same value. Build the IPv6 header of a new frame
/// with [`Ipv6Repr::ndisc`].
///
/// # Example
///
/// An unsolicited Neighbor Advertisement for a virtual IPv6 address, and reading
/// frames from a packet socket:
///
/// ```
/// use std::net::Ipv6Addr;
///
/// use arp_ndp::{
///     ALL_NODES_MULTICAST, EtherType, EthernetRepr, Frame, Ipv6Repr, MacAddr, NdiscRepr,
///     WireError,
/// };
///
/// let mac: MacAddr = "02:00:5e:10:00:01".parse()?;
/// let vip: Ipv6Addr = "2001:db8::10".parse()?;
/// let ndisc = NdiscRepr::NeighborAdvert {
///     router: false,
///     solicited: false,
///     override_: true,
///     target: vip,
///     target_lladdr: Some(mac),
/// };
/// let frame = Frame::Ndisc {
///     eth: EthernetRepr {
///         dst: MacAddr::ipv6_multicast(ALL_NODES_MULTICAST),
///         src: mac,
///         vlan: None,
///         ethertype: EtherType::Ipv6,
///     },
///     ip: Ipv6Repr::ndisc(vip, ALL_NODES_MULTICAST, &ndisc),
///     ndisc,
/// };
/// let bytes = frame.to_bytes();
/// assert_eq!(bytes.len(), 86);
///
/// match Frame::parse(&bytes) {
///     Ok(Frame::Ndisc { ndisc, .. }) => assert_eq!(ndisc.target(), vip),
///     Ok(Frame::Arp { .. }) => unreachable!(),
///     // Another kind of frame: not for us.
///     Err(WireError::NotArpOrNdisc) => {}
///     // Malformed or invalid: dropped (and perhaps counted).
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frame {
    /// An ARP packet for IPv4 over Ethernet.
    Arp {
        /// The Ethernet header (ethertype [`EtherType::Arp`]).
        eth: EthernetRepr,
        /// The ARP packet.
        arp: ArpRepr,
    },
    /// An ICMPv6 Neighbor Solicitation or Advertisement directly inside IPv6.
    Ndisc {
        /// The Ethernet header (ethertype [`EtherType::Ipv6`]).
        eth: EthernetRepr,
        /// The IPv6 header (next header 58, hop limit 255).
        ip: Ipv6Repr,
        /// The message.
        ndisc: NdiscRepr,
    },
}

impl Frame {
    /// Parses a frame as received from a packet socket, Ethernet header first.
    ///
    /// Trailing bytes after the ARP packet or the IPv6 payload (Ethernet padding) are
    /// ignored. A frame of another kind (another ethertype, an IPv6 packet that is not
    /// ICMPv6, an ICMPv6 message other than types 135 and 136) is
    /// [`WireError::NotArpOrNdisc`]; every other error means the frame is malformed
    /// or, for Neighbor Discovery, invalid under RFC 4861 §7.1 (hop limit other than
    /// 255, bad checksum, nonzero code, …). Extension headers before ICMPv6 are not
    /// followed: such a packet is `NotArpOrNdisc`.
    pub fn parse(bytes: &[u8]) -> Result<Frame, WireError> {
        let frame = EthernetFrame::new_checked(bytes)?;
        let eth = EthernetRepr::parse(&frame)?;
        match eth.ethertype {
            EtherType::Arp => {
                let packet = ArpPacket::new_checked(frame.payload())?;
                let arp = ArpRepr::parse(&packet)?;
                Ok(Frame::Arp { eth, arp })
            }
            EtherType::Ipv6 => {
                let packet = Ipv6Packet::new_checked(frame.payload())?;
                let ip = Ipv6Repr::parse(&packet)?;
                if ip.next_header != Ipv6Repr::NEXT_HEADER_ICMPV6 {
                    return Err(WireError::NotArpOrNdisc);
                }
                let message = Icmpv6Packet::new_checked(packet.payload())?;
                if !NDISC_TYPES.contains(&message.msg_type()) {
                    return Err(WireError::NotArpOrNdisc);
                }
                if ip.hop_limit != Ipv6Repr::NDISC_HOP_LIMIT {
                    return Err(WireError::Ipv6HopLimit(ip.hop_limit));
                }
                let ndisc = NdiscRepr::parse(&message, ip.src, ip.dst)?;
                let ip = Ipv6Repr {
                    payload_len: ndisc.buffer_len(),
                    ..ip
                };
                Ok(Frame::Ndisc { eth, ip, ndisc })
            }
            _ => Err(WireError::NotArpOrNdisc),
        }
    }

    /// The Ethernet header.
    pub const fn eth(&self) -> &EthernetRepr {
        match self {
            Frame::Arp { eth, .. } | Frame::Ndisc { eth, .. } => eth,
        }
    }

    /// The frame's length without padding: 42 for untagged ARP, 78 or 86 for untagged
    /// Neighbor Discovery without or with a link-layer address option, 4 more with a
    /// VLAN tag.
    pub const fn buffer_len(&self) -> usize {
        match self {
            Frame::Arp { eth, arp } => eth.buffer_len() + arp.buffer_len(),
            Frame::Ndisc { eth, ip, ndisc } => {
                eth.buffer_len() + ip.buffer_len() + ndisc.buffer_len()
            }
        }
    }

    /// Writes the frame into the first [`Frame::buffer_len`] bytes of `out`, without
    /// padding (the kernel pads short frames), and leaves the rest of `out` as it is.
    ///
    /// Fails when `out` is too short, when a header field does not fit (a VLAN
    /// priority above 7 or identifier above 4095), when the headers disagree with the
    /// payload (an ethertype other than ARP or IPv6 for it, an IPv6 next header other
    /// than 58, a hop limit other than 255, a payload length other than the message's)
    /// or when the message is one [`Frame::parse`] would reject. Nothing useful is left
    /// in `out` after an error.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), WireError> {
        self.check_consistent()?;
        let len = self.buffer_len();
        check_buffer(out.len(), len)?;
        let mut frame = EthernetFrame::new_unchecked(&mut out[..len]);
        self.eth().emit(&mut frame)?;
        match self {
            Frame::Arp { arp, .. } => arp.emit(&mut ArpPacket::new_unchecked(frame.payload_mut())),
            Frame::Ndisc { ip, ndisc, .. } => {
                let mut packet = Ipv6Packet::new_unchecked(frame.payload_mut());
                ip.emit(&mut packet)?;
                let mut message = Icmpv6Packet::new_unchecked(packet.payload_mut());
                ndisc.emit(&mut message, ip.src, ip.dst)
            }
        }
    }

    /// The frame's bytes, without padding.
    ///
    /// # Panics
    ///
    /// When [`Frame::emit`] fails for a reason other than the buffer's size: a VLAN
    /// field out of range or headers inconsistent with the payload. A frame returned
    /// by [`Frame::parse`] never panics here; use `emit` for frames built from
    /// untrusted values.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0; self.buffer_len()];
        if let Err(e) = self.emit(&mut out) {
            panic!("cannot encode {self:?}: {e}");
        }
        out
    }

    /// Checks that the headers agree with the payload, as [`Frame::parse`] requires.
    fn check_consistent(&self) -> Result<(), WireError> {
        let (eth, expected) = match self {
            Frame::Arp { eth, .. } => (eth, EtherType::Arp),
            Frame::Ndisc { eth, ip, ndisc } => {
                if ip.next_header != Ipv6Repr::NEXT_HEADER_ICMPV6 {
                    return Err(WireError::Ipv6NextHeader(ip.next_header));
                }
                if ip.hop_limit != Ipv6Repr::NDISC_HOP_LIMIT {
                    return Err(WireError::Ipv6HopLimit(ip.hop_limit));
                }
                if ip.payload_len != ndisc.buffer_len() {
                    return Err(WireError::Ipv6PayloadLength {
                        header: ip.payload_len,
                        message: ndisc.buffer_len(),
                    });
                }
                (eth, EtherType::Ipv6)
            }
        };
        if eth.ethertype != expected {
            return Err(WireError::EthertypeMismatch {
                expected,
                found: eth.ethertype,
            });
        }
        Ok(())
    }
}
