//! The session state machine: one table row per state × event of RFC 4271 §8.2.2 that
//! applies to a speaker that both connects and accepts, then the behaviours around it
//! (hold-time negotiation, collisions, restart, graceful restart, sending).

use super::*;
use crate::{Message, frame};

const LOCAL_AS: u32 = 65000;
const PEER_AS: u32 = 65001;

fn t0() -> Instant {
    Instant::now()
}

fn config() -> SessionConfig {
    SessionConfig {
        connect_retry: Duration::from_secs(5),
        restart_delay: None,
        ..SessionConfig::new(LOCAL_AS, Ipv4Addr::new(10, 0, 0, 1), PEER_AS)
    }
}

fn peer_open(asn: u32, hold: u16, id: [u8; 4]) -> Vec<u8> {
    let open = Open::new(
        asn,
        hold,
        Ipv4Addr::from(id),
        vec![
            Capability::MultiProtocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
        ],
    );
    Message::Open(open)
        .to_bytes(&SessionContext::legacy())
        .unwrap()
}

fn keepalive() -> Vec<u8> {
    Message::Keepalive
        .to_bytes(&SessionContext::legacy())
        .unwrap()
}

fn notification(code: u8, subcode: u8) -> Vec<u8> {
    Message::Notification(Notification::new(
        ErrorCode::from_code_subcode(code, subcode),
        vec![],
    ))
    .to_bytes(&SessionContext::legacy())
    .unwrap()
}

fn update() -> Vec<u8> {
    Message::Update(Update::end_of_rib(Family::IPV4_UNICAST))
        .to_bytes(&SessionContext::modern())
        .unwrap()
}

fn bad_marker() -> Vec<u8> {
    let mut k = keepalive();
    k[0] = 0;
    k
}

/// A malformed UPDATE that resets the session: the attribute length overruns.
fn bad_update() -> Vec<u8> {
    let mut u = update();
    u[21..23].copy_from_slice(&[0, 50]);
    u
}

/// A session driven to a state, with what it did so far drained.
struct H {
    s: Session,
    now: Instant,
}

impl H {
    fn new(config: SessionConfig) -> H {
        H {
            s: Session::new(config),
            now: t0(),
        }
    }

    fn idle() -> H {
        H::new(config())
    }

    fn connect() -> H {
        let mut h = H::idle();
        h.s.start(h.now);
        h.drain();
        h
    }

    fn active() -> H {
        let mut h = H::new(SessionConfig {
            passive: true,
            ..config()
        });
        h.s.start(h.now);
        h.drain();
        h
    }

    fn open_sent() -> H {
        let mut h = H::connect();
        assert!(h.s.handle_connected(h.now, Direction::Outgoing));
        h.drain();
        h
    }

    fn open_confirm() -> H {
        let mut h = H::open_sent();
        h.data(&peer_open(PEER_AS, 90, [10, 0, 0, 2]));
        h.drain();
        h
    }

    fn established() -> H {
        let mut h = H::open_confirm();
        h.data(&keepalive());
        h.drain();
        h
    }

    fn data(&mut self, bytes: &[u8]) {
        self.s.handle_data(self.now, Direction::Outgoing, bytes);
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.s.handle_timeout(self.now);
    }

    /// Everything sent and every event so far.
    fn drain(&mut self) -> (Vec<Message>, Vec<Event>) {
        let mut sent = Vec::new();
        while let Some(t) = self.s.poll_transmit() {
            let ctx = SessionContext {
                extended_message: true,
                ..SessionContext::modern()
            };
            let mut rest = &t.bytes[..];
            while let Ok(Some(len)) = frame(rest, &ctx) {
                // OPENs come before any negotiation; the rest uses the 4-octet context.
                let c = if rest[18] == 1 {
                    SessionContext::legacy()
                } else {
                    ctx.clone()
                };
                let m = Message::decode(&rest[..len], &c).unwrap();
                sent.push(m);
                rest = &rest[len..];
            }
        }
        let mut events = Vec::new();
        while let Some(e) = self.s.poll_event() {
            events.push(e);
        }
        (sent, events)
    }
}

/// What one row expects: the state after, and the NOTIFICATION sent (code, subcode),
/// or another message kind sent, or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sent {
    Nothing,
    Notification(u8, u8),
    Kind(MessageType),
}

