//! Property tests: IPAM invariants over random Services and assign/release sequences.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use lb_core::{
    AddressFamily, IpFamilyPolicy, Ipam, Pool, PoolOptions, PoolSpec, Protocol, Service,
    ServiceKey, TrafficPolicy, sharing_conflict,
};
use proptest::prelude::*;

fn pools() -> Vec<PoolSpec> {
    let mk = |name: &str, ranges: &[&str]| {
        let ranges = ranges.iter().map(|r| r.parse().unwrap()).collect();
        PoolSpec::new(Pool::new(name, ranges, PoolOptions::default()).unwrap())
    };
    let global = mk("global", &["10.0.0.0/30", "fd00::/126"]);
    let mut prod = mk("prod", &["10.0.1.0/31", "fd00::1:0/127"]);
    prod.namespaces = Some(BTreeSet::from(["prod".to_owned()]));
    prod.priority = -1;
    // Overlaps `global`.
    let mut web = mk("web", &["10.0.0.2/31", "10.0.3.0/31"]);
    web.service_selectors = vec![lb_core::LabelSelector::from_labels([("tier", "web")])];
    web.priority = 1;
    let mut manual = mk("manual", &["10.0.2.0/31"]);
    manual.auto_assign = false;
    vec![global, prod, web, manual]
}

const CANDIDATES: &[&str] = &[
    "10.0.0.0",
    "10.0.0.2",
    "10.0.0.3",
    "10.0.1.1",
    "10.0.2.0",
    "10.0.3.1",
    "192.0.2.1",
    "fd00::1",
    "fd00::1:1",
];
const PORTS: &[(Protocol, u16)] = &[
    (Protocol::Tcp, 80),
    (Protocol::Tcp, 443),
    (Protocol::Udp, 53),
];

fn service_strategy(i: usize) -> impl Strategy<Value = Service> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["k1", "k2"])),
        prop::collection::vec(prop::sample::select(PORTS.to_vec()), 0..3),
        any::<bool>(),
        0..3u8,
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::subsequence(CANDIDATES.to_vec(), 1..=2)),
        prop::option::of(prop::sample::select(vec!["manual", "web", "nope"])),
    )
        .prop_map(
            move |(prod, web, share, ports, local, policy, v6, request, pool)| {
                let mut s = Service::new(if prod { "prod" } else { "dev" }, format!("s{i}"));
                if web {
                    s.labels.insert("tier".into(), "web".into());
                }
                if let Some(k) = share {
                    s.annotations
                        .insert("metallb.io/allow-shared-ip".into(), k.into());
                }
                s.ports = ports;
                if local {
                    s.external_traffic_policy = TrafficPolicy::Local;
                }
                s.ip_family_policy = match policy {
                    0 => IpFamilyPolicy::SingleStack,
                    1 => IpFamilyPolicy::PreferDualStack,
                    _ => IpFamilyPolicy::RequireDualStack,
                };
                if let Some(v6) = v6 {
                    s.ip_families = if v6 {
                        vec![AddressFamily::V6, AddressFamily::V4]
                    } else {
                        vec![AddressFamily::V4, AddressFamily::V6]
                    };
                }
                if let Some(req) = request {
                    s.annotations
                        .insert("metallb.io/loadBalancerIPs".into(), req.join(","));
                }
                if let Some(p) = pool {
                    s.annotations
                        .insert("metallb.io/address-pool".into(), p.into());
                }
                s
            },
        )
}

fn scenario() -> impl Strategy<Value = (Vec<Service>, Vec<(bool, usize)>)> {
    let services = (0..8).map(service_strategy).collect::<Vec<_>>();
    (
        services,
        prop::collection::vec((prop::bool::weighted(0.75), 0..8usize), 0..40),
    )
}

/// Runs the ops; returns the IPAM and every call's outcome as text.
fn run(services: &[Service], ops: &[(bool, usize)]) -> (Ipam, Vec<String>) {
    let mut ipam = Ipam::new(pools()).unwrap();
    let mut out = Vec::new();
    for &(assign, i) in ops {
        let s = &services[i];
        if assign {
            out.push(format!("{:?}", ipam.assign(s)));
        } else {
            out.push(format!("{:?}", ipam.release(&s.key)));
        }
    }
    (ipam, out)
}

fn snapshot(ipam: &Ipam) -> Vec<(ServiceKey, Vec<IpAddr>)> {
    ipam.assignments().map(|(k, a)| (k, a.to_vec())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn invariants_hold((services, ops) in scenario()) {
        let (ipam, out) = run(&services, &ops);
        let by_key: BTreeMap<_, _> = services.iter().map(|s| (s.key.clone(), s)).collect();
        let mut held: BTreeSet<IpAddr> = BTreeSet::new();
        for (key, addrs) in ipam.assignments() {
            let svc = by_key[&key];
            let v4 = addrs.iter().filter(|a| a.is_ipv4()).count();
            prop_assert!(v4 <= 1 && addrs.len() - v4 <= 1, "{key}: {addrs:?}");
            for &addr in addrs {
                held.insert(addr);
                // Inside a pool that may serve the Service.
                prop_assert!(ipam.serving_pool(svc, addr).is_ok(), "{key} {addr}");
                // Shared only where sharing allows.
                for other in ipam.holders(addr) {
                    if other != key {
                        prop_assert!(sharing_conflict(svc, by_key[&other]).is_ok(), "{key} {other} {addr}");
                    }
                }
                prop_assert!(ipam.holders(addr).any(|k| k == key));
            }
        }
        // Every allocator marks exactly the held addresses it allows.
        for spec in ipam.pools() {
            let alloc = ipam.allocator(spec.name()).unwrap();
            let marked: BTreeSet<IpAddr> = alloc.allocated().collect();
            let want: BTreeSet<IpAddr> = held.iter().copied().filter(|a| spec.pool.is_allowed(*a)).collect();
            prop_assert_eq!(marked, want);
        }
        // Restoring the snapshot gives the same state, with nothing reported.
        let snap = snapshot(&ipam);
        let input: Vec<(Service, Vec<IpAddr>)> = snap
            .iter()
            .map(|(k, a)| (by_key[k].clone(), a.clone()))
            .collect();
        let (restored, report) = Ipam::restore(pools(), &input).unwrap();
        prop_assert!(report.issues.is_empty(), "{:?}", report.issues);
        prop_assert_eq!(snapshot(&restored), snap.clone());
        for spec in ipam.pools() {
            let a: Vec<IpAddr> = ipam.allocator(spec.name()).unwrap().allocated().collect();
            let b: Vec<IpAddr> = restored.allocator(spec.name()).unwrap().allocated().collect();
            prop_assert_eq!(a, b);
        }
        // Same inputs, same outputs.
        let (again, out2) = run(&services, &ops);
        prop_assert_eq!(out, out2);
        prop_assert_eq!(snapshot(&again), snap);
    }

    #[test]
    fn assign_twice_is_stable((services, ops) in scenario()) {
        let (mut ipam, _) = run(&services, &ops);
        let before = snapshot(&ipam);
        for s in &services {
            if let Some(addrs) = ipam.addresses(&s.key).map(<[IpAddr]>::to_vec) {
                let again = ipam.assign(s).unwrap();
                prop_assert_eq!(again.addresses, addrs);
                prop_assert!(!again.changed);
            }
        }
        prop_assert_eq!(snapshot(&ipam), before);
    }
}
