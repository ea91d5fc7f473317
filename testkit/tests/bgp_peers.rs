//! Real BGP daemons peering inside the kit's namespaces.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use testkit::{
    Bird, BirdConfig, BirdPeer, Exabgp, ExabgpConfig, Gobgp, GobgpConfig, GobgpNeighbor, MrtRoute,
    Prefix, VethPair,
};

const ROUTER_AS: u32 = 65000;
const NODE_AS: u32 = 65001;
const ORIGIN_AS: u32 = 64512;

fn v4(a: Ipv4Addr) -> IpAddr {
    IpAddr::V4(a)
}

/// `count` distinct /32 routes in 100.64.0.0/10, originated by AS 64512 behind the node.
fn host_routes(count: u32, next_hop: Ipv4Addr) -> Vec<MrtRoute> {
    (0..count)
        .map(|i| {
            let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + i);
            MrtRoute::new(
                Prefix::new(addr.into(), 32).unwrap(),
                next_hop.into(),
                vec![ORIGIN_AS],
            )
        })
        .collect()
}

#[test]
fn bird_and_gobgp_peer_and_ten_thousand_routes_reach_bird() {
    let pair = VethPair::new("bgp").unwrap();
    let bird = Bird::start(
        &pair.a,
        &BirdConfig::new(VethPair::A_V4, ROUTER_AS).peer(BirdPeer::new(
            "node",
            v4(VethPair::B_V4),
            NODE_AS,
        )),
    )
    .unwrap();
    let gobgp = Gobgp::start(
        &pair.b,
        &GobgpConfig::new(NODE_AS, VethPair::B_V4)
            .neighbor(GobgpNeighbor::new(v4(VethPair::A_V4), ROUTER_AS)),
    )
    .unwrap();

    let protocol = bird
        .wait_established("node", Duration::from_secs(30))
        .unwrap();
    assert_eq!(protocol.proto, "BGP");
    let neighbor = gobgp
        .wait_established(v4(VethPair::A_V4), Duration::from_secs(10))
        .unwrap();
    assert_eq!(neighbor.peer_as, ROUTER_AS);
    assert_eq!(bird.route_count().unwrap().routes, 0);

    // One route with attributes through the CLI, checked attribute by attribute.
    let single: Prefix = "192.0.2.0/24".parse().unwrap();
    gobgp
        .add_route(single, &["community", "65001:7", "med", "10"])
        .unwrap();
    bird.wait_route_count(1, Duration::from_secs(10)).unwrap();
    let routes = bird.routes_for(single).unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].protocol, "node");
    assert_eq!(routes[0].as_path(), vec![NODE_AS]);
    assert_eq!(routes[0].communities(), vec![(65001, 7)]);
    assert_eq!(routes[0].med(), Some(10));
    assert_eq!(routes[0].next_hop(), Some(v4(VethPair::B_V4)));

    // 10,000 routes in bulk through MRT.
    let bulk = host_routes(10_000, VethPair::B_V4);
    let start = Instant::now();
    gobgp.inject_mrt(&bulk).unwrap();
    let count = bird
        .wait_route_count(10_001, Duration::from_secs(60))
        .unwrap();
    eprintln!("10,000 routes GoBGP -> BIRD in {:?}", start.elapsed());
    assert_eq!(count.networks, 10_001);
    assert_eq!(gobgp.rib_count("ipv4").unwrap(), 10_001);
    let last = bulk.last().unwrap().prefix;
    let routes = bird.routes_for(last).unwrap();
    assert_eq!(routes.len(), 1, "the last route of the dump reached BIRD");
    // GoBGP prepends its own AS on the eBGP session.
    assert_eq!(routes[0].as_path(), vec![NODE_AS, ORIGIN_AS]);
}

/// BIRD in namespace `a` peering with ExaBGP in namespace `b`, Established. Fields drop
/// in order: the daemons, then the namespaces.
struct ExabgpSession {
    exabgp: Exabgp,
    bird: Bird,
    _pair: VethPair,
}

