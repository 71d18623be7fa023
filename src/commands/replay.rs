//! `rpctap replay FILE -- CMD`: replay a recording into a fresh server and report.

use crate::cli::{ReplayArgs, ReportFormat};
use crate::replay::{default_ignores, parse_path, replay, ReplayOptions, Report};
use crate::session::load;
use std::io::Write;
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
    let store = load(&args.file)?;
    ignore.extend(default_ignores(store.protocol));
    let opts = ReplayOptions {
        pace: args.pace,
        timeout: seconds("--timeout", args.timeout)?,
        record: args.record.clone(),
        grace: seconds("--grace", args.grace)?,
    };
    let (script, outcome) = replay(&store, &args.command, &opts)
        .map_err(|e| anyhow::anyhow!("cannot replay '{}': {e:#}", args.file.display()))?;
    let report = Report::build(&store, &script, &outcome, &ignore, None);
    let mut out = std::io::stdout().lock();
    match args.report {
        ReportFormat::Text => report.write_text(&mut out)?,
        ReportFormat::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&report.to_json())?)?
        }
    }
    out.flush()?;
    Ok(if args.check && !report.is_clean() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
