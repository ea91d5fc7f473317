//! Compression formats and their detection from the first bytes of a stream.
//!
//! Detection looks at magic bytes only, never at a file name or URL: a server that
//! names an xz file `image.gz` still gets it decoded correctly. A raw image that
//! happened to start with one of these magics would be taken for compressed data and
//! would need the [`Format::Raw`] override; a disk image starts with an MBR or a
//! protective MBR (GPT), whose first bytes are boot code or zeros, so it never does.

use std::fmt;

/// How many bytes [`detect`] wants to see; fewer are fine when the stream is shorter.
///
/// Enough for the longest magic (xz, 6 bytes), the bzip2 block magic (10 bytes) and a
/// few leading zstd skippable frames as `pzstd` writes them (12 bytes each).
pub const DETECT_LEN: usize = 64;

/// A compression format of an image stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Not compressed: the bytes are the image.
    Raw,
    /// gzip (RFC 1952), including multi-member files as `pigz` or `cat` make them.
    Gzip,
    /// Zstandard (RFC 8878), one or more frames, with or without skippable frames.
    Zstd,
    /// xz, including concatenated streams.
    Xz,
    /// bzip2, including concatenated streams.
    Bzip2,
    /// LZ4 frame format.
    Lz4,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: [u8; 6] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2_MAGIC: [u8; 3] = *b"BZh";
const BZIP2_BLOCK_MAGIC: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const BZIP2_END_MAGIC: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// Whether `bytes` starts with a skippable-frame magic (0x184D2A50..=0x184D2A5F, little
/// endian), shared by zstd and LZ4.
pub(crate) fn is_skippable_magic(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[0] & 0xf0 == 0x50 && bytes[1..4] == [0x2a, 0x4d, 0x18]
}

/// The format of a stream that starts with `head`, from magic bytes only.
///
/// Pass the first [`DETECT_LEN`] bytes (or all of a shorter stream). Anything not
/// recognised, including an empty or too short `head`, is [`Format::Raw`]. Leading
/// skippable frames are looked through: what follows them decides between zstd and
/// LZ4; when they extend past `head`, the stream is taken for zstd (as `pzstd` writes).
pub fn detect(head: &[u8]) -> Format {
    let mut at = 0usize;
    let mut skipped = false;
    while is_skippable_magic(&head[at.min(head.len())..]) {
        skipped = true;
        let Some(size) = head.get(at + 4..at + 8) else {
            return Format::Zstd;
        };
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        at = at.saturating_add(8).saturating_add(size);
        if at >= head.len() {
            return Format::Zstd;
        }
    }
    let rest = &head[at..];
    if rest.starts_with(&ZSTD_MAGIC) {
        return Format::Zstd;
    }
    if rest.starts_with(&LZ4_MAGIC) {
        return Format::Lz4;
    }
    if skipped {
        // Skippable frames followed by something else: let the zstd decoder report it
        // rather than writing skippable frames to a disk as if they were an image.
        return Format::Zstd;
    }
    if rest.starts_with(&GZIP_MAGIC) {
        return Format::Gzip;
    }
    if rest.starts_with(&XZ_MAGIC) {
        return Format::Xz;
    }
    if rest.starts_with(&BZIP2_MAGIC)
        && rest
            .get(3)
            .is_some_and(|level| (b'1'..=b'9').contains(level))
    {
        return match rest.get(4..10) {
            Some(block) if block == BZIP2_BLOCK_MAGIC || block == BZIP2_END_MAGIC => Format::Bzip2,
            Some(_) => Format::Raw,
            None => Format::Bzip2,
        };
    }
    Format::Raw
}

impl Format {
    /// Every format, `Raw` first.
    pub const ALL: [Format; 6] = [
        Format::Raw,
        Format::Gzip,
        Format::Zstd,
        Format::Xz,
        Format::Bzip2,
        Format::Lz4,
    ];

    /// The format named by a command-line override: `raw`, `gz`/`gzip`, `zst`/`zstd`,
    /// `xz`, `bz2`/`bzip2` or `lz4` (ASCII case ignored); `None` for anything else.
    pub fn from_name(name: &str) -> Option<Format> {
        let format = match name.to_ascii_lowercase().as_str() {
            "raw" => Format::Raw,
            "gz" | "gzip" => Format::Gzip,
            "zst" | "zstd" => Format::Zstd,
            "xz" => Format::Xz,
            "bz2" | "bzip2" => Format::Bzip2,
            "lz4" => Format::Lz4,
            _ => return None,
        };
        Some(format)
    }

