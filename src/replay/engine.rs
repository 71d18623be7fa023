//! Drives a fresh server with a recorded client's messages.
//!
//! One loop owns everything: it sends the next step once its causal predecessors are
//! answered (or timed out) and its pace allows, and meanwhile handles what the server
//! sends — responses are kept for the report, server requests are answered from the
//! recording. Between events it blocks on the server's inbox until the next deadline (a
//! pace, a request's `--timeout`), so waiting costs no CPU; it ends as soon as nothing is
//! left to send or wait for, or the server exits or closes its stdout, and then runs the
//! child's stop sequence so no server is ever left behind.

use super::progress::Progress;
use super::script::Script;
use super::server::{Incoming, Server, Writer};
use super::{with_id, ReplayError};
use crate::record::Exit;
use crate::rpc::{classify, Id, Kind, Protocol};
use crate::session::Store;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// Unexpected responses (and unanswerable server requests) kept for the report; the rest
/// are only counted.
pub const STRAY_KEPT: usize = 100;
/// How long, after the stop sequence, the server's last output may take to arrive.
const DRAIN: Duration = Duration::from_millis(500);
/// How long after its stdout ended a server still counts as exiting, not as having only
/// closed its stdout.
const EXIT_AFTER_EOF: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as causality allows.
    Asap,
    /// Keep the recorded gaps between client messages, divided by the factor.
    Scaled(f64),
}

impl std::str::FromStr for Pace {
    type Err = String;
    fn from_str(s: &str) -> Result<Pace, String> {
        match s {
            "asap" => Ok(Pace::Asap),
            "recorded" => Ok(Pace::Scaled(1.0)),
            f => match f.parse::<f64>() {
                // Bounded: a factor near 0 would push deadlines past what the clock holds.
                Ok(x) if (0.001..=1e6).contains(&x) => Ok(Pace::Scaled(x)),
                _ => Err(format!(
                    "expected recorded, asap or a speed factor from 0.001 to 1000000 such as 2, not {f:?}"
                )),
            },
        }
    }
}

pub struct ReplayOptions {
    pub pace: Pace,
    pub timeout: Duration,
    /// The recording to write, already created (see `files`).
    pub record: Option<crate::files::Created>,
    pub grace: Duration,
    /// The terminal belongs to a viewer: no progress line, and the server's stderr goes
    /// only to the recording.
    pub quiet: bool,
}

/// How the session with the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ending {
    /// Everything was sent, and every request was answered or timed out.
    #[default]
    Completed,
    /// The server exited before that.
    Exited,
    /// The server closed its stdout (still running) before that.
    StdoutClosed,
}

/// What happened during a replay, for the report.
#[derive(Default)]
pub struct Outcome {
    /// Replayed responses by request id: when, and the body.
    pub responses: HashMap<Id, (Duration, Bytes)>,
    /// When each recorded request was sent, by row.
    pub sent: HashMap<usize, Duration>,
    /// Responses to ids the replay never sent, or second answers to one it did: the first
    /// `STRAY_KEPT` of them (a server may send any number).
    pub stray: Vec<Bytes>,
    /// How many there were in all.
    pub stray_total: usize,
    pub server_requests_answered: usize,
    /// Methods of server requests the recording had no answer for.
    /// (the first `STRAY_KEPT`; `unanswered_total` counts them all).
    pub unanswered_server_requests: Vec<String>,
    pub unanswered_total: usize,
    pub exit: Option<Exit>,
    pub ending: Ending,
    /// The server's output ended in the middle of a message: why.
    pub truncated: Option<String>,
    /// Requests the script holds, and how many of them had been answered when it ended.
    pub requests: usize,
    pub answered_at_end: usize,
    /// The stop sequence had to signal the server (it ignored its closed stdin).
    pub forced: bool,
}

pub fn replay(
    store: &Store,
    command: &[String],
    opts: &ReplayOptions,
) -> Result<(Script, Outcome), ReplayError> {
    let script = Script::from_store(store)?;
    if command.is_empty() {
        return Err(ReplayError::NoCommand);
    }
    let server = super::server::start(store, command, opts.record.as_ref(), opts.quiet)?;
    let mut run = Run::new(store, script, &server, opts);
    run.drive(&server);
    run.stop(&server, opts.grace);
    let (script, out) = (run.script, run.out);
    server.finish_recording(out.exit.unwrap_or(crate::child::exit_event(None)));
    Ok((script, out))
}