fn check(
    name: &str,
    mut h: H,
    event: impl FnOnce(&mut H),
    state: State,
    sent: Sent,
) -> (H, Vec<Event>) {
    event(&mut h);
    let (messages, events) = h.drain();
    assert_eq!(h.s.state(), state, "{name}: state");
    let got = match messages.last() {
        None => Sent::Nothing,
        Some(Message::Notification(n)) => {
            let (c, s) = n.error.code_subcode();
            Sent::Notification(c, s)
        }
        Some(m) => Sent::Kind(m.kind()),
    };
    assert_eq!(got, sent, "{name}: sent {messages:?}");
    (h, events)
}

fn start(h: &mut H) {
    h.s.start(h.now);
}
fn stop(h: &mut H) {
    h.s.stop(h.now, None);
}
fn connected_out(h: &mut H) {
    h.s.handle_connected(h.now, Direction::Outgoing);
}
fn connected_in(h: &mut H) {
    h.s.handle_connected(h.now, Direction::Incoming);
}
fn fails(h: &mut H) {
    h.s.handle_connection_failed(h.now, Direction::Outgoing);
}
fn connect_retry(h: &mut H) {
    h.advance(Duration::from_secs(5));
}
fn hold_expires(h: &mut H) {
    h.advance(LARGE_HOLD_TIME);
}
fn negotiated_hold_expires(h: &mut H) {
    // Keepalives go out every 30 s; no KEEPALIVE arrives for 90 s.
    h.advance(Duration::from_secs(30));
    h.advance(Duration::from_secs(30));
    h.advance(Duration::from_secs(30));
}
fn keepalive_timer(h: &mut H) {
    h.advance(Duration::from_secs(30));
}
fn open_msg(h: &mut H) {
    h.data(&peer_open(PEER_AS, 90, [10, 0, 0, 2]));
}
fn bad_open(h: &mut H) {
    h.data(&peer_open(64999, 90, [10, 0, 0, 2]));
}
fn header_err(h: &mut H) {
    h.data(&bad_marker());
}
fn notif(h: &mut H) {
    h.data(&notification(6, 2));
}
fn keepalive_msg(h: &mut H) {
    h.data(&keepalive());
}
fn update_msg(h: &mut H) {
    h.data(&update());
}
fn update_err(h: &mut H) {
    h.data(&bad_update());
}

use MessageType::{Keepalive as KA, Open as OPEN};
use Sent::{Kind, Nothing, Notification as N};

#[test]
fn idle() {
    let (_, events) = check(
        "Idle + ManualStart",
        H::idle(),
        start,
        State::Connect,
        Nothing,
    );
    assert!(events.contains(&Event::Connect));
    check("Idle + ManualStop", H::idle(), stop, State::Idle, Nothing);
    check(
        "Idle + ConnectRetryTimer",
        H::idle(),
        connect_retry,
        State::Idle,
        Nothing,
    );
    let mut h = H::idle();
    assert!(
        !h.s.handle_connected(h.now, Direction::Incoming),
        "Idle refuses connections"
    );
    check(
        "Idle + TcpConnectionFails",
        H::idle(),
        fails,
        State::Idle,
        Nothing,
    );
    let (h, _) = check(
        "Passive start",
        H::new(SessionConfig {
            passive: true,
            ..config()
        }),
        start,
        State::Active,
        Nothing,
    );
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_secs(5)));
}

#[test]
fn connect() {
    check(
        "Connect + ManualStart",
        H::connect(),
        start,
        State::Connect,
        Nothing,
    );
    check(
        "Connect + ManualStop",
        H::connect(),
        stop,
        State::Idle,
        Nothing,
    );
    let (_, events) = check(
        "Connect + ConnectRetryTimer",
        H::connect(),
        connect_retry,
        State::Connect,
        Nothing,
    );
    assert_eq!(
        events,
        vec![Event::Close(Direction::Outgoing), Event::Connect]
    );
    check(
        "Connect + Tcp_CR_Acked",
        H::connect(),
        connected_out,
        State::OpenSent,
        Kind(OPEN),
    );
    check(
        "Connect + TcpConnectionConfirmed",
        H::connect(),
        connected_in,
        State::OpenSent,
        Kind(OPEN),
    );
    let (h, _) = check(
        "Connect + TcpConnectionFails",
        H::connect(),
        fails,
        State::Idle,
        Nothing,
    );
    assert_eq!(h.s.connect_retry_counter(), 1);
}

