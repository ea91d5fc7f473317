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

/// Captures a BIRD ↔ GoBGP session with tcpdump and decodes every message with
/// bgp-codec, under the context negotiated from the two OPENs.
pub(crate) fn bgp_decode(n: &mut Narrator) -> testkit::Result<()> {
    use bgp_codec::{Message, SessionContext, frame, negotiate};

    let pair = VethPair::new("dec")?;
    let (router, node) = (&pair.a, &pair.b);
    let capture = testkit::Capture::start(router, VethPair::IFNAME, "tcp port 179")?;
    n.say("tcpdump listens on the router's side of the link");
    let bird = Bird::start(
        router,
        &BirdConfig::new(VethPair::A_V4, ROUTER_AS).peer(BirdPeer::new(
            "node1",
            IpAddr::V4(VethPair::B_V4),
            NODE_AS,
        )),
    )?;
    let mut neighbor = GobgpNeighbor::new(IpAddr::V4(VethPair::A_V4), ROUTER_AS);
    neighbor.families.push("ipv6-unicast".into());
    let gobgp = Gobgp::start(
        node,
        &GobgpConfig::new(NODE_AS, VethPair::B_V4).neighbor(neighbor),
    )?;
    bird.wait_established("node1", Duration::from_secs(30))?;
    n.say("BIRD and GoBGP are Established; the node announces two addresses, withdraws one");
    gobgp.add_route("198.51.100.10/32".parse()?, &["community", "64513:100"])?;
    gobgp.add_route(
        "2001:db8:100::10/128".parse()?,
        &[
            "nexthop",
            &VethPair::B_V6.to_string(),
            "large-community",
            "64513:1:1",
        ],
    )?;
    bird.wait_route_count(2, Duration::from_secs(10))?;
    gobgp.cli(&["global", "rib", "del", "198.51.100.10/32", "-a", "ipv4"])?;
    bird.wait_route_count(1, Duration::from_secs(10))?;
    bird.birdc("disable node1 \"lab is over\"")?;
    std::thread::sleep(Duration::from_millis(500));
    drop(gobgp);
    let frames = capture.stop()?;
    n.say(&format!(
        "captured {} frames; decoding the TCP streams",
        frames.len()
    ));

    let streams: Vec<_> = testkit::tcp_streams(&frames)
        .into_iter()
        .filter(|s| !s.data.is_empty())
        .collect();
    let any = SessionContext {
        extended_message: true,
        ..SessionContext::default()
    };
    let split = |data: &[u8]| -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = data;
        while let Ok(Some(len)) = frame(rest, &any) {
            out.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        out
    };
    let open_of = |msgs: &[Vec<u8>]| match msgs
        .first()
        .map(|m| Message::decode(m, &SessionContext::legacy()))
    {
        Some(Ok(Message::Open(o))) => Some(o),
        _ => None,
    };
    for stream in &streams {
        let sent = split(&stream.data);
        let reply = streams
            .iter()
            .find(|s| s.from == stream.to && s.to == stream.from);
        let (Some(ours), Some(theirs)) =
            (open_of(&sent), reply.and_then(|r| open_of(&split(&r.data))))
        else {
            continue;
        };
        let who = if stream.from.ip() == IpAddr::V4(VethPair::A_V4) {
            "router (BIRD)"
        } else {
            "node (GoBGP)"
        };
        let ctx = negotiate(&theirs, &ours);
        n.say(&format!(
            "{who} {} -> {} sent {} messages:",
            stream.from,
            stream.to,
            sent.len()
        ));
        for (i, bytes) in sent.iter().enumerate() {
            let ctx = if i == 0 {
                SessionContext::legacy()
            } else {
                ctx.clone()
            };
            match Message::decode(bytes, &ctx) {
                Ok(m) => n.show(&format!("  #{i} ({} bytes)", bytes.len()), &m.to_string()),
                Err(e) => n.say(&format!(
                    "  #{i} ({} bytes) does not decode: {e}",
                    bytes.len()
                )),
            }
        }
    }
    Ok(())
}

/// One node's announcer, running on a thread inside its namespace.
struct Speaker {
    commands: tokio::sync::mpsc::Sender<arp_ndp::io::Command>,
    thread: std::thread::JoinHandle<testkit::Result<std::io::Result<()>>>,
}

