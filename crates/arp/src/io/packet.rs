//! [`PacketSocket`]: an `AF_PACKET` socket bound to one interface, driven by tokio.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::Ipv6Addr;
use std::os::fd::AsFd;
use std::sync::{Mutex, MutexGuard};

use socket2::{Domain, SockFilter, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::Interface;
use crate::sys;

/// `ETH_P_ALL`: every ethertype (the filter then keeps ARP and NDP).
const ETH_P_ALL: u16 = 0x0003;
/// `ETHERTYPE_ARP`.
const ETHERTYPE_ARP: u16 = 0x0806;
/// `ETHERTYPE_IPV6`.
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// The IPv6 next header value of ICMPv6.
const IPPROTO_ICMPV6: u8 = 58;
/// ICMPv6 Neighbor Solicitation.
const ND_NEIGHBOR_SOLICIT: u8 = 135;
/// ICMPv6 Neighbor Advertisement.
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// `ARPHRD_ETHER`: the hardware type of Ethernet interfaces.
const ARPHRD_ETHER: u16 = 1;

/// What can go wrong while opening a [`PacketSocket`] or changing its multicast groups.
/// Sending and receiving return plain [`io::Error`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// There is no interface of that name in the caller's network namespace.
    #[error("no network interface `{interface}`")]
    NoSuchInterface {
        /// The interface name asked for.
        interface: String,
        /// What the kernel answered.
        #[source]
        source: io::Error,
    },
    /// The interface exists but does not carry Ethernet frames (a tunnel, loopback…).
    #[error(
        "interface `{interface}` is not an Ethernet interface \
         (hardware type {hardware_type}, hardware address of {address_len} bytes)"
    )]
    NotEthernet {
        /// The interface.
        interface: String,
        /// Its `ARPHRD_*` hardware type.
        hardware_type: u16,
        /// The length of its hardware address.
        address_len: usize,
    },
    /// A step of opening the socket failed (creating it, attaching the filter, binding
    /// it to the interface…); opening an `AF_PACKET` socket needs `CAP_NET_RAW`.
    #[error("could not {step} for interface `{interface}`")]
    Open {
        /// The interface.
        interface: String,
        /// What was being done.
        step: &'static str,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// Joining or leaving the solicited-node multicast group of an address failed.
    #[error(
        "could not {action} the solicited-node group {group} of {address} \
         on interface `{interface}`"
    )]
    Membership {
        /// The interface.
        interface: String,
        /// The address whose group it is.
        address: Ipv6Addr,
        /// The group, `ff02::1:ffXX:XXXX`.
        group: Ipv6Addr,
        /// `join` or `leave`.
        action: &'static str,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
}

/// An `AF_PACKET` raw socket bound to one interface, registered with tokio, that
/// sends and receives whole Ethernet frames (from the destination MAC address on,
/// without the frame check sequence).
///
/// # What it receives
///
/// A classic BPF filter, attached before the socket is bound so that nothing else is
/// ever queued, lets through only:
///
/// - ARP (ethertype `0x0806`), and
/// - ICMPv6 Neighbor Solicitations and Advertisements (ethertype `0x86dd`, next
///   header 58 right after the IPv6 header, ICMPv6 type 135 or 136). NDP messages
///   carry no extension headers in practice; one that does is not seen.
///
/// Frames the host itself sends on the interface are not read back: the socket sets
/// `PACKET_IGNORE_OUTGOING` (Linux 4.20), which spares the kernel a copy of every
/// outgoing frame, and the filter also drops frames marked outgoing, for older
/// kernels. Frames sent with [`PacketSocket::send`] are never looped back either.
///
/// The frames are what the interface receives: unicast to its MAC address, broadcast,
/// and the multicast groups joined on it, such as the solicited-node groups of its
/// IPv6 addresses and those joined with [`PacketSocket::join_solicited_node`].
///
/// # VLANs
///
/// Open one socket per VLAN sub-interface (`eth0.100`, link type `vlan`): the kernel
/// delivers and sends its frames untagged, and `send` needs no tag either. A socket on
/// the parent interface sees only the parent's own untagged traffic: Linux moves the
/// tag of a received frame into the packet's metadata before packet sockets see it,
/// and the filter drops every frame whose tag names a VLAN, so that traffic of
/// another VLAN is never mistaken for the native one. Priority-tagged frames
/// (VLAN 0), which 802.1Q treats as untagged, are kept, and arrive without the tag.
///
/// # Namespaces
///
/// The socket belongs to the network namespace of the thread that opens it.
#[derive(Debug)]
pub struct PacketSocket {
    fd: AsyncFd<Socket>,
    interface: Interface,
    groups: Mutex<Groups>,
}

