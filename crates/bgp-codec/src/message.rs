//! Message framing (RFC 4271 §4.1) and the message enum.

use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError};
use crate::notification::Notification;
use crate::open::Open;
use crate::route_refresh::RouteRefresh;
use crate::update::Update;

/// The length of the message header: marker, length and type.
pub const HEADER_LEN: usize = 19;
/// The largest message without RFC 8654 extended messages.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// The largest message with RFC 8654 extended messages.
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65_535;
/// The marker: 16 bytes of ones.
pub const MARKER: [u8; 16] = [0xff; 16];

mod field {
    use core::ops::Range;
    pub(super) const MARKER: Range<usize> = 0..16;
    pub(super) const LENGTH: Range<usize> = 16..18;
    pub(super) const TYPE: usize = 18;
    pub(super) const BODY: core::ops::RangeFrom<usize> = 19..;
}

/// The message types (RFC 4271 §4.1, RFC 2918).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 1
    Open,
    /// 2
    Update,
    /// 3
    Notification,
    /// 4
    Keepalive,
    /// 5 (RFC 2918)
    RouteRefresh,
    /// Any other type (a header error when received).
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            other => MessageType::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(kind: MessageType) -> u8 {
        match kind {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
            MessageType::Unknown(other) => other,
        }
    }
}

impl MessageType {
    /// The smallest valid length of a message of this type (RFC 4271 §4, RFC 2918 §3).
    fn min_len(self) -> usize {
        match self {
            MessageType::Open => 29,
            MessageType::Update => 23,
            MessageType::Notification => 21,
            MessageType::Keepalive => 19,
            MessageType::RouteRefresh => 23,
            MessageType::Unknown(_) => HEADER_LEN,
        }
    }
}

