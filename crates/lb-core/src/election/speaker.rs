//! The speaker state machine of one node.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::assign::{AddressOwners, AnnounceMode, decide};
use super::lease::{LeaseRecord, LeaseTracker, LeaseWrite, speaker_lease_name};
use super::node::{Ineligible, NodeInfo, check_node};
use crate::labels::LabelSelector;
use crate::service::{Service, ServiceKey, TrafficPolicy};

/// Default lease duration: 15 s (kube-vip and Cilium use the same).
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// Default renew interval: 5 s (Cilium; kube-vip uses 10 s). Three renewals fit in a
/// lease, so two lost writes in a row do not cost a failover.
pub const DEFAULT_RENEW_INTERVAL: Duration = Duration::from_secs(5);
/// Default delay before retrying a failed lease write: 2 s (kube-vip and Cilium).
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);

/// A [`SpeakerConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpeakerConfigError {
    /// The node name is empty.
    #[error("the node name is empty")]
    EmptyNodeName,
    /// A duration is zero.
    #[error("{which} must be longer than zero")]
    ZeroDuration {
        /// Which setting.
        which: &'static str,
    },
    /// The renew interval or retry period is not shorter than the lease duration, so
    /// the lease would expire between two renewals.
    #[error("{which} ({value:?}) must be shorter than the lease duration ({lease:?})")]
    NotShorterThanLease {
        /// Which setting.
        which: &'static str,
        /// Its value.
        value: Duration,
        /// The lease duration.
        lease: Duration,
    },
}

/// Settings of one node's [`Speaker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerConfig {
    /// This node's name: the holder identity written to its lease.
    pub node_name: String,
    /// Layer 2 (one owner per address) or BGP (every eligible node).
    pub mode: AnnounceMode,
    /// The lease duration written to the own lease ([`DEFAULT_LEASE_DURATION`]).
    pub lease_duration: Duration,
    /// How often the own lease is renewed ([`DEFAULT_RENEW_INTERVAL`]).
    pub renew_interval: Duration,
    /// Delay before retrying a failed lease write ([`DEFAULT_RETRY_PERIOD`]).
    pub retry_period: Duration,
}

impl SpeakerConfig {
    /// The settings for `node_name` with the default timings.
    pub fn new(node_name: impl Into<String>, mode: AnnounceMode) -> Self {
        Self {
            node_name: node_name.into(),
            mode,
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_interval: DEFAULT_RENEW_INTERVAL,
            retry_period: DEFAULT_RETRY_PERIOD,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SpeakerConfigError> {
        if self.node_name.is_empty() {
            return Err(SpeakerConfigError::EmptyNodeName);
        }
        for (which, value) in [
            ("lease_duration", self.lease_duration),
            ("renew_interval", self.renew_interval),
            ("retry_period", self.retry_period),
        ] {
            if value.is_zero() {
                return Err(SpeakerConfigError::ZeroDuration { which });
            }
        }
        for (which, value) in [
            ("renew_interval", self.renew_interval),
            ("retry_period", self.retry_period),
        ] {
            if value >= self.lease_duration {
                return Err(SpeakerConfigError::NotShorterThanLease {
                    which,
                    value,
                    lease: self.lease_duration,
                });
            }
        }
        Ok(())
    }
}

/// What the election needs from one Service: its addresses and who may announce them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAnnouncement {
    /// Namespace and name.
    pub key: ServiceKey,
    /// The assigned addresses (`status.loadBalancer.ingress`).
    pub addresses: Vec<IpAddr>,
    /// `spec.externalTrafficPolicy`: with `Local`, only nodes with a ready endpoint
    /// (see [`Speaker::handle_endpoints`]) are eligible.
    pub traffic_policy: TrafficPolicy,
    /// `nodeSelectors` of the advertisement that applies to the Service's pool (MetalLB
    /// `L2Advertisement` / `BGPAdvertisement`); empty admits every node.
    pub node_selectors: Vec<LabelSelector>,
}

impl ServiceAnnouncement {
    /// A `Cluster`-policy announcement with no node selector.
    pub fn new(key: ServiceKey, addresses: Vec<IpAddr>) -> Self {
        Self {
            key,
            addresses,
            ..Self::default()
        }
    }

