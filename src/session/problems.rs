//! Conformance results kept with a store: the checker is run over the store's own rows
//! (bodies from the arena, no copies), incrementally as rows arrive, and each violation
//! is attached to its row, which is flagged so that the filter's `violation` and the
//! TUI's marker column cost one bit test.
//!
//! Not responsible for: the rules (see `check`).

use super::store::{Flags, Store, NONE};
use crate::check::{Checker, Counts, Violation};
use crate::rpc::Kind;
use crate::wire::Framing;

/// Results kept per store, at most: beyond, they are counted and their rows flagged (so
/// `violation` still selects them) but not listed (so `rule:` and the Problems view miss
/// them). A session that breaks a rule on every message stays within memory.
pub const MAX_KEPT: usize = 100_000;

/// One violation, at a row (`NONE`: the session as a whole, e.g. its exit code).
#[derive(Debug, Clone)]
pub struct Problem {
    pub row: u32,
    pub violation: Violation,
}

/// The results so far and where checking stopped.
#[derive(Default)]
pub struct Problems {
    list: Vec<Problem>,
    checker: Option<Box<Checker>>,
    /// Rows before this one are checked.
    next: usize,
    exit_checked: bool,
    pub counts: Counts,
    /// Results counted but not kept (past `MAX_KEPT`).
    pub dropped: u64,
}

impl Problems {
    /// Every result, in row order (session-level ones where they arose).
    pub fn all(&self) -> &[Problem] {
        &self.list
    }

    /// Has checking run at all (`Store::check`)?
    pub fn enabled(&self) -> bool {
        self.checker.is_some()
    }

    fn add(&mut self, row: u32, vs: &[Violation]) {
        self.counts.add(vs);
        for v in vs {
            if self.list.len() >= MAX_KEPT {
                self.dropped += 1;
                continue;
            }
            self.list.push(Problem {
                row,
                violation: v.clone(),
            });
        }
    }
}

impl Store {
    /// Checks the rows added since the last call (all of them the first time), and the
    /// exit once it is known. Returns how many results were added.
    pub fn check(&mut self) -> usize {
        self.check_for(None)
    }

    /// Rows remain to be checked (`check_for` ran out of time).
    pub fn check_pending(&self) -> bool {
        self.problems.next < self.len() || (self.exit.is_some() && !self.problems.exit_checked)
    }

    /// Like `check`, but stops after about `budget` (the TUI checks a large file in
    /// slices between frames rather than holding up its loading).
    pub fn check_for(&mut self, budget: Option<std::time::Duration>) -> usize {
        let start = std::time::Instant::now();
        let before = self.problems.all().len();
        let mut checker = self.problems.checker.take().unwrap_or_else(|| {
            let mut c = Box::new(Checker::new());
            if let Some(info) = &self.info {
                c.event(&crate::record::Event::Session(info.clone()));
            }
            c
        });
        if !self.gaps.is_empty() {
            // The recorder lost bytes somewhere: pairing and order cannot be judged.
            checker.lost_history();
        }
        for i in self.problems.next..self.len() {
            if i % 256 == 0 && budget.is_some_and(|b| start.elapsed() >= b) {
                break;
            }
            let row = *self.row(i);
            let found = match row.kind {
                Kind::Stderr | Kind::Oversized => {
                    self.problems.next = i + 1;
                    continue;
                }
                Kind::Noise => checker.noise(row.seq, row.dir, self.body(i)),
                _ => checker.message_parts(
                    row.seq,
                    row.dir,
                    row.framing.unwrap_or(Framing::Lsp),
                    self.body(i),
                    self.headers(i),
                ),
            };
            if !found.is_empty() {
                let found = found.to_vec();
                self.problems
                    .add(u32::try_from(i).unwrap_or(u32::MAX), &found);
                self.flag(i, Flags::VIOLATION);
            }
            self.problems.next = i + 1;
        }
        if let (Some(exit), false, true) = (
            self.exit,
            self.problems.exit_checked,
            self.problems.next == self.len(),
        ) {
            self.problems.exit_checked = true;
            let found = checker.exit(exit.code).to_vec();
            self.problems.add(NONE, &found);
        }
        self.problems.checker = Some(checker);
        self.problems.all().len() - before
    }

    /// The results at row `i` (empty when there are none or checking is off).
    pub fn problems_of(&self, i: usize) -> &[Problem] {
        if !self.row(i).flags.has(Flags::VIOLATION) {
            return &[];
        }
        let list = self.problems.all();
        let row = u32::try_from(i).unwrap_or(u32::MAX);
        let start = list.partition_point(|p| p.row < row);
        let end = start + list[start..].partition_point(|p| p.row == row);
        &list[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Dir, Event, MessageEvent, Micros};

    fn msg(seq: u64, dir: Dir, body: &str) -> Event {
        Event::Message(MessageEvent {
            seq,
            t: Micros(i64::try_from(seq).unwrap()),
            dir,
            framing: Framing::Lsp,
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
            headers: None,
            redacted: false,
            oversized: None,
            mark: crate::record::Mark::default(),
        })
    }

    #[test]
    fn rows_are_checked_incrementally_and_flagged() {
        let mut s = Store::new();
        s.push(msg(1, Dir::C2s, r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#));
        assert_eq!(s.check(), 0);
        s.push(msg(2, Dir::S2c, r#"{"jsonrpc":"2.0","id":1,"result":1}"#));
        s.push(msg(3, Dir::S2c, r#"{"jsonrpc":"2.0","id":1,"result":1}"#));
        assert_eq!(s.check(), 1);
        assert!(s.problems_of(1).is_empty());
        assert_eq!(
            s.problems_of(2)[0].violation.rule.id,
            "jsonrpc/duplicate-response"
        );
        assert!(s.row(2).flags.has(Flags::VIOLATION));
        assert_eq!(s.problems.counts.errors, 1);
        assert_eq!(s.check(), 0, "nothing new");
    }
}
