//! Controller decisions for one Service: what the LoadBalancer controller writes.
//!
//! [`decide`] takes what the controller observed of one Service ([`ServiceState`]) and
//! the [`Ipam`], updates the IPAM and returns a [`Decision`]: the finalizer, the status
//! addresses, this project's condition, the informational annotation and the Events to
//! emit. The caller turns the decision into API writes (a server-side apply of the
//! status and of the metadata) and emits the Events; nothing here talks to an API
//! server or reads a clock.
//!
//! The rules, in order:
//!
//! 1. `loadBalancerClass`: a Service of another class is not ours ([`Handling::NotOurs`]);
//!    one without a class is ours only when [`ControllerConfig::default_class`] is set.
//!    If the IPAM still holds addresses for a Service that is no longer ours (the
//!    setting changed), they are released and our finalizer is removed; its status
//!    belongs to the other implementation and is left alone.
//! 2. Deleted (a deletion timestamp) or no longer `type: LoadBalancer`: the addresses
//!    are released, the cleanup finalizer removed, and for a type change the status
//!    addresses and our condition are cleared, so no address is left behind.
//! 3. Otherwise the cleanup finalizer is added first, then the IPAM decides:
//!    - the Service keeps what it holds; a Service whose status lists addresses the
//!      IPAM does not hold (after a restart, or a pool change) gets them back if they
//!      are still allowed;
//!    - an address that is in the status but in no pool that serves the Service any
//!      more (the pool shrank) is **kept and flagged** with reason
//!      [`reasons::ADDRESS_NOT_IN_POOL`], never moved silently;
//!    - an address in the status that another Service holds (a duplicate found on
//!      restore) is replaced by a fresh one with a Warning Event, unless the Service
//!      asked for exactly that address, in which case it is flagged
//!      [`reasons::ADDRESS_IN_USE`] and the status cleared.
//!
//! Events are emitted only when something changes (a new assignment, a release, or a
//! condition whose reason or message changed), so a Service that stays pending does
//! not produce an Event on every resync.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::ipam::{AssignError, Ipam, RestoreIssue, RestoreReport};
use crate::select::PoolSpec;
use crate::service::{
    KUBE_VIP_IPS_ANNOTATION, LB_ALLOW_SHARED_IP_ANNOTATION, LB_IPS_ANNOTATION, Service,
};

/// The finalizer the cloud-provider contract uses while a load balancer exists.
pub const CLEANUP_FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";
/// The `status.conditions` type this controller owns on a Service.
pub const ADDRESS_CONDITION: &str = "lb.metalkit.dev/AddressAssigned";
/// Annotation written by the controller: the pool the first address came from
/// (information only; never read as a request).
pub const ALLOCATED_FROM_POOL_ANNOTATION: &str = "lb.metalkit.dev/allocated-from-pool";

/// Condition reasons and Event reasons, as constants a user can grep for.
pub mod reasons {
    /// Condition: the Service holds its addresses.
    pub const ASSIGNED: &str = "Assigned";
    /// Condition: every pool that may serve the Service is full.
    pub const POOL_EXHAUSTED: &str = "PoolExhausted";
    /// Condition: a requested address is in no pool that serves the Service.
    pub const ADDRESS_OUTSIDE_POOLS: &str = "RequestedAddressOutsidePools";
    /// Condition: the Service's address is no longer in a pool that serves it (the
    /// pool shrank or changed); the address is kept, not moved.
    pub const ADDRESS_NOT_IN_POOL: &str = "AddressNoLongerInPool";
    /// Condition: a requested address is held by a Service it may not be shared with.
    pub const ADDRESS_IN_USE: &str = "AddressInUse";
    /// Condition: no pool selects this Service.
    pub const NO_POOL: &str = "NoPoolSelectsService";
    /// Condition: `RequireDualStack` cannot be served.
    pub const DUAL_STACK_UNAVAILABLE: &str = "DualStackUnavailable";
    /// Condition: the annotations or spec contradict themselves.
    pub const INVALID_REQUEST: &str = "InvalidRequest";
    /// Event (Normal): addresses were assigned.
    pub const IP_ALLOCATED: &str = "IPAllocated";
    /// Event (Warning): no address could be assigned, or an address is flagged.
    pub const ALLOCATION_FAILED: &str = "AllocationFailed";
    /// Event (Warning): a duplicate address found on restore was replaced.
    pub const ADDRESS_REASSIGNED: &str = "AddressReassigned";
    /// Event (Normal): addresses were released.
    pub const IP_RELEASED: &str = "IPReleased";
}

