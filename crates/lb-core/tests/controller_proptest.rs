//! Property tests of the controller decisions over random event sequences: Services
//! applied (requests, sharing, ports, policy, type, class), deleted, controller
//! restarts and pools shrinking and growing.
//!
//! After every step, with every Service reconciled until nothing changes:
//! - no address is in the status of two of our Services unless the sharing rules let
//!   them share it;
//! - the status addresses are what the IPAM holds for the Service, and lie in a pool
//!   that selects it unless the Service is flagged `AddressNoLongerInPool` (it keeps
//!   them after a pool shrank);
//! - a restart (restore from the stored Services) gives back the same state: every
//!   decision right after it is a no-op;
//! - the same events give the same states.

use std::collections::BTreeMap;
use std::net::IpAddr;

use lb_core::{
    CLEANUP_FINALIZER, ControllerConfig, Ipam, Pool, PoolOptions, PoolSpec, Protocol, ServiceState,
    TrafficPolicy, decide, effective_service, reasons, restore_ipam, sharing_conflict,
};
use proptest::prelude::*;

const NAMES: usize = 6;

fn pools(shrunk: bool) -> Vec<PoolSpec> {
    let (v4, v6) = if shrunk {
        ("10.0.0.0-10.0.0.2", "fd00::-fd00::1")
    } else {
        ("10.0.0.0-10.0.0.5", "fd00::-fd00::4")
    };
    let pool = Pool::new(
        "lab",
        vec![v4.parse().unwrap(), v6.parse().unwrap()],
        PoolOptions::default(),
    )
    .unwrap();
    let mut team = PoolSpec::new(
        Pool::new(
            "team",
            vec!["10.1.0.0/31".parse().unwrap()],
            PoolOptions::default(),
        )
        .unwrap(),
    );
    team.namespaces = Some(["team".to_owned()].into());
    team.priority = -1;
    vec![PoolSpec::new(pool), team]
}

#[derive(Debug, Clone)]
struct Shape {
    namespace: bool,
    request: Option<u8>,
    shared: bool,
    port: u16,
    local: bool,
    load_balancer: bool,
    other_class: bool,
    six: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Apply(usize, Shape),
    Delete(usize),
    Restart,
    Pools(bool),
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        any::<bool>(),
        prop::option::weighted(0.3, 0u8..8),
        any::<bool>(),
        prop_oneof![Just(53u16), Just(80), Just(443)],
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(namespace, request, shared, port, local, load_balancer, other_class, six)| Shape {
                namespace,
                request,
                shared,
                port,
                local,
                load_balancer,
                other_class,
                six,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..NAMES, shape()).prop_map(|(i, s)| Op::Apply(i, s)),
        2 => (0..NAMES).prop_map(Op::Delete),
        1 => Just(Op::Restart),
        1 => any::<bool>().prop_map(Op::Pools),
    ]
}

/// A requested address: inside the pools, in the team pool, or outside every pool.
fn requested(n: u8) -> IpAddr {
    match n {
        0..=5 => format!("10.0.0.{n}").parse().unwrap(),
        6 => "10.1.0.1".parse().unwrap(),
        _ => "192.0.2.1".parse().unwrap(),
    }
}

fn key(i: usize, shape: &Shape) -> String {
    let ns = if shape.namespace { "team" } else { "default" };
    format!("{ns}/s{i}")
}

struct World {
    cfg: ControllerConfig,
    shrunk: bool,
    ipam: Ipam,
    services: BTreeMap<String, ServiceState>,
}

impl World {
    fn new() -> Self {
        Self {
            cfg: ControllerConfig::default(),
            shrunk: false,
            ipam: Ipam::new(pools(false)).unwrap(),
            services: BTreeMap::new(),
        }
    }

    fn settle(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..10 {
            let mut changed = false;
            let keys: Vec<String> = self.services.keys().cloned().collect();
            for k in keys {
                let state = self.services.get_mut(&k).unwrap();
                let d = decide(&mut self.ipam, &self.cfg, state);
                if d.is_noop(state) {
                    continue;
                }
                changed = true;
                state.apply(&d);
                if state.deleting && state.finalizers.is_empty() {
                    self.services.remove(&k);
                }
            }
            if !changed {
                return Ok(());
            }
        }
        Err(TestCaseError::fail("no steady state"))
    }

    fn rebuild(&mut self) {
        let states: Vec<ServiceState> = self.services.values().cloned().collect();
        self.ipam = restore_ipam(pools(self.shrunk), &self.cfg, &states)
            .unwrap()
            .0;
    }

