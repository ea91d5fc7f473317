//! BGP capabilities (RFC 5492), carried in the OPEN message's Capabilities optional
//! parameter (type 2).
//!
//! The capabilities this crate understands are typed; every other one is kept as raw
//! bytes ([`Capability::Unknown`]) and written back unchanged. Whatever decodes is
//! re-encoded byte for byte, so a value the types cannot represent exactly is kept raw
//! too.
//!
//! # Values that do not have the expected form
//!
//! The RFCs give each capability's length but say nothing about receiving another one.
//! This codec splits the known capabilities in two:
//!
//! - Those that change how later messages are read or which families are exchanged
//!   (multiprotocol 1, extended next hop 5, extended message 6, 4-octet AS 65,
//!   ADD-PATH 69): a value of the wrong length is a decoding error,
//!   [`OpenError::MalformedCapability`] (OPEN Message Error, subcode 0, the capability
//!   as data). Ignoring such a capability would leave the two speakers disagreeing on
//!   the wire format of the session.
//! - The others (route refresh 2, role 9, graceful restart 64, enhanced route refresh
//!   70, long-lived graceful restart 71, FQDN 73): a value of the wrong form is kept as
//!   [`Capability::Unknown`], as a capability that is not understood (RFC 5492 §3).
//!
//! A value of the right length that the types cannot hold exactly is kept as
//! [`Capability::Unknown`] in both groups: a multiprotocol capability whose reserved
//! byte is not zero, an extended next hop entry whose 2-byte NLRI SAFI is above 255, an
//! FQDN that is not UTF-8.

use crate::context::{Afi, Family};
use crate::error::EncodeError;
use crate::open::OpenError;

/// The largest capability value: its length is one byte.
const MAX_VALUE_LEN: usize = 255;

/// A capability code (IANA "Capability Codes" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapabilityCode {
    /// 1: Multiprotocol Extensions (RFC 4760).
    MultiProtocol,
    /// 2: Route Refresh (RFC 2918).
    RouteRefresh,
    /// 5: Extended Next Hop Encoding (RFC 8950).
    ExtendedNextHop,
    /// 6: Extended Message (RFC 8654).
    ExtendedMessage,
    /// 9: BGP Role (RFC 9234).
    Role,
    /// 64: Graceful Restart (RFC 4724).
    GracefulRestart,
    /// 65: Support for 4-octet AS number (RFC 6793).
    FourOctetAs,
    /// 69: ADD-PATH (RFC 7911).
    AddPath,
    /// 70: Enhanced Route Refresh (RFC 7313).
    EnhancedRouteRefresh,
    /// 71: Long-Lived Graceful Restart (RFC 9494).
    LongLivedGracefulRestart,
    /// 73: FQDN (draft-walton-bgp-hostname-capability).
    Fqdn,
    /// Any other code, kept.
    Unknown(u8),
}

impl From<u8> for CapabilityCode {
    fn from(value: u8) -> Self {
        match value {
            1 => CapabilityCode::MultiProtocol,
            2 => CapabilityCode::RouteRefresh,
            5 => CapabilityCode::ExtendedNextHop,
            6 => CapabilityCode::ExtendedMessage,
            9 => CapabilityCode::Role,
            64 => CapabilityCode::GracefulRestart,
            65 => CapabilityCode::FourOctetAs,
            69 => CapabilityCode::AddPath,
            70 => CapabilityCode::EnhancedRouteRefresh,
            71 => CapabilityCode::LongLivedGracefulRestart,
            73 => CapabilityCode::Fqdn,
            other => CapabilityCode::Unknown(other),
        }
    }
}

impl From<CapabilityCode> for u8 {
    fn from(code: CapabilityCode) -> u8 {
        match code {
            CapabilityCode::MultiProtocol => 1,
            CapabilityCode::RouteRefresh => 2,
            CapabilityCode::ExtendedNextHop => 5,
            CapabilityCode::ExtendedMessage => 6,
            CapabilityCode::Role => 9,
            CapabilityCode::GracefulRestart => 64,
            CapabilityCode::FourOctetAs => 65,
            CapabilityCode::AddPath => 69,
            CapabilityCode::EnhancedRouteRefresh => 70,
            CapabilityCode::LongLivedGracefulRestart => 71,
            CapabilityCode::Fqdn => 73,
            CapabilityCode::Unknown(other) => other,
        }
    }
}

