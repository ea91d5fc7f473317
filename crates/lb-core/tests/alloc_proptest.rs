//! Property tests: the allocator against a brute-force model on small pools.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lb_core::{AddressFamily, AddressRange, AllocError, Allocator, Pool, PoolOptions};
use proptest::prelude::*;

/// Addresses are drawn from a 1100-address window per family starting here.
const V4_BASE: u32 = 0x0a00_0000; // 10.0.0.0
const V6_BASE: u128 = 0xfd00 << 112; // fd00::
const WINDOW: u32 = 1100;

fn addr(v6: bool, offset: u32) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(V6_BASE + u128::from(offset)))
    } else {
        IpAddr::V4(Ipv4Addr::from(V4_BASE + offset))
    }
}

fn family(v6: bool) -> AddressFamily {
    if v6 {
        AddressFamily::V6
    } else {
        AddressFamily::V4
    }
}

/// A candidate range inside the first 1024 addresses of the window.
fn range_strategy() -> impl Strategy<Value = AddressRange> {
    let cidr = (any::<bool>(), 22u8..=32, 0u32..1024).prop_map(|(v6, len, off)| {
        let host_bits = 32 - u32::from(len);
        let network = off >> host_bits << host_bits;
        let prefix = if v6 { len + 96 } else { len };
        AddressRange::from_cidr(addr(v6, network), prefix).unwrap()
    });
    let span = (any::<bool>(), 0u32..1024, 0u32..300).prop_map(|(v6, start, len)| {
        let end = (start + len).min(1023);
        AddressRange::new(addr(v6, start), addr(v6, end)).unwrap()
    });
    prop_oneof![cidr, span]
}

/// A pool of up to four non-overlapping ranges, any options, either allocation order.
fn pool_strategy() -> impl Strategy<Value = Pool> {
    pool_strategy_ordered(any::<bool>())
}

/// A pool as [`pool_strategy`] whose `highest_first` comes from `order`.
fn pool_strategy_ordered(order: impl Strategy<Value = bool>) -> impl Strategy<Value = Pool> {
    (
        prop::collection::vec(range_strategy(), 1..5),
        any::<bool>(),
        any::<bool>(),
        order,
    )
        .prop_map(
            |(candidates, avoid_buggy_ips, skip_network_and_broadcast, highest_first)| {
                let mut ranges: Vec<AddressRange> = Vec::new();
                for r in candidates {
                    if !ranges.iter().any(|k| k.overlaps(&r)) {
                        ranges.push(r);
                    }
                }
                let options = PoolOptions {
                    avoid_buggy_ips,
                    skip_network_and_broadcast,
                    highest_first,
                };
                Pool::new("prop", ranges, options).unwrap()
            },
        )
}