    /// The announcement of `service` with the `addresses` it was assigned.
    pub fn for_service(service: &Service, addresses: Vec<IpAddr>) -> Self {
        Self {
            key: service.key.clone(),
            addresses,
            traffic_policy: service.external_traffic_policy,
            node_selectors: Vec::new(),
        }
    }
}

/// What this node must start or stop announcing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpeakerEvent {
    /// Start announcing the address (layer 2: add it, send gratuitous ARP / unsolicited
    /// NA and answer for it; BGP: advertise the /32 or /128).
    Announce(IpAddr),
    /// Stop announcing the address.
    Withdraw(IpAddr),
}

/// The election state machine of one node (sans-IO).
///
/// Feed it what the node's watches report (`handle_*`), then drain
/// [`poll_event`](Self::poll_event), perform [`poll_lease_write`](Self::poll_lease_write)
/// and arm a timer for [`poll_timeout`](Self::poll_timeout), calling
/// [`handle_timeout`](Self::handle_timeout) when it fires. The node's own lease, as
/// reported back by the watch, decides its own liveness exactly as it does for the
/// other nodes, so that every node computes the same owners from the same records.
///
/// Events come out in a deterministic order: after each change, the withdrawals in
/// ascending address order, then the announcements in ascending address order.
#[derive(Debug, Clone)]
pub struct Speaker {
    config: SpeakerConfig,
    own_lease: String,
    leases: LeaseTracker,
    nodes: BTreeMap<String, NodeInfo>,
    services: BTreeMap<ServiceKey, ServiceAnnouncement>,
    endpoints: BTreeMap<ServiceKey, BTreeSet<String>>,
    owners: BTreeMap<IpAddr, AddressOwners>,
    /// What this node announces, as told to the caller through the queued events.
    announced: BTreeSet<IpAddr>,
    events: VecDeque<SpeakerEvent>,
    /// The inputs changed since `owners` was computed.
    dirty: bool,
    /// When the own lease is next due (`None`: at once).
    next_write: Option<Instant>,
    shut_down: bool,
    release_sent: bool,
}

impl Speaker {
    /// A speaker for `config.node_name` that knows nothing yet.
    pub fn new(config: SpeakerConfig) -> Result<Self, SpeakerConfigError> {
        config.validate()?;
        Ok(Self {
            own_lease: speaker_lease_name(&config.node_name),
            config,
            leases: LeaseTracker::default(),
            nodes: BTreeMap::new(),
            services: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            owners: BTreeMap::new(),
            announced: BTreeSet::new(),
            events: VecDeque::new(),
            dirty: false,
            next_write: None,
            shut_down: false,
            release_sent: false,
        })
    }

    /// The settings.
    pub fn config(&self) -> &SpeakerConfig {
        &self.config
    }

    /// A speaker Lease was added or updated (any node's, this one's included).
    ///
    /// The lease's validity runs from the first `now` at which this record (holder,
    /// renew time, resourceVersion, duration) was seen; an unchanged record does not
    /// extend it. An empty holder makes the node not live at once.
    pub fn handle_lease(&mut self, now: Instant, lease: LeaseRecord) {
        if self.shut_down && lease.node == self.config.node_name {
            return;
        }
        self.dirty |= self.leases.observe(now, lease);
        self.dirty |= self.leases.expire(now);
    }

    /// A speaker Lease was deleted: the node is not live at once.
    pub fn handle_lease_deleted(&mut self, now: Instant, node: &str) {
        self.dirty |= self.leases.remove(node);
        self.dirty |= self.leases.expire(now);
    }

