//! OPEN (RFC 4271 §4.2) with its optional parameters (RFC 5492), the extended optional
//! parameters length (RFC 9072), the semantic checks of RFC 4271 §6.2 and capability
//! negotiation.
//!
//! # Errors
//!
//! [`Open::decode`] only checks the structure:
//!
//! - a body shorter than the 10 fixed bytes is a Message Header Error / Bad Message
//!   Length (RFC 4271 §6.1: the length is below the OPEN minimum), data the message
//!   length;
//! - optional parameter lengths that overrun or do not add up to the message are an
//!   OPEN Message Error / 0 (Unspecific): RFC 4271 §6.2 makes every OPEN error an OPEN
//!   Message Error and has no subcode for this;
//! - a capability that changes the wire format with a value of the wrong length is an
//!   OPEN Message Error / 0 with the capability as data (see the `capability` module).
//!
//! [`Open::validate`] makes the semantic checks of RFC 4271 §6.2 that need nothing but
//! the message and the expected peer AS.

use std::net::Ipv4Addr;

use crate::capability::{
    AddPathEntry, AddPathMode, Capability, CapabilityCode, ExtendedNextHopEntry, GracefulRestart,
    Role,
};
use crate::context::{Family, SessionContext};
use crate::error::EncodeError;
use crate::message::HEADER_LEN;
use crate::notification::{ErrorCode, HeaderSubcode, Notification, OpenSubcode};

/// The BGP version this crate speaks.
pub const BGP_VERSION: u8 = 4;

/// [`AS_TRANS`](crate::AS_TRANS) as the 2-octet My Autonomous System field of a speaker
/// whose AS does not fit in 2 octets (RFC 6793 §9).
const AS_TRANS_16: u16 = 23_456;
const _: () = assert!(AS_TRANS_16 as u32 == crate::AS_TRANS);

/// The fixed part of the OPEN body: version, my AS, hold time, BGP identifier and the
/// optional parameters length.
const FIXED_LEN: usize = 10;

/// The Optional Parameter type that marks the RFC 9072 extended form, in the position of
/// the first parameter's type; also the Non-Ext OP Len sent with it.
const EXTENDED_MARKER: u8 = 255;

/// The Capabilities optional parameter type (RFC 5492 §4).
const CAPABILITIES: u8 = 2;

mod field {
    use core::ops::Range;
    pub(super) const VERSION: usize = 0;
    pub(super) const MY_AS: Range<usize> = 1..3;
    pub(super) const HOLD_TIME: Range<usize> = 3..5;
    pub(super) const BGP_ID: Range<usize> = 5..9;
    pub(super) const OPT_PARAM_LEN: usize = 9;
}

/// An OPEN message that cannot be decoded or is not acceptable. Every variant names the
/// NOTIFICATION to send: [`OpenError::notification`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The body is shorter than its 10 fixed bytes. Message Header Error / Bad Message
    /// Length, data the message length (RFC 4271 §6.1).
    #[error("OPEN body of {len} bytes is shorter than 10")]
    TooShort {
        /// The body's length.
        len: usize,
    },
    /// The optional parameters' lengths overrun the message or do not add up to it,
    /// or a Capabilities parameter's capabilities do not fill it. OPEN Message Error /
    /// Unspecific (RFC 4271 §6.2 has no more specific subcode).
    #[error("malformed optional parameters: {reason}")]
    OptionalParameters {
        /// What is wrong.
        reason: &'static str,
    },
    /// A capability that changes the session's wire format has a value of the wrong
    /// length. OPEN Message Error / Unspecific, data the capability (code, length,
    /// value).
    #[error("capability {code} has a malformed value of {} bytes", value.len())]
    MalformedCapability {
        /// The capability code.
        code: u8,
        /// Its value.
        value: Vec<u8>,
    },
    /// The version is not 4. OPEN Message Error / Unsupported Version Number, data the
    /// largest supported version (2 bytes: 4).
    #[error("unsupported BGP version {version}")]
    UnsupportedVersion {
        /// The version received.
        version: u8,
    },
    /// The peer's AS is not the one expected, or is 0 (RFC 7607) or AS_TRANS. OPEN
    /// Message Error / Bad Peer AS.
    #[error("unacceptable peer AS {received} (expected {expected:?})")]
    BadPeerAs {
        /// The peer's AS: the 4-octet AS capability's value if present, else My AS.
        received: u32,
        /// The AS expected, if any.
        expected: Option<u32>,
    },
    /// The hold time is 1 or 2 seconds. OPEN Message Error / Unacceptable Hold Time.
    #[error("unacceptable hold time {hold_time}")]
    UnacceptableHoldTime {
        /// The hold time received.
        hold_time: u16,
    },
    /// The BGP identifier is 0.0.0.0 (RFC 6286 §2.1). OPEN Message Error / Bad BGP
    /// Identifier.
    #[error("bad BGP identifier {bgp_id}")]
    BadBgpIdentifier {
        /// The identifier received.
        bgp_id: Ipv4Addr,
    },
    /// An optional parameter other than Capabilities. OPEN Message Error /
    /// Unsupported Optional Parameter.
    #[error("unsupported optional parameter type {kind}")]
    UnsupportedOptionalParameter {
        /// The parameter type.
        kind: u8,
    },
}

impl OpenError {
    /// The NOTIFICATION to send for this error.
    pub fn notification(&self) -> Notification {
        let open = ErrorCode::Open;
        match self {
            OpenError::TooShort { len } => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::BadMessageLength),
                u16::try_from(len.saturating_add(HEADER_LEN))
                    .unwrap_or(u16::MAX)
                    .to_be_bytes(),
            ),
            OpenError::OptionalParameters { .. } => {
                Notification::new(open(OpenSubcode::Unspecific), Vec::new())
            }
            OpenError::MalformedCapability { code, value } => {
                let mut data = Vec::with_capacity(2 + value.len());
                data.push(*code);
                data.push(u8::try_from(value.len()).unwrap_or(u8::MAX));
                data.extend_from_slice(value);
                Notification::new(open(OpenSubcode::Unspecific), data)
            }
            OpenError::UnsupportedVersion { .. } => Notification::new(
                open(OpenSubcode::UnsupportedVersionNumber),
                u16::from(BGP_VERSION).to_be_bytes(),
            ),
            OpenError::BadPeerAs { .. } => {
                Notification::new(open(OpenSubcode::BadPeerAs), Vec::new())
            }
            OpenError::UnacceptableHoldTime { .. } => {
                Notification::new(open(OpenSubcode::UnacceptableHoldTime), Vec::new())
            }
            OpenError::BadBgpIdentifier { .. } => {
                Notification::new(open(OpenSubcode::BadBgpIdentifier), Vec::new())
            }
            OpenError::UnsupportedOptionalParameter { .. } => {
                Notification::new(open(OpenSubcode::UnsupportedOptionalParameter), Vec::new())
            }
        }
    }
}

/// One optional parameter of an OPEN message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OptionalParameter {
    /// Type 2 (RFC 5492): one or more capabilities. A speaker may put all its
    /// capabilities in one parameter or each in its own; the grouping is kept.
    Capabilities(Vec<Capability>),
    /// Any other type (e.g. the deprecated authentication information, type 1), kept
    /// as raw bytes. Type 2 here is written as is; type 255 cannot be the first
    /// parameter of the non-extended form (it would read as the RFC 9072 marker).
    Unknown {
        /// The parameter type.
        kind: u8,
        /// The value.
        value: Vec<u8>,
    },
}

impl OptionalParameter {
    /// The parameter type.
    pub fn kind(&self) -> u8 {
        match self {
            OptionalParameter::Capabilities(_) => CAPABILITIES,
            OptionalParameter::Unknown { kind, .. } => *kind,
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            OptionalParameter::Capabilities(capabilities) => {
                for capability in capabilities {
                    capability.encode(out)?;
                }
            }
            OptionalParameter::Unknown { value, .. } => out.extend_from_slice(value),
        }
        Ok(())
    }
}