/// A BGP role (RFC 9234 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 0: the speaker is its peer's provider.
    Provider,
    /// 1: the speaker is a route server.
    RouteServer,
    /// 2: the speaker is a route server's client.
    RouteServerClient,
    /// 3: the speaker is its peer's customer.
    Customer,
    /// 4: the speaker is a lateral peer.
    Peer,
    /// Any other value, kept.
    Unknown(u8),
}

impl From<u8> for Role {
    fn from(value: u8) -> Self {
        match value {
            0 => Role::Provider,
            1 => Role::RouteServer,
            2 => Role::RouteServerClient,
            3 => Role::Customer,
            4 => Role::Peer,
            other => Role::Unknown(other),
        }
    }
}

impl From<Role> for u8 {
    fn from(role: Role) -> u8 {
        match role {
            Role::Provider => 0,
            Role::RouteServer => 1,
            Role::RouteServerClient => 2,
            Role::Customer => 3,
            Role::Peer => 4,
            Role::Unknown(other) => other,
        }
    }
}

/// The Send/Receive field of an ADD-PATH entry (RFC 7911 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    /// 1: able to receive multiple paths.
    Receive,
    /// 2: able to send multiple paths.
    Send,
    /// 3: both.
    Both,
    /// Any other value, kept (it allows neither direction).
    Unknown(u8),
}

impl AddPathMode {
    /// Whether the speaker can receive multiple paths (Receive or Both).
    pub fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }

    /// Whether the speaker can send multiple paths (Send or Both).
    pub fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
}

impl From<u8> for AddPathMode {
    fn from(value: u8) -> Self {
        match value {
            1 => AddPathMode::Receive,
            2 => AddPathMode::Send,
            3 => AddPathMode::Both,
            other => AddPathMode::Unknown(other),
        }
    }
}

impl From<AddPathMode> for u8 {
    fn from(mode: AddPathMode) -> u8 {
        match mode {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
            AddPathMode::Unknown(other) => other,
        }
    }
}

/// One family of the ADD-PATH capability: AFI (2 bytes), SAFI (1), Send/Receive (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddPathEntry {
    /// The family.
    pub family: Family,
    /// What the speaker can do for it.
    pub mode: AddPathMode,
}

/// One entry of the extended next hop capability (RFC 8950 §3): NLRI AFI (2 bytes),
/// NLRI SAFI (2 bytes on the wire), next-hop AFI (2 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHopEntry {
    /// The family of the NLRI.
    pub family: Family,
    /// The address family the next hop may belong to.
    pub next_hop_afi: Afi,
}

/// The graceful restart capability (RFC 4724 §3, with the N bit of RFC 8538).
///
/// On the wire: 4 bits of Restart Flags, a 12-bit Restart Time, then 4 bytes per
/// family. All four flag bits are kept so that re-encoding is exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GracefulRestart {
    /// R: the speaker has restarted.
    pub restart_state: bool,
    /// N: the speaker supports graceful restart for NOTIFICATION messages (RFC 8538).
    pub notification: bool,
    /// The two low, reserved Restart Flags bits (0 to 3), kept as received.
    pub reserved_flags: u8,
    /// The restart time in seconds (12 bits: 0 to 4,095).
    pub restart_time: u16,
    /// The families whose state the speaker can preserve.
    pub families: Vec<GracefulRestartFamily>,
}

/// One family of the graceful restart capability: AFI (2 bytes), SAFI (1), flags (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GracefulRestartFamily {
    /// The family.
    pub family: Family,
    /// The raw flags byte; bit 0x80 is F, forwarding state preserved
    /// ([`GracefulRestartFamily::forwarding_preserved`]). The others are kept.
    pub flags: u8,
}

impl GracefulRestartFamily {
    /// The F bit: the forwarding state has been preserved.
    pub const FORWARDING_PRESERVED: u8 = 0x80;

