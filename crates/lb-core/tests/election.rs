//! Table tests for the speaker election: eligibility rules, lease liveness, graceful
//! release, shared addresses, BGP, determinism and the write economy.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use lb_core::{
    AnnounceMode, EXCLUDE_FROM_EXTERNAL_LB_LABEL, Ineligible, LabelSelector, LeaseRecord,
    LeaseWrite, NodeInfo, OwnersWarning, ServiceAnnouncement, ServiceKey, Speaker, SpeakerConfig,
    SpeakerConfigError, SpeakerEvent, TrafficPolicy, assign_owners, node_of_speaker_lease,
    rendezvous_owner, rendezvous_weight, speaker_lease_name,
};

const LEASE: Duration = Duration::from_secs(15);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key(name: &str) -> ServiceKey {
    ServiceKey::new("default", name)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn held(node: &str, rv: &str) -> LeaseRecord {
    LeaseRecord::new(node, node, LEASE, rv)
}

fn speaker(node: &str, mode: AnnounceMode) -> Speaker {
    Speaker::new(SpeakerConfig::new(node, mode)).unwrap()
}

/// A speaker for `me` that knows `nodes` (all live at `now`).
fn speaker_with(me: &str, mode: AnnounceMode, nodes: &[NodeInfo], now: Instant) -> Speaker {
    let mut s = speaker(me, mode);
    for n in nodes {
        s.handle_node(n.clone());
        s.handle_lease(now, held(&n.name, "1"));
    }
    s
}

fn names(list: &[&str]) -> Vec<NodeInfo> {
    list.iter().map(|n| NodeInfo::new(*n)).collect()
}

fn drain(s: &mut Speaker) -> Vec<SpeakerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Addresses 10.0.<i/256>.<i%256>.
fn addrs(n: usize) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]))
        .collect()
}

/// An address whose rendezvous owner among `nodes` is `owner`.
fn address_won_by(owner: &str, nodes: &[&str]) -> IpAddr {
    addrs(1000)
        .into_iter()
        .find(|&a| rendezvous_owner(a, nodes) == Some(owner))
        .unwrap()
}

fn owners_of(s: &mut Speaker, addr: IpAddr) -> Vec<String> {
    s.owners()
        .get(&addr)
        .map(|o| o.nodes.clone())
        .unwrap_or_default()
}

#[test]
fn rendezvous_weight_is_pinned() {
    // The definition is part of the cluster protocol: every speaker, on any platform and
    // in any version, must compute these values.
    assert_eq!(
        rendezvous_weight(ip("10.0.0.1"), "node-a"),
        0x1d4b_db19_73ac_4963
    );
    assert_eq!(
        rendezvous_weight(ip("192.0.2.10"), "worker-1"),
        0x759f_93ab_c4c6_72d0
    );
    assert_eq!(
        rendezvous_weight(ip("2001:db8::1"), "node-a"),
        0xce1e_19f3_1c4c_7f66
    );
    // Order and repeats of the candidates do not matter.
    let a = rendezvous_owner(ip("10.0.0.1"), ["x", "y", "z"]);
    assert_eq!(a, rendezvous_owner(ip("10.0.0.1"), ["z", "y", "x", "y"]));
    assert_eq!(rendezvous_owner(ip("10.0.0.1"), Vec::<&str>::new()), None);
}

#[test]
fn lease_names() {
    assert_eq!(speaker_lease_name("node-a"), "metalkit-speaker-node-a");
    assert_eq!(
        node_of_speaker_lease("metalkit-speaker-node-a"),
        Some("node-a")
    );
    assert_eq!(node_of_speaker_lease("metalkit-speaker-"), None);
    assert_eq!(node_of_speaker_lease("kube-vip-lease"), None);
}

