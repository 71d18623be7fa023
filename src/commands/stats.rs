//! `rpctap stats`: per-method counts, errors and latency percentiles; pending and
//! cancelled requests.

use crate::cli::{ReportFormat, StatsArgs};
use crate::session::{load, Stats};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let filter = super::parse_filter(args.filter.as_deref())?;
    let mut store = load(&args.file)?;
    if !args.no_check
        || filter
            .as_ref()
            .is_some_and(crate::filter::Filter::needs_check)
    {
        store.check();
    }
    let rows = filter.as_ref().map(|f| f.select(&store));
    let stats = Stats::compute(&store, rows.as_deref());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.format == ReportFormat::Json {
        let mut doc = stats.to_json(&store);
        if let (Some(f), Some(rows)) = (&filter, &rows) {
            doc["filter"] =
                serde_json::json!({"expr": f.text(), "rows": rows.len(), "of": store.len()});
        }
        if store.problems.enabled() {
            doc["conformance"] = serde_json::json!({
                "errors": store.problems.errors,
                "warnings": store.problems.warnings,
            });
        }
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let (Some(f), Some(rows)) = (&filter, &rows) {
        writeln!(
            out,
            "filter {:?}: {} of {} rows",
            f.text(),
            rows.len(),
            store.len()
        )?;
    }
    let lat = |v: Option<i64>| v.map_or("-".to_owned(), crate::fmt::latency);
    writeln!(
        out,
        "{} messages, {} noise, {} stderr lines, {} invalid",
        stats.messages, stats.noise, stats.stderr, stats.invalid
    )?;
    let width = stats
        .methods
        .keys()
        .map(|(_, m)| m.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "  {:<width$}  {:>7} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "method", "count", "notif", "errors", "p50", "p90", "p99", "max"
    )?;
    for ((arrow, method), m) in &stats.methods {
        writeln!(
            out,
            "{arrow} {method:<width$}  {:>7} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8}",
            m.requests,
            m.notifications,
            m.errors,
            lat(m.quantile(0.5)),
            lat(m.quantile(0.9)),
            lat(m.quantile(0.99)),
            lat(m.latencies.last().copied()),
        )?;
    }
    if store.problems.enabled() {
        writeln!(
            out,
            "conformance: {} error(s), {} warning(s) (rpctap check for each)",
            store.problems.errors, store.problems.warnings
        )?;
    }
    let gaps = stats.gap_bytes;
    if gaps.iter().any(|&b| b > 0) {
        writeln!(
            out,
            "INCOMPLETE: {} bytes c2s, {} bytes s2c, {} bytes stderr were forwarded but not recorded (gap lines)",
            gaps[0], gaps[1], gaps[2]
        )?;
    }
    for (label, rows) in [
        ("pending", &stats.pending),
        ("cancelled", &stats.cancelled),
        (
            "unanswered in the recording, answer possibly in a gap:",
            &stats.unknown,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        match label.strip_suffix(':') {
            Some(what) => writeln!(out, "{} request(s) {what}:", rows.len())?,
            None => writeln!(out, "{} {label} request(s):", rows.len())?,
        }
        for &i in rows {
            let row = store.row(i);
            let id = store.id(i).map(|id| id.to_string()).unwrap_or_default();
            writeln!(
                out,
                "  {} #{id} {} (seq {})",
                row.dir.arrow(),
                store.method(i).unwrap_or("?"),
                row.seq
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
