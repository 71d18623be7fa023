//! The scripted demo client: talks a realistic LSP session to any server over a pair of
//! byte streams, answers the server's own requests, and reports which expectations held.
//!
//! Reading runs on its own thread and hands messages over a channel, so neither side can
//! deadlock on a full pipe; the calling thread writes and waits, every wait bounded by
//! `ClientOpts::timeout`. What the session says lives in `script`; this file is the
//! plumbing and the `Report`.

use super::script;
use crate::rpc::Id;
use crate::wire::{encode, FrameReader};
use crate::wire::{DecodeError, FrameKind, Framing};
use anyhow::Context;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOpts {
    /// Pause between steps, so a viewer sees the traffic arrive.
    pub pace: Duration,
    /// After the script, keep editing and hovering once a second until the server goes away
    /// or `stop` is set (for the live `rpctap demo`).
    pub repeat: bool,
    /// The framing the client writes.
    pub framing: Framing,
    /// The longest wait for any one answer (and for the server's output to end).
    pub timeout: Duration,
    /// Set from another thread to end the session early: the client then sends `shutdown`
    /// and `exit` and returns.
    pub stop: Arc<AtomicBool>,
}

impl Default for ClientOpts {
    fn default() -> Self {
        ClientOpts {
            pace: Duration::ZERO,
            repeat: false,
            framing: Framing::Lsp,
            timeout: Duration::from_secs(10),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What happened during a session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every scripted step ran (through `exit`; with `repeat`, up to the repeating part).
    pub completed: bool,
    /// `serverInfo.name` from the `initialize` answer.
    pub server_name: Option<String>,
    /// Hovers answered with a non-null result.
    pub hover_results: usize,
    pub completion_items: usize,
    pub symbols: usize,
    /// Definitions answered with a location.
    pub definitions: usize,
    /// `demo/fail` was answered with an error.
    pub fail_error: bool,
    /// An unknown method was answered with -32601 (method not found).
    pub method_not_found: bool,
    /// The cancelled request was answered with -32800 (request cancelled).
    pub cancelled: bool,
    /// Requests from the server that the client answered.
    pub server_requests_answered: usize,
    /// `textDocument/publishDiagnostics` notifications received.
    pub diagnostics: usize,
    pub log_messages: usize,
    pub progress: usize,
    /// Bytes outside frames (log lines) seen on the server's output.
    pub noise: usize,
    /// Frames that were not valid JSON.
    pub invalid: usize,
    /// Edits made while repeating.
    pub edits: usize,
    /// Why the session stopped early, if it did.
    pub failure: Option<String>,
}

/// The demo server sends this many requests after `initialized`.
pub const EXPECTED_SERVER_REQUESTS: usize = 2;

impl Report {
    /// Each expectation with whether it held.
    pub fn expectations(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("the script completed", self.completed),
            ("a hover was answered with a result", self.hover_results > 0),
            ("demo/fail was answered with an error", self.fail_error),
            (
                "an unknown method was answered with -32601",
                self.method_not_found,
            ),
            (
                "the cancelled request was answered with -32800",
                self.cancelled,
            ),
            (
                "the server's requests were answered",
                self.server_requests_answered >= EXPECTED_SERVER_REQUESTS,
            ),
            ("diagnostics were received", self.diagnostics > 0),
        ]
    }

    /// The session ran to the end and every expectation held.
    pub fn ok(&self) -> bool {
        self.problem().is_none()
    }

    /// One line saying what went wrong, if anything.
    pub fn problem(&self) -> Option<String> {
        if let Some(f) = &self.failure {
            return Some(f.clone());
        }
        let unmet: Vec<&str> = self
            .expectations()
            .into_iter()
            .filter(|(_, held)| !held)
            .map(|(what, _)| what)
            .collect();
        (!unmet.is_empty()).then(|| format!("expected but missing: {}", unmet.join("; ")))
    }
}

/// Runs the demo session: writes to `writer` (the server's stdin), reads `reader` (its
/// stdout) on a thread of its own. Problems with the server end up in the report; an `Err`
/// means the client itself could not run.
pub fn drive(
    reader: impl Read + Send + 'static,
    writer: impl Write,
    opts: &ClientOpts,
) -> anyhow::Result<Report> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("demo-client-reader".into())
        .spawn(move || read_loop(reader, &tx))
        .context("cannot start the demo client's reader thread")?;
    let mut session = Session {
        writer: Some(writer),
        rx,
        opts,
        next_id: 1,
        stash: HashMap::new(),
        report: Report::default(),
        gone: None,
    };
    if let Err(halt) = script::run(&mut session) {
        session.report.failure = Some(match halt {
            Halt::Failed(why) | Halt::Gone(why) => why,
            Halt::Stopped => "stopped before the script finished".to_owned(),
        });
    }
    Ok(session.finish())
}

