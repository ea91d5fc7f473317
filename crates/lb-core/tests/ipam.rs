//! Table tests for Service parsing, pool selection, assignment, restore, dual-stack
//! and sharing.

use std::collections::BTreeSet;
use std::net::IpAddr;

use lb_core::{
    AddressFamily, AssignError, ConfigError, IpFamilyPolicy, Ipam, LabelSelector, Pool,
    PoolOptions, PoolSpec, Protocol, RestoreIssue, Service, ServiceKey, TrafficPolicy,
    select_pools, sharing_conflict,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ips(s: &[&str]) -> Vec<IpAddr> {
    s.iter().map(|a| ip(a)).collect()
}

fn spec(name: &str, ranges: &[&str]) -> PoolSpec {
    let ranges = ranges.iter().map(|r| r.parse().unwrap()).collect();
    PoolSpec::new(Pool::new(name, ranges, PoolOptions::default()).unwrap())
}

fn svc(ns: &str, name: &str) -> Service {
    Service::new(ns, name)
}

fn with_ann(mut s: Service, k: &str, v: &str) -> Service {
    s.annotations.insert(k.into(), v.into());
    s
}

fn shared(ns: &str, name: &str, key: &str, port: u16) -> Service {
    let mut s = with_ann(svc(ns, name), "metallb.io/allow-shared-ip", key);
    s.ports = vec![(Protocol::Tcp, port)];
    s
}

fn key(ns: &str, name: &str) -> ServiceKey {
    ServiceKey::new(ns, name)
}

// ---- 1. model and selection ----

#[test]
fn requested_addresses_merge_annotations_and_spec() {
    let mut s = with_ann(
        svc("a", "x"),
        "kube-vip.io/loadbalancerIPs",
        "10.0.0.1, fd00::1",
    );
    s = with_ann(s, "metallb.io/loadBalancerIPs", "10.0.0.1,,");
    s.load_balancer_ip = Some(ip("10.0.0.1"));
    assert_eq!(
        s.requested_addresses().unwrap(),
        ips(&["10.0.0.1", "fd00::1"])
    );
    let bad = with_ann(svc("a", "x"), "metallb.io/loadBalancerIPs", "10.0.0.300");
    assert!(
        bad.requested_addresses()
            .unwrap_err()
            .contains("10.0.0.300")
    );
}

#[test]
fn selection_orders_by_priority_then_name() {
    let mut a = spec("a", &["10.0.0.0/24"]);
    a.priority = 5;
    let b = spec("b", &["10.0.1.0/24"]);
    let c = spec("c", &["10.0.2.0/24"]);
    let mut z = spec("z", &["10.0.3.0/24"]);
    z.priority = -1;
    let specs = vec![a, c, z, b];
    let names: Vec<_> = select_pools(&specs, &svc("ns", "s"))
        .unwrap()
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    assert_eq!(names, ["z", "b", "c", "a"]);
}

#[test]
fn selection_namespaces_and_selector() {
    let mut ns_only = spec("ns-only", &["10.0.0.0/24"]);
    ns_only.namespaces = Some(BTreeSet::from(["prod".to_owned()]));
    let mut labelled = spec("labelled", &["10.0.1.0/24"]);
    labelled.service_selectors = vec![LabelSelector::from_labels([("tier", "web")])];
    let specs = vec![ns_only, labelled];
    // (namespace, labels, expected pools)
    type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let table: &[Row<'_>] = &[
        ("prod", &[], &["ns-only"]),
        ("dev", &[("tier", "web")], &["labelled"]),
        ("prod", &[("tier", "web")], &["labelled", "ns-only"]),
        ("dev", &[("tier", "db")], &[]),
    ];
    for &(ns, labels, want) in table {
        let mut s = svc(ns, "s");
        s.labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        match select_pools(&specs, &s) {
            Ok(got) => {
                let got: Vec<_> = got.iter().map(|p| p.name()).collect();
                assert_eq!(got, want, "{ns} {labels:?}");
            }
            Err(reason) => {
                assert!(want.is_empty(), "{ns} {labels:?}: {reason}");
                assert!(reason.contains("namespace") && reason.contains("tier=web"));
            }
        }
    }
}

#[test]
fn selection_namespace_labels_expressions_and_any_of() {
    use lb_core::{LabelRequirement, SelectorOperator};
    let mut teams = spec("teams", &["10.0.0.0/24"]);
    teams.namespace_selectors = vec![LabelSelector {
        match_expressions: vec![LabelRequirement {
            key: "team".into(),
            operator: SelectorOperator::In,
            values: vec!["a".into(), "b".into()],
        }],
        ..LabelSelector::default()
    }];
    let mut either = spec("either", &["10.0.1.0/24"]);
    either.service_selectors = vec![
        LabelSelector::from_labels([("tier", "web")]),
        LabelSelector {
            match_expressions: vec![LabelRequirement {
                key: "legacy".into(),
                operator: SelectorOperator::DoesNotExist,
                values: vec![],
            }],
            ..LabelSelector::default()
        },
    ];
    let specs = vec![teams, either];
    // (namespace labels, service labels, expected pools)
    type Row<'a> = (
        &'a [(&'a str, &'a str)],
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
    );
    let table: &[Row<'_>] = &[
        (&[("team", "a")], &[], &["either", "teams"]),
        (&[("team", "c")], &[], &["either"]),
        (&[], &[("legacy", "1")], &[]),
        (&[], &[("legacy", "1"), ("tier", "web")], &["either"]),
        (&[("team", "b")], &[("legacy", "1")], &["teams"]),
    ];
    let map = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    for &(ns_labels, labels, want) in table {
        let mut s = svc("x", "s");
        s.namespace_labels = map(ns_labels);
        s.labels = map(labels);
        match select_pools(&specs, &s) {
            Ok(got) => {
                let got: Vec<_> = got.iter().map(|p| p.name()).collect();
                assert_eq!(got, want, "{ns_labels:?} {labels:?}");
            }
            Err(reason) => {
                assert!(want.is_empty(), "{ns_labels:?} {labels:?}: {reason}");
                assert!(
                    reason.contains("namespaces labelled team in (a,b)"),
                    "{reason}"
                );
                assert!(reason.contains("tier=web | !legacy"), "{reason}");
            }
        }
    }
}

