//! Is a target in use? Parsers for `/proc/self/mountinfo` and `/proc/swaps`, and the
//! partitions of a device from sysfs.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// A device number split into `(major, minor)`.
pub(crate) type DevNum = (u32, u32);

/// Splits a `dev_t` as glibc's `major()`/`minor()` do.
pub(crate) fn split_dev(dev: u64) -> DevNum {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    // Both values fit in 32 bits by construction of the masks above.
    (major as u32, minor as u32)
}

/// Parses `"259:1"`.
pub(crate) fn parse_devnum(text: &str) -> Option<DevNum> {
    let (major, minor) = text.trim().split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// One line of `/proc/self/mountinfo`, reduced to what the target check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// The `major:minor` field (field 3). Filesystems without a block device (tmpfs,
    /// btrfs subvolumes…) carry an anonymous major 0 here.
    pub(crate) dev: DevNum,
    /// The mount point (field 5), octal escapes decoded.
    pub(crate) mount_point: String,
    /// The mount source (the second field after the ` - ` separator), decoded.
    pub(crate) source: String,
}

/// Decodes the octal escapes (`\040` space, `\011` tab, `\012` newline, `\134`
/// backslash) the kernel writes into mountinfo and swaps fields.
pub(crate) fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value = bytes[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            if let Ok(byte) = u8::try_from(value) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `/proc/self/mountinfo`. Lines that do not have the documented shape
/// (`proc(5)`: ID, parent ID, major:minor, root, mount point, options, optional
/// fields, `-`, type, source, super options) are skipped rather than trusted.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let dev = parse_devnum(fields.get(2)?)?;
            let mount_point = unescape(fields.get(4)?);
            // The optional fields end at a lone "-"; type and source follow.
            let sep = fields.iter().skip(6).position(|f| *f == "-")? + 6;
            let source = fields.get(sep + 2).map(|s| unescape(s)).unwrap_or_default();
            Some(Mount {
                dev,
                mount_point,
                source,
            })
        })
        .collect()
}

/// Parses `/proc/swaps`: the file name of every active swap area (the header
/// line is skipped).
pub(crate) fn parse_swaps(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|line| line.starts_with("Filename"))
        .filter_map(|line| line.split_whitespace().next())
        .map(unescape)
        .collect()
}

/// The device numbers of the partitions of the block device `dev`, from
/// `/sys/dev/block/<maj>:<min>/<name>/dev` of the subdirectories that have a
/// `partition` file. Empty when sysfs is unavailable.
pub(crate) fn partitions_of(dev: DevNum) -> Vec<DevNum> {
    let dir = format!("/sys/dev/block/{}:{}", dev.0, dev.1);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().join("partition").exists())
        .filter_map(|e| std::fs::read_to_string(e.path().join("dev")).ok())
        .filter_map(|text| parse_devnum(&text))
        .collect()
}

/// The block device number a path names, when it names a block device.
fn block_dev_of(path: &Path) -> Option<DevNum> {
    let meta = std::fs::metadata(path).ok()?;
    meta.file_type()
        .is_block_device()
        .then(|| split_dev(meta.rdev()))
}

/// Where one of `devs` is in use: the mount point (`"swap"` for a swap area).
/// Matches the mountinfo device number, and also a mount source that is a block
/// device path (btrfs reports an anonymous device number in mountinfo).
pub(crate) fn in_use(devs: &[DevNum], mountinfo: &str, swaps: &str) -> Option<(DevNum, String)> {
    for mount in parse_mountinfo(mountinfo) {
        if devs.contains(&mount.dev) {
            return Some((mount.dev, mount.mount_point));
        }
        if mount.source.starts_with('/')
            && let Some(dev) = block_dev_of(Path::new(&mount.source)).filter(|d| devs.contains(d))
        {
            return Some((dev, mount.mount_point));
        }
    }
    for name in parse_swaps(swaps) {
        if let Some(dev) = block_dev_of(Path::new(&name)).filter(|d| devs.contains(d)) {
            return Some((dev, "swap".to_owned()));
        }
    }
    None
}