    /// A Node was added or updated.
    pub fn handle_node(&mut self, node: NodeInfo) {
        if self.nodes.get(&node.name) != Some(&node) {
            self.nodes.insert(node.name.clone(), node);
            self.dirty = true;
        }
    }

    /// A Node was deleted.
    pub fn handle_node_removed(&mut self, name: &str) {
        self.dirty |= self.nodes.remove(name).is_some();
    }

    /// A Service was added or updated (or its addresses changed). Repeated addresses
    /// are ignored; an announcement with no address is kept (its endpoints are kept).
    pub fn handle_service(&mut self, mut service: ServiceAnnouncement) {
        service.addresses.sort_unstable();
        service.addresses.dedup();
        if self.services.get(&service.key) != Some(&service) {
            self.services.insert(service.key.clone(), service);
            self.dirty = true;
        }
    }

    /// A Service was deleted (or no longer needs announcing); its endpoints are
    /// forgotten too.
    pub fn handle_service_removed(&mut self, key: &ServiceKey) {
        self.endpoints.remove(key);
        self.dirty |= self.services.remove(key).is_some();
    }

    /// The nodes running a ready endpoint of the Service `key` (from its
    /// EndpointSlices), replacing what was known. Only read for
    /// `externalTrafficPolicy: Local`; may arrive before the Service.
    pub fn handle_endpoints<I, S>(&mut self, key: &ServiceKey, nodes: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let nodes: BTreeSet<String> = nodes.into_iter().map(Into::into).collect();
        if self.endpoints.get(key) != Some(&nodes) {
            let local = self
                .services
                .get(key)
                .is_some_and(|s| s.traffic_policy == TrafficPolicy::Local);
            self.endpoints.insert(key.clone(), nodes);
            self.dirty |= local;
        }
    }