/// A zero-copy view of one message: marker, length, type and body.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without any check.
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after checking that it holds at least a header and exactly the
    /// length its header gives.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, DecodeError> {
        let packet = Packet { buffer };
        let len = packet.buffer.as_ref().len();
        if len < HEADER_LEN || usize::from(packet.length()) != len {
            return Err(DecodeError::bad_length(len));
        }
        Ok(packet)
    }

    /// The marker.
    pub fn marker(&self) -> &[u8] {
        &self.buffer.as_ref()[field::MARKER]
    }

    /// The length field.
    pub fn length(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The message type.
    pub fn kind(&self) -> MessageType {
        self.buffer.as_ref()[field::TYPE].into()
    }

    /// The body: everything after the header.
    pub fn body(&self) -> &[u8] {
        &self.buffer.as_ref()[field::BODY]
    }

    /// The underlying bytes.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// Finds the first message in a byte stream: `Ok(Some(len))` when `buf` starts with a
/// complete message of `len` bytes, `Ok(None)` when more bytes are needed, and an error
/// (with its NOTIFICATION) for a bad marker, a bad length or an unknown type. The
/// length is checked against the message type and the negotiated maximum.
pub fn frame(buf: &[u8], ctx: &SessionContext) -> Result<Option<usize>, DecodeError> {
    let marker_seen = buf.len().min(16);
    if buf[..marker_seen].iter().any(|&b| b != 0xff) {
        return Err(DecodeError::BadMarker);
    }
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let packet = Packet::new_unchecked(buf);
    let len = usize::from(packet.length());
    let kind = packet.kind();
    if let MessageType::Unknown(t) = kind {
        return Err(DecodeError::BadType(t));
    }
    let max = ctx.max_message_len(kind);
    if kind == MessageType::RouteRefresh && len != 23 && (HEADER_LEN..=max).contains(&len) {
        // RFC 7313 §5: its own error, whose data is the whole message.
        if buf.len() < len {
            return Ok(None);
        }
        let message = buf[..len].to_vec();
        return Err(DecodeError::RouteRefreshLength { message, len });
    }
    if len < kind.min_len() || len > max {
        return Err(DecodeError::bad_length(len));
    }
    if kind == MessageType::Keepalive && len != HEADER_LEN {
        return Err(DecodeError::bad_length(len));
    }
    Ok((buf.len() >= len).then_some(len))
}

/// One BGP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// OPEN.
    Open(Open),
    /// UPDATE.
    Update(Update),
    /// NOTIFICATION.
    Notification(Notification),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message's type.
    pub fn kind(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Decodes one whole message (header included), as found by [`frame`].
    pub fn decode(bytes: &[u8], ctx: &SessionContext) -> Result<Message, DecodeError> {
        match frame(bytes, ctx)? {
            Some(len) if len == bytes.len() => Message::decode_framed(bytes, ctx),
            _ => Err(DecodeError::bad_length(bytes.len())),
        }
    }

    /// Frames and decodes the first message of a byte stream: `Ok(None)` when more
    /// bytes are needed, else the message and how many bytes it took.
    pub fn decode_next(
        stream: &[u8],
        ctx: &SessionContext,
    ) -> Result<Option<(Message, usize)>, DecodeError> {
        let Some(len) = frame(stream, ctx)? else {
            return Ok(None);
        };
        Ok(Some((Message::decode_framed(&stream[..len], ctx)?, len)))
    }

    /// Decodes a message that [`frame`] accepted (marker, length and type checked).
    fn decode_framed(bytes: &[u8], ctx: &SessionContext) -> Result<Message, DecodeError> {
        let packet = Packet::new_unchecked(bytes);
        let body = packet.body();
        Ok(match packet.kind() {
            MessageType::Open => Message::Open(Open::decode(body)?),
            MessageType::Update => Message::Update(Update::decode(body, ctx)?),
            MessageType::Notification => Message::Notification(Notification::decode(body)?),
            MessageType::Keepalive => Message::Keepalive,
            MessageType::RouteRefresh => Message::RouteRefresh(RouteRefresh::decode(body)),
            MessageType::Unknown(t) => return Err(DecodeError::BadType(t)),
        })
    }

    /// Appends the encoded message to `out`. On error `out` is left as it was.
    pub fn encode(&self, ctx: &SessionContext, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&MARKER);
        out.extend_from_slice(&[0, 0, self.kind().into()]);
        let result = match self {
            Message::Open(open) => open.encode_body(out),
            Message::Update(update) => update.encode_body(ctx, out),
            Message::Notification(n) => {
                n.encode_body(out);
                Ok(())
            }
            Message::Keepalive => Ok(()),
            Message::RouteRefresh(r) => {
                r.encode_body(out);
                Ok(())
            }
        };
        let len = out.len() - start;
        let max = ctx.max_message_len(self.kind());
        let result = match result {
            Ok(()) if len > max => Err(EncodeError::TooLong {
                what: "message",
                len,
                max,
            }),
            other => other,
        };
        match result {
            Ok(()) => {
                let len = u16::try_from(len).expect("checked against the maximum");
                out[start + 16..start + 18].copy_from_slice(&len.to_be_bytes());
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// The message encoded into a new buffer.
    pub fn to_bytes(&self, ctx: &SessionContext) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(ctx, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEPALIVE: [u8; 19] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
        0, 19, // length
        4,  // type KEEPALIVE
    ];

    #[test]
    fn a_keepalive_is_framed_decoded_and_encoded() {
        let ctx = SessionContext::modern();
        assert_eq!(frame(&KEEPALIVE, &ctx), Ok(Some(19)));
        assert_eq!(Message::decode(&KEEPALIVE, &ctx), Ok(Message::Keepalive));
        assert_eq!(Message::Keepalive.to_bytes(&ctx).unwrap(), KEEPALIVE);
    }

    #[test]
    fn decode_next_walks_a_stream() {
        let ctx = SessionContext::modern();
        let mut stream = KEEPALIVE.to_vec();
        stream.extend_from_slice(&KEEPALIVE[..10]);
        assert_eq!(
            Message::decode_next(&stream, &ctx),
            Ok(Some((Message::Keepalive, 19)))
        );
        assert_eq!(Message::decode_next(&stream[19..], &ctx), Ok(None));
        assert!(Message::decode_next(&[0u8; 19], &ctx).is_err());
    }

    #[test]
    fn framing_asks_for_more_bytes() {
        let ctx = SessionContext::modern();
        for n in 0..19 {
            assert_eq!(frame(&KEEPALIVE[..n], &ctx), Ok(None), "{n} bytes");
        }
        let mut two = KEEPALIVE.to_vec();
        two.extend_from_slice(&KEEPALIVE[..5]);
        assert_eq!(frame(&two, &ctx), Ok(Some(19)));
        // An UPDATE header announcing 100 bytes with 30 present.
        let mut update = KEEPALIVE.to_vec();
        update[16..19].copy_from_slice(&[0, 100, 2]);
        update.resize(30, 0);
        assert_eq!(frame(&update, &ctx), Ok(None));
    }

    #[test]
    fn header_errors_carry_their_notification() {
        let ctx = SessionContext::modern();
        let mut bad_marker = KEEPALIVE;
        bad_marker[3] = 0;
        let err = frame(&bad_marker[..4], &ctx).unwrap_err();
        assert_eq!(err, DecodeError::BadMarker);
        assert_eq!(err.notification().error.code_subcode(), (1, 1));

        let mut long_keepalive = KEEPALIVE.to_vec();
        long_keepalive[17] = 20;
        long_keepalive.push(0);
        let err = frame(&long_keepalive, &ctx).unwrap_err();
        assert_eq!(err.notification().error.code_subcode(), (1, 2));
        assert_eq!(err.notification().data, vec![0, 20]);

        let mut too_short = KEEPALIVE;
        too_short[17] = 18;
        assert_eq!(
            frame(&too_short, &ctx),
            Err(DecodeError::BadLength { len: 18 })
        );

        let mut big_update = KEEPALIVE;
        big_update[16..19].copy_from_slice(&[0x10, 0x01, 2]); // 4097
        assert_eq!(
            frame(&big_update, &ctx),
            Err(DecodeError::BadLength { len: 4097 })
        );
        let extended = SessionContext {
            extended_message: true,
            ..SessionContext::modern()
        };
        assert_eq!(frame(&big_update, &extended), Ok(None));
        let mut big_open = big_update;
        big_open[18] = 1;
        assert_eq!(
            frame(&big_open, &extended),
            Err(DecodeError::BadLength { len: 4097 })
        );

        let mut unknown = KEEPALIVE;
        unknown[18] = 9;
        let err = frame(&unknown, &ctx).unwrap_err();
        assert_eq!(err, DecodeError::BadType(9));
        assert_eq!(err.notification().data, vec![9]);
    }

    #[test]
    fn a_route_refresh_of_the_wrong_length_is_its_own_error() {
        let ctx = SessionContext::modern();
        let mut rr = KEEPALIVE.to_vec();
        rr[16..19].copy_from_slice(&[0, 24, 5]);
        rr.extend_from_slice(&[0, 1, 0, 1, 0]);
        let err = frame(&rr, &ctx).unwrap_err();
        assert_eq!(err.notification().error.code_subcode(), (7, 1));
        assert_eq!(err.notification().data, rr);
    }
}
