//! The pure owner decision: addresses and eligible node sets in, announcers out.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::hash::rendezvous_owner;

/// How addresses are announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AnnounceMode {
    /// ARP (IPv4) / NDP (IPv6): exactly one node answers for an address.
    #[default]
    Layer2,
    /// BGP: every eligible node advertises the address.
    Bgp,
}

/// Something the caller should report about an address's announcers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum OwnersWarning {
    /// Layer 2: the Services sharing the address have no eligible node in common; the
    /// owner was chosen from the union of their eligible nodes, so some of them receive
    /// traffic on a node that is not eligible for them (for example without a local
    /// endpoint under `externalTrafficPolicy: Local`).
    #[error(
        "the Services sharing this address have no eligible node in common; the owner was chosen from the union"
    )]
    DisjointSharedServices,
    /// No node is eligible: nobody announces the address.
    #[error("no node is eligible to announce this address")]
    NoEligibleNode,
}

/// The nodes announcing one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressOwners {
    /// Sorted by name. Layer 2: at most one node. BGP: every eligible node.
    pub nodes: Vec<String>,
    /// Set when the decision needs explaining (a fallback, or nobody announces).
    pub warning: Option<OwnersWarning>,
}

impl AddressOwners {
    /// Whether `node` announces the address.
    pub fn contains(&self, node: &str) -> bool {
        self.nodes.iter().any(|n| n == node)
    }
}

/// Who announces each address.
///
/// `eligible` maps each address to one eligible-node set per Service using it (several
/// sets when Services share the address). Layer 2: the owner is the
/// [`rendezvous_owner`] of the intersection of the sets, or of their union with
/// [`OwnersWarning::DisjointSharedServices`] when the intersection is empty. BGP: the
/// union. An address with no eligible node gets no announcer and
/// [`OwnersWarning::NoEligibleNode`]; an address with no set at all is treated the same.
///
/// The result depends only on the sets' contents: the same on every node.
///
/// ```
/// use std::collections::{BTreeMap, BTreeSet};
///
/// use lb_core::{AnnounceMode, assign_owners};
///
/// let all: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
/// let input = BTreeMap::from([("192.0.2.1".parse()?, vec![all])]);
/// let arp = assign_owners(AnnounceMode::Layer2, &input);
/// assert_eq!(arp[&"192.0.2.1".parse()?].nodes.len(), 1);
/// let bgp = assign_owners(AnnounceMode::Bgp, &input);
/// assert_eq!(bgp[&"192.0.2.1".parse()?].nodes, ["a", "b", "c"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn assign_owners<S>(
    mode: AnnounceMode,
    eligible: &BTreeMap<IpAddr, Vec<BTreeSet<S>>>,
) -> BTreeMap<IpAddr, AddressOwners>
where
    S: AsRef<str> + Ord,
{
    eligible
        .iter()
        .map(|(&addr, sets)| {
            let sets: Vec<&BTreeSet<S>> = sets.iter().collect();
            (addr, decide(mode, addr, &sets))
        })
        .collect()
}

/// The decision for one address.
pub(super) fn decide<S>(mode: AnnounceMode, addr: IpAddr, sets: &[&BTreeSet<S>]) -> AddressOwners
where
    S: AsRef<str> + Ord,
{
    let union = || {
        let mut all: BTreeSet<&str> = BTreeSet::new();
        for set in sets {
            all.extend(set.iter().map(AsRef::as_ref));
        }
        all
    };
    let (nodes, warning): (Vec<String>, Option<OwnersWarning>) = match mode {
        AnnounceMode::Bgp => {
            let all = union();
            (all.into_iter().map(str::to_owned).collect(), None)
        }
        AnnounceMode::Layer2 => {
            let Some((first, rest)) = sets.split_first() else {
                return no_one();
            };
            let common: Vec<&S> = first
                .iter()
                .filter(|n| rest.iter().all(|s| s.contains(*n)))
                .collect();
            match rendezvous_owner(addr, common) {
                Some(owner) => (vec![owner.to_owned()], None),
                None => {
                    let all = union();
                    match rendezvous_owner(addr, all.iter().copied()) {
                        Some(owner) => (
                            vec![owner.to_owned()],
                            Some(OwnersWarning::DisjointSharedServices),
                        ),
                        None => (Vec::new(), None),
                    }
                }
            }
        }
    };
    if nodes.is_empty() {
        return no_one();
    }
    AddressOwners { nodes, warning }
}

fn no_one() -> AddressOwners {
    AddressOwners {
        nodes: Vec::new(),
        warning: Some(OwnersWarning::NoEligibleNode),
    }
}
