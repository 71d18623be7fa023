//! What the control connections and the two message lanes' pumps share: the intercept,
//! the held messages, the requests rpctap injected and still waits on, and per lane a queue
//! of work for its pump (frames to inject, held frames to release).
//!
//! Only a pump writes to its peer: a connection queues a job and wakes the pump, which
//! writes between two frames. A lane needs frame boundaries (`needs_framed`) while it has
//! jobs, an intercept covers it, or responses to injected requests travel on it; its
//! pump checks one relaxed atomic (`work`) per chunk otherwise. What each command does to
//! this state is in `commands`.

use super::protocol::{to_line, Event, Lanes, Reply};
use crate::filter::Filter;
use crate::proxy::{Lane, Tap, TapMsg};
use crate::record::{Dir, Event as RecEvent, Mark, MessageEvent, Micros};
use crate::wire::Framing;
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, MutexGuard};

/// Injected requests waiting for their response, at most: a controller that floods
/// `send` toward a peer that never answers cannot grow the shim without bound.
pub(super) const MAX_OUTSTANDING: usize = 1024;
/// Held messages, at most; past this an intercept lets matching messages go on.
const MAX_HELD: usize = 4096;

/// A controller's connection, as the shim writes to it.
pub struct Conn {
    pub id: u64,
    /// Lines to the controller, written by the connection's writer thread.
    pub tx: SyncSender<Vec<u8>>,
    /// To hang up on a controller that does not read what it is sent.
    pub sock: UnixStream,
}

impl Conn {
    /// Queues one line, never waiting: a controller that lets its queue fill is cut off
    /// (which releases what it holds).
    pub fn send(&self, line: Vec<u8>) {
        if self.tx.try_send(line).is_err() {
            let _ = self.sock.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn reply(&self, reply: &Reply) {
        self.send(to_line(reply));
    }
}

/// Work for a lane's pump, done between two frames.
pub enum Job {
    /// Write this JSON body, framed as the lane is; `done` gets the reply once written.
    Inject {
        body: Vec<u8>,
        done: Option<(Arc<Conn>, u64)>,
    },
    /// A held frame goes on: its original wire bytes (`forward`) or the edited body.
    Release {
        hold: u64,
        wire: Bytes,
        edited: Option<Bytes>,
    },
}

/// Work that waits until a lane frames: nothing on it may pass as plain bytes from then on.
pub(super) enum Deferred {
    /// An injected request, to be queued on the other lane once its response's lane frames.
    Request(Job),
    /// The reply to `intercept`, once every lane in `rest` frames too.
    Reply {
        conn: Arc<Conn>,
        id: u64,
        rest: Vec<Dir>,
    },
}

pub(super) struct Held {
    pub(super) conn: u64,
    pub(super) dir: Dir,
    pub(super) wire: Bytes,
    pub(super) body: Bytes,
}

pub(super) struct Outstanding {
    /// The id the controller gave its request, restored in the reply.
    pub(super) original: Value,
    /// Who waits for the response; `None` once it timed out or hung up.
    pub(super) to: Option<(Arc<Conn>, u64)>,
    /// The lane the response travels on.
    pub(super) lane: Dir,
}

pub(super) struct Intercept {
    pub(super) conn: Arc<Conn>,
    pub(super) filter: Filter,
    pub(super) lanes: Lanes,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) intercept: Option<Intercept>,
    pub(super) holds: BTreeMap<u64, Held>,
    pub(super) outstanding: HashMap<String, Outstanding>,
    pub(super) jobs: [VecDeque<Job>; 2],
    /// Per lane, what waits for that lane's pump to frame (`Control::framing`).
    pub(super) deferred: [Vec<Deferred>; 2],
    pub(super) next_hold: u64,
    pub(super) next_inject: u64,
}

impl State {
    fn needs_framed(&self, dir: Dir) -> bool {
        !self.jobs[dir as usize].is_empty()
            || !self.deferred[dir as usize].is_empty()
            || self.intercept.as_ref().is_some_and(|i| i.lanes.covers(dir))
            || self.outstanding.values().any(|o| o.lane == dir)
    }
}

/// A lane's signal to its pump: `work` says there may be control work, and a byte on
/// the wake socket interrupts the pump's wait for its source.
struct Signal {
    work: AtomicBool,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

/// The control state of one shim.
pub struct Control {
    pub(super) prefix: String,
    state: Mutex<State>,
    signals: [Signal; 2],
    pub(super) tap: Tap,
}

pub(super) fn other(dir: Dir) -> Dir {
    match dir {
        Dir::C2s => Dir::S2c,
        Dir::S2c => Dir::C2s,
    }
}

fn lane_of(dir: Dir) -> Lane {
    match dir {
        Dir::C2s => Lane::C2s,
        Dir::S2c => Lane::S2c,
    }
}

impl Control {
    /// The control state of the shim with process id `pid`, whose pumps offer to `tap`.
    pub fn new(pid: u32, tap: Tap) -> std::io::Result<Arc<Control>> {
        let signal = || -> std::io::Result<Signal> {
            let (wake_tx, wake_rx) = UnixStream::pair()?;
            wake_tx.set_nonblocking(true)?;
            wake_rx.set_nonblocking(true)?;
            Ok(Signal {
                work: AtomicBool::new(false),
                wake_tx,
                wake_rx,
            })
        };
        Ok(Arc::new(Control {
            prefix: format!("rpctap-{pid}-"),
            state: Mutex::new(State::default()),
            signals: [signal()?, signal()?],
            tap,
        }))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells `dir`'s pump to look for work; called with the state locked, after the
    /// change, so the pump cannot miss it.
    pub(super) fn signal(&self, dir: Dir) {
        let s = &self.signals[dir as usize];
        s.work.store(true, Ordering::Relaxed);
        let _ = (&s.wake_tx).write(&[1]);
    }

    // ---- the pump's side ----

    /// May `dir` have control work? One relaxed load: the byte pump's per-chunk cost.
    pub fn work(&self, dir: Dir) -> bool {
        self.signals[dir as usize].work.load(Ordering::Relaxed)
    }

    /// The socket that becomes readable when `dir`'s pump is wanted.
    pub fn wake_fd(&self, dir: Dir) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.signals[dir as usize].wake_rx.as_fd()
    }

