//! Nodes and the node-level eligibility rules.

use std::collections::BTreeMap;

use crate::labels::{LabelSelector, any_matches};

/// The standard Kubernetes label that keeps a node out of external load balancers.
/// Its presence (any value, even empty) excludes the node; MetalLB honours it too.
pub const EXCLUDE_FROM_EXTERNAL_LB_LABEL: &str =
    "node.kubernetes.io/exclude-from-external-load-balancers";

/// The parts of a Node the election reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Whether the `NetworkUnavailable` condition has status `True`.
    pub network_unavailable: bool,
}

impl NodeInfo {
    /// A node with no labels whose network is available.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The node with one more label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Whether the node carries [`EXCLUDE_FROM_EXTERNAL_LB_LABEL`].
    pub fn is_excluded(&self) -> bool {
        self.labels.contains_key(EXCLUDE_FROM_EXTERNAL_LB_LABEL)
    }
}

/// Why a node may not announce a Service's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Ineligible {
    /// No Node object is known under that name.
    #[error("the node is not known")]
    UnknownNode,
    /// The node carries `node.kubernetes.io/exclude-from-external-load-balancers`.
    #[error("the node carries the label {EXCLUDE_FROM_EXTERNAL_LB_LABEL}")]
    ExcludedByLabel,
    /// The node's `NetworkUnavailable` condition is true.
    #[error("the node's NetworkUnavailable condition is true")]
    NetworkUnavailable,
    /// The node's speaker lease is missing, released or expired.
    #[error("the node's speaker lease is missing, released or expired")]
    NotLive,
    /// No node selector of the Service's advertisement matches the node's labels.
    #[error("no node selector of the advertisement matches the node")]
    SelectorMismatch,
    /// `externalTrafficPolicy: Local` and the node runs no ready endpoint of the Service.
    #[error("externalTrafficPolicy is Local and the node has no ready endpoint")]
    NoReadyEndpoints,
    /// The speaker knows no Service under that key.
    #[error("the Service is not known")]
    UnknownService,
}

/// The node-level rules, in this order: exclusion label, `NetworkUnavailable`, lease
/// liveness (`live`), then `selectors` (empty admits every node). The endpoint rule of
/// `externalTrafficPolicy: Local` is per Service and checked by the caller.
pub fn check_node(
    node: &NodeInfo,
    live: bool,
    selectors: &[LabelSelector],
) -> Result<(), Ineligible> {
    if node.is_excluded() {
        Err(Ineligible::ExcludedByLabel)
    } else if node.network_unavailable {
        Err(Ineligible::NetworkUnavailable)
    } else if !live {
        Err(Ineligible::NotLive)
    } else if !any_matches(selectors, &node.labels) {
        Err(Ineligible::SelectorMismatch)
    } else {
        Ok(())
    }
}
