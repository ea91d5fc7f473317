//! Table tests for the kube-vip-cloud-provider ConfigMap reader, and kube-vip's lookup
//! order through `Ipam::assign`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use lb_core::config::{
    KUBE_VIP_CIDR_GLOBAL_PRIORITY, KUBE_VIP_CIDR_NS_PRIORITY, KUBE_VIP_RANGE_GLOBAL_PRIORITY,
    KUBE_VIP_RANGE_NS_PRIORITY, kube_vip_from_configmap_json, kube_vip_pools,
};
use lb_core::{
    AddressFamily, AssignError, ConfigParseError, ConfigWarning, Ipam, PoolSpec, Service,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn find<'a>(pools: &'a [PoolSpec], name: &str) -> &'a PoolSpec {
    pools.iter().find(|p| p.name() == name).unwrap()
}

#[test]
fn pool_keys() {
    // key, value, priority, namespace, v4 count, v6 count
    type Row<'a> = (&'a str, &'a str, i32, Option<&'a str>, u128, u128);
    let table: &[Row<'_>] = &[
        (
            "cidr-a",
            "10.0.0.0/30",
            KUBE_VIP_CIDR_NS_PRIORITY,
            Some("a"),
            4,
            0,
        ),
        (
            "cidr-global",
            "10.0.0.0/30,fd00::/126",
            KUBE_VIP_CIDR_GLOBAL_PRIORITY,
            None,
            4,
            4,
        ),
        (
            "range-a",
            "10.0.0.1-10.0.0.3",
            KUBE_VIP_RANGE_NS_PRIORITY,
            Some("a"),
            3,
            0,
        ),
        (
            "range-global",
            "10.0.0.1-10.0.0.2, fd00::1-fd00::3",
            KUBE_VIP_RANGE_GLOBAL_PRIORITY,
            None,
            2,
            3,
        ),
        (
            "cidr-team-x",
            " 10.1.0.0/31 , 10.2.0.0/32 ",
            KUBE_VIP_CIDR_NS_PRIORITY,
            Some("team-x"),
            3,
            0,
        ),
        (
            "range-global",
            "10.0.0.1-10.0.0.1",
            KUBE_VIP_RANGE_GLOBAL_PRIORITY,
            None,
            1,
            0,
        ),
    ];
    for &(key, value, prio, ns, v4, v6) in table {
        let cfg = kube_vip_pools(&data(&[(key, value)])).unwrap();
        let [spec] = cfg.report.pools.as_slice() else {
            panic!("{key}: one pool expected")
        };
        assert_eq!(spec.name(), key);
        assert_eq!(spec.priority, prio, "{key}");
        assert_eq!(
            spec.namespaces,
            ns.map(|n| BTreeSet::from([n.to_owned()])),
            "{key}"
        );
        assert!(spec.auto_assign);
        assert!(spec.service_selectors.is_empty() && spec.namespace_selectors.is_empty());
        assert_eq!(spec.pool.allowed_count(AddressFamily::V4), v4, "{key}");
        assert_eq!(spec.pool.allowed_count(AddressFamily::V6), v6, "{key}");
        assert!(cfg.report.warnings.is_empty(), "{key}");
    }
}

#[test]
fn skip_end_ips_in_cidr() {
    let table: &[(Option<&str>, &str, u128, u128, u128)] = &[
        // skip-end value, cidr-global, v4 count, v6 count, range-global v4 count
        (None, "10.0.0.0/29,fd00::/126", 8, 4, 4),
        (Some("false"), "10.0.0.0/29,fd00::/126", 8, 4, 4),
        (Some("true"), "10.0.0.0/29,fd00::/126", 6, 4, 4),
        (Some("true"), "10.0.0.0/31,10.0.1.0/32", 3, 0, 4),
        (Some(" true "), "10.0.0.0/30", 2, 0, 4),
    ];
    for &(skip, cidr, v4, v6, range_v4) in table {
        let mut d = data(&[("cidr-global", cidr), ("range-global", "10.9.0.0-10.9.0.3")]);
        if let Some(s) = skip {
            d.insert("skip-end-ips-in-cidr".into(), s.into());
        }
        let cfg = kube_vip_pools(&d).unwrap();
        assert_eq!(
            cfg.skip_end_ips_in_cidr,
            skip.is_some_and(|s| s.trim() == "true")
        );
        let c = find(&cfg.report.pools, "cidr-global");
        assert_eq!(
            c.pool.allowed_count(AddressFamily::V4),
            v4,
            "{skip:?} {cidr}"
        );
        assert_eq!(
            c.pool.allowed_count(AddressFamily::V6),
            v6,
            "{skip:?} {cidr}"
        );
        // Ranges are never trimmed, even when they start on a .0.
        let r = find(&cfg.report.pools, "range-global");
        assert_eq!(r.pool.allowed_count(AddressFamily::V4), range_v4);
    }
}

