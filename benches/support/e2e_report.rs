//! Turns the end-to-end results into the `## End to end` section of docs/benchmarks.md:
//! tables with ratios to the baselines, and each PRODUCT §10 target marked met or not.

use crate::runs::{Results, Setup, Sizes, Throughput, LARGE, SMALL};
use std::fmt::Write;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mb_s(t: &Throughput) -> f64 {
    t.bytes as f64 / t.secs / 1e6
}

fn msgs_s(t: &Throughput) -> f64 {
    t.msgs as f64 / t.secs
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "**met**"
    } else {
        "**not met**"
    }
}

/// What one run's recording kept.
fn recorded(t: &Throughput) -> String {
    match &t.recording {
        None => "–".into(),
        Some(r) if complete(t) => {
            format!(
                "all {} messages ({:.0} MB file)",
                r.expected,
                r.file_bytes as f64 / 1e6
            )
        }
        Some(r) => format!(
            "{} of {} messages, {} gaps ({:.1} MB not recorded)",
            r.messages,
            r.expected,
            r.gaps,
            r.lost_bytes as f64 / 1e6
        ),
    }
}

fn complete(t: &Throughput) -> bool {
    t.recording
        .as_ref()
        .is_none_or(|r| r.messages == r.expected && r.gaps == 0)
}