/// Which Services this controller handles and what it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerConfig {
    /// The `spec.loadBalancerClass` handled; default [`crate::config::LOAD_BALANCER_CLASS`].
    pub class: String,
    /// Whether Services without `spec.loadBalancerClass` are handled (the default
    /// implementation of a cluster). Default true.
    pub default_class: bool,
    /// Also write the assigned addresses to `kube-vip.io/loadbalancerIPs`, for clusters
    /// that run kube-vip's speaker with this controller. Default false.
    pub write_kube_vip_annotation: bool,
    /// kube-vip's `allow-share-<namespace>` ([`crate::config::KubeVipConfig::allow_share`]):
    /// Services of these namespaces without a sharing key share addresses as if they
    /// carried the key [`namespace_sharing_key`] (when their ports do not overlap and
    /// their traffic policies match).
    pub share_namespaces: BTreeSet<String>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            class: crate::config::LOAD_BALANCER_CLASS.to_owned(),
            default_class: true,
            write_kube_vip_annotation: false,
            share_namespaces: BTreeSet::new(),
        }
    }
}

/// `status` of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    /// `"True"`.
    True,
    /// `"False"`.
    False,
    /// `"Unknown"`.
    Unknown,
}

impl ConditionStatus {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }
}

/// A `metav1.Condition` without `lastTransitionTime`: the caller stamps it with its
/// clock when [`Decision::condition_changed`] says the status changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The condition type ([`ADDRESS_CONDITION`]).
    pub type_: String,
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// A CamelCase reason from [`reasons`].
    pub reason: String,
    /// What happened and what the user can do.
    pub message: String,
    /// The Service `metadata.generation` this was decided for.
    pub observed_generation: i64,
}

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

/// An Event to emit about the Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// A CamelCase reason from [`reasons`].
    pub reason: &'static str,
    /// The message.
    pub message: String,
}

/// What the controller observed of one Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceState {
    /// The IPAM's view of the Service (key, annotations, spec).
    pub service: Service,
    /// `spec.type == "LoadBalancer"`.
    pub is_load_balancer: bool,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// `metadata.finalizers`.
    pub finalizers: Vec<String>,
    /// `status.loadBalancer.ingress[].ip`.
    pub ingress: Vec<IpAddr>,
    /// The current condition of type [`ADDRESS_CONDITION`], if any.
    pub condition: Option<Condition>,
    /// `metadata.generation`.
    pub generation: i64,
    /// `metadata.creationTimestamp` in seconds since the Unix epoch: the restore order.
    pub created: i64,
}

impl ServiceState {
    /// A `type: LoadBalancer` Service `namespace/name`, generation 1, nothing else set.
    pub fn load_balancer(namespace: &str, name: &str) -> Self {
        Self {
            service: Service::new(namespace, name),
            is_load_balancer: true,
            generation: 1,
            ..Self::default()
        }
    }
}

impl ServiceState {
    /// Applies `decision` as the API server would store it after the caller's writes:
    /// finalizer, status addresses, condition and annotations. Meant for simulations
    /// and tests of a controller built on [`decide`].
    pub fn apply(&mut self, decision: &Decision) {
        match decision.finalizer {
            FinalizerChange::Keep => {}
            FinalizerChange::Add => {
                if !self.finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
                    self.finalizers.push(CLEANUP_FINALIZER.to_owned());
                }
            }
            FinalizerChange::Remove => self.finalizers.retain(|f| f != CLEANUP_FINALIZER),
        }
        if let Some(ingress) = &decision.ingress {
            self.ingress.clone_from(ingress);
        }
        if decision.handling == Handling::Ours {
            self.condition.clone_from(&decision.condition);
        }
        for (k, v) in &decision.annotations {
            match v {
                Some(v) => {
                    self.service.annotations.insert(k.clone(), v.clone());
                }
                None => {
                    self.service.annotations.remove(k);
                }
            }
        }
    }
}

/// Whether the Service is this controller's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handling {
    /// This controller handles it.
    Ours,
    /// Another implementation does; the reason says why.
    NotOurs(String),
}

/// A change to one list membership or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinalizerChange {
    /// Leave the finalizers as they are.
    Keep,
    /// Add [`CLEANUP_FINALIZER`].
    Add,
    /// Remove [`CLEANUP_FINALIZER`].
    Remove,
}

