//! IP prefixes as the daemons print them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::Error;

/// An IPv4 or IPv6 prefix such as `192.0.2.0/24` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// A prefix; `len` must not exceed the address's bit width.
    pub fn new(addr: IpAddr, len: u8) -> Result<Prefix, Error> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(Error::Invalid(format!("prefix length {len} for {addr}")));
        }
        Ok(Prefix { addr, len })
    }

    /// The address part.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is an IPv4 prefix.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Prefix {
    type Err = Error;

    fn from_str(s: &str) -> Result<Prefix, Error> {
        let bad = || Error::Parse {
            what: "a prefix".into(),
            detail: format!("{s:?}"),
        };
        let (addr, len) = s.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let len: u8 = len.parse().map_err(|_| bad())?;
        Prefix::new(addr, len).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_print() {
        let p: Prefix = "192.0.2.0/24".parse().unwrap();
        assert_eq!(p.prefix_len(), 24);
        assert_eq!(p.to_string(), "192.0.2.0/24");
        let q: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(!q.is_ipv4());
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("10.0.0.0".parse::<Prefix>().is_err());
        assert!("x/8".parse::<Prefix>().is_err());
    }
}
