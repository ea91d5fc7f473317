//! Path attributes (RFC 4271 §4.3 and §5, RFC 1997, 4360, 4456, 4760, 6793, 8092, 9234).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::EncodeError;
use crate::context::{Afi, Family, Safi, SessionContext};
use crate::prefix::{Nlri, NlriError, decode_nlri, encode_nlri};

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flags {
    /// The attribute is optional (not well-known).
    pub const OPTIONAL: u8 = 0x80;
    /// An optional attribute is transitive (always set for well-known ones).
    pub const TRANSITIVE: u8 = 0x40;
    /// Some speaker on the path did not recognise this optional transitive attribute.
    pub const PARTIAL: u8 = 0x20;
    /// The length field is two octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// AS_TRANS (RFC 6793): the 2-octet stand-in for a 4-octet AS number.
pub const AS_TRANS: u32 = 23456;

/// Attribute type codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttrType {
    /// 1
    Origin,
    /// 2
    AsPath,
    /// 3
    NextHop,
    /// 4
    MultiExitDisc,
    /// 5
    LocalPref,
    /// 6
    AtomicAggregate,
    /// 7
    Aggregator,
    /// 8 (RFC 1997)
    Communities,
    /// 9 (RFC 4456)
    OriginatorId,
    /// 10 (RFC 4456)
    ClusterList,
    /// 14 (RFC 4760)
    MpReachNlri,
    /// 15 (RFC 4760)
    MpUnreachNlri,
    /// 16 (RFC 4360)
    ExtendedCommunities,
    /// 17 (RFC 6793)
    As4Path,
    /// 18 (RFC 6793)
    As4Aggregator,
    /// 32 (RFC 8092)
    LargeCommunities,
    /// 35 (RFC 9234)
    Otc,
    /// Any other code.
    Unknown(u8),
}

impl From<u8> for AttrType {
    fn from(code: u8) -> Self {
        match code {
            1 => AttrType::Origin,
            2 => AttrType::AsPath,
            3 => AttrType::NextHop,
            4 => AttrType::MultiExitDisc,
            5 => AttrType::LocalPref,
            6 => AttrType::AtomicAggregate,
            7 => AttrType::Aggregator,
            8 => AttrType::Communities,
            9 => AttrType::OriginatorId,
            10 => AttrType::ClusterList,
            14 => AttrType::MpReachNlri,
            15 => AttrType::MpUnreachNlri,
            16 => AttrType::ExtendedCommunities,
            17 => AttrType::As4Path,
            18 => AttrType::As4Aggregator,
            32 => AttrType::LargeCommunities,
            35 => AttrType::Otc,
            other => AttrType::Unknown(other),
        }
    }
}

impl From<AttrType> for u8 {
    fn from(t: AttrType) -> u8 {
        match t {
            AttrType::Origin => 1,
            AttrType::AsPath => 2,
            AttrType::NextHop => 3,
            AttrType::MultiExitDisc => 4,
            AttrType::LocalPref => 5,
            AttrType::AtomicAggregate => 6,
            AttrType::Aggregator => 7,
            AttrType::Communities => 8,
            AttrType::OriginatorId => 9,
            AttrType::ClusterList => 10,
            AttrType::MpReachNlri => 14,
            AttrType::MpUnreachNlri => 15,
            AttrType::ExtendedCommunities => 16,
            AttrType::As4Path => 17,
            AttrType::As4Aggregator => 18,
            AttrType::LargeCommunities => 32,
            AttrType::Otc => 35,
            AttrType::Unknown(other) => other,
        }
    }
}

impl AttrType {
    /// The Optional and Transitive bits this attribute must carry, `None` for an
    /// unknown attribute (whose flags are whatever the sender said).
    pub fn category_flags(self) -> Option<u8> {
        use flags::{OPTIONAL, TRANSITIVE};
        Some(match self {
            AttrType::Origin
            | AttrType::AsPath
            | AttrType::NextHop
            | AttrType::LocalPref
            | AttrType::AtomicAggregate => TRANSITIVE,
            AttrType::MultiExitDisc
            | AttrType::OriginatorId
            | AttrType::ClusterList
            | AttrType::MpReachNlri
            | AttrType::MpUnreachNlri => OPTIONAL,
            AttrType::Aggregator
            | AttrType::Communities
            | AttrType::ExtendedCommunities
            | AttrType::As4Path
            | AttrType::As4Aggregator
            | AttrType::LargeCommunities
            | AttrType::Otc => OPTIONAL | TRANSITIVE,
            AttrType::Unknown(_) => return None,
        })
    }
}

