//! The detail pane's content for the selected row: pretty JSON, the request with its
//! response, the exact wire bytes, or the text of noise and stderr — built as wrapped,
//! styled lines once per selection (see `App::prepare`), never per frame.

use super::app::{App, Tab, TimeFormat};
use super::json;
use super::text::{escape_style, visible, wrap, Segs};
use super::view::Ref;
use crate::rpc::Kind;
use crate::session::{Flags, Status, Store};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

/// Wrapped lines kept for one message; past this a note says the rest was left out.
pub const MAX_LINES: usize = 100_000;
/// Bytes shown as text (wire view, invalid bodies): more would never fit in `MAX_LINES`.
const MAX_TEXT: usize = 4 << 20;

/// Everything the built lines depend on: when it changes they are rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailKey {
    pub r: Ref,
    pub tab: Tab,
    pub width: usize,
    pub time: TimeFormat,
    /// The pair and status change when a response arrives or a request is cancelled.
    pub pair: Option<usize>,
    pub status: Status,
    /// A held message's fate arrives after it (`release`).
    pub release: Option<crate::record::ReleaseAction>,
}

pub fn key(app: &App, r: Ref, width: usize) -> DetailKey {
    let store = app.timeline.store(r);
    let i = r.row as usize;
    DetailKey {
        r,
        tab: app.tab,
        width,
        time: app.time,
        pair: store.pair(i),
        status: store.status(i),
        release: store.release(i),
    }
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

/// The style a row's kind and status are drawn in, shared with the list.
pub fn row_style(store: &Store, i: usize) -> Style {
    let kind = store.row(i).kind;
    let fg = match (kind, store.status(i)) {
        (Kind::Error | Kind::Invalid | Kind::Oversized, _) | (_, Status::Error) => Color::Red,
        (_, Status::Cancelled) => Color::Magenta,
        (_, Status::Pending) => Color::Yellow,
        (Kind::Noise, _) => Color::DarkGray,
        (Kind::Stderr, _) => Color::Gray,
        _ => return Style::default(),
    };
    Style::default().fg(fg)
}

/// `10:00:01.010000` or `+1.010000`, as the time format says.
pub fn time_text(app: &App, t: crate::record::Micros, precise: bool) -> String {
    match app.time {
        TimeFormat::Relative => crate::fmt::relative(t, app.timeline.start()),
        TimeFormat::Absolute if precise => crate::fmt::clock(t),
        TimeFormat::Absolute => {
            let mut s = crate::fmt::clock(t);
            s.truncate(12);
            s
        }
    }
}

/// Two lines describing a row: what it is (direction, kind, method, id), then facts
/// (sequence number, time, size, framing, latency or status).
fn meta(app: &App, store: &Store, i: usize, out: &mut Vec<Segs>) {
    let row = store.row(i);
    let mut segs: Segs = Vec::new();
    let arrow = match row.kind {
        Kind::Stderr => "stderr",
        _ => row.dir.arrow(),
    };
    segs.push((format!("{arrow} "), bold()));
    segs.push((
        super::labels::kind(row.kind, store.protocol).to_owned(),
        row_style(store, i).add_modifier(Modifier::BOLD),
    ));
    if let Some(m) = store.method(i) {
        segs.push((format!("  {m}"), bold()));
    }
    if let Some(id) = store.id(i) {
        segs.push((format!("  id {id}"), Style::default()));
    }
    out.push(segs);
    let mut facts = vec![
        format!("#{}", row.seq),
        time_text(app, row.t, true),
        crate::fmt::size(u64::from(row.len)),
    ];
    if let Some(f) = row.framing {
        facts.push(super::labels::framing(f, store.protocol).to_owned());
    }
    let mut segs: Segs = vec![(facts.join(" · "), dim())];
    let note = match store.status(i) {
        Status::Pending => Some("pending".to_owned()),
        Status::Cancelled => Some("cancelled".to_owned()),
        _ if store.untimed() && store.pair(i).is_some() => {
            Some("latency – (no times in the log)".to_owned())
        }
        _ if row.kind.is_response() || row.kind == Kind::Request => store
            .latency(i)
            .map(|l| format!("latency {}", crate::fmt::latency(l))),
        _ => None,
    };
    if let Some(n) = note {
        segs.push((" · ".into(), dim()));
        segs.push((n, row_style(store, i)));
    }
    if let Some(code) = row.error_code {
        segs.push((
            format!(" · error code {code}"),
            Style::default().fg(Color::Red),
        ));
    }
    if row.flags.has(Flags::DUPLICATE_ID) {
        segs.push((" · duplicate id".into(), Style::default().fg(Color::Red)));
    }
    out.push(segs);
}

/// The body pretty-printed, or shown as visible text with a note when it is not JSON.
fn body(store: &Store, i: usize, out: &mut Vec<Segs>) {
    let row = store.row(i);
    if row.kind == Kind::Oversized {
        out.push(vec![(
            "larger than the decoding limit: forwarded, not recorded".into(),
            Style::default().fg(Color::Red),
        )]);
        return;
    }
    let b = store.body(i);
    if matches!(row.kind, Kind::Noise | Kind::Stderr) || !json::pretty(b, out, MAX_LINES) {
        if !matches!(row.kind, Kind::Noise | Kind::Stderr) {
            out.push(vec![(
                "not valid JSON; as received:".into(),
                escape_style(),
            )]);
        }
        text(b, out);
    }
}

pub fn build(app: &App, key: DetailKey) -> Vec<Line<'static>> {
    let store = app.timeline.store(key.r);
    let i = key.r.row as usize;
    let row = store.row(i);
    let text_row = matches!(row.kind, Kind::Noise | Kind::Stderr);
    let mut out: Vec<Segs> = Vec::new();
    if app.timeline.is_merged() {
        let s = &app.timeline.sessions[key.r.session as usize];
        out.push(vec![(format!("session {}", s.label), dim())]);
    }
    // The pair view describes each of its two messages itself.
    if key.tab != Tab::Pair || text_row {
        meta(app, store, i, &mut out);
        if let Some(note) = super::labels::interactive_note(store, i) {
            out.push(vec![(
                note.to_owned(),
                Style::default().fg(Color::LightCyan),
            )]);
        }
        out.push(Vec::new());
    }
    match key.tab {
        Tab::Body => body(store, i, &mut out),
        Tab::Pair if text_row => out.push(vec![(
            format!(
                "{} is not part of a request/response pair",
                super::labels::kind(row.kind, store.protocol)
            ),
            dim(),
        )]),
        Tab::Pair => pair(app, store, i, &mut out),
        Tab::Wire => wire(store, i, &mut out),
    }
    wrap(out, key.width, MAX_LINES)
}

