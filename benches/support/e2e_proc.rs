//! The process side of an end-to-end run: spawning a setup (direct, relay, rpctap with or
//! without a stalled viewer), waiting for work with a deadline, and watching the spawned
//! process through /proc until it exits: its peak memory and the CPU time it used.
//!
//! Not here: what is sent (`e2e_runs.rs`) and what a recording must hold (`e2e_verify.rs`).

use crate::peers::{Framing, Push};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The shim under test, built by cargo for this benchmark.
const RPCTAP: &str = env!("CARGO_BIN_EXE_rpctap");
/// A private copy of `RPCTAP` for the length of a run: a target directory shared with
/// other builds may get a different `rpctap` written over it while we measure.
static SHIM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
/// How long a setup may take to exit once its stdin is closed: the recorder may still be
/// writing what it took in, and that is part of the run, but not forever.
const EXIT_LIMIT: Duration = Duration::from_secs(120);

/// Measures the build named by `RPCTAP_BENCH_SHIM`, if set; true if it is.
pub fn shim_from_env() -> bool {
    match std::env::var_os("RPCTAP_BENCH_SHIM") {
        Some(path) => {
            let _ = SHIM.set(PathBuf::from(path));
            true
        }
        None => false,
    }
}

/// Copies the shim into `dir` and measures that copy from now on; or measures the build
/// named by `RPCTAP_BENCH_SHIM`, as it is.
pub fn snapshot_shim(dir: &Path) -> io::Result<()> {
    if shim_from_env() {
        return Ok(());
    }
    let copy = dir.join("rpctap");
    std::fs::copy(RPCTAP, &copy)?;
    let _ = SHIM.set(copy);
    Ok(())
}

pub fn shim() -> &'static Path {
    SHIM.get().map_or(Path::new(RPCTAP), |p| p.as_path())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    Direct,
    Relay,
    Rpctap,
    /// rpctap with a live viewer attached that never reads (it must not slow the shim).
    RpctapStalled,
    /// rpctap checking conformance live (`--check`; issue 15: it must not slow the shim).
    /// Run only when asked (`--check`), and under `cargo test --benches`.
    RpctapCheck,
}

impl Setup {
    pub const ALL: [Setup; 4] = [
        Setup::Direct,
        Setup::Relay,
        Setup::Rpctap,
        Setup::RpctapStalled,
    ];

    /// Runs through rpctap (and so needs its binary).
    pub fn is_shim(self) -> bool {
        matches!(
            self,
            Setup::Rpctap | Setup::RpctapStalled | Setup::RpctapCheck
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Setup::Direct => "direct",
            Setup::Relay => "relay",
            Setup::Rpctap => "rpctap --record",
            Setup::RpctapStalled => "rpctap --record, stalled viewer",
            Setup::RpctapCheck => "rpctap --record --check",
        }
    }
}

/// A spawned setup, with its recording's directory when it records.
pub struct Peer {
    pub child: Child,
    /// The state directory (`RPCTAP_HOME`) and the recording's path.
    pub record: Option<(tempfile::TempDir, PathBuf)>,
    /// A live-feed connection that is never read.
    /// Held open, never read: the stalled viewer of `Setup::RpctapStalled`.
    stalled: Option<std::os::unix::net::UnixStream>,
    /// The highest `VmHWM` read so far, in KiB.
    peak_kib: Option<u64>,
    /// CPU time of the live threads at the last `sample`, in ns (finer than the ticks of
    /// the total read at exit).
    cpu_sampled: Option<u64>,
}

/// What was seen of the spawned process until it exited.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exited {
    /// Peak resident memory (`VmHWM`) in KiB, as last read before the process ended.
    pub peak_rss_kib: Option<u64>,
    /// CPU time of all its threads over its whole life, in ns (clock-tick resolution, or
    /// the finer sum of its live threads after the last message when that is larger).
    pub cpu_ns: Option<u64>,
    /// From its stdin closing to its exit: what the recorder still had to write.
    pub exit_secs: f64,
}

