//! The shim's side of the live feed.
//!
//! A viewer reads the recording itself: its thread sends the file from the start up to the
//! length the recorder has committed, then waits on the `Feed` for the next length, until
//! the session ends. So a viewer gets exactly the recording, the recorder never queues or
//! copies anything for it, and a viewer that stops reading only stalls its own thread (it
//! is dropped after `WRITE_TIMEOUT` without progress) — never the shim, never its memory.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A viewer that accepts nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How far the recording file holds complete lines, and whether it is complete.
#[derive(Default)]
pub struct Feed {
    state: Mutex<(u64, bool)>,
    moved: Condvar,
    /// Bytes sent to viewers so far, all viewers together: tells whether they still read.
    sent: std::sync::atomic::AtomicU64,
    /// Viewers that have sent everything committed and wait for more.
    caught_up: std::sync::atomic::AtomicUsize,
}

impl Feed {
    /// The state, also after a thread panicked holding it (two numbers stay consistent).
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, bool)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The file now holds complete lines up to `len`.
    pub fn advance(&self, len: u64) {
        let mut s = self.lock();
        s.0 = len;
        drop(s);
        self.moved.notify_all();
    }

    /// Nothing more will be written.
    pub fn end(&self) {
        self.lock().1 = true;
        self.moved.notify_all();
    }

    /// How far the file holds complete lines now.
    pub fn committed(&self) -> u64 {
        self.lock().0
    }

    /// `committed`, and whether nothing more will be written.
    pub fn state(&self) -> (u64, bool) {
        *self.lock()
    }

    /// Waits until the file is longer than `at` (the new length) or has ended (`None`).
    pub fn wait_past(&self, at: u64) -> Option<u64> {
        let mut s = self.lock();
        loop {
            if s.0 > at {
                return Some(s.0);
            }
            if s.1 {
                return None;
            }
            s = self
                .moved
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

pub struct Publisher {
    socket: PathBuf,
    info: PathBuf,
    feed: Arc<Feed>,
    threads: Vec<JoinHandle<()>>,
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
        crate::paths::ensure_private_dir(dir)?;
        let pid = std::process::id();
        let socket = dir.join(format!("{pid}.sock"));
        let info = dir.join(format!("{pid}.json"));
        let _ = std::fs::remove_file(&socket);
        // Born 0600: no chmod by path that a link could redirect (issue 12).
        let listener = crate::os::bind_private_socket(&socket)
            .with_context(|| format!("cannot listen on '{}'", socket.display()))?;
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
            feed: Arc::default(),
            threads: Vec::new(),
        })
    }

    /// The lengths the recorder commits, for viewers to follow.
    pub fn feed(&self) -> Arc<Feed> {
        self.feed.clone()
    }

    /// Starts serving a viewer the recording read from `file`: all of it so far, then
    /// each line as it is committed.
    pub fn attach(&mut self, stream: UnixStream, file: File) {
        let feed = self.feed.clone();
        let spawned = std::thread::Builder::new()
            .name("live-viewer".into())
            .spawn(move || serve(stream, &file, &feed));
        if let Ok(handle) = spawned {
            self.threads.push(handle);
        }
        self.threads.retain(|t| !t.is_finished());
    }

    pub fn has_viewers(&mut self) -> bool {
        self.threads.retain(|t| !t.is_finished());
        !self.threads.is_empty()
    }

    /// Whether a viewer has been sent everything committed and waits for more: only then
    /// does committing sooner show it anything (a viewer that stopped reading, or is still
    /// sending what was committed before, gains nothing from it).
    pub fn has_viewers_caught_up(&self) -> bool {
        self.feed
            .caught_up
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    }

    /// Ends the feed: viewers get the rest of the file for as long as they keep reading
    /// (a viewer that reads nothing for `patience` is left behind), then the socket and
    /// the discovery file are removed.
    pub fn finish(mut self, patience: Duration, progress: &std::sync::atomic::AtomicU64) {
        use std::sync::atomic::Ordering;
        self.feed.end();
        let mut sent = self.feed.sent.load(Ordering::Relaxed);
        let mut moved = Instant::now();
        while self.has_viewers() && moved.elapsed() < patience {
            std::thread::sleep(Duration::from_millis(5));
            let now = self.feed.sent.load(Ordering::Relaxed);
            if now != sent {
                (sent, moved) = (now, Instant::now());
                progress.fetch_add(1, Ordering::Relaxed);
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

fn serve(mut stream: UnixStream, file: &File, feed: &Feed) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut buf = vec![0u8; 256 * 1024];
    let mut at = 0u64;
    loop {
        use std::sync::atomic::Ordering::Relaxed;
        feed.caught_up.fetch_add(1, Relaxed);
        let next = feed.wait_past(at);
        feed.caught_up.fetch_sub(1, Relaxed);
        let Some(len) = next else { break };
        if !send_range(&mut stream, file, feed, &mut buf, &mut at, len) {
            return;
        }
    }
    // Ended: whatever was committed last.
    let len = feed.committed();
    send_range(&mut stream, file, feed, &mut buf, &mut at, len);
}

/// Sends the file from `*at` to `end`; false when the viewer is gone.
fn send_range(
    stream: &mut UnixStream,
    file: &File,
    feed: &Feed,
    buf: &mut [u8],
    at: &mut u64,
    end: u64,
) -> bool {
    while *at < end {
        let want = usize::try_from(end - *at).map_or(buf.len(), |n| n.min(buf.len()));
        match file.read_at(&mut buf[..want], *at) {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                if stream.write_all(&buf[..n]).is_err() {
                    return false;
                }
                *at += n as u64;
                feed.sent
                    .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A publisher serving one viewer the file `data`, all of it committed.
    fn serving(data: &[u8]) -> (tempfile::TempDir, Publisher, UnixStream) {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher =
            Publisher::bind(&dir.path().join("live"), br#"{"t":0}"#, None, |_| {}).unwrap();
        let path = dir.path().join("rec");
        std::fs::write(&path, data).unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        publisher.attach(ours, File::open(&path).unwrap());
        publisher.feed.advance(data.len() as u64);
        (dir, publisher, theirs)
    }

    /// Polls `f` for up to five seconds.
    fn soon(f: impl Fn() -> bool) -> bool {
        (0..5000).any(|_| {
            std::thread::sleep(Duration::from_millis(1));
            f()
        })
    }

    #[test]
    fn a_viewer_that_has_read_everything_is_caught_up() {
        let data = vec![b'x'; 100_000];
        let (_dir, publisher, mut viewer) = serving(&data);
        let mut got = vec![0; data.len()];
        viewer.read_exact(&mut got).unwrap();
        assert!(soon(|| publisher.has_viewers_caught_up()));
        publisher.feed.end();
    }

    #[test]
    fn a_viewer_that_stopped_reading_is_not() {
        // More than any socket buffer holds: its thread blocks in the write.
        let (_dir, mut publisher, _viewer) = serving(&vec![b'x'; 16 << 20]);
        assert!(publisher.has_viewers());
        assert!(soon(|| !publisher.has_viewers_caught_up()));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!publisher.has_viewers_caught_up(), "and stays so");
        publisher.feed.end();
    }
}
