//! The fixed IPv6 header (RFC 8200 §3), and the multicast addresses Neighbor
//! Discovery uses.
//!
//! ```text
//!  0       4               12                      24              32
//! +-------+---------------+-----------------------------------------+
//! |version| traffic class |               flow label                |
//! +-------+---------------+-------+---------------+-----------------+
//! |        payload length         |  next header  |    hop limit    |
//! +-------------------------------+---------------+-----------------+
//! |                 source address (16 bytes, offset 8)             |
//! |              destination address (16 bytes, offset 24)          |
//! +-----------------------------------------------------------------+
//! ```

use std::net::Ipv6Addr;

use super::WireError;
use super::ethernet::{check_buffer, read_u16, write_u16};
use super::icmpv6::NdiscRepr;

/// The byte offsets of the IPv6 header's fields.
mod field {
    use std::ops::Range;

    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub(super) const VER_TC_FLOW: Range<usize> = 0..4;
    pub(super) const PAYLOAD_LEN: Range<usize> = 4..6;
    pub(super) const NEXT_HEADER: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SOURCE: Range<usize> = 8..24;
    pub(super) const DESTINATION: Range<usize> = 24..40;

    pub(super) const HEADER_LEN: usize = DESTINATION.end;
}

/// The all-nodes link-local multicast address, `ff02::1`: the destination of an
/// unsolicited Neighbor Advertisement.
pub const ALL_NODES_MULTICAST: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The solicited-node multicast address of `addr`, `ff02::1:ffXX:XXXX` with its low
/// 24 bits (RFC 4291 §2.7.1): where a Neighbor Solicitation for `addr` is sent.
pub const fn solicited_node_multicast(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | o[13] as u16,
        (o[14] as u16) << 8 | o[15] as u16,
    )
}

/// Whether `addr` is a solicited-node multicast address (`ff02::1:ff00:0/104`).
pub const fn is_solicited_node_multicast(addr: Ipv6Addr) -> bool {
    let o = addr.octets();
    matches!(
        [
            o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12]
        ],
        [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]
    )
}

/// A zero-copy view of an IPv6 packet.
///
/// The accessors of a view made with [`Ipv6Packet::new_unchecked`] panic when the
/// buffer is too short for the field; [`Ipv6Packet::new_checked`] makes them safe.
/// [`Ipv6Repr::parse`] checks the length itself and never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// The length of the fixed header.
    pub const HEADER_LEN: usize = field::HEADER_LEN;

    /// Wraps `buffer` without checking its length.
    pub const fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    /// Wraps `buffer` after [`Ipv6Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>, WireError> {
        let packet = Ipv6Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the header and the payload length it announces.
    /// Bytes after the payload (Ethernet padding) are allowed.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        let needed = if len < field::HEADER_LEN {
            field::HEADER_LEN
        } else {
            field::HEADER_LEN + usize::from(self.payload_len())
        };
        if len < needed {
            return Err(WireError::Truncated {
                what: "IPv6 packet",
                len,
                needed,
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (6).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW.start] >> 4
    }

    /// The traffic class.
    pub fn traffic_class(&self) -> u8 {
        (read_u16(self.buffer.as_ref(), field::VER_TC_FLOW.start) >> 4) as u8
    }

    /// The 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x000f_ffff
    }

    /// The payload length field.
    pub fn payload_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::PAYLOAD_LEN.start)
    }

    /// The next header (58 for ICMPv6).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        ipv6(&self.buffer.as_ref()[field::SOURCE])
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        ipv6(&self.buffer.as_ref()[field::DESTINATION])
    }

    /// The payload: exactly the payload length's bytes, without trailing padding.
    pub fn payload(&self) -> &[u8] {
        let end = field::HEADER_LEN + usize::from(self.payload_len());
        &self.buffer.as_ref()[field::HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets the version field.
    pub fn set_version(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_TC_FLOW.start];
        *b = (*b & 0x0f) | value << 4;
    }

    /// Sets the traffic class.
    pub fn set_traffic_class(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_TC_FLOW];
        b[0] = (b[0] & 0xf0) | value >> 4;
        b[1] = (b[1] & 0x0f) | value << 4;
    }

    /// Sets the flow label (its low 20 bits).
    pub fn set_flow_label(&mut self, value: u32) {
        let b = &mut self.buffer.as_mut()[field::VER_TC_FLOW];
        let [_, hi, mid, lo] = value.to_be_bytes();
        b[1] = (b[1] & 0xf0) | (hi & 0x0f);
        b[2] = mid;
        b[3] = lo;
    }

    /// Sets the payload length field.
    pub fn set_payload_len(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::PAYLOAD_LEN.start, value);
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&value.octets());
    }

    /// The payload, mutably (the payload length's bytes: set that first).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = field::HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[field::HEADER_LEN..end]
    }
}

/// A parsed IPv6 header. The traffic class and the flow label are not kept: they are
/// ignored on parsing and written as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// The source address.
    pub src: Ipv6Addr,
    /// The destination address.
    pub dst: Ipv6Addr,
    /// The next header (58 for ICMPv6).
    pub next_header: u8,
    /// The payload's length.
    pub payload_len: usize,
    /// The hop limit.
    pub hop_limit: u8,
}

impl Ipv6Repr {
    /// The next header value of ICMPv6.
    pub const NEXT_HEADER_ICMPV6: u8 = 58;
    /// The hop limit of every Neighbor Discovery message (RFC 4861 §7.1).
    pub const NDISC_HOP_LIMIT: u8 = 255;

    /// The header of a Neighbor Discovery message `ndisc` from `src` to `dst`: next
    /// header 58, hop limit 255, and the message's length.
    pub fn ndisc(src: Ipv6Addr, dst: Ipv6Addr, ndisc: &NdiscRepr) -> Ipv6Repr {
        Ipv6Repr {
            src,
            dst,
            next_header: Self::NEXT_HEADER_ICMPV6,
            payload_len: ndisc.buffer_len(),
            hop_limit: Self::NDISC_HOP_LIMIT,
        }
    }

    /// Reads the header of `packet`, checking its length (the header and the payload
    /// length) and its version first. Any next header is accepted.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&T>) -> Result<Ipv6Repr, WireError> {
        packet.check_len()?;
        if packet.version() != 6 {
            return Err(WireError::Ipv6Version(packet.version()));
        }
        Ok(Ipv6Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
        })
    }

    /// The header's length, 40.
    pub const fn buffer_len(&self) -> usize {
        field::HEADER_LEN
    }

    /// Writes the header at the start of `packet`'s buffer, which must hold
    /// [`Ipv6Repr::buffer_len`] bytes; the payload follows at
    /// [`Ipv6Packet::payload_mut`]. Fails when the payload length exceeds 65535.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Ipv6Packet<T>,
    ) -> Result<(), WireError> {
        let payload_len = u16::try_from(self.payload_len)
            .map_err(|_| WireError::Ipv6PayloadTooLong(self.payload_len))?;
        check_buffer(packet.buffer.as_ref().len(), self.buffer_len())?;
        packet.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&[0x60, 0, 0, 0]);
        packet.set_payload_len(payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        Ok(())
    }
}

/// The IPv6 address in a 16-byte field (length-checked by the caller).
pub(crate) fn ipv6(bytes: &[u8]) -> Ipv6Addr {
    let mut octets = [0; 16];
    let n = bytes.len().min(16);
    octets[..n].copy_from_slice(&bytes[..n]);
    Ipv6Addr::from(octets)
}