impl Speaker {
    fn start(ns: &testkit::Netns) -> testkit::Result<Speaker> {
        use arp_ndp::{Announcer, InterfaceConfig, MacAddr, Ownership, Schedule};
        let mac: MacAddr = ns
            .mac(testkit::Bridge::IFNAME)?
            .parse()
            .map_err(|_| testkit::Error::Invalid("a MAC address".into()))?;
        let announcer = Announcer::new(
            InterfaceConfig {
                mac,
                vlan: None,
                ownership: Ownership::Responder,
                link_local: None,
            },
            Schedule::default(),
        );
        let (commands, rx) = tokio::sync::mpsc::channel(8);
        let (events, _) = tokio::sync::mpsc::channel(8);
        let thread = ns.spawn_in(move || {
            arp_ndp::io::run_blocking(
                testkit::Bridge::IFNAME,
                announcer,
                Ownership::Responder,
                rx,
                events,
            )
        })?;
        Ok(Speaker { commands, thread })
    }

    fn send(&self, command: arp_ndp::io::Command) -> testkit::Result<()> {
        self.commands
            .blocking_send(command)
            .map_err(|_| testkit::Error::Invalid("the announcer stopped".into()))
    }

    fn stop(self) -> testkit::Result<()> {
        drop(self.commands);
        match self.thread.join() {
            Ok(result) => {
                result?.map_err(|e| testkit::Error::Invalid(format!("the announcer failed: {e}")))
            }
            Err(_) => Err(testkit::Error::Invalid(
                "the announcer thread panicked".into(),
            )),
        }
    }
}

/// A router and two nodes on one segment; node 1 owns a VIP, then node 2 takes it over.
pub(crate) fn vip_handover(n: &mut Narrator) -> testkit::Result<()> {
    use arp_ndp::io::Command;
    use testkit::{Bridge, MonitorChange};

    let vip4 = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 100));
    let vip6 = IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100));
    let lan = Bridge::new("l2", 3)?;
    let (router, node1, node2) = (lan.member(0), lan.member(1), lan.member(2));
    router.sysctl("net.ipv4.conf.all.arp_accept", "1")?;
    let (mac1, mac2) = (node1.mac(Bridge::IFNAME)?, node2.mac(Bridge::IFNAME)?);
    n.say(&format!(
        "a bridge joins the router ({}), node 1 ({mac1}) and node 2 ({mac2}); the VIPs are {vip4} and {vip6}",
        Bridge::v4(0)
    ));
    let monitor = testkit::Monitor::start(router)?;
    let show = |n: &Narrator, title: &str| -> testkit::Result<()> {
        let mut table = router.ip(&["neigh", "show", "to", &vip4.to_string()])?;
        table.push_str(&router.ip(&["-6", "neigh", "show", "to", &vip6.to_string()])?);
        n.show(title, &table);
        Ok(())
    };
    let learned = |mac: &str| {
        let mac = mac.to_owned();
        move |e: &testkit::MonitorEvent| {
            matches!(&e.change, MonitorChange::Neighbor { addr, lladdr: Some(m), .. }
                if (*addr == vip4 || *addr == vip6) && *m == mac)
        }
    };

    let speaker1 = Speaker::start(node1)?;
    let t = std::time::SystemTime::now();
    speaker1.send(Command::TakeOver(vip4))?;
    speaker1.send(Command::TakeOver(vip6))?;
    let event = monitor.wait_for(
        "the router to learn node 1",
        Duration::from_secs(10),
        learned(&mac1),
    )?;
    n.say(&format!(
        "node 1 takes the VIPs over; the router's kernel learned {mac1} {:.1} ms later",
        event.at.duration_since(t).unwrap_or_default().as_secs_f64() * 1000.0
    ));
    // An unsolicited NA only updates an entry the router has: let it ask for the IPv6
    // VIP once (node 1's responder answers the solicitation; the echo itself goes
    // unanswered, the VIP being on no interface).
    let _ = router.run("ping", &["-6", "-c", "1", "-W", "1", &vip6.to_string()]);
    show(n, "the router's neighbour table (ip neigh):")?;

    monitor.clear();
    speaker1.send(Command::Release(vip4))?;
    speaker1.send(Command::Release(vip6))?;
    let speaker2 = Speaker::start(node2)?;
    let t = std::time::SystemTime::now();
    speaker2.send(Command::TakeOver(vip4))?;
    speaker2.send(Command::TakeOver(vip6))?;
    let event = monitor.wait_for(
        "the router to learn node 2",
        Duration::from_secs(10),
        learned(&mac2),
    )?;
    n.say(&format!(
        "node 1 releases them and node 2 takes them over; the router's entry moved to {mac2} {:.1} ms later",
        event.at.duration_since(t).unwrap_or_default().as_secs_f64() * 1000.0
    ));
    std::thread::sleep(Duration::from_millis(200));
    show(n, "the router's neighbour table now:")?;
    speaker1.stop()?;
    speaker2.stop()?;
    Ok(())
}

