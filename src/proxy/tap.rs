//! The pumps' copies on their way to the recorder: a queue that never makes a pump wait
//! and, under traffic, never makes it pay for waking the recorder.
//!
//! A channel would wake the recorder's thread on every chunk — a syscall and a context
//! switch on the forwarding path of each message. Instead a pump appends to a shared
//! vector under a short lock; while traffic flows the recorder takes the whole vector
//! every millisecond, and only once it has been idle does it sleep on a condition
//! variable, which the next chunk signals (one wake-up per burst, not per message).
//! Past `limit` bytes waiting, chunks are counted as lost instead of queued.

use super::pump::{Lane, TapMsg};
use crate::record::Micros;
use bytes::Bytes;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// While data arrived this recently, the recorder polls instead of sleeping.
const ACTIVE: Duration = Duration::from_millis(50);
/// The recorder's poll interval while active.
const POLL: Duration = Duration::from_millis(1);

struct State {
    msgs: Vec<TapMsg>,
    bytes: usize,
    /// The recorder waits on the condition variable and must be woken.
    sleeping: bool,
    /// The receiver is gone: nothing is queued any more.
    closed: bool,
    /// Bytes offered since the start, queued or not: tells whether the pumps still move.
    offered: u64,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    limit: usize,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A pump that panicked while holding the lock left a consistent vector behind.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
}

/// A new queue holding at most `limit` bytes of data.
pub fn tap(limit: usize) -> (Tap, TapReceiver) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            msgs: Vec::new(),
            bytes: 0,
            sleeping: false,
            closed: false,
            offered: 0,
        }),
        wake: Condvar::new(),
        limit,
    });
    (
        Tap {
            inner: inner.clone(),
        },
        TapReceiver {
            inner,
            last_data: Instant::now(),
        },
    )
}

impl Tap {
    /// Offers a chunk without ever waiting for the recorder.
    pub fn offer(&self, lane: Lane, t: Micros, bytes: Bytes) {
        let n = bytes.len();
        let mut s = self.inner.lock();
        s.offered += n as u64;
        let msg = if s.bytes + n > self.inner.limit {
            TapMsg::Lost(lane, t, n as u64)
        } else {
            s.bytes += n;
            TapMsg::Data(lane, t, bytes)
        };
        self.push(s, msg);
    }

    /// Bytes the pumps have offered so far (forwarded, or about to be).
    pub fn offered(&self) -> u64 {
        self.inner.lock().offered
    }

    /// Queues a control message (end of stream, exit, a viewer attaching).
    pub fn send(&self, msg: TapMsg) {
        let s = self.inner.lock();
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
    /// Moves everything queued into `out` (which should be empty), waiting up to `max`
    /// for something to arrive: polling while traffic is recent, sleeping when idle.
    pub fn next_batch(&mut self, out: &mut Vec<TapMsg>, max: Duration) -> Batch {
        let deadline = Instant::now() + max;
        loop {
            let mut s = self.inner.lock();
            if !s.msgs.is_empty() {
                std::mem::swap(&mut s.msgs, out);
                s.bytes = 0;
                self.last_data = Instant::now();
                return Batch::Some;
            }
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
                    .unwrap_or_else(|p| p.into_inner());
                s.sleeping = false;
            }
        }
    }
}

impl Drop for TapReceiver {
    fn drop(&mut self) {
        let mut s = self.inner.lock();
        s.closed = true;
        s.msgs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_arrive_in_order_and_the_bound_turns_excess_into_losses() {
        let (tx, mut rx) = tap(10);
        tx.offer(Lane::C2s, Micros(1), Bytes::from_static(b"12345"));
        tx.offer(Lane::S2c, Micros(2), Bytes::from_static(b"678"));
        tx.offer(Lane::C2s, Micros(3), Bytes::from_static(b"9abc"));
        let mut out = Vec::new();
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Some);
        let kinds: Vec<String> = out
            .iter()
            .map(|m| match m {
                TapMsg::Data(_, t, b) => format!("data {} {}", t.0, b.len()),
                TapMsg::Lost(_, t, n) => format!("lost {} {n}", t.0),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(kinds, ["data 1 5", "data 2 3", "lost 3 4"]);
        // Taking the batch frees the room.
        out.clear();
        tx.offer(Lane::C2s, Micros(4), Bytes::from_static(b"123456789"));
        assert_eq!(rx.next_batch(&mut out, Duration::ZERO), Batch::Some);
        assert!(matches!(out[0], TapMsg::Data(..)));
    }

    #[test]
    fn a_sleeping_receiver_is_woken_and_sees_the_end() {
        let (tx, mut rx) = tap(1 << 20);
        rx.last_data = Instant::now() - ACTIVE * 2;
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
