//! Finding where a zstd frame ends without decoding it (RFC 8878, section 3.1).
//!
//! [`scan_frame`] looks at the start of a buffer and reports a complete frame with its
//! length, or that more bytes are needed, or that the bytes cannot be a frame. It reads
//! the frame header (Frame_Header_Descriptor, Window_Descriptor, Dictionary_ID,
//! Frame_Content_Size), walks the 3-byte block headers (Last_Block, Block_Type,
//! Block_Size; an RLE block occupies one byte) and the optional 4-byte checksum.
//! Skippable frames (magic 0x184D2A50..=0x184D2A5F) are reported as such. It never
//! panics, whatever the bytes.

use crate::format::is_skippable_magic;

/// The zstd frame magic, little endian 0xFD2FB528.
const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The largest block content (Block_Maximum_Size is at most 128 KiB).
pub(crate) const BLOCK_MAX: u64 = 128 * 1024;

/// What a frame header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The header's length, magic included.
    pub(crate) len: usize,
    /// Frame_Content_Size, when present.
    pub(crate) content_size: Option<u64>,
    /// Dictionary_ID, 0 when absent.
    pub(crate) dict_id: u32,
}

/// A complete frame at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A skippable frame of `len` bytes.
    Skippable {
        /// Its length, magic and size field included.
        len: usize,
    },
    /// A zstd frame of `len` bytes.
    Zstd {
        /// Its compressed length, header and checksum included.
        len: usize,
        /// Its header.
        header: Header,
        /// An upper bound of its decoded size, from the block headers (and the declared
        /// content size when there is one).
        max_content: u64,
    },
}

/// The result of looking at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A complete frame.
    Complete(Frame),
    /// The buffer ends inside a frame (or is empty).
    Incomplete {
        /// The frame header, once the buffer holds all of it (zstd frames only).
        header: Option<Header>,
        /// An upper bound of the decoded size of the blocks seen so far.
        max_content: u64,
    },
}

/// Bytes that cannot start or continue a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameError {
    /// Offset of the offending byte from the start of the buffer.
    pub(crate) offset: usize,
    /// What is wrong.
    pub(crate) message: &'static str,
}

fn err(offset: usize, message: &'static str) -> FrameError {
    FrameError { offset, message }
}

const INCOMPLETE: Scan = Scan::Incomplete {
    header: None,
    max_content: 0,
};

/// Parses the frame header at the start of `buf`: `Ok(None)` when `buf` is too short.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Option<Header>, FrameError> {
    let magic_len = buf.len().min(4);
    if buf[..magic_len] != MAGIC[..magic_len] {
        return Err(err(0, "not a zstd frame (bad magic number)"));
    }
    let Some(&fhd) = buf.get(4) else {
        return Ok(None);
    };
    if fhd & 0x08 != 0 {
        return Err(err(4, "reserved bit set in the frame header descriptor"));
    }
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    let dict_len = [0usize, 1, 2, 4][usize::from(fhd & 0x03)];
    let fcs_len = match fcs_flag {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let window_len = usize::from(!single_segment);
    let len = 5 + window_len + dict_len + fcs_len;
    if buf.len() < len {
        return Ok(None);
    }
    let mut at = 5 + window_len;
    let mut dict_id = 0u32;
    for (i, byte) in buf[at..at + dict_len].iter().enumerate() {
        dict_id |= u32::from(*byte) << (8 * i);
    }
    at += dict_len;
    let mut fcs = 0u64;
    for (i, byte) in buf[at..at + fcs_len].iter().enumerate() {
        fcs |= u64::from(*byte) << (8 * i);
    }
    let content_size = match fcs_len {
        0 => None,
        2 => Some(fcs + 256),
        _ => Some(fcs),
    };
    Ok(Some(Header {
        len,
        content_size,
        dict_id,
    }))
}

