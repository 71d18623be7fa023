//! A compact session store designed for a million messages.
//!
//! Each event becomes one fixed-size `Row` (about 64 bytes) plus its body bytes appended to
//! one arena. Method names and string ids are interned. Nothing is parsed beyond the
//! classification probe; the full JSON of a message is parsed only when it is shown.

use crate::record::{Dir, Event, Exit, Gap, Micros, SessionInfo, Undelivered};
use crate::rpc::{classify, Id, Kind, Protocol};
use crate::wire::Framing;
use bytes::Bytes;
use std::collections::HashMap;

/// "No such index" for `u32` references.
pub const NONE: u32 = u32::MAX;

/// A request id in compact form: strings are interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdKey {
    #[default]
    None,
    Num(i64),
    Str(u32),
}

/// Per-row flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(u8);

impl Flags {
    pub const CANCELLED: u8 = 1;
    pub const DUPLICATE_ID: u8 = 2;
    pub const REDACTED: u8 = 4;
    pub const NOT_UTF8: u8 = 8;
    /// The row breaks a conformance rule (`Store::check`).
    pub const VIOLATION: u8 = 16;
    /// rpctap wrote it (`rpctap send`, an answer to a held request).
    pub const INJECTED: u8 = 32;
    /// An intercept held it when it arrived (see `Store::held`).
    pub const HELD: u8 = 64;
    /// The response to an injected request: it reached rpctap, not a peer.
    pub const DIVERTED: u8 = 128;

    pub fn has(self, f: u8) -> bool {
        self.0 & f != 0
    }
    fn set(&mut self, f: u8) {
        self.0 |= f;
    }
}

/// The state of a request, or of the exchange a response closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Error,
    Pending,
    Cancelled,
    /// Not part of an exchange (notifications, noise, stderr).
    None,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Pending => "pending",
            Status::Cancelled => "cancelled",
            Status::None => "",
        }
    }
}

/// One event of the session in fixed size.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The recording's sequence number.
    pub seq: u64,
    pub t: Micros,
    /// Offset of the body (or noise/stderr text) in the arena.
    pub off: u64,
    pub len: u32,
    /// Interned method; for a response, the method of its request.
    pub method: u32,
    /// The row this one pairs with (request ↔ response), or `NONE`.
    pub pair: u32,
    pub id: IdKey,
    pub error_code: Option<i32>,
    pub kind: Kind,
    /// Stderr rows travel server → client.
    pub dir: Dir,
    pub framing: Option<Framing>,
    pub flags: Flags,
}

/// Everything known about one session.
#[derive(Default)]
pub struct Store {
    pub info: Option<SessionInfo>,
    rows: Vec<Row>,
    arena: Vec<u8>,
    methods: Interner,
    strings: Interner,
    /// Requests waiting for their response, keyed by their direction and id.
    open: super::OpenRequests<IdKey, u32>,
    /// Non-canonical header text of a row, by row index.
    headers: HashMap<u32, Bytes>,
    pub exit: Option<Exit>,
    pub gaps: Vec<Gap>,
    /// Where each direction stopped reaching its peer (the `undelivered` lines).
    pub undelivered: Vec<Undelivered>,
    /// Held messages: (row, hold number), in the order they were held.
    pub held: Vec<(u32, u64)>,
    /// What became of held messages (the `release` lines), in recording order.
    pub releases: Vec<crate::record::Release>,
    /// The framing each direction uses, as first seen: [c2s, s2c].
    pub framing: [Option<Framing>; 2],
    pub protocol: Option<Protocol>,
    /// Conformance results, once `check` has run.
    pub problems: super::problems::Problems,
    /// Some row's time differs from the first's (see `untimed`).
    times_vary: bool,
}

