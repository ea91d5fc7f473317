//! Human-readable forms of messages, for logs, the lab and debugging. One line per
//! message part; the exact wording is not a stable interface.

use std::fmt;

use crate::attribute::{AttributeValue, ExtendedCommunity, MpNlri, NextHop, Origin};
use crate::capability::Capability;
use crate::context::{Afi, Family, Safi};
use crate::message::Message;
use crate::notification::{Notification, ShutdownMessage};
use crate::open::Open;
use crate::route_refresh::{RefreshSubtype, RouteRefresh};
use crate::update::Update;

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.afi {
            Afi::Ipv4 => f.write_str("ipv4")?,
            Afi::Ipv6 => f.write_str("ipv6")?,
            Afi::Unknown(n) => write!(f, "afi{n}")?,
        }
        match self.safi {
            Safi::Unicast => f.write_str("-unicast"),
            Safi::Multicast => f.write_str("-multicast"),
            Safi::Unknown(n) => write!(f, "-safi{n}"),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::MultiProtocol(family) => write!(f, "multiprotocol {family}"),
            Capability::RouteRefresh => f.write_str("route refresh"),
            Capability::ExtendedNextHop(entries) => {
                f.write_str("extended next hop")?;
                for e in entries {
                    write!(f, " {}/{:?}", e.family, e.next_hop_afi)?;
                }
                Ok(())
            }
            Capability::ExtendedMessage => f.write_str("extended message"),
            Capability::Role(role) => write!(f, "role {role:?}"),
            Capability::GracefulRestart(gr) => {
                write!(f, "graceful restart {} s", gr.restart_time)?;
                if gr.restart_state {
                    f.write_str(" (restarting)")?;
                }
                for fam in &gr.families {
                    write!(
                        f,
                        " {}{}",
                        fam.family,
                        if fam.forwarding_preserved() { "+F" } else { "" }
                    )?;
                }
                Ok(())
            }
            Capability::FourOctetAs(asn) => write!(f, "4-octet AS {asn}"),
            Capability::AddPath(entries) => {
                f.write_str("add-path")?;
                for e in entries {
                    write!(f, " {} {:?}", e.family, e.mode)?;
                }
                Ok(())
            }
            Capability::EnhancedRouteRefresh => f.write_str("enhanced route refresh"),
            Capability::LongLivedGracefulRestart(families) => {
                write!(
                    f,
                    "long-lived graceful restart ({} families)",
                    families.len()
                )
            }
            Capability::Fqdn { hostname, domain } => {
                write!(f, "hostname {hostname:?} domain {domain:?}")
            }
            Capability::Unknown { code, value } => {
                write!(f, "capability {code} ({} bytes)", value.len())
            }
        }
    }
}

