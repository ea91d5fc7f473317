//! Address families and the negotiated session context that decoding and encoding need.

/// An Address Family Identifier (IANA), e.g. 1 for IPv4, 2 for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    /// IPv4 (1).
    Ipv4,
    /// IPv6 (2).
    Ipv6,
    /// Any other value, kept.
    Unknown(u16),
}

impl From<u16> for Afi {
    fn from(value: u16) -> Self {
        match value {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            other => Afi::Unknown(other),
        }
    }
}

impl From<Afi> for u16 {
    fn from(afi: Afi) -> u16 {
        match afi {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::Unknown(other) => other,
        }
    }
}

/// A Subsequent Address Family Identifier (IANA), e.g. 1 for unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safi {
    /// Unicast (1).
    Unicast,
    /// Multicast (2).
    Multicast,
    /// Any other value, kept.
    Unknown(u8),
}

impl From<u8> for Safi {
    fn from(value: u8) -> Self {
        match value {
            1 => Safi::Unicast,
            2 => Safi::Multicast,
            other => Safi::Unknown(other),
        }
    }
}

impl From<Safi> for u8 {
    fn from(safi: Safi) -> u8 {
        match safi {
            Safi::Unicast => 1,
            Safi::Multicast => 2,
            Safi::Unknown(other) => other,
        }
    }
}

/// An address family: AFI and SAFI together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Family {
    /// The address family.
    pub afi: Afi,
    /// The subsequent address family.
    pub safi: Safi,
}

impl Family {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Unicast,
    };
    /// IPv6 unicast.
    pub const IPV6_UNICAST: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Unicast,
    };

    /// A family from its parts.
    pub const fn new(afi: Afi, safi: Safi) -> Family {
        Family { afi, safi }
    }
}

/// An external (eBGP) peer, which RFC 7606 holds to stricter AS_PATH and LOCAL_PREF
/// rules than an internal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternalPeer {
    /// The peer's AS.
    pub asn: u32,
    /// Whether the first AS of every AS_PATH must be the peer's (RFC 4271 §6.3; off for
    /// route servers, which do not prepend their AS).
    pub enforce_first_as: bool,
}

/// What was negotiated with one peer (RFC 4271 §4.2 capabilities) and changes how
/// messages are read and written. Decoding and encoding always take it explicitly:
/// nothing is guessed from the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    /// Both sides announced the 4-octet AS capability (RFC 6793): AS_PATH and
    /// AGGREGATOR carry 4-octet AS numbers and AS4_PATH/AS4_AGGREGATOR are not used.
    pub four_octet_as: bool,
    /// Both sides announced extended messages (RFC 8654): UPDATE and later messages
    /// may be up to 65,535 bytes (OPEN and KEEPALIVE stay within 4,096).
    pub extended_message: bool,
    /// Families whose NLRI carry a path identifier in received messages (RFC 7911:
    /// we announced Receive and the peer Send).
    pub add_path_receive: Vec<Family>,
    /// Families whose NLRI carry a path identifier in sent messages (we announced
    /// Send and the peer Receive).
    pub add_path_send: Vec<Family>,
    /// Families whose NLRI may have a next hop of another family (RFC 8950), as
    /// `(nlri family, next-hop AFI)`.
    pub extended_next_hop: Vec<(Family, Afi)>,
    /// `Some` on an external session: LOCAL_PREF is discarded (RFC 7606 §7.5), and an
    /// AS_PATH with confederation segments or (when enforced) a first AS other than the
    /// peer's is treat-as-withdraw (RFC 7606 §7.2). The OPENs do not tell this; the
    /// session sets it.
    pub external: Option<ExternalPeer>,
}

impl SessionContext {
    /// The context before any OPEN was exchanged: 2-octet AS, 4,096-byte messages,
    /// no ADD-PATH, no extended next hop.
    pub fn legacy() -> SessionContext {
        SessionContext {
            four_octet_as: false,
            extended_message: false,
            add_path_receive: Vec::new(),
            add_path_send: Vec::new(),
            extended_next_hop: Vec::new(),
            external: None,
        }
    }

    /// The context of a modern peer: 4-octet AS, no extended messages, no ADD-PATH.
    pub fn modern() -> SessionContext {
        SessionContext {
            four_octet_as: true,
            ..SessionContext::legacy()
        }
    }

    /// The largest message allowed for `kind` (RFC 8654 §4: OPEN and KEEPALIVE never
    /// exceed 4,096 bytes).
    pub fn max_message_len(&self, kind: crate::MessageType) -> usize {
        use crate::MessageType;
        match kind {
            MessageType::Open | MessageType::Keepalive => crate::MAX_MESSAGE_LEN,
            _ if self.extended_message => crate::MAX_EXTENDED_MESSAGE_LEN,
            _ => crate::MAX_MESSAGE_LEN,
        }
    }

    /// Whether NLRI of `family` carry path identifiers when received.
    pub fn receives_path_id(&self, family: Family) -> bool {
        self.add_path_receive.contains(&family)
    }

    /// Whether NLRI of `family` carry path identifiers when sent.
    pub fn sends_path_id(&self, family: Family) -> bool {
        self.add_path_send.contains(&family)
    }
}

impl Default for SessionContext {
    fn default() -> Self {
        SessionContext::modern()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_round_trip_and_keep_unknown_values() {
        for v in [1u16, 2, 25, 0xffff] {
            assert_eq!(u16::from(Afi::from(v)), v);
        }
        for v in [1u8, 2, 4, 128, 255] {
            assert_eq!(u8::from(Safi::from(v)), v);
        }
        assert_eq!(Afi::from(25), Afi::Unknown(25));
        assert_eq!(Safi::from(70), Safi::Unknown(70));
    }

    #[test]
    fn message_limits_follow_rfc_8654() {
        use crate::MessageType;
        let ctx = SessionContext {
            extended_message: true,
            ..SessionContext::modern()
        };
        assert_eq!(ctx.max_message_len(MessageType::Update), 65_535);
        assert_eq!(ctx.max_message_len(MessageType::Open), 4_096);
        assert_eq!(ctx.max_message_len(MessageType::Keepalive), 4_096);
        assert_eq!(
            SessionContext::modern().max_message_len(MessageType::Update),
            4_096
        );
    }
}
