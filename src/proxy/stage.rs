//! The recording's bytes on their way to its file: gathered in one buffer and written in
//! large pieces, with direct I/O (`O_DIRECT`) where the file system takes it.
//!
//! Why direct: a recording is written once and read back rarely (live viewers read its
//! tail, `cat` reads it later), and writing gigabytes of it through the page cache costs the
//! recorder a fresh page per 4 KiB, taken from whatever else the machine caches. Measured
//! here (ext4 in a VM with free page reporting), 4 GiB in 1 MiB writes cost 2.8–5.7 s of
//! CPU through the page cache and 0.2 s direct; the disk took it at 1.7 GB/s either way.
//!
//! Direct writes must start on an `ALIGN` boundary of the file, from memory aligned alike,
//! and be whole blocks, so the buffer always starts on a block boundary of the file: whole
//! blocks are written direct as the buffer fills, and the last partial block stays in it
//! for the next write. A flush (which readers wait for) writes that partial block through
//! the page cache; the next direct write of its block replaces it (the kernel writes back
//! and drops the cached page first). Where direct I/O is refused, or after a disk failure,
//! everything goes through the page cache, as whole-buffer writes.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Direct writes are aligned to this (in the file and in memory): the largest logical
/// block size of common disks.
pub(super) const ALIGN: usize = 4096;
/// The buffer's size: what one write takes at most.
const SIZE: usize = 1 << 20;

pub(super) struct Stage {
    /// `SIZE + ALIGN` bytes, of which `SIZE` from `start` on (aligned) are the buffer.
    mem: Vec<u8>,
    start: usize,
    /// Bytes in the buffer.
    len: usize,
    /// Where the buffer's first byte goes in the file (on an `ALIGN` boundary while direct).
    base: u64,
    /// How far the file holds what was pushed (`base` ≤ … ≤ `base + len`).
    written: u64,
    /// The file opened again for direct writes; `None`: through the page cache.
    direct: Option<File>,
}

impl Stage {
    /// A buffer for bytes that go to the file from `end` on, direct through `direct` if
    /// given (and `end` is on a block boundary).
    pub(super) fn new(end: u64, direct: Option<File>) -> Stage {
        let mem = vec![0; SIZE + ALIGN];
        let start = mem.as_ptr().align_offset(ALIGN);
        Stage {
            mem,
            start,
            len: 0,
            base: end,
            written: end,
            direct: direct.filter(|_| end % ALIGN as u64 == 0),
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

    /// What the buffer holds, and where its first byte goes in the file.
    pub(super) fn staged(&self) -> (u64, &[u8]) {
        (self.base, &self.mem[self.start..self.start + self.len])
    }

    /// Appends `bytes`, writing whenever the buffer fills.
    pub(super) fn push(&mut self, file: &File, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = (SIZE - self.len).min(bytes.len());
            let at = self.start + self.len;
            self.mem[at..at + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            if self.len == SIZE {
                self.write(file, false)?;
            }
        }
        Ok(())
    }

    /// Writes everything pushed so far into the file (readers see it once this returns).
    pub(super) fn flush(&mut self, file: &File) -> io::Result<()> {
        self.write(file, true)
    }

    /// Starts again at `end` through the page cache (after the disk failed: what the file
    /// holds past `end` was cut off).
    pub(super) fn reset(&mut self, end: u64) {
        self.direct = None;
        self.len = 0;
        self.base = end;
        self.written = end;
    }

    /// Writes the whole blocks direct, and everything (`all`, or when not direct) through
    /// the page cache; keeps what direct writes still need (the last partial block).
    fn write(&mut self, file: &File, all: bool) -> io::Result<()> {
        let whole = self.len - self.len % ALIGN;
        if let (Some(direct), true) = (&self.direct, whole > 0) {
            let from = self.start;
            match direct.write_all_at(&self.mem[from..from + whole], self.base) {
                Ok(()) => self.written = self.written.max(self.base + whole as u64),
                // Refused (alignment, a file system without direct I/O): the page cache.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.direct = None,
                Err(e) => return Err(e),
            }
        }
        if all || self.direct.is_none() {
            let from = usize::try_from(self.written - self.base).unwrap_or(self.len);
            let at = self.start + from;
            file.write_all_at(&self.mem[at..self.start + self.len], self.written)?;
            self.written = self.end();
        }
        let keep = if self.direct.is_some() {
            whole
        } else {
            self.len
        };
        self.mem
            .copy_within(self.start + keep..self.start + self.len, self.start);
        self.len -= keep;
        self.base += keep as u64;
        Ok(())
    }
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
            if k % 3 == 0 {
                stage.flush(&file).unwrap();
                assert_eq!(stage.written(), expected.len() as u64);
                let mut got = vec![0; expected.len()];
                file.read_exact_at(&mut got, 0).unwrap();
                assert!(got == expected, "what is flushed is in the file");
            }
        }
        stage.flush(&file).unwrap();
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
        assert_eq!(stage.written(), SIZE as u64, "a full buffer is written");
        assert_eq!(stage.staged().1.len(), 0);
    }
}
