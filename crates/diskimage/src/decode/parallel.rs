//! Decoding the frames of a zstd stream on several threads, output in order.
//!
//! A dispatcher thread reads the input and finds frame boundaries with
//! [`scan_frame`](super::frames::scan_frame). A small frame (its decoded size bounded
//! by its header or its block headers) is handed whole to a pool of workers, each
//! decoding one frame in one call; a large frame is decoded as a stream by the
//! dispatcher itself, in 1 MiB chunks. The reader receives, in input order, one slot
//! per frame or chunk through a bounded channel, and waits for each frame's result.
//!
//! Memory: every buffered frame holds a permit of a shared budget for its compressed
//! size plus its decoded bound, released as soon as the bytes are no longer needed.
//! Dropping the reader cancels the budget, closes the channels and joins the threads.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use zstd::stream::raw::{InBuffer, Operation, OutBuffer};

use super::frames::{Frame, Scan, scan_frame};
use super::{DecodeError, Failure};
use crate::format::{Format, is_skippable_magic};

/// A frame is buffered and decoded by a worker only up to this compressed size.
const MAX_COMPRESSED: usize = 16 << 20;
/// ... and up to this decoded size.
const MAX_CONTENT: u64 = 32 << 20;
/// Compressed plus decoded bytes of all buffered frames.
const BUDGET: usize = 24 << 20;
/// The start of the skippable frame that `pzstd` writes before each frame: magic
/// 0x184D2A50 and a 4-byte size, holding the compressed size of the next frame.
const PZSTD_HINT: [u8; 8] = [0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0];
/// How much the dispatcher reads at a time.
const READ_CHUNK: u64 = 256 << 10;
/// Output chunks of a frame decoded as a stream.
const STREAM_CHUNK: usize = 1 << 20;

/// A shared allowance of buffered bytes.
#[derive(Debug)]
struct Budget {
    state: Mutex<BudgetState>,
    changed: Condvar,
}

#[derive(Debug)]
struct BudgetState {
    used: usize,
    cancelled: bool,
}

impl Budget {
    fn new() -> Arc<Budget> {
        Arc::new(Budget {
            state: Mutex::new(BudgetState {
                used: 0,
                cancelled: false,
            }),
            changed: Condvar::new(),
        })
    }

    /// Waits until `n` bytes fit (always when nothing else is held); `None` once
    /// cancelled.
    fn acquire(self: &Arc<Budget>, n: usize) -> Option<Permit> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.cancelled && state.used > 0 && state.used + n > BUDGET {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.cancelled {
            return None;
        }
        state.used += n;
        Some(Permit {
            budget: Arc::clone(self),
            n,
        })
    }

    fn release(&self, n: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.used -= n;
        self.changed.notify_all();
    }

    fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.cancelled = true;
        self.changed.notify_all();
    }
}

/// Decoded-frame buffers handed back by the reader for the workers to reuse, so that
/// the allocator does not scatter many frame-sized blocks over the threads' arenas
/// (freed and fresh 8–32 MiB buffers in turn grew the resident set by tens of MiB).
#[derive(Debug, Default)]
struct BufferPool(Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    /// Buffers kept at most.
    const KEEP: usize = 4;

    fn take(&self, capacity: usize) -> Vec<u8> {
        self.take_within(capacity, usize::MAX)
    }

    /// The smallest pooled buffer of at least `capacity` and at most `max` bytes of
    /// capacity, else a new one of `capacity`.
    fn take_within(&self, capacity: usize, max: usize) -> Vec<u8> {
        let mut pool = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, b)| (capacity..=max).contains(&b.capacity()))
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        match best {
            Some(i) => pool.swap_remove(i),
            None => Vec::with_capacity(capacity),
        }
    }

    fn give(&self, mut buf: Vec<u8>) {
        buf.clear();
        let mut pool = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < Self::KEEP {
            pool.push(buf);
        } else if let Some(smallest) = pool.iter_mut().min_by_key(|b| b.capacity())
            && smallest.capacity() < buf.capacity()
        {
            *smallest = buf;
        }
    }
}

/// Bytes held from a [`Budget`], given back on drop.
#[derive(Debug)]
struct Permit {
    budget: Arc<Budget>,
    n: usize,
}

impl Permit {
    /// Gives back all but `keep` bytes.
    fn shrink(&mut self, keep: usize) {
        let keep = keep.min(self.n);
        self.budget.release(self.n - keep);
        self.n = keep;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.budget.release(self.n);
    }
}

/// Decoded bytes, read from `pos`.
#[derive(Debug)]
struct Chunk {
    data: Vec<u8>,
    pos: usize,
    _permit: Option<Permit>,
}

