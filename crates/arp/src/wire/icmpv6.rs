//! ICMPv6 (RFC 4443) and its Neighbor Solicitation and Advertisement messages
//! (RFC 4861 §4.3, §4.4), with the link-layer address options (§4.6.1).
//!
//! ```text
//!  0       1       2               4 5                     8                24
//! +-------+-------+---------------+-+-+-+-----------------+-----------------+---------
//! | type  | code  |   checksum    |R|S|O|    reserved     | target address  | options
//! +-------+-------+---------------+-+-+-+-----------------+-----------------+---------
//! ```
//!
//! A Neighbor Solicitation (type 135) has four reserved bytes where an Advertisement
//! (type 136) has its Router, Solicited and Override flags. Each option is a type
//! byte, a length byte in units of 8 bytes (never 0), and its body; on Ethernet a
//! source (type 1) or target (type 2) link-layer address option is 8 bytes: type,
//! length 1, and the MAC address.
//!
//! The checksum covers an IPv6 pseudo-header (source, destination, the ICMPv6
//! length as 32 bits, three zero bytes and next header 58) and the message, as the
//! one's complement of the one's complement sum of 16-bit words (RFC 4443 §2.3,
//! RFC 8200 §8.1).

use std::net::Ipv6Addr;

use super::WireError;
use super::ethernet::{MacAddr, check_buffer, read_u16, write_u16};
use super::ipv6::{Ipv6Repr, ipv6, is_solicited_node_multicast};

/// The byte offsets of the ICMPv6 header and of the Neighbor Discovery fields.
mod field {
    use std::ops::Range;

    pub(super) const TYPE: usize = 0;
    pub(super) const CODE: usize = 1;
    pub(super) const CHECKSUM: Range<usize> = 2..4;
    /// The Router, Solicited and Override flags of an Advertisement (top three bits)
    /// and the reserved bits; all reserved in a Solicitation.
    pub(super) const FLAGS_RESERVED: Range<usize> = 4..8;
    pub(super) const TARGET: Range<usize> = 8..24;
    pub(super) const OPTIONS: usize = TARGET.end;

    pub(super) const HEADER_LEN: usize = CHECKSUM.end;
    pub(super) const NDISC_LEN: usize = OPTIONS;
}

/// The ICMPv6 type of a Neighbor Solicitation.
const TYPE_NEIGHBOR_SOLICIT: u8 = 135;
/// The ICMPv6 type of a Neighbor Advertisement.
const TYPE_NEIGHBOR_ADVERT: u8 = 136;

const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

/// The option types of the source and target link-layer addresses.
const OPTION_SOURCE_LLADDR: u8 = 1;
const OPTION_TARGET_LLADDR: u8 = 2;
/// The length of a link-layer address option for an Ethernet address, in bytes.
const LLADDR_OPTION_LEN: usize = 8;

