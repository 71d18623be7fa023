//! Diagnostics for rpctap itself, with `tracing`: off unless `RPCTAP_LOG` is set (to a
//! level or filter such as `debug` or `rpctap::child=trace`), then appended to
//! `rpctap.log` in the state directory. A file, because the shim's stdout belongs to the
//! protocol and editors hide or discard its stderr.
//!
//! Not responsible for: messages for the user (one line on stderr, in `commands`).

use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// The environment variable that turns logging on.
pub const ENV: &str = "RPCTAP_LOG";

/// The log file: `<state dir>/rpctap.log`.
pub fn path() -> PathBuf {
    crate::paths::state_dir().join("rpctap.log")
}

/// Installs the file logger if `RPCTAP_LOG` asks for it. A log that cannot be opened or a
/// filter that does not parse is a warning: logging never stops rpctap from working.
pub fn init() {
    let Some(spec) = std::env::var_os(ENV).filter(|v| !v.is_empty()) else {
        return;
    };
    let spec = spec.to_string_lossy();
    let filter = match tracing_subscriber::EnvFilter::try_new(spec.as_ref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("rpctap: warning: {ENV}={spec:?} is not a log filter ({e}); not logging");
            return;
        }
    };
    let file = crate::paths::ensure_private_dir(&crate::paths::state_dir()).and_then(|()| {
        // Appended, private, and never through a planted symlink.
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path())
            .map_err(anyhow::Error::from)
            .and_then(|f| {
                // Appending to a file created earlier: it must still be ours and private
                // (checked on the open descriptor, never by path).
                use std::os::unix::fs::MetadataExt;
                let meta = f.metadata()?;
                anyhow::ensure!(
                    meta.uid() == crate::os::euid() && meta.mode() & 0o077 == 0,
                    "it is not a private file of yours (mode {:o}, uid {})",
                    meta.mode() & 0o777,
                    meta.uid()
                );
                Ok(f)
            })
    });
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "rpctap: warning: cannot open the log '{}': {e:#}",
                path().display()
            );
            return;
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_thread_names(true)
        .try_init();
    tracing::debug!(pid = std::process::id(), argv = ?std::env::args().collect::<Vec<_>>(), "rpctap started");
}
