//! Where a viewed session's events come from. A source runs as its own task, off the UI
//! loop, and sends events in batches over a bounded channel (the bound is back-pressure:
//! a fast reader cannot run ahead of the UI by more than a few batches).
//!
//! A source is a recording file, read to its end and then followed for appended lines (so
//! opening the recording of a running shim shows its traffic live), or a shim's live feed
//! (`live_source`), for sessions that are not recorded.

use crate::record::{Event, Line, Lines};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// How often a followed file is checked for appended lines.
pub const POLL: Duration = Duration::from_millis(100);
/// How long a followed file that does not exist yet is waited for (a shim started at the
/// same time as the viewer may not have created it).
pub const APPEAR: Duration = Duration::from_secs(10);
/// Events per batch: large enough to amortise the channel, small enough that ingesting one
/// batch never holds the UI loop for long.
pub const BATCH: usize = 4096;
/// Bytes read at a time.
pub(super) const CHUNK: usize = 1 << 20;

/// A source of events for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A recording. With `follow`, the file is watched for appended complete lines until
    /// its `exit` line has been read; without, reading stops at its end.
    File { path: PathBuf, follow: bool },
    /// A running shim's live feed (its Unix socket), read until the shim ends.
    Live { socket: PathBuf },
}

impl Source {
    /// Whether events may keep arriving after what exists now has been read.
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            Source::Live { .. } | Source::File { follow: true, .. }
        )
    }
}

/// A session to open: its label (until its header names it) and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub label: String,
    pub source: Source,
}

/// What a source reports.
#[derive(Debug)]
pub enum Update {
    Events(Vec<Event>),
    /// Everything that existed when the source started has been sent.
    CaughtUp,
    /// A line that could not be read was skipped.
    Skipped {
        line: usize,
        reason: String,
    },
    /// No more events will come.
    Ended,
    /// The shim cut this viewer off for falling behind (the reason says so); reattaching
    /// reads the session again.
    CutOff(String),
    /// The source stopped on an error.
    Failed(String),
    /// What the session's shim said on the control connection (`control`).
    Control(super::control::Incoming),
}

/// An update for the session with this index.
#[derive(Debug)]
pub struct Feed {
    pub session: usize,
    pub update: Update,
}

impl Source {
    /// Starts the source as a task that feeds session `session`. The task ends by itself
    /// when the source ends or when the receiving side is dropped.
    pub fn spawn(self, session: usize, tx: mpsc::Sender<Feed>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let out = Out { session, tx };
            match self {
                Source::File { path, follow } => file(path, follow, out).await,
                Source::Live { socket } => super::live_source::live(socket, out).await,
            }
        })
    }
}

pub(super) struct Out {
    session: usize,
    tx: mpsc::Sender<Feed>,
}

impl Out {
    /// False once nobody listens any more.
    pub(super) async fn send(&self, update: Update) -> bool {
        let feed = Feed {
            session: self.session,
            update,
        };
        self.tx.send(feed).await.is_ok()
    }

    pub(super) async fn flush(&self, batch: &mut Vec<Event>) -> bool {
        if batch.is_empty() {
            return true;
        }
        self.send(Update::Events(std::mem::take(batch))).await
    }

    /// Parses the complete lines at the front of `buf` (and removes them) with the line
    /// policy of `record::lines`, handing each event to `take` (which adds it to `batch`, or
    /// holds it back); reports unreadable lines and sends full batches. Line 1 must be a
    /// session header, else the source fails saying `not_ours()`. False when the source
    /// must stop.
    pub(super) async fn lines(
        &self,
        buf: &mut Vec<u8>,
        lines: &mut Lines,
        batch: &mut Vec<Event>,
        not_ours: impl Fn() -> String,
        mut take: impl FnMut(Event, &mut Vec<Event>),
    ) -> bool {
        let mut split = crate::record::lines::split(buf);
        for line in split.by_ref() {
            match lines.complete(line) {
                None => continue,
                Some(Line::Event(ev)) => take(ev, batch),
                Some(Line::NotARecording) => {
                    self.send(Update::Failed(not_ours())).await;
                    return false;
                }
                Some(Line::Bad { line, reason }) => {
                    let skipped = Update::Skipped { line, reason };
                    if !self.flush(batch).await || !self.send(skipped).await {
                        return false;
                    }
                }
            }
            if batch.len() >= BATCH && !self.flush(batch).await {
                return false;
            }
        }
        let consumed = split.consumed();
        buf.drain(..consumed);
        true
    }
}

