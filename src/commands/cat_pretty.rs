//! `rpctap cat` in its readable form: one line per row (time, direction, kind, method,
//! id, latency, status, body), every piece of recorded text escaped for the terminal.
//!
//! Without a filter a file is streamed twice, holding no bodies: the first pass learns
//! which requests end pending, cancelled or failed (that is only known from later
//! lines), the second prints. Its memory is the open requests, whatever the file's size.
//! A filter needs the loaded store, as `--format jsonl --filter` does.

use crate::escape::{terminal, terminal_str};
use crate::filter::Filter;
use crate::record::{Event, Exit, Micros};
use crate::rpc::Kind;
use crate::session::stream::{Pairer, Timing};
use crate::session::Status;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// One printed row, from the store or from the stream.
struct Row<'a> {
    seq: u64,
    t: Micros,
    kind: Kind,
    arrow: &'static str,
    method: Option<&'a str>,
    id: Option<String>,
    /// Only for responses.
    latency: Option<i64>,
    status: Status,
    body: &'a [u8],
}

pub fn pretty(
    path: &Path,
    filter: Option<&Filter>,
    color: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let Some(filter) = filter else {
        return streamed(path, color, out);
    };
    let store = super::load_checked(path, Some(filter))?;
    for i in filter.select(&store) {
        let r = store.row(i);
        let row = Row {
            seq: r.seq,
            t: r.t,
            kind: r.kind,
            arrow: arrow(r.kind, r.dir),
            method: store.method(i),
            id: store.id(i).map(|id| id.to_string()),
            latency: store.latency(i).filter(|_| r.kind.is_response()),
            status: store.status(i),
            body: store.body(i),
        };
        line(&row, color, out)?;
    }
    exit_line(store.exit, color, out)
}

fn arrow(kind: Kind, dir: crate::record::Dir) -> &'static str {
    if kind == Kind::Stderr {
        "!"
    } else {
        dir.arrow()
    }
}

/// What only the whole file tells: the final status of every request that does not end
/// `Ok` (by row), the rows read, the exit line, and whether the session has times at all.
struct FirstPass {
    statuses: HashMap<u64, Status>,
    rows: u64,
    exit: Option<Exit>,
    untimed: bool,
}

fn first_pass(path: &Path) -> anyhow::Result<FirstPass> {
    let (mut statuses, mut exit) = (HashMap::new(), None);
    let mut pairer = Pairer::new();
    let mut timing = Timing::default();
    for event in super::read_events(path)? {
        let event = event?;
        if let Event::Exit(e) = &event {
            exit = Some(*e);
        }
        timing.event(&event);
        let Some(row) = pairer.push(event) else {
            continue;
        };
        timing.row(row.t);
        if let Some(req) = &row.answers {
            if row.kind == Kind::Error && !req.cancelled {
                statuses.insert(req.row, Status::Error);
            }
        }
        if let Some(req) = &row.cancels {
            statuses.insert(req.row, Status::Cancelled);
        }
    }
    let rows = pairer.rows();
    for req in pairer.finish() {
        statuses.entry(req.row).or_insert(Status::Pending);
    }
    let untimed = timing.untimed();
    Ok(FirstPass {
        statuses,
        rows,
        exit,
        untimed,
    })
}

fn streamed(path: &Path, color: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let FirstPass {
        statuses,
        rows,
        exit,
        untimed,
    } = first_pass(path)?;
    let mut pairer = Pairer::new();
    for event in super::read_events(path)? {
        // A file still being recorded has grown: print what the first pass saw.
        if pairer.rows() >= rows {
            break;
        }
        let Some(r) = pairer.push(event?) else {
            continue;
        };
        let status = match r.kind {
            Kind::Request => statuses.get(&r.row).copied().unwrap_or(Status::Ok),
            Kind::Error => Status::Error,
            Kind::Response => Status::Ok,
            _ => Status::None,
        };
        let row = Row {
            seq: r.seq,
            t: r.t,
            kind: r.kind,
            arrow: arrow(r.kind, r.dir),
            method: r.method.as_deref(),
            id: r.id.as_ref().map(std::string::ToString::to_string),
            latency: r.latency().filter(|_| !untimed),
            status,
            body: &r.body,
        };
        line(&row, color, out)?;
    }
    exit_line(exit, color, out)
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

fn line(row: &Row, color: bool, out: &mut impl Write) -> std::io::Result<()> {
    let kind = row.kind.as_str();
    let kind_col = match (row.kind, row.status) {
        (Kind::Error | Kind::Invalid, _) | (_, Status::Error) => "31",
        (_, Status::Pending) => "33",
        (_, Status::Cancelled) => "35",
        (Kind::Noise | Kind::Stderr, _) => "2",
        (Kind::Notification, _) => "36",
        _ => "32",
    };
    let mut text = format!(
        "{:>6} {} {} {}",
        row.seq,
        paint(color, "2", &crate::fmt::clock(row.t)),
        row.arrow,
        paint(color, kind_col, &format!("{kind:<12}"))
    );
    if let Some(m) = row.method {
        text.push(' ');
        text.push_str(&paint(color, "1", &terminal_str(m)));
    }
    if let Some(id) = &row.id {
        let _ = write!(text, " #{}", terminal_str(id));
    }
    if let Some(l) = row.latency {
        let _ = write!(text, " ({})", crate::fmt::latency(l));
    }
    if matches!(row.status, Status::Pending | Status::Cancelled) {
        let _ = write!(text, " [{}]", row.status.as_str());
    }
    text.push_str("  ");
    text.push_str(&terminal(row.body.trim_ascii_end()));
    text.push('\n');
    out.write_all(text.as_bytes())
}

fn exit_line(exit: Option<Exit>, color: bool, out: &mut impl Write) -> anyhow::Result<()> {
    if let Some(e) = exit {
        let how = match (e.code, e.signal) {
            (_, Some(sig)) => format!("killed by signal {sig}"),
            (Some(c), None) => format!("exited with code {c}"),
            (None, None) => "ended".into(),
        };
        writeln!(
            out,
            "{:>6} {} {}",
            "",
            paint(color, "2", &crate::fmt::clock(e.t)),
            paint(color, "2", &format!("server {how}"))
        )?;
    }
    Ok(())
}
