//! An MRT `TABLE_DUMP_V2` writer (RFC 6396), for bulk injection with
//! `gobgp mrt inject global FILE`.

use std::net::{IpAddr, Ipv4Addr};

use crate::{Error, Prefix, Result};

/// MRT type `TABLE_DUMP_V2`.
const TABLE_DUMP_V2: u16 = 13;
/// Subtypes of `TABLE_DUMP_V2`.
const PEER_INDEX_TABLE: u16 = 1;
const RIB_IPV4_UNICAST: u16 = 2;
const RIB_IPV6_UNICAST: u16 = 4;

/// BGP path attribute flags and type codes used here.
const OPTIONAL: u8 = 0x80;
const TRANSITIVE: u8 = 0x40;
const EXTENDED_LENGTH: u8 = 0x10;
const ORIGIN: u8 = 1;
const AS_PATH: u8 = 2;
const NEXT_HOP: u8 = 3;
const MULTI_EXIT_DISC: u8 = 4;
const COMMUNITIES: u8 = 8;
const MP_REACH_NLRI: u8 = 14;
const AS_SEQUENCE: u8 = 2;

/// One route of a RIB dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrtRoute {
    /// The network.
    pub prefix: Prefix,
    /// The next hop; an IPv6 prefix needs an IPv6 next hop.
    pub next_hop: IpAddr,
    /// The AS path, one AS_SEQUENCE of 4-octet AS numbers.
    pub as_path: Vec<u32>,
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE.
    pub origin: u8,
    /// MULTI_EXIT_DISC, when set.
    pub med: Option<u32>,
    /// COMMUNITIES (RFC 1997), in order.
    pub communities: Vec<u32>,
}

impl MrtRoute {
    /// A route with origin IGP, no MED and no communities.
    pub fn new(prefix: Prefix, next_hop: IpAddr, as_path: Vec<u32>) -> MrtRoute {
        MrtRoute {
            prefix,
            next_hop,
            as_path,
            origin: 0,
            med: None,
            communities: Vec::new(),
        }
    }

    fn attributes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        attribute(&mut out, TRANSITIVE, ORIGIN, &[self.origin])?;
        let mut path = Vec::with_capacity(2 + 4 * self.as_path.len());
        if !self.as_path.is_empty() {
            let count = u8::try_from(self.as_path.len()).map_err(|_| {
                Error::Invalid(format!("an AS path of {} ASes", self.as_path.len()))
            })?;
            path.extend_from_slice(&[AS_SEQUENCE, count]);
            for asn in &self.as_path {
                path.extend_from_slice(&asn.to_be_bytes());
            }
        }
        attribute(&mut out, TRANSITIVE, AS_PATH, &path)?;
        match (self.prefix.addr(), self.next_hop) {
            (IpAddr::V4(_), IpAddr::V4(hop)) => {
                attribute(&mut out, TRANSITIVE, NEXT_HOP, &hop.octets())?;
            }
            (IpAddr::V6(_), IpAddr::V6(hop)) => {
                // RFC 6396 §4.3.4: in a RIB entry MP_REACH_NLRI holds only the next hop.
                let mut mp = vec![16];
                mp.extend_from_slice(&hop.octets());
                attribute(&mut out, OPTIONAL, MP_REACH_NLRI, &mp)?;
            }
            (_, hop) => {
                return Err(Error::Invalid(format!(
                    "next hop {hop} for {}",
                    self.prefix
                )));
            }
        }
        if let Some(med) = self.med {
            attribute(&mut out, OPTIONAL, MULTI_EXIT_DISC, &med.to_be_bytes())?;
        }
        if !self.communities.is_empty() {
            let bytes: Vec<u8> = self
                .communities
                .iter()
                .flat_map(|c| c.to_be_bytes())
                .collect();
            attribute(&mut out, OPTIONAL | TRANSITIVE, COMMUNITIES, &bytes)?;
        }
        Ok(out)
    }
}