enum Incoming {
    Message(Value),
    Noise,
    Invalid,
    /// The server's output ended; why, if it ended badly.
    Closed(Option<String>),
}

fn read_loop(reader: impl Read, tx: &Sender<Incoming>) {
    let mut src = FrameReader::new(reader, None);
    let end = loop {
        let event = match src.next_frame() {
            Ok(Some(f)) => match f.kind {
                FrameKind::Message => match serde_json::from_slice(&f.body) {
                    Ok(v) => Incoming::Message(v),
                    Err(_) => Incoming::Invalid,
                },
                FrameKind::Noise => Incoming::Noise,
                FrameKind::Oversized { .. } | FrameKind::Skipped => Incoming::Invalid,
            },
            Ok(None) => {
                break src
                    .truncated
                    .map(|DecodeError::UnexpectedEof { buffered }| {
                        format!(
                            "the server's output was cut off mid-frame ({buffered} bytes buffered)"
                        )
                    })
            }
            Err(e) => break Some(format!("cannot read the server's output: {e}")),
        };
        if tx.send(event).is_err() {
            return;
        }
    };
    let _ = tx.send(Incoming::Closed(end));
}

/// Why a script stops before its end.
pub(crate) enum Halt {
    /// Something the server did (or failed to do) in time.
    Failed(String),
    /// The server's output ended or its input closed. The normal end of a repeating session.
    Gone(String),
    /// `ClientOpts::stop` was set.
    Stopped,
}

/// One running session: the script calls these to talk.
pub(crate) struct Session<'o, W: Write> {
    /// `None` once closed, so the server sees the end of its input.
    writer: Option<W>,
    rx: Receiver<Incoming>,
    pub opts: &'o ClientOpts,
    next_id: i64,
    /// Answers that arrived while another was awaited.
    stash: HashMap<Id, Value>,
    pub report: Report,
    /// Why the server's output ended, once it has.
    gone: Option<String>,
}

fn id_of(v: &Value) -> Option<Id> {
    match v {
        Value::Number(n) => n.as_i64().map(Id::Num),
        Value::String(s) => Some(Id::Str(s.clone())),
        _ => None,
    }
}

