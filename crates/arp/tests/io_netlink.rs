//! The netlink interface helpers against real interfaces in network namespaces.
#![cfg(feature = "netlink")]

mod io_support;

use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use arp_ndp::io::{
    NetlinkError, add_address, ensure_address, has_address, interface, interface_mac, keep_address,
    remove_address, route_interface,
};
use io_support::{PATIENCE, block_on_in, parse_mac};
use testkit::{Netns, VethPair};

const IFNAME: &str = VethPair::IFNAME;

/// The `ip -o addr show dev <ifname>` line of `address`, if it is there.
fn address_line(ns: &Netns, ifname: &str, address: &str) -> Option<String> {
    ns.ip(&["-o", "addr", "show", "dev", ifname])
        .unwrap()
        .lines()
        .find(|line| {
            line.split_whitespace()
                .any(|word| word.split('/').next() == Some(address))
        })
        .map(str::to_owned)
}

#[test]
fn host_addresses_are_added_deprecated_without_dad_and_removed() {
    let pair = VethPair::new("nla").unwrap();
    let v4: IpAddr = "10.0.0.77".parse().unwrap();
    let v6: IpAddr = "fd00::77".parse().unwrap();
    block_on_in(&pair.b, move || async move {
        let veth = interface(IFNAME).await.unwrap();
        for address in [v4, v6] {
            assert!(!has_address(&veth, address).await.unwrap());
            add_address(&veth, address).await.unwrap();
            assert!(has_address(&veth, address).await.unwrap());
            let again = add_address(&veth, address).await.unwrap_err();
            assert!(
                matches!(again, NetlinkError::AddressExists { address: a, .. } if a == address),
                "{again:?}"
            );
            assert!(again.to_string().contains(IFNAME), "{again}");
            assert!(!ensure_address(&veth, address).await.unwrap());
        }
    });

    let line = address_line(&pair.b, IFNAME, "10.0.0.77").expect("10.0.0.77 on b");
    assert!(line.contains("inet 10.0.0.77/32 "), "{line}");
    // For an IPv4 address that never expires the kernel records preferred_lft 0 as the
    // `deprecated` flag and reports both lifetimes as forever, exactly as after
    // `ip addr add 10.0.0.77/32 dev veth0 preferred_lft 0`.
    assert!(line.contains(" deprecated"), "{line}");
    assert!(line.contains("valid_lft forever"), "{line}");
    let line = address_line(&pair.b, IFNAME, "fd00::77").expect("fd00::77 on b");
    assert!(line.contains("inet6 fd00::77/128 "), "{line}");
    assert!(line.contains(" nodad"), "{line}");
    assert!(line.contains(" deprecated"), "{line}");
    assert!(line.contains("preferred_lft 0sec"), "{line}");
    assert!(line.contains("valid_lft forever"), "{line}");

    block_on_in(&pair.b, move || async move {
        let veth = interface(IFNAME).await.unwrap();
        for address in [v4, v6] {
            assert!(remove_address(&veth, address).await.unwrap());
            assert!(!has_address(&veth, address).await.unwrap());
            assert!(!remove_address(&veth, address).await.unwrap());
            // ensure_address puts it back, once.
            assert!(ensure_address(&veth, address).await.unwrap());
            assert!(!ensure_address(&veth, address).await.unwrap());
            assert!(remove_address(&veth, address).await.unwrap());
        }
    });
    assert_eq!(address_line(&pair.b, IFNAME, "10.0.0.77"), None);
    assert_eq!(address_line(&pair.b, IFNAME, "fd00::77"), None);
    // The interface's own addresses are untouched.
    assert!(address_line(&pair.b, IFNAME, "10.0.0.2").is_some());
    assert!(address_line(&pair.b, IFNAME, "fd00::2").is_some());
}

