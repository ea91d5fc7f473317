//! MetalLB `IPAddressPool` objects (`metallb.io/v1beta1`).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{
    ConfigParseError, ConfigReport, ObjectMeta, checked_selectors, default_true, objects_from_json,
    parse_ranges, pools_of,
};
use crate::labels::LabelSelector;
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
    /// Namespace label selectors; the Service's namespace must match one. Empty
    /// matches all.
    #[serde(default)]
    pub namespace_selectors: Vec<LabelSelector>,
    /// Service label selectors; the Service must match one. Empty matches all.
    #[serde(default)]
    pub service_selectors: Vec<LabelSelector>,
}

impl IpAddressPool {
    /// This object as a [`PoolSpec`].
    ///
    /// `avoidBuggyIPs` maps to [`PoolOptions::avoid_buggy_ips`]; `priority` is used as
    /// is (lower first, absent = 0). `namespaceSelectors` and `serviceSelectors` are
    /// kept whole (`matchLabels` and `matchExpressions`; a Service must match one of
    /// each list, as in MetalLB) and checked as the API server checks them
    /// ([`ConfigParseError::InvalidSelector`]).
    pub fn to_pool_spec(&self) -> Result<PoolSpec, ConfigParseError> {
        let name = &self.metadata.name;
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
            spec.namespace_selectors = checked_selectors(
                name,
                "spec.serviceAllocation.namespaceSelectors",
                &alloc.namespace_selectors,
            )?;
            spec.service_selectors = checked_selectors(
                name,
                "spec.serviceAllocation.serviceSelectors",
                &alloc.service_selectors,
            )?;
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
