//! BGP-4 for programs that announce routes: the wire codec and the per-peer session.
//!
//! # Contract
//!
//! This crate does no I/O and reads no clock. The codec turns bytes into typed
//! messages and typed messages into bytes, under an explicit negotiated session
//! context ([`SessionContext`]: 4-octet AS, ADD-PATH per family, extended messages,
//! extended next hop). The session state machine follows RFC 4271 §8 in the
//! quinn-proto style: the caller feeds it events and bytes together with the current
//! time (`handle_*(now, …)`) and drains what it wants sent and when it next wants to be
//! woken (`poll_transmit`, `poll_timeout`, `poll_event`). Sockets and timers belong to
//! the caller.
//!
//! Malformed input never panics: it becomes a typed error that carries the RFC 7606
//! disposition (session reset, treat-as-withdraw or attribute discard) and, where one
//! is required, the NOTIFICATION to send. A value that does not fit its wire field is
//! an encoding error, never a silent truncation. Unknown attributes and capabilities
//! are kept as raw bytes.
//!
//! # Example
//!
//! ```
//! use bgp_codec::{Message, SessionContext, frame};
//!
//! let ctx = SessionContext::modern();
//! let bytes = Message::Keepalive.to_bytes(&ctx)?;
//! let len = frame(&bytes, &ctx)?.expect("a whole message");
//! assert_eq!(Message::decode(&bytes[..len], &ctx)?, Message::Keepalive);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attribute;
mod capability;
mod context;
mod display;
mod error;
mod message;
mod notification;
mod open;
mod prefix;
mod route_refresh;
mod session;
mod update;

pub use attribute::{
    AS_TRANS, Aggregator, AsPath, AsSegment, AttrType, Attribute, AttributeValue, Community,
    ExtendedCommunity, LargeCommunity, MpNlri, MpReach, MpUnreach, NextHop, Origin, SegmentType,
    flags,
};
pub use capability::{
    AddPathEntry, AddPathMode, Capability, CapabilityCode, ExtendedNextHopEntry, GracefulRestart,
    GracefulRestartFamily, LongLivedGracefulRestartFamily, Role,
};
pub use context::{Afi, ExternalPeer, Family, Safi, SessionContext};
pub use error::{DecodeError, EncodeError};
pub use message::{
    HEADER_LEN, MARKER, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, Message, MessageType, Packet,
    frame,
};
pub use notification::{
    CeaseSubcode, ErrorCode, FsmSubcode, HeaderSubcode, MAX_SHUTDOWN_MESSAGE_LEN, Notification,
    OpenSubcode, RouteRefreshSubcode, ShutdownMessage, UpdateSubcode,
};
pub use open::{BGP_VERSION, Open, OpenError, OptionalParameter, negotiate};
pub use prefix::{Nlri, Prefix};
pub use route_refresh::{RefreshSubtype, RouteRefresh};
pub use session::{
    Direction, DownReason, Event, GracefulRestartConfig, LARGE_HOLD_TIME, SendError, Session,
    SessionConfig, State, Transmit,
};
pub use update::{Disposition, Problem, Update, UpdateDecoder, UpdateError, UpdateIssue};