async fn file(path: PathBuf, follow: bool, out: Out) {
    let mut waited = Duration::ZERO;
    let opened = loop {
        match crate::record::open_regular_async(&path).await {
            Err(e) if follow && e.kind() == std::io::ErrorKind::NotFound && waited < APPEAR => {
                if out.tx.is_closed() {
                    return;
                }
                tokio::time::sleep(POLL).await;
                waited += POLL;
            }
            other => break other,
        }
    };
    let mut f = match opened {
        Ok(f) => f,
        Err(e) => {
            let msg = format!(
                "cannot open '{}': {}",
                path.display(),
                crate::session::io_message(&e)
            );
            out.send(Update::Failed(msg)).await;
            return;
        }
    };
    if let Some(imported) = imported(path.clone()).await {
        return send_imported(imported, out).await;
    }
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut batch = Vec::with_capacity(BATCH);
    let (mut lines, mut caught_up, mut exited) = (Lines::new(), false, false);
    // The shim writing the file (the header's pid), and polls since the file last grew.
    let (mut writer, mut quiet) = (0u32, 0u32);
    loop {
        buf.reserve(CHUNK);
        let n = match f.read_buf(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                out.flush(&mut batch).await;
                let msg = format!("reading '{}': {}", path.display(), e);
                out.send(Update::Failed(msg)).await;
                return;
            }
        };
        quiet = if n == 0 { quiet + 1 } else { 0 };
        // No exit line and no shim behind the file: it was killed, nothing will follow.
        let orphaned = quiet % WRITER_CHECK == WRITER_CHECK - 1 && !writer_alive(writer);
        if n == 0 {
            if !follow || exited || orphaned {
                // A last line without its newline: the writer was cut off mid-line.
                if let Some(Line::Event(ev)) = lines.cut_off(&buf) {
                    batch.push(ev);
                }
                out.flush(&mut batch).await;
                out.send(Update::Ended).await;
                return;
            }
            if !out.flush(&mut batch).await {
                return;
            }
            if !caught_up {
                caught_up = true;
                if !out.send(Update::CaughtUp).await {
                    return;
                }
            }
            if out.tx.is_closed() {
                return;
            }
            tokio::time::sleep(POLL).await;
            continue;
        }
        let not_ours = || {
            format!(
                "'{}' is not an rpctap recording (line 1 is not a session header)",
                path.display()
            )
        };
        let take = |ev: Event, batch: &mut Vec<Event>| {
            exited |= matches!(ev, Event::Exit(_));
            if let Event::Session(info) = &ev {
                writer = info.pid;
            }
            batch.push(ev);
        };
        if !out
            .lines(&mut buf, &mut lines, &mut batch, not_ours, take)
            .await
        {
            return;
        }
    }
}

/// Polls of a quiet file between checks that its writer still runs (about 3 s: a file
/// someone else appends to after a pause, as a test does, is still followed).
const WRITER_CHECK: u32 = 30;

/// Whether the shim with this pid may still append to its recording: it runs (and is an
/// rpctap, or is this very process, as in `rpctap demo`). A header without a pid (0) names
/// no writer to check, so such a file is followed as before.
fn writer_alive(pid: u32) -> bool {
    pid == 0 || pid == std::process::id() || crate::catalog::shim_running(pid)
}

/// Another tool's log (a VS Code trace, lsp-devtools or mcpsnoop logs), read whole by
/// `record::open`; `None` for an rpctap recording (or anything else), which `file` reads
/// and follows itself. Such logs are not appended to by a shim: there is nothing to follow.
async fn imported(path: PathBuf) -> Option<Result<Vec<Event>, String>> {
    tokio::task::spawn_blocking(move || {
        use crate::record::import::{detect, Format, SNIFF};
        let mut head = Vec::with_capacity(SNIFF);
        let file = crate::record::open_regular(&path).ok()?;
        std::io::Read::read_to_end(&mut std::io::Read::take(file, SNIFF as u64), &mut head).ok()?;
        match detect(&head) {
            None | Some(Format::Rpctap) => None,
            Some(_) => Some(
                crate::record::open(&path)
                    .and_then(|(_, events)| events.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| crate::session::describe(&path, &e)),
            ),
        }
    })
    .await
    .ok()
    .flatten()
}

