//! The recording file as the recorder writes it: whole lines only, flushed by the recorder
//! at least every 100 ms, and still a readable recording when the disk fails under it.
//!
//! Small lines are gathered in a buffer; a large message is written straight from the
//! decoder's buffer with one vectored write (its line's head, the body, the tail), so its
//! bytes are copied once, by the kernel. The file's length after each complete write is
//! `committed`, always the end of a line: live viewers read the file up to it.
//!
//! When a write fails (disk full, I/O error) the file is cut back to `committed`, so no
//! torn line is left, the shim warns once on stderr, and from then on what can't be
//! written is counted per stream. Every second, and at the end, the sink tries to write
//! `gap` lines with those counts; once one is written, recording goes on.

use crate::live::Feed;
use crate::record::{encode_event, Dir, Event, Gap, Micros};
use std::fs::File;
use std::io::{IoSlice, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lines are gathered up to this many bytes before a write.
const BUFFER: usize = 256 * 1024;
/// A line at least this long bypasses the buffer.
const DIRECT: usize = 64 * 1024;
/// While failing, how often writing is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The stream a line's bytes came from: c2s, s2c, stderr (for counting what was lost).
pub type StreamIx = usize;
pub const STDERR: StreamIx = 2;

struct Failure {
    reason: String,
    /// Wire bytes not recorded since the failure, per stream.
    lost: [u64; 3],
    /// Lines that carry no traffic (exit, gaps, undelivered marks), kept to be written
    /// after the gap lines once the disk takes writes again.
    control: Vec<u8>,
    last_try: Instant,
}

/// At most this much of control lines is kept while failing.
const MAX_CONTROL: usize = 64 * 1024;

/// The recording file (or, with `--no-record`, an unnamed temporary file that only
/// serves live viewers their backlog).
pub struct FileSink {
    /// `None` for the unnamed temporary file.
    pub path: Option<PathBuf>,
    file: File,
    buf: Vec<u8>,
    /// Wire bytes of the lines in `buf`, per stream: lost if `buf` can't be written.
    buffered: [u64; 3],
    /// The file's length: complete lines only.
    committed: u64,
    failure: Option<Failure>,
    warned: bool,
    feed: Option<Arc<Feed>>,
}

impl FileSink {
    /// `file` must be open for reading too: live viewers read the recording from it.
    pub fn new(path: Option<PathBuf>, file: File) -> FileSink {
        FileSink {
            path,
            file,
            buf: Vec::with_capacity(BUFFER),
            buffered: [0; 3],
            committed: 0,
            failure: None,
            warned: false,
            feed: None,
        }
    }

    /// Live viewers follow the file through `feed`, which learns each new committed length.
    pub fn set_feed(&mut self, feed: Arc<Feed>) {
        feed.advance(self.committed);
        self.feed = Some(feed);
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
            f.lost[ix] += wire;
            let len: usize = parts.iter().map(|p| p.len()).sum();
            if wire == 0 && f.control.len() + len <= MAX_CONTROL {
                parts.iter().for_each(|p| f.control.extend_from_slice(p));
            }
            return;
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len >= DIRECT {
            self.flush();
            if self.failure.is_none() {
                let r = write_all_vectored(&mut self.file, parts);
                self.settle(r, len, ix, wire);
            }
            return;
        }
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        self.buffered[ix] += wire;
        if self.buf.len() >= BUFFER {
            self.flush();
        }
    }

    /// Writes what is buffered; while failing, tries again now and then to recover.
    pub fn flush(&mut self) {
        if self.failure.is_some() {
            self.retry(false);
            return;
        }
        if self.buf.is_empty() {
            return;
        }
        let r = self.file.write_all(&self.buf);
        let len = self.buf.len();
        self.buf.clear();
        let buffered = std::mem::take(&mut self.buffered);
        match r {
            Ok(()) => self.commit(len as u64),
            Err(e) => self.fail(&e, buffered),
        }
    }

    /// The end of the session: flushes, and if the disk is still failing, a last try at
    /// saying how much was lost.
    pub fn finish(&mut self) {
        self.flush();
        if self.failure.is_some() {
            self.retry(true);
        }
    }

    fn settle(&mut self, r: std::io::Result<()>, len: usize, ix: StreamIx, wire: u64) {
        match r {
            Ok(()) => self.commit(len as u64),
            Err(e) => {
                let mut lost = [0; 3];
                lost[ix] = wire;
                self.fail(&e, lost);
            }
        }
    }

    fn commit(&mut self, len: u64) {
        self.committed += len;
        if let Some(feed) = &self.feed {
            feed.advance(self.committed);
        }
    }

    fn fail(&mut self, e: &std::io::Error, lost: [u64; 3]) {
        // A torn line would make the rest of the file unreadable: cut back to the last
        // complete one (which also frees the space the torn part took).
        let _ = self.file.set_len(self.committed);
        let _ = std::io::Seek::seek(&mut self.file, std::io::SeekFrom::Start(self.committed));
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
        self.failure = Some(Failure {
            reason,
            lost,
            control: Vec::new(),
            last_try: Instant::now(),
        });
    }

    /// Tries to write the gap lines of the failure; on success, recording resumes.
    fn retry(&mut self, now: bool) {
        let Some(f) = &mut self.failure else { return };
        if !now && f.last_try.elapsed() < RETRY {
            return;
        }
        f.last_try = Instant::now();
        let mut lines = Vec::new();
        let t = Micros::now();
        for (ix, &bytes) in f.lost.iter().enumerate().filter(|(_, &b)| b > 0) {
            let (dir, stream) = match ix {
                0 => (Some(Dir::C2s), "c2s"),
                1 => (Some(Dir::S2c), "s2c"),
                _ => (None, "stderr"),
            };
            let reason = format!(
                "the recording's disk failed ({}): {bytes} bytes of {stream} were forwarded but not recorded",
                f.reason
            );
            encode_event(
                &mut lines,
                &Event::Gap(Gap {
                    t,
                    dir,
                    bytes,
                    reason,
                }),
            );
        }
        lines.extend_from_slice(&f.control);
        match self.file.write_all(&lines) {
            Ok(()) => {
                self.failure = None;
                self.commit(lines.len() as u64);
            }
            Err(_) => {
                let _ = self.file.set_len(self.committed);
                let _ =
                    std::io::Seek::seek(&mut self.file, std::io::SeekFrom::Start(self.committed));
            }
        }
    }
}

/// Writes every byte of `parts` with as few `writev` calls as the kernel allows.
fn write_all_vectored(file: &mut File, parts: &[&[u8]]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let mut slices = &mut slices[..];
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Which stream a direction's bytes count against.
pub fn stream_of(dir: Dir) -> StreamIx {
    dir as usize
}
