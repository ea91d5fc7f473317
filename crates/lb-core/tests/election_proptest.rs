//! Property tests for the speaker election: one owner per address, order independence,
//! minimal movement on joins and leaves, and the share moved on a join.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use lb_core::{
    AddressOwners, AnnounceMode, LeaseRecord, NodeInfo, OwnersWarning, ServiceAnnouncement,
    ServiceKey, Speaker, SpeakerConfig, SpeakerEvent, TrafficPolicy, assign_owners,
};
use proptest::prelude::*;

const NODE_POOL: usize = 12;

fn node(i: usize) -> String {
    format!("node-{i}")
}

fn arb_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]
}

fn arb_nodes(min: usize) -> impl Strategy<Value = BTreeSet<String>> {
    proptest::collection::btree_set(0..NODE_POOL, min..=NODE_POOL)
        .prop_map(|s| s.into_iter().map(node).collect())
}

/// Per address, one to three eligible sets (Services sharing it).
fn arb_eligible() -> impl Strategy<Value = BTreeMap<IpAddr, Vec<BTreeSet<String>>>> {
    proptest::collection::btree_map(
        arb_addr(),
        proptest::collection::vec(arb_nodes(0), 1..=3),
        1..40,
    )
}

/// Layer-2 owners of `addrs` when every address has the single eligible set `nodes`.
fn l2_owners(addrs: &[IpAddr], nodes: &BTreeSet<String>) -> BTreeMap<IpAddr, String> {
    let input: BTreeMap<IpAddr, Vec<BTreeSet<String>>> =
        addrs.iter().map(|&a| (a, vec![nodes.clone()])).collect();
    assign_owners(AnnounceMode::Layer2, &input)
        .into_iter()
        .map(|(a, o)| {
            assert_eq!(o.nodes.len(), 1);
            (a, o.nodes[0].clone())
        })
        .collect()
}

fn check_layer2(
    eligible: &BTreeMap<IpAddr, Vec<BTreeSet<String>>>,
    out: &BTreeMap<IpAddr, AddressOwners>,
) {
    assert_eq!(out.len(), eligible.len());
    for (addr, sets) in eligible {
        let o = &out[addr];
        let union: BTreeSet<&String> = sets.iter().flatten().collect();
        let common: BTreeSet<&String> = union
            .iter()
            .copied()
            .filter(|n| sets.iter().all(|s| s.contains(*n)))
            .collect();
        if union.is_empty() {
            assert!(o.nodes.is_empty());
            assert_eq!(o.warning, Some(OwnersWarning::NoEligibleNode));
            continue;
        }
        assert_eq!(o.nodes.len(), 1, "exactly one owner for {addr}");
        if common.is_empty() {
            assert!(union.contains(&o.nodes[0]));
            assert_eq!(o.warning, Some(OwnersWarning::DisjointSharedServices));
        } else {
            assert!(
                common.contains(&o.nodes[0]),
                "owner of {addr} is eligible for every Service"
            );
            assert_eq!(o.warning, None);
        }
    }
}

/// One input a speaker can be fed.
#[derive(Clone, Debug)]
enum Input {
    Node(NodeInfo),
    Lease(LeaseRecord),
    Service(ServiceAnnouncement),
    Endpoints(ServiceKey, Vec<String>),
}

