//! Pool entries and which pools may serve a Service.

use std::collections::BTreeSet;

use crate::labels::{LabelSelector, any_matches};
use crate::pool::Pool;
use crate::service::Service;

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
    /// Namespace label selectors: the Service's namespace must match one of them;
    /// empty matches every namespace.
    pub namespace_selectors: Vec<LabelSelector>,
    /// Service label selectors: the Service must match one of them; empty matches
    /// every Service.
    pub service_selectors: Vec<LabelSelector>,
}

impl PoolSpec {
    /// A global, auto-assigning pool of priority 0 with no selector.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            priority: 0,
            auto_assign: true,
            namespaces: None,
            namespace_selectors: Vec::new(),
            service_selectors: Vec::new(),
        }
    }

    /// The pool name.
    pub fn name(&self) -> &str {
        self.pool.name()
    }

    /// Whether this pool may serve `svc`; the error says why not.
    ///
    /// Checks the requested pool (`lb.metalkit.dev/address-pool` or
    /// `metallb.io/address-pool`), the namespaces, the namespace selectors and the
    /// service selectors. `auto_assign` is not checked here: it only limits automatic choice.
    pub fn serves(&self, svc: &Service) -> Result<(), String> {
        let name = self.name();
        if let Some((annotation, wanted)) = svc.requested_pool_with_source()
            && wanted != name
        {
            return Err(format!(
                "pool {name:?}: the Service asks for pool {wanted:?} ({annotation})"
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
        if !any_matches(&self.namespace_selectors, &svc.namespace_labels) {
            return Err(format!(
                "pool {name:?} serves only namespaces labelled {}",
                one_of(&self.namespace_selectors)
            ));
        }
        if !any_matches(&self.service_selectors, &svc.labels) {
            return Err(format!(
                "pool {name:?} serves only Services labelled {}",
                one_of(&self.service_selectors)
            ));
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
        if let Some((annotation, wanted)) = svc.requested_pool_with_source()
            && !specs.iter().any(|s| s.name() == wanted)
        {
            return Err(format!(
                "the Service asks for pool {wanted:?} ({annotation}), which does not exist"
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

/// `a=b` or `a=b | c in (d)` for an error message.
fn one_of(selectors: &[LabelSelector]) -> String {
    selectors
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}
