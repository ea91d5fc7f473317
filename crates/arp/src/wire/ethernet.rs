//! Ethernet II headers with an optional IEEE 802.1Q tag, and MAC addresses.
//!
//! ```text
//!  0                   6                  12      14      16      18
//! +-------------------+-------------------+-------+-------+-------+----------
//! | destination MAC   | source MAC        | type  |         payload ...
//! +-------------------+-------------------+-------+-------+-------+----------
//! | destination MAC   | source MAC        |0x8100 |  TCI  | type  | payload ...
//! +-------------------+-------------------+-------+-------+-------+----------
//! TCI: priority code point (3 bits) | drop eligible (1 bit) | VLAN identifier (12 bits)
//! ```

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use super::WireError;

/// The byte offsets of the Ethernet header's fields.
mod field {
    use std::ops::Range;

    pub(super) const DESTINATION: Range<usize> = 0..6;
    pub(super) const SOURCE: Range<usize> = 6..12;
    /// The ethertype of an untagged frame, the tag protocol identifier of a tagged one.
    pub(super) const ETHERTYPE: Range<usize> = 12..14;
    /// The 802.1Q tag control information.
    pub(super) const TCI: Range<usize> = 14..16;
    /// The ethertype of a tagged frame's payload.
    pub(super) const INNER_ETHERTYPE: Range<usize> = 16..18;

    pub(super) const HEADER_LEN: usize = ETHERTYPE.end;
    pub(super) const TAGGED_HEADER_LEN: usize = INNER_ETHERTYPE.end;
}

