//! The Service model: the plain values the IPAM reads from a Kubernetes Service.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::range::AddressFamily;

/// This project's annotation: comma-separated requested addresses (read first).
pub const LB_IPS_ANNOTATION: &str = "lb.metalkit.dev/loadBalancerIPs";
/// This project's annotation naming the pool a Service must be served from.
pub const LB_POOL_ANNOTATION: &str = "lb.metalkit.dev/address-pool";
/// This project's annotation holding the sharing key.
pub const LB_ALLOW_SHARED_IP_ANNOTATION: &str = "lb.metalkit.dev/allow-shared-ip";
/// Annotation kube-vip-cloud-provider writes and reads: comma-separated requested addresses.
pub const KUBE_VIP_IPS_ANNOTATION: &str = "kube-vip.io/loadbalancerIPs";
/// MetalLB annotation: comma-separated requested addresses.
pub const METALLB_IPS_ANNOTATION: &str = "metallb.io/loadBalancerIPs";
/// MetalLB annotation naming the pool a Service must be served from.
pub const METALLB_POOL_ANNOTATION: &str = "metallb.io/address-pool";
/// MetalLB annotation holding the sharing key.
pub const METALLB_SHARING_ANNOTATION: &str = "metallb.io/allow-shared-ip";

/// A Service's identity: namespace and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl ServiceKey {
    /// The key `namespace/name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// `spec.ipFamilyPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IpFamilyPolicy {
    /// One address, of the first family in `ip_families` (IPv4 when empty).
    #[default]
    SingleStack,
    /// Both families when one pool can serve both, else one.
    PreferDualStack,
    /// Both families from one pool, or nothing.
    RequireDualStack,
}

/// A port protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
        })
    }
}

/// `spec.externalTrafficPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TrafficPolicy {
    /// Traffic may be forwarded to endpoints on any node.
    #[default]
    Cluster,
    /// Traffic goes only to endpoints on the receiving node.
    Local,
}

/// The parts of a `type: LoadBalancer` Service the IPAM decides on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    /// Namespace and name.
    pub key: ServiceKey,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.labels`, matched by pool service selectors.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`: requested addresses, pool and sharing key.
    pub annotations: BTreeMap<String, String>,
    /// The labels of the Service's namespace, matched by pool namespace selectors.
    pub namespace_labels: BTreeMap<String, String>,
    /// `spec.loadBalancerClass`. The IPAM does not filter on it: the caller decides
    /// whether this controller handles the Service before asking the IPAM.
    pub load_balancer_class: Option<String>,
    /// The deprecated `spec.loadBalancerIP` (Kubernetes 1.24), honoured as a request.
    pub load_balancer_ip: Option<IpAddr>,
    /// `spec.ipFamilyPolicy`.
    pub ip_family_policy: IpFamilyPolicy,
    /// `spec.ipFamilies`, primary first.
    pub ip_families: Vec<AddressFamily>,
    /// `spec.ports` as (protocol, port).
    pub ports: Vec<(Protocol, u16)>,
    /// `spec.externalTrafficPolicy`.
    pub external_traffic_policy: TrafficPolicy,
}

