//! The tap's spill: where chunks wait on disk while the tap's memory is full. Two unnamed
//! temporary files (nothing to clean up, invisible to other users) next to the recording:
//! the chunks' bytes, and an index of fixed-size entries `[lane][time][length][offset]`
//! in the order the chunks were offered; read back in that order, and emptied whenever
//! everything in them has been read.
//!
//! The layout is for the pump's sake, which pays for the write: a large chunk starts at a
//! multiple of 64 KiB (up to 1 MiB, with its size: `alignment`) and the disk ahead is
//! reserved (`reserve`), because the page cache
//! takes an aligned 64 KiB write into fresh, reserved blocks for about 40 % of what the
//! same write costs unaligned into unreserved ones (400 MB in 64 KiB writes on ext4 here:
//! 0.055 s of CPU against 0.14 s). Padding is a hole: it holds no page.
//!
//! Not responsible for: when to spill, or the marks that tell the recorder where the
//! records are in the queue (`tap`).

use super::pump::Lane;
use super::reserve::Reserve;
use crate::record::Micros;
use bytes::{Bytes, BytesMut};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

/// An index entry: lane (1), time in µs (8), length (4), offset in the data file (8).
const ENTRY: usize = 21;
/// Chunks of `ALIGN_FROM` bytes or more start at a multiple of the largest power of two
/// not above their length, within these bounds: the page cache's large pages (a full
/// pipe is 64 KiB, a widened one 1 MiB). Not 2 MiB: the page cache then takes the write
/// into a huge page, which costs far more here to find (400 MB in 2 MiB aligned writes
/// on ext4: 1.3–7.4 s of CPU, against 0.05–0.1 s in 1 MiB ones).
const ALIGN: u64 = 64 << 10;
const MAX_ALIGN: u64 = 1 << 20;
/// Below this a chunk is packed after the one before: aligning it would waste more than
/// it saves.
const ALIGN_FROM: usize = 32 << 10;
/// Index entries read back at a time.
const READ_ENTRIES: usize = 256;
/// Once the recorder has read this much of the data file past the last hole, the bytes
/// read are punched out. A spill that never empties (a recorder just behind a flood) would
/// otherwise hold all of it in the page cache, and taking fresh pages is what a write into
/// it costs most: 2,000 MiB written here in 1 MiB pieces took 7.5 s of CPU into a growing
/// file, 1.7 s when what was written 16 MiB before was dropped (its pages taken again).
const PUNCH_EVERY: u64 = 8 << 20;

pub(super) struct Spill {
    /// Created at the first chunk that needs them.
    files: Option<Arc<Files>>,
    /// Records written so far: where the next index entry goes.
    pub(super) end: u64,
    /// How many records the recorder has read, and where the last one's bytes ended.
    read: u64,
    read_data: u64,
    /// The data file is a hole up to here (what was read and punched out).
    punched: u64,
    /// The end of the last record's bytes in the data file.
    data_end: u64,
    /// The data file's disk reserved ahead.
    reserved: Reserve,
    /// Where the files are created: the recording's directory, else the temporary one.
    dir: Option<PathBuf>,
}

pub(super) struct Files {
    index: File,
    data: File,
}

/// One record read back.
pub enum SpillItem {
    Data(Lane, Micros, Bytes),
    Lost(Lane, Micros, u64, io::ErrorKind),
    /// The rest of the spill could not be read: about this many bytes, of either lane.
    Unreadable(u64),
}

impl Spill {
    pub(super) fn new(dir: Option<PathBuf>) -> Spill {
        Spill {
            files: None,
            end: 0,
            read: 0,
            read_data: 0,
            punched: 0,
            data_end: 0,
            reserved: Reserve::new(),
            dir,
        }
    }

    /// Appends one record, returning the new end. A failed write leaves the ends where
    /// they were, so the next record overwrites the torn one.
    pub(super) fn append(&mut self, lane: Lane, t: Micros, bytes: &[u8]) -> io::Result<u64> {
        let files = self.files()?;
        let at = self.place(&files, bytes.len());
        files.data.write_all_at(bytes, at)?;
        self.commit(&files, lane, t, at, bytes.len())
    }

