//! The child's lifecycle (PRODUCT §9): spawn from the main thread (Linux delivers the
//! child's parent-death signal when the spawning *thread* exits), forward signals, notice
//! the parent's death even while stdin stays open, escalate stdin EOF → grace → SIGTERM →
//! SIGKILL, and exit with the child's code (128+N for signal N).
//!
//! Everything that can happen arrives as a `Note` on one channel, so the supervisor is a
//! single loop with two deadlines.

use super::file_sink::FileSink;
use super::pump::{pump, pump_pipes, Lane, TapMsg};
use super::recorder::{Recorder, RecorderConfig};
use super::tap::{tap, Tap};
use crate::os;
use crate::record::{Exit, Micros, SessionInfo};
use signal_hook::consts::{SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGTERM, SIGUSR1};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of copies waiting in memory for the recorder before further ones wait in the
/// spill file: a recorder that falls behind must not grow the shim without bound.
const TAP_LIMIT: usize = 8 * 1024 * 1024;
/// After the child exited, how long the output pumps may make no progress before rpctap
/// stops waiting for them.
const DRAIN_STALL: Duration = Duration::from_secs(2);
/// How often the parent pid is checked, as a fallback to the parent-death signal.
const PARENT_POLL: Duration = Duration::from_millis(250);

pub struct ShimConfig {
    pub command: Vec<String>,
    pub info: SessionInfo,
    pub recorder: RecorderConfig,
    pub file: Option<FileSink>,
    /// Publish the session on a Unix socket for live viewers.
    pub live: bool,
    /// How long the child may take to exit after its stdin closed (and after SIGTERM).
    pub grace: Duration,
}

enum Note {
    Exited(ExitStatus),
    Signal(i32),
    /// The parent closed our stdin.
    StdinClosed,
    /// The parent stopped reading our stdout.
    StdoutClosed,
    PumpDone,
}

/// What the shim exits with when the command could not be started (as shells do).
pub struct SpawnError(pub u8, pub String);

/// Runs the shim to completion and returns the exit code.
pub fn run(config: ShimConfig) -> Result<u8, SpawnError> {
    let original_parent = os::parent_pid();
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1])
            .map_err(|e| SpawnError(2, format!("cannot install signal handlers: {e}")))?;
    // SIGUSR1 (handled from here on) is rpctap's own parent-death notice; it is confirmed
    // with getppid, since the kernel also sends it when only the parent's thread exits.
    let _ = os::set_parent_death_signal(SIGUSR1);

    let program = &config.command[0];
    let mut cmd = Command::new(program);
    cmd.args(&config.command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    os::configure_child(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::PermissionDenied {
            126
        } else {
            127
        };
        SpawnError(
            code,
            format!("cannot run '{program}': {}", crate::session::io_message(&e)),
        )
    })?;
    let pid = child.id();
    let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (Some(child_in), Some(child_out), Some(child_err)) = pipes else {
        return Err(SpawnError(2, "the child's pipes were not created".into()));
    };
    let child_in = Arc::new(File::from(OwnedFd::from(child_in)));
    let child_out = File::from(OwnedFd::from(child_out));

    let spill_dir = config
        .file
        .as_ref()
        .and_then(|f| f.path.as_deref())
        .and_then(|p| p.parent())
        .map(|d| {
            if d.as_os_str().is_empty() {
                ".".into()
            } else {
                d.to_owned()
            }
        });
    let (tap, tap_rx) = tap(TAP_LIMIT, spill_dir);
    let live = config
        .live
        .then(|| publish(&config.info, config.file.as_ref(), &tap))
        .flatten();
    let file = match config.file {
        Some(f) => Some(f),
        // Without a recording, live viewers still need somewhere to read the backlog.
        None if live.is_some() => tempfile::tempfile().ok().map(|f| FileSink::new(None, f)),
        None => None,
    };
    let recorder = Recorder::new(config.recorder, file, live);
    let progress = recorder.progress();
    let info = config.info;
    let (rec_done_tx, rec_done_rx) = mpsc::channel::<()>();
    thread::Builder::new()
        .name("recorder".into())
        .spawn(move || {
            recorder.run(info, tap_rx);
            let _ = rec_done_tx.send(());
        })
        .map_err(|e| SpawnError(2, format!("cannot start the recorder: {e}")))?;

    let (notes, inbox) = mpsc::channel::<Note>();
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        let _ = thread::Builder::new().name(name.into()).spawn(f);
    };
    {
        let (tap, notes, dst) = (tap.clone(), notes.clone(), child_in.clone());
        let src = dup(std::io::stdin().as_fd());
        spawn(
            "stdin",
            Box::new(move || {
                if let Some(src) = src {
                    pump_pipes(&src, &dst, Lane::C2s, &tap, || {});
                }
                let _ = notes.send(Note::StdinClosed);
            }),
        );
    }
    {
        let (tap, notes) = (tap.clone(), notes.clone());
        let dst = dup(std::io::stdout().as_fd());
        spawn(
            "stdout",
            Box::new(move || {
                let closed = notes.clone();
                match dst {
                    Some(dst) => pump_pipes(&child_out, &dst, Lane::S2c, &tap, move || {
                        let _ = closed.send(Note::StdoutClosed);
                    }),
                    None => pump(child_out, std::io::sink(), Lane::S2c, &tap, || {}),
                };
                let _ = notes.send(Note::PumpDone);
            }),
        );
    }
    {
        let (tap, notes) = (tap.clone(), notes.clone());
        let dst = dup(std::io::stderr().as_fd());
        spawn(
            "stderr",
            Box::new(move || {
                match dst {
                    Some(dst) => pump(child_err, dst, Lane::Stderr, &tap, || {}),
                    None => pump(child_err, std::io::sink(), Lane::Stderr, &tap, || {}),
                };
                let _ = notes.send(Note::PumpDone);
            }),
        );
    }
    {
        let notes = notes.clone();
        spawn(
            "signals",
            Box::new(move || {
                for sig in signals.forever() {
                    let _ = notes.send(Note::Signal(sig));
                }
            }),
        );
    }
    {
        let notes = notes.clone();
        spawn(
            "wait",
            Box::new(move || {
                if let Ok(status) = child.wait() {
                    let _ = notes.send(Note::Exited(status));
                }
            }),
        );
    }
    drop(notes);

    let mut shutdown = Shutdown::new(pid, config.grace, child_in);
    let mut pumps_left = 2;
    let status = loop {
        let wait = shutdown.next_deadline().map_or(PARENT_POLL, |d| {
            d.saturating_duration_since(Instant::now()).min(PARENT_POLL)
        });
        match inbox.recv_timeout(wait) {
            Ok(Note::Exited(status)) => break Some(status),
            Ok(Note::Signal(SIGUSR1)) if os::parent_pid() != original_parent => shutdown.begin(),
            Ok(Note::PumpDone) => pumps_left -= 1,
            Ok(Note::Signal(SIGUSR1)) => {}
            Ok(Note::Signal(sig)) => os::signal(pid, sig),
            Ok(Note::StdinClosed) | Ok(Note::StdoutClosed) => shutdown.begin(),
            Err(RecvTimeoutError::Timeout) => {
                if os::parent_pid() != original_parent {
                    shutdown.begin();
                }
                shutdown.escalate();
            }
            Err(RecvTimeoutError::Disconnected) => break None,
        }
    };
    // Whatever the child left in its process group goes with it.
    os::signal_group(pid, SIGKILL);
    // Let the output pumps drain what the child wrote before it exited, however long that
    // takes while bytes still move; a pipe held open by an escaped grandchild, or a parent
    // that stopped reading, stops the wait after two seconds without progress.
    let mut moved = tap.offered();
    let mut stalled_since = Instant::now();
    while pumps_left > 0 && stalled_since.elapsed() < DRAIN_STALL {
        match inbox.recv_timeout(Duration::from_millis(100)) {
            Ok(Note::PumpDone) => pumps_left -= 1,
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now_moved = tap.offered();
        if now_moved != moved {
            (moved, stalled_since) = (now_moved, Instant::now());
        }
    }
    let (code, signal) = match status {
        Some(s) => (s.code(), s.signal()),
        None => (None, None),
    };
    tap.send(TapMsg::Exit(Exit {
        t: Micros::now(),
        code,
        signal,
    }));
    drop(tap);
    wait_for_recorder(&rec_done_rx, &progress);
    Ok(match (code, signal) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(s)) => (128 + s).min(255) as u8,
        (None, None) => 1,
    })
}