    /// Time passed: leases not renewed in time expire.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.dirty |= self.leases.expire(now);
    }

    /// The next announcement change, if any.
    pub fn poll_event(&mut self) -> Option<SpeakerEvent> {
        self.refresh();
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called: the first
    /// instant at which a live lease expires, or the next own renewal, whichever is
    /// first. Before the first [`poll_lease_write`](Self::poll_lease_write) the own
    /// renewal is due at once and is not included.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let renewal = if self.shut_down {
            None
        } else {
            self.next_write
        };
        match (self.leases.next_expiry(), renewal) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The own lease write due at `now`, if any: a renewal at once, then every
    /// [`SpeakerConfig::renew_interval`]; after [`shutdown`](Self::shutdown), one
    /// release and nothing more. Call it after creating the speaker, after
    /// [`handle_timeout`](Self::handle_timeout) and after `shutdown`.
    pub fn poll_lease_write(&mut self, now: Instant) -> Option<LeaseWrite> {
        if self.shut_down {
            if self.release_sent {
                return None;
            }
            self.release_sent = true;
            return Some(LeaseWrite {
                lease_name: self.own_lease.clone(),
                holder_identity: String::new(),
                lease_duration: Duration::from_secs(1),
            });
        }
        if self.next_write.is_some_and(|due| now < due) {
            return None;
        }
        self.next_write = now.checked_add(self.config.renew_interval);
        Some(LeaseWrite {
            lease_name: self.own_lease.clone(),
            holder_identity: self.config.node_name.clone(),
            lease_duration: self.config.lease_duration,
        })
    }

    /// The last lease write failed: try again after [`SpeakerConfig::retry_period`]
    /// (or at the regular renewal, if that is sooner).
    pub fn handle_lease_write_failed(&mut self, now: Instant) {
        if self.shut_down {
            // Let the release be retried.
            self.release_sent = false;
            return;
        }
        let retry = now.checked_add(self.config.retry_period);
        self.next_write = match (self.next_write, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Graceful shutdown: withdrawals for every announced address are queued at once,
    /// the next [`poll_lease_write`](Self::poll_lease_write) releases the lease (empty
    /// holder) so the successors take over without waiting for expiry, and the speaker
    /// announces nothing afterwards.
    pub fn shutdown(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        let me = self.config.node_name.clone();
        self.leases.release_locally(&me);
        self.leases.expire(now);
        self.dirty = true;
        self.refresh();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// The addresses this node announces, per the events queued so far.
    pub fn announced(&mut self) -> &BTreeSet<IpAddr> {
        self.refresh();
        &self.announced
    }

    /// Who announces each known address, as this node sees it, with warnings to report.
    pub fn owners(&mut self) -> &BTreeMap<IpAddr, AddressOwners> {
        self.refresh();
        &self.owners
    }

    /// Whether `node`'s lease is live as this node observes it.
    pub fn is_live(&self, node: &str) -> bool {
        self.leases.is_live(node)
    }

    /// Why `node` may not announce the addresses of Service `key`; `Ok` when it may.
    pub fn eligibility(&self, node: &str, key: &ServiceKey) -> Result<(), Ineligible> {
        let service = self.services.get(key).ok_or(Ineligible::UnknownService)?;
        let info = self.nodes.get(node).ok_or(Ineligible::UnknownNode)?;
        self.check(info, service)
    }

    fn check(&self, node: &NodeInfo, service: &ServiceAnnouncement) -> Result<(), Ineligible> {
        let live = self.leases.is_live(&node.name);
        check_node(node, live, &service.node_selectors)?;
        if service.traffic_policy == TrafficPolicy::Local
            && !self
                .endpoints
                .get(&service.key)
                .is_some_and(|eps| eps.contains(&node.name))
        {
            return Err(Ineligible::NoReadyEndpoints);
        }
        Ok(())
    }

    /// Recomputes the owners when an input changed and queues the announcement diff.
    fn refresh(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        // The node-level rules are evaluated once per distinct selector list; `Local`
        // Services then filter that set by their endpoints.
        let mut sets: Vec<BTreeSet<&str>> = Vec::new();
        let mut by_selectors: BTreeMap<&[LabelSelector], usize> = BTreeMap::new();
        let mut per_address: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
        for service in self.services.values() {
            if service.addresses.is_empty() {
                continue;
            }
            let selectors = service.node_selectors.as_slice();
            let base = *by_selectors.entry(selectors).or_insert_with(|| {
                sets.push(
                    self.nodes
                        .values()
                        .filter(|n| check_node(n, self.leases.is_live(&n.name), selectors).is_ok())
                        .map(|n| n.name.as_str())
                        .collect(),
                );
                sets.len() - 1
            });
            let index = match service.traffic_policy {
                TrafficPolicy::Cluster => base,
                TrafficPolicy::Local => {
                    let ready = self.endpoints.get(&service.key);
                    let local: BTreeSet<&str> = sets[base]
                        .iter()
                        .copied()
                        .filter(|n| ready.is_some_and(|eps| eps.contains(*n)))
                        .collect();
                    sets.push(local);
                    sets.len() - 1
                }
            };
            for &addr in &service.addresses {
                per_address.entry(addr).or_default().push(index);
            }
        }
        let mode = self.config.mode;
        let owners: BTreeMap<IpAddr, AddressOwners> = per_address
            .iter()
            .map(|(&addr, indices)| {
                let refs: Vec<&BTreeSet<&str>> = indices.iter().map(|&i| &sets[i]).collect();
                (addr, decide(mode, addr, &refs))
            })
            .collect();
        let me = self.config.node_name.as_str();
        let wanted: BTreeSet<IpAddr> = if self.shut_down {
            BTreeSet::new()
        } else {
            owners
                .iter()
                .filter(|(_, o)| o.contains(me))
                .map(|(&addr, _)| addr)
                .collect()
        };
        self.owners = owners;
        for &addr in self.announced.difference(&wanted) {
            self.events.push_back(SpeakerEvent::Withdraw(addr));
        }
        for &addr in wanted.difference(&self.announced) {
            self.events.push_back(SpeakerEvent::Announce(addr));
        }
        self.announced = wanted;
    }
}
