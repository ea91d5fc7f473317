//! The per-peer BGP session: the RFC 4271 §8 finite state machine, sans-IO.
//!
//! The caller owns the sockets and the clock. It tells the session what happened —
//! [`Session::start`], [`Session::handle_connected`], [`Session::handle_data`],
//! [`Session::handle_connection_failed`], [`Session::handle_timeout`], [`Session::stop`]
//! — always with the current time, and then drains what the session wants:
//! [`Session::poll_transmit`] (bytes for a connection), [`Session::poll_event`]
//! (open or close a connection, state changes, received routes) and
//! [`Session::poll_timeout`] (when to call [`Session::handle_timeout`] next).
//!
//! A speaker may both connect and accept, so a session holds up to two connections,
//! told apart by [`Direction`]; when both reach the OPEN exchange, RFC 4271 §6.8
//! collision detection keeps one. The optional session attributes of RFC 4271 §8.1.1
//! are off (no DelayOpen, no damping, no NOTIFICATION without OPEN); after an error the
//! session restarts by itself after [`SessionConfig::restart_delay`] unless stopped.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::capability::{Capability, CapabilityCode, GracefulRestart, GracefulRestartFamily, Role};
use crate::context::{Family, SessionContext};
use crate::error::{DecodeError, EncodeError};
use crate::message::{Message, MessageType};
use crate::notification::{CeaseSubcode, ErrorCode, FsmSubcode, Notification, OpenSubcode};
use crate::open::{Open, OpenError, negotiate};
use crate::route_refresh::RouteRefresh;
use crate::update::Update;

/// The hold time used while waiting for the peer's OPEN (RFC 4271 §8.2.2: "a large
/// value", 4 minutes suggested).
pub const LARGE_HOLD_TIME: Duration = Duration::from_secs(240);

/// Which TCP connection: the one this speaker opened, or the one the peer opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Opened by this speaker (it connected to the peer's port 179).
    Outgoing,
    /// Opened by the peer (this speaker accepted it).
    Incoming,
}

/// The session states of RFC 4271 §8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Not started, or stopped after an error.
    Idle,
    /// Trying to connect to the peer.
    Connect,
    /// Waiting for the peer to connect.
    Active,
    /// OPEN sent, waiting for the peer's.
    OpenSent,
    /// OPENs exchanged, waiting for the peer's KEEPALIVE.
    OpenConfirm,
    /// Up: UPDATEs flow.
    Established,
}

/// Graceful restart as the restarting speaker (RFC 4724).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// How long the peer should keep our routes after the session goes down, in
    /// seconds (at most 4,095).
    pub restart_time: u16,
    /// The R bit: this speaker has just restarted.
    pub restarting: bool,
    /// The families whose forwarding state this speaker preserved across the restart
    /// (the F bit of each family announced).
    pub forwarding_preserved: bool,
}

/// What the session announces and accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// This speaker's AS.
    pub local_as: u32,
    /// This speaker's BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// The peer's AS; `None` accepts any.
    pub peer_as: Option<u32>,
    /// The hold time proposed, in seconds (0, or at least 3; default 90).
    pub hold_time: u16,
    /// The ConnectRetry time (default 120 s; kube-vip and MetalLB users expect short
    /// values, e.g. 5 s, in a lab).
    pub connect_retry: Duration,
    /// How long after falling to Idle on an error the session starts again by itself;
    /// `None` waits for [`Session::start`].
    pub restart_delay: Option<Duration>,
    /// Never connect, only accept (RFC 4271 passive TCP establishment).
    pub passive: bool,
    /// The families announced with the multiprotocol capability.
    pub families: Vec<Family>,
    /// Capabilities announced besides multiprotocol, 4-octet AS (always announced),
    /// graceful restart and role, which come from their own fields.
    pub capabilities: Vec<Capability>,
    /// Graceful restart, when announced.
    pub graceful_restart: Option<GracefulRestartConfig>,
    /// This speaker's BGP role (RFC 9234), when announced.
    pub role: Option<Role>,
    /// On an external session, require every AS_PATH to start with the peer's AS
    /// (RFC 4271 §6.3; default on, as BIRD and FRR do; turn off towards a route server).
    pub enforce_first_as: bool,
    /// Capabilities the peer must announce; an OPEN without one of them is refused
    /// with OPEN Message Error / Unsupported Capability (RFC 5492 §5).
    pub required_capabilities: Vec<CapabilityCode>,
}

