//! One child process's lifecycle, shared by the shim, replay and the demo: spawning in
//! its own process group with a parent-death signal, watching for its exit, the stop
//! sequence (close stdin → grace → SIGTERM → grace → SIGKILL), signal forwarding, and the
//! mapping of an exit status to an exit code and a recorded `Exit`.
//!
//! The stop sequence is a small state machine (`Stop`) with a deadline, so a caller that
//! owns an event loop (the shim's supervisor) drives it between its own events, while
//! `Child::stop` runs it to the end for callers that have nothing else to do.
//!
//! Not responsible for: the child's stdio streams once spawned (see `proxy::pump`), and
//! the `unsafe` system calls themselves (see `os`).

use crate::os;
use crate::record::{Exit, Micros};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Why a command could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("no command given")]
    NoCommand,
    /// The cause is kept but not chained as `source()`: its text is already in the message,
    /// in the short form users read (no "(os error N)"), and `{:#}` would repeat it.
    #[error("cannot run '{program}': {}", crate::session::io_message(.cause))]
    Spawn {
        program: String,
        cause: std::io::Error,
    },
    #[error("cannot watch '{program}': {source}")]
    Watch {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

impl SpawnError {
    /// The status a shell would exit with: 126 when the command is not executable, 127
    /// when it is not found (or anything else went wrong starting it).
    pub fn exit_code(&self) -> u8 {
        match self {
            SpawnError::Spawn { cause, .. }
                if cause.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                126
            }
            SpawnError::Spawn { .. } => 127,
            SpawnError::NoCommand | SpawnError::Watch { .. } => 2,
        }
    }
}

/// Where the child's stdout or stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A pipe the caller drains (and records).
    Piped,
    /// rpctap's own.
    Inherit,
    /// Nowhere.
    Null,
}

impl Output {
    fn stdio(self) -> Stdio {
        match self {
            Output::Piped => Stdio::piped(),
            Output::Inherit => Stdio::inherit(),
            Output::Null => Stdio::null(),
        }
    }
}

/// The pipes of a freshly spawned child. Stdin is shared with the `Child` so that the stop
/// sequence can close it under a writer that still holds it.
pub struct Pipes {
    pub stdin: Arc<File>,
    /// Present when asked for with `Output::Piped`.
    pub stdout: Option<ChildStdout>,
    pub stderr: Option<ChildStderr>,
}

/// Set once by the waiting thread, read by whoever asks.
type ExitCell = Arc<(Mutex<Option<ExitStatus>>, Condvar)>;

/// A running (or finished) child. Dropping it does not kill the child: the caller decides,
/// usually with `stop` or `kill_group`; PDEATHSIG covers rpctap's own death.
pub struct Child {
    pid: u32,
    program: String,
    stdin: Option<Arc<File>>,
    exit: ExitCell,
}

/// Spawns `command` with a piped stdin, in its own process group, killed by the kernel if
/// the spawning thread dies. Spawn from a thread that lives as long as the child
/// is needed (the kernel's parent-death signal follows the *thread*). `on_exit` runs on the
/// waiting thread once the child has exited (and been reaped).
pub fn spawn(
    command: &[String],
    (stdout, stderr): (Output, Output),
    on_exit: impl FnOnce(ExitStatus) + Send + 'static,
) -> Result<(Child, Pipes), SpawnError> {
    let (program, args) = command.split_first().ok_or(SpawnError::NoCommand)?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(stdout.stdio())
        .stderr(stderr.stdio());
    os::configure_child(&mut cmd);
    let spawn_error = |cause| SpawnError::Spawn {
        program: program.clone(),
        cause,
    };
    let mut child = cmd.spawn().map_err(spawn_error)?;
    let pid = child.id();
    tracing::debug!(pid, ?command, "spawned");
    let missing = || spawn_error(std::io::Error::other("the child's pipes were not created"));
    let stdin = Arc::new(File::from(OwnedFd::from(
        child.stdin.take().ok_or_else(missing)?,
    )));
    let pipes = Pipes {
        stdin: stdin.clone(),
        stdout: child.stdout.take(),
        stderr: child.stderr.take(),
    };
    let exit: ExitCell = Arc::default();
    let cell = exit.clone();
    std::thread::Builder::new()
        .name("wait".into())
        .spawn(move || {
            let Ok(status) = child.wait() else { return };
            tracing::debug!(pid, %status, "child exited");
            let (lock, cv) = &*cell;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
            cv.notify_all();
            on_exit(status);
        })
        .map_err(|source| SpawnError::Watch {
            program: program.clone(),
            source,
        })?;
    Ok((
        Child {
            pid,
            program: program.clone(),
            stdin: Some(stdin),
            exit,
        },
        pipes,
    ))
}