/// The solicited-node groups joined through a [`PacketSocket`].
#[derive(Debug, Default)]
struct Groups {
    /// An IPv6 datagram socket that holds the memberships, opened on the first join.
    socket: Option<Socket>,
    /// How many joined addresses map to each group (several addresses can share one).
    count: HashMap<Ipv6Addr, usize>,
}

impl PacketSocket {
    /// Opens a packet socket on the interface named `interface`.
    ///
    /// Needs `CAP_NET_RAW`. The interface must be an Ethernet interface (a physical
    /// NIC, veth, bridge, bond, VLAN sub-interface…); its index and MAC address are
    /// read at once and kept in [`PacketSocket::interface`].
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime with I/O enabled (tokio's
    /// registration of the socket does).
    pub fn open(interface: &str) -> Result<PacketSocket, SocketError> {
        let open_err = |step: &'static str| {
            let interface = interface.to_owned();
            move |source| SocketError::Open {
                interface,
                step,
                source,
            }
        };
        // Protocol 0: the socket receives nothing until it is bound below, after the
        // filter is in place.
        let socket = Socket::new(Domain::PACKET, Type::RAW, None)
            .map_err(open_err("open an AF_PACKET socket"))?;
        let index =
            rustix::net::netdevice::name_to_index(socket.as_fd(), interface).map_err(|e| {
                SocketError::NoSuchInterface {
                    interface: interface.to_owned(),
                    source: e.into(),
                }
            })?;
        socket
            .attach_filter(&arp_ndp_filter())
            .map_err(open_err("attach the ARP/NDP socket filter"))?;
        match sys::set_packet_ignore_outgoing(socket.as_fd()) {
            // Before Linux 4.20 the filter alone drops outgoing frames.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            other => other.map_err(open_err("set PACKET_IGNORE_OUTGOING"))?,
        }
        socket
            .set_nonblocking(true)
            .map_err(open_err("make the socket non-blocking"))?;
        sys::bind_packet(socket.as_fd(), index, ETH_P_ALL)
            .map_err(open_err("bind the socket to the interface"))?;
        let (hardware_type, address) = sys::bound_hardware_address(socket.as_fd())
            .map_err(open_err("read the interface's hardware address"))?;
        let mac = <[u8; 6]>::try_from(address.as_slice())
            .ok()
            .filter(|_| hardware_type == ARPHRD_ETHER)
            .ok_or_else(|| SocketError::NotEthernet {
                interface: interface.to_owned(),
                hardware_type,
                address_len: address.len(),
            })?;
        let fd = sys::register(socket).map_err(open_err("register the socket with tokio"))?;
        Ok(PacketSocket {
            fd,
            interface: Interface::new(interface, index, mac),
            groups: Mutex::new(Groups::default()),
        })
    }

