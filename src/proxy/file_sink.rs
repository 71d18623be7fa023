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

use super::reserve::Reserve;
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
    /// The disk reserved ahead of the end, given back at `finish`.
    reserve: Reserve,
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
        if len >= DIRECT {
            self.flush();
            if self.failure.is_none() {
                self.reserve_for(len);
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
        let len = self.buf.len();
        self.reserve_for(len);
        let r = self.file.write_all(&self.buf);
        let buffered = std::mem::take(&mut self.buffered);
        match r {
            Ok(()) => self.commit(len as u64),
            Err(e) => {
                self.fail(&e, [0; 3]);
                self.salvage(buffered);
            }
        }
        self.buf.clear();
    }

    /// The end of the session: flushes, and if the disk is still failing, a last try at
    /// saying how much was lost.
    pub fn finish(&mut self) {
        self.flush();
        if self.failure.is_some() {
            self.retry(true);
        }
        self.reserve.trim(&self.file, self.committed);
    }

    fn reserve_for(&mut self, len: usize) {
        let end = self.committed + len as u64;
        self.reserve.ahead(&self.file, self.committed, end);
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
        self.failure = Some(Failure {
            reason,
            lost,
            pending: Vec::new(),
            last_try: Instant::now(),
        });
    }

    /// After a buffer of lines could not be written: its traffic is lost (`buffered`
    /// bytes per stream), but its lines without traffic are kept — the session line
    /// first, since a recording must start with it, the others after the losses.
    fn salvage(&mut self, buffered: [u64; 3]) {
        let Some(f) = &mut self.failure else { return };
        let lines = self.buf.split_inclusive(|&b| b == b'\n');
        for line in lines.clone().filter(|l| l.starts_with(b"{\"rpctap\"")) {
            f.control(line);
        }
        f.lost = buffered;
        for line in lines.filter(|l| l.starts_with(b"{\"type\"")) {
            f.control(line);
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
        if let Ok(()) = self.file.write_all(&f.pending) {
            let len = f.pending.len() as u64;
            self.failure = None;
            self.commit(len);
            self.reserve.reset();
        } else {
            let _ = self.file.set_len(self.committed);
            let _ = std::io::Seek::seek(&mut self.file, std::io::SeekFrom::Start(self.committed));
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
        sink.parts(&[b"{\"big\":\"", &vec![b'x'; DIRECT], b"\"}\n"], 1, 1);
        let reserved = std::fs::metadata(&path).unwrap().blocks() * 512;
        sink.finish();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(
            meta.len(),
            8 + DIRECT as u64 + 11,
            "whole lines, nothing more"
        );
        assert!(
            meta.blocks() * 512 < reserved.max(1 << 20),
            "reserved {reserved}, left {}",
            meta.blocks() * 512
        );
    }
}
