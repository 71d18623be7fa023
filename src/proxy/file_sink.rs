//! The recording file as the recorder writes it: whole lines only, flushed by the recorder
//! at least every 100 ms, and still a readable recording when the disk fails under it.
//!
//! Lines go through 1 MiB blocks (`Stage`), written in large pieces, direct where the file
//! system takes it and on a thread of their own; a large message's body is copied into
//! them piece by piece, never held whole a second time. A line is committed once the file
//! holds it (not when it is handed to the writer). The end of the last complete line the
//! file holds is `committed`: live viewers read the file up to it.
//!
//! When a write fails (disk full, I/O error) the file is cut back to `committed`, so no
//! torn line is left, the shim warns once on stderr, and from then on what can't be
//! written is counted per stream. Every second, and at the end, the sink tries to write
//! `gap` lines with those counts; once one is written, recording goes on.

use super::reserve::Reserve;
use super::stage::Stage;
use crate::live::Feed;
use crate::record::{encode_event, Dir, Event, Gap, Micros};
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// While failing, how often writing is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The stream a line's bytes came from: c2s, s2c, stderr (for counting what was lost).
pub type StreamIx = usize;
pub const STDERR: StreamIx = 2;

struct Failure {
    reason: String,
    /// Wire bytes not recorded since the last line in `pending`, per stream.
    lost: [u64; 3],
    /// Lines to write, in order, once the disk takes writes again: those that carry no
    /// traffic (session, exit, undelivered marks) and gap lines for the losses before them.
    pending: Vec<u8>,
    last_try: Instant,
}

impl Failure {
    /// Turns the losses so far into gap lines at the end of `pending`.
    fn close_gaps(&mut self) {
        let t = Micros::now();
        for (ix, bytes) in std::mem::take(&mut self.lost).into_iter().enumerate() {
            if bytes > 0 {
                encode_event(&mut self.pending, &gap(t, ix, bytes, &self.reason));
            }
        }
    }

    fn control(&mut self, line: &[u8]) {
        if self.pending.len() + line.len() <= MAX_CONTROL {
            self.close_gaps();
            self.pending.extend_from_slice(line);
        }
    }
}

fn gap(t: Micros, ix: StreamIx, bytes: u64, why: &str) -> Event {
    let (dir, stream) = match ix {
        0 => (Some(Dir::C2s), "c2s"),
        1 => (Some(Dir::S2c), "s2c"),
        _ => (None, "stderr"),
    };
    let reason = format!(
        "the recording's disk failed ({why}): {bytes} bytes of {stream} were forwarded but not recorded"
    );
    Event::Gap(Gap {
        t,
        dir,
        bytes,
        reason,
    })
}

/// At most this much of control lines is kept while failing.
const MAX_CONTROL: usize = 64 * 1024;

/// A line pushed but not committed yet: where it ends in the file, and the wire bytes of
/// which stream it carries (lost if it can't be written).
#[derive(Clone, Copy)]
struct Pending {
    end: u64,
    ix: StreamIx,
    wire: u64,
}

/// The recording file (or, with `--no-record`, an unnamed temporary file that only
/// serves live viewers their backlog).
pub struct FileSink {
    /// `None` for the unnamed temporary file.
    pub path: Option<PathBuf>,
    file: File,
    stage: Stage,
    /// The lines pushed past `committed`, in order.
    lines: VecDeque<Pending>,
    /// The end of the last complete line in the file.
    committed: u64,
    failure: Option<Failure>,
    warned: bool,
    feed: Option<Arc<Feed>>,
    /// The disk reserved ahead of the end, given back at `finish`.
    reserve: Reserve,
}

impl FileSink {
    /// `file` must be open for reading too: live viewers read the recording from it. It
    /// is written from its start.
    pub fn new(path: Option<PathBuf>, file: File) -> FileSink {
        let direct = crate::os::reopen_direct(&file).ok();
        FileSink {
            path,
            stage: Stage::new(0, direct),
            file,
            lines: VecDeque::new(),
            committed: 0,
            failure: None,
            warned: false,
            feed: None,
            reserve: Reserve::new(),
        }
    }

    /// Live viewers follow the file through `feed`, which learns each new committed length.
    pub fn set_feed(&mut self, feed: Arc<Feed>) {
        feed.advance(self.committed);
        self.feed = Some(feed);
    }

    /// Has the shim warned about the disk already (this sink or the spill file)? One
    /// warning is enough: the recording itself says what is missing.
    pub fn warn_once(&mut self) -> bool {
        !std::mem::replace(&mut self.warned, true)
    }

    /// A handle for readers of the file (live viewers).
    pub fn reader(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }

    /// Appends one whole line that carries `wire` bytes of stream `ix`.
    pub fn line(&mut self, line: &[u8], ix: StreamIx, wire: u64) {
        self.parts(&[line], ix, wire);
    }

