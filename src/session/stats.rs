//! Per-method statistics of a session: counts, errors and latency percentiles — the one
//! computation behind `rpctap stats` (text and JSON) and the TUI's stats view, so both
//! always show the same numbers.
//!
//! Computed from a loaded `Store` (`compute`, `add`) or streamed from a recording's events
//! in bounded memory (`stream`, in `stats_stream.rs`); the statistics of several files merge.
//!
//! Not responsible for: printing (see `commands::stats`) or drawing (see `tui::render`).

use super::{Status, Store};
use crate::record::Dir;
use crate::rpc::Kind;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct MethodStats {
    pub requests: u64,
    pub notifications: u64,
    pub errors: u64,
    pub pending: u64,
    pub cancelled: u64,
    /// Latencies of answered requests, in µs, sorted.
    pub latencies: Vec<i64>,
}

impl MethodStats {
    /// The latency at quantile `q` (0..=1), nearest-rank.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        if self.latencies.is_empty() {
            return None;
        }
        // A float's `as` saturates (NaN: 0); the clamp makes any result a valid rank.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        Some(self.latencies[rank - 1])
    }

    pub fn max(&self) -> Option<i64> {
        self.latencies.last().copied()
    }

    /// Requests and notifications together: the `count` a user sorts by.
    pub fn count(&self) -> u64 {
        self.requests + self.notifications
    }

    /// The JSON form of one method's line (`rpctap stats --format json`).
    fn to_json(&self, arrow: &str, method: &str) -> Value {
        json!({
            "dir": dir_name(arrow),
            "method": method,
            "requests": self.requests,
            "notifications": self.notifications,
            "errors": self.errors,
            "pending": self.pending,
            "cancelled": self.cancelled,
            "answered": self.latencies.len(),
            "latency_us": {
                "p50": self.quantile(0.5),
                "p90": self.quantile(0.9),
                "p99": self.quantile(0.99),
                "max": self.max(),
            },
        })
    }
}

/// `c2s` or `s2c` for a direction arrow.
fn dir_name(arrow: &str) -> &'static str {
    if arrow == crate::record::Dir::S2c.arrow() {
        "s2c"
    } else {
        "c2s"
    }
}

/// A request left pending, cancelled or unanswered, named well enough to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    /// Which of the files summarised (0 for the first, or a single store).
    pub file: usize,
    pub seq: u64,
    pub dir: Dir,
    pub method: String,
    pub id: Option<String>,
}

impl Unanswered {
    fn of(store: &Store, i: usize) -> Unanswered {
        let row = store.row(i);
        Unanswered {
            file: 0,
            seq: row.seq,
            dir: row.dir,
            method: store.method(i).unwrap_or("?").to_owned(),
            id: store.id(i).map(|id| id.to_string()),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "dir": self.dir.as_str(),
            "method": self.method,
            "id": self.id,
            "seq": self.seq,
            "file": self.file,
        })
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    /// Keyed by direction arrow and method, e.g. ("→", "textDocument/hover").
    pub methods: BTreeMap<(&'static str, String), MethodStats>,
    pub messages: u64,
    pub noise: u64,
    pub stderr: u64,
    pub invalid: u64,
    /// Requests still waiting for an answer, in recording order.
    pub pending: Vec<Unanswered>,
    /// Requests without a recorded answer that may have been answered in a gap.
    pub unknown: Vec<Unanswered>,
    /// Bytes forwarded but not recorded, per direction (c2s, s2c) and for stderr.
    pub gap_bytes: [u64; 3],
    pub cancelled: Vec<Unanswered>,
}

impl Stats {
    /// Statistics over the rows `only` selects (all when `None`).
    pub fn compute(store: &Store, only: Option<&[usize]>) -> Stats {
        let mut s = Stats::default();
        match only {
            Some(rows) => rows.iter().for_each(|&i| s.add(store, i)),
            None => (0..store.len()).for_each(|i| s.add(store, i)),
        }
        s.finish();
        s.add_gaps(store);
        s
    }