#[test]
fn option_keys_and_warnings() {
    let cfg = kube_vip_pools(&data(&[
        ("search-order", "desc"),
        ("allow-share-a", "true"),
        ("allow-share-b", "false"),
        ("loadbalancer-class", "x"),
        ("cidr-", "10.0.0.0/24"),
        ("allow-share-", "true"),
    ]))
    .unwrap();
    assert!(cfg.search_order_desc);
    assert_eq!(cfg.allow_share, BTreeSet::from(["a".to_owned()]));
    assert!(cfg.report.pools.is_empty());
    let unknown: Vec<_> = cfg
        .report
        .warnings
        .iter()
        .filter_map(|w| match w {
            ConfigWarning::UnknownKey { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(unknown, ["allow-share-", "cidr-", "loadbalancer-class"]);
    // search-order=desc is applied, so it is not reported as not enforced.
    assert_eq!(
        cfg.report.warnings.len(),
        unknown.len(),
        "{:?}",
        cfg.report.warnings
    );

    let asc = kube_vip_pools(&data(&[("search-order", "asc")])).unwrap();
    assert!(!asc.search_order_desc);
    assert!(asc.report.warnings.is_empty());
}

#[test]
fn bad_values_name_the_key() {
    let table: &[(&str, &str)] = &[
        ("cidr-a", "10.0.0.1-10.0.0.5"),
        ("cidr-global", "10.0.0.0/24,fd00::1-fd00::2"),
        ("range-a", "10.0.0.0/24"),
        ("range-global", "10.0.0.0/24"),
        ("cidr-a", "10.0.0.0/33"),
        ("cidr-a", "not-an-ip/24"),
        ("range-a", "10.0.0.9-10.0.0.1"),
        ("cidr-a", ""),
        ("cidr-a", "10.0.0.0/24,"),
        ("cidr-a", "10.0.0.0/24,10.0.0.0/25"),
        ("search-order", "up"),
        ("skip-end-ips-in-cidr", "yes"),
        ("allow-share-a", "1"),
    ];
    for &(key, value) in table {
        let err = kube_vip_pools(&data(&[(key, value)])).unwrap_err();
        let named = match &err {
            ConfigParseError::InvalidValue { field, .. } => field,
            ConfigParseError::Address { pool, field, .. } => {
                assert_eq!(pool, field);
                field
            }
            ConfigParseError::Pool { pool, .. } => pool,
            other => panic!("{key}={value:?}: unexpected {other:?}"),
        };
        assert_eq!(named, key, "{key}={value:?}");
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn overlapping_pools_are_reported() {
    let cfg = kube_vip_pools(&data(&[
        ("cidr-a", "10.0.0.0/30"),
        ("cidr-global", "10.0.0.0/29"),
        ("range-b", "10.0.5.0-10.0.5.1"),
    ]))
    .unwrap();
    assert_eq!(cfg.report.overlaps.len(), 1);
    let o = &cfg.report.overlaps[0];
    assert_eq!(
        (o.first.as_str(), o.second.as_str()),
        ("cidr-a", "cidr-global")
    );
    assert_eq!(o.spans, [(ip("10.0.0.0"), ip("10.0.0.3"))]);
}

#[test]
fn fixture_configmap() {
    let json = include_str!("fixtures/config/kubevip-configmap.json");
    let cfg = kube_vip_from_configmap_json(json).unwrap();
    let names: Vec<_> = cfg.report.pools.iter().map(PoolSpec::name).collect();
    assert_eq!(names, ["cidr-a", "cidr-global", "range-a", "range-global"]);
    assert!(cfg.search_order_desc);
    assert!(!cfg.skip_end_ips_in_cidr);
    assert_eq!(cfg.allow_share, BTreeSet::from(["web".to_owned()]));
    assert!(cfg.report.overlaps.is_empty());
    assert!(cfg.report.warnings.is_empty(), "{:?}", cfg.report.warnings);
    assert!(
        cfg.report
            .pools
            .iter()
            .all(|p| p.pool.options().highest_first)
    );
    let a = find(&cfg.report.pools, "cidr-a");
    assert_eq!(a.pool.allowed_count(AddressFamily::V6), 4);

    let wrong = json.replace("\"ConfigMap\"", "\"Secret\"");
    assert!(matches!(
        kube_vip_from_configmap_json(&wrong),
        Err(ConfigParseError::WrongKind { .. })
    ));
    assert!(matches!(
        kube_vip_from_configmap_json("{"),
        Err(ConfigParseError::Json { .. })
    ));
}

/// A Service in `a` takes from cidr-a, then cidr-global, then range-a, then
/// range-global; a Service in `b` skips the `a` pools.
#[test]
fn lookup_order_through_ipam() {
    let cfg = kube_vip_pools(&data(&[
        ("cidr-a", "10.0.1.0/31"),
        ("cidr-global", "10.0.0.0/31"),
        ("range-a", "10.0.2.1-10.0.2.2"),
        ("range-global", "10.0.3.1-10.0.3.1"),
        ("cidr-b2", "10.0.9.0/30"),
    ]))
    .unwrap();
    let mut ipam = Ipam::new(cfg.report.pools).unwrap();
    let expect = [
        "10.0.1.0", "10.0.1.1", // cidr-a
        "10.0.0.0", "10.0.0.1", // cidr-global
        "10.0.2.1", "10.0.2.2", // range-a
        "10.0.3.1", // range-global
    ];
    for (i, want) in expect.iter().enumerate() {
        let svc = Service::new("a", format!("s{i}"));
        assert_eq!(
            ipam.assign(&svc).unwrap().addresses,
            [ip(want)],
            "service {i}"
        );
    }
    let err = ipam.assign(&Service::new("a", "last")).unwrap_err();
    assert!(matches!(err, AssignError::Exhausted { .. }), "{err}");

    // Releasing a cidr-global address makes it the next one for `a` again.
    ipam.release(&lb_core::ServiceKey::new("a", "s3"));
    assert_eq!(
        ipam.assign(&Service::new("a", "again")).unwrap().addresses,
        [ip("10.0.0.1")]
    );
}

#[test]
fn lookup_order_other_namespace() {
    let cfg = kube_vip_pools(&data(&[
        ("cidr-a", "10.0.1.0/31"),
        ("cidr-global", "10.0.0.0/32"),
        ("range-a", "10.0.2.1-10.0.2.2"),
        ("range-global", "10.0.3.1-10.0.3.1"),
    ]))
    .unwrap();
    let mut ipam = Ipam::new(cfg.report.pools).unwrap();
    let got: Vec<_> = (0..2)
        .map(|i| {
            ipam.assign(&Service::new("b", format!("s{i}")))
                .unwrap()
                .addresses[0]
        })
        .collect();
    assert_eq!(got, [ip("10.0.0.0"), ip("10.0.3.1")]);
    assert!(ipam.assign(&Service::new("b", "s2")).is_err());
    // `a` still has its own pools.
    assert_eq!(
        ipam.assign(&Service::new("a", "x")).unwrap().addresses,
        [ip("10.0.1.0")]
    );
}

#[test]
fn skip_end_ips_through_ipam() {
    let cfg = kube_vip_pools(&data(&[
        ("cidr-a", "10.0.1.0/30"),
        ("skip-end-ips-in-cidr", "true"),
    ]))
    .unwrap();
    let mut ipam = Ipam::new(cfg.report.pools).unwrap();
    let got: Vec<_> = (0..2)
        .map(|i| {
            ipam.assign(&Service::new("a", format!("s{i}")))
                .unwrap()
                .addresses[0]
        })
        .collect();
    assert_eq!(got, [ip("10.0.1.1"), ip("10.0.1.2")]);
    assert!(ipam.assign(&Service::new("a", "s2")).is_err());
}

#[test]
fn search_order_reaches_every_pool() {
    // search-order value (None: key absent), expected highest_first
    let table: &[(Option<&str>, bool)] = &[
        (None, false),
        (Some("asc"), false),
        (Some(""), false),
        (Some("desc"), true),
        (Some(" desc "), true),
    ];
    for &(order, desc) in table {
        let mut d = data(&[
            ("cidr-a", "10.0.1.0/30"),
            ("cidr-global", "10.0.0.0/30,fd00::/126"),
            ("range-a", "10.0.2.1-10.0.2.3"),
            ("range-global", "10.0.3.1-10.0.3.3"),
            ("skip-end-ips-in-cidr", "true"),
        ]);
        if let Some(o) = order {
            d.insert("search-order".into(), o.into());
        }
        let cfg = kube_vip_pools(&d).unwrap();
        assert_eq!(cfg.search_order_desc, desc, "{order:?}");
        assert_eq!(cfg.report.pools.len(), 4);
        for p in &cfg.report.pools {
            let opts = p.pool.options();
            assert_eq!(opts.highest_first, desc, "{order:?} {}", p.name());
            // The order does not disturb the other options.
            assert_eq!(
                opts.skip_network_and_broadcast,
                p.name().starts_with("cidr-"),
                "{order:?} {}",
                p.name()
            );
            assert!(!opts.avoid_buggy_ips);
        }
        assert!(
            !cfg.report
                .warnings
                .iter()
                .any(|w| matches!(w, ConfigWarning::NotEnforced { .. })),
            "{order:?}: {:?}",
            cfg.report.warnings
        );
        assert!(cfg.report.warnings.is_empty(), "{order:?}");
    }
}

/// With `search-order=desc` each pool hands out its highest free address first; the
/// lookup order between pools stays cidr-ns, cidr-global, range-ns, range-global.
#[test]
fn search_order_desc_through_ipam() {
    let cfg = kube_vip_pools(&data(&[
        ("cidr-a", "10.0.1.0/30"),
        ("cidr-global", "10.0.0.0/31,fd00::/126"),
        ("range-global", "10.0.3.1-10.0.3.2"),
        ("skip-end-ips-in-cidr", "true"),
        ("search-order", "desc"),
    ]))
    .unwrap();
    let mut ipam = Ipam::new(cfg.report.pools).unwrap();
    let expect = [
        "10.0.1.2", "10.0.1.1", // cidr-a, without network and broadcast
        "10.0.0.1", "10.0.0.0", // cidr-global: a /31 is not trimmed
        "10.0.3.2", "10.0.3.1", // range-global
    ];
    for (i, want) in expect.iter().enumerate() {
        let svc = Service::new("a", format!("s{i}"));
        assert_eq!(
            ipam.assign(&svc).unwrap().addresses,
            [ip(want)],
            "service {i}"
        );
    }
    let err = ipam.assign(&Service::new("a", "last")).unwrap_err();
    assert!(matches!(err, AssignError::Exhausted { .. }), "{err}");

    // A released address is the highest free one of its pool again.
    ipam.release(&lb_core::ServiceKey::new("a", "s1"));
    assert_eq!(
        ipam.assign(&Service::new("a", "again")).unwrap().addresses,
        [ip("10.0.1.1")]
    );

    // IPv6 from the top of its CIDR too.
    let mut v6 = Service::new("b", "v6");
    v6.ip_families = vec![AddressFamily::V6];
    assert_eq!(ipam.assign(&v6).unwrap().addresses, [ip("fd00::3")]);
}
