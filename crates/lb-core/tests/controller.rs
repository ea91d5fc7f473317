//! Table tests for the controller decisions: class, finalizer, status, condition,
//! annotations, Events, release on delete and type change, restore and flags.

use std::net::IpAddr;

use lb_core::{
    ADDRESS_CONDITION, ALLOCATED_FROM_POOL_ANNOTATION, CLEANUP_FINALIZER, ConditionStatus,
    ControllerConfig, Decision, EventType, FinalizerChange, Handling, IpFamilyPolicy, Ipam, Pool,
    PoolOptions, PoolSpec, RestoreIssue, ServiceState, decide, load_balancer_name, reasons,
    restore_ipam,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn spec(name: &str, ranges: &[&str]) -> PoolSpec {
    let ranges = ranges.iter().map(|r| r.parse().unwrap()).collect();
    PoolSpec::new(Pool::new(name, ranges, PoolOptions::default()).unwrap())
}

fn ipam(pools: Vec<PoolSpec>) -> Ipam {
    Ipam::new(pools).unwrap()
}

fn lb(name: &str) -> ServiceState {
    ServiceState::load_balancer("default", name)
}

/// Decides, applies, and checks the next decision is a no-op.
fn settle(ipam: &mut Ipam, cfg: &ControllerConfig, state: &mut ServiceState) -> Decision {
    let d = decide(ipam, cfg, state);
    state.apply(&d);
    let again = decide(ipam, cfg, state);
    assert!(
        again.is_noop(state),
        "not settled: {again:#?}\nstate {state:#?}"
    );
    d
}

fn event_reasons(d: &Decision) -> Vec<&'static str> {
    d.events.iter().map(|e| e.reason).collect()
}

#[test]
fn new_service_gets_finalizer_status_condition_event_and_pool_annotation() {
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/30"])]);
    let cfg = ControllerConfig::default();
    let mut web = lb("web");
    web.generation = 3;
    let d = settle(&mut ipam, &cfg, &mut web);
    assert_eq!(d.handling, Handling::Ours);
    assert_eq!(d.finalizer, FinalizerChange::Add);
    assert_eq!(d.ingress, Some(vec![ip("10.0.0.0")]));
    let c = d.condition.as_ref().unwrap();
    assert_eq!(c.type_, ADDRESS_CONDITION);
    assert_eq!(c.status, ConditionStatus::True);
    assert_eq!(c.reason, reasons::ASSIGNED);
    assert_eq!(c.observed_generation, 3);
    assert!(c.message.contains("10.0.0.0") && c.message.contains("\"lab\""));
    assert!(d.condition_changed);
    assert_eq!(event_reasons(&d), [reasons::IP_ALLOCATED]);
    assert_eq!(d.events[0].type_, EventType::Normal);
    assert_eq!(
        web.service
            .annotations
            .get(ALLOCATED_FROM_POOL_ANNOTATION)
            .map(String::as_str),
        Some("lab")
    );
    assert_eq!(web.finalizers, [CLEANUP_FINALIZER]);
}

#[test]
fn load_balancer_class() {
    let cfg = ControllerConfig::default();
    let only_ours = ControllerConfig {
        default_class: false,
        ..ControllerConfig::default()
    };
    // (config, class, ours)
    let table: &[(&ControllerConfig, Option<&str>, bool)] = &[
        (&cfg, None, true),
        (&cfg, Some("metalkit.dev/lb"), true),
        (&cfg, Some("io.cilium/l2-announcer"), false),
        (&only_ours, None, false),
        (&only_ours, Some("metalkit.dev/lb"), true),
    ];
    for &(cfg, class, ours) in table {
        let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/30"])]);
        let mut s = lb("s");
        s.service.load_balancer_class = class.map(str::to_owned);
        s.ingress = vec![ip("192.0.2.1")]; // written by another implementation
        let d = decide(&mut ipam, cfg, &s);
        assert_eq!(d.handling == Handling::Ours, ours, "{class:?}");
        if !ours {
            assert!(matches!(&d.handling, Handling::NotOurs(r) if r.contains("metalkit.dev/lb")));
            assert!(d.is_noop(&s), "{d:?}");
            assert_eq!(ipam.assignments().count(), 0);
        }
    }
}

