//! The same pools written as a kube-vip ConfigMap, MetalLB `IPAddressPool`s and our
//! `AddressPool`s read into equal `PoolSpec`s.

use std::collections::BTreeSet;

use lb_core::config::{kube_vip_pools, metallb_pools_from_json, native_pools_from_json};
use lb_core::{AddressRange, LabelSelector, PoolOptions, PoolSpec};

type Key = (
    String,
    Vec<AddressRange>,
    PoolOptions,
    i32,
    bool,
    Option<BTreeSet<String>>,
    Vec<LabelSelector>,
    Vec<LabelSelector>,
);

/// Every field of a spec, sorted by name (`PoolSpec` has no `PartialEq`).
fn keys(pools: &[PoolSpec]) -> Vec<Key> {
    let mut out: Vec<Key> = pools
        .iter()
        .map(|p| {
            (
                p.name().to_owned(),
                p.pool.ranges().to_vec(),
                p.pool.options(),
                p.priority,
                p.auto_assign,
                p.namespaces.clone(),
                p.namespace_selectors.clone(),
                p.service_selectors.clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn list(api: &str, kind: &str, items: &[(&str, &str)]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|(name, spec)| {
            format!(
                r#"{{"apiVersion":"{api}","kind":"{kind}","metadata":{{"name":"{name}"}},"spec":{spec}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
        items.join(",")
    )
}

#[test]
fn three_formats_one_model() {
    let kube_vip = kube_vip_pools(
        &[
            ("cidr-a", "10.0.1.0/24,fd00:1::/120"),
            ("cidr-global", "10.0.0.0/24"),
            ("range-a", "10.0.2.10-10.0.2.20"),
            ("range-global", "10.0.3.1-10.0.3.9,fd00:3::1-fd00:3::9"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
    )
    .unwrap();
    let specs = [
        (
            "cidr-a",
            r#"{"addresses":["10.0.1.0/24","fd00:1::/120"],"serviceAllocation":{"priority":0,"namespaces":["a"]}}"#,
        ),
        (
            "cidr-global",
            r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"priority":1}}"#,
        ),
        (
            "range-a",
            r#"{"addresses":["10.0.2.10-10.0.2.20"],"serviceAllocation":{"priority":2,"namespaces":["a"]}}"#,
        ),
        (
            "range-global",
            r#"{"addresses":["10.0.3.1-10.0.3.9","fd00:3::1-fd00:3::9"],"serviceAllocation":{"priority":3}}"#,
        ),
    ];
    let metallb =
        metallb_pools_from_json(&list("metallb.io/v1beta1", "IPAddressPool", &specs)).unwrap();
    let native =
        native_pools_from_json(&list("lb.metalkit.dev/v1alpha1", "AddressPool", &specs)).unwrap();
    let want = keys(&kube_vip.report.pools);
    assert_eq!(want.len(), 4);
    assert_eq!(keys(&metallb.pools), want);
    assert_eq!(keys(&native.pools), want);
}

/// `skip-end-ips-in-cidr` has no MetalLB spelling; ours is `skipNetworkAndBroadcast`.
#[test]
fn skip_end_ips_matches_native() {
    let kube_vip = kube_vip_pools(
        &[
            ("cidr-global", "10.0.0.0/24,fd00::/120"),
            ("range-global", "10.0.3.0-10.0.3.9"),
            ("skip-end-ips-in-cidr", "true"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
    )
    .unwrap();
    let specs = [
        (
            "cidr-global",
            r#"{"addresses":["10.0.0.0/24","fd00::/120"],"skipNetworkAndBroadcast":true,"serviceAllocation":{"priority":1}}"#,
        ),
        (
            "range-global",
            r#"{"addresses":["10.0.3.0-10.0.3.9"],"serviceAllocation":{"priority":3}}"#,
        ),
    ];
    let native =
        native_pools_from_json(&list("lb.metalkit.dev/v1alpha1", "AddressPool", &specs)).unwrap();
    assert_eq!(keys(&native.pools), keys(&kube_vip.report.pools));
}

/// MetalLB and our resource agree on every MetalLB field.
#[test]
fn metallb_matches_native() {
    let spec = r#"{"addresses":["192.168.0.0/23","fd00::10-fd00::20"],"autoAssign":false,"avoidBuggyIPs":true,
        "serviceAllocation":{"priority":-5,"namespaces":["x","y"]}}"#;
    let metallb =
        metallb_pools_from_json(&list("metallb.io/v1beta1", "IPAddressPool", &[("p", spec)]))
            .unwrap();
    let native = native_pools_from_json(&list(
        "lb.metalkit.dev/v1alpha1",
        "AddressPool",
        &[("p", spec)],
    ))
    .unwrap();
    assert_eq!(keys(&metallb.pools), keys(&native.pools));

    let m_sel = r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchLabels":{"a":"b"}}],"namespaceSelectors":[{"matchExpressions":[{"key":"team","operator":"In","values":["a","b"]}]}]}}"#;
    let n_sel = r#"{"addresses":["10.0.0.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchLabels":{"a":"b"}}],"namespaceSelectors":[{"matchExpressions":[{"key":"team","operator":"In","values":["a","b"]}]}]}}"#;
    let metallb = metallb_pools_from_json(&list(
        "metallb.io/v1beta1",
        "IPAddressPool",
        &[("s", m_sel)],
    ))
    .unwrap();
    let native = native_pools_from_json(&list(
        "lb.metalkit.dev/v1alpha1",
        "AddressPool",
        &[("s", n_sel)],
    ))
    .unwrap();
    assert_eq!(keys(&metallb.pools), keys(&native.pools));
}
