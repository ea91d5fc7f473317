//! The IPAM state: pools, their allocators and which Service holds which address.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr};

use crate::alloc::Allocator;
use crate::range::AddressFamily;
use crate::select::{PoolSpec, select_pools};
use crate::service::{IpFamilyPolicy, Service, ServiceKey, SharingInfo, TrafficPolicy};

mod table;

use table::{SlotId, Table};

/// The pool list could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Two pools carry the same name.
    #[error("two pools are named {name:?}")]
    DuplicatePoolName {
        /// The repeated name.
        name: String,
    },
}

/// Why a Service got no address. Every variant carries a reason a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssignError {
    /// A requested address is in no pool that may serve the Service.
    #[error("{addr} cannot be assigned: {reason}")]
    OutsidePools {
        /// The requested address.
        addr: IpAddr,
        /// Why no pool serving the Service holds it.
        reason: String,
    },
    /// A requested address is held by another Service and may not be shared.
    #[error("{addr} is in use by {by}: {reason}")]
    InUse {
        /// The requested address.
        addr: IpAddr,
        /// The Service holding it.
        by: ServiceKey,
        /// Why the two may not share it.
        reason: String,
    },
    /// Every pool that may serve the Service is out of addresses of a family.
    #[error("no free {family} address: {reason}")]
    Exhausted {
        /// The family asked for.
        family: AddressFamily,
        /// Which pools were tried.
        reason: String,
    },
    /// No pool may serve the Service automatically.
    #[error("no pool: {reason}")]
    NoPool {
        /// Why each pool was refused.
        reason: String,
    },
    /// `RequireDualStack` cannot be met.
    #[error("dual-stack unavailable: {reason}")]
    DualStackUnavailable {
        /// Why.
        reason: String,
    },
    /// The Service's request is malformed or contradicts itself.
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// Why.
        reason: String,
    },
}

/// The addresses a Service holds after [`Ipam::assign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The addresses, primary family first (requested addresses in request order).
    pub addresses: Vec<IpAddr>,
    /// Whether this call changed the state (false: the Service already held them).
    pub changed: bool,
}

/// A problem found while restoring assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreIssue {
    /// Two Services claimed an address they may not share; the earlier one keeps it.
    Duplicate {
        /// The address.
        addr: IpAddr,
        /// The Service that keeps it (restored earlier).
        kept: ServiceKey,
        /// The Service that loses it.
        dropped: ServiceKey,
        /// Why they may not share it.
        reason: String,
    },
    /// A Service holds an address in no pool that may serve it (the pool shrank or
    /// changed); it keeps it, flagged, and nothing is moved.
    OutsidePools {
        /// The Service.
        service: ServiceKey,
        /// The address.
        addr: IpAddr,
        /// Why no pool serving the Service holds it.
        reason: String,
    },
    /// The same Service appeared again in the list; the later entry was ignored.
    RepeatedService {
        /// The Service.
        service: ServiceKey,
    },
}

/// What [`Ipam::restore`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Addresses restored (counted once per Service holding them).
    pub restored: usize,
    /// Addresses not restored, in the order met.
    pub issues: Vec<RestoreIssue>,
}

/// The sharing information of every Service without a sharing key: whatever else it
/// carries, [`SharingInfo::conflict`] refuses it before looking at ports or policy.
static NO_SHARING: SharingInfo = SharingInfo {
    key: ServiceKey {
        namespace: String::new(),
        name: String::new(),
    },
    sharing_key: None,
    ports: Vec::new(),
    policy: TrafficPolicy::Cluster,
};

/// A source for one address of an automatic assignment.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// Reuse an address already held by compatible sharers.
    Shared(IpAddr),
    /// Allocate the next free address of the family from the pool (lowest, or highest
    /// with `highest_first`).
    Fresh(AddressFamily),
}

