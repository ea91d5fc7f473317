//! UPDATE (RFC 4271 §4.3, RFC 4760, RFC 7911) with the revised error handling of
//! RFC 7606.
//!
//! Decoding sorts every problem into one of the three RFC 7606 approaches:
//! - **session reset**: [`Update::decode`] fails with an [`UpdateError`] that names the
//!   NOTIFICATION to send (inconsistent lengths, unparsable NLRI, a malformed or
//!   repeated MP_REACH_NLRI / MP_UNREACH_NLRI, an unrecognised well-known attribute);
//! - **treat-as-withdraw** and **attribute discard**: decoding succeeds, the offending
//!   attribute is left out of [`Update::attributes`] and an [`UpdateIssue`] records
//!   what was wrong and which approach applies. When any issue calls for
//!   treat-as-withdraw, [`Update::treat_as_withdraw`] is true and every route the
//!   message announces must be handled as withdrawn ([`Update::withdrawn_routes`] does
//!   that).

use std::net::Ipv4Addr;

use crate::attribute::{
    Aggregator, AsPath, AttrType, Attribute, AttributeValue, Community, Malformed, MpNlri, MpReach,
    MpUnreach, Origin, Spare, decode_value, flags,
};
use crate::context::{Family, SessionContext};
use crate::notification::{ErrorCode, Notification, UpdateSubcode};
use crate::prefix::{Nlri, decode_nlri, encode_nlri};
use crate::{Afi, EncodeError};

/// The RFC 7606 approach for an error that does not reset the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    /// The attribute is dropped and the message processed without it.
    AttributeDiscard,
    /// Every route the message announces is handled as withdrawn.
    TreatAsWithdraw,
}

/// What was wrong with an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// The length is wrong for the type.
    Length,
    /// The value is undefined, inconsistent or semantically invalid.
    Value,
    /// The Optional or Transitive flag contradicts the type.
    Flags,
    /// A second occurrence of the attribute (only the first is kept).
    Duplicate,
    /// A mandatory well-known attribute is missing.
    Missing,
    /// The attribute's length runs past the end of the attribute list, or a partial
    /// attribute header ends it; the rest of the list is not parsed.
    ListOverrun,
    /// An attribute that must not come on this session (AS4_PATH or AS4_AGGREGATOR
    /// from a 4-octet speaker, RFC 6793 §3).
    Unexpected,
}

/// One non-fatal RFC 7606 finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpdateIssue {
    /// The attribute concerned.
    pub attribute: AttrType,
    /// What was wrong.
    pub problem: Problem,
    /// The approach that applies.
    pub disposition: Disposition,
    /// The attribute as received (flags, type, length, value); empty when missing.
    pub raw: Vec<u8>,
}

/// An UPDATE that resets the session. [`UpdateError::notification`] is the
/// NOTIFICATION to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// Withdrawn Routes Length + Total Path Attribute Length exceed the message.
    #[error(
        "withdrawn routes length {withdrawn} and path attribute length {attributes} exceed the {body}-byte body"
    )]
    Lengths {
        /// The Withdrawn Routes Length.
        withdrawn: usize,
        /// The Total Path Attribute Length.
        attributes: usize,
        /// The body length.
        body: usize,
    },
    /// The Withdrawn Routes or NLRI field cannot be parsed.
    #[error("the {field} field cannot be parsed")]
    InvalidNetworkField {
        /// `"withdrawn routes"` or `"NLRI"`.
        field: &'static str,
    },
    /// MP_REACH_NLRI or MP_UNREACH_NLRI appears twice.
    #[error("{attribute:?} appears more than once")]
    DuplicateMp {
        /// Which one.
        attribute: AttrType,
    },
    /// MP_REACH_NLRI or MP_UNREACH_NLRI is malformed (RFC 7606 §7.11, §7.12).
    #[error("malformed {attribute:?}")]
    MalformedMp {
        /// Which one.
        attribute: AttrType,
        /// The attribute as received.
        raw: Vec<u8>,
    },
    /// A well-known attribute this codec does not recognise.
    #[error("unrecognized well-known attribute {code}")]
    UnrecognizedWellKnown {
        /// Its type code.
        code: u8,
        /// The attribute as received.
        raw: Vec<u8>,
    },
}

