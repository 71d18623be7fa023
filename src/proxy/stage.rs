//! The recording's bytes on their way to its file: gathered in blocks and written in
//! large pieces, with direct I/O (`O_DIRECT`) where the file system takes it, by a thread
//! of their own (`disk_writer`) so that the recorder never waits for the disk while it
//! has a free block.
//!
//! Why direct: a recording is written once and read back rarely (live viewers read its
//! tail, `cat` reads it later), and writing gigabytes of it through the page cache costs the
//! recorder a fresh page per 4 KiB, taken from whatever else the machine caches. Measured
//! here (ext4 in a VM with free page reporting), 4 GiB in 1 MiB writes cost 2.8–5.7 s of
//! CPU through the page cache and 0.2 s direct; the disk took it at 1.7 GB/s either way.
//!
//! Direct writes must start on an `ALIGN` boundary of the file, from memory aligned alike,
//! and be whole blocks, so the buffer always starts on a block boundary of the file: whole
//! blocks are handed to the writer as the buffer fills, and the last partial block stays in
//! it for the next write. A flush writes that partial block through the page cache (and,
//! when asked to, waits for the writer first); the next direct write of its block
//! replaces it (the kernel writes back and drops the cached page first). Where direct I/O
//! is refused, or after a disk failure, everything goes through the page cache, as
//! whole-buffer writes on the recorder's thread.
//!
//! When the disk is slower than the recorder, the recorder waits once all `BLOCKS` are
//! in flight: memory stays at `BLOCKS` MiB, and the pumps spill what the recorder's pipes
//! can't hold (`tap`).

use super::disk_writer::{Block, DiskWriter, Write};
pub(super) use super::disk_writer::{ALIGN, SIZE};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Blocks at most: the one being filled and the one the writer holds. A third cost a MiB of
/// the 20 MB steady-state budget and moved no throughput figure (2000 × 1 MiB, 2 rounds).
const BLOCKS: usize = 2;

pub(super) struct Stage {
    buf: Block,
    /// Bytes in the buffer.
    len: usize,
    /// Where the buffer's first byte goes in the file (on an `ALIGN` boundary while direct).
    base: u64,
    /// How far the file holds what was pushed, with nothing missing before
    /// (… ≤ `base + len`).
    written: u64,
    /// How far the buffer's bytes were written through the page cache (`base` ≤ … ≤
    /// `base + len` once the blocks before `base` are in the file): `written` once no write
    /// is in flight.
    tail: u64,
    /// The writer of whole blocks, direct; `None`: through the page cache.
    direct: Option<DiskWriter>,
    /// Blocks back from the writer, for the next ones.
    spare: Vec<Block>,
    /// Blocks that exist (the buffer, the spare ones, those in flight).
    blocks: usize,
    /// After a failed write: the bytes the writer gave back unwritten, and where the first
    /// goes in the file (for `staged`).
    unwritten: Vec<u8>,
    unwritten_at: u64,
}

impl Stage {
    /// A buffer for bytes that go to the file from `end` on, direct through `direct` if
    /// given (and `end` is on a block boundary).
    pub(super) fn new(end: u64, direct: Option<File>) -> Stage {
        let direct = direct
            .filter(|_| end % ALIGN as u64 == 0)
            .and_then(|f| DiskWriter::spawn(f).ok());
        Stage {
            buf: Block::new(),
            len: 0,
            base: end,
            written: end,
            tail: end,
            direct,
            spare: Vec::new(),
            blocks: 1,
            unwritten: Vec::new(),
            unwritten_at: end,
        }
    }

    /// Where the next byte pushed goes in the file.
    pub(super) fn end(&self) -> u64 {
        self.base + self.len as u64
    }

    /// How far the file holds what was pushed.
    pub(super) fn written(&self) -> u64 {
        self.written
    }

    /// Whether whole blocks are written direct.
    #[cfg(test)]
    pub(super) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// After a failed write: what was pushed and is not in the file, and where its first
    /// byte goes.
    pub(super) fn staged(&self) -> (u64, Vec<u8>) {
        let buf = &self.buf.bytes()[..self.len];
        if self.unwritten_at + self.unwritten.len() as u64 == self.base {
            (self.unwritten_at, [&self.unwritten[..], buf].concat())
        } else {
            // Blocks were lost with the writer: only the buffer's bytes are known.
            (self.base, buf.to_vec())
        }
    }

    /// Appends `bytes`, writing whenever the buffer fills.
    pub(super) fn push(&mut self, file: &File, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = (SIZE - self.len).min(bytes.len());
            self.buf.bytes_mut()[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            if self.len == SIZE {
                let r = self.write(file, None);
                self.abandon_on(r)?;
            }
        }
        let r = self.collect(file, false);
        self.abandon_on(r)
    }

    /// Writes everything pushed so far into the file: `written` is the end once this
    /// returns if `wait`, or once the writer is done with the blocks it holds (seen at a
    /// later push or flush).
    pub(super) fn flush(&mut self, file: &File, wait: bool) -> io::Result<()> {
        let r = self.write(file, Some(wait));
        self.abandon_on(r)
    }

