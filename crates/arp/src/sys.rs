//! The few system calls on an `AF_PACKET` socket that no safe wrapper offers (binding
//! it to an interface, reading the interface's hardware address back, one socket
//! option) and its registration with tokio, whose API for it is `unsafe`. This is the
//! only module of the crate where `unsafe` is allowed.
#![allow(unsafe_code)]

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::Socket;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A link-layer socket address with every field zero but the family.
fn empty_sockaddr_ll() -> libc::sockaddr_ll {
    libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: 0,
        sll_ifindex: 0,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    }
}

/// The length argument of a socket call for a value of type `T`.
fn socklen_of<T>() -> libc::socklen_t {
    // The structures passed here are a few bytes long.
    size_of::<T>() as libc::socklen_t
}

/// `bind(2)`s the packet socket `fd` to interface `ifindex` for the frames of
/// `ethertype` (host byte order; `ETH_P_ALL` for every frame).
pub(crate) fn bind_packet(fd: BorrowedFd<'_>, ifindex: u32, ethertype: u16) -> io::Result<()> {
    let mut addr = empty_sockaddr_ll();
    addr.sll_protocol = ethertype.to_be();
    addr.sll_ifindex = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too large"))?;
    // SAFETY: `addr` is an initialised `sockaddr_ll` that outlives the call and the
    // length passed is its size, so the kernel reads only memory we own; `fd` is a
    // descriptor borrowed for the duration of the call.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast::<libc::sockaddr>(),
            socklen_of::<libc::sockaddr_ll>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The hardware type (`ARPHRD_*`) and hardware address of the interface a bound packet
/// socket is bound to, read back with `getsockname(2)`.
pub(crate) fn bound_hardware_address(fd: BorrowedFd<'_>) -> io::Result<(u16, Vec<u8>)> {
    let mut addr = empty_sockaddr_ll();
    let mut len = socklen_of::<libc::sockaddr_ll>();
    // SAFETY: `addr` and `len` are valid for writes and outlive the call; `len` tells
    // the kernel the size of `addr`, so it writes at most that many bytes and then
    // stores the length it wrote in `len`; `fd` is borrowed for the call.
    let rc = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&raw mut addr).cast::<libc::sockaddr>(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if addr.sll_family != libc::AF_PACKET as libc::c_ushort {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a packet socket",
        ));
    }
    let halen = usize::from(addr.sll_halen).min(addr.sll_addr.len());
    Ok((addr.sll_hatype, addr.sll_addr[..halen].to_vec()))
}

/// Sets `PACKET_IGNORE_OUTGOING` (Linux 4.20): the socket no longer sees the frames
/// that the host itself sends on the interface.
pub(crate) fn set_packet_ignore_outgoing(fd: BorrowedFd<'_>) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: the option value points to an initialised `c_int` that outlives the
    // call and the length passed is its size, so the kernel reads only that value;
    // `fd` is borrowed for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            (&raw const one).cast::<libc::c_void>(),
            socklen_of::<libc::c_int>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Registers `socket` with the current tokio runtime for reading and writing.
///
/// # Panics
///
/// Panics outside a tokio runtime with I/O enabled.
pub(crate) fn register(socket: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: a `socket2::Socket` owns its descriptor: `as_raw_fd` always returns the
    // same open descriptor, which is closed only when the `Socket` is dropped, and the
    // `AsyncFd` owns the `Socket` (this crate never takes it back out or replaces it).
    unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE | Interest::WRITABLE) }
        .map_err(io::Error::from)
}
