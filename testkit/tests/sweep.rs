//! The sweeper removes what a killed process left behind, and only that.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use testkit::{Netns, leftovers, sweep};

#[test]
fn a_killed_process_leftovers_are_swept_and_live_ones_are_kept() {
    let live = Netns::new("live").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mktk"))
        .args(["hold", "killed"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap);
    let first = lines.next().unwrap();
    let names: Vec<String> = first.split_whitespace().map(str::to_owned).collect();
    let pids: Vec<u32> = lines
        .by_ref()
        .take_while(|l| l != "ready")
        .map(|l| l.strip_prefix("pid ").unwrap().parse().unwrap())
        .collect();
    assert_eq!((names.len(), pids.len()), (3, 2));
    let (ns_a, ns_b, dir) = (&names[0], &names[1], Path::new(&names[2]));
    assert!(Path::new("/run/netns").join(ns_a).exists());
    assert!(dir.exists());

    // SIGKILL: no destructor runs, everything stays behind.
    child.kill().unwrap();
    child.wait().unwrap();
    let found = leftovers().unwrap();
    assert!(
        found.namespaces.contains(ns_a) && found.namespaces.contains(ns_b),
        "{found}"
    );
    assert!(
        pids.iter()
            .all(|p| found.processes.iter().any(|(q, _)| q == p)),
        "{found}"
    );

    let removed = sweep().unwrap();
    assert!(removed.namespaces.contains(ns_a) && removed.namespaces.contains(ns_b));
    assert!(!Path::new("/run/netns").join(ns_a).exists());
    assert!(!Path::new("/run/netns").join(ns_b).exists());
    assert!(!dir.exists());
    for pid in &pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "pid {pid} survived the sweep: {stat}"
        );
    }
    // What a live process owns is kept.
    assert!(!removed.namespaces.iter().any(|n| n == live.name()));
    assert!(Path::new("/run/netns").join(live.name()).exists());
}