/// Pools, their allocators and the assignments `ServiceKey -> addresses`.
///
/// Deterministic: the same calls in the same order give the same results. An address
/// lying in several (overlapping) pools is marked allocated in every one of them, so
/// no pool can hand it out twice.
#[derive(Debug, Clone)]
pub struct Ipam {
    /// Sorted by (priority, name).
    specs: Vec<PoolSpec>,
    /// Parallel to `specs`.
    allocs: Vec<Allocator>,
    /// Who holds what: one compact slot per Service, indexed by key and by address.
    table: Table,
    /// The sharing information of the Services with a sharing key, by slot (with an
    /// empty `key`: the slot has it). A Service without one may share with nobody, so
    /// nothing is kept for it (see [`NO_SHARING`]).
    sharing: BTreeMap<SlotId, SharingInfo>,
    /// For each sharing key, the addresses held by Services with that key, with how
    /// many of them hold each: where [`Ipam::assign`] looks for an address to share.
    by_sharing_key: BTreeMap<String, BTreeMap<IpAddr, u32>>,
}

impl Ipam {
    /// An IPAM over `pools` with nothing assigned. Pool names must be unique.
    pub fn new(mut pools: Vec<PoolSpec>) -> Result<Self, ConfigError> {
        pools.sort_by(|a, b| (a.priority, a.name()).cmp(&(b.priority, b.name())));
        let mut names = BTreeSet::new();
        for spec in &pools {
            if !names.insert(spec.name()) {
                return Err(ConfigError::DuplicatePoolName {
                    name: spec.name().to_owned(),
                });
            }
        }
        let allocs = pools
            .iter()
            .map(|s| Allocator::new(s.pool.clone()))
            .collect();
        Ok(Self {
            specs: pools,
            allocs,
            table: Table::default(),
            sharing: BTreeMap::new(),
            by_sharing_key: BTreeMap::new(),
        })
    }

    /// Rebuilds the state from existing assignments before anything new is allocated.
    ///
    /// Entries are restored in slice order (the caller passes them oldest first, e.g. by
    /// creation timestamp then key); see [`Ipam::adopt`]. An address claimed by a later
    /// Service that may not share it with the holder is reported and not restored; an
    /// address outside every pool that may serve its Service is reported and kept
    /// (flagged, never handed to another Service); nothing is moved.
    pub fn restore(
        pools: Vec<PoolSpec>,
        services: &[(Service, Vec<IpAddr>)],
    ) -> Result<(Self, RestoreReport), ConfigError> {
        let mut ipam = Self::new(pools)?;
        let mut report = RestoreReport::default();
        for (svc, addrs) in services {
            let (restored, issues) = ipam.adopt(svc, addrs);
            report.restored += restored;
            report.issues.extend(issues);
        }
        Ok((ipam, report))
    }

    /// Takes over an existing assignment of `svc` (what [`Ipam::restore`] does for each
    /// entry; also for a Service met later whose status lists addresses the IPAM does
    /// not hold). Returns the number of addresses kept and the problems found.
    ///
    /// An address claimed by a Service it may not be shared with is not taken
    /// ([`RestoreIssue::Duplicate`]). An address in no pool that may serve `svc` (the pool
    /// shrank or changed) is reported ([`RestoreIssue::OutsidePools`]) but **kept**: it
    /// stays the Service's, is never handed to anyone else, and counts for sharing, until
    /// the Service is released or given other addresses; nothing is moved. A Service
    /// that already holds addresses is left as it is ([`RestoreIssue::RepeatedService`]).
    pub fn adopt(&mut self, svc: &Service, addrs: &[IpAddr]) -> (usize, Vec<RestoreIssue>) {
        let mut issues = Vec::new();
        if self.table.find(&svc.key).is_some() {
            issues.push(RestoreIssue::RepeatedService {
                service: svc.key.clone(),
            });
            return (0, issues);
        }
        let sharing = SharingInfo::of(svc);
        let mut kept = Vec::new();
        for &addr in addrs {
            if kept.contains(&addr) {
                continue;
            }
            if let Err((by, reason)) = self.shareable(addr, &sharing) {
                issues.push(RestoreIssue::Duplicate {
                    addr,
                    kept: by,
                    dropped: svc.key.clone(),
                    reason,
                });
                continue;
            }
            if let Err(reason) = self.serving_pool(svc, addr) {
                issues.push(RestoreIssue::OutsidePools {
                    service: svc.key.clone(),
                    addr,
                    reason,
                });
            }
            kept.push(addr);
        }
        let restored = kept.len();
        if !kept.is_empty() {
            self.hold(sharing, kept);
        }
        (restored, issues)
    }