    /// A family with only the F bit set or not.
    pub fn new(family: Family, forwarding_preserved: bool) -> GracefulRestartFamily {
        GracefulRestartFamily {
            family,
            flags: if forwarding_preserved {
                Self::FORWARDING_PRESERVED
            } else {
                0
            },
        }
    }

    /// Whether the F bit is set.
    pub fn forwarding_preserved(&self) -> bool {
        self.flags & Self::FORWARDING_PRESERVED != 0
    }
}

/// One family of the long-lived graceful restart capability (RFC 9494 §3): AFI (2
/// bytes), SAFI (1), flags (1), long-lived stale time (3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LongLivedGracefulRestartFamily {
    /// The family.
    pub family: Family,
    /// The raw flags byte; bit 0x80 is F, forwarding state preserved. The others are
    /// kept.
    pub flags: u8,
    /// The long-lived stale time in seconds (24 bits: at most 16,777,215).
    pub stale_time: u32,
}

impl LongLivedGracefulRestartFamily {
    /// The F bit: the forwarding state has been preserved.
    pub const FORWARDING_PRESERVED: u8 = 0x80;

    /// The largest long-lived stale time.
    pub const MAX_STALE_TIME: u32 = 0x00ff_ffff;

    /// Whether the F bit is set.
    pub fn forwarding_preserved(&self) -> bool {
        self.flags & Self::FORWARDING_PRESERVED != 0
    }
}

/// One capability: a code and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// 1 (RFC 4760): the speaker exchanges routes of this family. The reserved byte
    /// is 0 (a non-zero one keeps the capability as [`Capability::Unknown`]).
    MultiProtocol(Family),
    /// 2 (RFC 2918): the speaker accepts ROUTE-REFRESH messages.
    RouteRefresh,
    /// 5 (RFC 8950): NLRI of a family may have a next hop of another family.
    ExtendedNextHop(Vec<ExtendedNextHopEntry>),
    /// 6 (RFC 8654): the speaker accepts messages of up to 65,535 bytes.
    ExtendedMessage,
    /// 9 (RFC 9234): the speaker's role on this session.
    Role(Role),
    /// 64 (RFC 4724): graceful restart.
    GracefulRestart(GracefulRestart),
    /// 65 (RFC 6793): the speaker supports 4-octet AS numbers; its AS.
    FourOctetAs(u32),
    /// 69 (RFC 7911): ADD-PATH, per family.
    AddPath(Vec<AddPathEntry>),
    /// 70 (RFC 7313): enhanced route refresh.
    EnhancedRouteRefresh,
    /// 71 (RFC 9494): long-lived graceful restart, per family (possibly none).
    LongLivedGracefulRestart(Vec<LongLivedGracefulRestartFamily>),
    /// 73 (draft-walton-bgp-hostname-capability): host and domain name, each with a
    /// 1-byte length. A value that is not two such UTF-8 strings filling it exactly is
    /// kept as [`Capability::Unknown`].
    Fqdn {
        /// The host name.
        hostname: String,
        /// The domain name (often empty).
        domain: String,
    },
    /// Any other capability, or a known one whose value the types above cannot hold
    /// exactly (see the module documentation), kept as raw bytes and re-encoded as is.
    Unknown {
        /// The capability code.
        code: u8,
        /// The value.
        value: Vec<u8>,
    },
}

fn afi(hi: u8, lo: u8) -> Afi {
    Afi::from(u16::from_be_bytes([hi, lo]))
}

impl Capability {
    /// The capability's code. For [`Capability::Unknown`] this is its code as
    /// received, which may name a known capability whose value was kept raw.
    pub fn code(&self) -> CapabilityCode {
        match self {
            Capability::MultiProtocol(_) => CapabilityCode::MultiProtocol,
            Capability::RouteRefresh => CapabilityCode::RouteRefresh,
            Capability::ExtendedNextHop(_) => CapabilityCode::ExtendedNextHop,
            Capability::ExtendedMessage => CapabilityCode::ExtendedMessage,
            Capability::Role(_) => CapabilityCode::Role,
            Capability::GracefulRestart(_) => CapabilityCode::GracefulRestart,
            Capability::FourOctetAs(_) => CapabilityCode::FourOctetAs,
            Capability::AddPath(_) => CapabilityCode::AddPath,
            Capability::EnhancedRouteRefresh => CapabilityCode::EnhancedRouteRefresh,
            Capability::LongLivedGracefulRestart(_) => CapabilityCode::LongLivedGracefulRestart,
            Capability::Fqdn { .. } => CapabilityCode::Fqdn,
            Capability::Unknown { code, .. } => CapabilityCode::from(*code),
        }
    }