impl SessionConfig {
    /// A session of AS `local_as` with identifier `bgp_id` towards AS `peer_as`, for
    /// IPv4 and IPv6 unicast with route refresh, 90 s hold time, 120 s ConnectRetry and
    /// a restart 5 s after an error.
    pub fn new(local_as: u32, bgp_id: Ipv4Addr, peer_as: u32) -> SessionConfig {
        SessionConfig {
            local_as,
            bgp_id,
            peer_as: Some(peer_as),
            hold_time: 90,
            connect_retry: Duration::from_secs(120),
            restart_delay: Some(Duration::from_secs(5)),
            passive: false,
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            capabilities: vec![Capability::RouteRefresh],
            graceful_restart: None,
            role: None,
            enforce_first_as: true,
            required_capabilities: Vec::new(),
        }
    }

    /// The OPEN this configuration sends.
    pub fn open(&self) -> Open {
        let mut caps: Vec<Capability> = self
            .families
            .iter()
            .map(|f| Capability::MultiProtocol(*f))
            .collect();
        caps.extend(self.capabilities.iter().cloned());
        if let Some(gr) = &self.graceful_restart {
            caps.push(Capability::GracefulRestart(GracefulRestart {
                restart_state: gr.restarting,
                notification: false,
                reserved_flags: 0,
                restart_time: gr.restart_time.min(0x0fff),
                families: self
                    .families
                    .iter()
                    .map(|f| GracefulRestartFamily::new(*f, gr.forwarding_preserved))
                    .collect(),
            }));
        }
        if let Some(role) = self.role {
            caps.push(Capability::Role(role));
        }
        Open::new(self.local_as, self.hold_time, self.bgp_id, caps)
    }
}

/// Why a session went down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// [`Session::stop`] was called.
    Stopped,
    /// The peer sent a NOTIFICATION.
    NotificationReceived(Notification),
    /// This speaker sent a NOTIFICATION (an error it detected, a timer).
    NotificationSent(Notification),
    /// The TCP connection failed or was closed.
    ConnectionLost,
}

/// Something the caller must do or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Open a TCP connection to the peer and report it with
    /// [`Session::handle_connected`]`(now, Direction::Outgoing)` or
    /// [`Session::handle_connection_failed`].
    Connect,
    /// Close this connection once its queued transmits are sent.
    Close(Direction),
    /// The session state changed.
    StateChanged {
        /// The state before.
        from: State,
        /// The state now.
        to: State,
    },
    /// The session is up: what was negotiated, and the peer's OPEN.
    Established {
        /// The negotiated context (used for every later message).
        context: SessionContext,
        /// The peer's OPEN.
        remote: Box<Open>,
    },
    /// The session went down; the routes learned from the peer are gone (unless the
    /// peer does graceful restart, which is the caller's decision).
    Down(DownReason),
    /// An UPDATE from the peer (check [`Update::issues`] and
    /// [`Update::end_of_rib_family`]).
    Update(Update),
    /// A ROUTE-REFRESH from the peer.
    RouteRefresh(RouteRefresh),
}

/// Bytes to write to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The connection.
    pub direction: Direction,
    /// The bytes (one or more whole messages).
    pub bytes: Vec<u8>,
}

/// Why something could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is not Established.
    #[error("the session is not established (it is {0:?})")]
    NotEstablished(State),
    /// The message does not fit the negotiated format.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The states a connection goes through once its TCP connection is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    OpenSent,
    OpenConfirm,
    Established,
}

#[derive(Debug)]
struct Connection {
    direction: Direction,
    state: ConnState,
    buffer: Vec<u8>,
    remote: Option<Open>,
    context: SessionContext,
    hold_time: Duration,
    hold_deadline: Option<Instant>,
    keepalive_deadline: Option<Instant>,
}