/// The state of one replay while it runs.
struct Run<'a> {
    store: &'a Store,
    script: Script,
    opts: &'a ReplayOptions,
    writer: Writer<'a>,
    out: Outcome,
    start: Instant,
    /// Pacing counts from when the first message actually went out, so that every
    /// recorded gap is kept even if the start was delayed.
    paced_from: Option<Instant>,
    first_t: i64,
    sent_ids: HashMap<Id, usize>,
    next: usize,
    progress: Progress,
}

/// What the loop does next.
enum Next {
    Send,
    /// Wait for the server until this instant.
    Wait(Instant),
    Done,
}

impl<'a> Run<'a> {
    fn new(store: &'a Store, script: Script, server: &'a Server, opts: &'a ReplayOptions) -> Self {
        let requests = script
            .steps
            .iter()
            .filter(|s| store.row(s.row).kind == Kind::Request)
            .count();
        let writer = Writer {
            file: &server.stdin,
            tap: &server.tap,
            framing: script.framing,
            broken: false,
        };
        Run {
            store,
            first_t: script.steps.first().map_or(0, |s| store.row(s.row).t.0),
            progress: Progress::new(!opts.quiet, script.steps.len()),
            script,
            opts,
            writer,
            out: Outcome {
                requests,
                ..Outcome::default()
            },
            start: Instant::now(),
            paced_from: None,
            sent_ids: HashMap::new(),
            next: 0,
        }
    }

