//! BIRD 2 inside a namespace: templated configuration, readiness, and parsed answers
//! from `birdc`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{self, NsProcess, wait_until};
use crate::{Error, Netns, Prefix, Result, TempDir, require};

/// One BGP session in a [`BirdConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdPeer {
    /// The protocol name (`show protocols` lists it).
    pub name: String,
    /// The neighbour's address.
    pub neighbor: IpAddr,
    /// The neighbour's AS.
    pub remote_as: u32,
    /// Wait for the neighbour to connect instead of connecting.
    pub passive: bool,
    /// Export every route of the table to this neighbour (`export all`), not none.
    pub export_all: bool,
    /// Options added verbatim inside both channel blocks (e.g. `add paths tx;`).
    pub channel_options: String,
    /// Lines added verbatim inside the `protocol bgp` block.
    pub extra: String,
}

impl BirdPeer {
    /// An active session importing everything and exporting nothing.
    pub fn new(name: &str, neighbor: IpAddr, remote_as: u32) -> BirdPeer {
        BirdPeer {
            name: name.to_owned(),
            neighbor,
            remote_as,
            passive: false,
            export_all: false,
            channel_options: String::new(),
            extra: String::new(),
        }
    }
}

/// A BIRD 2 configuration: a router with BGP sessions whose IPv4 and IPv6 channels
/// import everything (IPv6 over an IPv4 session with extended next hop), with short
/// connect and retry timers so tests converge in about a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdConfig {
    /// The router id.
    pub router_id: Ipv4Addr,
    /// The local AS.
    pub local_as: u32,
    /// The BGP sessions.
    pub peers: Vec<BirdPeer>,
    /// Install the best routes into the namespace's kernel tables.
    pub kernel: bool,
    /// Text appended verbatim (static protocols, filters, …).
    pub extra: String,
}

impl BirdConfig {
    /// A router with no sessions yet.
    pub fn new(router_id: Ipv4Addr, local_as: u32) -> BirdConfig {
        BirdConfig {
            router_id,
            local_as,
            peers: Vec::new(),
            kernel: false,
            extra: String::new(),
        }
    }

    /// Adds a session.
    pub fn peer(mut self, peer: BirdPeer) -> BirdConfig {
        self.peers.push(peer);
        self
    }

    /// The configuration file's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "router id {};", self.router_id);
        let _ = writeln!(out, "protocol device {{ scan time 1; }}");
        if self.kernel {
            for family in ["ipv4", "ipv6"] {
                let _ = writeln!(out, "protocol kernel {{ {family} {{ export all; }}; }}");
            }
        }
        for peer in &self.peers {
            let export = if peer.export_all { "all" } else { "none" };
            let _ = writeln!(out, "protocol bgp {} {{", peer.name);
            let _ = writeln!(out, "  local as {};", self.local_as);
            let _ = writeln!(out, "  neighbor {} as {};", peer.neighbor, peer.remote_as);
            let _ = writeln!(
                out,
                "  connect delay time 1; connect retry time 2; error wait time 1, 5;"
            );
            if peer.passive {
                let _ = writeln!(out, "  passive on;");
            }
            let options = &peer.channel_options;
            for family in ["ipv4", "ipv6"] {
                let _ = writeln!(
                    out,
                    "  {family} {{ import all; export {export}; extended next hop on; {options} }};"
                );
            }
            for line in peer.extra.lines() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "}}");
        }
        out.push_str(&self.extra);
        out
    }
}

/// A running BIRD 2 daemon, stopped on drop.
#[derive(Debug)]
pub struct Bird {
    process: NsProcess,
    socket: PathBuf,
    dir: TempDir,
}

impl Bird {
    /// Starts BIRD in `ns` with `config` and waits until its control socket answers.
    pub fn start(ns: &Netns, config: &BirdConfig) -> Result<Bird> {
        Bird::start_with_text(ns, &config.render())
    }

