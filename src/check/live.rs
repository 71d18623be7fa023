//! Live checking in the shim (`rpctap --check -- CMD`): a recorder `Observer` that hands
//! each recorded event to a checker thread of its own through a bounded queue, so the
//! recorder never waits for checking and the pumps never see it.
//!
//! Events go in batches (up to `BATCH`, or what gathered in `BATCH_AGE`), so the recorder
//! pays one queue operation and at most one wake-up per batch, not per event; the checker
//! thread runs at the lowest CPU priority so that it takes only what forwarding leaves.
//! When the checker falls behind, the queue is full and events are skipped, counted and
//! reported at the end; after a skip the checker no longer judges what depends on the
//! skipped history (pairing, lifecycle order), only each message on its own.

use super::{Checker, Severity, Violation};
use crate::proxy::Observer;
use crate::record::Event;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Batches waiting for the checker, at most (`QUEUE * BATCH` events): about 4 MiB of
/// bodies at the typical few hundred bytes; the bodies are shared with the recorder
/// (`Bytes`), not copied.
const QUEUE: usize = 32;
/// Events per batch, at most.
const BATCH: usize = 256;
/// A batch older than this is sent even when not full, so violations show promptly.
const BATCH_AGE: std::time::Duration = std::time::Duration::from_millis(50);
/// Violations printed on stderr, at most; the summary counts them all.
const MAX_PRINTED: u64 = 200;

enum Note {
    Events(Vec<Event>),
    /// Events were skipped before the next one.
    Skipped,
}

/// The observer half, on the recorder's thread.
pub struct LiveCheck {
    tx: Option<SyncSender<Note>>,
    batch: Vec<Event>,
    /// When the first event of `batch` arrived.
    since: Option<std::time::Instant>,
    /// Skipped since the last event the checker got.
    skipped_run: u64,
    skipped: u64,
    thread: Option<JoinHandle<Tally>>,
}

/// What the checker thread found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub errors: u64,
    pub warnings: u64,
    pub checked: u64,
}

impl LiveCheck {
    /// Starts the checker thread; `report` is called there for each violation.
    pub fn spawn(
        mut report: impl FnMut(&Violation) + Send + 'static,
    ) -> std::io::Result<LiveCheck> {
        let (tx, rx) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("rpctap-check".into())
            .spawn(move || {
                crate::os::lower_thread_priority();
                run(rx, &mut report)
            })?;
        Ok(LiveCheck {
            tx: Some(tx),
            batch: Vec::with_capacity(BATCH),
            since: None,
            skipped_run: 0,
            skipped: 0,
            thread: Some(thread),
        })
    }

    /// Starts a checker that prints each violation as one line on stderr (the first
    /// `MAX_PRINTED`) and a summary when the session ends.
    pub fn to_stderr() -> std::io::Result<LiveCheck> {
        let mut printed = 0u64;
        LiveCheck::spawn(move |v| {
            printed += 1;
            if printed <= MAX_PRINTED {
                eprintln!(
                    "rpctap: check: seq {}: {}[{}]: {}",
                    v.seq,
                    v.rule.severity.as_str(),
                    v.rule.id,
                    super::report::clip(&v.message, 300).escape_debug()
                );
            } else if printed == MAX_PRINTED + 1 {
                eprintln!("rpctap: check: further violations are counted, not shown");
            }
        })
    }

    /// Ends the thread and returns its tally and the number of events skipped.
    pub fn stop(&mut self) -> Option<(Tally, u64)> {
        if !self.batch.is_empty() {
            if let Some(tx) = &self.tx {
                let batch = std::mem::take(&mut self.batch);
                let _ = tx.send(Note::Events(batch));
            }
        }
        if self.skipped_run > 0 {
            if let Some(tx) = &self.tx {
                let _ = tx.send(Note::Skipped);
            }
            self.skipped_run = 0;
        }
        self.tx = None;
        let tally = self.thread.take()?.join().ok()?;
        Some((tally, self.skipped))
    }
}