fn arb_inputs() -> impl Strategy<Value = Vec<Input>> {
    let services = proptest::collection::vec(
        (
            proptest::collection::vec(0u8..24, 1..3),
            any::<bool>(),
            proptest::collection::vec(0..NODE_POOL, 0..4),
        ),
        1..12,
    );
    (arb_nodes(1), arb_nodes(0), arb_nodes(0), services).prop_map(
        |(nodes, excluded, released, services)| {
            let mut inputs = Vec::new();
            for n in &nodes {
                let mut info = NodeInfo::new(n.clone());
                if excluded.contains(n) && n != "node-0" {
                    info = info.with_label(lb_core::EXCLUDE_FROM_EXTERNAL_LB_LABEL, "");
                }
                inputs.push(Input::Node(info));
                let holder = if released.contains(n) { "" } else { n.as_str() };
                inputs.push(Input::Lease(LeaseRecord::new(
                    n.clone(),
                    holder,
                    Duration::from_secs(15),
                    "1",
                )));
            }
            for (i, (octets, local, ready)) in services.into_iter().enumerate() {
                let key = ServiceKey::new("ns", format!("s{i}"));
                let addrs = octets
                    .into_iter()
                    .map(|o| IpAddr::from([192, 0, 2, o]))
                    .collect();
                let mut svc = ServiceAnnouncement::new(key.clone(), addrs);
                if local {
                    svc.traffic_policy = TrafficPolicy::Local;
                    inputs.push(Input::Endpoints(key, ready.into_iter().map(node).collect()));
                }
                inputs.push(Input::Service(svc));
            }
            inputs
        },
    )
}

fn run(me: &str, mode: AnnounceMode, now: Instant, inputs: &[Input]) -> Speaker {
    let mut s = Speaker::new(SpeakerConfig::new(me, mode)).unwrap();
    for input in inputs {
        match input.clone() {
            Input::Node(n) => s.handle_node(n),
            Input::Lease(l) => s.handle_lease(now, l),
            Input::Service(svc) => s.handle_service(svc),
            Input::Endpoints(k, eps) => s.handle_endpoints(&k, eps),
        }
    }
    s
}

fn announced(s: &mut Speaker) -> BTreeSet<IpAddr> {
    let mut out = BTreeSet::new();
    while let Some(ev) = s.poll_event() {
        match ev {
            SpeakerEvent::Announce(a) => assert!(out.insert(a)),
            SpeakerEvent::Withdraw(a) => assert!(out.remove(&a)),
        }
    }
    out
}

proptest! {
    #[test]
    fn layer2_has_one_owner_per_address(eligible in arb_eligible()) {
        let out = assign_owners(AnnounceMode::Layer2, &eligible);
        check_layer2(&eligible, &out);
    }

    #[test]
    fn bgp_announces_from_the_union(eligible in arb_eligible()) {
        let out = assign_owners(AnnounceMode::Bgp, &eligible);
        for (addr, sets) in &eligible {
            let union: Vec<&String> = sets.iter().flatten().collect::<BTreeSet<_>>().into_iter().collect();
            prop_assert_eq!(out[addr].nodes.iter().collect::<Vec<_>>(), union);
        }
    }

    #[test]
    fn shuffled_inputs_give_the_same_decisions(
        (inputs, shuffled) in arb_inputs().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        layer2 in any::<bool>(),
    ) {
        let mode = if layer2 { AnnounceMode::Layer2 } else { AnnounceMode::Bgp };
        let now = Instant::now();
        let mut per_node_a = BTreeMap::new();
        let mut per_node_b = BTreeMap::new();
        let mut owners = None;
        for i in 0..NODE_POOL {
            let me = node(i);
            let mut a = run(&me, mode, now, &inputs);
            let mut b = run(&me, mode, now, &shuffled);
            prop_assert_eq!(a.owners(), b.owners());
            // Every node computes the same owners.
            match &owners {
                None => owners = Some(a.owners().clone()),
                Some(o) => prop_assert_eq!(o, a.owners()),
            }
            per_node_a.insert(me.clone(), announced(&mut a));
            per_node_b.insert(me, announced(&mut b));
        }
        prop_assert_eq!(&per_node_a, &per_node_b);
        let owners = owners.unwrap();
        if mode == AnnounceMode::Layer2 {
            // Exactly one speaker announces each address that has an eligible node.
            for (addr, o) in &owners {
                let speakers: Vec<&String> =
                    per_node_a.iter().filter(|(_, set)| set.contains(addr)).map(|(n, _)| n).collect();
                prop_assert_eq!(speakers.len(), o.nodes.len());
                prop_assert!(speakers.len() <= 1);
            }
        }
    }

    #[test]
    fn a_join_moves_addresses_only_to_the_new_node(
        nodes in arb_nodes(1),
        addrs in proptest::collection::vec(arb_addr(), 1..200),
        extra in 0..NODE_POOL + 4,
    ) {
        let joiner = node(extra);
        prop_assume!(!nodes.contains(&joiner));
        let before = l2_owners(&addrs, &nodes);
        let mut grown = nodes.clone();
        grown.insert(joiner.clone());
        let after = l2_owners(&addrs, &grown);
        for (addr, owner) in &after {
            if *owner != before[addr] {
                prop_assert_eq!(owner, &joiner, "{} moved elsewhere than to the new node", addr);
            }
        }
    }

    #[test]
    fn a_leave_moves_only_the_leavers_addresses(
        nodes in arb_nodes(2),
        addrs in proptest::collection::vec(arb_addr(), 1..200),
        pick in any::<prop::sample::Index>(),
    ) {
        let leaver = pick.get(&nodes.iter().cloned().collect::<Vec<_>>()).clone();
        let before = l2_owners(&addrs, &nodes);
        let mut shrunk = nodes.clone();
        shrunk.remove(&leaver);
        let after = l2_owners(&addrs, &shrunk);
        for (addr, owner) in &after {
            prop_assert_ne!(owner, &leaver);
            if before[addr] != leaver {
                prop_assert_eq!(owner, &before[addr], "{} moved though its owner stayed", addr);
            }
        }
    }
}

