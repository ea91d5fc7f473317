//! Reading pool configuration: kube-vip-cloud-provider ConfigMaps, MetalLB
//! `IPAddressPool` objects and this project's own `AddressPool` resource, all into
//! one model ([`PoolSpec`]s plus a [`ConfigReport`]).
//!
//! Kubernetes objects are read as JSON, the form in which the API server hands them to
//! a controller. YAML files must be converted first, e.g. with
//! `kubectl create --dry-run=client -o json -f pools.yaml`.
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use lb_core::{Ipam, Service};
//!
//! let data = BTreeMap::from([
//!     ("cidr-a".to_owned(), "10.0.1.0/32".to_owned()),
//!     ("range-global".to_owned(), "10.0.3.1-10.0.3.2".to_owned()),
//! ]);
//! let cfg = lb_core::config::kube_vip_pools(&data)?;
//! let mut ipam = Ipam::new(cfg.report.pools)?;
//! let first = ipam.assign(&Service::new("a", "one"))?.addresses;
//! let second = ipam.assign(&Service::new("a", "two"))?.addresses;
//! assert_eq!(first, ["10.0.1.0".parse::<std::net::IpAddr>()?]);
//! assert_eq!(second, ["10.0.3.1".parse::<std::net::IpAddr>()?]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod kubevip;
mod metallb;
mod native;

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;

pub use kubevip::{
    KUBE_VIP_CIDR_GLOBAL_PRIORITY, KUBE_VIP_CIDR_NS_PRIORITY, KUBE_VIP_RANGE_GLOBAL_PRIORITY,
    KUBE_VIP_RANGE_NS_PRIORITY, KubeVipConfig, kube_vip_from_configmap_json, kube_vip_pools,
};
pub use metallb::{
    IpAddressPool, IpAddressPoolSpec, METALLB_API_VERSION, METALLB_POOL_KIND, ServiceAllocation,
    metallb_pools, metallb_pools_from_json,
};
pub use native::{
    ADDRESS_POOL_KIND, AddressPool, AddressPoolSpec, LB_ALLOW_SHARED_IP_ANNOTATION, LB_API_GROUP,
    LB_API_VERSION, LB_IPS_ANNOTATION, LB_POOL_ANNOTATION, LOAD_BALANCER_CLASS,
    NativeServiceAllocation, native_pools, native_pools_from_json,
};

pub use crate::labels::{LabelRequirement, LabelSelector, SelectorOperator};
use crate::pool::{PoolError, pools_overlap};
use crate::range::{AddressRange, RangeParseError};
use crate::select::PoolSpec;

/// Why a configuration could not be read. Every variant names the pool, key or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigParseError {
    /// The text is not JSON of the expected shape.
    #[error("{object}: {message}")]
    Json {
        /// The object (name, list index or "input") that failed.
        object: String,
        /// The JSON decoder's message (it names the field).
        message: String,
    },
    /// The object has another `apiVersion` or `kind`.
    #[error("{object}: expected {expected}, found {found}")]
    WrongKind {
        /// The object.
        object: String,
        /// The expected `apiVersion`/`kind`.
        expected: String,
        /// What the object says.
        found: String,
    },
    /// An address entry does not parse.
    #[error("pool {pool:?}, {field}: {source}")]
    Address {
        /// The pool (for kube-vip: the ConfigMap key).
        pool: String,
        /// The field or key holding the entry.
        field: String,
        /// Why it does not parse.
        source: RangeParseError,
    },
    /// A value has the wrong form (e.g. a range under a `cidr-` key, `search-order=up`).
    #[error("{field}: invalid value {value:?}: expected {expected}")]
    InvalidValue {
        /// The key or field.
        field: String,
        /// The value found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The pool's ranges do not form a pool (e.g. they overlap).
    #[error("{source}")]
    Pool {
        /// The pool.
        pool: String,
        /// Why.
        source: PoolError,
    },
    /// A field the pure core cannot apply; ignoring it would widen the pool.
    #[error("pool {pool:?}, {field}: not supported: {reason}")]
    Unsupported {
        /// The pool.
        pool: String,
        /// The field.
        field: String,
        /// Why it cannot be applied.
        reason: &'static str,
    },
    /// A label selector breaks the API server's rules (e.g. `In` without values).
    #[error("pool {pool:?}, {field}: {reason}")]
    InvalidSelector {
        /// The pool.
        pool: String,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Two objects carry the same pool name.
    #[error("two pools are named {name:?}")]
    DuplicatePool {
        /// The name.
        name: String,
    },
}

/// Something in a configuration that was read but not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// A key this crate does not know; it was ignored.
    UnknownKey {
        /// The key.
        key: String,
    },
    /// A setting recorded in the result but not enforced by the IPAM.
    NotEnforced {
        /// The key or field.
        field: String,
        /// What the caller has to do about it.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey { key } => write!(f, "unknown key {key:?} ignored"),
            Self::NotEnforced { field, reason } => write!(f, "{field}: not enforced: {reason}"),
        }
    }
}

/// Two configured pools that share addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOverlap {
    /// One pool (the earlier in the list).
    pub first: String,
    /// The other pool.
    pub second: String,
    /// The shared spans, `(first, last)`, as [`pools_overlap`] reports them.
    pub spans: Vec<(IpAddr, IpAddr)>,
}