#[test]
fn exclusion_label_with_any_value_keeps_a_node_out() {
    let now = Instant::now();
    for value in ["", "true", "false", "whatever"] {
        let nodes = vec![
            NodeInfo::new("a"),
            NodeInfo::new("b").with_label(EXCLUDE_FROM_EXTERNAL_LB_LABEL, value),
            NodeInfo::new("c"),
        ];
        for mode in [AnnounceMode::Layer2, AnnounceMode::Bgp] {
            let mut s = speaker_with("b", mode, &nodes, now);
            for (i, addr) in addrs(64).into_iter().enumerate() {
                s.handle_service(ServiceAnnouncement::new(key(&format!("s{i}")), vec![addr]));
            }
            assert!(
                drain(&mut s).is_empty(),
                "excluded node announced ({value:?})"
            );
            assert!(s.owners().values().all(|o| !o.contains("b")));
            assert!(s.owners().values().all(|o| !o.nodes.is_empty()));
            if mode == AnnounceMode::Bgp {
                assert!(s.owners().values().all(|o| o.nodes == ["a", "c"]));
            }
            assert_eq!(
                s.eligibility("b", &key("s0")),
                Err(Ineligible::ExcludedByLabel)
            );
            assert_eq!(s.eligibility("a", &key("s0")), Ok(()));
        }
    }
}

#[test]
fn node_selectors_match_labels() {
    let now = Instant::now();
    let nodes = vec![
        NodeInfo::new("a").with_label("zone", "east"),
        NodeInfo::new("b").with_label("zone", "west"),
        NodeInfo::new("c")
            .with_label("zone", "east")
            .with_label("rack", "r1"),
        NodeInfo::new("d"),
    ];
    let east = LabelSelector::from_labels([("zone", "east")]);
    let r1 = LabelSelector::from_labels([("zone", "east"), ("rack", "r1")]);
    let west = LabelSelector::from_labels([("zone", "west")]);
    // (selectors, BGP announcers)
    let table: Vec<(Vec<LabelSelector>, Vec<&str>)> = vec![
        (vec![], vec!["a", "b", "c", "d"]),
        (vec![LabelSelector::default()], vec!["a", "b", "c", "d"]),
        (vec![east.clone()], vec!["a", "c"]),
        (vec![r1.clone()], vec!["c"]),
        (vec![r1, west.clone()], vec!["b", "c"]),
        (
            vec![LabelSelector::from_labels([("zone", "north")])],
            vec![],
        ),
    ];
    let vip = ip("192.0.2.1");
    for (selectors, expected) in table {
        let mut svc = ServiceAnnouncement::new(key("web"), vec![vip]);
        svc.node_selectors = selectors.clone();
        let mut bgp = speaker_with("a", AnnounceMode::Bgp, &nodes, now);
        bgp.handle_service(svc.clone());
        assert_eq!(owners_of(&mut bgp, vip), expected, "{selectors:?}");
        let mut l2 = speaker_with("a", AnnounceMode::Layer2, &nodes, now);
        l2.handle_service(svc);
        let owner = owners_of(&mut l2, vip);
        match expected.as_slice() {
            [] => {
                assert!(owner.is_empty());
                assert_eq!(
                    l2.owners()[&vip].warning,
                    Some(OwnersWarning::NoEligibleNode)
                );
            }
            candidates => {
                assert_eq!(owner.len(), 1);
                assert_eq!(Some(owner[0].as_str()), rendezvous_owner(vip, candidates));
            }
        }
    }
    let mut s = speaker_with("a", AnnounceMode::Layer2, &nodes, now);
    let mut svc = ServiceAnnouncement::new(key("web"), vec![vip]);
    svc.node_selectors = vec![west];
    s.handle_service(svc);
    assert_eq!(
        s.eligibility("a", &key("web")),
        Err(Ineligible::SelectorMismatch)
    );
    assert_eq!(s.eligibility("b", &key("web")), Ok(()));
}

#[test]
fn network_unavailable_node_is_not_eligible() {
    let now = Instant::now();
    let mut sick = NodeInfo::new("b");
    sick.network_unavailable = true;
    let nodes = vec![NodeInfo::new("a"), sick];
    let vip = address_won_by("b", &["a", "b"]);
    let mut s = speaker_with("a", AnnounceMode::Layer2, &nodes, now);
    s.handle_service(ServiceAnnouncement::new(key("web"), vec![vip]));
    assert_eq!(drain(&mut s), [SpeakerEvent::Announce(vip)]);
    assert_eq!(
        s.eligibility("b", &key("web")),
        Err(Ineligible::NetworkUnavailable)
    );
    // The condition clears: b wins its address back, a withdraws.
    s.handle_node(NodeInfo::new("b"));
    assert_eq!(drain(&mut s), [SpeakerEvent::Withdraw(vip)]);
    assert_eq!(owners_of(&mut s, vip), ["b"]);
}