/// Looks at the frame that starts `buf`.
pub(crate) fn scan_frame(buf: &[u8]) -> Result<Scan, FrameError> {
    if buf.is_empty() {
        return Ok(INCOMPLETE);
    }
    let magic_len = buf.len().min(4);
    if is_skippable_magic(buf) {
        let Some(size) = buf.get(4..8) else {
            return Ok(INCOMPLETE);
        };
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        let len = size.saturating_add(8);
        return Ok(if buf.len() >= len {
            Scan::Complete(Frame::Skippable { len })
        } else {
            INCOMPLETE
        });
    }
    if magic_len < 4 && buf[0] & 0xf0 == 0x50 && buf[1..] == [0x2a, 0x4d, 0x18][..magic_len - 1] {
        return Ok(INCOMPLETE);
    }
    let Some(header) = parse_header(buf)? else {
        return Ok(INCOMPLETE);
    };
    let mut at = header.len;
    let mut max_content = 0u64;
    let incomplete = |max_content| {
        Ok(Scan::Incomplete {
            header: Some(header),
            max_content,
        })
    };
    loop {
        let Some(block) = buf.get(at..at + 3) else {
            return incomplete(max_content);
        };
        let block = u32::from(block[0]) | u32::from(block[1]) << 8 | u32::from(block[2]) << 16;
        let last = block & 1 != 0;
        let size = u64::from(block >> 3);
        if size > BLOCK_MAX {
            return Err(err(at, "block larger than 128 KiB"));
        }
        let (data_len, decoded) = match (block >> 1) & 3 {
            0 => (size, size),
            1 => (1, size),
            2 => (size, BLOCK_MAX),
            _ => return Err(err(at, "reserved block type")),
        };
        // `data_len` is at most 128 KiB, so this cannot overflow.
        at += 3 + data_len as usize;
        max_content += decoded;
        if at > buf.len() {
            return incomplete(max_content);
        }
        if last {
            break;
        }
    }
    let descriptor = buf[4];
    if descriptor & 0x04 != 0 {
        at += 4;
        if at > buf.len() {
            return incomplete(max_content);
        }
    }
    if let Some(size) = header.content_size {
        max_content = max_content.min(size);
    }
    Ok(Scan::Complete(Frame::Zstd {
        len: at,
        header,
        max_content,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(mut buf: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        while !buf.is_empty() {
            match scan_frame(buf).unwrap() {
                Scan::Complete(frame) => {
                    let len = match frame {
                        Frame::Skippable { len } | Frame::Zstd { len, .. } => len,
                    };
                    out.push(frame);
                    buf = &buf[len..];
                }
                Scan::Incomplete { .. } => panic!("incomplete"),
            }
        }
        out
    }

    #[test]
    fn frames_of_the_zstd_library_are_split() {
        let data: Vec<u8> = (0..700_000u32)
            .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
            .collect();
        let a = zstd::bulk::compress(&data, 3).unwrap();
        let b = zstd::bulk::compress(&[], 1).unwrap();
        let c = zstd::bulk::compress(&vec![0u8; 1 << 20], 1).unwrap();
        let mut all = a.clone();
        all.extend_from_slice(&[0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        all.extend_from_slice(&b);
        all.extend_from_slice(&c);
        let found = frames(&all);
        assert_eq!(found.len(), 4);
        assert!(matches!(found[0], Frame::Zstd { len, max_content, .. }
            if len == a.len() && max_content == data.len() as u64));
        assert_eq!(found[1], Frame::Skippable { len: 11 });
        assert!(matches!(found[2], Frame::Zstd { len, max_content: 0, .. } if len == b.len()));
        assert!(matches!(found[3], Frame::Zstd { len, max_content, .. }
            if len == c.len() && max_content == 1 << 20));
    }

    #[test]
    fn a_frame_without_content_size_gets_a_bound() {
        let data = vec![7u8; 300_000];
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.include_checksum(true).unwrap();
        std::io::Write::write_all(&mut enc, &data).unwrap();
        let frame = enc.finish().unwrap();
        let Scan::Complete(Frame::Zstd {
            len,
            header,
            max_content,
        }) = scan_frame(&frame).unwrap()
        else {
            panic!("not complete")
        };
        assert_eq!(len, frame.len());
        assert_eq!(header.content_size, None);
        assert!(max_content >= data.len() as u64);
        assert!(max_content <= data.len() as u64 + 2 * BLOCK_MAX);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let frame = zstd::bulk::compress(&vec![1u8; 400_000], 19).unwrap();
        for cut in 0..frame.len() {
            assert!(
                matches!(scan_frame(&frame[..cut]), Ok(Scan::Incomplete { .. })),
                "cut at {cut}"
            );
        }
        let skippable = [0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 1, 2];
        for cut in 0..skippable.len() {
            assert!(matches!(
                scan_frame(&skippable[..cut]),
                Ok(Scan::Incomplete { .. })
            ));
        }
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            scan_frame(b"hello").unwrap_err(),
            FrameError {
                offset: 0,
                message: "not a zstd frame (bad magic number)"
            }
        );
        assert!(scan_frame(&[0x28, 0xb5, 0x2f]).is_ok());
        assert!(scan_frame(&[0x28, 0xb5, 0x00]).is_err());
        assert!(scan_frame(&[0x28, 0xb5, 0x2f, 0xfd, 0x08]).is_err());
        // Reserved block type.
        assert_eq!(
            scan_frame(&[0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 0x07, 0, 0])
                .unwrap_err()
                .offset,
            6
        );
    }

    #[test]
    fn header_fields_are_read() {
        // Single segment, 2-byte content size (value + 256), 1-byte dictionary id.
        let h = parse_header(&[0x28, 0xb5, 0x2f, 0xfd, 0x61, 0x2a, 0x00, 0x01])
            .unwrap()
            .unwrap();
        assert_eq!(
            h,
            Header {
                len: 8,
                content_size: Some(256 + 256),
                dict_id: 42
            }
        );
        // Window descriptor, no content size.
        let h = parse_header(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50])
            .unwrap()
            .unwrap();
        assert_eq!(h.content_size, None);
        assert_eq!(h.len, 6);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let _ = scan_frame(&bytes);
        }

        #[test]
        fn never_panics_after_a_magic(
            kind in 0u8..3,
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        ) {
            let mut buf = match kind {
                0 => MAGIC.to_vec(),
                1 => vec![0x53, 0x2a, 0x4d, 0x18],
                _ => vec![0x28, 0xb5, 0x2f, 0xfd, 0x04],
            };
            buf.extend_from_slice(&bytes);
            if let Ok(Scan::Complete(Frame::Zstd { len, .. } | Frame::Skippable { len })) =
                scan_frame(&buf)
            {
                proptest::prop_assert!(len <= buf.len());
            }
        }
    }
}