#[test]
fn active() {
    check(
        "Active + ManualStart",
        H::active(),
        start,
        State::Active,
        Nothing,
    );
    check(
        "Active + ManualStop",
        H::active(),
        stop,
        State::Idle,
        Nothing,
    );
    check(
        "Active + TcpConnectionConfirmed",
        H::active(),
        connected_in,
        State::OpenSent,
        Kind(OPEN),
    );
    // Active after a failed OpenSent (not passive): ConnectRetry expiry connects again.
    let (h, _) = check(
        "OpenSent + TcpConnectionFails",
        H::open_sent(),
        fails,
        State::Active,
        Nothing,
    );
    let (_, events) = check(
        "Active + ConnectRetryTimer",
        h,
        connect_retry,
        State::Connect,
        Nothing,
    );
    assert!(events.contains(&Event::Connect));
    // Passive: never connects.
    let (_, events) = check(
        "passive Active + ConnectRetryTimer",
        H::active(),
        connect_retry,
        State::Active,
        Nothing,
    );
    assert!(!events.contains(&Event::Connect));
}

#[test]
fn open_sent() {
    check(
        "OpenSent + ManualStart",
        H::open_sent(),
        start,
        State::OpenSent,
        Nothing,
    );
    check(
        "OpenSent + ManualStop",
        H::open_sent(),
        stop,
        State::Idle,
        N(6, 2),
    );
    check(
        "OpenSent + HoldTimer",
        H::open_sent(),
        hold_expires,
        State::Idle,
        N(4, 0),
    );
    check(
        "OpenSent + TcpConnectionFails",
        H::open_sent(),
        fails,
        State::Active,
        Nothing,
    );
    check(
        "OpenSent + BGPOpen",
        H::open_sent(),
        open_msg,
        State::OpenConfirm,
        Kind(KA),
    );
    check(
        "OpenSent + BGPHeaderErr",
        H::open_sent(),
        header_err,
        State::Idle,
        N(1, 1),
    );
    check(
        "OpenSent + BGPOpenMsgErr",
        H::open_sent(),
        bad_open,
        State::Idle,
        N(2, 2),
    );
    check(
        "OpenSent + NotifMsg",
        H::open_sent(),
        notif,
        State::Idle,
        Nothing,
    );
    check(
        "OpenSent + KeepAliveMsg",
        H::open_sent(),
        keepalive_msg,
        State::Idle,
        N(5, 1),
    );
    check(
        "OpenSent + UpdateMsg",
        H::open_sent(),
        update_msg,
        State::Idle,
        N(5, 1),
    );
}

#[test]
fn open_confirm() {
    check(
        "OpenConfirm + ManualStart",
        H::open_confirm(),
        start,
        State::OpenConfirm,
        Nothing,
    );
    check(
        "OpenConfirm + ManualStop",
        H::open_confirm(),
        stop,
        State::Idle,
        N(6, 2),
    );
    check(
        "OpenConfirm + HoldTimer",
        H::open_confirm(),
        negotiated_hold_expires,
        State::Idle,
        N(4, 0),
    );
    check(
        "OpenConfirm + KeepaliveTimer",
        H::open_confirm(),
        keepalive_timer,
        State::OpenConfirm,
        Kind(KA),
    );
    check(
        "OpenConfirm + TcpConnectionFails",
        H::open_confirm(),
        fails,
        State::Idle,
        Nothing,
    );
    check(
        "OpenConfirm + BGPOpen",
        H::open_confirm(),
        open_msg,
        State::Idle,
        N(5, 2),
    );
    check(
        "OpenConfirm + BGPHeaderErr",
        H::open_confirm(),
        header_err,
        State::Idle,
        N(1, 1),
    );
    check(
        "OpenConfirm + NotifMsg",
        H::open_confirm(),
        notif,
        State::Idle,
        Nothing,
    );
    let (_, events) = check(
        "OpenConfirm + KeepAliveMsg",
        H::open_confirm(),
        keepalive_msg,
        State::Established,
        Nothing,
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Established { .. }))
    );
    check(
        "OpenConfirm + UpdateMsg",
        H::open_confirm(),
        update_msg,
        State::Idle,
        N(5, 2),
    );
}