    /// The interface the socket is bound to, with the index and MAC address read when
    /// it was opened.
    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// Sends one whole Ethernet frame (destination MAC, source MAC, ethertype or 802.1Q
    /// tag, payload; no frame check sequence) on the interface.
    ///
    /// The kernel pads nothing: a frame shorter than 60 bytes goes out as it is (most
    /// NICs pad it on the wire). An error is returned when the kernel took only part
    /// of the frame, and `EMSGSIZE` when it is longer than the interface's MTU allows.
    pub async fn send(&self, frame: &[u8]) -> io::Result<()> {
        let sent = self
            .fd
            .async_io(Interest::WRITABLE, |socket| socket.send(frame))
            .await?;
        if sent == frame.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!(
                    "sent {sent} of {} bytes on {}",
                    frame.len(),
                    self.interface.name
                ),
            ))
        }
    }

    /// Waits for the next frame that passed the filter, copies it into `buf` and
    /// returns its length.
    ///
    /// A frame longer than `buf` is cut to `buf.len()` bytes: use a buffer of at least
    /// the interface's MTU plus 18 bytes (1518 for the common 1500). When the interface
    /// goes down the kernel reports `ENETDOWN` once; the socket receives again once it
    /// is back up. If the interface is deleted, the socket receives nothing more.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.fd
            .async_io(Interest::READABLE, |mut socket| socket.read(buf))
            .await
    }

    /// Joins the solicited-node multicast group of `address` (`ff02::1:ffXX:XXXX`) on
    /// the interface, so that Neighbor Solicitations for `address` reach this socket
    /// even when `address` is not configured on the interface.
    ///
    /// The group is joined through an IPv6 datagram socket (`IPV6_ADD_MEMBERSHIP` on
    /// the interface's index) held by this `PacketSocket`, rather than with
    /// `PACKET_ADD_MEMBERSHIP`: besides adding the group's MAC address
    /// (`33:33:ff:XX:XX:XX`) to the interface's filter, the kernel then sends MLD
    /// reports for the group, so switches that snoop MLD forward the solicitations to
    /// this host. The interface needs IPv6 enabled, which NDP needs anyway.
    ///
    /// Joins are counted per group: several addresses may share one group, and the
    /// group is left when the last of them is left. Dropping the socket leaves every
    /// group it joined.
    pub fn join_solicited_node(&self, address: Ipv6Addr) -> Result<(), SocketError> {
        let group = solicited_node(address);
        let err = |action, source| SocketError::Membership {
            interface: self.interface.name.clone(),
            address,
            group,
            action,
            source,
        };
        let mut groups = self.groups();
        if let Some(n) = groups.count.get_mut(&group) {
            *n += 1;
            return Ok(());
        }
        let socket = match &mut groups.socket {
            Some(socket) => socket,
            empty => empty.insert(
                Socket::new(Domain::IPV6, Type::DGRAM, None)
                    .map_err(|e| err("open an IPv6 socket to join", e))?,
            ),
        };
        socket
            .join_multicast_v6(&group, self.interface.index)
            .map_err(|e| err("join", e))?;
        groups.count.insert(group, 1);
        Ok(())
    }

    /// Leaves the solicited-node multicast group of `address`, once as many times as it
    /// was joined for addresses that share the group. Leaving a group that was not
    /// joined does nothing.
    pub fn leave_solicited_node(&self, address: Ipv6Addr) -> Result<(), SocketError> {
        let group = solicited_node(address);
        let mut groups = self.groups();
        let Some(n) = groups.count.get_mut(&group) else {
            return Ok(());
        };
        *n -= 1;
        if *n > 0 {
            return Ok(());
        }
        groups.count.remove(&group);
        if let Some(socket) = &groups.socket {
            socket
                .leave_multicast_v6(&group, self.interface.index)
                .map_err(|source| SocketError::Membership {
                    interface: self.interface.name.clone(),
                    address,
                    group,
                    action: "leave",
                    source,
                })?;
        }
        Ok(())
    }

    fn groups(&self) -> MutexGuard<'_, Groups> {
        // The counts stay consistent even if a holder panicked: take them as they are.
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The solicited-node multicast group of `addr` (RFC 4291 §2.7.1):
/// `ff02::1:ffXX:XXXX` with the address's low 24 bits.
fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_H: u16 = 0x08;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_JEQ: u16 = 0x10;
const BPF_AND: u16 = 0x50;
const BPF_K: u16 = 0x00;
/// Where the kernel's ancillary data starts for `BPF_ABS` loads (`SKF_AD_OFF`, -4096).
const SKF_AD_OFF: u32 = 0u32.wrapping_sub(0x1000);
/// The packet type (`PACKET_HOST`, `PACKET_OUTGOING`…).
const SKF_AD_PKTTYPE: u32 = 4;
/// The VLAN tag control information of a frame whose tag was moved into its metadata.
const SKF_AD_VLAN_TAG: u32 = 44;
/// 1 when the frame's VLAN tag was moved into its metadata.
const SKF_AD_VLAN_TAG_PRESENT: u32 = 48;
/// `PACKET_OUTGOING`: a frame the host sends.
const PACKET_OUTGOING: u32 = 4;
/// The VLAN identifier bits of a tag control information.
const VLAN_VID_MASK: u32 = 0x0fff;
/// The number of bytes of an accepted frame to keep: all of it.
const ACCEPT_LEN: u32 = 0x0004_0000;

