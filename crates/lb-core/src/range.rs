//! Inclusive IPv4 and IPv6 address ranges, parsed from CIDRs or `start-end` ranges.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The address family of an address, a range or a pool slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressFamily {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl AddressFamily {
    /// The family of `addr`.
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// The number of bits in an address of this family (32 or 128).
    pub fn bits(self) -> u8 {
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
        }
    }
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        })
    }
}

/// Why an address range could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeParseError {
    /// The input was empty or only whitespace.
    #[error("empty address range")]
    Empty,
    /// The input is neither `addr/prefix` nor `start-end`.
    #[error("expected a CIDR (`10.0.0.0/24`) or a range (`10.0.0.10-10.0.0.20`), got {0:?}")]
    Syntax(String),
    /// An address part is not a valid IPv4 or IPv6 address.
    #[error("invalid IP address {0:?}")]
    InvalidAddress(String),
    /// The prefix length is not a decimal number.
    #[error("invalid prefix length {0:?}")]
    InvalidPrefix(String),
    /// The prefix length exceeds the address width.
    #[error("prefix length /{prefix} is longer than the {max} bits of the address")]
    PrefixTooLong {
        /// The prefix length given.
        prefix: u8,
        /// The address width (32 or 128).
        max: u8,
    },
    /// The CIDR address has bits set after the prefix.
    #[error("{addr}/{prefix} has host bits set (network is {network}/{prefix})")]
    HostBitsSet {
        /// The address given.
        addr: IpAddr,
        /// The prefix length given.
        prefix: u8,
        /// The network address the CIDR probably meant.
        network: IpAddr,
    },
    /// The two ends of a range are of different families.
    #[error("range mixes address families: {start} - {end}")]
    MixedFamilies {
        /// The first address.
        start: IpAddr,
        /// The last address.
        end: IpAddr,
    },
    /// The first address of a range is greater than the last.
    #[error("range start {start} is after its end {end}")]
    StartAfterEnd {
        /// The first address.
        start: IpAddr,
        /// The last address.
        end: IpAddr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bounds {
    V4 { start: u32, end: u32 },
    V6 { start: u128, end: u128 },
}

/// An inclusive range of addresses of one family.
///
/// Built from a CIDR (`10.0.0.0/24`, `fd00::/120`) or a range (`10.0.0.10-10.0.0.20`,
/// also `10.0.0.10 - 10.0.0.20`); a range built from a CIDR remembers its prefix length
/// (see [`AddressRange::prefix_len`]). Displayed back in the form it was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressRange {
    bounds: Bounds,
    prefix: Option<u8>,
}

pub(crate) fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Builds an address of `family` from its numeric value (which must fit the family).
pub(crate) fn from_u128(family: AddressFamily, value: u128) -> IpAddr {
    match family {
        AddressFamily::V4 => {
            let v = u32::try_from(value).expect("IPv4 value fits in 32 bits");
            IpAddr::V4(Ipv4Addr::from(v))
        }
        AddressFamily::V6 => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

impl AddressRange {
    /// The range `start..=end`; both ends must be of one family and `start <= end`.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, RangeParseError> {
        let bounds = match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => Bounds::V4 {
                start: s.into(),
                end: e.into(),
            },
            (IpAddr::V6(s), IpAddr::V6(e)) => Bounds::V6 {
                start: s.into(),
                end: e.into(),
            },
            _ => return Err(RangeParseError::MixedFamilies { start, end }),
        };
        if to_u128(start) > to_u128(end) {
            return Err(RangeParseError::StartAfterEnd { start, end });
        }
        Ok(Self {
            bounds,
            prefix: None,
        })
    }

    /// The CIDR `network/prefix`; `network` must have no bits set after the prefix.
    pub fn from_cidr(network: IpAddr, prefix: u8) -> Result<Self, RangeParseError> {
        let family = AddressFamily::of(network);
        let max = family.bits();
        if prefix > max {
            return Err(RangeParseError::PrefixTooLong { prefix, max });
        }
        let host_bits = u32::from(max - prefix);
        // Mask of the host bits, within the family width.
        let host_mask: u128 = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let value = to_u128(network);
        if value & host_mask != 0 {
            return Err(RangeParseError::HostBitsSet {
                addr: network,
                prefix,
                network: from_u128(family, value & !host_mask),
            });
        }
        let end = from_u128(family, value | host_mask);
        let mut range = Self::new(network, end)?;
        range.prefix = Some(prefix);
        Ok(range)
    }

    /// The address family of the range.
    pub fn family(&self) -> AddressFamily {
        match self.bounds {
            Bounds::V4 { .. } => AddressFamily::V4,
            Bounds::V6 { .. } => AddressFamily::V6,
        }
    }

    /// The first address.
    pub fn start(&self) -> IpAddr {
        match self.bounds {
            Bounds::V4 { start, .. } => IpAddr::V4(start.into()),
            Bounds::V6 { start, .. } => IpAddr::V6(start.into()),
        }
    }

    /// The last address.
    pub fn end(&self) -> IpAddr {
        match self.bounds {
            Bounds::V4 { end, .. } => IpAddr::V4(end.into()),
            Bounds::V6 { end, .. } => IpAddr::V6(end.into()),
        }
    }

    /// The prefix length when the range was built from a CIDR.
    pub fn prefix_len(&self) -> Option<u8> {
        self.prefix
    }

    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        AddressFamily::of(addr) == self.family() && {
            let (s, e) = self.numeric();
            (s..=e).contains(&to_u128(addr))
        }
    }

    /// Whether the two ranges share at least one address.
    pub fn overlaps(&self, other: &AddressRange) -> bool {
        self.intersection(other).is_some()
    }

    /// The addresses shared by both ranges, as `(first, last)`.
    pub fn intersection(&self, other: &AddressRange) -> Option<(IpAddr, IpAddr)> {
        if self.family() != other.family() {
            return None;
        }
        let (s1, e1) = self.numeric();
        let (s2, e2) = other.numeric();
        let (s, e) = (s1.max(s2), e1.min(e2));
        (s <= e).then(|| (from_u128(self.family(), s), from_u128(self.family(), e)))
    }

    /// `(start, end)` as numbers.
    pub(crate) fn numeric(&self) -> (u128, u128) {
        match self.bounds {
            Bounds::V4 { start, end } => (start.into(), end.into()),
            Bounds::V6 { start, end } => (start, end),
        }
    }
}

fn parse_addr(s: &str) -> Result<IpAddr, RangeParseError> {
    let s = s.trim();
    s.parse()
        .map_err(|_| RangeParseError::InvalidAddress(s.to_owned()))
}

impl FromStr for AddressRange {
    type Err = RangeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(RangeParseError::Empty);
        }
        if let Some((addr, prefix)) = s.split_once('/') {
            let addr = parse_addr(addr)?;
            let prefix_str = prefix.trim();
            let all_digits =
                !prefix_str.is_empty() && prefix_str.bytes().all(|b| b.is_ascii_digit());
            let prefix: u8 = match prefix_str.parse() {
                Ok(p) if all_digits => p,
                _ => return Err(RangeParseError::InvalidPrefix(prefix_str.to_owned())),
            };
            Self::from_cidr(addr, prefix)
        } else if let Some((start, end)) = s.split_once('-') {
            Self::new(parse_addr(start)?, parse_addr(end)?)
        } else {
            Err(RangeParseError::Syntax(s.to_owned()))
        }
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix {
            Some(p) => write!(f, "{}/{p}", self.start()),
            None => write!(f, "{}-{}", self.start(), self.end()),
        }
    }
}
