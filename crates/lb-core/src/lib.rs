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
//! The workspace issue created this crate; its contents land with the `lb-core`
//! issue. Nothing is exported yet.
