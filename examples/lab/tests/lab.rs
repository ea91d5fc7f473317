//! The lab as a newcomer runs it: `lab --help`, one scenario, and a wrong name.

use std::process::Command;

fn lab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_scenario() {
    let (code, out, _) = lab(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("usage: lab"));
    assert!(out.contains("bgp-router"));
}

#[test]
fn an_unknown_scenario_is_refused() {
    let (code, _, err) = lab(&["no-such-scenario"]);
    assert_eq!(code, 2);
    assert!(err.contains("no scenario named \"no-such-scenario\""));
}

#[test]
fn the_bgp_router_scenario_shows_the_router_learning_the_address() {
    let (code, out, err) = lab(&["bgp-router"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("the BGP session is Established"), "{out}");
    assert!(
        out.contains("the router learned 198.51.100.10/32 from node1: next hop 10.0.0.2"),
        "{out}"
    );
    assert!(
        out.contains("198.51.100.10 via 10.0.0.2 dev veth0 proto bird"),
        "{out}"
    );
    assert!(out.contains("done; everything this scenario created is removed"));
    // The scenario's namespaces are gone.
    let names: Vec<&str> = out
        .split_whitespace()
        .filter(|w| w.starts_with(testkit::PREFIX))
        .collect();
    assert!(!names.is_empty());
    for name in names {
        assert!(
            !std::path::Path::new("/run/netns").join(name).exists(),
            "{name} is left"
        );
    }
}

#[test]
fn the_bgp_decode_scenario_decodes_a_live_session() {
    let (code, out, err) = lab(&["bgp-decode"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("router (BIRD)"), "{out}");
    assert!(out.contains("node (GoBGP)"), "{out}");
    assert!(out.contains("OPEN version 4, AS 64512"), "{out}");
    assert!(
        out.contains("capability: hostname"),
        "GoBGP's FQDN capability: {out}"
    );
    assert!(out.contains("announce: 198.51.100.10/32"), "{out}");
    assert!(out.contains("communities [64513:100]"), "{out}");
    assert!(
        out.contains("mp-reach ipv6-unicast next-hop fd00::2"),
        "{out}"
    );
    assert!(out.contains("withdraw: 198.51.100.10/32"), "{out}");
    assert!(
        out.contains("NOTIFICATION Cease / AdministrativeShutdown: \"lab is over\""),
        "{out}"
    );
    assert!(!out.contains("does not decode"), "{out}");
}

#[test]
fn the_vip_handover_scenario_moves_the_router_entries() {
    let (code, out, err) = lab(&["vip-handover"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    // The node MACs as the scenario printed them.
    let macs: Vec<&str> = out
        .split(['(', ')'])
        .filter(|w| w.len() == 17 && w.matches(':').count() == 5)
        .collect();
    assert_eq!(macs.len(), 2, "{out}");
    let after = out
        .split("the router's neighbour table now:")
        .nth(1)
        .expect("the final table");
    assert!(
        after.contains(&format!("10.0.0.100 dev eth0 lladdr {}", macs[1])),
        "{out}"
    );
    assert!(
        after.contains(&format!("fd00::100 dev eth0 lladdr {}", macs[1])),
        "{out}"
    );
    assert!(!after.contains(macs[0]), "{out}");
}

#[test]
fn the_disk_write_scenario_writes_and_reads_back_a_gpt_disk() {
    let (code, out, err) = lab(&["disk-write"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("progress: "), "{out}");
    assert!(out.contains("(done: fsync'ed)"), "{out}");
    assert!(out.contains("partition table re-read: true"), "{out}");
    assert!(out.contains("label: gpt"), "{out}");
    assert!(
        out.contains("type=0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
        "{out}"
    );
    assert!(out.contains("p1 start 2048"), "{out}");
}
