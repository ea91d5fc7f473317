//! ARP (RFC 826), and the checked representation of its Ethernet/IPv4 form.
//!
//! ```text
//!  0       2       4   5   6       8             8+h     8+h+p         8+2h+p    8+2(h+p)
//! +-------+-------+---+---+-------+-------------+-------+-------------+---------+
//! | htype | ptype | h | p | oper  | sender HW   | snd P | target HW   | tgt P   |
//! +-------+-------+---+---+-------+-------------+-------+-------------+---------+
//! ```
//!
//! Over Ethernet for IPv4, `htype` is 1, `ptype` 0x0800, `h` 6 and `p` 4, and the packet
//! is 28 bytes. RFC 5227 gives the sender and target fields their conflict-detection
//! meaning: a probe has sender IP 0.0.0.0, an announcement has sender IP equal to
//! target IP.

use std::fmt;
use std::net::Ipv4Addr;

use super::WireError;
use super::ethernet::{EtherType, MacAddr, check_buffer, read_u16, write_u16};

/// The byte offsets of the ARP fields. The addresses follow at offsets that depend
/// on the two length fields.
mod field {
    use std::ops::Range;

    pub(super) const HTYPE: Range<usize> = 0..2;
    pub(super) const PTYPE: Range<usize> = 2..4;
    pub(super) const HLEN: usize = 4;
    pub(super) const PLEN: usize = 5;
    pub(super) const OPER: Range<usize> = 6..8;
    /// Where the addresses start.
    pub(super) const ADDRESSES: usize = OPER.end;

    pub(super) const fn sha(hlen: u8, _plen: u8) -> Range<usize> {
        let start = ADDRESSES;
        start..start + hlen as usize
    }

    pub(super) const fn spa(hlen: u8, plen: u8) -> Range<usize> {
        let start = sha(hlen, plen).end;
        start..start + plen as usize
    }

    pub(super) const fn tha(hlen: u8, plen: u8) -> Range<usize> {
        let start = spa(hlen, plen).end;
        start..start + hlen as usize
    }

    pub(super) const fn tpa(hlen: u8, plen: u8) -> Range<usize> {
        let start = tha(hlen, plen).end;
        start..start + plen as usize
    }
}

/// The ARP hardware type of Ethernet.
const HARDWARE_ETHERNET: u16 = 1;
/// The lengths of an Ethernet and an IPv4 address.
const HLEN_ETHERNET: u8 = 6;
const PLEN_IPV4: u8 = 4;

/// An ARP operation code.
///
/// Convert with `From<u16>` both ways; `Unknown` should only hold values other than
/// 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    /// A request, 1.
    Request,
    /// A reply, 2.
    Reply,
    /// Any other code (RARP, InARP, …).
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(value: u16) -> ArpOperation {
        match value {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(value: ArpOperation) -> u16 {
        match value {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(other) => other,
        }
    }
}

impl fmt::Display for ArpOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArpOperation::Request => f.write_str("request"),
            ArpOperation::Reply => f.write_str("reply"),
            ArpOperation::Unknown(other) => write!(f, "operation {other}"),
        }
    }
}

