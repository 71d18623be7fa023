//! What the control connections and the two message lanes' pumps share: the intercept,
//! the held messages, the requests rpctap injected and still waits on, and per lane a queue
//! of work for its pump (frames to inject, held frames to release).
//!
//! Only a pump writes to its peer: a connection queues a job and wakes the pump, which
//! writes between two frames. A lane needs frame boundaries (`needs_framed`) while it has
//! jobs, an intercept covers it, or responses to injected requests travel on it; its
//! pump checks one relaxed atomic (`work`) per chunk otherwise.

use super::protocol::{to_line, Event, Lanes, Peer, Reply};
use crate::filter::Filter;
use crate::proxy::{Lane, Tap, TapMsg};
use crate::record::{Dir, Event as RecEvent, Mark, MessageEvent, Micros, Release, ReleaseAction};
use crate::wire::Framing;
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Injected requests waiting for their response, at most: a controller that floods
/// `send` toward a peer that never answers cannot grow the shim without bound.
const MAX_OUTSTANDING: usize = 1024;
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
enum Deferred {
    /// An injected request, to be queued on the other lane once its response's lane frames.
    Request(Job),
    /// The reply to `intercept`, once every lane in `rest` frames too.
    Reply {
        conn: Arc<Conn>,
        id: u64,
        rest: Vec<Dir>,
    },
}

struct Held {
    conn: u64,
    dir: Dir,
    wire: Bytes,
    body: Bytes,
}

struct Outstanding {
    /// The id the controller gave its request, restored in the reply.
    original: Value,
    /// Who waits for the response; `None` once it timed out or hung up.
    to: Option<(Arc<Conn>, u64)>,
    /// The lane the response travels on.
    lane: Dir,
}

struct Intercept {
    conn: Arc<Conn>,
    filter: Filter,
    lanes: Lanes,
}

#[derive(Default)]
struct State {
    intercept: Option<Intercept>,
    holds: BTreeMap<u64, Held>,
    outstanding: HashMap<String, Outstanding>,
    jobs: [VecDeque<Job>; 2],
    /// Per lane, what waits for that lane's pump to frame (`Control::framing`).
    deferred: [Vec<Deferred>; 2],
    next_hold: u64,
    next_inject: u64,
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
    prefix: String,
    state: Mutex<State>,
    signals: [Signal; 2],
    tap: Tap,
}