    /// The same for the `n` bytes at the head of pipe `src`, spliced into the data file:
    /// they never pass through this process. On failure, also how many of them are still
    /// in the pipe.
    pub(super) fn append_pipe(
        &mut self,
        lane: Lane,
        t: Micros,
        src: &File,
        n: usize,
    ) -> Result<u64, (io::Error, usize)> {
        let files = self.files().map_err(|e| (e, n))?;
        let at = self.place(&files, n);
        let mut moved = 0;
        while moved < n {
            match crate::os::splice_to_file(src, &files.data, at + moved as u64, n - moved) {
                Ok(0) => return Err((io::ErrorKind::WriteZero.into(), n - moved)),
                Ok(k) => moved += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((e, n - moved)),
            }
        }
        self.commit(&files, lane, t, at, n).map_err(|e| (e, 0))
    }

    /// Where a chunk of `len` bytes goes, with the disk under it reserved when possible.
    fn place(&mut self, files: &Files, len: usize) -> u64 {
        let at = if len >= ALIGN_FROM {
            self.data_end.next_multiple_of(alignment(len))
        } else {
            self.data_end
        };
        self.reserved
            .ahead(&files.data, self.data_end, at + len as u64);
        at
    }

    /// Writes the index entry of the record just written at `at`.
    fn commit(
        &mut self,
        files: &Files,
        lane: Lane,
        t: Micros,
        at: u64,
        len: usize,
    ) -> io::Result<u64> {
        let mut entry = [0u8; ENTRY];
        entry[0] = lane as u8;
        entry[1..9].copy_from_slice(&t.0.to_le_bytes());
        let len32 = u32::try_from(len).map_err(io::Error::other)?;
        entry[9..13].copy_from_slice(&len32.to_le_bytes());
        entry[13..21].copy_from_slice(&at.to_le_bytes());
        files.index.write_all_at(&entry, self.end * ENTRY as u64)?;
        self.data_end = at + len as u64;
        self.end += 1;
        Ok(self.end)
    }

    /// Where the recorder's reading stands, to read without holding the tap.
    pub(super) fn reader(&self) -> Option<Cursor> {
        Some(Cursor {
            files: self.files.clone()?,
            at: self.read,
            data_at: self.read_data,
            punched: self.punched,
            records: self.end,
            data_end: self.data_end,
        })
    }

    /// The recorder read up to `cursor`.
    pub(super) fn set_read(&mut self, cursor: &Cursor) {
        self.read = cursor.at;
        self.read_data = cursor.data_at;
        self.punched = cursor.punched;
    }

    /// Once everything written has been read, empties the files, so a long session's
    /// spill costs disk only for as long as the recorder is behind.
    pub(super) fn empty_if_read(&mut self) {
        if self.end > 0 && self.read == self.end {
            if let Some(f) = &self.files {
                if f.index.set_len(0).is_ok() && f.data.set_len(0).is_ok() {
                    self.end = 0;
                    self.read = 0;
                    self.read_data = 0;
                    self.punched = 0;
                    self.data_end = 0;
                    self.reserved.reset();
                }
            }
        }
    }

    /// Closes the files: they are unnamed, so that frees their space at once.
    pub(super) fn close(&mut self) {
        self.files = None;
    }

    fn files(&mut self) -> io::Result<Arc<Files>> {
        if let Some(files) = &self.files {
            return Ok(files.clone());
        }
        let create = || match &self.dir {
            Some(dir) => tempfile::tempfile_in(dir).or_else(|_| tempfile::tempfile()),
            None => tempfile::tempfile(),
        };
        let files = Arc::new(Files {
            index: create()?,
            data: create()?,
        });
        self.files = Some(files.clone());
        Ok(files)
    }
}

/// A reading position in the spill, and its extent when taken.
pub(super) struct Cursor {
    files: Arc<Files>,
    /// The next record to read, and where the bytes of the one before ended.
    at: u64,
    data_at: u64,
    punched: u64,
    records: u64,
    data_end: u64,
}

