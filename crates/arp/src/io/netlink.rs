//! Interface helpers over rtnetlink: find the interface that holds the route to an
//! address, read an interface's MAC address, and add, remove, check and keep the
//! virtual addresses a speaker announces.
//!
//! Every function opens its own netlink socket, in the network namespace of the thread
//! that polls it, and must run inside a tokio runtime (the socket is driven by a task
//! spawned on it).

use std::io;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{self, Either};
use futures_util::{StreamExt, TryStreamExt};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, CacheInfo,
};
use rtnetlink::packet_route::link::{LinkAttribute, LinkLayerType, LinkMessage};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteType,
};
use rtnetlink::{Handle, MulticastGroup, RouteMessageBuilder};
use tokio::task::JoinHandle;

use super::Interface;

/// How often [`keep_address`] checks the address even without a deletion event, in
/// case a notification was lost (a full netlink socket buffer drops them).
const RESYNC: Duration = Duration::from_secs(30);
/// The kernel's "forever" lifetime (`INFINITY_LIFE_TIME`).
const FOREVER: u32 = u32::MAX;

/// What can go wrong while asking the kernel about routes, interfaces and addresses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetlinkError {
    /// The netlink socket could not be opened.
    #[error("could not open a netlink route socket")]
    Connect {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// There is no interface of that name (or index) in the caller's namespace.
    #[error("no network interface `{interface}`")]
    NoSuchInterface {
        /// The interface name, or `#<index>`.
        interface: String,
        /// What the kernel answered, when it answered with an error.
        #[source]
        source: Option<io::Error>,
    },
    /// The interface exists but carries no Ethernet frames (loopback, a tunnel…), so
    /// there is nothing to announce on it.
    #[error("interface `{interface}` is not an Ethernet interface ({link_type})")]
    NotEthernet {
        /// The interface.
        interface: String,
        /// Its link type, as the kernel names it (`LOOPBACK`, `NONE`…).
        link_type: String,
    },
    /// No route leads to the address, or only one that sends nothing on a link
    /// (unreachable, blackhole, prohibit).
    #[error("no route to {address}")]
    NoRoute {
        /// The address.
        address: IpAddr,
        /// What the kernel answered, when it answered with an error.
        #[source]
        source: Option<io::Error>,
    },
    /// [`add_address`] found the address already on the interface.
    #[error("{address} is already on interface `{interface}` (index {index})")]
    AddressExists {
        /// The interface's name.
        interface: String,
        /// The interface's index.
        index: u32,
        /// The address.
        address: IpAddr,
    },
    /// Adding, removing or listing an address failed.
    #[error("could not {action} {address} on interface `{interface}` (index {index})")]
    Address {
        /// The interface's name.
        interface: String,
        /// The interface's index.
        index: u32,
        /// The address.
        address: IpAddr,
        /// `add`, `remove` or `look up`.
        action: &'static str,
        /// What the kernel answered.
        #[source]
        source: io::Error,
    },
    /// A route or link request failed in another way.
    #[error("could not {what}")]
    Request {
        /// What was asked.
        what: String,
        /// What the kernel answered.
        #[source]
        source: io::Error,
    },
}

/// The errno carried by an rtnetlink error as an [`io::Error`], or the error itself.
fn to_io(error: rtnetlink::Error) -> io::Error {
    match error {
        rtnetlink::Error::NetlinkError(message) => message.to_io(),
        other => io::Error::other(other),
    }
}