/// An OPEN message (RFC 4271 §4.2).
///
/// Decoding then encoding gives back the exact bytes: the grouping of capabilities
/// into parameters, unknown parameters and capabilities and the form of the parameters
/// length are all kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// The version (4).
    pub version: u8,
    /// The 2-octet My Autonomous System field: [`AS_TRANS`](crate::AS_TRANS) when the real AS, given by
    /// the 4-octet AS capability, does not fit (see [`Open::asn`]).
    pub my_as: u16,
    /// The proposed hold time in seconds (0, or at least 3).
    pub hold_time: u16,
    /// The BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// The optional parameters, in order.
    pub params: Vec<OptionalParameter>,
    /// Whether the parameters use the extended form of RFC 9072 (Non-Ext OP Len and
    /// Non-Ext OP Type of 255, a 2-byte total length and 2-byte parameter lengths).
    /// Encoding uses it when this is set or when the parameters need more than 255
    /// bytes, so an OPEN decoded from its own encoding may have it set where the
    /// original had not.
    pub extended_params: bool,
}

impl Open {
    /// The OPEN of a speaker of AS `asn` announcing `capabilities`, all in one
    /// Capabilities parameter.
    ///
    /// The 4-octet AS capability is always announced (RFC 6793): a
    /// [`Capability::FourOctetAs`] already in `capabilities` gets `asn` as its value,
    /// otherwise one is appended. My AS is `asn` when it fits in 2 octets, else
    /// [`AS_TRANS`](crate::AS_TRANS).
    pub fn new(
        asn: u32,
        hold_time: u16,
        bgp_id: Ipv4Addr,
        mut capabilities: Vec<Capability>,
    ) -> Open {
        let mut announced = false;
        for capability in &mut capabilities {
            if let Capability::FourOctetAs(value) = capability {
                *value = asn;
                announced = true;
            }
        }
        if !announced {
            capabilities.push(Capability::FourOctetAs(asn));
        }
        Open {
            version: BGP_VERSION,
            my_as: u16::try_from(asn).unwrap_or(AS_TRANS_16),
            hold_time,
            bgp_id,
            params: vec![OptionalParameter::Capabilities(capabilities)],
            extended_params: false,
        }
    }

    /// All capabilities of all Capabilities parameters, in order.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.params.iter().flat_map(|param| match param {
            OptionalParameter::Capabilities(capabilities) => capabilities.as_slice(),
            OptionalParameter::Unknown { .. } => &[],
        })
    }

    /// Whether a capability with this code was announced, typed or kept raw (a known
    /// code whose value was kept as [`Capability::Unknown`] counts).
    pub fn has_capability(&self, code: CapabilityCode) -> bool {
        self.capabilities().any(|c| c.code() == code)
    }

    /// The value of the first 4-octet AS capability (RFC 6793), if any.
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
    }

    /// The speaker's AS: the 4-octet AS capability's value if present, else My AS.
    pub fn asn(&self) -> u32 {
        self.four_octet_as().unwrap_or(u32::from(self.my_as))
    }

    /// The families of the multiprotocol capabilities (RFC 4760), in order.
    pub fn families(&self) -> impl Iterator<Item = Family> {
        self.capabilities().filter_map(|c| match c {
            Capability::MultiProtocol(family) => Some(*family),
            _ => None,
        })
    }

    /// The entries of all ADD-PATH capabilities (RFC 7911), in order.
    pub fn add_path(&self) -> impl Iterator<Item = &AddPathEntry> {
        self.capabilities().flat_map(|c| match c {
            Capability::AddPath(entries) => entries.as_slice(),
            _ => &[],
        })
    }

    /// The ADD-PATH mode announced for `family`: that of its first entry.
    pub fn add_path_mode(&self, family: Family) -> Option<AddPathMode> {
        self.add_path()
            .find(|entry| entry.family == family)
            .map(|entry| entry.mode)
    }

    /// The entries of all extended next hop capabilities (RFC 8950), in order.
    pub fn extended_next_hop(&self) -> impl Iterator<Item = &ExtendedNextHopEntry> {
        self.capabilities().flat_map(|c| match c {
            Capability::ExtendedNextHop(entries) => entries.as_slice(),
            _ => &[],
        })
    }

    /// The first graceful restart capability (RFC 4724), if any.
    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    /// The role of the first BGP role capability (RFC 9234), if any.
    pub fn role(&self) -> Option<Role> {
        self.capabilities().find_map(|c| match c {
            Capability::Role(role) => Some(*role),
            _ => None,
        })
    }

    /// Decodes an OPEN body (the bytes after the 19-byte header).
    ///
    /// The parameters are in the RFC 9072 extended form when the Non-Ext OP Len is
    /// non-zero and the first parameter type is 255; the Non-Ext OP Len must then be
    /// 255 (as RFC 9072 requires of the sender; accepting another value would lose it).
    /// Fields are not checked: see [`Open::validate`].
    pub fn decode(body: &[u8]) -> Result<Open, OpenError> {
        let Some((fixed, rest)) = body.split_first_chunk::<FIXED_LEN>() else {
            return Err(OpenError::TooShort { len: body.len() });
        };
        let non_ext_len = fixed[field::OPT_PARAM_LEN];
        let extended_params = non_ext_len != 0 && rest.first() == Some(&EXTENDED_MARKER);
        let params = if extended_params {
            if non_ext_len != EXTENDED_MARKER {
                return Err(OpenError::OptionalParameters {
                    reason: "RFC 9072 form with a Non-Ext OP Len other than 255",
                });
            }
            let Some((len, params)) = rest[1..].split_first_chunk::<2>() else {
                return Err(OpenError::OptionalParameters {
                    reason: "the RFC 9072 extended parameters length is missing",
                });
            };
            if usize::from(u16::from_be_bytes(*len)) != params.len() {
                return Err(OpenError::OptionalParameters {
                    reason: "the extended parameters length does not match the message",
                });
            }
            decode_params(params, true)?
        } else {
            if usize::from(non_ext_len) != rest.len() {
                return Err(OpenError::OptionalParameters {
                    reason: "the parameters length does not match the message",
                });
            }
            decode_params(rest, false)?
        };
        Ok(Open {
            version: fixed[field::VERSION],
            my_as: u16::from_be_bytes([fixed[field::MY_AS][0], fixed[field::MY_AS][1]]),
            hold_time: u16::from_be_bytes([fixed[field::HOLD_TIME][0], fixed[field::HOLD_TIME][1]]),
            bgp_id: Ipv4Addr::new(
                fixed[field::BGP_ID][0],
                fixed[field::BGP_ID][1],
                fixed[field::BGP_ID][2],
                fixed[field::BGP_ID][3],
            ),
            params,
            extended_params,
        })
    }

    /// Appends the body (everything after the header) to `out`. On error `out` is left
    /// as it was.
    ///
    /// Errors: a capability that does not fit ([`Capability::encode`]), parameters of
    /// more than 65,535 bytes even in the extended form, or an
    /// [`OptionalParameter::Unknown`] of type 255 first in the non-extended form.
    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.encode_body_inner(out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_body_inner(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.version);
        out.extend_from_slice(&self.my_as.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.bgp_id.octets());
        let mut values = Vec::with_capacity(self.params.len());
        for param in &self.params {
            let mut value = Vec::new();
            param.encode_value(&mut value)?;
            values.push((param.kind(), value));
        }
        let short_len: usize = values.iter().map(|(_, v)| 2 + v.len()).sum();
        if !self.extended_params && short_len <= usize::from(u8::MAX) {
            if values
                .first()
                .is_some_and(|(kind, _)| *kind == EXTENDED_MARKER)
            {
                return Err(EncodeError::Invalid {
                    what: "OPEN optional parameters",
                    detail: "a first parameter of type 255 reads as the RFC 9072 marker".to_owned(),
                });
            }
            // Both fit in a byte: the total does, and so does each part of it.
            out.push(short_len as u8);
            for (kind, value) in &values {
                out.push(*kind);
                out.push(value.len() as u8);
                out.extend_from_slice(value);
            }
        } else {
            let long_len: usize = values.iter().map(|(_, v)| 3 + v.len()).sum();
            let len = u16::try_from(long_len).map_err(|_| EncodeError::TooLong {
                what: "OPEN optional parameters",
                len: long_len,
                max: usize::from(u16::MAX),
            })?;
            out.extend_from_slice(&[EXTENDED_MARKER, EXTENDED_MARKER]);
            out.extend_from_slice(&len.to_be_bytes());
            for (kind, value) in &values {
                out.push(*kind);
                // Each part fits: the total does.
                out.extend_from_slice(&(value.len() as u16).to_be_bytes());
                out.extend_from_slice(value);
            }
        }
        Ok(())
    }

    /// The semantic checks of RFC 4271 §6.2 on a received OPEN, in its order, with the
    /// NOTIFICATION each failure calls for:
    ///
    /// 1. the version is 4, else Unsupported Version Number;
    /// 2. the peer's AS ([`Open::asn`]) is not 0 (RFC 7607), not AS_TRANS (a reserved
    ///    AS that no speaker has, also when My AS is 23456 without the 4-octet AS
    ///    capability: RFC 6793 only allows it as a stand-in for the capability's value),
    ///    and equals `expected_peer_as` when given, else Bad Peer AS;
    /// 3. the hold time is not 1 or 2, else Unacceptable Hold Time;
    /// 4. the BGP identifier is not 0.0.0.0 (RFC 6286 allows any other value), else Bad
    ///    BGP Identifier;
    /// 5. every optional parameter is a Capabilities parameter, else Unsupported
    ///    Optional Parameter.
    ///
    /// Checks that need the local configuration (an identifier equal to ours on an
    /// internal session, the local hold time, role correspondence) belong to the
    /// session.
    pub fn validate(&self, expected_peer_as: Option<u32>) -> Result<(), OpenError> {
        if self.version != BGP_VERSION {
            return Err(OpenError::UnsupportedVersion {
                version: self.version,
            });
        }
        let received = self.asn();
        if received == 0
            || received == crate::AS_TRANS
            || expected_peer_as.is_some_and(|expected| expected != received)
        {
            return Err(OpenError::BadPeerAs {
                received,
                expected: expected_peer_as,
            });
        }
        if matches!(self.hold_time, 1 | 2) {
            return Err(OpenError::UnacceptableHoldTime {
                hold_time: self.hold_time,
            });
        }
        if self.bgp_id.is_unspecified() {
            return Err(OpenError::BadBgpIdentifier {
                bgp_id: self.bgp_id,
            });
        }
        if let Some(param) = self
            .params
            .iter()
            .find(|p| matches!(p, OptionalParameter::Unknown { .. }))
        {
            return Err(OpenError::UnsupportedOptionalParameter { kind: param.kind() });
        }
        Ok(())
    }
}