#[test]
fn own_annotations_come_first() {
    let specs = vec![spec("a", &["10.0.0.0/24"]), spec("b", &["10.0.1.0/24"])];
    let mut s = svc("ns", "s");
    s.annotations
        .insert("metallb.io/address-pool".into(), "a".into());
    s.annotations
        .insert("lb.metalkit.dev/address-pool".into(), "b".into());
    assert_eq!(s.requested_pool(), Some("b"));
    let got: Vec<_> = select_pools(&specs, &s)
        .unwrap()
        .iter()
        .map(|p| p.name())
        .collect();
    assert_eq!(got, ["b"]);
    s.annotations
        .insert("lb.metalkit.dev/address-pool".into(), "zz".into());
    let err = select_pools(&specs, &s).unwrap_err();
    assert!(err.contains("lb.metalkit.dev/address-pool"), "{err}");

    let mut s = svc("ns", "s");
    s.annotations
        .insert("metallb.io/loadBalancerIPs".into(), "10.0.0.9".into());
    s.annotations.insert(
        "lb.metalkit.dev/loadBalancerIPs".into(),
        "10.0.0.7, 10.0.0.9".into(),
    );
    assert_eq!(
        s.requested_addresses().unwrap(),
        [ip("10.0.0.7"), ip("10.0.0.9")]
    );
    s.annotations
        .insert("lb.metalkit.dev/allow-shared-ip".into(), "k1".into());
    s.annotations
        .insert("metallb.io/allow-shared-ip".into(), "k2".into());
    assert_eq!(s.sharing_key(), Some("k1"));
}

#[test]
fn selection_requested_pool() {
    let specs = vec![spec("a", &["10.0.0.0/24"]), spec("b", &["10.0.1.0/24"])];
    let s = with_ann(svc("ns", "s"), "metallb.io/address-pool", "b");
    let got = select_pools(&specs, &s).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name(), "b");
    let missing = with_ann(svc("ns", "s"), "metallb.io/address-pool", "nope");
    assert!(
        select_pools(&specs, &missing)
            .unwrap_err()
            .contains("does not exist")
    );
}

