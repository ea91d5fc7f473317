//! Layer-2 announcement of virtual IP addresses: gratuitous ARP, IPv6 unsolicited
//! Neighbor Advertisement, an ARP/NDP responder and RFC 5227 conflict detection.
//!
//! # Contract
//!
//! The wire types (Ethernet II with an optional 802.1Q tag, ARP for IPv4 over
//! Ethernet, the IPv6 header, ICMPv6 Neighbor Solicitation and Advertisement) and the
//! [`Announcer`] (announcement schedule, responder, conflict detection) do no I/O and
//! read no clock: the caller supplies the time and the received frames, and collects
//! the frames to send and the next deadline. State is kept per address; nothing is
//! global.
//!
//! The I/O adapter (an `AF_PACKET` socket bound to one interface, driven by tokio:
//! feature `tokio`) and the interface helpers (netlink: feature `netlink`) live in
//! the `io` module; their few syscalls sit in one small private `sys` module, the only place
//! where `unsafe` is allowed.

mod announcer;
mod frames;
#[cfg(any(feature = "tokio", feature = "netlink"))]
pub mod io;
#[cfg(feature = "tokio")]
mod sys;
mod wire;

pub use announcer::{Announcer, Event, InterfaceConfig, Ownership, Schedule};
pub use frames::Link;
pub use wire::{
    ALL_NODES_MULTICAST, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr,
    Frame, Icmpv6Packet, Ipv6Packet, Ipv6Repr, MacAddr, NdiscRepr, VlanTag, WireError,
    is_solicited_node_multicast, solicited_node_multicast,
};