/// ORIGIN (RFC 4271 §5.1.1). An undefined value is a malformed attribute, so there is
/// no variant for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// 0
    Igp,
    /// 1
    Egp,
    /// 2
    Incomplete,
}

/// The kind of an AS_PATH segment (RFC 4271, RFC 5065).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentType {
    /// 1: AS_SET.
    Set,
    /// 2: AS_SEQUENCE.
    Sequence,
    /// 3: AS_CONFED_SEQUENCE.
    ConfedSequence,
    /// 4: AS_CONFED_SET.
    ConfedSet,
}

impl SegmentType {
    fn from_code(code: u8) -> Option<SegmentType> {
        Some(match code {
            1 => SegmentType::Set,
            2 => SegmentType::Sequence,
            3 => SegmentType::ConfedSequence,
            4 => SegmentType::ConfedSet,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        match self {
            SegmentType::Set => 1,
            SegmentType::Sequence => 2,
            SegmentType::ConfedSequence => 3,
            SegmentType::ConfedSet => 4,
        }
    }
}

/// One AS_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsSegment {
    /// Its kind.
    pub kind: SegmentType,
    /// Its AS numbers, 1 to 255 of them.
    pub asns: Vec<u32>,
}

/// An AS_PATH or AS4_PATH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    /// The segments, in order.
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// A path of one AS_SEQUENCE (empty for no ASes).
    pub fn sequence(asns: impl Into<Vec<u32>>) -> AsPath {
        let asns = asns.into();
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentType::Sequence,
                asns,
            }],
        }
    }

    /// The path length as the decision process counts it (RFC 4271 §9.1.2.2): each AS
    /// of a sequence counts one, a set counts one, confederation segments count zero.
    pub fn route_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentType::Sequence => s.asns.len(),
                SegmentType::Set => 1,
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// The first AS of the path (the neighbour's), when it starts with a sequence.
    pub fn first_as(&self) -> Option<u32> {
        let first = self.segments.first()?;
        (first.kind == SegmentType::Sequence)
            .then(|| first.asns.first().copied())
            .flatten()
    }

    /// Every AS number, in order, segments flattened.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.iter().flat_map(|s| s.asns.iter().copied())
    }

    /// Whether any AS number needs four octets.
    pub fn needs_four_octets(&self) -> bool {
        self.asns().any(|a| a > u32::from(u16::MAX))
    }

    /// The path as a 2-octet speaker must receive it (RFC 6793 §4.2.2): every AS above
    /// 65535 replaced by AS_TRANS.
    pub fn with_as_trans(&self) -> AsPath {
        AsPath {
            segments: self
                .segments
                .iter()
                .map(|s| AsSegment {
                    kind: s.kind,
                    asns: s
                        .asns
                        .iter()
                        .map(|&a| if a > u32::from(u16::MAX) { AS_TRANS } else { a })
                        .collect(),
                })
                .collect(),
        }
    }

    /// RFC 6793 §4.2.3: the path a 4-octet speaker reconstructs from the AS_PATH and
    /// AS4_PATH of a 2-octet peer. When AS_PATH is shorter than AS4_PATH the AS4_PATH is
    /// ignored; otherwise the leading ASes of AS_PATH that AS4_PATH does not cover are
    /// kept and AS4_PATH follows. Confederation segments of AS4_PATH are dropped.
    pub fn merge_as4(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
        let as4 = AsPath {
            segments: as4_path
                .segments
                .iter()
                .filter(|s| matches!(s.kind, SegmentType::Sequence | SegmentType::Set))
                .cloned()
                .collect(),
        };
        let (total, extra) = (as_path.route_len(), as4.route_len());
        if total < extra {
            return as_path.clone();
        }
        let mut keep = total - extra;
        let mut merged = AsPath::default();
        for segment in &as_path.segments {
            if keep == 0 {
                break;
            }
            match segment.kind {
                SegmentType::Sequence => {
                    let take = keep.min(segment.asns.len());
                    merged.segments.push(AsSegment {
                        kind: SegmentType::Sequence,
                        asns: segment.asns[..take].to_vec(),
                    });
                    keep -= take;
                }
                SegmentType::Set => {
                    merged.segments.push(segment.clone());
                    keep -= 1;
                }
                SegmentType::ConfedSequence | SegmentType::ConfedSet => {
                    merged.segments.push(segment.clone());
                }
            }
        }
        merged.segments.extend(as4.segments);
        merged
    }

    /// Decodes a path into `path`, reusing its memory (segments and AS lists).
    fn decode_into(bytes: &[u8], as_len: usize, mut path: AsPath) -> Option<AsPath> {
        let mut used = 0;
        let mut rest = bytes;
        while !rest.is_empty() {
            let [kind, count, tail @ ..] = rest else {
                return None;
            };
            let kind = SegmentType::from_code(*kind)?;
            let n = usize::from(*count);
            if n == 0 {
                return None;
            }
            let body = tail.get(..n * as_len)?;
            if used == path.segments.len() {
                path.segments.push(AsSegment {
                    kind,
                    asns: Vec::with_capacity(n),
                });
            }
            let segment = &mut path.segments[used];
            segment.kind = kind;
            segment.asns.clear();
            if as_len == 4 {
                segment.asns.extend(
                    body.chunks_exact(4)
                        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
                );
            } else {
                segment.asns.extend(
                    body.chunks_exact(2)
                        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))),
                );
            }
            used += 1;
            rest = &tail[n * as_len..];
        }
        path.segments.truncate(used);
        Some(path)
    }

    fn encode(&self, four_octet: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for segment in &self.segments {
            let count = u8::try_from(segment.asns.len())
                .ok()
                .filter(|&c| c > 0)
                .ok_or(EncodeError::Invalid {
                    what: "AS_PATH segment",
                    detail: format!("{} AS numbers (1 to 255 fit)", segment.asns.len()),
                })?;
            out.push(segment.kind.code());
            out.push(count);
            for &asn in &segment.asns {
                if four_octet {
                    out.extend_from_slice(&asn.to_be_bytes());
                } else {
                    let two = u16::try_from(asn).map_err(|_| EncodeError::Invalid {
                        what: "AS_PATH",
                        detail: format!(
                            "AS {asn} on a 2-octet session (use AS_TRANS and AS4_PATH)"
                        ),
                    })?;
                    out.extend_from_slice(&two.to_be_bytes());
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.segments {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let list = s
                .asns
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            match s.kind {
                SegmentType::Sequence => f.write_str(&list)?,
                SegmentType::Set => write!(f, "{{{list}}}")?,
                SegmentType::ConfedSequence => write!(f, "({list})")?,
                SegmentType::ConfedSet => write!(f, "[{list}]")?,
            }
        }
        Ok(())
    }
}

/// AGGREGATOR or AS4_AGGREGATOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aggregator {
    /// The aggregating AS.
    pub asn: u32,
    /// The aggregating speaker's BGP identifier.
    pub addr: Ipv4Addr,
}

/// A community (RFC 1997): two 16-bit halves in one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// NO_EXPORT (RFC 1997).
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// NO_ADVERTISE (RFC 1997).
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED (RFC 1997).
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// NOPEER (RFC 3765).
    pub const NOPEER: Community = Community(0xFFFF_FF04);
    /// GRACEFUL_SHUTDOWN (RFC 8326).
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// ACCEPT_OWN (RFC 7611).
    pub const ACCEPT_OWN: Community = Community(0xFFFF_0001);
    /// LLGR_STALE (RFC 9494).
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    /// NO_LLGR (RFC 9494).
    pub const NO_LLGR: Community = Community(0xFFFF_0007);
    /// BLACKHOLE (RFC 7999).
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);

    /// A community from its halves, `asn:value`.
    pub const fn new(asn: u16, value: u16) -> Community {
        Community(((asn as u32) << 16) | value as u32)
    }

    /// The high half (by convention an AS number).
    pub fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low half.
    pub fn value(self) -> u16 {
        self.0 as u16
    }

    /// The registered name of a well-known community.
    pub fn well_known_name(self) -> Option<&'static str> {
        Some(match self {
            Community::NO_EXPORT => "NO_EXPORT",
            Community::NO_ADVERTISE => "NO_ADVERTISE",
            Community::NO_EXPORT_SUBCONFED => "NO_EXPORT_SUBCONFED",
            Community::NOPEER => "NOPEER",
            Community::GRACEFUL_SHUTDOWN => "GRACEFUL_SHUTDOWN",
            Community::ACCEPT_OWN => "ACCEPT_OWN",
            Community::LLGR_STALE => "LLGR_STALE",
            Community::NO_LLGR => "NO_LLGR",
            Community::BLACKHOLE => "BLACKHOLE",
            _ => return None,
        })
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.well_known_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}:{}", self.asn(), self.value()),
        }
    }
}