    /// The lowercase name, as [`Display`](fmt::Display) prints it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Xz => "xz",
            Format::Bzip2 => "bzip2",
            Format::Lz4 => "lz4",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_are_detected() {
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0, 0]), Format::Gzip);
        assert_eq!(detect(&[0x28, 0xb5, 0x2f, 0xfd, 0x04]), Format::Zstd);
        assert_eq!(detect(&XZ_MAGIC), Format::Xz);
        assert_eq!(detect(&[0x04, 0x22, 0x4d, 0x18, 0x64]), Format::Lz4);
        assert_eq!(detect(b"BZh9\x31\x41\x59\x26\x53\x59rest"), Format::Bzip2);
        assert_eq!(detect(b"BZh9\x17\x72\x45\x38\x50\x90rest"), Format::Bzip2);
        assert_eq!(detect(b"BZh9"), Format::Bzip2);
        assert_eq!(detect(b"BZh9 hello world"), Format::Raw);
        assert_eq!(detect(b"BZh0\x31\x41\x59\x26\x53\x59"), Format::Raw);
    }

    #[test]
    fn other_data_is_raw() {
        assert_eq!(detect(b""), Format::Raw);
        assert_eq!(detect(&[0x1f]), Format::Raw);
        assert_eq!(detect(&[0x28, 0xb5, 0x2f]), Format::Raw);
        assert_eq!(detect(&[0u8; 512]), Format::Raw);
        let mut mbr = [0u8; 512];
        mbr[0] = 0xeb;
        mbr[1] = 0x63;
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        assert_eq!(detect(&mbr), Format::Raw);
        assert_eq!(detect(b"hello, world"), Format::Raw);
    }

    #[test]
    fn skippable_frames_are_looked_through() {
        let mut pz = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        pz.extend_from_slice(&ZSTD_MAGIC);
        assert_eq!(detect(&pz), Format::Zstd);
        let mut lz = vec![0x5f, 0x2a, 0x4d, 0x18, 0, 0, 0, 0];
        lz.extend_from_slice(&LZ4_MAGIC);
        assert_eq!(detect(&lz), Format::Lz4);
        // A skippable frame longer than the head.
        assert_eq!(
            detect(&[0x51, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0xff, 0xff, 0]),
            Format::Zstd
        );
        assert_eq!(detect(&[0x51, 0x2a, 0x4d, 0x18, 0xff]), Format::Zstd);
    }

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
            assert_eq!(format.to_string(), format.name());
        }
        assert_eq!(Format::from_name("gz"), Some(Format::Gzip));
        assert_eq!(Format::from_name("ZST"), Some(Format::Zstd));
        assert_eq!(Format::from_name("bz2"), Some(Format::Bzip2));
        assert_eq!(Format::from_name("tar"), None);
    }
}

/// The bytes [`unsupported`] wants to see: enough for a tar header's `ustar` magic.
pub const UNSUPPORTED_LEN: usize = 512;

/// Names a container or compression that this crate recognises but does not unpack,
/// from the first bytes of a stream (pass up to [`UNSUPPORTED_LEN`] bytes): archives
/// (zip, 7-Zip, RAR, tar), other compressors (lzip, lzop, legacy LZ4, LZMA-alone) and
/// virtual-disk formats (qcow2, VMDK, VHDX, VDI). Writing any of them to a disk as it
/// is would leave a disk that does not boot, so the write path refuses them at byte 0
/// instead of taking them for a raw image. `None` for anything else.
pub fn unsupported(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"PK\x03\x04") {
        Some("a zip archive")
    } else if starts(&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) {
        Some("a 7-Zip archive")
    } else if starts(b"Rar!\x1a\x07") {
        Some("a RAR archive")
    } else if head.get(257..262) == Some(b"ustar") {
        Some("a tar archive (extract the image first)")
    } else if starts(b"LZIP") {
        Some("lzip data")
    } else if starts(&[0x89, b'L', b'Z', b'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("lzop data")
    } else if starts(&[0x02, 0x21, 0x4c, 0x18]) {
        Some("legacy LZ4 data (recompress with `lz4` in the frame format)")
    } else if head.len() >= 13 && head[0] == 0x5d && head[1..5] == [0x00, 0x00, 0x80, 0x00] {
        Some("LZMA-alone data (recompress with `xz`)")
    } else if starts(b"QFI\xfb") {
        Some("a qcow2 virtual disk (convert it with `qemu-img convert -O raw`)")
    } else if starts(b"KDMV") {
        Some("a VMDK virtual disk (convert it with `qemu-img convert -O raw`)")
    } else if starts(b"vhdxfile") {
        Some("a VHDX virtual disk (convert it with `qemu-img convert -O raw`)")
    } else if head.get(64..68) == Some(&[0x7f, 0x10, 0xda, 0xbe]) {
        Some("a VDI virtual disk (convert it with `qemu-img convert -O raw`)")
    } else {
        None
    }
}

#[cfg(test)]
mod unsupported_tests {
    use super::*;

    #[test]
    fn archives_and_virtual_disks_are_named() {
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        let mut vdi = vec![0u8; 80];
        vdi[64..68].copy_from_slice(&[0x7f, 0x10, 0xda, 0xbe]);
        let lzma = [
            0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        let table: [(&[u8], &str); 11] = [
            (b"PK\x03\x04rest", "zip"),
            (&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4], "7-Zip"),
            (b"Rar!\x1a\x07\x01\x00", "RAR"),
            (&tar, "tar"),
            (b"LZIP\x01", "lzip"),
            (
                &[0x89, b'L', b'Z', b'O', 0, 0x0d, 0x0a, 0x1a, 0x0a, 1],
                "lzop",
            ),
            (&[0x02, 0x21, 0x4c, 0x18, 1, 2], "legacy LZ4"),
            (&lzma, "LZMA-alone"),
            (b"QFI\xfb\x00\x00\x00\x03", "qcow2"),
            (b"KDMV\x01\x00\x00\x00", "VMDK"),
            (&vdi, "VDI"),
        ];
        for (head, name) in table {
            let got = unsupported(head).unwrap_or_else(|| panic!("{name} not named"));
            assert!(got.contains(name), "{name}: {got}");
            assert_eq!(detect(head), Format::Raw, "{name}");
        }
        assert!(unsupported(b"vhdxfile\x00").is_some());
        // A protective MBR, an MBR with boot code, zeros and short input are images.
        let mut mbr = vec![0u8; 512];
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        let boot = [0xeb, 0x63, 0x90, 0x10, 0x8e, 0xd0];
        for head in [&mbr[..], &boot[..], &[0u8; 600][..], &[][..], b"P"] {
            assert_eq!(unsupported(head), None, "{head:?}");
        }
    }
}
