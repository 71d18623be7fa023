//! What the end-to-end benchmark runs: the workloads of issue 11 (their shape, message
//! size, count and repetitions) in the full, quick and smoke plans, and the filter that
//! `--only` sets. Not here: how a workload is driven (`e2e_runs.rs`).

pub const SMALL: usize = 200;
pub const MIB: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A writer thread sends all requests while a reader thread reads the responses.
    Pipelined,
    /// The client sends notifications while the server sends its own, both at once.
    Concurrent,
    /// One request in flight at a time.
    LockStep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    pub shape: Shape,
    /// Body length of each message, in bytes.
    pub len: usize,
    /// Messages per direction (round trips for the request/response shapes).
    pub n: u64,
    /// Runs per setup and framing (the median is reported).
    pub reps: usize,
}

impl Workload {
    const fn new(shape: Shape, len: usize, n: u64, reps: usize) -> Workload {
        Workload {
            shape,
            len,
            n,
            reps,
        }
    }

    pub fn size(&self) -> String {
        match self.len {
            l if l >= MIB && l % MIB == 0 => format!("{} MiB", l / MIB),
            l => format!("{l} B"),
        }
    }

    pub fn label(&self) -> String {
        let what = match self.shape {
            Shape::Pipelined => "pipelined",
            Shape::Concurrent => "each way at once",
            Shape::LockStep => "lock-step",
        };
        format!("{} × {} {what}", self.n, self.size())
    }
}

/// How much each measurement sends.
pub struct Sizes {
    pub workloads: Vec<Workload>,
    /// Round trips per latency block, and blocks per setup (samples are pooled).
    pub latency_n: usize,
    pub latency_blocks: usize,
    /// `--only TEXT` (repeatable): run only what names one of these, e.g. `1 MiB`,
    /// `NDJSON`, `ping-pong`, `stalled` (a run is named "WORKLOAD, FRAMING, SETUP").
    pub only: Vec<String>,
    /// `--quick`: a check of the harness, whose figures are not published.
    pub quick: bool,
    /// `--check`: also run `rpctap --record --check` (docs/benchmarks.md, Conformance).
    pub check: bool,
}

impl Sizes {
    /// Whether the run named `what` is to be run (see `only`).
    pub fn wanted(&self, what: &str) -> bool {
        let what = what.to_lowercase();
        self.only.is_empty() || self.only.iter().any(|o| what.contains(&o.to_lowercase()))
    }

    /// The workloads of issue 11; fewer runs for the largest, to fit in about 25 minutes.
    pub fn full() -> Sizes {
        use Shape::{Concurrent, LockStep, Pipelined};
        Sizes {
            workloads: vec![
                Workload::new(Pipelined, SMALL, 1_000_000, 5),
                // 5 rounds: at 1 MiB the relay itself ranges 2x between rounds here.
                Workload::new(Pipelined, MIB, 2_000, 5),
                Workload::new(Pipelined, 20 * MIB, 100, 2),
                Workload::new(Concurrent, 20 * MIB, 5, 3),
                Workload::new(LockStep, 8 * MIB, 30, 3),
            ],
            latency_n: 5_000,
            latency_blocks: 4,
            only: Vec::new(),
            quick: false,
            check: false,
        }
    }

    /// For checking the harness itself: a couple of minutes, not figures to publish.
    pub fn quick() -> Sizes {
        use Shape::{Concurrent, LockStep, Pipelined};
        Sizes {
            workloads: vec![
                Workload::new(Pipelined, SMALL, 20_000, 1),
                Workload::new(Pipelined, MIB, 32, 1),
                Workload::new(Pipelined, 20 * MIB, 4, 1),
                Workload::new(Concurrent, 20 * MIB, 1, 1),
                Workload::new(LockStep, 8 * MIB, 4, 1),
            ],
            latency_n: 1_000,
            latency_blocks: 1,
            only: Vec::new(),
            quick: false,
            check: false,
        }
    }

    /// Under `cargo test --benches` (a debug build): a few messages of each shape, each
    /// large one past a pipe's buffer.
    pub fn smoke() -> Sizes {
        use Shape::{Concurrent, LockStep, Pipelined};
        Sizes {
            workloads: vec![
                Workload::new(Pipelined, SMALL, 100, 1),
                Workload::new(Pipelined, MIB, 4, 1),
                Workload::new(Pipelined, 3 * MIB, 2, 1),
                Workload::new(Concurrent, 3 * MIB, 2, 1),
                Workload::new(LockStep, 2 * MIB, 3, 1),
            ],
            latency_n: 100,
            latency_blocks: 1,
            only: Vec::new(),
            quick: false,
            check: false,
        }
    }
}