impl Cursor {
    /// Reads the records up to `end`, in order. A record that can't be read back (the disk
    /// failed under it) is reported as lost bytes of its lane; an index that can't be
    /// read, as the bytes from there to the end of the data, and the whole spill as read.
    pub(super) fn read(&mut self, end: u64, mut each: impl FnMut(SpillItem)) {
        let mut entries = Vec::new();
        while self.at < end {
            let count =
                usize::try_from(end - self.at).map_or(READ_ENTRIES, |n| n.min(READ_ENTRIES));
            entries.resize(count * ENTRY, 0);
            let index_at = self.at * ENTRY as u64;
            if self
                .files
                .index
                .read_exact_at(&mut entries, index_at)
                .is_err()
            {
                each(SpillItem::Unreadable(
                    self.data_end.saturating_sub(self.data_at),
                ));
                self.at = self.records.max(end);
                self.data_at = self.data_end;
                return;
            }
            for entry in entries.chunks_exact(ENTRY) {
                let (lane, t, len, offset) = parse(entry);
                let mut body = BytesMut::zeroed(len);
                match self.files.data.read_exact_at(&mut body, offset) {
                    Ok(()) => each(SpillItem::Data(lane, t, body.freeze())),
                    Err(e) => each(SpillItem::Lost(lane, t, len as u64, e.kind())),
                }
                self.data_at = offset + len as u64;
            }
            self.at += count as u64;
            self.punch_read();
        }
    }

    /// Punches out what was read, in steps of `PUNCH_EVERY`: its pages go back to the
    /// system, to be taken again by the next writes. Best effort: where punching fails the
    /// bytes stay until the spill is emptied.
    fn punch_read(&mut self) {
        let upto = self.data_at - self.data_at % PUNCH_EVERY;
        if upto > self.punched
            && crate::os::punch_hole(&self.files.data, self.punched, upto - self.punched).is_ok()
        {
            self.punched = upto;
        }
    }
}

/// Where a chunk of `len` bytes (at least `ALIGN_FROM`) may start: at multiples of this.
fn alignment(len: usize) -> u64 {
    let floor = 1u64 << (len as u64).ilog2();
    floor.clamp(ALIGN, MAX_ALIGN)
}