#[test]
fn unknown_node_or_missing_lease_is_not_eligible() {
    let now = Instant::now();
    let mut s = speaker("a", AnnounceMode::Bgp);
    let vip = ip("192.0.2.1");
    s.handle_service(ServiceAnnouncement::new(key("web"), vec![vip]));
    s.handle_lease(now, held("a", "1")); // lease but no Node object
    s.handle_node(NodeInfo::new("b")); // Node object but no lease
    assert!(drain(&mut s).is_empty());
    assert_eq!(
        s.eligibility("a", &key("web")),
        Err(Ineligible::UnknownNode)
    );
    assert_eq!(s.eligibility("b", &key("web")), Err(Ineligible::NotLive));
    assert_eq!(
        s.eligibility("a", &key("other")),
        Err(Ineligible::UnknownService)
    );
    s.handle_node(NodeInfo::new("a"));
    assert_eq!(drain(&mut s), [SpeakerEvent::Announce(vip)]);
    s.handle_node_removed("a");
    assert_eq!(drain(&mut s), [SpeakerEvent::Withdraw(vip)]);
}

#[test]
fn local_policy_needs_ready_endpoints() {
    let now = Instant::now();
    let nodes = names(&["a", "b", "c"]);
    let vip = ip("192.0.2.7");
    let mut svc = ServiceAnnouncement::new(key("web"), vec![vip]);
    svc.traffic_policy = TrafficPolicy::Local;
    // (nodes with ready endpoints, layer-2 candidates = BGP announcers)
    let table: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], vec![]),
        (vec!["b"], vec!["b"]),
        (vec!["a", "c"], vec!["a", "c"]),
        (vec!["c", "elsewhere"], vec!["c"]),
    ];
    for (ready, expected) in table {
        for mode in [AnnounceMode::Layer2, AnnounceMode::Bgp] {
            let mut s = speaker_with("a", mode, &nodes, now);
            // Endpoints may arrive before the Service.
            s.handle_endpoints(&key("web"), ready.iter().copied());
            s.handle_service(svc.clone());
            let got = owners_of(&mut s, vip);
            match (mode, expected.as_slice()) {
                (_, []) => {
                    assert!(got.is_empty());
                    assert_eq!(
                        s.owners()[&vip].warning,
                        Some(OwnersWarning::NoEligibleNode)
                    );
                }
                (AnnounceMode::Bgp, e) => assert_eq!(got, e),
                (AnnounceMode::Layer2, e) => {
                    assert_eq!(got.len(), 1);
                    assert_eq!(Some(got[0].as_str()), rendezvous_owner(vip, e));
                }
            }
        }
    }
    // Without Local the endpoints do not matter.
    let mut s = speaker_with("a", AnnounceMode::Bgp, &nodes, now);
    s.handle_service(ServiceAnnouncement::new(key("web"), vec![vip]));
    s.handle_endpoints(&key("web"), ["b"]);
    assert_eq!(owners_of(&mut s, vip), ["a", "b", "c"]);
    // Endpoints moving away from this node withdraw its announcement.
    let mut s = speaker_with("a", AnnounceMode::Layer2, &nodes, now);
    s.handle_service(svc);
    s.handle_endpoints(&key("web"), ["a"]);
    assert_eq!(drain(&mut s), [SpeakerEvent::Announce(vip)]);
    s.handle_endpoints(&key("web"), ["b"]);
    assert_eq!(drain(&mut s), [SpeakerEvent::Withdraw(vip)]);
    assert_eq!(
        s.eligibility("a", &key("web")),
        Err(Ineligible::NoReadyEndpoints)
    );
}