async fn send_imported(imported: Result<Vec<Event>, String>, out: Out) {
    match imported {
        Ok(events) => {
            for chunk in events.chunks(BATCH) {
                if !out.send(Update::Events(chunk.to_vec())).await {
                    return;
                }
            }
            out.send(Update::Ended).await;
        }
        Err(msg) => {
            out.send(Update::Failed(msg)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const HEAD: &str = r#"{"rpctap":1,"type":"session","id":"x","name":"t","command":["srv"],"started":"2026-11-21T10:00:00.000000Z"}"#;

    fn stderr_line(seq: u64) -> String {
        format!(
            r#"{{"seq":{seq},"t":"2026-11-21T10:00:00.{seq:06}Z","dir":"stderr","text":"l{seq}"}}"#
        )
    }

    async fn next_events(rx: &mut mpsc::Receiver<Feed>) -> Vec<Event> {
        loop {
            match rx.recv().await.expect("source alive").update {
                Update::Events(e) => return e,
                Update::CaughtUp | Update::Skipped { .. } => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Time is paused: the 100 ms polls advance instantly, so the test never sleeps.
    #[tokio::test(start_paused = true)]
    async fn follows_appended_lines_until_the_exit_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "{HEAD}\n{}", stderr_line(1)).unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        let task = Source::File {
            path: path.clone(),
            follow: true,
        }
        .spawn(0, tx);
        assert_eq!(next_events(&mut rx).await.len(), 2);
        // A half-written line is not read until it is complete.
        write!(f, "{}", &stderr_line(2)[..10]).unwrap();
        f.flush().unwrap();
        write!(f, "{}\nnot json\n", &stderr_line(2)[10..]).unwrap();
        let ev = next_events(&mut rx).await;
        assert!(
            matches!(&ev[..], [Event::Stderr(s)] if s.seq == 2),
            "{ev:?}"
        );
        match rx.recv().await.unwrap().update {
            Update::Skipped { line: 4, .. } => {}
            other => panic!("expected the bad line reported, got {other:?}"),
        }
        writeln!(
            f,
            r#"{{"type":"exit","t":"2026-11-21T10:00:01.000000Z","code":0,"signal":null}}"#
        )
        .unwrap();
        assert!(matches!(&next_events(&mut rx).await[..], [Event::Exit(_)]));
        assert!(matches!(rx.recv().await.unwrap().update, Update::Ended));
        task.await.unwrap();
    }

    /// Other tools' logs open through `record::open`, whole, and are not followed.
    #[tokio::test]
    async fn a_vscode_trace_is_imported_and_ends() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/formats/vscode-text.log");
        let (tx, mut rx) = mpsc::channel(4);
        Source::File { path, follow: true }.spawn(0, tx);
        let events = next_events(&mut rx).await;
        assert!(matches!(events[0], Event::Session(_)));
        assert_eq!(events.len(), 15, "the session header and 14 messages");
        assert!(matches!(rx.recv().await.unwrap().update, Update::Ended));
    }

    #[tokio::test(start_paused = true)]
    async fn a_followed_file_is_waited_for_then_given_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.jsonl");
        let (tx, mut rx) = mpsc::channel(4);
        Source::File {
            path: path.clone(),
            follow: true,
        }
        .spawn(0, tx);
        tokio::time::sleep(POLL * 3).await;
        std::fs::write(&path, format!("{HEAD}\n")).unwrap();
        assert_eq!(next_events(&mut rx).await.len(), 1, "read once it appeared");
        let (tx, mut rx) = mpsc::channel(4);
        Source::File {
            path: dir.path().join("never.jsonl"),
            follow: true,
        }
        .spawn(0, tx);
        let failed = rx.recv().await.unwrap().update;
        assert!(matches!(failed, Update::Failed(m) if m.contains("No such file")));
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_recording_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "hello\n").unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        Source::File {
            path,
            follow: false,
        }
        .spawn(3, tx);
        let feed = rx.recv().await.unwrap();
        assert_eq!(feed.session, 3);
        assert!(matches!(feed.update, Update::Failed(m) if m.contains("not an rpctap")));
    }
}