/// An extended community (RFC 4360), kept as its eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// The type octet (high), including the IANA-authority and transitive bits.
    pub fn kind(self) -> u8 {
        self.0[0]
    }

    /// The subtype octet (meaningful for the extended types).
    pub fn subtype(self) -> u8 {
        self.0[1]
    }

    /// Whether the community is transitive across ASes (bit 6 of the type clear).
    pub fn is_transitive(self) -> bool {
        self.0[0] & 0x40 == 0
    }
}

/// A large community (RFC 8092).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    /// The global administrator (an AS number).
    pub global: u32,
    /// The first local data part.
    pub local1: u32,
    /// The second local data part.
    pub local2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

/// The next hop of MP_REACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// An IPv4 next hop (4 bytes).
    V4(Ipv4Addr),
    /// An IPv6 global next hop, with the link-local one when 32 bytes were sent.
    V6 {
        /// The global address.
        global: Ipv6Addr,
        /// The link-local address.
        link_local: Option<Ipv6Addr>,
    },
    /// The next hop of a family this codec does not interpret, as raw bytes.
    Other(Vec<u8>),
}

impl NextHop {
    /// The address to forward to (the global one for IPv6).
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            NextHop::V4(a) => Some(IpAddr::V4(*a)),
            NextHop::V6 { global, .. } => Some(IpAddr::V6(*global)),
            NextHop::Other(_) => None,
        }
    }

    fn wire_len(&self) -> usize {
        match self {
            NextHop::V4(_) => 4,
            NextHop::V6 {
                link_local: None, ..
            } => 16,
            NextHop::V6 {
                link_local: Some(_),
                ..
            } => 32,
            NextHop::Other(bytes) => bytes.len(),
        }
    }
}