#[test]
fn lease_expires_by_observation_time_not_renew_time() {
    let t0 = Instant::now();
    let mut s = speaker_with("a", AnnounceMode::Bgp, &names(&["a"]), t0);
    let vip = ip("192.0.2.1");
    s.handle_service(ServiceAnnouncement::new(key("web"), vec![vip]));
    assert_eq!(drain(&mut s), [SpeakerEvent::Announce(vip)]);

    // b's renew time is far in the past by our clock (skew): it is live from when we
    // first saw the record.
    s.handle_node(NodeInfo::new("b"));
    let mut b = held("b", "7");
    b.renew_time = Some("1999-01-01T00:00:00.000000Z".into());
    s.handle_lease(t0, b.clone());
    assert!(s.is_live("b"));
    assert_eq!(owners_of(&mut s, vip), ["a", "b"]);

    // The same record again does not extend it; the deadline is observed_at + duration.
    s.handle_lease(t0 + secs(10), b.clone());
    s.handle_lease(t0 + secs(10), held("a", "2"));
    assert_eq!(s.poll_timeout(), Some(t0 + LEASE + Duration::from_nanos(1)));
    s.handle_timeout(t0 + LEASE); // `now > observed_at + duration` is false: still live
    assert!(s.is_live("b"));
    s.handle_timeout(t0 + LEASE + Duration::from_nanos(1));
    assert!(!s.is_live("b"));
    assert!(s.is_live("a"));
    assert_eq!(owners_of(&mut s, vip), ["a"]);

    // An unchanged record seen after expiry does not revive the node.
    s.handle_lease(t0 + secs(16), b.clone());
    assert!(!s.is_live("b"));

    // A changed record (any of renew time, resourceVersion, holder) does.
    for change in [
        |r: &mut LeaseRecord| r.resource_version = "8".into(),
        |r: &mut LeaseRecord| r.renew_time = Some("1999-01-01T00:00:05.000000Z".into()),
        |r: &mut LeaseRecord| r.holder_identity = "b-pod-2".into(),
    ] {
        let t = t0 + secs(17);
        let mut s2 = s.clone();
        let mut r = b.clone();
        change(&mut r);
        s2.handle_lease(t, r);
        assert!(s2.is_live("b"));
        assert_eq!(owners_of(&mut s2, vip), ["a", "b"]);
        s2.handle_timeout(t + LEASE + Duration::from_nanos(1));
        assert!(!s2.is_live("b"));
    }
}

#[test]
fn released_or_deleted_lease_is_not_live_at_once() {
    let t0 = Instant::now();
    let nodes = names(&["a", "b"]);
    let vip = address_won_by("b", &["a", "b"]);
    for release in [true, false] {
        let mut s = speaker_with("a", AnnounceMode::Layer2, &nodes, t0);
        s.handle_service(ServiceAnnouncement::new(key("web"), vec![vip]));
        assert!(drain(&mut s).is_empty());
        let t = t0 + secs(1);
        if release {
            s.handle_lease(t, LeaseRecord::new("b", "", secs(1), "2"));
        } else {
            s.handle_lease_deleted(t, "b");
        }
        assert!(!s.is_live("b"));
        assert_eq!(drain(&mut s), [SpeakerEvent::Announce(vip)]);
    }
}

