//! Live checking in the shim (`rpctap --check -- CMD`): a recorder `Observer` that
//! follows the recording file as it is committed, as live viewers do, on a thread of its
//! own at the lowest CPU priority (`os::idle_this_thread`: `SCHED_IDLE`).
//!
//! Why from the file, not from the recorder: the recorder then does nothing per event for
//! checking (no copy, no queue, no wake-up), and a checker that falls behind during a
//! burst only lags — it catches up from the file afterwards instead of skipping events and
//! losing the history that pairing and lifecycle rules need. At the session's end the
//! shim waits while the checker catches up (it bumps the recorder's progress counter), so
//! the summary counts every event.
//!
//! Traffic first: while the recording grows fast (a burst), the checker does not read at
//! all (`Pace`), even on an idle core — reading the file back and parsing it competes with
//! the pumps for memory bandwidth and caches, which `SCHED_IDLE` does not prevent (it
//! measured 0.76–0.94× the throughput of `--record` alone with 1 MiB messages). It
//! catches up when the burst is over.
//!
//! Not responsible for: the rules (`Checker`), violations shown in viewers and the hub
//! (they check the recording themselves, `session::problems`).

use super::{Checker, Counts, Violation};
use crate::live::Feed;
use crate::pace::Pace;
use crate::proxy::Observer;
use crate::record::{Event, Reader};
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Violations printed on stderr, at most; the summary counts them all.
const MAX_PRINTED: u64 = 200;

type Report = Box<dyn FnMut(&Violation) + Send>;

/// The observer half: starts the checker thread when the recorder has a file.
pub struct LiveCheck {
    report: Option<Report>,
    thread: Option<JoinHandle<Tally>>,
    /// Why nothing is being checked, when that is so.
    off: Option<String>,
}

/// What the checker found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub counts: Counts,
    /// Events read from the recording and checked.
    pub checked: u64,
    /// Reading the recording failed before its end.
    pub failed: Option<String>,
}

impl LiveCheck {
    /// A checker that calls `report` (on its thread) for each violation.
    pub fn new(report: impl FnMut(&Violation) + Send + 'static) -> LiveCheck {
        LiveCheck {
            report: Some(Box::new(report)),
            thread: None,
            off: Some("there is no recording to read".into()),
        }
    }

