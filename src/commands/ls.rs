//! `rpctap ls`: the sessions of the state directory and the live shims, newest first (the
//! hub's list, printed; see `crate::catalog`).

use crate::catalog::Catalog;
use crate::cli::LsArgs;
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

pub fn run(_args: &LsArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut catalog = Catalog::from_env();
    let list = catalog.list();
    for why in &catalog.refused {
        eprintln!("rpctap: warning: {why}");
    }
    if list.is_empty() {
        eprintln!("no sessions in {}", catalog.sessions_dir.display());
    }
    for e in list {
        let (messages, errors) = e
            .summary
            .as_ref()
            .map_or((String::new(), String::new()), |s| {
                let mut errors = format!("{} errors", s.errors);
                if s.problems > 0 {
                    let _ = write!(errors, " {} violations", s.problems);
                }
                if s.gap_bytes > 0 {
                    let _ = write!(errors, " INCOMPLETE ({} bytes not recorded)", s.gap_bytes);
                }
                (format!("{} msgs", s.messages), errors)
            });
        let mut place = e
            .recording
            .as_ref()
            .map_or("(not recorded)".into(), |p| p.display().to_string());
        if let Some(why) = e.summary.as_ref().and_then(|s| s.failure.as_deref()) {
            place = format!("{place}  ({why})");
        }
        // "● live" reads as "live" in a pipe: the first word is what scripts look at.
        let state = e.state.text().trim_start_matches("● ").to_owned();
        // Names, commands and paths come from files: escaped for the terminal.
        let esc = |s: &str| crate::escape::terminal_str(s).into_owned();
        writeln!(
            out,
            "{state:<22} {:<20} {}  {messages:>12} {errors:>11}  {:<40} {}",
            esc(&e.info.name),
            crate::fmt::date_time(&e.info.started),
            esc(&e.info.command.join(" ")),
            esc(&place),
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