/// Whether the regular file `(st_dev, st_ino)` is an active swap file.
pub(crate) fn is_swap_file(dev: u64, ino: u64, swaps: &str) -> bool {
    parse_swaps(swaps).iter().any(|name| {
        std::fs::metadata(name).is_ok_and(|m| m.is_file() && m.dev() == dev && m.ino() == ino)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
28 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
43 27 259:1 / /tmp/exp\\040dir/m rw,relatime - ext4 /dev/loop0p1 rw
44 27 7:3 / /media/a\\011b rw shared:7 master:2 propagate_from:3 - vfat /dev/loop3 rw
garbage line
45 27 x:y / /bad rw - ext4 /dev/x rw
46 27 8:1 / /no-separator rw ext4 /dev/sda1 rw
";

    #[test]
    fn mountinfo_lines_are_parsed() {
        let mounts = parse_mountinfo(SAMPLE);
        assert_eq!(mounts.len(), 5, "{mounts:?}");
        assert_eq!(mounts[0].dev, (0, 21));
        assert_eq!(mounts[1].mount_point, "/");
        assert_eq!(mounts[1].source, "/dev/vda");
        assert_eq!(mounts[2].dev, (98, 0));
        assert_eq!(mounts[2].mount_point, "/mnt2");
        assert_eq!(mounts[2].source, "/dev/root");
        assert_eq!(mounts[3].dev, (259, 1));
        assert_eq!(mounts[3].mount_point, "/tmp/exp dir/m");
        assert_eq!(mounts[4].dev, (7, 3));
        assert_eq!(mounts[4].mount_point, "/media/a\tb");
        assert_eq!(mounts[4].source, "/dev/loop3");
    }

    #[test]
    fn a_mounted_device_or_partition_is_found() {
        let none = "Filename\tType\tSize\tUsed\tPriority\n";
        assert_eq!(
            in_use(&[(7, 0), (259, 1)], SAMPLE, none),
            Some(((259, 1), "/tmp/exp dir/m".to_owned()))
        );
        assert_eq!(
            in_use(&[(7, 3)], SAMPLE, none),
            Some(((7, 3), "/media/a\tb".to_owned()))
        );
        assert_eq!(in_use(&[(7, 9)], SAMPLE, none), None);
        // The line without a separator is not trusted.
        assert_eq!(in_use(&[(8, 1)], SAMPLE, none), None);
    }

    #[test]
    fn swaps_are_parsed() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
                    /dev/sda2                               partition\t8388604\t\t0\t\t-2\n\
                    /swap\\040file                            file\t\t1048572\t\t0\t\t-3\n";
        assert_eq!(parse_swaps(text), vec!["/dev/sda2", "/swap file"]);
        assert!(parse_swaps("Filename\tType\tSize\tUsed\tPriority\n").is_empty());
    }

    #[test]
    fn escapes_and_device_numbers() {
        assert_eq!(unescape(r"a\040b\134c\012"), "a b\\c\n");
        assert_eq!(unescape(r"trailing\04"), r"trailing\04");
        assert_eq!(unescape(r"\999"), r"\999");
        assert_eq!(parse_devnum("259:1\n"), Some((259, 1)));
        assert_eq!(parse_devnum("259"), None);
        assert_eq!(split_dev(0x0700), (7, 0));
        // major 259, minor 1 as glibc's makedev encodes it
        assert_eq!(split_dev((259 << 8) | 1), (259, 1));
        let (major, minor) = (0x1234u64, 0x5_6789u64);
        let dev = ((major & 0xffff_f000) << 32)
            | ((major & 0xfff) << 8)
            | ((minor & 0xffff_ff00) << 12)
            | (minor & 0xff);
        assert_eq!(split_dev(dev), (0x1234, 0x5_6789));
    }
}
