//! `rpctap replay FILE -- CMD`: replay a recording into a fresh server and report.

use crate::cli::{ReplayArgs, ReportFormat};
use crate::replay::{default_ignores, parse_path, replay, ReplayOptions, Report};
use crate::session::load;
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let seconds = |name: &str, v: f64| -> anyhow::Result<Duration> {
        if v.is_finite() && v >= 0.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            anyhow::bail!("{name} must be a number of seconds, not {v}")
        }
    };
    let mut ignore = Vec::new();
    for p in &args.ignore {
        ignore.push(parse_path(p).map_err(|e| anyhow::anyhow!("bad --ignore: {e}"))?);
    }
    let only = match &args.only {
        Some(text) => Some(
            crate::filter::Filter::parse(text)
                .map_err(|e| anyhow::anyhow!("bad --only filter: {e}"))?,
        ),
        None => None,
    };
    let store = load(&args.file)?;
    ignore.extend(default_ignores(store.protocol));
    // --tui follows the replayed session's recording: a temporary one unless --record.
    let scratch = match (&args.record, args.tui) {
        (None, true) => Some(tempfile::tempdir()?),
        _ => None,
    };
    if args.tui && !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        anyhow::bail!("--tui needs a terminal");
    }
    let vars = crate::files::Vars {
        name: "replay",
        pid: std::process::id(),
        time: crate::record::Micros::now(),
    };
    let record = match (&scratch, &args.record) {
        (Some(dir), _) => Some(crate::files::create_near(&dir.path().join("replay.jsonl"))?),
        (None, Some(path)) => Some(crate::files::create_recording(Some(path), &vars)?),
        (None, None) => None,
    };
    if let Some(notice) = record.as_ref().and_then(crate::files::Created::notice) {
        eprintln!("rpctap: {notice}");
    }
    let record_path = record.as_ref().map(|c| c.path.clone());
    let opts = ReplayOptions {
        pace: args.pace,
        timeout: seconds("--timeout", args.timeout)?,
        record,
        grace: seconds("--grace", args.grace)?,
        quiet: args.tui,
    };
    let replayed = std::thread::scope(|scope| {
        let run = scope.spawn(|| replay(&store, &args.command, &opts));
        let viewed = match (&record_path, args.tui) {
            (Some(path), true) => crate::tui::run_file(path, true),
            _ => Ok(()),
        };
        let replayed = run
            .join()
            .map_err(|_| anyhow::anyhow!("the replay panicked"));
        viewed.map(|()| replayed)
    })??;
    let (script, outcome) =
        replayed.with_context(|| format!("cannot replay '{}'", args.file.display()))?;
    let only = only.map(|f| move |s: &crate::session::Store, i: usize| f.matches(s, i));
    let only_ref = only.as_ref().map(|f| f as &crate::replay::RowFilter);
    let report = Report::build(&store, &script, &outcome, &ignore, only_ref);
    let mut out = std::io::stdout().lock();
    match args.report {
        ReportFormat::Text => report.write_text(&mut out)?,
        ReportFormat::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&report.to_json())?)?;
        }
    }
    out.flush()?;
    Ok(if args.check && !report.is_clean() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