    /// Starts BIRD in `ns` with a configuration file's text.
    pub fn start_with_text(ns: &Netns, config: &str) -> Result<Bird> {
        require("bird")?;
        require("birdc")?;
        let dir = TempDir::new("bird")?;
        let conf = dir.join("bird.conf");
        let socket = dir.join("bird.ctl");
        std::fs::write(&conf, config).map_err(|e| Error::io("writing bird.conf", e))?;
        let mut cmd = ns.command("bird");
        cmd.arg("-f").arg("-c").arg(&conf).arg("-s").arg(&socket);
        let mut process = ns.spawn(cmd, Some(&dir.join("bird.log")))?;
        let mut bird_ready = || -> Result<Option<()>> {
            process.ensure_running()?;
            Ok(socket.exists().then_some(()))
        };
        wait_until(
            "BIRD's control socket",
            Duration::from_secs(10),
            &mut bird_ready,
            String::new,
        )?;
        let bird = Bird {
            process,
            socket,
            dir,
        };
        wait_until(
            "BIRD to answer `show status`",
            Duration::from_secs(10),
            || Ok(bird.birdc("show status").ok().map(|_| ())),
            || bird.process.log_tail(2000),
        )?;
        Ok(bird)
    }

    /// Runs one `birdc` command and returns its answer without the greeting line.
    pub fn birdc(&self, command: &str) -> Result<String> {
        let mut cmd = Command::new("birdc");
        cmd.arg("-s")
            .arg(&self.socket)
            .args(command.split_whitespace());
        let out = process::run(&mut cmd)?;
        Ok(out
            .lines()
            .filter(|l| !l.starts_with("BIRD ") || !l.ends_with("ready."))
            .fold(String::new(), |mut acc, l| {
                acc.push_str(l);
                acc.push('\n');
                acc
            }))
    }

    /// `show protocols`.
    pub fn protocols(&self) -> Result<Vec<BirdProtocol>> {
        parse_protocols(&self.birdc("show protocols")?)
    }

    /// One protocol of `show protocols`.
    pub fn protocol(&self, name: &str) -> Result<Option<BirdProtocol>> {
        Ok(self.protocols()?.into_iter().find(|p| p.name == name))
    }

    /// Waits until BGP protocol `name` is Established.
    pub fn wait_established(&self, name: &str, timeout: Duration) -> Result<BirdProtocol> {
        wait_until(
            &format!("BIRD protocol {name} to be Established"),
            timeout,
            || Ok(self.protocol(name)?.filter(BirdProtocol::is_established)),
            || self.diagnose(name),
        )
    }

    /// `show route count`.
    pub fn route_count(&self) -> Result<BirdRouteCount> {
        parse_route_count(&self.birdc("show route count")?)
    }

    /// Waits until the tables hold exactly `routes` routes in all.
    pub fn wait_route_count(&self, routes: u64, timeout: Duration) -> Result<BirdRouteCount> {
        wait_until(
            &format!("BIRD to hold {routes} routes"),
            timeout,
            || Ok(Some(self.route_count()?).filter(|c| c.routes == routes)),
            || format!("{:?}", self.route_count()),
        )
    }

    /// `show route all`: every route with its attributes.
    pub fn routes(&self) -> Result<Vec<BirdRoute>> {
        parse_routes(&self.birdc("show route all")?)
    }

    /// `show route for <prefix> all` restricted to that exact prefix.
    pub fn routes_for(&self, prefix: Prefix) -> Result<Vec<BirdRoute>> {
        let all = parse_routes(&self.birdc(&format!("show route {prefix} all"))?)?;
        Ok(all.into_iter().filter(|r| r.prefix == prefix).collect())
    }

    /// The daemon's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The directory holding the configuration, the socket and the log.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The end of BIRD's log and the protocol's details, for error messages.
    fn diagnose(&self, name: &str) -> String {
        let details = self
            .birdc(&format!("show protocols all {name}"))
            .unwrap_or_default();
        format!("{details}\nlog:\n{}", self.process.log_tail(2000))
    }
}

/// One line of `show protocols`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdProtocol {
    /// The protocol name.
    pub name: String,
    /// Its kind (`BGP`, `Device`, `Kernel`, `Static`, …).
    pub proto: String,
    /// Its table (`---` for BGP in BIRD 2).
    pub table: String,
    /// `up`, `down`, `start`, …
    pub state: String,
    /// The time of the last state change.
    pub since: String,
    /// For BGP the session state (`Established`, `Active`, `Connect`, …) and any error.
    pub info: String,
}

impl BirdProtocol {
    /// Whether this is a BGP session in state Established.
    pub fn is_established(&self) -> bool {
        self.info.split_whitespace().next() == Some("Established")
    }
}

