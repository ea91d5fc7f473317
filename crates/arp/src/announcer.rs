//! The announcer of one interface: announcements on takeover with their burst and
//! refresh schedule, the userspace ARP/NDP responder, and RFC 5227 conflict detection.
//! Sans-IO: the caller supplies the time and the received frames and sends what
//! [`Announcer::poll_transmit`] returns.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::frames::Link;
use crate::wire::{ArpOperation, Frame, MacAddr, NdiscRepr, VlanTag};

/// Who answers ARP requests and Neighbor Solicitations for our addresses on an
/// interface. Chosen per interface, so one address is never answered twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The addresses are configured on the interface and the kernel answers; the
    /// responder stays silent (kube-vip's way).
    Kernel,
    /// The addresses are not configured on the interface; the userspace responder
    /// answers ARP requests (reply) and Neighbor Solicitations (solicited NA) for them,
    /// and for nothing else (MetalLB's way).
    Responder,
}

/// How announcements are spaced. The defaults: five rounds 1.1 s apart (beyond the
/// 1 s Linux ARP locktime, so every round updates the peers' caches), then a refresh
/// every 60 s so switch and router caches never age out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Rounds sent after a takeover, the first at once (at least 1).
    pub burst_rounds: u32,
    /// Time between two rounds of the burst.
    pub burst_interval: Duration,
    /// Time between refresh rounds after the burst; `None` disables refreshing.
    pub refresh_interval: Option<Duration>,
    /// Send the RFC 5227 announcement (a request) in each IPv4 round.
    pub arp_request: bool,
    /// Send the gratuitous reply form in each IPv4 round.
    pub arp_reply: bool,
    /// Defend an address at most once per this interval (RFC 5227 DEFEND_INTERVAL).
    pub defend_interval: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            burst_rounds: 5,
            burst_interval: Duration::from_millis(1100),
            refresh_interval: Some(Duration::from_secs(60)),
            arp_request: true,
            arp_reply: true,
            defend_interval: Duration::from_secs(10),
        }
    }
}

/// The interface the announcer works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Its MAC address.
    pub mac: MacAddr,
    /// The 802.1Q tag to put on frames, when the announcer tags them itself (not for a
    /// VLAN sub-interface, which tags them).
    pub vlan: Option<VlanTag>,
    /// Who answers for the addresses.
    pub ownership: Ownership,
    /// The interface's IPv6 link-local address: the source of unsolicited NAs. When
    /// `None`, an NA comes from the address it announces.
    pub link_local: Option<Ipv6Addr>,
}

/// Something the caller may want to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Another host claims one of our addresses (RFC 5227 §2.4): a frame whose sender
    /// address is ours came from another MAC.
    Conflict {
        /// The address.
        addr: IpAddr,
        /// The MAC that claimed it.
        mac: MacAddr,
        /// Whether an announcement was sent to defend the address (at most once per
        /// defend interval).
        defended: bool,
    },
}

#[derive(Debug, Clone)]
struct AddrState {
    /// When the next round is due.
    next: Option<Instant>,
    /// Rounds of the burst still to send after the next one.
    burst_left: u32,
    /// The last time the address was defended.
    last_defend: Option<Instant>,
}

/// The announcer of one interface. See the module documentation.
#[derive(Debug)]
pub struct Announcer {
    iface: InterfaceConfig,
    schedule: Schedule,
    addrs: BTreeMap<IpAddr, AddrState>,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
}

impl Announcer {
    /// An announcer owning no address yet.
    pub fn new(iface: InterfaceConfig, schedule: Schedule) -> Announcer {
        Announcer {
            iface,
            schedule,
            addrs: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn link(&self) -> Link {
        Link {
            mac: self.iface.mac,
            vlan: self.iface.vlan,
        }
    }

    /// The addresses this announcer owns.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.addrs.keys().copied()
    }

    /// Whether it owns `addr`.
    pub fn owns(&self, addr: IpAddr) -> bool {
        self.addrs.contains_key(&addr)
    }

    /// This node now owns `addr`: the first round leaves at once (drain
    /// [`Announcer::poll_transmit`]), the burst and the refreshes follow. Taking over an
    /// address already owned starts its burst again.
    pub fn take_over(&mut self, now: Instant, addr: IpAddr) {
        let rounds = self.schedule.burst_rounds.max(1);
        self.addrs.insert(
            addr,
            AddrState {
                next: None,
                burst_left: rounds,
                last_defend: None,
            },
        );
        self.round(now, addr);
    }

    /// This node no longer owns `addr`: nothing more is sent or answered for it.
    pub fn release(&mut self, addr: IpAddr) {
        self.addrs.remove(&addr);
    }

    /// Sends the rounds that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<IpAddr> = self
            .addrs
            .iter()
            .filter(|(_, s)| s.next.is_some_and(|t| t <= now))
            .map(|(a, _)| *a)
            .collect();
        for addr in due {
            self.round(now, addr);
        }
    }