impl fmt::Display for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OPEN version {}, AS {}, hold time {} s, BGP identifier {}",
            self.version,
            self.asn(),
            self.hold_time,
            self.bgp_id
        )?;
        for c in self.capabilities() {
            write!(f, "\n  capability: {c}")?;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn extended(c: &ExtendedCommunity) -> String {
    let b = c.0;
    match (b[0] & 0x3f, b[1]) {
        (0x00, 0x02) => format!(
            "target:{}:{}",
            u16::from_be_bytes([b[2], b[3]]),
            u32::from_be_bytes([b[4], b[5], b[6], b[7]])
        ),
        (0x00, 0x03) => format!(
            "origin:{}:{}",
            u16::from_be_bytes([b[2], b[3]]),
            u32::from_be_bytes([b[4], b[5], b[6], b[7]])
        ),
        _ => format!("0x{}", hex(&b)),
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: Vec<String>| items.join(" ");
        match self {
            AttributeValue::Origin(o) => write!(
                f,
                "origin {}",
                match o {
                    Origin::Igp => "IGP",
                    Origin::Egp => "EGP",
                    Origin::Incomplete => "incomplete",
                }
            ),
            AttributeValue::AsPath(p) => write!(f, "as-path [{p}]"),
            AttributeValue::As4Path(p) => write!(f, "as4-path [{p}]"),
            AttributeValue::NextHop(a) => write!(f, "next-hop {a}"),
            AttributeValue::MultiExitDisc(v) => write!(f, "med {v}"),
            AttributeValue::LocalPref(v) => write!(f, "local-pref {v}"),
            AttributeValue::AtomicAggregate => f.write_str("atomic-aggregate"),
            AttributeValue::Aggregator(a) => write!(f, "aggregator AS {} {}", a.asn, a.addr),
            AttributeValue::As4Aggregator(a) => write!(f, "as4-aggregator AS {} {}", a.asn, a.addr),
            AttributeValue::Communities(c) => write!(
                f,
                "communities [{}]",
                list(c.iter().map(|c| c.to_string()).collect())
            ),
            AttributeValue::LargeCommunities(c) => {
                write!(
                    f,
                    "large-communities [{}]",
                    list(c.iter().map(|c| c.to_string()).collect())
                )
            }
            AttributeValue::ExtendedCommunities(c) => {
                write!(
                    f,
                    "extended-communities [{}]",
                    list(c.iter().map(extended).collect())
                )
            }
            AttributeValue::OriginatorId(a) => write!(f, "originator-id {a}"),
            AttributeValue::ClusterList(c) => write!(
                f,
                "cluster-list [{}]",
                list(c.iter().map(|a| a.to_string()).collect())
            ),
            AttributeValue::Otc(asn) => write!(f, "only-to-customer {asn}"),
            AttributeValue::MpReach(mp) => {
                write!(f, "mp-reach {} next-hop ", mp.family)?;
                match &mp.next_hop {
                    NextHop::V4(a) => write!(f, "{a}")?,
                    NextHop::V6 {
                        global,
                        link_local: None,
                    } => write!(f, "{global}")?,
                    NextHop::V6 {
                        global,
                        link_local: Some(ll),
                    } => write!(f, "{global} {ll}")?,
                    NextHop::Other(b) => write!(f, "0x{}", hex(b))?,
                }
                write_nlri(f, &mp.nlri)
            }
            AttributeValue::MpUnreach(mp) => {
                write!(f, "mp-unreach {}", mp.family)?;
                write_nlri(f, &mp.withdrawn)
            }
            AttributeValue::Unknown { code, value } => {
                write!(f, "attribute {code} 0x{}", hex(value))
            }
        }
    }
}

fn write_nlri(f: &mut fmt::Formatter<'_>, nlri: &MpNlri) -> fmt::Result {
    match nlri {
        MpNlri::Prefixes(p) => {
            for n in p {
                write!(f, " {n}")?;
            }
            Ok(())
        }
        MpNlri::Raw(r) => write!(f, " 0x{}", hex(r)),
    }
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(family) = self.end_of_rib_family() {
            return write!(f, "UPDATE End-of-RIB {family}");
        }
        f.write_str("UPDATE")?;
        if !self.withdrawn.is_empty() {
            f.write_str("\n  withdraw:")?;
            for n in &self.withdrawn {
                write!(f, " {n}")?;
            }
        }
        for a in &self.attributes {
            write!(f, "\n  {}", a.value)?;
        }
        if !self.nlri.is_empty() {
            f.write_str("\n  announce:")?;
            for n in &self.nlri {
                write!(f, " {n}")?;
            }
        }
        for i in &self.issues {
            write!(
                f,
                "\n  RFC 7606: {:?} {:?} → {:?}",
                i.attribute, i.problem, i.disposition
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NOTIFICATION {}", self.error)?;
        match self.shutdown_message() {
            Some(ShutdownMessage::Text { text, .. }) => write!(f, ": {text:?}"),
            _ if !self.data.is_empty() => write!(f, " data 0x{}", hex(&self.data)),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for RouteRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.subtype {
            RefreshSubtype::Request => "request".to_owned(),
            RefreshSubtype::Begin => "begin".to_owned(),
            RefreshSubtype::End => "end".to_owned(),
            RefreshSubtype::Unknown(n) => format!("subtype {n}"),
        };
        write!(f, "ROUTE-REFRESH {} ({kind})", self.family)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Open(m) => m.fmt(f),
            Message::Update(m) => m.fmt(f),
            Message::Notification(m) => m.fmt(f),
            Message::Keepalive => f.write_str("KEEPALIVE"),
            Message::RouteRefresh(m) => m.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AsPath, Attribute, Community, Nlri, Prefix};

    #[test]
    fn an_update_reads_well() {
        let u = Update {
            attributes: vec![
                Attribute::new(AttributeValue::Origin(Origin::Igp)),
                Attribute::new(AttributeValue::AsPath(AsPath::sequence(vec![65001, 64512]))),
                Attribute::new(AttributeValue::Communities(vec![
                    Community::new(65001, 7),
                    Community::NO_EXPORT,
                ])),
            ],
            nlri: vec![Nlri::new(
                Prefix::new("192.0.2.0".parse().unwrap(), 24).unwrap(),
            )],
            ..Update::default()
        };
        assert_eq!(
            u.to_string(),
            "UPDATE\n  origin IGP\n  as-path [65001 64512]\n  communities [65001:7 NO_EXPORT]\n  announce: 192.0.2.0/24"
        );
        assert_eq!(
            Update::end_of_rib(Family::IPV6_UNICAST).to_string(),
            "UPDATE End-of-RIB ipv6-unicast"
        );
        let n = Notification::shutdown(crate::CeaseSubcode::AdministrativeShutdown, "bye").unwrap();
        assert_eq!(
            Message::Notification(n).to_string(),
            "NOTIFICATION Cease / AdministrativeShutdown: \"bye\""
        );
    }
}
