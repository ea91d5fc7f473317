//! Watching neighbour and address changes inside a namespace with `ip -ts monitor`.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::Stdio;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::process::NsProcess;
use crate::{Error, Netns, Result};

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorChange {
    /// A neighbour (ARP or NDP) entry was added, changed or deleted.
    Neighbor {
        /// The neighbour's address.
        addr: IpAddr,
        /// The interface.
        dev: String,
        /// Its link-layer address, when known.
        lladdr: Option<String>,
        /// The NUD state (`REACHABLE`, `STALE`, `PERMANENT`, `FAILED`, …), when printed.
        state: Option<String>,
    },
    /// An address was added to or removed from an interface.
    Address {
        /// The interface.
        dev: String,
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
        /// Flags such as `tentative` or `dadfailed`.
        flags: Vec<String>,
    },
    /// A line the kit does not interpret.
    Other,
}

/// One change seen by a [`Monitor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorEvent {
    /// When the kernel reported it (`ip -ts`, printed in UTC).
    pub at: SystemTime,
    /// Whether this is a deletion.
    pub deleted: bool,
    /// The parsed change.
    pub change: MonitorChange,
    /// The event's text as `ip` printed it, without the timestamp.
    pub text: String,
}

#[derive(Debug, Default)]
struct Shared {
    events: Vec<MonitorEvent>,
    ended: bool,
}

/// `ip -ts monitor neigh address` running inside a namespace, collecting events in the
/// background. Created ready: no event after [`Monitor::start`] returns is missed.
#[derive(Debug)]
pub struct Monitor {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    process: NsProcess,
}

impl Monitor {
    /// Starts watching `ns`.
    pub fn start(ns: &Netns) -> Result<Monitor> {
        // `ip` block-buffers a pipe; `stdbuf` makes it hand over every line at once.
        let mut cmd = ns.command("stdbuf");
        cmd.args(["-oL", "ip", "-ts", "monitor", "neigh", "address"])
            .env("TZ", "UTC")
            .stdout(Stdio::piped());
        let mut process = NsProcess::spawn(cmd, None)?;
        let stdout = process
            .child_mut()
            .stdout
            .take()
            .ok_or_else(|| Error::Invalid("ip monitor without standard output".into()))?;
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let sink = Arc::clone(&shared);
        std::thread::spawn(move || {
            let mut pending: Option<String> = None;
            let flush = |line: String| {
                if let Some(event) = parse_event(&line) {
                    let (lock, cv) = &*sink;
                    lock.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .events
                        .push(event);
                    cv.notify_all();
                }
            };
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with('[') {
                    if let Some(previous) = pending.replace(line) {
                        flush(previous);
                    }
                } else if let Some(p) = pending.as_mut() {
                    p.push('\n');
                    p.push_str(&line);
                }
                // Neighbour events are one line; address events end with their
                // lifetimes line. Deliver either at once.
                if pending
                    .as_deref()
                    .is_some_and(|p| !p.contains("    inet") || p.contains("preferred_lft"))
                {
                    flush(pending.take().unwrap_or_default());
                }
            }
            if let Some(p) = pending {
                flush(p);
            }
            let (lock, cv) = &*sink;
            lock.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
            cv.notify_all();
        });
        let monitor = Monitor { shared, process };
        // Prove the subscription is live: add and remove a sentinel address until the
        // monitor reports it (`ip` subscribes a few milliseconds after it starts).
        let sentinel = "127.0.0.254";
        let is_sentinel = |e: &MonitorEvent| {
            e.deleted
                && matches!(&e.change, MonitorChange::Address { addr, .. } if addr.to_string() == sentinel)
        };
        let start = Instant::now();
        loop {
            ns.ip(&["addr", "add", &format!("{sentinel}/32"), "dev", "lo"])?;
            ns.ip(&["addr", "del", &format!("{sentinel}/32"), "dev", "lo"])?;
            let wait = Duration::from_millis(200);
            match monitor.wait_for("the monitor's sentinel address", wait, is_sentinel) {
                Ok(_) => break,
                Err(e) if start.elapsed() > Duration::from_secs(10) => return Err(e),
                Err(_) => {}
            }
        }
        monitor.clear();
        Ok(monitor)
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<MonitorEvent> {
        self.lock().events.clone()
    }

    /// Forgets the events so far.
    pub fn clear(&self) {
        self.lock().events.clear();
    }

    /// Waits until an event matching `pred` has been seen; returns the first such event.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&MonitorEvent) -> bool,
    ) -> Result<MonitorEvent> {
        let start = Instant::now();
        let (lock, cv) = &*self.shared;
        let mut shared = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(event) = shared.events.iter().find(|e| pred(e)) {
                return Ok(event.clone());
            }
            let waited = start.elapsed();
            if waited >= timeout || shared.ended {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    waited,
                    detail: format!("events seen: {:?}", shared.events),
                });
            }
            shared = cv
                .wait_timeout(shared, timeout - waited)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The PID of the `ip monitor` process.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// Parses one event as `ip -ts monitor` prints it in UTC (continuation lines included).