#[test]
fn the_route_interface_is_found_for_remote_local_and_unroutable_addresses() {
    let pair = VethPair::new("nlr").unwrap();
    let b_mac = parse_mac(&pair.b.mac(IFNAME).unwrap());
    block_on_in(&pair.b, move || async move {
        let veth = interface(IFNAME).await.unwrap();
        assert_eq!(veth.name, IFNAME);
        assert_eq!(veth.mac, b_mac);
        assert_eq!(interface_mac(IFNAME).await.unwrap(), b_mac);
        for remote in ["10.0.0.1", "fd00::1", "10.0.0.200", "fd00::abcd"] {
            let found = route_interface(remote.parse().unwrap()).await.unwrap();
            assert_eq!(found, veth, "route to {remote}");
        }
        // b's own addresses, and a virtual address once it is configured: the kernel
        // would deliver them on lo, the answer is still the subnet's interface.
        for local in ["10.0.0.2", "fd00::2"] {
            let found = route_interface(local.parse().unwrap()).await.unwrap();
            assert_eq!(found, veth, "route to {local}");
        }
        let vip: IpAddr = "10.0.0.88".parse().unwrap();
        add_address(&veth, vip).await.unwrap();
        assert_eq!(route_interface(vip).await.unwrap(), veth);
        // No default route in a test namespace.
        let nowhere: IpAddr = "192.0.2.1".parse().unwrap();
        let err = route_interface(nowhere).await.unwrap_err();
        assert!(
            matches!(err, NetlinkError::NoRoute { address, .. } if address == nowhere),
            "{err:?}"
        );
        assert!(err.to_string().contains("192.0.2.1"), "{err}");
    });
}

#[test]
fn interface_lookups_name_what_is_missing_or_not_ethernet() {
    let ns = Netns::new("nle").unwrap();
    block_on_in(&ns, || async {
        let missing = interface("nosuch0").await.unwrap_err();
        assert!(
            matches!(&missing, NetlinkError::NoSuchInterface { interface, .. } if interface == "nosuch0"),
            "{missing:?}"
        );
        assert!(missing.to_string().contains("nosuch0"), "{missing}");
        let lo = interface("lo").await.unwrap_err();
        assert!(
            matches!(&lo, NetlinkError::NotEthernet { interface, .. } if interface == "lo"),
            "{lo:?}"
        );
    });
}

/// Runs `ip -n <ns> args…` from inside an async test (blocking briefly).
fn ip(ns: &str, args: &[&str]) {
    let out = Command::new(testkit::require("ip").unwrap())
        .arg("-n")
        .arg(ns)
        .args(args)
        .output()
        .expect("running ip");
    assert!(out.status.success(), "ip {args:?}: {out:?}");
}

/// Waits until `has_address` answers `want`.
async fn wait_for(veth: &arp_ndp::io::Interface, address: IpAddr, want: bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if has_address(veth, address).await.unwrap() == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[test]
fn a_kept_address_comes_back_after_ip_addr_del_until_the_handle_is_dropped() {
    let pair = VethPair::new("nlk").unwrap();
    let name = pair.b.name().to_owned();
    block_on_in(&pair.b, move || async move {
        let veth = interface(IFNAME).await.unwrap();
        let v4: IpAddr = "10.0.0.79".parse().unwrap();
        let v6: IpAddr = "fd00::79".parse().unwrap();
        let kept4 = keep_address(&veth, v4).await.unwrap();
        let kept6 = keep_address(&veth, v6).await.unwrap();
        assert!(has_address(&veth, v4).await.unwrap());
        assert!(has_address(&veth, v6).await.unwrap());
        assert_eq!((kept4.address(), kept4.interface()), (v4, &veth));

        for round in 1..=2 {
            ip(&name, &["addr", "del", "10.0.0.79/32", "dev", IFNAME]);
            ip(&name, &["addr", "del", "fd00::79/128", "dev", IFNAME]);
            assert!(wait_for(&veth, v4, true).await, "10.0.0.79 not re-added");
            assert!(wait_for(&veth, v6, true).await, "fd00::79 not re-added");
            assert_eq!(kept4.readded(), round, "{:?}", kept4.last_error());
            assert_eq!(kept6.readded(), round, "{:?}", kept6.last_error());
            assert_eq!(kept4.last_error(), None);
        }

        // Dropped: the address stays, and is not put back once removed.
        drop(kept4);
        drop(kept6);
        tokio::task::yield_now().await;
        assert!(has_address(&veth, v4).await.unwrap());
        ip(&name, &["addr", "del", "10.0.0.79/32", "dev", IFNAME]);
        ip(&name, &["addr", "del", "fd00::79/128", "dev", IFNAME]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!has_address(&veth, v4).await.unwrap());
        assert!(!has_address(&veth, v6).await.unwrap());
    });
}
