//! Per-method statistics of sessions: counts, errors and latency percentiles. Computed
//! from a loaded `Store` (when a filter selects rows) or streamed from a recording's
//! events in bounded memory (`Stats::stream`); statistics of several files merge.

use super::stream::{Pairer, Request, Timing};
use super::{Status, Store};
use crate::record::{Dir, Event};
use crate::rpc::Kind;
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
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        Some(self.latencies[rank - 1])
    }
}

/// A request left pending or cancelled, named well enough to find it in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    /// Which of the files summarised (0 for the first).
    pub file: usize,
    pub seq: u64,
    pub dir: Dir,
    pub method: String,
    pub id: Option<String>,
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
        let all: Vec<usize>;
        let rows = match only {
            Some(r) => r,
            None => {
                all = (0..store.len()).collect();
                &all
            }
        };
        for &i in rows {
            let row = store.row(i);
            match row.kind {
                Kind::Noise => s.noise += 1,
                Kind::Stderr => s.stderr += 1,
                Kind::Invalid => s.invalid += 1,
                _ => {}
            }
            if matches!(row.kind, Kind::Noise | Kind::Stderr) {
                continue;
            }
            s.messages += 1;
            if !matches!(row.kind, Kind::Request | Kind::Notification) {
                continue;
            }
            let method = store.method(i).unwrap_or("?").to_owned();
            let m = s.methods.entry((row.dir.arrow(), method)).or_default();
            if row.kind == Kind::Notification {
                m.notifications += 1;
                continue;
            }
            m.requests += 1;
            let unanswered = || Unanswered {
                file: 0,
                seq: row.seq,
                dir: row.dir,
                method: store.method(i).unwrap_or("?").to_owned(),
                id: store.id(i).map(|id| id.to_string()),
            };
            match store.status(i) {
                Status::Error => m.errors += 1,
                Status::Pending if store.answer_may_be_lost(i) => s.unknown.push(unanswered()),
                Status::Pending => {
                    m.pending += 1;
                    s.pending.push(unanswered());
                }
                Status::Cancelled => {
                    m.cancelled += 1;
                    s.cancelled.push(unanswered());
                }
                _ => {}
            }
            if let Some(l) = store.latency(i) {
                m.latencies.push(l);
            }
        }
        for m in s.methods.values_mut() {
            m.latencies.sort_unstable();
        }
        for g in &store.gaps {
            s.gap_bytes[g.dir.map_or(2, |d| d as usize)] += g.bytes;
        }
        s
    }

    /// Statistics of one recording's events, read once, holding no bodies: the same
    /// numbers as `compute` on the loaded store. `file` labels its unanswered requests.
    pub fn stream<E>(
        events: impl Iterator<Item = Result<Event, E>>,
        file: usize,
    ) -> Result<Stats, E> {
        let mut s = Stats::default();
        let mut pairer = Pairer::new();
        let mut timing = Timing::default();
        // Gaps with bytes, by the direction they lost and when (few: one per disk failure).
        let mut gaps = Vec::new();
        for event in events {
            let event = event?;
            if let Event::Gap(g) = &event {
                s.gap_bytes[g.dir.map_or(2, |d| d as usize)] += g.bytes;
                if g.bytes > 0 {
                    gaps.push((g.dir, g.t));
                }
            }
            timing.event(&event);
            let Some(row) = pairer.push(event) else {
                continue;
            };
            timing.row(row.t);
            match row.kind {
                Kind::Noise => s.noise += 1,
                Kind::Stderr => s.stderr += 1,
                Kind::Invalid => s.invalid += 1,
                _ => {}
            }
            if matches!(row.kind, Kind::Noise | Kind::Stderr) {
                continue;
            }
            s.messages += 1;
            let name = |m: &Option<std::rc::Rc<str>>| m.as_deref().unwrap_or("?").to_owned();
            match row.kind {
                Kind::Request => s.method(row.dir, name(&row.method)).requests += 1,
                Kind::Notification => s.method(row.dir, name(&row.method)).notifications += 1,
                _ => {}
            }
            if let Some(req) = &row.answers {
                let latency = row.latency().unwrap_or(0);
                let m = s.method(req.dir, name(&req.method));
                m.latencies.push(latency);
                if row.kind == Kind::Error && !req.cancelled {
                    m.errors += 1;
                }
            }
            if let Some(req) = &row.cancels {
                let m = s.method(req.dir, name(&req.method));
                m.cancelled += 1;
                // It counted as an error when answered; a cancelled request is not one.
                if req.answer == Some(true) {
                    m.errors -= 1;
                }
                s.cancelled.push(unanswered(req, file));
            }
        }
        for req in pairer.finish().into_iter().filter(|r| !r.cancelled) {
            // As `Store::answer_may_be_lost`: a gap in the answering direction after it.
            if gaps
                .iter()
                .any(|&(d, t)| d == Some(req.dir.other()) && t >= req.t)
            {
                s.unknown.push(unanswered(&req, file));
                continue;
            }
            s.method(req.dir, req.method.as_deref().unwrap_or("?").to_owned())
                .pending += 1;
            s.pending.push(unanswered(&req, file));
        }
        if timing.untimed() {
            s.methods.values_mut().for_each(|m| m.latencies.clear());
        }
        // Cancellations arrive after their requests: put them in request order.
        s.cancelled.sort_by_key(|u| u.seq);
        for m in s.methods.values_mut() {
            m.latencies.sort_unstable();
        }
        Ok(s)
    }

    /// Adds another file's statistics to these.
    pub fn merge(&mut self, other: Stats) {
        self.messages += other.messages;
        self.noise += other.noise;
        self.stderr += other.stderr;
        self.invalid += other.invalid;
        for (k, o) in other.methods {
            let m = self.methods.entry(k).or_default();
            m.requests += o.requests;
            m.notifications += o.notifications;
            m.errors += o.errors;
            m.pending += o.pending;
            m.cancelled += o.cancelled;
            m.latencies.extend(o.latencies);
            m.latencies.sort_unstable();
        }
        self.pending.extend(other.pending);
        self.unknown.extend(other.unknown);
        self.cancelled.extend(other.cancelled);
        for (a, b) in self.gap_bytes.iter_mut().zip(other.gap_bytes) {
            *a += b;
        }
    }

    fn method(&mut self, dir: Dir, name: String) -> &mut MethodStats {
        self.methods.entry((dir.arrow(), name)).or_default()
    }
}

fn unanswered(req: &Request, file: usize) -> Unanswered {
    Unanswered {
        file,
        seq: req.seq,
        dir: req.dir,
        method: req.method.as_deref().unwrap_or("?").to_owned(),
        id: req.id.as_ref().map(|id| id.to_string()),
    }
}