    /// Decodes one capability from its code and value (the bytes after the length).
    ///
    /// Fails only for a capability that changes the session's wire format and whose
    /// value has the wrong length (see the module documentation).
    pub fn decode(code: u8, value: &[u8]) -> Result<Capability, OpenError> {
        let malformed = || OpenError::MalformedCapability {
            code,
            value: value.to_vec(),
        };
        let unknown = || Capability::Unknown {
            code,
            value: value.to_vec(),
        };
        let capability = match CapabilityCode::from(code) {
            CapabilityCode::MultiProtocol => match *value {
                [a0, a1, 0, safi] => {
                    Capability::MultiProtocol(Family::new(afi(a0, a1), safi.into()))
                }
                [_, _, _, _] => unknown(),
                _ => return Err(malformed()),
            },
            CapabilityCode::RouteRefresh if value.is_empty() => Capability::RouteRefresh,
            CapabilityCode::ExtendedNextHop => {
                if !value.len().is_multiple_of(6) {
                    return Err(malformed());
                }
                let mut entries = Vec::with_capacity(value.len() / 6);
                for entry in value.chunks_exact(6) {
                    if entry[2] != 0 {
                        // A SAFI above 255: none exists and `Safi` cannot hold it.
                        return Ok(unknown());
                    }
                    entries.push(ExtendedNextHopEntry {
                        family: Family::new(afi(entry[0], entry[1]), entry[3].into()),
                        next_hop_afi: afi(entry[4], entry[5]),
                    });
                }
                Capability::ExtendedNextHop(entries)
            }
            CapabilityCode::ExtendedMessage if value.is_empty() => Capability::ExtendedMessage,
            CapabilityCode::ExtendedMessage => return Err(malformed()),
            CapabilityCode::Role => match *value {
                [role] => Capability::Role(role.into()),
                _ => unknown(),
            },
            CapabilityCode::GracefulRestart => match value.split_first_chunk::<2>() {
                Some((&[hi, lo], families)) if families.len().is_multiple_of(4) => {
                    Capability::GracefulRestart(GracefulRestart {
                        restart_state: hi & 0x80 != 0,
                        notification: hi & 0x40 != 0,
                        reserved_flags: (hi >> 4) & 0x03,
                        restart_time: u16::from_be_bytes([hi & 0x0f, lo]),
                        families: families
                            .chunks_exact(4)
                            .map(|f| GracefulRestartFamily {
                                family: Family::new(afi(f[0], f[1]), f[2].into()),
                                flags: f[3],
                            })
                            .collect(),
                    })
                }
                _ => unknown(),
            },
            CapabilityCode::FourOctetAs => match *value {
                [a, b, c, d] => Capability::FourOctetAs(u32::from_be_bytes([a, b, c, d])),
                _ => return Err(malformed()),
            },
            CapabilityCode::AddPath => {
                if !value.len().is_multiple_of(4) {
                    return Err(malformed());
                }
                Capability::AddPath(
                    value
                        .chunks_exact(4)
                        .map(|e| AddPathEntry {
                            family: Family::new(afi(e[0], e[1]), e[2].into()),
                            mode: e[3].into(),
                        })
                        .collect(),
                )
            }
            CapabilityCode::EnhancedRouteRefresh if value.is_empty() => {
                Capability::EnhancedRouteRefresh
            }
            CapabilityCode::LongLivedGracefulRestart if value.len().is_multiple_of(7) => {
                Capability::LongLivedGracefulRestart(
                    value
                        .chunks_exact(7)
                        .map(|f| LongLivedGracefulRestartFamily {
                            family: Family::new(afi(f[0], f[1]), f[2].into()),
                            flags: f[3],
                            stale_time: u32::from_be_bytes([0, f[4], f[5], f[6]]),
                        })
                        .collect(),
                )
            }
            CapabilityCode::Fqdn => decode_fqdn(value).unwrap_or_else(unknown),
            _ => unknown(),
        };
        Ok(capability)
    }

