//! Table tests for pools, exclusions and allocation.

use std::net::IpAddr;

use lb_core::{
    AddressFamily, AddressRange, AllocError, Allocator, ExclusionReason, Pool, PoolError,
    PoolOptions, pools_overlap,
};

const V4: AddressFamily = AddressFamily::V4;
const V6: AddressFamily = AddressFamily::V6;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pool(ranges: &[&str], avoid_buggy_ips: bool, skip_network_and_broadcast: bool) -> Pool {
    pool_with(
        ranges,
        PoolOptions {
            avoid_buggy_ips,
            skip_network_and_broadcast,
            ..PoolOptions::default()
        },
    )
}

fn pool_with(ranges: &[&str], options: PoolOptions) -> Pool {
    let ranges = ranges.iter().map(|r| r.parse().unwrap()).collect();
    Pool::new("p", ranges, options).unwrap()
}

/// An allocator handing out the highest free address first.
fn desc(ranges: &[&str], avoid_buggy_ips: bool, skip_network_and_broadcast: bool) -> Allocator {
    Allocator::new(pool_with(
        ranges,
        PoolOptions {
            avoid_buggy_ips,
            skip_network_and_broadcast,
            highest_first: true,
        },
    ))
}

fn exhausted(family: AddressFamily) -> Result<IpAddr, AllocError> {
    Err(AllocError::Exhausted {
        pool: "p".into(),
        family,
    })
}

/// Allocates until exhausted; stops one past the free count, so an allocator that hands
/// out an address twice fails the caller's assertions instead of looping.
fn drain(alloc: &mut Allocator, family: AddressFamily) -> Vec<IpAddr> {
    let bound = usize::try_from(alloc.free_count(family)).unwrap() + 1;
    std::iter::from_fn(|| alloc.allocate_next(family).ok())
        .take(bound)
        .collect()
}

#[test]
fn allowed_counts() {
    // ranges, avoid_buggy, skip_nb, v4 count, v6 count
    let table: &[(&[&str], bool, bool, u128, u128)] = &[
        (&["10.0.0.0/24"], false, false, 256, 0),
        (&["10.0.0.0/24"], false, true, 254, 0),
        (&["10.0.0.0/24"], true, false, 254, 0),
        (&["10.0.0.0/24"], true, true, 254, 0),
        (&["10.0.0.0/30"], false, true, 2, 0),
        (&["10.0.0.0/31"], false, true, 2, 0),
        (&["10.0.0.0/32"], false, true, 1, 0),
        (&["10.0.0.0/32"], true, true, 0, 0),
        (&["10.0.0.0/22"], true, false, 4 * 254, 0),
        (&["10.0.0.0/22"], false, true, 1022, 0),
        (&["10.0.0.250-10.0.1.5"], true, true, 5 + 5, 0),
        (&["10.0.0.0-10.0.0.255"], false, true, 256, 0),
        (&["0.0.0.0/0"], true, false, 254 << 24, 0),
        (&["fd00::/120"], true, true, 0, 256),
        (&["fd00::/64", "10.0.0.0/24"], false, true, 254, 1 << 64),
    ];
    for &(ranges, buggy, skip, want4, want6) in table {
        let p = pool(ranges, buggy, skip);
        assert_eq!(p.allowed_count(V4), want4, "{ranges:?} {buggy} {skip}");
        assert_eq!(p.allowed_count(V6), want6, "{ranges:?} {buggy} {skip}");
        let a = Allocator::new(p);
        assert_eq!(a.free_count(V4), want4);
    }
}

#[test]
fn exclusions_and_reasons() {
    let p = pool(
        &["10.0.0.0/23", "10.0.2.250-10.0.3.0", "fd00::/120"],
        true,
        true,
    );
    let table: &[(&str, Option<ExclusionReason>, bool)] = &[
        ("10.0.0.0", Some(ExclusionReason::NetworkAddress), false),
        ("10.0.1.255", Some(ExclusionReason::BroadcastAddress), false),
        ("10.0.0.255", Some(ExclusionReason::BuggyIp), false),
        ("10.0.1.0", Some(ExclusionReason::BuggyIp), false),
        ("10.0.2.255", Some(ExclusionReason::BuggyIp), false),
        ("10.0.3.0", Some(ExclusionReason::BuggyIp), false),
        ("10.0.0.1", None, true),
        ("10.0.1.254", None, true),
        ("10.0.2.250", None, true),
        ("fd00::", None, true),
        ("fd00::ff", None, true),
        ("10.0.3.1", None, false),
        ("fd00::100", None, false),
    ];
    for &(addr, reason, allowed) in table {
        assert_eq!(p.exclusion(ip(addr)), reason, "{addr}");
        assert_eq!(p.is_allowed(ip(addr)), allowed, "{addr}");
    }
}

