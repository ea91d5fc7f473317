//! Criterion benches of the test kit's own encoders and parsers, which the bench
//! programs use on large inputs (bulk route injection, BIRD output of big tables).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use testkit::{MrtPeer, MrtRoute, Prefix, parse_routes, table_dump_v2};

fn routes(n: u32) -> Vec<MrtRoute> {
    (0..n)
        .map(|i| {
            let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + i);
            let mut r = MrtRoute::new(
                Prefix::new(addr.into(), 32).expect("valid"),
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                vec![65001, 64512],
            );
            r.communities = vec![0xfde8_0001, 0xfde8_0002];
            r
        })
        .collect()
}

fn bird_output(n: u32) -> String {
    let mut text = String::from("Table master4:\n");
    for i in 0..n {
        let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + i);
        text.push_str(&format!(
            "{addr}/32 unicast [node 10:32:31.153] * (100) [AS64512i]\n\tvia 10.0.0.2 on veth0\n\
             \tType: BGP univ\n\tBGP.origin: IGP\n\tBGP.as_path: 65001 64512\n\tBGP.next_hop: 10.0.0.2\n\
             \tBGP.local_pref: 100\n\tBGP.community: (65000,1) (65000,2)\n"
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let peer = MrtPeer {
        bgp_id: Ipv4Addr::new(10, 0, 0, 2),
        addr: "10.0.0.2".parse().expect("ip"),
        asn: 65001,
    };
    let table = routes(10_000);
    let mut group = c.benchmark_group("testkit");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("mrt_table_dump_v2_10k_routes", |b| {
        b.iter(|| table_dump_v2(peer, black_box(&table), 0).expect("encodes"))
    });
    let text = bird_output(10_000);
    group.bench_function("bird_parse_routes_10k", |b| {
        b.iter(|| parse_routes(black_box(&text)).expect("parses"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
