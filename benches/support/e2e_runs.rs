//! The measurements of the end-to-end benchmark: spawning a setup, pipelined throughput,
//! ping-pong latency, peak memory, and checking what a recording kept.
//!
//! Every run has a deadline: a setup that hangs is killed and reported, never waited on
//! forever.

use crate::peers::{read_response, Template, BUF, FIRST_ID};
use std::io::{self, BufReader, BufWriter, Write};
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

/// Copies the shim into `dir` and measures that copy from now on; or measures the build
/// named by `RPCTAP_BENCH_SHIM`, as it is.
pub fn snapshot_shim(dir: &Path) -> io::Result<()> {
    if let Some(path) = std::env::var_os("RPCTAP_BENCH_SHIM") {
        let _ = SHIM.set(PathBuf::from(path));
        return Ok(());
    }
    let copy = dir.join("rpctap");
    std::fs::copy(RPCTAP, &copy)?;
    let _ = SHIM.set(copy);
    Ok(())
}

fn shim() -> &'static Path {
    SHIM.get().map_or(Path::new(RPCTAP), |p| p.as_path())
}
pub const SMALL: usize = 200;
pub const LARGE: usize = 1024 * 1024;
/// Round trips before latency samples are kept, so start-up is not measured.
const LATENCY_WARMUP: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    Direct,
    Relay,
    Rpctap,
    /// rpctap with a live viewer attached that never reads (it must not slow the shim).
    RpctapStalled,
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
        matches!(self, Setup::Rpctap | Setup::RpctapStalled)
    }

    pub fn name(self) -> &'static str {
        match self {
            Setup::Direct => "direct",
            Setup::Relay => "relay",
            Setup::Rpctap => "rpctap --record",
            Setup::RpctapStalled => "rpctap --record, stalled viewer",
        }
    }
}

/// How much each measurement sends.
pub struct Sizes {
    /// Messages per throughput run with 200 B bodies.
    pub small_n: u64,
    /// Messages per throughput run with 1 MiB bodies.
    pub large_n: u64,
    /// Throughput runs per setup and size (the median is reported).
    pub reps: usize,
    /// Round trips per latency block, and blocks per setup (samples are pooled).
    pub latency_n: usize,
    pub latency_blocks: usize,
    /// Messages in the memory run.
    pub rss_n: u64,
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            small_n: 500_000,
            large_n: 256,
            reps: 5,
            latency_n: 5_000,
            latency_blocks: 4,
            rss_n: 1_000_000,
        }
    }

    /// For checking the harness itself: seconds, not minutes.
    pub fn quick() -> Sizes {
        Sizes {
            small_n: 20_000,
            large_n: 32,
            reps: 2,
            latency_n: 1_000,
            latency_blocks: 2,
            rss_n: 100_000,
        }
    }
}

/// What a recording kept, read back with the project's own reader.
#[derive(Debug, Clone, Default)]
pub struct RecordingCheck {
    pub messages: u64,
    pub expected: u64,
    pub gaps: u64,
    pub lost_bytes: u64,
    pub file_bytes: u64,
}

/// One pipelined run.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub secs: f64,
    /// Request bytes on the wire (headers included); responses are as large.
    pub bytes: u64,
    pub msgs: u64,
    /// Peak resident memory of the process the load generator spawned (VmHWM), in KiB.
    pub peak_rss_kib: Option<u64>,
    /// CPU time that process's threads had used when the last response arrived, in ns:
    /// its cost, much less sensitive to other load on the machine than wall-clock speed.
    pub cpu_ns: Option<u64>,
    pub recording: Option<RecordingCheck>,
}

/// All results of one benchmark run.
pub struct Results {
    pub small: Vec<(Setup, Vec<Throughput>)>,
    pub large: Vec<(Setup, Vec<Throughput>)>,
    /// Round-trip times in nanoseconds.
    pub latency: Vec<(Setup, Vec<u64>)>,
    pub rss: Vec<(Setup, Throughput)>,
}

/// A spawned setup, with its recording's directory when it records.
struct Peer {
    child: Child,
    record: Option<(tempfile::TempDir, PathBuf)>,
    /// A live-feed connection that is never read.
    _stalled: Option<std::os::unix::net::UnixStream>,
}

