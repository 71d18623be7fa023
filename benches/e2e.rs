//! End-to-end benchmark of the shim (PRODUCT §10, issue 11): a load generator drives an
//! echo server through four setups in one run, so that machine noise falls on all of them
//! alike:
//!
//! - direct: the server is the load generator's child;
//! - relay: a plain two-thread byte relay with 64 KiB buffers in between (the baseline);
//! - rpctap: `rpctap --record FILE -- server`, recording on;
//! - rpctap with a live viewer attached that never reads;
//! - with `--check`, also `rpctap --record --check -- server` (live conformance checking).
//!
//! Both framings (Content-Length and newline-delimited JSON), the workloads of issue 11
//! (200 B, 1 MiB and 20 MiB pipelined, 20 MiB both ways at once, 8 MiB lock-step) and
//! ping-pong latency. Every recording is read back and held to what crossed: the message
//! counts both ways, no gap, and `rpctap cat --wire` equal to the bytes on the wire. The
//! same executable is the echo server (`e2e __echo FRAMING [COUNT LEN]`) and the relay
//! (`e2e __relay CMD...`).
//!
//! Run: `scripts/bench-e2e.sh` (rewrites `## End to end` in docs/benchmarks.md), or
//! `cargo bench --bench e2e [-- --quick] [--only TEXT]...` (`--only` runs only what
//! names TEXT, e.g. `--only "1 MiB" --only relay`; neither it nor `--quick` touches the
//! docs; `--check` adds the `--check` setup, and then the section is printed, not
//! written). Without `--bench` (as under `cargo test --benches`) it only checks that the
//! harness works, with a few messages of each workload, and fails if a recording does not
//! hold what crossed.
//! `RPCTAP_BENCH_SHIM=/path/to/rpctap` measures that build instead of this one (to compare
//! two builds, or to profile one whose symbols stay on disk).

#[path = "support/docs.rs"]
mod docs;
#[path = "support/e2e_plan.rs"]
mod e2e_plan;
#[path = "support/e2e_proc.rs"]
mod e2e_proc;
#[path = "support/e2e_verify.rs"]
mod e2e_verify;
#[path = "support/peers.rs"]
mod peers;
#[path = "support/e2e_report.rs"]
mod report;
#[path = "support/e2e_runs.rs"]
mod runs;
#[path = "support/wire_hash.rs"]
mod wire_hash;

use e2e_proc::Setup;
use peers::{Framing, Push};
use runs::Sizes;
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let result = match args.get(1).and_then(|a| a.to_str()) {
        Some("__echo") => echo(&args[2..]).map_err(|e| format!("echo server: {e}")),
        Some("__relay") => {
            return match peers::relay(&args[2..]) {
                Ok(code) => ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)),
                Err(e) => {
                    eprintln!("relay: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ if args.iter().any(|a| a == "--bench") => {
            let quick = args.iter().any(|a| a == "--quick");
            let mut sizes = if quick { Sizes::quick() } else { Sizes::full() };
            sizes.quick = quick;
            sizes.check = args.iter().any(|a| a == "--check");
            sizes.only = args
                .windows(2)
                .filter(|w| w[0] == "--only")
                .map(|w| w[1].to_string_lossy().into_owned())
                .collect();
            bench(&sizes)
        }
        _ => smoke(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("e2e: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `__echo FRAMING [COUNT LEN]`: the echo server, pushing COUNT notifications of LEN bytes
/// of its own when asked.
fn echo(args: &[OsString]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).and_then(|a| a.to_str());
    let framing = arg(0)
        .and_then(Framing::parse)
        .ok_or("usage: __echo lsp|ndjson [COUNT LEN]")?;
    let push = match (arg(1), arg(2)) {
        (Some(c), Some(l)) => Some(Push {
            count: c.parse().map_err(|_| format!("bad count {c}"))?,
            len: l.parse().map_err(|_| format!("bad length {l}"))?,
        }),
        _ => None,
    };
    peers::echo_server(framing, push).map_err(|e| e.to_string())
}

/// Under `cargo test --benches`: every workload, framing and available setup once with a
/// few messages, no timing; any failure or recording that does not hold what crossed fails.
fn smoke() -> Result<(), String> {
    wire_hash::self_check()?;
    e2e_proc::shim_from_env();
    let mut setups = Setup::ALL.to_vec();
    setups.push(Setup::RpctapCheck);
    if let Some(why) = runs::shim_unavailable() {
        eprintln!("e2e: skipping rpctap: {why}");
        setups.retain(|s| !s.is_shim());
    }
    let results = runs::run_all(&setups, &Sizes::smoke());
    let problems = report::problems(&results);
    if !problems.is_empty() {
        return Err(format!(
            "harness check failed:\n  {}",
            problems.join("\n  ")
        ));
    }
    eprintln!("e2e harness: ok (run `cargo bench --bench e2e` to measure)");
    Ok(())
}

fn bench(sizes: &Sizes) -> Result<(), String> {
    let machine = docs::machine();
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    if let Err(e) = e2e_proc::snapshot_shim(tmp.path()) {
        eprintln!("e2e: measuring rpctap in place (cannot copy it: {e})");
    }
    let mut setups = Setup::ALL.to_vec();
    if sizes.check {
        setups.push(Setup::RpctapCheck);
    }
    let skipped = runs::shim_unavailable();
    if let Some(why) = &skipped {
        eprintln!("e2e: skipping rpctap: {why}");
        setups.retain(|&s| !s.is_shim());
    }
    let started = std::time::Instant::now();
    let results = runs::run_all(&setups, sizes);
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let section = report::section(&results, sizes, skipped.as_deref(), &machine, minutes);
    println!("{section}");
    if !sizes.only.is_empty() || sizes.quick || sizes.check {
        eprintln!("e2e: a partial or quick run: docs/benchmarks.md left as it is");
    } else if let Some(path) = std::env::var_os("RPCTAP_BENCH_DOCS") {
        let path = Path::new(&path);
        docs::rewrite_section(path, "## End to end", &section)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote ## End to end to {}", path.display());
    }
    let problems = report::problems(&results);
    if !problems.is_empty() {
        return Err(format!(
            "{} run(s) failed or recorded something other than what crossed:\n  {}",
            problems.len(),
            problems.join("\n  ")
        ));
    }
    Ok(())
}
