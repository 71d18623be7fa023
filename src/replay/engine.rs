//! Drives a fresh server with a recorded client's messages.
//!
//! One loop owns everything: it sends the next step once its causal predecessors are
//! answered (or timed out) and its pace allows, and meanwhile handles what the server
//! sends — responses are kept for the report, server requests are answered from the
//! recording. A reader thread decodes the server's stdout; stderr is passed through. With
//! `--record`, the same `Tap` and `Recorder` as the shim's write a normal recording.

use super::script::Script;
use super::{frame, with_id};
use crate::proxy::{FileSink, Lane, Recorder, RecorderConfig, Tap, TapMsg};
use crate::record::{Exit, Micros, SessionInfo};
use crate::rpc::{classify, Id, Kind, Protocol};
use crate::session::Store;
use crate::wire::{Decoder, Limits};
use anyhow::Context;
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

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
                Ok(x) if x > 0.0 && x.is_finite() => Ok(Pace::Scaled(x)),
                _ => Err(format!(
                    "expected recorded, asap or a speed factor such as 2, not {f:?}"
                )),
            },
        }
    }
}

pub struct ReplayOptions {
    pub pace: Pace,
    pub timeout: Duration,
    pub record: Option<crate::files::Created>,
    pub grace: Duration,
    /// The terminal belongs to a viewer: no progress line, and the server's stderr goes
    /// only to the recording.
    pub quiet: bool,
}

/// What happened during a replay, for the report.
pub struct Outcome {
    /// Replayed responses by request id: when, and the body.
    pub responses: HashMap<Id, (Duration, Bytes)>,
    /// When each recorded request was sent, by row.
    pub sent: HashMap<usize, Duration>,
    /// Responses to ids the replay never sent.
    pub stray: Vec<Bytes>,
    pub server_requests_answered: usize,
    /// Methods of server requests the recording had no answer for.
    pub unanswered_server_requests: Vec<String>,
    pub exit: Option<Exit>,
}

enum Incoming {
    Message(Instant, Bytes),
    Eof,
}