/// One BGP peer's session. See the module documentation.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    local_open: Open,
    started: bool,
    connecting: bool,
    connect_retry_counter: u32,
    connect_retry_deadline: Option<Instant>,
    restart_deadline: Option<Instant>,
    connections: Vec<Connection>,
    state: State,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

/// The outcome of one received message on one connection.
enum Outcome {
    Stay,
    /// Send this NOTIFICATION (if any) on the connection and drop it.
    Drop(Option<Notification>, DownReason),
}

impl Session {
    /// A session in Idle.
    pub fn new(config: SessionConfig) -> Session {
        let local_open = config.open();
        Session {
            config,
            local_open,
            started: false,
            connecting: false,
            connect_retry_counter: 0,
            connect_retry_deadline: None,
            restart_deadline: None,
            connections: Vec::new(),
            state: State::Idle,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The OPEN this session sends.
    pub fn local_open(&self) -> &Open {
        &self.local_open
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The ConnectRetryCounter of RFC 4271 §8: failures since the last success.
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    fn established(&self) -> Option<&Connection> {
        self.connections
            .iter()
            .find(|c| c.state == ConnState::Established)
    }

    /// The negotiated context, once Established.
    pub fn context(&self) -> Option<&SessionContext> {
        self.established().map(|c| &c.context)
    }

    /// The peer's OPEN, once Established.
    pub fn remote_open(&self) -> Option<&Open> {
        self.established().and_then(|c| c.remote.as_ref())
    }

    /// The negotiated hold time, once Established (zero: no keepalives).
    pub fn negotiated_hold_time(&self) -> Option<Duration> {
        self.established().map(|c| c.hold_time)
    }

    // ----- inputs -----

    /// ManualStart (RFC 4271 event 1, or event 4 when configured passive): connect to
    /// the peer (unless passive) and accept its connection.
    pub fn start(&mut self, now: Instant) {
        self.restart_deadline = None;
        if self.started {
            return; // ignored in every state but Idle
        }
        self.started = true;
        self.connect_retry_counter = 0;
        self.connect_retry_deadline = Some(now + self.config.connect_retry);
        if !self.config.passive {
            self.connecting = true;
            self.events.push_back(Event::Connect);
        }
        self.update_state();
    }

    /// ManualStop (event 2): a Cease is sent on every connection that got as far as
    /// the OPEN exchange (Administrative Shutdown, with `message` as the RFC 9003
    /// shutdown communication when given), connections are closed, and the session
    /// stays Idle until started again.
    pub fn stop(&mut self, _now: Instant, message: Option<&str>) {
        let notification = message
            .and_then(|m| Notification::shutdown(CeaseSubcode::AdministrativeShutdown, m).ok())
            .unwrap_or_else(|| {
                Notification::new(
                    ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown),
                    Vec::new(),
                )
            });
        let was_up = self.state != State::Idle;
        for direction in self.directions() {
            self.drop_connection(direction, Some(notification.clone()));
        }
        self.started = false;
        self.connecting = false;
        self.connect_retry_counter = 0;
        self.connect_retry_deadline = None;
        self.restart_deadline = None;
        if was_up {
            self.events.push_back(Event::Down(DownReason::Stopped));
        }
        self.update_state();
    }

    /// A TCP connection is up: ours reached the peer (Tcp_CR_Acked, event 16) or we
    /// accepted the peer's (TcpConnectionConfirmed, event 17). The session sends its
    /// OPEN on it. Returns `false` when the session refuses it (Idle, or a connection
    /// in that direction exists already); the caller then closes the socket.
    pub fn handle_connected(&mut self, now: Instant, direction: Direction) -> bool {
        if !self.started || self.connection(direction).is_some() {
            return false;
        }
        if direction == Direction::Outgoing {
            if !self.connecting {
                return false;
            }
            self.connecting = false;
        }
        if self.established().is_none() && self.connections.is_empty() {
            self.connect_retry_deadline = None;
        }
        let mut bytes = Vec::new();
        let legacy = SessionContext::legacy();
        // Our own OPEN always fits: it was built from our configuration.
        if Message::Open(self.local_open.clone())
            .encode(&legacy, &mut bytes)
            .is_err()
        {
            return false;
        }
        self.transmits.push_back(Transmit { direction, bytes });
        self.connections.push(Connection {
            direction,
            state: ConnState::OpenSent,
            buffer: Vec::new(),
            remote: None,
            context: legacy,
            hold_time: LARGE_HOLD_TIME,
            hold_deadline: Some(now + LARGE_HOLD_TIME),
            keepalive_deadline: None,
        });
        self.update_state();
        true
    }

    /// The TCP connection failed to open, was reset or was closed by the peer
    /// (TcpConnectionFails, event 18).
    pub fn handle_connection_failed(&mut self, now: Instant, direction: Direction) {
        if direction == Direction::Outgoing && self.connecting {
            // Connect state, no DelayOpen: back to Idle (RFC 4271 §8.2.2).
            self.connecting = false;
            self.fail(now);
            return;
        }
        let Some(conn) = self.connection(direction) else {
            return;
        };
        let state = conn.state;
        self.remove_connection(direction);
        if !self.connections.is_empty() || self.connecting {
            self.update_state();
            return;
        }
        match state {
            // OpenSent: close, restart ConnectRetry, listen: Active.
            ConnState::OpenSent => {
                self.connect_retry_deadline = Some(now + self.config.connect_retry);
                self.update_state();
            }
            ConnState::OpenConfirm | ConnState::Established => {
                self.events
                    .push_back(Event::Down(DownReason::ConnectionLost));
                self.fail(now);
            }
        }
    }

    /// Bytes received on a connection. Every whole message in them is processed.
    pub fn handle_data(&mut self, now: Instant, direction: Direction, bytes: &[u8]) {
        let Some(conn) = self.connection_mut(direction) else {
            return;
        };
        conn.buffer.extend_from_slice(bytes);
        loop {
            let Some(conn) = self.connection_mut(direction) else {
                return;
            };
            let decoded = match Message::decode_next(&conn.buffer, &conn.context) {
                Ok(None) => return,
                Ok(Some((message, len))) => {
                    conn.buffer.drain(..len);
                    Ok(message)
                }
                // A framing or decoding error ends the connection: what is left of the
                // buffer does not matter.
                Err(e) => Err(e),
            };
            match self.receive(now, direction, decoded) {
                Outcome::Stay => {}
                Outcome::Drop(notification, reason) => {
                    self.drop_with(now, direction, notification, reason);
                    return;
                }
            }
        }
    }

    /// Processes every timer that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.restart_deadline.is_some_and(|d| d <= now) {
            self.restart_deadline = None;
            let counter = self.connect_retry_counter;
            self.start(now);
            self.connect_retry_counter = counter;
        }
        if self.connect_retry_deadline.is_some_and(|d| d <= now) {
            // Connect or Active: (re)try the connection. With a connection past the
            // TCP stage the timer does not run.
            self.connect_retry_deadline = Some(now + self.config.connect_retry);
            if !self.config.passive && self.started {
                if self.connecting {
                    // Connect: drop the attempt in progress and start a new one.
                    self.events.push_back(Event::Close(Direction::Outgoing));
                }
                self.connecting = true;
                self.events.push_back(Event::Connect);
                self.update_state();
            }
        }
        for direction in self.directions() {
            let Some(conn) = self.connection(direction) else {
                continue;
            };
            if conn.hold_deadline.is_some_and(|d| d <= now) {
                let n = Notification::new(ErrorCode::HoldTimerExpired(0), Vec::new());
                self.drop_with(
                    now,
                    direction,
                    Some(n.clone()),
                    DownReason::NotificationSent(n),
                );
                continue;
            }
            if conn.keepalive_deadline.is_some_and(|d| d <= now) {
                self.send_keepalive(now, direction);
            }
        }
    }

