//! What the message list shows: the sessions being viewed, their rows in one timeline
//! (merged by time when there are several), and the view — the timeline positions that
//! pass the current criteria — maintained incrementally as rows arrive.
//!
//! Not responsible for: deciding what a filter expression means (see `query`), drawing.

// Row and session indices are u32 here as in the store (see `session::store`).
#![allow(clippy::cast_possible_truncation)]

use crate::record::{Event, Micros};
use crate::rpc::Kind;
use crate::session::Store;
use std::path::PathBuf;

/// A row of one session: the unit the list, marks and selection refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    pub session: u32,
    pub row: u32,
}

/// Where a session's events come from, as far as the header is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// Reading what exists so far.
    Loading,
    /// Caught up; more events may still arrive.
    Live,
    /// No more events will arrive.
    Ended,
    /// The shim cut this viewer off for falling behind; `r` reattaches.
    CutOff,
    /// The source failed; what was read before stays visible.
    Failed(String),
}

/// Running totals for the header, kept up to date on ingest so a frame never counts rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub messages: u64,
    pub requests: u64,
    pub answered: u64,
    pub errors: u64,
    pub stderr: u64,
    pub noise: u64,
}

impl Counts {
    pub fn pending(&self) -> u64 {
        self.requests.saturating_sub(self.answered)
    }
}

/// Time spent checking conformance per batch of ingested rows, at most (the 1,000,000-row
/// open pays about 250 of them); the backlog is checked `CHECK_FRAME` per frame.
pub const CHECK_SLICE: std::time::Duration = std::time::Duration::from_millis(1);
/// Time spent checking the backlog per frame, at most.
pub const CHECK_FRAME: std::time::Duration = std::time::Duration::from_millis(8);

/// One session being viewed.
pub struct Session {
    pub store: Store,
    /// Short label for the session column and the header.
    pub label: String,
    pub path: Option<PathBuf>,
    pub feed: SourceState,
    pub counts: Counts,
    /// Rows that are stderr lines, for the stderr pane.
    pub stderr: Vec<u32>,
    /// Lines the source skipped because they could not be read.
    pub skipped: u64,
}

impl Session {
    pub fn new(label: impl Into<String>, path: Option<PathBuf>, capacity: usize) -> Session {
        Session {
            store: Store::with_capacity(capacity),
            label: label.into(),
            path,
            feed: SourceState::Loading,
            counts: Counts::default(),
            stderr: Vec::new(),
            skipped: 0,
        }
    }

    /// When the session started: its header's time, else its first row's.
    pub fn start(&self) -> Option<Micros> {
        let header = self.store.info.as_ref();
        header
            .and_then(|i| Micros::parse(&i.started))
            .or_else(|| self.store.rows().first().map(|r| r.t))
    }

    /// Adds events; returns the first new row index. Rows whose arrival changes an
    /// earlier row's status (a response closing a request) are reported in `touched`.
    pub fn ingest(&mut self, events: Vec<Event>, touched: &mut Vec<u32>) -> usize {
        let first = self.store.len();
        // The recording's own name replaces the provisional label (e.g. the file name).
        if let Some(label) = events.iter().find_map(|e| match e {
            Event::Session(info) => Some(info.name.clone()),
            _ => None,
        }) {
            self.label = label;
        }
        for event in events {
            let Some(i) = self.store.push(event) else {
                continue;
            };
            let c = &mut self.counts;
            let kind = self.store.row(i).kind;
            match kind {
                Kind::Stderr => {
                    c.stderr += 1;
                    self.stderr.push(i as u32);
                }
                Kind::Noise => c.noise += 1,
                _ => c.messages += 1,
            }
            if kind == Kind::Request {
                c.requests += 1;
            }
            if matches!(kind, Kind::Error | Kind::Invalid) {
                c.errors += 1;
            }
            if kind.is_response() {
                if let Some(req) = self.store.pair(i) {
                    c.answered += 1;
                    touched.push(req as u32);
                }
            }
        }
        if self.store.exit.is_some() {
            self.feed = SourceState::Ended;
        }
        // Conformance as rows arrive (the marker column, the Problems view, `violation`),
        // a slice at a time: a large file's backlog is checked between frames (`App`'s
        // tick), never holding up its loading.
        self.store.check_for(Some(CHECK_SLICE));
        first
    }
}

/// All sessions' rows in one order. With one session the order is the row order and costs
/// nothing; with several, rows are merged by time into `merged`.
#[derive(Default)]
pub struct Timeline {
    pub sessions: Vec<Session>,
    merged: Option<Vec<Ref>>,
}

impl Timeline {
    pub fn new(sessions: Vec<Session>) -> Timeline {
        let merged = (sessions.len() > 1).then(Vec::new);
        let mut t = Timeline { sessions, merged };
        for s in 0..t.sessions.len() {
            t.add_rows(s, 0);
        }
        t
    }

    pub fn is_merged(&self) -> bool {
        self.merged.is_some()
    }

