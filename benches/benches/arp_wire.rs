//! The cost of arp-ndp's wire layer per frame: `Frame::parse` and `Frame::emit` (into
//! a reused buffer, the way the announcer and the responder send) of a gratuitous ARP
//! request (42 bytes) and of an unsolicited Neighbor Advertisement with its target
//! link-layer address (86 bytes, the ICMPv6 checksum included both ways), plus
//! `Frame::to_bytes`, which allocates.
//!
//! `cargo bench -p benches --bench arp_wire`.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use arp_ndp::{
    ALL_NODES_MULTICAST, ArpOperation, ArpRepr, EtherType, EthernetRepr, Frame, Ipv6Repr, MacAddr,
    NdiscRepr,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);

fn garp() -> Frame {
    let vip = Ipv4Addr::new(192, 0, 2, 10);
    Frame::Arp {
        eth: EthernetRepr {
            dst: MacAddr::BROADCAST,
            src: MAC,
            vlan: None,
            ethertype: EtherType::Arp,
        },
        arp: ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: MAC,
            sender_ip: vip,
            target_mac: MacAddr::ZERO,
            target_ip: vip,
        },
    }
}

fn unsolicited_na() -> Frame {
    let vip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);
    let ndisc = NdiscRepr::NeighborAdvert {
        router: false,
        solicited: false,
        override_: true,
        target: vip,
        target_lladdr: Some(MAC),
    };
    Frame::Ndisc {
        eth: EthernetRepr {
            dst: MacAddr::ipv6_multicast(ALL_NODES_MULTICAST),
            src: MAC,
            vlan: None,
            ethertype: EtherType::Ipv6,
        },
        ip: Ipv6Repr::ndisc(vip, ALL_NODES_MULTICAST, &ndisc),
        ndisc,
    }
}

fn bench(c: &mut Criterion) {
    for (name, frame) in [("garp", garp()), ("unsolicited_na", unsolicited_na())] {
        let bytes = frame.to_bytes();
        assert_eq!(Frame::parse(&bytes), Ok(frame));
        let mut group = c.benchmark_group(format!("arp_wire/{name}"));
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(1));
        group.bench_function("parse", |b| b.iter(|| Frame::parse(black_box(&bytes))));
        let mut out = [0u8; 128];
        group.bench_function("emit", |b| {
            b.iter(|| black_box(&frame).emit(black_box(&mut out[..])))
        });
        group.bench_function("to_bytes", |b| b.iter(|| black_box(&frame).to_bytes()));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