/// A netlink route socket and the task that drives it; dropping it ends the task.
struct Connection {
    handle: Handle,
    task: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Connection {
    /// Opens a request socket.
    fn open() -> Result<Connection, NetlinkError> {
        let (connection, handle, _) =
            rtnetlink::new_connection().map_err(|source| NetlinkError::Connect { source })?;
        Ok(Connection {
            handle,
            task: tokio::spawn(connection),
        })
    }
}

/// The interface named `name`: its index and MAC address.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn interface(name: &str) -> Result<Interface, NetlinkError> {
    let connection = Connection::open()?;
    let link = connection
        .handle
        .link()
        .get()
        .match_name(name.to_owned())
        .execute()
        .try_next()
        .await;
    match link {
        Ok(Some(link)) => ethernet_interface(link, name),
        Ok(None) => Err(NetlinkError::NoSuchInterface {
            interface: name.to_owned(),
            source: None,
        }),
        Err(e) => Err(no_such_interface_or(name.to_owned(), to_io(e), || {
            format!("look up interface `{name}`")
        })),
    }
}

/// The MAC address of the interface named `name`.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn interface_mac(name: &str) -> Result<[u8; 6], NetlinkError> {
    Ok(interface(name).await?.mac)
}

/// The interface of index `index`.
async fn interface_by_index(handle: &Handle, index: u32) -> Result<Interface, NetlinkError> {
    let label = format!("#{index}");
    let link = handle
        .link()
        .get()
        .match_index(index)
        .execute()
        .try_next()
        .await;
    match link {
        Ok(Some(link)) => ethernet_interface(link, &label),
        Ok(None) => Err(NetlinkError::NoSuchInterface {
            interface: label,
            source: None,
        }),
        Err(e) => Err(no_such_interface_or(label, to_io(e), || {
            format!("look up interface index {index}")
        })),
    }
}

fn no_such_interface_or(
    interface: String,
    error: io::Error,
    what: impl FnOnce() -> String,
) -> NetlinkError {
    if error.raw_os_error() == Some(libc::ENODEV) {
        NetlinkError::NoSuchInterface {
            interface,
            source: Some(error),
        }
    } else {
        NetlinkError::Request {
            what: what(),
            source: error,
        }
    }
}

/// The [`Interface`] a link message describes, if it is an Ethernet interface.
fn ethernet_interface(link: LinkMessage, asked: &str) -> Result<Interface, NetlinkError> {
    let mut name = None;
    let mut mac = None;
    for attribute in link.attributes {
        match attribute {
            LinkAttribute::IfName(n) => name = Some(n),
            LinkAttribute::Address(a) => mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
            _ => {}
        }
    }
    let name = name.unwrap_or_else(|| asked.to_owned());
    match mac {
        Some(mac) if link.header.link_layer_type == LinkLayerType::Ether => {
            Ok(Interface::new(name, link.header.index, mac))
        }
        _ => Err(NetlinkError::NotEthernet {
            interface: name,
            link_type: link.header.link_layer_type.to_string(),
        }),
    }
}

/// The interface that holds the route to `address`: the one the kernel would send a
/// packet for `address` out of (`ip route get`).
///
/// When `address` is local to this host (the virtual address is already configured,
/// so the kernel would deliver it on `lo`), the answer is the interface of the most
/// specific route to it in the main table instead, usually the interface of its
/// subnet: the answer is the same before and after the address is added.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn route_interface(address: IpAddr) -> Result<Interface, NetlinkError> {
    let connection = Connection::open()?;
    let handle = &connection.handle;
    let query = match address {
        IpAddr::V4(a) => RouteMessageBuilder::<std::net::Ipv4Addr>::new()
            .destination_prefix(a, 32)
            .build(),
        IpAddr::V6(a) => RouteMessageBuilder::<std::net::Ipv6Addr>::new()
            .destination_prefix(a, 128)
            .build(),
    };
    let route = handle
        .route()
        .get(query)
        .execute()
        .try_next()
        .await
        .map_err(|e| NetlinkError::NoRoute {
            address,
            source: Some(to_io(e)),
        })?
        .ok_or(NetlinkError::NoRoute {
            address,
            source: None,
        })?;
    let index = match route.header.kind {
        RouteType::Unicast => output_interface(&route),
        RouteType::Local => main_table_interface(handle, address).await?,
        _ => None,
    }
    .ok_or(NetlinkError::NoRoute {
        address,
        source: None,
    })?;
    interface_by_index(handle, index).await
}

