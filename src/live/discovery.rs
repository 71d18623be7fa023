//! Finding live shims: `<runtime dir>/<pid>.sock` with `<pid>.json` beside it. Files of a
//! pid that no longer runs belong to a dead shim and are removed.

use crate::record::{Reader, SessionInfo};
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// `$XDG_RUNTIME_DIR/rpctap`, else the state directory's `run/`.
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) if std::env::var_os("RPCTAP_HOME").is_none() => PathBuf::from(dir).join("rpctap"),
        _ => crate::paths::state_dir().join("run"),
    }
}

/// A running shim, as its discovery file describes it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub info: SessionInfo,
    pub socket: PathBuf,
    pub recording: Option<PathBuf>,
    /// The shim's control socket (`<pid>.ctl`), when it has one.
    pub control: Option<PathBuf>,
}

/// The live sessions, newest first. Stale sockets (their shim is gone) are removed.
pub fn live_sessions() -> Vec<LiveSession> {
    live_sessions_in(&runtime_dir())
}

/// `live_sessions` of the runtime directory `dir`; none if it is not private to this user.
pub fn live_sessions_in(dir: &std::path::Path) -> Vec<LiveSession> {
    live_sessions_checked(dir).unwrap_or_default()
}

/// `live_sessions_in`, saying why a runtime directory that exists was not read: it is a
/// symbolic link, another user's, or writable by others (`paths::check_private_dir`).
/// A missing directory has no sessions.
pub fn live_sessions_checked(
    dir: &std::path::Path,
) -> Result<Vec<LiveSession>, crate::paths::DirError> {
    match crate::paths::check_private_dir(dir) {
        Err(e) if e.is_missing() => return Ok(Vec::new()),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let socket = path.with_extension("sock");
        // Connecting would make the shim start sending its backlog, so liveness is
        // judged by the pid the files are named after.
        let pid = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u32>().ok());
        let alive = pid.is_some_and(crate::os::process_exists) && socket.exists();
        let meta = read_own_file(&path)
            .ok()
            .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok());
        if !alive {
            remove_stale(&socket, &path);
            continue;
        }
        // A live shim writes its file just after binding its socket: one that does not
        // parse yet (or at all) is skipped, never removed.
        let Some(meta) = meta else { continue };
        let Ok(info) = serde_json::from_value::<SessionInfo>(meta.clone()) else {
            continue;
        };
        let recording = meta
            .get("recording")
            .and_then(|r| r.as_str())
            .map(PathBuf::from);
        let control = meta
            .get("control")
            .and_then(|r| r.as_str())
            .map(PathBuf::from);
        out.push(LiveSession {
            info,
            socket,
            recording,
            control,
        });
    }
    out.sort_by(|a, b| b.info.started.cmp(&a.info.started));
    Ok(out)
}

/// Removes a dead shim's files, but only what a shim makes: a socket and a regular file,
/// owned by this user (`lstat`: a symbolic link is left alone, never followed).
fn remove_stale(socket: &std::path::Path, info: &std::path::Path) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let ours = |p: &std::path::Path, socket: bool| {
        std::fs::symlink_metadata(p).is_ok_and(|m| {
            let t = m.file_type();
            m.uid() == crate::os::euid() && if socket { t.is_socket() } else { t.is_file() }
        })
    };
    if ours(socket, true) {
        let _ = std::fs::remove_file(socket);
    }
    if ours(info, false) {
        let _ = std::fs::remove_file(info);
    }
    let control = socket.with_extension("ctl");
    if ours(&control, true) {
        let _ = std::fs::remove_file(control);
    }
}

/// A discovery file's content, never through a symbolic link, at most 1 MiB.
fn read_own_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    let mut out = Vec::new();
    f.take(1 << 20).read_to_end(&mut out)?;
    Ok(out)
}

/// Attaches as a viewer: the events of the session so far, then live ones, until the shim
/// ends (or cuts this viewer off, which arrives as a `gap` event).
pub fn connect(socket: &std::path::Path) -> std::io::Result<Reader<BufReader<UnixStream>>> {
    let stream = UnixStream::connect(socket)?;
    Ok(Reader::new(BufReader::with_capacity(1 << 16, stream)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_shims_file_that_does_not_parse_yet_is_skipped_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        crate::paths::ensure_private_dir(dir.path()).unwrap();
        let pid = std::process::id();
        let socket = dir.path().join(format!("{pid}.sock"));
        let _listener = crate::os::bind_private_socket(&socket).unwrap();
        let info = dir.path().join(format!("{pid}.json"));
        crate::files::create_exclusive(&info).unwrap();
        assert!(live_sessions_in(dir.path()).is_empty());
        assert!(socket.exists() && info.exists(), "a live shim's files stay");
        // A dead pid's files go.
        let dead = dir.path().join("999999999.json");
        std::fs::write(&dead, b"{}").unwrap();
        live_sessions_in(dir.path());
        assert!(!dead.exists());
    }
}
