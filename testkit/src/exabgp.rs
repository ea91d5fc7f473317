//! ExaBGP 4.2 inside a namespace: routes and raw attributes injected through its
//! process API, and what it receives read back as parsed JSON.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::process::{NsProcess, wait_until};
use crate::{Error, Netns, Prefix, Result, TempDir, require};

/// An ExaBGP configuration with one neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExabgpConfig {
    /// The router id.
    pub router_id: Ipv4Addr,
    /// The local address of the session.
    pub local_address: IpAddr,
    /// The local AS.
    pub local_as: u32,
    /// The neighbour's address.
    pub peer_address: IpAddr,
    /// The neighbour's AS.
    pub peer_as: u32,
    /// Families, ExaBGP names (`ipv4 unicast`, `ipv6 unicast`).
    pub families: Vec<String>,
    /// Lines added verbatim inside the `neighbor` block (e.g.
    /// `capability { add-path receive; }`).
    pub extra: String,
}

impl ExabgpConfig {
    /// A session for IPv4 and IPv6 unicast.
    pub fn new(
        router_id: Ipv4Addr,
        local_address: IpAddr,
        local_as: u32,
        peer_address: IpAddr,
        peer_as: u32,
    ) -> ExabgpConfig {
        ExabgpConfig {
            router_id,
            local_address,
            local_as,
            peer_address,
            peer_as,
            families: vec!["ipv4 unicast".into(), "ipv6 unicast".into()],
            extra: String::new(),
        }
    }

    /// The configuration file's text: the `inject` process follows file `inject`, the
    /// `receive` process is the script `receiver` (which appends its input to a file).
    fn render(&self, inject: &std::path::Path, receiver: &std::path::Path) -> String {
        let families: String = self.families.iter().map(|f| format!("{f}; ")).collect();
        format!(
            "process inject {{\n  run /usr/bin/tail -n +1 -F {inject};\n  encoder text;\n}}\n\
             process receive {{\n  run {receiver};\n  encoder json;\n}}\n\
             neighbor {peer} {{\n  router-id {rid};\n  local-address {local};\n  \
             local-as {las};\n  peer-as {pas};\n  family {{ {families}}}\n  \
             api {{ processes [ inject ]; }}\n  \
             api {{ processes [ receive ]; receive {{ parsed; update; notification; }} }}\n{extra}}}\n",
            inject = inject.display(),
            receiver = receiver.display(),
            peer = self.peer_address,
            rid = self.router_id,
            local = self.local_address,
            las = self.local_as,
            pas = self.peer_as,
            extra = self
                .extra
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>(),
        )
    }
}

/// A running ExaBGP, stopped on drop (its helper processes end with its namespace or
/// with it).
#[derive(Debug)]
pub struct Exabgp {
    process: NsProcess,
    inject: PathBuf,
    received: PathBuf,
    dir: TempDir,
}

impl Exabgp {
    /// Starts ExaBGP in `ns` and waits until it has loaded its configuration.
    pub fn start(ns: &Netns, config: &ExabgpConfig) -> Result<Exabgp> {
        require("exabgp")?;
        let dir = TempDir::new("exabgp")?;
        let run = dir.join("run");
        std::fs::create_dir(&run).map_err(|e| Error::io("creating exabgp/run", e))?;
        for fifo in ["exabgp.in", "exabgp.out"] {
            rustix::fs::mkfifoat(
                rustix::fs::CWD,
                run.join(fifo),
                rustix::fs::Mode::from(0o600),
            )
            .map_err(|e| Error::io(format!("creating the FIFO {fifo}"), e.into()))?;
        }
        let inject = dir.join("inject.txt");
        let received = dir.join("received.jsonl");
        std::fs::write(&inject, "").map_err(|e| Error::io("creating inject.txt", e))?;
        std::fs::write(&received, "").map_err(|e| Error::io("creating received.jsonl", e))?;
        // ExaBGP splits `run` on spaces, so the redirection lives in a script (without
        // `exec`: ExaBGP 4.2 keeps restarting a helper that replaced its shell).
        let receiver = dir.join("receive.sh");
        std::fs::write(
            &receiver,
            format!("#!/bin/sh\ncat >> '{}'\n", received.display()),
        )
        .map_err(|e| Error::io("writing receive.sh", e))?;
        std::fs::set_permissions(
            &receiver,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .map_err(|e| Error::io("making receive.sh executable", e))?;
        let conf = dir.join("exabgp.conf");
        std::fs::write(&conf, config.render(&inject, &receiver))
            .map_err(|e| Error::io("writing exabgp.conf", e))?;
        let mut cmd = ns.command("env");
        cmd.args([
            "exabgp_daemon_user=root",
            "exabgp_daemon_daemonize=false",
            "exabgp_tcp_bind=",
            "exabgp_log_destination=stdout",
            "PYTHONUNBUFFERED=1",
            "exabgp",
            "--root",
        ])
        .arg(dir.path())
        .arg(&conf);
        let process = ns.spawn(cmd, Some(&dir.join("exabgp.log")))?;
        let mut exabgp = Exabgp {
            process,
            inject,
            received,
            dir,
        };
        exabgp.wait_log(
            "loaded new configuration successfully",
            Duration::from_secs(20),
        )?;
        Ok(exabgp)
    }

    /// Waits until ExaBGP's log contains `text`.
    pub fn wait_log(&mut self, text: &str, timeout: Duration) -> Result<()> {
        let Exabgp { process, .. } = self;
        let log = process
            .log_file()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        wait_until(
            &format!("ExaBGP to log {text:?}"),
            timeout,
            || {
                process.ensure_running()?;
                Ok(process.log_tail(1 << 20).contains(text).then_some(()))
            },
            || crate::process::tail(&log, 2000),
        )
    }

    /// Sends one API command, e.g. `announce route 192.0.2.0/24 next-hop self` or
    /// `announce attributes next-hop self attribute [0x20 0xc0 0x…] nlri 192.0.2.0/24`.
    pub fn command(&self, line: &str) -> Result<()> {
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.inject)
            .map_err(|e| Error::io("opening inject.txt", e))?;
        writeln!(file, "{}", line.trim()).map_err(|e| Error::io("writing inject.txt", e))
    }

