//! The pumps' copies on their way to the recorder: a queue that never makes a pump wait,
//! never loses a byte while the disk works, and, under traffic, never makes a pump pay for
//! waking the recorder.
//!
//! A channel would wake the recorder's thread on every chunk — a syscall and a context
//! switch on the forwarding path of each message. Instead a pump appends to a shared
//! vector under a short lock; while traffic flows the recorder takes the whole vector
//! every millisecond, and only once it has been idle does it sleep on a condition
//! variable, which the next chunk signals (one wake-up per burst, not per message).
//!
//! Memory is bounded: past `limit` bytes waiting in memory, a chunk goes to the spill file
//! instead (`spill`), and the queue holds only a `Spilled(end)` mark that runs of spilled
//! chunks share. The pump pays one write into the page cache (a chunk teed into a pipe is
//! spliced there, so it never passes through the pump's memory); the recorder reads the
//! records back in order when it gets there. Only when that write fails (disk full, I/O
//! error) are the chunk's bytes counted as lost, and the recording says so.

use super::pump::{Lane, TapMsg};
use super::spill::Spill;
pub use super::spill::SpillItem;
use crate::record::Micros;
use bytes::Bytes;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// While data arrived this recently, the recorder polls instead of sleeping.
const ACTIVE: Duration = Duration::from_millis(50);
/// The recorder's poll interval while active.
const POLL: Duration = Duration::from_millis(1);
/// What a queued chunk costs beyond its bytes (the message, the vector slot): counted so
/// that a flood of tiny chunks is bounded too.
const CHUNK_OVERHEAD: usize = 64;
struct State {
    msgs: Vec<TapMsg>,
    /// Memory the queued chunks hold (with `CHUNK_OVERHEAD` each).
    bytes: usize,
    /// The recorder waits on the condition variable and must be woken.
    sleeping: bool,
    /// The receiver is gone: nothing is queued any more.
    closed: bool,
    /// Bytes offered since the start, queued or not: tells whether the pumps still move.
    offered: u64,
    /// A message other than bytes waits (end of a stream, the exit, a viewer, a pump
    /// asking where its stream stands): the recorder must not stand aside now.
    urgent: bool,
    spill: Spill,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    limit: usize,
    /// Per direction (c2s, s2c), the pipe the zero-copy pump tees into: (read, write).
    pipes: [Option<(File, File)>; 2],
    /// The recorder stands aside for a burst (`aside`): the zero-copy pumps widen their
    /// pipes meanwhile (`pump::Widen`).
    aside: AtomicBool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A pump that panicked while holding the lock left a consistent vector behind.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The sending side, cloned into every pump.
#[derive(Clone)]
pub struct Tap {
    inner: Arc<Inner>,
}

/// The recorder's side.
pub struct TapReceiver {
    inner: Arc<Inner>,
    last_data: Instant,
    /// The memory of the batch last taken, still counted against the limit until the
    /// recorder comes back for the next one: a batch being processed is memory too.
    taken: usize,
}

/// A new queue holding at most `limit` bytes in memory; what does not fit is spilled to a
/// file in `spill_dir` (the system's temporary directory when `None`).
pub fn tap(limit: usize, spill_dir: Option<PathBuf>) -> (Tap, TapReceiver) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            msgs: Vec::new(),
            bytes: 0,
            sleeping: false,
            closed: false,
            offered: 0,
            urgent: false,
            spill: Spill::new(spill_dir),
        }),
        wake: Condvar::new(),
        limit,
        pipes: [
            crate::os::recorder_pipe().ok(),
            crate::os::recorder_pipe().ok(),
        ],
        aside: AtomicBool::new(false),
    });
    (
        Tap {
            inner: inner.clone(),
        },
        TapReceiver {
            inner,
            last_data: Instant::now(),
            taken: 0,
        },
    )
}

impl Tap {
    /// Offers a chunk without ever waiting for the recorder: queued in memory while there
    /// is room, written to the spill file when not.
    pub fn offer(&self, lane: Lane, t: Micros, bytes: Bytes) {
        let n = bytes.len();
        let mut s = self.inner.lock();
        if s.closed {
            return;
        }
        s.offered += n as u64;
        let cost = n + CHUNK_OVERHEAD;
        if s.bytes + cost <= self.inner.limit {
            s.bytes += cost;
            return self.push(s, TapMsg::Data(lane, t, bytes));
        }
        match s.spill.append(lane, t, &bytes) {
            Ok(end) => self.mark_spilled(s, end),
            Err(e) => self.push(s, TapMsg::Lost(lane, t, n as u64, e.kind())),
        }
    }

