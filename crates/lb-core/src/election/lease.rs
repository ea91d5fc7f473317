//! Speaker leases: names, the records read from the API, the writes a speaker makes,
//! and liveness by observation time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The prefix of a speaker lease name; the rest is the node name.
pub const SPEAKER_LEASE_PREFIX: &str = "metalkit-speaker-";

/// The name of the `coordination.k8s.io` Lease through which `node`'s speaker shows it
/// is alive: `metalkit-speaker-<node>`.
///
/// Node names are DNS subdomains of at most 253 characters, so the result may exceed
/// the 253-character limit for Lease names only for names longer than 236 characters.
pub fn speaker_lease_name(node: &str) -> String {
    format!("{SPEAKER_LEASE_PREFIX}{node}")
}

/// The node a speaker lease belongs to, or `None` when `lease_name` is not a speaker
/// lease (the caller may watch a namespace holding other leases).
pub fn node_of_speaker_lease(lease_name: &str) -> Option<&str> {
    lease_name
        .strip_prefix(SPEAKER_LEASE_PREFIX)
        .filter(|node| !node.is_empty())
}

/// A speaker Lease as read from the API (a watch event or a list item).
///
/// `renew_time` and `resource_version` are opaque: they are only compared with the
/// previous record of the same lease, to tell whether it changed. The wall-clock time
/// in `renew_time` is never compared with a clock, so clock skew between nodes does
/// not matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The node whose lease this is (see [`node_of_speaker_lease`]).
    pub node: String,
    /// `spec.holderIdentity`; empty (or absent) when the node released the lease.
    pub holder_identity: String,
    /// `spec.leaseDurationSeconds`.
    pub lease_duration: Duration,
    /// `spec.renewTime` as written, if any.
    pub renew_time: Option<String>,
    /// `metadata.resourceVersion`.
    pub resource_version: String,
}

impl LeaseRecord {
    /// A record with no `renew_time`.
    pub fn new(
        node: impl Into<String>,
        holder_identity: impl Into<String>,
        lease_duration: Duration,
        resource_version: impl Into<String>,
    ) -> Self {
        Self {
            node: node.into(),
            holder_identity: holder_identity.into(),
            lease_duration,
            renew_time: None,
            resource_version: resource_version.into(),
        }
    }

    /// Whether the lease is held (its holder identity is not empty).
    pub fn is_held(&self) -> bool {
        !self.holder_identity.is_empty()
    }
}

/// A write of the speaker's own Lease, returned by
/// [`Speaker::poll_lease_write`](super::Speaker::poll_lease_write).
///
/// The caller creates or updates the Lease `lease_name` with `spec.holderIdentity =
/// holder_identity`, `spec.leaseDurationSeconds` = `lease_duration` rounded up to
/// whole seconds and `spec.renewTime` = its wall clock (and `acquireTime` when the
/// holder changes). A release has an empty holder and a 1 s duration, as client-go
/// writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseWrite {
    /// The Lease to write: [`speaker_lease_name`] of the speaker's node.
    pub lease_name: String,
    /// The holder to write: the node name, or empty to release.
    pub holder_identity: String,
    /// The duration to write.
    pub lease_duration: Duration,
}

impl LeaseWrite {
    /// Whether this write releases the lease.
    pub fn is_release(&self) -> bool {
        self.holder_identity.is_empty()
    }
}

/// What the observer last saw of one lease.
#[derive(Debug, Clone)]
struct Observed {
    holder_identity: String,
    lease_duration: Duration,
    renew_time: Option<String>,
    resource_version: String,
    /// When this observer last saw the record change.
    observed_at: Instant,
    /// The last instant at which the lease is still valid; `None` when it never expires
    /// (the sum overflows) or the lease is not live.
    valid_until: Option<Instant>,
    live: bool,
}

impl Observed {
    fn same_record(&self, rec: &LeaseRecord) -> bool {
        self.holder_identity == rec.holder_identity
            && self.lease_duration == rec.lease_duration
            && self.renew_time == rec.renew_time
            && self.resource_version == rec.resource_version
    }
}

/// Liveness of every node's lease as seen by one observer, client-go style.
#[derive(Debug, Clone, Default)]
pub(super) struct LeaseTracker {
    leases: BTreeMap<String, Observed>,
    /// (last valid instant, node) for every live lease that can expire.
    deadlines: BTreeSet<(Instant, String)>,
}

impl LeaseTracker {
    /// Records a lease; returns whether the node's liveness changed.
    pub(super) fn observe(&mut self, now: Instant, rec: LeaseRecord) -> bool {
        let was_live = self.is_live(&rec.node);
        let observed_at = match self.leases.get(&rec.node) {
            Some(old) if old.same_record(&rec) => old.observed_at,
            _ => now,
        };
        let valid_until = observed_at.checked_add(rec.lease_duration);
        // Expired when `now > observed_at + duration`.
        let live = rec.is_held() && valid_until.is_none_or(|until| now <= until);
        self.unschedule(&rec.node);
        if live && let Some(until) = valid_until {
            self.deadlines.insert((until, rec.node.clone()));
        }
        self.leases.insert(
            rec.node,
            Observed {
                holder_identity: rec.holder_identity,
                lease_duration: rec.lease_duration,
                renew_time: rec.renew_time,
                resource_version: rec.resource_version,
                observed_at,
                valid_until: if live { valid_until } else { None },
                live,
            },
        );
        was_live != live
    }

    /// Forgets a deleted lease; returns whether the node was live.
    pub(super) fn remove(&mut self, node: &str) -> bool {
        self.unschedule(node);
        self.leases.remove(node).is_some_and(|o| o.live)
    }

    /// Marks this observer's view of `node` as released (graceful shutdown of the
    /// observer itself); returns whether it was live.
    pub(super) fn release_locally(&mut self, node: &str) -> bool {
        self.unschedule(node);
        match self.leases.get_mut(node) {
            Some(o) if o.live => {
                o.live = false;
                o.valid_until = None;
                true
            }
            _ => false,
        }
    }

    /// Expires the leases whose validity ended before `now`; returns whether any did.
    pub(super) fn expire(&mut self, now: Instant) -> bool {
        let mut changed = false;
        while let Some((until, _)) = self.deadlines.first()
            && *until < now
        {
            let Some((_, node)) = self.deadlines.pop_first() else {
                break;
            };
            if let Some(o) = self.leases.get_mut(&node) {
                o.live = false;
                o.valid_until = None;
                changed = true;
            }
        }
        changed
    }

    /// The first instant at which a live lease counts as expired.
    pub(super) fn next_expiry(&self) -> Option<Instant> {
        self.deadlines
            .first()
            .map(|(until, _)| *until + Duration::from_nanos(1))
    }

    pub(super) fn is_live(&self, node: &str) -> bool {
        self.leases.get(node).is_some_and(|o| o.live)
    }

    fn unschedule(&mut self, node: &str) {
        if let Some(until) = self.leases.get(node).and_then(|o| o.valid_until) {
            self.deadlines.remove(&(until, node.to_owned()));
        }
    }
}
