//! What the recorder writes for bytes that crossed but could not be kept (the tap's spill
//! failed: one gap line per stream, with the byte count, and a warning once) or that the
//! peer never took (an `undelivered` line, so `cat --wire` rebuilds what it received).

use super::{Dir, Recorder, STDERR};
use crate::proxy::Lane;
use crate::record::{Event, Gap, Micros, Undelivered};

/// Bytes the tap could not keep (its spill failed), waiting to be written as one gap.
pub(super) struct Lost {
    t: Micros,
    bytes: u64,
    why: std::io::ErrorKind,
}

impl Recorder {
    /// The tap could not keep these bytes: the stream's partial frame is gone with them,
    /// so decoding starts afresh, and one gap line will say how much was lost.
    pub(super) fn lost(&mut self, lane: Lane, t: Micros, n: u64, why: std::io::ErrorKind) {
        let ix = lane as usize;
        // The partial frame buffered before the lost bytes goes with them: count it too.
        let partial = match lane {
            Lane::C2s | Lane::S2c => {
                let d = &mut self.dirs[ix];
                let partial = d.buf.len();
                d.buf.clear();
                d.decoder.reset();
                partial
            }
            Lane::Stderr => std::mem::take(&mut self.stderr).len(),
        };
        let n = n + partial as u64;
        let first = match &mut self.file {
            Some(f) => f.warn_once(),
            None => !std::mem::replace(&mut self.warned_lost, true),
        };
        if first {
            eprintln!(
                "rpctap: warning: the recorder's spill file failed ({}); bytes are forwarded \
                 but not recorded until it works again, and the recording says how many",
                std::io::Error::from(why)
            );
        }
        let l = self.lost[ix].get_or_insert(Lost { t, bytes: 0, why });
        l.bytes += n;
    }

    pub(super) fn write_lost(&mut self, ix: usize) {
        let Some(l) = self.lost[ix].take() else {
            return;
        };
        let (dir, stream) = match ix {
            0 => (Some(Dir::C2s), "c2s"),
            1 => (Some(Dir::S2c), "s2c"),
            _ => (None, "stderr"),
        };
        let reason = format!(
            "the recorder's spill file failed ({}): {} bytes of {stream} were forwarded but not recorded",
            std::io::Error::from(l.why),
            l.bytes
        );
        let gap = Event::Gap(Gap {
            t: l.t,
            dir,
            bytes: l.bytes,
            reason,
        });
        // Counted as the stream's bytes: if the file fails too, its own gap line says so.
        self.emit(&gap, ix, l.bytes);
    }

    pub(super) fn undelivered(&mut self, lane: Lane, t: Micros, from: u64) {
        let dir = match lane {
            Lane::C2s => Dir::C2s,
            Lane::S2c => Dir::S2c,
            Lane::Stderr => return,
        };
        self.emit(&Event::Undelivered(Undelivered { t, dir, from }), STDERR, 0);
    }
}
