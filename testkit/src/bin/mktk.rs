//! `mktk`: the test kit from the command line.
//!
//! - `mktk sweep`: remove what killed tests left behind (namespaces, processes,
//!   temporary directories of processes that no longer run).
//! - `mktk check`: list every resource of the kit that exists; exit 1 if there is any.
//! - `mktk hold LABEL`: create a veth pair of namespaces with a process in each, print
//!   their names, and wait until killed (what the sweeper's own test kills).

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["sweep"] => testkit::sweep().map(|removed| {
            print!("{removed}");
            println!(
                "swept: {} namespaces, {} processes, {} directories",
                removed.namespaces.len(),
                removed.processes.len(),
                removed.dirs.len()
            );
            ExitCode::SUCCESS
        }),
        ["check"] => testkit::leftovers().map(|found| {
            if found.is_empty() {
                println!("nothing of the test kit is left");
                ExitCode::SUCCESS
            } else {
                print!("left behind by the test kit:\n{found}");
                ExitCode::FAILURE
            }
        }),
        ["hold", label] => hold(label),
        _ => {
            eprintln!("usage: mktk sweep | mktk check | mktk hold LABEL");
            return ExitCode::from(2);
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("mktk: {e}");
        ExitCode::FAILURE
    })
}

fn hold(label: &str) -> testkit::Result<ExitCode> {
    let pair = testkit::VethPair::new(label)?;
    let dir = testkit::TempDir::new(label)?;
    let mut processes = Vec::new();
    for ns in [&pair.a, &pair.b] {
        let mut cmd = ns.command("sleep");
        cmd.arg("3600");
        processes.push(ns.spawn(cmd, Some(&dir.join(&format!("{}.log", ns.name()))))?);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} {} {}",
        pair.a.name(),
        pair.b.name(),
        dir.path().display()
    );
    for p in &processes {
        let _ = writeln!(out, "pid {}", p.pid());
    }
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}