impl Service {
    /// A Service `namespace/name` with every other field at its default.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            key: ServiceKey::new(namespace, name),
            ..Self::default()
        }
    }

    /// The requested addresses: this project's annotation, the kube-vip annotation,
    /// the MetalLB annotation, then `spec.loadBalancerIP`, without repeats, in that
    /// order.
    ///
    /// Fails with a readable reason when an annotation item is not an address.
    pub fn requested_addresses(&self) -> Result<Vec<IpAddr>, String> {
        let mut out: Vec<IpAddr> = Vec::new();
        for annotation in [
            LB_IPS_ANNOTATION,
            KUBE_VIP_IPS_ANNOTATION,
            METALLB_IPS_ANNOTATION,
        ] {
            let Some(value) = self.annotations.get(annotation) else {
                continue;
            };
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let addr: IpAddr = item.parse().map_err(|_| {
                    format!("annotation {annotation}: {item:?} is not an IP address")
                })?;
                if !out.contains(&addr) {
                    out.push(addr);
                }
            }
        }
        if let Some(addr) = self.load_balancer_ip
            && !out.contains(&addr)
        {
            out.push(addr);
        }
        Ok(out)
    }

    /// The requested pool: `lb.metalkit.dev/address-pool`, else
    /// `metallb.io/address-pool` (trimmed, empty ignored).
    pub fn requested_pool(&self) -> Option<&str> {
        self.requested_pool_with_source().map(|(_, pool)| pool)
    }

    /// The requested pool and the annotation it came from.
    pub fn requested_pool_with_source(&self) -> Option<(&'static str, &str)> {
        self.first_annotation(&[LB_POOL_ANNOTATION, METALLB_POOL_ANNOTATION])
    }

    /// The sharing key: `lb.metalkit.dev/allow-shared-ip`, else
    /// `metallb.io/allow-shared-ip` (trimmed, empty ignored).
    pub fn sharing_key(&self) -> Option<&str> {
        self.first_annotation(&[LB_ALLOW_SHARED_IP_ANNOTATION, METALLB_SHARING_ANNOTATION])
            .map(|(_, key)| key)
    }

    fn first_annotation(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|&name| {
            self.annotations
                .get(name)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|v| (name, v))
        })
    }

    /// The primary family: the first of `ip_families`, IPv4 when empty.
    pub fn primary_family(&self) -> AddressFamily {
        self.ip_families
            .first()
            .copied()
            .unwrap_or(AddressFamily::V4)
    }
}

/// Why two Services may not hold the same address; `Ok` when they may.
///
/// MetalLB's rule: both carry the same `metallb.io/allow-shared-ip` key, no
/// (protocol, port) pair appears in both, and the traffic policies are compatible.
/// MetalLB lets `Local` Services share only when they select the same pods; the IPAM
/// does not see pods, so it accepts two `Local` Services and leaves the pod check to
/// the caller, and it refuses to mix `Cluster` and `Local`.
pub fn sharing_conflict(a: &Service, b: &Service) -> Result<(), String> {
    SharingInfo::of(a).conflict(&SharingInfo::of(b))
}

/// What sharing decisions need from a Service, kept for each holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharingInfo {
    pub(crate) key: ServiceKey,
    pub(crate) sharing_key: Option<String>,
    pub(crate) ports: Vec<(Protocol, u16)>,
    pub(crate) policy: TrafficPolicy,
}

impl SharingInfo {
    pub(crate) fn of(svc: &Service) -> Self {
        let mut ports = svc.ports.clone();
        ports.sort_unstable();
        ports.dedup();
        Self {
            key: svc.key.clone(),
            sharing_key: svc.sharing_key().map(str::to_owned),
            ports,
            policy: svc.external_traffic_policy,
        }
    }

    pub(crate) fn conflict(&self, other: &Self) -> Result<(), String> {
        let (Some(mine), Some(theirs)) = (&self.sharing_key, &other.sharing_key) else {
            return Err(format!(
                "both Services need the same sharing key ({LB_ALLOW_SHARED_IP_ANNOTATION} or {METALLB_SHARING_ANNOTATION}) to share an address"
            ));
        };
        if mine != theirs {
            return Err(format!("sharing keys differ ({mine:?} and {theirs:?})"));
        }
        if self.policy != other.policy {
            return Err(
                "externalTrafficPolicy differs (Cluster and Local Services cannot share)".into(),
            );
        }
        // Both port lists are sorted: merge-walk for a common pair.
        let (mut i, mut j) = (0, 0);
        while i < self.ports.len() && j < other.ports.len() {
            match self.ports[i].cmp(&other.ports[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let (proto, port) = self.ports[i];
                    return Err(format!("both Services use port {proto}/{port}"));
                }
            }
        }
        Ok(())
    }
}