/// What to write for one Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the Service is ours.
    pub handling: Handling,
    /// The finalizer change.
    pub finalizer: FinalizerChange,
    /// The desired `status.loadBalancer.ingress` IPs, or `None` to leave the status
    /// alone. Write each with `ipMode: VIP`.
    pub ingress: Option<Vec<IpAddr>>,
    /// Our condition: `Some` to set it, `None` to remove it (when not ours, or not a
    /// LoadBalancer any more). Ignored when `handling` is `NotOurs`.
    pub condition: Option<Condition>,
    /// Whether the condition's status differs from the observed one (stamp
    /// `lastTransitionTime` then; otherwise keep the observed one).
    pub condition_changed: bool,
    /// Annotations to set (`Some`) or remove (`None`); absent keys are left alone.
    pub annotations: BTreeMap<String, Option<String>>,
    /// Events to emit, in order.
    pub events: Vec<Event>,
    /// Addresses the IPAM released in this decision.
    pub released: Vec<IpAddr>,
}

impl Decision {
    fn not_ours(reason: String) -> Self {
        Self {
            handling: Handling::NotOurs(reason),
            finalizer: FinalizerChange::Keep,
            ingress: None,
            condition: None,
            condition_changed: false,
            annotations: BTreeMap::new(),
            events: Vec::new(),
            released: Vec::new(),
        }
    }

    /// Whether applying this decision would write nothing and emit nothing, given the
    /// state it was decided from.
    pub fn is_noop(&self, state: &ServiceState) -> bool {
        let condition_same = match self.handling {
            Handling::NotOurs(_) => true,
            Handling::Ours => self.condition == state.condition,
        };
        self.finalizer == FinalizerChange::Keep
            && self.ingress.as_ref().is_none_or(|i| *i == state.ingress)
            && condition_same
            && self
                .annotations
                .iter()
                .all(|(k, v)| state.service.annotations.get(k) == v.as_ref())
            && self.events.is_empty()
    }
}

/// Whether `cfg` handles a Service of class `class`; the error says why not.
pub fn handles(cfg: &ControllerConfig, class: Option<&str>) -> Result<(), String> {
    match class {
        Some(c) if c == cfg.class => Ok(()),
        Some(c) => Err(format!(
            "spec.loadBalancerClass is {c:?}; this controller handles {:?}",
            cfg.class
        )),
        None if cfg.default_class => Ok(()),
        None => Err(format!(
            "no spec.loadBalancerClass; this controller handles only {:?}",
            cfg.class
        )),
    }
}

/// The load balancer name of the cloud-provider contract (`GetLoadBalancerName`):
/// `"a"` followed by the UID without dashes, cut to 32 characters.
pub fn load_balancer_name(uid: &str) -> String {
    let mut name = String::with_capacity(32);
    name.push('a');
    name.extend(uid.chars().filter(|&c| c != '-'));
    name.truncate(32);
    name
}

/// The sharing key given to Services of a namespace listed in
/// [`ControllerConfig::share_namespaces`] that carry none: `kube-vip.io/allow-share/<ns>`.
pub fn namespace_sharing_key(namespace: &str) -> String {
    format!("kube-vip.io/allow-share/{namespace}")
}

/// The Service as the IPAM should see it under `cfg`: with the namespace sharing key
/// when its namespace shares addresses and it has no key of its own.
pub fn effective_service<'a>(cfg: &ControllerConfig, svc: &'a Service) -> Cow<'a, Service> {
    if svc.sharing_key().is_none() && cfg.share_namespaces.contains(svc.key.namespace()) {
        let mut svc = svc.clone();
        svc.annotations.insert(
            LB_ALLOW_SHARED_IP_ANNOTATION.to_owned(),
            namespace_sharing_key(svc.key.namespace()),
        );
        Cow::Owned(svc)
    } else {
        Cow::Borrowed(svc)
    }
}

/// Rebuilds the IPAM from every Service the controller sees, before anything new is
/// allocated: the Services that are ours, `type: LoadBalancer` (deleting ones too: they
/// hold their addresses until their finalizer goes) and have status addresses are
/// restored oldest first (creation time, then key). See [`Ipam::restore`].
pub fn restore_ipam(
    pools: Vec<PoolSpec>,
    cfg: &ControllerConfig,
    services: &[ServiceState],
) -> Result<(Ipam, RestoreReport), crate::ipam::ConfigError> {
    let mut held: Vec<&ServiceState> = services
        .iter()
        .filter(|s| {
            s.is_load_balancer
                && !s.ingress.is_empty()
                && handles(cfg, s.service.load_balancer_class.as_deref()).is_ok()
        })
        .collect();
    held.sort_by(|a, b| (a.created, &a.service.key).cmp(&(b.created, &b.service.key)));
    let snapshot: Vec<(Service, Vec<IpAddr>)> = held
        .into_iter()
        .map(|s| {
            (
                effective_service(cfg, &s.service).into_owned(),
                s.ingress.clone(),
            )
        })
        .collect();
    Ipam::restore(pools, &snapshot)
}

