// The bodies of the lb-core fuzz targets. Included (`include!`) both by the targets in
// `fuzz_targets/` and by `crates/lb-core/tests/fuzz_corpus.rs`, which replays the saved
// corpora on stable Rust.

/// Feeds the configuration readers: the first byte picks the reader (kube-vip ConfigMap
/// data as `key=value` lines, a MetalLB `IPAddressPool` JSON, this project's
/// `AddressPool` JSON, an address range, a label selector), the rest is its input.
/// Whatever parses must build an IPAM that serves a few Services without panicking,
/// and every address handed out must lie in a pool that serves the Service.
#[allow(dead_code)] // each target calls one body
fn fuzz_lb_config(data: &[u8]) {
    use lb_core::config::{kube_vip_pools, metallb_pools_from_json, native_pools_from_json};
    use lb_core::{AddressRange, Ipam, LabelSelector, Service};

    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let pools = match which % 5 {
        0 => {
            let map = text
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            kube_vip_pools(&map).ok().map(|c| c.report.pools)
        }
        1 => metallb_pools_from_json(text).ok().map(|r| r.pools),
        2 => native_pools_from_json(text).ok().map(|r| r.pools),
        3 => {
            if let Ok(range) = text.parse::<AddressRange>() {
                // Display → parse is the identity.
                let again: AddressRange = range.to_string().parse().expect("displayed range parses");
                assert_eq!(again, range);
            }
            None
        }
        _ => {
            if let Ok(sel) = serde_json::from_str::<LabelSelector>(text) {
                let _ = sel.validate();
                let _ = sel.matches(&Default::default());
                let _ = sel.to_string();
            }
            None
        }
    };
    let Some(pools) = pools else {
        return;
    };
    let Ok(mut ipam) = Ipam::new(pools) else {
        return;
    };
    for (i, ns) in ["default", "team-a", "kube-system"].iter().enumerate() {
        let svc = Service::new(*ns, format!("s{i}"));
        if let Ok(a) = ipam.assign(&svc) {
            for addr in a.addresses {
                assert!(ipam.serving_pool(&svc, addr).is_ok(), "{addr} outside the pools");
            }
        }
    }
}
