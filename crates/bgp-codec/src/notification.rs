//! NOTIFICATION (RFC 4271 §4.5) with every registered error code and subcode named, and
//! the shutdown communication of RFC 8203 / RFC 9003.

use crate::EncodeError;

macro_rules! subcodes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A subcode not registered here, kept.
            Unknown(u8),
        }

        impl From<u8> for $name {
            fn from(value: u8) -> Self {
                match value {
                    $($value => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(subcode: $name) -> u8 {
                match subcode {
                    $($name::$variant => $value,)*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

subcodes! {
    /// Subcodes of Message Header Error (code 1).
    HeaderSubcode {
        /// 0: no subcode.
        Unspecific = 0,
        /// 1: the marker is not all ones.
        ConnectionNotSynchronized = 1,
        /// 2: the length field is wrong for the message; data is the length field.
        BadMessageLength = 2,
        /// 3: unknown message type; data is the type.
        BadMessageType = 3,
    }
}

subcodes! {
    /// Subcodes of OPEN Message Error (code 2).
    OpenSubcode {
        /// 0: no subcode.
        Unspecific = 0,
        /// 1: data is the largest version supported (2 bytes).
        UnsupportedVersionNumber = 1,
        /// 2
        BadPeerAs = 2,
        /// 3
        BadBgpIdentifier = 3,
        /// 4
        UnsupportedOptionalParameter = 4,
        /// 5 (deprecated): authentication failure.
        AuthenticationFailure = 5,
        /// 6
        UnacceptableHoldTime = 6,
        /// 7 (RFC 5492): data lists the unsupported capabilities.
        UnsupportedCapability = 7,
        /// 11 (RFC 9234)
        RoleMismatch = 11,
    }
}

subcodes! {
    /// Subcodes of UPDATE Message Error (code 3).
    UpdateSubcode {
        /// 0: no subcode.
        Unspecific = 0,
        /// 1
        MalformedAttributeList = 1,
        /// 2: data is the attribute.
        UnrecognizedWellKnownAttribute = 2,
        /// 3: data is the missing attribute's type code.
        MissingWellKnownAttribute = 3,
        /// 4: data is the attribute.
        AttributeFlagsError = 4,
        /// 5: data is the attribute.
        AttributeLengthError = 5,
        /// 6: data is the attribute.
        InvalidOriginAttribute = 6,
        /// 7 (deprecated): AS routing loop.
        AsRoutingLoop = 7,
        /// 8: data is the attribute.
        InvalidNextHopAttribute = 8,
        /// 9: data is the attribute.
        OptionalAttributeError = 9,
        /// 10
        InvalidNetworkField = 10,
        /// 11
        MalformedAsPath = 11,
    }
}

subcodes! {
    /// Subcodes of Finite State Machine Error (code 5, RFC 6608).
    FsmSubcode {
        /// 0: unspecified.
        Unspecified = 0,
        /// 1: data is the message type.
        UnexpectedMessageInOpenSent = 1,
        /// 2: data is the message type.
        UnexpectedMessageInOpenConfirm = 2,
        /// 3: data is the message type.
        UnexpectedMessageInEstablished = 3,
    }
}

subcodes! {
    /// Subcodes of Cease (code 6, RFC 4486, RFC 8538, RFC 9384).
    CeaseSubcode {
        /// 0: no subcode.
        Unspecific = 0,
        /// 1: data is AFI, SAFI and the limit (RFC 4486 §4).
        MaximumPrefixesReached = 1,
        /// 2: may carry a shutdown communication (RFC 9003).
        AdministrativeShutdown = 2,
        /// 3
        PeerDeconfigured = 3,
        /// 4: may carry a shutdown communication (RFC 9003).
        AdministrativeReset = 4,
        /// 5
        ConnectionRejected = 5,
        /// 6
        OtherConfigurationChange = 6,
        /// 7
        ConnectionCollisionResolution = 7,
        /// 8
        OutOfResources = 8,
        /// 9 (RFC 8538): data is the inner NOTIFICATION's code, subcode and data.
        HardReset = 9,
        /// 10 (RFC 9384)
        BfdDown = 10,
    }
}

subcodes! {
    /// Subcodes of ROUTE-REFRESH Message Error (code 7, RFC 7313).
    RouteRefreshSubcode {
        /// 0: reserved.
        Reserved = 0,
        /// 1: data is the message.
        InvalidMessageLength = 1,
    }
}

/// A NOTIFICATION's error code with its subcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1: Message Header Error.
    MessageHeader(HeaderSubcode),
    /// 2: OPEN Message Error.
    Open(OpenSubcode),
    /// 3: UPDATE Message Error.
    Update(UpdateSubcode),
    /// 4: Hold Timer Expired (the subcode, normally 0, is kept).
    HoldTimerExpired(u8),
    /// 5: Finite State Machine Error.
    Fsm(FsmSubcode),
    /// 6: Cease.
    Cease(CeaseSubcode),
    /// 7: ROUTE-REFRESH Message Error.
    RouteRefresh(RouteRefreshSubcode),
    /// 8: Send Hold Timer Expired (RFC 9687; the subcode, normally 0, is kept).
    SendHoldTimerExpired(u8),
    /// Any other code, kept with its subcode.
    Unknown {
        /// The error code.
        code: u8,
        /// The subcode.
        subcode: u8,
    },
}

impl ErrorCode {
    /// The error code and subcode as sent on the wire.
    pub fn code_subcode(self) -> (u8, u8) {
        match self {
            ErrorCode::MessageHeader(s) => (1, s.into()),
            ErrorCode::Open(s) => (2, s.into()),
            ErrorCode::Update(s) => (3, s.into()),
            ErrorCode::HoldTimerExpired(s) => (4, s),
            ErrorCode::Fsm(s) => (5, s.into()),
            ErrorCode::Cease(s) => (6, s.into()),
            ErrorCode::RouteRefresh(s) => (7, s.into()),
            ErrorCode::SendHoldTimerExpired(s) => (8, s),
            ErrorCode::Unknown { code, subcode } => (code, subcode),
        }
    }

    /// The code from its wire values.
    pub fn from_code_subcode(code: u8, subcode: u8) -> ErrorCode {
        match code {
            1 => ErrorCode::MessageHeader(subcode.into()),
            2 => ErrorCode::Open(subcode.into()),
            3 => ErrorCode::Update(subcode.into()),
            4 => ErrorCode::HoldTimerExpired(subcode),
            5 => ErrorCode::Fsm(subcode.into()),
            6 => ErrorCode::Cease(subcode.into()),
            7 => ErrorCode::RouteRefresh(subcode.into()),
            8 => ErrorCode::SendHoldTimerExpired(subcode),
            code => ErrorCode::Unknown { code, subcode },
        }
    }
}

/// A NOTIFICATION message: an error code, its subcode and data, kept as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The error code and subcode.
    pub error: ErrorCode,
    /// The data field.
    pub data: Vec<u8>,
}

/// The longest shutdown communication (RFC 9003 §2).
pub const MAX_SHUTDOWN_MESSAGE_LEN: usize = 255;

/// What a shutdown communication field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShutdownMessage<'a> {
    /// No data, or a zero length.
    None,
    /// A valid UTF-8 message, and whatever followed it (normally nothing).
    Text {
        /// The message.
        text: &'a str,
        /// Bytes after the message.
        trailing: &'a [u8],
    },
    /// The length overruns the data or the bytes are not UTF-8 (RFC 9003 §4: log, do not
    /// fail the session).
    Malformed,
}

impl Notification {
    /// A NOTIFICATION with `error` and `data`.
    pub fn new(error: ErrorCode, data: impl Into<Vec<u8>>) -> Notification {
        Notification {
            error,
            data: data.into(),
        }
    }

    /// A Cease with a shutdown communication (RFC 9003): `subcode` is normally
    /// Administrative Shutdown or Administrative Reset; `message` at most 255 bytes.
    pub fn shutdown(subcode: CeaseSubcode, message: &str) -> Result<Notification, EncodeError> {
        let len = u8::try_from(message.len()).map_err(|_| EncodeError::TooLong {
            what: "shutdown communication",
            len: message.len(),
            max: MAX_SHUTDOWN_MESSAGE_LEN,
        })?;
        let mut data = Vec::with_capacity(1 + message.len());
        data.push(len);
        data.extend_from_slice(message.as_bytes());
        Ok(Notification {
            error: ErrorCode::Cease(subcode),
            data,
        })
    }

    /// The shutdown communication of an Administrative Shutdown or Reset, `None` for
    /// any other error.
    pub fn shutdown_message(&self) -> Option<ShutdownMessage<'_>> {
        match self.error {
            ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown)
            | ErrorCode::Cease(CeaseSubcode::AdministrativeReset) => {}
            _ => return None,
        }
        let Some((&len, rest)) = self.data.split_first() else {
            return Some(ShutdownMessage::None);
        };
        if len == 0 {
            return Some(ShutdownMessage::None);
        }
        let Some(text) = rest.get(..usize::from(len)) else {
            return Some(ShutdownMessage::Malformed);
        };
        Some(match std::str::from_utf8(text) {
            Ok(text) => ShutdownMessage::Text {
                text,
                trailing: &rest[usize::from(len)..],
            },
            Err(_) => ShutdownMessage::Malformed,
        })
    }

    /// Decodes a NOTIFICATION body (the bytes after the 19-byte header).
    pub fn decode(body: &[u8]) -> Result<Notification, crate::DecodeError> {
        match body {
            [code, subcode, data @ ..] => Ok(Notification {
                error: ErrorCode::from_code_subcode(*code, *subcode),
                data: data.to_vec(),
            }),
            _ => Err(crate::DecodeError::bad_length(
                body.len() + crate::HEADER_LEN,
            )),
        }
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        2 + self.data.len()
    }

    /// Appends the body to `out`.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        let (code, subcode) = self.error.code_subcode();
        out.push(code);
        out.push(subcode);
        out.extend_from_slice(&self.data);
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::MessageHeader(s) => write!(f, "Message Header Error / {s:?}"),
            ErrorCode::Open(s) => write!(f, "OPEN Message Error / {s:?}"),
            ErrorCode::Update(s) => write!(f, "UPDATE Message Error / {s:?}"),
            ErrorCode::HoldTimerExpired(_) => write!(f, "Hold Timer Expired"),
            ErrorCode::Fsm(s) => write!(f, "Finite State Machine Error / {s:?}"),
            ErrorCode::Cease(s) => write!(f, "Cease / {s:?}"),
            ErrorCode::RouteRefresh(s) => write!(f, "ROUTE-REFRESH Message Error / {s:?}"),
            ErrorCode::SendHoldTimerExpired(_) => write!(f, "Send Hold Timer Expired"),
            ErrorCode::Unknown { code, subcode } => {
                write!(f, "error code {code} / subcode {subcode}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_subcode_round_trips() {
        for code in 0..=255u8 {
            for subcode in 0..=255u8 {
                let e = ErrorCode::from_code_subcode(code, subcode);
                assert_eq!(e.code_subcode(), (code, subcode));
            }
        }
        assert_eq!(
            ErrorCode::from_code_subcode(6, 2),
            ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown)
        );
        assert_eq!(
            ErrorCode::from_code_subcode(2, 11),
            ErrorCode::Open(OpenSubcode::RoleMismatch)
        );
        assert_eq!(
            ErrorCode::from_code_subcode(3, 12),
            ErrorCode::Update(UpdateSubcode::Unknown(12))
        );
    }

    #[test]
    fn a_shutdown_communication_is_encoded_and_read_back() {
        let n =
            Notification::shutdown(CeaseSubcode::AdministrativeShutdown, "maintenance ☕").unwrap();
        #[rustfmt::skip]
        let expected = [
            6, 2,                    // Cease / Administrative Shutdown
            15,                      // length of the UTF-8 message
            b'm', b'a', b'i', b'n', b't', b'e', b'n', b'a', b'n', b'c', b'e', b' ',
            0xe2, 0x98, 0x95,        // U+2615
        ];
        let mut body = Vec::new();
        n.encode_body(&mut body);
        assert_eq!(body, expected);
        let back = Notification::decode(&body).unwrap();
        assert_eq!(back, n);
        assert_eq!(
            back.shutdown_message(),
            Some(ShutdownMessage::Text {
                text: "maintenance ☕",
                trailing: &[]
            })
        );
        assert!(
            Notification::shutdown(CeaseSubcode::AdministrativeReset, &"x".repeat(256)).is_err()
        );
        assert!(
            Notification::shutdown(CeaseSubcode::AdministrativeReset, &"x".repeat(255)).is_ok()
        );
    }

    #[test]
    fn malformed_shutdown_communications_do_not_fail() {
        let overrun = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeReset),
            vec![5, b'a'],
        );
        assert_eq!(overrun.shutdown_message(), Some(ShutdownMessage::Malformed));
        let not_utf8 = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown),
            vec![1, 0xff],
        );
        assert_eq!(
            not_utf8.shutdown_message(),
            Some(ShutdownMessage::Malformed)
        );
        let empty = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown),
            vec![],
        );
        assert_eq!(empty.shutdown_message(), Some(ShutdownMessage::None));
        let other = Notification::new(ErrorCode::HoldTimerExpired(0), vec![]);
        assert_eq!(other.shutdown_message(), None);
    }

    #[test]
    fn a_body_shorter_than_two_bytes_is_a_length_error() {
        assert!(Notification::decode(&[6]).is_err());
        assert_eq!(
            Notification::decode(&[4, 0]).unwrap().error,
            ErrorCode::HoldTimerExpired(0)
        );
    }
}