fn exabgp_session(label: &str, peer: BirdPeer, extra: &str) -> ExabgpSession {
    let pair = VethPair::new(label).unwrap();
    let bird = Bird::start(
        &pair.a,
        &BirdConfig {
            extra: extra.to_owned(),
            ..BirdConfig::new(VethPair::A_V4, ROUTER_AS).peer(peer)
        },
    )
    .unwrap();
    let exabgp = Exabgp::start(
        &pair.b,
        &ExabgpConfig::new(
            VethPair::B_V4,
            v4(VethPair::B_V4),
            NODE_AS,
            v4(VethPair::A_V4),
            ROUTER_AS,
        ),
    )
    .unwrap();
    bird.wait_established("exa", Duration::from_secs(30))
        .unwrap();
    ExabgpSession {
        exabgp,
        bird,
        _pair: pair,
    }
}

fn exa_peer() -> BirdPeer {
    BirdPeer::new("exa", v4(VethPair::B_V4), NODE_AS)
}

#[test]
fn exabgp_injects_a_route_that_bird_shows_with_its_attributes() {
    let ExabgpSession { exabgp, bird, .. } = &exabgp_session("exa", exa_peer(), "");
    let prefix: Prefix = "198.51.100.0/24".parse().unwrap();
    exabgp
        .announce(
            prefix,
            "origin egp as-path [ 65001 64512 ] med 42 community [ 65000:7 65000:8 65000:7 ] \
             large-community [ 65000:1:2 ]",
        )
        .unwrap();
    bird.wait_route_count(1, Duration::from_secs(10)).unwrap();
    let routes = bird.routes_for(prefix).unwrap();
    assert_eq!(routes.len(), 1);
    let route = &routes[0];
    assert_eq!(route.protocol, "exa");
    assert!(route.primary);
    assert_eq!(route.origin(), Some("EGP"));
    assert_eq!(route.as_path(), vec![NODE_AS, ORIGIN_AS]);
    assert_eq!(route.med(), Some(42));
    assert_eq!(route.next_hop(), Some(v4(VethPair::B_V4)));
    assert_eq!(
        route.communities(),
        vec![(65000, 7), (65000, 8), (65000, 7)]
    );
    assert_eq!(route.large_communities(), vec![(65000, 1, 2)]);

    exabgp.withdraw(prefix).unwrap();
    bird.wait_route_count(0, Duration::from_secs(10)).unwrap();
}

#[test]
fn exabgp_reports_what_it_receives_as_json() {
    let ExabgpSession { exabgp, .. } = &exabgp_session(
        "exarx",
        BirdPeer {
            export_all: true,
            ..exa_peer()
        },
        "protocol static { ipv4; route 203.0.113.0/24 blackhole; }\n",
    );
    let message = exabgp
        .wait_announced("203.0.113.0/24".parse().unwrap(), Duration::from_secs(10))
        .unwrap();
    assert_eq!(message["neighbor"]["address"]["peer"], "10.0.0.1");
    assert_eq!(
        message["neighbor"]["message"]["update"]["attribute"]["as-path"][0],
        ROUTER_AS
    );
}

#[test]
fn exabgp_injects_raw_attributes() {
    let ExabgpSession { exabgp, bird, .. } = &exabgp_session("exaraw", exa_peer(), "");
    let prefix: Prefix = "203.0.113.0/24".parse().unwrap();
    // An unknown optional transitive attribute (type 240), given as raw bytes.
    let raw = testkit::exabgp_attribute(0xc0, 240, &[1, 2, 3, 4, 5]);
    exabgp
        .announce(prefix, &format!("as-path [ 64512 ] {raw}"))
        .unwrap();
    bird.wait_route_count(1, Duration::from_secs(10)).unwrap();
    let routes = bird.routes_for(prefix).unwrap();
    assert_eq!(routes.len(), 1);
    // BIRD keeps the unknown attribute and marks it transitive.
    assert_eq!(
        routes[0].attribute("BGP.f0 [t]"),
        Some("01 02 03 04 05"),
        "{routes:#?}"
    );
    assert_eq!(routes[0].as_path(), vec![64512]);
}