/// A zero-copy view of an ICMPv6 message: exactly the IPv6 payload, since the
/// checksum covers its length.
///
/// The accessors of a view made with [`Icmpv6Packet::new_unchecked`] panic when the
/// buffer is too short for the field ([`Icmpv6Packet::new_checked`] checks only the
/// 4-byte ICMPv6 header: the Neighbor Discovery accessors need 24 bytes).
/// [`NdiscRepr::parse`] checks the lengths itself and never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// The length of the ICMPv6 header (type, code, checksum).
    pub const HEADER_LEN: usize = field::HEADER_LEN;
    /// The length of a Neighbor Solicitation or Advertisement without options.
    pub const NDISC_LEN: usize = field::NDISC_LEN;

    /// Wraps `buffer` without checking its length.
    pub const fn new_unchecked(buffer: T) -> Icmpv6Packet<T> {
        Icmpv6Packet { buffer }
    }

    /// Wraps `buffer` after [`Icmpv6Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Icmpv6Packet<T>, WireError> {
        let packet = Icmpv6Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the ICMPv6 header.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(WireError::Truncated {
                what: "ICMPv6 header",
                len,
                needed: field::HEADER_LEN,
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message type (135 for a Neighbor Solicitation, 136 for an Advertisement).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// The message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The checksum the message should carry when sent from `src` to `dst`: computed
    /// over the whole buffer with the checksum field taken as zero.
    pub fn compute_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> u16 {
        checksum(src, dst, self.buffer.as_ref())
    }

    /// Whether the checksum field is right for a message from `src` to `dst`: the
    /// one's complement sum over the pseudo-header and the message, checksum
    /// included, is zero (`0xffff`).
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        // The sum without the checksum field is never zero (the pseudo-header holds
        // next header 58), so the field must be its complement, except that a
        // complement of 0x0000 may also be sent as 0xffff, the other zero.
        let (found, computed) = (self.checksum(), self.compute_checksum(src, dst));
        found == computed || (computed == 0 && found == 0xffff)
    }

    /// The Router flag of an Advertisement.
    pub fn router_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS_RESERVED.start] & FLAG_ROUTER != 0
    }

    /// The Solicited flag of an Advertisement.
    pub fn solicited_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS_RESERVED.start] & FLAG_SOLICITED != 0
    }

    /// The Override flag of an Advertisement.
    pub fn override_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS_RESERVED.start] & FLAG_OVERRIDE != 0
    }

    /// The target address of a Solicitation or Advertisement.
    pub fn target_addr(&self) -> Ipv6Addr {
        ipv6(&self.buffer.as_ref()[field::TARGET])
    }

    /// The options of a Solicitation or Advertisement: every byte after the target.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Computes the checksum of the whole buffer for a message from `src` to `dst`
    /// and writes it (call it last).
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        let value = self.compute_checksum(src, dst);
        self.set_checksum(value);
    }

    /// Sets the four bytes after the checksum: the Advertisement flags, with every
    /// reserved bit zero (all false for a Solicitation).
    pub fn set_flags(&mut self, router: bool, solicited: bool, override_: bool) {
        let mut flags = 0;
        for (set, bit) in [
            (router, FLAG_ROUTER),
            (solicited, FLAG_SOLICITED),
            (override_, FLAG_OVERRIDE),
        ] {
            if set {
                flags |= bit;
            }
        }
        self.buffer.as_mut()[field::FLAGS_RESERVED].copy_from_slice(&[flags, 0, 0, 0]);
    }

    /// Sets the target address.
    pub fn set_target_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::TARGET].copy_from_slice(&value.octets());
    }

    /// The options, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::OPTIONS..]
    }
}

/// A Neighbor Solicitation or Advertisement.
///
/// Parsing enforces the validity checks of RFC 4861 §7.1.1 and §7.1.2 that the
/// message and its addresses allow (the hop limit is checked by
/// [`Frame::parse`](crate::Frame::parse)): code 0, a valid checksum, at least 24
/// bytes, a unicast target, no option of length 0, a solicitation from `::` only to
/// a solicited-node address and without a source link-layer address, and no
/// Solicited flag on an advertisement to a multicast address. Options other than the
/// message's own link-layer address option are skipped (after their lengths are
/// checked); of repeated link-layer address options the first counts. Emitting
/// refuses what parsing would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NdiscRepr {
    /// A Neighbor Solicitation (type 135).
    NeighborSolicit {
        /// The address whose link-layer address is asked for.
        target: Ipv6Addr,
        /// The sender's link-layer address (absent in duplicate address detection).
        source_lladdr: Option<MacAddr>,
    },
    /// A Neighbor Advertisement (type 136).
    NeighborAdvert {
        /// The sender is a router.
        router: bool,
        /// The advertisement answers a solicitation.
        solicited: bool,
        /// The advertisement should override a cached link-layer address.
        override_: bool,
        /// The address advertised.
        target: Ipv6Addr,
        /// The target's link-layer address.
        target_lladdr: Option<MacAddr>,
    },
}