/// Runs `command` on rpctap's own terminal and waits for it: the user's `$EDITOR` for the
/// TUI's compose view. Unlike `spawn`, it stays in rpctap's process group (the terminal's
/// foreground group, so it may read the terminal) and inherits stdio.
pub fn run_in_terminal(command: &[String]) -> Result<ExitStatus, SpawnError> {
    let (program, args) = command.split_first().ok_or(SpawnError::NoCommand)?;
    Command::new(program)
        .args(args)
        .status()
        .map_err(|cause| SpawnError::Spawn {
            program: program.clone(),
            cause,
        })
}

impl Child {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The program's name as given on the command line.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The exit status, once the child has exited.
    pub fn status(&self) -> Option<ExitStatus> {
        *self.exit.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits up to `limit` for the child to exit.
    pub fn wait_timeout(&self, limit: Duration) -> Option<ExitStatus> {
        let (lock, cv) = &*self.exit;
        let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = cv
            .wait_timeout_while(guard, limit, |s| s.is_none())
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }

    /// Forwards a signal to the child.
    pub fn signal(&self, sig: i32) {
        tracing::debug!(pid = self.pid, sig, "signal forwarded");
        os::signal(self.pid, sig);
    }

    /// Kills whatever is left of the child's process group (grandchildren included).
    pub fn kill_group(&self) {
        os::signal_group(self.pid, libc::SIGKILL);
    }

    /// A stop sequence for this child that begins by closing its stdin.
    pub fn stopper(&self, grace: Duration) -> Stop {
        Stop::new(self.pid, grace, self.stdin.clone())
    }

    /// Runs the whole stop sequence, blocking: close stdin, wait `grace`, SIGTERM, wait
    /// `grace`, SIGKILL (the group), wait. Always leaves the child's process group killed.
    pub fn stop(&self, grace: Duration) -> Stopped {
        self.run_stop(self.stopper(grace), grace)
    }

    /// As `stop`, for a child that does not read its stdin: SIGTERM, wait `grace`, SIGKILL.
    pub fn terminate(&self, grace: Duration) -> Stopped {
        self.run_stop(Stop::new(self.pid, grace, None), grace)
    }

    fn run_stop(&self, mut stop: Stop, grace: Duration) -> Stopped {
        stop.begin();
        let mut signalled = stop.stdin.is_none();
        let status = loop {
            let wait = stop
                .next_deadline()
                .map_or(grace, |d| d.saturating_duration_since(Instant::now()));
            if let Some(s) = self.wait_timeout(wait) {
                break Some(s);
            }
            match stop.escalate() {
                Step::Waiting => {}
                Step::SentTerm => signalled = true,
                // SIGKILL cannot be ignored; a child still there is stuck in the kernel.
                Step::Done => break self.wait_timeout(grace.max(Duration::from_millis(100))),
            }
        };
        self.kill_group();
        Stopped { status, signalled }
    }
}

/// How `Child::stop` ended.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// The exit status, unless the child could not be reaped even after SIGKILL.
    pub status: Option<ExitStatus>,
    /// The child had to be signalled: it did not exit when its stdin closed.
    pub signalled: bool,
}

/// What the stop sequence did last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing was due yet.
    Waiting,
    SentTerm,
    /// SIGKILL was sent: nothing is left to try.
    Done,
}

/// The stop sequence as a state machine: `begin` closes the child's stdin (or sends
/// SIGTERM when it has none) and arms a deadline; each `escalate` past a deadline takes
/// the next step.
pub struct Stop {
    pid: u32,
    grace: Duration,
    stdin: Option<Arc<File>>,
    term_at: Option<Instant>,
    kill_at: Option<Instant>,
    begun: bool,
}

impl Stop {
    fn new(pid: u32, grace: Duration, stdin: Option<Arc<File>>) -> Stop {
        Stop {
            pid,
            grace,
            stdin,
            term_at: None,
            kill_at: None,
            begun: false,
        }
    }

