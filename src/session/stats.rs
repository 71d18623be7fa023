//! Per-method statistics of a session: counts, errors and latency percentiles.

use super::{Status, Store};
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

#[derive(Debug, Default)]
pub struct Stats {
    /// Keyed by direction arrow and method, e.g. ("→", "textDocument/hover").
    pub methods: BTreeMap<(&'static str, String), MethodStats>,
    pub messages: u64,
    pub noise: u64,
    pub stderr: u64,
    pub invalid: u64,
    /// Indices of requests still waiting for an answer.
    pub pending: Vec<usize>,
    /// Requests without a recorded answer that may have been answered in a gap.
    pub unknown: Vec<usize>,
    /// Bytes forwarded but not recorded, per direction (c2s, s2c) and for stderr.
    pub gap_bytes: [u64; 3],
    pub cancelled: Vec<usize>,
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
            match store.status(i) {
                Status::Error => m.errors += 1,
                Status::Pending if store.answer_may_be_lost(i) => s.unknown.push(i),
                Status::Pending => {
                    m.pending += 1;
                    s.pending.push(i);
                }
                Status::Cancelled => {
                    m.cancelled += 1;
                    s.cancelled.push(i);
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
}