/// Decodes the parameters: type, length (2 bytes in the extended form, else 1), value,
/// filling `bytes` exactly.
fn decode_params(mut bytes: &[u8], extended: bool) -> Result<Vec<OptionalParameter>, OpenError> {
    let overrun = OpenError::OptionalParameters {
        reason: "an optional parameter overruns the parameters",
    };
    let mut params = Vec::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        let (len, rest) = if extended {
            let Some((len, rest)) = rest.split_first_chunk::<2>() else {
                return Err(overrun);
            };
            (usize::from(u16::from_be_bytes(*len)), rest)
        } else {
            let Some((&len, rest)) = rest.split_first() else {
                return Err(overrun);
            };
            (usize::from(len), rest)
        };
        let Some(value) = rest.get(..len) else {
            return Err(overrun);
        };
        params.push(if kind == CAPABILITIES {
            OptionalParameter::Capabilities(Capability::decode_all(value)?)
        } else {
            OptionalParameter::Unknown {
                kind,
                value: value.to_vec(),
            }
        });
        bytes = &rest[len..];
    }
    Ok(params)
}

/// What two OPENs negotiate (a pure function of the two messages):
///
/// - `four_octet_as` when both carry the 4-octet AS capability (RFC 6793);
/// - `extended_message` when both carry the extended message capability (RFC 8654);
/// - `add_path_receive`: the families whose local ADD-PATH mode is Receive or Both and
///   whose remote mode is Send or Both; `add_path_send` the reverse (RFC 7911 §4).
///   A side's mode for a family is that of its first entry; the multiprotocol
///   capability is not required (IPv4 unicast needs none);
/// - `extended_next_hop`: the (family, next-hop AFI) entries both sides carry
///   (RFC 8950 §3).
///
/// Lists follow the order of `local`'s capabilities, without duplicates. Capabilities
/// kept as [`Capability::Unknown`] count for nothing.
pub fn negotiate(local: &Open, remote: &Open) -> SessionContext {
    let both = |has: fn(&Capability) -> bool| {
        local.capabilities().any(has) && remote.capabilities().any(has)
    };
    let mut ctx = SessionContext {
        four_octet_as: local.four_octet_as().is_some() && remote.four_octet_as().is_some(),
        extended_message: both(|c| matches!(c, Capability::ExtendedMessage)),
        ..SessionContext::legacy()
    };
    for entry in local.add_path() {
        let family = entry.family;
        if ctx.add_path_receive.contains(&family) || ctx.add_path_send.contains(&family) {
            continue;
        }
        let (Some(ours), Some(theirs)) =
            (local.add_path_mode(family), remote.add_path_mode(family))
        else {
            continue;
        };
        if ours.receives() && theirs.sends() {
            ctx.add_path_receive.push(family);
        }
        if ours.sends() && theirs.receives() {
            ctx.add_path_send.push(family);
        }
    }
    for entry in local.extended_next_hop() {
        let pair = (entry.family, entry.next_hop_afi);
        if !ctx.extended_next_hop.contains(&pair) && remote.extended_next_hop().any(|e| e == entry)
        {
            ctx.extended_next_hop.push(pair);
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{GracefulRestartFamily, LongLivedGracefulRestartFamily};
    use crate::context::{Afi, Safi};
    use proptest::prelude::*;

    fn encoded(open: &Open) -> Vec<u8> {
        let mut out = Vec::new();
        open.encode_body(&mut out).expect("encodable");
        out
    }

    /// Decodes `body`, compares with `expected` and encodes it back to the same bytes.
    fn check_fixture(body: &[u8], expected: &Open) {
        assert_eq!(Open::decode(body).as_ref(), Ok(expected));
        assert_eq!(encoded(expected), body);
    }

    fn caps(capabilities: Vec<Capability>) -> OptionalParameter {
        OptionalParameter::Capabilities(capabilities)
    }

    /// The body of the OPEN BIRD 2.0.12 sends with IPv4 (extended next hop on) and IPv6
    /// channels, graceful restart and long-lived graceful restart on (captured).
    #[rustfmt::skip]
    const BIRD: [u8; 70] = [
        4,                  // version
        0xfd, 0xe8,         // my AS 65000
        0, 240,             // hold time 240
        192, 0, 2, 1,       // BGP identifier
        60,                 // optional parameters length
        2, 58,              // Capabilities, 58 bytes
        1, 4, 0, 1, 0, 1,   // multiprotocol IPv4 unicast
        1, 4, 0, 2, 0, 1,   // multiprotocol IPv6 unicast
        2, 0,               // route refresh
        5, 6,               // extended next hop:
        0, 1, 0, 1, 0, 2,   //   IPv4 unicast over IPv6
        64, 10,             // graceful restart:
        0x00, 120,          //   no flags, restart time 120
        0, 1, 1, 0,         //   IPv4 unicast
        0, 2, 1, 0,         //   IPv6 unicast
        65, 4, 0, 0, 0xfd, 0xe8, // 4-octet AS 65000
        70, 0,              // enhanced route refresh
        71, 14,             // long-lived graceful restart:
        0, 1, 1, 0, 0, 0x0e, 0x10, // IPv4 unicast, stale time 3600
        0, 2, 1, 0, 0, 0x0e, 0x10, // IPv6 unicast, stale time 3600
    ];

    fn bird() -> Open {
        let llgr = |family| LongLivedGracefulRestartFamily {
            family,
            flags: 0,
            stale_time: 3600,
        };
        Open {
            version: 4,
            my_as: 65000,
            hold_time: 240,
            bgp_id: Ipv4Addr::new(192, 0, 2, 1),
            params: vec![caps(vec![
                Capability::MultiProtocol(Family::IPV4_UNICAST),
                Capability::MultiProtocol(Family::IPV6_UNICAST),
                Capability::RouteRefresh,
                Capability::ExtendedNextHop(vec![ExtendedNextHopEntry {
                    family: Family::IPV4_UNICAST,
                    next_hop_afi: Afi::Ipv6,
                }]),
                Capability::GracefulRestart(GracefulRestart {
                    restart_state: false,
                    notification: false,
                    reserved_flags: 0,
                    restart_time: 120,
                    families: vec![
                        GracefulRestartFamily::new(Family::IPV4_UNICAST, false),
                        GracefulRestartFamily::new(Family::IPV6_UNICAST, false),
                    ],
                }),
                Capability::FourOctetAs(65000),
                Capability::EnhancedRouteRefresh,
                Capability::LongLivedGracefulRestart(vec![
                    llgr(Family::IPV4_UNICAST),
                    llgr(Family::IPV6_UNICAST),
                ]),
            ])],
            extended_params: false,
        }
    }

    #[test]
    fn a_bird_open_decodes_and_encodes_exactly() {
        check_fixture(&BIRD, &bird());
        let open = bird();
        assert_eq!(open.asn(), 65000);
        assert_eq!(
            open.families().collect::<Vec<_>>(),
            [Family::IPV4_UNICAST, Family::IPV6_UNICAST]
        );
        assert!(open.has_capability(CapabilityCode::LongLivedGracefulRestart));
        assert!(!open.has_capability(CapabilityCode::AddPath));
        assert_eq!(open.graceful_restart().unwrap().restart_time, 120);
        assert_eq!(open.role(), None);
        assert_eq!(open.validate(Some(65000)), Ok(()));
    }

    /// BIRD 2.0.12 with a 4-octet AS, role customer, extended messages, ADD-PATH on
    /// for IPv4 and rx for IPv6, graceful restart aware only and LLGR off (captured).
    #[test]
    fn a_bird_open_with_a_four_octet_as_and_a_role_decodes_and_encodes_exactly() {
        #[rustfmt::skip]
        let body = [
            4,                      // version
            0x5b, 0xa0,             // my AS: AS_TRANS
            0, 90,                  // hold time 90
            192, 0, 2, 1,           // BGP identifier
            45,                     // optional parameters length
            2, 43,                  // Capabilities, 43 bytes
            1, 4, 0, 1, 0, 1,       // multiprotocol IPv4 unicast
            1, 4, 0, 2, 0, 1,       // multiprotocol IPv6 unicast
            2, 0,                   // route refresh
            6, 0,                   // extended message
            9, 1, 3,                // role: customer
            64, 2, 0x00, 120,       // graceful restart, no families
            65, 4, 0xfa, 0x56, 0xea, 0x02, // 4-octet AS 4,200,000,002
            69, 8,                  // ADD-PATH:
            0, 1, 1, 3,             //   IPv4 unicast, send and receive
            0, 2, 1, 1,             //   IPv6 unicast, receive
            70, 0,                  // enhanced route refresh
            71, 0,                  // long-lived graceful restart, no families
        ];
        let expected = Open {
            version: 4,
            my_as: 23456,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(192, 0, 2, 1),
            params: vec![caps(vec![
                Capability::MultiProtocol(Family::IPV4_UNICAST),
                Capability::MultiProtocol(Family::IPV6_UNICAST),
                Capability::RouteRefresh,
                Capability::ExtendedMessage,
                Capability::Role(Role::Customer),
                Capability::GracefulRestart(GracefulRestart {
                    restart_state: false,
                    notification: false,
                    reserved_flags: 0,
                    restart_time: 120,
                    families: vec![],
                }),
                Capability::FourOctetAs(4_200_000_002),
                Capability::AddPath(vec![
                    AddPathEntry {
                        family: Family::IPV4_UNICAST,
                        mode: AddPathMode::Both,
                    },
                    AddPathEntry {
                        family: Family::IPV6_UNICAST,
                        mode: AddPathMode::Receive,
                    },
                ]),
                Capability::EnhancedRouteRefresh,
                Capability::LongLivedGracefulRestart(vec![]),
            ])],
            extended_params: false,
        };
        check_fixture(&body, &expected);
        assert_eq!(expected.asn(), 4_200_000_002);
        assert_eq!(expected.role(), Some(Role::Customer));
        assert_eq!(
            expected.add_path_mode(Family::IPV6_UNICAST),
            Some(AddPathMode::Receive)
        );
        assert_eq!(expected.validate(Some(4_200_000_002)), Ok(()));
    }

    /// GoBGP 3.10 on an IPv6 session with IPv4 unicast (captured): everything in one
    /// parameter, the FQDN first with the host name "vm".
    #[test]
    fn a_gobgp_open_decodes_and_encodes_exactly() {
        #[rustfmt::skip]
        let body = [
            4,                      // version
            0xfd, 0xe8,             // my AS 65000
            0, 90,                  // hold time 90
            192, 0, 2, 2,           // BGP identifier
            30,                     // optional parameters length
            2, 28,                  // Capabilities, 28 bytes
            2, 0,                   // route refresh
            73, 4, 2, b'v', b'm', 0, // FQDN: host "vm", domain ""
            1, 4, 0, 1, 0, 1,       // multiprotocol IPv4 unicast
            65, 4, 0, 0, 0xfd, 0xe8, // 4-octet AS 65000
            5, 6, 0, 1, 0, 1, 0, 2, // extended next hop: IPv4 unicast over IPv6
        ];
        let expected = Open {
            version: 4,
            my_as: 65000,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(192, 0, 2, 2),
            params: vec![caps(vec![
                Capability::RouteRefresh,
                Capability::Fqdn {
                    hostname: "vm".into(),
                    domain: String::new(),
                },
                Capability::MultiProtocol(Family::IPV4_UNICAST),
                Capability::FourOctetAs(65000),
                Capability::ExtendedNextHop(vec![ExtendedNextHopEntry {
                    family: Family::IPV4_UNICAST,
                    next_hop_afi: Afi::Ipv6,
                }]),
            ])],
            extended_params: false,
        };
        check_fixture(&body, &expected);
    }

    /// ExaBGP 4.2 with a 4-octet AS (captured): one parameter per capability, and the
    /// same capabilities regrouped into one parameter are different bytes.
    #[test]
    fn an_exabgp_open_with_one_parameter_per_capability_keeps_its_grouping() {
        #[rustfmt::skip]
        let body = [
            4,                      // version
            0x5b, 0xa0,             // my AS: AS_TRANS
            0, 90,                  // hold time 90
            192, 0, 2, 3,           // BGP identifier
            62,                     // optional parameters length
            2, 6, 1, 4, 0, 1, 0, 1, // Capabilities: multiprotocol IPv4 unicast
            2, 6, 1, 4, 0, 2, 0, 1, // Capabilities: multiprotocol IPv6 unicast
            2, 6, 65, 4, 0xfa, 0x56, 0xea, 0x01, // Capabilities: 4-octet AS 4,200,000,001
            2, 10, 69, 8,           // Capabilities: ADD-PATH
            0, 1, 1, 3,             //   IPv4 unicast, both
            0, 2, 1, 3,             //   IPv6 unicast, both
            2, 12, 64, 10,          // Capabilities: graceful restart
            0x80, 120,              //   restarted (R), restart time 120
            0, 1, 1, 0x80,          //   IPv4 unicast, forwarding preserved
            0, 2, 1, 0x80,          //   IPv6 unicast, forwarding preserved
            2, 2, 2, 0,             // Capabilities: route refresh
            2, 2, 70, 0,            // Capabilities: enhanced route refresh
            2, 2, 6, 0,             // Capabilities: extended message
        ];
        let both = |family| AddPathEntry {
            family,
            mode: AddPathMode::Both,
        };
        let all = vec![
            Capability::MultiProtocol(Family::IPV4_UNICAST),
            Capability::MultiProtocol(Family::IPV6_UNICAST),
            Capability::FourOctetAs(4_200_000_001),
            Capability::AddPath(vec![both(Family::IPV4_UNICAST), both(Family::IPV6_UNICAST)]),
            Capability::GracefulRestart(GracefulRestart {
                restart_state: true,
                notification: false,
                reserved_flags: 0,
                restart_time: 120,
                families: vec![
                    GracefulRestartFamily::new(Family::IPV4_UNICAST, true),
                    GracefulRestartFamily::new(Family::IPV6_UNICAST, true),
                ],
            }),
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::ExtendedMessage,
        ];
        let expected = Open {
            version: 4,
            my_as: 23456,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(192, 0, 2, 3),
            params: all.iter().map(|c| caps(vec![c.clone()])).collect(),
            extended_params: false,
        };
        check_fixture(&body, &expected);
        assert_eq!(expected.capabilities().cloned().collect::<Vec<_>>(), all);
        assert_eq!(expected.asn(), 4_200_000_001);

        let regrouped = Open {
            params: vec![caps(all)],
            ..expected
        };
        let bytes = encoded(&regrouped);
        assert_eq!(bytes.len(), body.len() - 14);
        assert_eq!(bytes[9], 62 - 14);
    }

    #[test]
    fn an_rfc_9072_extended_open_decodes_and_encodes_exactly() {
        #[rustfmt::skip]
        let body = [
            4,                      // version
            0xfd, 0xe9,             // my AS 65001
            0, 180,                 // hold time 180
            10, 0, 0, 1,            // BGP identifier
            255,                    // Non-Ext OP Len
            255,                    // Non-Ext OP Type: the extended form
            0, 20,                  // Extended Opt. Parm. Length
            2, 0, 8,                // Capabilities, 2-byte length 8
            1, 4, 0, 1, 0, 1,       // multiprotocol IPv4 unicast
            2, 0,                   // route refresh
            2, 0, 6,                // Capabilities, 2-byte length 6
            65, 4, 0, 0, 0xfd, 0xe9, // 4-octet AS 65001
        ];
        let expected = Open {
            version: 4,
            my_as: 65001,
            hold_time: 180,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            params: vec![
                caps(vec![
                    Capability::MultiProtocol(Family::IPV4_UNICAST),
                    Capability::RouteRefresh,
                ]),
                caps(vec![Capability::FourOctetAs(65001)]),
            ],
            extended_params: true,
        };
        check_fixture(&body, &expected);

        // The same OPEN without the flag uses the RFC 4271 form.
        let short = Open {
            extended_params: false,
            ..expected.clone()
        };
        assert_eq!(encoded(&short)[9..12], [18, 2, 8]);

        // An extended form without any parameter.
        let empty = [4, 0xfd, 0xe9, 0, 180, 10, 0, 0, 1, 255, 255, 0, 0];
        let open = Open::decode(&empty).unwrap();
        assert!(open.extended_params && open.params.is_empty());
        assert_eq!(encoded(&open), empty);
    }

    #[test]
    fn parameters_of_more_than_255_bytes_use_the_extended_form() {
        let mut open = Open::new(
            65000,
            90,
            Ipv4Addr::new(10, 0, 0, 1),
            (0..50)
                .map(|safi| Capability::MultiProtocol(Family::new(Afi::Ipv4, Safi::from(safi))))
                .collect(),
        );
        let body = encoded(&open);
        // 50 multiprotocol and one 4-octet AS capability of 6 bytes: 306 bytes.
        #[rustfmt::skip]
        assert_eq!(body[9..16], [
            255, 255,               // the extended form
            1, 53,                  // 309 bytes of parameters
            2, 1, 50,               // Capabilities, 306 bytes
        ]);
        assert_eq!(body.len(), 10 + 3 + 309);
        let decoded = Open::decode(&body).unwrap();
        assert!(decoded.extended_params);
        open.extended_params = true;
        assert_eq!(decoded, open);

        // More than 65,535 bytes do not fit even then.
        let huge = Open {
            params: vec![OptionalParameter::Unknown {
                kind: 1,
                value: vec![0; 65_533],
            }],
            ..open
        };
        let mut out = vec![7];
        assert_eq!(
            huge.encode_body(&mut out),
            Err(EncodeError::TooLong {
                what: "OPEN optional parameters",
                len: 65_536,
                max: 65_535
            })
        );
        assert_eq!(out, [7], "left as it was");
    }

    #[test]
    fn unknown_capabilities_and_parameters_are_kept() {
        #[rustfmt::skip]
        let body = [
            4,                      // version
            0xfd, 0xe8,             // my AS 65000
            0, 0,                   // hold time 0
            10, 0, 0, 2,            // BGP identifier
            23,                     // optional parameters length
            1, 3, 0, 0xab, 0xcd,    // authentication information (deprecated type 1)
            2, 9,                   // Capabilities, 9 bytes
            128, 0,                 // pre-standard route refresh (128)
            2, 1, 0,                // route refresh with a value: kept raw
            200, 2, 0xde, 0xad,     // unassigned capability 200
            2, 0,                   // Capabilities, empty
            42, 3, 1, 2, 3,         // unknown parameter 42
        ];
        let expected = Open {
            version: 4,
            my_as: 65000,
            hold_time: 0,
            bgp_id: Ipv4Addr::new(10, 0, 0, 2),
            params: vec![
                OptionalParameter::Unknown {
                    kind: 1,
                    value: vec![0, 0xab, 0xcd],
                },
                caps(vec![
                    Capability::Unknown {
                        code: 128,
                        value: vec![],
                    },
                    Capability::Unknown {
                        code: 2,
                        value: vec![0],
                    },
                    Capability::Unknown {
                        code: 200,
                        value: vec![0xde, 0xad],
                    },
                ]),
                caps(vec![]),
                OptionalParameter::Unknown {
                    kind: 42,
                    value: vec![1, 2, 3],
                },
            ],
            extended_params: false,
        };
        check_fixture(&body, &expected);
        assert!(expected.has_capability(CapabilityCode::Unknown(200)));
        assert!(expected.has_capability(CapabilityCode::RouteRefresh));
        assert_eq!(expected.capabilities().count(), 3);
        assert_eq!(expected.params[0].kind(), 1);
        assert_eq!(expected.asn(), 65000);
    }

    #[test]
    fn an_open_without_parameters_round_trips() {
        let body = [4, 0x5b, 0xa0, 0, 3, 1, 2, 3, 4, 0];
        let expected = Open {
            version: 4,
            my_as: 23456,
            hold_time: 3,
            bgp_id: Ipv4Addr::new(1, 2, 3, 4),
            params: vec![],
            extended_params: false,
        };
        check_fixture(&body, &expected);
        assert_eq!(expected.asn(), 23456);
    }

    #[test]
    fn new_always_announces_the_four_octet_as() {
        let id = Ipv4Addr::new(10, 0, 0, 1);
        let open = Open::new(65000, 90, id, vec![Capability::RouteRefresh]);
        assert_eq!(open.version, 4);
        assert_eq!(open.my_as, 65000);
        assert_eq!(
            open.params,
            vec![caps(vec![
                Capability::RouteRefresh,
                Capability::FourOctetAs(65000)
            ])]
        );
        assert!(!open.extended_params);

        let open = Open::new(
            4_200_000_000,
            90,
            id,
            vec![Capability::FourOctetAs(1), Capability::RouteRefresh],
        );
        assert_eq!(open.my_as, 23456);
        assert_eq!(open.asn(), 4_200_000_000);
        assert_eq!(
            open.capabilities().cloned().collect::<Vec<_>>(),
            [
                Capability::FourOctetAs(4_200_000_000),
                Capability::RouteRefresh
            ]
        );
        assert_eq!(open.validate(Some(4_200_000_000)), Ok(()));

        let open = Open::new(65536, 90, id, vec![]);
        assert_eq!(open.my_as, 23456);
        assert_eq!(open.four_octet_as(), Some(65536));
    }

    #[test]
    fn a_first_parameter_of_type_255_cannot_use_the_short_form() {
        let mut open = Open {
            version: 4,
            my_as: 65000,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            params: vec![OptionalParameter::Unknown {
                kind: 255,
                value: vec![1],
            }],
            extended_params: false,
        };
        let mut out = Vec::new();
        assert!(matches!(
            open.encode_body(&mut out),
            Err(EncodeError::Invalid { .. })
        ));
        assert!(out.is_empty());
        open.extended_params = true;
        let body = encoded(&open);
        assert_eq!(body[9..], [255, 255, 0, 4, 255, 0, 1, 1]);
        assert_eq!(Open::decode(&body), Ok(open));
    }

    #[test]
    fn capability_encoding_errors_reach_the_open() {
        let open = Open::new(
            65000,
            90,
            Ipv4Addr::new(10, 0, 0, 1),
            vec![Capability::Unknown {
                code: 99,
                value: vec![0; 256],
            }],
        );
        let mut out = vec![1, 2];
        assert!(matches!(
            open.encode_body(&mut out),
            Err(EncodeError::TooLong { .. })
        ));
        assert_eq!(out, [1, 2]);
    }

    // Decoding errors.

    fn notification_of(body: &[u8]) -> (OpenError, (u8, u8), Vec<u8>) {
        let err = Open::decode(body).unwrap_err();
        let n = err.notification();
        (err, n.error.code_subcode(), n.data)
    }

    #[test]
    fn a_short_body_is_a_bad_message_length() {
        for len in 0..10 {
            let (err, code, data) = notification_of(&BIRD[..len]);
            assert_eq!(err, OpenError::TooShort { len });
            assert_eq!(code, (1, 2), "Message Header Error / Bad Message Length");
            assert_eq!(data, u16::try_from(len + 19).unwrap().to_be_bytes());
        }
    }

    #[test]
    fn parameter_lengths_that_do_not_add_up_are_open_errors() {
        let fixed = |opt_len: u8, rest: &[u8]| {
            let mut body = vec![4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1, opt_len];
            body.extend_from_slice(rest);
            body
        };
        #[rustfmt::skip]
        let cases = [
            fixed(1, &[]),                              // length overruns the message
            fixed(0, &[2]),                             // bytes after the parameters
            fixed(2, &[2, 0, 0]),                       // one byte left over
            fixed(3, &[2, 0, 2]),                       // second parameter without length
            fixed(4, &[2, 3, 2, 0]),                    // parameter overruns
            fixed(4, &[2, 2, 2, 1]),                    // capability overruns its parameter
            fixed(3, &[2, 1, 2]),                       // capability header overruns
            fixed(254, &[255, 0, 0]),                   // extended form, Non-Ext OP Len 254
            fixed(255, &[255]),                         // extended form, no length
            fixed(255, &[255, 0]),                      // extended form, half a length
            fixed(255, &[255, 0, 3, 2, 0]),             // extended length overruns
            fixed(255, &[255, 0, 1, 2, 0]),             // extended length too short
            fixed(255, &[255, 0, 2, 2, 0]),             // extended parameter, half a length
            fixed(255, &[255, 0, 3, 2, 0, 1]),          // extended parameter overruns
        ];
        for body in cases {
            let (err, code, data) = notification_of(&body);
            assert!(
                matches!(err, OpenError::OptionalParameters { .. }),
                "{body:?}: {err:?}"
            );
            assert_eq!(code, (2, 0), "OPEN Message Error / Unspecific");
            assert!(data.is_empty());
        }
    }

    #[test]
    fn a_malformed_format_changing_capability_is_an_open_error_with_the_capability() {
        #[rustfmt::skip]
        let body = [
            4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1,
            11,                     // optional parameters length
            2, 9,                   // Capabilities, 9 bytes
            2, 0,                   // route refresh
            65, 3, 0, 0xfd, 0xe8,   // 4-octet AS of 3 bytes
            70, 0,                  // enhanced route refresh
        ];
        let (err, code, data) = notification_of(&body);
        assert_eq!(
            err,
            OpenError::MalformedCapability {
                code: 65,
                value: vec![0, 0xfd, 0xe8]
            }
        );
        assert_eq!(code, (2, 0));
        assert_eq!(data, [65, 3, 0, 0xfd, 0xe8]);
        assert_eq!(
            crate::DecodeError::from(err).notification().data,
            [65, 3, 0, 0xfd, 0xe8]
        );
    }

    // Validation.

    fn validated(open: &Open, expected_as: Option<u32>) -> ((u8, u8), Vec<u8>) {
        let n = open.validate(expected_as).unwrap_err().notification();
        (n.error.code_subcode(), n.data)
    }

    #[test]
    fn validate_checks_the_version() {
        for version in [0, 3, 5, 255] {
            let open = Open { version, ..bird() };
            assert_eq!(
                open.validate(None),
                Err(OpenError::UnsupportedVersion { version })
            );
            assert_eq!(validated(&open, None), ((2, 1), vec![0, 4]));
        }
    }

    #[test]
    fn validate_checks_the_peer_as() {
        let open = bird();
        assert_eq!(open.validate(None), Ok(()));
        assert_eq!(
            open.validate(Some(65001)),
            Err(OpenError::BadPeerAs {
                received: 65000,
                expected: Some(65001)
            })
        );
        assert_eq!(validated(&open, Some(65001)), ((2, 2), vec![]));

        // The 4-octet AS capability wins over My AS.
        let four = Open::new(4_200_000_000, 90, Ipv4Addr::new(10, 0, 0, 1), vec![]);
        assert_eq!(four.validate(Some(4_200_000_000)), Ok(()));
        assert_eq!(validated(&four, Some(23456)), ((2, 2), vec![]));

        // Without the capability the 2-octet field is the AS.
        let two = Open {
            params: vec![],
            ..bird()
        };
        assert_eq!(two.validate(Some(65000)), Ok(()));

        // AS_TRANS without the capability, and AS 0 (RFC 7607), are never acceptable.
        let trans = Open {
            my_as: 23456,
            ..two.clone()
        };
        assert_eq!(
            trans.validate(None),
            Err(OpenError::BadPeerAs {
                received: 23456,
                expected: None
            })
        );
        assert_eq!(validated(&trans, Some(23456)), ((2, 2), vec![]));
        let zero = Open {
            my_as: 0,
            ..two.clone()
        };
        assert_eq!(validated(&zero, None), ((2, 2), vec![]));
        let zero4 = Open::new(0, 90, Ipv4Addr::new(10, 0, 0, 1), vec![]);
        assert_eq!(validated(&zero4, Some(0)), ((2, 2), vec![]));
    }

    #[test]
    fn validate_checks_the_hold_time() {
        for hold_time in [1, 2] {
            let open = Open {
                hold_time,
                ..bird()
            };
            assert_eq!(
                open.validate(None),
                Err(OpenError::UnacceptableHoldTime { hold_time })
            );
            assert_eq!(validated(&open, None), ((2, 6), vec![]));
        }
        for hold_time in [0, 3, 65535] {
            let open = Open {
                hold_time,
                ..bird()
            };
            assert_eq!(open.validate(None), Ok(()));
        }
    }

    #[test]
    fn validate_checks_the_bgp_identifier() {
        let open = Open {
            bgp_id: Ipv4Addr::UNSPECIFIED,
            ..bird()
        };
        assert_eq!(
            open.validate(None),
            Err(OpenError::BadBgpIdentifier {
                bgp_id: Ipv4Addr::UNSPECIFIED
            })
        );
        assert_eq!(validated(&open, None), ((2, 3), vec![]));
        // RFC 6286: any non-zero value, even one that is not a unicast address.
        for bgp_id in [Ipv4Addr::BROADCAST, Ipv4Addr::new(0, 0, 0, 1)] {
            let open = Open { bgp_id, ..bird() };
            assert_eq!(open.validate(None), Ok(()));
        }
    }

    #[test]
    fn validate_rejects_unsupported_optional_parameters() {
        let mut open = bird();
        open.params.push(OptionalParameter::Unknown {
            kind: 1,
            value: vec![0],
        });
        assert_eq!(
            open.validate(None),
            Err(OpenError::UnsupportedOptionalParameter { kind: 1 })
        );
        assert_eq!(validated(&open, None), ((2, 4), vec![]));
    }

    #[test]
    fn validate_follows_the_order_of_rfc_4271() {
        let open = Open {
            version: 3,
            my_as: 0,
            hold_time: 1,
            bgp_id: Ipv4Addr::UNSPECIFIED,
            params: vec![],
            extended_params: false,
        };
        assert!(matches!(
            open.validate(None),
            Err(OpenError::UnsupportedVersion { .. })
        ));
        let open = Open { version: 4, ..open };
        assert!(matches!(
            open.validate(None),
            Err(OpenError::BadPeerAs { .. })
        ));
        let open = Open { my_as: 1, ..open };
        assert!(matches!(
            open.validate(None),
            Err(OpenError::UnacceptableHoldTime { .. })
        ));
        let open = Open {
            hold_time: 0,
            ..open
        };
        assert!(matches!(
            open.validate(None),
            Err(OpenError::BadBgpIdentifier { .. })
        ));
    }

    // Negotiation.

    fn with(capabilities: Vec<Capability>) -> Open {
        Open::new(65000, 90, Ipv4Addr::new(10, 0, 0, 1), capabilities)
    }

    fn add_path(entries: &[(Family, AddPathMode)]) -> Capability {
        Capability::AddPath(
            entries
                .iter()
                .map(|&(family, mode)| AddPathEntry { family, mode })
                .collect(),
        )
    }

    #[test]
    fn negotiation_needs_both_sides() {
        let plain = Open {
            params: vec![],
            ..with(vec![])
        };
        let modern = with(vec![Capability::ExtendedMessage]);
        assert_eq!(negotiate(&plain, &plain), SessionContext::legacy());
        assert_eq!(negotiate(&modern, &plain), SessionContext::legacy());
        assert_eq!(negotiate(&plain, &modern), SessionContext::legacy());
        assert_eq!(
            negotiate(&modern, &modern),
            SessionContext {
                extended_message: true,
                ..SessionContext::modern()
            }
        );
        // A 4-octet AS on one side only.
        assert!(!negotiate(&with(vec![]), &plain).four_octet_as);
        assert!(negotiate(&with(vec![]), &with(vec![])).four_octet_as);
        // A capability kept raw counts for nothing.
        let raw = with(vec![Capability::Unknown {
            code: 6,
            value: vec![],
        }]);
        assert!(!negotiate(&modern, &raw).extended_message);
    }

    #[test]
    fn add_path_is_negotiated_per_family_and_direction() {
        use AddPathMode::{Both, Receive, Send, Unknown};
        let v4 = Family::IPV4_UNICAST;
        let v6 = Family::IPV6_UNICAST;
        let vpn = Family::new(Afi::Ipv4, Safi::Unknown(128));
        let flow = Family::new(Afi::Ipv4, Safi::Unknown(133));
        let local = with(vec![add_path(&[
            (v4, Both),
            (v6, Receive),
            (vpn, Send),
            (flow, Both),
        ])]);
        let remote = with(vec![
            add_path(&[(v4, Both), (v6, Both)]),
            Capability::RouteRefresh,
            add_path(&[(vpn, Send), (flow, Unknown(0))]),
        ]);
        let ctx = negotiate(&local, &remote);
        assert_eq!(ctx.add_path_receive, [v4, v6]);
        assert_eq!(ctx.add_path_send, [v4]);
        assert!(ctx.receives_path_id(v6) && !ctx.sends_path_id(v6));

        // Seen from the other side.
        let ctx = negotiate(&remote, &local);
        assert_eq!(ctx.add_path_receive, [v4]);
        assert_eq!(ctx.add_path_send, [v4, v6]);

        // Receive against Receive, or a family only one side has, gives nothing.
        let ctx = negotiate(
            &with(vec![add_path(&[(v4, Receive), (v6, Both)])]),
            &with(vec![add_path(&[(v4, Receive)])]),
        );
        assert!(ctx.add_path_receive.is_empty() && ctx.add_path_send.is_empty());

        // The first entry of a family decides; duplicates are not repeated.
        let ctx = negotiate(
            &with(vec![add_path(&[(v4, Send), (v4, Both), (v4, Send)])]),
            &with(vec![add_path(&[(v4, Both)])]),
        );
        assert_eq!(ctx.add_path_send, [v4]);
        assert!(ctx.add_path_receive.is_empty());
    }

    #[test]
    fn extended_next_hop_needs_the_same_entry_on_both_sides() {
        let entry = |family, next_hop_afi| ExtendedNextHopEntry {
            family,
            next_hop_afi,
        };
        let vpn = Family::new(Afi::Ipv4, Safi::Unknown(128));
        let local = with(vec![
            Capability::ExtendedNextHop(vec![
                entry(Family::IPV4_UNICAST, Afi::Ipv6),
                entry(vpn, Afi::Ipv6),
            ]),
            Capability::ExtendedNextHop(vec![entry(Family::IPV4_UNICAST, Afi::Ipv6)]),
        ]);
        let remote = with(vec![Capability::ExtendedNextHop(vec![
            entry(Family::IPV6_UNICAST, Afi::Ipv4),
            entry(Family::IPV4_UNICAST, Afi::Ipv6),
        ])]);
        let ctx = negotiate(&local, &remote);
        assert_eq!(ctx.extended_next_hop, [(Family::IPV4_UNICAST, Afi::Ipv6)]);
        assert!(
            negotiate(&local, &with(vec![]))
                .extended_next_hop
                .is_empty()
        );
    }

    #[test]
    fn the_captured_peers_negotiate() {
        let exabgp_like = Open::new(
            4_200_000_001,
            90,
            Ipv4Addr::new(192, 0, 2, 3),
            vec![
                Capability::MultiProtocol(Family::IPV4_UNICAST),
                add_path(&[(Family::IPV4_UNICAST, AddPathMode::Both)]),
                Capability::ExtendedMessage,
            ],
        );
        let ctx = negotiate(&bird(), &exabgp_like);
        assert_eq!(ctx, SessionContext::modern());
    }

    // Properties.

    fn family() -> impl Strategy<Value = Family> {
        (any::<u16>(), any::<u8>()).prop_map(|(afi, safi)| Family::new(afi.into(), safi.into()))
    }

    fn capability() -> impl Strategy<Value = Capability> {
        prop_oneof![
            family().prop_map(Capability::MultiProtocol),
            Just(Capability::RouteRefresh),
            prop::collection::vec((family(), any::<u16>()), 0..=42).prop_map(|entries| {
                Capability::ExtendedNextHop(
                    entries
                        .into_iter()
                        .map(|(family, afi)| ExtendedNextHopEntry {
                            family,
                            next_hop_afi: afi.into(),
                        })
                        .collect(),
                )
            }),
            Just(Capability::ExtendedMessage),
            any::<u8>().prop_map(|role| Capability::Role(role.into())),
            (
                any::<bool>(),
                any::<bool>(),
                0u8..4,
                0u16..4096,
                prop::collection::vec((family(), any::<u8>()), 0..=63)
            )
                .prop_map(|(r, n, reserved_flags, restart_time, families)| {
                    Capability::GracefulRestart(GracefulRestart {
                        restart_state: r,
                        notification: n,
                        reserved_flags,
                        restart_time,
                        families: families
                            .into_iter()
                            .map(|(family, flags)| GracefulRestartFamily { family, flags })
                            .collect(),
                    })
                }),
            any::<u32>().prop_map(Capability::FourOctetAs),
            prop::collection::vec((family(), any::<u8>()), 0..=63).prop_map(|entries| {
                Capability::AddPath(
                    entries
                        .into_iter()
                        .map(|(family, mode)| AddPathEntry {
                            family,
                            mode: mode.into(),
                        })
                        .collect(),
                )
            }),
            Just(Capability::EnhancedRouteRefresh),
            prop::collection::vec((family(), any::<u8>(), 0u32..=0xff_ffff), 0..=36).prop_map(
                |families| {
                    Capability::LongLivedGracefulRestart(
                        families
                            .into_iter()
                            .map(
                                |(family, flags, stale_time)| LongLivedGracefulRestartFamily {
                                    family,
                                    flags,
                                    stale_time,
                                },
                            )
                            .collect(),
                    )
                }
            ),
            ("[a-z0-9.-]{0,60}", "\\PC{0,20}")
                .prop_map(|(hostname, domain)| Capability::Fqdn { hostname, domain }),
            (
                any::<u8>().prop_filter("an unknown code", |&code| matches!(
                    CapabilityCode::from(code),
                    CapabilityCode::Unknown(_)
                )),
                prop::collection::vec(any::<u8>(), 0..=255)
            )
                .prop_map(|(code, value)| Capability::Unknown { code, value }),
        ]
    }

    fn param() -> impl Strategy<Value = OptionalParameter> {
        prop_oneof![
            4 => prop::collection::vec(capability(), 0..6).prop_map(OptionalParameter::Capabilities),
            1 => (
                any::<u8>().prop_filter("not Capabilities nor 255", |&k| k != 2 && k != 255),
                prop::collection::vec(any::<u8>(), 0..300)
            )
                .prop_map(|(kind, value)| OptionalParameter::Unknown { kind, value }),
        ]
    }

    fn open() -> impl Strategy<Value = Open> {
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            prop::collection::vec(param(), 0..4),
            any::<bool>(),
        )
            .prop_map(
                |(version, my_as, hold_time, id, params, extended_params)| Open {
                    version,
                    my_as,
                    hold_time,
                    bgp_id: Ipv4Addr::from(id),
                    params,
                    extended_params,
                },
            )
    }

    /// A plausible OPEN body: capability triples with known and unknown codes and
    /// short values, grouped in parameters, in either form.
    fn open_body() -> impl Strategy<Value = Vec<u8>> {
        let code = prop_oneof![
            prop::sample::select(vec![1u8, 2, 5, 6, 9, 64, 65, 69, 70, 71, 73]),
            any::<u8>(),
        ];
        let triple = (code, prop::collection::vec(any::<u8>(), 0..12));
        let param = (
            prop_oneof![4 => Just(2u8), 1 => any::<u8>().prop_filter("not 255", |&k| k != 255)],
            prop::collection::vec(triple, 0..5),
        );
        (
            prop::collection::vec(any::<u8>(), 9),
            prop::collection::vec(param, 0..4),
            any::<bool>(),
        )
            .prop_map(|(fixed, params, extended)| {
                let mut values = Vec::new();
                for (kind, triples) in params {
                    let mut value = Vec::new();
                    for (code, v) in triples {
                        value.push(code);
                        value.push(v.len() as u8);
                        value.extend_from_slice(&v);
                    }
                    values.push((kind, value));
                }
                let mut body = fixed;
                let short_len: usize = values.iter().map(|(_, v)| 2 + v.len()).sum();
                if extended || short_len > 255 {
                    let len: usize = values.iter().map(|(_, v)| 3 + v.len()).sum();
                    body.extend_from_slice(&[255, 255]);
                    body.extend_from_slice(&(len as u16).to_be_bytes());
                    for (kind, value) in values {
                        body.push(kind);
                        body.extend_from_slice(&(value.len() as u16).to_be_bytes());
                        body.extend_from_slice(&value);
                    }
                } else {
                    body.push(short_len as u8);
                    for (kind, value) in values {
                        body.push(kind);
                        body.push(value.len() as u8);
                        body.extend_from_slice(&value);
                    }
                }
                body
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_open_encodes_then_decodes_to_itself(open in open()) {
            let body = encoded(&open);
            let extended = body[9] == 255 && body[10] == 255;
            if open.extended_params {
                prop_assert!(extended);
            } else if extended {
                // Only when the short form cannot hold the parameters.
                prop_assert!(u16::from_be_bytes([body[11], body[12]]) > 255);
            }
            let expected = Open { extended_params: extended, ..open };
            prop_assert_eq!(Open::decode(&body), Ok(expected.clone()));
            prop_assert_eq!(encoded(&expected), body);
        }

        #[test]
        fn decoded_bytes_encode_back_exactly(
            mut body in open_body(),
            flip in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
            cut in prop::option::of(any::<prop::sample::Index>()),
        ) {
            if flip.is_none() && cut.is_none() {
                // Well-formed structure: only a capability value can be refused.
                let decoded = Open::decode(&body);
                prop_assert!(
                    matches!(decoded, Ok(_) | Err(OpenError::MalformedCapability { .. })),
                    "{:?}",
                    decoded
                );
            }
            if let Some((at, byte)) = flip {
                let at = at.index(body.len());
                body[at] = byte;
            }
            if let Some(at) = cut {
                body.truncate(at.index(body.len() + 1));
            }
            if let Ok(open) = Open::decode(&body) {
                prop_assert_eq!(encoded(&open), body);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(open) = Open::decode(&body) {
                prop_assert_eq!(encoded(&open), body);
            }
        }

        #[test]
        fn arbitrary_opens_validate_and_negotiate_without_panicking(
            a in open(),
            b in open(),
            expected in prop::option::of(any::<u32>()),
        ) {
            let _ = a.validate(expected);
            let ctx = negotiate(&a, &b);
            prop_assert_eq!(ctx.four_octet_as, a.four_octet_as().is_some() && b.four_octet_as().is_some());
            for family in &ctx.add_path_receive {
                prop_assert!(a.add_path_mode(*family).unwrap().receives());
                prop_assert!(b.add_path_mode(*family).unwrap().sends());
            }
        }
    }
}
