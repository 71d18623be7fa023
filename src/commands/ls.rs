//! `rpctap ls`: the recorded sessions in the state directory, newest first.

use crate::cli::LsArgs;
use crate::record::{read_file, Event};
use std::io::Write;
use std::process::ExitCode;

/// What `ls` shows about one recording.
pub struct Listed {
    pub path: std::path::PathBuf,
    pub info: crate::record::SessionInfo,
    /// Lines after the header: messages, noise and stderr, plus lifecycle lines.
    pub lines: usize,
}

/// The recordings in the sessions directory, newest first. Unreadable files are skipped.
pub fn recordings() -> Vec<Listed> {
    let Ok(dir) = std::fs::read_dir(crate::paths::sessions_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<Listed> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|path| {
            let Some(Ok(Event::Session(info))) = read_file(&path).ok()?.next() else {
                return None;
            };
            let data = std::fs::read(&path).ok()?;
            let lines = memchr::memchr_iter(b'\n', &data).count().saturating_sub(1);
            Some(Listed { path, info, lines })
        })
        .collect();
    out.sort_by(|a, b| b.info.started.cmp(&a.info.started));
    out
}

pub fn run(_args: &LsArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let list = recordings();
    if list.is_empty() {
        eprintln!(
            "no sessions recorded in {}",
            crate::paths::sessions_dir().display()
        );
    }
    for l in list {
        let started = crate::record::Micros::parse(&l.info.started)
            .map(|t| {
                t.datetime()
                    .with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        writeln!(
            out,
            "{:<20} {started}  {:>8} lines  {:<40} {}",
            l.info.name,
            l.lines,
            l.info.command.join(" "),
            l.path.display()
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