    /// Empties the wake socket after the pump woke.
    pub fn drain_wake(&self, dir: Dir) {
        let mut buf = [0u8; 64];
        while matches!((&self.signals[dir as usize].wake_rx).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// The next job for `dir`'s pump.
    pub fn next_job(&self, dir: Dir) -> Option<Job> {
        self.lock().jobs[dir as usize].pop_front()
    }

    /// `dir`'s pump frames: everything it reads from now on is seen frame by frame, so
    /// requests whose response travels on `dir` may be written, and an intercept on it
    /// confirmed. Called by the pump at each turn of its framed loop.
    pub fn framing(&self, dir: Dir) {
        let mut s = self.lock();
        if s.deferred[dir as usize].is_empty() {
            return;
        }
        for d in std::mem::take(&mut s.deferred[dir as usize]) {
            match d {
                Deferred::Request(job) => {
                    s.jobs[other(dir) as usize].push_back(job);
                    self.signal(other(dir));
                }
                Deferred::Reply { conn, id, mut rest } => match rest.pop() {
                    None => conn.reply(&Reply::ok(id)),
                    Some(next) => {
                        s.deferred[next as usize].push(Deferred::Reply { conn, id, rest });
                        self.signal(next);
                    }
                },
            }
        }
    }

    /// True (and `work` cleared) when `dir` needs no frame boundaries any more.
    pub fn leave_framed(&self, dir: Dir) -> bool {
        let s = self.lock();
        if s.needs_framed(dir) {
            return false;
        }
        self.signals[dir as usize]
            .work
            .store(false, Ordering::Relaxed);
        true
    }

    /// Offers a whole message frame read from `dir`'s source to the control state:
    /// true when it was taken (held by the intercept, or the response to an injected
    /// request) and must not go on; it has then been offered to the tap, marked.
    pub fn take_frame(
        &self,
        dir: Dir,
        t: Micros,
        framing: Framing,
        wire: &Bytes,
        body: &Bytes,
    ) -> bool {
        let mut s = self.lock();
        if s.outstanding.values().any(|o| o.lane == dir) && self.divert(&mut s, dir, t, wire, body)
        {
            return true;
        }
        let Some(i) = s.intercept.as_ref().filter(|i| i.lanes.covers(dir)) else {
            return false;
        };
        if s.holds.len() >= MAX_HELD || !matches_filter(&i.filter, dir, t, framing, body) {
            return false;
        }
        let conn = i.conn.clone();
        s.next_hold += 1;
        let hold = s.next_hold;
        s.holds.insert(
            hold,
            Held {
                conn: conn.id,
                dir,
                wire: wire.clone(),
                body: body.clone(),
            },
        );
        let mark = Mark {
            held: Some(hold),
            ..Mark::default()
        };
        self.tap
            .send(TapMsg::Marked(lane_of(dir), t, wire.clone(), mark));
        let (json, text) = match serde_json::from_slice::<Value>(body) {
            Ok(v) => (Some(v), None),
            Err(_) => (None, Some(String::from_utf8_lossy(body).into_owned())),
        };
        conn.send(to_line(&Event::Held {
            hold,
            dir,
            t: t.0.max(0) as u64,
            body: json,
            text,
        }));
        true
    }

    /// A response on `dir` to a request rpctap injected: recorded as diverted and handed
    /// to whoever waits for it, never to a peer.
    fn divert(&self, s: &mut State, dir: Dir, t: Micros, wire: &Bytes, body: &Bytes) -> bool {
        let Ok(Value::Object(mut msg)) = serde_json::from_slice::<Value>(body) else {
            return false;
        };
        if msg.contains_key("method") {
            return false;
        }
        let Some(id) = msg.get("id").and_then(Value::as_str) else {
            return false;
        };
        if !id.starts_with(&self.prefix) {
            return false;
        }
        let Some(o) = s.outstanding.remove(id) else {
            return false;
        };
        if o.lane != dir {
            s.outstanding.insert(id.to_owned(), o);
            return false;
        }
        let mark = Mark {
            diverted: true,
            ..Mark::default()
        };
        self.tap
            .send(TapMsg::Marked(lane_of(dir), t, wire.clone(), mark));
        if let Some((conn, req)) = o.to {
            msg.insert("id".into(), o.original);
            conn.reply(&Reply::with_reply(req, Value::Object(msg)));
        }
        true
    }
}

/// Does the intercept's filter accept this message? Judged on the message alone (a
/// store of one row): what depends on later lines (a response's latency) is unknown yet.
fn matches_filter(filter: &Filter, dir: Dir, t: Micros, framing: Framing, body: &Bytes) -> bool {
    let mut store = crate::session::Store::new();
    let row = store.push(RecEvent::Message(MessageEvent {
        seq: 1,
        t,
        dir,
        framing,
        body: body.clone(),
        headers: None,
        redacted: false,
        oversized: None,
        mark: Mark::default(),
    }));
    row.is_some_and(|r| filter.matches(&store, r))
}
