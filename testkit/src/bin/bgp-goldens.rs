//! `bgp-goldens DIR`: records real BGP sessions between BIRD 2, GoBGP and ExaBGP in the
//! kit's namespaces and writes one pcap per scenario into DIR. The bgp-codec crate's
//! golden tests decode every message of these captures and re-encode it byte for byte.
//! Needs root and the test packages (scripts/prereqs test).

use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use testkit::{
    Bird, BirdConfig, BirdPeer, Bridge, Capture, Exabgp, ExabgpConfig, Gobgp, GobgpConfig,
    GobgpNeighbor, Result, exabgp_attribute,
};

/// A scenario: records one session into a pcap in the given directory.
type Scenario = fn(&Path) -> Result<()>;

const SETTLE: Duration = Duration::from_millis(1500);
const WAIT: Duration = Duration::from_secs(30);

fn ip(i: usize) -> IpAddr {
    IpAddr::V4(Bridge::v4(i))
}

/// BIRD (AS 65000) and GoBGP (AS 65001) with IPv4 and IPv6 unicast; routes both
/// ways, a withdrawal, then BIRD shuts the session down with a message.
fn bird_gobgp(dir: &Path) -> Result<()> {
    let lan = Bridge::new("gold", 2)?;
    let capture = Capture::start(lan.switch(), "br0", "tcp port 179")?;
    let bird = Bird::start(
        lan.member(0),
        &BirdConfig {
            extra: "protocol static { ipv4; route 203.0.113.0/24 blackhole; }\n\
                    protocol static { ipv6; route 2001:db8:ff::/48 blackhole; }\n"
                .into(),
            ..BirdConfig::new(Bridge::v4(0), 65000).peer(BirdPeer {
                export_all: true,
                ..BirdPeer::new("gobgp", ip(1), 65001)
            })
        },
    )?;
    let mut neighbor = GobgpNeighbor::new(ip(0), 65000);
    neighbor.families.push("ipv6-unicast".into());
    let gobgp = Gobgp::start(
        lan.member(1),
        &GobgpConfig::new(65001, Bridge::v4(1)).neighbor(neighbor),
    )?;
    bird.wait_established("gobgp", WAIT)?;
    gobgp.add_route(
        "192.0.2.0/24".parse()?,
        &["community", "65001:7", "med", "10", "origin", "egp"],
    )?;
    gobgp.add_route(
        "2001:db8:1::/48".parse()?,
        &[
            "nexthop",
            &Bridge::v6(1).to_string(),
            "large-community",
            "65001:1:2",
        ],
    )?;
    std::thread::sleep(SETTLE);
    gobgp.cli(&["global", "rib", "del", "192.0.2.0/24", "-a", "ipv4"])?;
    std::thread::sleep(SETTLE);
    bird.birdc("disable gobgp \"maintenance window\"")?;
    std::thread::sleep(SETTLE);
    std::fs::write(dir.join("bird-gobgp.pcap"), capture.stop_pcap()?)
        .map_err(|e| testkit::Error::Invalid(format!("writing the capture: {e}")))?;
    Ok(())
}