#[test]
fn established() {
    check(
        "Established + ManualStart",
        H::established(),
        start,
        State::Established,
        Nothing,
    );
    let (_, events) = check(
        "Established + ManualStop",
        H::established(),
        stop,
        State::Idle,
        N(6, 2),
    );
    assert!(events.contains(&Event::Down(DownReason::Stopped)));
    check(
        "Established + HoldTimer",
        H::established(),
        negotiated_hold_expires,
        State::Idle,
        N(4, 0),
    );
    check(
        "Established + KeepaliveTimer",
        H::established(),
        keepalive_timer,
        State::Established,
        Kind(KA),
    );
    let (_, events) = check(
        "Established + TcpConnectionFails",
        H::established(),
        fails,
        State::Idle,
        Nothing,
    );
    assert!(events.contains(&Event::Down(DownReason::ConnectionLost)));
    check(
        "Established + BGPOpen",
        H::established(),
        open_msg,
        State::Idle,
        N(5, 3),
    );
    check(
        "Established + BGPHeaderErr",
        H::established(),
        header_err,
        State::Idle,
        N(1, 1),
    );
    let (_, events) = check(
        "Established + NotifMsg",
        H::established(),
        notif,
        State::Idle,
        Nothing,
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Down(DownReason::NotificationReceived(_))))
    );
    check(
        "Established + KeepAliveMsg",
        H::established(),
        keepalive_msg,
        State::Established,
        Nothing,
    );
    let (_, events) = check(
        "Established + UpdateMsg",
        H::established(),
        update_msg,
        State::Established,
        Nothing,
    );
    assert!(events.iter().any(
        |e| matches!(e, Event::Update(u) if u.end_of_rib_family() == Some(Family::IPV4_UNICAST))
    ));
    check(
        "Established + UpdateMsgErr",
        H::established(),
        update_err,
        State::Idle,
        N(3, 1),
    );
}

#[test]
fn keepalives_keep_the_session_up() {
    let mut h = H::established();
    for _ in 0..10 {
        h.advance(Duration::from_secs(30));
        h.data(&keepalive());
    }
    let (sent, _) = h.drain();
    assert_eq!(h.s.state(), State::Established);
    assert_eq!(
        sent.iter().filter(|m| **m == Message::Keepalive).count(),
        10
    );
}

#[test]
fn hold_time_is_negotiated() {
    let mut h = H::open_sent();
    h.data(&peer_open(PEER_AS, 9, [10, 0, 0, 2]));
    h.data(&keepalive());
    assert_eq!(h.s.negotiated_hold_time(), Some(Duration::from_secs(9)));
    h.drain();
    h.advance(Duration::from_secs(3));
    assert_eq!(
        h.drain().0,
        vec![Message::Keepalive],
        "keepalives every third of the hold time"
    );

    // Zero: no keepalives, no hold timer.
    let mut h = H::open_sent();
    h.data(&peer_open(PEER_AS, 0, [10, 0, 0, 2]));
    h.data(&keepalive());
    h.drain();
    assert_eq!(h.s.poll_timeout(), None);
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.s.state(), State::Established);

    // 1 or 2 seconds is unacceptable.
    check(
        "hold time 2",
        H::open_sent(),
        |h| h.data(&peer_open(PEER_AS, 2, [10, 0, 0, 2])),
        State::Idle,
        N(2, 6),
    );
}

#[test]
fn open_checks() {
    // The same identifier on an internal session.
    let ibgp = H::new(SessionConfig {
        peer_as: Some(LOCAL_AS),
        ..config()
    });
    let mut h = ibgp;
    h.s.start(h.now);
    h.s.handle_connected(h.now, Direction::Outgoing);
    h.drain();
    check(
        "iBGP, same id",
        h,
        |h| h.data(&peer_open(LOCAL_AS, 90, [10, 0, 0, 1])),
        State::Idle,
        N(2, 3),
    );
    // Role mismatch (RFC 9234): two providers.
    let mut h = H::new(SessionConfig {
        role: Some(Role::Provider),
        ..config()
    });
    h.s.start(h.now);
    h.s.handle_connected(h.now, Direction::Outgoing);
    h.drain();
    let open = Open::new(
        PEER_AS,
        90,
        Ipv4Addr::new(10, 0, 0, 2),
        vec![Capability::Role(Role::Provider)],
    );
    let bytes = Message::Open(open)
        .to_bytes(&SessionContext::legacy())
        .unwrap();
    check(
        "role mismatch",
        h,
        |h| h.data(&bytes),
        State::Idle,
        N(2, 11),
    );
    // Version 3.
    let mut old = peer_open(PEER_AS, 90, [10, 0, 0, 2]);
    old[19] = 3;
    check(
        "version 3",
        H::open_sent(),
        |h| h.data(&old),
        State::Idle,
        N(2, 1),
    );
}

