//! Network namespaces, veth pairs and bridges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::Command;
use std::sync::Once;

use crate::process::{self, NsProcess};
use crate::{Result, names, require, sweep};

static SWEEP_ONCE: Once = Once::new();

/// A network namespace of the kit's own, with its loopback up. Dropping it ends every
/// process inside it and deletes it, and with it every link and address it holds.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `mktk-<pid>-<n>-<label>`.
    ///
    /// The first call in a process also sweeps what killed test processes left behind.
    pub fn new(label: &str) -> Result<Netns> {
        require("ip")?;
        SWEEP_ONCE.call_once(|| {
            let _ = sweep();
        });
        let name = names::unique(label);
        process::run(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        // Addresses are usable at once: no duplicate address detection in a lab.
        ns.sysctl("net.ipv6.conf.all.accept_dad", "0")?;
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0")?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`); add
    /// arguments and standard streams, then run or spawn it.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `program args…` inside the namespace and returns its standard output.
    pub fn run(&self, program: &str, args: &[&str]) -> Result<String> {
        require(program)?;
        process::run(self.command(program).args(args))
    }

    /// Runs `ip -n <ns> args…`.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        process::run(Command::new("ip").arg("-n").arg(&self.name).args(args))
    }

    /// Sets a sysctl inside the namespace (`net.*` keys are per namespace).
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        process::run(
            self.command("sh")
                .args(["-c", &format!("echo {value} > {path}")]),
        )?;
        Ok(())
    }

    /// Adds `addr/prefix_len` to `ifname` (IPv6 without duplicate address detection).
    pub fn add_address(&self, ifname: &str, addr: IpAddr, prefix_len: u8) -> Result<()> {
        let cidr = format!("{addr}/{prefix_len}");
        match addr {
            IpAddr::V4(_) => self.ip(&["addr", "add", &cidr, "dev", ifname])?,
            IpAddr::V6(_) => self.ip(&["-6", "addr", "add", &cidr, "dev", ifname, "nodad"])?,
        };
        Ok(())
    }

    /// Sets `ifname` up.
    pub fn link_up(&self, ifname: &str) -> Result<()> {
        self.ip(&["link", "set", ifname, "up"])?;
        Ok(())
    }

    /// The MAC address of `ifname`.
    pub fn mac(&self, ifname: &str) -> Result<String> {
        let out = self.ip(&["-br", "link", "show", "dev", ifname])?;
        out.split_whitespace()
            .nth(2)
            .map(str::to_owned)
            .ok_or_else(|| crate::Error::Parse {
                what: format!("`ip -br link show dev {ifname}`"),
                detail: out.clone(),
            })
    }

    /// Starts `cmd` (from [`Netns::command`]) as a process owned by the caller,
    /// logging to `log` when given.
    pub fn spawn(&self, cmd: Command, log: Option<&Path>) -> Result<NsProcess> {
        NsProcess::spawn(cmd, log)
    }

    /// The PIDs of the processes running inside the namespace.
    pub fn pids(&self) -> Result<Vec<u32>> {
        pids_in(&self.name)
    }

    /// Runs `f` on a new thread that has entered this namespace and returns its value.
    ///
    /// Only the thread's network namespace changes (`setns(2)` on
    /// `/run/netns/<name>` with `CLONE_NEWNET`); the calling thread stays where it
    /// was. Every socket `f` opens (a netlink or packet socket, a tokio runtime's
    /// sockets if `f` builds the runtime itself) lives in this namespace. The mount
    /// namespace is not changed, so `/sys/class/net` still describes the namespace
    /// it was mounted in: ask the kernel through sockets instead.
    ///
    /// A panic in `f` is resumed in the caller, so a failed assertion inside fails
    /// the test that called `run_in`.
    pub fn run_in<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        match self.spawn_in(f)?.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Like [`Netns::run_in`], without waiting: `f` runs on a new thread inside this
    /// namespace, and the handle gives its value (or the error of entering the
    /// namespace) when joined. Join it before the namespace is dropped.
    pub fn spawn_in<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<std::thread::JoinHandle<Result<T>>> {
        use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
        use std::os::fd::AsFd;

        let path = Path::new("/run/netns").join(&self.name);
        let file = std::fs::File::open(&path)
            .map_err(|e| crate::Error::io(format!("opening {}", path.display()), e))?;
        std::thread::Builder::new()
            .name(format!("netns-{}", self.name))
            .spawn(move || {
                move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network)).map_err(
                    |e| {
                        crate::Error::io(
                            format!("entering the network namespace {}", path.display()),
                            e.into(),
                        )
                    },
                )?;
                drop(file);
                Ok(f())
            })
            .map_err(|e| crate::Error::io("spawning a thread for the namespace", e))
    }

    /// Joins this namespace to `other` with a veth pair: `ifname` here, `other_ifname`
    /// there, both up. The pair lives as long as both namespaces.
    pub fn veth_to(&self, ifname: &str, other: &Netns, other_ifname: &str) -> Result<()> {
        process::run(Command::new("ip").args([
            "link",
            "add",
            ifname,
            "netns",
            &self.name,
            "type",
            "veth",
            "peer",
            "name",
            other_ifname,
            "netns",
            &other.name,
        ]))?;
        self.link_up(ifname)?;
        other.link_up(other_ifname)?;
        Ok(())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = delete(&self.name);
    }
}

