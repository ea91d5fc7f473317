//! The fixture server: its public handle, its shared state, the accept loop.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::head::{RequestHead, header_value};
use super::multipart::{Part, multipart_boundary, parse_multipart};
use super::response::{Prepared, Response};
use super::{HttpError, conn};

/// How long `Drop` waits for the connection that wakes the accept loop.
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// A scripted fault that was applied to a request, as recorded in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The request was answered with this status instead of its route.
    Status(u16),
    /// The response was cut after this many body bytes and the connection closed.
    DroppedMidBody {
        /// Body bytes sent before closing.
        after_bytes: usize,
    },
}

/// One request the server received, as recorded in its log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without the `?`.
    pub query: Option<String>,
    /// The headers in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// When the request head had been received.
    pub received_at: Instant,
    /// The connection it came on: requests with the same number shared a connection.
    pub connection: u64,
    /// The scripted fault applied to it, if any.
    pub fault: Option<Fault>,
}

impl RecordedRequest {
    /// The value of the first header called `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// A body received on an upload route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upload {
    /// `POST` or `PUT`.
    pub method: String,
    /// The request's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// What was uploaded.
    pub body: UploadBody,
}

impl Upload {
    /// The parts of a multipart upload; empty for a plain one.
    pub fn parts(&self) -> &[Part] {
        match &self.body {
            UploadBody::Multipart(parts) => parts,
            UploadBody::Plain(_) => &[],
        }
    }

    /// The body of a plain upload; `None` for a multipart one.
    pub fn plain(&self) -> Option<&[u8]> {
        match &self.body {
            UploadBody::Plain(bytes) => Some(bytes),
            UploadBody::Multipart(_) => None,
        }
    }
}

/// The content of an [`Upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadBody {
    /// A `multipart/form-data` body, split into its parts.
    Multipart(Vec<Part>),
    /// Any other body, as received.
    Plain(Vec<u8>),
}

