//! A recording's rows one at a time, paired as `Store` pairs them, without holding the
//! session: what `cat` and `stats` need to stream a file of any size (issue 12). Memory
//! is the requests still waiting for an answer plus a window of recently answered ones,
//! never the bodies.
//!
//! The rules are `Store::push`'s, row for row (pairing itself is `OpenRequests`): one row per message, noise and stderr
//! line; a response pairs with the open request of its id travelling the other way; a
//! cancellation marks the open request of its id, else the newest answered one among the
//! last `CANCEL_WINDOW` rows (tests check that both agree on recordings).
//!
//! Not responsible for: filters (they need the whole store: a request's status depends
//! on later lines), drawing.

use super::OpenRequests;
use crate::record::{Dir, Event, Micros};
use crate::rpc::{classify, Id, Kind};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// How far back (in rows) a cancellation looks for a request already answered.
pub const CANCEL_WINDOW: u64 = 100_000;

/// A request as the pairer remembers it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The row's index in the recording (0 for its first row).
    pub row: u64,
    pub seq: u64,
    pub t: Micros,
    pub dir: Dir,
    pub id: Option<Id>,
    pub method: Option<Rc<str>>,
    /// Set by a cancellation.
    pub cancelled: bool,
    /// Answered: with an error response (`Some(true)`) or a result (`Some(false)`).
    pub answer: Option<bool>,
}

/// One row of the recording with what pairing knows when it is read.
#[derive(Debug, Clone)]
pub struct StreamRow {
    pub row: u64,
    pub seq: u64,
    pub t: Micros,
    pub kind: Kind,
    /// Stderr rows travel server → client, as in the store.
    pub dir: Dir,
    /// The method; for a response, its request's.
    pub method: Option<Rc<str>>,
    pub id: Option<Id>,
    /// The recorded body, or the noise or stderr text.
    pub body: Bytes,
    /// For a response: the request it answers (as it stood before this answer).
    pub answers: Option<Request>,
    /// For a cancellation that newly cancelled a request: that request.
    pub cancels: Option<Request>,
}

impl StreamRow {
    /// Microseconds between a response and its request.
    pub fn latency(&self) -> Option<i64> {
        self.answers.as_ref().map(|r| (self.t.0 - r.t.0).abs())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdKey {
    None,
    Num(i64),
    Str(Rc<str>),
}

fn key(id: &Option<Id>) -> IdKey {
    match id {
        None => IdKey::None,
        Some(Id::Num(n)) => IdKey::Num(*n),
        Some(Id::Str(s)) => IdKey::Str(s.as_str().into()),
    }
}

/// Pairs rows as they are read.
#[derive(Default)]
pub struct Pairer {
    rows: u64,
    open: OpenRequests<IdKey, Request>,
    /// Answered requests of the last `CANCEL_WINDOW` rows, oldest first.
    recent: VecDeque<Request>,
    /// Requests whose id a later request reused before they were answered.
    replaced: Vec<Request>,
    methods: HashMap<Box<str>, Rc<str>>,
}

impl Pairer {
    pub fn new() -> Pairer {
        Pairer::default()
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The row `event` makes, if any (session, exit and gap lines make none).
    pub fn push(&mut self, event: Event) -> Option<StreamRow> {
        let (seq, t, kind, dir, body) = match event {
            Event::Session(_)
            | Event::Exit(_)
            | Event::Gap(_)
            | Event::Undelivered(_)
            | Event::Release(_) => return None,
            Event::Noise(n) => (n.seq, n.t, Kind::Noise, n.dir, n.text),
            Event::Stderr(s) => (s.seq, s.t, Kind::Stderr, Dir::S2c, s.text),
            Event::Message(m) if m.oversized.is_some() => {
                (m.seq, m.t, Kind::Oversized, m.dir, Bytes::new())
            }
            Event::Message(m) => (m.seq, m.t, Kind::Invalid, m.dir, m.body),
        };
        let row = self.rows;
        self.rows += 1;
        while self
            .recent
            .front()
            .is_some_and(|r| r.row + CANCEL_WINDOW < self.rows)
        {
            self.recent.pop_front();
        }
        let mut out = StreamRow {
            row,
            seq,
            t,
            kind,
            dir,
            method: None,
            id: None,
            body,
            answers: None,
            cancels: None,
        };
        if kind == Kind::Invalid {
            self.message(&mut out);
        }
        Some(out)
    }

    fn message(&mut self, out: &mut StreamRow) {
        let c = classify(&out.body);
        out.kind = c.kind;
        out.method = c.method.as_deref().map(|m| self.intern(m));
        out.id = c.id;
        match out.kind {
            Kind::Request => {
                let req = Request {
                    row: out.row,
                    seq: out.seq,
                    t: out.t,
                    dir: out.dir,
                    id: out.id.clone(),
                    method: out.method.clone(),
                    cancelled: false,
                    answer: None,
                };
                // A reused id leaves the older request unanswered for good, as in the store.
                if let Some(old) = self.open.request(out.dir, key(&out.id), req) {
                    self.replaced.push(old);
                }
            }
            Kind::Response | Kind::Error => {
                if let Some(mut req) = self.open.response(out.dir, key(&out.id)) {
                    if out.method.is_none() {
                        out.method = req.method.clone();
                    }
                    out.answers = Some(req.clone());
                    req.answer = Some(out.kind == Kind::Error);
                    self.recent.push_back(req);
                }
            }
            _ => {}
        }
        if let Some(target) = c.cancels {
            out.cancels = self.cancel(out.dir, key(&Some(target)));
        }
    }

    /// Marks the request a cancellation names; returns it if it was not cancelled yet.
    fn cancel(&mut self, dir: Dir, id: IdKey) -> Option<Request> {
        let req = match self.open.get_mut(dir, id.clone()) {
            Some(r) => r,
            None => self
                .recent
                .iter_mut()
                .rev()
                .find(|r| r.dir == dir && key(&r.id) == id)?,
        };
        if std::mem::replace(&mut req.cancelled, true) {
            return None;
        }
        Some(req.clone())
    }

    /// The requests never answered, in recording order.
    pub fn finish(mut self) -> Vec<Request> {
        let mut open: Vec<Request> = self.open.drain().map(|(_, r)| r).collect();
        open.extend(self.replaced);
        open.sort_by_key(|r| r.row);
        open
    }

    fn intern(&mut self, m: &str) -> Rc<str> {
        if let Some(r) = self.methods.get(m) {
            return r.clone();
        }
        let r: Rc<str> = m.into();
        self.methods.insert(m.into(), r.clone());
        r
    }
}

/// Whether a session has times at all, as `Store::untimed` decides it: a log imported
/// from another tool whose rows all carry the same time (lsp-devtools `--to-file` has no
/// timestamps) has no latencies. Known only once every row has been seen.
#[derive(Debug, Default)]
pub struct Timing {
    imported: bool,
    first: Option<Micros>,
    varies: bool,
    rows: u64,
}

impl Timing {
    /// Notes an event before it goes to the pairer.
    pub fn event(&mut self, event: &Event) {
        if let Event::Session(info) = event {
            self.imported = info.id.starts_with("import-");
        }
    }

    /// Notes the time of a row.
    pub fn row(&mut self, t: Micros) {
        self.rows += 1;
        match self.first {
            None => self.first = Some(t),
            Some(first) if first != t => self.varies = true,
            Some(_) => {}
        }
    }

    pub fn untimed(&self) -> bool {
        self.imported && !self.varies && self.rows > 1
    }
}