/// The pools read from one configuration, with warnings and overlaps.
#[derive(Debug, Clone)]
pub struct ConfigReport {
    /// The pools, in the order the configuration lists them.
    pub pools: Vec<PoolSpec>,
    /// What was read but ignored or not enforced.
    pub warnings: Vec<ConfigWarning>,
    /// Pairs of pools that share addresses. The IPAM marks a shared address in every
    /// pool holding it, so it is never handed out twice; still worth telling the user.
    pub overlaps: Vec<PoolOverlap>,
}

impl ConfigReport {
    /// A report over `pools`, computing the overlaps.
    pub fn new(pools: Vec<PoolSpec>, warnings: Vec<ConfigWarning>) -> Self {
        let overlaps = overlaps(&pools);
        Self {
            pools,
            warnings,
            overlaps,
        }
    }
}

/// Every pair of pools sharing addresses, in list order.
pub fn overlaps(pools: &[PoolSpec]) -> Vec<PoolOverlap> {
    let mut out = Vec::new();
    for (i, a) in pools.iter().enumerate() {
        for b in &pools[i + 1..] {
            let spans = pools_overlap(&a.pool, &b.pool);
            if !spans.is_empty() {
                out.push(PoolOverlap {
                    first: a.name().to_owned(),
                    second: b.name().to_owned(),
                    spans,
                });
            }
        }
    }
    out
}

/// Parse each entry of `entries` (trimmed) as an address range.
fn parse_ranges<'a>(
    pool: &str,
    field: &str,
    entries: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<AddressRange>, ConfigParseError> {
    entries
        .into_iter()
        .map(|e| {
            e.trim()
                .parse::<AddressRange>()
                .map_err(|source| ConfigParseError::Address {
                    pool: pool.to_owned(),
                    field: field.to_owned(),
                    source,
                })
        })
        .collect()
}

/// The `metadata` fields read from an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ObjectMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if set.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Split JSON text into objects: one object, or the `items` of a `kind: List`.
///
/// Returns each object with a label for errors (its name, else `item N`).
fn json_objects(json: &str) -> Result<Vec<(String, serde_json::Value)>, ConfigParseError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ConfigParseError::Json {
            object: "input".into(),
            message: e.to_string(),
        })?;
    let items = if value.get("kind").and_then(|k| k.as_str()) == Some("List") {
        match value.get("items") {
            Some(serde_json::Value::Array(items)) => items.clone(),
            _ => {
                return Err(ConfigParseError::Json {
                    object: "List".into(),
                    message: "a List without an items array".into(),
                });
            }
        }
    } else {
        vec![value]
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let label = item
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("item {i}"), |n| format!("object {n:?}"));
            (label, item)
        })
        .collect())
}

/// Check `apiVersion`/`kind` of a raw object, then decode it.
fn decode_object<T: serde::de::DeserializeOwned>(
    label: &str,
    item: serde_json::Value,
    api_version: &str,
    kind: &str,
) -> Result<T, ConfigParseError> {
    let found_api = item
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let found_kind = item.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    if found_api != api_version || found_kind != kind {
        return Err(ConfigParseError::WrongKind {
            object: label.to_owned(),
            expected: format!("{api_version} {kind}"),
            found: format!("{found_api} {found_kind}"),
        });
    }
    serde_json::from_value(item).map_err(|e| ConfigParseError::Json {
        object: label.to_owned(),
        message: e.to_string(),
    })
}

/// Converts decoded pool objects with `to_spec` and checks that names are unique: the
/// shared part of the MetalLB and native readers.
fn pools_of<T>(
    objects: &[T],
    to_spec: impl Fn(&T) -> Result<PoolSpec, ConfigParseError>,
) -> Result<ConfigReport, ConfigParseError> {
    let pools = objects.iter().map(to_spec).collect::<Result<Vec<_>, _>>()?;
    check_unique(&pools)?;
    Ok(ConfigReport::new(pools, Vec::new()))
}

/// Decodes one object or a `List` of them, each checked for `api_version` and `kind`.
fn objects_from_json<T: serde::de::DeserializeOwned>(
    json: &str,
    api_version: &str,
    kind: &str,
) -> Result<Vec<T>, ConfigParseError> {
    json_objects(json)?
        .into_iter()
        .map(|(label, item)| decode_object(&label, item, api_version, kind))
        .collect()
}

/// Refuse a second pool of the same name.
fn check_unique(pools: &[PoolSpec]) -> Result<(), ConfigParseError> {
    let mut seen = std::collections::BTreeSet::new();
    for p in pools {
        if !seen.insert(p.name()) {
            return Err(ConfigParseError::DuplicatePool {
                name: p.name().to_owned(),
            });
        }
    }
    Ok(())
}

fn default_true() -> bool {
    true
}

/// `selectors` after the API server's validation; the error names the pool and field.
fn checked_selectors(
    pool: &str,
    field: &str,
    selectors: &[LabelSelector],
) -> Result<Vec<LabelSelector>, ConfigParseError> {
    for sel in selectors {
        sel.validate()
            .map_err(|reason| ConfigParseError::InvalidSelector {
                pool: pool.to_owned(),
                field: field.to_owned(),
                reason,
            })?;
    }
    Ok(selectors.to_vec())
}