/// BIRD (AS 65000) and ExaBGP (AS 65002): routes with every common attribute, an
/// unknown optional transitive attribute, IPv6, a route refresh from BIRD, and BIRD
/// announcing to ExaBGP with ADD-PATH (two paths for one prefix).
fn bird_exabgp(dir: &Path) -> Result<()> {
    let lan = Bridge::new("goldx", 2)?;
    let capture = Capture::start(lan.switch(), "br0", "tcp port 179")?;
    let bird = Bird::start(
        lan.member(0),
        &BirdConfig {
            extra: "protocol static s1 { ipv4; route 203.0.113.0/24 via 10.0.0.2; }\n\
                    protocol static s2 { ipv4 { preference 90; }; route 203.0.113.0/24 via 10.0.0.3; }\n"
                .into(),
            ..BirdConfig::new(Bridge::v4(0), 65000).peer(BirdPeer {
                export_all: true,
                channel_options: "add paths tx;".into(),
                ..BirdPeer::new("exa", ip(1), 65002)
            })
        },
    )?;
    let exabgp = Exabgp::start(
        lan.member(1),
        &ExabgpConfig {
            extra: "capability { add-path receive; route-refresh; }".into(),
            ..ExabgpConfig::new(Bridge::v4(1), ip(1), 65002, ip(0), 65000)
        },
    )?;
    bird.wait_established("exa", WAIT)?;
    let unknown = exabgp_attribute(0xc0, 0xf0, &[1, 2, 3, 4]);
    exabgp.announce(
        "198.51.100.0/24".parse()?,
        &format!(
            "origin egp as-path [ 65002 64512 ( 64513 64514 ) ] med 42 local-preference 200 \
             community [ 65002:7 65002:8 65002:7 no-export ] large-community [ 65002:1:2 65002:3:4 ] \
             extended-community [ target:65002:100 ] atomic-aggregate aggregator ( 65002:10.0.0.2 ) {unknown}"
        ),
    )?;
    exabgp.command(&format!(
        "announce route 2001:db8:2::/48 next-hop {} community [ 65002:6 ]",
        Bridge::v6(1)
    ))?;
    std::thread::sleep(SETTLE);
    bird.birdc("reload in exa")?;
    std::thread::sleep(SETTLE);
    exabgp.withdraw("198.51.100.0/24".parse()?)?;
    std::thread::sleep(SETTLE);
    drop(exabgp);
    std::thread::sleep(SETTLE);
    std::fs::write(dir.join("bird-exabgp.pcap"), capture.stop_pcap()?)
        .map_err(|e| testkit::Error::Invalid(format!("writing the capture: {e}")))?;
    Ok(())
}

/// A 2-octet speaker: GoBGP (4-octet AS 4200000001) → BIRD (AS 65000) → ExaBGP (AS
/// 65003) on a session where BIRD does not use 4-octet AS (`enable as4 off`), so the
/// path reaches ExaBGP as AS_TRANS in AS_PATH plus AS4_PATH.
fn two_octet(dir: &Path) -> Result<()> {
    let lan = Bridge::new("gold2", 3)?;
    let capture = Capture::start(lan.switch(), "br0", "tcp port 179")?;
    let bird = Bird::start(
        lan.member(0),
        &BirdConfig::new(Bridge::v4(0), 65000)
            .peer(BirdPeer::new("gobgp", ip(1), 4_200_000_001))
            .peer(BirdPeer {
                export_all: true,
                extra: "enable as4 off;".into(),
                ..BirdPeer::new("old", ip(2), 65003)
            }),
    )?;
    let gobgp = Gobgp::start(
        lan.member(1),
        &GobgpConfig::new(4_200_000_001, Bridge::v4(1)).neighbor(GobgpNeighbor::new(ip(0), 65000)),
    )?;
    let exabgp = Exabgp::start(
        lan.member(2),
        &ExabgpConfig {
            extra: "capability { asn4 disable; }".into(),
            families: vec!["ipv4 unicast".into()],
            ..ExabgpConfig::new(Bridge::v4(2), ip(2), 65003, ip(0), 65000)
        },
    )?;
    bird.wait_established("gobgp", WAIT)?;
    bird.wait_established("old", WAIT)?;
    gobgp.add_route("192.0.2.128/25".parse()?, &["aspath", "4200000002,65010"])?;
    std::thread::sleep(SETTLE);
    drop(exabgp);
    drop(gobgp);
    std::thread::sleep(SETTLE);
    std::fs::write(dir.join("two-octet.pcap"), capture.stop_pcap()?)
        .map_err(|e| testkit::Error::Invalid(format!("writing the capture: {e}")))?;
    Ok(())
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: bgp-goldens DIR");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("bgp-goldens: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let scenarios: [(&str, Scenario); 3] = [
        ("bird-gobgp", bird_gobgp),
        ("bird-exabgp", bird_exabgp),
        ("two-octet", two_octet),
    ];
    let mut failed = false;
    for (name, run) in scenarios {
        match run(dir) {
            Ok(()) => println!("{name}: captured"),
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