/// Parses the answer to `show protocols`.
pub fn parse_protocols(text: &str) -> Result<Vec<BirdProtocol>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    match lines.next() {
        Some(header) if header.starts_with("Name") => {}
        other => {
            return Err(Error::Parse {
                what: "`show protocols`".into(),
                detail: format!("expected the column header, found {other:?}"),
            });
        }
    }
    lines
        .map(|line| {
            let mut cols = line.split_whitespace();
            let mut next = |col: &str| {
                cols.next().map(str::to_owned).ok_or_else(|| Error::Parse {
                    what: "`show protocols`".into(),
                    detail: format!("no {col} column in {line:?}"),
                })
            };
            let (name, proto, table, state, since) = (
                next("name")?,
                next("proto")?,
                next("table")?,
                next("state")?,
                next("since")?,
            );
            let info = cols.collect::<Vec<_>>().join(" ");
            Ok(BirdProtocol {
                name,
                proto,
                table,
                state,
                since,
                info,
            })
        })
        .collect()
}

/// The answer to `show route count`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BirdRouteCount {
    /// Routes in all tables (best and others).
    pub routes: u64,
    /// Distinct networks in all tables.
    pub networks: u64,
    /// Per table: `(table, routes, networks)`.
    pub tables: Vec<(String, u64, u64)>,
}

/// Parses the answer to `show route count`.
pub fn parse_route_count(text: &str) -> Result<BirdRouteCount> {
    let bad = |line: &str| Error::Parse {
        what: "`show route count`".into(),
        detail: format!("unexpected line {line:?}"),
    };
    let mut count = BirdRouteCount::default();
    let mut total_seen = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        // "1 of 1 routes for 1 networks in table master4"
        // "Total: 1 of 1 routes for 1 networks in 2 tables"
        let body = line.strip_prefix("Total: ").unwrap_or(line);
        let words: Vec<&str> = body.split_whitespace().collect();
        let [
            _,
            "of",
            routes,
            "routes",
            "for",
            networks,
            "networks",
            "in",
            rest @ ..,
        ] = &words[..]
        else {
            return Err(bad(line));
        };
        let routes: u64 = routes.parse().map_err(|_| bad(line))?;
        let networks: u64 = networks.parse().map_err(|_| bad(line))?;
        if line.starts_with("Total: ") {
            total_seen = true;
            count.routes = routes;
            count.networks = networks;
        } else if let ["table", name] = rest {
            count.tables.push(((*name).to_owned(), routes, networks));
        } else {
            return Err(bad(line));
        }
    }
    if !total_seen {
        // One table: BIRD prints no total line.
        count.routes = count.tables.iter().map(|t| t.1).sum();
        count.networks = count.tables.iter().map(|t| t.2).sum();
    }
    Ok(count)
}

/// One route of `show route all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BirdRoute {
    /// The table it is in (`master4`, `master6`, …).
    pub table: String,
    /// The network.
    pub prefix: Prefix,
    /// The protocol it came from.
    pub protocol: String,
    /// Whether it is the best route for the network (`*`).
    pub primary: bool,
    /// Its preference.
    pub preference: u32,
    /// The gateway, when it has one.
    pub via: Option<IpAddr>,
    /// The interface towards the gateway.
    pub interface: Option<String>,
    /// Every attribute line as `(name, value)`, e.g. `("BGP.as_path", "65001 64512")`.
    pub attributes: Vec<(String, String)>,
}

impl BirdRoute {
    /// The value of attribute `name` (e.g. `BGP.med`).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `BGP.origin` (`IGP`, `EGP`, `Incomplete`).
    pub fn origin(&self) -> Option<&str> {
        self.attribute("BGP.origin")
    }

    /// `BGP.as_path` as AS numbers (set segments as their members).
    pub fn as_path(&self) -> Vec<u32> {
        self.attribute("BGP.as_path").map_or_else(Vec::new, |path| {
            path.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect()
        })
    }

    /// `BGP.next_hop` (the first address when BIRD lists a global and a link-local one).
    pub fn next_hop(&self) -> Option<IpAddr> {
        self.attribute("BGP.next_hop")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// `BGP.med`.
    pub fn med(&self) -> Option<u32> {
        self.attribute("BGP.med")?.parse().ok()
    }

    /// `BGP.local_pref`.
    pub fn local_pref(&self) -> Option<u32> {
        self.attribute("BGP.local_pref")?.parse().ok()
    }

    /// `BGP.community` as `(asn, value)` pairs, in BIRD's order.
    pub fn communities(&self) -> Vec<(u16, u16)> {
        tuples(self.attribute("BGP.community"))
            .into_iter()
            .filter_map(|t| match t[..] {
                [a, b] => Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)),
                _ => None,
            })
            .collect()
    }

    /// `BGP.large_community` as `(global, local1, local2)` triples.
    pub fn large_communities(&self) -> Vec<(u32, u32, u32)> {
        tuples(self.attribute("BGP.large_community"))
            .into_iter()
            .filter_map(|t| match t[..] {
                [a, b, c] => Some((a, b, c)),
                _ => None,
            })
            .collect()
    }
}