    pub fn len(&self) -> usize {
        match &self.merged {
            Some(m) => m.len(),
            None => self.sessions.first().map_or(0, |s| s.store.len()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn at(&self, pos: usize) -> Ref {
        match &self.merged {
            Some(m) => m[pos],
            None => Ref {
                session: 0,
                row: pos as u32,
            },
        }
    }

    pub fn store(&self, r: Ref) -> &Store {
        &self.sessions[r.session as usize].store
    }

    fn key(&self, r: Ref) -> (Micros, u32, u32) {
        (self.store(r).row(r.row as usize).t, r.session, r.row)
    }

    /// The timeline position of a row.
    pub fn pos_of(&self, r: Ref) -> Option<usize> {
        match &self.merged {
            None => ((r.row as usize) < self.len()).then_some(r.row as usize),
            Some(m) => {
                let key = self.key(r);
                m.binary_search_by(|x| self.key(*x).cmp(&key)).ok()
            }
        }
    }

    /// Puts the rows of session `s` from index `first` on into the timeline. Returns the
    /// first timeline position that changed: positions before it are as they were.
    pub fn add_rows(&mut self, s: usize, first: usize) -> usize {
        let Some(merged) = self.merged.take() else {
            return first;
        };
        let mut merged = merged;
        let len = self.sessions[s].store.len();
        let mut new: Vec<Ref> = (first..len)
            .map(|row| Ref {
                session: s as u32,
                row: row as u32,
            })
            .collect();
        new.sort_by_key(|r| self.key(*r));
        let changed = match new.first() {
            None => merged.len(),
            Some(&r0) => {
                let k0 = self.key(r0);
                merged.partition_point(|x| self.key(*x) < k0)
            }
        };
        if changed == merged.len() {
            merged.extend(new);
        } else {
            // Late rows from one session land among another's: merge the tail only.
            let tail = merged.split_off(changed);
            let (mut a, mut b) = (tail.into_iter().peekable(), new.into_iter().peekable());
            while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
                let next = if self.key(*x) <= self.key(*y) {
                    a.next()
                } else {
                    b.next()
                };
                merged.extend(next);
            }
            merged.extend(a);
            merged.extend(b);
        }
        self.merged = Some(merged);
        changed
    }

    /// The earliest start among the sessions: zero of relative times.
    pub fn start(&self) -> Micros {
        self.sessions
            .iter()
            .filter_map(Session::start)
            .min()
            .unwrap_or_default()
    }
}

/// The timeline positions that pass the criteria, ascending.
#[derive(Default)]
pub struct View {
    pub rows: Vec<u32>,
    /// Timeline positions below this have been considered.
    pub scanned: usize,
    /// The lowest view index whose row was removed or inserted (not appended) since the
    /// last `take_changed`: what an index built over the view must rebuild from. A new
    /// view starts at 0 (everything is new).
    changed_from: usize,
}

impl View {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The view index of timeline position `pos`, if it is in the view.
    pub fn find(&self, pos: usize) -> Result<usize, usize> {
        self.rows.binary_search(&(pos as u32))
    }

    /// Forgets everything from timeline position `pos` on, to rescan it.
    pub fn truncate_from(&mut self, pos: usize) {
        let keep = self.rows.partition_point(|&p| (p as usize) < pos);
        self.rows.truncate(keep);
        self.changed_from = self.changed_from.min(keep);
        self.scanned = self.scanned.min(pos);
    }

    /// Considers the positions not yet scanned, keeping those `pass` accepts.
    pub fn extend(&mut self, len: usize, mut pass: impl FnMut(usize) -> bool) {
        for pos in self.scanned..len {
            if pass(pos) {
                self.rows.push(pos as u32);
            }
        }
        self.scanned = self.scanned.max(len);
    }

    /// Re-decides one already scanned position (its status changed).
    pub fn recheck(&mut self, pos: usize, passes: bool) {
        if pos >= self.scanned {
            return;
        }
        match (self.find(pos), passes) {
            (Ok(i), false) => {
                self.rows.remove(i);
                self.changed_from = self.changed_from.min(i);
            }
            (Err(i), true) => {
                self.rows.insert(i, pos as u32);
                self.changed_from = self.changed_from.min(i);
            }
            _ => {}
        }
    }

    /// The lowest view index changed other than by appending since the last call (the
    /// view's length when nothing was); for the one index kept over the view, the
    /// timeline view's (see `chart::spans`).
    pub fn take_changed(&mut self) -> usize {
        std::mem::replace(&mut self.changed_from, usize::MAX).min(self.rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Dir, StderrEvent};
    use bytes::Bytes;

    fn line(seq: u64, t: i64) -> Event {
        Event::Stderr(StderrEvent {
            seq,
            t: Micros(t),
            text: Bytes::from(format!("line {seq}")),
        })
    }

    #[test]
    fn merged_timeline_orders_by_time_even_when_rows_arrive_late() {
        let mut t = Timeline::new(vec![Session::new("a", None, 0), Session::new("b", None, 0)]);
        let mut touched = Vec::new();
        let f = t.sessions[0].ingest(vec![line(1, 10), line(2, 30)], &mut touched);
        assert_eq!(t.add_rows(0, f), 0);
        let f = t.sessions[1].ingest(vec![line(1, 20), line(2, 40)], &mut touched);
        assert_eq!(t.add_rows(1, f), 1, "b's first row lands between a's two");
        let order: Vec<(u32, u32)> = (0..t.len())
            .map(|p| (t.at(p).session, t.at(p).row))
            .collect();
        assert_eq!(order, [(0, 0), (1, 0), (0, 1), (1, 1)]);
        assert_eq!(t.pos_of(Ref { session: 0, row: 1 }), Some(2));
        assert_eq!(t.sessions[1].counts.stderr, 2);
        let _ = Dir::C2s;
    }

    #[test]
    fn view_extends_rechecks_and_truncates() {
        let mut v = View::default();
        v.extend(6, |p| p % 2 == 0);
        assert_eq!(v.rows, [0, 2, 4]);
        v.recheck(3, true);
        v.recheck(2, false);
        v.recheck(9, true); // not scanned yet: left to `extend`
        assert_eq!(v.rows, [0, 3, 4]);
        v.truncate_from(3);
        assert_eq!((v.rows.as_slice(), v.scanned), (&[0u32][..], 3));
        v.extend(5, |_| true);
        assert_eq!(v.rows, [0, 3, 4]);
    }
}