/// A GPT disk image served over HTTP, written to a loop device by diskimage with its
/// published checksum checked, then the partition table the kernel tools read back.
pub(crate) fn disk_write(n: &mut Narrator) -> testkit::Result<()> {
    use diskimage::{Progress, PublishedChecksum, SourceSpec, WriteOptions, write_image};
    use testkit::{DataSpec, FixtureServer, LoopDevice, Response, TempDir, make_disk_image};

    let fail = |e: &dyn std::fmt::Display| testkit::Error::Invalid(format!("diskimage: {e}"));
    let dir = TempDir::new("lab-disk")?;
    let image = make_disk_image(dir.path(), 256 << 20, &DataSpec::default())?;
    let packed = dir.path().join("jammy.img.zst");
    command(
        "zstd",
        &[
            "-q".as_ref(),
            "-3".as_ref(),
            image.as_os_str(),
            "-o".as_ref(),
            packed.as_os_str(),
        ],
    )?;
    let bytes = std::fs::read(&packed).map_err(|e| fail(&e))?;
    let digest = {
        let mut h = diskimage::Hasher::new(diskimage::Algorithm::Sha256);
        h.update(&bytes);
        h.finish()
    };
    n.say(&format!(
        "built a 256 MiB GPT disk with an ext4 root (about 25% data); zstd made it {:.1} MiB",
        bytes.len() as f64 / 1048576.0
    ));
    let server = FixtureServer::start().map_err(|e| fail(&e))?;
    server.route("/images/jammy.img.zst", Response::static_body(bytes));
    server.route(
        "/images/jammy.img.zst.sha256",
        Response::text(200, &format!("{digest}  jammy.img.zst\n")),
    );
    // Slow the server down a little so that the progress is visible.
    server.set_latency(Duration::from_millis(50));
    let url = server.url("/images/jammy.img.zst");
    n.say(&format!(
        "an HTTP server on loopback serves {url} and its .sha256"
    ));

    let backing = dir.path().join("disk0.dev");
    std::fs::write(&backing, vec![0xEE; 256 << 20]).map_err(|e| fail(&e))?;
    let dev = LoopDevice::attach_partscan(&backing)?;
    n.say(&format!(
        "{} is a 256 MiB loop device full of 0xEE, standing in for a server's disk",
        dev.path().display()
    ));

    let mut opts = WriteOptions::new(SourceSpec::Url(url), dev.path());
    opts.published_checksum = PublishedChecksum::Required;
    opts.target_options = opts.target_options.clone().discard(true);
    opts.progress_interval = Duration::from_millis(300);
    let summary = write_image(&opts, &mut |p: &Progress| {
        n.say(&format!(
            "progress: {:.1} MiB downloaded, {:.1} MiB of the image handled{}",
            p.bytes_in as f64 / 1048576.0,
            p.bytes_out as f64 / 1048576.0,
            if p.done { " (done: fsync'ed)" } else { "" }
        ));
    })
    .map_err(|e| fail(&e))?;
    n.say(&format!(
        "wrote the {} image: {:.1} MiB written, {:.1} MiB skipped as zeros (BLKZEROOUT first), \
         sha256 of the download checked, partition table re-read: {}",
        summary.format,
        summary.report.bytes_written as f64 / 1048576.0,
        summary.report.bytes_skipped as f64 / 1048576.0,
        summary.report.partitions_reread
    ));
    let dump = command("sfdisk", &["--dump".as_ref(), dev.path().as_os_str()])?;
    n.show("sfdisk --dump reads the partition table back:", &dump);
    let parts = dev.partitions()?;
    let list: Vec<String> = parts
        .iter()
        .map(|p| {
            format!(
                "{} start {} sectors {}",
                p.path.display(),
                p.start,
                p.sectors
            )
        })
        .collect();
    n.show("partx shows the partitions:", &list.join("\n"));
    Ok(())
}

/// Runs an installed tool and returns what it printed; a failure carries its stderr.
fn command(tool: &str, args: &[&std::ffi::OsStr]) -> testkit::Result<String> {
    let out = std::process::Command::new(testkit::require(tool)?)
        .args(args)
        .output()
        .map_err(|e| testkit::Error::Invalid(format!("{tool}: {e}")))?;
    if !out.status.success() {
        return Err(testkit::Error::Invalid(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
