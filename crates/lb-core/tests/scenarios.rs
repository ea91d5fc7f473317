//! Replays the scenario files in `tests/scenarios/` (see the README there): each is a
//! sequence of Service, pool, restart, node and endpoint events with the expected
//! decisions after each step, written from the user reports in the reference notes.
//!
//! The runner plays an API server and a controller: Services are stored as
//! [`ServiceState`]s; after each step every Service is reconciled with [`decide`] and
//! the decision applied, until nothing changes (as a controller's requeues would);
//! a Service marked deleted disappears once its finalizer is gone. A restart or a pool
//! change rebuilds the IPAM with [`restore_ipam`] from the stored Services.
//!
//! When a scenario has nodes, each runs a [`Speaker`]; the runner delivers every lease
//! write to every speaker (as a Lease watch would), advances time in 100 ms ticks, and
//! checks which nodes announce which address by collecting each speaker's own
//! announcements, so "exactly one owner" is checked across independent speakers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lb_core::config::{kube_vip_pools, metallb_pools_from_json, native_pools_from_json};
use lb_core::{
    AddressFamily, AnnounceMode, CLEANUP_FINALIZER, ControllerConfig, IpFamilyPolicy, Ipam,
    LeaseRecord, NodeInfo, PoolSpec, Protocol, RestoreIssue, ServiceAnnouncement, ServiceKey,
    ServiceState, Speaker, SpeakerConfig, TrafficPolicy, decide, node_of_speaker_lease,
    restore_ipam,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    title: String,
    report: String,
    pools: Pools,
    #[serde(default)]
    controller: ControllerSettings,
    /// `Layer2` (default) or `Bgp`.
    #[serde(default)]
    mode: Option<String>,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Pools {
    /// `AddressPool` objects (`lb.metalkit.dev/v1alpha1`), as a list of `{name, spec}`.
    Native(Vec<NamedSpec>),
    /// MetalLB `IPAddressPool` objects, as a list of `{name, spec}`.
    Metallb(Vec<NamedSpec>),
    /// A kube-vip-cloud-provider ConfigMap's `data`.
    Kubevip(BTreeMap<String, String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedSpec {
    name: String,
    spec: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ControllerSettings {
    #[serde(default)]
    only_own_class: bool,
    #[serde(default)]
    write_kube_vip_annotation: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Step {
    /// What the step is about, printed on failure.
    #[serde(default)]
    note: String,
    #[serde(default)]
    apply: Vec<ServiceInput>,
    #[serde(default)]
    delete: Vec<String>,
    /// The controller restarts: the IPAM is rebuilt from the stored Services.
    #[serde(default)]
    restart: bool,
    /// The pool configuration changes (and the IPAM is rebuilt).
    #[serde(default)]
    pools: Option<Pools>,
    /// Nodes created or updated (a new node starts its speaker).
    #[serde(default)]
    nodes: Vec<NodeInput>,
    /// Node objects deleted (their speakers stop).
    #[serde(default)]
    remove_nodes: Vec<String>,
    /// Speakers that crash: they stop without a word.
    #[serde(default)]
    crash: Vec<String>,
    /// Speakers shut down gracefully.
    #[serde(default)]
    shutdown: Vec<String>,
    /// `namespace/name` → nodes with ready endpoints.
    #[serde(default)]
    endpoints: BTreeMap<String, Vec<String>>,
    /// Seconds of time that pass after the step's events.
    #[serde(default)]
    advance: f64,
    #[serde(default)]
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NodeInput {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    network_unavailable: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ServiceInput {
    /// `namespace/name`.
    service: String,
    #[serde(default = "load_balancer", rename = "type")]
    type_: String,
    #[serde(default)]
    class: Option<String>,
    /// Set (string) or remove (null).
    #[serde(default)]
    annotations: BTreeMap<String, Option<String>>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    namespace_labels: BTreeMap<String, String>,
    /// `TCP/80` style.
    #[serde(default)]
    ports: Vec<String>,
    #[serde(default)]
    external_traffic_policy: Option<String>,
    #[serde(default)]
    ip_family_policy: Option<String>,
    #[serde(default)]
    ip_families: Vec<String>,
    #[serde(default)]
    load_balancer_ip: Option<IpAddr>,
    #[serde(default)]
    created: Option<i64>,
    /// Status addresses as left by an earlier controller (only for new Services).
    #[serde(default)]
    ingress: Option<Vec<IpAddr>>,
}

fn load_balancer() -> String {
    "LoadBalancer".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Expect {
    /// `namespace/name` → the expected state, or null when the Service must be gone.
    #[serde(default)]
    services: BTreeMap<String, Option<ServiceExpect>>,
    /// The restore issues of this step (restart or pool change), in order.
    #[serde(default)]
    restore: Option<Vec<IssueExpect>>,
    /// Address → the nodes announcing it (every announced address must be listed).
    #[serde(default)]
    owners: Option<BTreeMap<IpAddr, Vec<String>>>,
    /// Seconds after the step's events by which the owners above held (checked
    /// while `advance` runs; the owners must not change after that).
    #[serde(default)]
    owners_within: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ServiceExpect {
    #[serde(default)]
    ingress: Option<Vec<IpAddr>>,
    /// The condition reason; "" when there must be no condition.
    #[serde(default)]
    reason: Option<String>,
    /// Text the condition message must contain.
    #[serde(default)]
    message: Option<String>,
    /// The Event reasons emitted for this Service during the step, in order.
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    finalizer: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IssueExpect {
    /// `Duplicate` or `OutsidePools`.
    issue: String,
    service: String,
    address: IpAddr,
}

fn object_list(api: &str, kind: &str, specs: &[NamedSpec]) -> String {
    let items: Vec<Value> = specs
        .iter()
        .map(|s| {
            serde_json::json!({
                "apiVersion": api, "kind": kind,
                "metadata": {"name": s.name}, "spec": s.spec,
            })
        })
        .collect();
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

/// The pools, and the namespaces that share addresses (kube-vip `allow-share-<ns>`).
fn read_pools(pools: &Pools) -> (Vec<PoolSpec>, BTreeSet<String>) {
    match pools {
        Pools::Native(specs) => {
            let json = object_list("lb.metalkit.dev/v1alpha1", "AddressPool", specs);
            let report = native_pools_from_json(&json).expect("native pools");
            (report.pools, BTreeSet::new())
        }
        Pools::Metallb(specs) => {
            let json = object_list("metallb.io/v1beta1", "IPAddressPool", specs);
            let report = metallb_pools_from_json(&json).expect("metallb pools");
            (report.pools, BTreeSet::new())
        }
        Pools::Kubevip(data) => {
            let cfg = kube_vip_pools(data).expect("kube-vip ConfigMap");
            (cfg.report.pools, cfg.allow_share)
        }
    }
}

fn key_of(s: &str) -> (String, String) {
    let (ns, name) = s
        .split_once('/')
        .unwrap_or_else(|| panic!("{s:?}: want ns/name"));
    (ns.to_owned(), name.to_owned())
}

fn update(state: &mut ServiceState, input: &ServiceInput) {
    state.is_load_balancer = input.type_ == "LoadBalancer";
    let svc = &mut state.service;
    svc.load_balancer_class.clone_from(&input.class);
    for (k, v) in &input.annotations {
        match v {
            Some(v) => svc.annotations.insert(k.clone(), v.clone()),
            None => svc.annotations.remove(k),
        };
    }
    svc.labels.clone_from(&input.labels);
    svc.namespace_labels.clone_from(&input.namespace_labels);
    svc.ports = input
        .ports
        .iter()
        .map(|p| {
            let (proto, port) = p.split_once('/').expect("PROTO/port");
            let proto = match proto {
                "TCP" => Protocol::Tcp,
                "UDP" => Protocol::Udp,
                "SCTP" => Protocol::Sctp,
                other => panic!("protocol {other:?}"),
            };
            (proto, port.parse().expect("port"))
        })
        .collect();
    svc.external_traffic_policy = match input.external_traffic_policy.as_deref() {
        None | Some("Cluster") => TrafficPolicy::Cluster,
        Some("Local") => TrafficPolicy::Local,
        Some(other) => panic!("externalTrafficPolicy {other:?}"),
    };
    svc.ip_family_policy = match input.ip_family_policy.as_deref() {
        None | Some("SingleStack") => IpFamilyPolicy::SingleStack,
        Some("PreferDualStack") => IpFamilyPolicy::PreferDualStack,
        Some("RequireDualStack") => IpFamilyPolicy::RequireDualStack,
        Some(other) => panic!("ipFamilyPolicy {other:?}"),
    };
    svc.ip_families = input
        .ip_families
        .iter()
        .map(|f| match f.as_str() {
            "IPv4" => AddressFamily::V4,
            "IPv6" => AddressFamily::V6,
            other => panic!("family {other:?}"),
        })
        .collect();
    svc.load_balancer_ip = input.load_balancer_ip;
    state.generation += 1;
}

struct World {
    cfg: ControllerConfig,
    pools: Vec<PoolSpec>,
    ipam: Ipam,
    services: BTreeMap<String, ServiceState>,
    /// Event reasons per Service during the current step.
    events: BTreeMap<String, Vec<String>>,
    mode: AnnounceMode,
    now: Instant,
    nodes: BTreeMap<String, NodeInfo>,
    /// Running speakers by node.
    speakers: BTreeMap<String, Speaker>,
    /// The Lease objects as the API server stores them.
    leases: BTreeMap<String, LeaseRecord>,
    lease_version: u64,
    endpoints: BTreeMap<ServiceKey, Vec<String>>,
    /// What the speakers were last told, to send removals.
    announced: BTreeMap<ServiceKey, ServiceAnnouncement>,
}

impl World {
    fn rebuild(&mut self) -> Vec<RestoreIssue> {
        let states: Vec<ServiceState> = self.services.values().cloned().collect();
        let (ipam, report) = restore_ipam(self.pools.clone(), &self.cfg, &states).expect("pools");
        self.ipam = ipam;
        report.issues
    }

    /// Reconciles every Service until nothing changes.
    fn settle(&mut self) {
        for _ in 0..10 {
            let mut changed = false;
            let keys: Vec<String> = self.services.keys().cloned().collect();
            for key in keys {
                let state = self.services.get_mut(&key).expect("present");
                let d = decide(&mut self.ipam, &self.cfg, state);
                if d.is_noop(state) {
                    continue;
                }
                changed = true;
                state.apply(&d);
                self.events
                    .entry(key.clone())
                    .or_default()
                    .extend(d.events.iter().map(|e| e.reason.to_owned()));
                if state.deleting && state.finalizers.is_empty() {
                    self.services.remove(&key);
                }
            }
            if !changed {
                return;
            }
        }
        panic!("no steady state after 10 rounds");
    }

    fn add_node(&mut self, node: NodeInfo) {
        for sp in self.speakers.values_mut() {
            sp.handle_node(node.clone());
        }
        let name = node.name.clone();
        self.nodes.insert(name.clone(), node);
        if self.speakers.contains_key(&name) {
            return;
        }
        let mut sp = Speaker::new(SpeakerConfig::new(&name, self.mode)).expect("config");
        for n in self.nodes.values() {
            sp.handle_node(n.clone());
        }
        for l in self.leases.values() {
            sp.handle_lease(self.now, l.clone());
        }
        for a in self.announced.values() {
            sp.handle_service(a.clone());
        }
        for (k, nodes) in &self.endpoints {
            sp.handle_endpoints(k, nodes.iter().cloned());
        }
        self.speakers.insert(name, sp);
    }

    /// Tells every speaker the Services that have addresses, and the endpoints.
    fn sync_services(&mut self) {
        let mut want = BTreeMap::new();
        for s in self.services.values() {
            if s.is_load_balancer && !s.deleting && !s.ingress.is_empty() {
                want.insert(
                    s.service.key.clone(),
                    ServiceAnnouncement::for_service(&s.service, s.ingress.clone()),
                );
            }
        }
        for sp in self.speakers.values_mut() {
            for key in self.announced.keys() {
                if !want.contains_key(key) {
                    sp.handle_service_removed(key);
                }
            }
            for (key, a) in &want {
                if self.announced.get(key) != Some(a) {
                    sp.handle_service(a.clone());
                }
            }
            for (k, nodes) in &self.endpoints {
                sp.handle_endpoints(k, nodes.iter().cloned());
            }
        }
        self.announced = want;
    }

    /// Delivers lease writes and timeouts until nothing is left to do at `now`.
    fn pump(&mut self) {
        loop {
            let mut writes = Vec::new();
            for sp in self.speakers.values_mut() {
                if sp.poll_timeout().is_some_and(|t| t <= self.now) {
                    sp.handle_timeout(self.now);
                }
                while let Some(w) = sp.poll_lease_write(self.now) {
                    writes.push(w);
                }
                while sp.poll_event().is_some() {}
            }
            if writes.is_empty() {
                return;
            }
            for w in writes {
                let node = node_of_speaker_lease(&w.lease_name).expect("speaker lease");
                self.lease_version += 1;
                let rec = LeaseRecord::new(
                    node,
                    w.holder_identity,
                    w.lease_duration,
                    self.lease_version.to_string(),
                );
                self.leases.insert(node.to_owned(), rec.clone());
                for sp in self.speakers.values_mut() {
                    sp.handle_lease(self.now, rec.clone());
                }
            }
        }
    }

    /// Address → nodes announcing it, from each running speaker's own view.
    fn owners(&mut self) -> BTreeMap<IpAddr, Vec<String>> {
        let mut out: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
        for (name, sp) in &mut self.speakers {
            for addr in sp.announced() {
                out.entry(*addr).or_default().push(name.clone());
            }
        }
        out
    }
}

fn run(path: &Path) {
    let text = std::fs::read_to_string(path).expect("readable");
    let scenario: Scenario =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!scenario.title.is_empty() && !scenario.report.is_empty());
    let (pools, share) = read_pools(&scenario.pools);
    let cfg = ControllerConfig {
        default_class: !scenario.controller.only_own_class,
        write_kube_vip_annotation: scenario.controller.write_kube_vip_annotation,
        share_namespaces: share,
        ..ControllerConfig::default()
    };
    let mode = match scenario.mode.as_deref() {
        None | Some("Layer2") => AnnounceMode::Layer2,
        Some("Bgp") => AnnounceMode::Bgp,
        Some(other) => panic!("mode {other:?}"),
    };
    let mut world = World {
        ipam: Ipam::new(pools.clone()).expect("pools"),
        cfg,
        pools,
        services: BTreeMap::new(),
        events: BTreeMap::new(),
        mode,
        now: Instant::now(),
        nodes: BTreeMap::new(),
        speakers: BTreeMap::new(),
        leases: BTreeMap::new(),
        lease_version: 0,
        endpoints: BTreeMap::new(),
        announced: BTreeMap::new(),
    };
    let mut clock = 0;
    for (i, step) in scenario.steps.iter().enumerate() {
        let at = format!("{} step {} ({})", path.display(), i + 1, step.note);
        world.events.clear();
        for input in &step.apply {
            clock += 1;
            let state = world
                .services
                .entry(input.service.clone())
                .or_insert_with(|| {
                    let (ns, name) = key_of(&input.service);
                    let mut s = ServiceState::load_balancer(&ns, &name);
                    s.generation = 0;
                    s.created = input.created.unwrap_or(clock);
                    s.ingress = input.ingress.clone().unwrap_or_default();
                    s
                });
            update(state, input);
        }
        for key in &step.delete {
            world
                .services
                .get_mut(key)
                .unwrap_or_else(|| panic!("{at}: delete of unknown {key}"))
                .deleting = true;
        }
        let mut issues = None;
        if let Some(p) = &step.pools {
            let (pools, share) = read_pools(p);
            world.pools = pools;
            world.cfg.share_namespaces = share;
            issues = Some(world.rebuild());
        }
        if step.restart {
            issues = Some(world.rebuild());
        }
        world.settle();

        for n in &step.nodes {
            world.add_node(NodeInfo {
                name: n.name.clone(),
                labels: n.labels.clone(),
                network_unavailable: n.network_unavailable,
            });
        }
        for name in &step.remove_nodes {
            world.nodes.remove(name);
            world.speakers.remove(name);
            for sp in world.speakers.values_mut() {
                sp.handle_node_removed(name);
            }
        }
        for name in &step.crash {
            world
                .speakers
                .remove(name)
                .unwrap_or_else(|| panic!("{at}: no speaker {name}"));
        }
        for (key, nodes) in &step.endpoints {
            let (ns, name) = key_of(key);
            world
                .endpoints
                .insert(ServiceKey::new(ns, name), nodes.clone());
        }
        world.sync_services();
        for name in &step.shutdown {
            let now = world.now;
            let sp = world
                .speakers
                .get_mut(name)
                .unwrap_or_else(|| panic!("{at}: no speaker {name}"));
            sp.shutdown(now);
            assert!(sp.announced().is_empty(), "{at}: {name} still announces");
            world.pump();
            world.speakers.remove(name);
        }
        world.pump();

        // Owners: when they first matched the expectation (and kept matching).
        let step_start = world.now;
        let mut held_since: Option<Duration> = None;
        let mut check_owners = |world: &mut World| {
            if let Some(want) = &step.expect.owners {
                if &world.owners() == want {
                    held_since.get_or_insert(world.now - step_start);
                } else {
                    held_since = None;
                }
            }
        };
        check_owners(&mut world);
        let ticks = (step.advance * 10.0).round() as u64;
        for _ in 0..ticks {
            world.now += Duration::from_millis(100);
            world.pump();
            check_owners(&mut world);
        }
        if let Some(want) = &step.expect.owners {
            let got = world.owners();
            assert_eq!(
                &got,
                want,
                "{at}: owners after {}s; got {}",
                step.advance,
                serde_json::to_string(&got).expect("json")
            );
            if let Some(limit) = step.expect.owners_within {
                let since = held_since.expect("held at the end").as_secs_f64();
                assert!(
                    since <= limit,
                    "{at}: owners held only after {since}s (limit {limit}s)"
                );
            }
        }

        if let Some(want) = &step.expect.restore {
            let got: Vec<(String, String, IpAddr)> = issues
                .as_ref()
                .unwrap_or_else(|| panic!("{at}: no restore in this step"))
                .iter()
                .map(|i| match i {
                    RestoreIssue::Duplicate { addr, dropped, .. } => {
                        ("Duplicate".into(), dropped.to_string(), *addr)
                    }
                    RestoreIssue::OutsidePools { service, addr, .. } => {
                        ("OutsidePools".into(), service.to_string(), *addr)
                    }
                    other => panic!("{at}: {other:?}"),
                })
                .collect();
            let want: Vec<(String, String, IpAddr)> = want
                .iter()
                .map(|w| (w.issue.clone(), w.service.clone(), w.address))
                .collect();
            assert_eq!(got, want, "{at}: restore issues");
        }
        for (key, want) in &step.expect.services {
            let got = world.services.get(key);
            let Some(want) = want else {
                assert!(got.is_none(), "{at}: {key} should be gone: {got:?}");
                continue;
            };
            let got = got.unwrap_or_else(|| panic!("{at}: {key} is gone"));
            if let Some(ingress) = &want.ingress {
                assert_eq!(&got.ingress, ingress, "{at}: {key} ingress");
            }
            if let Some(reason) = &want.reason {
                let have = got.condition.as_ref().map_or("", |c| c.reason.as_str());
                assert_eq!(have, reason, "{at}: {key} reason ({:?})", got.condition);
            }
            if let Some(text) = &want.message {
                let message = got.condition.as_ref().map_or("", |c| c.message.as_str());
                assert!(message.contains(text.as_str()), "{at}: {key}: {message:?}");
            }
            if let Some(events) = &want.events {
                let have = world.events.get(key).cloned().unwrap_or_default();
                assert_eq!(&have, events, "{at}: {key} events");
            }
            if let Some(f) = want.finalizer {
                let has = got.finalizers.iter().any(|x| x == CLEANUP_FINALIZER);
                assert_eq!(has, f, "{at}: {key} finalizer");
            }
        }
        // Whatever the scenario says: the stored status matches what the IPAM holds.
        for (key, state) in &world.services {
            if let Some(held) = world.ipam.addresses(&state.service.key) {
                assert_eq!(held, state.ingress.as_slice(), "{at}: {key} status vs IPAM");
            }
        }
    }
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn scenario_files_replay() {
    let files = scenario_files();
    assert!(files.len() >= 12, "scenario files missing: {files:?}");
    let mut failed = Vec::new();
    for file in files {
        if std::panic::catch_unwind(|| run(&file)).is_err() {
            failed.push(file);
        }
    }
    assert!(
        failed.is_empty(),
        "scenarios failed (messages above): {failed:?}"
    );
}
