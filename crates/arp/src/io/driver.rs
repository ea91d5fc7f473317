//! Runs an [`Announcer`] on a [`PacketSocket`]: the loop a speaker spawns per interface.

use std::io;
use std::net::IpAddr;
use std::time::Instant;

use tokio::sync::mpsc;

use super::PacketSocket;
use crate::{Announcer, Event, Ownership};

/// What the speaker tells the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// This node now owns the address: announce it (and answer for it in responder
    /// mode).
    TakeOver(IpAddr),
    /// This node no longer owns the address.
    Release(IpAddr),
}

/// Drives `announcer` on `socket` until `commands` closes: commands are applied the
/// moment they arrive and their frames sent at once, received frames are handed to the
/// announcer, timers fire on time, and events (conflicts) go to `events` (dropped if
/// its buffer is full: a conflict repeats as long as it lasts). In responder mode the
/// socket joins the solicited-node group of every owned IPv6 address, so Neighbor
/// Solicitations for it arrive although the address is not configured.
pub async fn run(
    socket: PacketSocket,
    mut announcer: Announcer,
    ownership: Ownership,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 2048];
    loop {
        while let Some(frame) = announcer.poll_transmit() {
            socket.send(&frame).await?;
        }
        while let Some(event) = announcer.poll_event() {
            let _ = events.try_send(event);
        }
        let deadline = announcer.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::TakeOver(addr)) => {
                    announcer.take_over(Instant::now(), addr);
                    if let (Ownership::Responder, IpAddr::V6(a)) = (ownership, addr) {
                        socket.join_solicited_node(a).map_err(io::Error::other)?;
                    }
                }
                Some(Command::Release(addr)) => {
                    if announcer.owns(addr) {
                        announcer.release(addr);
                        if let (Ownership::Responder, IpAddr::V6(a)) = (ownership, addr) {
                            socket.leave_solicited_node(a).map_err(io::Error::other)?;
                        }
                    }
                }
                None => return Ok(()),
            },
            received = socket.recv(&mut buf) => {
                let n = received?;
                announcer.handle_frame(Instant::now(), &buf[..n]);
            }
            () = sleep => announcer.handle_timeout(Instant::now()),
        }
    }
}

/// [`run`] on a current-thread tokio runtime of its own, for callers without one (a
/// thread per interface, or a thread inside another network namespace): opens the
/// packet socket on `interface` in the calling thread's namespace and drives the
/// announcer until `commands` closes. Send commands with
/// [`mpsc::Sender::blocking_send`].
pub fn run_blocking(
    interface: &str,
    announcer: Announcer,
    ownership: Ownership,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let socket = PacketSocket::open(interface).map_err(io::Error::other)?;
        run(socket, announcer, ownership, commands, events).await
    })
}
