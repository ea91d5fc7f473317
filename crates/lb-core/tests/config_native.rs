//! Table tests for this project's `AddressPool` resource.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use lb_core::config::{
    ADDRESS_POOL_KIND, LB_API_GROUP, LB_API_VERSION, LOAD_BALANCER_CLASS, native_pools_from_json,
};
use lb_core::{AddressFamily, ConfigParseError, Ipam, PoolOptions, Service};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn object(name: &str, spec: &str) -> String {
    format!(
        r#"{{"apiVersion":"{LB_API_VERSION}","kind":"{ADDRESS_POOL_KIND}",
            "metadata":{{"name":"{name}"}},"spec":{spec}}}"#
    )
}

#[test]
fn names() {
    assert_eq!(LB_API_GROUP, "lb.metalkit.dev");
    assert_eq!(LB_API_VERSION, format!("{LB_API_GROUP}/v1alpha1"));
    assert_eq!(ADDRESS_POOL_KIND, "AddressPool");
    assert_eq!(LOAD_BALANCER_CLASS, "metalkit.dev/lb");
}

#[test]
fn good_fields() {
    // spec, options, auto, priority, namespaces, selector, v4 count
    type Row = (
        &'static str,
        PoolOptions,
        bool,
        i32,
        Option<&'static [&'static str]>,
        &'static [(&'static str, &'static str)],
        u128,
    );
    let none = PoolOptions::default();
    let skip = PoolOptions {
        skip_network_and_broadcast: true,
        ..none
    };
    let buggy = PoolOptions {
        avoid_buggy_ips: true,
        ..none
    };
    let desc = PoolOptions {
        highest_first: true,
        ..none
    };
    let desc_skip = PoolOptions {
        highest_first: true,
        ..skip
    };
    let table: &[Row] = &[
        (
            r#"{"addresses":["10.0.0.0/24"]}"#,
            none,
            true,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"skipNetworkAndBroadcast":true}"#,
            skip,
            true,
            0,
            None,
            &[],
            254,
        ),
        (
            r#"{"addresses":["10.0.0.0/23"],"avoidBuggyIPs":true}"#,
            buggy,
            true,
            0,
            None,
            &[],
            508,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"autoAssign":false}"#,
            none,
            false,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.1-10.0.0.4"],"serviceAllocation":{"priority":7,"namespaces":["n"]}}"#,
            none,
            true,
            7,
            Some(&["n"]),
            &[],
            4,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchLabels":{"k":"v"}}]}}"#,
            none,
            true,
            0,
            None,
            &[("k", "v")],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{}}"#,
            none,
            true,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":"LowestFirst"}"#,
            none,
            true,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":"HighestFirst"}"#,
            desc,
            true,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":"HighestFirst","skipNetworkAndBroadcast":true}"#,
            desc_skip,
            true,
            0,
            None,
            &[],
            254,
        ),
    ];
    for &(spec, options, auto, prio, ns, sel, v4) in table {
        let report =
            native_pools_from_json(&object("p", spec)).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let [p] = report.pools.as_slice() else {
            panic!("{spec}")
        };
        assert_eq!(p.name(), "p");
        assert_eq!(p.pool.options(), options, "{spec}");
        assert_eq!(p.auto_assign, auto, "{spec}");
        assert_eq!(p.priority, prio, "{spec}");
        assert_eq!(
            p.namespaces,
            ns.map(|n| n.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>()),
            "{spec}"
        );
        let want: BTreeMap<String, String> = sel
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        assert_eq!(selector_labels(&p.service_selectors), want, "{spec}");
        assert_eq!(p.pool.allowed_count(AddressFamily::V4), v4, "{spec}");
    }
}

