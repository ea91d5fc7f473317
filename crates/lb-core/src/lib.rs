//! The decisions behind `type: LoadBalancer` on bare metal: address pools,
//! allocation, and the reconcile and election decisions.
//!
//! # Contract
//!
//! No Kubernetes client, no I/O and no clock. The crate takes plain values (Services,
//! pools, nodes, endpoints, leases and `now`) and returns decisions as data: which
//! address a Service gets and why it cannot get one, which node announces an address,
//! what status to write. Allocation is deterministic and costs O(log n) in the number
//! of allocated addresses. The same model reads kube-vip-cloud-provider ConfigMaps,
//! MetalLB `IPAddressPool` objects and this project's own pool resource.
//!
//! # Contents
//!
//! - Pools and allocation: [`AddressRange`], [`Pool`] ([`PoolOptions`]), [`Allocator`]
//!   (lowest free allowed address in O(log n)), [`PoolSpec`] and [`select_pools`]
//!   (priority, namespaces, namespace and service [`LabelSelector`]s), and [`config`]:
//!   kube-vip-cloud-provider ConfigMaps, MetalLB `IPAddressPool` objects and this
//!   project's `AddressPool` resource read into one model.
//! - The IPAM: [`Service`], [`Ipam`] (assign, release, [`Ipam::restore`] and
//!   [`Ipam::adopt`] of existing assignments before anything new, requested addresses
//!   and pools checked with typed [`AssignError`]s, dual-stack, sharing per
//!   [`sharing_conflict`]).
//! - Controller decisions: [`decide`] gives the finalizer, status, condition,
//!   annotations and Events for one [`ServiceState`]; [`restore_ipam`] rebuilds the IPAM
//!   from every Service's status at start-up.
//! - Speaker election: [`Speaker`], one node's state machine over per-node leases, and
//!   [`assign_owners`], the pure rendezvous-hash decision of which nodes announce which
//!   address (one owner in layer 2, every eligible node in BGP).
//!
//! The names this project uses (class, annotations, condition, lease) are listed in the
//! crate README.
//!
//! ```
//! use lb_core::{Ipam, Pool, PoolOptions, PoolSpec, Service};
//!
//! let pool = Pool::new("lab", vec!["10.0.0.0/30".parse()?], PoolOptions::default())?;
//! let mut ipam = Ipam::new(vec![PoolSpec::new(pool)])?;
//! let web = Service::new("default", "web");
//! assert_eq!(ipam.assign(&web)?.addresses, ["10.0.0.0".parse::<std::net::IpAddr>()?]);
//! assert!(!ipam.assign(&web)?.changed); // idempotent
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```
//! use std::net::IpAddr;
//!
//! use lb_core::{AddressFamily, Allocator, Pool, PoolOptions};
//!
//! let ranges = vec!["192.168.1.0/30".parse()?, "fd00::/120".parse()?];
//! let options = PoolOptions { skip_network_and_broadcast: true, ..PoolOptions::default() };
//! let mut alloc = Allocator::new(Pool::new("lab", ranges, options)?);
//! assert_eq!(alloc.allocate_next(AddressFamily::V4)?, "192.168.1.1".parse::<IpAddr>()?);
//! assert_eq!(alloc.free_count(AddressFamily::V4), 1);
//! assert_eq!(alloc.free_count(AddressFamily::V6), 256);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alloc;
pub mod config;
mod controller;
mod election;
mod ipam;
mod labels;
mod pool;
mod range;
mod select;
mod service;

pub use alloc::{AllocError, Allocator};
pub use config::{ConfigParseError, ConfigReport, ConfigWarning, PoolOverlap};
pub use controller::{
    ADDRESS_CONDITION, ALLOCATED_FROM_POOL_ANNOTATION, CLEANUP_FINALIZER, Condition,
    ConditionStatus, ControllerConfig, Decision, Event, EventType, FinalizerChange, Handling,
    ServiceState, decide, effective_service, handles, load_balancer_name, namespace_sharing_key,
    reasons, restore_ipam,
};
pub use election::{
    AddressOwners, AnnounceMode, DEFAULT_LEASE_DURATION, DEFAULT_RENEW_INTERVAL,
    DEFAULT_RETRY_PERIOD, EXCLUDE_FROM_EXTERNAL_LB_LABEL, Ineligible, LeaseRecord, LeaseWrite,
    NodeInfo, OwnersWarning, SPEAKER_LEASE_PREFIX, ServiceAnnouncement, Speaker, SpeakerConfig,
    SpeakerConfigError, SpeakerEvent, assign_owners, check_node, node_of_speaker_lease,
    rendezvous_owner, rendezvous_weight, speaker_lease_name,
};
pub use ipam::{AssignError, Assignment, ConfigError, Ipam, RestoreIssue, RestoreReport};
pub use labels::{LabelRequirement, LabelSelector, SelectorOperator};
pub use pool::{ExclusionReason, Pool, PoolError, PoolOptions, pools_overlap};
pub use range::{AddressFamily, AddressRange, RangeParseError};
pub use select::{PoolSpec, select_pools};
pub use service::{
    IpFamilyPolicy, KUBE_VIP_IPS_ANNOTATION, METALLB_IPS_ANNOTATION, METALLB_POOL_ANNOTATION,
    METALLB_SHARING_ANNOTATION, Protocol, Service, ServiceKey, TrafficPolicy, sharing_conflict,
};
