//! The wire formats: Ethernet II with an optional 802.1Q tag, ARP for IPv4 over
//! Ethernet (RFC 826), the IPv6 header (RFC 8200) and the ICMPv6 (RFC 4443) Neighbor
//! Solicitation and Advertisement (RFC 4861).
//!
//! Each layer has two types, in the manner of smoltcp's `wire` module:
//!
//! * a zero-copy view over any `T: AsRef<[u8]>` ([`EthernetFrame`], [`ArpPacket`],
//!   [`Ipv6Packet`], [`Icmpv6Packet`]) with the field offsets in a private `field`
//!   module, `new_unchecked`, `new_checked` (which runs `check_len`), getters, and
//!   setters when `T: AsMut<[u8]>`;
//! * a checked representation ([`EthernetRepr`], [`ArpRepr`], [`Ipv6Repr`],
//!   [`NdiscRepr`]) with `parse` from a view, `buffer_len` and `emit` into a view.
//!
//! [`Frame`] puts the layers together: it is what the announcer and the responder
//! read from and write to a packet socket.
//!
//! Parsing never panics, whatever the input, and never allocates: every `parse`
//! checks the lengths itself, even on a view made with `new_unchecked`. Encoding a
//! value that does not fit its field, or into a buffer that is too short, is an
//! error, never a truncation.
//!
//! All errors are one [`WireError`] rather than one enum per module: [`Frame::parse`]
//! crosses every layer, and its caller matches on one type to tell frames of other
//! kinds ([`WireError::NotArpOrNdisc`]) from malformed ones.

mod arp;
mod error;
mod ethernet;
mod frame;
mod icmpv6;
mod ipv6;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use error::WireError;
pub use ethernet::{EtherType, EthernetFrame, EthernetRepr, MacAddr, VlanTag};
pub use frame::Frame;
pub use icmpv6::{Icmpv6Packet, NdiscRepr};
pub use ipv6::{
    ALL_NODES_MULTICAST, Ipv6Packet, Ipv6Repr, is_solicited_node_multicast,
    solicited_node_multicast,
};