    /// Starts the sequence (once; later calls do nothing).
    pub fn begin(&mut self) {
        if std::mem::replace(&mut self.begun, true) {
            return;
        }
        tracing::debug!(pid = self.pid, "stop sequence begins");
        match &self.stdin {
            Some(stdin) => {
                let _ = os::close_pipe_in_place(stdin);
                self.term_at = Some(Instant::now() + self.grace);
            }
            None => {
                os::signal(self.pid, libc::SIGTERM);
                self.kill_at = Some(Instant::now() + self.grace);
            }
        }
    }

    pub fn begun(&self) -> bool {
        self.begun
    }

    /// When the next step is due, if one is armed.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.term_at.or(self.kill_at)
    }

    /// Takes the next step if its deadline has passed.
    pub fn escalate(&mut self) -> Step {
        let now = Instant::now();
        if self.term_at.is_some_and(|t| now >= t) {
            self.term_at = None;
            tracing::debug!(pid = self.pid, "grace over: SIGTERM");
            os::signal(self.pid, libc::SIGTERM);
            self.kill_at = Some(now + self.grace);
            Step::SentTerm
        } else if self.kill_at.is_some_and(|t| now >= t) {
            self.kill_at = None;
            tracing::debug!(pid = self.pid, "grace over: SIGKILL");
            os::signal_group(self.pid, libc::SIGKILL);
            os::signal(self.pid, libc::SIGKILL);
            Step::Done
        } else {
            Step::Waiting
        }
    }
}

/// The exit code a shell reports for `status`: the code, or 128+N after signal N.
pub fn shell_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// The byte rpctap exits with for its child's `status` (1 when it is unknown).
pub fn exit_byte(status: Option<ExitStatus>) -> u8 {
    match status.map(|s| (s.code(), s.signal())) {
        Some((Some(c), _)) => (c & 0xff) as u8,
        Some((None, Some(s))) => (128 + s).min(255) as u8,
        _ => 1,
    }
}

/// The recording's `exit` line for `status`, stamped now.
pub fn exit_event(status: Option<ExitStatus>) -> Exit {
    Exit {
        t: Micros::now(),
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> (Child, Pipes) {
        spawn(
            &["sh".into(), "-c".into(), script.into()],
            (Output::Null, Output::Inherit),
            |_| {},
        )
        .expect("spawn sh")
    }

    #[test]
    fn closing_stdin_is_enough_for_a_child_that_reads_it() {
        let (child, _pipes) = sh("cat >/dev/null; exit 4");
        let status = child.stop(Duration::from_secs(30)).status;
        assert_eq!(status.and_then(|s| s.code()), Some(4));
    }

    #[test]
    fn a_child_ignoring_stdin_and_sigterm_is_killed() {
        let (child, _pipes) = sh("trap '' TERM; while :; do sleep 0.05; done");
        let stopped = child.stop(Duration::from_millis(100));
        assert!(stopped.signalled);
        let status = stopped.status;
        assert_eq!(status.map(shell_code), Some(128 + libc::SIGKILL));
        assert_eq!(exit_byte(status), 137);
    }

    #[test]
    fn terminate_starts_with_sigterm() {
        let (child, _pipes) = sh("trap 'exit 5' TERM; while :; do sleep 0.05; done");
        std::thread::sleep(Duration::from_millis(200));
        let stopped = child.terminate(Duration::from_secs(30));
        assert!(stopped.signalled);
        let code = stopped.status.and_then(|s| s.code());
        // 5 once the trap is in place; a shell that had not installed it yet dies of TERM.
        assert!(
            code == Some(5) || stopped.status.map(shell_code) == Some(143),
            "{code:?}"
        );
    }

    #[test]
    fn exit_codes_map_as_a_shell_does() {
        let (child, _pipes) = sh("kill -HUP $$");
        let status = child.wait_timeout(Duration::from_secs(30));
        assert_eq!(status.map(shell_code), Some(128 + libc::SIGHUP));
        let e = exit_event(status);
        assert_eq!((e.code, e.signal), (None, Some(libc::SIGHUP)));
        assert_eq!(exit_byte(None), 1);
    }

    #[test]
    fn a_missing_program_is_127() {
        let err = spawn(
            &["/nonexistent/x".into()],
            (Output::Null, Output::Null),
            |_| {},
        )
        .err()
        .expect("no such program");
        assert_eq!(err.exit_code(), 127);
        assert!(err.to_string().starts_with("cannot run '/nonexistent/x'"));
    }
}