    fn step(&mut self, op: &Op, clock: i64) -> Result<(), TestCaseError> {
        match op {
            Op::Apply(i, shape) => {
                // One name lives in one namespace at a time: drop the other first.
                let k = key(*i, shape);
                let mut other = shape.clone();
                other.namespace = !shape.namespace;
                if self.services.contains_key(&key(*i, &other)) {
                    return Ok(());
                }
                let state = self.services.entry(k).or_insert_with(|| {
                    let ns = if shape.namespace { "team" } else { "default" };
                    let mut s = ServiceState::load_balancer(ns, &format!("s{i}"));
                    s.created = clock;
                    s
                });
                if state.deleting {
                    return Ok(());
                }
                let svc = &mut state.service;
                state.is_load_balancer = shape.load_balancer;
                svc.load_balancer_class = shape.other_class.then(|| "example.com/x".to_owned());
                svc.annotations.clear();
                if let Some(n) = shape.request {
                    svc.annotations.insert(
                        "lb.metalkit.dev/loadBalancerIPs".into(),
                        requested(n).to_string(),
                    );
                }
                if shape.shared {
                    svc.annotations
                        .insert("metallb.io/allow-shared-ip".into(), "k".into());
                }
                svc.ports = vec![(Protocol::Tcp, shape.port)];
                svc.external_traffic_policy = if shape.local {
                    TrafficPolicy::Local
                } else {
                    TrafficPolicy::Cluster
                };
                svc.ip_families = if shape.six {
                    vec![lb_core::AddressFamily::V6]
                } else {
                    vec![]
                };
                state.generation += 1;
            }
            Op::Delete(i) => {
                for ns in ["default", "team"] {
                    if let Some(s) = self.services.get_mut(&format!("{ns}/s{i}")) {
                        s.deleting = true;
                    }
                }
            }
            Op::Restart => self.rebuild(),
            Op::Pools(shrunk) => {
                self.shrunk = *shrunk;
                self.rebuild();
            }
        }
        self.settle()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let ours: Vec<&ServiceState> = self
            .services
            .values()
            .filter(|s| s.service.load_balancer_class.is_none())
            .collect();
        for s in &ours {
            let held = self.ipam.addresses(&s.service.key);
            let flagged = s
                .condition
                .as_ref()
                .is_some_and(|c| c.reason == reasons::ADDRESS_NOT_IN_POOL);
            if !s.is_load_balancer {
                prop_assert!(s.ingress.is_empty(), "{s:?}");
                prop_assert!(held.is_none());
                prop_assert!(!s.finalizers.iter().any(|f| f == CLEANUP_FINALIZER));
                continue;
            }
            // The status is exactly what the IPAM holds for the Service.
            prop_assert_eq!(held.unwrap_or_default(), s.ingress.as_slice(), "{:?}", s);
            let svc = effective_service(&self.cfg, &s.service);
            let outside = s
                .ingress
                .iter()
                .filter(|a| self.ipam.serving_pool(&svc, **a).is_err())
                .count();
            // Flagged exactly when kept outside the pools, unless a newer failure (a
            // failed change of request) is what the condition reports; never Assigned.
            if flagged {
                prop_assert!(outside > 0, "{:?}", s);
            }
            if outside > 0 {
                let c = s.condition.as_ref().expect("a condition");
                prop_assert_eq!(c.status, lb_core::ConditionStatus::False, "{:?}", s);
            }
        }
        for (i, a) in ours.iter().enumerate() {
            for b in &ours[i + 1..] {
                if a.ingress.iter().any(|x| b.ingress.contains(x)) {
                    prop_assert!(
                        sharing_conflict(&a.service, &b.service).is_ok(),
                        "{a:?}\n{b:?}"
                    );
                }
            }
        }
        Ok(())
    }

    /// A restart now changes nothing.
    fn check_restore(&self) -> Result<(), TestCaseError> {
        let states: Vec<ServiceState> = self.services.values().cloned().collect();
        let (mut ipam, _) = restore_ipam(pools(self.shrunk), &self.cfg, &states).unwrap();
        for s in &states {
            let d = decide(&mut ipam, &self.cfg, s);
            prop_assert!(d.is_noop(s), "{d:?}\n{s:?}");
        }
        Ok(())
    }
}

fn run(ops: &[Op]) -> Result<BTreeMap<String, ServiceState>, TestCaseError> {
    let mut world = World::new();
    for (n, op) in ops.iter().enumerate() {
        world.step(op, n as i64)?;
        world.check()?;
        world.check_restore()?;
    }
    Ok(world.services)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn controller_invariants(ops in prop::collection::vec(op(), 1..40)) {
        let first = run(&ops)?;
        let second = run(&ops)?;
        prop_assert_eq!(first, second);
    }
}
