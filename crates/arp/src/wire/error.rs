//! The one error type of the wire layer (see [`WireError`] for why there is one).

use std::net::Ipv6Addr;

use super::ethernet::EtherType;

/// A frame that cannot be parsed, or a value that cannot be encoded.
///
/// One error type serves the whole wire layer (Ethernet, ARP, IPv6, ICMPv6 and
/// [`Frame`](crate::Frame)) rather than one per protocol: [`Frame::parse`] crosses
/// every layer in one call, and its caller tells frames of other kinds
/// ([`WireError::NotArpOrNdisc`], expected on a packet socket) from malformed ones
/// with one `match`. Every variant is `Copy` and carries the offending value, never
/// the input bytes.
///
/// [`Frame::parse`]: crate::Frame::parse
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ends before a header, or before the length a header field gives.
    #[error("{what} truncated: {len} bytes where {needed} are needed")]
    Truncated {
        /// The header or message that is cut short.
        what: &'static str,
        /// The bytes available.
        len: usize,
        /// The bytes it needs.
        needed: usize,
    },
    /// The output buffer given to `emit` is shorter than the value's encoding.
    #[error("output buffer of {len} bytes, {needed} needed")]
    BufferTooShort {
        /// The buffer's length.
        len: usize,
        /// The encoding's length.
        needed: usize,
    },
    /// The frame is neither ARP nor an ICMPv6 Neighbor Solicitation or Advertisement
    /// directly inside IPv6: another ethertype, another IPv6 next header, or another
    /// ICMPv6 type. Frames of this kind are expected on a packet socket and are not
    /// malformed.
    #[error("not an ARP, Neighbor Solicitation or Neighbor Advertisement frame")]
    NotArpOrNdisc,
    /// An ARP packet whose hardware type is not Ethernet (1).
    #[error("ARP hardware type {0} is not Ethernet (1)")]
    ArpHardwareType(u16),
    /// An ARP packet whose protocol type is not IPv4 (0x0800).
    #[error("ARP protocol type {0:#06x} is not IPv4 (0x0800)")]
    ArpProtocolType(u16),
    /// An ARP packet whose address lengths are not 6 (Ethernet) and 4 (IPv4).
    #[error("ARP address lengths {hlen}/{plen}, expected 6/4")]
    ArpAddressLengths {
        /// The hardware address length field.
        hlen: u8,
        /// The protocol address length field.
        plen: u8,
    },
    /// An IPv6 header whose version field is not 6.
    #[error("IP version {0} in an IPv6 header")]
    Ipv6Version(u8),
    /// An IPv6 payload longer than the 16-bit payload length field can say.
    #[error("IPv6 payload of {0} bytes (at most 65535)")]
    Ipv6PayloadTooLong(usize),
    /// A Neighbor Solicitation or Advertisement whose IPv6 hop limit is not 255: it
    /// may come from off-link, and RFC 4861 §7.1.1 and §7.1.2 make it invalid.
    #[error("Neighbor Discovery message with hop limit {0} (must be 255)")]
    Ipv6HopLimit(u8),
    /// A Neighbor Discovery frame to encode whose IPv6 next header is not ICMPv6 (58).
    #[error("IPv6 next header {0} for a Neighbor Discovery message (must be 58)")]
    Ipv6NextHeader(u8),
    /// A Neighbor Discovery frame to encode whose IPv6 payload length is not the
    /// length of its ICMPv6 message.
    #[error("IPv6 payload length {header} for an ICMPv6 message of {message} bytes")]
    Ipv6PayloadLength {
        /// The payload length in the IPv6 header.
        header: usize,
        /// The ICMPv6 message's length.
        message: usize,
    },
    /// A frame to encode whose ethertype does not match its payload.
    #[error("ethertype {found} for a payload of type {expected}")]
    EthertypeMismatch {
        /// The ethertype the payload calls for.
        expected: EtherType,
        /// The ethertype in the Ethernet header.
        found: EtherType,
    },
    /// An untagged Ethernet header to encode with the 802.1Q ethertype: the tag goes in
    /// [`EthernetRepr::vlan`](crate::EthernetRepr::vlan).
    #[error("the 802.1Q ethertype without a VLAN tag")]
    VlanWithoutTag,
    /// A VLAN priority code point above 7 (it has 3 bits).
    #[error("VLAN priority {0} (at most 7)")]
    VlanPriority(u8),
    /// A VLAN identifier above 4095 (it has 12 bits).
    #[error("VLAN identifier {0} (at most 4095)")]
    VlanId(u16),
    /// An ICMPv6 message that is not a Neighbor Solicitation (135) or Advertisement
    /// (136), given to the Neighbor Discovery parser.
    #[error("ICMPv6 type {0} is not a Neighbor Solicitation or Advertisement")]
    Icmpv6Type(u8),
    /// A Neighbor Solicitation or Advertisement whose ICMPv6 code is not 0.
    #[error("ICMPv6 code {0} in a Neighbor Discovery message (must be 0)")]
    Icmpv6Code(u8),
    /// An ICMPv6 checksum that does not match the message and its IPv6 pseudo-header.
    #[error("ICMPv6 checksum {found:#06x}, computed {computed:#06x}")]
    Icmpv6Checksum {
        /// The checksum in the message.
        found: u16,
        /// The checksum of the message as received.
        computed: u16,
    },
    /// A Neighbor Discovery option whose length field is 0 (RFC 4861 §4.6).
    #[error("Neighbor Discovery option type {kind} with length 0")]
    NdiscOptionZeroLength {
        /// The option type.
        kind: u8,
    },
    /// A Neighbor Discovery option that runs past the end of the message.
    #[error("Neighbor Discovery option of {len} bytes where {left} remain")]
    NdiscOptionOverrun {
        /// The option's length in bytes (its length field times 8; 2 when even the
        /// type and length bytes do not fit).
        len: usize,
        /// The bytes left in the message.
        left: usize,
    },
    /// A source or target link-layer address option whose length is not 1 (8 bytes,
    /// the size for an Ethernet address, RFC 4861 §4.6.1, RFC 2464 §6).
    #[error("link-layer address option of length {0} (must be 1 on Ethernet)")]
    NdiscLladdrLength(u8),
    /// A Neighbor Solicitation or Advertisement whose target is a multicast address.
    #[error("Neighbor Discovery target {0} is a multicast address")]
    NdiscTargetMulticast(Ipv6Addr),
    /// A Neighbor Solicitation from the unspecified address (duplicate address
    /// detection) whose destination is not a solicited-node multicast address.
    #[error("Neighbor Solicitation from :: to {0}, not a solicited-node address")]
    NdiscDadDestination(Ipv6Addr),
    /// A Neighbor Solicitation from the unspecified address that carries a source
    /// link-layer address option.
    #[error("Neighbor Solicitation from :: with a source link-layer address")]
    NdiscDadWithLladdr,
    /// A Neighbor Advertisement with the Solicited flag sent to a multicast address.
    #[error("solicited Neighbor Advertisement to the multicast address {0}")]
    NdiscSolicitedToMulticast(Ipv6Addr),
    /// A string that is not a MAC address of six two-digit hexadecimal groups.
    #[error("not a MAC address (expected six hexadecimal pairs such as 02:00:5e:10:00:01)")]
    InvalidMacAddr,
}
