//! Device ioctls: the only unsafe code of the crate.
//!
//! Each function takes an open [`File`] (so the descriptor is valid for the duration
//! of the call) and passes the kernel either nothing or a pointer to a properly sized,
//! initialised local value. Request numbers are built with libc's `_IO`/`_IOR`, which
//! know the per-architecture encoding (`include/uapi/linux/fs.h`).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `BLKRRPART`: re-read the partition table.
const BLKRRPART: libc::Ioctl = libc::_IO(0x12, 95);
/// `BLKGETSIZE64`: the device size in bytes (`u64`).
const BLKGETSIZE64: libc::Ioctl = libc::_IOR::<libc::size_t>(0x12, 114);
/// `BLKDISCARD`: discard the byte range `[start, len]` (`u64[2]`).
const BLKDISCARD: libc::Ioctl = libc::_IO(0x12, 119);
/// `BLKZEROOUT`: zero the byte range `[start, len]` (`u64[2]`).
const BLKZEROOUT: libc::Ioctl = libc::_IO(0x12, 127);

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The size in bytes of the block device open as `file`.
pub(crate) fn device_size(file: &File) -> io::Result<u64> {
    let mut size: u64 = 0;
    // SAFETY: the descriptor is open for the lifetime of `file`; BLKGETSIZE64 writes
    // one u64 through the pointer, which points to a live, writable local u64.
    check(unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64, &mut size as *mut u64) })?;
    Ok(size)
}

/// The logical sector size in bytes of the block device open as `file`.
pub(crate) fn logical_sector_size(file: &File) -> io::Result<u32> {
    let mut size: libc::c_int = 0;
    // SAFETY: the descriptor is valid; BLKSSZGET writes one int through the pointer,
    // which points to a live, writable local c_int.
    check(unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            libc::BLKSSZGET,
            &mut size as *mut libc::c_int,
        )
    })?;
    u32::try_from(size).map_err(|_| io::Error::other(format!("BLKSSZGET returned {size}")))
}

fn range_ioctl(file: &File, request: libc::Ioctl, start: u64, len: u64) -> io::Result<()> {
    let range: [u64; 2] = [start, len];
    // SAFETY: the descriptor is valid; BLKDISCARD and BLKZEROOUT read two u64 values
    // through the pointer, which points to a live local `[u64; 2]`.
    check(unsafe { libc::ioctl(file.as_raw_fd(), request, range.as_ptr()) })
}

/// Discards `len` bytes at `start` (both multiples of the logical sector size).
pub(crate) fn discard(file: &File, start: u64, len: u64) -> io::Result<()> {
    range_ioctl(file, BLKDISCARD, start, len)
}

/// Zeroes `len` bytes at `start` (both multiples of the logical sector size); the
/// kernel uses the device's write-zeroes command when it has one and writes zero
/// pages otherwise. Afterwards the range reads as zeros.
pub(crate) fn zero_out(file: &File, start: u64, len: u64) -> io::Result<()> {
    range_ioctl(file, BLKZEROOUT, start, len)
}

/// Asks the kernel to re-read the partition table of the device.
pub(crate) fn reread_partitions(file: &File) -> io::Result<()> {
    // SAFETY: the descriptor is valid; BLKRRPART takes no argument.
    check(unsafe { libc::ioctl(file.as_raw_fd(), BLKRRPART) })
}

/// Starts writing back the dirty pages of `len` bytes at `offset` without waiting
/// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`), so the final `fsync` finds little
/// left to do and the page cache does not fill with dirty data. A hint: the caller
/// ignores its failure, and `fsync` still decides what is durable.
pub(crate) fn start_writeback(file: &File, offset: u64, len: u64) -> io::Result<()> {
    let (Ok(offset), Ok(len)) = (
        libc::off64_t::try_from(offset),
        libc::off64_t::try_from(len),
    ) else {
        return Ok(());
    };
    // SAFETY: the descriptor is valid; sync_file_range takes plain integers.
    check(unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    })
}