#[test]
fn allocation_order_skips_exclusions() {
    let p = pool(&["10.0.1.250-10.0.2.2", "10.0.0.0/30"], true, true);
    let mut a = Allocator::new(p);
    let want: Vec<IpAddr> = [
        "10.0.0.1",
        "10.0.0.2",
        "10.0.1.250",
        "10.0.1.251",
        "10.0.1.252",
        "10.0.1.253",
        "10.0.1.254",
        "10.0.2.1",
        "10.0.2.2",
    ]
    .map(ip)
    .to_vec();
    assert_eq!(drain(&mut a, V4), want);
    assert_eq!(a.allocated().collect::<Vec<_>>(), want);
    assert_eq!(a.free_count(V4), 0);
}

#[test]
fn slash_30_with_skip_has_two_addresses_then_exhausts() {
    let mut a = Allocator::new(pool(&["192.168.1.0/30"], false, true));
    assert_eq!(a.allocate_next(V4), Ok(ip("192.168.1.1")));
    assert_eq!(a.allocate_next(V4), Ok(ip("192.168.1.2")));
    assert_eq!(
        a.allocate_next(V4),
        Err(AllocError::Exhausted {
            pool: "p".into(),
            family: V4
        })
    );
    assert_eq!(
        a.allocate_next(V6),
        Err(AllocError::Exhausted {
            pool: "p".into(),
            family: V6
        })
    );
    assert!(a.release(ip("192.168.1.1")));
    assert_eq!(a.allocate_next(V4), Ok(ip("192.168.1.1")));
}

#[test]
fn allocate_errors() {
    let mut a = Allocator::new(pool(&["10.0.0.0/24"], true, true));
    a.allocate(ip("10.0.0.7")).unwrap();
    let p = || "p".to_owned();
    let table: Vec<(&str, AllocError)> = vec![
        (
            "10.0.1.1",
            AllocError::NotInPool {
                addr: ip("10.0.1.1"),
                pool: p(),
            },
        ),
        (
            "fd00::1",
            AllocError::NotInPool {
                addr: ip("fd00::1"),
                pool: p(),
            },
        ),
        (
            "10.0.0.0",
            AllocError::Excluded {
                addr: ip("10.0.0.0"),
                pool: p(),
                reason: ExclusionReason::NetworkAddress,
            },
        ),
        (
            "10.0.0.255",
            AllocError::Excluded {
                addr: ip("10.0.0.255"),
                pool: p(),
                reason: ExclusionReason::BroadcastAddress,
            },
        ),
        (
            "10.0.0.7",
            AllocError::AlreadyAllocated {
                addr: ip("10.0.0.7"),
                pool: p(),
            },
        ),
    ];
    for (addr, want) in table {
        assert_eq!(a.allocate(ip(addr)), Err(want), "{addr}");
    }
    let buggy = Allocator::new(pool(&["10.0.0.0-10.0.1.255"], true, true)).allocate(ip("10.0.1.0"));
    assert_eq!(
        buggy.unwrap_err().to_string(),
        "10.0.1.0 is excluded from pool \"p\": it ends in .0 or .255 and the pool avoids buggy IPs"
    );
}

#[test]
fn release_and_reuse() {
    let mut a = Allocator::new(pool(&["10.0.0.0/29"], false, false));
    for _ in 0..8 {
        a.allocate_next(V4).unwrap();
    }
    assert!(a.release(ip("10.0.0.5")));
    assert!(!a.release(ip("10.0.0.5")), "double release");
    assert!(!a.release(ip("10.9.0.5")), "outside");
    assert!(a.release(ip("10.0.0.2")));
    assert!(!a.is_allocated(ip("10.0.0.2")));
    assert!(a.is_allocated(ip("10.0.0.3")));
    assert_eq!(a.free_count(V4), 2);
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.2")));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.5")));
    assert_eq!(a.allocated_count(V4), 8);
}

#[test]
fn explicit_allocation_then_next_fills_the_gap() {
    let mut a = Allocator::new(pool(&["10.0.0.10-10.0.0.20"], false, false));
    a.allocate(ip("10.0.0.10")).unwrap();
    a.allocate(ip("10.0.0.12")).unwrap();
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.11")));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.13")));
}

