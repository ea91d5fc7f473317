//! GoBGP (`gobgpd` and the `gobgp` CLI) inside a namespace: templated configuration,
//! readiness, parsed neighbour and RIB answers, and bulk injection through MRT.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::Value;

use crate::mrt::{MrtPeer, MrtRoute, table_dump_v2};
use crate::process::{self, NsProcess, wait_until};
use crate::{Error, Netns, Prefix, Result, TempDir, require};

/// One neighbour in a [`GobgpConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GobgpNeighbor {
    /// The neighbour's address.
    pub address: IpAddr,
    /// The neighbour's AS.
    pub peer_as: u32,
    /// Address families, GoBGP names (`ipv4-unicast`, `ipv6-unicast`).
    pub families: Vec<String>,
    /// Wait for the neighbour to connect.
    pub passive: bool,
}

impl GobgpNeighbor {
    /// An active IPv4 unicast neighbour.
    pub fn new(address: IpAddr, peer_as: u32) -> GobgpNeighbor {
        GobgpNeighbor {
            address,
            peer_as,
            families: vec!["ipv4-unicast".into()],
            passive: false,
        }
    }
}

/// A `gobgpd` configuration (TOML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GobgpConfig {
    /// The local AS.
    pub asn: u32,
    /// The router id.
    pub router_id: Ipv4Addr,
    /// The BGP listening port; `-1` does not listen (GoBGP then only connects).
    pub listen_port: i32,
    /// The neighbours.
    pub neighbors: Vec<GobgpNeighbor>,
}

impl GobgpConfig {
    /// A speaker that listens on port 179 and has no neighbours yet.
    pub fn new(asn: u32, router_id: Ipv4Addr) -> GobgpConfig {
        GobgpConfig {
            asn,
            router_id,
            listen_port: 179,
            neighbors: Vec::new(),
        }
    }

    /// Adds a neighbour.
    pub fn neighbor(mut self, neighbor: GobgpNeighbor) -> GobgpConfig {
        self.neighbors.push(neighbor);
        self
    }

    /// The configuration file's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "[global.config]");
        let _ = writeln!(out, "  as = {}", self.asn);
        let _ = writeln!(out, "  router-id = \"{}\"", self.router_id);
        let _ = writeln!(out, "  port = {}", self.listen_port);
        for n in &self.neighbors {
            let _ = writeln!(out, "[[neighbors]]");
            let _ = writeln!(out, "  [neighbors.config]");
            let _ = writeln!(out, "    neighbor-address = \"{}\"", n.address);
            let _ = writeln!(out, "    peer-as = {}", n.peer_as);
            let _ = writeln!(out, "  [neighbors.timers.config]");
            let _ = writeln!(out, "    connect-retry = 1");
            if n.passive {
                let _ = writeln!(out, "  [neighbors.transport.config]");
                let _ = writeln!(out, "    passive-mode = true");
            }
            for family in &n.families {
                let _ = writeln!(out, "  [[neighbors.afi-safis]]");
                let _ = writeln!(out, "    [neighbors.afi-safis.config]");
                let _ = writeln!(out, "      afi-safi-name = \"{family}\"");
            }
        }
        out
    }
}

/// A running `gobgpd`, stopped on drop. The `gobgp` CLI runs in the same namespace.
#[derive(Debug)]
pub struct Gobgp {
    process: NsProcess,
    ns: String,
    dir: TempDir,
    router_id: Ipv4Addr,
    asn: u32,
}