#[test]
fn graceful_shutdown_hands_over_without_waiting_for_expiry() {
    let t0 = Instant::now();
    let nodes = names(&["a", "b", "c"]);
    let all = ["a", "b", "c"];
    let vips: Vec<IpAddr> = addrs(200)
        .into_iter()
        .filter(|&v| rendezvous_owner(v, all) == Some("a"))
        .take(5)
        .collect();
    let svc = ServiceAnnouncement::new(key("web"), vips.clone());
    let mut speakers: BTreeMap<&str, Speaker> = all
        .iter()
        .map(|&n| {
            let mut s = speaker_with(n, AnnounceMode::Layer2, &nodes, t0);
            s.handle_service(svc.clone());
            (n, s)
        })
        .collect();
    let announced = drain(speakers.get_mut("a").unwrap());
    assert_eq!(
        announced,
        vips.iter()
            .map(|&v| SpeakerEvent::Announce(v))
            .collect::<Vec<_>>()
    );
    assert!(drain(speakers.get_mut("b").unwrap()).is_empty());

    let t = t0 + secs(3);
    let a = speakers.get_mut("a").unwrap();
    a.shutdown(t);
    // Withdrawals at once, in address order.
    assert_eq!(
        drain(a),
        vips.iter()
            .map(|&v| SpeakerEvent::Withdraw(v))
            .collect::<Vec<_>>()
    );
    let release = a.poll_lease_write(t).unwrap();
    assert!(release.is_release());
    assert_eq!(release.lease_name, "metalkit-speaker-a");
    assert_eq!(a.poll_lease_write(t + secs(100)), None);
    assert!(a.is_shut_down());

    // The successors see the release at the same instant and take over immediately.
    let record = LeaseRecord::new("a", &release.holder_identity, release.lease_duration, "2");
    let mut taken = BTreeSet::new();
    for n in ["b", "c"] {
        let s = speakers.get_mut(n).unwrap();
        s.handle_lease(t, record.clone());
        for ev in drain(s) {
            let SpeakerEvent::Announce(v) = ev else {
                panic!("{ev:?}")
            };
            assert_eq!(Some(n), rendezvous_owner(v, ["b", "c"]));
            assert!(taken.insert(v));
        }
    }
    assert_eq!(taken, vips.iter().copied().collect());

    // A shut-down speaker announces nothing any more.
    let a = speakers.get_mut("a").unwrap();
    a.handle_service(ServiceAnnouncement::new(
        key("more"),
        vec![ip("192.0.2.99")],
    ));
    a.handle_lease(t + secs(1), held("a", "3"));
    assert!(drain(a).is_empty());
}

#[test]
fn shared_address_uses_the_intersection_then_the_union() {
    let now = Instant::now();
    let nodes = vec![
        NodeInfo::new("a").with_label("pool", "x"),
        NodeInfo::new("b")
            .with_label("pool", "x")
            .with_label("edge", "y"),
        NodeInfo::new("c").with_label("edge", "y"),
        NodeInfo::new("d").with_label("edge", "y"),
    ];
    let shared = ip("192.0.2.50");
    let with_sel = |name: &str, sel: &[(&str, &str)]| {
        let mut s = ServiceAnnouncement::new(key(name), vec![shared]);
        s.node_selectors = vec![LabelSelector::from_labels(sel.iter().copied())];
        s
    };
    // x: {a, b}; y: {b, c, d}: intersection {b}.
    let mut l2 = speaker_with("b", AnnounceMode::Layer2, &nodes, now);
    l2.handle_service(with_sel("x", &[("pool", "x")]));
    l2.handle_service(with_sel("y", &[("edge", "y")]));
    assert_eq!(owners_of(&mut l2, shared), ["b"]);
    assert_eq!(l2.owners()[&shared].warning, None);
    assert_eq!(drain(&mut l2), [SpeakerEvent::Announce(shared)]);
    let mut bgp = speaker_with("b", AnnounceMode::Bgp, &nodes, now);
    bgp.handle_service(with_sel("x", &[("pool", "x")]));
    bgp.handle_service(with_sel("y", &[("edge", "y")]));
    assert_eq!(owners_of(&mut bgp, shared), ["a", "b", "c", "d"]);

    // x: {a}; z: {c, d}: disjoint, the owner comes from the union and it is reported.
    let nodes2 = vec![
        NodeInfo::new("a").with_label("pool", "x"),
        NodeInfo::new("c").with_label("edge", "y"),
        NodeInfo::new("d").with_label("edge", "y"),
    ];
    let mut l2 = speaker_with("a", AnnounceMode::Layer2, &nodes2, now);
    l2.handle_service(with_sel("x", &[("pool", "x")]));
    l2.handle_service(with_sel("z", &[("edge", "y")]));
    let owners = l2.owners()[&shared].clone();
    assert_eq!(owners.warning, Some(OwnersWarning::DisjointSharedServices));
    assert_eq!(owners.nodes.len(), 1);
    assert_eq!(
        Some(owners.nodes[0].as_str()),
        rendezvous_owner(shared, ["a", "c", "d"])
    );

    // Local Services sharing an address: the owner has endpoints of both.
    let mut l2 = speaker_with("a", AnnounceMode::Layer2, &names(&["a", "b", "c"]), now);
    for (name, ready) in [("p", ["a", "b"]), ("q", ["b", "c"])] {
        let mut svc = ServiceAnnouncement::new(key(name), vec![shared]);
        svc.traffic_policy = TrafficPolicy::Local;
        l2.handle_service(svc);
        l2.handle_endpoints(&key(name), ready);
    }
    assert_eq!(owners_of(&mut l2, shared), ["b"]);
}