impl Observer for LiveCheck {
    fn event(&mut self, event: &Event) {
        if self.tx.is_none() {
            return;
        }
        self.batch.push(event.clone());
        let now = std::time::Instant::now();
        let since = *self.since.get_or_insert(now);
        if self.batch.len() >= BATCH || now.duration_since(since) >= BATCH_AGE {
            self.send_batch();
        }
    }

    fn finish(&mut self) {
        if let Some((t, skipped)) = self.stop() {
            let not_checked = if skipped > 0 {
                format!("; {skipped} event(s) not checked (the checker fell behind)")
            } else {
                String::new()
            };
            eprintln!(
                "rpctap: check: {} error(s), {} warning(s) in {} event(s){not_checked}",
                t.errors, t.warnings, t.checked
            );
        }
    }
}

impl LiveCheck {
    fn send_batch(&mut self) {
        self.since = None;
        let Some(tx) = &self.tx else {
            return;
        };
        if self.skipped_run > 0 {
            match tx.try_send(Note::Skipped) {
                Ok(()) => self.skipped_run = 0,
                Err(_) => {
                    self.skip_batch();
                    return;
                }
            }
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        match tx.try_send(Note::Events(batch)) {
            Ok(()) => {}
            Err(TrySendError::Full(Note::Events(b))) => {
                self.batch = b;
                self.skip_batch();
            }
            Err(_) => self.tx = None,
        }
    }

    fn skip_batch(&mut self) {
        let n = self.batch.len() as u64;
        self.skipped_run += n;
        self.skipped += n;
        self.batch.clear();
    }
}

fn run(rx: Receiver<Note>, report: &mut impl FnMut(&Violation)) -> Tally {
    let mut checker = Checker::new();
    let mut tally = Tally::default();
    for note in rx {
        let events = match note {
            Note::Events(e) => e,
            Note::Skipped => {
                checker.lost_history();
                continue;
            }
        };
        for event in &events {
            tally.checked += 1;
            for v in checker.event(event) {
                match v.rule.severity {
                    Severity::Error => tally.errors += 1,
                    Severity::Warning => tally.warnings += 1,
                }
                report(v);
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Dir, MessageEvent};
    use crate::wire::Framing;
    use std::sync::{Arc, Mutex};

    fn msg(seq: u64, dir: Dir, body: &str) -> Event {
        Event::Message(MessageEvent {
            seq,
            t: crate::record::Micros(seq as i64),
            dir,
            framing: Framing::Lsp,
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
            headers: None,
            redacted: false,
            oversized: None,
            mark: Default::default(),
        })
    }

    #[test]
    fn the_thread_checks_what_the_recorder_hands_it() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut live = LiveCheck::spawn(move |v| s.lock().unwrap().push(v.rule.id)).unwrap();
        live.event(&msg(
            1,
            Dir::C2s,
            r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#,
        ));
        live.event(&msg(
            2,
            Dir::S2c,
            r#"{"jsonrpc":"2.0","id":7,"result":null}"#,
        ));
        let (tally, skipped) = live.stop().unwrap();
        assert_eq!(skipped, 0);
        assert_eq!(tally.checked, 2);
        assert_eq!(tally.errors, 1);
        assert_eq!(*seen.lock().unwrap(), vec!["jsonrpc/unknown-response"]);
    }

    #[test]
    fn a_full_queue_skips_and_counts_without_blocking_the_recorder() {
        // The checker is held up by its report callback until the recorder side is done.
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        let g = gate.clone();
        let mut live = LiveCheck::spawn(move |_| drop(g.lock().unwrap())).unwrap();
        // The first event's violation blocks the checker; the rest fill the queue.
        live.event(&msg(
            1,
            Dir::S2c,
            r#"{"jsonrpc":"2.0","id":7,"result":null}"#,
        ));
        let total = ((QUEUE + 4) * BATCH) as u64;
        for seq in 2..=total {
            live.event(&msg(seq, Dir::C2s, r#"{"jsonrpc":"2.0","method":"n"}"#));
        }
        drop(held);
        let (tally, skipped) = live.stop().unwrap();
        assert!(skipped > 0, "nothing skipped");
        assert_eq!(tally.checked + skipped, total);
    }
}