#[test]
fn bad_fields() {
    // spec, what the error must mention
    let table: &[(&str, &str)] = &[
        (r#"{}"#, "addresses"),
        (
            r#"{"addresses":["10.0.0.0/24"],"autoassign":true}"#,
            "autoassign",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"skipNetworkAndBroadcast":"yes"}"#,
            "\"p\"",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelector":{"matchLabels":{}}}}"#,
            "serviceSelector",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"a","operator":"NotIn"}]}]}}"#,
            "needs at least one value",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"namespaceSelectors":[{"matchLabels":{"":"x"}}]}}"#,
            "empty key",
        ),
        (r#"{"addresses":["10.0.0.0-10.0.0"]}"#, "spec.addresses"),
        (
            r#"{"addresses":["10.0.0.0/24","10.0.0.7"]}"#,
            "spec.addresses",
        ),
        (
            r#"{"addresses":["10.0.0.0/24","10.0.0.7-10.0.0.9"]}"#,
            "overlap",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":"Desc"}"#,
            "allocationOrder: unknown value \"Desc\", expected \"LowestFirst\" or \"HighestFirst\"",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":"highestFirst"}"#,
            "allocationOrder: unknown value \"highestFirst\"",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":true}"#,
            "allocationOrder: invalid type: boolean",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"allocationOrder":null}"#,
            "allocationOrder",
        ),
    ];
    for &(spec, needle) in table {
        let err = native_pools_from_json(&object("p", spec)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(needle), "{spec}: {msg}");
        assert!(msg.contains("\"p\""), "{spec}: {msg}");
    }
    let wrong = object("p", r#"{"addresses":[]}"#).replace(LB_API_VERSION, "metallb.io/v1beta1");
    assert!(matches!(
        native_pools_from_json(&wrong),
        Err(ConfigParseError::WrongKind { .. })
    ));
}

#[test]
fn fixture_list() {
    let report =
        native_pools_from_json(include_str!("fixtures/config/native-addresspools.json")).unwrap();
    let [lab, spare] = report.pools.as_slice() else {
        panic!()
    };
    assert_eq!(lab.name(), "lab");
    assert!(lab.pool.options().skip_network_and_broadcast);
    assert_eq!(lab.pool.allowed_count(AddressFamily::V4), 254);
    assert_eq!(lab.pool.allowed_count(AddressFamily::V6), 256);
    assert_eq!(lab.priority, 5);
    assert_eq!(lab.namespaces, Some(BTreeSet::from(["team-a".to_owned()])));
    assert_eq!(
        selector_labels(&lab.service_selectors),
        BTreeMap::from([("lb".to_owned(), "lab".to_owned())])
    );
    assert!(!lab.pool.options().highest_first);
    assert_eq!(spare.name(), "spare");
    assert!(!spare.auto_assign);
    assert_eq!(report.overlaps.len(), 1);
    assert_eq!(
        report.overlaps[0].spans,
        [(ip("10.20.0.200"), ip("10.20.0.255"))]
    );
}

#[test]
fn allocation_order_through_ipam() {
    let json = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{},{}]}}"#,
        object(
            "down",
            r#"{"addresses":["10.0.0.0/29","fd00::/126"],"skipNetworkAndBroadcast":true,"allocationOrder":"HighestFirst","serviceAllocation":{"priority":1}}"#
        ),
        object(
            "up",
            r#"{"addresses":["10.0.1.0/31"],"allocationOrder":"LowestFirst","serviceAllocation":{"priority":2}}"#
        ),
    );
    let report = native_pools_from_json(&json).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let mut ipam = Ipam::new(report.pools).unwrap();
    let got: Vec<IpAddr> = (0..8)
        .map(|i| {
            ipam.assign(&Service::new("n", format!("s{i}")))
                .unwrap()
                .addresses[0]
        })
        .collect();
    let want = [
        "10.0.0.6", "10.0.0.5", "10.0.0.4", "10.0.0.3", "10.0.0.2", "10.0.0.1", // down
        "10.0.1.0", "10.0.1.1", // up
    ]
    .map(ip);
    assert_eq!(got, want);
    let mut v6 = Service::new("n", "v6");
    v6.ip_families = vec![AddressFamily::V6];
    assert_eq!(ipam.assign(&v6).unwrap().addresses, [ip("fd00::3")]);
}

fn selector_labels(sels: &[lb_core::LabelSelector]) -> BTreeMap<String, String> {
    sels.iter().flat_map(|s| s.match_labels.clone()).collect()
}