pub fn parse_event(text: &str) -> Option<MonitorEvent> {
    let rest = text.strip_prefix('[')?;
    let (stamp, rest) = rest.split_once(']')?;
    let at = parse_timestamp(stamp)?;
    let body = rest.trim();
    let (deleted, body) = match body.strip_prefix("Deleted ") {
        Some(b) => (true, b),
        None => (false, body),
    };
    let first = body.lines().next().unwrap_or_default();
    let words: Vec<&str> = first.split_whitespace().collect();
    let change = match &words[..] {
        // "2: eth0    inet 10.0.0.1/24 scope global eth0"
        [index, dev, family, cidr, flags @ ..]
            if index.ends_with(':') && (*family == "inet" || *family == "inet6") =>
        {
            let (addr, len) = cidr.split_once('/')?;
            MonitorChange::Address {
                dev: (*dev).to_owned(),
                addr: addr.parse().ok()?,
                prefix_len: len.parse().ok()?,
                flags: flags
                    .iter()
                    .filter(|f| ["tentative", "dadfailed", "deprecated", "nodad"].contains(f))
                    .map(|f| (*f).to_owned())
                    .collect(),
            }
        }
        // "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE", possibly after "miss"
        _ => {
            let words: Vec<&str> = words.iter().copied().skip_while(|w| *w == "miss").collect();
            match &words[..] {
                [addr, "dev", dev, rest @ ..] if addr.parse::<IpAddr>().is_ok() => {
                    let lladdr = rest
                        .iter()
                        .position(|w| *w == "lladdr")
                        .and_then(|i| rest.get(i + 1))
                        .map(|m| (*m).to_owned());
                    let state = rest
                        .last()
                        .filter(|w| w.chars().all(|c| c.is_ascii_uppercase()))
                        .map(|w| (*w).to_owned());
                    MonitorChange::Neighbor {
                        addr: addr.parse().ok()?,
                        dev: (*dev).to_owned(),
                        lladdr,
                        state,
                    }
                }
                _ => MonitorChange::Other,
            }
        }
    };
    Some(MonitorEvent {
        at,
        deleted,
        change,
        text: body.to_owned(),
    })
}

/// `2026-11-29T10:38:37.564170` (UTC) as a point in time.
fn parse_timestamp(stamp: &str) -> Option<SystemTime> {
    let (date, time) = stamp.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|n| n.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':').map(|n| n.parse::<u64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    // `ip` prints four-digit years; anything else is not a timestamp (and would overflow).
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || hh > 23
        || mm > 59
        || ss > 60
    {
        return None;
    }
    let digits: String = frac.chars().take(9).collect();
    let nanos: u32 = format!("{digits:0<9}").parse().ok()?;
    // Days from the civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc() {
        let at = parse_timestamp("2026-11-29T10:38:37.564170").unwrap();
        let since = at.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since.as_secs(), 1_795_948_717);
        assert_eq!(since.subsec_micros(), 564_170);
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:00").unwrap(),
            SystemTime::UNIX_EPOCH
        );
        assert!(parse_timestamp("2026-13-01T00:00:00").is_none());
        assert!(parse_timestamp("nonsense").is_none());
        // Found by the fuzzer: huge years once overflowed the day arithmetic.
        assert!(parse_timestamp("30000000000000000-01-02T00:00:00").is_none());
        assert!(parse_timestamp("955555552026-01-02T00:08:02").is_none());
        assert!(parse_timestamp("499999992023-01-02T00:08:03").is_none());
        assert!(parse_timestamp("9999-12-31T23:59:60.999999999").is_some());
    }

    #[test]
    fn address_events_are_parsed() {
        let e = parse_event(
            "[2026-11-29T10:38:37.568035] 1: lo    inet6 fd00::5/128 scope global tentative \n       valid_lft forever preferred_lft forever",
        )
        .unwrap();
        assert!(!e.deleted);
        assert_eq!(
            e.change,
            MonitorChange::Address {
                dev: "lo".into(),
                addr: "fd00::5".parse().unwrap(),
                prefix_len: 128,
                flags: vec!["tentative".into()],
            }
        );
        let d = parse_event(
            "[2026-11-29T10:38:37.578298] Deleted 2: eth0    inet 10.0.0.1/24 scope global eth0",
        )
        .unwrap();
        assert!(d.deleted);
        assert!(matches!(
            d.change,
            MonitorChange::Address { prefix_len: 24, .. }
        ));
    }

    #[test]
    fn neighbour_events_are_parsed() {
        let e = parse_event(
            "[2026-11-29T10:38:37.569383] 10.0.0.2 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE",
        )
        .unwrap();
        assert_eq!(
            e.change,
            MonitorChange::Neighbor {
                addr: "10.0.0.2".parse().unwrap(),
                dev: "eth0".into(),
                lladdr: Some("02:00:00:00:00:01".into()),
                state: Some("REACHABLE".into()),
            }
        );
        let f = parse_event("[2026-11-29T10:38:37.1] miss 10.0.0.9 dev eth0 INCOMPLETE").unwrap();
        assert!(matches!(
            f.change,
            MonitorChange::Neighbor { lladdr: None, .. }
        ));
        let other = parse_event("[2026-11-29T10:38:37.1] something else").unwrap();
        assert_eq!(other.change, MonitorChange::Other);
        assert!(parse_event("no timestamp").is_none());
        assert!(parse_event("[2026-11-29T10:38:37.1").is_none());
    }
}
