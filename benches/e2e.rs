//! End-to-end benchmark of the shim (PRODUCT §10): a load generator drives an echo server
//! through three setups in one run, so that machine noise falls on all of them alike:
//!
//! - direct: the server is the load generator's child;
//! - relay: a plain two-thread byte relay with 64 KiB buffers in between (the baseline);
//! - rpctap: `rpctap --record FILE -- server`, recording on.
//!
//! It measures pipelined throughput (200 B and 1 MiB messages), ping-pong latency, and the
//! shim's peak resident memory over a million messages. The same executable is the echo
//! server (`e2e __echo`) and the relay (`e2e __relay CMD...`).
//!
//! Run: `scripts/bench-e2e.sh` (rewrites `## End to end` in docs/benchmarks.md), or
//! `cargo bench --bench e2e [-- --quick]`. Without `--bench` (as under `cargo test
//! --benches`) it only checks that the harness works, with a few messages.
//! `RPCTAP_BENCH_SHIM=/path/to/rpctap` measures that build instead of this one (to compare
//! two builds, or to profile one whose symbols stay on disk).

#[path = "support/docs.rs"]
mod docs;
#[path = "support/peers.rs"]
mod peers;
#[path = "support/e2e_report.rs"]
mod report;
#[path = "support/e2e_runs.rs"]
mod runs;

use runs::{Setup, Sizes};
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.get(1).and_then(|a| a.to_str()) {
        Some("__echo") => {
            return match peers::echo_server() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("echo server: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("__relay") => {
            return match peers::relay(&args[2..]) {
                Ok(code) => ExitCode::from(code as u8),
                Err(e) => {
                    eprintln!("relay: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {}
    }
    let flag = |f: &str| args.iter().any(|a| a == f);
    let result = if flag("--bench") {
        let sizes = if flag("--quick") {
            Sizes::quick()
        } else {
            Sizes::full()
        };
        bench(&sizes)
    } else {
        smoke()
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("e2e: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Under `cargo test --benches`: the harness works for each available setup, no timing.
fn smoke() -> Result<(), String> {
    for setup in Setup::ALL {
        if setup.is_shim() && runs::shim_unavailable().is_some() {
            continue;
        }
        runs::throughput(setup, 200, 100).map_err(|e| format!("{}: {e}", setup.name()))?;
        runs::latency(setup, 100).map_err(|e| format!("{}: {e}", setup.name()))?;
    }
    eprintln!("e2e harness: ok (run `cargo bench --bench e2e` to measure)");
    Ok(())
}

fn bench(sizes: &Sizes) -> Result<(), String> {
    let machine = docs::machine();
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    if let Err(e) = runs::snapshot_shim(tmp.path()) {
        eprintln!("e2e: measuring rpctap in place (cannot copy it: {e})");
    }
    let mut setups = Setup::ALL.to_vec();
    let skipped = runs::shim_unavailable();
    if let Some(why) = &skipped {
        eprintln!("e2e: skipping rpctap: {why}");
        setups.retain(|&s| !s.is_shim());
    }
    let results = runs::run_all(&setups, sizes)?;
    let section = report::section(&results, sizes, skipped.as_deref(), &machine);
    println!("{section}");
    if let Some(path) = std::env::var_os("RPCTAP_BENCH_DOCS") {
        let path = Path::new(&path);
        docs::rewrite_section(path, "## End to end", &section)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote ## End to end to {}", path.display());
    }
    Ok(())
}
