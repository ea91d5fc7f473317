//! Pool entries and which pools may serve a Service.

use std::collections::{BTreeMap, BTreeSet};

use crate::pool::Pool;
use crate::service::{METALLB_POOL_ANNOTATION, Service};

/// A pool with the rules that decide which Services it serves.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    /// The addresses.
    pub pool: Pool,
    /// MetalLB `serviceAllocation.priority`: lower numbers are tried first.
    pub priority: i32,
    /// MetalLB `autoAssign`: when false, the pool only serves Services that request one
    /// of its addresses or name it with `metallb.io/address-pool`.
    pub auto_assign: bool,
    /// Namespaces served; `None` serves every namespace.
    pub namespaces: Option<BTreeSet<String>>,
    /// Labels a Service must all carry; empty matches every Service.
    pub service_selector: BTreeMap<String, String>,
}

impl PoolSpec {
    /// A global, auto-assigning pool of priority 0 with no selector.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            priority: 0,
            auto_assign: true,
            namespaces: None,
            service_selector: BTreeMap::new(),
        }
    }

    /// The pool name.
    pub fn name(&self) -> &str {
        self.pool.name()
    }

    /// Whether this pool may serve `svc`; the error says why not.
    ///
    /// Checks the `metallb.io/address-pool` annotation, the namespaces and the service
    /// selector. `auto_assign` is not checked here: it only limits automatic choice.
    pub fn serves(&self, svc: &Service) -> Result<(), String> {
        let name = self.name();
        if let Some(wanted) = svc.requested_pool()
            && wanted != name
        {
            return Err(format!(
                "pool {name:?}: the Service asks for pool {wanted:?} ({METALLB_POOL_ANNOTATION})"
            ));
        }
        if let Some(namespaces) = &self.namespaces
            && !namespaces.contains(&svc.key.namespace)
        {
            return Err(format!(
                "pool {name:?} does not serve namespace {:?}",
                svc.key.namespace
            ));
        }
        for (k, v) in &self.service_selector {
            if svc.labels.get(k) != Some(v) {
                return Err(format!(
                    "pool {name:?} serves only Services labelled {k}={v}"
                ));
            }
        }
        Ok(())
    }

    /// Whether the pool may hand out addresses to `svc` without a requested address:
    /// `auto_assign`, or the Service names this pool.
    pub(crate) fn auto_for(&self, svc: &Service) -> bool {
        self.auto_assign || svc.requested_pool() == Some(self.name())
    }
}

/// The pools that may serve `svc`, in decision order: priority (lower first), then name.
///
/// When every pool is refused, the error lists why, pool by pool.
pub fn select_pools<'a>(specs: &'a [PoolSpec], svc: &Service) -> Result<Vec<&'a PoolSpec>, String> {
    let mut out = Vec::new();
    let mut why = Vec::new();
    for spec in specs {
        match spec.serves(svc) {
            Ok(()) => out.push(spec),
            Err(reason) => why.push(reason),
        }
    }
    if out.is_empty() {
        if let Some(wanted) = svc.requested_pool()
            && !specs.iter().any(|s| s.name() == wanted)
        {
            return Err(format!(
                "the Service asks for pool {wanted:?} ({METALLB_POOL_ANNOTATION}), which does not exist"
            ));
        }
        if specs.is_empty() {
            return Err("no address pool is configured".into());
        }
        return Err(format!("no pool serves this Service: {}", why.join("; ")));
    }
    out.sort_by(|a, b| (a.priority, a.name()).cmp(&(b.priority, b.name())));
    Ok(out)
}