/// The NLRI of MP_REACH_NLRI or MP_UNREACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MpNlri {
    /// IPv4 or IPv6 prefixes (unicast or multicast).
    Prefixes(Vec<Nlri>),
    /// The NLRI of a family this codec does not interpret, as raw bytes.
    Raw(Vec<u8>),
}

impl MpNlri {
    /// The prefixes, empty for raw NLRI.
    pub fn prefixes(&self) -> &[Nlri] {
        match self {
            MpNlri::Prefixes(p) => p,
            MpNlri::Raw(_) => &[],
        }
    }

    /// Whether there are no NLRI at all.
    pub fn is_empty(&self) -> bool {
        match self {
            MpNlri::Prefixes(p) => p.is_empty(),
            MpNlri::Raw(r) => r.is_empty(),
        }
    }
}

/// Whether this codec parses the NLRI of `family` into prefixes.
fn parses_prefixes(family: Family) -> bool {
    matches!(family.afi, Afi::Ipv4 | Afi::Ipv6)
        && matches!(family.safi, Safi::Unicast | Safi::Multicast)
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    /// The family.
    pub family: Family,
    /// The next hop.
    pub next_hop: NextHop,
    /// The reserved octet (formerly the SNPA count), kept as received.
    pub reserved: u8,
    /// The announced NLRI.
    pub nlri: MpNlri,
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    /// The family.
    pub family: Family,
    /// The withdrawn NLRI.
    pub withdrawn: MpNlri,
}

/// The value of one path attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// ORIGIN.
    Origin(Origin),
    /// AS_PATH.
    AsPath(AsPath),
    /// NEXT_HOP.
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC.
    MultiExitDisc(u32),
    /// LOCAL_PREF.
    LocalPref(u32),
    /// ATOMIC_AGGREGATE.
    AtomicAggregate,
    /// AGGREGATOR (its AS is 2 or 4 octets on the wire, per the session).
    Aggregator(Aggregator),
    /// COMMUNITIES, in the order received, duplicates kept.
    Communities(Vec<Community>),
    /// ORIGINATOR_ID.
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST.
    ClusterList(Vec<Ipv4Addr>),
    /// MP_REACH_NLRI (boxed: it is much larger than the other values).
    MpReach(Box<MpReach>),
    /// MP_UNREACH_NLRI.
    MpUnreach(MpUnreach),
    /// EXTENDED_COMMUNITIES, in the order received.
    ExtendedCommunities(Vec<ExtendedCommunity>),
    /// AS4_PATH.
    As4Path(AsPath),
    /// AS4_AGGREGATOR.
    As4Aggregator(Aggregator),
    /// LARGE_COMMUNITY, in the order received, duplicates kept.
    LargeCommunities(Vec<LargeCommunity>),
    /// OTC: Only to Customer (RFC 9234).
    Otc(u32),
    /// An attribute this codec does not interpret, as raw bytes.
    Unknown {
        /// Its type code.
        code: u8,
        /// Its value.
        value: Vec<u8>,
    },
}

