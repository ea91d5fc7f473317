//! Finding the external programs the kit drives, with an install hint when one is missing.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The Debian package that provides each program the kit runs.
const PACKAGES: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("bridge", "iproute2"),
    ("bird", "bird2"),
    ("birdc", "bird2"),
    ("gobgpd", "gobgpd"),
    ("gobgp", "gobgpd"),
    ("exabgp", "exabgp"),
    ("tcpdump", "tcpdump"),
    ("ping", "iputils-ping"),
    ("arping", "arping"),
    ("ndisc6", "ndisc6"),
    ("tail", "coreutils"),
    ("gzip", "gzip"),
    ("pigz", "pigz"),
    ("zstd", "zstd"),
    ("pzstd", "zstd"),
    ("xz", "xz-utils"),
    ("bzip2", "bzip2"),
    ("lz4", "lz4"),
    ("sgdisk", "gdisk"),
    ("sfdisk", "fdisk"),
    ("partx", "util-linux"),
    ("losetup", "mount"),
    ("blockdev", "util-linux"),
    ("mke2fs", "e2fsprogs"),
    ("e2fsck", "e2fsprogs"),
    ("debugfs", "e2fsprogs"),
    ("mount", "mount"),
    ("umount", "mount"),
    ("bmaptool", "bmap-tools"),
    ("dd", "coreutils"),
    ("tar", "tar"),
];

/// The Debian package that provides `tool` (the tool's own name when unknown).
pub(crate) fn package_of(tool: &str) -> &str {
    PACKAGES
        .iter()
        .find(|(t, _)| *t == tool)
        .map_or(tool, |(_, p)| p)
}

/// The full path of `tool`, searched in `PATH` and the sbin directories, or
/// [`Error::MissingTool`] naming the Debian package to install.
pub fn require(tool: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| Error::MissingTool {
            tool: tool.to_owned(),
            package: package_of(tool).to_owned(),
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_names_its_package() {
        let err = require("gobgpd-that-does-not-exist").unwrap_err();
        assert!(matches!(err, Error::MissingTool { .. }));
        assert!(
            err.to_string()
                .contains("apt-get install gobgpd-that-does-not-exist")
        );
        assert_eq!(package_of("birdc"), "bird2");
    }

    #[test]
    fn a_present_tool_is_found() {
        let sh = require("sh").unwrap();
        assert!(sh.is_absolute());
    }
}