impl UpdateError {
    /// The NOTIFICATION to send before closing the session.
    pub fn notification(&self) -> Notification {
        let (subcode, data) = match self {
            UpdateError::Lengths { .. } | UpdateError::DuplicateMp { .. } => {
                (UpdateSubcode::MalformedAttributeList, Vec::new())
            }
            UpdateError::InvalidNetworkField { .. } => {
                (UpdateSubcode::InvalidNetworkField, Vec::new())
            }
            UpdateError::MalformedMp { raw, .. } => {
                (UpdateSubcode::OptionalAttributeError, raw.clone())
            }
            UpdateError::UnrecognizedWellKnown { raw, .. } => {
                (UpdateSubcode::UnrecognizedWellKnownAttribute, raw.clone())
            }
        };
        Notification::new(ErrorCode::Update(subcode), data)
    }
}

/// An UPDATE message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// The IPv4 unicast routes withdrawn in the Withdrawn Routes field.
    pub withdrawn: Vec<Nlri>,
    /// The path attributes that were understood, in the order received (MP_REACH_NLRI
    /// and MP_UNREACH_NLRI included).
    pub attributes: Vec<Attribute>,
    /// The IPv4 unicast routes announced in the NLRI field.
    pub nlri: Vec<Nlri>,
    /// RFC 7606 findings of decoding; never encoded. Empty for a clean message.
    pub issues: Vec<UpdateIssue>,
}

/// RFC 7606 disposition of a malformed attribute of type `t`; `None` means session
/// reset.
fn disposition_of(t: AttrType) -> Option<Disposition> {
    match t {
        AttrType::MpReachNlri | AttrType::MpUnreachNlri => None,
        AttrType::AtomicAggregate
        | AttrType::Aggregator
        | AttrType::As4Path
        | AttrType::As4Aggregator => Some(Disposition::AttributeDiscard),
        _ => Some(Disposition::TreatAsWithdraw),
    }
}

/// RFC 7606 §7.2 on an external session: no confederation segments, and (when
/// enforced) the peer's AS first. An empty path (a route the peer originated with no
/// AS, as a route server's client may see) has no first AS to check.
fn external_path_ok(path: &AsPath, peer: crate::context::ExternalPeer) -> bool {
    use crate::attribute::SegmentType;
    let confed = path
        .segments
        .iter()
        .any(|s| matches!(s.kind, SegmentType::ConfedSequence | SegmentType::ConfedSet));
    let first_ok =
        !peer.enforce_first_as || path.segments.is_empty() || path.first_as() == Some(peer.asn);
    !confed && first_ok
}

/// Whether `a` can be a NEXT_HOP (RFC 4271 §6.3: a valid host address).
fn valid_next_hop(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast())
}

impl Update {
    /// The End-of-RIB marker for `family` (RFC 4724 §2): an empty UPDATE for IPv4
    /// unicast, an UPDATE with only an empty MP_UNREACH_NLRI otherwise.
    pub fn end_of_rib(family: Family) -> Update {
        if family == Family::IPV4_UNICAST {
            return Update::default();
        }
        Update {
            attributes: vec![Attribute::new(AttributeValue::MpUnreach(MpUnreach {
                family,
                withdrawn: MpNlri::Prefixes(Vec::new()),
            }))],
            ..Update::default()
        }
    }

