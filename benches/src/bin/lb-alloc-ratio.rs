//! Address allocation, side by side: lb-core (`Ipam`, `Allocator`) against a model of
//! kube-vip-cloud-provider's allocator (`benches::lb_reference`), plus the memory lb-core
//! keeps per allocated address.
//!
//! Each round runs every workload in turn (fill 100,000 Services, one allocation at
//! 1,000 / 10,000 / 100,000 existing, restore of 100,000), IPv4 `/12` and IPv6 `/108`,
//! so that the machine's noise falls on all of them alike; then it prints the medians,
//! the ratio reference / ours per allocation (target: 100 or more at 10,000 existing),
//! the restore time (target: under 100 ms) and the bytes per allocated address counted
//! by a counting global allocator (target: under 100).
//!
//! ```text
//! cargo run --release -p benches --bin lb-alloc-ratio [-- RUNS]
//! ```
//!
//! RUNS defaults to 11.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use benches::Summary;
use benches::lb_reference::{
    EXISTING, KubeVipReference, SERVICES, allocate_n, assign_all, assign_release,
    check_same_sequence, empty_ipam, filled_allocator, filled_ipam, pool, pool_range, probe,
    restore, services, snapshot,
};
use lb_core::{AddressFamily, Allocator};

/// Live heap bytes: allocated minus freed, through [`Counting`].
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes in [`LIVE`].
#[derive(Debug)]
struct Counting;

#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `Counting` upholds `GlobalAlloc`'s contract exactly as `System` does; the counter
// is only bookkeeping and never touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` meets `GlobalAlloc::alloc`'s requirements
        // (non-zero size), which are `System::alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`: the caller's layout has a non-zero size.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` was allocated by this allocator (that is,
        // by `System`, to which every allocation was forwarded) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so from
        // `System`) with `layout`, and that `new_size` is non-zero and does not overflow
        // when rounded to `layout.align()`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Live bytes that `build` leaves behind in the value it returns, per `per` items; the
/// value is dropped after counting.
fn bytes_per<T>(per: usize, build: impl FnOnce() -> T) -> f64 {
    let before = live();
    let value = build();
    let after = live();
    drop(black_box(value));
    after.saturating_sub(before) as f64 / per as f64
}

/// Times `f` and drops its result outside the measurement.
fn time_keep<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    let out = black_box(f());
    let elapsed = start.elapsed();
    drop(out);
    elapsed
}

