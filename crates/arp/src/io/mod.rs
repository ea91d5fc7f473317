//! The I/O side: an `AF_PACKET` socket driven by tokio (feature `tokio`) and the
//! interface helpers that look up routes and interfaces and add, remove and keep
//! addresses over netlink (feature `netlink`). Linux only.
//!
//! Everything here opens its sockets in the network namespace of the thread that
//! calls it, and asks the kernel through those sockets (never `/sys/class/net`,
//! which describes the namespace `/sys` was mounted in).

#[cfg(feature = "tokio")]
mod driver;
#[cfg(feature = "netlink")]
mod netlink;
#[cfg(feature = "tokio")]
mod packet;

#[cfg(feature = "tokio")]
pub use driver::{Command, run, run_blocking};
#[cfg(feature = "netlink")]
pub use netlink::{
    KeepAddress, NetlinkError, add_address, ensure_address, has_address, interface, interface_mac,
    keep_address, remove_address, route_interface,
};
#[cfg(feature = "tokio")]
pub use packet::{PacketSocket, SocketError};

/// An Ethernet network interface: its name, kernel index and MAC address.
///
/// A VLAN sub-interface (`eth0.100`, link type `vlan`) is an interface like any other,
/// with its own name and index; it sends and receives untagged frames.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Interface {
    /// The interface's name, e.g. `eth0` or `eth0.100`.
    pub name: String,
    /// The kernel's index of the interface (`ip link` shows it first).
    pub index: u32,
    /// The interface's MAC address.
    pub mac: [u8; 6],
}

impl Interface {
    /// An interface with the given name, index and MAC address.
    pub fn new(name: impl Into<String>, index: u32, mac: [u8; 6]) -> Interface {
        Interface {
            name: name.into(),
            index,
            mac,
        }
    }
}

impl std::fmt::Display for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (index {})", self.name, self.index)
    }
}