#[test]
fn a_collision_keeps_the_connection_of_the_higher_identifier() {
    // Our identifier is 10.0.0.1: a higher peer keeps its own (incoming) connection, a
    // lower one ours (outgoing).
    for (peer_id, survivor) in [
        ([10, 0, 0, 9], Direction::Incoming),
        ([9, 0, 0, 1], Direction::Outgoing),
    ] {
        let mut h = H::open_sent();
        assert!(h.s.handle_connected(h.now, Direction::Incoming));
        h.drain();
        let open = peer_open(PEER_AS, 90, peer_id);
        h.s.handle_data(h.now, Direction::Outgoing, &open);
        h.s.handle_data(h.now, Direction::Incoming, &open);
        let mut closed = Vec::new();
        let mut ceased = Vec::new();
        while let Some(t) = h.s.poll_transmit() {
            if let Ok(Message::Notification(n)) =
                Message::decode(&t.bytes, &SessionContext::legacy())
            {
                assert_eq!(
                    n.error,
                    ErrorCode::Cease(CeaseSubcode::ConnectionCollisionResolution)
                );
                ceased.push(t.direction);
            }
        }
        while let Some(e) = h.s.poll_event() {
            if let Event::Close(d) = e {
                closed.push(d);
            }
        }
        let loser = if survivor == Direction::Incoming {
            Direction::Outgoing
        } else {
            Direction::Incoming
        };
        assert_eq!(ceased, vec![loser], "peer id {peer_id:?}");
        assert_eq!(closed, vec![loser]);
        assert_eq!(h.s.state(), State::OpenConfirm);
        h.s.handle_data(h.now, survivor, &keepalive());
        assert_eq!(h.s.state(), State::Established);
    }
}

#[test]
fn a_second_connection_to_an_established_session_is_refused_by_collision() {
    let mut h = H::established();
    assert!(h.s.handle_connected(h.now, Direction::Incoming));
    h.drain();
    h.s.handle_data(
        h.now,
        Direction::Incoming,
        &peer_open(PEER_AS, 90, [10, 0, 0, 2]),
    );
    let (sent, events) = h.drain();
    assert!(
        matches!(&sent[..], [Message::Notification(n)] if n.error == ErrorCode::Cease(CeaseSubcode::ConnectionCollisionResolution))
    );
    assert_eq!(events, vec![Event::Close(Direction::Incoming)]);
    assert_eq!(h.s.state(), State::Established);
}

#[test]
fn the_session_restarts_by_itself_after_an_error() {
    let mut h = H::new(SessionConfig {
        restart_delay: Some(Duration::from_secs(7)),
        ..config()
    });
    h.s.start(h.now);
    h.s.handle_connected(h.now, Direction::Outgoing);
    h.data(&notification(6, 4));
    h.drain();
    assert_eq!(h.s.state(), State::Idle);
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_secs(7)));
    h.advance(Duration::from_secs(7));
    let (_, events) = h.drain();
    assert!(events.contains(&Event::Connect));
    assert_eq!(h.s.state(), State::Connect);
    // A manual stop cancels it.
    h.s.stop(h.now, None);
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn stop_sends_the_shutdown_communication() {
    let mut h = H::established();
    h.s.stop(h.now, Some("draining node-1"));
    let (sent, _) = h.drain();
    let Message::Notification(n) = &sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(
        n.shutdown_message(),
        Some(crate::ShutdownMessage::Text {
            text: "draining node-1",
            trailing: &[]
        })
    );
}

