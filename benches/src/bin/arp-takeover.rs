//! Takeover latency of the arp-ndp announcer on a real link: a peer namespace and a
//! node namespace on a bridge. For each handover the peer's neighbour entry for the VIP
//! points at an old MAC; the node's announcer is told it owns the VIP (the takeover
//! instant), and the program measures
//!
//! - takeover → the first announcement frame in a capture on the peer (tcpdump's
//!   kernel timestamp; target under 1 ms, kube-vip: up to 3 s), and
//! - takeover → the peer's neighbour entry showing the node's MAC (`ip -ts monitor
//!   neigh` in the peer; target under 10 ms),
//!
//! for IPv4 (gratuitous ARP) and IPv6 (unsolicited NA), and prints the medians.
//!
//! `arp-takeover [HANDOVERS]` (default 20). Needs root, iproute2 and tcpdump.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use arp_ndp::io::Command;
use arp_ndp::{Announcer, Frame, InterfaceConfig, MacAddr, Ownership, Schedule};
use benches::Summary;
use testkit::{Bridge, Capture, Monitor, MonitorChange};

const OLD_MAC: &str = "02:00:00:00:00:99";

fn measure(handovers: usize) -> testkit::Result<()> {
    let lan = Bridge::new("bench", 2)?;
    let (peer, node) = (lan.member(0), lan.member(1));
    let node_mac: MacAddr = node
        .mac(Bridge::IFNAME)?
        .parse()
        .map_err(|_| testkit::Error::Invalid("a MAC".into()))?;
    let vip4 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
    let vip6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100));

    let announcer = Announcer::new(
        InterfaceConfig {
            mac: node_mac,
            vlan: None,
            ownership: Ownership::Responder,
            link_local: None,
        },
        Schedule::default(),
    );
    let (commands, rx) = tokio::sync::mpsc::channel(8);
    let (events, _events) = tokio::sync::mpsc::channel(8);
    let thread = node.spawn_in(move || {
        arp_ndp::io::run_blocking(Bridge::IFNAME, announcer, Ownership::Responder, rx, events)
    })?;
    let monitor = Monitor::start(peer)?;
    let capture = Capture::start(peer, Bridge::IFNAME, "arp or icmp6")?;
    let send = |c: Command| {
        commands
            .blocking_send(c)
            .map_err(|_| testkit::Error::Invalid("the announcer stopped".into()))
    };

    for vip in [vip4, vip6] {
        let family = if vip.is_ipv4() { "-4" } else { "-6" };
        let (mut first_frame, mut entry) = (Vec::new(), Vec::new());
        for _ in 0..handovers {
            send(Command::Release(vip))?;
            peer.ip(&[
                family,
                "neigh",
                "replace",
                &vip.to_string(),
                "lladdr",
                OLD_MAC,
                "dev",
                Bridge::IFNAME,
                "nud",
                "stale",
            ])?;
            std::thread::sleep(Duration::from_millis(50));
            monitor.clear();
            let seen_before = capture.frames()?.len();
            let t = SystemTime::now();
            send(Command::TakeOver(vip))?;
            let mac = node_mac.to_string();
            let event = monitor.wait_for("the peer's entry to move", Duration::from_secs(5), |e| {
                matches!(&e.change, MonitorChange::Neighbor { addr, lladdr: Some(m), .. } if *addr == vip && *m == mac)
            })?;
            entry.push(event.at.duration_since(t).unwrap_or_default());
            let frames = capture.wait_frames(seen_before + 1, Duration::from_secs(5))?;
            let first = frames[seen_before..]
                .iter()
                .find(|f| Frame::parse(&f.data).is_ok_and(|p| p.eth().src == node_mac))
                .ok_or_else(|| testkit::Error::Invalid("no announcement captured".into()))?;
            first_frame.push(first.at.duration_since(t).unwrap_or_default());
        }
        let name = if vip.is_ipv4() {
            "IPv4 gratuitous ARP"
        } else {
            "IPv6 unsolicited NA"
        };
        let ms = |s: Summary| {
            format!(
                "median {:.3} ms (min {:.3}, max {:.3}, {} handovers)",
                s.median.as_secs_f64() * 1e3,
                s.min.as_secs_f64() * 1e3,
                s.max.as_secs_f64() * 1e3,
                s.runs
            )
        };
        if let (Some(frame), Some(neigh)) = (Summary::of(&first_frame), Summary::of(&entry)) {
            println!(
                "{name}: takeover -> first frame on the peer: {} (target < 1 ms)",
                ms(frame)
            );
            println!(
                "{name}: takeover -> peer neighbour entry:    {} (target < 10 ms)",
                ms(neigh)
            );
        }
    }
    drop(commands);
    match thread.join() {
        Ok(result) => result?.map_err(|e| testkit::Error::Invalid(format!("announcer: {e}"))),
        Err(_) => Err(testkit::Error::Invalid(
            "the announcer thread panicked".into(),
        )),
    }
}

fn main() -> ExitCode {
    let handovers = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    match measure(handovers) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arp-takeover: {e}");
            ExitCode::FAILURE
        }
    }
}
