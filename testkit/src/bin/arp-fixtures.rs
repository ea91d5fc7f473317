//! `arp-fixtures DIR`: captures the byte fixtures of arp-ndp (`crates/arp/tests/fixtures/`)
//! from real tools: Habets `arping` and the Linux kernel's own ARP and Neighbor
//! Discovery, in network namespaces of the test kit, with `tcpdump` (the kit's
//! `Capture`). Needs root, `ip`, `tcpdump`, `arping` and `ping`:
//!
//! ```sh
//! cargo run -p testkit --bin arp-fixtures -- crates/arp/tests/fixtures
//! ```
//!
//! `crates/arp/tests/fixtures/README.md` describes what it makes. The fixture tests
//! (`wire_fixtures.rs`) read the saved files and need none of this.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use testkit::{Capture, Netns};

/// The two MAC addresses, fixed so the fixtures read well.
const MAC_A: &str = "02:00:00:00:00:0a";
const MAC_B: &str = "02:00:00:00:00:0b";

/// The output directory, the program's argument.
fn fixtures() -> PathBuf {
    let dir = std::env::args().nth(1).expect("usage: arp-fixtures DIR");
    Path::new(&dir).to_path_buf()
}

fn save(name: &str, bytes: &[u8]) {
    let path = fixtures().join(name);
    std::fs::write(&path, bytes).expect("writing a fixture");
    println!("{name}: {} bytes", bytes.len());
    for line in bytes.chunks(16) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        println!("    {}", hex.join(" "));
    }
}

/// Runs a program in `ns`, whatever its exit status (arping exits 1 when nothing
/// answers, which is the normal case for an unsolicited ARP).
fn run_any(ns: &Netns, program: &str, args: &[&str]) -> Output {
    let out = ns
        .command(program)
        .args(args)
        .output()
        .expect("running a tool");
    println!(
        "[{}] {program} {}: {}",
        ns.name(),
        args.join(" "),
        out.status
    );
    out
}

fn sysctl(ns: &Netns, key: &str, value: &str) {
    ns.sysctl(key, value).expect("setting a sysctl");
}

/// The ethertype of the payload and the offset of the payload (inside any tag).
fn ethertype(frame: &[u8]) -> Option<(u16, usize)> {
    let outer = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    if outer == 0x8100 {
        Some((u16::from_be_bytes([*frame.get(16)?, *frame.get(17)?]), 18))
    } else {
        Some((outer, 14))
    }
}

fn is_arp(frame: &[u8], oper: u16) -> bool {
    matches!(ethertype(frame), Some((0x0806, at)) if frame.get(at + 6..at + 8) == Some(&oper.to_be_bytes()[..]))
}

/// The ICMPv6 type of a frame whose IPv6 next header is ICMPv6.
fn icmpv6_type(frame: &[u8]) -> Option<u8> {
    let (0x86dd, at) = ethertype(frame)? else {
        return None;
    };
    (*frame.get(at + 6)? == 58).then_some(*frame.get(at + 40)?)
}

/// The IPv6 source and destination addresses.
fn ipv6_addrs(frame: &[u8]) -> Option<(std::net::Ipv6Addr, std::net::Ipv6Addr)> {
    let (0x86dd, at) = ethertype(frame)? else {
        return None;
    };
    let src: [u8; 16] = frame.get(at + 8..at + 24)?.try_into().ok()?;
    let dst: [u8; 16] = frame.get(at + 24..at + 40)?.try_into().ok()?;
    Some((src.into(), dst.into()))
}

fn pick(frames: &[testkit::Frame], what: &str, test: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    frames
        .iter()
        .find(|f| test(&f.data))
        .unwrap_or_else(|| panic!("no {what} among {} frames", frames.len()))
        .data
        .clone()
}

/// Two namespaces joined by `veth0`, with fixed MAC addresses, 10.0.0.1/24 and
/// fd00::1/64 on `a`, 10.0.0.2/24 and fd00::2/64 on `b`.
fn pair() -> (Netns, Netns) {
    let a = Netns::new("arpfxa").expect("namespace a");
    let b = Netns::new("arpfxb").expect("namespace b");
    a.ip(&[
        "link",
        "add",
        "veth0",
        "address",
        MAC_A,
        "type",
        "veth",
        "peer",
        "name",
        "veth0",
        "address",
        MAC_B,
        "netns",
        b.name(),
    ])
    .expect("the veth pair");
    for (ns, v4, v6) in [(&a, "10.0.0.1", "fd00::1"), (&b, "10.0.0.2", "fd00::2")] {
        ns.link_up("veth0").expect("veth0 up");
        ns.add_address("veth0", v4.parse().unwrap(), 24).unwrap();
        ns.add_address("veth0", v6.parse().unwrap(), 64).unwrap();
    }
    (a, b)
}

