//! Temporary directories named like everything else the kit creates.

use std::path::{Path, PathBuf};

use crate::{Error, Result, names};

/// A directory under the system's temporary directory, named `mktk-<pid>-<n>-<label>`,
/// removed with its contents on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory.
    pub fn new(label: &str) -> Result<TempDir> {
        let path = std::env::temp_dir().join(names::unique(label));
        std::fs::create_dir(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok(TempDir { path })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