impl Gobgp {
    /// Starts `gobgpd` in `ns` and waits until its API answers.
    pub fn start(ns: &Netns, config: &GobgpConfig) -> Result<Gobgp> {
        require("gobgpd")?;
        require("gobgp")?;
        let dir = TempDir::new("gobgp")?;
        let conf = dir.join("gobgpd.toml");
        std::fs::write(&conf, config.render()).map_err(|e| Error::io("writing gobgpd.toml", e))?;
        let mut cmd = ns.command("gobgpd");
        cmd.arg("-f").arg(&conf).arg("--log-plain");
        let process = ns.spawn(cmd, Some(&dir.join("gobgpd.log")))?;
        let mut gobgp = Gobgp {
            process,
            ns: ns.name().to_owned(),
            dir,
            router_id: config.router_id,
            asn: config.asn,
        };
        let Gobgp { process, ns, .. } = &mut gobgp;
        wait_until(
            "gobgpd's API",
            Duration::from_secs(10),
            || {
                process.ensure_running()?;
                Ok(cli_in(ns, &["global"]).ok().map(|_| ()))
            },
            String::new,
        )?;
        Ok(gobgp)
    }

    /// Runs `gobgp args…` in the daemon's namespace.
    pub fn cli(&self, args: &[&str]) -> Result<String> {
        process::run(
            std::process::Command::new("ip")
                .args(["netns", "exec", &self.ns, "gobgp"])
                .args(args),
        )
    }

    /// `gobgp neighbor -j`, parsed.
    pub fn neighbors(&self) -> Result<Vec<GobgpNeighborState>> {
        parse_neighbors(&self.cli(&["neighbor", "-j"])?)
    }

    /// Waits until the session with `address` is Established.
    pub fn wait_established(
        &self,
        address: IpAddr,
        timeout: Duration,
    ) -> Result<GobgpNeighborState> {
        wait_until(
            &format!("GoBGP's session with {address} to be Established"),
            timeout,
            || {
                Ok(self
                    .neighbors()?
                    .into_iter()
                    .find(|n| n.address == address && n.state == SessionState::Established))
            },
            || {
                format!(
                    "{:?}\nlog:\n{}",
                    self.neighbors(),
                    self.process.log_tail(2000)
                )
            },
        )
    }

    /// Adds one route to the global RIB (`gobgp global rib add PREFIX ATTRS…`), e.g.
    /// `add_route("192.0.2.0/24".parse()?, &["community", "65000:1"])`.
    pub fn add_route(&self, prefix: Prefix, attrs: &[&str]) -> Result<()> {
        let family = if prefix.is_ipv4() { "ipv4" } else { "ipv6" };
        let prefix = prefix.to_string();
        let mut args = vec!["global", "rib", "add", prefix.as_str()];
        args.extend_from_slice(attrs);
        args.extend_from_slice(&["-a", family]);
        self.cli(&args)?;
        Ok(())
    }

    /// The global RIB of one family (`ipv4` or `ipv6`), parsed.
    pub fn rib(&self, family: &str) -> Result<Vec<GobgpPath>> {
        parse_rib(&self.cli(&["global", "rib", "-a", family, "-j"])?)
    }