    /// Announces `prefix` with our own address as next hop and the given attribute
    /// words (`as-path [ 65001 ] community [ 65000:1 ] med 10 …`).
    pub fn announce(&self, prefix: Prefix, attributes: &str) -> Result<()> {
        self.command(&format!(
            "announce route {prefix} next-hop self {attributes}"
        ))
    }

    /// Withdraws `prefix`.
    pub fn withdraw(&self, prefix: Prefix) -> Result<()> {
        self.command(&format!("withdraw route {prefix} next-hop self"))
    }

    /// Every message received so far, one JSON object each, as ExaBGP printed them.
    pub fn received(&self) -> Result<Vec<Value>> {
        let text = std::fs::read_to_string(&self.received)
            .map_err(|e| Error::io("reading received.jsonl", e))?;
        parse_received(&text)
    }

    /// Waits until a received UPDATE announces `prefix`; returns that message.
    pub fn wait_announced(&self, prefix: Prefix, timeout: Duration) -> Result<Value> {
        wait_until(
            &format!("ExaBGP to receive {prefix}"),
            timeout,
            || Ok(self.received()?.into_iter().find(|m| announces(m, prefix))),
            || self.process.log_tail(2000),
        )
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.process.log_tail(1 << 20)
    }

    /// The daemon's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The directory holding the configuration, the log and the API files.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// The words that make ExaBGP send a path attribute as given, whatever it means:
/// `attribute [ 0xCODE 0xFLAGS 0xVALUE ]`, to put after `announce route …`. The tool for
/// unknown, malformed or otherwise hand-made attributes (RFC 7606 tests).
pub fn exabgp_attribute(flags: u8, code: u8, value: &[u8]) -> String {
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    format!("attribute [ 0x{code:02x} 0x{flags:02x} 0x{hex} ]")
}

/// Parses ExaBGP's JSON lines; a line that is not JSON is an error naming it.
pub fn parse_received(text: &str) -> Result<Vec<Value>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| Error::Parse {
                what: "ExaBGP's JSON output".into(),
                detail: format!("{e} in {l:?}"),
            })
        })
        .collect()
}

/// Whether ExaBGP message `message` is an UPDATE announcing `prefix`.
pub fn announces(message: &Value, prefix: Prefix) -> bool {
    let Some(announce) = message.pointer("/neighbor/message/update/announce") else {
        return false;
    };
    let wanted = prefix.to_string();
    // {"ipv4 unicast": {"<next hop>": [{"nlri": "192.0.2.0/24"}, …]}}
    announce
        .as_object()
        .into_iter()
        .flat_map(|families| families.values())
        .any(|hops| {
            hops.as_object()
                .into_iter()
                .flat_map(|h| h.values())
                .any(|nlris| {
                    nlris.as_array().into_iter().flatten().any(|n| {
                        n.get("nlri").and_then(Value::as_str) == Some(&wanted)
                            || n.as_str() == Some(&wanted)
                    })
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_updates_are_recognised() {
        // Shape of ExaBGP 4.2's JSON encoder output.
        let text = r#"{"type":"update","neighbor":{"message":{"eor":{"afi":"ipv4","safi":"unicast"}}}}
{"type":"update","neighbor":{"message":{"update":{"attribute":{"origin":"igp"},"announce":{"ipv4 unicast":{"10.0.0.1":[{"nlri":"192.0.2.0/24"}]}}}}}}
"#;
        let messages = parse_received(text).unwrap();
        assert_eq!(messages.len(), 2);
        let p: Prefix = "192.0.2.0/24".parse().unwrap();
        assert!(!announces(&messages[0], p));
        assert!(announces(&messages[1], p));
        assert!(!announces(&messages[1], "192.0.3.0/24".parse().unwrap()));
        assert!(parse_received("{not json").is_err());
    }

    #[test]
    fn raw_attributes_are_spelled_as_exabgp_reads_them() {
        assert_eq!(
            exabgp_attribute(0xc0, 240, &[1, 0xab]),
            "attribute [ 0xf0 0xc0 0x01ab ]"
        );
    }

    #[test]
    fn config_names_the_api_files() {
        let config = ExabgpConfig::new(
            Ipv4Addr::new(10, 0, 0, 2),
            "10.0.0.2".parse().unwrap(),
            65002,
            "10.0.0.1".parse().unwrap(),
            65000,
        );
        let text = config.render("/x/inject.txt".as_ref(), "/x/receive.sh".as_ref());
        assert!(text.contains("tail -n +1 -F /x/inject.txt"));
        assert!(text.contains("run /x/receive.sh;"));
        assert!(text.contains("neighbor 10.0.0.1 {"));
        assert!(text.contains("family { ipv4 unicast; ipv6 unicast; }"));
        assert!(text.contains("receive { parsed; update; notification; }"));
    }
}