fn spawn(setup: Setup) -> io::Result<Peer> {
    let exe = std::env::current_exe()?;
    let mut record = None;
    let mut cmd = match setup {
        Setup::Direct => Command::new(&exe),
        Setup::Relay => {
            let mut c = Command::new(&exe);
            c.arg("__relay").arg(&exe);
            c
        }
        Setup::Rpctap | Setup::RpctapStalled => {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("bench.jsonl");
            let mut c = Command::new(shim());
            c.env("RPCTAP_HOME", dir.path());
            c.arg("--record").arg(&path).arg("--").arg(&exe);
            record = Some((dir, path));
            c
        }
    };
    let child = cmd
        .arg("__echo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stalled = None;
    if let (Setup::RpctapStalled, Some((dir, _))) = (setup, &record) {
        let sock = dir.path().join("run").join(format!("{}.sock", child.id()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while stalled.is_none() {
            match std::os::unix::net::UnixStream::connect(&sock) {
                Ok(s) => stalled = Some(s),
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
    Ok(Peer {
        child,
        record,
        _stalled: stalled,
    })
}

impl Peer {
    /// Waits for the work's result; on timeout or failure, kills the child so that every
    /// thread blocked on its pipes wakes up.
    fn wait_for<T>(
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

    /// Waits for the child to exit after its stdin was closed, then checks the recording.
    fn finish(mut self, expected: u64) -> io::Result<Option<RecordingCheck>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err(io::Error::other(
                    "the setup did not exit after its stdin closed",
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.record
            .as_ref()
            .map(|(_, path)| check_recording(path, expected))
            .transpose()
    }
}

fn check_recording(path: &Path, expected: u64) -> io::Result<RecordingCheck> {
    let mut check = RecordingCheck {
        expected,
        file_bytes: std::fs::metadata(path)?.len(),
        ..RecordingCheck::default()
    };
    let reader = rpctap::record::read_file(path).map_err(io::Error::other)?;
    for event in reader {
        match event.map_err(io::Error::other)? {
            rpctap::record::Event::Message(_) => check.messages += 1,
            rpctap::record::Event::Gap(g) => {
                check.gaps += 1;
                check.lost_bytes += g.bytes;
            }
            _ => {}
        }
    }
    Ok(check)
}

/// Peak resident set (VmHWM) of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time used so far by all live threads of a process, in ns (from schedstat).
fn cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Pipelined: a writer thread sends `n` requests while a reader thread reads `n`
/// responses. Timed from the first request to the last response, after one untimed round
/// trip so that process start-up is not counted.
pub fn throughput(setup: Setup, len: usize, n: u64) -> io::Result<Throughput> {
    let mut peer = spawn(setup)?;
    let mut stdin = peer.child.stdin.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let stdout = peer.child.stdout.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let mut tpl = Template::new(len);
    let frame_len = tpl.frame.len() as u64;
    let body_id_at = tpl.body_id_at;
    let mut r = BufReader::with_capacity(BUF, stdout);
    let (mut line, mut body) = (Vec::new(), Vec::new());
    let (warm, warm_rx) = mpsc::channel();
    let warmup = thread::spawn(move || {
        let res = stdin
            .write_all(tpl.with_id(FIRST_ID))
            .and_then(|()| read_response(&mut r, &mut line, &mut body, FIRST_ID, body_id_at));
        let _ = warm.send(res);
        (stdin, r, tpl, line, body)
    });
    peer.wait_for(&warm_rx, Duration::from_secs(30))?;
    let (stdin, mut r, mut tpl, mut line, mut body) = warmup
        .join()
        .map_err(|_| io::Error::other("warm-up panicked"))?;

    let (close_tx, close_rx) = mpsc::channel::<()>();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let writer = thread::spawn(move || -> io::Result<()> {
        let mut w = BufWriter::with_capacity(BUF, stdin);
        for i in 1..=n {
            w.write_all(tpl.with_id(FIRST_ID + i))?;
        }
        w.flush()?;
        // Stdin stays open until the peak memory has been read, so the process is alive.
        let _ = close_rx.recv();
        Ok(())
    });
    let reader = thread::spawn(move || {
        let res = (1..=n)
            .try_for_each(|i| read_response(&mut r, &mut line, &mut body, FIRST_ID + i, body_id_at))
            .map(|()| Instant::now());
        let _ = tx.send(res);
    });
    let limit = Duration::from_secs(60) + Duration::from_secs(2 * n * frame_len / 10_000_000);
    let result = peer.wait_for(&rx, limit);
    let peak_rss_kib = peak_rss_kib(peer.child.id());
    let cpu_ns = cpu_ns(peer.child.id());
    drop(close_tx);
    let wrote = writer
        .join()
        .map_err(|_| io::Error::other("writer panicked"))?;
    let _ = reader.join();
    let end = result?;
    wrote?;
    let recording = peer.finish(2 * (n + 1))?;
    Ok(Throughput {
        secs: (end - start).as_secs_f64(),
        bytes: n * frame_len,
        msgs: n,
        peak_rss_kib,
        cpu_ns,
        recording,
    })
}

/// Ping-pong: one small request in flight at a time; the round-trip time of each of `n`
/// requests after a warm-up, in nanoseconds.
pub fn latency(setup: Setup, n: usize) -> io::Result<Vec<u64>> {
    let mut peer = spawn(setup)?;
    let mut stdin = peer.child.stdin.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let stdout = peer.child.stdout.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut tpl = Template::new(SMALL);
        let mut r = BufReader::with_capacity(BUF, stdout);
        let (mut line, mut body) = (Vec::new(), Vec::new());
        let mut samples = Vec::with_capacity(n);
        let res = (0..LATENCY_WARMUP + n)
            .try_for_each(|i| {
                let id = FIRST_ID + i as u64;
                let t0 = Instant::now();
                stdin.write_all(tpl.with_id(id))?;
                read_response(&mut r, &mut line, &mut body, id, tpl.body_id_at)?;
                if i >= LATENCY_WARMUP {
                    samples.push(t0.elapsed().as_nanos() as u64);
                }
                Ok(())
            })
            .map(|()| samples);
        // Dropping stdin here lets the setup exit.
        let _ = tx.send(res);
    });
    let samples = peer.wait_for(&rx, Duration::from_secs(120))?;
    peer.finish(2 * (LATENCY_WARMUP + n) as u64)?;
    Ok(samples)
}

/// Why the shim cannot be measured, if it cannot: one round trip through
/// `rpctap --record FILE -- echo` must work.
pub fn shim_unavailable() -> Option<String> {
    if !shim().exists() {
        return Some(format!("{} was not built", shim().display()));
    }
    match throughput(Setup::Rpctap, SMALL, 1) {
        Ok(_) => None,
        Err(e) => Some(format!(
            "`rpctap --record FILE -- CMD` does not work yet ({e})"
        )),
    }
}

/// Runs every measurement, interleaving the setups so that noise from the rest of the
/// machine falls on all of them alike.
pub fn run_all(setups: &[Setup], sizes: &Sizes) -> Result<Results, String> {
    let fail = |what: &str, s: Setup, e: io::Error| format!("{what} through {}: {e}", s.name());
    let mut small: Vec<_> = setups.iter().map(|&s| (s, Vec::new())).collect();
    let mut large = small.clone();
    for rep in 0..sizes.reps {
        eprintln!("e2e: throughput, round {} of {}", rep + 1, sizes.reps);
        for (s, runs) in &mut small {
            runs.push(throughput(*s, SMALL, sizes.small_n).map_err(|e| fail("200 B", *s, e))?);
        }
        for (s, runs) in &mut large {
            runs.push(throughput(*s, LARGE, sizes.large_n).map_err(|e| fail("1 MiB", *s, e))?);
        }
    }
    let mut pings: Vec<_> = setups.iter().map(|&s| (s, Vec::new())).collect();
    for block in 0..sizes.latency_blocks {
        eprintln!(
            "e2e: latency, block {} of {}",
            block + 1,
            sizes.latency_blocks
        );
        for (s, samples) in &mut pings {
            samples.extend(latency(*s, sizes.latency_n).map_err(|e| fail("ping-pong", *s, e))?);
        }
    }
    let mut rss = Vec::new();
    for &s in setups.iter().filter(|&&s| s != Setup::Direct) {
        eprintln!("e2e: memory, {} messages through {}", sizes.rss_n, s.name());
        rss.push((
            s,
            throughput(s, SMALL, sizes.rss_n).map_err(|e| fail("memory run", s, e))?,
        ));
    }
    Ok(Results {
        small,
        large,
        latency: pings,
        rss,
    })
}