/// Waits until the recorder has written everything — the spill file may hold a backlog
/// that takes a while — and live viewers have read it, for as long as that progresses: a
/// recorder stuck on a dead disk, or a viewer that stopped reading, lets rpctap exit
/// after `DRAIN_STALL` without progress.
fn wait_for_recorder(done: &mpsc::Receiver<()>, progress: &std::sync::atomic::AtomicU64) {
    use std::sync::atomic::Ordering;
    let mut seen = progress.load(Ordering::Relaxed);
    let mut since = Instant::now();
    while since.elapsed() < DRAIN_STALL {
        match done.recv_timeout(Duration::from_millis(100)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = progress.load(Ordering::Relaxed);
        if now != seen {
            (seen, since) = (now, Instant::now());
        }
    }
}

/// Opens the live-feed socket; a failure is a warning, never a reason not to forward.
fn publish(
    info: &SessionInfo,
    file: Option<&FileSink>,
    tap: &Tap,
) -> Option<crate::live::Publisher> {
    let mut line = Vec::new();
    crate::record::encode_event(&mut line, &crate::record::Event::Session(info.clone()));
    let tap = tap.clone();
    let recording = file.and_then(|f| f.path.as_deref());
    match crate::live::Publisher::bind(&crate::live::runtime_dir(), &line, recording, move |s| {
        tap.send(TapMsg::Attach(s))
    }) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("rpctap: warning: no live feed: {e:#}");
            None
        }
    }
}

fn dup(fd: std::os::fd::BorrowedFd<'_>) -> Option<File> {
    fd.try_clone_to_owned().ok().map(File::from)
}

/// The escalation after the parent went away: close the child's stdin, wait, SIGTERM,
/// wait, SIGKILL.
struct Shutdown {
    pid: u32,
    grace: Duration,
    child_in: Arc<File>,
    term_at: Option<Instant>,
    kill_at: Option<Instant>,
    begun: bool,
}

impl Shutdown {
    fn new(pid: u32, grace: Duration, child_in: Arc<File>) -> Shutdown {
        Shutdown {
            pid,
            grace,
            child_in,
            term_at: None,
            kill_at: None,
            begun: false,
        }
    }

    fn begin(&mut self) {
        if std::mem::replace(&mut self.begun, true) {
            return;
        }
        let _ = os::close_pipe_in_place(&self.child_in);
        self.term_at = Some(Instant::now() + self.grace);
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.term_at.or(self.kill_at)
    }

    fn escalate(&mut self) {
        let now = Instant::now();
        if self.term_at.is_some_and(|t| now >= t) {
            self.term_at = None;
            os::signal(self.pid, SIGTERM);
            self.kill_at = Some(now + self.grace);
        } else if self.kill_at.is_some_and(|t| now >= t) {
            self.kill_at = None;
            os::signal_group(self.pid, SIGKILL);
            os::signal(self.pid, SIGKILL);
        }
    }
}