impl<W: Write> Session<'_, W> {
    fn send(&mut self, msg: &Value) -> Result<(), Halt> {
        let Some(w) = self.writer.as_mut() else {
            return Err(Halt::Gone("the client already closed its output".into()));
        };
        let mut bytes = Vec::new();
        encode(self.opts.framing, msg.to_string().as_bytes(), &mut bytes);
        match w.write_all(&bytes).and_then(|()| w.flush()) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.write_failed(&e)),
        }
    }

    /// The server stopped reading, most likely because it exited. How its output ended
    /// (say, cut off mid-frame by a crash) says more than the broken pipe, so wait
    /// (bounded) for that before giving the reason.
    fn write_failed(&mut self, e: &std::io::Error) -> Halt {
        self.writer = None;
        let deadline = Instant::now() + self.opts.timeout;
        while self.gone.is_none() {
            if let Ok(false) = self.next(deadline) {
                break;
            }
        }
        Halt::Gone(match &self.gone {
            Some(why) => format!("cannot write to the server ({e}); {why}"),
            None => format!("cannot write to the server: {e}"),
        })
    }

    /// `Value::Null` params are left out: JSON-RPC's `params` is an object or an array
    /// when present (`rpctap check` flags `"params": null`).
    pub fn notify(&mut self, method: &str, params: Value) -> Result<(), Halt> {
        let mut m = json!({"jsonrpc": "2.0", "method": method});
        m["params"] = params;
        drop_null_params(&mut m);
        self.send(&m)
    }

    pub fn request(&mut self, method: &str, params: Value) -> Result<Id, Halt> {
        let id = self.next_id;
        self.next_id += 1;
        let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
        m["params"] = params;
        drop_null_params(&mut m);
        self.send(&m)?;
        Ok(Id::Num(id))
    }

    /// Waits for the answer to request `id` (the whole response message).
    pub fn response(&mut self, id: &Id, method: &str) -> Result<Value, Halt> {
        let deadline = Instant::now() + self.opts.timeout;
        loop {
            if let Some(v) = self.stash.remove(id) {
                return Ok(v);
            }
            match self.next(deadline) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Halt::Failed(format!(
                        "no answer to {method} (id {id}) within {:.1}s",
                        self.opts.timeout.as_secs_f64()
                    )))
                }
                Err(Halt::Gone(why)) => {
                    return Err(Halt::Gone(format!(
                        "no answer to {method} (id {id}): {why}"
                    )))
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Sends a request and waits for its answer.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Halt> {
        let id = self.request(method, params)?;
        self.response(&id, method)
    }

    /// Keeps handling the server's messages for `d`, stopping early if asked to.
    pub fn pause(&mut self, d: Duration) -> Result<(), Halt> {
        let deadline = Instant::now() + d;
        loop {
            if self.opts.stop.load(Ordering::Relaxed) {
                return Err(Halt::Stopped);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            // Short slices, so `stop` is noticed promptly.
            self.next(deadline.min(now + Duration::from_millis(50)))?;
        }
    }

    /// Handles the server's messages until `done(report)` holds or the timeout passes;
    /// returns whether it held.
    pub fn wait_for(&mut self, done: impl Fn(&Report) -> bool) -> Result<bool, Halt> {
        let deadline = Instant::now() + self.opts.timeout;
        while !done(&self.report) {
            if !self.next(deadline)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Handles one incoming event; `false` if none came before `deadline`.
    fn next(&mut self, deadline: Instant) -> Result<bool, Halt> {
        if let Some(why) = &self.gone {
            return Err(Halt::Gone(why.clone()));
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let event = match self.rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => return Ok(false),
            Err(RecvTimeoutError::Disconnected) => Incoming::Closed(None),
        };
        match event {
            Incoming::Message(msg) => self.handle(msg)?,
            Incoming::Noise => self.report.noise += 1,
            Incoming::Invalid => self.report.invalid += 1,
            Incoming::Closed(bad) => {
                let why = bad.unwrap_or_else(|| "the server closed its output".to_owned());
                self.gone = Some(why.clone());
                return Err(Halt::Gone(why));
            }
        }
        Ok(true)
    }

    fn handle(&mut self, msg: Value) -> Result<(), Halt> {
        let method = msg.get("method").and_then(Value::as_str);
        let id = msg.get("id").and_then(id_of);
        match (method, id) {
            (Some(method), Some(_)) => {
                let result = match method {
                    "workspace/configuration" => {
                        let items = msg["params"]["items"].as_array().map_or(1, Vec::len);
                        Ok(vec![json!({"greeting": "Hello", "maxProblems": 100}); items].into())
                    }
                    "window/workDoneProgress/create"
                    | "client/registerCapability"
                    | "client/unregisterCapability" => Ok(Value::Null),
                    _ => Err(format!("the demo client does not handle {method}")),
                };
                let reply = match result {
                    Ok(result) => json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}),
                    Err(message) => json!({
                        "jsonrpc": "2.0",
                        "id": msg["id"],
                        "error": {"code": -32601, "message": message},
                    }),
                };
                self.send(&reply)?;
                self.report.server_requests_answered += 1;
            }
            (Some(method), None) => match method {
                "textDocument/publishDiagnostics" => self.report.diagnostics += 1,
                "window/logMessage" | "window/showMessage" => self.report.log_messages += 1,
                "$/progress" => self.report.progress += 1,
                _ => {}
            },
            (None, Some(id)) => {
                self.stash.insert(id, msg);
            }
            (None, None) => self.report.invalid += 1,
        }
        Ok(())
    }

    /// Closes the server's input and waits (bounded) for its output to end, so the reader
    /// thread is done and late messages are counted.
    fn finish(mut self) -> Report {
        self.writer = None;
        let deadline = Instant::now() + self.opts.timeout;
        loop {
            match self.next(deadline) {
                // A server request that can no longer be answered: keep draining.
                Ok(true) | Err(Halt::Failed(_) | Halt::Stopped) => {}
                Err(Halt::Gone(_)) if self.gone.is_none() => {}
                // Timed out, or the output ended (the expected way).
                Ok(false) | Err(Halt::Gone(_)) => break,
            }
        }
        self.report
    }
}

fn drop_null_params(m: &mut Value) {
    if let Some(o) = m.as_object_mut() {
        if o.get("params").is_some_and(Value::is_null) {
            o.remove("params");
        }
    }
}