    /// The family whose End-of-RIB this message is, if it is one.
    pub fn end_of_rib_family(&self) -> Option<Family> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() || !self.issues.is_empty() {
            return None;
        }
        match &self.attributes[..] {
            [] => Some(Family::IPV4_UNICAST),
            [
                Attribute {
                    value: AttributeValue::MpUnreach(mp),
                    ..
                },
            ] if mp.withdrawn.is_empty() => Some(mp.family),
            _ => None,
        }
    }

    /// Whether an RFC 7606 issue calls for treat-as-withdraw.
    pub fn treat_as_withdraw(&self) -> bool {
        self.issues
            .iter()
            .any(|i| i.disposition == Disposition::TreatAsWithdraw)
    }

    /// The value of the first attribute of type `t`.
    pub fn attribute(&self, t: AttrType) -> Option<&AttributeValue> {
        self.attributes
            .iter()
            .find(|a| a.kind() == t)
            .map(|a| &a.value)
    }

    /// ORIGIN.
    pub fn origin(&self) -> Option<Origin> {
        match self.attribute(AttrType::Origin)? {
            AttributeValue::Origin(o) => Some(*o),
            _ => None,
        }
    }

    /// AS_PATH as received.
    pub fn as_path(&self) -> Option<&AsPath> {
        match self.attribute(AttrType::AsPath)? {
            AttributeValue::AsPath(p) => Some(p),
            _ => None,
        }
    }

    /// NEXT_HOP.
    pub fn next_hop(&self) -> Option<Ipv4Addr> {
        match self.attribute(AttrType::NextHop)? {
            AttributeValue::NextHop(a) => Some(*a),
            _ => None,
        }
    }

    /// COMMUNITIES, in the order received (empty when absent).
    pub fn communities(&self) -> &[Community] {
        match self.attribute(AttrType::Communities) {
            Some(AttributeValue::Communities(c)) => c,
            _ => &[],
        }
    }

    /// MP_REACH_NLRI.
    pub fn mp_reach(&self) -> Option<&MpReach> {
        match self.attribute(AttrType::MpReachNlri)? {
            AttributeValue::MpReach(m) => Some(m),
            _ => None,
        }
    }

    /// MP_UNREACH_NLRI.
    pub fn mp_unreach(&self) -> Option<&MpUnreach> {
        match self.attribute(AttrType::MpUnreachNlri)? {
            AttributeValue::MpUnreach(m) => Some(m),
            _ => None,
        }
    }

    /// The AS path to use: on a 4-octet session AS_PATH as received; from a 2-octet
    /// peer AS_PATH merged with AS4_PATH (RFC 6793 §4.2.3), unless AGGREGATOR names an
    /// AS other than AS_TRANS, in which case AS4_PATH is ignored.
    pub fn effective_as_path(&self, ctx: &SessionContext) -> Option<AsPath> {
        let path = self.as_path()?;
        if ctx.four_octet_as {
            return Some(path.clone());
        }
        let aggregator_is_real = matches!(
            self.attribute(AttrType::Aggregator),
            Some(AttributeValue::Aggregator(a)) if a.asn != crate::attribute::AS_TRANS
        );
        match self.attribute(AttrType::As4Path) {
            Some(AttributeValue::As4Path(as4)) if !aggregator_is_real => {
                Some(AsPath::merge_as4(path, as4))
            }
            _ => Some(path.clone()),
        }
    }

    /// The aggregator to use: AS4_AGGREGATOR when a 2-octet peer sent AGGREGATOR with
    /// AS_TRANS (RFC 6793 §4.2.3), AGGREGATOR otherwise.
    pub fn effective_aggregator(&self, ctx: &SessionContext) -> Option<Aggregator> {
        let AttributeValue::Aggregator(agg) = self.attribute(AttrType::Aggregator)? else {
            return None;
        };
        if !ctx.four_octet_as
            && agg.asn == crate::attribute::AS_TRANS
            && let Some(AttributeValue::As4Aggregator(as4)) =
                self.attribute(AttrType::As4Aggregator)
        {
            return Some(*as4);
        }
        Some(*agg)
    }

    /// Every route this message announces, with its family.
    pub fn announced_routes(&self) -> impl Iterator<Item = (Family, &Nlri)> + '_ {
        let v4 = self.nlri.iter().map(|n| (Family::IPV4_UNICAST, n));
        let mp = self
            .mp_reach()
            .into_iter()
            .flat_map(|m| m.nlri.prefixes().iter().map(move |n| (m.family, n)));
        v4.chain(mp)
    }

    /// Every route this message withdraws, with its family; under treat-as-withdraw
    /// the announced routes too.
    pub fn withdrawn_routes(&self) -> impl Iterator<Item = (Family, &Nlri)> + '_ {
        let v4 = self.withdrawn.iter().map(|n| (Family::IPV4_UNICAST, n));
        let mp = self
            .mp_unreach()
            .into_iter()
            .flat_map(|m| m.withdrawn.prefixes().iter().map(move |n| (m.family, n)));
        let taw = self
            .treat_as_withdraw()
            .then(|| self.announced_routes())
            .into_iter()
            .flatten();
        v4.chain(mp).chain(taw)
    }

    /// Decodes an UPDATE body (the bytes after the 19-byte header). To decode many,
    /// [`UpdateDecoder`] reuses the memory of the previous one.
    pub fn decode(body: &[u8], ctx: &SessionContext) -> Result<Update, UpdateError> {
        let mut update = Update::default();
        update.decode_into(body, ctx, &mut Spare::default())?;
        Ok(update)
    }

    /// Decodes `body` into `self`, whose buffers are reused; `spare` takes the old
    /// attribute values' buffers and lends them to the new ones.
    fn decode_into(
        &mut self,
        body: &[u8],
        ctx: &SessionContext,
        spare: &mut Spare,
    ) -> Result<(), UpdateError> {
        for attribute in self.attributes.drain(..) {
            spare.recycle(attribute.value);
        }
        self.withdrawn.clear();
        self.nlri.clear();
        self.issues.clear();
        let lengths_error = |withdrawn, attributes| UpdateError::Lengths {
            withdrawn,
            attributes,
            body: body.len(),
        };
        let [w0, w1, rest @ ..] = body else {
            return Err(lengths_error(0, 0));
        };
        let wlen = usize::from(u16::from_be_bytes([*w0, *w1]));
        let (withdrawn_bytes, rest) = rest.split_at_checked(wlen).ok_or(lengths_error(wlen, 0))?;
        let [a0, a1, rest @ ..] = rest else {
            return Err(lengths_error(wlen, 0));
        };
        let alen = usize::from(u16::from_be_bytes([*a0, *a1]));
        let (attr_bytes, nlri_bytes) = rest
            .split_at_checked(alen)
            .ok_or(lengths_error(wlen, alen))?;

        let v4_add_path = ctx.receives_path_id(Family::IPV4_UNICAST);
        self.withdrawn.reserve(withdrawn_bytes.len() / 4);
        self.nlri.reserve(nlri_bytes.len() / 4);
        decode_nlri(withdrawn_bytes, Afi::Ipv4, v4_add_path, &mut self.withdrawn).map_err(
            |_| UpdateError::InvalidNetworkField {
                field: "withdrawn routes",
            },
        )?;
        decode_nlri(nlri_bytes, Afi::Ipv4, v4_add_path, &mut self.nlri)
            .map_err(|_| UpdateError::InvalidNetworkField { field: "NLRI" })?;
        let seen = self.decode_attributes(attr_bytes, ctx, spare)?;
        self.check_mandatory(&seen);
        Ok(())
    }

    fn issue(
        &mut self,
        attribute: AttrType,
        problem: Problem,
        disposition: Disposition,
        raw: &[u8],
    ) {
        self.issues.push(UpdateIssue {
            attribute,
            problem,
            disposition,
            raw: raw.to_vec(),
        });
    }

    /// Decodes the path attributes; returns the set of type codes seen (as a bitmap).
    fn decode_attributes(
        &mut self,
        mut bytes: &[u8],
        ctx: &SessionContext,
        spare: &mut Spare,
    ) -> Result<[u64; 4], UpdateError> {
        let mut seen = [0u64; 4];
        while !bytes.is_empty() {
            let (flag_bits, code) = match bytes {
                [f, c, ..] => (*f, *c),
                _ => {
                    self.issue(
                        AttrType::Unknown(0),
                        Problem::ListOverrun,
                        Disposition::TreatAsWithdraw,
                        bytes,
                    );
                    break;
                }
            };
            let kind = AttrType::from(code);
            let header = if flag_bits & flags::EXTENDED_LENGTH != 0 {
                4
            } else {
                3
            };
            let len = match (header, &bytes[2..]) {
                (3, [l, ..]) => usize::from(*l),
                (4, [l0, l1, ..]) => usize::from(u16::from_be_bytes([*l0, *l1])),
                // An MP attribute cut short: its NLRI cannot be located (RFC 7606 §5.3).
                _ if disposition_of(kind).is_none() => {
                    return Err(UpdateError::MalformedMp {
                        attribute: kind,
                        raw: bytes.to_vec(),
                    });
                }
                _ => {
                    self.issue(
                        kind,
                        Problem::ListOverrun,
                        Disposition::TreatAsWithdraw,
                        bytes,
                    );
                    break;
                }
            };
            let Some(raw) = bytes.get(..header + len) else {
                if disposition_of(kind).is_none() {
                    return Err(UpdateError::MalformedMp {
                        attribute: kind,
                        raw: bytes.to_vec(),
                    });
                }
                self.issue(
                    kind,
                    Problem::ListOverrun,
                    Disposition::TreatAsWithdraw,
                    bytes,
                );
                break;
            };
            bytes = &bytes[header + len..];
            let value = &raw[header..];

            let bit = 1u64 << (code % 64);
            if seen[usize::from(code / 64)] & bit != 0 {
                if disposition_of(kind).is_none() {
                    return Err(UpdateError::DuplicateMp { attribute: kind });
                }
                self.issue(kind, Problem::Duplicate, Disposition::AttributeDiscard, raw);
                continue;
            }
            seen[usize::from(code / 64)] |= bit;

            let category = kind.category_flags();
            if category.is_none() && flag_bits & flags::OPTIONAL == 0 {
                return Err(UpdateError::UnrecognizedWellKnown {
                    code,
                    raw: raw.to_vec(),
                });
            }
            if let Some(expected) = category
                && flag_bits & (flags::OPTIONAL | flags::TRANSITIVE) != expected
            {
                match disposition_of(kind) {
                    None => {
                        return Err(UpdateError::MalformedMp {
                            attribute: kind,
                            raw: raw.to_vec(),
                        });
                    }
                    Some(d) => self.issue(kind, Problem::Flags, d, raw),
                }
                continue;
            }
            if ctx.four_octet_as && matches!(kind, AttrType::As4Path | AttrType::As4Aggregator) {
                self.issue(
                    kind,
                    Problem::Unexpected,
                    Disposition::AttributeDiscard,
                    raw,
                );
                continue;
            }
            match decode_value(code, value, ctx, spare) {
                Ok(AttributeValue::NextHop(hop))
                    if !self.nlri.is_empty() && !valid_next_hop(hop) =>
                {
                    self.issue(kind, Problem::Value, Disposition::TreatAsWithdraw, raw);
                }
                Ok(AttributeValue::LocalPref(_)) if ctx.external.is_some() => {
                    self.issue(
                        kind,
                        Problem::Unexpected,
                        Disposition::AttributeDiscard,
                        raw,
                    );
                }
                Ok(AttributeValue::AsPath(path))
                    if ctx
                        .external
                        .is_some_and(|peer| !external_path_ok(&path, peer)) =>
                {
                    self.issue(kind, Problem::Value, Disposition::TreatAsWithdraw, raw);
                }
                Ok(value) => self.attributes.push(Attribute {
                    flags: flag_bits,
                    value,
                }),
                Err(malformed) => match disposition_of(kind) {
                    None => {
                        return Err(UpdateError::MalformedMp {
                            attribute: kind,
                            raw: raw.to_vec(),
                        });
                    }
                    Some(d) => {
                        let problem = match malformed {
                            Malformed::Length => Problem::Length,
                            Malformed::Value | Malformed::Nlri => Problem::Value,
                        };
                        self.issue(kind, problem, d, raw);
                    }
                },
            }
        }
        Ok(seen)
    }

    /// RFC 7606 §3 (d): a missing well-known mandatory attribute means
    /// treat-as-withdraw. Only messages that announce routes need them; NEXT_HOP only
    /// for routes in the NLRI field (RFC 4760 §3).
    fn check_mandatory(&mut self, seen: &[u64; 4]) {
        let announces_mp = self.mp_reach().is_some_and(|m| !m.nlri.is_empty());
        if self.nlri.is_empty() && !announces_mp {
            return;
        }
        // Present, or present but rejected (its issue already says what applies).
        let has = |u: &Update, t: AttrType| {
            let code = u8::from(t);
            seen[usize::from(code / 64)] & (1u64 << (code % 64)) != 0
                || u.issues.iter().any(|i| i.attribute == t)
        };
        const WITH_NEXT_HOP: &[AttrType] = &[AttrType::Origin, AttrType::AsPath, AttrType::NextHop];
        let required = if self.nlri.is_empty() {
            &WITH_NEXT_HOP[..2]
        } else {
            WITH_NEXT_HOP
        };
        for &t in required {
            if !has(self, t) {
                self.issue(t, Problem::Missing, Disposition::TreatAsWithdraw, &[]);
            }
        }
    }

    /// The body's encoded length would be checked by the caller; appends the body.
    pub(crate) fn encode_body(
        &self,
        ctx: &SessionContext,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let add_path = ctx.sends_path_id(Family::IPV4_UNICAST);
        let start = out.len();
        out.extend_from_slice(&[0, 0]);
        encode_nlri(&self.withdrawn, Afi::Ipv4, add_path, out)?;
        let wlen = out.len() - start - 2;
        let wlen16 = u16::try_from(wlen).map_err(|_| EncodeError::TooLong {
            what: "withdrawn routes",
            len: wlen,
            max: usize::from(u16::MAX),
        })?;
        out[start..start + 2].copy_from_slice(&wlen16.to_be_bytes());
        let attr_start = out.len();
        out.extend_from_slice(&[0, 0]);
        for attribute in &self.attributes {
            attribute.encode(ctx, out)?;
        }
        let alen = out.len() - attr_start - 2;
        let alen16 = u16::try_from(alen).map_err(|_| EncodeError::TooLong {
            what: "path attributes",
            len: alen,
            max: usize::from(u16::MAX),
        })?;
        out[attr_start..attr_start + 2].copy_from_slice(&alen16.to_be_bytes());
        encode_nlri(&self.nlri, Afi::Ipv4, add_path, out)
    }
}

/// Decodes UPDATE bodies one after another into the same [`Update`], reusing its memory
/// and that of its attributes: once warmed up, a stream of UPDATEs decodes without
/// allocating. Each call gives the complete decoded message, as [`Update::decode`] does.
#[derive(Debug, Default)]
pub struct UpdateDecoder {
    update: Update,
    spare: Spare,
}

impl UpdateDecoder {
    /// A decoder with nothing to reuse yet.
    pub fn new() -> UpdateDecoder {
        UpdateDecoder::default()
    }

    /// Decodes an UPDATE body (the bytes after the 19-byte header); the result lives
    /// until the next call.
    pub fn decode(&mut self, body: &[u8], ctx: &SessionContext) -> Result<&Update, UpdateError> {
        self.update.decode_into(body, ctx, &mut self.spare)?;
        Ok(&self.update)
    }

    /// The last message decoded, moved out (the decoder starts afresh).
    pub fn take(&mut self) -> Update {
        std::mem::take(&mut self.update)
    }
}

#[cfg(test)]
mod tests;
