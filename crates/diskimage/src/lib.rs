//! Writing an operating-system image to a disk, and reading one back, as fast as the
//! disk allows and without ever reporting a damaged write as success.
//!
//! # Contract
//!
//! The format logic (magic-byte detection, bmap parsing, the sparse decision, size
//! checks) is pure and tested without a disk. The I/O side streams from HTTP(S), a
//! file or stdin through decompression and hashing into a regular file or a block
//! device with bounded buffers. It refuses to write past the end of a device, refuses
//! a mounted target, treats a truncated or mismatching download as an error, and
//! reports success only after `fsync` and the partition-table re-read. Device ioctls
//! live in one small `sys` module, the only place where `unsafe` is allowed.
//!
//! # Status
//!
//! The workspace issue created this crate; its contents land with the `diskimage`
//! issue. Nothing is exported yet.
