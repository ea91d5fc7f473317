//! The frames this crate sends, built from the wire representations.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::{
    ALL_NODES_MULTICAST as ALL_NODES, ArpOperation, ArpRepr, EtherType, EthernetRepr, Frame,
    Ipv6Repr, MacAddr, NdiscRepr, VlanTag,
};

/// Where frames leave from: our MAC and the 802.1Q tag of the interface, if the frames
/// are tagged by us (a VLAN sub-interface tags them itself: use `None` there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Our MAC address.
    pub mac: MacAddr,
    /// The tag to put on every frame.
    pub vlan: Option<VlanTag>,
}

impl Link {
    fn ethernet(&self, dst: MacAddr, ethertype: EtherType) -> EthernetRepr {
        EthernetRepr {
            dst,
            src: self.mac,
            vlan: self.vlan,
            ethertype,
        }
    }

    /// The RFC 5227 announcement: an ARP request with sender and target protocol
    /// address both `addr`, target hardware address zero, to broadcast.
    pub fn arp_announcement(&self, addr: Ipv4Addr) -> Frame {
        Frame::Arp {
            eth: self.ethernet(MacAddr::BROADCAST, EtherType::Arp),
            arp: ArpRepr {
                operation: ArpOperation::Request,
                sender_mac: self.mac,
                sender_ip: addr,
                target_mac: MacAddr::ZERO,
                target_ip: addr,
            },
        }
    }

    /// The gratuitous reply form: an ARP reply for `addr` to broadcast, with our MAC as
    /// sender and target hardware address (what `arping -U -P`-style tools and kube-vip
    /// send; some switches only learn from replies).
    pub fn arp_gratuitous_reply(&self, addr: Ipv4Addr) -> Frame {
        Frame::Arp {
            eth: self.ethernet(MacAddr::BROADCAST, EtherType::Arp),
            arp: ArpRepr {
                operation: ArpOperation::Reply,
                sender_mac: self.mac,
                sender_ip: addr,
                target_mac: self.mac,
                target_ip: addr,
            },
        }
    }

    /// The answer to an ARP request for `addr` from `(mac, ip)`.
    pub fn arp_reply(&self, addr: Ipv4Addr, to_mac: MacAddr, to_ip: Ipv4Addr) -> Frame {
        Frame::Arp {
            eth: self.ethernet(to_mac, EtherType::Arp),
            arp: ArpRepr {
                operation: ArpOperation::Reply,
                sender_mac: self.mac,
                sender_ip: addr,
                target_mac: to_mac,
                target_ip: to_ip,
            },
        }
    }

    /// The RFC 4861 §7.2.6 unsolicited Neighbor Advertisement for `target`: to all-nodes,
    /// Solicited 0, Override 1, with the target link-layer address, hop limit 255, from
    /// `source` (an address of the interface; the target itself when it has none).
    pub fn unsolicited_na(&self, target: Ipv6Addr, source: Ipv6Addr) -> Frame {
        self.na(
            source,
            ALL_NODES,
            MacAddr::ipv6_multicast(ALL_NODES),
            target,
            false,
        )
    }

    /// The solicited Neighbor Advertisement answering a Neighbor Solicitation for
    /// `target` from `(mac, ip)`. A solicitation from the unspecified address (duplicate
    /// address detection) is answered to all-nodes with Solicited 0 (RFC 4861 §7.2.4).
    pub fn solicited_na(&self, target: Ipv6Addr, to_mac: MacAddr, to_ip: Ipv6Addr) -> Frame {
        if to_ip.is_unspecified() {
            return self.na(
                target,
                ALL_NODES,
                MacAddr::ipv6_multicast(ALL_NODES),
                target,
                false,
            );
        }
        self.na(target, to_ip, to_mac, target, true)
    }

    fn na(
        &self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        dst_mac: MacAddr,
        target: Ipv6Addr,
        solicited: bool,
    ) -> Frame {
        let ndisc = NdiscRepr::NeighborAdvert {
            router: false,
            solicited,
            override_: true,
            target,
            target_lladdr: Some(self.mac),
        };
        Frame::Ndisc {
            eth: self.ethernet(dst_mac, EtherType::Ipv6),
            ip: Ipv6Repr::ndisc(src, dst, &ndisc),
            ndisc,
        }
    }
}