    /// The number of destinations in the global RIB of one family.
    pub fn rib_count(&self, family: &str) -> Result<u64> {
        let out = self.cli(&["global", "rib", "summary", "-a", family])?;
        // "Table ipv4-unicast\nDestination: 10000, Path: 10000\n"
        out.split("Destination:")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| Error::Parse {
                what: "`gobgp global rib summary`".into(),
                detail: out.clone(),
            })
    }

    /// Injects `routes` in bulk: writes a `TABLE_DUMP_V2` file and runs
    /// `gobgp mrt inject global FILE`, then checks GoBGP's RIB.
    ///
    /// GoBGP 3.10 loses the last routes of the stream (it quits without closing its gRPC
    /// stream), and more of them when the machine is busy. So the file ends with up to
    /// 1,000 repeats of the first routes (which change nothing), and when the RIB then
    /// holds fewer destinations than expected, the tail of the list is injected again,
    /// up to five times. `routes` are expected to be new to the RIB, distinct prefixes.
    pub fn inject_mrt(&self, routes: &[MrtRoute]) -> Result<()> {
        let families = [("ipv4", true), ("ipv6", false)];
        let mut expected = Vec::new();
        for (family, v4) in families {
            let new = routes.iter().filter(|r| r.prefix.is_ipv4() == v4).count() as u64;
            if new > 0 {
                expected.push((family, self.rib_count(family)? + new));
            }
        }
        let mut batch = routes;
        for _ in 0..5 {
            self.inject_mrt_unchecked(batch)?;
            let mut missing = 0;
            for &(family, want) in &expected {
                let have = self.settled_rib_count(family)?;
                missing += want.saturating_sub(have);
            }
            if missing == 0 {
                return Ok(());
            }
            // The lost routes are the last ones: send a generous tail again.
            let tail = (2 * missing as usize + 1000).min(routes.len());
            batch = &routes[routes.len() - tail..];
        }
        Ok(())
    }

    /// The RIB count of `family` once it stopped changing for 300 ms.
    fn settled_rib_count(&self, family: &str) -> Result<u64> {
        let mut last = self.rib_count(family)?;
        loop {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let now = self.rib_count(family)?;
            if now == last {
                return Ok(now);
            }
            last = now;
        }
    }

    /// One `gobgp mrt inject` of `routes` (padded as [`Gobgp::inject_mrt`] does), without
    /// checking the RIB afterwards: for measurements, where the check would count.
    pub fn inject_mrt_unchecked(&self, routes: &[MrtRoute]) -> Result<()> {
        let pad = routes.len().min(1000);
        let padded: Vec<MrtRoute> = routes.iter().chain(&routes[..pad]).cloned().collect();
        let peer = MrtPeer {
            bgp_id: self.router_id,
            addr: self.router_id.into(),
            asn: self.asn,
        };
        let bytes = table_dump_v2(peer, &padded, 0)?;
        let file = self.dir.join("inject.mrt");
        std::fs::write(&file, bytes).map_err(|e| Error::io("writing inject.mrt", e))?;
        self.cli(&["mrt", "inject", "global", &file.to_string_lossy()])?;
        Ok(())
    }

    /// The daemon's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// Runs `gobgp args…` in namespace `ns`.
fn cli_in(ns: &str, args: &[&str]) -> Result<String> {
    process::run(
        std::process::Command::new("ip")
            .args(["netns", "exec", ns, "gobgp"])
            .args(args),
    )
}

/// A BGP finite-state-machine state as GoBGP reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Idle.
    Idle,
    /// Connect.
    Connect,
    /// Active.
    Active,
    /// OpenSent.
    OpenSent,
    /// OpenConfirm.
    OpenConfirm,
    /// Established.
    Established,
    /// A value this kit does not know.
    Unknown(u64),
}

impl From<u64> for SessionState {
    fn from(n: u64) -> SessionState {
        match n {
            1 => SessionState::Idle,
            2 => SessionState::Connect,
            3 => SessionState::Active,
            4 => SessionState::OpenSent,
            5 => SessionState::OpenConfirm,
            6 => SessionState::Established,
            other => SessionState::Unknown(other),
        }
    }
}

/// One neighbour of `gobgp neighbor -j`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GobgpNeighborState {
    /// The neighbour's address.
    pub address: IpAddr,
    /// Its AS.
    pub peer_as: u32,
    /// The session state.
    pub state: SessionState,
    /// UPDATE messages received.
    pub updates_received: u64,
    /// UPDATE messages sent.
    pub updates_sent: u64,
}