fn pair(app: &App, store: &Store, i: usize, out: &mut Vec<Segs>) {
    let row = store.row(i);
    let (req, resp) = match (row.kind, store.pair(i)) {
        (k, Some(p)) if k.is_response() => (Some(p), Some(i)),
        (Kind::Request, p) => (Some(i), p),
        (k, None) if k.is_response() => (None, Some(i)),
        _ => {
            meta(app, store, i, out);
            out.push(vec![(
                format!(
                    "a {} has no response: nothing to pair",
                    super::labels::kind(row.kind, store.protocol)
                ),
                dim(),
            )]);
            out.push(Vec::new());
            body(store, i, out);
            return;
        }
    };
    match req {
        Some(r) => {
            meta(app, store, r, out);
            out.push(Vec::new());
            body(store, r, out);
        }
        None => out.push(vec![(
            "no request with this id was seen".into(),
            Style::default().fg(Color::Red),
        )]),
    }
    out.push(Vec::new());
    match resp {
        Some(p) => {
            let lat = store
                .latency(p)
                .map(crate::fmt::latency)
                .unwrap_or_default();
            out.push(vec![(format!("── response after {lat} ──"), bold())]);
            meta(app, store, p, out);
            out.push(Vec::new());
            body(store, p, out);
        }
        None => {
            let (text, color) = match store.status(i) {
                Status::Cancelled => ("── cancelled, no response", Color::Magenta),
                _ => ("── no response yet (pending)", Color::Yellow),
            };
            out.push(vec![(text.into(), Style::default().fg(color))]);
        }
    }
}

fn wire(store: &Store, i: usize, out: &mut Vec<Segs>) {
    let row = store.row(i);
    let bytes = store.wire(i);
    let what = match row.kind {
        Kind::Stderr => "stderr line (its line terminator is not recorded)".to_owned(),
        Kind::Noise => format!("{} bytes outside any frame", bytes.len()),
        // Another tool's log holds bodies only: the framing around them is rpctap's.
        _ if store.imported() => format!(
            "{} bytes rebuilt from an imported log (not observed on the wire)",
            bytes.len()
        ),
        _ => format!("{} bytes on the wire, headers included", bytes.len()),
    };
    out.push(vec![(what, dim())]);
    if row.flags.has(Flags::REDACTED) {
        out.push(vec![(
            "redacted when recorded: these bytes differ from the wire".into(),
            Style::default().fg(Color::Yellow),
        )]);
    }
    if row.kind == Kind::Oversized {
        out.push(vec![(
            "oversized: the body was forwarded but not recorded".into(),
            Style::default().fg(Color::Red),
        )]);
    }
    text(&bytes, out);
}

/// Bytes as visible text, the first `MAX_TEXT` of them.
fn text(bytes: &[u8], out: &mut Vec<Segs>) {
    visible(&bytes[..bytes.len().min(MAX_TEXT)], Style::default(), out);
    if bytes.len() > MAX_TEXT {
        let rest = crate::fmt::size((bytes.len() - MAX_TEXT) as u64);
        out.push(vec![(
            format!("… {rest} more not shown: `y` copies it all"),
            escape_style(),
        )]);
    }
}
