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
//! # Status
//!
//! Address ranges, pools, the allocator, the Service model, pool selection and the
//! IPAM decisions exist:
//!
//! - [`AddressRange`]: an inclusive IPv4 or IPv6 range parsed from a CIDR
//!   (`10.0.0.0/24`) or a range (`10.0.0.10-10.0.0.20`, `10.0.0.10 - 10.0.0.20`).
//! - [`Pool`]: named ranges minus excluded addresses ([`PoolOptions`]: MetalLB
//!   `avoidBuggyIPs`, and skipping IPv4 CIDR network and broadcast addresses);
//!   [`pools_overlap`] reports addresses shared by two pools.
//! - [`Allocator`]: per-pool, deterministic lowest-free-first allocation in O(log n)
//!   of the allocated addresses.
//! - [`Service`] / [`ServiceKey`]: the parts of a Service the IPAM reads (requested
//!   addresses from `kube-vip.io/loadbalancerIPs`, `metallb.io/loadBalancerIPs` and
//!   `spec.loadBalancerIP`; `metallb.io/address-pool`; `metallb.io/allow-shared-ip`).
//! - [`PoolSpec`] and [`select_pools`]: which pools may serve a Service (namespaces,
//!   label selector, requested pool), ordered by priority (lower first) then name.
//! - [`Ipam`]: assignments with typed, explained errors ([`AssignError`]), idempotent
//!   [`Ipam::assign`], [`Ipam::release`], [`Ipam::restore`] of existing assignments
//!   before anything new (duplicates and out-of-pool addresses reported in a
//!   [`RestoreReport`], never moved), dual-stack per `ipFamilyPolicy` (both families
//!   from one pool), and MetalLB-style sharing ([`sharing_conflict`]).
//!
//! - [`config`]: kube-vip-cloud-provider ConfigMaps, MetalLB `IPAddressPool` objects
//!   and this project's own `AddressPool` resource (JSON) read into one model.
//!
//! Service status, reconcile and election are not written yet. The IPAM does not filter on `loadBalancerClass` (the caller
//! decides which Services it handles), and a Service that keeps its addresses keeps
//! the ports and sharing key it had when it got them until it is released.
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