    /// The addresses `key` holds that no pool serving `svc` allows any more (kept by
    /// [`Ipam::adopt`] or [`Ipam::restore`] after a pool shrank), with the reason.
    pub fn outside_pools(&self, svc: &Service) -> Vec<(IpAddr, String)> {
        self.addresses(&svc.key)
            .unwrap_or_default()
            .iter()
            .filter_map(|&a| self.serving_pool(svc, a).err().map(|why| (a, why)))
            .collect()
    }

    /// Gives `svc` its addresses, or says why it cannot have any.
    ///
    /// Requested addresses (annotations `kube-vip.io/loadbalancerIPs`,
    /// `metallb.io/loadBalancerIPs`, then `spec.loadBalancerIP`) are taken exactly;
    /// otherwise the first pool in [`select_pools`] order that may auto-assign and has
    /// free addresses serves the families `ip_family_policy` asks for. A Service that
    /// already holds addresses keeps them unless it now requests different ones, or its
    /// own change (sharing key, ports, traffic policy) makes it incompatible with the
    /// Services it shares an address with: then it gives that address up and is served
    /// like a new Service. Otherwise, on any error the state is unchanged.
    pub fn assign(&mut self, svc: &Service) -> Result<Assignment, AssignError> {
        let requested = svc
            .requested_addresses()
            .map_err(|reason| AssignError::InvalidRequest { reason })?;
        let sharing = SharingInfo::of(svc);
        if let Some(held) = self.addresses(&svc.key) {
            let held = held.to_vec();
            if !held.iter().all(|&a| self.shareable(a, &sharing).is_ok()) {
                // The Service's own change (sharing key, ports, policy) makes it
                // incompatible with the Services it shares an address with: it gives
                // its addresses up and is served as a new Service.
                self.release(&svc.key);
            } else {
                if self.sharing_changed(&svc.key, &sharing) {
                    // New sharing key, ports or policy, still compatible: keep the
                    // addresses and remember the new rules for the next sharer.
                    self.release(&svc.key);
                    self.hold(sharing.clone(), held.clone());
                }
                let same = requested.is_empty()
                    || (requested.len() == held.len()
                        && requested.iter().all(|a| held.contains(a)));
                if same {
                    return Ok(Assignment {
                        addresses: held,
                        changed: false,
                    });
                }
            }
        }
        let addrs = if requested.is_empty() {
            let sources = self.plan_auto(svc, &sharing)?;
            self.release(&svc.key);
            sources
                .into_iter()
                .map(|(i, src)| match src {
                    Source::Shared(addr) => addr,
                    Source::Fresh(family) => self.allocs[i]
                        .allocate_next(family)
                        .expect("planned from a non-zero free count"),
                })
                .collect()
        } else {
            self.check_requested(svc, &sharing, &requested)?;
            self.release(&svc.key);
            requested
        };
        self.hold(sharing, addrs.clone());
        Ok(Assignment {
            addresses: addrs,
            changed: true,
        })
    }

    /// Frees every address `key` holds; returns them (empty when it held none).
    ///
    /// An address shared with other Services stays held by them.
    pub fn release(&mut self, key: &ServiceKey) -> Vec<IpAddr> {
        let allocs = &mut self.allocs;
        let Some((id, addrs)) = self.table.remove(key, |addr| {
            for alloc in allocs.iter_mut() {
                alloc.release(addr);
            }
        }) else {
            return Vec::new();
        };
        if let Some(sharing) = self.sharing.remove(&id)
            && let Some(sharing_key) = sharing.sharing_key
            && let Some(held) = self.by_sharing_key.get_mut(&sharing_key)
        {
            for addr in &addrs {
                if let Some(n) = held.get_mut(addr) {
                    *n -= 1;
                    if *n == 0 {
                        held.remove(addr);
                    }
                }
            }
            if held.is_empty() {
                self.by_sharing_key.remove(&sharing_key);
            }
        }
        addrs
    }

    /// The addresses `key` holds.
    pub fn addresses(&self, key: &ServiceKey) -> Option<&[IpAddr]> {
        self.table.find(key).map(|id| self.table.addrs(id))
    }

