//! Following the structure of an LZ4 frame stream byte by byte, to know whether it
//! ended on a frame boundary.
//!
//! `lz4_flex`'s frame decoder reports a clean end (`Ok(0)`) also when its input stops
//! before a block header or inside the frame descriptor. The decoder's input passes
//! through [`Lz4Framing`], which walks the frame format (magic, descriptor, block sizes,
//! block and content checksums, skippable frames) without decoding, so that the end of
//! the input can be judged.

use std::io::{self, BufRead, Read};

const MAGIC: u32 = 0x184D_2204;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a frame magic (4 bytes).
    Magic,
    /// Expecting the size of a skippable frame (4 bytes).
    SkippableSize,
    /// Expecting the frame descriptor (FLG, BD, optional fields, HC).
    Descriptor,
    /// Expecting a block size (4 bytes).
    BlockSize,
    /// Something that is not an LZ4 frame.
    Invalid,
}

/// The structure of an LZ4 frame stream, followed incrementally.
#[derive(Debug)]
pub(crate) struct Lz4Framing {
    state: State,
    acc: Vec<u8>,
    skip: u64,
    flags: u8,
    frames: u64,
}

impl Lz4Framing {
    pub(crate) fn new() -> Lz4Framing {
        Lz4Framing {
            state: State::Magic,
            acc: Vec::with_capacity(16),
            skip: 0,
            flags: 0,
            frames: 0,
        }
    }

    /// Whether the bytes fed so far are a whole number (at least one) of frames.
    pub(crate) fn complete(&self) -> bool {
        self.state == State::Magic && self.acc.is_empty() && self.skip == 0 && self.frames > 0
    }

    fn needed(&self) -> usize {
        match self.state {
            State::Descriptor if self.acc.len() >= 2 => {
                let flags = self.acc[0];
                3 + if flags & 0x08 != 0 { 8 } else { 0 } + if flags & 0x01 != 0 { 4 } else { 0 }
            }
            State::Descriptor => 2,
            _ => 4,
        }
    }

    /// Follows `bytes`, the next bytes of the stream.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.state != State::Invalid {
            if self.skip > 0 {
                let n = usize::try_from(self.skip).map_or(bytes.len(), |s| s.min(bytes.len()));
                self.skip -= n as u64;
                bytes = &bytes[n..];
                continue;
            }
            let want = self.needed() - self.acc.len();
            let n = want.min(bytes.len());
            self.acc.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.acc.len() == self.needed() {
                self.step();
            }
        }
    }

    fn word(&self) -> u32 {
        u32::from_le_bytes([self.acc[0], self.acc[1], self.acc[2], self.acc[3]])
    }

    fn step(&mut self) {
        match self.state {
            State::Magic => {
                let magic = self.word();
                self.state = if magic == MAGIC {
                    State::Descriptor
                } else if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                    State::SkippableSize
                } else {
                    State::Invalid
                };
                self.acc.clear();
            }
            State::SkippableSize => {
                self.skip = u64::from(self.word());
                self.frames += 1;
                self.state = State::Magic;
                self.acc.clear();
            }
            State::Descriptor => {
                self.flags = self.acc[0];
                self.state = if self.flags >> 6 == 0b01 {
                    State::BlockSize
                } else {
                    State::Invalid
                };
                self.acc.clear();
            }
            State::BlockSize => {
                let word = self.word();
                self.acc.clear();
                if word == 0 {
                    self.skip = if self.flags & 0x04 != 0 { 4 } else { 0 };
                    self.frames += 1;
                    self.state = State::Magic;
                } else {
                    let block_checksum = if self.flags & 0x10 != 0 { 4 } else { 0 };
                    self.skip = u64::from(word & 0x7FFF_FFFF) + block_checksum;
                }
            }
            State::Invalid => {}
        }
    }
}

/// A reader that shows everything read through it to an [`Lz4Framing`].
#[derive(Debug)]
pub(crate) struct Observed<R> {
    pub(crate) inner: R,
    pub(crate) framing: Lz4Framing,
}

impl<R: BufRead> Read for Observed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.framing.feed(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn encode(data: &[u8]) -> Vec<u8> {
        let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn whole_frames_are_complete_and_prefixes_are_not() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 13) as u8).collect();
        let first = encode(&data);
        let empty = encode(b"");
        let mut stream = first.clone();
        stream.extend_from_slice(&[0x5a, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 1, 2]);
        stream.extend_from_slice(&empty);
        let boundaries = [first.len(), first.len() + 10, stream.len()];
        for cut in 0..=stream.len() {
            let mut framing = Lz4Framing::new();
            framing.feed(&stream[..cut]);
            assert_eq!(
                framing.complete(),
                boundaries.contains(&cut),
                "cut at {cut}"
            );
        }
        // Fed in small pieces.
        let mut framing = Lz4Framing::new();
        for piece in stream.chunks(3) {
            framing.feed(piece);
        }
        assert!(framing.complete());
    }

    #[test]
    fn garbage_is_never_complete() {
        let mut framing = Lz4Framing::new();
        framing.feed(b"definitely not lz4");
        assert!(!framing.complete());
        let mut framing = Lz4Framing::new();
        framing.feed(&[]);
        assert!(!framing.complete());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let mut buf = vec![0x04, 0x22, 0x4d, 0x18];
            buf.extend_from_slice(&bytes);
            let mut framing = Lz4Framing::new();
            framing.feed(&buf);
            let _ = framing.complete();
        }
    }
}
