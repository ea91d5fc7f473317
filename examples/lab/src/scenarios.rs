//! The lab's scenarios.

use std::net::IpAddr;
use std::time::Duration;

use testkit::{Bird, BirdConfig, BirdPeer, Gobgp, GobgpConfig, GobgpNeighbor, Prefix, VethPair};

use crate::Narrator;

const ROUTER_AS: u32 = 64512;
const NODE_AS: u32 = 64513;

/// BIRD as the upstream router, GoBGP as the node's speaker (what kube-vip embeds).
pub(crate) fn bgp_router(n: &mut Narrator) -> testkit::Result<()> {
    let pair = VethPair::new("lab")?;
    let (router, node) = (&pair.a, &pair.b);
    n.say(&format!(
        "created namespace {} (the router, {}) and {} (a node, {}), joined by a veth pair",
        router.name(),
        VethPair::A_V4,
        node.name(),
        VethPair::B_V4
    ));
    let bird = Bird::start(
        router,
        &BirdConfig {
            kernel: true,
            ..BirdConfig::new(VethPair::A_V4, ROUTER_AS).peer(BirdPeer::new(
                "node1",
                IpAddr::V4(VethPair::B_V4),
                NODE_AS,
            ))
        },
    )?;
    n.say(&format!(
        "BIRD 2 is running in the router (pid {}), AS {ROUTER_AS}",
        bird.pid()
    ));
    let gobgp = Gobgp::start(
        node,
        &GobgpConfig::new(NODE_AS, VethPair::B_V4)
            .neighbor(GobgpNeighbor::new(IpAddr::V4(VethPair::A_V4), ROUTER_AS)),
    )?;
    n.say(&format!(
        "GoBGP is running in the node (pid {}), AS {NODE_AS}",
        gobgp.pid()
    ));
    let session = bird.wait_established("node1", Duration::from_secs(30))?;
    n.say(&format!(
        "the BGP session is {} since {}",
        session.info, session.since
    ));

    let vip: Prefix = "198.51.100.10/32".parse()?;
    gobgp.add_route(vip, &["community", "64513:100"])?;
    n.say(&format!(
        "the node announces the LoadBalancer address {vip} with next hop {}",
        VethPair::B_V4
    ));
    bird.wait_route_count(1, Duration::from_secs(10))?;
    for route in bird.routes_for(vip)? {
        n.say(&format!(
            "the router learned {} from {}: next hop {}, AS path {:?}, communities {:?}",
            route.prefix,
            route.protocol,
            route
                .next_hop()
                .map_or_else(|| "?".to_owned(), |h| h.to_string()),
            route.as_path(),
            route.communities()
        ));
    }
    n.show(
        "the router's protocols (birdc show protocols):",
        &bird.birdc("show protocols")?,
    );
    n.show(
        "the router's routes (birdc show route all):",
        &bird.birdc("show route all")?,
    );
    n.show(
        "the router's kernel forwards the address to the node (ip route):",
        &router.ip(&["route", "show", "198.51.100.10"])?,
    );
    Ok(())
}
