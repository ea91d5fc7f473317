//! A reference model of kube-vip-cloud-provider's address allocation, and the
//! allocation workloads that the `lb_alloc` bench and the `lb-alloc-ratio` program share.
//!
//! # The reference model
//!
//! [`KubeVipReference`] reproduces the cost structure of kube-vip-cloud-provider's
//! allocator (written from a description of its behaviour, not from its code):
//!
//! 1. For each allocation it walks every Service and collects the addresses in use
//!    into a `Vec` — O(in use).
//! 2. It builds a set of those addresses, again on every call — O(in use).
//! 3. It scans the pool from its first address, skipping IPv4 addresses ending in `.0`
//!    and `.255`, and takes the first address that is not in the set — O(position of
//!    the first free address), which for a pool filled from the start is O(in use).
//!
//! Nothing is kept between allocations: the state is only the list of Services and
//! their addresses, as the Kubernetes API gives it. The model is generous to the peer:
//! addresses are held as [`IpAddr`] values (kube-vip parses strings) and the set is a
//! [`HashSet`] of them.
//!
//! The `.0`/`.255` skip applies to IPv4 only (the notation has no IPv6 meaning); the
//! IPv4 pool of the workloads sets [`PoolOptions::avoid_buggy_ips`] so that lb-core
//! skips exactly the same addresses, and both allocators hand out the same address
//! sequence (checked by [`check_same_sequence`]).
//!
//! # The workloads
//!
//! - [`SERVICES`] single-stack Services from an IPv4 `/12` ([`V4_POOL`]) or an IPv6
//!   `/108` ([`V6_POOL`]), through [`Ipam::assign`] and through the raw [`Allocator`];
//! - one allocation when [`EXISTING`] addresses are already allocated;
//! - [`Ipam::restore`] of a snapshot of [`SERVICES`] Services.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lb_core::{
    AddressFamily, AddressRange, Allocator, Ipam, Pool, PoolOptions, PoolSpec, Service, ServiceKey,
};

/// How many Services the fill and restore workloads allocate.
pub const SERVICES: usize = 100_000;

/// The numbers of existing allocations at which one allocation is measured.
pub const EXISTING: [usize; 3] = [1_000, 10_000, 100_000];

/// The IPv4 pool of the workloads: a `/12` (1,048,576 addresses, 1,040,384 allowed).
pub const V4_POOL: &str = "10.0.0.0/12";

/// The IPv6 pool of the workloads: a `/108` (1,048,576 addresses).
pub const V6_POOL: &str = "fd00::/108";

/// The namespace of every workload Service.
pub const NAMESPACE: &str = "bench";

/// One Service as the reference sees it: a name and the addresses it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefService {
    /// `namespace/name`.
    pub name: String,
    /// The addresses written to the Service.
    pub addresses: Vec<IpAddr>,
}

/// kube-vip-cloud-provider's allocator, as a model: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct KubeVipReference {
    family: AddressFamily,
    start: u128,
    end: u128,
    services: Vec<RefService>,
}

fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(family: AddressFamily, v: u128) -> IpAddr {
    match family {
        AddressFamily::V4 => IpAddr::V4(Ipv4Addr::from(
            u32::try_from(v).expect("IPv4 value fits in 32 bits"),
        )),
        AddressFamily::V6 => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

impl KubeVipReference {
    /// A reference allocator over `range` with no Services.
    pub fn new(range: AddressRange) -> Self {
        Self {
            family: range.family(),
            start: to_u128(range.start()),
            end: to_u128(range.end()),
            services: Vec::new(),
        }
    }

    /// Whether the scan skips `v`: an IPv4 address ending in `.0` or `.255`.
    fn skipped(&self, v: u128) -> bool {
        self.family == AddressFamily::V4 && matches!(v % 256, 0 | 255)
    }

    /// The first free address: collect the addresses in use from every Service, build
    /// a set of them, scan the pool from its start. O(in use) + O(position).
    pub fn next_free(&self) -> Option<IpAddr> {
        let in_use: Vec<IpAddr> = self
            .services
            .iter()
            .flat_map(|s| s.addresses.iter().copied())
            .collect();
        let set: HashSet<IpAddr> = in_use.iter().copied().collect();
        (self.start..=self.end)
            .filter(|&v| !self.skipped(v))
            .map(|v| from_u128(self.family, v))
            .find(|a| !set.contains(a))
    }

    /// Allocates the first free address to a new Service `name` and records it.
    pub fn allocate(&mut self, name: impl Into<String>) -> Option<IpAddr> {
        let addr = self.next_free()?;
        self.services.push(RefService {
            name: name.into(),
            addresses: vec![addr],
        });
        Some(addr)
    }

    /// Records a Service that already holds `addresses` (as read from the API).
    pub fn push(&mut self, service: RefService) {
        self.services.push(service);
    }

    /// The Services recorded.
    pub fn services(&self) -> &[RefService] {
        &self.services
    }

    /// A reference holding `n` Services on the first `n` allowed addresses, built in
    /// O(n) (the state `n` calls of [`allocate`](Self::allocate) would reach).
    pub fn filled(range: AddressRange, n: usize) -> Self {
        let mut r = Self::new(range);
        let addrs: Vec<IpAddr> = (r.start..=r.end)
            .filter(|&v| !r.skipped(v))
            .take(n)
            .map(|v| from_u128(r.family, v))
            .collect();
        assert_eq!(addrs.len(), n, "the pool holds {n} allowed addresses");
        r.services = addrs
            .into_iter()
            .enumerate()
            .map(|(i, a)| RefService {
                name: format!("{NAMESPACE}/{}", service_name(i)),
                addresses: vec![a],
            })
            .collect();
        r
    }
}

/// The pool string of `family`.
pub fn pool_cidr(family: AddressFamily) -> &'static str {
    match family {
        AddressFamily::V4 => V4_POOL,
        AddressFamily::V6 => V6_POOL,
    }
}

/// The pool range of `family`.
pub fn pool_range(family: AddressFamily) -> AddressRange {
    pool_cidr(family).parse().expect("valid pool CIDR")
}

/// The lb-core pool of `family`; IPv4 avoids `.0`/`.255` like the reference.
pub fn pool(family: AddressFamily) -> Pool {
    let options = PoolOptions {
        avoid_buggy_ips: family == AddressFamily::V4,
        ..PoolOptions::default()
    };
    Pool::new("bench", vec![pool_range(family)], options).expect("valid pool")
}

/// The one-pool spec of `family`.
pub fn pool_spec(family: AddressFamily) -> PoolSpec {
    PoolSpec::new(pool(family))
}

/// The name of workload Service `i`.
pub fn service_name(i: usize) -> String {
    format!("svc-{i:06}")
}

/// Workload Service `i`: single-stack, of `family`.
pub fn service(family: AddressFamily, i: usize) -> Service {
    let mut s = Service::new(NAMESPACE, service_name(i));
    s.ip_families = vec![family];
    s
}

/// Workload Services `0..n` of `family`.
pub fn services(family: AddressFamily, n: usize) -> Vec<Service> {
    (0..n).map(|i| service(family, i)).collect()
}

/// An empty IPAM over the pool of `family`.
pub fn empty_ipam(family: AddressFamily) -> Ipam {
    Ipam::new(vec![pool_spec(family)]).expect("one pool")
}

/// Assigns every Service of `svcs` in order; returns the number assigned.
pub fn assign_all(ipam: &mut Ipam, svcs: &[Service]) -> usize {
    for s in svcs {
        ipam.assign(s).expect("the pool has room");
    }
    svcs.len()
}

/// An IPAM of `family` holding Services `0..n`.
pub fn filled_ipam(family: AddressFamily, n: usize) -> Ipam {
    let mut ipam = empty_ipam(family);
    assign_all(&mut ipam, &services(family, n));
    ipam
}

/// Allocates `n` addresses of `family` from `alloc`; returns the last.
pub fn allocate_n(alloc: &mut Allocator, family: AddressFamily, n: usize) -> Option<IpAddr> {
    let mut last = None;
    for _ in 0..n {
        last = Some(alloc.allocate_next(family).expect("the pool has room"));
    }
    last
}

/// An allocator of `family` with its first `n` addresses allocated.
pub fn filled_allocator(family: AddressFamily, n: usize) -> Allocator {
    let mut alloc = Allocator::new(pool(family));
    allocate_n(&mut alloc, family, n);
    alloc
}

/// The Service probed by the one-allocation workloads (not among `0..SERVICES`).
pub fn probe(family: AddressFamily) -> Service {
    let mut s = Service::new(NAMESPACE, "probe");
    s.ip_families = vec![family];
    s
}

/// One allocation in a filled IPAM, undone: assign `probe`, then release it.
pub fn assign_release(ipam: &mut Ipam, probe: &Service) -> IpAddr {
    let addr = ipam.assign(probe).expect("the pool has room").addresses[0];
    ipam.release(&probe.key);
    addr
}

/// The snapshot [`Ipam::restore`] reads: every Service of `ipam` with its addresses.
pub fn snapshot(ipam: &Ipam, family: AddressFamily) -> Vec<(Service, Vec<IpAddr>)> {
    ipam.assignments()
        .map(|(key, addrs): (ServiceKey, &[IpAddr])| {
            let mut s = Service::new(key.namespace, key.name);
            s.ip_families = vec![family];
            (s, addrs.to_vec())
        })
        .collect()
}

/// Restores `snap` over the pool of `family`; returns the number of addresses restored.
pub fn restore(family: AddressFamily, snap: &[(Service, Vec<IpAddr>)]) -> (Ipam, usize) {
    let (ipam, report) = Ipam::restore(vec![pool_spec(family)], snap).expect("one pool");
    assert!(report.issues.is_empty(), "clean snapshot: {report:?}");
    (ipam, report.restored)
}

/// Checks that lb-core and the reference hand out the same first `n` addresses of
/// `family`, and the same next one after `n`; panics otherwise.
pub fn check_same_sequence(family: AddressFamily, n: usize) {
    let mut ipam = empty_ipam(family);
    let mut reference = KubeVipReference::new(pool_range(family));
    for (i, s) in services(family, n).iter().enumerate() {
        let ours = ipam.assign(s).expect("room").addresses;
        let theirs = reference
            .allocate(format!("{NAMESPACE}/{}", service_name(i)))
            .expect("room");
        assert_eq!(ours, [theirs], "allocation {i} of {family}");
    }
    let filled = KubeVipReference::filled(pool_range(family), n);
    assert_eq!(filled.services(), reference.services());
}