#[test]
fn ipv6_allocation() {
    let mut a = Allocator::new(pool(&["fd00::/64", "10.0.0.0/31"], true, true));
    assert_eq!(a.allocate_next(V6), Ok(ip("fd00::")));
    a.allocate(ip("fd00::ffff:ffff:ffff:ffff")).unwrap();
    assert_eq!(a.allocate_next(V6), Ok(ip("fd00::1")));
    assert_eq!(a.free_count(V6), (1u128 << 64) - 3);
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.1")), "10.0.0.0 is buggy");
    let all: Vec<IpAddr> = a.allocated().collect();
    assert_eq!(
        all,
        ["10.0.0.1", "fd00::", "fd00::1", "fd00::ffff:ffff:ffff:ffff"].map(ip)
    );
}

#[test]
fn huge_ipv6_pool() {
    let low: AddressRange = "::/1".parse().unwrap();
    let high: AddressRange = "8000::/1".parse().unwrap();
    let p = Pool::new("half", vec![low], PoolOptions::default()).unwrap();
    assert_eq!(p.allowed_count(V6), 1 << 127);
    let err = Pool::new("all", vec![low, high], PoolOptions::default()).unwrap_err();
    assert_eq!(
        err,
        PoolError::TooManyAddresses {
            pool: "all".into(),
            family: V6
        }
    );
    let mut a = Allocator::new(p);
    a.allocate(ip("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        .unwrap();
    assert_eq!(a.allocate_next(V6), Ok(ip("::")));
}

#[test]
fn overlapping_ranges_in_one_pool_are_rejected() {
    let ranges = vec![
        "10.0.0.0/24".parse().unwrap(),
        "10.0.0.255-10.0.1.3".parse().unwrap(),
    ];
    let err = Pool::new("p", ranges, PoolOptions::default()).unwrap_err();
    assert!(matches!(err, PoolError::OverlappingRanges { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "pool \"p\": ranges 10.0.0.0/24 and 10.0.0.255-10.0.1.3 overlap"
    );
    // Adjacent ranges and the same numbers in another family are fine.
    pool(
        &["10.0.0.0/24", "10.0.1.0-10.0.1.3", "::a00:0/120"],
        false,
        false,
    );
}

#[test]
fn overlaps_between_pools() {
    let a = pool(&["10.0.0.0/24", "10.0.2.0/24", "fd00::/120"], false, false);
    let b = pool(
        &["10.0.0.128-10.0.2.3", "10.0.3.0/24", "fd00::80/121"],
        false,
        true,
    );
    let want = [
        ("10.0.0.128", "10.0.0.255"),
        ("10.0.2.0", "10.0.2.3"),
        ("fd00::80", "fd00::ff"),
    ]
    .map(|(s, e)| (ip(s), ip(e)));
    assert_eq!(pools_overlap(&a, &b), want);
    assert_eq!(pools_overlap(&b, &a), want);
    let c = pool(&["10.1.0.0/16"], false, false);
    assert!(pools_overlap(&a, &c).is_empty());
}

#[test]
fn highest_first_is_off_by_default() {
    assert!(!PoolOptions::default().highest_first);
    let mut a = Allocator::new(pool(&["10.0.0.0/30"], false, false));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.0")));
}

#[test]
fn highest_first_skips_exclusions() {
    // ranges, avoid_buggy, skip_nb, expected drain order (highest first)
    type Row<'a> = (&'a [&'a str], bool, bool, &'a [&'a str]);
    let table: &[Row<'_>] = &[
        (
            &["10.0.1.250-10.0.2.2", "10.0.0.0/30"],
            true,
            true,
            &[
                "10.0.2.2",
                "10.0.2.1",
                "10.0.1.254",
                "10.0.1.253",
                "10.0.1.252",
                "10.0.1.251",
                "10.0.1.250",
                "10.0.0.2",
                "10.0.0.1",
            ],
        ),
        // Broadcast skipped, network skipped.
        (
            &["192.168.1.0/29"],
            false,
            true,
            &[
                "192.168.1.6",
                "192.168.1.5",
                "192.168.1.4",
                "192.168.1.3",
                "192.168.1.2",
                "192.168.1.1",
            ],
        ),
        // .255 and .0 skipped across a /23; the network/broadcast option alone keeps
        // the inner .255/.0.
        (
            &["10.0.0.254-10.0.1.1"],
            true,
            false,
            &["10.0.1.1", "10.0.0.254"],
        ),
        (&["10.0.0.0/23"], false, true, &[]),
        // /31 and /32 are never trimmed by skip_network_and_broadcast.
        (
            &["10.0.0.0/31", "10.0.0.9/32"],
            false,
            true,
            &["10.0.0.9", "10.0.0.1", "10.0.0.0"],
        ),
        // Only excluded addresses: nothing to hand out.
        (&["10.0.0.255/32", "10.0.1.0/32"], true, false, &[]),
    ];
    for &(ranges, buggy, skip, want) in table {
        let mut a = desc(ranges, buggy, skip);
        let total = a.free_count(V4);
        let got = drain(&mut a, V4);
        if want.is_empty() && total > 0 {
            // Large rows: check the ends and the count instead of listing them.
            assert_eq!(got.len() as u128, total, "{ranges:?}");
            assert_eq!(got.first(), Some(&ip("10.0.1.254")), "{ranges:?}");
            assert_eq!(got.last(), Some(&ip("10.0.0.1")), "{ranges:?}");
            assert!(got.contains(&ip("10.0.0.255")) && got.contains(&ip("10.0.1.0")));
            assert!(got.windows(2).all(|w| w[0] > w[1]), "{ranges:?}");
        } else {
            assert_eq!(
                got,
                want.iter().map(|s| ip(s)).collect::<Vec<_>>(),
                "{ranges:?}"
            );
        }
        for addr in &got {
            assert!(a.pool().is_allowed(*addr), "{addr} is excluded");
        }
        assert_eq!(a.free_count(V4), 0, "{ranges:?}");
        assert_eq!(a.allocate_next(V4), exhausted(V4), "{ranges:?}");
        // `allocated` still lists ascending.
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(a.allocated().collect::<Vec<_>>(), sorted, "{ranges:?}");
    }
}

#[test]
fn highest_first_across_ranges() {
    let mut a = desc(
        &[
            "10.0.5.10-10.0.5.12",
            "10.0.0.0/30",
            "10.0.3.0/30",
            "fd00::/126",
        ],
        false,
        true,
    );
    let want = [
        "10.0.5.12",
        "10.0.5.11",
        "10.0.5.10", // top range
        "10.0.3.2",
        "10.0.3.1", // middle CIDR without its ends
        "10.0.0.2",
        "10.0.0.1", // lowest CIDR
    ]
    .map(ip);
    assert_eq!(drain(&mut a, V4), want);
    // The other family is untouched and has its own top.
    assert_eq!(a.free_count(V6), 4);
    assert_eq!(a.allocate_next(V6), Ok(ip("fd00::3")));

    // An explicit allocation at the top of a range moves the next one down, into the
    // range below when the top range is full.
    let mut b = desc(&["10.0.0.0/30", "10.0.5.10-10.0.5.11"], false, false);
    b.allocate(ip("10.0.5.11")).unwrap();
    assert_eq!(b.allocate_next(V4), Ok(ip("10.0.5.10")));
    assert_eq!(b.allocate_next(V4), Ok(ip("10.0.0.3")));
    b.allocate(ip("10.0.0.2")).unwrap();
    assert_eq!(b.allocate_next(V4), Ok(ip("10.0.0.1")));
}

#[test]
fn highest_first_fills_below_the_top_interval() {
    let mut a = desc(&["10.0.0.10-10.0.0.20"], false, false);
    for addr in ["10.0.0.20", "10.0.0.19", "10.0.0.15", "10.0.0.11"] {
        a.allocate(ip(addr)).unwrap();
    }
    let got: Vec<IpAddr> = (0..5).map(|_| a.allocate_next(V4).unwrap()).collect();
    assert_eq!(
        got,
        [
            "10.0.0.18",
            "10.0.0.17",
            "10.0.0.16",
            "10.0.0.14",
            "10.0.0.13"
        ]
        .map(ip)
    );
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.12")));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.10")));
    assert_eq!(a.allocate_next(V4), exhausted(V4));
}

#[test]
fn highest_first_ipv6() {
    let mut a = desc(&["fd00::/64", "10.0.0.0/31"], true, true);
    assert_eq!(
        a.allocate_next(V6),
        Ok(ip("fd00::ffff:ffff:ffff:ffff")),
        "IPv6 has no buggy addresses"
    );
    a.allocate(ip("fd00::ffff:ffff:ffff:fffe")).unwrap();
    a.allocate(ip("fd00::")).unwrap();
    assert_eq!(a.allocate_next(V6), Ok(ip("fd00::ffff:ffff:ffff:fffd")));
    assert_eq!(a.free_count(V6), (1u128 << 64) - 4);
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.1")), "10.0.0.0 is buggy");
    assert_eq!(a.allocate_next(V4), exhausted(V4));

    // A /120 with exclusion options set: IPv6 is never trimmed.
    let mut b = desc(&["fd00:1::/120", "fd00:2::5-fd00:2::6"], true, true);
    let got: Vec<IpAddr> = (0..3).map(|_| b.allocate_next(V6).unwrap()).collect();
    assert_eq!(got, ["fd00:2::6", "fd00:2::5", "fd00:1::ff"].map(ip));

    // The top of a half of the address space, found without scanning.
    let half = Pool::new(
        "half",
        vec!["::/1".parse().unwrap()],
        PoolOptions {
            highest_first: true,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let mut c = Allocator::new(half);
    assert_eq!(
        c.allocate_next(V6),
        Ok(ip("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
    );
    c.allocate(ip("7fff:ffff:ffff:ffff:ffff:ffff:ffff:fffd"))
        .unwrap();
    assert_eq!(
        c.allocate_next(V6),
        Ok(ip("7fff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"))
    );
    assert_eq!(
        c.allocate_next(V6),
        Ok(ip("7fff:ffff:ffff:ffff:ffff:ffff:ffff:fffc"))
    );
}

#[test]
fn highest_first_after_releases() {
    let mut a = desc(&["10.0.0.0/29"], false, false);
    let all = drain(&mut a, V4);
    assert_eq!(all.first(), Some(&ip("10.0.0.7")));
    assert_eq!(all.last(), Some(&ip("10.0.0.0")));
    assert_eq!(a.allocate_next(V4), exhausted(V4));
    assert!(a.release(ip("10.0.0.2")));
    assert!(a.release(ip("10.0.0.5")));
    assert!(!a.release(ip("10.0.0.5")), "double release");
    assert_eq!(a.free_count(V4), 2);
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.5")));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.2")));
    assert_eq!(a.allocate_next(V4), exhausted(V4));
    // Releasing the top and the bottom: the top comes back first.
    assert!(a.release(ip("10.0.0.0")));
    assert!(a.release(ip("10.0.0.7")));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.7")));
    assert_eq!(a.allocate_next(V4), Ok(ip("10.0.0.0")));
    assert_eq!(a.allocated_count(V4), 8);
}

#[test]
fn highest_first_exhausted() {
    // A /30 with skip has two addresses, then none; an absent family has none.
    let mut a = desc(&["192.168.1.0/30"], false, true);
    assert_eq!(a.allocate_next(V4), Ok(ip("192.168.1.2")));
    assert_eq!(a.allocate_next(V4), Ok(ip("192.168.1.1")));
    assert_eq!(a.allocate_next(V4), exhausted(V4));
    assert_eq!(a.allocate_next(V6), exhausted(V6));
    assert!(a.release(ip("192.168.1.1")));
    assert_eq!(a.allocate_next(V4), Ok(ip("192.168.1.1")));
    // A pool whose every address is excluded.
    let mut b = desc(&["10.0.0.0/32", "10.0.0.255/32"], true, false);
    assert_eq!(b.pool().allowed_count(V4), 0);
    assert_eq!(b.allocate_next(V4), exhausted(V4));
    // Exhaustion leaves the state unchanged.
    assert_eq!(a.allocated_count(V4), 2);
    assert_eq!(b.allocated_count(V4), 0);
}

#[test]
fn highest_first_is_deterministic() {
    let run = || {
        let mut a = desc(&["10.0.0.0/28", "10.0.2.0/29"], true, true);
        a.allocate(ip("10.0.2.5")).unwrap();
        let mut out = Vec::new();
        for i in 0..10 {
            out.push(a.allocate_next(V4).unwrap());
            if i % 3 == 0 {
                assert!(a.release(out[i / 2]));
            }
        }
        out
    };
    let first = run();
    // 10.0.2.6 is released right away (i = 0) and handed out again; 10.0.2.5 is taken.
    assert_eq!(first[..3], ["10.0.2.6", "10.0.2.6", "10.0.2.4"].map(ip));
    assert_eq!(run(), first);
}