#[test]
fn duplicate_pool_names_refused() {
    let err = Ipam::new(vec![
        spec("a", &["10.0.0.0/24"]),
        spec("a", &["10.0.1.0/24"]),
    ]);
    assert_eq!(
        err.unwrap_err(),
        ConfigError::DuplicatePoolName { name: "a".into() }
    );
}

// ---- 2. assign and release ----

#[test]
fn assign_auto_lowest_free_from_first_pool() {
    let mut low = spec("low", &["10.0.9.0/30"]);
    low.priority = 1;
    let mut ipam = Ipam::new(vec![low, spec("high", &["10.0.0.0/31"])]).unwrap();
    let got: Vec<_> = (0..4)
        .map(|i| ipam.assign(&svc("ns", &format!("s{i}"))).unwrap().addresses[0])
        .collect();
    assert_eq!(got, ips(&["10.0.0.0", "10.0.0.1", "10.0.9.0", "10.0.9.1"]));
}

#[test]
fn assign_is_idempotent() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    let s = svc("ns", "s");
    let first = ipam.assign(&s).unwrap();
    assert!(first.changed);
    let again = ipam.assign(&s).unwrap();
    assert!(!again.changed);
    assert_eq!(first.addresses, again.addresses);
    assert_eq!(
        ipam.allocator("p")
            .unwrap()
            .allocated_count(AddressFamily::V4),
        1
    );
}

#[test]
fn assign_requested_address() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    for (name, ann) in [
        ("a", "kube-vip.io/loadbalancerIPs"),
        ("b", "metallb.io/loadBalancerIPs"),
    ] {
        let want = if name == "a" { "10.0.0.7" } else { "10.0.0.8" };
        let s = with_ann(svc("ns", name), ann, want);
        assert_eq!(ipam.assign(&s).unwrap().addresses, ips(&[want]));
    }
    let mut c = svc("ns", "c");
    c.load_balancer_ip = Some(ip("10.0.0.9"));
    assert_eq!(ipam.assign(&c).unwrap().addresses, ips(&["10.0.0.9"]));
    // Auto allocation skips requested addresses held by others.
    assert_eq!(
        ipam.assign(&svc("ns", "d")).unwrap().addresses,
        ips(&["10.0.0.0"])
    );
}

#[test]
fn assign_changed_request_moves_and_keeps_state_on_error() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    let s = with_ann(svc("ns", "s"), "metallb.io/loadBalancerIPs", "10.0.0.5");
    ipam.assign(&s).unwrap();
    let moved = with_ann(svc("ns", "s"), "metallb.io/loadBalancerIPs", "10.0.0.6");
    assert_eq!(ipam.assign(&moved).unwrap().addresses, ips(&["10.0.0.6"]));
    assert_eq!(ipam.holders(ip("10.0.0.5")).count(), 0);
    let outside = with_ann(svc("ns", "s"), "metallb.io/loadBalancerIPs", "192.0.2.1");
    assert!(ipam.assign(&outside).is_err());
    assert_eq!(ipam.addresses(&key("ns", "s")).unwrap(), ips(&["10.0.0.6"]));
}

