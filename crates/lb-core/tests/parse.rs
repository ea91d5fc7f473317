//! Table tests for parsing address ranges.

use std::net::IpAddr;

use lb_core::{AddressFamily, AddressRange, RangeParseError};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn good_inputs() {
    // input, start, end, prefix, display
    let table: &[(&str, &str, &str, Option<u8>, &str)] = &[
        (
            "10.0.0.0/24",
            "10.0.0.0",
            "10.0.0.255",
            Some(24),
            "10.0.0.0/24",
        ),
        (
            " 10.0.0.0/24 ",
            "10.0.0.0",
            "10.0.0.255",
            Some(24),
            "10.0.0.0/24",
        ),
        (
            "10.0.0.4/30",
            "10.0.0.4",
            "10.0.0.7",
            Some(30),
            "10.0.0.4/30",
        ),
        (
            "10.0.0.5/32",
            "10.0.0.5",
            "10.0.0.5",
            Some(32),
            "10.0.0.5/32",
        ),
        (
            "0.0.0.0/0",
            "0.0.0.0",
            "255.255.255.255",
            Some(0),
            "0.0.0.0/0",
        ),
        ("fd00::/120", "fd00::", "fd00::ff", Some(120), "fd00::/120"),
        (
            "::/0",
            "::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Some(0),
            "::/0",
        ),
        (
            "10.0.0.10-10.0.0.20",
            "10.0.0.10",
            "10.0.0.20",
            None,
            "10.0.0.10-10.0.0.20",
        ),
        (
            "10.0.0.10 - 10.0.0.20",
            "10.0.0.10",
            "10.0.0.20",
            None,
            "10.0.0.10-10.0.0.20",
        ),
        (
            "10.0.0.10-10.0.0.10",
            "10.0.0.10",
            "10.0.0.10",
            None,
            "10.0.0.10-10.0.0.10",
        ),
        (
            "fd00::1 - fd00::a",
            "fd00::1",
            "fd00::a",
            None,
            "fd00::1-fd00::a",
        ),
    ];
    for &(input, start, end, prefix, display) in table {
        let r: AddressRange = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(r.start(), ip(start), "{input}");
        assert_eq!(r.end(), ip(end), "{input}");
        assert_eq!(r.prefix_len(), prefix, "{input}");
        assert_eq!(r.to_string(), display, "{input}");
        assert_eq!(
            display.parse::<AddressRange>().unwrap(),
            r,
            "{input} round trip"
        );
    }
}

#[test]
fn bad_inputs() {
    use RangeParseError as E;
    let table: Vec<(&str, RangeParseError)> = vec![
        ("", E::Empty),
        ("   ", E::Empty),
        ("10.0.0.1", E::Syntax("10.0.0.1".into())),
        ("pool", E::Syntax("pool".into())),
        ("10.0.0/24", E::InvalidAddress("10.0.0".into())),
        ("10.0.0.0/", E::InvalidPrefix("".into())),
        ("10.0.0.0/x", E::InvalidPrefix("x".into())),
        ("10.0.0.0/+8", E::InvalidPrefix("+8".into())),
        ("10.0.0.0/300", E::InvalidPrefix("300".into())),
        (
            "10.0.0.0/33",
            E::PrefixTooLong {
                prefix: 33,
                max: 32,
            },
        ),
        (
            "fd00::/129",
            E::PrefixTooLong {
                prefix: 129,
                max: 128,
            },
        ),
        (
            "10.0.0.1/24",
            E::HostBitsSet {
                addr: ip("10.0.0.1"),
                prefix: 24,
                network: ip("10.0.0.0"),
            },
        ),
        (
            "fd00::1/120",
            E::HostBitsSet {
                addr: ip("fd00::1"),
                prefix: 120,
                network: ip("fd00::"),
            },
        ),
        ("10.0.0.1-", E::InvalidAddress("".into())),
        ("-10.0.0.1", E::InvalidAddress("".into())),
        ("10.0.0.1-10.0.0.x", E::InvalidAddress("10.0.0.x".into())),
        (
            "10.0.0.20-10.0.0.10",
            E::StartAfterEnd {
                start: ip("10.0.0.20"),
                end: ip("10.0.0.10"),
            },
        ),
        (
            "10.0.0.1-fd00::1",
            E::MixedFamilies {
                start: ip("10.0.0.1"),
                end: ip("fd00::1"),
            },
        ),
        (
            "10.0.0.1-10.0.0.2-10.0.0.3",
            E::InvalidAddress("10.0.0.2-10.0.0.3".into()),
        ),
    ];
    for (input, want) in table {
        assert_eq!(input.parse::<AddressRange>(), Err(want), "{input:?}");
    }
}

#[test]
fn errors_display_the_input() {
    let err = "10.0.0.1/24".parse::<AddressRange>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "10.0.0.1/24 has host bits set (network is 10.0.0.0/24)"
    );
}

#[test]
fn contains_intersection_family() {
    let a: AddressRange = "10.0.0.0/24".parse().unwrap();
    let b: AddressRange = "10.0.0.200-10.0.1.5".parse().unwrap();
    let c: AddressRange = "fd00::/120".parse().unwrap();
    assert_eq!(a.family(), AddressFamily::V4);
    assert_eq!(c.family(), AddressFamily::V6);
    assert!(a.contains(ip("10.0.0.0")) && a.contains(ip("10.0.0.255")));
    assert!(!a.contains(ip("10.0.1.0")) && !a.contains(ip("fd00::1")));
    assert_eq!(
        a.intersection(&b),
        Some((ip("10.0.0.200"), ip("10.0.0.255")))
    );
    assert!(a.overlaps(&b) && !a.overlaps(&c));
    assert_eq!(a.intersection(&c), None);
}