pub fn replay(
    store: &Store,
    command: &[String],
    opts: &ReplayOptions,
) -> anyhow::Result<(Script, Outcome)> {
    let mut script = Script::from_store(store)?;
    let program = command
        .first()
        .context("no server command given: use `rpctap replay FILE -- CMD...`")?;
    let mut cmd = Command::new(program);
    cmd.args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::os::configure_child(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| {
        anyhow::anyhow!("cannot run '{program}': {}", crate::session::io_message(&e))
    })?;
    let pid = child.id();
    let stdin = File::from(OwnedFd::from(child.stdin.take().context("child stdin")?));
    let stdout = child.stdout.take().context("child stdout")?;
    let stderr = child.stderr.take().context("child stderr")?;

    let (tap, recorder_done) = start_recorder(store, command, opts.record.as_ref())?;
    {
        let tap = tap.clone();
        let quiet = opts.quiet;
        std::thread::spawn(move || {
            let out: Box<dyn Write + Send> = if quiet {
                Box::new(std::io::sink())
            } else {
                Box::new(std::io::stderr())
            };
            crate::proxy::pump(stderr, out, Lane::Stderr, &tap, || {})
        });
    }
    let (tx, inbox) = mpsc::channel();
    {
        let tap = tap.clone();
        std::thread::spawn(move || read_server(stdout, &tap, &tx));
    }

    let start = Instant::now();
    let first_t = script.steps.first().map_or(0, |s| store.row(s.row).t.0);
    // Pacing counts from when the first message actually went out, so that every recorded
    // gap is kept even if the start was delayed.
    let mut paced_from: Option<Instant> = None;
    let mut out = Outcome {
        responses: HashMap::new(),
        sent: HashMap::new(),
        stray: Vec::new(),
        server_requests_answered: 0,
        unanswered_server_requests: Vec::new(),
        exit: None,
    };
    let mut sent_ids: HashMap<Id, usize> = HashMap::new();
    let mut writer = Writer {
        file: &stdin,
        tap: &tap,
        framing: script.framing,
        broken: false,
    };
    let mut progress = Progress::new(!opts.quiet, script.steps.len());
    let mut next = 0;
    let mut server_gone = false;
    loop {
        let now = Instant::now();
        let expired = |row: usize, sent: &HashMap<usize, Duration>| {
            sent.get(&row)
                .is_some_and(|t| start + *t + opts.timeout <= now)
        };
        let done = |row: usize, out: &Outcome| {
            store
                .id(row)
                .is_some_and(|id| out.responses.contains_key(&id))
                || expired(row, &out.sent)
                || server_gone
        };
        let mut wait_until = now + Duration::from_millis(100);
        if next < script.steps.len() {
            let step = &script.steps[next];
            let ready = script.awaited[..step.after].iter().all(|&r| done(r, &out));
            let due = match opts.pace {
                Pace::Asap => now,
                Pace::Scaled(f) => {
                    paced_from.unwrap_or(now)
                        + Duration::from_micros(
                            ((store.row(step.row).t.0 - first_t).max(0) as f64 / f) as u64,
                        )
                }
            };
            if ready && due <= now && !server_gone {
                let row = step.row;
                writer.send(store.body(row));
                paced_from.get_or_insert_with(Instant::now);
                out.sent.insert(row, now - start);
                if store.row(row).kind == Kind::Request {
                    if let Some(id) = store.id(row) {
                        sent_ids.insert(id, row);
                    }
                }
                next += 1;
                progress.update(next, out.responses.len());
                continue;
            }
            if !ready {
                // Wake up when the first awaited request times out.
                for &r in &script.awaited[..step.after] {
                    if let Some(t) = out.sent.get(&r) {
                        wait_until = wait_until.min(start + *t + opts.timeout);
                    }
                }
            }
            wait_until = wait_until.min(due.max(now));
        } else {
            let outstanding = sent_ids.values().any(|&row| !done(row, &out));
            if !outstanding || server_gone {
                break;
            }
        }
        match inbox.recv_timeout(wait_until.saturating_duration_since(Instant::now())) {
            Ok(Incoming::Message(at, body)) => {
                handle(
                    store,
                    &mut script,
                    &mut writer,
                    &mut out,
                    &sent_ids,
                    at.saturating_duration_since(start),
                    body,
                );
            }
            Ok(Incoming::Eof) | Err(RecvTimeoutError::Disconnected) => server_gone = true,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    progress.finish(next, out.responses.len());
    // The session is over: close the server's stdin and let it exit, then insist.
    let _ = crate::os::close_pipe_in_place(&stdin);
    writer.broken = true;
    let status = wait_or_kill(&mut child, pid, opts.grace);
    out.exit = Some(Exit {
        t: Micros::now(),
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
    });
    // Drain what the server said before it exited.
    while let Ok(Incoming::Message(at, body)) = inbox.recv_timeout(Duration::from_millis(200)) {
        handle(
            store,
            &mut script,
            &mut writer,
            &mut out,
            &sent_ids,
            at.saturating_duration_since(start),
            body,
        );
    }
    tap.send(TapMsg::Exit(out.exit.unwrap_or(Exit {
        t: Micros::now(),
        code: None,
        signal: None,
    })));
    drop(tap);
    if let Some(done) = recorder_done {
        let _ = done.recv_timeout(Duration::from_secs(5));
    }
    Ok((script, out))
}

struct Writer<'a> {
    file: &'a File,
    tap: &'a Tap,
    framing: crate::wire::Framing,
    broken: bool,
}

impl Writer<'_> {
    fn send(&mut self, body: &[u8]) {
        if self.broken {
            return;
        }
        let bytes = Bytes::from(frame(self.framing, body));
        // Recorded before the write, as in the shim, so answers never precede requests.
        self.tap.offer(Lane::C2s, Micros::now(), bytes.clone());
        if self.file.write_all(&bytes).is_err() {
            self.broken = true;
        }
    }
}

fn handle(
    store: &Store,
    script: &mut Script,
    writer: &mut Writer,
    out: &mut Outcome,
    sent_ids: &HashMap<Id, usize>,
    at: Duration,
    body: Bytes,
) {
    let c = classify(&body);
    match c.kind {
        Kind::Response | Kind::Error => match c.id {
            Some(id) if sent_ids.contains_key(&id) && !out.responses.contains_key(&id) => {
                out.responses.insert(id, (at, body));
            }
            _ => out.stray.push(body),
        },
        Kind::Request => {
            let method = c.method.unwrap_or_default();
            let id_value = match &c.id {
                Some(Id::Num(n)) => serde_json::Value::from(*n),
                Some(Id::Str(s)) => serde_json::Value::from(s.as_str()),
                None => serde_json::Value::Null,
            };
            match script.answers.get_mut(&method).and_then(|q| q.pop_front()) {
                Some(row) => {
                    writer.send(&with_id(store.body(row), &id_value));
                    out.server_requests_answered += 1;
                }
                None => {
                    let message = format!("rpctap replay: the recording has no answer to {method}");
                    let reply = if store.protocol == Some(Protocol::Dap) {
                        serde_json::json!({"seq": 0, "type": "response", "request_seq": id_value, "success": false, "command": method, "message": message})
                    } else {
                        serde_json::json!({"jsonrpc": "2.0", "id": id_value, "error": {"code": -32603, "message": message}})
                    };
                    writer.send(reply.to_string().as_bytes());
                    out.unanswered_server_requests.push(method);
                }
            }
        }
        _ => {}
    }
}