/// What the recordings of several runs kept: all of it, or the worst run.
fn recorded_runs(runs: &[Throughput]) -> String {
    let lossy: Vec<&Throughput> = runs.iter().filter(|t| !complete(t)).collect();
    let worst = lossy
        .iter()
        .min_by_key(|t| t.recording.as_ref().map_or(0, |r| r.messages));
    match (worst, runs.first()) {
        (Some(w), _) => format!(
            "{} of {} runs lost some; worst: {}",
            lossy.len(),
            runs.len(),
            recorded(w)
        ),
        (None, Some(t)) if t.recording.is_some() => format!("{}, every run", recorded(t)),
        _ => "–".into(),
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// The throughput table's rows for one message size; returns rpctap's ratio to the relay.
fn throughput_rows(
    out: &mut String,
    label: &str,
    runs: &[(Setup, Vec<Throughput>)],
) -> Option<f64> {
    let med = |s: Setup| {
        runs.iter()
            .find(|(x, _)| *x == s)
            .map(|(_, r)| median(r.iter().map(mb_s).collect()))
    };
    let relay = med(Setup::Relay);
    for (setup, r) in runs {
        let speeds: Vec<f64> = r.iter().map(mb_s).collect();
        let lo = speeds.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = speeds.iter().copied().fold(0.0, f64::max);
        let m = median(speeds);
        let ratio = relay.map_or("–".into(), |b| format!("{:.0} %", 100.0 * m / b));
        let kept = recorded_runs(r);
        let peak = mib(r.iter().filter_map(|t| t.peak_rss_kib).max());
        let _ = writeln!(
            out,
            "| {label} | {} | {m:.0} ({lo:.0}–{hi:.0}) | {:.0} | {ratio} | {peak} | {kept} |",
            setup.name(),
            median(r.iter().map(msgs_s).collect()),
        );
    }
    Some(med(Setup::Rpctap)? / relay?)
}

pub fn section(results: &Results, sizes: &Sizes, skipped: Option<&str>, machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "What is measured: the whole forwarding path, process to process, on one machine. A load \
generator (`benches/e2e.rs`) talks Content-Length JSON-RPC to an echo server that answers each \
request with a response of the same size and id. Three setups, interleaved in one run so that \
machine noise falls on all alike:

- **direct**: the echo server is the load generator's child;
- **relay** (the baseline): a plain byte relay in between, two threads copying stdin → child and \
child → stdout through 64 KiB buffers, no decoding;
- **rpctap --record**: `rpctap --record FILE -- server`, recording to a file in /tmp.

Throughput is pipelined (a writer thread sends N requests while a reader thread reads the N \
responses) and counts request bytes on the wire, headers included: the same bytes flow back. \
{small_n} messages of {SMALL} B bodies, {large_n} of 1 MiB bodies; {reps} runs per setup, median \
(range). \"vs relay\" is the setup's median over the relay's. Peak RSS is the VmHWM of the process \
the load generator spawned (for direct, the echo server itself). \"Recorded\" reads the recording \
back and counts the messages kept and the gaps (bytes forwarded but not recorded).
",
        small_n = sizes.small_n,
        large_n = sizes.large_n,
        reps = sizes.reps,
    );
    if let Some(why) = skipped {
        let _ = writeln!(out, "**rpctap was not measured**: {why}.\n");
    }
    let _ = writeln!(
        out,
        "| messages | setup | MB/s per direction | msgs/s | vs relay | peak RSS | recorded |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    let small = throughput_rows(&mut out, &format!("{SMALL} B"), &results.small);
    let large = throughput_rows(&mut out, &format!("{} MiB", LARGE >> 20), &results.large);

    let _ = writeln!(
        out,
        "\nLatency: ping-pong, one {SMALL} B request in flight, {} blocks of {} round trips per \
setup (each block a fresh process, after 500 unmeasured round trips), samples pooled; \
nearest-rank percentiles of the round-trip time. \"Added\" is over direct.\n",
        sizes.latency_blocks, sizes.latency_n
    );
    let _ = writeln!(
        out,
        "| setup | p50 µs | p90 µs | p99 µs | max µs | added p50 | added p99 |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let pct = |s: Setup| {
        results.latency.iter().find(|(x, _)| *x == s).map(|(_, v)| {
            let mut v = v.clone();
            v.sort_unstable();
            [50.0, 90.0, 99.0, 100.0].map(|p| percentile(&v, p) as f64 / 1000.0)
        })
    };
    let direct = pct(Setup::Direct);
    for (setup, _) in &results.latency {
        let Some(p) = pct(*setup) else { continue };
        let added = |i: usize| direct.map_or("–".into(), |d| format!("{:+.1} µs", p[i] - d[i]));
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {} |",
            setup.name(),
            p[0],
            p[1],
            p[2],
            p[3],
            added(0),
            added(2)
        );
    }
    let shim_latency = pct(Setup::Rpctap)
        .zip(direct)
        .map(|(r, d)| (r[0] - d[0], r[2] - d[2]));

    let _ = writeln!(
        out,
        "\nMemory: {} messages of {SMALL} B pipelined through the setup; peak RSS (VmHWM) of \
the forwarding process, read while it is still running after the last response.\n",
        sizes.rss_n
    );
    let _ = writeln!(out, "| setup | messages | seconds | peak RSS | recorded |");
    let _ = writeln!(out, "|---|---:|---:|---:|---|");
    for (setup, t) in &results.rss {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {} | {} |",
            setup.name(),
            t.msgs,
            t.secs,
            mib(t.peak_rss_kib),
            recorded(t)
        );
    }
    let shim_rss = results
        .rss
        .iter()
        .find(|(s, _)| *s == Setup::Rpctap)
        .and_then(|(_, t)| t.peak_rss_kib);

    let _ = writeln!(out, "\nTargets (PRODUCT §10), this run:\n");
    // A speed reached by dropping part of the recording is not "recording on": say so.
    let pct_of = |r: Option<f64>, min: f64, runs: &[(Setup, Vec<Throughput>)]| match r {
        Some(r) => {
            let shim = runs.iter().find(|(s, _)| *s == Setup::Rpctap);
            let lossy = shim.map_or(0, |(_, v)| v.iter().filter(|t| !complete(t)).count());
            let note = match lossy {
                0 => String::new(),
                n => format!(
                    " (and the recording lost messages in {n} of {} runs: the recorder did not keep up)",
                    shim.map_or(0, |(_, v)| v.len())
                ),
            };
            format!(
                "{:.0} % — {}{note}",
                r * 100.0,
                verdict(r >= min && lossy == 0)
            )
        }
        None => "not measured".into(),
    };
    let _ = writeln!(
        out,
        "- throughput, 1 MiB messages, ≥ 90 % of the relay: {}",
        pct_of(large, 0.9, &results.large)
    );
    let _ = writeln!(
        out,
        "- throughput, 200 B messages, ≥ 80 % of the relay: {}",
        pct_of(small, 0.8, &results.small)
    );
    match shim_latency {
        Some((p50, p99)) => {
            let _ = writeln!(
                out,
                "- added latency p50 ≤ 30 µs: {p50:+.1} µs — {}",
                verdict(p50 <= 30.0)
            );
            let _ = writeln!(
                out,
                "- added latency p99 ≤ 200 µs: {p99:+.1} µs — {}",
                verdict(p99 <= 200.0)
            );
        }
        None => {
            let _ = writeln!(out, "- added latency: not measured");
        }
    }
    match shim_rss {
        Some(k) => {
            let ok = k as f64 <= 20.0 * 1000.0 * 1000.0 / 1024.0;
            let _ = writeln!(
                out,
                "- shim peak RSS ≤ 20 MB over {} messages: {} — {}",
                sizes.rss_n,
                mib(Some(k)),
                verdict(ok)
            );
        }
        None => {
            let _ = writeln!(out, "- shim peak RSS: not measured");
        }
    }
    let _ = writeln!(
        out,
        "\nReproduce: `scripts/bench-e2e.sh` (runs `cargo bench --bench e2e` in release mode and \
rewrites this section; `scripts/bench-e2e.sh --quick` for a short check of the harness).

Machine: {machine}. The load generator, the forwarding process and the echo server share its \
cores, as an editor, rpctap and a language server do."
    );
    out
}