#[test]
fn becoming_not_ours_releases_and_drops_the_finalizer() {
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/30"])]);
    let cfg = ControllerConfig::default();
    let mut s = lb("s");
    settle(&mut ipam, &cfg, &mut s);
    let strict = ControllerConfig {
        default_class: false,
        ..cfg
    };
    let d = decide(&mut ipam, &strict, &s);
    assert!(matches!(d.handling, Handling::NotOurs(_)));
    assert_eq!(d.finalizer, FinalizerChange::Remove);
    assert_eq!(d.released, [ip("10.0.0.0")]);
    assert_eq!(
        d.ingress, None,
        "the status belongs to the other implementation"
    );
    assert_eq!(event_reasons(&d), [reasons::IP_RELEASED]);
}

#[test]
fn every_failure_has_an_actionable_reason_and_one_event() {
    let pools = || {
        let mut team = spec("team", &["10.0.1.0/31"]);
        team.namespaces = Some(["team".to_owned()].into());
        vec![spec("tiny", &["10.0.0.0/32", "fd00::/128"]), team]
    };
    // (name, mutate, reason, text in the message)
    type Mutate = fn(&mut ServiceState);
    let table: &[(&str, Mutate, &str, &str)] = &[
        (
            "exhausted",
            |_| {},
            reasons::POOL_EXHAUSTED,
            "add addresses",
        ),
        (
            "outside",
            |s| {
                s.service
                    .annotations
                    .insert("metallb.io/loadBalancerIPs".into(), "192.0.2.7".into());
            },
            reasons::ADDRESS_OUTSIDE_POOLS,
            "192.0.2.7",
        ),
        (
            "in-use",
            |s| {
                s.service
                    .annotations
                    .insert("kube-vip.io/loadbalancerIPs".into(), "10.0.0.0".into());
            },
            reasons::ADDRESS_IN_USE,
            "default/first",
        ),
        (
            "no-pool",
            |s| {
                s.service
                    .annotations
                    .insert("lb.metalkit.dev/address-pool".into(), "gold".into());
            },
            reasons::NO_POOL,
            "\"gold\"",
        ),
        (
            "dual",
            |s| {
                s.service.ip_family_policy = IpFamilyPolicy::RequireDualStack;
                s.service
                    .annotations
                    .insert("lb.metalkit.dev/address-pool".into(), "team".into());
                s.service.key.namespace = "team".into();
            },
            reasons::DUAL_STACK_UNAVAILABLE,
            "relax ipFamilyPolicy",
        ),
        (
            "invalid",
            |s| {
                s.service
                    .annotations
                    .insert("lb.metalkit.dev/loadBalancerIPs".into(), "ten".into());
            },
            reasons::INVALID_REQUEST,
            "\"ten\"",
        ),
    ];
    for &(name, mutate, reason, text) in table {
        let mut ipam = ipam(pools());
        let cfg = ControllerConfig::default();
        let mut first = lb("first");
        settle(&mut ipam, &cfg, &mut first);
        assert_eq!(first.ingress, [ip("10.0.0.0")]);
        let mut s = lb(name);
        mutate(&mut s);
        let d = settle(&mut ipam, &cfg, &mut s);
        let c = d.condition.as_ref().unwrap();
        assert_eq!(c.status, ConditionStatus::False, "{name}");
        assert_eq!(c.reason, reason, "{name}: {c:?}");
        assert!(c.message.contains(text), "{name}: {}", c.message);
        assert_eq!(event_reasons(&d), [reasons::ALLOCATION_FAILED], "{name}");
        assert_eq!(d.events[0].type_, EventType::Warning);
        assert_eq!(d.finalizer, FinalizerChange::Add, "{name}");
        assert!(s.ingress.is_empty(), "{name}");
        // `settle` checked that a resync emits no second Event.
    }
}

