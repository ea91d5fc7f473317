//! ROUTE-REFRESH (RFC 2918) with the enhanced route refresh subtypes (RFC 7313).

use crate::context::{Afi, Family, Safi};

/// The message subtype (RFC 7313 §3.2; the "Reserved" byte of RFC 2918).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshSubtype {
    /// 0: a normal route refresh request.
    Request,
    /// 1: Beginning of Route Refresh.
    Begin,
    /// 2: End of Route Refresh.
    End,
    /// Any other value (RFC 7313 §5: ignore the message), kept.
    Unknown(u8),
}

impl From<u8> for RefreshSubtype {
    fn from(value: u8) -> Self {
        match value {
            0 => RefreshSubtype::Request,
            1 => RefreshSubtype::Begin,
            2 => RefreshSubtype::End,
            other => RefreshSubtype::Unknown(other),
        }
    }
}

impl From<RefreshSubtype> for u8 {
    fn from(subtype: RefreshSubtype) -> u8 {
        match subtype {
            RefreshSubtype::Request => 0,
            RefreshSubtype::Begin => 1,
            RefreshSubtype::End => 2,
            RefreshSubtype::Unknown(other) => other,
        }
    }
}

/// A ROUTE-REFRESH message: which family to refresh, and the enhanced subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    /// The family.
    pub family: Family,
    /// The subtype.
    pub subtype: RefreshSubtype,
}

impl RouteRefresh {
    /// A plain refresh request for `family`.
    pub fn request(family: Family) -> RouteRefresh {
        RouteRefresh {
            family,
            subtype: RefreshSubtype::Request,
        }
    }

    /// Decodes the 4-byte body (the framing guarantees the length).
    pub(crate) fn decode(body: &[u8]) -> RouteRefresh {
        let afi = Afi::from(u16::from_be_bytes([body[0], body[1]]));
        RouteRefresh {
            family: Family::new(afi, Safi::from(body[3])),
            subtype: body[2].into(),
        }
    }

    /// Appends the body.
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&u16::from(self.family.afi).to_be_bytes());
        out.push(self.subtype.into());
        out.push(self.family.safi.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, SessionContext};

    #[test]
    fn an_enhanced_route_refresh_round_trips() {
        #[rustfmt::skip]
        let bytes = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
            0, 23,  // length
            5,      // ROUTE-REFRESH
            0, 2,   // AFI IPv6
            1,      // subtype: Beginning of Route Refresh
            1,      // SAFI unicast
        ];
        let ctx = SessionContext::modern();
        let expected = Message::RouteRefresh(RouteRefresh {
            family: Family::IPV6_UNICAST,
            subtype: RefreshSubtype::Begin,
        });
        assert_eq!(Message::decode(&bytes, &ctx), Ok(expected.clone()));
        assert_eq!(expected.to_bytes(&ctx).unwrap(), bytes);
    }
}