/// An HTTP/1.1 server on loopback that answers with canned responses, records every
/// request and injects scripted faults, for the integration tests of HTTP clients.
///
/// It serves on std threads, one per connection, with keep-alive, chunked request
/// bodies and `100 Continue`; malformed requests get `400` and a closed connection.
/// Unknown paths get `404`.
///
/// Every method takes `&self`: routes and faults can be changed while clients are
/// connected. Dropping the server stops it: once `drop` returns, the port refuses
/// connections, open connections are closed and all server threads are joined.
pub struct FixtureServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for FixtureServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixtureServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FixtureServer {
    /// Starts a server on `127.0.0.1` at a port the system picks.
    ///
    /// # Errors
    ///
    /// As [`FixtureServer::start_on`].
    pub fn start() -> Result<Self, HttpError> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Starts a server on `addr` (port `0` lets the system pick one).
    ///
    /// # Errors
    ///
    /// [`HttpError::Bind`] when the address cannot be bound, [`HttpError::Listener`]
    /// when its local address cannot be read, [`HttpError::Spawn`] when the accept
    /// thread cannot be started.
    pub fn start_on(addr: SocketAddr) -> Result<Self, HttpError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| HttpError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(HttpError::Listener)?;
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name(format!("http-fixture-{}", addr.port()))
            .spawn(move || accept_loop(listener, &accept_shared))
            .map_err(HttpError::Spawn)?;
        Ok(Self {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this server, e.g. `http://127.0.0.1:41234/image.raw`. A `/`
    /// is put before `path` when it has none.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// Answers every request for `path` (any method, any query) with `response`.
    /// Replaces what `path` answered before, except method-specific routes.
    pub fn route(&self, path: &str, response: Response) -> &Self {
        self.route_sequence(path, vec![response])
    }

    /// Answers requests for `path` with `method` with `response`; such a route takes
    /// precedence over one for any method, and a `GET` route also answers `HEAD`. A
    /// method that `path` has no route for gets `405`.
    pub fn route_method(&self, method: &str, path: &str, response: Response) -> &Self {
        let mut state = self.shared.lock();
        let routes = state.routes.entry(path.to_owned()).or_default();
        routes.by_method.retain(|(m, _)| m != method);
        routes
            .by_method
            .push((method.to_owned(), Handler::canned(vec![response])));
        self
    }

    /// Answers the requests for `path` with `responses` in turn: each request takes the
    /// next one and the last one repeats. Requests that a fault answers do not advance
    /// the sequence. An empty sequence removes the route.
    pub fn route_sequence(&self, path: &str, responses: Vec<Response>) -> &Self {
        let handler = (!responses.is_empty()).then(|| Handler::canned(responses));
        self.set_any(path, handler)
    }

    /// Makes `path` receive uploads: `POST` and `PUT` bodies are stored (see
    /// [`FixtureServer::uploads`]) and answered `201` with a JSON body such as
    /// `{"upload":0,"bytes":1234,"parts":2}`; other methods get `405`. A
    /// `multipart/form-data` body that does not parse gets `400` and is not stored.
    pub fn upload_route(&self, path: &str) -> &Self {
        self.set_any(path, Some(Handler::Upload))
    }

    fn set_any(&self, path: &str, handler: Option<Handler>) -> &Self {
        let mut state = self.shared.lock();
        let routes = state.routes.entry(path.to_owned()).or_default();
        routes.any = handler;
        if routes.any.is_none() && routes.by_method.is_empty() {
            state.routes.remove(path);
        }
        self
    }

    /// The next `n` requests, whatever their path, are answered with `status` (a
    /// [`Response::error`]) instead of their route.
    ///
    /// Faults are queued in the order they are set. A request first takes a fault
    /// queued for its path, then one queued for all paths.
    pub fn fail_next(&self, n: usize, status: u16) -> &Self {
        self.fail_next_with(n, Response::error(status))
    }

    /// The next `n` requests, whatever their path, are answered with `response`, e.g.
    /// `Response::error(429).retry_after(1)`.
    pub fn fail_next_with(&self, n: usize, response: Response) -> &Self {
        self.push_fault(None, n, FaultKind::Respond(response))
    }

    /// The next `n` requests for `path` are answered with `status` instead of their
    /// route; other paths are not affected.
    pub fn fail_next_on(&self, path: &str, n: usize, status: u16) -> &Self {
        self.fail_next_on_with(path, n, Response::error(status))
    }

    /// The next `n` requests for `path` are answered with `response`.
    pub fn fail_next_on_with(&self, path: &str, n: usize, response: Response) -> &Self {
        self.push_fault(Some(path), n, FaultKind::Respond(response))
    }

    /// The next `n` responses for `path` send their full headers, with the real
    /// `Content-Length`, and only the first `after_bytes` bytes of the body; then the
    /// server closes the connection. A [`Response::chunked`] body sends complete chunks
    /// holding those bytes and no last chunk.
    pub fn drop_next_mid_body(&self, path: &str, n: usize, after_bytes: usize) -> &Self {
        self.push_fault(Some(path), n, FaultKind::DropMidBody(after_bytes))
    }

    fn push_fault(&self, path: Option<&str>, n: usize, kind: FaultKind) -> &Self {
        if n > 0 {
            let mut state = self.shared.lock();
            let queue = match path {
                Some(path) => state.faults.per_path.entry(path.to_owned()).or_default(),
                None => &mut state.faults.global,
            };
            queue.push_back(PendingFault { kind, remaining: n });
        }
        self
    }

    /// Delays every response by `latency`, before its status line is sent (after
    /// the request has been read and logged). `Duration::ZERO` turns the delay off.
    pub fn set_latency(&self, latency: Duration) -> &Self {
        self.shared.lock().latency = latency;
        self
    }

    /// Every request received so far, in order of arrival. Requests too malformed
    /// to be parsed are answered `400` and are not recorded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// The requests received for `path` (the query does not count).
    pub fn requests_for(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// How many requests for `path` were received, faulted ones included.
    pub fn calls(&self, path: &str) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// How many requests were received in all, faulted ones included.
    pub fn total_calls(&self) -> usize {
        self.shared.lock().log.len()
    }

    /// Forgets the requests received so far. Uploads, routes and faults stay.
    pub fn clear_log(&self) {
        self.shared.lock().log.clear();
    }

    /// How many scripted faults have been applied since the server started.
    pub fn faults_applied(&self) -> usize {
        self.shared.lock().faults_applied
    }

    /// How many scripted faults are still queued, counting each of the `n` of a
    /// `fail_next…` or `drop_next_mid_body` call.
    pub fn pending_faults(&self) -> usize {
        let state = self.shared.lock();
        let faults = &state.faults;
        faults
            .global
            .iter()
            .chain(faults.per_path.values().flatten())
            .map(|f| f.remaining)
            .sum()
    }

    /// The uploads stored for `path`, in order of arrival.
    pub fn uploads(&self, path: &str) -> Vec<Upload> {
        self.shared
            .lock()
            .uploads
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for FixtureServer {
    /// Stops the server: the accept loop ends and closes the listener, open
    /// connections are shut down (a response being delayed is not sent), and all
    /// server threads are joined.
    fn drop(&mut self) {
        self.shared.stop();
        let wake_ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let woke =
            TcpStream::connect_timeout(&SocketAddr::new(wake_ip, self.addr.port()), WAKE_TIMEOUT)
                .is_ok();
        if let Some(accept) = self.accept.take()
            && woke
        {
            // The accept thread does not panic; if it somehow did, there is nothing
            // left to clean up.
            let _ = accept.join();
        }
        // Without the wake-up connection the accept thread stays blocked in `accept`;
        // it is detached and ends at the next connection.
    }
}

/// Accepts connections until the server stops, one thread per connection; then closes
/// the listener, shuts the open connections down and joins their threads.
fn accept_loop(listener: TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<(JoinHandle<()>, Option<TcpStream>)> = Vec::new();
    for incoming in listener.incoming() {
        if shared.is_stopped() {
            break;
        }
        let Ok(stream) = incoming else {
            // Out of descriptors or an aborted handshake: back off a little.
            if shared.sleep(Duration::from_millis(10)) {
                continue;
            }
            break;
        };
        workers.retain(|(worker, _)| !worker.is_finished());
        let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
        // A second handle on the socket, to shut it down when the server stops; without
        // it the connection still ends, at its next read timeout.
        let handle = stream.try_clone().ok();
        let worker_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("http-fixture-conn-{id}"))
            .spawn(move || conn::serve(stream, &worker_shared, id));
        // If the thread cannot be spawned, the stream is dropped and the client sees
        // the connection close.
        if let Ok(worker) = spawned {
            workers.push((worker, handle));
        }
    }
    drop(listener);
    for (_, handle) in &workers {
        if let Some(stream) = handle {
            // Unblocks a read or a write in progress; the socket may already be closed.
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
    for (worker, _) in workers {
        let _ = worker.join();
    }
}

/// State shared by the handle, the accept loop and the connections.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    stopped: Mutex<bool>,
    wake: Condvar,
    next_connection: AtomicU64,
}

/// What an answered request leads to.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// What to send.
    pub(crate) prepared: Prepared,
    /// Cut the body after this many bytes and close the connection.
    pub(crate) cut_after: Option<usize>,
    /// Wait this long before sending.
    pub(crate) latency: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state inconsistent in a way
        // that matters to a test fixture: keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> MutexGuard<'_, bool> {
        self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the server is stopping.
    pub(crate) fn is_stopped(&self) -> bool {
        *self.stopped()
    }

    fn stop(&self) {
        *self.stopped() = true;
        self.wake.notify_all();
    }

    /// Sleeps for `duration` unless the server stops first; returns whether it slept
    /// the whole time.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        // A delay too long to represent is a wait until the server stops.
        let deadline = Instant::now().checked_add(duration);
        let mut stopped = self.stopped();
        while !*stopped {
            let wait = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(wait) if !wait.is_zero() => wait,
                    _ => return true,
                },
                None => Duration::from_secs(3600),
            };
            stopped = self
                .wake
                .wait_timeout(stopped, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        false
    }

    /// Answers a complete request: applies the next fault or the route, and logs it.
    pub(crate) fn answer(
        &self,
        head: RequestHead,
        body: Vec<u8>,
        received_at: Instant,
        connection: u64,
    ) -> Exchange {
        let mut state = self.lock();
        let (prepared, fault, cut_after) = match state.faults.take(&head.path) {
            Some(FaultKind::Respond(response)) => {
                let fault = Fault::Status(response.status());
                (
                    response.prepare(&head.method, &head.headers),
                    Some(fault),
                    None,
                )
            }
            Some(FaultKind::DropMidBody(after_bytes)) => {
                let fault = Fault::DroppedMidBody { after_bytes };
                (state.route(&head, &body), Some(fault), Some(after_bytes))
            }
            None => (state.route(&head, &body), None, None),
        };
        if fault.is_some() {
            state.faults_applied += 1;
        }
        state.log.push(RecordedRequest {
            method: head.method,
            path: head.path,
            query: head.query,
            headers: head.headers,
            body,
            received_at,
            connection,
            fault,
        });
        Exchange {
            prepared,
            cut_after,
            latency: state.latency,
        }
    }
}

/// The mutable state behind the lock.
#[derive(Debug, Default)]
struct State {
    routes: HashMap<String, PathRoutes>,
    faults: Faults,
    latency: Duration,
    log: Vec<RecordedRequest>,
    uploads: HashMap<String, Vec<Upload>>,
    faults_applied: usize,
}

impl State {
    /// The answer of the route for the request, recording uploads on the way.
    fn route(&mut self, head: &RequestHead, body: &[u8]) -> Prepared {
        let answer = |response: &Response| response.prepare(&head.method, &head.headers);
        let Some(routes) = self.routes.get_mut(&head.path) else {
            return answer(&Response::error(404));
        };
        match routes.handler(&head.method) {
            Some(Handler::Canned { responses, next }) => {
                let Some(response) = responses.get(*next).or(responses.last()) else {
                    return answer(&Response::error(404));
                };
                *next = (*next + 1).min(responses.len());
                answer(response)
            }
            Some(Handler::Upload) if head.method == "POST" || head.method == "PUT" => {
                let uploads = self.uploads.entry(head.path.clone()).or_default();
                answer(&receive_upload(head, body, uploads))
            }
            Some(Handler::Upload) => answer(&Response::error(405).header("Allow", "POST, PUT")),
            None => answer(&Response::error(405).header("Allow", &routes.allowed())),
        }
    }
}

/// Stores an upload and returns the answer to it.
fn receive_upload(head: &RequestHead, body: &[u8], uploads: &mut Vec<Upload>) -> Response {
    let content_type = head.header("content-type").map(str::to_owned);
    let media_type = content_type
        .as_deref()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or("");
    let upload_body = if media_type
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        let parsed = multipart_boundary(content_type.as_deref().unwrap_or_default())
            .ok_or(HttpError::Multipart {
                reason: "no boundary parameter",
            })
            .and_then(|boundary| parse_multipart(body, &boundary));
        match parsed {
            Ok(parts) => UploadBody::Multipart(parts),
            Err(error) => {
                let json = format!("{{\"error\":{}}}", json_string(&error.to_string()));
                return Response::json(400, &json);
            }
        }
    } else {
        UploadBody::Plain(body.to_vec())
    };
    let parts = match &upload_body {
        UploadBody::Multipart(parts) => parts.len(),
        UploadBody::Plain(_) => 0,
    };
    let json = format!(
        "{{\"upload\":{},\"bytes\":{},\"parts\":{parts}}}",
        uploads.len(),
        body.len()
    );
    uploads.push(Upload {
        method: head.method.clone(),
        content_type,
        body: upload_body,
    });
    Response::json(201, &json)
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The routes of one path.
#[derive(Debug, Default)]
struct PathRoutes {
    any: Option<Handler>,
    by_method: Vec<(String, Handler)>,
}

impl PathRoutes {
    /// The handler for `method`: its own, `GET`'s for `HEAD`, else the one for any
    /// method.
    fn handler(&mut self, method: &str) -> Option<&mut Handler> {
        let find = |wanted: &str| self.by_method.iter().position(|(m, _)| m == wanted);
        let position = find(method).or_else(|| if method == "HEAD" { find("GET") } else { None });
        match position {
            Some(i) => Some(&mut self.by_method[i].1),
            None => self.any.as_mut(),
        }
    }

    /// The `Allow` header for a path that only has method-specific routes.
    fn allowed(&self) -> String {
        let mut methods: Vec<&str> = self.by_method.iter().map(|(m, _)| m.as_str()).collect();
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            methods.push("HEAD");
        }
        methods.join(", ")
    }
}

/// What a route does.
#[derive(Debug)]
enum Handler {
    /// Canned responses, taken in turn, the last one repeating.
    Canned {
        responses: Vec<Response>,
        next: usize,
    },
    /// Receives uploads.
    Upload,
}

impl Handler {
    fn canned(responses: Vec<Response>) -> Self {
        Self::Canned { responses, next: 0 }
    }
}

/// The queued faults.
#[derive(Debug, Default)]
struct Faults {
    global: VecDeque<PendingFault>,
    per_path: HashMap<String, VecDeque<PendingFault>>,
}

impl Faults {
    /// Takes the fault for the next request on `path`: one queued for the path first,
    /// else one queued for all paths.
    fn take(&mut self, path: &str) -> Option<FaultKind> {
        if let Some(queue) = self.per_path.get_mut(path)
            && let Some(kind) = take_from(queue)
        {
            return Some(kind);
        }
        take_from(&mut self.global)
    }
}

/// Takes one application of the fault at the front of `queue`.
fn take_from(queue: &mut VecDeque<PendingFault>) -> Option<FaultKind> {
    let front = queue.front_mut()?;
    front.remaining -= 1;
    let kind = front.kind.clone();
    if front.remaining == 0 {
        queue.pop_front();
    }
    Some(kind)
}

/// A fault queued `remaining` more times.
#[derive(Debug)]
struct PendingFault {
    kind: FaultKind,
    remaining: usize,
}

/// What a queued fault does.
#[derive(Debug, Clone)]
enum FaultKind {
    /// Answer with this response.
    Respond(Response),
    /// Cut the body after this many bytes.
    DropMidBody(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_prefer_the_path_queue_and_run_out() {
        let mut faults = Faults::default();
        faults.global.push_back(PendingFault {
            kind: FaultKind::DropMidBody(1),
            remaining: 1,
        });
        faults
            .per_path
            .entry("/a".into())
            .or_default()
            .push_back(PendingFault {
                kind: FaultKind::DropMidBody(2),
                remaining: 2,
            });
        let mut taken = |path: &str| match faults.take(path) {
            Some(FaultKind::DropMidBody(n)) => Some(n),
            Some(FaultKind::Respond(_)) => unreachable!("no response faults queued"),
            None => None,
        };
        assert_eq!(taken("/a"), Some(2));
        assert_eq!(taken("/a"), Some(2));
        assert_eq!(taken("/a"), Some(1));
        assert_eq!(taken("/a"), None);
        assert_eq!(taken("/b"), None);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn allow_lists_head_with_get() {
        let routes = PathRoutes {
            any: None,
            by_method: vec![
                ("GET".into(), Handler::Upload),
                ("DELETE".into(), Handler::Upload),
            ],
        };
        assert_eq!(routes.allowed(), "GET, DELETE, HEAD");
    }
}
