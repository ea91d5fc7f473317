//! The metalkit lab: the whole system on one machine, in network namespaces, with
//! real peers, narrated in plain words.
//!
//! `lab` runs every scenario; `lab NAME…` runs some; `lab --help` lists them. Every
//! namespace and daemon a scenario creates is removed when it ends, also on failure.

use std::process::ExitCode;

mod scenarios;

/// One thing the lab can show.
struct Scenario {
    name: &'static str,
    summary: &'static str,
    run: fn(&mut Narrator) -> testkit::Result<()>,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "bgp-router",
        summary: "a router namespace running BIRD peers with GoBGP in a node namespace; \
                  the node announces a LoadBalancer address and the router learns it",
        run: scenarios::bgp_router,
    },
    Scenario {
        name: "vip-handover",
        summary: "two nodes hand a LoadBalancer address over by gratuitous ARP and \
                  unsolicited NA; the router's neighbour table follows",
        run: scenarios::vip_handover,
    },
    Scenario {
        name: "bgp-decode",
        summary: "captures a live BIRD <-> GoBGP session on the wire and decodes every \
                  message with bgp-codec",
        run: scenarios::bgp_decode,
    },
    Scenario {
        name: "disk-write",
        summary: "a GPT disk image served over HTTP is written to a loop device by \
                  diskimage, progress shown, checksum checked; then its partition table",
        run: scenarios::disk_write,
    },
];

/// Prints what happens, step by step, with the time since the scenario started.
struct Narrator {
    start: std::time::Instant,
}

impl Narrator {
    fn say(&self, text: &str) {
        println!("[{:>6.2}s] {text}", self.start.elapsed().as_secs_f64());
    }

    fn show(&self, title: &str, body: &str) {
        self.say(title);
        for line in body.lines() {
            println!("           | {line}");
        }
    }
}

fn usage() -> String {
    let mut text = String::from(
        "usage: lab [SCENARIO…]\n\nRuns the named scenarios, or all of them, and narrates what happens.\n\
         Needs root (network namespaces) and the Debian packages that scripts/lab installs.\n\nscenarios:\n",
    );
    for s in SCENARIOS {
        text.push_str(&format!("  {:<12} {}\n", s.name, s.summary));
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<&Scenario> = if args.is_empty() {
        SCENARIOS.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for arg in &args {
            match SCENARIOS.iter().find(|s| s.name == arg) {
                Some(s) => chosen.push(s),
                None => {
                    eprint!("lab: no scenario named {arg:?}\n\n{}", usage());
                    return ExitCode::from(2);
                }
            }
        }
        chosen
    };
    let mut failed = 0;
    for scenario in chosen {
        println!("== {}: {}", scenario.name, scenario.summary);
        let mut narrator = Narrator {
            start: std::time::Instant::now(),
        };
        match (scenario.run)(&mut narrator) {
            Ok(()) => narrator.say("done; everything this scenario created is removed"),
            Err(e) => {
                failed += 1;
                narrator.say(&format!("FAILED: {e}"));
            }
        }
        println!();
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
