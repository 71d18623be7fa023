//! Shared by the benchmark executables: rewrites one `## ` section of
//! `docs/benchmarks.md` in place, leaving the other sections (written by other benchmarks)
//! as they are, and describes the machine a run happened on.

use std::path::Path;

/// Title written when the file does not exist yet.
const TITLE: &str = "# Benchmarks\n\nFigures from rpctap's own benchmarks (PRODUCT §10). Every section says what it \
measures, against which baseline, on which machine, and how to reproduce it. Absolute numbers depend on the \
machine; the ratios to the baseline measured in the same run are the figures to compare.\n";

/// "2 cores, AMD EPYC, 2026-05-20": what a reader needs to weigh the figures.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = chrono::Utc::now().format("%Y-%m-%d");
    // Which code was measured: figures without it cannot be compared with later ones.
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .map_or_else(String::new, |c| format!(", code at commit {c}"));
    // Other work on a shared machine is the first suspect for odd figures: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .map_or_else(String::new, |l| {
            format!("; 1-minute load average {l} when the run started")
        });
    format!("{cores} cores (nproc), {cpu}, Linux; run on {date}{commit}{load}")
}

/// Replaces the section that starts with the line `heading` (up to the next `## ` line)
/// by `heading` + `body`, or appends it when the file has no such section yet.
pub fn rewrite_section(path: &Path, heading: &str, body: &str) -> std::io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TITLE.to_owned(),
        Err(e) => return Err(e),
    };
    let section = format!("{heading}\n\n{}\n", body.trim_end());
    let lines: Vec<&str> = old.lines().collect();
    let new = match lines.iter().position(|l| l.trim_end() == heading) {
        Some(start) => {
            let end = lines[start + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(lines.len(), |i| start + 1 + i);
            let mut out = lines[..start].join("\n");
            out.push('\n');
            out.push_str(&section);
            if end < lines.len() {
                out.push('\n');
                out.push_str(&lines[end..].join("\n"));
                out.push('\n');
            }
            out
        }
        None => format!("{}\n\n{section}", old.trim_end()),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, new)
}
