//! The forwarding pumps. Each stream has its own thread so that no pipe can fill while
//! another is being read (the deadlock lesson). A pump reads and writes the bytes on at
//! once; the same buffer (shared, not copied) goes to the recorder through the `Tap`, which
//! never blocks: past a memory bound, chunks wait in a spill file instead.

use bytes::{Bytes, BytesMut};
use std::fs::File;
use std::io::{Read, Write};

pub use super::tap::Tap;
use crate::record::Micros;

/// Which stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Parent → child stdin.
    C2s,
    /// Child stdout → parent.
    S2c,
    /// Child stderr.
    Stderr,
}

/// What the pumps (and the supervisor) tell the recorder.
#[derive(Debug)]
pub enum TapMsg {
    Data(Lane, Micros, Bytes),
    /// The zero-copy pump teed this many bytes into the lane's recorder pipe.
    Piped(Lane, Micros, usize),
    /// Chunks wait in the spill, up to this record (see `tap`).
    Spilled(u64),
    /// Bytes that were forwarded but could not be kept for recording: the spill file
    /// failed with this error.
    Lost(Lane, Micros, u64, std::io::ErrorKind),
    /// The destination refused a write: the lane's bytes from this stream offset on never
    /// reached the peer (they are still recorded).
    Undelivered(Lane, Micros, u64),
    Eof(Lane),
    Exit(crate::record::Exit),
    /// A live viewer connected.
    Attach(std::os::unix::net::UnixStream),
    /// A pump starts forwarding frame by frame (control work): the recorder, having
    /// decoded everything offered before, says where the lane's stream stands.
    Sync(Lane, std::sync::mpsc::SyncSender<SyncState>),
    /// One whole frame that control touched (held, diverted, injected), in the order the
    /// pump wrote to the peer.
    Marked(Lane, Micros, Bytes, crate::record::Mark),
    /// A held message was decided.
    Release(crate::record::Release),
}

/// The recorder's answer to `TapMsg::Sync`.
#[derive(Debug, Clone)]
pub struct SyncState {
    pub boundary: crate::wire::Boundary,
    /// The lane's framing, and the other message lane's, once detected.
    pub framing: Option<crate::wire::Framing>,
    pub other: Option<crate::wire::Framing>,
}

const READ_SIZE: usize = 64 * 1024;

/// Writes all of `chunk`; on failure, how much of it was written.
fn write_all(dst: &mut impl Write, chunk: &[u8]) -> Result<(), usize> {
    let mut done = 0;
    while done < chunk.len() {
        match dst.write(&chunk[done..]) {
            Ok(0) => return Err(done),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(done),
        }
    }
    dst.flush().map_err(|_| done)
}

/// What stopped a pump.
#[derive(Debug, PartialEq, Eq)]
pub enum PumpEnd {
    /// The source reached end of file (or failed to read).
    SourceClosed,
    /// The destination refused a write (its reader is gone); the source was drained to EOF.
    SinkClosed,
}

/// Copies `src` to `dst` until `src` ends, offering each chunk to the tap as it goes.
/// When `dst` fails, the pump keeps reading (and recording) so that the writer on the
/// other side never blocks on a full pipe, and reports `SinkClosed` at the end.
pub fn pump(
    mut src: impl Read,
    mut dst: impl Write,
    lane: Lane,
    tap: &Tap,
    on_sink_closed: impl FnOnce(),
) -> PumpEnd {
    let mut p = Pump::new(lane, tap, on_sink_closed);
    while p.copy_chunk(&mut src, &mut dst) {}
    p.end()
}