    // ----- outputs -----

    /// The next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conns = self
            .connections
            .iter()
            .flat_map(|c| [c.hold_deadline, c.keepalive_deadline]);
        [self.connect_retry_deadline, self.restart_deadline]
            .into_iter()
            .chain(conns)
            .flatten()
            .min()
    }

    /// Sends an UPDATE on the established connection (and restarts the keepalive
    /// timer, RFC 4271 §8.2.2).
    pub fn send_update(&mut self, now: Instant, update: Update) -> Result<(), SendError> {
        self.send(now, Message::Update(update))
    }

    /// Sends the End-of-RIB marker of `family` (RFC 4724 §2): what a restarting speaker
    /// sends after its initial announcement.
    pub fn send_end_of_rib(&mut self, now: Instant, family: Family) -> Result<(), SendError> {
        self.send(now, Message::Update(Update::end_of_rib(family)))
    }

    /// Sends the initial announcement, then the End-of-RIB marker of every family both
    /// sides announced (IPv4 unicast always), as a restarting speaker must (RFC 4724
    /// §4.1) and as any peer waiting for End-of-RIB likes.
    pub fn send_initial_updates(
        &mut self,
        now: Instant,
        updates: impl IntoIterator<Item = Update>,
    ) -> Result<(), SendError> {
        for update in updates {
            self.send_update(now, update)?;
        }
        let remote: Vec<Family> = self
            .remote_open()
            .map(|o| o.families().collect())
            .unwrap_or_default();
        let mut families = vec![Family::IPV4_UNICAST];
        for family in self.local_open.families() {
            if remote.contains(&family) && !families.contains(&family) {
                families.push(family);
            }
        }
        for family in families {
            self.send_end_of_rib(now, family)?;
        }
        Ok(())
    }

    /// Asks the peer to send its routes of `family` again (RFC 2918).
    pub fn send_route_refresh(&mut self, now: Instant, family: Family) -> Result<(), SendError> {
        self.send(now, Message::RouteRefresh(RouteRefresh::request(family)))
    }

    fn send(&mut self, now: Instant, message: Message) -> Result<(), SendError> {
        let state = self.state;
        let conn = self
            .connections
            .iter_mut()
            .find(|c| c.state == ConnState::Established)
            .ok_or(SendError::NotEstablished(state))?;
        let bytes = message.to_bytes(&conn.context)?;
        if conn.hold_time > Duration::ZERO {
            conn.keepalive_deadline = Some(now + conn.hold_time / 3);
        }
        let direction = conn.direction;
        self.transmits.push_back(Transmit { direction, bytes });
        Ok(())
    }

    // ----- internals -----

    fn directions(&self) -> Vec<Direction> {
        self.connections.iter().map(|c| c.direction).collect()
    }

    fn connection(&self, direction: Direction) -> Option<&Connection> {
        self.connections.iter().find(|c| c.direction == direction)
    }

    fn connection_mut(&mut self, direction: Direction) -> Option<&mut Connection> {
        self.connections
            .iter_mut()
            .find(|c| c.direction == direction)
    }

    fn remove_connection(&mut self, direction: Direction) {
        self.connections.retain(|c| c.direction != direction);
    }

    fn send_keepalive(&mut self, now: Instant, direction: Direction) {
        let Some(conn) = self.connection_mut(direction) else {
            return;
        };
        conn.keepalive_deadline =
            (conn.hold_time > Duration::ZERO).then(|| now + conn.hold_time / 3);
        let mut bytes = Vec::new();
        // A KEEPALIVE always encodes.
        let _ = Message::Keepalive.encode(&conn.context, &mut bytes);
        self.transmits.push_back(Transmit { direction, bytes });
    }

    /// Sends `notification` (if any) on a connection, closes it and forgets it.
    fn drop_connection(&mut self, direction: Direction, notification: Option<Notification>) {
        let Some(conn) = self.connection(direction) else {
            return;
        };
        if let Some(n) = notification {
            let mut bytes = Vec::new();
            // A NOTIFICATION whose data would not fit is sent without its data.
            if Message::Notification(n.clone())
                .encode(&conn.context, &mut bytes)
                .is_err()
            {
                bytes.clear();
                let bare = Notification::new(n.error, Vec::new());
                let _ = Message::Notification(bare).encode(&conn.context, &mut bytes);
            }
            self.transmits.push_back(Transmit { direction, bytes });
        }
        self.events.push_back(Event::Close(direction));
        self.remove_connection(direction);
    }

    /// Drops a connection after an error on it; the session falls to Idle when no
    /// other connection carries on.
    fn drop_with(
        &mut self,
        now: Instant,
        direction: Direction,
        notification: Option<Notification>,
        reason: DownReason,
    ) {
        let was_established = self
            .connection(direction)
            .is_some_and(|c| c.state == ConnState::Established);
        self.drop_connection(direction, notification);
        if !self.connections.is_empty() && !was_established {
            self.update_state();
            return;
        }
        for other in self.directions() {
            let cease = Notification::new(ErrorCode::Cease(CeaseSubcode::Unspecific), Vec::new());
            self.drop_connection(other, Some(cease));
        }
        self.events.push_back(Event::Down(reason));
        self.fail(now);
    }

    /// Falls to Idle after an error: ConnectRetryCounter + 1, timers stopped, and an
    /// automatic restart scheduled when configured.
    fn fail(&mut self, now: Instant) {
        for direction in self.directions() {
            self.drop_connection(direction, None);
        }
        if self.connecting {
            self.events.push_back(Event::Close(Direction::Outgoing));
        }
        self.connecting = false;
        self.started = false;
        self.connect_retry_counter += 1;
        self.connect_retry_deadline = None;
        self.restart_deadline = self.config.restart_delay.map(|d| now + d);
        self.update_state();
    }

    fn update_state(&mut self) {
        let best = self
            .connections
            .iter()
            .map(|c| c.state)
            .max_by_key(|s| match s {
                ConnState::OpenSent => 0,
                ConnState::OpenConfirm => 1,
                ConnState::Established => 2,
            });
        let state = match best {
            Some(ConnState::Established) => State::Established,
            Some(ConnState::OpenConfirm) => State::OpenConfirm,
            Some(ConnState::OpenSent) => State::OpenSent,
            None if self.connecting => State::Connect,
            None if self.started => State::Active,
            None => State::Idle,
        };
        if state != self.state {
            self.events.push_back(Event::StateChanged {
                from: self.state,
                to: state,
            });
            self.state = state;
        }
    }

    fn fsm_error(state: ConnState, kind: MessageType) -> Outcome {
        let subcode = match state {
            ConnState::OpenSent => FsmSubcode::UnexpectedMessageInOpenSent,
            ConnState::OpenConfirm => FsmSubcode::UnexpectedMessageInOpenConfirm,
            ConnState::Established => FsmSubcode::UnexpectedMessageInEstablished,
        };
        let n = Notification::new(ErrorCode::Fsm(subcode), vec![kind.into()]);
        Outcome::Drop(Some(n.clone()), DownReason::NotificationSent(n))
    }

    /// Checks an OPEN against the configuration (RFC 4271 §6.2, RFC 6286, RFC 9234).
    fn check_open(&self, open: &Open) -> Result<(), Notification> {
        open.validate(self.config.peer_as)
            .map_err(|e: OpenError| e.notification())?;
        let internal = open.asn() == self.config.local_as;
        if internal && open.bgp_id == self.config.bgp_id {
            return Err(Notification::new(
                ErrorCode::Open(OpenSubcode::BadBgpIdentifier),
                Vec::new(),
            ));
        }
        let missing: Vec<u8> = self
            .config
            .required_capabilities
            .iter()
            .filter(|&&code| !open.has_capability(code))
            .flat_map(|&code| [u8::from(code), 0])
            .collect();
        if !missing.is_empty() {
            // The data lists the missing capabilities, each with an empty value.
            return Err(Notification::new(
                ErrorCode::Open(OpenSubcode::UnsupportedCapability),
                missing,
            ));
        }
        if let (Some(ours), Some(theirs)) = (self.config.role, open.role()) {
            let fits = matches!(
                (ours, theirs),
                (Role::Provider, Role::Customer)
                    | (Role::Customer, Role::Provider)
                    | (Role::RouteServer, Role::RouteServerClient)
                    | (Role::RouteServerClient, Role::RouteServer)
                    | (Role::Peer, Role::Peer)
            );
            if !fits {
                return Err(Notification::new(
                    ErrorCode::Open(OpenSubcode::RoleMismatch),
                    Vec::new(),
                ));
            }
        }
        Ok(())
    }

    fn receive(
        &mut self,
        now: Instant,
        direction: Direction,
        decoded: Result<Message, DecodeError>,
    ) -> Outcome {
        let Some(state) = self.connection(direction).map(|c| c.state) else {
            return Outcome::Stay;
        };
        let message = match decoded {
            Ok(m) => m,
            Err(e) => {
                let n = e.notification();
                return Outcome::Drop(Some(n.clone()), DownReason::NotificationSent(n));
            }
        };
        match (state, message) {
            (_, Message::Notification(n)) => {
                // NotifMsg (25) / NotifMsgVerErr (24): close without answering.
                Outcome::Drop(None, DownReason::NotificationReceived(n))
            }
            (ConnState::OpenSent, Message::Open(open)) => self.receive_open(now, direction, open),
            (ConnState::OpenConfirm, Message::Keepalive) => {
                let Some(conn) = self.connection_mut(direction) else {
                    return Outcome::Stay;
                };
                conn.state = ConnState::Established;
                conn.hold_deadline =
                    (conn.hold_time > Duration::ZERO).then(|| now + conn.hold_time);
                let context = conn.context.clone();
                let remote = conn.remote.clone().map(Box::new);
                self.connect_retry_counter = 0;
                self.connect_retry_deadline = None;
                if self.connecting {
                    self.connecting = false;
                    self.events.push_back(Event::Close(Direction::Outgoing));
                }
                self.update_state();
                if let Some(remote) = remote {
                    self.events
                        .push_back(Event::Established { context, remote });
                }
                Outcome::Stay
            }
            (ConnState::Established, Message::Keepalive) => {
                self.restart_hold(now, direction);
                Outcome::Stay
            }
            (ConnState::Established, Message::Update(update)) => {
                self.restart_hold(now, direction);
                self.events.push_back(Event::Update(update));
                Outcome::Stay
            }
            (ConnState::Established, Message::RouteRefresh(rr)) => {
                self.events.push_back(Event::RouteRefresh(rr));
                Outcome::Stay
            }
            (state, message) => Session::fsm_error(state, message.kind()),
        }
    }

    fn restart_hold(&mut self, now: Instant, direction: Direction) {
        if let Some(conn) = self.connection_mut(direction) {
            conn.hold_deadline = (conn.hold_time > Duration::ZERO).then(|| now + conn.hold_time);
        }
    }

    fn receive_open(&mut self, now: Instant, direction: Direction, open: Open) -> Outcome {
        if let Err(n) = self.check_open(&open) {
            return Outcome::Drop(Some(n.clone()), DownReason::NotificationSent(n));
        }
        // Collision detection (RFC 4271 §6.8) against the other connection.
        let other = match direction {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
        };
        let collision = Notification::new(
            ErrorCode::Cease(CeaseSubcode::ConnectionCollisionResolution),
            Vec::new(),
        );
        match self.connection(other).map(|c| c.state) {
            Some(ConnState::Established) => {
                return Outcome::Drop(
                    Some(collision.clone()),
                    DownReason::NotificationSent(collision),
                );
            }
            Some(ConnState::OpenConfirm) => {
                // The connection opened by the speaker with the higher identifier stays.
                let keep_ours = u32::from(self.config.bgp_id) > u32::from(open.bgp_id);
                let loser = if keep_ours {
                    Direction::Incoming
                } else {
                    Direction::Outgoing
                };
                if loser == direction {
                    return Outcome::Drop(
                        Some(collision.clone()),
                        DownReason::NotificationSent(collision),
                    );
                }
                self.drop_connection(loser, Some(collision));
            }
            _ => {}
        }
        let hold = self.config.hold_time.min(open.hold_time);
        let mut context = negotiate(&self.local_open, &open);
        if open.asn() != self.config.local_as {
            context.external = Some(crate::context::ExternalPeer {
                asn: open.asn(),
                enforce_first_as: self.config.enforce_first_as,
            });
        }
        let Some(conn) = self.connection_mut(direction) else {
            return Outcome::Stay;
        };
        conn.hold_time = Duration::from_secs(u64::from(hold));
        conn.hold_deadline = (hold > 0).then(|| now + conn.hold_time);
        conn.context = context;
        conn.remote = Some(open);
        conn.state = ConnState::OpenConfirm;
        self.send_keepalive(now, direction);
        self.update_state();
        Outcome::Stay
    }
}

#[cfg(test)]
mod tests;
