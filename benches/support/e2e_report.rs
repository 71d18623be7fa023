//! Turns the end-to-end results into the `## End to end` section of docs/benchmarks.md:
//! one table per workload with ratios to the relay of the same run, what each recording
//! kept, the latency table, and each target of PRODUCT §10 / issue 11 marked met or not.

use crate::e2e_proc::Setup;
use crate::peers::Framing;
use crate::runs::{Results, Run, Series, Shape, Sizes, Workload, MIB, SMALL};
use std::fmt::Write;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    // A float's `as` saturates; the clamp below makes it a valid rank.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "**met**"
    } else {
        "**not met**"
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The memory a shim may use for a workload: 32 MiB plus twice its largest message.
pub fn rss_bound_kib(w: &Workload) -> u64 {
    (32 * MIB as u64 + 2 * w.len as u64) / 1024
}

fn find<'a>(r: &'a Results, w: &Workload, f: Framing, s: Setup) -> Option<&'a Series> {
    r.series
        .iter()
        .find(|x| x.workload == *w && x.framing == f && x.setup == s)
}

fn speed(s: &Series) -> Option<f64> {
    (!s.runs.is_empty()).then(|| median(s.runs.iter().map(Run::mb_s).collect()))
}

/// Median CPU time of the spawned process per message each way, in µs.
fn cpu_per_msg(s: &Series) -> Option<f64> {
    let v: Vec<f64> = s
        .runs
        .iter()
        .filter_map(|r| r.exited.cpu_ns.map(|ns| ns as f64 / 1000.0 / r.msgs as f64))
        .collect();
    (!v.is_empty()).then(|| median(v))
}

fn peak_kib(s: &Series) -> Option<u64> {
    s.runs.iter().filter_map(|r| r.exited.peak_rss_kib).max()
}

/// Every run finished and every recording held what crossed.
fn lossless(s: &Series) -> bool {
    s.failures.is_empty() && !s.runs.is_empty() && s.runs.iter().all(Run::complete)
}

/// What the recordings of a series kept: all of it, or what differed.
fn recorded(s: &Series) -> String {
    if !s.setup.is_shim() {
        return "–".into();
    }
    let bad: Vec<&Run> = s.runs.iter().filter(|r| !r.complete()).collect();
    let mut out = String::new();
    if let Some(worst) = bad.first().and_then(|r| r.recording.as_ref()) {
        let _ = write!(
            out,
            "**MISMATCH** in {} of {} runs: {}",
            bad.len(),
            s.runs.len(),
            worst.summary()
        );
    } else if let Some(c) = s.runs.first().and_then(|r| r.recording.as_ref()) {
        let _ = write!(
            out,
            "all {} + {} messages, 0 gaps, `cat --wire` = wire both ways, {:.0} MB on disk; every run",
            c.c2s_msgs,
            c.s2c_msgs,
            c.disk_bytes as f64 / 1e6
        );
    }
    if let Some(e) = s.failures.first() {
        let _ = write!(
            out,
            "{}**FAILED** {} run(s): {e}",
            if out.is_empty() { "" } else { "; " },
            s.failures.len()
        );
    }
    out
}

fn workload_table(out: &mut String, r: &Results, w: &Workload) {
    let per = match w.shape {
        Shape::Concurrent => "message each way",
        _ => "round trip",
    };
    let _ = writeln!(out, "### {}\n", w.label());
    let _ = writeln!(
        out,
        "| framing | setup | MB/s per direction | msgs/s | vs relay | CPU µs per {per} | CPU vs relay | exit after EOF | peak RSS (bound) | recorded |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for f in Framing::ALL {
        let relay = find(r, w, f, Setup::Relay);
        for s in r
            .series
            .iter()
            .filter(|s| s.workload == *w && s.framing == f)
        {
            let speeds: Vec<f64> = s.runs.iter().map(Run::mb_s).collect();
            let (lo, hi) = speeds
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
            let rate = match speed(s) {
                Some(m) if s.runs.len() > 1 => format!("{m:.0} ({lo:.0}–{hi:.0})"),
                Some(m) => format!("{m:.0}"),
                None => "–".into(),
            };
            let msgs = median(s.runs.iter().map(|x| x.msgs as f64 / x.secs).collect());
            let ratio = match (speed(s), relay.and_then(speed)) {
                (Some(a), Some(b)) => format!("{:.2}×", a / b),
                _ => "–".into(),
            };
            let cpu = cpu_per_msg(s);
            let cpu_ratio = match (cpu, relay.and_then(cpu_per_msg)) {
                (Some(c), Some(b)) if b > 0.0 => format!("{:.1}×", c / b),
                _ => "–".into(),
            };
            let exit = median(s.runs.iter().map(|x| x.exited.exit_secs).collect());
            let peak = match (peak_kib(s), s.setup.is_shim()) {
                (Some(k), true) => {
                    let b = rss_bound_kib(w);
                    let mark = if k <= b { "" } else { " **over**" };
                    format!("{} ({}){mark}", mib(k), mib(b))
                }
                (Some(k), false) => mib(k),
                (None, _) => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {rate} | {msgs:.0} | {ratio} | {} | {cpu_ratio} | {exit:.2} s | {peak} | {} |",
                f.name(),
                s.setup.name(),
                cpu.map_or("–".into(), |c| format!("{c:.2}")),
                recorded(s),
            );
        }
    }
    let _ = writeln!(out);
}