    /// A checker that prints each violation as one line on stderr (the first
    /// `MAX_PRINTED`) and a summary when the session ends.
    pub fn to_stderr() -> LiveCheck {
        let mut printed = 0u64;
        LiveCheck::new(move |v| {
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

    /// Starts checking the recording read from `file` as far as `feed` says it is
    /// committed, until the feed ends; each event checked bumps `progress`.
    pub fn start(&mut self, file: File, feed: Arc<Feed>, progress: Arc<AtomicU64>) {
        let Some(mut report) = self.report.take() else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("rpctap-check".into())
            .spawn(move || {
                crate::os::idle_this_thread();
                let input = BufReader::with_capacity(1 << 16, Follow::new(file, feed));
                run(Reader::new(input), &progress, &mut report)
            });
        match spawned {
            Ok(t) => (self.thread, self.off) = (Some(t), None),
            Err(e) => self.off = Some(format!("cannot start its thread: {e}")),
        }
    }

    /// Waits for the checker to reach the end of the recording (the feed must have
    /// ended); its tally, or why nothing was checked.
    pub fn stop(&mut self) -> Result<Tally, String> {
        if let Some(why) = &self.off {
            return Err(why.clone());
        }
        let thread = self.thread.take().ok_or("already stopped")?;
        thread.join().map_err(|_| "the checker failed".to_owned())
    }
}

impl Observer for LiveCheck {
    fn event(&mut self, _event: &Event) {}

    fn follows_file(&self) -> bool {
        true
    }

    fn follow(&mut self, file: File, feed: Arc<Feed>, progress: Arc<AtomicU64>) {
        self.start(file, feed, progress);
    }

    fn finish(&mut self) {
        match self.stop() {
            Ok(t) => {
                let failed = t
                    .failed
                    .map_or(String::new(), |e| format!(" (then reading stopped: {e})"));
                eprintln!(
                    "rpctap: check: {} error(s), {} warning(s) in {} event(s){failed}",
                    t.counts.errors, t.counts.warnings, t.checked
                );
            }
            Err(why) => eprintln!("rpctap: check: nothing was checked: {why}"),
        }
    }
}

/// The recording as a `Read` that ends where the recorder's output ends: reads stop at
/// the committed length (whole lines) and wait on the feed for more.
struct Follow {
    file: File,
    feed: Arc<Feed>,
    at: u64,
    /// Committed length last learnt.
    end: u64,
    /// The feed ended: `end` is final.
    ended: bool,
    pace: Pace,
}

impl Follow {
    fn new(file: File, feed: Arc<Feed>) -> Follow {
        Follow {
            file,
            feed,
            at: 0,
            end: 0,
            ended: false,
            pace: Pace::default(),
        }
    }

    /// Returns once the checker may read on: the recording is not growing as in a burst,
    /// or has ended.
    fn yield_to_traffic(&mut self) {
        loop {
            let (len, ended) = self.feed.state();
            match self.pace.wait(Instant::now(), len, ended) {
                Some(nap) => std::thread::sleep(nap),
                None => return,
            }
        }
    }
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.at < self.end {
                self.yield_to_traffic();
                let want =
                    usize::try_from(self.end - self.at).map_or(buf.len(), |n| n.min(buf.len()));
                let n = self.file.read_at(&mut buf[..want], self.at)?;
                self.at += n as u64;
                // 0: the file is shorter than committed (cut back after a disk failure).
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            if let Some(len) = self.feed.wait_past(self.at) {
                self.end = len;
            } else {
                (self.end, self.ended) = (self.feed.committed(), true);
            }
        }
    }
}

fn run(events: Reader<impl std::io::BufRead>, progress: &AtomicU64, report: &mut Report) -> Tally {
    let mut checker = Checker::new();
    let mut tally = Tally::default();
    for event in events {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                tally.failed = Some(e.to_string());
                break;
            }
        };
        tally.checked += 1;
        progress.fetch_add(1, Ordering::Relaxed);
        let found = checker.event(&event);
        tally.counts.add(found);
        found.iter().for_each(&mut *report);
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Mutex;

    const SESSION: &str = r#"{"rpctap":1,"type":"session","id":"t","name":"t","command":["x"],"cwd":"/","pid":1,"started":"2026-12-01T10:00:00.000000Z"}"#;

    fn message(seq: u64, dir: &str, body: &str) -> String {
        format!(
            r#"{{"seq":{seq},"t":"2026-12-01T10:00:00.000001Z","dir":"{dir}","framing":"lsp","msg":{body}}}"#
        )
    }

    /// A recording file with `lines`, and the length of its first `n` lines.
    fn recording(lines: &[String], n: usize) -> (tempfile::NamedTempFile, u64) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut upto = 0;
        for (i, l) in lines.iter().enumerate() {
            writeln!(f, "{l}").unwrap();
            if i < n {
                upto += l.len() as u64 + 1;
            }
        }
        (f, upto)
    }

    fn lines() -> Vec<String> {
        vec![
            SESSION.to_owned(),
            message(1, "c2s", r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#),
            message(2, "s2c", r#"{"jsonrpc":"2.0","id":7,"result":null}"#),
            message(3, "s2c", r#"{"jsonrpc":"2.0","id":8,"result":null}"#),
        ]
    }

    #[test]
    fn the_checker_reads_what_is_committed_as_it_grows_then_stops_at_the_end() {
        let lines = lines();
        let (file, three) = recording(&lines, 3);
        let feed = Arc::new(Feed::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut live = LiveCheck::new(move |v| s.lock().unwrap().push(v.seq));
        let progress = Arc::new(AtomicU64::new(0));
        live.start(file.reopen().unwrap(), feed.clone(), progress.clone());
        // Only the first three lines are committed; the fourth is not read, even though
        // the file holds it.
        feed.advance(three);
        feed.end();
        let tally = live.stop().unwrap();
        assert_eq!(tally.checked, 3);
        assert_eq!(tally.counts.errors, 1);
        assert_eq!(*seen.lock().unwrap(), vec![2]);
        assert_eq!(progress.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_checker_behind_the_recording_catches_up_on_every_event() {
        let lines = lines();
        let (file, all) = recording(&lines, lines.len());
        let feed = Arc::new(Feed::default());
        // The whole session is committed and ended before the checker starts.
        feed.advance(all);
        feed.end();
        let mut live = LiveCheck::new(|_| {});
        live.start(file.reopen().unwrap(), feed, Arc::default());
        let tally = live.stop().unwrap();
        assert_eq!((tally.checked, tally.counts.errors), (4, 2));
        assert_eq!(tally.failed, None);
    }

    #[test]
    fn without_a_file_it_says_nothing_was_checked() {
        let mut live = LiveCheck::new(|_| {});
        assert!(live.stop().unwrap_err().contains("no recording"));
    }
}