fn read_server(mut stdout: impl Read, tap: &Tap, tx: &mpsc::Sender<Incoming>) {
    let mut decoder = Decoder::new(None, Limits::default());
    let mut buf = BytesMut::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match stdout.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let now = Instant::now();
        tap.offer(
            Lane::S2c,
            Micros::now(),
            Bytes::copy_from_slice(&chunk[..n]),
        );
        buf.extend_from_slice(&chunk[..n]);
        while let Some(f) = decoder.decode(&mut buf) {
            if f.kind == crate::wire::FrameKind::Message {
                let _ = tx.send(Incoming::Message(now, f.body));
            }
        }
    }
    tap.send(TapMsg::Eof(Lane::S2c));
    let _ = tx.send(Incoming::Eof);
}

fn wait_or_kill(
    child: &mut std::process::Child,
    pid: u32,
    grace: Duration,
) -> Option<std::process::ExitStatus> {
    for (limit, then) in [
        (grace, Some(libc::SIGTERM)),
        (grace, Some(libc::SIGKILL)),
        (grace, None),
    ] {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Ok(Some(s)) = child.try_wait() {
                crate::os::signal_group(pid, libc::SIGKILL);
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(sig) = then {
            crate::os::signal(pid, sig);
        }
    }
    None
}

type RecorderDone = Option<mpsc::Receiver<()>>;

fn start_recorder(
    store: &Store,
    command: &[String],
    created: Option<&crate::files::Created>,
) -> anyhow::Result<(Tap, RecorderDone)> {
    // Without a recording the receiver is dropped at once and the tap discards.
    let (tap, rx) = crate::proxy::tap(
        8 * 1024 * 1024,
        created.and_then(|c| c.path.parent()).map(Into::into),
    );
    let Some(created) = created else {
        return Ok((tap, None));
    };
    let (path, file) = (&created.path, created.file.try_clone()?);
    let name = store
        .info
        .as_ref()
        .map_or("replay".to_owned(), |i| format!("replay of {}", i.name));
    let started = Micros::now();
    let info = SessionInfo {
        id: format!(
            "{}-{}",
            started.datetime().format("%Y%m%d-%H%M%S"),
            std::process::id()
        ),
        name,
        command: command.to_vec(),
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        pid: std::process::id(),
        started: started.to_rfc3339(),
        protocol: store.protocol.map(|p| p.as_str().to_owned()),
    };
    let recorder = Recorder::new(
        RecorderConfig {
            framing: None,
            limits: Limits::default(),
            redact: Vec::new(),
            observers: Vec::new(),
        },
        Some(FileSink::new(Some(path.to_owned()), file)),
        None,
    );
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        recorder.run(info, rx);
        let _ = done_tx.send(());
    });
    Ok((tap, Some(done_rx)))
}

/// Progress on stderr for long replays: a bar redrawn at most ten times a second on a
/// terminal; elsewhere (CI logs) a line every ten seconds once the replay has run that long.
struct Progress {
    enabled: bool,
    tty: bool,
    total: usize,
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    fn new(enabled: bool, total: usize) -> Progress {
        Progress {
            enabled,
            tty: std::io::stderr().is_terminal(),
            total,
            started: Instant::now(),
            last: None,
        }
    }

    fn every(&self) -> Duration {
        if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(10)
        }
    }

    fn update(&mut self, sent: usize, answered: usize) {
        let since = self.last.unwrap_or(self.started).elapsed();
        if !self.enabled || since < self.every() {
            return;
        }
        self.last = Some(Instant::now());
        eprint!("{}", self.line(sent, answered));
    }

    fn line(&self, sent: usize, answered: usize) -> String {
        let text = format!(
            "rpctap replay: {sent}/{} messages sent, {answered} answered",
            self.total
        );
        if !self.tty {
            return format!("{text}\n");
        }
        const WIDTH: usize = 30;
        let done = (sent * WIDTH)
            .checked_div(self.total)
            .unwrap_or(WIDTH)
            .min(WIDTH);
        format!(
            "\r[{}{}] {text}",
            "#".repeat(done),
            "-".repeat(WIDTH - done)
        )
    }

    fn finish(&mut self, sent: usize, answered: usize) {
        // A bar that was drawn is completed and ended with a newline.
        if self.enabled && self.tty && self.last.is_some() {
            eprintln!("{}", self.line(sent, answered));
        }
    }
}