/// Decides what to write for one Service and updates `ipam` accordingly.
///
/// Call it for every change of the Service (and on resyncs); it is idempotent: with
/// the decision applied, the next call returns a decision for which
/// [`Decision::is_noop`] holds.
pub fn decide(ipam: &mut Ipam, cfg: &ControllerConfig, state: &ServiceState) -> Decision {
    let key = &state.service.key;
    let has_finalizer = state.finalizers.iter().any(|f| f == CLEANUP_FINALIZER);

    if let Err(reason) = handles(cfg, state.service.load_balancer_class.as_deref()) {
        let mut d = Decision::not_ours(reason);
        d.released = ipam.release(key);
        if has_finalizer {
            d.finalizer = FinalizerChange::Remove;
        }
        if !d.released.is_empty() {
            d.events.push(released_event(
                &d.released,
                "the Service is not this controller's",
            ));
        }
        return d;
    }

    let mut d = Decision {
        handling: Handling::Ours,
        finalizer: FinalizerChange::Keep,
        ingress: None,
        condition: None,
        condition_changed: false,
        annotations: BTreeMap::new(),
        events: Vec::new(),
        released: Vec::new(),
    };

    if state.deleting || !state.is_load_balancer {
        d.released = ipam.release(key);
        if has_finalizer {
            d.finalizer = FinalizerChange::Remove;
        }
        let why = if state.deleting {
            "the Service is being deleted"
        } else {
            "the Service is no longer of type LoadBalancer"
        };
        if !d.released.is_empty() {
            d.events.push(released_event(&d.released, why));
        }
        if !state.deleting {
            // A type change: leave nothing behind that a speaker could announce.
            if !state.ingress.is_empty() {
                d.ingress = Some(Vec::new());
            }
            d.annotations
                .insert(ALLOCATED_FROM_POOL_ANNOTATION.to_owned(), None);
            if cfg.write_kube_vip_annotation {
                d.annotations
                    .insert(KUBE_VIP_IPS_ANNOTATION.to_owned(), None);
            }
            d.annotations
                .retain(|k, _| state.service.annotations.contains_key(k));
        }
        d.condition_changed = state.condition.is_some();
        return d;
    }

    if !has_finalizer {
        d.finalizer = FinalizerChange::Add;
    }

    let svc = effective_service(cfg, &state.service);
    let outcome = assign(ipam, state, &svc);
    let condition = match outcome {
        Outcome::Held {
            addresses,
            changed,
            replaced,
        } => {
            let pool = addresses
                .first()
                .and_then(|a| ipam.serving_pool(&svc, *a).ok())
                .map(|p| p.name().to_owned());
            let message = match &pool {
                Some(p) => format!("assigned {} from pool {p:?}", join(&addresses)),
                None => format!("assigned {}", join(&addresses)),
            };
            if let Some((old, why)) = replaced {
                d.events.push(Event {
                    type_: EventType::Warning,
                    reason: reasons::ADDRESS_REASSIGNED,
                    message: format!(
                        "{} was also held by another Service ({why}); assigned {} instead",
                        join(&old),
                        join(&addresses)
                    ),
                });
            }
            if changed || addresses != state.ingress {
                d.events.push(Event {
                    type_: EventType::Normal,
                    reason: reasons::IP_ALLOCATED,
                    message: message.clone(),
                });
            }
            set_annotation(&mut d, state, ALLOCATED_FROM_POOL_ANNOTATION, pool);
            if cfg.write_kube_vip_annotation {
                let v = addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>();
                set_annotation(&mut d, state, KUBE_VIP_IPS_ANNOTATION, Some(v.join(",")));
            }
            d.ingress = Some(addresses);
            condition(state, ConditionStatus::True, reasons::ASSIGNED, message)
        }
        Outcome::Flagged {
            keep,
            reason,
            message,
        } => {
            d.ingress = Some(keep);
            condition(state, ConditionStatus::False, reason, message)
        }
    };
    if let Some(ingress) = &d.ingress
        && *ingress == state.ingress
    {
        d.ingress = None;
    }
    let changed_text = state
        .condition
        .as_ref()
        .is_none_or(|c| c.reason != condition.reason || c.message != condition.message);
    if condition.status == ConditionStatus::False && changed_text {
        d.events.push(Event {
            type_: EventType::Warning,
            reason: reasons::ALLOCATION_FAILED,
            message: condition.message.clone(),
        });
    }
    d.condition_changed = state
        .condition
        .as_ref()
        .is_none_or(|c| c.status != condition.status);
    d.condition = Some(condition);
    d
}

