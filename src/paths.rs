//! Where rpctap keeps its files (§3): the state directory for recordings and the runtime
//! directory for live-feed sockets, created private to the user.

use anyhow::Context;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `$RPCTAP_HOME`, else `$XDG_STATE_HOME/rpctap`, else `~/.local/state/rpctap`.
pub fn state_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(home) = env("RPCTAP_HOME") {
        return home;
    }
    if let Some(state) = env("XDG_STATE_HOME") {
        return state.join("rpctap");
    }
    env("HOME")
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join(".local/state/rpctap")
}

pub fn sessions_dir() -> PathBuf {
    state_dir().join("sessions")
}

/// Creates `dir` (and parents) with mode 0700 if missing, and refuses a directory that
/// another user owns or that others may write to (see `check_private_dir`).
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create '{}'", dir.display()))?;
    check_private_dir(dir).map_err(|e| anyhow::anyhow!(e.to_string()))
}

/// Why a directory is not rpctap's to use.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("cannot read '{0}': {1}")]
    Io(String, String),
    #[error("'{0}' is a symbolic link; refusing to use it (it must be a directory of your own)")]
    Symlink(String),
    #[error("'{0}' is not a directory; refusing to use it")]
    NotADir(String),
    #[error("'{0}' is owned by uid {1}, not by you (uid {2}); refusing to use it")]
    Owner(String, u32, u32),
    #[error("'{0}' is writable by others (mode {1:o}); refusing to use it (chmod 700 it)")]
    Mode(String, u32),
}

impl DirError {
    /// The directory does not exist (yet): nothing to refuse, nothing to list.
    pub fn is_missing(&self) -> bool {
        matches!(self, DirError::Io(_, e) if e == "No such file or directory")
    }
}

/// Checks, without following a symbolic link (`lstat`), that `dir` is a directory owned by
/// this user that nobody else may write to. The shim checks its directories so before
/// creating anything in them, and `ls` and the hub before reading or deleting anything
/// there: a link planted by another user must not send either side elsewhere.
pub fn check_private_dir(dir: &Path) -> Result<(), DirError> {
    let name = || dir.display().to_string();
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| DirError::Io(name(), crate::session::io_message(&e)))?;
    if meta.file_type().is_symlink() {
        return Err(DirError::Symlink(name()));
    }
    if !meta.is_dir() {
        return Err(DirError::NotADir(name()));
    }
    let uid = crate::os::euid();
    if meta.uid() != uid {
        return Err(DirError::Owner(name(), meta.uid(), uid));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(DirError::Mode(name(), meta.permissions().mode() & 0o777));
    }
    Ok(())
}