/// One entry of the ordered output.
#[derive(Debug)]
enum Slot {
    /// A frame being decoded by a worker.
    Pending(Receiver<io::Result<Chunk>>),
    /// Decoded bytes or an error, ready now.
    Ready(io::Result<Chunk>),
    /// The clean end of the stream.
    End,
}

/// A frame for a worker.
#[derive(Debug)]
struct Job {
    frame: Vec<u8>,
    capacity: usize,
    start: u64,
    end: u64,
    permit: Permit,
    reply: SyncSender<io::Result<Chunk>>,
}

/// The reader of a zstd stream decoded on several threads.
#[derive(Debug)]
pub(crate) struct ParallelZstd {
    slots: Option<Receiver<Slot>>,
    current: Option<Chunk>,
    budget: Arc<Budget>,
    pool: Arc<BufferPool>,
    threads: Vec<JoinHandle<()>>,
    finished: bool,
    failed: Option<Failure>,
}

impl ParallelZstd {
    /// Starts the dispatcher and `workers` workers.
    pub(crate) fn new(input: Box<dyn Read + Send>, workers: usize) -> ParallelZstd {
        let budget = Budget::new();
        let pool = Arc::new(BufferPool::default());
        let (slot_tx, slot_rx) = sync_channel(workers + 1);
        let (job_tx, job_rx) = channel::<Job>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut threads = Vec::with_capacity(workers + 1);
        let mut failed = None;
        for _ in 0..workers {
            let jobs = Arc::clone(&job_rx);
            let pool = Arc::clone(&pool);
            match std::thread::Builder::new()
                .name("zstd-worker".into())
                .spawn(move || work(&jobs, &pool))
            {
                Ok(handle) => threads.push(handle),
                Err(e) => failed = Some(Failure::Source(e.kind(), e.to_string())),
            }
        }
        let dispatcher = Dispatcher {
            input,
            buf: Vec::new(),
            base: 0,
            eof: false,
            frames: 0,
            slots: slot_tx,
            jobs: job_tx,
            budget: Arc::clone(&budget),
            pool: Arc::clone(&pool),
            stream: None,
            hint: false,
        };
        if failed.is_none() {
            match std::thread::Builder::new()
                .name("zstd-dispatch".into())
                .spawn(move || dispatcher.run())
            {
                Ok(handle) => threads.push(handle),
                Err(e) => failed = Some(Failure::Source(e.kind(), e.to_string())),
            }
        }
        ParallelZstd {
            slots: Some(slot_rx),
            current: None,
            budget,
            pool,
            threads,
            finished: false,
            failed,
        }
    }

    fn stopped() -> io::Error {
        io::Error::other("the zstd decoding thread stopped unexpectedly")
    }

    fn take(&mut self, result: io::Result<Chunk>) -> io::Result<()> {
        match result {
            Ok(chunk) => {
                self.current = Some(chunk);
                Ok(())
            }
            Err(e) => {
                self.failed = Some(Failure::of(&e));
                Err(e)
            }
        }
    }
}

impl ParallelZstd {
    /// Makes `current` hold unread bytes; `Ok(false)` at the end of the stream.
    fn ensure(&mut self) -> io::Result<bool> {
        loop {
            if let Some(chunk) = &self.current {
                if chunk.pos < chunk.data.len() {
                    return Ok(true);
                }
                if let Some(chunk) = self.current.take() {
                    self.pool.give(chunk.data);
                }
            }
            if let Some(failure) = &self.failed {
                return Err(failure.to_io());
            }
            if self.finished {
                return Ok(false);
            }
            let Some(slots) = &self.slots else {
                return Ok(false);
            };
            let slot = slots.recv().unwrap_or(Slot::Ready(Err(Self::stopped())));
            match slot {
                Slot::Pending(rx) => {
                    let result = rx.recv().unwrap_or_else(|_| Err(Self::stopped()));
                    self.take(result)?;
                }
                Slot::Ready(result) => self.take(result)?,
                Slot::End => self.finished = true,
            }
        }
    }
}

impl Read for ParallelZstd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() && self.failed.is_none() {
            return Ok(0);
        }
        if !self.ensure()? {
            return Ok(0);
        }
        let chunk = self.current.as_mut().expect("ensure filled it");
        let available = &chunk.data[chunk.pos..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        chunk.pos += n;
        Ok(n)
    }
}

impl super::Chunks for ParallelZstd {
    /// A frame decoded by a worker, or a chunk of a streamed frame, is handed out
    /// whole, without a copy; a frame's memory stays counted by the budget, and every
    /// buffer returns to the pool when the chunk drops.
    fn next_chunk(&mut self, buf: Vec<u8>, len: usize) -> io::Result<Option<super::Owned>> {
        if !self.ensure()? {
            return Ok(None);
        }
        if let Some(chunk) = self.current.take_if(|c| c.pos == 0) {
            let pool = Arc::clone(&self.pool);
            let permit = chunk._permit;
            return Ok(Some(super::Owned::with_release(
                chunk.data,
                Box::new(move |data| {
                    pool.give(data);
                    drop(permit);
                }),
            )));
        }
        super::copy_chunk(self, buf, len)
    }
}

