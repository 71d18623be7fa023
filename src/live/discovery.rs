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
}

/// The live sessions, newest first. Stale sockets (their shim is gone) are removed.
pub fn live_sessions() -> Vec<LiveSession> {
    live_sessions_in(&runtime_dir())
}

/// `live_sessions` of the runtime directory `dir`.
pub fn live_sessions_in(dir: &std::path::Path) -> Vec<LiveSession> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
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
        let meta = std::fs::read(&path)
            .ok()
            .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok());
        let (true, Some(meta)) = (alive, meta) else {
            let _ = std::fs::remove_file(&socket);
            let _ = std::fs::remove_file(&path);
            continue;
        };
        let Ok(info) = serde_json::from_value::<SessionInfo>(meta.clone()) else {
            continue;
        };
        let recording = meta
            .get("recording")
            .and_then(|r| r.as_str())
            .map(PathBuf::from);
        out.push(LiveSession {
            info,
            socket,
            recording,
        });
    }
    out.sort_by(|a, b| b.info.started.cmp(&a.info.started));
    out
}

/// Attaches as a viewer: the events of the session so far, then live ones, until the shim
/// ends (or cuts this viewer off, which arrives as a `gap` event).
pub fn connect(socket: &std::path::Path) -> std::io::Result<Reader<BufReader<UnixStream>>> {
    let stream = UnixStream::connect(socket)?;
    Ok(Reader::new(BufReader::with_capacity(1 << 16, stream)))
}
