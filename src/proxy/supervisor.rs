//! The shim's run (PRODUCT §9), as named steps: spawn the child from the main thread
//! (Linux delivers the child's parent-death signal when the spawning *thread* exits),
//! start the recorder and the pumps, supervise until the child exits, drain its output,
//! record the exit and return the child's code (128+N for signal N).
//!
//! Everything that can happen arrives as a `Note` on one channel, so supervising is a
//! single loop; the stop sequence itself (close stdin → grace → SIGTERM → SIGKILL) and
//! signal forwarding are `child`'s. A terminating signal is forwarded first, then the stop
//! sequence starts as on stdin EOF, so a child that ignores it cannot keep rpctap alive.

use super::file_sink::FileSink;
use super::pump::{pump, pump_pipes, Lane, TapMsg};
use super::recorder::{Recorder, RecorderConfig};
use super::tap::{tap, Tap};
use crate::child::{self, Child, Pipes};
use crate::control::state::Control;
use crate::os;
use crate::record::SessionInfo;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1};
use std::fs::File;
use std::os::fd::AsFd;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

pub use crate::child::SpawnError;

/// Bytes of copies waiting in memory for the recorder (the batch it is working on included)
/// before further ones wait in the spill file: a recorder that falls behind must not grow
/// the shim without bound. Bursts beyond the recorder pipes' 1 MiB each land here first.
/// 4 MiB held the shim above its 20 MB steady-state budget during a burst of small
/// messages; 1 MiB moved no throughput figure beyond the noise (2 rounds each workload).
const TAP_LIMIT: usize = 1024 * 1024;
/// After the child exited, how long the output pumps may make no progress before rpctap
/// stops waiting for them.
const DRAIN_STALL: Duration = Duration::from_secs(2);
/// How long the recorder may make no progress at the end before rpctap exits without
/// it: only a dead disk stops it that long (a 20 MB message is seconds of work in a
/// debug build on a loaded machine).
const RECORDER_STALL: Duration = Duration::from_secs(10);
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

/// Runs the shim to completion and returns the exit code.
pub fn run(config: ShimConfig) -> Result<u8, SpawnError> {
    let original_parent = os::parent_pid();
    let signals = watch_signals()?;
    let (notes, inbox) = mpsc::channel::<Note>();
    let exited = notes.clone();
    let (child, pipes) = child::spawn(
        &config.command,
        (child::Output::Piped, child::Output::Piped),
        move |s| {
            let _ = exited.send(Note::Exited(s));
        },
    )?;
    let grace = config.grace;
    let (tap, recorder, control) = start_recorder(config)?;
    start_pumps(pipes, &tap, &notes, control.as_ref().map(|c| c.0.clone()));
    forward_signals(signals, notes);
    // The output pumps (stdout, stderr) still running.
    let mut pumps_left = 2;
    let status = supervise(&child, grace, original_parent, &inbox, &mut pumps_left);
    // Whatever the child left in its process group goes with it.
    child.kill_group();
    drain(&tap, &inbox, pumps_left);
    finish_recording(tap, &recorder, status);
    drop(control);
    Ok(child::exit_byte(status))
}

/// Installs the handlers for the signals rpctap forwards, and its own parent-death notice.
fn watch_signals() -> Result<signal_hook::iterator::Signals, SpawnError> {
    let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1])
        .map_err(|source| SpawnError::Watch {
            program: "signals".into(),
            source,
        })?;
    // SIGUSR1 (handled from here on) is rpctap's own parent-death notice; it is confirmed
    // with getppid, since the kernel also sends it when only the parent's thread exits.
    let _ = os::set_parent_death_signal(SIGUSR1);
    Ok(signals)
}

/// The recorder thread, as the shim waits for it at the end.
struct RecorderThread {
    /// Says when the recorder has written everything.
    done: Receiver<()>,
    /// Grows while the recorder makes progress.
    progress: Arc<AtomicU64>,
}

/// The shim's interactive control and its socket (with the live feed only).
type ControlSocket = (Arc<Control>, crate::control::server::Server);

/// Creates the tap (spilling next to the recording), the control socket, the live feed
/// and the recorder thread.
fn start_recorder(
    config: ShimConfig,
) -> Result<(Tap, RecorderThread, Option<ControlSocket>), SpawnError> {
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
    let control = config.live.then(|| control_socket(&tap)).flatten();
    let control_path = control.as_ref().map(|c| c.1.path.as_path());
    let live = config
        .live
        .then(|| publish(&config.info, config.file.as_ref(), &tap, control_path))
        .flatten();
    let file = match config.file {
        Some(f) => Some(f),
        // Without a recording, live viewers (and `--check`) still need somewhere to read
        // the session from.
        None if live.is_some() || config.recorder.wants_file() => {
            tempfile::tempfile().ok().map(|f| FileSink::new(None, f))
        }
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
        .map_err(|source| SpawnError::Watch {
            program: "the recorder".into(),
            source,
        })?;
    Ok((
        tap,
        RecorderThread {
            done: rec_done_rx,
            progress,
        },
        control,
    ))
}

/// Opens the control socket (`rpctap send`, the TUI's compose and intercept); a failure
/// is a warning, never a reason not to forward.
fn control_socket(tap: &Tap) -> Option<ControlSocket> {
    let dir = crate::live::runtime_dir();
    // A runtime directory that is refused is the live feed's one warning to give.
    crate::paths::ensure_private_dir(&dir).ok()?;
    let opened = Control::new(std::process::id(), tap.clone()).and_then(|c| {
        let server = crate::control::server::bind(&dir, c.clone())?;
        Ok((c, server))
    });
    match opened {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("rpctap: warning: no control socket: {e}");
            None
        }
    }
}

