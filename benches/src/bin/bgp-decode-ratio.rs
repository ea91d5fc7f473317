//! Full-table decode, side by side: `bgp-codec` (metalkit) against `bgpkit-parser` and
//! `zettabgp` on the same generated UPDATE stream (`benches::bgp_table`).
//!
//! The table is generated once; then each round runs, in turn, our decoder,
//! bgpkit-parser, zettabgp, the frame walk and our encoder, so that the machine's
//! noise falls on all of them alike. It prints each median and the ratio of the
//! faster peer's median to ours (the target: 2.0 or more).
//!
//! ```text
//! cargo run --release -p benches --bin bgp-decode-ratio [-- RUNS [IPV4 IPV6]]
//! ```
//!
//! RUNS defaults to 15; IPV4 and IPV6 (prefix counts) default to the full table,
//! 1,000,000 and 200,000.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use benches::Summary;
use benches::bgp_table::{
    FULL_IPV4, FULL_IPV6, SEED, decode_all, digest_bgpkit, digest_bgpkit_bytes, digest_metalkit,
    digest_zettabgp, encode_all, frame_walk, generate_sized,
};

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn parse_args() -> Result<(usize, usize, usize), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| -> Result<usize, String> {
        args.get(i).map_or(Ok(default), |a| {
            a.parse()
                .map_err(|_| format!("not a number: {a:?} (usage: [RUNS [IPV4 IPV6]])"))
        })
    };
    let runs = number(0, 15)?;
    if runs == 0 {
        return Err("RUNS must be at least 1".into());
    }
    Ok((runs, number(1, FULL_IPV4)?, number(2, FULL_IPV6)?))
}

fn main() -> ExitCode {
    let (runs, ipv4, ipv6) = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bgp-decode-ratio: {e}");
            return ExitCode::from(2);
        }
    };

    let start = Instant::now();
    let table = generate_sized(SEED, ipv4, ipv6);
    let bytes = &table.bytes[..];
    println!(
        "table: {} UPDATEs, {} bytes ({:.1} MB), {} IPv4 + {} IPv6 prefixes (generated in {:.0} ms)",
        table.messages,
        bytes.len(),
        bytes.len() as f64 / 1e6,
        table.ipv4,
        table.ipv6,
        ms(start.elapsed()),
    );

    // The three decoders must see the same table, field for field.
    let ours = digest_metalkit(bytes);
    let bgpkit = digest_bgpkit(bytes);
    let zetta = digest_zettabgp(bytes);
    println!(
        "checksums: bgp-codec {:016x}, bgpkit-parser {:016x}, zettabgp {:016x}",
        ours.checksum, bgpkit.checksum, zetta.checksum
    );
    if ours != bgpkit || ours != zetta || (ours.ipv4, ours.ipv6) != (table.ipv4, table.ipv6) {
        eprintln!("bgp-decode-ratio: the decoders disagree: {ours:?} / {bgpkit:?} / {zetta:?}");
        return ExitCode::FAILURE;
    }

    // bgpkit-parser reads from a `Bytes`: made once here, cloned (O(1)) per run, so
    // the copy is not charged to it.
    let shared = bytes::Bytes::copy_from_slice(bytes);
    let messages = decode_all(bytes);
    let mut out = Vec::with_capacity(bytes.len());

    let mut samples: [Vec<Duration>; 5] = Default::default();
    for _ in 0..runs {
        samples[0].push(time(|| digest_metalkit(black_box(bytes))));
        samples[1].push(time(|| digest_bgpkit_bytes(black_box(shared.clone()))));
        samples[2].push(time(|| digest_zettabgp(black_box(bytes))));
        samples[3].push(time(|| frame_walk(black_box(bytes))));
        samples[4].push(time(|| {
            encode_all(black_box(&messages), &mut out);
            out.len()
        }));
    }
    let [ours, bgpkit, zetta, walk, encode] =
        samples.map(|s| Summary::of(&s).expect("at least one run"));

    let mb = bytes.len() as f64 / 1e6;
    let line = |name: &str, s: &Summary| {
        println!(
            "{name:<22} median {:>9.2} ms  (min {:>9.2}, max {:>9.2})  {:>8.1} MB/s",
            ms(s.median),
            ms(s.min),
            ms(s.max),
            mb / s.median.as_secs_f64(),
        );
    };
    println!("{runs} interleaved runs each:");
    line("decode bgp-codec", &ours);
    line("decode bgpkit-parser", &bgpkit);
    line("decode zettabgp", &zetta);
    line("frame walk bgp-codec", &walk);
    line("encode bgp-codec", &encode);

    let ratio = |peer: &Summary| peer.median.as_secs_f64() / ours.median.as_secs_f64();
    let (faster_name, faster) = if bgpkit.median <= zetta.median {
        ("bgpkit-parser", &bgpkit)
    } else {
        ("zettabgp", &zetta)
    };
    println!(
        "ratio bgpkit-parser / bgp-codec: {:.2}x; zettabgp / bgp-codec: {:.2}x",
        ratio(&bgpkit),
        ratio(&zetta)
    );
    let best = ratio(faster);
    println!(
        "ratio faster peer ({faster_name}) / bgp-codec: {best:.2}x (target >= 2.00x: {})",
        if best >= 2.0 { "met" } else { "NOT met" }
    );
    ExitCode::SUCCESS
}
