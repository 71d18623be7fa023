//! The measurements of the end-to-end benchmark: driving each workload shape (pipelined,
//! both ways at once, lock-step) and ping-pong latency, and running the plan with the
//! setups interleaved. What the plan holds is in `e2e_plan.rs`.
//!
//! Every byte the load generator writes or reads is fingerprinted as it crosses, so that
//! each recording can be held to exactly what crossed (`e2e_verify.rs`). Every run has a
//! deadline: a setup that hangs is killed and reported, never waited on forever.

pub use crate::e2e_plan::{Shape, Sizes, Workload, MIB, SMALL};
use crate::e2e_proc::{spawn, Exited, Peer, Setup};
use crate::e2e_verify::{check_recording, RecordingCheck, Traffic};
use crate::peers::{FrameReader, Framing, Push, Template, BUF, FIRST_ID};
use crate::wire_hash::{Digest, HashingReader, HashingWriter};
use std::io::{self, BufWriter, Write};
use std::process::{ChildStdin, ChildStdout};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Round trips before latency samples are kept, so start-up is not measured.
const LATENCY_WARMUP: usize = 500;

type Writer = HashingWriter<ChildStdin>;
type Reader = FrameReader<HashingReader<ChildStdout>>;

/// One run of a workload.
#[derive(Debug, Clone)]
pub struct Run {
    /// The timed part: from the first message to the last one received.
    pub secs: f64,
    /// Bytes per direction in the timed part (framing included).
    pub bytes: u64,
    /// Messages per direction in the timed part.
    pub msgs: u64,
    pub exited: Exited,
    pub recording: Option<RecordingCheck>,
}

impl Run {
    pub fn mb_s(&self) -> f64 {
        self.bytes as f64 / self.secs / 1e6
    }

    /// The recording holds what crossed (true when there is no recording).
    pub fn complete(&self) -> bool {
        self.recording.as_ref().is_none_or(RecordingCheck::complete)
    }
}

/// All runs of one workload through one setup with one framing.
pub struct Series {
    pub workload: Workload,
    pub framing: Framing,
    pub setup: Setup,
    pub runs: Vec<Run>,
    /// Runs that did not finish, and why.
    pub failures: Vec<String>,
}

impl Series {
    /// "WORKLOAD, FRAMING, SETUP": how progress, problems and `--only` name it.
    pub fn what(&self) -> String {
        what(&self.workload.label(), self.framing, self.setup)
    }
}

fn what(workload: &str, framing: Framing, setup: Setup) -> String {
    format!("{workload}, {}, {}", framing.name(), setup.name())
}

/// All results of one benchmark run.
pub struct Results {
    pub series: Vec<Series>,
    pub latency: Pings,
    pub latency_failures: Vec<String>,
}

fn pipes(peer: &mut Peer, framing: Framing) -> io::Result<(Writer, Reader)> {
    let stdin = peer.child.stdin.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let stdout = peer.child.stdout.take().ok_or(io::ErrorKind::BrokenPipe)?;
    Ok((
        HashingWriter::new(stdin),
        FrameReader::new(HashingReader::new(stdout), framing),
    ))
}

/// One untimed round trip, so that process start-up is not measured.
fn warm_up(
    peer: &mut Peer,
    (mut w, mut r): (Writer, Reader),
    framing: Framing,
    len: usize,
) -> io::Result<(Writer, Reader)> {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let mut tpl = Template::new(framing, true, len);
        let res = w
            .write_all(tpl.with_id(FIRST_ID))
            .and_then(|()| r.response(FIRST_ID, len));
        let _ = tx.send(res);
        (w, r)
    });
    peer.wait_for(&rx, Duration::from_secs(60))?;
    t.join().map_err(|_| io::Error::other("warm-up panicked"))
}

/// Time allowed for moving `bytes` each way: generous, for a loaded machine.
fn limit(bytes: u64) -> Duration {
    Duration::from_secs(60 + bytes / 20_000_000)
}

/// After the last message: closes stdin, watches the process exit, checks the recording.
fn finish(
    mut peer: Peer,
    w: Digest,
    r: &Reader,
    msgs: (u64, u64),
    timed: (f64, u64, u64),
) -> io::Result<Run> {
    let exited = peer.finish()?;
    let traffic = Traffic {
        c2s: w,
        s2c: r.r.get_ref().hash.finish(),
        c2s_msgs: msgs.0,
        s2c_msgs: msgs.1,
    };
    let recording = peer
        .record
        .as_ref()
        .map(|(dir, path)| check_recording(dir.path(), path, traffic));
    Ok(Run {
        secs: timed.0,
        bytes: timed.1,
        msgs: timed.2,
        exited,
        recording,
    })
}