    /// Counts one row. Rows of several stores may be added (a merged view). Call `finish`
    /// after the last.
    pub fn add(&mut self, store: &Store, i: usize) {
        let row = store.row(i);
        match row.kind {
            Kind::Noise => self.noise += 1,
            Kind::Stderr => self.stderr += 1,
            Kind::Invalid => self.invalid += 1,
            _ => {}
        }
        if matches!(row.kind, Kind::Noise | Kind::Stderr) {
            return;
        }
        self.messages += 1;
        if !matches!(row.kind, Kind::Request | Kind::Notification) {
            return;
        }
        let method = store.method(i).unwrap_or("?");
        let key = (row.dir.arrow(), method);
        // Look up before allocating: a million rows share a few dozen methods.
        let m = match self.methods.get_mut(&key as &dyn Key) {
            Some(m) => m,
            None => self.methods.entry((key.0, key.1.to_owned())).or_default(),
        };
        if row.kind == Kind::Notification {
            m.notifications += 1;
            return;
        }
        m.requests += 1;
        match store.status(i) {
            Status::Error => m.errors += 1,
            Status::Pending if store.answer_may_be_lost(i) => {
                self.unknown.push(Unanswered::of(store, i));
            }
            Status::Pending => {
                m.pending += 1;
                self.pending.push(Unanswered::of(store, i));
            }
            Status::Cancelled => {
                m.cancelled += 1;
                self.cancelled.push(Unanswered::of(store, i));
            }
            _ => {}
        }
        if let Some(l) = store.latency(i) {
            m.latencies.push(l);
        }
    }

    /// Counts the bytes `store`'s recording lost (its gap lines), once per store.
    pub fn add_gaps(&mut self, store: &Store) {
        for g in &store.gaps {
            self.gap_bytes[g.dir.map_or(2, |d| d as usize)] += g.bytes;
        }
    }

    /// Sorts the latencies, which the percentiles need.
    pub fn finish(&mut self) {
        for m in self.methods.values_mut() {
            m.latencies.sort_unstable();
        }
    }

    /// The JSON document of `rpctap stats --format json`: the totals, one object per
    /// method (in the text output's order), the pending and cancelled requests, those whose
    /// answer may be in a gap, and the bytes the recording lost.
    pub fn to_json(&self) -> Value {
        let requests =
            |list: &[Unanswered]| -> Vec<Value> { list.iter().map(Unanswered::to_json).collect() };
        let methods: Vec<Value> = self
            .methods
            .iter()
            .map(|((arrow, method), m)| m.to_json(arrow, method))
            .collect();
        json!({
            "messages": self.messages,
            "noise": self.noise,
            "stderr": self.stderr,
            "invalid": self.invalid,
            "methods": methods,
            "pending": requests(&self.pending),
            "cancelled": requests(&self.cancelled),
            "unanswered_in_gap": requests(&self.unknown),
            "gap_bytes": {
                "c2s": self.gap_bytes[0],
                "s2c": self.gap_bytes[1],
                "stderr": self.gap_bytes[2],
            },
        })
    }
}

/// A map key borrowed as (arrow, method) without building the owned `String`: the
/// standard trick for looking up `(A, String)` keys by `(A, &str)`.
trait Key {
    fn key(&self) -> (&'static str, &str);
}

impl Key for (&'static str, String) {
    fn key(&self) -> (&'static str, &str) {
        (self.0, &self.1)
    }
}

impl Key for (&'static str, &str) {
    fn key(&self) -> (&'static str, &str) {
        (self.0, self.1)
    }
}

impl<'a> std::borrow::Borrow<dyn Key + 'a> for (&'static str, String) {
    fn borrow(&self) -> &(dyn Key + 'a) {
        self
    }
}

impl PartialEq for dyn Key + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn Key + '_ {}

impl PartialOrd for dyn Key + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn Key + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}