/// One classic BPF instruction: opcode, jump offsets if true and if false, constant.
type Insn = (u16, u8, u8, u32);

const fn ld(size: u16, k: u32) -> Insn {
    (BPF_LD | size | BPF_ABS, 0, 0, k)
}

const fn and(k: u32) -> Insn {
    (BPF_ALU | BPF_AND | BPF_K, 0, 0, k)
}

const fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
    (BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k)
}

const fn ret(k: u32) -> Insn {
    (BPF_RET | BPF_K, 0, 0, k)
}

/// The classic BPF program that keeps ARP and ICMPv6 NS/NA frames, not outgoing and
/// untagged (or priority-tagged: VLAN 0, which 802.1Q treats as untagged), and drops
/// everything else. Linux moves a received frame's outer tag into its metadata
/// before packet sockets see it, so the tag is checked there; a tag still in the
/// frame (an inner tag) makes the ethertype check fail. Jump offsets count the
/// instructions skipped: ACCEPT is instruction 15, DROP is 16.
const FILTER: [Insn; 17] = [
    /* 0 */ ld(BPF_B, SKF_AD_OFF + SKF_AD_PKTTYPE),
    /* 1 */ jeq(PACKET_OUTGOING, 14, 0),
    /* 2 */ ld(BPF_B, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
    /* 3 */ jeq(0, 3, 0),
    /* 4 */ ld(BPF_H, SKF_AD_OFF + SKF_AD_VLAN_TAG),
    /* 5 */ and(VLAN_VID_MASK),
    /* 6 */ jeq(0, 0, 9),
    /* 7 */ ld(BPF_H, 12),
    /* 8 */ jeq(ETHERTYPE_ARP as u32, 6, 0),
    /* 9 */ jeq(ETHERTYPE_IPV6 as u32, 0, 6),
    /* 10 */ ld(BPF_B, 14 + 6),
    /* 11 */ jeq(IPPROTO_ICMPV6 as u32, 0, 4),
    /* 12 */ ld(BPF_B, 14 + 40),
    /* 13 */ jeq(ND_NEIGHBOR_SOLICIT as u32, 1, 0),
    /* 14 */ jeq(ND_NEIGHBOR_ADVERT as u32, 0, 1),
    /* 15 */ ret(ACCEPT_LEN),
    /* 16 */ ret(0),
];

/// [`FILTER`] in the form `SO_ATTACH_FILTER` takes.
fn arp_ndp_filter() -> Vec<SockFilter> {
    FILTER
        .iter()
        .map(|&(code, jt, jf, k)| SockFilter::new(code, jt, jf, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the few classic BPF instructions the filter uses, as the kernel would, on
    /// a frame of packet type `pkttype` whose VLAN tag control information, if it had
    /// a tag, was moved into the metadata as `tci`.
    fn run(frame: &[u8], pkttype: u8, tci: Option<u16>) -> u32 {
        let mut a: u32 = 0;
        let mut pc = 0;
        loop {
            let (code, jt, jf, k) = FILTER[pc];
            pc += 1;
            match code {
                c if c == BPF_LD | BPF_B | BPF_ABS || c == BPF_LD | BPF_H | BPF_ABS => {
                    let size = if c & BPF_H != 0 { 2 } else { 1 };
                    a = if k == SKF_AD_OFF + SKF_AD_PKTTYPE {
                        u32::from(pkttype)
                    } else if k == SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT {
                        u32::from(tci.is_some())
                    } else if k == SKF_AD_OFF + SKF_AD_VLAN_TAG {
                        u32::from(tci.unwrap_or(0))
                    } else {
                        let at = k as usize;
                        match frame.get(at..at + size) {
                            Some(&[b]) => u32::from(b),
                            Some(&[hi, lo]) => u32::from(u16::from_be_bytes([hi, lo])),
                            // A load past the end ends the program: drop.
                            _ => return 0,
                        }
                    };
                }
                c if c == BPF_ALU | BPF_AND | BPF_K => a &= k,
                c if c == BPF_JMP | BPF_JEQ | BPF_K => {
                    pc += usize::from(if a == k { jt } else { jf });
                }
                c if c == BPF_RET | BPF_K => return k,
                other => panic!("opcode {other:#x} not interpreted"),
            }
        }
    }

    fn ipv6_frame(next_header: u8, icmp_type: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 40 + 24];
        f[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        f[14] = 0x60;
        f[14 + 6] = next_header;
        f[14 + 7] = 255;
        f[54] = icmp_type;
        f
    }

    fn arp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 42];
        f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
        f
    }

    #[test]
    fn every_jump_lands_inside_the_program() {
        for (at, &(code, jt, jf, _)) in FILTER.iter().enumerate() {
            if code == BPF_JMP | BPF_JEQ | BPF_K {
                assert!(at + 1 + usize::from(jt.max(jf)) < FILTER.len(), "{at}");
            }
        }
        assert_eq!(FILTER.last().map(|i| i.0), Some(BPF_RET | BPF_K));
        assert_eq!(arp_ndp_filter().len(), FILTER.len());
    }

    #[test]
    fn the_filter_keeps_arp_and_neighbor_discovery_only() {
        const HOST: u8 = 0;
        const BROADCAST: u8 = 1;
        const MULTICAST: u8 = 2;
        assert_eq!(run(&arp_frame(), BROADCAST, None), ACCEPT_LEN);
        assert_eq!(run(&arp_frame(), HOST, None), ACCEPT_LEN);
        assert_eq!(run(&ipv6_frame(58, 135), MULTICAST, None), ACCEPT_LEN);
        assert_eq!(run(&ipv6_frame(58, 136), HOST, None), ACCEPT_LEN);
        // Other ICMPv6 (echo request, router advertisement), other protocols.
        assert_eq!(run(&ipv6_frame(58, 128), HOST, None), 0);
        assert_eq!(run(&ipv6_frame(58, 134), MULTICAST, None), 0);
        assert_eq!(run(&ipv6_frame(17, 135), HOST, None), 0);
        assert_eq!(run(&ipv6_frame(0, 135), MULTICAST, None), 0);
        let mut ipv4 = arp_frame();
        ipv4[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        assert_eq!(run(&ipv4, HOST, None), 0);
        // Outgoing frames and tagged frames, in metadata or in the frame.
        assert_eq!(run(&arp_frame(), PACKET_OUTGOING as u8, None), 0);
        assert_eq!(run(&arp_frame(), BROADCAST, Some(100)), 0);
        assert_eq!(run(&arp_frame(), BROADCAST, Some(0xe000 | 100)), 0);
        assert_eq!(run(&ipv6_frame(58, 135), MULTICAST, Some(4094)), 0);
        // Priority-tagged (VLAN 0, priority 5) frames count as untagged.
        assert_eq!(run(&arp_frame(), BROADCAST, Some(0xa000)), ACCEPT_LEN);
        assert_eq!(run(&ipv6_frame(58, 136), HOST, Some(0)), ACCEPT_LEN);
        let mut tagged = vec![0u8; 46];
        tagged[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
        tagged[16..18].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
        assert_eq!(run(&tagged, BROADCAST, None), 0);
        // Cut short: no panic, dropped.
        assert_eq!(run(&ipv6_frame(58, 135)[..40], HOST, None), 0);
        assert_eq!(run(&[0u8; 5], HOST, None), 0);
    }

    #[test]
    fn the_solicited_node_group_keeps_the_low_24_bits() {
        let addr: Ipv6Addr = "fd00::1234:5678".parse().unwrap();
        assert_eq!(
            solicited_node(addr),
            "ff02::1:ff34:5678".parse::<Ipv6Addr>().unwrap()
        );
    }
}
