//! Fuzzes arp-ndp's `Frame::parse` (Ethernet, 802.1Q, ARP, IPv6, ICMPv6 Neighbor
//! Solicitation and Advertisement) with an emit → parse oracle. Replayed on stable by
//! `crates/arp/tests/fuzz_corpus.rs`.
#![no_main]
// The bodies file holds the other targets' bodies too.
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

include!("../bodies/arp.rs");

fuzz_target!(|data: &[u8]| fuzz_arp_frame(data));