impl NdiscRepr {
    /// The target address.
    pub const fn target(&self) -> Ipv6Addr {
        match *self {
            NdiscRepr::NeighborSolicit { target, .. }
            | NdiscRepr::NeighborAdvert { target, .. } => target,
        }
    }

    /// The link-layer address option: the source's of a solicitation, the target's of
    /// an advertisement.
    pub const fn lladdr(&self) -> Option<MacAddr> {
        match *self {
            NdiscRepr::NeighborSolicit { source_lladdr, .. } => source_lladdr,
            NdiscRepr::NeighborAdvert { target_lladdr, .. } => target_lladdr,
        }
    }

    /// Reads the Neighbor Discovery message `packet` (exactly the IPv6 payload), sent
    /// from `src` to `dst`, checking its lengths, code, checksum, options and
    /// addresses.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv6Packet<&T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<NdiscRepr, WireError> {
        packet.check_len()?;
        let kind = packet.msg_type();
        if kind != TYPE_NEIGHBOR_SOLICIT && kind != TYPE_NEIGHBOR_ADVERT {
            return Err(WireError::Icmpv6Type(kind));
        }
        let len = packet.buffer.as_ref().len();
        if len < field::NDISC_LEN {
            return Err(WireError::Truncated {
                what: "Neighbor Discovery message",
                len,
                needed: field::NDISC_LEN,
            });
        }
        if packet.msg_code() != 0 {
            return Err(WireError::Icmpv6Code(packet.msg_code()));
        }
        if !packet.verify_checksum(src, dst) {
            return Err(WireError::Icmpv6Checksum {
                found: packet.checksum(),
                computed: packet.compute_checksum(src, dst),
            });
        }
        let wanted = if kind == TYPE_NEIGHBOR_SOLICIT {
            OPTION_SOURCE_LLADDR
        } else {
            OPTION_TARGET_LLADDR
        };
        let mut lladdr = None;
        let mut options = packet.options();
        while !options.is_empty() {
            let &[option_kind, units, ..] = options else {
                return Err(WireError::NdiscOptionOverrun {
                    len: 2,
                    left: options.len(),
                });
            };
            let option_len = usize::from(units) * 8;
            if option_len == 0 {
                return Err(WireError::NdiscOptionZeroLength { kind: option_kind });
            }
            let Some((option, rest)) = options.split_at_checked(option_len) else {
                return Err(WireError::NdiscOptionOverrun {
                    len: option_len,
                    left: options.len(),
                });
            };
            if option_kind == wanted && lladdr.is_none() {
                if option_len != LLADDR_OPTION_LEN {
                    return Err(WireError::NdiscLladdrLength(units));
                }
                lladdr = Some(MacAddr::from_slice(&option[2..8]));
            }
            options = rest;
        }
        let target = packet.target_addr();
        let repr = if kind == TYPE_NEIGHBOR_SOLICIT {
            NdiscRepr::NeighborSolicit {
                target,
                source_lladdr: lladdr,
            }
        } else {
            NdiscRepr::NeighborAdvert {
                router: packet.router_flag(),
                solicited: packet.solicited_flag(),
                override_: packet.override_flag(),
                target,
                target_lladdr: lladdr,
            }
        };
        repr.check_addresses(src, dst)?;
        Ok(repr)
    }

    /// The message's length: 24 bytes, plus 8 with a link-layer address option.
    pub const fn buffer_len(&self) -> usize {
        match self.lladdr() {
            Some(_) => field::NDISC_LEN + LLADDR_OPTION_LEN,
            None => field::NDISC_LEN,
        }
    }

    /// Writes the message, checksum included, for sending from `src` to `dst` in the
    /// first [`NdiscRepr::buffer_len`] bytes of `packet`'s buffer (the checksum covers
    /// those bytes only: give the IPv6 header that payload length).
    ///
    /// Fails when the buffer is too short, or when parsing would reject the message
    /// (a multicast target, a solicitation from `::` to an address other than a
    /// solicited-node one or with a source link-layer address, a solicited
    /// advertisement to a multicast address).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Icmpv6Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<(), WireError> {
        self.check_addresses(src, dst)?;
        let len = self.buffer_len();
        check_buffer(packet.buffer.as_ref().len(), len)?;
        let mut message = Icmpv6Packet::new_unchecked(&mut packet.buffer.as_mut()[..len]);
        message.set_msg_code(0);
        message.set_checksum(0);
        match *self {
            NdiscRepr::NeighborSolicit { target, .. } => {
                message.set_msg_type(TYPE_NEIGHBOR_SOLICIT);
                message.set_flags(false, false, false);
                message.set_target_addr(target);
            }
            NdiscRepr::NeighborAdvert {
                router,
                solicited,
                override_,
                target,
                ..
            } => {
                message.set_msg_type(TYPE_NEIGHBOR_ADVERT);
                message.set_flags(router, solicited, override_);
                message.set_target_addr(target);
            }
        }
        if let Some(mac) = self.lladdr() {
            let kind = match self {
                NdiscRepr::NeighborSolicit { .. } => OPTION_SOURCE_LLADDR,
                NdiscRepr::NeighborAdvert { .. } => OPTION_TARGET_LLADDR,
            };
            let option = &mut message.options_mut()[..LLADDR_OPTION_LEN];
            option[0] = kind;
            option[1] = (LLADDR_OPTION_LEN / 8) as u8;
            option[2..].copy_from_slice(&mac.0);
        }
        message.fill_checksum(src, dst);
        Ok(())
    }

    /// The checks of RFC 4861 §7.1.1 and §7.1.2 that involve the addresses.
    fn check_addresses(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Result<(), WireError> {
        let target = self.target();
        if target.is_multicast() {
            return Err(WireError::NdiscTargetMulticast(target));
        }
        match *self {
            NdiscRepr::NeighborSolicit { source_lladdr, .. } if src.is_unspecified() => {
                if !is_solicited_node_multicast(dst) {
                    return Err(WireError::NdiscDadDestination(dst));
                }
                if source_lladdr.is_some() {
                    return Err(WireError::NdiscDadWithLladdr);
                }
            }
            NdiscRepr::NeighborAdvert {
                solicited: true, ..
            } if dst.is_multicast() => {
                return Err(WireError::NdiscSolicitedToMulticast(dst));
            }
            _ => {}
        }
        Ok(())
    }
}

/// The ICMPv6 checksum of `message` from `src` to `dst`, with its checksum field
/// (bytes 2 and 3) taken as zero.
fn checksum(src: Ipv6Addr, dst: Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum = pseudo_header_sum(src, dst, message.len());
    sum += sum_words(message.get(..field::CHECKSUM.start).unwrap_or(message));
    sum += sum_words(message.get(field::CHECKSUM.end..).unwrap_or(&[]));
    !fold(sum)
}

/// The sum of the IPv6 pseudo-header's words for an ICMPv6 message of `len` bytes.
fn pseudo_header_sum(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> u64 {
    // The length is a 32-bit field: two words (an ICMPv6 message is below 64 KiB).
    let len = len as u64;
    sum_words(&src.octets())
        + sum_words(&dst.octets())
        + (len >> 16)
        + (len & 0xffff)
        + u64::from(Ipv6Repr::NEXT_HEADER_ICMPV6)
}

/// The sum of the big-endian 16-bit words of `data`, the last odd byte padded with
/// zero. A `u64` cannot overflow for any slice that fits in memory.
fn sum_words(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut sum: u64 = chunks
        .by_ref()
        .map(|w| u64::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds the carries of a sum back into 16 bits (one's complement addition).
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}
