//! The recording's direct writes, on a thread of their own: a direct write returns only
//! once the disk has the bytes (0.6 ms per MiB here), and a recorder that waited for each
//! one let its pipe fill meanwhile, so the pumps spilled most of the traffic to disk
//! through the page cache (measured at 2,000 × 1 MiB: about 40,000 of the 64,000 chunks
//! of a run spilled, and none once the recorder no longer waited). The recorder hands
//! over a full block and goes on decoding; the writer gives the block back when it is
//! written, in the order the blocks were handed over.
//!
//! Not responsible for: what goes into a block, or what happens when a write fails
//! (`stage`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

/// Direct writes are aligned to this (in the file and in memory): the largest logical
/// block size of common disks.
pub(super) const ALIGN: usize = 4096;
/// A block's size: what one write takes at most.
pub(super) const SIZE: usize = 1 << 20;

/// `SIZE` bytes of memory aligned to `ALIGN`.
pub(super) struct Block {
    /// `SIZE + ALIGN` bytes, of which `SIZE` from `start` on are the block.
    mem: Vec<u8>,
    start: usize,
}

impl Block {
    pub(super) fn new() -> Block {
        let mem = vec![0; SIZE + ALIGN];
        let start = mem.as_ptr().align_offset(ALIGN);
        Block { mem, start }
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.mem[self.start..self.start + SIZE]
    }

    pub(super) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.mem[self.start..self.start + SIZE]
    }
}

/// A block's first `len` bytes, for the file from `at` on; back from the writer with how
/// the write went.
pub(super) struct Write {
    pub block: Block,
    pub at: u64,
    pub len: usize,
    pub result: io::Result<()>,
}

impl Write {
    /// A write to do through the page cache instead (direct I/O refused).
    pub(super) fn refused(block: Block, at: u64, len: usize) -> Write {
        Write {
            block,
            at,
            len,
            result: Err(io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }
}

pub(super) struct DiskWriter {
    /// `None` once dropping: the thread ends after the writes handed over.
    jobs: Option<Sender<Write>>,
    done: Receiver<Write>,
    thread: Option<JoinHandle<()>>,
    /// Writes handed over and not given back yet.
    in_flight: usize,
}

impl DiskWriter {
    /// A writer of `file` (opened for direct I/O) on a thread of its own.
    pub(super) fn spawn(file: File) -> io::Result<DiskWriter> {
        let (jobs, rx) = channel::<Write>();
        let (tx, done) = channel();
        let thread = std::thread::Builder::new()
            .name("recording".into())
            .spawn(move || {
                for mut w in rx {
                    w.result = file.write_all_at(&w.block.bytes()[..w.len], w.at);
                    if tx.send(w).is_err() {
                        break;
                    }
                }
            })?;
        Ok(DiskWriter {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
            in_flight: 0,
        })
    }

    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Hands the first `len` bytes of `block` over, for the file from `at` on.
    pub(super) fn send(&mut self, block: Block, at: u64, len: usize) -> Result<(), Write> {
        let w = Write {
            block,
            at,
            len,
            result: Ok(()),
        };
        let sent = match &self.jobs {
            Some(jobs) => jobs.send(w).map_err(|e| e.0),
            None => Err(w),
        };
        match sent {
            Ok(()) => {
                self.in_flight += 1;
                Ok(())
            }
            Err(mut w) => {
                w.result = Err(gone());
                Err(w)
            }
        }
    }

    /// The next write given back: at once if one is done (`wait` false), or waiting for it;
    /// `None` when none is in flight (or, without `wait`, none is done yet).
    pub(super) fn next(&mut self, wait: bool) -> Option<io::Result<Write>> {
        if self.in_flight == 0 {
            return None;
        }
        let w = if wait {
            self.done.recv().map_err(|_| gone())
        } else {
            self.done.try_recv().ok().map(Ok)?
        };
        self.in_flight -= 1;
        Some(w)
    }
}

fn gone() -> io::Error {
    io::Error::other("the recording's writer thread ended")
}

impl Drop for DiskWriter {
    /// Lets the writes handed over finish before the file is closed.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
