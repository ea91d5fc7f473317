//! `diskimage`: write an operating-system image to a disk, or verify one.
//!
//! ```text
//! diskimage write [OPTIONS] SOURCE TARGET
//! diskimage verify [OPTIONS] SOURCE
//! ```
//!
//! SOURCE is an `http(s)://` URL, a file, or `-` for standard input; TARGET is a block
//! device or a regular file. The compression (gzip, zstd, xz, bzip2, lz4 or none) is
//! detected from the data. Exit codes: 0 success, 2 usage, 3 source, 4 decompression
//! or format, 5 checksum or size, 6 target, 70 internal.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use diskimage::{
    Digest, Expected, Format, Progress, PublishedChecksum, SourceSpec, Stage, WriteError,
    WriteOptions, verify_image, write_image,
};

const USAGE: &str = "\
usage: diskimage write [OPTIONS] SOURCE TARGET
       diskimage verify [OPTIONS] SOURCE

SOURCE   an http(s):// URL, a file, or - for standard input
TARGET   a block device (never created) or a regular file (created or truncated)

options:
  --checksum [ALG:]HEX     digest of the downloaded (compressed) stream; ALG is sha256
                           or sha512 (by default from the length); may repeat
  --raw-checksum [ALG:]HEX digest of the decompressed image; may repeat
  --published-checksum     use <URL>.sha256 (or .sha512) published beside the image;
                           the write fails when it is missing
  --size BYTES             size of the decompressed image: checked against the target
                           before anything is written (verify: must match)
  --format FMT             do not detect: gz, zst, xz, bz2, lz4 or raw
  --discard                zero the device first (BLKZEROOUT), so zero blocks are skipped
  --threads N              decompression threads (multi-frame zstd)
  --quiet                  no progress output
  -h, --help               this text

exit codes: 0 success, 2 usage, 3 source, 4 decompression, 5 checksum or size,
            6 target, 70 internal";

/// What the command line asked for.
struct Cli {
    verify: bool,
    opts: WriteOptions,
    quiet: bool,
}

fn parse(args: &[String]) -> Result<Cli, String> {
    let Some(cmd) = args.first() else {
        return Err("missing command".into());
    };
    let verify = match cmd.as_str() {
        "write" => false,
        "verify" => true,
        "-h" | "--help" => return Err(String::new()),
        other => return Err(format!("unknown command {other:?}")),
    };
    let mut positional = Vec::new();
    let mut expected = Vec::new();
    let mut published = PublishedChecksum::Off;
    let mut size = None;
    let mut format = None;
    let mut discard = false;
    let mut threads = None;
    let mut quiet = false;
    let mut it = args[1..].iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--checksum" | "--raw-checksum" => {
                let stage = if arg == "--checksum" {
                    Stage::Compressed
                } else {
                    Stage::Raw
                };
                let v = value(arg)?;
                let digest = Digest::parse(&v).map_err(|e| format!("{arg} {v:?}: {e}"))?;
                expected.push(Expected::new(digest, stage));
            }
            "--published-checksum" => published = PublishedChecksum::Required,
            "--size" => {
                let v = value(arg)?;
                size = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("--size {v:?}: not a number of bytes"))?,
                );
            }
            "--format" => {
                let v = value(arg)?;
                format =
                    Some(Format::from_name(&v).ok_or_else(|| format!("--format {v:?}: unknown"))?);
            }
            "--discard" => discard = true,
            "--threads" => {
                let v = value(arg)?;
                threads = Some(
                    v.parse::<usize>()
                        .map_err(|_| format!("--threads {v:?}: not a number"))?,
                );
            }
            "--quiet" | "-q" => quiet = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => positional.push(arg.clone()),
        }
    }
    let want = if verify { 1 } else { 2 };
    if positional.len() != want {
        return Err(format!(
            "{cmd} takes {want} operand(s), got {}",
            positional.len()
        ));
    }
    let source = SourceSpec::parse(&positional[0]);
    let target = positional.get(1).cloned().unwrap_or_default();
    let mut opts = WriteOptions::new(source, target);
    opts.format = format;
    opts.expected = expected;
    opts.published_checksum = published;
    opts.image_size = size;
    opts.target_options = opts.target_options.clone().discard(discard);
    if let Some(t) = threads {
        opts.decode_options.threads = t;
    }
    Ok(Cli {
        verify,
        opts,
        quiet,
    })
}

/// `1.5 GiB`, `300.0 MiB`, `512 B`.
fn human(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[0])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// One progress line: a bar on a terminal (redrawn in place), plain lines otherwise.
fn report(p: &Progress, tty: bool) {
    let mut line = format!(
        "{} in, {} out, {}/s",
        human(p.bytes_in as f64),
        human(p.bytes_out as f64),
        human(p.rate_out)
    );
    if let Some(total) = p.total_in.filter(|t| *t > 0) {
        let pct = (p.bytes_in as f64 / total as f64 * 100.0).min(100.0);
        line = format!("{pct:5.1}% of {}, {line}", human(total as f64));
        if tty {
            let filled = (pct / 100.0 * 30.0) as usize;
            line = format!("[{}{}] {line}", "#".repeat(filled), ".".repeat(30 - filled));
        }
    }
    if let Some(eta) = p.eta.filter(|_| !p.done) {
        line.push_str(&format!(", {} left", duration(eta)));
    }
    let mut err = std::io::stderr().lock();
    if tty {
        let _ = write!(err, "\r\x1b[2K{line}");
        if p.done {
            let _ = writeln!(err);
        }
    } else {
        let _ = writeln!(err, "{line}");
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = match parse(&args) {
        Ok(c) => c,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("diskimage: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let tty = std::io::stderr().is_terminal();
    let quiet = cli.quiet;
    let mut progress = |p: &Progress| {
        if !quiet {
            report(p, tty);
        }
    };
    let result: Result<String, WriteError> = if cli.verify {
        verify_image(&cli.opts, &mut progress).map(|s| {
            format!(
                "verified {} ({}): {} image, sha256 {} (downloaded), sha256 {} (image){}",
                cli.opts.source,
                s.format,
                human(s.image_size as f64),
                s.sha256.0,
                s.sha256.1,
                checked(&s.verified)
            )
        })
    } else {
        write_image(&cli.opts, &mut progress).map(|s| {
            format!(
                "wrote {} ({}) to {}: {} image, {} written, {} skipped as zeros, in {}{}{}{}",
                cli.opts.source,
                s.format,
                cli.opts.target.display(),
                human(s.report.bytes_total as f64),
                human(s.report.bytes_written as f64),
                human(s.report.bytes_skipped as f64),
                duration(s.elapsed),
                if s.report.partitions_reread {
                    "; partition table re-read"
                } else {
                    ""
                },
                if s.resumes > 0 {
                    format!("; download resumed {} time(s)", s.resumes)
                } else {
                    String::new()
                },
                checked(&s.verified)
            )
        })
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            if tty && !quiet {
                eprintln!();
            }
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                let text = s.to_string();
                if !msg.contains(&text) {
                    msg.push_str(": ");
                    msg.push_str(&text);
                }
                src = s.source();
            }
            eprintln!("diskimage: FAILED: {msg}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn checked(verified: &[Expected]) -> String {
    if verified.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = verified
            .iter()
            .map(|e| format!("{} of the {} stream", e.digest.algorithm(), e.stage))
            .collect();
        format!("; checked {}", list.join(", "))
    }
}