impl Drop for ParallelZstd {
    fn drop(&mut self) {
        self.budget.cancel();
        self.current = None;
        self.slots = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A worker: decodes whole frames until the job channel closes.
fn work(jobs: &Mutex<Receiver<Job>>, pool: &BufferPool) {
    let mut context = None;
    loop {
        let job = {
            let Ok(jobs) = jobs.lock() else { return };
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let Job {
            frame,
            capacity,
            start,
            end,
            mut permit,
            reply,
        } = job;
        let context = match &mut context {
            Some(context) => Ok(context),
            None => zstd::bulk::Decompressor::new().map(|c| context.insert(c)),
        };
        let mut data = pool.take(capacity);
        let result = context.and_then(|c| c.decompress_to_buffer(&frame, &mut data));
        drop(frame);
        let result = match result {
            Ok(_) => {
                permit.shrink(data.len());
                Ok(Chunk {
                    data,
                    pos: 0,
                    _permit: Some(permit),
                })
            }
            Err(e) => Err(DecodeError::new(
                Format::Zstd,
                end,
                format!("in the frame at byte {start}: {e}"),
            )
            .into_io(io::ErrorKind::InvalidData)),
        };
        // The reader may be gone; then the result is not wanted.
        let _ = reply.send(result);
    }
}

/// The reader has gone away.
struct Stop;

/// Reads the input and hands out frames.
struct Dispatcher {
    input: Box<dyn Read + Send>,
    /// Input bytes not yet handed out; `buf[0]` is at input offset `base`.
    buf: Vec<u8>,
    base: u64,
    eof: bool,
    frames: u64,
    slots: SyncSender<Slot>,
    jobs: Sender<Job>,
    budget: Arc<Budget>,
    /// Buffers for the chunks of a streamed frame, shared with the reader.
    pool: Arc<BufferPool>,
    stream: Option<zstd::stream::raw::Decoder<'static>>,
    /// The last frame was a `pzstd` size hint, announcing a frame.
    hint: bool,
}

impl Dispatcher {
    fn run(mut self) {
        let _ = self.run_frames();
    }

    fn send(&self, slot: Slot) -> Result<(), Stop> {
        self.slots.send(slot).map_err(|_| Stop)
    }

    /// Sends an error as the last slot.
    fn fail(
        &self,
        kind: io::ErrorKind,
        offset: u64,
        message: impl Into<String>,
    ) -> Result<(), Stop> {
        let error = DecodeError::new(Format::Zstd, offset, message).into_io(kind);
        self.send(Slot::Ready(Err(error)))?;
        Err(Stop)
    }

    /// Reads more input into `buf`; sets `eof` at its end.
    fn fill(&mut self) -> Result<(), Stop> {
        match self
            .input
            .by_ref()
            .take(READ_CHUNK)
            .read_to_end(&mut self.buf)
        {
            Ok(0) => {
                self.eof = true;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.send(Slot::Ready(Err(e)))?;
                Err(Stop)
            }
        }
    }

    fn truncated(&self, offset: u64) -> Result<(), Stop> {
        self.fail(
            io::ErrorKind::UnexpectedEof,
            offset,
            "truncated: the input ends inside a frame",
        )
    }

    fn run_frames(&mut self) -> Result<(), Stop> {
        loop {
            match scan_frame(&self.buf) {
                Err(e) => {
                    let message = if self.frames > 0 && e.offset == 0 {
                        format!("trailing data after the last frame: {}", e.message)
                    } else {
                        e.message.to_owned()
                    };
                    return self.fail(
                        io::ErrorKind::InvalidData,
                        self.base + e.offset as u64,
                        message,
                    );
                }
                Ok(Scan::Complete(Frame::Skippable { len })) => {
                    // `pzstd` puts the size of each frame in a 4-byte skippable frame
                    // before it: one with nothing after it is a truncated file.
                    self.hint = self.buf.starts_with(&PZSTD_HINT);
                    self.buf.drain(..len);
                    self.base += len as u64;
                    self.frames += 1;
                }
                Ok(Scan::Complete(Frame::Zstd {
                    len,
                    header,
                    max_content,
                })) => {
                    if len <= MAX_COMPRESSED
                        && max_content <= MAX_CONTENT
                        && len + max_content as usize <= BUDGET
                        && header.dict_id == 0
                    {
                        self.dispatch(len, max_content as usize)?;
                    } else {
                        self.stream_frame()?;
                    }
                    self.frames += 1;
                    self.hint = false;
                }
                Ok(Scan::Incomplete {
                    header,
                    max_content,
                }) => {
                    if is_skippable_magic(&self.buf) && self.buf.len() >= 8 {
                        self.hint = false;
                        self.skip_frame()?;
                        self.frames += 1;
                        continue;
                    }
                    let large = header.is_some_and(|h| {
                        h.dict_id != 0 || h.content_size.is_some_and(|s| s > MAX_CONTENT)
                    }) || max_content > MAX_CONTENT
                        || self.buf.len() > MAX_COMPRESSED;
                    if large {
                        self.stream_frame()?;
                        self.frames += 1;
                        self.hint = false;
                        continue;
                    }
                    if self.eof {
                        if !self.buf.is_empty() || self.hint {
                            return self.truncated(self.base + self.buf.len() as u64);
                        }
                        if self.frames == 0 {
                            return self.fail(
                                io::ErrorKind::UnexpectedEof,
                                0,
                                "empty input: no compressed stream",
                            );
                        }
                        return self.send(Slot::End);
                    }
                    self.fill()?;
                }
            }
        }
    }

    /// Hands the complete frame of `len` bytes at the start of `buf` to a worker.
    fn dispatch(&mut self, len: usize, capacity: usize) -> Result<(), Stop> {
        let permit = self.budget.acquire(len + capacity).ok_or(Stop)?;
        let rest = self.buf.split_off(len);
        let frame = std::mem::replace(&mut self.buf, rest);
        let start = self.base;
        self.base += len as u64;
        let (reply, result) = sync_channel(1);
        let job = Job {
            frame,
            capacity,
            start,
            end: self.base,
            permit,
            reply,
        };
        self.jobs.send(job).map_err(|_| Stop)?;
        self.send(Slot::Pending(result))
    }

    /// Skips the skippable frame that starts `buf` and may extend past it.
    fn skip_frame(&mut self) -> Result<(), Stop> {
        let size = u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
        let remaining = (u64::from(size) + 8).saturating_sub(self.buf.len() as u64);
        self.base += self.buf.len() as u64;
        self.buf.clear();
        match io::copy(&mut self.input.by_ref().take(remaining), &mut io::sink()) {
            Ok(n) => {
                self.base += n;
                if n < remaining {
                    self.eof = true;
                    return self.truncated(self.base);
                }
                Ok(())
            }
            Err(e) => {
                self.send(Slot::Ready(Err(e)))?;
                Err(Stop)
            }
        }
    }

    /// Decodes the frame that starts `buf` (and may extend past it) as a stream.
    fn stream_frame(&mut self) -> Result<(), Stop> {
        let mut decoder = match self.stream.take() {
            Some(mut decoder) => match decoder.reinit() {
                Ok(()) => decoder,
                Err(e) => return self.fail(io::ErrorKind::Other, self.base, e.to_string()),
            },
            None => match zstd::stream::raw::Decoder::new() {
                Ok(decoder) => decoder,
                Err(e) => return self.fail(io::ErrorKind::Other, self.base, e.to_string()),
            },
        };
        let result = self.stream_with(&mut decoder);
        self.stream = Some(decoder);
        result
    }

    fn stream_with(
        &mut self,
        decoder: &mut zstd::stream::raw::Decoder<'static>,
    ) -> Result<(), Stop> {
        let mut start = 0usize;
        let mut out = self.pool.take_within(STREAM_CHUNK, 2 * STREAM_CHUNK);
        loop {
            if start == self.buf.len() {
                self.base += start as u64;
                self.buf.clear();
                start = 0;
                if self.eof {
                    return self.truncated(self.base);
                }
                self.fill()?;
                continue;
            }
            let mut input = InBuffer::around(&self.buf[start..]);
            let pos = out.len();
            let mut output = OutBuffer::around_pos(&mut out, pos);
            let hint = decoder.run(&mut input, &mut output);
            start += input.pos();
            match hint {
                Err(e) => {
                    return self.fail(
                        io::ErrorKind::InvalidData,
                        self.base + start as u64,
                        e.to_string(),
                    );
                }
                Ok(0) => {
                    if !out.is_empty() {
                        self.send_chunk(out)?;
                    }
                    self.buf.drain(..start);
                    self.base += start as u64;
                    return Ok(());
                }
                Ok(_) => {
                    if out.len() == out.capacity() {
                        let full = std::mem::replace(
                            &mut out,
                            self.pool.take_within(STREAM_CHUNK, 2 * STREAM_CHUNK),
                        );
                        self.send_chunk(full)?;
                    }
                }
            }
        }
    }

    fn send_chunk(&self, data: Vec<u8>) -> Result<(), Stop> {
        self.send(Slot::Ready(Ok(Chunk {
            data,
            pos: 0,
            _permit: None,
        })))
    }
}
