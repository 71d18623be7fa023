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
    let live = crate::live::live_sessions();
    if list.is_empty() && live.is_empty() {
        eprintln!("no sessions in {}", crate::paths::sessions_dir().display());
    }
    let recorded_here =
        |l: &crate::live::LiveSession| list.iter().any(|r| Some(&r.path) == l.recording.as_ref());
    // Live shims that record elsewhere (or not at all) are listed first.
    for l in live.iter().filter(|l| !recorded_here(l)) {
        let place = l
            .recording
            .as_ref()
            .map_or("(not recorded)".into(), |p| p.display().to_string());
        writeln!(
            out,
            "live  {:<20} {}  {:>14}  {:<40} {place}",
            l.info.name,
            started(&l.info.started),
            "",
            l.info.command.join(" "),
        )?;
    }
    for l in list {
        let is_live = live.iter().any(|s| s.recording.as_ref() == Some(&l.path));
        writeln!(
            out,
            "{} {:<20} {}  {:>8} lines  {:<40} {}",
            if is_live { "live " } else { "ended" },
            l.info.name,
            started(&l.info.started),
            l.lines,
            l.info.command.join(" "),
            l.path.display()
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn started(rfc3339: &str) -> String {
    crate::record::Micros::parse(rfc3339)
        .map(|t| {
            t.datetime()
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}