    /// Decodes the value of a Capabilities optional parameter: capability triples
    /// (code, length, value) that fill it exactly.
    pub(crate) fn decode_all(mut bytes: &[u8]) -> Result<Vec<Capability>, OpenError> {
        let mut capabilities = Vec::new();
        while let Some((&[code, len], rest)) = bytes.split_first_chunk::<2>() {
            let Some(value) = rest.get(..usize::from(len)) else {
                return Err(OpenError::OptionalParameters {
                    reason: "a capability overruns its optional parameter",
                });
            };
            capabilities.push(Capability::decode(code, value)?);
            bytes = &rest[usize::from(len)..];
        }
        if !bytes.is_empty() {
            return Err(OpenError::OptionalParameters {
                reason: "a capability header overruns its optional parameter",
            });
        }
        Ok(capabilities)
    }

    /// Appends the capability (code, length and value) to `out`. A value longer than
    /// 255 bytes or a field out of range is an error, and `out` is then left as it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.push(self.code().into());
        out.push(0);
        let result = self.encode_value(out).and_then(|()| {
            let len = out.len() - start - 2;
            u8::try_from(len).map_err(|_| EncodeError::TooLong {
                what: "capability value",
                len,
                max: MAX_VALUE_LEN,
            })
        });
        match result {
            Ok(len) => {
                out[start + 1] = len;
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let put_family_1 = |out: &mut Vec<u8>, family: Family| {
            out.extend_from_slice(&u16::from(family.afi).to_be_bytes());
            out.push(family.safi.into());
        };
        match self {
            Capability::MultiProtocol(family) => {
                out.extend_from_slice(&u16::from(family.afi).to_be_bytes());
                out.push(0);
                out.push(family.safi.into());
            }
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(entries) => {
                for entry in entries {
                    out.extend_from_slice(&u16::from(entry.family.afi).to_be_bytes());
                    out.extend_from_slice(&u16::from(u8::from(entry.family.safi)).to_be_bytes());
                    out.extend_from_slice(&u16::from(entry.next_hop_afi).to_be_bytes());
                }
            }
            Capability::Role(role) => out.push((*role).into()),
            Capability::GracefulRestart(gr) => {
                if gr.restart_time > 0x0fff {
                    return Err(EncodeError::Invalid {
                        what: "graceful restart capability",
                        detail: format!("restart time {} exceeds 4095", gr.restart_time),
                    });
                }
                if gr.reserved_flags > 0x03 {
                    return Err(EncodeError::Invalid {
                        what: "graceful restart capability",
                        detail: format!("reserved flags {:#x} exceed 2 bits", gr.reserved_flags),
                    });
                }
                let flags = (u16::from(gr.restart_state) << 15)
                    | (u16::from(gr.notification) << 14)
                    | (u16::from(gr.reserved_flags) << 12);
                out.extend_from_slice(&(flags | gr.restart_time).to_be_bytes());
                for f in &gr.families {
                    put_family_1(out, f.family);
                    out.push(f.flags);
                }
            }
            Capability::FourOctetAs(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            Capability::AddPath(entries) => {
                for entry in entries {
                    put_family_1(out, entry.family);
                    out.push(entry.mode.into());
                }
            }
            Capability::LongLivedGracefulRestart(families) => {
                for f in families {
                    if f.stale_time > LongLivedGracefulRestartFamily::MAX_STALE_TIME {
                        return Err(EncodeError::Invalid {
                            what: "long-lived graceful restart capability",
                            detail: format!("stale time {} exceeds 24 bits", f.stale_time),
                        });
                    }
                    put_family_1(out, f.family);
                    out.push(f.flags);
                    out.extend_from_slice(&f.stale_time.to_be_bytes()[1..]);
                }
            }
            Capability::Fqdn { hostname, domain } => {
                for (what, name) in [("FQDN hostname", hostname), ("FQDN domain", domain)] {
                    let len = u8::try_from(name.len()).map_err(|_| EncodeError::TooLong {
                        what,
                        len: name.len(),
                        max: MAX_VALUE_LEN,
                    })?;
                    out.push(len);
                    out.extend_from_slice(name.as_bytes());
                }
            }
            Capability::Unknown { value, .. } => out.extend_from_slice(value),
        }
        Ok(())
    }
}

/// The FQDN value, or `None` when it is not two length-prefixed UTF-8 strings that fill
/// it exactly.
fn decode_fqdn(value: &[u8]) -> Option<Capability> {
    let (&host_len, rest) = value.split_first()?;
    let hostname = rest.get(..usize::from(host_len))?;
    let rest = &rest[usize::from(host_len)..];
    let (&domain_len, domain) = rest.split_first()?;
    if domain.len() != usize::from(domain_len) {
        return None;
    }
    Some(Capability::Fqdn {
        hostname: std::str::from_utf8(hostname).ok()?.to_owned(),
        domain: std::str::from_utf8(domain).ok()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Safi;
    use crate::notification::{ErrorCode, OpenSubcode};

    fn encoded(capability: &Capability) -> Vec<u8> {
        let mut out = Vec::new();
        capability.encode(&mut out).expect("encodable");
        out
    }

    /// Decodes one capability triple and checks it encodes back to the same bytes.
    fn round_trip(bytes: &[u8]) -> Capability {
        let capabilities = Capability::decode_all(bytes).expect("decodes");
        assert_eq!(capabilities.len(), 1);
        assert_eq!(encoded(&capabilities[0]), bytes);
        capabilities.into_iter().next().unwrap()
    }

    #[test]
    fn code_points_round_trip_and_keep_unknown_values() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(CapabilityCode::from(v)), v);
            assert_eq!(u8::from(Role::from(v)), v);
            assert_eq!(u8::from(AddPathMode::from(v)), v);
        }
        assert_eq!(CapabilityCode::from(65), CapabilityCode::FourOctetAs);
        assert_eq!(CapabilityCode::from(128), CapabilityCode::Unknown(128));
        assert_eq!(Role::from(3), Role::Customer);
        assert_eq!(Role::from(5), Role::Unknown(5));
        assert_eq!(AddPathMode::from(0), AddPathMode::Unknown(0));
        assert!(AddPathMode::Both.sends() && AddPathMode::Both.receives());
        assert!(AddPathMode::Receive.receives() && !AddPathMode::Receive.sends());
        assert!(!AddPathMode::Unknown(4).receives() && !AddPathMode::Unknown(4).sends());
    }

    #[test]
    fn each_known_capability_decodes_and_encodes_exactly() {
        #[rustfmt::skip]
        let cases: Vec<(Vec<u8>, Capability)> = vec![
            (vec![1, 4, 0, 2, 0, 1], Capability::MultiProtocol(Family::IPV6_UNICAST)),
            (vec![2, 0], Capability::RouteRefresh),
            (
                vec![
                    5, 12,
                    0, 1, 0, 1, 0, 2,    // IPv4 unicast over an IPv6 next hop
                    0, 1, 0, 128, 0, 2,  // IPv4 SAFI 128 over an IPv6 next hop
                ],
                Capability::ExtendedNextHop(vec![
                    ExtendedNextHopEntry { family: Family::IPV4_UNICAST, next_hop_afi: Afi::Ipv6 },
                    ExtendedNextHopEntry {
                        family: Family::new(Afi::Ipv4, Safi::Unknown(128)),
                        next_hop_afi: Afi::Ipv6,
                    },
                ]),
            ),
            (vec![6, 0], Capability::ExtendedMessage),
            (vec![9, 1, 4], Capability::Role(Role::Peer)),
            (
                vec![
                    64, 10,
                    0xc0, 0x78,          // R and N set, restart time 120
                    0, 1, 1, 0x80,       // IPv4 unicast, forwarding preserved
                    0, 2, 1, 0x00,       // IPv6 unicast
                ],
                Capability::GracefulRestart(GracefulRestart {
                    restart_state: true,
                    notification: true,
                    reserved_flags: 0,
                    restart_time: 120,
                    families: vec![
                        GracefulRestartFamily::new(Family::IPV4_UNICAST, true),
                        GracefulRestartFamily::new(Family::IPV6_UNICAST, false),
                    ],
                }),
            ),
            (
                vec![
                    64, 2,
                    0x3f, 0xff,          // reserved flag bits set, restart time 4095
                ],
                Capability::GracefulRestart(GracefulRestart {
                    restart_state: false,
                    notification: false,
                    reserved_flags: 3,
                    restart_time: 4095,
                    families: vec![],
                }),
            ),
            (vec![65, 4, 0xfa, 0x56, 0xea, 0x01], Capability::FourOctetAs(4_200_000_001)),
            (
                vec![69, 8, 0, 1, 1, 3, 0, 2, 1, 7],
                Capability::AddPath(vec![
                    AddPathEntry { family: Family::IPV4_UNICAST, mode: AddPathMode::Both },
                    AddPathEntry { family: Family::IPV6_UNICAST, mode: AddPathMode::Unknown(7) },
                ]),
            ),
            (vec![70, 0], Capability::EnhancedRouteRefresh),
            (
                vec![
                    71, 7,
                    0, 2, 1,             // IPv6 unicast
                    0x80,                // F
                    0xff, 0xff, 0xff,    // stale time 16,777,215
                ],
                Capability::LongLivedGracefulRestart(vec![LongLivedGracefulRestartFamily {
                    family: Family::IPV6_UNICAST,
                    flags: 0x80,
                    stale_time: LongLivedGracefulRestartFamily::MAX_STALE_TIME,
                }]),
            ),
            (vec![71, 0], Capability::LongLivedGracefulRestart(vec![])),
            (
                vec![73, 13, 2, b'r', b'1', 9, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'n'],
                Capability::Fqdn { hostname: "r1".into(), domain: "example.n".into() },
            ),
            (vec![128, 0], Capability::Unknown { code: 128, value: vec![] }),
            (vec![200, 3, 1, 2, 3], Capability::Unknown { code: 200, value: vec![1, 2, 3] }),
        ];
        for (bytes, expected) in cases {
            assert_eq!(round_trip(&bytes), expected, "{bytes:?}");
            assert_eq!(encoded(&expected), bytes);
        }
    }

    #[test]
    fn the_graceful_restart_and_llgr_flags_are_read() {
        let Capability::GracefulRestart(gr) = round_trip(&[64, 6, 0x80, 0x05, 0, 1, 1, 0x81])
        else {
            panic!("not graceful restart");
        };
        assert!(gr.restart_state && !gr.notification);
        assert_eq!(gr.restart_time, 5);
        assert!(gr.families[0].forwarding_preserved());
        assert_eq!(gr.families[0].flags, 0x81);
        let Capability::LongLivedGracefulRestart(families) =
            round_trip(&[71, 7, 0, 1, 1, 0x80, 0, 0, 10])
        else {
            panic!("not LLGR");
        };
        assert!(families[0].forwarding_preserved());
        assert_eq!(families[0].stale_time, 10);
    }

    #[test]
    fn odd_values_of_lenient_capabilities_are_kept_raw() {
        for bytes in [
            &[2u8, 1, 0][..],           // route refresh with a value
            &[70, 2, 0, 0],             // enhanced route refresh with a value
            &[9, 0],                    // role without a value
            &[9, 2, 0, 1],              // role of two bytes
            &[64, 1, 0],                // graceful restart without its time
            &[64, 5, 0, 120, 0, 1, 1],  // graceful restart with a partial family
            &[71, 6, 0, 1, 1, 0, 0, 0], // LLGR with a partial family
            &[73, 0],                   // FQDN without lengths
            &[73, 3, 1, b'a', 1],       // FQDN domain overrun
            &[73, 4, 1, b'a', 0, 0],    // FQDN with a trailing byte
            &[73, 4, 1, 0xff, 1, b'x'], // FQDN hostname not UTF-8
            &[73, 3, 5, b'a', b'b'],    // FQDN hostname overrun
            &[1, 4, 0, 1, 1, 1],        // multiprotocol with a reserved byte
            &[5, 6, 0, 1, 1, 0, 0, 2],  // extended next hop NLRI SAFI 256
        ] {
            let capability = round_trip(bytes);
            assert_eq!(
                capability,
                Capability::Unknown {
                    code: bytes[0],
                    value: bytes[2..].to_vec()
                },
                "{bytes:?}"
            );
            assert_eq!(u8::from(capability.code()), bytes[0]);
        }
    }

    #[test]
    fn wrong_lengths_of_format_changing_capabilities_are_errors() {
        for bytes in [
            &[1u8, 3, 0, 1, 1][..],
            &[1, 5, 0, 1, 0, 1, 0],
            &[5, 4, 0, 1, 0, 1],
            &[6, 1, 0],
            &[65, 2, 0xfd, 0xe8],
            &[65, 0],
            &[69, 3, 0, 1, 1],
        ] {
            let err = Capability::decode_all(bytes).unwrap_err();
            assert_eq!(
                err,
                OpenError::MalformedCapability {
                    code: bytes[0],
                    value: bytes[2..].to_vec()
                }
            );
            let notification = err.notification();
            assert_eq!(notification.error, ErrorCode::Open(OpenSubcode::Unspecific));
            assert_eq!(notification.data, bytes, "the capability is the data");
        }
    }

    #[test]
    fn capability_triples_must_fill_the_parameter() {
        assert_eq!(Capability::decode_all(&[]), Ok(vec![]));
        for bytes in [&[2u8][..], &[2, 1], &[65, 4, 0, 0, 0], &[2, 0, 70]] {
            assert!(
                matches!(
                    Capability::decode_all(bytes),
                    Err(OpenError::OptionalParameters { .. })
                ),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn values_that_do_not_fit_are_encoding_errors() {
        let mut out = vec![0xaa];
        let too_long = Capability::Unknown {
            code: 200,
            value: vec![0; 256],
        };
        assert_eq!(
            too_long.encode(&mut out),
            Err(EncodeError::TooLong {
                what: "capability value",
                len: 256,
                max: 255
            })
        );
        assert_eq!(out, [0xaa], "left as it was");
        let max = Capability::Unknown {
            code: 200,
            value: vec![0; 255],
        };
        assert_eq!(encoded(&max).len(), 257);

        let gr = |restart_time, reserved_flags| {
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                reserved_flags,
                restart_time,
                families: vec![],
            })
        };
        assert!(matches!(
            gr(4096, 0).encode(&mut out),
            Err(EncodeError::Invalid { .. })
        ));
        assert!(matches!(
            gr(0, 4).encode(&mut out),
            Err(EncodeError::Invalid { .. })
        ));
        let llgr = Capability::LongLivedGracefulRestart(vec![LongLivedGracefulRestartFamily {
            family: Family::IPV4_UNICAST,
            flags: 0,
            stale_time: 1 << 24,
        }]);
        assert!(matches!(
            llgr.encode(&mut out),
            Err(EncodeError::Invalid { .. })
        ));
        let fqdn = Capability::Fqdn {
            hostname: "h".repeat(256),
            domain: String::new(),
        };
        assert!(matches!(
            fqdn.encode(&mut out),
            Err(EncodeError::TooLong { .. })
        ));
        let fqdn = Capability::Fqdn {
            hostname: "h".repeat(200),
            domain: "d".repeat(60),
        };
        assert!(matches!(
            fqdn.encode(&mut out),
            Err(EncodeError::TooLong {
                what: "capability value",
                ..
            })
        ));
        let many = Capability::AddPath(vec![
            AddPathEntry {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::Both
            };
            64
        ]);
        assert!(matches!(
            many.encode(&mut out),
            Err(EncodeError::TooLong { len: 256, .. })
        ));
        assert_eq!(out, [0xaa]);
    }
}