#[derive(Default)]
struct Interner {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.index.insert(s.into(), i);
        i
    }
    fn get(&self, i: u32) -> Option<&str> {
        self.names.get(i as usize).map(|s| &**s)
    }
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// A store expecting about `bytes` of bodies (e.g. the size of the file being opened),
    /// reserved up front so the arena is not doubled past it.
    pub fn with_capacity(bytes: usize) -> Store {
        Store {
            arena: Vec::with_capacity(bytes),
            ..Store::default()
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Bytes the recording says were forwarded but not recorded, all directions.
    pub fn gap_bytes(&self) -> u64 {
        self.gaps.iter().map(|g| g.bytes).sum()
    }

    /// Could the answer to request `i` be among bytes that were not recorded? True when a
    /// gap in the answering direction comes at or after the request.
    pub fn answer_may_be_lost(&self, i: usize) -> bool {
        let row = &self.rows[i];
        self.gaps
            .iter()
            .any(|g| g.bytes > 0 && g.dir == Some(row.dir.other()) && g.t >= row.t)
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// What became of held row `i` (its last `release` line): `None` while it is still
    /// held, or if it was never held.
    pub fn release(&self, i: usize) -> Option<crate::record::ReleaseAction> {
        if !self.rows.get(i)?.flags.has(Flags::HELD) {
            return None;
        }
        // Held rows are pushed in row order.
        let at = self.held.binary_search_by_key(&(i as u32), |h| h.0).ok()?;
        let hold = self.held[at].1;
        self.releases
            .iter()
            .rev()
            .find(|r| r.hold == hold)
            .map(|r| r.action)
    }

    pub fn row(&self, i: usize) -> &Row {
        &self.rows[i]
    }

    /// The body (or text) of a row, as it was recorded.
    pub fn body(&self, i: usize) -> &[u8] {
        let r = &self.rows[i];
        &self.arena[r.off as usize..r.off as usize + r.len as usize]
    }

    pub fn method(&self, i: usize) -> Option<&str> {
        self.methods.get(self.rows[i].method)
    }

    /// All method names seen, for completion and statistics.
    pub fn method_name(&self, m: u32) -> Option<&str> {
        self.methods.get(m)
    }

    pub fn id(&self, i: usize) -> Option<Id> {
        match self.rows[i].id {
            IdKey::None => None,
            IdKey::Num(n) => Some(Id::Num(n)),
            IdKey::Str(s) => self.strings.get(s).map(|s| Id::Str(s.to_owned())),
        }
    }

    pub fn pair(&self, i: usize) -> Option<usize> {
        let p = self.rows[i].pair;
        (p != NONE).then_some(p as usize)
    }

    /// Microseconds between a request and its response, for either row of the pair;
    /// `None` when unpaired or when the session has no times (`untimed`).
    pub fn latency(&self, i: usize) -> Option<i64> {
        let p = self.pair(i)?;
        if self.untimed() {
            return None;
        }
        // Saturating: a hostile recording may put its times at the ends of the calendar.
        Some((self.rows[i].t.0.saturating_sub(self.rows[p].t.0)).saturating_abs())
    }

    pub fn status(&self, i: usize) -> Status {
        let r = &self.rows[i];
        match r.kind {
            Kind::Request if r.flags.has(Flags::CANCELLED) => Status::Cancelled,
            Kind::Request => match self.pair(i) {
                None => Status::Pending,
                Some(p) if self.rows[p].kind == Kind::Error => Status::Error,
                Some(_) => Status::Ok,
            },
            Kind::Error => Status::Error,
            Kind::Response => Status::Ok,
            _ => Status::None,
        }
    }

    /// The recorded header text of a row, when it differs from the canonical one.
    pub fn headers(&self, i: usize) -> Option<&[u8]> {
        self.headers.get(&(i as u32)).map(|h| &h[..])
    }

    /// The exact bytes this message occupied on the wire (for noise, the noise itself).
    pub fn wire(&self, i: usize) -> Vec<u8> {
        let r = &self.rows[i];
        let body = self.body(i);
        let mut out = Vec::with_capacity(body.len() + 32);
        match (r.kind, r.framing) {
            (Kind::Noise | Kind::Stderr, _) | (_, None) => out.extend_from_slice(body),
            (_, Some(framing)) => {
                let headers = self.headers.get(&(i as u32)).map(|h| &h[..]);
                crate::record::wire_bytes(framing, headers, body, &mut out);
            }
        }
        out
    }

    /// Rows that are errors (error responses, requests answered with one, invalid messages).
    pub fn is_error(&self, i: usize) -> bool {
        let k = self.rows[i].kind;
        k == Kind::Error || k == Kind::Invalid || self.status(i) == Status::Error
    }

    pub(super) fn flag(&mut self, i: usize, f: u8) {
        self.rows[i].flags.set(f);
    }

    /// The session was rebuilt from another tool's log (`record::import` names such
    /// sessions `import-…`): its bytes were not observed on the wire.
    pub fn imported(&self) -> bool {
        self.info
            .as_ref()
            .is_some_and(|i| i.id.starts_with("import-"))
    }

    /// A log without timestamps (lsp-devtools `--to-file`): the importer gives every
    /// message the file's time, so differences of times would read as measured latencies
    /// of zero. Such a session has no latencies.
    pub fn untimed(&self) -> bool {
        self.imported() && !self.times_vary && self.rows.len() > 1
    }

    fn push_row(&mut self, mut row: Row, body: &[u8]) -> usize {
        if self.rows.first().is_some_and(|first| first.t != row.t) {
            self.times_vary = true;
        }
        row.off = self.arena.len() as u64;
        row.len = body.len().min(u32::MAX as usize) as u32;
        self.arena.extend_from_slice(&body[..row.len as usize]);
        self.rows.push(row);
        self.rows.len() - 1
    }

    fn blank(seq: u64, t: Micros, kind: Kind, dir: Dir) -> Row {
        Row {
            seq,
            t,
            off: 0,
            len: 0,
            method: NONE,
            pair: NONE,
            id: IdKey::None,
            error_code: None,
            kind,
            dir,
            framing: None,
            flags: Flags::default(),
        }
    }

    /// Adds one event. Returns the index of the row it created, if any.
    pub fn push(&mut self, event: Event) -> Option<usize> {
        match event {
            Event::Session(info) => {
                if let Some(p) = info.protocol.as_deref().and_then(Protocol::parse) {
                    self.protocol = Some(p);
                }
                self.info = Some(info);
                None
            }
            Event::Exit(e) => {
                self.exit = Some(e);
                None
            }
            Event::Gap(g) => {
                self.gaps.push(g);
                None
            }
            Event::Undelivered(u) => {
                self.undelivered.push(u);
                None
            }
            Event::Release(r) => {
                self.releases.push(r);
                None
            }
            Event::Noise(n) => {
                Some(self.push_row(Self::blank(n.seq, n.t, Kind::Noise, n.dir), &n.text))
            }
            Event::Stderr(s) => {
                Some(self.push_row(Self::blank(s.seq, s.t, Kind::Stderr, Dir::S2c), &s.text))
            }
            Event::Message(m) => {
                let slot = &mut self.framing[m.dir as usize];
                slot.get_or_insert(m.framing);
                let mut row = Self::blank(m.seq, m.t, Kind::Oversized, m.dir);
                row.framing = Some(m.framing);
                if m.redacted {
                    row.flags.set(Flags::REDACTED);
                }
                if m.mark.injected {
                    row.flags.set(Flags::INJECTED);
                }
                if m.mark.diverted {
                    row.flags.set(Flags::DIVERTED);
                }
                if let Some(hold) = m.mark.held {
                    row.flags.set(Flags::HELD);
                    self.held.push((self.rows.len() as u32, hold));
                }
                if m.oversized.is_some() {
                    return Some(self.push_row(row, &[]));
                }
                let c = classify(&m.body);
                row.kind = c.kind;
                if c.kind == Kind::Invalid && std::str::from_utf8(&m.body).is_err() {
                    row.flags.set(Flags::NOT_UTF8);
                }
                if self.protocol.is_none() {
                    self.protocol = c.protocol;
                }
                row.method = c.method.as_deref().map_or(NONE, |s| self.methods.intern(s));
                row.id = match &c.id {
                    None => IdKey::None,
                    Some(Id::Num(n)) => IdKey::Num(*n),
                    Some(Id::Str(s)) => IdKey::Str(self.strings.intern(s)),
                };
                row.error_code = c.error_code.and_then(|c| i32::try_from(c).ok());
                let i = self.push_row(row, &m.body);
                if let Some(h) = m.headers {
                    self.headers.insert(i as u32, h);
                }
                self.correlate(i, c.cancels);
                Some(i)
            }
        }
    }

    fn correlate(&mut self, i: usize, cancels: Option<Id>) {
        let Row { kind, dir, id, .. } = self.rows[i];
        match kind {
            Kind::Request => {
                if let Some(prev) = self.open.request(dir, id, i as u32) {
                    self.rows[prev as usize].flags.set(Flags::DUPLICATE_ID);
                    self.rows[i].flags.set(Flags::DUPLICATE_ID);
                }
            }
            Kind::Response | Kind::Error => {
                if let Some(req) = self.open.response(dir, id) {
                    self.rows[req as usize].pair = i as u32;
                    self.rows[i].pair = req;
                    if self.rows[i].method == NONE {
                        self.rows[i].method = self.rows[req as usize].method;
                    }
                }
            }
            _ => {}
        }
        if let Some(target) = cancels {
            let key = match target {
                Id::Num(n) => IdKey::Num(n),
                Id::Str(s) => IdKey::Str(self.strings.intern(&s)),
            };
            // The cancelled request travelled the same way as its cancellation. It may
            // already be answered, so look among paired requests too (newest first).
            // The search is bounded so that a flood of cancellations stays linear.
            let found = self.open.get_mut(dir, key).map(|r| *r).or_else(|| {
                let from = self.rows.len().saturating_sub(100_000);
                self.rows[from..]
                    .iter()
                    .rposition(|r| r.kind == Kind::Request && r.dir == dir && r.id == key)
                    .map(|p| (from + p) as u32)
            });
            if let Some(req) = found {
                self.rows[req as usize].flags.set(Flags::CANCELLED);
            }
        }
    }

    /// Approximate heap bytes held, for the memory benchmark.
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Row>() + self.arena.capacity()
    }
}
