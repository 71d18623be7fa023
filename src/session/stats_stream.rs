//! `Stats` of a recording streamed once, holding no bodies (`rpctap stats` without a
//! filter), and the merging of several files' statistics. The numbers are `compute`'s on
//! the loaded store: `session::stream` pairs rows by the store's rules, and the tests
//! compare both on sessions full of corner cases.

use super::stream::{Pairer, Request, Timing};
use super::{MethodStats, Stats, Unanswered};
use crate::record::{Dir, Event};
use crate::rpc::Kind;

impl Stats {
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
        id: req.id.as_ref().map(std::string::ToString::to_string),
    }
}
