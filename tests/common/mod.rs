//! Helpers for driving the real `rpctap` binary in integration tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_rpctap");

/// A hang guard for tests: generous, never a performance assertion.
pub const HANG: Duration = Duration::from_secs(60);

/// `rpctap` with its state directory inside `home`.
pub fn rpctap(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("RPCTAP_HOME", home).env_remove("NO_COLOR");
    cmd
}

pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: ExitStatus,
}

/// Waits for a child with a hang guard; kills it and panics if it hangs.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("process {} hung for {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` writing `input` to its stdin in `chunk`-sized writes from a thread, while
/// stdout and stderr are read on their own threads.
pub fn run_with_input(mut cmd: Command, input: Vec<u8>, chunk: usize) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rpctap");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for piece in input.chunks(chunk.max(1)) {
            if stdin.write_all(piece).is_err() || stdin.flush().is_err() {
                break;
            }
        }
    });
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_bounded(&mut child, HANG);
    writer.join().unwrap();
    Output {
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        status,
    }
}

/// `rpctap cat --wire DIR FILE`.
pub fn wire(home: &Path, file: &Path, dir: &str) -> Vec<u8> {
    let out = rpctap(home)
        .args(["cat", "--wire", dir])
        .arg(file)
        .output()
        .expect("run cat");
    assert!(
        out.status.success(),
        "cat --wire failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Is the process gone (or a zombie nobody reaped yet)?
pub fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Polls until `pid` is gone; false if it is still there after `limit`.
pub fn wait_gone(pid: u32, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if is_gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    is_gone(pid)
}

pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A Content-Length frame.
pub fn lsp(body: &str) -> Vec<u8> {
    let mut v = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    v.extend_from_slice(body.as_bytes());
    v
}

/// Sends a signal by name with kill(1).
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}