fn parse(entry: &[u8]) -> (Lane, Micros, usize, u64) {
    let lane = match entry[0] {
        0 => Lane::C2s,
        1 => Lane::S2c,
        _ => Lane::Stderr,
    };
    let field = |at: usize| <[u8; 8]>::try_from(&entry[at..at + 8]).unwrap_or_default();
    let len = <[u8; 4]>::try_from(&entry[9..13]).unwrap_or_default();
    (
        lane,
        Micros(i64::from_le_bytes(field(1))),
        u32::from_le_bytes(len) as usize,
        u64::from_le_bytes(field(13)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_align_with_their_size_from_64_kib_to_1_mib() {
        assert_eq!(alignment(ALIGN_FROM), ALIGN);
        assert_eq!(alignment(100 << 10), ALIGN);
        assert_eq!(alignment(300 << 10), 256 << 10);
        assert_eq!(alignment(1 << 20), MAX_ALIGN);
        assert_eq!(alignment(5 << 20), MAX_ALIGN, "never a huge page");
    }

    fn read_all(spill: &Spill) -> Vec<(Lane, i64, Bytes)> {
        let mut back = Vec::new();
        let mut cursor = spill.reader().unwrap();
        cursor.read(spill.end, |item| match item {
            SpillItem::Data(lane, t, b) => back.push((lane, t.0, b)),
            _ => panic!("the spill failed"),
        });
        back
    }

    #[test]
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // small indices
    fn records_come_back_in_order_and_large_ones_start_aligned() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(Some(dir.path().to_owned()));
        let sizes = [
            100,
            ALIGN_FROM,
            7,
            2 * ALIGN_FROM,
            ALIGN_FROM - 1,
            6 * ALIGN_FROM + 5,
        ];
        let chunks: Vec<Bytes> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| Bytes::from(vec![b'a' + i as u8; n]))
            .collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let lane = if i % 2 == 0 { Lane::C2s } else { Lane::S2c };
            assert_eq!(
                spill.append(lane, Micros(i as i64), chunk).unwrap(),
                i as u64 + 1
            );
        }
        let back = read_all(&spill);
        assert_eq!(back.len(), chunks.len());
        for (i, (lane, t, b)) in back.iter().enumerate() {
            assert_eq!((*t, b), (i as i64, &chunks[i]));
            assert_eq!(*lane, if i % 2 == 0 { Lane::C2s } else { Lane::S2c });
        }
        // The offsets the index holds: large chunks on a boundary, small ones packed.
        let files = spill.files.clone().unwrap();
        let mut index = vec![0u8; sizes.len() * ENTRY];
        files.index.read_exact_at(&mut index, 0).unwrap();
        let offsets: Vec<u64> = index.chunks_exact(ENTRY).map(|e| parse(e).3).collect();
        assert_eq!(offsets[..3], [0, ALIGN, ALIGN + ALIGN_FROM as u64]);
        assert_eq!(offsets[3], 2 * ALIGN);
        assert_eq!(offsets[4], 3 * ALIGN, "packed after the one before");
        assert_eq!(offsets[5], 4 * ALIGN);
    }

    #[test]
    fn a_spill_read_to_the_end_is_emptied_and_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(Some(dir.path().to_owned()));
        spill
            .append(Lane::C2s, Micros(1), &vec![b'x'; 70_000])
            .unwrap();
        spill.empty_if_read();
        assert_eq!(spill.end, 1, "not read yet");
        let mut cursor = spill.reader().unwrap();
        cursor.read(1, |_| {});
        spill.set_read(&cursor);
        spill.empty_if_read();
        let files = spill.files.clone().unwrap();
        assert_eq!((spill.end, files.data.metadata().unwrap().len()), (0, 0));
        spill.append(Lane::S2c, Micros(2), b"again").unwrap();
        assert_eq!(
            read_all(&spill),
            [(Lane::S2c, 2, Bytes::from_static(b"again"))]
        );
    }

    #[test]
    fn what_was_read_is_punched_out_while_the_rest_waits() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(Some(dir.path().to_owned()));
        let chunk = |i: u8| Bytes::from(vec![b'a' + i; 1 << 20]);
        for i in 0..12 {
            spill
                .append(Lane::C2s, Micros(i.into()), &chunk(i))
                .unwrap();
        }
        let allocated = |spill: &Spill| {
            let data = &spill.files.as_ref().unwrap().data;
            data.metadata().unwrap().blocks() * 512
        };
        let before = allocated(&spill);
        let mut cursor = spill.reader().unwrap();
        cursor.read(9, |_| {});
        spill.set_read(&cursor);
        if spill.punched == 0 {
            eprintln!("skipped: this filesystem does not punch holes");
            return;
        }
        assert_eq!(spill.punched, PUNCH_EVERY);
        assert_eq!(
            before - allocated(&spill),
            PUNCH_EVERY,
            "its disk given back"
        );
        let mut rest = Vec::new();
        spill.reader().unwrap().read(12, |item| match item {
            SpillItem::Data(_, t, b) => rest.push((t.0, b)),
            _ => panic!("all readable"),
        });
        let want: Vec<(i64, Bytes)> = (9..12).map(|i| (i64::from(i), chunk(i))).collect();
        assert_eq!(rest, want, "what was not read is whole");
    }

    #[test]
    fn an_index_that_cannot_be_read_counts_the_rest_of_the_data_as_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(Some(dir.path().to_owned()));
        spill.append(Lane::C2s, Micros(1), b"first").unwrap();
        let mut cursor = spill.reader().unwrap();
        cursor.read(1, |_| {});
        spill.set_read(&cursor);
        spill
            .append(Lane::C2s, Micros(2), &vec![b'y'; 40_000])
            .unwrap();
        spill.append(Lane::S2c, Micros(3), b"third").unwrap();
        // The disk loses the index under the records not read yet.
        spill
            .files
            .as_ref()
            .unwrap()
            .index
            .set_len(ENTRY as u64)
            .unwrap();
        let mut cursor = spill.reader().unwrap();
        let mut lost = Vec::new();
        cursor.read(2, |item| match item {
            SpillItem::Unreadable(n) => lost.push(n),
            _ => panic!("nothing readable"),
        });
        // From the end of "first" to the end of "third", the padding included.
        assert_eq!(lost, [ALIGN + 40_000 + 5 - 5]);
        spill.set_read(&cursor);
        assert_eq!(spill.read, 3, "the whole spill counts as read");
    }
}
