//! Conformance-check benchmark (issue 15): `rpctap check` against `rpctap stats --no-check`
//! (the statistics alone) on the same generated recording of 1,000,000 LSP messages, each
//! run as the release binary, alternating, three times each; wall time and the child's CPU
//! time, best of three. The target: check takes at most twice what stats takes. `rpctap
//! stats` with its conformance count (the default) is shown too.
//!
//! Run: `cargo bench --bench check` (`RPCTAP_BENCH_MESSAGES=N` for another size;
//! `RPCTAP_BENCH_FILE=PATH` keeps the recording at PATH, or reuses it if it exists, e.g. to
//! profile `rpctap check PATH` with `perf`). Without
//! `--bench` (as under `cargo test --benches`) it only checks the harness on a few messages.
//! Results go to `docs/benchmarks.md` by hand.

#[path = "support/lsp_session.rs"]
mod lsp_session;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("RPCTAP_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { 1_000_000 } else { 1000 });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var_os("RPCTAP_BENCH_FILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.jsonl"),
    };
    if !path.exists() {
        lsp_session::generate(&path, n);
    }
    let size = std::fs::metadata(&path).unwrap().len();
    println!("recording: {n} messages, {:.1} MB", size as f64 / 1e6);
    let mut stats = Vec::new();
    let mut check = Vec::new();
    let mut counted = Vec::new();
    for _ in 0..if bench { RUNS } else { 1 } {
        stats.push(run(&["stats", "--no-check"], &path));
        check.push(run(&["check"], &path));
        counted.push(run(&["stats"], &path));
    }
    let best = |v: &[(Duration, Duration)]| {
        let wall = v.iter().map(|r| r.0).min().unwrap();
        let cpu = v.iter().map(|r| r.1).min().unwrap();
        (wall, cpu)
    };
    let (sw, sc) = best(&stats);
    let (cw, cc) = best(&check);
    let (tw, tc) = best(&counted);
    println!("| measure | wall | CPU |");
    println!(
        "| stats --no-check | {} ms | {} ms |",
        sw.as_millis(),
        sc.as_millis()
    );
    println!("| check | {} ms | {} ms |", cw.as_millis(), cc.as_millis());
    println!(
        "| stats (with its conformance count) | {} ms | {} ms |",
        tw.as_millis(),
        tc.as_millis()
    );
    println!(
        "| check / stats | {:.2}× | {:.2}× |",
        cw.as_secs_f64() / sw.as_secs_f64(),
        cc.as_secs_f64() / sc.as_secs_f64().max(1e-9)
    );
}

/// Runs `rpctap ARGS FILE` to its end: wall time and the child's CPU time.
fn run(args: &[&str], file: &Path) -> (Duration, Duration) {
    let before = children_cpu();
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rpctap"))
        .args(args)
        .arg(file)
        .output()
        .expect("run rpctap");
    let wall = t.elapsed();
    let cpu = children_cpu().saturating_sub(before);
    assert!(
        out.status.code() == Some(0),
        "rpctap {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    if args[0] == "check" {
        print!("check: {}", String::from_utf8_lossy(&out.stdout));
    }
    (wall, cpu)
}

/// CPU time of the waited-for children (cutime + cstime of /proc/self/stat).
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the line: 14 and 15 after the name.
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((field(13) + field(14)) * 10)
}