/// Every failed run and every recording that did not hold what crossed, one line each.
pub fn problems(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    for s in &r.series {
        let what = s.what();
        out.extend(s.failures.iter().map(|e| format!("{what}: {e}")));
        for run in &s.runs {
            if let Some(c) = run.recording.as_ref().filter(|c| !c.complete()) {
                out.push(format!("{what}: recording: {}", c.mismatch()));
            }
        }
    }
    out.extend(r.latency_failures.iter().cloned());
    out
}

/// The latency table; returns, per framing, rpctap's p50 and p99 minus the relay's and
/// minus direct's.
fn latency_table(out: &mut String, r: &Results, sizes: &Sizes) -> Vec<(Framing, [f64; 4])> {
    let _ = writeln!(
        out,
        "### Ping-pong latency\n\nOne {SMALL} B request in flight, {} block(s) of {} round trips per \
setup and framing (each block a fresh process, after 500 unmeasured round trips), samples \
pooled; nearest-rank percentiles of the round-trip time.\n",
        sizes.latency_blocks, sizes.latency_n
    );
    let _ = writeln!(
        out,
        "| framing | setup | p50 µs | p90 µs | p99 µs | max µs | p50 vs relay | p99 vs relay | p50 vs direct | p99 vs direct |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let pct = |f: Framing, s: Setup| {
        r.latency
            .iter()
            .find(|(x, y, v)| *x == f && *y == s && !v.is_empty())
            .map(|(_, _, v)| {
                let mut v = v.clone();
                v.sort_unstable();
                [50.0, 90.0, 99.0, 100.0].map(|p| percentile(&v, p) as f64 / 1000.0)
            })
    };
    let mut shim = Vec::new();
    for (f, s, _) in &r.latency {
        let Some(p) = pct(*f, *s) else { continue };
        let vs = |base: Option<[f64; 4]>, i: usize| {
            base.map_or("–".into(), |b| format!("{:+.1} µs", p[i] - b[i]))
        };
        let (relay, direct) = (pct(*f, Setup::Relay), pct(*f, Setup::Direct));
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {} | {} | {} |",
            f.name(),
            s.name(),
            p[0],
            p[1],
            p[2],
            p[3],
            vs(relay, 0),
            vs(relay, 2),
            vs(direct, 0),
            vs(direct, 2)
        );
        if *s == Setup::Rpctap {
            if let (Some(b), Some(d)) = (relay, direct) {
                shim.push((*f, [p[0] - b[0], p[2] - b[2], p[0] - d[0], p[2] - d[2]]));
            }
        }
    }
    let _ = writeln!(out);
    shim
}

/// The throughput target for one workload and framing: rpctap's ratio to the relay, with
/// the stalled viewer's beside it; met only if every recording of it held what crossed.
fn throughput_target(r: &Results, w: &Workload, f: Framing, min: f64) -> (String, bool) {
    let relay = find(r, w, f, Setup::Relay).and_then(speed);
    let ratio = |s: Setup| Some(find(r, w, f, s).and_then(speed)? / relay?);
    let Some(plain) = ratio(Setup::Rpctap) else {
        return (format!("{}: not measured", f.name()), false);
    };
    let whole = [Setup::Rpctap, Setup::RpctapStalled, Setup::RpctapCheck]
        .iter()
        .filter_map(|&s| find(r, w, f, s))
        .all(lossless);
    let stalled = ratio(Setup::RpctapStalled).map_or(String::new(), |x| {
        format!(", {x:.2}× with a stalled viewer")
    });
    let checked = ratio(Setup::RpctapCheck).map_or(String::new(), |x| {
        format!(", {x:.2}× with --check ({:.2}× rpctap --record)", x / plain)
    });
    let stalled = stalled + &checked + &per_round(r, w, f);
    let lost = if whole {
        ""
    } else {
        " (and a recording did not hold what crossed)"
    };
    let ok = plain >= min && whole;
    (
        format!("{} {plain:.2}×{stalled} — {}{lost}", f.name(), verdict(ok)),
        ok,
    )
}