    /// Sends one round for `addr` and schedules the next.
    fn round(&mut self, now: Instant, addr: IpAddr) {
        self.announce(addr);
        let schedule = &self.schedule;
        let Some(state) = self.addrs.get_mut(&addr) else {
            return;
        };
        let base = state.next.unwrap_or(now);
        state.burst_left = state.burst_left.saturating_sub(1);
        let interval = if state.burst_left > 0 {
            Some(schedule.burst_interval)
        } else {
            schedule.refresh_interval
        };
        state.next = interval.map(|i| {
            // Keep to the schedule, but never queue up missed rounds.
            let next = base + i;
            if next <= now { now + i } else { next }
        });
    }

    /// Queues the announcement frames of one round for `addr`.
    fn announce(&mut self, addr: IpAddr) {
        let link = self.link();
        match addr {
            IpAddr::V4(a) => {
                if self.schedule.arp_request {
                    self.queue(link.arp_announcement(a));
                }
                if self.schedule.arp_reply {
                    self.queue(link.arp_gratuitous_reply(a));
                }
            }
            IpAddr::V6(a) => {
                let source = self.iface.link_local.unwrap_or(a);
                self.queue(link.unsolicited_na(a, source));
            }
        }
    }

    fn queue(&mut self, frame: Frame) {
        self.transmits.push_back(frame.to_bytes());
    }

    /// A frame received on the interface: answers it in responder mode and checks it
    /// for conflicts. Frames that are not ARP or Neighbor Discovery, or that do not
    /// parse, are ignored (the I/O filter lets only ARP and ND through anyway).
    pub fn handle_frame(&mut self, now: Instant, bytes: &[u8]) {
        let Ok(frame) = Frame::parse(bytes) else {
            return;
        };
        match frame {
            Frame::Arp { eth, arp } => {
                if eth.src == self.iface.mac || arp.sender_mac == self.iface.mac {
                    return; // our own frame
                }
                let claimed = IpAddr::V4(arp.sender_ip);
                if !arp.sender_ip.is_unspecified() && self.owns(claimed) {
                    self.conflict(now, claimed, arp.sender_mac);
                }
                if arp.operation == ArpOperation::Request
                    && self.iface.ownership == Ownership::Responder
                    && self.owns(IpAddr::V4(arp.target_ip))
                    && arp.sender_ip != arp.target_ip
                {
                    let reply = self
                        .link()
                        .arp_reply(arp.target_ip, arp.sender_mac, arp.sender_ip);
                    self.queue(reply);
                }
            }
            Frame::Ndisc { eth, ip, ndisc } => {
                if eth.src == self.iface.mac {
                    return;
                }
                match ndisc {
                    NdiscRepr::NeighborAdvert {
                        target,
                        target_lladdr,
                        ..
                    } => {
                        let mac = target_lladdr.unwrap_or(eth.src);
                        if self.owns(IpAddr::V6(target)) && mac != self.iface.mac {
                            self.conflict(now, IpAddr::V6(target), mac);
                        }
                    }
                    NdiscRepr::NeighborSolicit {
                        target,
                        source_lladdr,
                    } => {
                        if self.owns(IpAddr::V6(ip.src)) && !ip.src.is_unspecified() {
                            self.conflict(
                                now,
                                IpAddr::V6(ip.src),
                                source_lladdr.unwrap_or(eth.src),
                            );
                        }
                        if self.iface.ownership == Ownership::Responder
                            && self.owns(IpAddr::V6(target))
                        {
                            let to_mac = source_lladdr.unwrap_or(eth.src);
                            let na = self.link().solicited_na(target, to_mac, ip.src);
                            self.queue(na);
                        }
                    }
                }
            }
        }
    }

    /// RFC 5227 §2.4 (b): defend with one announcement, at most once per defend
    /// interval; always report.
    fn conflict(&mut self, now: Instant, addr: IpAddr, mac: MacAddr) {
        let interval = self.schedule.defend_interval;
        let Some(state) = self.addrs.get_mut(&addr) else {
            return;
        };
        let defended = state
            .last_defend
            .is_none_or(|t| now.saturating_duration_since(t) >= interval);
        if defended {
            state.last_defend = Some(now);
            self.announce(addr);
        }
        self.events.push_back(Event::Conflict {
            addr,
            mac,
            defended,
        });
    }

    /// The next frame to send (a whole Ethernet frame).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Announcer::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.addrs.values().filter_map(|s| s.next).min()
    }
}

#[cfg(test)]
mod tests;
