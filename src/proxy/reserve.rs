//! Disk reserved ahead of a file's end, in steps, for the files the shim appends to (the
//! recording, the spill). A write into reserved blocks skips the filesystem's delayed
//! allocation: on ext4 here, 400 MB of 64 KiB writes took 0.055 s of CPU into reserved
//! blocks against 0.09 s without. The reservation does not change the file's size;
//! `trim` gives back what was not used.

use std::fs::File;

/// Reserved at a time.
const STEP: u64 = 16 << 20;

#[derive(Debug)]
pub(super) struct Reserve {
    /// How far the file's disk is reserved; `None` once reserving failed (a full disk, a
    /// filesystem without it): writes go on without, until `reset`.
    upto: Option<u64>,
}

impl Reserve {
    pub(super) fn new() -> Reserve {
        Reserve { upto: Some(0) }
    }

    /// Makes sure the disk is reserved up to `end`, from `from` on (the file's end).
    pub(super) fn ahead(&mut self, file: &File, from: u64, end: u64) {
        if let Some(upto) = self.upto.filter(|&u| u < end) {
            let start = upto.max(from);
            let next = end.next_multiple_of(STEP);
            self.upto = crate::os::preallocate(file, start, next - start)
                .ok()
                .map(|()| next);
        }
    }

    /// Gives back the disk reserved past `len`, the file's length, which it keeps.
    pub(super) fn trim(&mut self, file: &File, len: u64) {
        if self.upto.is_some_and(|u| u > len) {
            // Setting the length it has frees the blocks past it.
            let _ = file.set_len(len);
        }
        self.stop();
    }

    /// No more reserving (the disk failed), until `reset`.
    pub(super) fn stop(&mut self) {
        self.upto = None;
    }

    /// The file was emptied (or cut back): reserve again from its new end.
    pub(super) fn reset(&mut self) {
        self.upto = Some(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;

    fn allocated(file: &File) -> u64 {
        file.metadata().unwrap().blocks() * 512
    }

    #[test]
    fn reserves_ahead_in_steps_and_trims_to_the_length() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = tempfile::tempfile_in(dir.path()).unwrap();
        let mut r = Reserve::new();
        file.write_all(b"hello").unwrap();
        r.ahead(&file, 5, 10);
        if r.upto.is_none() {
            eprintln!("skipped: this filesystem does not reserve (fallocate)");
            return;
        }
        assert_eq!(r.upto, Some(STEP));
        assert!(allocated(&file) >= STEP, "reserved");
        assert_eq!(file.metadata().unwrap().len(), 5, "the size is kept");
        r.ahead(&file, 5, STEP + 1);
        assert_eq!(r.upto, Some(2 * STEP));
        r.trim(&file, 5);
        assert!(allocated(&file) < STEP, "given back");
        assert_eq!(file.metadata().unwrap().len(), 5);
    }
}