fn main() {
    std::fs::create_dir_all(fixtures()).expect("creating the output directory");
    // `b` answers; keep it alive to the end.
    let (a, _b) = pair();
    // Let the link-local addresses settle and the router solicitations go by.
    std::thread::sleep(Duration::from_secs(2));

    // Habets arping: unsolicited request, reply form, and an 802.1Q-tagged request.
    let capture = Capture::start(&a, "veth0", "arp or (vlan and arp)").unwrap();
    let vip = ["-i", "veth0", "-S", "10.0.0.100", "-c", "1", "10.0.0.100"];
    run_any(&a, "arping", &[&["-U"][..], &vip].concat());
    run_any(&a, "arping", &[&["-P"][..], &vip].concat());
    run_any(
        &a,
        "arping",
        &[&["-U", "-V", "100", "-Q", "5"][..], &vip].concat(),
    );
    let frames = capture.wait_frames(3, Duration::from_secs(10)).unwrap();
    capture.stop().unwrap();
    save(
        "arping-U-request.bin",
        &pick(&frames, "arping -U request", |f| {
            is_arp(f, 1) && f[12..14] == [0x08, 0x06]
        }),
    );
    save(
        "arping-P-reply.bin",
        &pick(&frames, "arping -P reply", |f| is_arp(f, 2)),
    );
    save(
        "arping-U-vlan.bin",
        &pick(&frames, "arping -U -V request", |f| {
            is_arp(f, 1) && f[12..14] == [0x81, 0x00]
        }),
    );

    // The kernel's ARP request and reply, and an IPv4 echo request (not ARP).
    let capture = Capture::start(&a, "veth0", "arp or icmp").unwrap();
    a.run("ping", &["-c", "1", "-W", "2", "10.0.0.2"]).unwrap();
    let frames = capture.wait_frames(3, Duration::from_secs(10)).unwrap();
    capture.stop().unwrap();
    save(
        "kernel-arp-request.bin",
        &pick(&frames, "ARP request", |f| is_arp(f, 1)),
    );
    save(
        "kernel-arp-reply.bin",
        &pick(&frames, "ARP reply", |f| is_arp(f, 2)),
    );
    save(
        "kernel-icmp-echo.bin",
        &pick(&frames, "ICMP echo", |f| ethertype(f) == Some((0x0800, 14))),
    );

    // The kernel's multicast Neighbor Solicitation and the solicited Advertisement,
    // and an ICMPv6 echo request (not Neighbor Discovery).
    let capture = Capture::start(&a, "veth0", "icmp6").unwrap();
    a.run("ping", &["-6", "-c", "1", "-W", "2", "fd00::2"])
        .unwrap();
    let frames = capture.wait_frames(3, Duration::from_secs(10)).unwrap();
    capture.stop().unwrap();
    save(
        "kernel-ns.bin",
        &pick(&frames, "multicast NS", |f| {
            icmpv6_type(f) == Some(135) && ipv6_addrs(f).is_some_and(|(_, d)| d.is_multicast())
        }),
    );
    save(
        "kernel-na-solicited.bin",
        &pick(&frames, "solicited NA", |f| icmpv6_type(f) == Some(136)),
    );
    save(
        "kernel-icmpv6-echo.bin",
        &pick(&frames, "ICMPv6 echo", |f| icmpv6_type(f) == Some(128)),
    );

    // Neighbor unreachability detection: a stale entry is probed with a unicast
    // solicitation, answered by an advertisement without a link-layer address option.
    sysctl(&a, "net.ipv6.neigh.veth0.delay_first_probe_time", "1");
    a.ip(&[
        "-6", "neigh", "replace", "fd00::2", "dev", "veth0", "lladdr", MAC_B, "nud", "stale",
    ])
    .unwrap();
    let capture = Capture::start(&a, "veth0", "icmp6").unwrap();
    a.run("ping", &["-6", "-c", "1", "-W", "2", "fd00::2"])
        .unwrap();
    let na_without_option = |f: &[u8]| icmpv6_type(f) == Some(136) && f.len() == 14 + 40 + 24;
    let frames = testkit_wait(&capture, |frames| {
        frames.iter().any(|f| na_without_option(&f.data))
    });
    capture.stop().unwrap();
    save(
        "kernel-na-no-option.bin",
        &pick(&frames, "NA without option", na_without_option),
    );

    // Duplicate address detection of a new address, then the unsolicited
    // advertisement the kernel sends when it is done (ndisc_notify), and the MLD
    // report that joins the solicited-node group (IPv6, but hop-by-hop first).
    sysctl(&a, "net.ipv6.conf.veth0.accept_dad", "1");
    sysctl(&a, "net.ipv6.conf.veth0.ndisc_notify", "1");
    let capture = Capture::start(&a, "veth0", "ip6").unwrap();
    a.ip(&["-6", "addr", "add", "fd00::200/64", "dev", "veth0"])
        .unwrap();
    let unsolicited = |f: &[u8]| {
        icmpv6_type(f) == Some(136) && ipv6_addrs(f).is_some_and(|(_, d)| d.is_multicast())
    };
    let frames = testkit_wait(&capture, |frames| {
        frames.iter().any(|f| unsolicited(&f.data))
    });
    capture.stop().unwrap();
    save(
        "kernel-ns-dad.bin",
        &pick(&frames, "DAD NS", |f| {
            icmpv6_type(f) == Some(135) && ipv6_addrs(f).is_some_and(|(s, _)| s.is_unspecified())
        }),
    );
    save(
        "kernel-na-unsolicited.bin",
        &pick(&frames, "unsolicited NA", unsolicited),
    );
    save(
        "kernel-mld-report.bin",
        &pick(
            &frames,
            "MLD report",
            |f| matches!(ethertype(f), Some((0x86dd, at)) if f.get(at + 6) == Some(&0)),
        ),
    );
    // No kernel-tagged IPv6 fixture: this machine's kernel has neither the 8021q
    // module nor bridge VLAN filtering, so the only tagged fixture is arping's `-V`.
}

/// Waits up to 10 s for `done` to hold over the captured frames, and returns them.
fn testkit_wait(
    capture: &Capture,
    done: impl Fn(&[testkit::Frame]) -> bool,
) -> Vec<testkit::Frame> {
    for _ in 0..100 {
        let frames = capture.frames().unwrap();
        if done(&frames) {
            return frames;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    capture.frames().unwrap()
}