    /// Every assignment, ordered by Service key.
    ///
    /// The keys are built on the call (the IPAM stores each key once, compactly), and
    /// the order is sorted on the call: O(n log n) in the number of Services.
    pub fn assignments(&self) -> impl Iterator<Item = (ServiceKey, &[IpAddr])> + '_ {
        self.table
            .ids_by_key()
            .into_iter()
            .map(|id| (self.table.key(id), self.table.addrs(id)))
    }

    /// The Services holding `addr`, ordered by key (more than one only when shared).
    pub fn holders(&self, addr: IpAddr) -> impl Iterator<Item = ServiceKey> + '_ {
        self.table.holders(addr).map(|id| self.table.key(id))
    }

    /// The pool entries, in decision order (priority, then name).
    pub fn pools(&self) -> &[PoolSpec] {
        &self.specs
    }

    /// The allocator of the pool named `name`.
    pub fn allocator(&self, name: &str) -> Option<&Allocator> {
        self.specs
            .iter()
            .position(|s| s.name() == name)
            .map(|i| &self.allocs[i])
    }

    /// The first pool (in decision order) that may serve `svc` and allows `addr`, or why
    /// there is none.
    pub fn serving_pool(&self, svc: &Service, addr: IpAddr) -> Result<&PoolSpec, String> {
        let mut why = Vec::new();
        for spec in &self.specs {
            if !spec.pool.contains(addr) {
                continue;
            }
            if let Some(reason) = spec.pool.exclusion(addr) {
                why.push(format!("excluded from pool {:?}: {reason}", spec.name()));
                continue;
            }
            match spec.serves(svc) {
                Ok(()) => return Ok(spec),
                Err(reason) => why.push(reason),
            }
        }
        if why.is_empty() {
            Err("it is in no pool's ranges; add it to a pool or request another address".into())
        } else {
            Err(why.join("; "))
        }
    }

    /// Whether the sharing rules stored for `key` differ from `sharing` in a way that
    /// matters (ports and policy matter only with a sharing key).
    fn sharing_changed(&self, key: &ServiceKey, sharing: &SharingInfo) -> bool {
        let Some(id) = self.table.find(key) else {
            return false;
        };
        match (self.sharing.get(&id), &sharing.sharing_key) {
            (None, None) => false,
            (Some(old), Some(new_key)) => {
                old.sharing_key.as_ref() != Some(new_key)
                    || old.ports != sharing.ports
                    || old.policy != sharing.policy
            }
            _ => true,
        }
    }

    /// `Ok` when the holders of `addr` (if any) may share it with `sharing`.
    fn shareable(&self, addr: IpAddr, sharing: &SharingInfo) -> Result<(), (ServiceKey, String)> {
        for id in self.table.holders(addr) {
            if self.table.is(id, &sharing.key) {
                continue;
            }
            let other = self.sharing.get(&id).unwrap_or(&NO_SHARING);
            sharing
                .conflict(other)
                .map_err(|r| (self.table.key(id), r))?;
        }
        Ok(())
    }

    fn check_requested(
        &self,
        svc: &Service,
        sharing: &SharingInfo,
        requested: &[IpAddr],
    ) -> Result<(), AssignError> {
        let v4 = requested.iter().filter(|a| a.is_ipv4()).count();
        let v6 = requested.len() - v4;
        if v4 > 1 || v6 > 1 {
            return Err(AssignError::InvalidRequest {
                reason: format!(
                    "at most one address per family may be requested, got {}",
                    join(requested)
                ),
            });
        }
        match svc.ip_family_policy {
            IpFamilyPolicy::SingleStack if requested.len() > 1 => {
                return Err(AssignError::InvalidRequest {
                    reason: "a SingleStack Service may request only one address".into(),
                });
            }
            IpFamilyPolicy::RequireDualStack if requested.len() < 2 => {
                return Err(AssignError::DualStackUnavailable {
                    reason: "the Service requires dual-stack but requests one address; request one IPv4 and one IPv6 address".into(),
                });
            }
            _ => {}
        }
        for &addr in requested {
            self.serving_pool(svc, addr)
                .map_err(|reason| AssignError::OutsidePools { addr, reason })?;
            self.shareable(addr, sharing)
                .map_err(|(by, reason)| AssignError::InUse { addr, by, reason })?;
        }
        Ok(())
    }

    /// An address of `family` for `sharing` from pool `i`, without changing anything.
    ///
    /// With a sharing key, an address already held by compatible Services with the same
    /// key is preferred (lowest first); finding it walks the addresses held under that
    /// sharing key only, never every held address.
    fn source(&self, i: usize, family: AddressFamily, sharing: &SharingInfo) -> Option<Source> {
        if let Some(sharing_key) = &sharing.sharing_key
            && let Some(held) = self.by_sharing_key.get(sharing_key)
        {
            // IPv4 addresses order before IPv6 ones.
            let first_v6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
            let candidates = match family {
                AddressFamily::V4 => held.range(..first_v6),
                AddressFamily::V6 => held.range(first_v6..),
            };
            let pool = &self.specs[i].pool;
            for &addr in candidates.map(|(addr, _)| addr) {
                if pool.is_allowed(addr) && self.shareable(addr, sharing).is_ok() {
                    return Some(Source::Shared(addr));
                }
            }
        }
        (self.allocs[i].free_count(family) > 0).then_some(Source::Fresh(family))
    }

    fn plan_auto(
        &self,
        svc: &Service,
        sharing: &SharingInfo,
    ) -> Result<Vec<(usize, Source)>, AssignError> {
        let selected =
            select_pools(&self.specs, svc).map_err(|reason| AssignError::NoPool { reason })?;
        let names: Vec<&str> = selected.iter().map(|s| s.name()).collect();
        // Indices into `self.specs` of the pools that may auto-assign; `specs` is already
        // in decision order, so index order is that order.
        let eligible: Vec<usize> = (0..self.specs.len())
            .filter(|&i| names.contains(&self.specs[i].name()) && self.specs[i].auto_for(svc))
            .collect();
        if eligible.is_empty() {
            return Err(AssignError::NoPool {
                reason: format!(
                    "pools {} may serve this Service but none has autoAssign; name one with metallb.io/address-pool or request an address",
                    quote(&names)
                ),
            });
        }
        let tried = quote(
            &eligible
                .iter()
                .map(|&i| self.specs[i].name())
                .collect::<Vec<_>>(),
        );
        let primary = svc.primary_family();
        let secondary = match primary {
            AddressFamily::V4 => AddressFamily::V6,
            AddressFamily::V6 => AddressFamily::V4,
        };
        let both = || {
            eligible.iter().find_map(|&i| {
                let a = self.source(i, primary, sharing)?;
                let b = self.source(i, secondary, sharing)?;
                Some(vec![(i, a), (i, b)])
            })
        };
        let one = |family| {
            eligible
                .iter()
                .find_map(|&i| Some(vec![(i, self.source(i, family, sharing)?)]))
        };
        let exhausted = |family| AssignError::Exhausted {
            family,
            reason: format!("pools {tried} have no free {family} address"),
        };
        match svc.ip_family_policy {
            IpFamilyPolicy::SingleStack => one(primary).ok_or_else(|| exhausted(primary)),
            IpFamilyPolicy::PreferDualStack => both()
                .or_else(|| one(primary))
                .or_else(|| one(secondary))
                .ok_or_else(|| exhausted(primary)),
            IpFamilyPolicy::RequireDualStack => {
                both().ok_or_else(|| AssignError::DualStackUnavailable {
                    reason: format!(
                        "no single pool among {tried} has a free IPv4 and a free IPv6 address"
                    ),
                })
            }
        }
    }

    /// Records `addrs` as held by `sharing.key` (the caller checked they may be).
    fn hold(&mut self, mut sharing: SharingInfo, addrs: Vec<IpAddr>) {
        let allocs = &mut self.allocs;
        let id = self.table.insert(&sharing.key, addrs, |addr| {
            for alloc in allocs.iter_mut() {
                if alloc.pool().is_allowed(addr) && !alloc.is_allocated(addr) {
                    alloc.allocate(addr).expect("allowed and not allocated");
                }
            }
        });
        if let Some(sharing_key) = &sharing.sharing_key {
            let held = self.by_sharing_key.entry(sharing_key.clone()).or_default();
            for &addr in self.table.addrs(id) {
                *held.entry(addr).or_insert(0) += 1;
            }
            sharing.key = ServiceKey::default();
            self.sharing.insert(id, sharing);
        }
    }
}

fn join(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn quote(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