/// A 48-bit IEEE 802 MAC address.
///
/// Displayed and parsed as six lowercase hexadecimal pairs separated by colons
/// (`02:00:5e:10:00:01`); parsing also takes uppercase digits and `-` separators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`, the unknown target hardware address of an ARP request.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Whether the group bit (the least significant bit of the first octet) is set:
    /// multicast and broadcast addresses.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is the broadcast address.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// Whether this is a unicast address (the group bit is clear).
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether this is `00:00:00:00:00:00`.
    pub const fn is_zero(&self) -> bool {
        matches!(self.0, [0, 0, 0, 0, 0, 0])
    }

    /// Whether the locally administered bit (the second least significant bit of the
    /// first octet) is set.
    pub const fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The Ethernet multicast address that carries packets for the IPv6 multicast
    /// address `addr`: `33:33` followed by its low 32 bits (RFC 2464 §7).
    pub const fn ipv6_multicast(addr: Ipv6Addr) -> MacAddr {
        let o = addr.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// Reads an address from the first six bytes of `bytes` (callers pass six-byte
    /// fields; missing bytes would read as zeros).
    pub(crate) fn from_slice(bytes: &[u8]) -> MacAddr {
        let mut octets = [0; 6];
        let n = bytes.len().min(6);
        octets[..n].copy_from_slice(&bytes[..n]);
        MacAddr(octets)
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> MacAddr {
        MacAddr(octets)
    }
}

impl From<MacAddr> for [u8; 6] {
    fn from(mac: MacAddr) -> [u8; 6] {
        mac.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

impl FromStr for MacAddr {
    type Err = WireError;

    /// Parses six pairs of hexadecimal digits separated by `:` (or all by `-`).
    fn from_str(s: &str) -> Result<MacAddr, WireError> {
        let bytes = s.as_bytes();
        if bytes.len() != 17 {
            return Err(WireError::InvalidMacAddr);
        }
        let separator = bytes[2];
        if separator != b':' && separator != b'-' {
            return Err(WireError::InvalidMacAddr);
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(WireError::InvalidMacAddr),
        };
        let mut octets = [0u8; 6];
        for (i, octet) in octets.iter_mut().enumerate() {
            let at = i * 3;
            if i > 0 && bytes[at - 1] != separator {
                return Err(WireError::InvalidMacAddr);
            }
            *octet = digit(bytes[at])? << 4 | digit(bytes[at + 1])?;
        }
        Ok(MacAddr(octets))
    }
}

/// The type of an Ethernet frame's payload.
///
/// Values below 0x0600 are IEEE 802.3 length fields; they and every other type this
/// crate does not handle are [`EtherType::Unknown`]. Convert with `From<u16>` both
/// ways; `Unknown` should only hold values that no named variant stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EtherType {
    /// IPv4, 0x0800.
    Ipv4,
    /// ARP, 0x0806.
    Arp,
    /// IPv6, 0x86DD.
    Ipv6,
    /// An IEEE 802.1Q tag, 0x8100.
    Vlan,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(value: u16) -> EtherType {
        match value {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86dd => EtherType::Ipv6,
            0x8100 => EtherType::Vlan,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> u16 {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Vlan => 0x8100,
            EtherType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Ipv4 => f.write_str("IPv4"),
            EtherType::Arp => f.write_str("ARP"),
            EtherType::Ipv6 => f.write_str("IPv6"),
            EtherType::Vlan => f.write_str("802.1Q"),
            EtherType::Unknown(other) => write!(f, "{other:#06x}"),
        }
    }
}

/// An IEEE 802.1Q tag's control information.
///
/// VLAN identifier 0 marks a priority-tagged frame that belongs to no VLAN, and 4095
/// is reserved; both are carried as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VlanTag {
    /// The priority code point, 0 to 7.
    pub pcp: u8,
    /// The drop eligible indicator.
    pub dei: bool,
    /// The VLAN identifier, 0 to 4095.
    pub vid: u16,
}

impl VlanTag {
    /// The tag of VLAN `vid` with priority 0.
    pub const fn new(vid: u16) -> VlanTag {
        VlanTag {
            pcp: 0,
            dei: false,
            vid,
        }
    }

    /// Splits a 16-bit tag control information field.
    pub const fn from_tci(tci: u16) -> VlanTag {
        VlanTag {
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }

    /// The 16-bit tag control information field, or an error when the priority or
    /// the identifier does not fit its bits.
    pub const fn to_tci(&self) -> Result<u16, WireError> {
        if self.pcp > 7 {
            return Err(WireError::VlanPriority(self.pcp));
        }
        if self.vid > 0x0fff {
            return Err(WireError::VlanId(self.vid));
        }
        Ok((self.pcp as u16) << 13 | (self.dei as u16) << 12 | self.vid)
    }
}

/// A zero-copy view of an Ethernet II frame, with or without one 802.1Q tag.
///
/// The accessors of a view made with [`EthernetFrame::new_unchecked`] panic when the
/// buffer is too short for the field; [`EthernetFrame::new_checked`] makes them safe.
/// [`EthernetRepr::parse`] checks the length itself and never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// The length of an untagged header.
    pub const HEADER_LEN: usize = field::HEADER_LEN;
    /// The length of a header with one 802.1Q tag.
    pub const TAGGED_HEADER_LEN: usize = field::TAGGED_HEADER_LEN;

    /// Wraps `buffer` without checking its length.
    pub const fn new_unchecked(buffer: T) -> EthernetFrame<T> {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer` after [`EthernetFrame::check_len`].
    pub fn new_checked(buffer: T) -> Result<EthernetFrame<T>, WireError> {
        let frame = EthernetFrame::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds the whole header, tag included when the frame is
    /// tagged.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        let needed = if len < field::HEADER_LEN {
            field::HEADER_LEN
        } else {
            self.header_len()
        };
        if len < needed {
            return Err(WireError::Truncated {
                what: "Ethernet header",
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

    /// The destination address.
    pub fn dst_addr(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[field::DESTINATION])
    }

    /// The source address.
    pub fn src_addr(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[field::SOURCE])
    }

    /// The ethertype field at offset 12: the payload's type when untagged,
    /// [`EtherType::Vlan`] when tagged.
    pub fn outer_ethertype(&self) -> EtherType {
        read_u16(self.buffer.as_ref(), field::ETHERTYPE.start).into()
    }

    /// Whether the frame carries an 802.1Q tag.
    pub fn is_tagged(&self) -> bool {
        self.outer_ethertype() == EtherType::Vlan
    }

    /// The header's length: 14, or 18 when tagged.
    pub fn header_len(&self) -> usize {
        if self.is_tagged() {
            field::TAGGED_HEADER_LEN
        } else {
            field::HEADER_LEN
        }
    }

    /// The 802.1Q tag, when the frame is tagged.
    pub fn vlan_tag(&self) -> Option<VlanTag> {
        self.is_tagged()
            .then(|| VlanTag::from_tci(read_u16(self.buffer.as_ref(), field::TCI.start)))
    }

    /// The payload's type: the inner ethertype of a tagged frame.
    pub fn ethertype(&self) -> EtherType {
        if self.is_tagged() {
            read_u16(self.buffer.as_ref(), field::INNER_ETHERTYPE.start).into()
        } else {
            self.outer_ethertype()
        }
    }

    /// The payload, with any trailing padding.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the ethertype field at offset 12 ([`EtherType::Vlan`] for a tagged frame).
    pub fn set_outer_ethertype(&mut self, ethertype: EtherType) {
        write_u16(
            self.buffer.as_mut(),
            field::ETHERTYPE.start,
            ethertype.into(),
        );
    }

    /// Sets the tag control information of a tagged frame (set the outer ethertype to
    /// [`EtherType::Vlan`] first).
    pub fn set_tci(&mut self, tci: u16) {
        write_u16(self.buffer.as_mut(), field::TCI.start, tci);
    }

    /// Sets the payload's type: the inner ethertype when the frame is tagged, the
    /// outer one otherwise.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        let at = if self.is_tagged() {
            field::INNER_ETHERTYPE.start
        } else {
            field::ETHERTYPE.start
        };
        write_u16(self.buffer.as_mut(), at, ethertype.into());
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// A parsed Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// The destination address.
    pub dst: MacAddr,
    /// The source address.
    pub src: MacAddr,
    /// The 802.1Q tag, if any.
    pub vlan: Option<VlanTag>,
    /// The payload's type (inside the tag, when tagged).
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Reads the header of `frame`, checking its length first.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        frame: &EthernetFrame<&T>,
    ) -> Result<EthernetRepr, WireError> {
        frame.check_len()?;
        Ok(EthernetRepr {
            dst: frame.dst_addr(),
            src: frame.src_addr(),
            vlan: frame.vlan_tag(),
            ethertype: frame.ethertype(),
        })
    }

    /// The header's length: 14, or 18 with a tag.
    pub const fn buffer_len(&self) -> usize {
        if self.vlan.is_some() {
            field::TAGGED_HEADER_LEN
        } else {
            field::HEADER_LEN
        }
    }

    /// Writes the header at the start of `frame`; the payload follows at
    /// [`EthernetFrame::payload_mut`].
    ///
    /// Fails when the buffer is shorter than [`EthernetRepr::buffer_len`], when a tag
    /// field does not fit its bits, or when an untagged header has the 802.1Q
    /// ethertype (it would be read back as a tag).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        frame: &mut EthernetFrame<T>,
    ) -> Result<(), WireError> {
        let tci = match self.vlan {
            Some(tag) => Some(tag.to_tci()?),
            None if self.ethertype == EtherType::Vlan => return Err(WireError::VlanWithoutTag),
            None => None,
        };
        check_buffer(frame.buffer.as_ref().len(), self.buffer_len())?;
        frame.set_dst_addr(self.dst);
        frame.set_src_addr(self.src);
        match tci {
            Some(tci) => {
                frame.set_outer_ethertype(EtherType::Vlan);
                frame.set_tci(tci);
                write_u16(
                    frame.buffer.as_mut(),
                    field::INNER_ETHERTYPE.start,
                    self.ethertype.into(),
                );
            }
            None => frame.set_outer_ethertype(self.ethertype),
        }
        Ok(())
    }
}

/// Fails with [`WireError::BufferTooShort`] when `len < needed`.
pub(crate) fn check_buffer(len: usize, needed: usize) -> Result<(), WireError> {
    if len < needed {
        return Err(WireError::BufferTooShort { len, needed });
    }
    Ok(())
}

/// The big-endian `u16` at `at`.
pub(crate) fn read_u16(buffer: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buffer[at], buffer[at + 1]])
}

/// Writes `value` big-endian at `at`.
pub(crate) fn write_u16(buffer: &mut [u8], at: usize, value: u16) {
    buffer[at..at + 2].copy_from_slice(&value.to_be_bytes());
}
