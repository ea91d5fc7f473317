//! This project's own pool resource: `lb.metalkit.dev/v1alpha1` `AddressPool`.

use std::collections::BTreeSet;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::{
    ConfigParseError, ConfigReport, ObjectMeta, checked_selectors, default_true, objects_from_json,
    parse_ranges, pools_of,
};
use crate::labels::LabelSelector;
use crate::pool::{Pool, PoolOptions};
use crate::select::PoolSpec;
pub use crate::service::{LB_ALLOW_SHARED_IP_ANNOTATION, LB_IPS_ANNOTATION, LB_POOL_ANNOTATION};

/// The API group of this project's resources.
pub const LB_API_GROUP: &str = "lb.metalkit.dev";
/// The `apiVersion` of [`AddressPool`].
pub const LB_API_VERSION: &str = "lb.metalkit.dev/v1alpha1";
/// The `kind` of [`AddressPool`].
pub const ADDRESS_POOL_KIND: &str = "AddressPool";
/// The `spec.loadBalancerClass` this project handles.
pub const LOAD_BALANCER_CLASS: &str = "metalkit.dev/lb";
/// An `AddressPool` object. Unknown `spec` fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressPool {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: AddressPoolSpec,
}

/// `AddressPool.spec`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressPoolSpec {
    /// CIDRs or `first-last` ranges.
    pub addresses: Vec<String>,
    /// Default true.
    #[serde(default = "default_true")]
    pub auto_assign: bool,
    /// Skip IPv4 `.0`/`.255`; default false.
    #[serde(default, rename = "avoidBuggyIPs")]
    pub avoid_buggy_ips: bool,
    /// Skip the network and broadcast address of IPv4 CIDRs shorter than /31; default
    /// false.
    #[serde(default)]
    pub skip_network_and_broadcast: bool,
    /// Which Services the pool serves.
    #[serde(default)]
    pub service_allocation: Option<NativeServiceAllocation>,
    /// `spec.allocationOrder`: `"LowestFirst"` (the default) or `"HighestFirst"`, read as
    /// a flag that is `true` for `HighestFirst`. Sets [`PoolOptions::highest_first`]: the
    /// pool then hands out its highest free allowed address of a family first.
    #[serde(
        default,
        rename = "allocationOrder",
        deserialize_with = "highest_first_from_order"
    )]
    pub highest_first: bool,
}

/// Reads `spec.allocationOrder` (`"LowestFirst"` or `"HighestFirst"`) as
/// [`AddressPoolSpec::highest_first`]; errors name the field.
fn highest_first_from_order<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let field = |e: &dyn std::fmt::Display| D::Error::custom(format_args!("allocationOrder: {e}"));
    match String::deserialize(d).map_err(|e| field(&e))?.as_str() {
        "LowestFirst" => Ok(false),
        "HighestFirst" => Ok(true),
        other => Err(field(&format_args!(
            "unknown value {other:?}, expected \"LowestFirst\" or \"HighestFirst\""
        ))),
    }
}

/// `AddressPool.spec.serviceAllocation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NativeServiceAllocation {
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

impl AddressPool {
    /// This object as a [`PoolSpec`].
    pub fn to_pool_spec(&self) -> Result<PoolSpec, ConfigParseError> {
        let name = &self.metadata.name;
        let ranges = parse_ranges(
            name,
            "spec.addresses",
            self.spec.addresses.iter().map(String::as_str),
        )?;
        let options = PoolOptions {
            avoid_buggy_ips: self.spec.avoid_buggy_ips,
            skip_network_and_broadcast: self.spec.skip_network_and_broadcast,
            highest_first: self.spec.highest_first,
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
            spec.namespace_selectors =
                checked_selectors(name, "namespaceSelectors", &alloc.namespace_selectors)?;
            spec.service_selectors =
                checked_selectors(name, "serviceSelectors", &alloc.service_selectors)?;
        }
        Ok(spec)
    }
}

/// Convert decoded `AddressPool` objects; pool names must be unique.
pub fn native_pools(objects: &[AddressPool]) -> Result<ConfigReport, ConfigParseError> {
    pools_of(objects, AddressPool::to_pool_spec)
}

/// Read one `AddressPool` or a `List` of them as JSON. `apiVersion` and `kind` are
/// checked.
pub fn native_pools_from_json(json: &str) -> Result<ConfigReport, ConfigParseError> {
    native_pools(&objects_from_json(json, LB_API_VERSION, ADDRESS_POOL_KIND)?)
}