pub fn spawn(setup: Setup, framing: Framing, push: Option<Push>) -> io::Result<Peer> {
    let exe = std::env::current_exe()?;
    let mut record = None;
    let mut cmd = match setup {
        Setup::Direct => Command::new(&exe),
        Setup::Relay => {
            let mut c = Command::new(&exe);
            c.arg("__relay").arg(&exe);
            c
        }
        Setup::Rpctap | Setup::RpctapStalled | Setup::RpctapCheck => {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("bench.jsonl");
            let mut c = Command::new(shim());
            // The live socket then lands in the state directory's run/, where we look.
            c.env("RPCTAP_HOME", dir.path())
                .env_remove("XDG_RUNTIME_DIR");
            c.arg("--record").arg(&path);
            if setup == Setup::RpctapCheck {
                c.arg("--check");
            }
            c.arg("--").arg(&exe);
            record = Some((dir, path));
            c
        }
    };
    cmd.arg("__echo").arg(framing.arg());
    if let Some(p) = push {
        cmd.arg(p.count.to_string()).arg(p.len.to_string());
    }
    let checking = setup == Setup::RpctapCheck;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(if checking {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .spawn()?;
    if let Some(err) = child.stderr.take() {
        thread::spawn(move || pass_on_summaries(err));
    }
    let mut peer = Peer {
        child,
        record,
        stalled: None,
        peak_kib: None,
        cpu_sampled: None,
    };
    if setup == Setup::RpctapStalled {
        peer.stalled = Some(peer.stall()?);
    }
    Ok(peer)
}

/// Copies the checking shim's stderr to ours without its violation lines: the echo
/// workload breaks a rule in every request, and the summary says how many.
fn pass_on_summaries(err: std::process::ChildStderr) {
    use std::io::BufRead;
    for line in io::BufReader::new(err).lines().map_while(Result::ok) {
        let violation = line.starts_with("rpctap: check: seq ")
            || line.starts_with("rpctap: check: further violations");
        if !violation {
            eprintln!("{line}");
        }
    }
}

impl Peer {
    /// Connects to the shim's live feed and never reads from it.
    fn stall(&self) -> io::Result<std::os::unix::net::UnixStream> {
        let dir = self.record.as_ref().map(|(d, _)| d.path());
        let sock = dir
            .ok_or(io::ErrorKind::NotFound)?
            .join("run")
            .join(format!("{}.sock", self.child.id()));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::os::unix::net::UnixStream::connect(&sock) {
                Ok(s) => return Ok(s),
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Err(e) => {
                    return Err(io::Error::other(format!(
                        "no live feed at {}: {e}",
                        sock.display()
                    )))
                }
            }
        }
    }

    /// Waits for the work's result; on timeout or failure, kills the child so that every
    /// thread blocked on its pipes wakes up.
    pub fn wait_for<T>(
        &mut self,
        rx: &mpsc::Receiver<io::Result<T>>,
        limit: Duration,
    ) -> io::Result<T> {
        let result = match rx.recv_timeout(limit) {
            Ok(r) => r,
            Err(_) => Err(io::Error::other(format!("no answer within {limit:?}"))),
        };
        if result.is_err() {
            let _ = self.child.kill();
        }
        result
    }

    /// Reads the peak memory now, while the process surely runs (a direct echo server
    /// exits as soon as its stdin closes, before `finish` can look).
    pub fn sample(&mut self) {
        self.peak_kib = self.peak_kib.max(peak_rss_kib(self.child.id()));
        self.cpu_sampled = threads_cpu_ns(self.child.id());
    }

    /// Watches the process until it has exited (its stdin must be closed by now), then
    /// reaps it. Memory is read until the process is a zombie (its memory is gone then);
    /// CPU time is read from the zombie, which still holds the total of all its threads.
    pub fn finish(&mut self) -> io::Result<Exited> {
        let pid = self.child.id();
        let start = Instant::now();
        let mut seen = Exited {
            peak_rss_kib: self.peak_kib,
            ..Exited::default()
        };
        loop {
            let stat_text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
            let state = stat_text.as_deref().and_then(proc_state);
            if state.is_none_or(|s| s == 'Z' || s == 'X') {
                // The total is truncated to clock ticks: never report less than the
                // nanosecond sum of the threads seen at the last sample.
                seen.cpu_ns = stat_text.as_deref().and_then(cpu_ns).max(self.cpu_sampled);
                break;
            }
            seen.peak_rss_kib = seen.peak_rss_kib.max(peak_rss_kib(pid));
            if start.elapsed() > EXIT_LIMIT {
                let _ = self.child.kill();
                return Err(io::Error::other(format!(
                    "the setup did not exit within {EXIT_LIMIT:?} of its stdin closing"
                )));
            }
            thread::sleep(Duration::from_millis(2));
        }
        seen.exit_secs = start.elapsed().as_secs_f64();
        let status = self.child.wait()?;
        if !status.success() {
            return Err(io::Error::other(format!("the setup exited with {status}")));
        }
        Ok(seen)
    }
}

impl Drop for Peer {
    /// A run that failed half-way leaves no process behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Fails with a clear message when the temporary directory has less than `need` bytes
/// free: a recording cut short by a full disk would read as the shim's fault.
pub fn check_disk(need: u64) -> io::Result<()> {
    let dir = std::env::temp_dir();
    let out = Command::new("df").arg("-Pk").arg(&dir).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // `df -P`: a header line, then "fs blocks used available capacity mount".
    let free = text
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|k| k.parse::<u64>().ok())
        .map(|k| k * 1024);
    match free {
        Some(f) if f < need => Err(io::Error::other(format!(
            "only {:.1} GB free in {}, the recording needs about {:.1} GB",
            f as f64 / 1e9,
            dir.display(),
            need as f64 / 1e9
        ))),
        _ => Ok(()),
    }
}

/// Peak resident set (`VmHWM`) of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time used so far by all live threads of a process, in ns (from schedstat).
fn threads_cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// The fields of /proc/PID/stat after the command name (which may hold spaces).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

fn proc_state(stat: &str) -> Option<char> {
    stat_fields(stat)?.first()?.chars().next()
}

/// utime + stime of the whole process (threads that ended included), in ns.
fn cpu_ns(stat: &str) -> Option<u64> {
    let f = stat_fields(stat)?;
    // After the name: state is field 3 of the line, utime 14 and stime 15.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 1_000_000_000 / clock_ticks())
}

/// `USER_HZ`: 100 on every Linux this runs on; `getconf` says if not.
fn clock_ticks() -> u64 {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HZ.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(100)
    })
}