    /// Sends and receives until the script is done or the server is gone.
    fn drive(&mut self, server: &Server) {
        loop {
            let until = match self.next_action(Instant::now()) {
                Next::Send => {
                    self.send_next();
                    continue;
                }
                Next::Done => break,
                Next::Wait(until) => until,
            };
            let wait = until.saturating_duration_since(Instant::now());
            match server.inbox.recv_timeout(wait) {
                Ok(Incoming::Message(at, body)) => self.handle(at, body),
                Ok(Incoming::Eof { truncated }) => {
                    self.out.truncated = truncated.map(|e| e.to_string());
                    // An exiting server closes its stdout as it exits: tell the two apart.
                    self.out.ending = match server.child.wait_timeout(EXIT_AFTER_EOF) {
                        Some(status) => {
                            self.out.exit = Some(crate::child::exit_event(Some(status)));
                            Ending::Exited
                        }
                        None => Ending::StdoutClosed,
                    };
                    break;
                }
                Ok(Incoming::Exited(status)) => {
                    self.out.exit = Some(crate::child::exit_event(Some(status)));
                    self.out.ending = Ending::Exited;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if self.next == self.script.steps.len() && !self.outstanding(Instant::now()) {
            // Everything was done when the server went: that is a normal end.
            self.out.ending = Ending::Completed;
        }
        self.out.answered_at_end = self.out.responses.len();
        tracing::debug!(
            ending = ?self.out.ending,
            sent = self.next,
            answered = self.out.answered_at_end,
            stray = self.out.stray_total,
            "replay loop done"
        );
        self.progress.finish(self.next, self.out.responses.len());
    }

    /// Decides between sending the next step, waiting (and until when), and stopping.
    fn next_action(&self, now: Instant) -> Next {
        let Some(step) = self.script.steps.get(self.next) else {
            return match self.earliest_timeout(self.sent_ids.values().copied(), now) {
                Some(t) => Next::Wait(t),
                None => Next::Done,
            };
        };
        let awaited = &self.script.awaited[..step.after];
        if let Some(t) = self.earliest_timeout(awaited.iter().copied(), now) {
            return Next::Wait(t);
        }
        let due = match self.opts.pace {
            Pace::Asap => now,
            Pace::Scaled(f) => {
                let gap = (self.store.row(step.row).t.0 - self.first_t).max(0) as f64 / f;
                // `--pace` is positive and finite (cli), so is the gap; a float's `as`
                // saturates anyway.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let gap = gap as u64;
                self.paced_from.unwrap_or(now) + Duration::from_micros(gap)
            }
        };
        if due <= now {
            Next::Send
        } else {
            Next::Wait(due)
        }
    }

    /// The earliest deadline among `rows` still waiting for an answer, if any is.
    fn earliest_timeout(&self, rows: impl Iterator<Item = usize>, now: Instant) -> Option<Instant> {
        rows.filter(|&r| !self.answered(r))
            .filter_map(|r| self.deadline(r))
            .filter(|&d| d > now)
            .min()
    }

    fn answered(&self, row: usize) -> bool {
        self.store
            .id(row)
            .is_some_and(|id| self.out.responses.contains_key(&id))
    }

    fn deadline(&self, row: usize) -> Option<Instant> {
        self.out
            .sent
            .get(&row)
            .map(|t| self.start + *t + self.opts.timeout)
    }

    /// Is a sent request still unanswered and within its timeout?
    fn outstanding(&self, now: Instant) -> bool {
        self.sent_ids
            .values()
            .any(|&r| !self.answered(r) && self.deadline(r).is_some_and(|d| d > now))
    }

    fn send_next(&mut self) {
        let row = self.script.steps[self.next].row;
        let now = Instant::now();
        self.writer.send(self.store.body(row));
        self.paced_from.get_or_insert(now);
        self.out.sent.insert(row, now - self.start);
        if self.store.row(row).kind == Kind::Request {
            if let Some(id) = self.store.id(row) {
                self.sent_ids.insert(id, row);
            }
        }
        self.next += 1;
        self.progress.update(self.next, self.out.responses.len());
    }

    /// Closes the server's stdin, lets it exit (or insists), and collects what it said
    /// before it went.
    fn stop(&mut self, server: &Server, grace: Duration) {
        self.writer.broken = true;
        let stopped = server.child.stop(grace);
        let status = stopped.status;
        self.out.forced = stopped.signalled;
        if self.out.exit.is_none() {
            self.out.exit = Some(crate::child::exit_event(status));
        }
        let until = Instant::now() + DRAIN;
        while let Ok(incoming) = server
            .inbox
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            match incoming {
                Incoming::Message(at, body) => self.handle(at, body),
                Incoming::Eof { truncated } => {
                    if self.out.truncated.is_none() {
                        self.out.truncated = truncated.map(|e| e.to_string());
                    }
                    break;
                }
                Incoming::Exited(_) => {}
            }
        }
    }

    fn handle(&mut self, at: Instant, body: Bytes) {
        let at = at.saturating_duration_since(self.start);
        let c = classify(&body);
        match c.kind {
            Kind::Response | Kind::Error => match c.id {
                Some(id)
                    if self.sent_ids.contains_key(&id) && !self.out.responses.contains_key(&id) =>
                {
                    self.out.responses.insert(id, (at, body));
                }
                _ => {
                    self.out.stray_total += 1;
                    if self.out.stray.len() < STRAY_KEPT {
                        self.out.stray.push(body);
                    }
                }
            },
            Kind::Request => self.answer(c.method.unwrap_or_default(), c.id.as_ref()),
            _ => {}
        }
    }

    /// Answers a server request with the recorded client answer, or with an error.
    fn answer(&mut self, method: String, id: Option<&Id>) {
        let id_value = match id {
            Some(Id::Num(n)) => serde_json::Value::from(*n),
            Some(Id::Str(s)) => serde_json::Value::from(s.as_str()),
            None => serde_json::Value::Null,
        };
        let recorded = self
            .script
            .answers
            .get_mut(&method)
            .and_then(std::collections::VecDeque::pop_front);
        if let Some(row) = recorded {
            self.writer.send(&with_id(self.store.body(row), &id_value));
            self.out.server_requests_answered += 1;
            return;
        }
        let message = format!("rpctap replay: the recording has no answer to {method}");
        let reply = if self.store.protocol == Some(Protocol::Dap) {
            serde_json::json!({"seq": 0, "type": "response", "request_seq": id_value, "success": false, "command": method, "message": message})
        } else {
            serde_json::json!({"jsonrpc": "2.0", "id": id_value, "error": {"code": -32603, "message": message}})
        };
        self.writer.send(reply.to_string().as_bytes());
        self.out.unanswered_total += 1;
        if self.out.unanswered_server_requests.len() < STRAY_KEPT {
            self.out.unanswered_server_requests.push(method);
        }
    }
}
