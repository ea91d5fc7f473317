//! Helpers shared by the `io_*` integration tests: running tokio code inside a test
//! namespace, building and reading the few frames the tests need.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use testkit::Netns;

/// How long a test waits for a frame or a state before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Runs the future `f` builds on a current-thread tokio runtime, on a thread inside
/// `ns`, and returns its output.
pub fn block_on_in<T, F, Fut>(ns: &Netns, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    ns.run_in(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(f())
    })
    .expect("running inside the namespace")
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> [u8; 6] {
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).expect("a hex byte"))
        .collect();
    bytes.try_into().expect("six bytes")
}

/// A 42-byte gratuitous ARP request from `mac` for `ip` (sender and target `ip`),
/// broadcast.
pub fn gratuitous_arp(mac: [u8; 6], ip: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend([0xff; 6]);
    f.extend(mac);
    f.extend([0x08, 0x06]);
    // Ethernet, IPv4, 6-byte and 4-byte addresses, request.
    f.extend([0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    f.extend(mac);
    f.extend(ip.octets());
    f.extend([0; 6]);
    f.extend(ip.octets());
    f
}

/// The ethertype of an untagged frame.
pub fn ethertype(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[12], frame[13]])
}

/// An ARP frame's operation, sender and target protocol addresses.
pub fn arp(frame: &[u8]) -> Option<(u16, Ipv4Addr, Ipv4Addr)> {
    if frame.len() < 42 || ethertype(frame) != 0x0806 {
        return None;
    }
    let ip = |at: usize| Ipv4Addr::new(frame[at], frame[at + 1], frame[at + 2], frame[at + 3]);
    Some((u16::from_be_bytes([frame[20], frame[21]]), ip(28), ip(38)))
}

/// An ICMPv6 frame's type and, for NS and NA, its target address.
pub fn icmpv6(frame: &[u8]) -> Option<(u8, Option<Ipv6Addr>)> {
    if frame.len() < 14 + 40 + 4 || ethertype(frame) != 0x86dd || frame[20] != 58 {
        return None;
    }
    let kind = frame[54];
    let target = <[u8; 16]>::try_from(frame.get(62..78)?)
        .ok()
        .filter(|_| kind == 135 || kind == 136)
        .map(Ipv6Addr::from);
    Some((kind, target))
}

/// Describes a frame for an assertion message.
pub fn describe(frame: &[u8]) -> String {
    if let Some((op, spa, tpa)) = arp(frame) {
        return format!("ARP op {op} {spa} -> {tpa}");
    }
    if let Some((kind, target)) = icmpv6(frame) {
        return format!("ICMPv6 type {kind} target {target:?}");
    }
    format!("ethertype {:#06x}, {} bytes", ethertype(frame), frame.len())
}