/// One thread per stream: parent stdin → child stdin, child stdout → parent stdout, child
/// stderr → parent stderr, each offering its bytes to the tap.
fn start_pumps(pipes: Pipes, tap: &Tap, notes: &Sender<Note>, control: Option<Arc<Control>>) {
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        let _ = thread::Builder::new().name(name.into()).spawn(f);
    };
    let Pipes {
        stdin: child_in,
        stdout: child_out,
        stderr: child_err,
    } = pipes;
    {
        let (tap, notes, dst) = (tap.clone(), notes.clone(), child_in);
        let src = dup(std::io::stdin().as_fd());
        let control = control.clone();
        spawn(
            "stdin",
            Box::new(move || {
                if let Some(src) = src {
                    pump_pipes(&src, &dst, Lane::C2s, &tap, control.as_deref(), || {});
                }
                let _ = notes.send(Note::StdinClosed);
            }),
        );
    }
    if let Some(child_out) = child_out {
        let child_out = File::from(std::os::fd::OwnedFd::from(child_out));
        let (tap, notes) = (tap.clone(), notes.clone());
        let dst = dup(std::io::stdout().as_fd());
        spawn(
            "stdout",
            Box::new(move || {
                let closed = notes.clone();
                match dst {
                    Some(dst) => pump_pipes(
                        &child_out,
                        &dst,
                        Lane::S2c,
                        &tap,
                        control.as_deref(),
                        move || {
                            let _ = closed.send(Note::StdoutClosed);
                        },
                    ),
                    None => pump(child_out, std::io::sink(), Lane::S2c, &tap, || {}),
                };
                let _ = notes.send(Note::PumpDone);
            }),
        );
    }
    if let Some(child_err) = child_err {
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
}

/// Turns the signals rpctap receives into notes.
fn forward_signals(mut signals: signal_hook::iterator::Signals, notes: Sender<Note>) {
    let _ = thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let _ = notes.send(Note::Signal(sig));
            }
        });
}

/// The supervising loop, until the child exits: stdin EOF, a closed stdout, the parent's
/// death or a forwarded terminating signal start the stop sequence, whose deadlines the
/// loop keeps. Returns the child's status (`None` if it could not be known).
fn supervise(
    child: &Child,
    grace: Duration,
    original_parent: i32,
    inbox: &Receiver<Note>,
    pumps_left: &mut usize,
) -> Option<ExitStatus> {
    let mut stop = child.stopper(grace);
    let parent_gone = || os::parent_pid() != original_parent;
    loop {
        let wait = stop.next_deadline().map_or(PARENT_POLL, |d| {
            d.saturating_duration_since(Instant::now()).min(PARENT_POLL)
        });
        match inbox.recv_timeout(wait) {
            Ok(Note::Exited(status)) => return Some(status),
            // Kept apart from the other `stop.begin()` arms: the guard orders them.
            #[allow(clippy::match_same_arms)]
            Ok(Note::Signal(SIGUSR1)) if parent_gone() => stop.begin(),
            Ok(Note::PumpDone) => *pumps_left = pumps_left.saturating_sub(1),
            Ok(Note::Signal(SIGUSR1)) => {}
            Ok(Note::Signal(sig)) => {
                child.signal(sig);
                // The child may ignore it; then it goes as on stdin EOF.
                stop.begin();
            }
            Ok(Note::StdinClosed | Note::StdoutClosed) => stop.begin(),
            Err(RecvTimeoutError::Timeout) if parent_gone() => stop.begin(),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return child.status(),
        }
        // After every note, not only on a quiet timeout: a stream of signals must not
        // hold the next step back.
        stop.escalate();
    }
}

/// Lets the output pumps drain what the child wrote before it exited, however long that
/// takes while bytes still move; a pipe held open by an escaped grandchild, or a parent
/// that stopped reading, stops the wait after two seconds without progress.
fn drain(tap: &Tap, inbox: &Receiver<Note>, mut pumps_left: usize) {
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
}

/// Records the exit and waits for the recorder to write everything.
fn finish_recording(tap: Tap, recorder: &RecorderThread, status: Option<ExitStatus>) {
    tap.send(TapMsg::Exit(child::exit_event(status)));
    drop(tap);
    wait_for_recorder(&recorder.done, &recorder.progress);
}

/// Waits until the recorder has written everything — the spill file may hold a backlog
/// that takes a while — and live viewers have read it, for as long as that progresses: a
/// recorder stuck on a dead disk, or a viewer that stopped reading, lets rpctap exit
/// after `RECORDER_STALL` without progress.
fn wait_for_recorder(done: &Receiver<()>, progress: &AtomicU64) {
    let mut seen = progress.load(Ordering::Relaxed);
    let mut since = Instant::now();
    while since.elapsed() < RECORDER_STALL {
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
    control: Option<&std::path::Path>,
) -> Option<crate::live::Publisher> {
    let mut line = Vec::new();
    crate::record::encode_event(&mut line, &crate::record::Event::Session(info.clone()));
    if let Some(path) = control {
        // The discovery file is the session line plus where to find the shim.
        if let Ok(serde_json::Value::Object(mut meta)) = serde_json::from_slice(&line) {
            meta.insert("control".into(), path.display().to_string().into());
            line = serde_json::to_vec(&meta).unwrap_or(line);
        }
    }
    let tap = tap.clone();
    let recording = file.and_then(|f| f.path.as_deref());
    match crate::live::Publisher::bind(&crate::live::runtime_dir(), &line, recording, move |s| {
        tap.send(TapMsg::Attach(s));
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