impl AttributeValue {
    /// The type.
    pub fn kind(&self) -> AttrType {
        match self {
            AttributeValue::Origin(_) => AttrType::Origin,
            AttributeValue::AsPath(_) => AttrType::AsPath,
            AttributeValue::NextHop(_) => AttrType::NextHop,
            AttributeValue::MultiExitDisc(_) => AttrType::MultiExitDisc,
            AttributeValue::LocalPref(_) => AttrType::LocalPref,
            AttributeValue::AtomicAggregate => AttrType::AtomicAggregate,
            AttributeValue::Aggregator(_) => AttrType::Aggregator,
            AttributeValue::Communities(_) => AttrType::Communities,
            AttributeValue::OriginatorId(_) => AttrType::OriginatorId,
            AttributeValue::ClusterList(_) => AttrType::ClusterList,
            AttributeValue::MpReach(_) => AttrType::MpReachNlri,
            AttributeValue::MpUnreach(_) => AttrType::MpUnreachNlri,
            AttributeValue::ExtendedCommunities(_) => AttrType::ExtendedCommunities,
            AttributeValue::As4Path(_) => AttrType::As4Path,
            AttributeValue::As4Aggregator(_) => AttrType::As4Aggregator,
            AttributeValue::LargeCommunities(_) => AttrType::LargeCommunities,
            AttributeValue::Otc(_) => AttrType::Otc,
            AttributeValue::Unknown { code, .. } => AttrType::Unknown(*code),
        }
    }
}

/// One path attribute: its flags as sent and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// The flags octet (see [`flags`]). The Extended Length bit is honoured when
    /// encoding and set automatically when the value needs it.
    pub flags: u8,
    /// The value.
    pub value: AttributeValue,
}

impl Attribute {
    /// An attribute with the flags its type calls for (for an unknown type: optional
    /// transitive).
    pub fn new(value: AttributeValue) -> Attribute {
        let flags = value
            .kind()
            .category_flags()
            .unwrap_or(flags::OPTIONAL | flags::TRANSITIVE);
        Attribute { flags, value }
    }

    /// The type.
    pub fn kind(&self) -> AttrType {
        self.value.kind()
    }

    /// What to pass on to other peers (RFC 4271 §5): an unknown optional transitive
    /// attribute goes on with the Partial bit set, an unknown optional non-transitive
    /// one is dropped (`None`), any other attribute goes on unchanged.
    pub fn forwarded(&self) -> Option<Attribute> {
        match self.value {
            AttributeValue::Unknown { .. } if self.flags & flags::TRANSITIVE == 0 => None,
            AttributeValue::Unknown { .. } => Some(Attribute {
                flags: self.flags | flags::PARTIAL,
                value: self.value.clone(),
            }),
            _ => Some(self.clone()),
        }
    }

    /// Appends the attribute: flags, type, length and value.
    pub(crate) fn encode(
        &self,
        ctx: &SessionContext,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let header_at = out.len();
        let extended = self.flags & flags::EXTENDED_LENGTH != 0;
        out.extend_from_slice(&[self.flags, self.kind().into(), 0]);
        if extended {
            out.push(0);
        }
        let value_at = out.len();
        encode_value(&self.value, ctx, out)?;
        let len = out.len() - value_at;
        let len16 = u16::try_from(len).map_err(|_| EncodeError::TooLong {
            what: "path attribute",
            len,
            max: usize::from(u16::MAX),
        })?;
        if !extended && len > 255 {
            // Rare: the value outgrew one length octet; switch to the extended form.
            out.insert(header_at + 3, 0);
            out[header_at] |= flags::EXTENDED_LENGTH;
        }
        if extended || len > 255 {
            out[header_at + 2..header_at + 4].copy_from_slice(&len16.to_be_bytes());
        } else {
            out[header_at + 2] = len16 as u8;
        }
        Ok(())
    }
}