/// `(1,2) (3,4)` or `(1, 2, 3)` as lists of numbers.
fn tuples(value: Option<&str>) -> Vec<Vec<u32>> {
    let Some(value) = value else {
        return Vec::new();
    };
    value
        .split('(')
        .skip(1)
        .filter_map(|t| t.split(')').next())
        .map(|t| t.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .collect()
}

/// Parses the answer to `show route all` (or `show route <prefix> all`).
pub fn parse_routes(text: &str) -> Result<Vec<BirdRoute>> {
    let bad = |line: &str, why: &str| Error::Parse {
        what: "`show route all`".into(),
        detail: format!("{why} in {line:?}"),
    };
    let mut routes: Vec<BirdRoute> = Vec::new();
    let mut table = String::new();
    let mut prefix: Option<Prefix> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("Table ") {
            table = name.trim_end_matches(':').to_owned();
            prefix = None;
        } else if let Some(attr) = line.strip_prefix('\t') {
            let route = routes
                .last_mut()
                .ok_or_else(|| bad(line, "an attribute before any route"))?;
            if let Some(rest) = attr.strip_prefix("via ") {
                let mut words = rest.split_whitespace();
                route.via = words.next().and_then(|a| a.parse().ok());
                if words.next() == Some("on") {
                    route.interface = words.next().map(str::to_owned);
                }
            } else if let Some((name, value)) = attr.split_once(':') {
                route
                    .attributes
                    .push((name.trim().to_owned(), value.trim().to_owned()));
            } else {
                route
                    .attributes
                    .push((attr.trim().to_owned(), String::new()));
            }
        } else {
            // "<prefix>   unicast [proto time] * (pref) [summary]" or, for another route
            // to the same network, the same without the prefix.
            let mut words = line.split_whitespace().peekable();
            if !line.starts_with(' ') {
                let word = words
                    .next()
                    .ok_or_else(|| bad(line, "an empty route line"))?;
                prefix = Some(word.parse().map_err(|_| bad(line, "no prefix"))?);
            }
            let prefix = prefix.ok_or_else(|| bad(line, "a route line without a prefix"))?;
            let _kind = words.next().ok_or_else(|| bad(line, "no route kind"))?;
            let protocol = words
                .next()
                .and_then(|w| w.strip_prefix('['))
                .ok_or_else(|| bad(line, "no protocol"))?
                .trim_end_matches(']')
                .to_owned();
            let rest: Vec<&str> = words.collect();
            let primary = rest.contains(&"*");
            let preference = rest
                .iter()
                .find_map(|w| w.strip_prefix('(')?.strip_suffix(')')?.parse().ok())
                .ok_or_else(|| bad(line, "no preference"))?;
            routes.push(BirdRoute {
                table: table.clone(),
                prefix,
                protocol,
                primary,
                preference,
                via: None,
                interface: None,
                attributes: Vec::new(),
            });
        }
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from BIRD 2.0.12 peering with GoBGP 3.10 and ExaBGP 4.2.
    const PROTOCOLS: &str = "\
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     10:32:28.138  
gobgp      BGP        ---        up     10:32:28.939  Established   
exa        BGP        ---        start  10:32:28.939  Active        Socket: Connection refused
";

    const ROUTES: &str = "\
Table master4:
192.0.2.0/24         unicast [gobgp 10:32:31.153] * (100) [AS65001?]
\tvia 10.0.0.2 on veth0
\tType: BGP univ
\tBGP.origin: Incomplete
\tBGP.as_path: 65001
\tBGP.next_hop: 10.0.0.2
\tBGP.med: 10
\tBGP.local_pref: 100
\tBGP.community: (65000,1)
198.51.100.0/24      unicast [exa 10:32:40.822] * (100) [AS64512i]
\tvia 10.0.0.3 on veth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 65001 64512
\tBGP.next_hop: 10.0.0.3
\tBGP.med: 42
\tBGP.local_pref: 100
\tBGP.community: (65000,7) (65000,8)
\tBGP.large_community: (65000, 1, 2)
                     unicast [gobgp 10:32:41.000] (100) [AS65001i]
\tvia 10.0.0.2 on veth0
\tBGP.as_path: 65001

Table master6:
2001:db8::/32        unicast [gobgp 10:32:31.153] * (100) [AS65001i]
\tvia fd00::2 on veth0
\tBGP.next_hop: fd00::2 fe80::1
";

    #[test]
    fn protocols_are_parsed() {
        let protocols = parse_protocols(PROTOCOLS).unwrap();
        assert_eq!(protocols.len(), 3);
        assert_eq!(protocols[1].name, "gobgp");
        assert_eq!(protocols[1].proto, "BGP");
        assert!(protocols[1].is_established());
        assert!(!protocols[0].is_established());
        assert_eq!(protocols[2].state, "start");
        assert_eq!(protocols[2].info, "Active Socket: Connection refused");
        assert!(parse_protocols("garbage").is_err());
    }

    #[test]
    fn route_counts_are_parsed() {
        let text = "1 of 1 routes for 1 networks in table master4\n\
                    0 of 0 routes for 0 networks in table master6\n\
                    Total: 1 of 1 routes for 1 networks in 2 tables\n";
        let count = parse_route_count(text).unwrap();
        assert_eq!(count.routes, 1);
        assert_eq!(count.networks, 1);
        assert_eq!(count.tables[1], ("master6".to_owned(), 0, 0));
        let one = parse_route_count("7 of 9 routes for 5 networks in table t\n").unwrap();
        assert_eq!((one.routes, one.networks), (9, 5));
        assert!(parse_route_count("12 routes").is_err());
    }

    #[test]
    fn routes_and_attributes_are_parsed() {
        let routes = parse_routes(ROUTES).unwrap();
        assert_eq!(routes.len(), 4);
        let first = &routes[0];
        assert_eq!(first.table, "master4");
        assert_eq!(first.prefix.to_string(), "192.0.2.0/24");
        assert_eq!(first.protocol, "gobgp");
        assert!(first.primary);
        assert_eq!(first.via, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(first.interface.as_deref(), Some("veth0"));
        assert_eq!(first.origin(), Some("Incomplete"));
        assert_eq!(first.med(), Some(10));
        assert_eq!(first.communities(), vec![(65000, 1)]);
        let exa = &routes[1];
        assert_eq!(exa.as_path(), vec![65001, 64512]);
        assert_eq!(exa.communities(), vec![(65000, 7), (65000, 8)]);
        assert_eq!(exa.large_communities(), vec![(65000, 1, 2)]);
        assert_eq!(exa.local_pref(), Some(100));
        let alternate = &routes[2];
        assert_eq!(alternate.prefix, exa.prefix);
        assert!(!alternate.primary);
        assert_eq!(alternate.protocol, "gobgp");
        let v6 = &routes[3];
        assert_eq!(v6.table, "master6");
        assert_eq!(v6.next_hop(), Some("fd00::2".parse().unwrap()));
    }

    #[test]
    fn broken_route_output_is_an_error_not_a_panic() {
        assert!(parse_routes("\tBGP.med: 1").is_err());
        assert!(parse_routes("10.0.0.0/8").is_err());
        assert!(parse_routes("    unicast [x] (1)").is_err());
        assert!(parse_routes("nonsense unicast [x] (1)").is_err());
        assert!(parse_routes("10.0.0.0/8 unicast [x] *").is_err());
    }

    #[test]
    fn config_renders_sessions() {
        let config = BirdConfig::new(Ipv4Addr::new(10, 0, 0, 1), 65000).peer(BirdPeer {
            passive: true,
            ..BirdPeer::new("node", "10.0.0.2".parse().unwrap(), 65001)
        });
        let text = config.render();
        assert!(text.contains("router id 10.0.0.1;"));
        assert!(text.contains("protocol bgp node {"));
        assert!(text.contains("neighbor 10.0.0.2 as 65001;"));
        assert!(text.contains("local as 65000;"));
        assert!(text.contains("passive on;"));
        assert!(!text.contains("protocol kernel"));
        let add_paths = BirdConfig::new(Ipv4Addr::new(10, 0, 0, 1), 65000).peer(BirdPeer {
            channel_options: "add paths tx;".into(),
            ..BirdPeer::new("p", "10.0.0.2".parse().unwrap(), 65001)
        });
        assert_eq!(add_paths.render().matches("add paths tx;").count(), 2);
    }
}