/// A zero-copy view of an ARP packet of any hardware and protocol type.
///
/// The accessors of a view made with [`ArpPacket::new_unchecked`] panic when the
/// buffer is too short for the field; [`ArpPacket::new_checked`] makes them safe.
/// [`ArpRepr::parse`] checks the length itself and never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without checking its length.
    pub const fn new_unchecked(buffer: T) -> ArpPacket<T> {
        ArpPacket { buffer }
    }

    /// Wraps `buffer` after [`ArpPacket::check_len`].
    pub fn new_checked(buffer: T) -> Result<ArpPacket<T>, WireError> {
        let packet = ArpPacket::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the fixed fields and the four addresses their
    /// lengths announce. Bytes after them (Ethernet padding) are allowed.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        let needed = if len < field::ADDRESSES {
            field::ADDRESSES
        } else {
            self.packet_len()
        };
        if len < needed {
            return Err(WireError::Truncated {
                what: "ARP packet",
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

    /// The length the fields announce: 8 plus twice each address length.
    pub fn packet_len(&self) -> usize {
        field::tpa(self.hardware_len(), self.protocol_len()).end
    }

    /// The hardware type (1 for Ethernet).
    pub fn hardware_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::HTYPE.start)
    }

    /// The protocol type (an ethertype; IPv4 for the ARP this crate speaks).
    pub fn protocol_type(&self) -> EtherType {
        read_u16(self.buffer.as_ref(), field::PTYPE.start).into()
    }

    /// The hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// The protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// The operation.
    pub fn operation(&self) -> ArpOperation {
        read_u16(self.buffer.as_ref(), field::OPER.start).into()
    }

    /// The sender hardware address.
    pub fn source_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::sha(self.hardware_len(), self.protocol_len())]
    }

    /// The sender protocol address.
    pub fn source_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::spa(self.hardware_len(), self.protocol_len())]
    }

    /// The target hardware address.
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::tha(self.hardware_len(), self.protocol_len())]
    }

    /// The target protocol address.
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::tpa(self.hardware_len(), self.protocol_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, value: u16) {
        write_u16(self.buffer.as_mut(), field::HTYPE.start, value);
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        write_u16(self.buffer.as_mut(), field::PTYPE.start, value.into());
    }

    /// Sets the hardware address length (set it before the addresses).
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    /// Sets the protocol address length (set it before the addresses).
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, value: ArpOperation) {
        write_u16(self.buffer.as_mut(), field::OPER.start, value.into());
    }

    /// Sets the sender hardware address; `value` must have the hardware length.
    pub fn set_source_hardware_addr(&mut self, value: &[u8]) {
        let range = field::sha(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Sets the sender protocol address; `value` must have the protocol length.
    pub fn set_source_protocol_addr(&mut self, value: &[u8]) {
        let range = field::spa(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Sets the target hardware address; `value` must have the hardware length.
    pub fn set_target_hardware_addr(&mut self, value: &[u8]) {
        let range = field::tha(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Sets the target protocol address; `value` must have the protocol length.
    pub fn set_target_protocol_addr(&mut self, value: &[u8]) {
        let range = field::tpa(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }
}

/// An ARP packet for IPv4 over Ethernet; every other kind of ARP is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// The operation.
    pub operation: ArpOperation,
    /// The sender hardware address.
    pub sender_mac: MacAddr,
    /// The sender protocol address (0.0.0.0 in an RFC 5227 probe).
    pub sender_ip: Ipv4Addr,
    /// The target hardware address (usually zero in a request).
    pub target_mac: MacAddr,
    /// The target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// The length of an Ethernet/IPv4 ARP packet.
    pub const LEN: usize = field::tpa(HLEN_ETHERNET, PLEN_IPV4).end;

    /// Reads an Ethernet/IPv4 ARP packet, checking its length first. Any operation
    /// code is accepted.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &ArpPacket<&T>) -> Result<ArpRepr, WireError> {
        packet.check_len()?;
        let htype = packet.hardware_type();
        if htype != HARDWARE_ETHERNET {
            return Err(WireError::ArpHardwareType(htype));
        }
        let ptype = packet.protocol_type();
        if ptype != EtherType::Ipv4 {
            return Err(WireError::ArpProtocolType(ptype.into()));
        }
        let (hlen, plen) = (packet.hardware_len(), packet.protocol_len());
        if hlen != HLEN_ETHERNET || plen != PLEN_IPV4 {
            return Err(WireError::ArpAddressLengths { hlen, plen });
        }
        Ok(ArpRepr {
            operation: packet.operation(),
            sender_mac: MacAddr::from_slice(packet.source_hardware_addr()),
            sender_ip: ipv4(packet.source_protocol_addr()),
            target_mac: MacAddr::from_slice(packet.target_hardware_addr()),
            target_ip: ipv4(packet.target_protocol_addr()),
        })
    }

    /// The packet's length, 28 ([`ArpRepr::LEN`]).
    pub const fn buffer_len(&self) -> usize {
        Self::LEN
    }

    /// Writes the packet at the start of `packet`'s buffer, which must hold
    /// [`ArpRepr::buffer_len`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut ArpPacket<T>,
    ) -> Result<(), WireError> {
        check_buffer(packet.buffer.as_ref().len(), self.buffer_len())?;
        packet.set_hardware_type(HARDWARE_ETHERNET);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(HLEN_ETHERNET);
        packet.set_protocol_len(PLEN_IPV4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(&self.sender_mac.0);
        packet.set_source_protocol_addr(&self.sender_ip.octets());
        packet.set_target_hardware_addr(&self.target_mac.0);
        packet.set_target_protocol_addr(&self.target_ip.octets());
        Ok(())
    }

    /// Whether this is an RFC 5227 probe: a request from sender IP 0.0.0.0.
    pub fn is_probe(&self) -> bool {
        self.operation == ArpOperation::Request && self.sender_ip.is_unspecified()
    }

    /// Whether this is a gratuitous ARP (an RFC 5227 announcement when a request):
    /// a request or reply whose sender and target IP are the same.
    pub fn is_gratuitous(&self) -> bool {
        matches!(self.operation, ArpOperation::Request | ArpOperation::Reply)
            && !self.sender_ip.is_unspecified()
            && self.sender_ip == self.target_ip
    }
}

/// The IPv4 address in a four-byte field (length-checked by the caller).
fn ipv4(bytes: &[u8]) -> Ipv4Addr {
    let mut octets = [0; 4];
    let n = bytes.len().min(4);
    octets[..n].copy_from_slice(&bytes[..n]);
    Ipv4Addr::from(octets)
}
