//! Where rpctap keeps its files (§3): the state directory for recordings and the runtime
//! directory for live-feed sockets, created private to the user.

use anyhow::{bail, Context};
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
/// another user owns or that others may write to.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create '{}'", dir.display()))?;
    let meta =
        std::fs::metadata(dir).with_context(|| format!("cannot read '{}'", dir.display()))?;
    let uid = crate::os::euid();
    if meta.uid() != uid {
        bail!(
            "'{}' is owned by uid {}, not by you (uid {uid}); refusing to use it",
            dir.display(),
            meta.uid()
        );
    }
    if meta.permissions().mode() & 0o022 != 0 {
        bail!(
            "'{}' is writable by others (mode {:o}); refusing to use it (chmod 700 it)",
            dir.display(),
            meta.permissions().mode() & 0o777
        );
    }
    Ok(())
}
