//! Prefixes and NLRI entries (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::context::Afi;

/// An IPv4 or IPv6 prefix. The address keeps the bits after the prefix length as they
/// were received, so that re-encoding gives the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// A prefix; `None` when `len` exceeds the address's width.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(Prefix { addr, len })
    }

    /// A host route: /32 or /128.
    pub fn host(addr: IpAddr) -> Prefix {
        Prefix {
            addr,
            len: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The address family.
    pub fn afi(&self) -> Afi {
        if self.addr.is_ipv4() {
            Afi::Ipv4
        } else {
            Afi::Ipv6
        }
    }

    /// The number of bytes the prefix takes on the wire, length byte included.
    pub fn wire_len(&self) -> usize {
        1 + usize::from(self.len).div_ceil(8)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let bytes = usize::from(self.len).div_ceil(8);
        out.push(self.len);
        match self.addr {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()[..bytes]),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()[..bytes]),
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// One NLRI entry: a prefix, with its path identifier when ADD-PATH is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nlri {
    /// The RFC 7911 path identifier, present exactly when negotiated for the family.
    pub path_id: Option<u32>,
    /// The prefix.
    pub prefix: Prefix,
}

impl Nlri {
    /// An entry without a path identifier.
    pub fn new(prefix: Prefix) -> Nlri {
        Nlri {
            path_id: None,
            prefix,
        }
    }

    /// The bytes it takes on the wire.
    pub fn wire_len(&self) -> usize {
        self.prefix.wire_len() + if self.path_id.is_some() { 4 } else { 0 }
    }
}

impl fmt::Display for Nlri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path_id {
            Some(id) => write!(f, "{} (path {id})", self.prefix),
            None => write!(f, "{}", self.prefix),
        }
    }
}

/// Why a run of NLRI could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NlriError {
    /// A prefix length above 32 or 128.
    BadLength(u8),
    /// The bytes end inside an entry.
    Overrun,
    /// A family this codec does not parse NLRI for.
    UnknownFamily,
}

/// Decodes a run of NLRI of `afi`, appending to `out`.
pub(crate) fn decode_nlri(
    mut bytes: &[u8],
    afi: Afi,
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), NlriError> {
    let max = match afi {
        Afi::Ipv4 => 32u8,
        Afi::Ipv6 => 128,
        Afi::Unknown(_) => return Err(NlriError::UnknownFamily),
    };
    while !bytes.is_empty() {
        let path_id = if add_path {
            let (id, rest) = bytes.split_first_chunk::<4>().ok_or(NlriError::Overrun)?;
            bytes = rest;
            Some(u32::from_be_bytes(*id))
        } else {
            None
        };
        let (&len, rest) = bytes.split_first().ok_or(NlriError::Overrun)?;
        if len > max {
            return Err(NlriError::BadLength(len));
        }
        let n = usize::from(len).div_ceil(8);
        let addr_bytes = rest.get(..n).ok_or(NlriError::Overrun)?;
        let addr = if max == 32 {
            // No memcpy call for 0 to 4 bytes.
            let octets = match *addr_bytes {
                [] => [0; 4],
                [a] => [a, 0, 0, 0],
                [a, b] => [a, b, 0, 0],
                [a, b, c] => [a, b, c, 0],
                [a, b, c, d] => [a, b, c, d],
                _ => return Err(NlriError::Overrun),
            };
            IpAddr::V4(Ipv4Addr::from(octets))
        } else if let Some(word) = rest.first_chunk::<16>() {
            // Read 16 bytes at once and clear those past the prefix.
            let keep = if n == 0 {
                0
            } else {
                u128::MAX << (128 - 8 * n)
            };
            IpAddr::V6(Ipv6Addr::from(u128::from_be_bytes(*word) & keep))
        } else {
            let mut octets = [0u8; 16];
            octets[..n].copy_from_slice(addr_bytes);
            IpAddr::V6(Ipv6Addr::from(octets))
        };
        out.push(Nlri {
            path_id,
            prefix: Prefix { addr, len },
        });
        bytes = &rest[n..];
    }
    Ok(())
}

