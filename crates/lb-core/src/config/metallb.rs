//! MetalLB `IPAddressPool` objects (`metallb.io/v1beta1`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{
    ConfigParseError, ConfigReport, ObjectMeta, default_true, objects_from_json, parse_ranges,
    pools_of,
};
use crate::pool::{Pool, PoolOptions};
use crate::select::PoolSpec;

/// The `apiVersion` read.
pub const METALLB_API_VERSION: &str = "metallb.io/v1beta1";
/// The `kind` read.
pub const METALLB_POOL_KIND: &str = "IPAddressPool";

/// A MetalLB `IPAddressPool` object; fields not listed here are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddressPool {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: IpAddressPoolSpec,
}

/// `IPAddressPool.spec`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddressPoolSpec {
    /// CIDRs or `first-last` ranges.
    pub addresses: Vec<String>,
    /// Default true.
    #[serde(default = "default_true")]
    pub auto_assign: bool,
    /// Default false.
    #[serde(default, rename = "avoidBuggyIPs")]
    pub avoid_buggy_ips: bool,
    /// Which Services the pool serves.
    #[serde(default)]
    pub service_allocation: Option<ServiceAllocation>,
}

/// `spec.serviceAllocation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAllocation {
    /// Lower is tried first; default 0.
    #[serde(default)]
    pub priority: i32,
    /// Namespaces served; empty serves all.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Namespace label selectors. Refused when non-empty: the pure core does not see
    /// namespace labels.
    #[serde(default)]
    pub namespace_selectors: Vec<serde_json::Value>,
    /// Service label selectors. At most one, with `matchLabels` only.
    #[serde(default)]
    pub service_selectors: Vec<LabelSelector>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must all match.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Refused when non-empty.
    #[serde(default)]
    pub match_expressions: Vec<serde_json::Value>,
}

impl IpAddressPool {
    /// This object as a [`PoolSpec`].
    ///
    /// `avoidBuggyIPs` maps to [`PoolOptions::avoid_buggy_ips`]; `priority` is used as
    /// is (lower first, absent = 0). Refused as [`ConfigParseError::Unsupported`]
    /// (ignoring them would widen the pool): `namespaceSelectors`, `matchExpressions`,
    /// and more than one service selector (MetalLB ORs them; [`PoolSpec`] holds one).
    pub fn to_pool_spec(&self) -> Result<PoolSpec, ConfigParseError> {
        let name = &self.metadata.name;
        let unsupported = |field: &str, reason| ConfigParseError::Unsupported {
            pool: name.clone(),
            field: field.to_owned(),
            reason,
        };
        let ranges = parse_ranges(
            name,
            "spec.addresses",
            self.spec.addresses.iter().map(String::as_str),
        )?;
        let options = PoolOptions {
            avoid_buggy_ips: self.spec.avoid_buggy_ips,
            ..PoolOptions::default()
        };
        let pool = Pool::new(name, ranges, options).map_err(|source| ConfigParseError::Pool {
            pool: name.clone(),
            source,
        })?;
        let mut spec = PoolSpec::new(pool);
        spec.auto_assign = self.spec.auto_assign;
        if let Some(alloc) = &self.spec.service_allocation {
            spec.priority = alloc.priority;
            if !alloc.namespaces.is_empty() {
                spec.namespaces = Some(alloc.namespaces.iter().cloned().collect::<BTreeSet<_>>());
            }
            if !alloc.namespace_selectors.is_empty() {
                return Err(unsupported(
                    "spec.serviceAllocation.namespaceSelectors",
                    "namespace labels are not part of the Service model",
                ));
            }
            match alloc.service_selectors.as_slice() {
                [] => {}
                [one] if one.match_expressions.is_empty() => {
                    spec.service_selector = one.match_labels.clone();
                }
                [_] => {
                    return Err(unsupported(
                        "spec.serviceAllocation.serviceSelectors.matchExpressions",
                        "only matchLabels is supported",
                    ));
                }
                _ => {
                    return Err(unsupported(
                        "spec.serviceAllocation.serviceSelectors",
                        "only one selector is supported",
                    ));
                }
            }
        }
        Ok(spec)
    }
}

/// Convert decoded `IPAddressPool` objects; pool names must be unique.
pub fn metallb_pools(objects: &[IpAddressPool]) -> Result<ConfigReport, ConfigParseError> {
    pools_of(objects, IpAddressPool::to_pool_spec)
}

/// Read one `IPAddressPool` or a `List` of them as JSON (`kubectl get ipaddresspools -o
/// json`). `apiVersion` and `kind` are checked.
pub fn metallb_pools_from_json(json: &str) -> Result<ConfigReport, ConfigParseError> {
    metallb_pools(&objects_from_json(
        json,
        METALLB_API_VERSION,
        METALLB_POOL_KIND,
    )?)
}