#[test]
fn error_outside_pools() {
    let mut restricted = spec("r", &["10.0.1.0/24"]);
    restricted.namespaces = Some(BTreeSet::from(["prod".to_owned()]));
    let mut buggy = spec("b", &["10.0.2.0/24"]);
    buggy.pool = Pool::new(
        "b",
        vec!["10.0.2.0/24".parse().unwrap()],
        PoolOptions {
            avoid_buggy_ips: true,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"]), restricted, buggy]).unwrap();
    // (address, words the reason must contain)
    let table = [
        ("192.0.2.1", "no pool's ranges"),
        ("10.0.1.5", "does not serve namespace \"dev\""),
        ("10.0.2.255", "excluded from pool \"b\""),
    ];
    for (addr, words) in table {
        let s = with_ann(svc("dev", "s"), "metallb.io/loadBalancerIPs", addr);
        match ipam.assign(&s) {
            Err(AssignError::OutsidePools { addr: a, reason }) => {
                assert_eq!(a, ip(addr));
                assert!(reason.contains(words), "{addr}: {reason}");
            }
            other => panic!("{addr}: {other:?}"),
        }
    }
    assert_eq!(ipam.assignments().count(), 0);
}

#[test]
fn error_in_use() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    let a = with_ann(svc("ns", "a"), "metallb.io/loadBalancerIPs", "10.0.0.3");
    ipam.assign(&a).unwrap();
    let b = with_ann(svc("other", "b"), "kube-vip.io/loadbalancerIPs", "10.0.0.3");
    match ipam.assign(&b) {
        Err(AssignError::InUse { addr, by, reason }) => {
            assert_eq!(addr, ip("10.0.0.3"));
            assert_eq!(by, key("ns", "a"));
            assert!(reason.contains("allow-shared-ip"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_exhausted() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/31"])]).unwrap();
    ipam.assign(&svc("ns", "a")).unwrap();
    ipam.assign(&svc("ns", "b")).unwrap();
    match ipam.assign(&svc("ns", "c")) {
        Err(AssignError::Exhausted { family, reason }) => {
            assert_eq!(family, AddressFamily::V4);
            assert!(reason.contains("\"p\""));
        }
        other => panic!("{other:?}"),
    }
    // Releasing frees the address for the next Service.
    assert_eq!(ipam.release(&key("ns", "a")), ips(&["10.0.0.0"]));
    assert_eq!(
        ipam.assign(&svc("ns", "c")).unwrap().addresses,
        ips(&["10.0.0.0"])
    );
    assert!(ipam.release(&key("ns", "nobody")).is_empty());
}

#[test]
fn error_no_pool() {
    let mut manual = spec("manual", &["10.0.0.0/24"]);
    manual.auto_assign = false;
    let mut ipam = Ipam::new(vec![manual]).unwrap();
    let err = ipam.assign(&svc("ns", "a")).unwrap_err();
    assert!(matches!(&err, AssignError::NoPool { reason } if reason.contains("autoAssign")));
    // Naming the pool or requesting an address lifts autoAssign=false.
    let named = with_ann(svc("ns", "b"), "metallb.io/address-pool", "manual");
    assert_eq!(ipam.assign(&named).unwrap().addresses, ips(&["10.0.0.0"]));
    let req = with_ann(svc("ns", "c"), "metallb.io/loadBalancerIPs", "10.0.0.9");
    assert!(ipam.assign(&req).is_ok());
    let mut empty = Ipam::new(vec![]).unwrap();
    let err = empty.assign(&svc("ns", "a")).unwrap_err();
    assert!(matches!(&err, AssignError::NoPool { reason } if reason.contains("no address pool")));
}

#[test]
fn error_invalid_request() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24", "fd00::/120"])]).unwrap();
    let table = [
        ("10.0.0.1,banana", "banana"),
        ("10.0.0.1,10.0.0.2", "one address per family"),
        ("10.0.0.1,fd00::1", "SingleStack"),
    ];
    for (value, words) in table {
        let s = with_ann(svc("ns", "s"), "metallb.io/loadBalancerIPs", value);
        match ipam.assign(&s) {
            Err(AssignError::InvalidRequest { reason }) => {
                assert!(reason.contains(words), "{value}: {reason}")
            }
            other => panic!("{value}: {other:?}"),
        }
    }
}

// ---- 3. restore ----

#[test]
fn restore_reports_duplicates_and_outside() {
    let pools = vec![spec("p", &["10.0.0.0/24"])];
    let services = vec![
        (svc("ns", "old"), ips(&["10.0.0.5"])),
        (svc("ns", "new"), ips(&["10.0.0.5", "10.0.0.6"])),
        (svc("ns", "lost"), ips(&["192.0.2.1"])),
        (svc("ns", "old"), ips(&["10.0.0.7"])),
    ];
    let (mut ipam, report) = Ipam::restore(pools, &services).unwrap();
    assert_eq!(report.restored, 3);
    assert_eq!(report.issues.len(), 3);
    assert!(matches!(
        &report.issues[0],
        RestoreIssue::Duplicate { addr, kept, dropped, .. }
            if *addr == ip("10.0.0.5") && *kept == key("ns", "old") && *dropped == key("ns", "new")
    ));
    assert!(matches!(
        &report.issues[1],
        RestoreIssue::OutsidePools { service, addr, .. }
            if *service == key("ns", "lost") && *addr == ip("192.0.2.1")
    ));
    assert_eq!(
        report.issues[2],
        RestoreIssue::RepeatedService {
            service: key("ns", "old")
        }
    );
    assert_eq!(
        ipam.addresses(&key("ns", "old")).unwrap(),
        ips(&["10.0.0.5"])
    );
    assert_eq!(
        ipam.addresses(&key("ns", "new")).unwrap(),
        ips(&["10.0.0.6"])
    );
    // Kept, flagged, not moved; nobody else can have it, nor share it without the rules.
    assert_eq!(
        ipam.addresses(&key("ns", "lost")).unwrap(),
        ips(&["192.0.2.1"])
    );
    assert_eq!(
        ipam.outside_pools(&svc("ns", "lost"))
            .into_iter()
            .map(|(a, _)| a)
            .collect::<Vec<_>>(),
        ips(&["192.0.2.1"])
    );
    assert!(ipam.outside_pools(&svc("ns", "old")).is_empty());
    let thief = with_ann(
        svc("ns", "thief"),
        "metallb.io/loadBalancerIPs",
        "192.0.2.1",
    );
    assert!(matches!(
        ipam.assign(&thief),
        Err(AssignError::OutsidePools { .. })
    ));
    // Releasing it frees nothing in any pool.
    let before = ipam
        .allocator("p")
        .unwrap()
        .allocated_count(lb_core::AddressFamily::V4);
    assert_eq!(ipam.release(&key("ns", "lost")), ips(&["192.0.2.1"]));
    assert_eq!(
        ipam.allocator("p")
            .unwrap()
            .allocated_count(lb_core::AddressFamily::V4),
        before
    );
    // New allocations come after restore and avoid restored addresses.
    assert_eq!(
        ipam.assign(&svc("ns", "x")).unwrap().addresses,
        ips(&["10.0.0.0"])
    );
}

#[test]
fn restore_marks_overlapping_pools() {
    let mut a = spec("a", &["10.0.0.0/30"]);
    a.priority = 1;
    let b = spec("b", &["10.0.0.0/31"]);
    let (mut ipam, report) =
        Ipam::restore(vec![a, b], &[(svc("ns", "s"), ips(&["10.0.0.0"]))]).unwrap();
    assert!(report.issues.is_empty());
    assert_eq!(
        ipam.assign(&svc("ns", "t")).unwrap().addresses,
        ips(&["10.0.0.1"])
    );
    assert_eq!(
        ipam.assign(&svc("ns", "u")).unwrap().addresses,
        ips(&["10.0.0.2"])
    );
}

// ---- 4. dual-stack ----

fn dual(name: &str, policy: IpFamilyPolicy, families: &[AddressFamily]) -> Service {
    let mut s = svc("ns", name);
    s.ip_family_policy = policy;
    s.ip_families = families.to_vec();
    s
}

#[test]
fn dual_stack_policies() {
    use AddressFamily::{V4, V6};
    use IpFamilyPolicy::{PreferDualStack, RequireDualStack, SingleStack};
    let mut v4only = spec("a-v4", &["10.0.0.0/24"]);
    v4only.priority = -1;
    let both = spec("b-both", &["10.1.0.0/24", "fd00::/120"]);
    let pools = vec![v4only, both];
    // (policy, families, expected addresses)
    let table: &[(IpFamilyPolicy, &[AddressFamily], &[&str])] = &[
        (SingleStack, &[], &["10.0.0.0"]),
        (SingleStack, &[V6], &["fd00::"]),
        (PreferDualStack, &[], &["10.1.0.0", "fd00::"]),
        (PreferDualStack, &[V6, V4], &["fd00::", "10.1.0.0"]),
        (RequireDualStack, &[V4, V6], &["10.1.0.0", "fd00::"]),
    ];
    for (policy, families, want) in table {
        let mut ipam = Ipam::new(pools.clone()).unwrap();
        let got = ipam.assign(&dual("s", *policy, families)).unwrap();
        assert_eq!(got.addresses, ips(want), "{policy:?} {families:?}");
    }
}

#[test]
fn prefer_dual_stack_falls_back_to_one() {
    let mut ipam = Ipam::new(vec![spec("v4", &["10.0.0.0/24"])]).unwrap();
    let got = ipam
        .assign(&dual("s", IpFamilyPolicy::PreferDualStack, &[]))
        .unwrap();
    assert_eq!(got.addresses, ips(&["10.0.0.0"]));
}

#[test]
fn error_dual_stack_unavailable() {
    let mut ipam = Ipam::new(vec![
        spec("v4", &["10.0.0.0/24"]),
        spec("v6", &["fd00::/120"]),
    ])
    .unwrap();
    let err = ipam
        .assign(&dual("s", IpFamilyPolicy::RequireDualStack, &[]))
        .unwrap_err();
    assert!(
        matches!(&err, AssignError::DualStackUnavailable { reason } if reason.contains("single pool"))
    );
    let mut req = dual("r", IpFamilyPolicy::RequireDualStack, &[]);
    req = with_ann(req, "metallb.io/loadBalancerIPs", "10.0.0.1");
    assert!(matches!(
        ipam.assign(&req),
        Err(AssignError::DualStackUnavailable { .. })
    ));
    let mut ok = dual("ok", IpFamilyPolicy::RequireDualStack, &[]);
    ok = with_ann(ok, "metallb.io/loadBalancerIPs", "10.0.0.1,fd00::1");
    assert_eq!(
        ipam.assign(&ok).unwrap().addresses,
        ips(&["10.0.0.1", "fd00::1"])
    );
}

// ---- 5. sharing ----

#[test]
fn sharing_rules() {
    let local = |mut s: Service| {
        s.external_traffic_policy = TrafficPolicy::Local;
        s
    };
    // (a, b, may share, reason words)
    let table: Vec<(Service, Service, bool, &str)> = vec![
        (
            shared("n", "a", "k", 80),
            shared("n", "b", "k", 443),
            true,
            "",
        ),
        (
            shared("n", "a", "k", 80),
            shared("n", "b", "k", 80),
            false,
            "TCP/80",
        ),
        (
            shared("n", "a", "k", 80),
            shared("n", "b", "j", 443),
            false,
            "keys differ",
        ),
        (
            shared("n", "a", "k", 80),
            svc("n", "b"),
            false,
            "allow-shared-ip",
        ),
        (
            shared("n", "a", "k", 80),
            local(shared("n", "b", "k", 443)),
            false,
            "externalTrafficPolicy",
        ),
        (
            local(shared("n", "a", "k", 80)),
            local(shared("n", "b", "k", 443)),
            true,
            "",
        ),
    ];
    for (a, b, ok, words) in table {
        let res = sharing_conflict(&a, &b);
        assert_eq!(res.is_ok(), ok, "{res:?}");
        if let Err(reason) = res {
            assert!(reason.contains(words), "{reason}");
        }
        // The IPAM applies the same rule to a requested address.
        let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
        let a = with_ann(a, "metallb.io/loadBalancerIPs", "10.0.0.4");
        let b = with_ann(b, "metallb.io/loadBalancerIPs", "10.0.0.4");
        ipam.assign(&a).unwrap();
        assert_eq!(ipam.assign(&b).is_ok(), ok);
    }
}

#[test]
fn sharing_auto_reuses_and_release_keeps_shared() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    let a = ipam.assign(&shared("n", "a", "k", 80)).unwrap().addresses;
    let b = ipam.assign(&shared("n", "b", "k", 443)).unwrap().addresses;
    let c = ipam.assign(&shared("n", "c", "k", 80)).unwrap().addresses;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(ipam.holders(a[0]).count(), 2);
    ipam.release(&key("n", "a"));
    assert!(ipam.allocator("p").unwrap().is_allocated(a[0]));
    ipam.release(&key("n", "b"));
    assert!(!ipam.allocator("p").unwrap().is_allocated(a[0]));
}

#[test]
fn shared_holders_stay_ordered_through_churn() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    let c = ipam.assign(&shared("n", "c", "k", 80)).unwrap().addresses;
    let a = ipam.assign(&shared("n", "a", "k", 443)).unwrap().addresses;
    let b = ipam.assign(&shared("n", "b", "k", 8080)).unwrap().addresses;
    assert_eq!((&a, &b), (&c, &c));
    let addr = c[0];
    let holders = |ipam: &Ipam| ipam.holders(addr).collect::<Vec<_>>();
    assert_eq!(
        holders(&ipam),
        [key("n", "a"), key("n", "b"), key("n", "c")]
    );
    assert_eq!(ipam.release(&key("n", "b")), [addr]);
    ipam.release(&key("n", "a"));
    assert_eq!(holders(&ipam), [key("n", "c")]);
    assert!(ipam.allocator("p").unwrap().is_allocated(addr));
    // The address is still offered to the sharing key, and still refused to others.
    let d = ipam.assign(&shared("n", "d", "k", 443)).unwrap().addresses;
    assert_eq!(d, [addr]);
    assert_eq!(holders(&ipam), [key("n", "c"), key("n", "d")]);
    let other = with_ann(
        svc("n", "e"),
        "metallb.io/loadBalancerIPs",
        &addr.to_string(),
    );
    assert!(
        matches!(ipam.assign(&other), Err(AssignError::InUse { by, .. }) if by == key("n", "c"))
    );
    ipam.release(&key("n", "c"));
    ipam.release(&key("n", "d"));
    assert_eq!(holders(&ipam), []);
    assert!(!ipam.allocator("p").unwrap().is_allocated(addr));
    assert_eq!(ipam.assignments().count(), 0);
    // Freed, the address goes to the next Service, sharing key or not.
    assert_eq!(ipam.assign(&svc("n", "f")).unwrap().addresses, [addr]);
}

#[test]
fn restore_keeps_a_long_address_list() {
    let pools = || vec![spec("p", &["10.0.0.0/24", "fd00::/120"])];
    let long = ips(&["10.0.0.7", "fd00::7", "10.0.0.9", "fd00::9"]);
    let input = vec![
        (svc("n", "long"), long.clone()),
        (svc("n", "one"), ips(&["10.0.0.8"])),
        (svc("n", "late"), ips(&["10.0.0.9"])),
    ];
    let (mut ipam, report) = Ipam::restore(pools(), &input).unwrap();
    assert_eq!(report.restored, 5);
    assert!(matches!(
        &report.issues[..],
        [RestoreIssue::Duplicate { addr, kept, dropped, .. }]
            if *addr == ip("10.0.0.9") && *kept == key("n", "long") && *dropped == key("n", "late")
    ));
    assert_eq!(ipam.addresses(&key("n", "long")), Some(&long[..]));
    for &addr in &long {
        assert_eq!(ipam.holders(addr).collect::<Vec<_>>(), [key("n", "long")]);
        assert!(ipam.allocator("p").unwrap().is_allocated(addr));
    }
    // Unchanged when assigned again without a request.
    let again = ipam.assign(&svc("n", "long")).unwrap();
    assert_eq!((again.addresses, again.changed), (long.clone(), false));
    assert_eq!(ipam.release(&key("n", "long")), long);
    for &addr in &long {
        assert_eq!(ipam.holders(addr).count(), 0);
        assert!(!ipam.allocator("p").unwrap().is_allocated(addr));
    }
    assert_eq!(
        ipam.assignments().collect::<Vec<_>>(),
        [(key("n", "one"), &ips(&["10.0.0.8"])[..])]
    );
}

#[test]
fn assignments_order_by_namespace_then_name() {
    let mut ipam = Ipam::new(vec![spec("p", &["10.0.0.0/24"])]).unwrap();
    // Joined, "ab"+"c" sorts before "a"+"bd"; by namespace first, it sorts after.
    for (ns, name) in [("ab", "c"), ("a", "bd"), ("", "z"), ("a", "")] {
        ipam.assign(&svc(ns, name)).unwrap();
    }
    let keys: Vec<ServiceKey> = ipam.assignments().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [key("", "z"), key("a", ""), key("a", "bd"), key("ab", "c")]
    );
    assert_eq!(
        ipam.addresses(&key("a", "bd")),
        Some(&ips(&["10.0.0.1"])[..])
    );
    assert_eq!(ipam.addresses(&key("ab", "d")), None);
    assert_eq!(ipam.addresses(&key("a", "b")), None);
    // A clone is independent of the original.
    let mut copy = ipam.clone();
    copy.release(&key("a", "bd"));
    assert_eq!(
        copy.assign(&svc("x", "y")).unwrap().addresses,
        ips(&["10.0.0.1"])
    );
    assert_eq!(
        ipam.addresses(&key("a", "bd")),
        Some(&ips(&["10.0.0.1"])[..])
    );
    assert_eq!(
        ipam.holders(ip("10.0.0.1")).collect::<Vec<_>>(),
        [key("a", "bd")]
    );
}
