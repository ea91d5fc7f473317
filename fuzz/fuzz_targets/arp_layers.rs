//! Fuzzes each arp-ndp layer parser (`EthernetRepr`, `ArpRepr`, `Ipv6Repr`,
//! `NdiscRepr`) on its own, over views made without a length check, with an
//! emit → parse oracle. Replayed on stable by `crates/arp/tests/fuzz_corpus.rs`.
#![no_main]
// The bodies file holds the other targets' bodies too.
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

include!("../bodies/arp.rs");

fuzz_target!(|data: &[u8]| fuzz_arp_layers(data));
