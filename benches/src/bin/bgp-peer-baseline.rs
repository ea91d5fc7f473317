//! The peer baseline for route propagation: GoBGP → BIRD over a veth pair between two
//! namespaces, `N` /32 routes injected into GoBGP in bulk (MRT), timed from the start
//! of the injection until BIRD counts them all. Later the VIP speaker is measured the
//! same way in the same run and the ratio printed.
//!
//! `bgp-peer-baseline [ROUTES] [RUNS]` (defaults: 10000 routes, 5 runs). Needs root.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use benches::{Summary, rss_bytes};
use testkit::{
    Bird, BirdConfig, BirdPeer, Gobgp, GobgpConfig, GobgpNeighbor, MrtRoute, Prefix, VethPair,
};

fn one_run(routes: &[MrtRoute]) -> testkit::Result<(Duration, u64, u64)> {
    let pair = VethPair::new("baseline")?;
    let bird = Bird::start(
        &pair.a,
        &BirdConfig::new(VethPair::A_V4, 65000).peer(BirdPeer::new(
            "node",
            IpAddr::V4(VethPair::B_V4),
            65001,
        )),
    )?;
    let gobgp = Gobgp::start(
        &pair.b,
        &GobgpConfig::new(65001, VethPair::B_V4)
            .neighbor(GobgpNeighbor::new(IpAddr::V4(VethPair::A_V4), 65000)),
    )?;
    bird.wait_established("node", Duration::from_secs(30))?;
    let start = Instant::now();
    gobgp.inject_mrt_unchecked(routes)?;
    bird.wait_route_count(routes.len() as u64, Duration::from_secs(600))?;
    let elapsed = start.elapsed();
    Ok((
        elapsed,
        rss_bytes(gobgp.pid()).unwrap_or(0),
        rss_bytes(bird.pid()).unwrap_or(0),
    ))
}

fn main() -> ExitCode {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let count = args.first().copied().unwrap_or(10_000);
    let runs = args.get(1).copied().unwrap_or(5);
    let routes: Vec<MrtRoute> = (0..count)
        .map(|i| {
            let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + i);
            let prefix = Prefix::new(addr.into(), 32).expect("a /32 is a valid prefix");
            MrtRoute::new(prefix, IpAddr::V4(VethPair::B_V4), vec![64512])
        })
        .collect();
    let mut samples = Vec::new();
    for run in 1..=runs {
        match one_run(&routes) {
            Ok((elapsed, gobgp_rss, bird_rss)) => {
                println!(
                    "run {run}: {count} routes GoBGP -> BIRD in {:.3} s; RSS gobgpd {} MiB, bird {} MiB",
                    elapsed.as_secs_f64(),
                    gobgp_rss >> 20,
                    bird_rss >> 20
                );
                samples.push(elapsed);
            }
            Err(e) => {
                eprintln!("run {run} failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(summary) = Summary::of(&samples) {
        println!("GoBGP -> BIRD, {count} routes: {summary}");
    }
    ExitCode::SUCCESS
}