#[test]
fn a_failed_change_keeps_the_old_address() {
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/30"])]);
    let cfg = ControllerConfig::default();
    let mut s = lb("s");
    settle(&mut ipam, &cfg, &mut s);
    s.service
        .annotations
        .insert("lb.metalkit.dev/loadBalancerIPs".into(), "192.0.2.1".into());
    let d = settle(&mut ipam, &cfg, &mut s);
    assert_eq!(d.ingress, None);
    assert_eq!(s.ingress, [ip("10.0.0.0")]);
    let c = d.condition.unwrap();
    assert_eq!(c.reason, reasons::ADDRESS_OUTSIDE_POOLS);
    assert!(c.message.contains("keeping 10.0.0.0"), "{}", c.message);
    // Asking for a valid one moves it.
    s.service
        .annotations
        .insert("lb.metalkit.dev/loadBalancerIPs".into(), "10.0.0.3".into());
    let d = settle(&mut ipam, &cfg, &mut s);
    assert_eq!(d.ingress, Some(vec![ip("10.0.0.3")]));
    assert_eq!(ipam.holders(ip("10.0.0.0")).count(), 0);
}

#[test]
fn delete_releases_and_removes_the_finalizer() {
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/32"])]);
    let cfg = ControllerConfig::default();
    let mut a = lb("a");
    settle(&mut ipam, &cfg, &mut a);
    let mut b = lb("b");
    settle(&mut ipam, &cfg, &mut b);
    assert_eq!(
        b.condition.as_ref().unwrap().reason,
        reasons::POOL_EXHAUSTED
    );

    a.deleting = true;
    let d = decide(&mut ipam, &cfg, &a);
    assert_eq!(d.finalizer, FinalizerChange::Remove);
    assert_eq!(d.released, [ip("10.0.0.0")]);
    assert_eq!(event_reasons(&d), [reasons::IP_RELEASED]);
    a.apply(&d);
    assert!(a.finalizers.is_empty());

    // The next reconcile of the pending Service gets the freed address.
    let d = settle(&mut ipam, &cfg, &mut b);
    assert_eq!(d.ingress, Some(vec![ip("10.0.0.0")]));
    assert_eq!(d.condition.unwrap().reason, reasons::ASSIGNED);
    assert!(d.condition_changed);
}

#[test]
fn type_change_releases_and_leaves_nothing_behind() {
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/30"])]);
    let cfg = ControllerConfig {
        write_kube_vip_annotation: true,
        ..ControllerConfig::default()
    };
    let mut s = lb("s");
    settle(&mut ipam, &cfg, &mut s);
    assert_eq!(
        s.service
            .annotations
            .get("kube-vip.io/loadbalancerIPs")
            .map(String::as_str),
        Some("10.0.0.0")
    );
    s.is_load_balancer = false;
    let d = settle(&mut ipam, &cfg, &mut s);
    assert_eq!(d.released, [ip("10.0.0.0")]);
    assert_eq!(d.finalizer, FinalizerChange::Remove);
    assert_eq!(d.ingress, Some(vec![]));
    assert_eq!(d.condition, None);
    assert!(d.condition_changed);
    assert!(s.ingress.is_empty() && s.condition.is_none() && s.finalizers.is_empty());
    assert!(
        !s.service
            .annotations
            .contains_key("kube-vip.io/loadbalancerIPs")
    );
    assert!(
        !s.service
            .annotations
            .contains_key(ALLOCATED_FROM_POOL_ANNOTATION)
    );
    assert_eq!(ipam.assignments().count(), 0);
}

#[test]
fn restart_restores_and_changes_nothing() {
    let pools = || vec![spec("lab", &["10.0.0.0/28"])];
    let cfg = ControllerConfig::default();
    let mut ipam = ipam(pools());
    let mut states: Vec<ServiceState> = (0..8).map(|i| lb(&format!("s{i}"))).collect();
    for (i, s) in states.iter_mut().enumerate() {
        s.created = i as i64;
        settle(&mut ipam, &cfg, s);
    }
    // Free one in the middle so a restart that allocated afresh would differ.
    states[2].deleting = true;
    let d = decide(&mut ipam, &cfg, &states[2]);
    states[2].apply(&d);
    states.remove(2);

    // Restart: the snapshot is listed in another order.
    states.reverse();
    let (mut restored, report) = restore_ipam(pools(), &cfg, &states).unwrap();
    assert!(report.issues.is_empty(), "{report:?}");
    assert_eq!(report.restored, 7);
    for s in &states {
        let d = decide(&mut restored, &cfg, s);
        assert!(d.is_noop(s), "{d:?}");
    }
    // A new Service after the restart gets the freed address, not a duplicate.
    let mut new = lb("new");
    let d = settle(&mut restored, &cfg, &mut new);
    assert_eq!(d.ingress, Some(vec![ip("10.0.0.2")]));
}