/// Why an attribute's value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// The length is wrong for the type.
    Length,
    /// The value is undefined or inconsistent.
    Value,
    /// The NLRI of MP_REACH/MP_UNREACH could not be parsed.
    Nlri,
}

fn u32_at(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn ipv4_at(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn ipv6_at(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

/// Memory of decoded attributes kept for the next message, so that a stream of
/// UPDATEs decodes without allocating once warmed up. Each pool is bounded.
#[derive(Debug, Default)]
pub(crate) struct Spare {
    paths: Vec<AsPath>,
    communities: Vec<Vec<Community>>,
    large: Vec<Vec<LargeCommunity>>,
    // The boxes themselves are what is reused: MP_REACH_NLRI values are boxed.
    #[allow(clippy::vec_box)]
    reach: Vec<Box<MpReach>>,
    nlri: Vec<Vec<Nlri>>,
}

/// How many spare buffers of each kind are kept.
const SPARE_LIMIT: usize = 8;

fn keep<T>(pool: &mut Vec<T>, item: T) {
    if pool.len() < SPARE_LIMIT {
        pool.push(item);
    }
}

impl Spare {
    /// Takes back the buffers of a value that is no longer needed.
    pub(crate) fn recycle(&mut self, value: AttributeValue) {
        match value {
            AttributeValue::AsPath(p) | AttributeValue::As4Path(p) => keep(&mut self.paths, p),
            AttributeValue::Communities(mut c) => {
                c.clear();
                keep(&mut self.communities, c);
            }
            AttributeValue::LargeCommunities(mut c) => {
                c.clear();
                keep(&mut self.large, c);
            }
            AttributeValue::MpReach(r) => keep(&mut self.reach, r),
            AttributeValue::MpUnreach(MpUnreach {
                withdrawn: MpNlri::Prefixes(mut v),
                ..
            }) => {
                v.clear();
                keep(&mut self.nlri, v);
            }
            _ => {}
        }
    }

    fn nlri_vec(&mut self, capacity: usize) -> Vec<Nlri> {
        self.nlri
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(capacity))
    }
}

/// Decodes the value of an attribute of type `code`, taking buffers from `spare`.
pub(crate) fn decode_value(
    code: u8,
    value: &[u8],
    ctx: &SessionContext,
    spare: &mut Spare,
) -> Result<AttributeValue, Malformed> {
    use AttributeValue as V;
    let len = value.len();
    let exact = |n: usize| {
        if len == n {
            Ok(())
        } else {
            Err(Malformed::Length)
        }
    };
    let multiple = |n: usize| {
        if len > 0 && len.is_multiple_of(n) {
            Ok(())
        } else {
            Err(Malformed::Length)
        }
    };
    Ok(match AttrType::from(code) {
        AttrType::Origin => {
            exact(1)?;
            V::Origin(match value[0] {
                0 => Origin::Igp,
                1 => Origin::Egp,
                2 => Origin::Incomplete,
                _ => return Err(Malformed::Value),
            })
        }
        AttrType::AsPath => {
            let path = spare.paths.pop().unwrap_or_default();
            let as_len = if ctx.four_octet_as { 4 } else { 2 };
            V::AsPath(AsPath::decode_into(value, as_len, path).ok_or(Malformed::Value)?)
        }
        AttrType::NextHop => {
            exact(4)?;
            V::NextHop(ipv4_at(value))
        }
        AttrType::MultiExitDisc => {
            exact(4)?;
            V::MultiExitDisc(u32_at(value))
        }
        AttrType::LocalPref => {
            exact(4)?;
            V::LocalPref(u32_at(value))
        }
        AttrType::AtomicAggregate => {
            exact(0)?;
            V::AtomicAggregate
        }
        AttrType::Aggregator => V::Aggregator(if ctx.four_octet_as {
            exact(8)?;
            Aggregator {
                asn: u32_at(value),
                addr: ipv4_at(&value[4..]),
            }
        } else {
            exact(6)?;
            Aggregator {
                asn: u32::from(u16::from_be_bytes([value[0], value[1]])),
                addr: ipv4_at(&value[2..]),
            }
        }),
        AttrType::Communities => {
            multiple(4)?;
            let mut list = spare.communities.pop().unwrap_or_default();
            list.extend(value.chunks_exact(4).map(|c| Community(u32_at(c))));
            V::Communities(list)
        }
        AttrType::OriginatorId => {
            exact(4)?;
            V::OriginatorId(ipv4_at(value))
        }
        AttrType::ClusterList => {
            multiple(4)?;
            V::ClusterList(value.chunks_exact(4).map(ipv4_at).collect())
        }
        AttrType::MpReachNlri => V::MpReach(decode_mp_reach(value, ctx, spare)?),
        AttrType::MpUnreachNlri => V::MpUnreach(decode_mp_unreach(value, ctx, spare)?),
        AttrType::ExtendedCommunities => {
            multiple(8)?;
            V::ExtendedCommunities(
                value
                    .chunks_exact(8)
                    .map(|c| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(c);
                        ExtendedCommunity(b)
                    })
                    .collect(),
            )
        }
        AttrType::As4Path => {
            let path = spare.paths.pop().unwrap_or_default();
            V::As4Path(AsPath::decode_into(value, 4, path).ok_or(Malformed::Value)?)
        }
        AttrType::As4Aggregator => {
            exact(8)?;
            V::As4Aggregator(Aggregator {
                asn: u32_at(value),
                addr: ipv4_at(&value[4..]),
            })
        }
        AttrType::LargeCommunities => {
            multiple(12)?;
            let mut list = spare.large.pop().unwrap_or_default();
            list.extend(value.chunks_exact(12).map(|c| LargeCommunity {
                global: u32_at(c),
                local1: u32_at(&c[4..]),
                local2: u32_at(&c[8..]),
            }));
            V::LargeCommunities(list)
        }
        AttrType::Otc => {
            exact(4)?;
            V::Otc(u32_at(value))
        }
        AttrType::Unknown(code) => V::Unknown {
            code,
            value: value.to_vec(),
        },
    })
}

fn family_at(b: &[u8]) -> Family {
    Family::new(
        Afi::from(u16::from_be_bytes([b[0], b[1]])),
        Safi::from(b[2]),
    )
}

fn decode_mp_nlri(
    bytes: &[u8],
    family: Family,
    ctx: &SessionContext,
    mut out: Vec<Nlri>,
) -> Result<MpNlri, Malformed> {
    if !parses_prefixes(family) {
        return Ok(MpNlri::Raw(bytes.to_vec()));
    }
    out.clear();
    decode_nlri(bytes, family.afi, ctx.receives_path_id(family), &mut out).map_err(
        |e| match e {
            NlriError::BadLength(_) | NlriError::Overrun | NlriError::UnknownFamily => {
                Malformed::Nlri
            }
        },
    )?;
    Ok(MpNlri::Prefixes(out))
}

fn decode_mp_reach(
    value: &[u8],
    ctx: &SessionContext,
    spare: &mut Spare,
) -> Result<Box<MpReach>, Malformed> {
    let [a0, a1, safi, nh_len, rest @ ..] = value else {
        return Err(Malformed::Length);
    };
    let family = family_at(&[*a0, *a1, *safi]);
    let nh_len = usize::from(*nh_len);
    let nh = rest.get(..nh_len).ok_or(Malformed::Length)?;
    let (&reserved, nlri) = rest[nh_len..].split_first().ok_or(Malformed::Length)?;
    let next_hop = if parses_prefixes(family) {
        match nh_len {
            4 => NextHop::V4(ipv4_at(nh)),
            16 => NextHop::V6 {
                global: ipv6_at(nh),
                link_local: None,
            },
            32 => NextHop::V6 {
                global: ipv6_at(nh),
                link_local: Some(ipv6_at(&nh[16..])),
            },
            _ => return Err(Malformed::Value),
        }
    } else {
        NextHop::Other(nh.to_vec())
    };
    if family.afi == Afi::Ipv6 && matches!(next_hop, NextHop::V4(_)) {
        return Err(Malformed::Value);
    }
    // Reuse a spare box and its prefix list.
    let reach = match spare.reach.pop() {
        Some(mut b) => {
            let list = match std::mem::replace(&mut b.nlri, MpNlri::Raw(Vec::new())) {
                MpNlri::Prefixes(v) => v,
                MpNlri::Raw(_) => spare.nlri_vec(nlri.len() / 4),
            };
            b.family = family;
            b.next_hop = next_hop;
            b.reserved = reserved;
            b.nlri = decode_mp_nlri(nlri, family, ctx, list)?;
            b
        }
        None => {
            let list = spare.nlri_vec(nlri.len() / 4);
            Box::new(MpReach {
                family,
                next_hop,
                reserved,
                nlri: decode_mp_nlri(nlri, family, ctx, list)?,
            })
        }
    };
    Ok(reach)
}

fn decode_mp_unreach(
    value: &[u8],
    ctx: &SessionContext,
    spare: &mut Spare,
) -> Result<MpUnreach, Malformed> {
    let [a0, a1, safi, rest @ ..] = value else {
        return Err(Malformed::Length);
    };
    let family = family_at(&[*a0, *a1, *safi]);
    Ok(MpUnreach {
        family,
        withdrawn: decode_mp_nlri(rest, family, ctx, spare.nlri_vec(rest.len() / 4))?,
    })
}

fn encode_mp_nlri(
    nlri: &MpNlri,
    family: Family,
    ctx: &SessionContext,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    match nlri {
        MpNlri::Prefixes(p) => encode_nlri(p, family.afi, ctx.sends_path_id(family), out),
        MpNlri::Raw(r) => {
            out.extend_from_slice(r);
            Ok(())
        }
    }
}

fn encode_value(
    value: &AttributeValue,
    ctx: &SessionContext,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    use AttributeValue as V;
    match value {
        V::Origin(o) => out.push(match o {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }),
        V::AsPath(p) => p.encode(ctx.four_octet_as, out)?,
        V::As4Path(p) => p.encode(true, out)?,
        V::NextHop(a) | V::OriginatorId(a) => out.extend_from_slice(&a.octets()),
        V::MultiExitDisc(v) | V::LocalPref(v) | V::Otc(v) => {
            out.extend_from_slice(&v.to_be_bytes())
        }
        V::AtomicAggregate => {}
        V::Aggregator(a) => {
            if ctx.four_octet_as {
                out.extend_from_slice(&a.asn.to_be_bytes());
            } else {
                let two = u16::try_from(a.asn).map_err(|_| EncodeError::Invalid {
                    what: "AGGREGATOR",
                    detail: format!(
                        "AS {} on a 2-octet session (use AS_TRANS and AS4_AGGREGATOR)",
                        a.asn
                    ),
                })?;
                out.extend_from_slice(&two.to_be_bytes());
            }
            out.extend_from_slice(&a.addr.octets());
        }
        V::As4Aggregator(a) => {
            out.extend_from_slice(&a.asn.to_be_bytes());
            out.extend_from_slice(&a.addr.octets());
        }
        V::Communities(c) => c
            .iter()
            .for_each(|c| out.extend_from_slice(&c.0.to_be_bytes())),
        V::ClusterList(c) => c.iter().for_each(|a| out.extend_from_slice(&a.octets())),
        V::ExtendedCommunities(c) => c.iter().for_each(|c| out.extend_from_slice(&c.0)),
        V::LargeCommunities(c) => c.iter().for_each(|c| {
            out.extend_from_slice(&c.global.to_be_bytes());
            out.extend_from_slice(&c.local1.to_be_bytes());
            out.extend_from_slice(&c.local2.to_be_bytes());
        }),
        V::MpReach(mp) => {
            out.extend_from_slice(&u16::from(mp.family.afi).to_be_bytes());
            out.push(mp.family.safi.into());
            let nh_len =
                u8::try_from(mp.next_hop.wire_len()).map_err(|_| EncodeError::TooLong {
                    what: "MP_REACH_NLRI next hop",
                    len: mp.next_hop.wire_len(),
                    max: 255,
                })?;
            out.push(nh_len);
            match &mp.next_hop {
                NextHop::V4(a) => out.extend_from_slice(&a.octets()),
                NextHop::V6 { global, link_local } => {
                    out.extend_from_slice(&global.octets());
                    if let Some(ll) = link_local {
                        out.extend_from_slice(&ll.octets());
                    }
                }
                NextHop::Other(bytes) => out.extend_from_slice(bytes),
            }
            out.push(mp.reserved);
            encode_mp_nlri(&mp.nlri, mp.family, ctx, out)?;
        }
        V::MpUnreach(mp) => {
            out.extend_from_slice(&u16::from(mp.family.afi).to_be_bytes());
            out.push(mp.family.safi.into());
            encode_mp_nlri(&mp.withdrawn, mp.family, ctx, out)?;
        }
        V::Unknown { value, .. } => out.extend_from_slice(value),
    }
    Ok(())
}