/// The allowed addresses, computed by looking at every address of every range.
fn brute_force_allowed(pool: &Pool) -> BTreeSet<IpAddr> {
    let opts = pool.options();
    let mut out = BTreeSet::new();
    for r in pool.ranges() {
        let v4 = r.family() == AddressFamily::V4;
        let skip_ends =
            v4 && opts.skip_network_and_broadcast && r.prefix_len().is_some_and(|p| p < 31);
        for off in 0..WINDOW {
            for a in [addr(false, off), addr(true, off)] {
                if !r.contains(a) {
                    continue;
                }
                let buggy = match a {
                    IpAddr::V4(v) => opts.avoid_buggy_ips && matches!(v.octets()[3], 0 | 255),
                    IpAddr::V6(_) => false,
                };
                let end = skip_ends && (a == r.start() || a == r.end());
                if !buggy && !end {
                    out.insert(a);
                }
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    Next(bool),
    Allocate(bool, u32),
    Release(bool, u32),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<bool>().prop_map(Op::Next),
        3 => (any::<bool>(), 0..WINDOW).prop_map(|(v6, o)| Op::Allocate(v6, o)),
        2 => (any::<bool>(), 0..WINDOW).prop_map(|(v6, o)| Op::Release(v6, o)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn allocator_matches_brute_force_model(
        pool in pool_strategy(),
        ops in prop::collection::vec(op_strategy(), 0..200),
    ) {
        let allowed = brute_force_allowed(&pool);
        for f in [false, true] {
            let n = allowed.iter().filter(|a| a.is_ipv6() == f).count() as u128;
            prop_assert_eq!(pool.allowed_count(family(f)), n);
        }
        let mut alloc = Allocator::new(pool.clone());
        let mut taken: BTreeSet<IpAddr> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Next(v6) => {
                    let free = |a: &&IpAddr| a.is_ipv6() == v6 && !taken.contains(*a);
                    let want = if pool.options().highest_first {
                        allowed.iter().rev().find(free)
                    } else {
                        allowed.iter().find(free)
                    }
                    .copied();
                    match alloc.allocate_next(family(v6)) {
                        Ok(got) => {
                            prop_assert_eq!(Some(got), want, "first free allowed address in order");
                            prop_assert!(taken.insert(got), "{} handed out twice", got);
                        }
                        Err(AllocError::Exhausted { .. }) => prop_assert_eq!(want, None),
                        Err(e) => prop_assert!(false, "unexpected {}", e),
                    }
                }
                Op::Allocate(v6, off) => {
                    let a = addr(v6, off);
                    let got = alloc.allocate(a);
                    match &got {
                        Ok(()) => {
                            prop_assert!(allowed.contains(&a));
                            prop_assert!(taken.insert(a), "{} allocated twice", a);
                        }
                        Err(AllocError::AlreadyAllocated { .. }) => prop_assert!(taken.contains(&a)),
                        Err(AllocError::Excluded { reason, .. }) => {
                            prop_assert!(pool.contains(a) && !allowed.contains(&a));
                            prop_assert_eq!(pool.exclusion(a), Some(*reason));
                        }
                        Err(AllocError::NotInPool { .. }) => prop_assert!(!pool.contains(a)),
                        Err(e) => prop_assert!(false, "unexpected {}", e),
                    }
                }
                Op::Release(v6, off) => {
                    let a = addr(v6, off);
                    prop_assert_eq!(alloc.release(a), taken.remove(&a));
                }
            }
            for f in [false, true] {
                let fam = family(f);
                let n = taken.iter().filter(|a| a.is_ipv6() == f).count() as u128;
                prop_assert_eq!(alloc.allocated_count(fam), n);
                prop_assert_eq!(alloc.free_count(fam) + n, pool.allowed_count(fam));
            }
        }
        let listed: Vec<IpAddr> = alloc.allocated().collect();
        let want: Vec<IpAddr> = taken.iter().copied().collect();
        prop_assert_eq!(&listed, &want);
        for a in &listed {
            prop_assert!(allowed.contains(a) && alloc.is_allocated(*a));
        }
    }

    #[test]
    fn draining_yields_every_allowed_address_once_in_order(pool in pool_strategy()) {
        let allowed = brute_force_allowed(&pool);
        let highest_first = pool.options().highest_first;
        let mut alloc = Allocator::new(pool);
        let mut got = Vec::new();
        for v6 in [false, true] {
            // One past the free count: a repeated address fails below instead of looping.
            for _ in 0..=alloc.free_count(family(v6)) {
                match alloc.allocate_next(family(v6)) {
                    Ok(a) => got.push(a),
                    Err(_) => break,
                }
            }
            prop_assert_eq!(alloc.free_count(family(v6)), 0);
        }
        let mut want: Vec<IpAddr> = Vec::new();
        for v6 in [false, true] {
            let fam = allowed.iter().filter(|a| a.is_ipv6() == v6).copied();
            if highest_first {
                want.extend(fam.rev());
            } else {
                want.extend(fam);
            }
        }
        prop_assert_eq!(got, want);
    }

    /// Highest-first allocation against a naive model that walks the address window
    /// down from its top and takes the first allowed, free address.
    #[test]
    fn highest_first_matches_top_down_scan(
        pool in pool_strategy_ordered(Just(true)),
        ops in prop::collection::vec(op_strategy(), 0..200),
    ) {
        let allowed = brute_force_allowed(&pool);
        let mut alloc = Allocator::new(pool.clone());
        let mut taken: BTreeSet<IpAddr> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Next(v6) => {
                    let want = (0..WINDOW)
                        .rev()
                        .map(|off| addr(v6, off))
                        .find(|a| allowed.contains(a) && !taken.contains(a));
                    let got = alloc.allocate_next(family(v6)).ok();
                    prop_assert_eq!(got, want, "highest free allowed address");
                    if let Some(a) = got {
                        prop_assert!(pool.is_allowed(a) && pool.exclusion(a).is_none());
                        taken.insert(a);
                    }
                }
                Op::Allocate(v6, off) => {
                    let a = addr(v6, off);
                    let ok = alloc.allocate(a).is_ok();
                    prop_assert_eq!(ok, allowed.contains(&a) && !taken.contains(&a));
                    if ok {
                        taken.insert(a);
                    }
                }
                Op::Release(v6, off) => {
                    let a = addr(v6, off);
                    prop_assert_eq!(alloc.release(a), taken.remove(&a));
                }
            }
        }
        prop_assert_eq!(
            alloc.allocated().collect::<Vec<_>>(),
            taken.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn display_round_trips(r in range_strategy()) {
        prop_assert_eq!(r.to_string().parse::<AddressRange>(), Ok(r));
    }
}