#[test]
fn a_shrunk_pool_flags_the_service_and_never_moves_it() {
    let cfg = ControllerConfig::default();
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/29"])]);
    let mut states: Vec<ServiceState> = (0..6).map(|i| lb(&format!("s{i}"))).collect();
    for s in &mut states {
        settle(&mut ipam, &cfg, s);
    }
    assert_eq!(states[5].ingress, [ip("10.0.0.5")]);
    // The pool shrinks to .0-.3: s4 and s5 are outside.
    let (mut ipam, report) =
        restore_ipam(vec![spec("lab", &["10.0.0.0/30"])], &cfg, &states).unwrap();
    let flagged: Vec<_> = report
        .issues
        .iter()
        .map(|i| match i {
            RestoreIssue::OutsidePools { service, addr, .. } => (service.name.clone(), *addr),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        flagged,
        [("s4".into(), ip("10.0.0.4")), ("s5".into(), ip("10.0.0.5"))]
    );
    for s in &mut states[4..] {
        let before = s.ingress.clone();
        let d = settle(&mut ipam, &cfg, s);
        assert_eq!(d.ingress, None, "kept, not moved");
        assert_eq!(s.ingress, before);
        let c = d.condition.clone().unwrap();
        assert_eq!(c.status, ConditionStatus::False);
        assert_eq!(c.reason, reasons::ADDRESS_NOT_IN_POOL);
        assert!(
            c.message.contains("lb.metalkit.dev/loadBalancerIPs"),
            "{}",
            c.message
        );
        assert_eq!(event_reasons(&d), [reasons::ALLOCATION_FAILED]);
    }
    // The user asks for an address in the pool: it moves, and the flag clears.
    let s5 = &mut states[5];
    s5.service
        .annotations
        .insert("lb.metalkit.dev/loadBalancerIPs".into(), "10.0.0.3".into());
    // .3 is held by s3; free it first.
    states[3].deleting = true;
    let d = decide(&mut ipam, &cfg, &states[3]);
    assert_eq!(d.released, [ip("10.0.0.3")]);
    let d = settle(&mut ipam, &cfg, &mut states[5]);
    assert_eq!(d.ingress, Some(vec![ip("10.0.0.3")]));
    assert_eq!(d.condition.unwrap().reason, reasons::ASSIGNED);
    assert!(d.condition_changed);
}

#[test]
fn a_duplicate_from_before_a_restart_is_replaced_with_a_warning() {
    let cfg = ControllerConfig::default();
    // Two Services claim 10.0.0.1, as after kube-vip-cloud-provider's overlapping
    // namespace pools; the older keeps it.
    let mut old = lb("old");
    old.created = 1;
    old.ingress = vec![ip("10.0.0.1")];
    let mut young = lb("young");
    young.created = 2;
    young.ingress = vec![ip("10.0.0.1")];
    let mut pinned = lb("pinned");
    pinned.created = 3;
    pinned.ingress = vec![ip("10.0.0.1")];
    pinned
        .service
        .annotations
        .insert("kube-vip.io/loadbalancerIPs".into(), "10.0.0.1".into());
    let states = vec![pinned.clone(), young.clone(), old.clone()];
    let (mut ipam, report) =
        restore_ipam(vec![spec("lab", &["10.0.0.0/30"])], &cfg, &states).unwrap();
    let dropped: Vec<_> = report
        .issues
        .iter()
        .map(|i| match i {
            RestoreIssue::Duplicate { kept, dropped, .. } => {
                (kept.name.clone(), dropped.name.clone())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        dropped,
        [
            ("old".into(), "young".into()),
            ("old".into(), "pinned".into())
        ]
    );

    let d = settle(&mut ipam, &cfg, &mut old);
    assert!(d.events.is_empty() && d.ingress.is_none(), "{d:?}");

    let d = settle(&mut ipam, &cfg, &mut young);
    assert_eq!(d.ingress, Some(vec![ip("10.0.0.0")]));
    assert_eq!(
        event_reasons(&d),
        [reasons::ADDRESS_REASSIGNED, reasons::IP_ALLOCATED]
    );
    assert!(
        d.events[0].message.contains("default/old"),
        "{}",
        d.events[0].message
    );

    // A Service that asked for exactly that address is flagged and its status cleared,
    // so the address is no longer announced for it.
    let d = settle(&mut ipam, &cfg, &mut pinned);
    assert_eq!(d.ingress, Some(vec![]));
    assert_eq!(d.condition.unwrap().reason, reasons::ADDRESS_IN_USE);
}

#[test]
fn shared_address_with_the_same_key() {
    let mut ipam = ipam(vec![spec("lab", &["10.0.0.0/30"])]);
    let cfg = ControllerConfig::default();
    let mut dns_tcp = lb("dns-tcp");
    dns_tcp.service.ports = vec![(lb_core::Protocol::Tcp, 53)];
    dns_tcp
        .service
        .annotations
        .insert("lb.metalkit.dev/allow-shared-ip".into(), "dns".into());
    settle(&mut ipam, &cfg, &mut dns_tcp);
    let mut dns_udp = dns_tcp.clone();
    dns_udp.service.key.name = "dns-udp".into();
    dns_udp.service.ports = vec![(lb_core::Protocol::Udp, 53)];
    dns_udp.ingress.clear();
    dns_udp.finalizers.clear();
    dns_udp.condition = None;
    dns_udp.service.annotations.insert(
        "lb.metalkit.dev/loadBalancerIPs".into(),
        dns_tcp.ingress[0].to_string(),
    );
    let d = settle(&mut ipam, &cfg, &mut dns_udp);
    assert_eq!(d.ingress, Some(dns_tcp.ingress.clone()));
    assert_eq!(ipam.holders(dns_tcp.ingress[0]).count(), 2);
}

#[test]
fn cloud_provider_name() {
    assert_eq!(
        load_balancer_name("6a3f0b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        "a6a3f0b7e1c2d4e5f8a9b0c1d2e3f4a5"
    );
    assert_eq!(load_balancer_name("abc"), "aabc");
}

#[test]
fn kube_vip_allow_share_namespaces() {
    let data = [
        ("cidr-global".to_owned(), "10.0.0.0/30".to_owned()),
        ("allow-share-web".to_owned(), "true".to_owned()),
    ]
    .into();
    let kv = lb_core::config::kube_vip_pools(&data).unwrap();
    assert!(kv.report.warnings.is_empty(), "{:?}", kv.report.warnings);
    let cfg = ControllerConfig {
        share_namespaces: kv.allow_share.clone(),
        ..ControllerConfig::default()
    };
    let mut ipam = Ipam::new(kv.report.pools.clone()).unwrap();
    let svc = |ns: &str, name: &str, port: u16| {
        let mut s = ServiceState::load_balancer(ns, name);
        s.service.ports = vec![(lb_core::Protocol::Tcp, port)];
        s
    };
    // Same namespace, distinct ports: one address; a clashing port gets another.
    let mut a = svc("web", "a", 80);
    let mut b = svc("web", "b", 443);
    let mut c = svc("web", "c", 80);
    let mut other = svc("shop", "d", 8080);
    for s in [&mut a, &mut b, &mut c, &mut other] {
        settle(&mut ipam, &cfg, s);
    }
    assert_eq!(a.ingress, [ip("10.0.0.0")]);
    assert_eq!(b.ingress, [ip("10.0.0.0")]);
    assert_eq!(c.ingress, [ip("10.0.0.1")]);
    assert_eq!(
        other.ingress,
        [ip("10.0.0.2")],
        "other namespaces do not share"
    );
    // The restore keeps the sharing.
    let states = [a.clone(), b.clone(), c.clone(), other.clone()];
    let (mut restored, report) = restore_ipam(kv.report.pools.clone(), &cfg, &states).unwrap();
    assert!(report.issues.is_empty(), "{report:?}");
    for s in &states {
        assert!(decide(&mut restored, &cfg, s).is_noop(s));
    }
    // Without the setting, the restore reports the duplicate.
    let (_, report) = restore_ipam(
        kv.report.pools.clone(),
        &ControllerConfig::default(),
        &states,
    )
    .unwrap();
    assert_eq!(report.issues.len(), 1, "{report:?}");
}