/// Parses `gobgp neighbor -j`.
pub fn parse_neighbors(json: &str) -> Result<Vec<GobgpNeighborState>> {
    let bad = |detail: String| Error::Parse {
        what: "`gobgp neighbor -j`".into(),
        detail,
    };
    let value: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let list = value.as_array().ok_or_else(|| bad("not an array".into()))?;
    list.iter()
        .map(|n| {
            let address = n
                .pointer("/state/neighbor_address")
                .or_else(|| n.pointer("/conf/neighbor_address"))
                .and_then(Value::as_str)
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| bad(format!("no neighbour address in {n}")))?;
            let number = |p: &str| n.pointer(p).and_then(Value::as_u64).unwrap_or(0);
            Ok(GobgpNeighborState {
                address,
                peer_as: u32::try_from(number("/conf/peer_asn")).unwrap_or(0),
                state: SessionState::from(number("/state/session_state")),
                updates_received: number("/state/messages/received/update"),
                updates_sent: number("/state/messages/sent/update"),
            })
        })
        .collect()
}

/// One path of `gobgp global rib -j`.
#[derive(Debug, Clone, PartialEq)]
pub struct GobgpPath {
    /// The network.
    pub prefix: Prefix,
    /// Whether it is the best path.
    pub best: bool,
    /// The path attributes as GoBGP prints them (`{"type":1,"value":0}`, …).
    pub attrs: Vec<Value>,
}

/// Parses `gobgp global rib -j`: an object from prefix to a list of paths.
pub fn parse_rib(json: &str) -> Result<Vec<GobgpPath>> {
    let bad = |detail: String| Error::Parse {
        what: "`gobgp global rib -j`".into(),
        detail,
    };
    if json.trim().is_empty() || json.trim() == "null" {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let map = value
        .as_object()
        .ok_or_else(|| bad("not an object".into()))?;
    let mut out = Vec::new();
    for (prefix, paths) in map {
        let prefix: Prefix = prefix.parse()?;
        for path in paths
            .as_array()
            .ok_or_else(|| bad(format!("{prefix}: not a list")))?
        {
            out.push(GobgpPath {
                prefix,
                best: path.get("best").and_then(Value::as_bool).unwrap_or(false),
                attrs: path
                    .get("attrs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_parsed() {
        // Trimmed from GoBGP 3.10.
        let json = r#"[{"conf":{"local_asn":65001,"neighbor_address":"10.0.0.1","peer_asn":65000},
            "state":{"messages":{"received":{"update":3},"sent":{"update":1}},
            "neighbor_address":"10.0.0.1","session_state":6}}]"#;
        let n = parse_neighbors(json).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].address, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(n[0].peer_as, 65000);
        assert_eq!(n[0].state, SessionState::Established);
        assert_eq!((n[0].updates_received, n[0].updates_sent), (3, 1));
        assert_eq!(SessionState::from(9), SessionState::Unknown(9));
        assert!(parse_neighbors("{}").is_err());
        assert!(parse_neighbors("[{}]").is_err());
    }

    #[test]
    fn the_rib_is_parsed() {
        let json = r#"{"192.0.2.0/24":[{"nlri":{"prefix":"192.0.2.0/24"},"best":true,
            "attrs":[{"type":1,"value":2},{"type":8,"communities":[4259840001]}]}]}"#;
        let rib = parse_rib(json).unwrap();
        assert_eq!(rib.len(), 1);
        assert!(rib[0].best);
        assert_eq!(rib[0].attrs[1]["communities"][0], 4_259_840_001u64);
        assert!(parse_rib("").unwrap().is_empty());
        assert!(parse_rib("[1]").is_err());
    }

    #[test]
    fn config_renders_toml() {
        let mut n = GobgpNeighbor::new("10.0.0.1".parse().unwrap(), 65000);
        n.passive = true;
        n.families.push("ipv6-unicast".into());
        let text = GobgpConfig::new(65001, Ipv4Addr::new(10, 0, 0, 2))
            .neighbor(n)
            .render();
        assert!(text.contains("as = 65001"));
        assert!(text.contains("router-id = \"10.0.0.2\""));
        assert!(text.contains("neighbor-address = \"10.0.0.1\""));
        assert!(text.contains("passive-mode = true"));
        assert!(text.contains("afi-safi-name = \"ipv6-unicast\""));
    }
}