/// Runs a writer and a reader thread at once; the reader's end is the end of the run.
/// The writer keeps stdin open until the reader is done.
fn duplex(
    mut peer: Peer,
    (w, mut r): (Writer, Reader),
    write: impl FnOnce(&mut BufWriter<Writer>) -> io::Result<()> + Send + 'static,
    read: impl FnOnce(&mut Reader) -> io::Result<()> + Send + 'static,
    bytes: u64,
    msgs: (u64, u64),
    n: u64,
) -> io::Result<Run> {
    let (close_tx, close_rx) = mpsc::channel::<()>();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let writer = thread::spawn(move || -> io::Result<Digest> {
        let mut bw = BufWriter::with_capacity(BUF, w);
        write(&mut bw)?;
        let w = bw
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        let _ = close_rx.recv();
        Ok(w.hash.finish())
    });
    thread::spawn(move || {
        let res = read(&mut r).map(|()| (Instant::now(), r));
        let _ = tx.send(res);
    });
    let result = peer.wait_for(&rx, limit(bytes));
    peer.sample();
    drop(close_tx);
    let written = writer
        .join()
        .map_err(|_| io::Error::other("writer panicked"))?;
    let (end, r) = result?;
    let secs = (end - start).as_secs_f64();
    finish(peer, written?, &r, msgs, (secs, bytes, n))
}

/// Pipelined: `n` requests of `len` bytes while their responses are read.
pub fn pipelined(setup: Setup, framing: Framing, len: usize, n: u64) -> io::Result<Run> {
    let mut peer = spawn(setup, framing, None)?;
    let p = pipes(&mut peer, framing)?;
    let p = warm_up(&mut peer, p, framing, len)?;
    let mut tpl = Template::new(framing, true, len);
    let bytes = n * tpl.frame.len() as u64;
    let write = move |w: &mut BufWriter<Writer>| {
        (1..=n).try_for_each(|i| w.write_all(tpl.with_id(FIRST_ID + i)))
    };
    let read = move |r: &mut Reader| (1..=n).try_for_each(|i| r.response(FIRST_ID + i, len));
    duplex(peer, p, write, read, bytes, (n + 1, n + 1), n)
}

/// Both ways at once: the client sends `n` notifications of `len` bytes while the server
/// sends `n` of its own; then one small round trip, which the server answers once all of
/// its notifications are out, so its arrival means everything arrived.
pub fn concurrent(setup: Setup, framing: Framing, len: usize, n: u64) -> io::Result<Run> {
    let mut peer = spawn(setup, framing, Some(Push { count: n, len }))?;
    let p = pipes(&mut peer, framing)?;
    let p = warm_up(&mut peer, p, framing, SMALL)?;
    let note = Template::new(framing, false, len);
    let mut last = Template::new(framing, true, SMALL);
    let bytes = n * note.frame.len() as u64;
    let write = move |w: &mut BufWriter<Writer>| {
        (0..n).try_for_each(|_| w.write_all(&note.frame))?;
        w.write_all(last.with_id(FIRST_ID + 1))
    };
    let read = move |r: &mut Reader| {
        (0..n).try_for_each(|_| r.push(len))?;
        r.response(FIRST_ID + 1, SMALL)
    };
    duplex(peer, p, write, read, bytes, (n + 2, n + 2), n)
}

/// Lock-step: `warm + n` round trips of `len` bytes, one in flight; the run covers the
/// last `n`, whose round-trip times are returned too, in nanoseconds.
pub fn lockstep(
    setup: Setup,
    framing: Framing,
    len: usize,
    n: u64,
    warm: u64,
) -> io::Result<(Run, Vec<u64>)> {
    let mut peer = spawn(setup, framing, None)?;
    let (mut w, mut r) = pipes(&mut peer, framing)?;
    let mut tpl = Template::new(framing, true, len);
    let bytes = n * tpl.frame.len() as u64;
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        let mut samples = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut start = Instant::now();
        let res = (0..warm + n)
            .try_for_each(|i| {
                let id = FIRST_ID + i;
                let t0 = Instant::now();
                if i == warm {
                    start = t0;
                }
                w.write_all(tpl.with_id(id))?;
                r.response(id, len)?;
                if i >= warm {
                    samples.push(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
                }
                Ok(())
            })
            .map(|()| (start.elapsed().as_secs_f64(), samples, w.hash.finish(), r));
        let _ = tx.send(res);
        // Closing stdin lets the setup exit, once its peak memory has been read.
        let _ = done_rx.recv();
        drop(w);
    });
    let result = peer.wait_for(&rx, limit(bytes + 1_000_000_000));
    peer.sample();
    drop(done_tx);
    let (secs, samples, wrote, r) = result?;
    let msgs = warm + n;
    let run = finish(peer, wrote, &r, (msgs, msgs), (secs, bytes, n))?;
    Ok((run, samples))
}

