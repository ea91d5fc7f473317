//! The cost of lb-core's address allocation, side by side with a model of
//! kube-vip-cloud-provider's allocator (`benches::lb_reference`):
//!
//! - `lb_alloc/fill_100k`: 100,000 single-stack Services from an IPv4 `/12` and an
//!   IPv6 `/108`, through `Ipam::assign` and through the raw `Allocator`;
//! - `lb_alloc/one_at/{1000,10000,100000}`: one allocation when that many addresses are
//!   already allocated (ours: assign then release; the reference: one full
//!   collect-and-scan);
//! - `lb_alloc/restore_100k`: `Ipam::restore` from a snapshot of 100,000 Services.
//!
//! `cargo bench -p benches --bench lb_alloc`.

use std::hint::black_box;
use std::time::Duration;

use benches::lb_reference::{
    EXISTING, KubeVipReference, SERVICES, allocate_n, assign_all, assign_release, empty_ipam,
    filled_allocator, filled_ipam, pool, pool_range, probe, restore, services, snapshot,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lb_core::{AddressFamily, Allocator};

const FAMILIES: [(AddressFamily, &str); 2] = [(AddressFamily::V4, "v4"), (AddressFamily::V6, "v6")];

fn fill(c: &mut Criterion) {
    let mut group = c.benchmark_group("lb_alloc/fill_100k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(SERVICES as u64));
    for (family, tag) in FAMILIES {
        let svcs = services(family, SERVICES);
        group.bench_function(format!("ipam_assign_{tag}"), |b| {
            b.iter_batched(
                || empty_ipam(family),
                |mut ipam| {
                    assign_all(&mut ipam, black_box(&svcs));
                    ipam
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("allocator_{tag}"), |b| {
            b.iter_batched(
                || Allocator::new(pool(family)),
                |mut alloc| {
                    black_box(allocate_n(&mut alloc, family, SERVICES));
                    alloc
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn one_at(c: &mut Criterion) {
    for n in EXISTING {
        let mut group = c.benchmark_group(format!("lb_alloc/one_at/{n}"));
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(1));
        if n >= 100_000 {
            group.sample_size(20);
        }
        for (family, tag) in FAMILIES {
            let mut ipam = filled_ipam(family, n);
            let probe = probe(family);
            group.bench_function(format!("ipam_assign_release_{tag}"), |b| {
                b.iter(|| assign_release(&mut ipam, black_box(&probe)))
            });
            let mut alloc = filled_allocator(family, n);
            group.bench_function(format!("allocator_{tag}"), |b| {
                b.iter(|| {
                    let addr = alloc.allocate_next(family).expect("room");
                    alloc.release(addr);
                    addr
                })
            });
            let reference = KubeVipReference::filled(pool_range(family), n);
            group.bench_function(format!("kube_vip_reference_{tag}"), |b| {
                b.iter(|| black_box(&reference).next_free())
            });
        }
        group.finish();
    }
}

fn restore_100k(c: &mut Criterion) {
    let mut group = c.benchmark_group("lb_alloc/restore_100k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(SERVICES as u64));
    for (family, tag) in FAMILIES {
        let snap = snapshot(&filled_ipam(family, SERVICES), family);
        group.bench_function(tag, |b| {
            b.iter_with_large_drop(|| restore(family, black_box(&snap)))
        });
    }
    group.finish();
}

criterion_group!(benches, fill, one_at, restore_100k);
criterion_main!(benches);