    /// Offers the `n` bytes at the head of pipe `src` — a copy of what the pump is about
    /// to forward, teed there because the recorder's pipe was full — and empties it of
    /// them: read into memory while there is room, spliced into the spill file when not,
    /// so that a pump behind a recorder standing aside copies nothing through its own
    /// memory. An error means `src` could not be emptied and must not be used again.
    pub fn offer_pipe(&self, lane: Lane, t: Micros, src: &File, n: usize) -> std::io::Result<()> {
        let mut s = self.inner.lock();
        if s.closed {
            drop(s);
            return crate::os::discard(src, n);
        }
        s.offered += n as u64;
        let cost = n + CHUNK_OVERHEAD;
        if s.bytes + cost <= self.inner.limit {
            return match crate::os::read_exactly(src, n) {
                Ok(bytes) => {
                    s.bytes += cost;
                    self.push(s, TapMsg::Data(lane, t, bytes));
                    Ok(())
                }
                Err(e) => {
                    self.push(s, TapMsg::Lost(lane, t, n as u64, e.kind()));
                    Err(e)
                }
            };
        }
        match s.spill.append_pipe(lane, t, src, n) {
            Ok(end) => self.mark_spilled(s, end),
            Err((e, left)) => {
                self.push(s, TapMsg::Lost(lane, t, n as u64, e.kind()));
                return crate::os::discard(src, left);
            }
        }
        Ok(())
    }

    /// Queues the mark of a chunk just spilled: consecutive spilled chunks share one, so
    /// the queue stays small however long the recorder is behind.
    fn mark_spilled(&self, mut s: MutexGuard<'_, State>, end: u64) {
        match s.msgs.last_mut() {
            Some(TapMsg::Spilled(e)) => *e = end,
            _ => self.push(s, TapMsg::Spilled(end)),
        }
    }

    /// The pipe a zero-copy pump of `lane` tees its chunks into, when there is one.
    pub fn recorder_pipe(&self, lane: Lane) -> Option<&File> {
        match lane {
            Lane::C2s | Lane::S2c => self.inner.pipes[lane as usize].as_ref().map(|p| &p.1),
            Lane::Stderr => None,
        }
    }

    /// Records that `n` bytes of `lane` were teed into its recorder pipe.
    pub fn piped(&self, lane: Lane, t: Micros, n: usize) {
        let mut s = self.inner.lock();
        s.offered += n as u64;
        self.push(s, TapMsg::Piped(lane, t, n));
    }

    /// Whether the recorder stands aside for a burst now.
    pub fn recorder_aside(&self) -> bool {
        self.inner.aside.load(Ordering::Relaxed)
    }

    /// Bytes the pumps have offered so far (forwarded, or about to be).
    pub fn offered(&self) -> u64 {
        self.inner.lock().offered
    }

    /// Queues a control message (end of stream, exit, a viewer attaching).
    pub fn send(&self, msg: TapMsg) {
        let mut s = self.inner.lock();
        s.urgent = true;
        self.push(s, msg);
    }

    fn push(&self, mut s: MutexGuard<'_, State>, msg: TapMsg) {
        if s.closed {
            return;
        }
        s.msgs.push(msg);
        let wake = std::mem::replace(&mut s.sleeping, false);
        drop(s);
        if wake {
            self.inner.wake.notify_one();
        }
    }
}

/// What `TapReceiver::next_batch` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Batch {
    /// Messages were moved into the caller's vector.
    Some,
    /// Nothing arrived within the time given.
    Timeout,
    /// Nothing is queued and every `Tap` is gone.
    Closed,
}

impl TapReceiver {
    /// Bytes the pumps have offered so far, and whether a message other than bytes waits
    /// (`crate::pace`: the recorder stands aside only for bytes).
    pub fn pace_state(&self) -> (u64, bool) {
        let s = self.inner.lock();
        (s.offered, s.urgent)
    }

    /// The recorder starts or stops standing aside for a burst (see `Tap::recorder_aside`).
    pub fn set_aside(&self, aside: bool) {
        self.inner.aside.store(aside, Ordering::Relaxed);
    }