#[test]
fn updates_are_sent_only_when_established_with_the_negotiated_context() {
    let mut h = H::open_confirm();
    assert_eq!(
        h.s.send_update(h.now, Update::default()),
        Err(SendError::NotEstablished(State::OpenConfirm))
    );
    h.data(&keepalive());
    h.drain();
    let ctx = h.s.context().unwrap().clone();
    assert!(ctx.four_octet_as);
    assert_eq!(
        ctx.external,
        Some(crate::ExternalPeer {
            asn: PEER_AS,
            enforce_first_as: true
        }),
        "an external session applies the eBGP rules of RFC 7606"
    );
    h.now += Duration::from_secs(20);
    h.s.send_end_of_rib(h.now, Family::IPV6_UNICAST).unwrap();
    h.s.send_route_refresh(h.now, Family::IPV4_UNICAST).unwrap();
    let (sent, _) = h.drain();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].kind(), MessageType::RouteRefresh);
    // Sending restarted the keepalive timer: next keepalive 30 s after the send.
    assert_eq!(
        h.s.poll_timeout(),
        Some(h.now + Duration::from_secs(30)).min(Some(t_hold(&h)))
    );
}

fn t_hold(h: &H) -> Instant {
    // The hold deadline: 90 s after the KEEPALIVE that established the session.
    h.now - Duration::from_secs(20) + Duration::from_secs(90)
}

#[test]
fn graceful_restart_is_announced_as_configured() {
    let s = Session::new(SessionConfig {
        graceful_restart: Some(GracefulRestartConfig {
            restart_time: 120,
            restarting: true,
            forwarding_preserved: true,
        }),
        ..config()
    });
    let gr = s
        .local_open()
        .graceful_restart()
        .expect("announced")
        .clone();
    assert!(gr.restart_state);
    assert_eq!(gr.restart_time, 120);
    assert!(gr.families.iter().all(|f| f.forwarding_preserved()));
    assert_eq!(gr.families.len(), 2);
}

#[test]
fn bytes_split_anywhere_are_reassembled() {
    let mut h = H::open_sent();
    let mut stream = peer_open(PEER_AS, 90, [10, 0, 0, 2]);
    stream.extend(keepalive());
    stream.extend(update());
    for b in &stream {
        h.data(std::slice::from_ref(b));
    }
    let (_, events) = h.drain();
    assert_eq!(h.s.state(), State::Established);
    assert!(events.iter().any(|e| matches!(e, Event::Update(_))));
}

#[test]
fn a_missing_required_capability_is_refused() {
    let mut h = H::new(SessionConfig {
        required_capabilities: vec![CapabilityCode::AddPath, CapabilityCode::RouteRefresh],
        ..config()
    });
    h.s.start(h.now);
    h.s.handle_connected(h.now, Direction::Outgoing);
    h.drain();
    // The peer announces route refresh but not ADD-PATH.
    h.data(&peer_open(PEER_AS, 90, [10, 0, 0, 2]));
    let (sent, _) = h.drain();
    let Some(Message::Notification(n)) = sent.last() else {
        panic!("{sent:?}")
    };
    assert_eq!(n.error, ErrorCode::Open(OpenSubcode::UnsupportedCapability));
    assert_eq!(n.data, vec![u8::from(CapabilityCode::AddPath), 0]);
    assert_eq!(h.s.state(), State::Idle);
}

#[test]
fn the_initial_announcement_ends_with_end_of_rib_markers() {
    let mut h = H::established();
    let route = Update {
        attributes: vec![
            crate::Attribute::new(crate::AttributeValue::Origin(crate::Origin::Igp)),
            crate::Attribute::new(crate::AttributeValue::AsPath(crate::AsPath::sequence(
                vec![LOCAL_AS],
            ))),
            crate::Attribute::new(crate::AttributeValue::NextHop(Ipv4Addr::new(10, 0, 0, 1))),
        ],
        nlri: vec![crate::Nlri::new(crate::Prefix::host(
            "198.51.100.10".parse().unwrap(),
        ))],
        ..Update::default()
    };
    h.s.send_initial_updates(h.now, [route.clone()]).unwrap();
    let (sent, _) = h.drain();
    // The peer announced only IPv4 unicast: one End-of-RIB.
    assert_eq!(
        sent,
        vec![
            Message::Update(route),
            Message::Update(Update::end_of_rib(Family::IPV4_UNICAST))
        ]
    );
}