    /// Appends one line given in pieces (head, body, tail).
    pub fn parts(&mut self, parts: &[&[u8]], ix: StreamIx, wire: u64) {
        if let Some(f) = &mut self.failure {
            if wire == 0 {
                f.control(&parts.concat());
            } else {
                f.lost[ix] += wire;
            }
            return;
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let end = self.stage.end() + len as u64;
        self.reserve.ahead(&self.file, self.stage.end(), end);
        self.lines.push_back(Pending { end, ix, wire });
        let mut r = Ok(());
        for p in parts {
            r = r.and_then(|()| self.stage.push(&self.file, p));
        }
        self.settle(r);
    }

    /// Writes what is buffered, and with `wait` waits until the file holds it (otherwise
    /// its lines are committed at a later push or flush, once the disk has them); while
    /// failing, tries again now and then to recover.
    pub fn flush(&mut self, wait: bool) {
        if self.failure.is_some() {
            self.retry(false);
            return;
        }
        if self.lines.is_empty() {
            return;
        }
        let r = self.stage.flush(&self.file, wait);
        self.settle(r);
    }

    /// The end of the session: flushes, and if the disk is still failing, a last try at
    /// saying how much was lost.
    pub fn finish(&mut self) {
        self.flush(true);
        if self.failure.is_some() {
            self.retry(true);
        }
        self.reserve.trim(&self.file, self.committed);
    }

    /// Commits the lines the file now holds whole, or after a failed write, fails.
    fn settle(&mut self, r: std::io::Result<()>) {
        if let Err(e) = r {
            return self.fail(&e);
        }
        let written = self.stage.written();
        let mut committed = None;
        while let Some(line) = self.lines.front().filter(|l| l.end <= written) {
            committed = Some(line.end);
            self.lines.pop_front();
        }
        if let Some(end) = committed {
            self.commit(end);
        }
    }

    /// The file holds complete lines up to `end`: readers may read that far.
    fn commit(&mut self, end: u64) {
        self.committed = end;
        if let Some(feed) = &self.feed {
            feed.advance(end);
        }
    }

    fn fail(&mut self, e: &std::io::Error) {
        // A torn line would make the rest of the file unreadable: cut back to the last
        // complete one (which also frees the space the torn part took).
        let _ = self.file.set_len(self.committed);
        self.reserve.stop();
        let reason = crate::session::io_message(e);
        if !std::mem::replace(&mut self.warned, true) {
            let what = self
                .path
                .as_ref()
                .map_or("the live feed's file".to_owned(), |p| {
                    format!("'{}'", p.display())
                });
            eprintln!(
                "rpctap: warning: recording to {what} failed: {reason}; forwarding continues, \
                 and the recording will say how many bytes it is missing"
            );
        }
        let mut failure = Failure {
            reason,
            lost: [0; 3],
            pending: Vec::new(),
            last_try: Instant::now(),
        };
        self.salvage(&mut failure);
        self.failure = Some(failure);
        self.stage.reset(self.committed);
    }

    /// After a failed write: the traffic of the lines not committed is lost, but those
    /// without traffic (the session line, exit, marks) are kept, in order among the losses.
    fn salvage(&mut self, f: &mut Failure) {
        let (base, staged) = self.stage.staged();
        let mut start = self.committed;
        for line in self.lines.drain(..) {
            let at = |end: u64| end.checked_sub(base).and_then(|n| usize::try_from(n).ok());
            let held = at(start).zip(at(line.end));
            match held.and_then(|(a, b)| staged.get(a..b)) {
                Some(bytes) if line.wire == 0 => f.control(bytes),
                _ => f.lost[line.ix] += line.wire,
            }
            start = line.end;
        }
    }

    /// Tries to write the lines of the failure; on success, recording resumes.
    fn retry(&mut self, now: bool) {
        let Some(f) = &mut self.failure else { return };
        if !now && f.last_try.elapsed() < RETRY {
            return;
        }
        f.last_try = Instant::now();
        f.close_gaps();
        if let Ok(()) = self.file.write_all_at(&f.pending, self.committed) {
            let end = self.committed + f.pending.len() as u64;
            self.failure = None;
            self.commit(end);
            self.stage.reset(end);
            self.reserve.reset();
        } else {
            let _ = self.file.set_len(self.committed);
        }
    }
}

/// Which stream a direction's bytes count against.
pub fn stream_of(dir: Dir) -> StreamIx {
    dir as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_disk_reserved_ahead_is_given_back_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        let file = File::create_new(&path).unwrap();
        let mut sink = FileSink::new(Some(path.clone()), file);
        sink.line(b"{\"t\":1}\n", 0, 1);
        sink.parts(&[b"{\"big\":\"", &vec![b'x'; 64 * 1024], b"\"}\n"], 1, 1);
        let reserved = std::fs::metadata(&path).unwrap().blocks() * 512;
        sink.finish();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 8 + 64 * 1024 + 11, "whole lines, nothing more");
        assert!(
            meta.blocks() * 512 < reserved.max(1 << 20),
            "reserved {reserved}, left {}",
            meta.blocks() * 512
        );
    }
}
