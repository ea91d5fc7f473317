//! kube-vip-cloud-provider ConfigMap (`kube-system/kubevip`) `data`.

use std::collections::{BTreeMap, BTreeSet};

use super::{ConfigParseError, ConfigReport, ConfigWarning, parse_ranges};
use crate::pool::{Pool, PoolOptions};
use crate::select::PoolSpec;

/// Priority of `cidr-<namespace>` pools: tried first.
pub const KUBE_VIP_CIDR_NS_PRIORITY: i32 = 0;
/// Priority of the `cidr-global` pool: second.
pub const KUBE_VIP_CIDR_GLOBAL_PRIORITY: i32 = 1;
/// Priority of `range-<namespace>` pools: third.
pub const KUBE_VIP_RANGE_NS_PRIORITY: i32 = 2;
/// Priority of the `range-global` pool: last.
pub const KUBE_VIP_RANGE_GLOBAL_PRIORITY: i32 = 3;

/// A kube-vip ConfigMap read into pools and options.
#[derive(Debug, Clone)]
pub struct KubeVipConfig {
    /// The pools (one per `cidr-*` / `range-*` key, named after the key), warnings and
    /// overlaps.
    pub report: ConfigReport,
    /// `search-order=desc`: addresses are handed out from the end of each pool, highest
    /// free first. Applied: every pool of [`Self::report`] then has
    /// [`PoolOptions::highest_first`] set.
    pub search_order_desc: bool,
    /// `skip-end-ips-in-cidr=true`.
    pub skip_end_ips_in_cidr: bool,
    /// Namespaces with `allow-share-<namespace>=true`. Applied by the controller: put
    /// them in [`crate::ControllerConfig::share_namespaces`], and the Services of those
    /// namespaces without a sharing key share addresses as if they carried one key
    /// per namespace (when their ports do not overlap).
    pub allow_share: BTreeSet<String>,
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigParseError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigParseError::InvalidValue {
            field: key.to_owned(),
            value: value.to_owned(),
            expected: "true or false",
        }),
    }
}

