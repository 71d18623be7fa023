//! `rpctap stats FILE...`: per-method counts, errors and latency percentiles; pending and
//! cancelled requests — of one recording or several together. Without `--filter` each
//! file is streamed (memory does not grow with its size); a filter needs the loaded store.

use crate::cli::{ReportFormat, StatsArgs};
use crate::escape::terminal_str;
use crate::session::{load, Stats};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let filter = super::parse_filter(args.filter.as_deref())?;
    let mut stats = Stats::default();
    let (mut selected, mut rows) = (0, 0);
    // Conformance (errors, warnings), checked as the events go by unless --no-check.
    let mut conformance = (!args.no_check).then(crate::check::Counts::default);
    for (n, path) in args.files.iter().enumerate() {
        let mut checker = conformance.map(|_| crate::check::Checker::new());
        let mut count = |ev: &crate::record::Event| {
            if let (Some(c), Some(counts)) = (&mut checker, &mut conformance) {
                counts.add(c.event(ev));
            }
        };
        let one = if let Some(f) = &filter {
            let mut store = load(path)?;
            if f.needs_check() {
                store.check();
            }
            let only = f.select(&store);
            (selected, rows) = (selected + only.len(), rows + store.len());
            let mut one = Stats::compute(&store, Some(&only));
            let lists = [&mut one.pending, &mut one.cancelled, &mut one.unknown];
            for u in lists.into_iter().flatten() {
                u.file = n;
            }
            if !args.no_check {
                super::read_events(path)?
                    .flatten()
                    .for_each(|ev| count(&ev));
            }
            one
        } else {
            let events = super::read_events(path)?.inspect(|ev| {
                if let Ok(ev) = ev {
                    count(ev);
                }
            });
            Stats::stream(events, n)?
        };
        stats.merge(one);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.format == ReportFormat::Json {
        let mut doc = stats.to_json();
        if let Some(f) = &filter {
            doc["filter"] = serde_json::json!({"expr": f.text(), "rows": selected, "of": rows});
        }
        let files: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
        doc["files"] = files.into();
        if let Some(crate::check::Counts { errors, warnings }) = conformance {
            doc["conformance"] = serde_json::json!({"errors": errors, "warnings": warnings});
        }
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(f) = &filter {
        let text = terminal_str(f.text());
        writeln!(out, "filter {text:?}: {selected} of {rows} rows")?;
    }
    if args.files.len() > 1 {
        writeln!(out, "{} files", args.files.len())?;
    }
    write(&stats, args, &mut out)?;
    if let Some(crate::check::Counts { errors, warnings }) = conformance {
        writeln!(
            out,
            "conformance: {errors} error(s), {warnings} warning(s) (rpctap check for each)"
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write(stats: &Stats, args: &StatsArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let lat = |v: Option<i64>| v.map_or("-".to_owned(), crate::fmt::latency);
    writeln!(
        out,
        "{} messages, {} noise, {} stderr lines, {} invalid",
        stats.messages, stats.noise, stats.stderr, stats.invalid
    )?;
    let names: Vec<String> = stats
        .methods
        .keys()
        .map(|(_, m)| terminal_str(m).into_owned())
        .collect();
    let width = names
        .iter()
        .map(|m| m.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "  {:<width$}  {:>7} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "method", "count", "notif", "errors", "p50", "p90", "p99", "max"
    )?;
    for (((arrow, _), m), method) in stats.methods.iter().zip(&names) {
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
    let gaps = stats.gap_bytes;
    if gaps.iter().any(|&b| b > 0) {
        writeln!(
            out,
            "INCOMPLETE: {} bytes c2s, {} bytes s2c, {} bytes stderr were forwarded but not recorded (gap lines)",
            gaps[0], gaps[1], gaps[2]
        )?;
    }
    for (label, list) in [
        ("pending", &stats.pending),
        ("cancelled", &stats.cancelled),
        (
            "unanswered in the recording, answer possibly in a gap:",
            &stats.unknown,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        match label.strip_suffix(':') {
            Some(what) => writeln!(out, "{} request(s) {what}:", list.len())?,
            None => writeln!(out, "{} {label} request(s):", list.len())?,
        }
        for u in list {
            let id = terminal_str(u.id.as_deref().unwrap_or_default()).into_owned();
            let method = terminal_str(&u.method);
            write!(out, "  {} #{id} {method} (seq {})", u.dir.arrow(), u.seq)?;
            if args.files.len() > 1 {
                let file = args.files[u.file].display().to_string();
                write!(out, " in {}", terminal_str(&file))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
