//! `rpctap diff A B`: compares two sessions (`replay::compare`) and prints what changed,
//! as text or JSON; `--check` exits 1 on any difference (for CI).

use crate::cli::ReportFormat;
use crate::fmt::printable;
use crate::replay::{
    compare, default_param_ignores, describe, parse_path, response_ignores, Change, Comparison,
    JsonPath, LatencyChange,
};
use crate::session::{load, Store};
use clap::Args;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The session compared against (before).
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// The session compared (after).
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Exit 1 if anything was added, removed or changed.
    #[arg(long)]
    pub check: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// A JSON path ignored in responses (e.g. `.result.serverInfo`). Repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
    /// A JSON path ignored in request params when matching requests. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore_params: Vec<String>,
}

fn paths(texts: &[String], flag: &str) -> anyhow::Result<Vec<JsonPath>> {
    texts
        .iter()
        .map(|t| parse_path(t).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
        .collect()
}

/// Loads both sessions and compares them with the options' normalisation.
pub fn load_and_compare(args: &DiffArgs) -> anyhow::Result<(Store, Store, Comparison)> {
    let ignore = paths(&args.ignore, "--ignore")?;
    let mut params_ignore = default_param_ignores();
    params_ignore.extend(paths(&args.ignore_params, "--ignore-params")?);
    let a = load(&args.a)?;
    let b = load(&args.b)?;
    let response_ignore = response_ignores(&a, &ignore);
    let c = compare(&a, &b, &params_ignore, &response_ignore);
    Ok((a, b, c))
}

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let (a, b, c) = load_and_compare(args)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Text => write_text(&mut out, &a, &b, &c)?,
        ReportFormat::Json => writeln!(out, "{}", to_json(&a, &b, &c))?,
    }
    out.flush()?;
    Ok(if args.check && !c.is_clean() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn p50(v: &[i64]) -> String {
    LatencyChange::p50(v).map_or("-".into(), crate::fmt::latency)
}

pub fn write_text(
    out: &mut impl Write,
    a: &Store,
    b: &Store,
    c: &Comparison,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} requests matched: {} answered alike, {} changed; {} added, {} removed",
        c.matched,
        c.same,
        c.count(|x| matches!(x, Change::Changed(..))),
        c.count(|x| matches!(x, Change::Added(_))),
        c.count(|x| matches!(x, Change::Removed(_))),
    )?;
    for change in &c.changes {
        match change {
            Change::Added(rb) => writeln!(out, "\nadded: {} (only in B)", describe(b, *rb))?,
            Change::Removed(ra) => writeln!(out, "\nremoved: {} (only in A)", describe(a, *ra))?,
            Change::Changed(ra, rb, lines) => {
                writeln!(
                    out,
                    "\nchanged: {} → {}",
                    describe(a, *ra),
                    describe(b, *rb)
                )?;
                for l in lines {
                    writeln!(out, "    {}", printable(l))?;
                }
            }
        }
    }
    if !c.latency.is_empty() {
        writeln!(out, "\nlatency p50 (A → B):")?;
        for (method, l) in &c.latency {
            let method = printable(method);
            writeln!(out, "    {method:<40} {:>9} → {:<9}", p50(&l.a), p50(&l.b))?;
        }
    }
    Ok(())
}

pub fn to_json(a: &Store, b: &Store, c: &Comparison) -> Value {
    let entry = |s: &Store, row: usize| json!({"seq": s.row(row).seq, "method": s.method(row), "id": s.id(row).map(|i| i.to_string())});
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    for change in &c.changes {
        match change {
            Change::Added(rb) => added.push(entry(b, *rb)),
            Change::Removed(ra) => removed.push(entry(a, *ra)),
            Change::Changed(ra, rb, lines) => {
                changed.push(json!({"a": entry(a, *ra), "b": entry(b, *rb), "diff": lines}));
            }
        }
    }
    let latency: serde_json::Map<String, Value> = c
        .latency
        .iter()
        .map(|(m, l)| {
            (
                m.clone(),
                json!({"a_p50": LatencyChange::p50(&l.a), "b_p50": LatencyChange::p50(&l.b), "a_count": l.a.len(), "b_count": l.b.len()}),
            )
        })
        .collect();
    json!({
        "matched": c.matched,
        "same": c.same,
        "changed": changed,
        "added": added,
        "removed": removed,
        "latency_us": latency,
        "clean": c.is_clean(),
    })
}