proptest! {
    // 4,000 addresses per case: fewer cases keep the test fast in debug builds.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_join_moves_about_one_in_n_plus_one(
        base in 0u32..u32::MAX - 4000,
        prefix in "[a-z]{1,8}",
        n in 3usize..12,
    ) {
        // Random address block and node naming; 4,000 addresses, N in 3..12.
        let addrs: Vec<IpAddr> = (0..4000u32).map(|i| IpAddr::from((base + i).to_be_bytes())).collect();
        let nodes: BTreeSet<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
        let before = l2_owners(&addrs, &nodes);
        let mut grown = nodes.clone();
        grown.insert(format!("{prefix}-{n}"));
        let after = l2_owners(&addrs, &grown);
        let moved = addrs.iter().filter(|a| before[a] != after[a]).count() as f64;
        let share = moved / addrs.len() as f64;
        let expected = 1.0 / (n + 1) as f64;
        prop_assert!(share > 0.5 * expected && share < 1.5 * expected, "share {share}, expected {expected}");
    }
}

#[test]
fn join_of_an_eleventh_node_moves_about_one_eleventh_of_10_000_addresses() {
    let addrs: Vec<IpAddr> = (0..10_000u32)
        .map(|i| IpAddr::from((0x0a00_0000 + i).to_be_bytes()))
        .collect();
    let nodes: BTreeSet<String> = (0..10).map(|i| format!("worker-{i}")).collect();
    let before = l2_owners(&addrs, &nodes);
    let mut grown = nodes.clone();
    grown.insert("worker-10".into());
    let after = l2_owners(&addrs, &grown);
    let moved: Vec<&IpAddr> = addrs.iter().filter(|a| before[a] != after[a]).collect();
    assert!(moved.iter().all(|a| after[*a] == "worker-10"));
    let share = moved.len() as f64 / addrs.len() as f64;
    let expected = 1.0 / 11.0;
    assert!(
        share > 0.5 * expected && share < 1.5 * expected,
        "moved share {share:.4}, expected {expected:.4}"
    );
    // And the load is even: every node owns within ±20 % of 10,000 / 11.
    let mut load: BTreeMap<&String, usize> = BTreeMap::new();
    for owner in after.values() {
        *load.entry(owner).or_default() += 1;
    }
    assert_eq!(load.len(), 11);
    let fair = addrs.len() as f64 / 11.0;
    for (node, count) in load {
        let ratio = count as f64 / fair;
        assert!(
            (0.8..1.2).contains(&ratio),
            "{node} owns {count}, fair share {fair:.0}"
        );
    }
}
