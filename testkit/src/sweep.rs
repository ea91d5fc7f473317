//! Finding and removing what the kit created, including what a killed test left.

use std::path::PathBuf;
use std::process::Command;

use rustix::process::{Pid, Signal, kill_process};

use crate::names::{PREFIX, owner_pid};
use crate::{Result, disk, netns, process};

/// Resources of the kit that exist on this machine.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Leftovers {
    /// Network namespaces (each with its links and addresses).
    pub namespaces: Vec<String>,
    /// Processes `(pid, command line)` started by the kit, found by the kit's names
    /// in their command line or by living in one of the kit's namespaces.
    pub processes: Vec<(u32, String)>,
    /// Temporary directories.
    pub dirs: Vec<PathBuf>,
    /// Loop devices `(device, backing file)` whose backing file lies in one of the
    /// kit's directories.
    pub loop_devices: Vec<(PathBuf, String)>,
}

impl Leftovers {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.processes.is_empty()
            && self.dirs.is_empty()
            && self.loop_devices.is_empty()
    }
}

impl std::fmt::Display for Leftovers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for ns in &self.namespaces {
            writeln!(f, "namespace {ns}")?;
        }
        for (pid, cmd) in &self.processes {
            writeln!(f, "process {pid}: {cmd}")?;
        }
        for dir in &self.dirs {
            writeln!(f, "directory {}", dir.display())?;
        }
        for (dev, backing) in &self.loop_devices {
            writeln!(f, "loop device {} ({backing})", dev.display())?;
        }
        Ok(())
    }
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Every resource of the kit on this machine, whoever owns it.
pub fn leftovers() -> Result<Leftovers> {
    find(|_| true)
}

/// The resources whose owner matches `keep`, found by name.
fn find(select: impl Fn(u32) -> bool) -> Result<Leftovers> {
    let mut found = Leftovers::default();
    let list = process::run(Command::new("ip").args(["netns", "list"]))?;
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        if owner_pid(name).is_some_and(&select) {
            for pid in netns::pids_in(name).unwrap_or_default() {
                found.processes.push((pid, cmdline(pid)));
            }
            found.namespaces.push(name.to_owned());
        }
    }
    let me = std::process::id();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me || found.processes.iter().any(|(p, _)| *p == pid) {
                continue;
            }
            let line = cmdline(pid);
            if mentions_owner(&line).is_some_and(&select) {
                found.processes.push((pid, line));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if owner_pid(&name.to_string_lossy()).is_some_and(&select) {
                found.dirs.push(entry.path());
            }
        }
    }
    for (dev, backing) in disk::attached_loops() {
        if mentions_owner(&backing).is_some_and(&select) {
            found.loop_devices.push((dev, backing));
        }
    }
    Ok(found)
}

/// The owner PID of the first of the kit's names in a command line.
fn mentions_owner(cmdline: &str) -> Option<u32> {
    cmdline
        .match_indices(PREFIX)
        .filter_map(|(i, _)| {
            let word = cmdline[i..].split(['/', ' ', '\'', '"', '=']).next()?;
            owner_pid(word)
        })
        .next()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            String::from_utf8_lossy(&raw)
                .replace('\0', " ")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

/// Removes what test processes that no longer run left behind: kills their
/// processes, deletes their namespaces (with every link inside), detaches their loop
/// devices and removes their temporary directories. Resources of live processes are not touched. Returns what it removed.
pub fn sweep() -> Result<Leftovers> {
    let dead = find(|owner| !alive(owner))?;
    for (pid, _) in &dead.processes {
        if let Some(pid) = Pid::from_raw(*pid as i32) {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
    for ns in &dead.namespaces {
        netns::delete(ns)?;
    }
    for (dev, _) in &dead.loop_devices {
        disk::detach(dev)?;
    }
    for dir in &dead.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(dead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_read_from_command_lines() {
        assert_eq!(
            mentions_owner("bird -f -c /tmp/mktk-4242-7-bird/bird.conf"),
            Some(4242)
        );
        assert_eq!(
            mentions_owner("tail -F /tmp/mktk-17-0-exa/inject.txt"),
            Some(17)
        );
        assert_eq!(mentions_owner("ip netns exec mktk-99-1-r bird"), Some(99));
        // a loop device's backing file, also once deleted
        assert_eq!(
            mentions_owner("/tmp/mktk-55-3-disk/disk-8388608-1.img (deleted)"),
            Some(55)
        );
        assert_eq!(mentions_owner("cargo test mktk"), None);
        assert_eq!(mentions_owner("vim mktk-notes.txt"), None);
    }
}
