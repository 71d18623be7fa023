//! The tap's spill file: where chunks wait on disk while the tap's memory is full. An
//! unnamed temporary file (nothing to clean up, invisible to other users) next to the
//! recording, holding records `[lane][time][length][bytes]` in the order they were
//! offered; read back in that order, and emptied whenever everything in it has been read.
//!
//! Not responsible for: when to spill, or the marks that tell the recorder where the
//! records are in the queue (`tap`).

use super::pump::Lane;
use crate::record::Micros;
use bytes::{Bytes, BytesMut};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

/// A record's header: lane (1), time in µs (8), length (4).
pub(super) const HEAD: usize = 13;

pub(super) struct Spill {
    /// Created at the first chunk that needs it.
    file: Option<Arc<File>>,
    /// Where the next record goes (bytes of complete records so far).
    pub(super) end: u64,
    /// How far the recorder has read.
    pub(super) read: u64,
    /// Where the file is created: the recording's directory, else the temporary directory.
    dir: Option<PathBuf>,
}

/// One record read back.
pub enum SpillItem {
    Data(Lane, Micros, Bytes),
    Lost(Lane, Micros, u64, io::ErrorKind),
    /// The rest of the spill could not be read: this many bytes (records included).
    Unreadable(u64),
}

impl Spill {
    pub(super) fn new(dir: Option<PathBuf>) -> Spill {
        Spill {
            file: None,
            end: 0,
            read: 0,
            dir,
        }
    }

    /// Appends one record, returning the new end. A failed write leaves `end` where it
    /// was, so the next record overwrites the torn one.
    pub(super) fn append(&mut self, lane: Lane, t: Micros, bytes: &[u8]) -> io::Result<u64> {
        let file = self.file()?;
        let head = head(lane, t, bytes.len())?;
        file.write_all_at(&head, self.end)?;
        file.write_all_at(bytes, self.end + HEAD as u64)?;
        self.end += (HEAD + bytes.len()) as u64;
        Ok(self.end)
    }

    /// The same for the `n` bytes at the head of pipe `src`, spliced into the file: they
    /// never pass through this process. On failure, also how many of them are still in
    /// the pipe.
    pub(super) fn append_pipe(
        &mut self,
        lane: Lane,
        t: Micros,
        src: &File,
        n: usize,
    ) -> Result<u64, (io::Error, usize)> {
        let (file, head) = match self.file().and_then(|f| Ok((f, head(lane, t, n)?))) {
            Ok(ok) => ok,
            Err(e) => return Err((e, n)),
        };
        let body = self.end + HEAD as u64;
        let mut moved = 0;
        while moved < n {
            match crate::os::splice_to_file(src, &file, body + moved as u64, n - moved) {
                Ok(0) => return Err((io::ErrorKind::WriteZero.into(), n - moved)),
                Ok(k) => moved += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((e, n - moved)),
            }
        }
        file.write_all_at(&head, self.end).map_err(|e| (e, 0))?;
        self.end = body + n as u64;
        Ok(self.end)
    }

    /// The file and where the recorder's reading stands, to read without holding the tap.
    pub(super) fn reader(&self) -> (Option<Arc<File>>, u64) {
        (self.file.clone(), self.read)
    }

    /// Once everything written has been read, empties the file, so a long session's
    /// spill costs disk only for as long as the recorder is behind.
    pub(super) fn empty_if_read(&mut self) {
        if self.end > 0 && self.read == self.end {
            if let Some(f) = &self.file {
                if f.set_len(0).is_ok() {
                    self.end = 0;
                    self.read = 0;
                }
            }
        }
    }

    /// Closes the file: it is unnamed, so that frees its space at once.
    pub(super) fn close(&mut self) {
        self.file = None;
    }

    fn file(&mut self) -> io::Result<Arc<File>> {
        if let Some(file) = &self.file {
            return Ok(file.clone());
        }
        let file = match &self.dir {
            Some(dir) => tempfile::tempfile_in(dir).or_else(|_| tempfile::tempfile()),
            None => tempfile::tempfile(),
        }?;
        let file = Arc::new(file);
        self.file = Some(file.clone());
        Ok(file)
    }
}

fn head(lane: Lane, t: Micros, len: usize) -> io::Result<[u8; HEAD]> {
    let mut head = [0u8; HEAD];
    head[0] = lane as u8;
    head[1..9].copy_from_slice(&t.0.to_le_bytes());
    let len = u32::try_from(len).map_err(io::Error::other)?;
    head[9..13].copy_from_slice(&len.to_le_bytes());
    Ok(head)
}

/// Reads the records of `file` from `at` up to `end`, in order, returning where it
/// stopped. A record that can't be read back (the disk failed under it) is reported as
/// lost bytes of its lane.
pub(super) fn read(file: &File, mut at: u64, end: u64, mut each: impl FnMut(SpillItem)) -> u64 {
    let mut head = [0u8; HEAD];
    while at < end {
        if file.read_exact_at(&mut head, at).is_err() {
            each(SpillItem::Unreadable(end - at));
            return end;
        }
        let lane = match head[0] {
            0 => Lane::C2s,
            1 => Lane::S2c,
            _ => Lane::Stderr,
        };
        let t = Micros(i64::from_le_bytes(
            head[1..9].try_into().unwrap_or_default(),
        ));
        let len = u32::from_le_bytes(head[9..13].try_into().unwrap_or_default()) as usize;
        let mut body = BytesMut::zeroed(len);
        at += HEAD as u64;
        match file.read_exact_at(&mut body, at) {
            Ok(()) => each(SpillItem::Data(lane, t, body.freeze())),
            Err(e) => each(SpillItem::Lost(lane, t, len as u64, e.kind())),
        }
        at += len as u64;
    }
    at
}
