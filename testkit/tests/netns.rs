//! Namespaces, veth pairs and bridges: reachability and cleanup.

use std::net::IpAddr;

use testkit::{Bridge, Netns, VethPair, leftovers};

fn namespace_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

fn ping(from: &Netns, to: IpAddr) -> Result<String, testkit::Error> {
    from.run("ping", &["-c", "1", "-W", "2", &to.to_string()])
}

#[test]
fn a_veth_pair_carries_ipv4_and_ipv6_and_is_gone_after_drop() {
    let pair = VethPair::new("reach").unwrap();
    let names = [pair.a.name().to_owned(), pair.b.name().to_owned()];
    assert!(names.iter().all(|n| namespace_exists(n)));
    assert!(
        ping(&pair.a, VethPair::B_V4.into())
            .unwrap()
            .contains("1 received")
    );
    assert!(
        ping(&pair.b, VethPair::A_V4.into())
            .unwrap()
            .contains("1 received")
    );
    assert!(
        ping(&pair.a, VethPair::B_V6.into())
            .unwrap()
            .contains("1 received")
    );
    assert!(
        ping(&pair.b, VethPair::A_V6.into())
            .unwrap()
            .contains("1 received")
    );
    // An address nobody has is not reachable: the check can fail.
    assert!(ping(&pair.a, "10.0.0.99".parse().unwrap()).is_err());
    // The addresses exist only inside the namespaces.
    let host = std::process::Command::new("ip")
        .args(["-o", "addr"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&host.stdout).contains("fd00::1/64"));
    drop(pair);
    assert!(
        names.iter().all(|n| !namespace_exists(n)),
        "namespaces left: {names:?}"
    );
    let ours = leftovers().unwrap();
    assert!(!ours.namespaces.iter().any(|n| names.contains(n)));
}

#[test]
fn bridge_members_reach_each_other() {
    let bridge = Bridge::new("lan", 3).unwrap();
    assert_eq!(bridge.members().len(), 3);
    assert!(
        ping(bridge.member(0), Bridge::v4(2).into())
            .unwrap()
            .contains("1 received")
    );
    assert!(
        ping(bridge.member(2), Bridge::v6(1).into())
            .unwrap()
            .contains("1 received")
    );
    let mac0 = bridge.member(0).mac(Bridge::IFNAME).unwrap();
    assert_eq!(mac0.len(), 17);
    let neigh = bridge
        .member(2)
        .ip(&["neigh", "show", "dev", Bridge::IFNAME])
        .unwrap();
    // Member 2 answered member 0's ARP request, so it knows member 0's MAC.
    assert!(neigh.contains(&mac0), "{neigh}");
    let switch = bridge.switch().name().to_owned();
    drop(bridge);
    assert!(!namespace_exists(&switch));
}

#[test]
fn processes_inside_a_namespace_end_with_it() {
    let ns = Netns::new("procs").unwrap();
    let mut cmd = ns.command("sleep");
    cmd.arg("300");
    let sleeper = ns.spawn(cmd, None).unwrap();
    let pid = sleeper.pid();
    // `ip netns exec` enters the namespace a moment after it starts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while ns.pids().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(ns.pids().unwrap(), vec![pid]);
    std::mem::forget(sleeper); // as if the owner leaked it
    drop(ns);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Gone, or a zombie waiting for this test process to reap it.
    assert!(
        state.is_empty() || state.contains(") Z "),
        "pid {pid} still runs: {state}"
    );
}