    /// After a failed write, nothing may reach the file any more (it is cut back): the
    /// writer is drained, and what it held is kept for `staged`.
    fn abandon_on(&mut self, r: io::Result<()>) -> io::Result<()> {
        if r.is_err() {
            while let Some(Ok(w)) = self.direct.as_mut().and_then(|d| d.next(true)) {
                self.keep_unwritten(&w);
            }
            self.direct = None;
        }
        r
    }

    /// Starts again at `end` through the page cache (after the disk failed: what the file
    /// holds past `end` was cut off).
    pub(super) fn reset(&mut self, end: u64) {
        self.direct = None;
        self.unwritten.clear();
        self.unwritten_at = end;
        self.len = 0;
        self.base = end;
        self.written = end;
        self.tail = end;
    }

    /// Hands the whole blocks to the writer, and writes the rest through the page cache
    /// when flushing (`Some(wait)`: waiting for the writer too) or when not direct; keeps
    /// what direct writes still need (the last partial block). The page cache takes the
    /// rest while the writer still holds blocks before it: their ranges are apart.
    fn write(&mut self, file: &File, flush: Option<bool>) -> io::Result<()> {
        let whole = self.len - self.len % ALIGN;
        if self.direct.is_some() && whole > 0 {
            self.hand_over(file, whole)?;
        }
        if flush.is_some() || self.direct.is_none() {
            self.collect(file, flush.unwrap_or(false) || self.direct.is_none())?;
            let from = (self.tail.checked_sub(self.base))
                .and_then(|n| usize::try_from(n).ok())
                .map_or(0, |n| n.min(self.len));
            file.write_all_at(&self.buf.bytes()[from..self.len], self.base + from as u64)?;
            self.tail = self.end();
            self.settle_tail();
            if self.direct.is_none() {
                self.base += self.len as u64;
                self.len = 0;
            }
        }
        Ok(())
    }

    /// With no write in flight, the file holds everything up to `tail`.
    fn settle_tail(&mut self) {
        if self.direct.as_ref().is_none_or(|d| d.in_flight() == 0) {
            self.written = self.written.max(self.tail);
        }
    }

    /// Gives the writer the buffer's first `whole` bytes; what follows them starts the next
    /// buffer.
    fn hand_over(&mut self, file: &File, whole: usize) -> io::Result<()> {
        let mut next = match self.spare.pop() {
            Some(b) => b,
            None if self.blocks < BLOCKS => {
                self.blocks += 1;
                Block::new()
            }
            None => self.wait_for_block(file)?,
        };
        let rest = self.len - whole;
        next.bytes_mut()[..rest].copy_from_slice(&self.buf.bytes()[whole..self.len]);
        let full = std::mem::replace(&mut self.buf, next);
        let (at, len) = (self.base, whole);
        self.base += whole as u64;
        self.len = rest;
        self.tail = self.tail.max(self.base);
        match &mut self.direct {
            Some(writer) => match writer.send(full, at, len) {
                Ok(()) => Ok(()),
                Err(w) => self.returned(file, w),
            },
            // Refused while waiting for a block: nothing is in flight any more.
            None => self.returned(file, Write::refused(full, at, len)),
        }
    }

    /// Waits for the writer to give a block back (all of them are in flight).
    fn wait_for_block(&mut self, file: &File) -> io::Result<Block> {
        loop {
            self.collect_one(file, true)?;
            if let Some(b) = self.spare.pop() {
                return Ok(b);
            }
        }
    }

    /// Takes the writes the writer is done with (waiting for all of them if `wait`).
    fn collect(&mut self, file: &File, wait: bool) -> io::Result<()> {
        while self.collect_one(file, wait)? {}
        Ok(())
    }

    /// Takes one write back; false if none was (none in flight, or not done yet).
    fn collect_one(&mut self, file: &File, wait: bool) -> io::Result<bool> {
        match self.direct.as_mut().and_then(|d| d.next(wait)) {
            None => Ok(false),
            Some(Ok(w)) => self.returned(file, w).map(|()| true),
            // The writer is gone, and the blocks it held with it.
            Some(Err(e)) => {
                self.direct = None;
                Err(e)
            }
        }
    }

    /// A write back from the writer. Refused (alignment, a file system without direct
    /// I/O): redone through the page cache, as are the writes still in flight after it,
    /// and everything from then on. Failed: its bytes kept for `staged`, and the error
    /// returned (`abandon_on` drains the writer).
    fn returned(&mut self, file: &File, w: Write) -> io::Result<()> {
        if !is_refused(&w.result) {
            return self.settle_write(w);
        }
        let mut writes = vec![w];
        while let Some(Ok(l)) = self.direct.as_mut().and_then(|d| d.next(true)) {
            writes.push(l);
        }
        self.direct = None;
        let mut r = Ok(());
        for mut w in writes {
            if r.is_err() {
                self.keep_unwritten(&w);
                continue;
            }
            if is_refused(&w.result) {
                w.result = file.write_all_at(&w.block.bytes()[..w.len], w.at);
            }
            r = self.settle_write(w);
        }
        r
    }