/// The output interface of a route (its first next hop's, for a multipath route).
fn output_interface(route: &RouteMessage) -> Option<u32> {
    route
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            RouteAttribute::Oif(index) => Some(*index),
            RouteAttribute::MultiPath(hops) => hops.first().map(|hop| hop.interface_index),
            _ => None,
        })
}

/// The output interface of the most specific unicast route of the main table that
/// contains `address` (the lowest metric among equally specific ones).
async fn main_table_interface(
    handle: &Handle,
    address: IpAddr,
) -> Result<Option<u32>, NetlinkError> {
    let dump = match address {
        IpAddr::V4(_) => RouteMessageBuilder::<std::net::Ipv4Addr>::new().build(),
        IpAddr::V6(_) => RouteMessageBuilder::<std::net::Ipv6Addr>::new().build(),
    };
    let routes: Vec<RouteMessage> = handle
        .route()
        .get(dump)
        .execute()
        .try_collect()
        .await
        .map_err(|e| NetlinkError::Request {
            what: format!("list the routes to find {address}"),
            source: to_io(e),
        })?;
    let best = routes
        .iter()
        .filter(|route| route.header.kind == RouteType::Unicast && table(route) == MAIN_TABLE)
        .filter(|route| contains(route, address))
        .filter_map(|route| {
            let metric = route.attributes.iter().find_map(|a| match a {
                RouteAttribute::Priority(p) => Some(*p),
                _ => None,
            });
            let index = output_interface(route)?;
            Some((
                route.header.destination_prefix_length,
                std::cmp::Reverse(metric.unwrap_or(0)),
                index,
            ))
        })
        .max();
    Ok(best.map(|(_, _, index)| index))
}

/// The main routing table's id.
const MAIN_TABLE: u32 = RouteHeader::RT_TABLE_MAIN as u32;

/// A route's table (the attribute holds ids above 255).
fn table(route: &RouteMessage) -> u32 {
    route
        .attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(route.header.table))
}