fn other(dir: Dir) -> Dir {
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

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells `dir`'s pump to look for work; called with the state locked, after the
    /// change, so the pump cannot miss it.
    fn signal(&self, dir: Dir) {
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

    // ---- the connections' side ----

    /// Injects `message` toward `to`. A request gets an id rpctap owns and its reply
    /// when the response comes (or a timeout); anything else is answered once written.
    pub fn send(
        self: &Arc<Self>,
        conn: &Arc<Conn>,
        req: u64,
        to: Peer,
        message: Value,
        timeout: Duration,
    ) -> Result<(), String> {
        let Value::Object(mut msg) = message else {
            return Err("the message must be a JSON-RPC object".into());
        };
        let dir = to.dir();
        let is_request = msg.contains_key("method") && msg.get("id").is_some_and(|v| !v.is_null());
        let mut s = self.lock();
        if !is_request {
            let body = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
            s.jobs[dir as usize].push_back(Job::Inject {
                body,
                done: Some((conn.clone(), req)),
            });
            self.signal(dir);
            return Ok(());
        }
        if s.outstanding.len() >= MAX_OUTSTANDING {
            return Err(format!(
                "{MAX_OUTSTANDING} injected requests are still unanswered; not sending more"
            ));
        }
        s.next_inject += 1;
        let id = format!("{}{}", self.prefix, s.next_inject);
        let original = msg
            .insert("id".into(), Value::String(id.clone()))
            .unwrap_or(Value::Null);
        let body = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
        s.outstanding.insert(
            id.clone(),
            Outstanding {
                original,
                to: Some((conn.clone(), req)),
                lane: other(dir),
            },
        );
        // Written only once the response's lane frames: were it still the byte pump, a
        // quick response could pass to the peer in the same chunk as other bytes.
        s.deferred[other(dir) as usize].push(Deferred::Request(Job::Inject { body, done: None }));
        self.signal(other(dir));
        drop(s);
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("send-timeout".into())
            .spawn(move || {
                std::thread::sleep(timeout);
                me.expire(&id, timeout);
            });
        if spawned.is_err() {
            self.expire_now(conn, req);
        }
        Ok(())
    }

    /// The wait for injected request `id` is over: its controller is told, and a late
    /// response is still diverted (and recorded), never forwarded.
    fn expire(&self, id: &str, timeout: Duration) {
        let waiter = self
            .lock()
            .outstanding
            .get_mut(id)
            .and_then(|o| o.to.take());
        if let Some((conn, req)) = waiter {
            conn.reply(&Reply::error(
                req,
                format!("timeout after {} ms", timeout.as_millis()),
            ));
        }
    }

    fn expire_now(&self, conn: &Conn, req: u64) {
        let mut s = self.lock();
        for o in s.outstanding.values_mut() {
            if o.to
                .as_ref()
                .is_some_and(|(c, r)| c.id == conn.id && *r == req)
            {
                o.to = None;
            }
        }
        conn.reply(&Reply::error(
            req,
            "cannot wait for the response (no thread)",
        ));
    }

    /// Sets (or, with an empty filter, clears) `conn`'s intercept. `Ok(true)`: the reply
    /// is sent once the lanes it covers frame, so that nothing sent after it passes unseen.
    pub fn intercept(
        &self,
        conn: &Arc<Conn>,
        id: u64,
        filter: &str,
        lanes: Lanes,
    ) -> Result<bool, String> {
        let filter = if filter.trim().is_empty() {
            None
        } else {
            Some(Filter::parse(filter).map_err(|e| format!("bad filter: {e}"))?)
        };
        let mut s = self.lock();
        if let Some(i) = &s.intercept {
            if i.conn.id != conn.id {
                return Err("another controller holds the intercept".into());
            }
        }
        let mut rest: Vec<Dir> = [Dir::C2s, Dir::S2c]
            .into_iter()
            .filter(|d| filter.is_some() && lanes.covers(*d))
            .collect();
        s.intercept = filter.map(|filter| Intercept {
            conn: conn.clone(),
            filter,
            lanes,
        });
        for dir in [Dir::C2s, Dir::S2c] {
            self.signal(dir);
        }
        let Some(first) = rest.pop() else {
            return Ok(false);
        };
        s.deferred[first as usize].push(Deferred::Reply {
            conn: conn.clone(),
            id,
            rest,
        });
        Ok(true)
    }

    /// Decides the fate of held message `hold`, which `conn` must hold.
    pub fn decide(
        &self,
        conn: &Conn,
        hold: u64,
        action: ReleaseAction,
        body: Option<Value>,
    ) -> Result<(), String> {
        let mut s = self.lock();
        match s.holds.get(&hold) {
            Some(h) if h.conn == conn.id => {}
            Some(_) => return Err(format!("hold {hold} belongs to another controller")),
            None => return Err(format!("no held message {hold}")),
        }
        let Some(h) = s.holds.remove(&hold) else {
            unreachable!("looked up above")
        };
        self.release(&mut s, hold, h, action, body);
        Ok(())
    }

    fn release(
        &self,
        s: &mut State,
        hold: u64,
        h: Held,
        action: ReleaseAction,
        body: Option<Value>,
    ) {
        let compact = |v: &Value| Bytes::from(serde_json::to_vec(v).unwrap_or_default());
        match action {
            ReleaseAction::Forward | ReleaseAction::Edit => {
                let edited = match (action, &body) {
                    (ReleaseAction::Edit, Some(b)) => Some(compact(b)),
                    _ => None,
                };
                s.jobs[h.dir as usize].push_back(Job::Release {
                    hold,
                    wire: h.wire,
                    edited,
                });
                self.signal(h.dir);
            }
            ReleaseAction::Drop | ReleaseAction::Answer => {
                self.tap.send(TapMsg::Release(Release {
                    t: Micros::now(),
                    dir: h.dir,
                    hold,
                    action,
                    body: None,
                }));
                if action == ReleaseAction::Answer {
                    let answer = answer_for(&h.body, body.unwrap_or(Value::Null));
                    let back = other(h.dir);
                    s.jobs[back as usize].push_back(Job::Inject {
                        body: compact(&answer).to_vec(),
                        done: None,
                    });
                    self.signal(back);
                }
            }
        }
    }

    /// Forwards every message `conn` holds, in the order they were held.
    pub fn forward_all(&self, conn: &Conn) {
        let mut s = self.lock();
        let mine: Vec<u64> = s
            .holds
            .iter()
            .filter(|(_, h)| h.conn == conn.id)
            .map(|(n, _)| *n)
            .collect();
        for hold in mine {
            if let Some(h) = s.holds.remove(&hold) {
                self.release(&mut s, hold, h, ReleaseAction::Forward, None);
            }
        }
    }

    /// `conn` hung up: what it holds goes on, its intercept is cleared, and responses to
    /// its injected requests are diverted to nowhere.
    pub fn disconnect(&self, conn: &Conn) {
        self.forward_all(conn);
        let mut s = self.lock();
        if s.intercept.as_ref().is_some_and(|i| i.conn.id == conn.id) {
            s.intercept = None;
        }
        for o in s.outstanding.values_mut() {
            if o.to.as_ref().is_some_and(|(c, _)| c.id == conn.id) {
                o.to = None;
            }
        }
        for dir in [Dir::C2s, Dir::S2c] {
            self.signal(dir);
        }
    }
}

/// The response a controller wrote for a held request: its object, with the request's
/// id and `"jsonrpc"` filled in when it leaves them out.
fn answer_for(request: &[u8], answer: Value) -> Value {
    let Value::Object(mut a) = answer else {
        return answer;
    };
    let id = serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|r| r.get("id").cloned());
    if let (false, Some(id)) = (a.contains_key("id"), id) {
        a.insert("id".into(), id);
    }
    if !a.contains_key("jsonrpc") {
        a.shift_insert(0, "jsonrpc".into(), "2.0".into());
    }
    Value::Object(a)
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