/// The time of one call of `f`, averaged over `reps` calls.
fn per_call<T>(reps: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..reps {
        black_box(f());
    }
    start.elapsed() / reps
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn parse_runs() -> Result<usize, String> {
    match std::env::args().nth(1) {
        None => Ok(11),
        Some(a) => match a.parse() {
            Ok(0) => Err("RUNS must be at least 1".into()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("not a number: {a:?} (usage: [RUNS])")),
        },
    }
}

const FAMILIES: [(AddressFamily, &str); 2] = [(AddressFamily::V4, "v4"), (AddressFamily::V6, "v6")];

/// The prepared state of the one-allocation workload at `n` existing, one family.
#[derive(Debug)]
struct OneAt {
    n: usize,
    family: AddressFamily,
    tag: &'static str,
    ipam: lb_core::Ipam,
    alloc: Allocator,
    reference: KubeVipReference,
    probe: lb_core::Service,
}

fn main() -> ExitCode {
    let runs = match parse_runs() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lb-alloc-ratio: {e}");
            return ExitCode::from(2);
        }
    };

    // Same answers first: both allocators hand out the same addresses (IPv4 crosses
    // several .255/.0 boundaries in 2,000 allocations).
    for (family, _) in FAMILIES {
        check_same_sequence(family, 2_000);
    }
    println!("check: lb-core and the reference hand out the same first 2,000 addresses (v4, v6)");

    // ---- memory ----
    let svcs_v4 = services(AddressFamily::V4, SERVICES);
    let svcs_v6 = services(AddressFamily::V6, SERVICES);
    let ipam_v4 = bytes_per(SERVICES, || {
        let mut ipam = empty_ipam(AddressFamily::V4);
        assign_all(&mut ipam, &svcs_v4);
        ipam
    });
    let ipam_v6 = bytes_per(SERVICES, || {
        let mut ipam = empty_ipam(AddressFamily::V6);
        assign_all(&mut ipam, &svcs_v6);
        ipam
    });
    let alloc_dense = bytes_per(SERVICES, || filled_allocator(AddressFamily::V4, SERVICES));
    // Worst case for the interval map: every other address free, so every allocated
    // address is an interval of its own.
    let alloc_sparse = bytes_per(SERVICES, || {
        let family = AddressFamily::V4;
        let mut alloc = Allocator::new(pool(family));
        let addrs: Vec<IpAddr> = (0..2 * SERVICES)
            .map(|_| alloc.allocate_next(family).expect("room"))
            .collect();
        for a in addrs.iter().skip(1).step_by(2) {
            alloc.release(*a);
        }
        drop(addrs);
        assert_eq!(alloc.allocated_count(family), SERVICES as u128);
        alloc
    });
    let reference_state = bytes_per(SERVICES, || {
        KubeVipReference::filled(pool_range(AddressFamily::V4), SERVICES)
    });

    // ---- prepared states for one allocation at n existing ----
    let mut one_at: Vec<OneAt> = Vec::new();
    for n in EXISTING {
        for (family, tag) in FAMILIES {
            one_at.push(OneAt {
                n,
                family,
                tag,
                ipam: filled_ipam(family, n),
                alloc: filled_allocator(family, n),
                reference: KubeVipReference::filled(pool_range(family), n),
                probe: probe(family),
            });
        }
    }
    for s in &mut one_at {
        let ours = assign_release(&mut s.ipam, &s.probe);
        let theirs = s.reference.next_free().expect("room");
        assert_eq!(ours, theirs, "next address at {} ({})", s.n, s.tag);
    }
    let snaps: Vec<_> = FAMILIES
        .iter()
        .map(|&(family, _)| snapshot(&filled_ipam(family, SERVICES), family))
        .collect();

    // ---- timing rounds ----
    // fill: [ipam v4, ipam v6, alloc v4, alloc v6]
    let mut fill: [Vec<Duration>; 4] = Default::default();
    // one-at: per state, [ipam, alloc, reference]
    let mut one: Vec<[Vec<Duration>; 3]> = one_at.iter().map(|_| Default::default()).collect();
    let mut rest: [Vec<Duration>; 2] = Default::default();
    for _ in 0..runs {
        for (i, (family, svcs)) in [(AddressFamily::V4, &svcs_v4), (AddressFamily::V6, &svcs_v6)]
            .into_iter()
            .enumerate()
        {
            let mut ipam = empty_ipam(family);
            fill[i].push(time_keep(|| assign_all(&mut ipam, svcs)));
            drop(ipam);
            let mut alloc = Allocator::new(pool(family));
            fill[2 + i].push(time_keep(|| allocate_n(&mut alloc, family, SERVICES)));
            drop(alloc);
        }
        for (s, samples) in one_at.iter_mut().zip(&mut one) {
            let family = s.family;
            samples[0].push(per_call(10_000, || assign_release(&mut s.ipam, &s.probe)));
            let alloc = &mut s.alloc;
            samples[1].push(per_call(100_000, || {
                let a = alloc.allocate_next(family).expect("room");
                alloc.release(a);
                a
            }));
            let reps = u32::try_from((2_000_000 / s.n).max(5)).expect("small");
            let reference = &s.reference;
            samples[2].push(per_call(reps, || reference.next_free()));
        }
        for (i, &(family, _)) in FAMILIES.iter().enumerate() {
            rest[i].push(time_keep(|| restore(family, &snaps[i])));
        }
    }
    let median = |s: &[Duration]| Summary::of(s).expect("at least one run").median;

    println!("{runs} interleaved runs each; medians:");
    println!("fill {SERVICES} single-stack Services:");
    let names = [
        "Ipam::assign v4 /12",
        "Ipam::assign v6 /108",
        "Allocator v4 /12",
        "Allocator v6 /108",
    ];
    for (name, s) in names.iter().zip(&fill) {
        let m = median(s);
        println!(
            "  {name:<22} {:>9.2} ms  ({:>7.0} ns per address)",
            ms(m),
            m.as_secs_f64() * 1e9 / SERVICES as f64
        );
    }
    println!("one allocation with n already allocated (ours: assign + release):");
    println!(
        "  {:<10} {:>4} {:>14} {:>14} {:>16} {:>14} {:>14}",
        "n", "fam", "Ipam (us)", "Allocator (us)", "reference (us)", "ref/Ipam", "ref/Allocator"
    );
    let mut ratio_10k: Vec<(&str, f64)> = Vec::new();
    for (s, samples) in one_at.iter().zip(&one) {
        let [ipam, alloc, reference] = [&samples[0], &samples[1], &samples[2]].map(|v| median(v));
        let r_ipam = reference.as_secs_f64() / ipam.as_secs_f64();
        let r_alloc = reference.as_secs_f64() / alloc.as_secs_f64();
        println!(
            "  {:<10} {:>4} {:>14.3} {:>14.3} {:>16.1} {:>13.0}x {:>13.0}x",
            s.n,
            s.tag,
            us(ipam),
            us(alloc),
            us(reference),
            r_ipam,
            r_alloc
        );
        if s.n == 10_000 {
            ratio_10k.push((s.tag, r_ipam));
        }
    }
    println!("Ipam::restore of {SERVICES} Services:");
    let mut restore_ms = Vec::new();
    for (&(_, tag), s) in FAMILIES.iter().zip(&rest) {
        let m = median(s);
        println!("  {tag}  {:>9.2} ms", ms(m));
        restore_ms.push((tag, ms(m)));
    }
    println!("memory (live heap bytes after minus before, per allocated address):");
    println!("  Ipam, {SERVICES} Services v4                 {ipam_v4:>8.1} B");
    println!("  Ipam, {SERVICES} Services v6                 {ipam_v6:>8.1} B");
    println!("  Allocator, {SERVICES} contiguous v4          {alloc_dense:>8.1} B");
    println!("  Allocator, {SERVICES} every other address v4 {alloc_sparse:>8.1} B");
    println!("  (reference state, {SERVICES} Services v4    {reference_state:>8.1} B)");

    println!("targets:");
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    for (tag, r) in &ratio_10k {
        println!(
            "  reference/ours per allocation at 10,000 existing, {tag}: {r:.0}x (>= 100x) {}",
            verdict(*r >= 100.0)
        );
    }
    for (tag, t) in &restore_ms {
        println!(
            "  restore of {SERVICES}, {tag}: {t:.2} ms (< 100 ms) {}",
            verdict(*t < 100.0)
        );
    }
    for (what, b) in [
        ("Allocator only, contiguous", alloc_dense),
        ("Allocator only, every other address", alloc_sparse),
        ("full Ipam v4", ipam_v4),
        ("full Ipam v6", ipam_v6),
    ] {
        println!(
            "  bytes per address, {what}: {b:.1} (< 100) {}",
            verdict(b < 100.0)
        );
    }
    ExitCode::SUCCESS
}
