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
//! Address ranges, pools and the allocator exist:
//!
//! - [`AddressRange`]: an inclusive IPv4 or IPv6 range parsed from a CIDR
//!   (`10.0.0.0/24`) or a range (`10.0.0.10-10.0.0.20`, `10.0.0.10 - 10.0.0.20`).
//! - [`Pool`]: named ranges minus excluded addresses ([`PoolOptions`]: MetalLB
//!   `avoidBuggyIPs`, and skipping IPv4 CIDR network and broadcast addresses);
//!   [`pools_overlap`] reports addresses shared by two pools.
//! - [`Allocator`]: per-pool, deterministic lowest-free-first allocation in O(log n)
//!   of the allocated addresses.
//!
//! Reading kube-vip and MetalLB objects, Service reconcile and election are not
//! written yet.
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
mod pool;
mod range;

pub use alloc::{AllocError, Allocator};
pub use pool::{ExclusionReason, Pool, PoolError, PoolOptions, pools_overlap};
pub use range::{AddressFamily, AddressRange, RangeParseError};
