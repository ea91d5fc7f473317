//! Property tests for the messages other than UPDATE and OPEN (which have their own):
//! NOTIFICATION, KEEPALIVE and ROUTE-REFRESH round-trip through framing, decoding and
//! encoding, and a stream of any messages is split back exactly.

use bgp_codec::{
    ErrorCode, Family, Message, Notification, RefreshSubtype, RouteRefresh, SessionContext, frame,
};
use proptest::prelude::*;

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        Just(Message::Keepalive),
        (
            any::<u8>(),
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(
                |(code, subcode, data)| Message::Notification(Notification::new(
                    ErrorCode::from_code_subcode(code, subcode),
                    data
                ))
            ),
        (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(afi, subtype, safi)| {
            Message::RouteRefresh(RouteRefresh {
                family: Family::new(afi.into(), safi.into()),
                subtype: RefreshSubtype::from(subtype),
            })
        }),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip(m in message()) {
        let ctx = SessionContext::modern();
        let bytes = m.to_bytes(&ctx).unwrap();
        prop_assert_eq!(frame(&bytes, &ctx).unwrap(), Some(bytes.len()));
        prop_assert_eq!(Message::decode(&bytes, &ctx).unwrap(), m);
    }

    #[test]
    fn a_stream_splits_back_into_its_messages(
        messages in prop::collection::vec(message(), 1..20),
        cut in 1usize..50,
    ) {
        let ctx = SessionContext::modern();
        let mut stream = Vec::new();
        for m in &messages {
            m.encode(&ctx, &mut stream).unwrap();
        }
        // Feed the stream in pieces of `cut` bytes, as TCP may deliver it.
        let mut buffer = Vec::new();
        let mut decoded = Vec::new();
        for piece in stream.chunks(cut) {
            buffer.extend_from_slice(piece);
            while let Some(len) = frame(&buffer, &ctx).unwrap() {
                decoded.push(Message::decode(&buffer[..len], &ctx).unwrap());
                buffer.drain(..len);
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(decoded, messages);
    }
}