    /// A write done (or failed): the file holds more, or its bytes are kept for `staged`.
    fn settle_write(&mut self, mut w: Write) -> io::Result<()> {
        match std::mem::replace(&mut w.result, Ok(())) {
            Ok(()) if self.unwritten.is_empty() => {
                self.written = self.written.max(w.at + w.len as u64);
                self.settle_tail();
                self.spare.push(w.block);
                Ok(())
            }
            Ok(()) => {
                self.keep_unwritten(&w);
                Ok(())
            }
            Err(e) => {
                self.keep_unwritten(&w);
                Err(e)
            }
        }
    }

    fn keep_unwritten(&mut self, w: &Write) {
        if self.unwritten.is_empty() {
            self.unwritten_at = w.at;
        }
        self.unwritten.extend_from_slice(&w.block.bytes()[..w.len]);
    }
}

fn is_refused(r: &io::Result<()>) -> bool {
    r.as_ref()
        .is_err_and(|e| e.raw_os_error() == Some(libc::EINVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(direct: bool) {
        let dir = tempfile::tempdir().unwrap();
        let file = tempfile::tempfile_in(dir.path()).unwrap();
        let reopened = crate::os::reopen_direct(&file).ok().filter(|_| direct);
        let mut stage = Stage::new(0, reopened);
        let mut expected = Vec::new();
        // Pieces of every size around the block and buffer sizes, flushed now and then.
        let sizes = [
            1,
            200,
            ALIGN - 1,
            ALIGN,
            ALIGN + 1,
            3 * SIZE + 7,
            13,
            SIZE - 5,
            1,
        ];
        for (k, &n) in sizes.iter().cycle().take(40).enumerate() {
            let piece: Vec<u8> = (0..n)
                .map(|j| u8::try_from((j * 7 + k) % 251).unwrap())
                .collect();
            stage.push(&file, &piece).unwrap();
            expected.extend_from_slice(&piece);
            if k % 3 == 1 {
                stage.flush(&file, false).unwrap();
            }
            if k % 3 == 0 {
                stage.flush(&file, true).unwrap();
                assert_eq!(stage.written(), expected.len() as u64);
                let mut got = vec![0; expected.len()];
                file.read_exact_at(&mut got, 0).unwrap();
                assert!(got == expected, "what is flushed is in the file");
            }
        }
        stage.flush(&file, true).unwrap();
        let mut got = vec![0; expected.len()];
        file.read_exact_at(&mut got, 0).unwrap();
        assert!(got == expected);
        assert_eq!(file.metadata().unwrap().len(), expected.len() as u64);
        if direct && !stage.is_direct() {
            eprintln!("note: this file system refused direct I/O; checked through the page cache");
        }
    }

    #[test]
    fn the_file_holds_every_byte_pushed_once_flushed_direct() {
        check(true);
    }

    #[test]
    fn the_file_holds_every_byte_pushed_once_flushed_through_the_page_cache() {
        check(false);
    }

    #[test]
    fn direct_io_is_used_where_the_temporary_directory_takes_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = tempfile::tempfile_in(dir.path()).unwrap();
        let Ok(direct) = crate::os::reopen_direct(&file) else {
            eprintln!("skipped: cannot reopen for direct I/O here");
            return;
        };
        let mut stage = Stage::new(0, Some(direct));
        stage.push(&file, &vec![b'x'; SIZE]).unwrap();
        assert_eq!(stage.staged().1.len(), 0, "a full buffer is handed over");
        stage.flush(&file, true).unwrap();
        assert_eq!(stage.written(), SIZE as u64);
        assert!(stage.is_direct());
    }

    #[test]
    fn after_a_failed_write_every_byte_not_in_the_file_is_still_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec");
        let file = File::create(&path).unwrap();
        // Writes through a read-only handle fail as a disk would, after the hand-over.
        let mut stage = Stage::new(0, Some(File::open(&path).unwrap()));
        let bytes: Vec<u8> = (0..4 * SIZE + 100)
            .map(|j| u8::try_from(j % 251).unwrap())
            .collect();
        let r = stage
            .push(&file, &bytes)
            .and_then(|()| stage.flush(&file, true));
        assert!(r.is_err(), "the failure is reported");
        let (at, staged) = stage.staged();
        let end = usize::try_from(stage.end()).unwrap();
        assert!(end >= 2 * SIZE, "blocks were in flight when it failed");
        assert_eq!((at, stage.written()), (0, 0));
        assert!(staged == bytes[..end], "what was pushed, in order");
        // From then on, through the page cache.
        stage.reset(0);
        stage.push(&file, &bytes).unwrap();
        stage.flush(&file, true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
}
