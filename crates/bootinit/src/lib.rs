//! Building blocks for an initramfs `/init` that provisions a bare-metal machine.
//!
//! # Contract
//!
//! The decisions are pure and unit-tested: parsing the kernel command line, choosing
//! what to mount, reading the provisioning server's answer for this machine, and
//! rendering network configuration. The effects (mounts, DHCP, the HTTP call-back to
//! the provisioning server, the rescue shell, reboot and power-off) are thin functions
//! over the kernel and the network, meant to run as PID 1. Syscalls live in one small
//! `sys` module, the only place where `unsafe` is allowed. The crate does not depend on
//! `diskimage`; the `/init` binary composes the two.
//!
//! # Status
//!
//! The workspace issue created this crate; its contents land with the `bootinit`
//! issue. Nothing is exported yet.