/// The PIDs inside namespace `name`.
pub(crate) fn pids_in(name: &str) -> Result<Vec<u32>> {
    let out = process::run(Command::new("ip").args(["netns", "pids", name]))?;
    Ok(out
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// Kills everything inside namespace `name`, then deletes it.
pub(crate) fn delete(name: &str) -> Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    for pid in pids_in(name).unwrap_or_default() {
        if let Some(pid) = Pid::from_raw(pid as i32) {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
    process::run(Command::new("ip").args(["netns", "del", name]))?;
    Ok(())
}

/// Two namespaces, `a` and `b`, joined by a veth pair named `veth0` on both sides,
/// with `10.0.0.1/24` and `fd00::1/64` on `a`, `10.0.0.2/24` and `fd00::2/64` on `b`.
/// The addresses exist only inside the two namespaces.
#[derive(Debug)]
pub struct VethPair {
    /// The first namespace.
    pub a: Netns,
    /// The second namespace.
    pub b: Netns,
}

impl VethPair {
    /// The interface name on both sides.
    pub const IFNAME: &'static str = "veth0";
    /// `a`'s IPv4 address.
    pub const A_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    /// `b`'s IPv4 address.
    pub const B_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    /// `a`'s IPv6 address.
    pub const A_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
    /// `b`'s IPv6 address.
    pub const B_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

    /// Creates the two namespaces (labels `<label>a`, `<label>b`) and the pair.
    pub fn new(label: &str) -> Result<VethPair> {
        let a = Netns::new(&format!("{label}a"))?;
        let b = Netns::new(&format!("{label}b"))?;
        a.veth_to(Self::IFNAME, &b, Self::IFNAME)?;
        a.add_address(Self::IFNAME, Self::A_V4.into(), 24)?;
        a.add_address(Self::IFNAME, Self::A_V6.into(), 64)?;
        b.add_address(Self::IFNAME, Self::B_V4.into(), 24)?;
        b.add_address(Self::IFNAME, Self::B_V6.into(), 64)?;
        Ok(VethPair { a, b })
    }
}

/// A layer-2 segment: a bridge `br0` inside its own "switch" namespace and N member
/// namespaces, each joined to it by a veth pair (`eth0` in the member, `p<i>` on the
/// bridge). Member `i` has `10.0.0.<i+1>/24` and `fd00::<i+1>/64` on `eth0`.
#[derive(Debug)]
pub struct Bridge {
    members: Vec<Netns>,
    switch: Netns,
}

impl Bridge {
    /// The members' interface name.
    pub const IFNAME: &'static str = "eth0";

    /// Creates the switch namespace, the bridge and `n` members (at most 250).
    pub fn new(label: &str, n: usize) -> Result<Bridge> {
        if n > 250 {
            return Err(crate::Error::Invalid(format!(
                "a bridge of {n} members (at most 250)"
            )));
        }
        let switch = Netns::new(&format!("{label}sw"))?;
        switch.ip(&["link", "add", "br0", "type", "bridge"])?;
        // Forward at once: no STP listening delay, no multicast snooping surprises.
        switch.ip(&[
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ])?;
        switch.link_up("br0")?;
        let mut members = Vec::with_capacity(n);
        for i in 0..n {
            let member = Netns::new(&format!("{label}m{i}"))?;
            let port = format!("p{i}");
            switch.veth_to(&port, &member, Self::IFNAME)?;
            switch.ip(&["link", "set", &port, "master", "br0"])?;
            member.add_address(Self::IFNAME, Self::v4(i).into(), 24)?;
            member.add_address(Self::IFNAME, Self::v6(i).into(), 64)?;
            members.push(member);
        }
        Ok(Bridge { members, switch })
    }

    /// Member `i`'s IPv4 address.
    pub fn v4(i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, (i + 1) as u8)
    }

    /// Member `i`'s IPv6 address.
    pub fn v6(i: usize) -> Ipv6Addr {
        Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, (i + 1) as u16)
    }

    /// The member namespaces.
    pub fn members(&self) -> &[Netns] {
        &self.members
    }

    /// Member `i`.
    pub fn member(&self, i: usize) -> &Netns {
        &self.members[i]
    }

    /// The switch namespace that holds the bridge (e.g. to capture on `br0`).
    pub fn switch(&self) -> &Netns {
        &self.switch
    }
}