/// The same as `pump`, without copying on Linux when `src` is a pipe: each chunk is teed
/// (page references, no copy) into the recorder's pipe, then spliced to `dst`. The bytes
/// are never in this process's memory, so forwarding costs less than a plain
/// read-and-write relay. When the recorder's pipe is full (the recorder is behind), the
/// chunk goes to memory or the spill file through the pump's side pipe instead, so the pump
/// never waits for it; the whole stream takes the copying path when either end can't splice.
///
/// With `control` (the shim's interactive control), the pump also waits on the control's
/// wake socket, and while its lane has control work it forwards frame by frame instead
/// (`framed::run`); the byte pump's per-chunk cost of that is one relaxed atomic load.
pub fn pump_pipes(
    src: &File,
    dst: &File,
    lane: Lane,
    tap: &Tap,
    control: Option<&crate::control::state::Control>,
    on_sink_closed: impl FnOnce(),
) -> PumpEnd {
    let mut p = Pump::new(lane, tap, on_sink_closed);
    let rec = tap.recorder_pipe(lane);
    let dir = super::framed::dir_of(lane);
    // Both ends are pipes (until a splice or tee says otherwise).
    let mut zero_copy = rec.is_some();
    let mut widen = super::widen::Widen::new(src, dst);
    loop {
        if let (Some(c), Some(dir)) = (control, dir) {
            if c.work(dir) {
                if !super::framed::run(&mut p, src, dst, c, dir) {
                    break;
                }
                continue;
            }
            match crate::os::wait_readable_or(src, c.wake_fd(dir)) {
                Err(_) => break,
                Ok(true) => {
                    c.drain_wake(dir);
                    continue;
                }
                Ok(false) => {}
            }
        } else if zero_copy && crate::os::wait_readable(src).is_err() {
            // (Copying needs no wait of its own: its read blocks.)
            break;
        }
        let Some(rec) = rec.filter(|_| zero_copy) else {
            if !p.copy_chunk(src, dst) {
                break;
            }
            continue;
        };
        widen.update(src, dst, tap.recorder_aside());
        match crate::os::tee(src, rec, SPLICE_SIZE) {
            Ok(0) => break,
            Ok(n) => {
                let t = Micros::now();
                tap.piped(lane, t, n);
                // dst can't splice (a terminal, say): copy from now on.
                zero_copy = p.splice_chunk(src, dst, t, n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => match p.side_chunk(src, dst) {
                None => break,
                Some(splices) => zero_copy = splices,
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // src is not a pipe (or tee is not supported): copy.
            Err(_) => zero_copy = false,
        }
    }
    p.end()
}

/// The most a zero-copy pump moves at once: the recorder pipe's size.
const SPLICE_SIZE: usize = 1 << 20;

/// A pump's side pipe: opened at the first chunk that needs it, unusable once it could
/// not be opened or may hold a stale copy.
enum Side {
    Unopened,
    Open(File, File),
    Unusable,
}

/// The state of one stream's pump: its buffer, where it is in the stream, whether its
/// destination still takes bytes.
pub(super) struct Pump<'a, F: FnOnce()> {
    pub(super) lane: Lane,
    pub(super) tap: &'a Tap,
    buf: BytesMut,
    /// The pipe a chunk is teed into when the recorder's pipe is full (see `side_chunk`).
    side: Side,
    /// Bytes of this stream read so far: where an undelivered tail starts.
    offset: u64,
    sink_ok: bool,
    on_sink_closed: Option<F>,
}

impl<'a, F: FnOnce()> Pump<'a, F> {
    fn new(lane: Lane, tap: &'a Tap, on_sink_closed: F) -> Self {
        Pump {
            lane,
            tap,
            buf: BytesMut::new(),
            side: Side::Unopened,
            offset: 0,
            sink_ok: true,
            on_sink_closed: Some(on_sink_closed),
        }
    }

    /// Reads one chunk, offers it to the tap and writes it on; false at the source's end.
    fn copy_chunk(&mut self, mut src: impl Read, dst: impl Write) -> bool {
        if self.buf.len() < READ_SIZE / 16 {
            self.buf = BytesMut::zeroed(READ_SIZE);
        }
        let n = loop {
            match src.read(&mut self.buf) {
                Ok(0) => return false,
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        };
        let chunk = self.buf.split_to(n).freeze();
        self.forward(dst, chunk);
        true
    }

    /// Forwards one chunk of pipe `src` whose copy did not fit in the recorder's pipe: it
    /// is teed into the pump's side pipe instead, which the tap empties (into memory, or
    /// by splicing into the spill file), and spliced on — so the bytes still never pass
    /// through this process. Without a side pipe the chunk is copied. `None` at the
    /// source's end; otherwise whether `dst` still takes splices (as `splice_chunk`).
    fn side_chunk(&mut self, src: &File, dst: &File) -> Option<bool> {
        if matches!(self.side, Side::Unopened) {
            self.side =
                crate::os::recorder_pipe().map_or(Side::Unusable, |(r, w)| Side::Open(r, w));
        }
        let Side::Open(side_r, side_w) = &self.side else {
            return self.copy_chunk(src, dst).then_some(true);
        };
        let n = match crate::os::tee(src, side_w, SPLICE_SIZE) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Some(true),
            Err(_) => {
                self.side = Side::Unusable;
                return self.copy_chunk(src, dst).then_some(true);
            }
        };
        let t = Micros::now();
        if self.tap.offer_pipe(self.lane, t, side_r, n).is_err() {
            // The side pipe may hold a stale copy: never tee into it again.
            self.side = Side::Unusable;
        }
        Some(self.splice_chunk(src, dst, t, n))
    }

    /// Offers `bytes` (read from the source) to the tap and writes them on.
    // Ownership is handed over: the read buffer ends here.
    #[allow(clippy::needless_pass_by_value)]
    pub(super) fn forward(&mut self, dst: impl Write, bytes: Bytes) {
        // Queued (never waiting, no copy) just before the write rather than after it: a
        // peer's answer to these bytes can only be read after the write, so the recording
        // can never show an answer before the message it answers.
        let t = Micros::now();
        let n = bytes.len() as u64;
        self.tap.offer(self.lane, t, bytes.clone());
        self.write(dst, t, &bytes);
        self.offset += n;
    }

    /// Writes bytes on without offering them (the tap has them, or a line that stands
    /// for them).
    pub(super) fn write(&mut self, mut dst: impl Write, t: Micros, bytes: &[u8]) {
        if self.sink_ok {
            if let Err(delivered) = write_all(&mut dst, bytes) {
                self.sink_failed(t, delivered);
            }
        }
    }

    /// Counts source bytes that were taken (held, diverted) rather than forwarded.
    pub(super) fn taken(&mut self, n: usize) {
        self.offset += n as u64;
    }

    /// Moves the `n` bytes just teed from `src` to `dst`. False, with nothing moved, when
    /// `dst` can't be spliced to: the chunk was then copied instead.
    fn splice_chunk(&mut self, src: &File, dst: &File, t: Micros, n: usize) -> bool {
        let mut moved = 0;
        while self.sink_ok && moved < n {
            match crate::os::splice(src, dst, n - moved) {
                Ok(0) => self.sink_failed(t, moved),
                Ok(k) => moved += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if moved == 0 && e.raw_os_error() == Some(libc::EINVAL) => {
                    self.forward_read(src, dst, t, n);
                    return false;
                }
                Err(_) => self.sink_failed(t, moved),
            }
        }
        if moved < n {
            // The peer is gone: the rest is recorded (it was teed) but goes nowhere.
            let _ = crate::os::discard(src, n - moved);
        }
        self.offset += n as u64;
        true
    }

    /// Reads the `n` teed bytes out of `src` and writes them to `dst`.
    fn forward_read(&mut self, mut src: &File, dst: &File, t: Micros, n: usize) {
        let mut chunk = vec![0u8; n];
        if src.read_exact(&mut chunk).is_err() {
            return;
        }
        self.write(dst, t, &chunk);
        self.offset += n as u64;
    }

    fn sink_failed(&mut self, t: Micros, delivered: usize) {
        self.sink_ok = false;
        let at = self.offset + delivered as u64;
        self.tap.send(TapMsg::Undelivered(self.lane, t, at));
        if let Some(f) = self.on_sink_closed.take() {
            f();
        }
    }

    fn end(self) -> PumpEnd {
        self.tap.send(TapMsg::Eof(self.lane));
        if self.sink_ok {
            PumpEnd::SourceClosed
        } else {
            PumpEnd::SinkClosed
        }
    }
}

#[cfg(test)]
#[path = "pump_tests.rs"]
mod tests;
