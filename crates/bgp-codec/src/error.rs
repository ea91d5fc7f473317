//! The errors of decoding a message, with the NOTIFICATION each one calls for, and of
//! encoding one.

use crate::notification::{ErrorCode, HeaderSubcode, Notification, RouteRefreshSubcode};
use crate::open::OpenError;
use crate::update::UpdateError;

/// A message that cannot be accepted. Every variant names the NOTIFICATION that
/// RFC 4271 §6 (or RFC 7606, RFC 7313) requires the speaker to send before closing:
/// [`DecodeError::notification`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The 16-byte marker is not all ones.
    #[error("the message marker is not all ones")]
    BadMarker,
    /// The length field is below 19, above the negotiated maximum, or wrong for the
    /// message type.
    #[error("bad message length {len}")]
    BadLength {
        /// The length field's value.
        len: usize,
    },
    /// The message type is not one this codec knows.
    #[error("unknown message type {0}")]
    BadType(u8),
    /// The OPEN message is malformed or unacceptable.
    #[error("OPEN: {0}")]
    Open(#[from] OpenError),
    /// The UPDATE message must reset the session (RFC 7606 §3, session reset).
    #[error("UPDATE: {0}")]
    Update(#[from] UpdateError),
    /// A ROUTE-REFRESH message whose length is not 23 (RFC 7313 §5).
    #[error("ROUTE-REFRESH message of {len} bytes (must be 23)")]
    RouteRefreshLength {
        /// The whole message.
        message: Vec<u8>,
        /// Its length.
        len: usize,
    },
}

impl DecodeError {
    pub(crate) fn bad_length(len: usize) -> DecodeError {
        DecodeError::BadLength { len }
    }

    /// The NOTIFICATION to send for this error.
    pub fn notification(&self) -> Notification {
        match self {
            DecodeError::BadMarker => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::ConnectionNotSynchronized),
                Vec::new(),
            ),
            DecodeError::BadLength { len } => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::BadMessageLength),
                u16::try_from(*len)
                    .unwrap_or(u16::MAX)
                    .to_be_bytes()
                    .to_vec(),
            ),
            DecodeError::BadType(kind) => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::BadMessageType),
                vec![*kind],
            ),
            DecodeError::Open(e) => e.notification(),
            DecodeError::Update(e) => e.notification(),
            DecodeError::RouteRefreshLength { message, .. } => Notification::new(
                ErrorCode::RouteRefresh(RouteRefreshSubcode::InvalidMessageLength),
                message.clone(),
            ),
        }
    }
}

/// A value that does not fit its wire field. Nothing is ever truncated silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field, attribute or message would be longer than its length field or the
    /// negotiated maximum allows.
    #[error("{what} of {len} bytes exceeds the maximum of {max}")]
    TooLong {
        /// What was being encoded.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value that the wire format cannot carry (e.g. a 4-octet AS on a 2-octet
    /// session without AS_TRANS handling, a prefix length above 32 or 128).
    #[error("{what}: {detail}")]
    Invalid {
        /// What was being encoded.
        what: &'static str,
        /// Why it cannot be.
        detail: String,
    },
}