/// rpctap --record over the relay round by round (each round runs every setup back to
/// back, so the two share the machine's state of the moment), and the median of those.
fn per_round(r: &Results, w: &Workload, f: Framing) -> String {
    let (Some(relay), Some(shim)) = (find(r, w, f, Setup::Relay), find(r, w, f, Setup::Rpctap))
    else {
        return String::new();
    };
    let ratios: Vec<f64> = relay
        .runs
        .iter()
        .zip(&shim.runs)
        .map(|(a, b)| b.mb_s() / a.mb_s())
        .collect();
    if ratios.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = ratios.iter().map(|x| format!("{x:.2}")).collect();
    format!(
        "; per round {}×, median {:.2}×",
        each.join(" / "),
        median(ratios)
    )
}

// A list of steps, one per figure: splitting it would only scatter the list.
#[allow(clippy::too_many_lines)]
fn targets(out: &mut String, r: &Results, lat: &[(Framing, [f64; 4])]) {
    let _ = writeln!(out, "### Targets (PRODUCT §10, issue 11), this run\n");
    let shim_series: Vec<&Series> = r.series.iter().filter(|s| s.setup.is_shim()).collect();
    let bad: Vec<String> = shim_series
        .iter()
        .filter(|s| !lossless(s))
        .map(|s| {
            format!(
                "{}, {}, {}",
                s.workload.label(),
                s.framing.name(),
                s.setup.name()
            )
        })
        .collect();
    let measured = !shim_series.is_empty();
    let _ = writeln!(
        out,
        "- every recording holds what crossed (all messages both ways, 0 gaps, `cat --wire` = wire), \
every workload, both framings, with and without a stalled viewer: {}{}",
        if measured { verdict(bad.is_empty()) } else { "not measured" },
        if bad.is_empty() { String::new() } else { format!(" — not in: {}", bad.join("; ")) }
    );
    let workloads: Vec<Workload> =
        r.series
            .iter()
            .map(|s| s.workload)
            .fold(Vec::new(), |mut v, w| {
                if !v.contains(&w) {
                    v.push(w);
                }
                v
            });
    let pick = |len: usize| {
        workloads
            .iter()
            .find(|w| w.shape == Shape::Pipelined && w.len == len)
    };
    for (len, min, name) in [(MIB, 0.9, "1 MiB"), (SMALL, 0.8, "200 B")] {
        let Some(w) = pick(len) else { continue };
        let lines: Vec<(String, bool)> = Framing::ALL
            .iter()
            .map(|&f| throughput_target(r, w, f, min))
            .collect();
        let _ = writeln!(
            out,
            "- throughput with recording, {name} pipelined, ≥ {min:.2}× the relay: {}",
            lines
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        if len == MIB {
            let stretch: Vec<String> = Framing::ALL
                .iter()
                .map(|&f| {
                    let (s, _) = throughput_target(r, w, f, 1.0);
                    s
                })
                .collect();
            let _ = writeln!(
                out,
                "- stretch, 1 MiB ≥ 1.00× the relay: {}",
                stretch.join("; ")
            );
        }
    }
    for (f, [p50, p99, d50, d99]) in lat {
        let _ = writeln!(
            out,
            "- ping-pong, {}: p50 within 30 µs of the relay: {p50:+.1} µs — {}; p99 within 200 µs: \
{p99:+.1} µs — {} (over direct: p50 {d50:+.1} µs, p99 {d99:+.1} µs)",
            f.name(),
            verdict(*p50 <= 30.0),
            verdict(*p99 <= 200.0)
        );
    }
    let over: Vec<String> = shim_series
        .iter()
        .filter_map(|s| {
            let k = peak_kib(s)?;
            (k > rss_bound_kib(&s.workload)).then(|| {
                format!(
                    "{}, {}, {}: {}",
                    s.workload.label(),
                    s.framing.name(),
                    s.setup.name(),
                    mib(k)
                )
            })
        })
        .collect();
    if measured {
        let _ = writeln!(
            out,
            "- shim peak RSS ≤ 32 MiB + 2 × the largest message, every workload: {}{}",
            verdict(over.is_empty()),
            if over.is_empty() {
                String::new()
            } else {
                format!(" — over in: {}", over.join("; "))
            }
        );
    }
    if let Some(w) = pick(SMALL) {
        let peaks: Vec<u64> = shim_series
            .iter()
            .filter(|s| s.workload == *w)
            .filter_map(|s| peak_kib(s))
            .collect();
        if let Some(&k) = peaks.iter().max() {
            let ok = k as f64 <= 20e6 / 1024.0;
            let _ = writeln!(
                out,
                "- shim resident memory ≤ 20 MB in steady state ({}): {} — {}",
                w.label(),
                mib(k),
                verdict(ok)
            );
        }
    }
    let _ = writeln!(out);
}

pub fn section(
    results: &Results,
    sizes: &Sizes,
    skipped: Option<&str>,
    machine: &str,
    minutes: f64,
) -> String {
    let mut out = String::new();
    let reps: Vec<String> = sizes
        .workloads
        .iter()
        .map(|w| format!("{}: {}", w.label(), w.reps))
        .collect();
    let _ = writeln!(
        out,
        "What is measured: the whole forwarding path, process to process, on one machine. A load \
generator (`benches/e2e.rs`) talks JSON-RPC to an echo server that answers each request with a \
response of the same size and id, in both framings: Content-Length (LSP, DAP) and \
newline-delimited JSON (MCP stdio). Bodies are JSON strings of source-code text with the escapes \
a `didOpen` carries (escaped newlines, tabs, quotes and backslashes: one escape every 9 bytes). Four setups, interleaved in one run so that \
machine noise falls on all alike:

- **direct**: the echo server is the load generator's child;
- **relay** (the baseline): a plain byte relay in between, two threads copying stdin → child and \
child → stdout through 64 KiB buffers, no decoding;
- **rpctap --record**: `rpctap --record FILE -- server`, recording to a file in /tmp;
- **rpctap --record, stalled viewer**: the same with a live viewer connected that never reads.

Workloads (issue 11): *pipelined*, a writer thread sends N requests while a reader thread reads \
the N responses; *each way at once*, the client sends N notifications while the server sends N \
of its own; *lock-step*, one request in flight. MB/s counts one direction's bytes on the wire, \
framing included, from the first message to the last one received (the same bytes flow the \
other way). \"vs relay\" is the setup's median over the relay's, same workload and framing; the \
throughput targets judge by it, and also give rpctap --record over the relay round by round (a \
round runs every setup back to back) with the median of those. CPU \
is the time all threads of the spawned process used over its whole life (utime + stime from \
/proc, read from the exited process before it is reaped, in 10 ms ticks; or the nanosecond \
sum of its threads' schedstat after the last message, when larger), per round trip; for direct it is the \
echo server's own. \"Exit after EOF\" is the time from closing the setup's stdin to its exit: \
what the recorder still had to write. Peak RSS is the VmHWM of the spawned process, last read \
before it exited; the bound is 32 MiB + 2 × the largest message. \"Recorded\" reads every \
recording back: messages per direction with the project's reader, gaps and noise lines, and \
`rpctap cat --wire c2s` / `--wire s2c` fingerprinted against the bytes the load generator \
wrote and read (a run that differs is reported as a MISMATCH). Runs per setup and framing \
(median, range): {}.
",
        reps.join("; ")
    );
    if let Some(why) = skipped {
        let _ = writeln!(out, "**rpctap was not measured**: {why}.\n");
    }
    for w in &sizes.workloads {
        if results.series.iter().any(|s| s.workload == *w) {
            workload_table(&mut out, results, w);
        }
    }
    let lat = if results.latency.is_empty() {
        Vec::new()
    } else {
        latency_table(&mut out, results, sizes)
    };
    targets(&mut out, results, &lat);
    let _ = writeln!(
        out,
        "Reproduce: `scripts/bench-e2e.sh` (runs `cargo bench --bench e2e` in release mode and \
rewrites this section, about {minutes:.0} minutes here; `scripts/bench-e2e.sh --quick` for a \
short check of the harness).

Machine: {machine}. The load generator, the forwarding process and the echo server share its \
cores, as an editor, rpctap and a language server do."
    );
    out
}