/// Read the `data` of a kube-vip-cloud-provider ConfigMap.
///
/// Each `cidr-<ns>`, `range-<ns>`, `cidr-global`, `range-global` key becomes one pool
/// named after the key. Values are comma-separated lists, IPv4 and IPv6 mixed, entries
/// trimmed; `cidr-` entries must be CIDRs and `range-` entries `first-last` ranges.
/// kube-vip's lookup order for a Service in namespace `ns` (cidr-ns, cidr-global,
/// range-ns, range-global) is encoded with priorities
/// ([`KUBE_VIP_CIDR_NS_PRIORITY`] < [`KUBE_VIP_CIDR_GLOBAL_PRIORITY`] <
/// [`KUBE_VIP_RANGE_NS_PRIORITY`] < [`KUBE_VIP_RANGE_GLOBAL_PRIORITY`]) and
/// namespace pools are restricted to their namespace.
///
/// `skip-end-ips-in-cidr=true` sets [`PoolOptions::skip_network_and_broadcast`] on the
/// `cidr-` pools: the network and broadcast addresses of IPv4 CIDRs shorter than /31
/// are not handed out; IPv6 CIDRs and `range-` pools are never trimmed. Without the key
/// every address of a CIDR is used.
///
/// `search-order=desc` sets [`PoolOptions::highest_first`] on every pool: each pool
/// hands out its highest free allowed address of a family first (the lookup order
/// between pools is unchanged); `asc` or an empty value keeps lowest first.
///
/// Differences from kube-vip: entries of one key may not overlap (kube-vip merges
/// them; here it is a [`ConfigParseError::Pool`] naming the key). Unknown keys
/// give a [`ConfigWarning::UnknownKey`]. Errors name the key.
pub fn kube_vip_pools(data: &BTreeMap<String, String>) -> Result<KubeVipConfig, ConfigParseError> {
    let mut warnings = Vec::new();
    let mut search_order_desc = false;
    let mut skip_end = false;
    let mut allow_share = BTreeSet::new();
    // (key, is_cidr, namespace)
    let mut pool_keys: Vec<(&str, bool, Option<&str>)> = Vec::new();
    for (key, value) in data {
        if key == "search-order" {
            search_order_desc = match value.trim() {
                "desc" => true,
                "asc" | "" => false,
                _ => {
                    return Err(ConfigParseError::InvalidValue {
                        field: key.clone(),
                        value: value.clone(),
                        expected: "desc",
                    });
                }
            };
        } else if key == "skip-end-ips-in-cidr" {
            skip_end = parse_bool(key, value)?;
        } else if let Some(ns) = key.strip_prefix("allow-share-") {
            if ns.is_empty() {
                warnings.push(ConfigWarning::UnknownKey { key: key.clone() });
            } else if parse_bool(key, value)? {
                allow_share.insert(ns.to_owned());
            }
        } else if let Some((is_cidr, rest)) = key
            .strip_prefix("cidr-")
            .map(|r| (true, r))
            .or_else(|| key.strip_prefix("range-").map(|r| (false, r)))
            && !rest.is_empty()
        {
            let ns = (rest != "global").then_some(rest);
            pool_keys.push((key, is_cidr, ns));
        } else {
            warnings.push(ConfigWarning::UnknownKey { key: key.clone() });
        }
    }
    let mut pools = Vec::new();
    for (key, is_cidr, ns) in pool_keys {
        let value = &data[key];
        let ranges = parse_ranges(key, key, value.split(','))?;
        for (entry, range) in value.split(',').zip(&ranges) {
            if range.prefix_len().is_some() != is_cidr {
                return Err(ConfigParseError::InvalidValue {
                    field: key.to_owned(),
                    value: entry.trim().to_owned(),
                    expected: if is_cidr {
                        "a CIDR such as 10.0.0.0/24"
                    } else {
                        "a range such as 10.0.0.10-10.0.0.20"
                    },
                });
            }
        }
        let options = PoolOptions {
            skip_network_and_broadcast: is_cidr && skip_end,
            highest_first: search_order_desc,
            ..PoolOptions::default()
        };
        let pool = Pool::new(key, ranges, options).map_err(|source| ConfigParseError::Pool {
            pool: key.to_owned(),
            source,
        })?;
        let mut spec = PoolSpec::new(pool);
        spec.priority = match (is_cidr, ns.is_some()) {
            (true, true) => KUBE_VIP_CIDR_NS_PRIORITY,
            (true, false) => KUBE_VIP_CIDR_GLOBAL_PRIORITY,
            (false, true) => KUBE_VIP_RANGE_NS_PRIORITY,
            (false, false) => KUBE_VIP_RANGE_GLOBAL_PRIORITY,
        };
        spec.namespaces = ns.map(|n| BTreeSet::from([n.to_owned()]));
        pools.push(spec);
    }
    Ok(KubeVipConfig {
        report: ConfigReport::new(pools, warnings),
        search_order_desc,
        skip_end_ips_in_cidr: skip_end,
        allow_share,
    })
}

/// Read a whole ConfigMap object as JSON (`kubectl get configmap -o json`) and pass
/// its `data` to [`kube_vip_pools`].
pub fn kube_vip_from_configmap_json(json: &str) -> Result<KubeVipConfig, ConfigParseError> {
    #[derive(serde::Deserialize)]
    struct ConfigMap {
        #[serde(default)]
        data: BTreeMap<String, String>,
    }
    let objects = super::json_objects(json)?;
    let [(label, item)] = <[_; 1]>::try_from(objects).map_err(|_| ConfigParseError::Json {
        object: "input".into(),
        message: "expected one ConfigMap".into(),
    })?;
    let cm: ConfigMap = super::decode_object(&label, item, "v1", "ConfigMap")?;
    kube_vip_pools(&cm.data)
}