pub fn run(setup: Setup, framing: Framing, w: &Workload) -> io::Result<Run> {
    if setup.is_shim() {
        // Both directions, plus the line around each message and some slack.
        let body = (w.n + 2) * (w.len as u64 + 160);
        crate::e2e_proc::check_disk(2 * body + (64 << 20))?;
    }
    match w.shape {
        Shape::Pipelined => pipelined(setup, framing, w.len, w.n),
        Shape::Concurrent => concurrent(setup, framing, w.len, w.n),
        Shape::LockStep => lockstep(setup, framing, w.len, w.n, 1).map(|(run, _)| run),
    }
}

/// Why the shim cannot be measured, if it cannot: one round trip through
/// `rpctap --record FILE -- echo` must work.
pub fn shim_unavailable() -> Option<String> {
    let shim = crate::e2e_proc::shim();
    if !shim.exists() {
        return Some(format!("{} was not built", shim.display()));
    }
    match pipelined(Setup::Rpctap, Framing::Lsp, SMALL, 1) {
        Ok(_) => None,
        Err(e) => Some(format!(
            "`rpctap --record FILE -- CMD` does not work yet ({e})"
        )),
    }
}

/// Runs every measurement, interleaving the setups (and framings) so that noise from the
/// rest of the machine falls on all of them alike. A run that fails or whose recording
/// does not match is reported at once on stderr, and the rest goes on.
pub fn run_all(setups: &[Setup], sizes: &Sizes) -> Results {
    let mut series = Vec::new();
    for &workload in &sizes.workloads {
        for framing in Framing::ALL {
            for &setup in setups {
                if !sizes.wanted(&what(&workload.label(), framing, setup)) {
                    continue;
                }
                series.push(Series {
                    workload,
                    framing,
                    setup,
                    runs: Vec::new(),
                    failures: Vec::new(),
                });
            }
        }
    }
    let reps = sizes.workloads.iter().map(|w| w.reps).max().unwrap_or(0);
    for rep in 0..reps {
        for s in series.iter_mut().filter(|s| rep < s.workload.reps) {
            let what = s.what();
            match run(s.setup, s.framing, &s.workload) {
                Ok(r) => {
                    let checked = r.recording.as_ref().map_or(String::new(), |c| {
                        format!(" (recording read back in {:.1} s)", c.secs)
                    });
                    eprintln!(
                        "e2e: [{}/{}] {what}: {:.0} MB/s{checked}",
                        rep + 1,
                        s.workload.reps,
                        r.mb_s()
                    );
                    if let Some(c) = r.recording.as_ref().filter(|c| !c.complete()) {
                        eprintln!("e2e: MISMATCH: {what}: {}", c.mismatch());
                    }
                    s.runs.push(r);
                }
                Err(e) => {
                    eprintln!("e2e: FAILED: {what}: {e}");
                    s.failures.push(e.to_string());
                }
            }
        }
    }
    let (latency, latency_failures) = run_latency(setups, sizes);
    Results {
        series,
        latency,
        latency_failures,
    }
}

/// Round-trip times per framing and setup, in nanoseconds.
pub type Pings = Vec<(Framing, Setup, Vec<u64>)>;

fn run_latency(setups: &[Setup], sizes: &Sizes) -> (Pings, Vec<String>) {
    let mut pings: Vec<_> = Framing::ALL
        .into_iter()
        .flat_map(|f| setups.iter().map(move |&s| (f, s, Vec::new())))
        .filter(|(f, s, _)| sizes.wanted(&what("ping-pong", *f, *s)))
        .collect();
    let mut failures = Vec::new();
    let blocks = if pings.is_empty() {
        0
    } else {
        sizes.latency_blocks
    };
    for block in 0..blocks {
        eprintln!(
            "e2e: latency, block {} of {}",
            block + 1,
            sizes.latency_blocks
        );
        for (f, s, samples) in &mut pings {
            let n = sizes.latency_n as u64;
            let what = what("ping-pong", *f, *s);
            match lockstep(*s, *f, SMALL, n, LATENCY_WARMUP as u64) {
                Ok((run, v)) => {
                    if let Some(c) = run.recording.as_ref().filter(|c| !c.complete()) {
                        eprintln!("e2e: MISMATCH: {what}: {}", c.mismatch());
                        failures.push(format!("{what}: recording: {}", c.mismatch()));
                    }
                    samples.extend(v);
                }
                Err(e) => {
                    eprintln!("e2e: FAILED: {what}: {e}");
                    failures.push(format!("{what}: {e}"));
                }
            }
        }
    }
    (pings, failures)
}
