//! The shim's side of the live feed.
//!
//! The recorder thread owns the `Publisher`. Attaching happens on that thread between two
//! lines: the recording is flushed, its length noted, and the new viewer's thread sends
//! the file up to that length (the backlog) and then every line published after it —
//! so nothing is missed or repeated. Each viewer has its own thread and queue; the
//! recorder only ever queues, and a viewer whose queue passes a bound is cut off with a
//! final `gap` line that says why.

use bytes::Bytes;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes a viewer may have queued before it is cut off.
pub const VIEWER_QUEUE_LIMIT: usize = 4 * 1024 * 1024;
/// A viewer that accepts nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// At the end of a session, how long viewers still behind may go without reading
/// anything before the shim exits without them, and how long they may take in all. A
/// viewer left behind sees its feed end before the exit line and says so.
const FINISH_STALL: Duration = Duration::from_secs(1);
const FINISH_LIMIT: Duration = Duration::from_secs(4);

/// Where a new viewer's backlog comes from: the recording, read by offset.
pub struct Backlog {
    pub file: File,
    pub len: u64,
}

struct Viewer {
    tx: Sender<Bytes>,
    queued: Arc<AtomicUsize>,
    cut: Arc<AtomicBool>,
}

pub struct Publisher {
    socket: PathBuf,
    info: PathBuf,
    viewers: Vec<Viewer>,
    threads: Vec<JoinHandle<()>>,
    /// Bytes written to all viewers so far: what `finish` watches for progress.
    sent: Arc<std::sync::atomic::AtomicU64>,
}

impl Publisher {
    /// Binds `<dir>/<pid>.sock` (0600) and writes `<dir>/<pid>.json` (the session line and
    /// the recording's path) for discovery. Accepted connections are handed to `on_attach`,
    /// which must pass them to the thread that owns the publisher.
    pub fn bind(
        dir: &std::path::Path,
        session_line: &[u8],
        recording: Option<&std::path::Path>,
        on_attach: impl Fn(UnixStream) + Send + 'static,
    ) -> anyhow::Result<Publisher> {
        use anyhow::Context;
        use std::os::unix::fs::PermissionsExt;
        crate::paths::ensure_private_dir(dir)?;
        let pid = std::process::id();
        let socket = dir.join(format!("{pid}.sock"));
        let info = dir.join(format!("{pid}.json"));
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)
            .with_context(|| format!("cannot listen on '{}'", socket.display()))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
        let mut meta: serde_json::Value = serde_json::from_slice(session_line)?;
        if let Some(map) = meta.as_object_mut() {
            map.insert(
                "recording".into(),
                recording.map(|p| p.display().to_string()).into(),
            );
            map.insert("socket".into(), socket.display().to_string().into());
        }
        write_private(&info, &serde_json::to_vec(&meta)?)?;
        std::thread::Builder::new()
            .name("live-accept".into())
            .spawn(move || {
                for stream in listener.incoming().map_while(Result::ok) {
                    on_attach(stream);
                }
            })?;
        Ok(Publisher {
            socket,
            info,
            viewers: Vec::new(),
            threads: Vec::new(),
            sent: Arc::default(),
        })
    }

    /// Starts serving a viewer: the backlog first, then everything published from now on.
    pub fn attach(&mut self, stream: UnixStream, backlog: Option<Backlog>) {
        let (tx, rx) = channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let (q, c, sent) = (queued.clone(), cut.clone(), self.sent.clone());
        let spawned = std::thread::Builder::new()
            .name("live-viewer".into())
            .spawn(move || serve(stream, backlog, rx, &q, &c, &sent));
        if let Ok(handle) = spawned {
            self.threads.push(handle);
            self.viewers.push(Viewer { tx, queued, cut });
        }
        self.threads.retain(|t| !t.is_finished());
    }

    pub fn has_viewers(&self) -> bool {
        !self.viewers.is_empty()
    }

    /// Queues one line for every viewer; never blocks.
    pub fn publish(&mut self, line: &[u8]) {
        if self.viewers.is_empty() {
            return;
        }
        let line = Bytes::copy_from_slice(line);
        self.viewers.retain(|v| {
            let n = line.len();
            if v.queued.fetch_add(n, Ordering::Relaxed) + n > VIEWER_QUEUE_LIMIT {
                v.cut.store(true, Ordering::Relaxed);
                return false; // dropping the sender ends the viewer's thread
            }
            v.tx.send(line.clone()).is_ok()
        });
    }

    /// Ends the feed: viewers get what is queued for as long as they keep reading (within
    /// bounds: see `FINISH_STALL`), then the socket and the discovery file are removed.
    pub fn finish(mut self) {
        self.viewers.clear();
        let start = Instant::now();
        let (mut seen, mut moved_at) = (self.sent.load(Ordering::Relaxed), start);
        while self.threads.iter().any(|t| !t.is_finished())
            && moved_at.elapsed() < FINISH_STALL
            && start.elapsed() < FINISH_LIMIT
        {
            std::thread::sleep(Duration::from_millis(5));
            let now = self.sent.load(Ordering::Relaxed);
            if now != seen {
                (seen, moved_at) = (now, Instant::now());
            }
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.info);
    }
}

/// Writes a new discovery file. One left at this path by a dead shim of the same pid is
/// removed first, so the file is still created exclusively (see `crate::files`).
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    crate::files::create_exclusive(path)?.write_all(data)
}

fn serve(
    mut stream: UnixStream,
    backlog: Option<Backlog>,
    rx: Receiver<Bytes>,
    queued: &AtomicUsize,
    cut: &AtomicBool,
    sent: &std::sync::atomic::AtomicU64,
) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    if let Some(b) = backlog {
        let mut buf = vec![0u8; 256 * 1024];
        let mut at = 0u64;
        while at < b.len {
            let want = buf.len().min((b.len - at) as usize);
            match b.file.read_at(&mut buf[..want], at) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                    at += n as u64;
                    sent.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
    }
    for line in rx.iter() {
        queued.fetch_sub(line.len(), Ordering::Relaxed);
        // Once cut off, what is still queued is dropped: the reason comes next.
        if cut.load(Ordering::Relaxed) {
            break;
        }
        if stream.write_all(&line).is_err() {
            return;
        }
        sent.fetch_add(line.len() as u64, Ordering::Relaxed);
    }
    if cut.load(Ordering::Relaxed) {
        let gap = crate::record::Event::Gap(crate::record::Gap {
            t: crate::record::Micros::now(),
            dir: None,
            bytes: 0,
            reason: format!(
                "this viewer fell more than {} MB behind and was cut off; reattach to continue",
                VIEWER_QUEUE_LIMIT / (1024 * 1024)
            ),
        });
        let mut line = Vec::new();
        crate::record::encode_event(&mut line, &gap);
        let _ = stream.write_all(&line);
    }
}