fn attribute(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) -> Result<()> {
    if let Ok(len) = u8::try_from(value.len()) {
        out.extend_from_slice(&[flags, code, len]);
    } else {
        let len = u16::try_from(value.len())
            .map_err(|_| Error::Invalid(format!("a {}-byte attribute", value.len())))?;
        out.extend_from_slice(&[flags | EXTENDED_LENGTH, code]);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(value);
    Ok(())
}

fn record(out: &mut Vec<u8>, timestamp: u32, subtype: u16, body: &[u8]) -> Result<()> {
    let len = u32::try_from(body.len())
        .map_err(|_| Error::Invalid(format!("an MRT record of {} bytes", body.len())))?;
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&TABLE_DUMP_V2.to_be_bytes());
    out.extend_from_slice(&subtype.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// The peer that the dump says it learned every route from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MrtPeer {
    /// Its BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Its address.
    pub addr: IpAddr,
    /// Its AS (written as 4 octets).
    pub asn: u32,
}

/// Encodes a `TABLE_DUMP_V2` dump: a `PEER_INDEX_TABLE` with `peer`, then one RIB
/// record per route (in order, sequence numbers from 0), each with one entry.
pub fn table_dump_v2(peer: MrtPeer, routes: &[MrtRoute], timestamp: u32) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + routes.len() * 48);
    let mut index = Vec::new();
    index.extend_from_slice(&peer.bgp_id.octets()); // collector BGP ID
    index.extend_from_slice(&0u16.to_be_bytes()); // view name length: no name
    index.extend_from_slice(&1u16.to_be_bytes()); // peer count
    let addr_type = if peer.addr.is_ipv6() { 0x01 } else { 0x00 };
    index.push(addr_type | 0x02); // peer type: address family, 4-octet AS
    index.extend_from_slice(&peer.bgp_id.octets());
    match peer.addr {
        IpAddr::V4(a) => index.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => index.extend_from_slice(&a.octets()),
    }
    index.extend_from_slice(&peer.asn.to_be_bytes());
    record(&mut out, timestamp, PEER_INDEX_TABLE, &index)?;

    let mut body = Vec::with_capacity(64);
    for (seq, route) in routes.iter().enumerate() {
        body.clear();
        let seq = u32::try_from(seq).map_err(|_| Error::Invalid("over 2^32 routes".into()))?;
        body.extend_from_slice(&seq.to_be_bytes());
        body.push(route.prefix.prefix_len());
        let bytes = usize::from(route.prefix.prefix_len()).div_ceil(8);
        match route.prefix.addr() {
            IpAddr::V4(a) => body.extend_from_slice(&a.octets()[..bytes]),
            IpAddr::V6(a) => body.extend_from_slice(&a.octets()[..bytes]),
        }
        body.extend_from_slice(&1u16.to_be_bytes()); // entry count
        body.extend_from_slice(&0u16.to_be_bytes()); // peer index
        body.extend_from_slice(&timestamp.to_be_bytes()); // originated time
        let attrs = route.attributes()?;
        let attrs_len = u16::try_from(attrs.len())
            .map_err(|_| Error::Invalid(format!("{} bytes of attributes", attrs.len())))?;
        body.extend_from_slice(&attrs_len.to_be_bytes());
        body.extend_from_slice(&attrs);
        let subtype = if route.prefix.is_ipv4() {
            RIB_IPV4_UNICAST
        } else {
            RIB_IPV6_UNICAST
        };
        record(&mut out, timestamp, subtype, &body)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_route_dump_is_encoded_field_by_field() {
        let peer = MrtPeer {
            bgp_id: Ipv4Addr::new(10, 0, 0, 2),
            addr: "10.0.0.2".parse().unwrap(),
            asn: 65001,
        };
        let mut route = MrtRoute::new(
            "192.0.2.0/24".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            vec![65001],
        );
        route.med = Some(5);
        route.communities = vec![0xfde8_0001];
        let bytes = table_dump_v2(peer, &[route], 0x0102_0304).unwrap();
        #[rustfmt::skip]
        let expected: Vec<u8> = vec![
            // PEER_INDEX_TABLE: timestamp, type 13, subtype 1, length 21
            1, 2, 3, 4,  0, 13,  0, 1,  0, 0, 0, 21,
            10, 0, 0, 2,        // collector BGP ID
            0, 0,               // view name length
            0, 1,               // peer count
            0x02,               // peer type: IPv4, 4-octet AS
            10, 0, 0, 2,        // peer BGP ID
            10, 0, 0, 2,        // peer address
            0, 0, 0xfd, 0xe9,   // peer AS 65001
            // RIB_IPV4_UNICAST: timestamp, type 13, subtype 2, length 52
            1, 2, 3, 4,  0, 13,  0, 2,  0, 0, 0, 52,
            0, 0, 0, 0,         // sequence number
            24, 192, 0, 2,      // prefix length and prefix
            0, 1,               // entry count
            0, 0,               // peer index
            1, 2, 3, 4,         // originated time
            0, 34,              // attribute length
            0x40, 1, 1, 0,                      // ORIGIN IGP
            0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH: one AS_SEQUENCE of 65001
            0x40, 3, 4, 10, 0, 0, 2,            // NEXT_HOP
            0x80, 4, 4, 0, 0, 0, 5,             // MULTI_EXIT_DISC 5
            0xc0, 8, 4, 0xfd, 0xe8, 0, 1,       // COMMUNITIES 65000:1
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn ipv6_routes_carry_an_mp_reach_next_hop() {
        let peer = MrtPeer {
            bgp_id: Ipv4Addr::LOCALHOST,
            addr: "fd00::2".parse().unwrap(),
            asn: 1,
        };
        let route = MrtRoute::new(
            "2001:db8::/33".parse().unwrap(),
            "fd00::2".parse().unwrap(),
            vec![],
        );
        let bytes = table_dump_v2(peer, &[route], 0).unwrap();
        let rib = &bytes[12 + 33..]; // after the 33-byte peer index with an IPv6 peer
        assert_eq!(&rib[6..8], &RIB_IPV6_UNICAST.to_be_bytes());
        // prefix length 33 takes 5 bytes
        assert_eq!(&rib[16..22], &[33, 0x20, 0x01, 0x0d, 0xb8, 0]);
        let attrs = &rib[32..];
        assert_eq!(&attrs[..4], &[0x40, 1, 1, 0]);
        assert_eq!(&attrs[4..7], &[0x40, 2, 0]); // empty AS_PATH
        assert_eq!(&attrs[7..10], &[0x80, 14, 17]);
        assert_eq!(attrs[10], 16);
    }

    #[test]
    fn mismatched_next_hops_and_oversized_paths_are_errors() {
        let peer = MrtPeer {
            bgp_id: Ipv4Addr::LOCALHOST,
            addr: "10.0.0.1".parse().unwrap(),
            asn: 1,
        };
        let v6_hop = MrtRoute::new(
            "10.0.0.0/8".parse().unwrap(),
            "fd00::1".parse().unwrap(),
            vec![],
        );
        assert!(table_dump_v2(peer, &[v6_hop], 0).is_err());
        let long = MrtRoute::new(
            "10.0.0.0/8".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
            vec![1; 256],
        );
        assert!(table_dump_v2(peer, &[long], 0).is_err());
    }
}
