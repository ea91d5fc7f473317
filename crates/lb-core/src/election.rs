//! Speaker election: which nodes announce which address.
//!
//! # Rules
//!
//! - **Layer 2 (ARP/NDP)**: exactly one node announces an address, chosen among the
//!   nodes eligible for it. **BGP**: every eligible node announces it.
//! - A node is **eligible** for a Service when all of these hold (see [`check_node`]):
//!   its Node object is known; it does not carry the label
//!   [`EXCLUDE_FROM_EXTERNAL_LB_LABEL`] (any value); its `NetworkUnavailable` condition
//!   is not true; its speaker lease is live; it matches one of the Service's
//!   [`LabelSelector`](crate::LabelSelector)s (MetalLB `L2Advertisement`/`BGPAdvertisement`
//!   `nodeSelectors`, with `matchLabels` and `matchExpressions`; no selector means every
//!   node); and, with
//!   `externalTrafficPolicy: Local`, it runs a ready endpoint of the Service.
//! - **Shared addresses** (several Services on one IP, see
//!   [`sharing_conflict`](crate::sharing_conflict)): in layer 2 the one owner is chosen
//!   from the *intersection* of the Services' eligible sets; when that is empty it is
//!   chosen from the union and [`OwnersWarning::DisjointSharedServices`] says so. In BGP a
//!   node announces the address when it is eligible for any of its Services.
//!
//! # Owner choice: rendezvous hashing
//!
//! The layer-2 owner of an address is the eligible node with the highest
//! [`rendezvous_weight`]`(address, node)`, ties going to the smaller node name. The
//! weight is FNV-1a 64 over a fixed byte encoding of the address and the node name,
//! followed by the splitmix64 finaliser: written out here, independent of platform,
//! endianness, Rust version and process (never `std`'s `RandomState`), so every node
//! computes the same owner from the same inputs. Highest-random-weight hashing gives:
//!
//! - an address moves only when its owner leaves or stops being eligible;
//! - when a node joins, only the addresses the new node wins move, to it
//!   (an expected `1/(N+1)` share of them);
//! - load spreads evenly over the eligible nodes.
//!
//! # Liveness and write economy
//!
//! Each node's speaker holds **one** `coordination.k8s.io` Lease named
//! [`speaker_lease_name`]`(node)` (`metalkit-speaker-<node>`) and renews it every
//! [`SpeakerConfig::renew_interval`]. Liveness is read from those leases the way
//! client-go's leader election does it, robust to clock skew between nodes: the lease's
//! `renewTime` is never compared with a clock; instead each observer remembers the local
//! [`Instant`](std::time::Instant) at which it last saw the lease record change (holder,
//! renew time, resourceVersion or duration), and the lease counts as expired when
//! `now > observed_at + lease_duration`. A lease with an empty holder, or a deleted
//! lease, means the node gave up: it is not live at once.
//!
//! Ownership is then a pure function of (addresses, eligible nodes) computed identically
//! on every node: no per-Service lease, no per-Service write. In steady state the
//! election writes **one Lease update per node per renew interval**, whatever the number
//! of Services: `N / 5 s` with the defaults, 720 writes per node per hour.
//!
//! Timings ([`DEFAULT_LEASE_DURATION`] 15 s, [`DEFAULT_RENEW_INTERVAL`] 5 s,
//! [`DEFAULT_RETRY_PERIOD`] 2 s) follow Cilium: three renewals fit in a lease, so two
//! lost writes in a row do not cost a failover. A crashed node is replaced at most
//! 15 s after the last renewal the others observed; a node that shuts down gracefully
//! ([`Speaker::shutdown`]) withdraws its addresses and releases its lease (empty holder)
//! at once, and the successors take over as soon as they see the release.
//!
//! # Compared with kube-vip and MetalLB
//!
//! - **kube-vip** with `svc_election` keeps one Lease per Service: S Services cost S
//!   lease renewals per renew interval (every 10 s by default) whatever the number of
//!   nodes, plus one watch stream of churn per Service, and failover waits for the
//!   Service's lease to expire (about 15 s). Here the write rate is N per interval,
//!   independent of S, and a graceful shutdown fails over immediately.
//! - **MetalLB** also elects statelessly by hashing over live nodes, but learns
//!   liveness from memberlist (a gossip protocol on its own port, measured failover
//!   4 s to 45 s, split brain admitted in its docs). Here liveness comes from the API
//!   server the speakers already watch: no extra port, and every node judges liveness
//!   from the same Lease records.
//!
//! # Sans-IO
//!
//! [`Speaker`] is the state machine of one node, in the style of `quinn-proto`: the
//! caller feeds it watch events (`handle_*`) with `now`, drains
//! [`Speaker::poll_event`] (announce / withdraw), writes what
//! [`Speaker::poll_lease_write`] returns and calls [`Speaker::handle_timeout`] at
//! [`Speaker::poll_timeout`]. [`assign_owners`] is the same decision as a pure
//! function for a controller or a test.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use lb_core::{
//!     AnnounceMode, LeaseRecord, NodeInfo, ServiceAnnouncement, ServiceKey, Speaker,
//!     SpeakerConfig, SpeakerEvent,
//! };
//!
//! let now = Instant::now();
//! let mut speaker = Speaker::new(SpeakerConfig::new("node-a", AnnounceMode::Layer2))?;
//! // The speaker's own lease write; the watch then reports the lease back.
//! let write = speaker.poll_lease_write(now).expect("first renewal is due at once");
//! assert_eq!(write.lease_name, "metalkit-speaker-node-a");
//! speaker.handle_lease(now, LeaseRecord::new("node-a", "node-a", Duration::from_secs(15), "1"));
//! speaker.handle_node(NodeInfo::new("node-a"));
//! let vip = "192.0.2.10".parse()?;
//! speaker.handle_service(ServiceAnnouncement::new(ServiceKey::new("default", "web"), vec![vip]));
//! assert_eq!(speaker.poll_event(), Some(SpeakerEvent::Announce(vip)));
//! // Without a renewal observed, the lease expires 15 s later.
//! speaker.handle_timeout(now + Duration::from_secs(16));
//! assert_eq!(speaker.poll_event(), Some(SpeakerEvent::Withdraw(vip)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod assign;
mod hash;
mod lease;
mod node;
mod speaker;

pub use assign::{AddressOwners, AnnounceMode, OwnersWarning, assign_owners};
pub use hash::{rendezvous_owner, rendezvous_weight};
pub use lease::{
    LeaseRecord, LeaseWrite, SPEAKER_LEASE_PREFIX, node_of_speaker_lease, speaker_lease_name,
};
pub use node::{EXCLUDE_FROM_EXTERNAL_LB_LABEL, Ineligible, NodeInfo, check_node};
pub use speaker::{
    DEFAULT_LEASE_DURATION, DEFAULT_RENEW_INTERVAL, DEFAULT_RETRY_PERIOD, ServiceAnnouncement,
    Speaker, SpeakerConfig, SpeakerConfigError, SpeakerEvent,
};