    /// Moves everything queued into `out` (which should be empty), waiting up to `max`
    /// for something to arrive: polling while traffic is recent, sleeping when idle. The
    /// batch taken before is done with: its memory is free again.
    pub fn next_batch(&mut self, out: &mut Vec<TapMsg>, max: Duration) -> Batch {
        let deadline = Instant::now() + max;
        {
            let mut s = self.inner.lock();
            s.bytes -= std::mem::take(&mut self.taken);
        }
        loop {
            let mut s = self.inner.lock();
            if !s.msgs.is_empty() {
                s.urgent = false;
                std::mem::swap(&mut s.msgs, out);
                self.taken = s.bytes;
                self.last_data = Instant::now();
                return Batch::Some;
            }
            s.spill.empty_if_read();
            if Arc::strong_count(&self.inner) == 1 {
                return Batch::Closed;
            }
            let now = Instant::now();
            if now >= deadline {
                return Batch::Timeout;
            }
            if now.duration_since(self.last_data) < ACTIVE {
                drop(s);
                std::thread::sleep(POLL.min(deadline - now));
            } else {
                s.sleeping = true;
                // Also wake now and then to notice that every sender is gone.
                let wait = (deadline - now).min(Duration::from_millis(100));
                let (mut s, _) = self
                    .inner
                    .wake
                    .wait_timeout(s, wait)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                s.sleeping = false;
            }
        }
    }

    /// Takes the `n` bytes a `Piped` message announced out of the lane's recorder pipe.
    /// They are there: the pump queued the message after teeing them.
    pub fn read_piped(&mut self, lane: Lane, n: usize) -> std::io::Result<Bytes> {
        let mut buf = bytes::BytesMut::new();
        self.read_piped_into(lane, n, &mut buf)?;
        Ok(buf.freeze())
    }

    /// Appends the next `n` bytes of a lane's recorder pipe (of chunks `Piped` announced)
    /// to `buf`.
    pub fn read_piped_into(
        &mut self,
        lane: Lane,
        n: usize,
        buf: &mut bytes::BytesMut,
    ) -> std::io::Result<()> {
        let Some((r, _)) = &self.inner.pipes[lane as usize % 2] else {
            return Err(std::io::ErrorKind::NotFound.into());
        };
        crate::os::read_append(r, n, buf)
    }

    /// Reads the spilled chunks up to `end` (a `Spilled` mark), in the order they were
    /// offered. A record that can't be read back (the disk failed under it) is reported as
    /// lost bytes of its lane.
    pub fn read_spill(&mut self, end: u64, each: impl FnMut(SpillItem)) {
        let Some(mut cursor) = self.inner.lock().spill.reader() else {
            return;
        };
        cursor.read(end, each);
        self.inner.lock().spill.set_read(&cursor);
    }
}

