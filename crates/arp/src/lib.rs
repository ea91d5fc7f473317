//! Layer-2 announcement of virtual IP addresses: gratuitous ARP, IPv6 unsolicited
//! Neighbor Advertisement, an ARP/NDP responder and RFC 5227 conflict detection.
//!
//! # Contract
//!
//! The wire types (Ethernet II with an optional 802.1Q tag, ARP for IPv4 over
//! Ethernet, the IPv6 header, ICMPv6 Neighbor Solicitation and Advertisement) and the
//! announcement, responder and conflict logic do no I/O and read no clock: the caller
//! supplies the time and the received frames, and collects the frames to send and the
//! next deadline. State is kept per address; nothing is global.
//!
//! The I/O adapter (an `AF_PACKET` socket bound to one interface, driven by tokio) and
//! the interface helpers live behind features; their few syscalls sit in one small
//! `sys` module, the only place where `unsafe` is allowed.
//!
//! # Status
//!
//! The workspace issue created this crate; its contents land with the `arp` issue.
//! Nothing is exported yet.
