//! Table tests for the MetalLB `IPAddressPool` reader.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use lb_core::config::{METALLB_API_VERSION, METALLB_POOL_KIND, metallb_pools_from_json};
use lb_core::{AddressFamily, ConfigParseError, PoolOptions};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn object(name: &str, spec: &str) -> String {
    format!(
        r#"{{"apiVersion":"{METALLB_API_VERSION}","kind":"{METALLB_POOL_KIND}",
            "metadata":{{"name":"{name}","namespace":"metallb-system"}},"spec":{spec}}}"#
    )
}

#[test]
fn good_fields() {
    // spec, auto_assign, avoid_buggy, priority, namespaces, selector, v4 count
    type Row = (
        &'static str,
        bool,
        bool,
        i32,
        Option<&'static [&'static str]>,
        &'static [(&'static str, &'static str)],
        u128,
    );
    let table: &[Row] = &[
        (
            r#"{"addresses":["10.0.0.0/24"]}"#,
            true,
            false,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"autoAssign":false}"#,
            false,
            false,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"avoidBuggyIPs":true}"#,
            true,
            true,
            0,
            None,
            &[],
            254,
        ),
        (
            r#"{"addresses":["10.0.0.10 - 10.0.0.19","10.0.1.0-10.0.1.1"]}"#,
            true,
            false,
            0,
            None,
            &[],
            12,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"priority":-3}}"#,
            true,
            false,
            -3,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"namespaces":["x","y"]}}"#,
            true,
            false,
            0,
            Some(&["x", "y"]),
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"namespaces":[]}}"#,
            true,
            false,
            0,
            None,
            &[],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchLabels":{"a":"1","b":"2"}}]}}"#,
            true,
            false,
            0,
            None,
            &[("a", "1"), ("b", "2")],
            256,
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[]}]}}"#,
            true,
            false,
            0,
            None,
            &[],
            256,
        ),
        (r#"{"addresses":[]}"#, true, false, 0, None, &[], 0),
    ];
    for &(spec, auto, buggy, prio, ns, sel, v4) in table {
        let report =
            metallb_pools_from_json(&object("p", spec)).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let [p] = report.pools.as_slice() else {
            panic!("{spec}")
        };
        assert_eq!(p.name(), "p");
        assert_eq!(p.auto_assign, auto, "{spec}");
        assert_eq!(
            p.pool.options(),
            PoolOptions {
                avoid_buggy_ips: buggy,
                ..PoolOptions::default()
            },
            "{spec}"
        );
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
        assert!(report.warnings.is_empty());
    }
}

#[test]
fn bad_fields() {
    // spec, what the error must mention
    let table: &[(&str, &str)] = &[
        (r#"{}"#, "addresses"),
        (r#"{"addresses":"10.0.0.0/24"}"#, "\"p\""),
        (
            r#"{"addresses":["10.0.0.0/24"],"autoAssign":"yes"}"#,
            "\"p\"",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"priority":"high"}}"#,
            "\"p\"",
        ),
        (r#"{"addresses":["10.0.0.0/33"]}"#, "spec.addresses"),
        (r#"{"addresses":["bogus"]}"#, "spec.addresses"),
        (
            r#"{"addresses":["10.0.0.0/24","10.0.0.128/25"]}"#,
            "overlap",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"namespaceSelectors":[{"matchExpressions":[{"key":"a","operator":"In"}]}]}}"#,
            "namespaceSelectors",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}]}}"#,
            "takes no values",
        ),
        (
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"a","operator":"Near"}]}]}}"#,
            "\"p\"",
        ),
    ];
    for &(spec, needle) in table {
        let err = metallb_pools_from_json(&object("p", spec)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(needle), "{spec}: {msg}");
        assert!(msg.contains('p'), "{spec}: {msg}");
        if needle == "namespaceSelectors" || needle == "takes no values" {
            assert!(
                matches!(err, ConfigParseError::InvalidSelector { ref pool, .. } if pool == "p"),
                "{err:?}"
            );
        }
    }
}

#[test]
fn bad_objects() {
    let good = object("p", r#"{"addresses":["10.0.0.0/24"]}"#);
    let table: Vec<(String, &str)> = vec![
        (
            good.replace(METALLB_API_VERSION, "metallb.io/v1alpha1"),
            "WrongKind",
        ),
        (good.replace(METALLB_POOL_KIND, "BGPPeer"), "WrongKind"),
        ("[1,2]".into(), "WrongKind"),
        ("not json".into(), "Json"),
        (r#"{"kind":"List"}"#.into(), "Json"),
        (
            r#"{"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool","spec":{"addresses":[]}}"#
                .into(),
            "Json",
        ),
        (
            format!(r#"{{"kind":"List","items":[{good},{good}]}}"#),
            "DuplicatePool",
        ),
    ];
    for (json, variant) in table {
        let err = metallb_pools_from_json(&json).unwrap_err();
        assert!(format!("{err:?}").starts_with(variant), "{json}: {err:?}");
    }
}

#[test]
fn fixture_list() {
    let report =
        metallb_pools_from_json(include_str!("fixtures/config/metallb-ipaddresspools.json"))
            .unwrap();
    let [cheap, expensive] = report.pools.as_slice() else {
        panic!()
    };
    assert_eq!(cheap.name(), "cheap");
    assert!(cheap.auto_assign && cheap.pool.options().avoid_buggy_ips);
    assert_eq!(cheap.pool.allowed_count(AddressFamily::V4), 254);
    assert_eq!(cheap.pool.allowed_count(AddressFamily::V6), 16);
    assert_eq!(expensive.name(), "expensive");
    assert!(!expensive.auto_assign);
    assert_eq!(expensive.priority, 10);
    assert_eq!(
        expensive.namespaces,
        Some(BTreeSet::from(["prod".to_owned(), "staging".to_owned()]))
    );
    assert_eq!(
        selector_labels(&expensive.service_selectors),
        BTreeMap::from([("tier".to_owned(), "public".to_owned())])
    );
    assert_eq!(expensive.pool.allowed_count(AddressFamily::V4), 6);
    assert!(report.overlaps.is_empty());
}

#[test]
fn overlapping_objects_are_reported() {
    let json = format!(
        r#"{{"kind":"List","items":[{},{},{}]}}"#,
        object("one", r#"{"addresses":["10.0.0.0/24","fd00::/120"]}"#),
        object(
            "two",
            r#"{"addresses":["10.0.0.250-10.0.1.5","fd00::ff-fd00::1ff"]}"#
        ),
        object("three", r#"{"addresses":["10.0.2.0/24"]}"#),
    );
    let report = metallb_pools_from_json(&json).unwrap();
    assert_eq!(report.overlaps.len(), 1);
    let o = &report.overlaps[0];
    assert_eq!((o.first.as_str(), o.second.as_str()), ("one", "two"));
    assert_eq!(
        o.spans,
        [
            (ip("10.0.0.250"), ip("10.0.0.255")),
            (ip("fd00::ff"), ip("fd00::ff"))
        ]
    );
}

fn selector_labels(sels: &[lb_core::LabelSelector]) -> BTreeMap<String, String> {
    sels.iter().flat_map(|s| s.match_labels.clone()).collect()
}