/// Whether the route's destination prefix contains `address` (a route without a
/// destination is a default route).
fn contains(route: &RouteMessage, address: IpAddr) -> bool {
    let len = u32::from(route.header.destination_prefix_length);
    let destination = route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(d) => Some(d),
        _ => None,
    });
    match (destination, address) {
        (None, _) => len == 0,
        (Some(RouteAddress::Inet(net)), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(*net) & mask == u32::from(a) & mask
        }
        (Some(RouteAddress::Inet6(net)), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(*net) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The host prefix length of an address: 32 or 128.
fn host_prefix(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn address_error(
    interface: &Interface,
    address: IpAddr,
    action: &'static str,
    source: io::Error,
) -> NetlinkError {
    NetlinkError::Address {
        interface: interface.name.clone(),
        index: interface.index,
        address,
        action,
        source,
    }
}

/// Adds `address` to `interface` as a host address (`/32` or `/128`) with a preferred
/// lifetime of 0 and, for IPv6, without duplicate address detection:
/// `ip addr add <address>/32 dev <interface> preferred_lft 0`, or
/// `ip addr add <address>/128 dev <interface> preferred_lft 0 nodad`.
///
/// The zero preferred lifetime marks the address deprecated: IPv6 source address
/// selection (RFC 6724 rule 3) then avoids it, so the host does not start connections
/// from a virtual address it may lose. For IPv4 the kernel has no such rule, but a
/// `/32` brings no subnet route, so the kernel keeps the interface's own address as
/// the source of its routes. No duplicate address detection means the address is
/// usable at once and is not lost to a probe answered by the previous holder.
///
/// Fails with [`NetlinkError::AddressExists`] when the address is already there; see
/// [`ensure_address`].
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn add_address(interface: &Interface, address: IpAddr) -> Result<(), NetlinkError> {
    let connection = Connection::open()?;
    add(&connection.handle, interface, address).await
}

async fn add(handle: &Handle, interface: &Interface, address: IpAddr) -> Result<(), NetlinkError> {
    let mut request = handle
        .address()
        .add(interface.index, address, host_prefix(address));
    let message = request.message_mut();
    let mut lifetimes = CacheInfo::default();
    lifetimes.ifa_preferred = 0;
    lifetimes.ifa_valid = FOREVER;
    message
        .attributes
        .push(AddressAttribute::CacheInfo(lifetimes));
    if address.is_ipv6() {
        message.header.flags |= AddressHeaderFlags::Nodad;
        message
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    request.execute().await.map_err(|e| {
        let source = to_io(e);
        if source.raw_os_error() == Some(libc::EEXIST) {
            NetlinkError::AddressExists {
                interface: interface.name.clone(),
                index: interface.index,
                address,
            }
        } else {
            address_error(interface, address, "add", source)
        }
    })
}

/// The address messages of `interface` that carry `address` (any prefix length).
async fn find(
    handle: &Handle,
    interface: &Interface,
    address: IpAddr,
) -> Result<Vec<AddressMessage>, NetlinkError> {
    handle
        .address()
        .get()
        .set_link_index_filter(interface.index)
        .set_address_filter(address)
        .execute()
        .try_collect()
        .await
        .map_err(|e| address_error(interface, address, "look up", to_io(e)))
}

/// Whether `address` is configured on `interface`, with any prefix length.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn has_address(interface: &Interface, address: IpAddr) -> Result<bool, NetlinkError> {
    let connection = Connection::open()?;
    Ok(!find(&connection.handle, interface, address)
        .await?
        .is_empty())
}

/// Removes `address` from `interface`, whatever its prefix length. Returns whether it
/// was there: removing an address that is not there is no error.
///
/// Drop the [`KeepAddress`] of the address first, or it puts the address back.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn remove_address(interface: &Interface, address: IpAddr) -> Result<bool, NetlinkError> {
    let connection = Connection::open()?;
    let handle = &connection.handle;
    let mut removed = false;
    for message in find(handle, interface, address).await? {
        match handle.address().del(message).execute().await.map_err(to_io) {
            Ok(()) => removed = true,
            // Someone else removed it in between.
            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {}
            Err(e) => return Err(address_error(interface, address, "remove", e)),
        }
    }
    Ok(removed)
}

/// Adds `address` to `interface` as [`add_address`] does, unless it is already there
/// (with any prefix length). Returns whether it added it.
///
/// A speaker may call this periodically; [`keep_address`] does it on every deletion
/// event.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn ensure_address(interface: &Interface, address: IpAddr) -> Result<bool, NetlinkError> {
    let connection = Connection::open()?;
    ensure(&connection.handle, interface, address).await
}

async fn ensure(
    handle: &Handle,
    interface: &Interface,
    address: IpAddr,
) -> Result<bool, NetlinkError> {
    if !find(handle, interface, address).await?.is_empty() {
        return Ok(false);
    }
    match add(handle, interface, address).await {
        Ok(()) => Ok(true),
        // Added by someone else in between: it is there, as wanted.
        Err(NetlinkError::AddressExists { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Keeps `address` on `interface`: adds it now if it is missing (as
/// [`ensure_address`]), then re-adds it whenever it is removed, until the returned
/// handle is dropped.
///
/// A task spawned on the current tokio runtime listens to the kernel's address
/// notifications (`RTM_DELADDR`, IPv4 and IPv6) and re-adds the address as soon as it
/// is deleted, by an administrator, a network manager or the interface going down.
/// It also checks every 30 seconds, in case a notification was lost, and reopens its
/// netlink socket if that fails. Failures to re-add are kept for
/// [`KeepAddress::last_error`] and retried on the next event or check.
///
/// Dropping the [`KeepAddress`] stops the task and leaves the address where it is; call
/// [`remove_address`] after dropping it to withdraw the address.
///
/// # Panics
///
/// Panics outside a tokio runtime.
pub async fn keep_address(
    interface: &Interface,
    address: IpAddr,
) -> Result<KeepAddress, NetlinkError> {
    // Subscribe before the first check, so that a deletion right after it is seen.
    let watch = Watch::open()?;
    ensure(&watch.connection.handle, interface, address).await?;
    let state = Arc::new(KeepState::default());
    let task = tokio::spawn(keep(watch, interface.clone(), address, Arc::clone(&state)));
    Ok(KeepAddress {
        interface: interface.clone(),
        address,
        task,
        state,
    })
}

/// What a [`KeepAddress`] task reports.
#[derive(Debug, Default)]
struct KeepState {
    readded: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// Keeps an address on an interface while it lives; see [`keep_address`]. Dropping it
/// stops the task that re-adds the address (and leaves the address in place).
#[derive(Debug)]
pub struct KeepAddress {
    interface: Interface,
    address: IpAddr,
    task: JoinHandle<()>,
    state: Arc<KeepState>,
}

impl KeepAddress {
    /// The interface the address is kept on.
    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// The address kept.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// How many times the address was re-added since [`keep_address`] returned.
    pub fn readded(&self) -> u64 {
        self.state.readded.load(Ordering::Relaxed)
    }

    /// The last failure to check or re-add the address, if the last attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.state
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for KeepAddress {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A netlink socket subscribed to address notifications.
struct Watch {
    connection: Connection,
    messages: futures_util::stream::BoxStream<'static, NetlinkMessage<RouteNetlinkMessage>>,
}

impl Watch {
    fn open() -> Result<Watch, NetlinkError> {
        let (connection, handle, messages) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(|source| NetlinkError::Connect { source })?;
        Ok(Watch {
            connection: Connection {
                handle,
                task: tokio::spawn(connection),
            },
            messages: messages.map(|(message, _)| message).boxed(),
        })
    }
}

/// Whether a notification tells that `address` left interface `index`.
fn is_deletion_of(
    message: &NetlinkMessage<RouteNetlinkMessage>,
    index: u32,
    address: IpAddr,
) -> bool {
    let NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(deleted)) = &message.payload
    else {
        return false;
    };
    deleted.header.index == index
        && deleted.attributes.iter().any(|a| {
            matches!(a, AddressAttribute::Address(x) | AddressAttribute::Local(x) if *x == address)
        })
}

/// The task behind [`KeepAddress`].
async fn keep(mut watch: Watch, interface: Interface, address: IpAddr, state: Arc<KeepState>) {
    let mut resync = tokio::time::interval(RESYNC);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once; the check it stands for was just done.
    resync.tick().await;
    let set_error = |error: Option<String>| {
        *state
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = error;
    };
    loop {
        // `None` when the resync timer fired, `Some(None)` when the socket ended.
        let event = match future::select(watch.messages.next(), pin!(resync.tick())).await {
            Either::Left((message, _)) => Some(message),
            Either::Right(_) => None,
        };
        match event {
            Some(Some(message)) if !is_deletion_of(&message, interface.index, address) => {
                continue;
            }
            Some(None) => {
                // The notification socket ended: wait for the next check and reopen it.
                set_error(Some("the netlink notification socket closed".to_owned()));
                resync.tick().await;
                match Watch::open() {
                    Ok(reopened) => watch = reopened,
                    Err(e) => {
                        set_error(Some(e.to_string()));
                        continue;
                    }
                }
            }
            Some(Some(_)) | None => {}
        }
        match ensure(&watch.connection.handle, &interface, address).await {
            Ok(added) => {
                if added {
                    state.readded.fetch_add(1, Ordering::Relaxed);
                }
                set_error(None);
            }
            Err(e) => set_error(Some(e.to_string())),
        }
    }
}
