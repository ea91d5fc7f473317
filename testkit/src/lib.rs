//! The test kit of the metalkit workspace: what every integration test, bench and the
//! `lab` uses to build a small network on one machine and to put real peers in it.
//!
//! # Contract
//!
//! Everything the kit creates is owned by a RAII value and removed when that value is
//! dropped, also when the test panics: network namespaces (and with them every veth,
//! bridge and address inside), daemon processes (ended by PID), temporary directories.
//! Every name carries the prefix [`PREFIX`] followed by the PID of the creating process
//! and a per-process counter, so tests run in parallel without clashing, and
//! [`sweep()`] can remove what a killed test process left behind without touching what
//! a live one still uses.
//!
//! Nothing is created in the host's own network namespace: links are created directly
//! inside the namespaces that own them, and addresses live only there. Traffic only
//! flows on loopback or between the kit's namespaces.
//!
//! A tool the kit needs and does not find is an error that names the Debian package to
//! install; the kit never skips.
//!
//! This crate serves tests, benches and the lab. No library crate depends on it.

mod bird;
mod capture;
mod corpus;
mod disk;
mod error;
mod exabgp;
mod gobgp;
mod http;
mod monitor;
mod mrt;
mod names;
mod netns;
mod prefix;
mod process;
mod sweep;
mod tcp;
mod tempdir;
mod tools;

pub use bird::{
    Bird, BirdConfig, BirdPeer, BirdProtocol, BirdRoute, BirdRouteCount, parse_protocols,
    parse_route_count, parse_routes,
};
pub use capture::{Capture, Frame, parse_pcap};
pub use corpus::{corpus_dir, replay_corpus};
pub use disk::{DataSpec, LoopDevice, Partition, make_disk_image};
pub use error::Error;
pub use exabgp::{Exabgp, ExabgpConfig, announces, exabgp_attribute, parse_received};
pub use gobgp::{
    Gobgp, GobgpConfig, GobgpNeighbor, GobgpNeighborState, GobgpPath, SessionState,
    parse_neighbors, parse_rib,
};
pub use http::{
    BodyFraming, Fault, FixtureServer, HttpError, Part, RecordedRequest, RequestHead, Response,
    Upload, UploadBody, decode_chunked, multipart_boundary, parse_multipart, parse_request_head,
};
pub use monitor::{Monitor, MonitorChange, MonitorEvent, parse_event};
pub use mrt::{MrtPeer, MrtRoute, table_dump_v2};
pub use names::PREFIX;
pub use netns::{Bridge, Netns, VethPair};
pub use prefix::Prefix;
pub use process::NsProcess;
pub use sweep::{Leftovers, leftovers, sweep};
pub use tcp::{TcpStream, tcp_streams};
pub use tempdir::TempDir;
pub use tools::require;

/// The kit's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
