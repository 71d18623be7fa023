//! The recorder: turns the pumps' copies into session events and writes them out.
//!
//! It runs on its own thread, off the forwarding path. Per direction it keeps a decoder;
//! stderr is split into lines. Every event is encoded once as a recording line and written
//! to the file (`FileSink`), which live viewers read as it grows; a message's body goes
//! from the decoder's buffer to the file without being copied into a line. Chunks the tap
//! spilled to disk are read back here, in order. Nothing here can affect forwarding.

use super::file_sink::{stream_of, FileSink, StreamIx, STDERR};
use super::pump::{Lane, TapMsg};
use super::tap::{Batch, SpillItem, TapReceiver};
use crate::live::{Feed, Publisher};
use crate::record::{
    encode_event, encode_message_head, is_canonical_head, Dir, Event, MessageEvent, Micros,
    NoiseEvent, Redactor, SessionInfo, MESSAGE_TAIL,
};
use crate::wire::{Decoder, Frame, FrameKind, Framing, Limits};
use bytes::{Bytes, BytesMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// With a viewer attached that keeps up (it waits for the next commit), while traffic
/// flows: shorter than a frame of the TUI, and long enough that the file is still written
/// in large pieces (flushed at every batch, each 1 ms, the recording's last partial block
/// went through the page cache a thousand times a second; measured at 2,000 × 1 MiB with
/// a stalled viewer, 0.69 / 0.88× a relay's pace before and 0.92 / 0.84× after, two
/// interleaved rounds: within this machine's noise). A viewer that stopped reading, or is
/// still behind, gets the file written as without one.
const VIEWER_FLUSH_EVERY: Duration = Duration::from_millis(10);
/// A buffer this large (a large frame's) is kept for the next frames of its direction…
const REUSE: usize = 1 << 20;
/// …until the traffic pauses this long.
const KEEP_BUFFERS: Duration = Duration::from_secs(1);

pub struct RecorderConfig {
    pub framing: Option<Framing>,
    pub limits: Limits,
    pub redact: Redactor,
    /// Live consumers of the recorded events (conformance checks, OpenTelemetry export).
    pub observers: Vec<Box<dyn Observer>>,
}

/// Watches the session's events as they are recorded, after redaction, in recording order.
/// Called on the recorder's thread, never on a pump's: an observer must not block (hand
/// heavy work to a thread of its own through a bounded queue, and count what it drops).
pub trait Observer: Send {
    fn event(&mut self, event: &Event);
    /// The session ended (after its exit event, or when the recorder stops). For a
    /// follower, the recording is complete and its feed ended by then.
    fn finish(&mut self) {}
    /// A follower reads the recording itself, as live viewers do, and costs the recorder
    /// nothing per event: `event` is never called, `follow` is (once, if there is a file).
    fn follows_file(&self) -> bool {
        false
    }
    /// The recording (a reader of its file), the lengths committed to it, and the
    /// recorder's progress counter (bump it while catching up after the session, so the
    /// shim waits for it).
    fn follow(&mut self, _file: std::fs::File, _feed: Arc<Feed>, _progress: Arc<AtomicU64>) {}
}

impl RecorderConfig {
    /// An observer wants to read the recording (so there must be a file, if only a
    /// temporary one).
    pub fn wants_file(&self) -> bool {
        self.observers.iter().any(|o| o.follows_file())
    }
}

struct Direction {
    decoder: Decoder,
    buf: BytesMut,
    /// When this direction's last bytes were read: what is left in `buf` at end of file
    /// arrived then (not when the recorder got to it, which may be after the exit).
    last: Micros,
    /// The last frame ended as frames end (not inside a line): see `wire::Boundary`.
    clean: bool,
    /// `buf` is the allocation of large frames already written, kept for the next ones.
    reuse: bool,
}

pub struct Recorder {
    dirs: [Direction; 2],
    stderr: BytesMut,
    /// When the last stderr bytes were read (see `Direction::last`).
    stderr_last: Micros,
    seq: u64,
    redact: Redactor,
    file: Option<FileSink>,
    live: Option<Publisher>,
    observers: Vec<Box<dyn Observer>>,
    /// Observers that read the file (`Observer::follows_file`).
    followers: Vec<Box<dyn Observer>>,
    /// The committed lengths of the file, for viewers and followers.
    feed: Option<Arc<Feed>>,
    line: Vec<u8>,
    lost: [Option<Lost>; 3],
    warned_lost: bool,
    /// Bumped as the recorder works (and as viewers read): tells a waiting shim that the
    /// recorder is still getting somewhere.
    progress: Arc<AtomicU64>,
    /// The mark of the frame a `Marked` message carries, for the message it decodes to.
    mark: Option<crate::record::Mark>,
    aside: super::aside::Aside,
}

impl Recorder {
    pub fn new(
        config: RecorderConfig,
        mut file: Option<FileSink>,
        live: Option<Publisher>,
    ) -> Recorder {
        let (followers, observers): (Vec<_>, Vec<_>) =
            config.observers.into_iter().partition(|o| o.follows_file());
        let feed = match &live {
            Some(l) => Some(l.feed()),
            None => (!followers.is_empty()).then(Arc::default),
        };
        if let (Some(f), Some(feed)) = (&mut file, &feed) {
            f.set_feed(feed.clone());
        }
        let progress = Arc::<AtomicU64>::default();
        let mut followers = followers;
        for o in &mut followers {
            let reader = file.as_ref().map(FileSink::reader);
            if let (Some(Ok(reader)), Some(feed)) = (reader, &feed) {
                o.follow(reader, feed.clone(), progress.clone());
            }
        }
        let dir = || Direction {
            decoder: Decoder::new(config.framing, config.limits),
            buf: BytesMut::new(),
            last: Micros::default(),
            clean: true,
            reuse: false,
        };
        Recorder {
            dirs: [dir(), dir()],
            stderr: BytesMut::new(),
            stderr_last: Micros::default(),
            seq: 0,
            redact: config.redact,
            file,
            live,
            observers,
            followers,
            feed,
            line: Vec::with_capacity(4096),
            lost: [None, None, None],
            warned_lost: false,
            progress,
            mark: None,
            aside: super::aside::Aside::default(),
        }
    }

    /// A counter that moves while the recorder makes progress.
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.progress.clone()
    }

    /// Receives from the pumps until the exit event (or until every sender is gone).
    pub fn run(mut self, info: SessionInfo, mut rx: TapReceiver) {
        self.emit(&Event::Session(info), STDERR, 0);
        let mut last_flush = Instant::now();
        let mut last_batch = Instant::now();
        let mut batch = Vec::new();
        let mut every = FLUSH_EVERY;
        'run: loop {
            self.aside.wait(&rx);
            let wait = every.saturating_sub(last_flush.elapsed());
            let got = rx.next_batch(&mut batch, wait);
            match got {
                Batch::Closed => break,
                Batch::Timeout if last_batch.elapsed() >= KEEP_BUFFERS => self.release_buffers(),
                Batch::Timeout => {}
                Batch::Some => last_batch = Instant::now(),
            }
            for msg in batch.drain(..) {
                self.progress.fetch_add(1, Ordering::Relaxed);
                if self.take(msg, &mut rx) {
                    break 'run;
                }
            }
            // Viewers that keep up see the traffic within `VIEWER_FLUSH_EVERY`; otherwise
            // the file is written in large pieces. While traffic flows the recorder does
            // not wait for the disk (the lines are committed as the disk takes them); once
            // it pauses, everything is committed.
            let viewers = self
                .live
                .as_ref()
                .is_some_and(Publisher::has_viewers_caught_up);
            every = if viewers {
                VIEWER_FLUSH_EVERY
            } else {
                FLUSH_EVERY
            };
            if last_flush.elapsed() >= every {
                self.flush(matches!(got, Batch::Timeout));
                last_flush = Instant::now();
            }
        }
        for ix in 0..3 {
            self.write_lost(ix);
        }
        // The spill file (which may share the recording's disk) goes with the receiver.
        drop(rx);
        if let Some(f) = &mut self.file {
            f.finish();
        }
        // Everything is committed: followers (and viewers) read to the end.
        if let Some(feed) = &self.feed {
            feed.end();
        }
        for o in self.observers.iter_mut().chain(&mut self.followers) {
            o.finish();
        }
        if let Some(live) = self.live.take() {
            live.finish(Duration::from_secs(1), &self.progress);
        }
    }

    /// Handles one message from the tap; true at the session's end.
    fn take(&mut self, msg: TapMsg, rx: &mut TapReceiver) -> bool {
        match msg {
            TapMsg::Data(lane, t, bytes) => self.data(lane, t, bytes),
            TapMsg::Piped(lane, t, n) => self.piped(lane, t, n, rx),
            TapMsg::Spilled(end) => rx.read_spill(end, |item| match item {
                SpillItem::Data(lane, t, bytes) => {
                    self.progress.fetch_add(1, Ordering::Relaxed);
                    self.data(lane, t, bytes);
                }
                SpillItem::Lost(lane, t, n, why) => self.lost(lane, t, n, why),
                SpillItem::Unreadable(n) => {
                    self.lost(Lane::Stderr, Micros::now(), n, std::io::ErrorKind::Other);
                }
            }),
            TapMsg::Lost(lane, t, n, why) => self.lost(lane, t, n, why),
            TapMsg::Undelivered(lane, t, from) => self.undelivered(lane, t, from),
            TapMsg::Eof(lane) => self.eof(lane),
            TapMsg::Attach(stream) => self.attach(stream),
            TapMsg::Sync(lane, answer) => self.sync(lane, &answer),
            TapMsg::Marked(lane, t, bytes, mark) => {
                self.mark = Some(mark);
                self.data(lane, t, bytes);
                self.mark = None;
            }
            TapMsg::Release(r) => self.emit(&Event::Release(r), STDERR, 0),
            TapMsg::Exit(exit) => {
                for lane in [Lane::C2s, Lane::S2c, Lane::Stderr] {
                    self.eof(lane);
                }
                // What was lost is said before the exit: the exit line ends the recording.
                for ix in 0..3 {
                    self.write_lost(ix);
                }
                self.emit(&Event::Exit(exit), STDERR, 0);
                return true;
            }
        }
        false
    }

    /// Where a lane's stream stands, for a pump that starts framing it (interactive control).
    fn sync(&mut self, lane: Lane, answer: &std::sync::mpsc::SyncSender<super::pump::SyncState>) {
        let ix = match lane {
            Lane::C2s => 0,
            Lane::S2c => 1,
            Lane::Stderr => return,
        };
        let d = &self.dirs[ix];
        let _ = answer.try_send(super::pump::SyncState {
            boundary: d.decoder.boundary(&d.buf, d.clean),
            framing: d.decoder.framing(),
            other: self.dirs[1 - ix].decoder.framing(),
        });
    }

    fn attach(&mut self, stream: std::os::unix::net::UnixStream) {
        // The viewer reads the file: what is buffered must be in it first.
        self.flush(true);
        let reader = self.file.as_ref().map(FileSink::reader);
        if let (Some(live), Some(Ok(file))) = (&mut self.live, reader) {
            live.attach(stream, file);
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Writes one non-message event that carries `wire` bytes of stream `ix`.
    fn emit(&mut self, event: &Event, ix: StreamIx, wire: u64) {
        self.line.clear();
        encode_event(&mut self.line, event);
        if let Some(f) = &mut self.file {
            f.line(&self.line, ix, wire);
        }
        self.observe(event);
    }

    fn emit_message(&mut self, m: MessageEvent, wire: u64) {
        self.line.clear();
        let ix = stream_of(m.dir);
        let embedded = encode_message_head(&mut self.line, &m);
        if let Some(f) = &mut self.file {
            if embedded {
                f.parts(&[&self.line, &m.body, MESSAGE_TAIL], ix, wire);
            } else {
                f.line(&self.line, ix, wire);
            }
        }
        if !self.observers.is_empty() {
            self.observe(&Event::Message(m));
        }
    }

    fn observe(&mut self, event: &Event) {
        for o in &mut self.observers {
            o.event(event);
        }
    }

    fn flush(&mut self, wait: bool) {
        if let Some(f) = &mut self.file {
            f.flush(wait);
        }
    }

    fn data(&mut self, lane: Lane, t: Micros, bytes: Bytes) {
        let Some(dir) = self.arrive(lane, t, bytes.len()) else {
            self.stderr.extend_from_slice(&bytes);
            return self.stderr_lines(t, false);
        };
        let d = &mut self.dirs[dir as usize];
        if d.buf.is_empty() && !d.reuse {
            // Decode straight from the pump's buffer: no copy while frames end in the chunk
            // (what is left over is copied once, by the conversion or the next extend).
            d.buf = BytesMut::from(bytes);
            return self.decode(dir, t);
        }
        let mut rest = &bytes[..];
        let _ = self.fill(dir, t, bytes.len(), |buf, n| {
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            Ok(())
        });
    }

    /// `n` bytes of a lane in its recorder pipe: read straight into the decoder's buffer.
    fn piped(&mut self, lane: Lane, t: Micros, n: usize, rx: &mut TapReceiver) {
        if lane == Lane::Stderr {
            return match rx.read_piped(lane, n) {
                Ok(bytes) => self.data(lane, t, bytes),
                Err(e) => self.lost(lane, t, n as u64, e.kind()),
            };
        }
        let Some(dir) = self.arrive(lane, t, n) else {
            return;
        };
        if let Err((left, e)) = self.fill(dir, t, n, |buf, k| rx.read_piped_into(lane, k, buf)) {
            self.lost(lane, t, left as u64, e.kind());
        }
    }

    /// `n` bytes of `lane` arrive at `t`: the direction they go to (`None`: stderr).
    fn arrive(&mut self, lane: Lane, t: Micros, n: usize) -> Option<Dir> {
        self.aside.consumed += n as u64;
        let ix = lane as usize;
        if self.lost[ix].is_some() {
            self.write_lost(ix);
        }
        let dir = match lane {
            Lane::C2s => Dir::C2s,
            Lane::S2c => Dir::S2c,
            Lane::Stderr => {
                self.stderr_last = t;
                return None;
            }
        };
        let d = &mut self.dirs[dir as usize];
        d.last = t;
        // The allocation of large frames already written takes the next chunk, once they
        // are gone: a run of large messages then needs no fresh pages for each (faulting
        // them in and zeroing them cost far more than copying the chunk).
        if d.reuse && d.buf.is_empty() && !d.buf.try_reclaim(n.max(REUSE)) {
            d.reuse = false;
        }
        Some(dir)
    }

    /// Appends `n` bytes to the direction's buffer with `append(buf, k)`, decoding as they
    /// come; on a failure, how many bytes were not appended.
    fn fill(
        &mut self,
        dir: Dir,
        t: Micros,
        mut left: usize,
        mut append: impl FnMut(&mut BytesMut, usize) -> std::io::Result<()>,
    ) -> Result<(), (usize, std::io::Error)> {
        while left > 0 {
            // A buffer sized for the frame being decoded takes only what fits: the rest
            // (the next frame's start) follows once the frame is out, so the buffer is
            // never regrown (doubled) past its frame.
            let d = &mut self.dirs[dir as usize];
            let spare = d.buf.capacity() - d.buf.len();
            let n = if spare > 0 { spare.min(left) } else { left };
            append(&mut d.buf, n).map_err(|e| (left, e))?;
            left -= n;
            self.decode(dir, t);
        }
        Ok(())
    }

    /// Takes every complete frame out of the direction's buffer.
    fn decode(&mut self, dir: Dir, t: Micros) {
        let capacity = self.dirs[dir as usize].buf.capacity();
        let mut largest = 0;
        loop {
            let d = &mut self.dirs[dir as usize];
            let Some(frame) = d.decoder.decode(&mut d.buf) else {
                break;
            };
            largest = largest.max(frame.wire_len());
            let framing = d.decoder.framing().unwrap_or(Framing::Ndjson);
            self.frame(dir, t, framing, frame);
        }
        // The allocation of large frames is kept for the next ones once they are gone
        // (written): a short leftover, the next frame's start, moves to its front. While a
        // frame is still held elsewhere, the leftover moves to a buffer of its own
        // instead, so that the frames' allocation (megabytes, maybe) is freed with them
        // rather than kept alive — and grown — in front of the next frame. (Unless the
        // decoder sized the buffer for the frame in progress.)
        let d = &mut self.dirs[dir as usize];
        let short = d.buf.len() < 64 * 1024;
        if largest > 0 {
            d.reuse = short && worth_keeping(capacity, largest);
        }
        // An allocation too large to keep goes with its frames, and the leftover (the next
        // frame's start, at most a chunk) is copied out of it once. Kept as the buffer's
        // view of the allocation's unused end, it would take that frame, which then moves
        // to the front: the whole allocation, doubled past a 20 MiB line, stayed resident
        // per direction (79–82 MiB peak with 20 MiB NDJSON lines each way).
        if largest > 0
            && capacity > REUSE
            && !worth_keeping(capacity, largest)
            && d.buf.len() <= REUSE
            && !d.decoder.sized_for_frame()
        {
            d.buf = BytesMut::from(&d.buf[..]);
        }
        if short
            && !d.buf.is_empty()
            && d.buf.capacity() > REUSE
            && !d.decoder.sized_for_frame()
            && !(d.reuse && d.buf.try_reclaim(REUSE))
        {
            d.buf = BytesMut::from(&d.buf[..]);
            d.reuse = false;
        }
    }

    /// Lets go of the buffers kept for large frames (the traffic paused): a session's
    /// memory comes back down after its large messages.
    fn release_buffers(&mut self) {
        for d in &mut self.dirs {
            if d.buf.is_empty() {
                d.buf = BytesMut::new();
                d.reuse = false;
            }
        }
    }

    fn frame(&mut self, dir: Dir, t: Micros, framing: Framing, frame: Frame) {
        self.progress.fetch_add(1, Ordering::Relaxed);
        let wire = frame.wire_len() as u64;
        self.aside.frame(wire);
        let last = frame
            .tail
            .last()
            .or(frame.body.last())
            .or(frame.head.last());
        self.dirs[dir as usize].clean = match (&frame.kind, framing) {
            (FrameKind::Message | FrameKind::Skipped, Framing::Lsp) => true,
            (FrameKind::Oversized { .. }, _) => false,
            _ => last == Some(&b'\n'),
        };
        match frame.kind {
            FrameKind::Skipped => {}
            FrameKind::Noise => {
                let event = Event::Noise(NoiseEvent {
                    seq: self.next_seq(),
                    t,
                    dir,
                    text: self.redact.noise(frame.body),
                });
                self.emit(&event, stream_of(dir), wire);
            }
            FrameKind::Message | FrameKind::Oversized { .. } => {
                let oversized = match frame.kind {
                    FrameKind::Oversized { len } => Some(len),
                    _ => None,
                };
                // An oversized frame's canonical header announces its length, not 0.
                let announced = oversized.flatten().map_or(frame.body.len(), |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                });
                let headers = match framing {
                    Framing::Lsp if !is_canonical_head(&frame.head, announced) => {
                        Some(frame.head.clone())
                    }
                    Framing::Ndjson if oversized.is_none() && &frame.tail[..] != b"\n" => {
                        Some(frame.tail.clone())
                    }
                    _ => None,
                };
                let (body, redacted) = self.redact.message(frame.body);
                let m = MessageEvent {
                    seq: self.next_seq(),
                    t,
                    dir,
                    framing,
                    body,
                    headers,
                    redacted,
                    oversized,
                    mark: self.mark.take().unwrap_or_default(),
                };
                self.emit_message(m, wire);
            }
        }
    }

    fn eof(&mut self, lane: Lane) {
        let dir = match lane {
            Lane::C2s => Dir::C2s,
            Lane::S2c => Dir::S2c,
            Lane::Stderr => return self.stderr_lines(self.stderr_last, true),
        };
        let d = &mut self.dirs[dir as usize];
        let t = d.last;
        if d.buf.is_empty() && d.decoder.framing().is_some() {
            return;
        }
        let (frames, _) = d.decoder.finish(&mut d.buf);
        let framing = d.decoder.framing().unwrap_or(Framing::Ndjson);
        for frame in frames {
            self.frame(dir, t, framing, frame);
        }
    }
}

/// Whether a buffer of `capacity` bytes that held frames of up to `largest` bytes is kept
/// for the next frames: a large one, and no more than a quarter larger than its frames
/// (one sized for its frame), or small enough anyway — a buffer grown by doubling around
/// a 20 MiB line would hold 32 MiB per direction, over the memory bound.
fn worth_keeping(capacity: usize, largest: usize) -> bool {
    capacity >= REUSE && (capacity <= 4 * REUSE || capacity <= largest + largest / 4)
}

#[path = "recorder_gaps.rs"]
mod gaps;
use gaps::Lost;
#[path = "recorder_stderr.rs"]
mod stderr;

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