impl Drop for TapReceiver {
    fn drop(&mut self) {
        let mut s = self.inner.lock();
        s.closed = true;
        s.msgs.clear();
        // Close the spill file now, not when the last pump's `Tap` goes: it is unnamed, so
        // that frees its space at once — on a full disk shared with the recording, the
        // space the recording's last lines (the exit line) need.
        s.spill.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(out: &[TapMsg]) -> Vec<String> {
        out.iter()
            .map(|m| match m {
                TapMsg::Data(_, t, b) => format!("data {} {}", t.0, b.len()),
                TapMsg::Spilled(end) => format!("spilled {end}"),
                TapMsg::Lost(_, t, n, _) => format!("lost {} {n}", t.0),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn chunks_past_the_memory_bound_are_spilled_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tap(2 * CHUNK_OVERHEAD + 10, Some(dir.path().to_owned()));
        tx.offer(Lane::C2s, Micros(1), Bytes::from_static(b"12345"));
        tx.offer(Lane::S2c, Micros(2), Bytes::from_static(b"678"));
        tx.offer(Lane::C2s, Micros(3), Bytes::from_static(b"9abc"));
        tx.offer(Lane::Stderr, Micros(4), Bytes::from_static(b"de"));
        let mut out = Vec::new();
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Some);
        let end = 2;
        assert_eq!(
            describe(&out),
            ["data 1 5", "data 2 3", format!("spilled {end}").as_str()]
        );
        let mut back = Vec::new();
        rx.read_spill(end, |item| {
            if let SpillItem::Data(lane, t, b) = item {
                back.push((lane, t.0, b));
            }
        });
        assert_eq!(
            back,
            [
                (Lane::C2s, 3, Bytes::from_static(b"9abc")),
                (Lane::Stderr, 4, Bytes::from_static(b"de"))
            ]
        );
        // While the batch is being processed its memory still counts: more is spilled.
        tx.offer(Lane::C2s, Micros(5), Bytes::from_static(b"1"));
        assert!(matches!(
            rx.inner.lock().msgs.last(),
            Some(TapMsg::Spilled(_))
        ));
        rx.read_spill(end + 1, |_| {});
        // Coming back for the next batch frees the room; the spill is emptied once read.
        out.clear();
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Some);
        out.clear();
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Timeout);
        tx.offer(Lane::C2s, Micros(5), Bytes::from_static(b"123456789"));
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Some);
        assert_eq!(describe(&out), ["data 5 9"]);
        assert_eq!(rx.inner.lock().spill.end, 0);
    }

    /// A pipe holding `bytes`, as a pump's side pipe holds a teed chunk.
    fn pipe_with(bytes: &[u8]) -> (File, File) {
        use std::io::Write;
        let (r, mut w) = crate::os::recorder_pipe().unwrap();
        w.write_all(bytes).unwrap();
        (r, w)
    }

    /// Whether the pipe holds nothing: a byte written now is the first one read.
    fn is_empty((r, w): &(File, File)) -> bool {
        use std::io::{Read, Write};
        (&*w).write_all(b"!").unwrap();
        let mut first = [0u8];
        (&*r).read_exact(&mut first).unwrap();
        first == *b"!"
    }

    #[test]
    fn a_chunk_in_a_pipe_is_queued_while_there_is_room_then_spliced_into_the_spill() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tap(CHUNK_OVERHEAD + 5, Some(dir.path().to_owned()));
        let a = pipe_with(b"12345");
        tx.offer_pipe(Lane::C2s, Micros(1), &a.0, 5).unwrap();
        let b = pipe_with(b"6789");
        tx.offer_pipe(Lane::S2c, Micros(2), &b.0, 4).unwrap();
        assert!(is_empty(&a) && is_empty(&b), "the pipes are emptied");
        assert_eq!(tx.offered(), 9);
        let mut out = Vec::new();
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Some);
        let end = 1;
        assert_eq!(
            describe(&out),
            ["data 1 5", format!("spilled {end}").as_str()]
        );
        let mut back = Vec::new();
        rx.read_spill(end, |item| {
            if let SpillItem::Data(lane, t, b) = item {
                back.push((lane, t.0, b));
            }
        });
        assert_eq!(back, [(Lane::S2c, 2, Bytes::from_static(b"6789"))]);
    }

    #[test]
    fn a_chunk_in_a_pipe_that_cannot_be_kept_is_lost_and_the_pipe_still_emptied() {
        let (tx, rx) = tap(0, None);
        drop(rx);
        let a = pipe_with(b"12345");
        tx.offer_pipe(Lane::C2s, Micros(1), &a.0, 5).unwrap();
        assert!(is_empty(&a), "a closed tap drains the pipe");
        // A spill file that fails: a pipe that holds fewer bytes than announced.
        let (tx, mut rx) = tap(0, None);
        let (b, wb) = pipe_with(b"123");
        drop(wb);
        assert!(tx.offer_pipe(Lane::C2s, Micros(2), &b, 5).is_err());
        let mut out = Vec::new();
        rx.next_batch(&mut out, Duration::ZERO);
        assert_eq!(describe(&out), ["lost 2 5"]);
    }

    #[test]
    fn a_spill_that_cannot_be_created_is_counted_as_lost() {
        let (tx, mut rx) = tap(0, Some("/nonexistent/dir".into()));
        // The fallback is the temporary directory: still recorded.
        tx.offer(Lane::C2s, Micros(1), Bytes::from_static(b"12345"));
        let mut out = Vec::new();
        rx.next_batch(&mut out, Duration::ZERO);
        assert_eq!(describe(&out), ["spilled 1"]);
    }

    #[test]
    fn a_sleeping_receiver_is_woken_and_sees_the_end() {
        let (tx, mut rx) = tap(1 << 20, None);
        rx.last_data = Instant::now().checked_sub(ACTIVE * 2).unwrap();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(TapMsg::Eof(Lane::C2s));
        });
        let mut out = Vec::new();
        assert_eq!(
            rx.next_batch(&mut out, Duration::from_secs(30)),
            Batch::Some
        );
        sender.join().unwrap();
        out.clear();
        assert_eq!(
            rx.next_batch(&mut out, Duration::from_secs(30)),
            Batch::Closed
        );
    }
}