/// What the IPAM made of a Service that should have addresses.
enum Outcome {
    /// The Service holds `addresses`.
    Held {
        addresses: Vec<IpAddr>,
        /// The IPAM state changed.
        changed: bool,
        /// Status addresses that were replaced, and why.
        replaced: Option<(Vec<IpAddr>, String)>,
    },
    /// No (new) address; the status keeps `keep`.
    Flagged {
        keep: Vec<IpAddr>,
        reason: &'static str,
        message: String,
    },
}

fn assign(ipam: &mut Ipam, state: &ServiceState, svc: &Service) -> Outcome {
    let held = ipam.addresses(&svc.key).map(<[IpAddr]>::to_vec);
    let mut replaced = None;

    // Status addresses the IPAM does not hold (no restore ran, or they were dropped as
    // duplicates): take back what may be taken back.
    let mut adopted = false;
    if held.is_none() && !state.ingress.is_empty() {
        let (kept, issues) = ipam.adopt(svc, &state.ingress);
        adopted = kept > 0;
        if let Some(RestoreIssue::Duplicate {
            addr, kept, reason, ..
        }) = issues
            .iter()
            .find(|i| matches!(i, RestoreIssue::Duplicate { .. }))
        {
            // Part of the status is another Service's: start afresh.
            ipam.release(&svc.key);
            adopted = false;
            replaced = Some((
                state.ingress.clone(),
                format!("{addr} is held by {kept}: {reason}"),
            ));
        }
    }

    match ipam.assign(svc) {
        Ok(a) => {
            if let Some((addr, why)) = ipam.outside_pools(svc).into_iter().next() {
                return Outcome::Flagged {
                    keep: a.addresses,
                    reason: reasons::ADDRESS_NOT_IN_POOL,
                    message: not_in_pool_message(addr, &why),
                };
            }
            Outcome::Held {
                addresses: a.addresses,
                changed: a.changed || adopted || replaced.is_some(),
                replaced,
            }
        }
        Err(err) => {
            let held = ipam.addresses(&svc.key).map(<[IpAddr]>::to_vec);
            let (reason, advice) = match &err {
                AssignError::OutsidePools { .. } => (
                    reasons::ADDRESS_OUTSIDE_POOLS,
                    "request an address inside a pool that serves this Service, or add it to one",
                ),
                AssignError::InUse { .. } => (
                    reasons::ADDRESS_IN_USE,
                    "request a free address, or give both Services the same sharing key with distinct ports",
                ),
                AssignError::Exhausted { .. } => (
                    reasons::POOL_EXHAUSTED,
                    "add addresses to a pool that serves this Service, or free some",
                ),
                AssignError::NoPool { .. } => (
                    reasons::NO_POOL,
                    "create a pool whose namespaces and selectors match this Service, or fix its pool annotation",
                ),
                AssignError::DualStackUnavailable { .. } => (
                    reasons::DUAL_STACK_UNAVAILABLE,
                    "add a pool with both IPv4 and IPv6 ranges, or relax ipFamilyPolicy",
                ),
                _ => (
                    reasons::INVALID_REQUEST,
                    "fix the Service's annotations or spec",
                ),
            };
            let message = match &held {
                Some(h) => format!("{err}; {advice}; keeping {}", join(h)),
                None => format!("{err}; {advice}"),
            };
            Outcome::Flagged {
                keep: held.unwrap_or_default(),
                reason,
                message,
            }
        }
    }
}

fn not_in_pool_message(addr: IpAddr, reason: &str) -> String {
    format!(
        "{addr} is no longer in a pool that serves this Service ({reason}); it is kept, not moved: \
         restore the pool, or request another address with {LB_IPS_ANNOTATION}"
    )
}

fn condition(
    state: &ServiceState,
    status: ConditionStatus,
    reason: &str,
    message: String,
) -> Condition {
    Condition {
        type_: ADDRESS_CONDITION.to_owned(),
        status,
        reason: reason.to_owned(),
        message,
        observed_generation: state.generation,
    }
}

fn set_annotation(d: &mut Decision, state: &ServiceState, key: &str, value: Option<String>) {
    if state.service.annotations.get(key) != value.as_ref() {
        d.annotations.insert(key.to_owned(), value);
    }
}

fn released_event(addrs: &[IpAddr], why: &str) -> Event {
    Event {
        type_: EventType::Normal,
        reason: reasons::IP_RELEASED,
        message: format!("released {}: {why}", join(addrs)),
    }
}

fn join(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