#[test]
fn assign_owners_pure_table() {
    let set = |l: &[&str]| {
        l.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    let a = ip("192.0.2.1");
    // (sets, layer-2 candidates, layer-2 warning, BGP announcers, BGP warning)
    type Row = (
        Vec<BTreeSet<String>>,
        Vec<&'static str>,
        Option<OwnersWarning>,
        Vec<&'static str>,
        Option<OwnersWarning>,
    );
    let nobody = Some(OwnersWarning::NoEligibleNode);
    let table: Vec<Row> = vec![
        (vec![], vec![], nobody, vec![], nobody),
        (vec![set(&[])], vec![], nobody, vec![], nobody),
        (
            vec![set(&["n1", "n2", "n3"])],
            vec!["n1", "n2", "n3"],
            None,
            vec!["n1", "n2", "n3"],
            None,
        ),
        (
            vec![set(&["n1", "n2"]), set(&["n2", "n3"])],
            vec!["n2"],
            None,
            vec!["n1", "n2", "n3"],
            None,
        ),
        (
            vec![set(&["n1"]), set(&["n3"])],
            vec!["n1", "n3"],
            Some(OwnersWarning::DisjointSharedServices),
            vec!["n1", "n3"],
            None,
        ),
        (
            vec![set(&["n1", "n2"]), set(&[])],
            vec!["n1", "n2"],
            Some(OwnersWarning::DisjointSharedServices),
            vec!["n1", "n2"],
            None,
        ),
    ];
    for (sets, l2_candidates, l2_warning, bgp, bgp_warning) in table {
        let input = BTreeMap::from([(a, sets.clone())]);
        let l2 = &assign_owners(AnnounceMode::Layer2, &input)[&a];
        assert_eq!(l2.warning, l2_warning, "{sets:?}");
        match rendezvous_owner(a, &l2_candidates) {
            Some(o) => assert_eq!(l2.nodes, [o], "{sets:?}"),
            None => assert!(l2.nodes.is_empty()),
        }
        let b = &assign_owners(AnnounceMode::Bgp, &input)[&a];
        assert_eq!(b.nodes, bgp, "{sets:?}");
        assert_eq!(b.warning, bgp_warning, "{sets:?}");
    }
}

#[test]
fn bgp_every_eligible_node_announces() {
    let now = Instant::now();
    let nodes = names(&["a", "b", "c", "d"]);
    let vips = addrs(20);
    let svc = ServiceAnnouncement::new(key("web"), vips.clone());
    for me in ["a", "b", "c", "d"] {
        let mut s = speaker_with(me, AnnounceMode::Bgp, &nodes, now);
        s.handle_service(svc.clone());
        assert_eq!(
            drain(&mut s),
            vips.iter()
                .map(|&v| SpeakerEvent::Announce(v))
                .collect::<Vec<_>>()
        );
        assert!(s.owners().values().all(|o| o.nodes == ["a", "b", "c", "d"]));
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

fn feed(s: &mut Speaker, now: Instant, inputs: &[Input]) {
    for input in inputs {
        match input.clone() {
            Input::Node(n) => s.handle_node(n),
            Input::Lease(l) => s.handle_lease(now, l),
            Input::Service(svc) => s.handle_service(svc),
            Input::Endpoints(k, eps) => s.handle_endpoints(&k, eps),
        }
    }
}

#[test]
fn speakers_fed_in_different_orders_agree_on_one_owner_each() {
    let now = Instant::now();
    let all = ["n1", "n2", "n3", "n4"];
    let mut inputs = Vec::new();
    for n in all {
        inputs.push(Input::Node(NodeInfo::new(n)));
        inputs.push(Input::Lease(held(n, "1")));
    }
    let vips = addrs(60);
    for (i, chunk) in vips.chunks(3).enumerate() {
        let mut svc = ServiceAnnouncement::new(key(&format!("s{i}")), chunk.to_vec());
        if i % 4 == 0 {
            svc.traffic_policy = TrafficPolicy::Local;
            inputs.push(Input::Endpoints(
                svc.key.clone(),
                vec!["n2".into(), "n4".into()],
            ));
        }
        inputs.push(Input::Service(svc));
    }
    // Each speaker gets a different order: reversed, rotated, interleaved.
    let orders: Vec<Vec<Input>> = vec![
        inputs.clone(),
        inputs.iter().rev().cloned().collect(),
        inputs
            .iter()
            .cycle()
            .skip(inputs.len() / 3)
            .take(inputs.len())
            .cloned()
            .collect(),
        inputs
            .iter()
            .step_by(2)
            .chain(inputs.iter().skip(1).step_by(2))
            .cloned()
            .collect(),
    ];
    let mut owner: BTreeMap<IpAddr, &str> = BTreeMap::new();
    let mut views = Vec::new();
    for (me, order) in all.iter().zip(&orders) {
        let mut s = speaker(me, AnnounceMode::Layer2);
        feed(&mut s, now, order);
        for ev in drain(&mut s) {
            let SpeakerEvent::Announce(v) = ev else {
                panic!("{ev:?}")
            };
            assert!(owner.insert(v, me).is_none(), "{v} announced twice");
        }
        views.push(s.owners().clone());
    }
    assert_eq!(
        owner.keys().copied().collect::<Vec<_>>(),
        vips,
        "every address has one owner"
    );
    assert!(
        views.windows(2).all(|w| w[0] == w[1]),
        "every node computes the same owners"
    );
    for (i, chunk) in vips.chunks(3).enumerate() {
        if i % 4 == 0 {
            assert!(chunk.iter().all(|v| ["n2", "n4"].contains(&owner[v])));
        }
    }
}

#[test]
fn events_are_withdrawals_then_announcements_in_address_order() {
    let now = Instant::now();
    let mut s = speaker_with("a", AnnounceMode::Bgp, &names(&["a"]), now);
    s.handle_service(ServiceAnnouncement::new(
        key("x"),
        vec![ip("10.0.0.3"), ip("10.0.0.1")],
    ));
    s.handle_service(ServiceAnnouncement::new(
        key("y"),
        vec![ip("fd00::1"), ip("10.0.0.2")],
    ));
    assert_eq!(
        drain(&mut s),
        [
            SpeakerEvent::Announce(ip("10.0.0.1")),
            SpeakerEvent::Announce(ip("10.0.0.2")),
            SpeakerEvent::Announce(ip("10.0.0.3")),
            SpeakerEvent::Announce(ip("fd00::1")),
        ]
    );
    s.handle_service(ServiceAnnouncement::new(
        key("x"),
        vec![ip("10.0.0.9"), ip("10.0.0.1")],
    ));
    s.handle_service_removed(&key("y"));
    assert_eq!(
        drain(&mut s),
        [
            SpeakerEvent::Withdraw(ip("10.0.0.2")),
            SpeakerEvent::Withdraw(ip("10.0.0.3")),
            SpeakerEvent::Withdraw(ip("fd00::1")),
            SpeakerEvent::Announce(ip("10.0.0.9")),
        ]
    );
    assert_eq!(
        s.announced().iter().copied().collect::<Vec<_>>(),
        [ip("10.0.0.1"), ip("10.0.0.9")]
    );
}

#[test]
fn own_lease_renewals_and_retries() {
    let t0 = Instant::now();
    let mut s = speaker("a", AnnounceMode::Layer2);
    assert_eq!(s.poll_timeout(), None);
    let w = s.poll_lease_write(t0).unwrap();
    assert_eq!(
        w,
        LeaseWrite {
            lease_name: "metalkit-speaker-a".into(),
            holder_identity: "a".into(),
            lease_duration: secs(15),
        }
    );
    assert!(!w.is_release());
    assert_eq!(s.poll_lease_write(t0 + secs(4)), None);
    assert_eq!(s.poll_timeout(), Some(t0 + secs(5)));
    assert!(s.poll_lease_write(t0 + secs(5)).is_some());
    // The write failed: retry after 2 s rather than at the next renewal.
    s.handle_lease_write_failed(t0 + secs(5));
    assert_eq!(s.poll_timeout(), Some(t0 + secs(7)));
    assert_eq!(s.poll_lease_write(t0 + secs(6)), None);
    assert!(s.poll_lease_write(t0 + secs(7)).is_some());
    assert_eq!(s.poll_timeout(), Some(t0 + secs(12)));
}

#[test]
fn config_validation() {
    let ok = SpeakerConfig::new("a", AnnounceMode::Layer2);
    assert_eq!(ok.validate(), Ok(()));
    let mut c = ok.clone();
    c.node_name.clear();
    assert_eq!(
        Speaker::new(c).unwrap_err(),
        SpeakerConfigError::EmptyNodeName
    );
    let mut c = ok.clone();
    c.renew_interval = secs(15);
    assert!(matches!(
        Speaker::new(c).unwrap_err(),
        SpeakerConfigError::NotShorterThanLease {
            which: "renew_interval",
            ..
        }
    ));
    let mut c = ok;
    c.retry_period = Duration::ZERO;
    assert_eq!(
        Speaker::new(c).unwrap_err(),
        SpeakerConfigError::ZeroDuration {
            which: "retry_period"
        }
    );
}

/// Runs a cluster of `nodes` speakers for an hour, delivering every lease write to
/// every speaker, and returns (lease writes, announcement events after the first second).
fn simulate_hour(nodes: usize, services: usize) -> (usize, usize) {
    let t0 = Instant::now();
    let end = t0 + secs(3600);
    let names: Vec<String> = (0..nodes).map(|i| format!("node-{i}")).collect();
    let mut speakers: Vec<Speaker> = names
        .iter()
        .map(|n| {
            let mut s = speaker(n, AnnounceMode::Layer2);
            for m in &names {
                s.handle_node(NodeInfo::new(m.clone()));
            }
            for (i, addr) in addrs(services).into_iter().enumerate() {
                s.handle_service(ServiceAnnouncement::new(key(&format!("s{i}")), vec![addr]));
            }
            s
        })
        .collect();
    let mut writes = 0;
    let mut late_events = 0;
    let mut version = 0u64;
    let mut now = t0;
    while now <= end {
        let mut records = Vec::new();
        for (i, s) in speakers.iter_mut().enumerate() {
            s.handle_timeout(now);
            if let Some(w) = s.poll_lease_write(now) {
                writes += 1;
                version += 1;
                records.push(LeaseRecord::new(
                    &names[i],
                    &w.holder_identity,
                    w.lease_duration,
                    version.to_string(),
                ));
            }
        }
        for s in &mut speakers {
            for r in &records {
                s.handle_lease(now, r.clone());
            }
            let events = drain(s).len();
            if now > t0 + secs(1) {
                late_events += events;
            }
        }
        now = speakers
            .iter()
            .filter_map(Speaker::poll_timeout)
            .min()
            .unwrap();
    }
    let owned: usize = speakers.iter_mut().map(|s| s.announced().len()).sum();
    assert_eq!(
        owned, services,
        "every address has exactly one owner at the end"
    );
    (writes, late_events)
}

#[test]
fn lease_writes_do_not_depend_on_the_number_of_services() {
    // One renewal per node every 5 s: at 0 s, 5 s, ..., 3600 s.
    let per_node = 3600 / 5 + 1;
    for nodes in [1, 3] {
        let (one, churn_one) = simulate_hour(nodes, 1);
        let (many, churn_many) = simulate_hour(nodes, 1000);
        assert_eq!(one, nodes * per_node);
        assert_eq!(one, many, "{nodes} nodes: 1 Service vs 1,000 Services");
        assert_eq!(
            (churn_one, churn_many),
            (0, 0),
            "no flapping in steady state"
        );
    }
}