/// Encodes NLRI entries, with path identifiers exactly when `add_path`.
pub(crate) fn encode_nlri(
    nlri: &[Nlri],
    afi: Afi,
    add_path: bool,
    out: &mut Vec<u8>,
) -> Result<(), crate::EncodeError> {
    for entry in nlri {
        if entry.prefix.afi() != afi {
            return Err(crate::EncodeError::Invalid {
                what: "NLRI",
                detail: format!("{} in a {afi:?} NLRI list", entry.prefix),
            });
        }
        match (add_path, entry.path_id) {
            (true, Some(id)) => out.extend_from_slice(&id.to_be_bytes()),
            (false, None) => {}
            (true, None) => {
                return Err(crate::EncodeError::Invalid {
                    what: "NLRI",
                    detail: format!(
                        "{} has no path identifier but ADD-PATH is negotiated",
                        entry.prefix
                    ),
                });
            }
            (false, Some(_)) => {
                return Err(crate::EncodeError::Invalid {
                    what: "NLRI",
                    detail: format!(
                        "{} has a path identifier but ADD-PATH is not negotiated",
                        entry.prefix
                    ),
                });
            }
        }
        entry.prefix.encode(out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, len: u8) -> Prefix {
        Prefix::new(s.parse().unwrap(), len).unwrap()
    }

    #[test]
    fn prefixes_decode_and_encode() {
        #[rustfmt::skip]
        let bytes = [
            24, 192, 0, 2,          // 192.0.2.0/24
            32, 198, 51, 100, 10,   // 198.51.100.10/32
            0,                      // 0.0.0.0/0
            9, 10, 128,             // 10.128.0.0/9
        ];
        let mut out = Vec::new();
        decode_nlri(&bytes, Afi::Ipv4, false, &mut out).unwrap();
        let expected: Vec<Nlri> = [
            p("192.0.2.0", 24),
            p("198.51.100.10", 32),
            p("0.0.0.0", 0),
            p("10.128.0.0", 9),
        ]
        .into_iter()
        .map(Nlri::new)
        .collect();
        assert_eq!(out, expected);
        let mut back = Vec::new();
        encode_nlri(&out, Afi::Ipv4, false, &mut back).unwrap();
        assert_eq!(back, bytes);
    }

    #[test]
    fn add_path_identifiers_and_ipv6() {
        #[rustfmt::skip]
        let bytes = [
            0, 0, 0, 7,                                   // path identifier 7
            128, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,      // 2001:db8::1/128
            0, 0, 0, 0, 0, 0, 0, 1,
        ];
        let mut out = Vec::new();
        decode_nlri(&bytes, Afi::Ipv6, true, &mut out).unwrap();
        assert_eq!(
            out,
            vec![Nlri {
                path_id: Some(7),
                prefix: p("2001:db8::1", 128)
            }]
        );
        let mut back = Vec::new();
        encode_nlri(&out, Afi::Ipv6, true, &mut back).unwrap();
        assert_eq!(back, bytes);
        assert!(encode_nlri(&out, Afi::Ipv6, false, &mut back).is_err());
        assert!(encode_nlri(&out, Afi::Ipv4, true, &mut back).is_err());
    }

    #[test]
    fn malformed_nlri_are_errors() {
        let mut out = Vec::new();
        assert_eq!(
            decode_nlri(&[33, 1, 2, 3, 4, 5], Afi::Ipv4, false, &mut out),
            Err(NlriError::BadLength(33))
        );
        assert_eq!(
            decode_nlri(&[24, 1, 2], Afi::Ipv4, false, &mut out),
            Err(NlriError::Overrun)
        );
        assert_eq!(
            decode_nlri(&[0, 0, 1], Afi::Ipv4, true, &mut out),
            Err(NlriError::Overrun)
        );
        assert_eq!(
            decode_nlri(&[129], Afi::Ipv6, false, &mut out),
            Err(NlriError::BadLength(129))
        );
        assert_eq!(
            decode_nlri(&[0], Afi::Unknown(9), false, &mut out),
            Err(NlriError::UnknownFamily)
        );
        assert!(Prefix::new("10.0.0.0".parse().unwrap(), 33).is_none());
    }

    #[test]
    fn trailing_bits_are_kept() {
        let mut out = Vec::new();
        decode_nlri(&[20, 10, 0, 0xff], Afi::Ipv4, false, &mut out).unwrap();
        assert_eq!(
            out[0].prefix.addr(),
            "10.0.255.0".parse::<IpAddr>().unwrap()
        );
        let mut back = Vec::new();
        encode_nlri(&out, Afi::Ipv4, false, &mut back).unwrap();
        assert_eq!(back, [20, 10, 0, 0xff]);
    }
}
