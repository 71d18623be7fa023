//! The message list: a virtual table. Only the rows on screen are formatted, so a frame
//! costs the same with a hundred rows or a million.

use super::Areas;
use crate::rpc::Kind;
use crate::session::{Status, Store};
use crate::tui::app::{App, Pane, TimeFormat};
use crate::tui::detail::{row_style, time_text};
use crate::tui::view::SourceState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Column widths, method excepted (it takes what is left).
const SEQ: usize = 6;
const SESSION: usize = 10;
const TIME: usize = 12;
const KIND: usize = 6;
const ID: usize = 7;
const LATENCY: usize = 8;
const SIZE: usize = 7;

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// A pane's title line: a rule with the title on it, brighter when the pane has focus.
pub fn title(area: Rect, spans: Vec<Span<'static>>, focused: bool, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let rule = Style::default().fg(if focused {
        Color::Cyan
    } else {
        Color::DarkGray
    });
    buf.set_string(area.x, area.y, "─".repeat(area.width as usize), rule);
    let mut all = vec![Span::styled("─ ", rule)];
    all.extend(spans);
    all.push(Span::styled(" ", rule));
    buf.set_line(area.x, area.y, &Line::from(all), area.width);
}

pub fn title_style(focused: bool) -> Style {
    let s = Style::default().add_modifier(Modifier::BOLD);
    if focused {
        s.fg(Color::Cyan)
    } else {
        s
    }
}

pub fn draw(app: &App, areas: &Areas, buf: &mut Buffer) {
    let area = areas.list;
    let focused = app.focus == Pane::List;
    let mut t = vec![Span::styled("Messages", title_style(focused))];
    let mut facts = vec![format!(
        "{}/{}",
        if app.view.is_empty() {
            0
        } else {
            app.cursor + 1
        },
        app.view.len()
    )];
    if app.view.len() != app.timeline.len() {
        facts.push(format!("of {}", app.timeline.len()));
    }
    if let Some(f) = &app.crit.filter {
        facts.push(format!("filter \"{}\"", f.text));
    }
    for (on, what) in [
        (app.crit.errors_only, "errors only"),
        (app.crit.marked_only, "marked only"),
        (app.crit.is_cleared(), "cleared"),
        (app.follow, "following"),
    ] {
        if on {
            facts.push(what.to_owned());
        }
    }
    if let Some(s) = &app.search {
        facts.push(format!("search \"{}\"", s.text));
    }
    if let Some((_, f)) = &app.act.intercept {
        facts.push(format!("intercept \"{f}\""));
    }
    if !app.act.held.is_empty() {
        facts.push(format!("{} held: H", app.act.held.len()));
    }
    let problems = super::problems::count(app);
    if problems > 0 {
        facts.push(format!("{problems} problem(s): P"));
    }
    t.push(Span::styled(
        format!("  {}", facts.join(" · ")),
        Style::default().fg(Color::Gray),
    ));
    title(area, t, focused, buf);
    if area.height < 2 {
        return;
    }
    let merged = app.timeline.is_merged();
    let cols = Columns::new(area.width as usize, merged);
    let head = cols.line(
        &[
            "", "#", "session", "time", "", "kind", "method", "id", "latency", "size",
        ]
        .map(str::to_owned),
        |_| dim().add_modifier(Modifier::BOLD),
    );
    buf.set_line(area.x, area.y + 1, &head, area.width);
    let body = areas.list_body();
    if app.view.is_empty() {
        let msg = empty_message(app);
        buf.set_string(body.x + 2, body.y, msg, dim());
        return;
    }
    let end = (app.top + body.height as usize).min(app.view.len());
    for (line_no, vi) in (app.top..end).enumerate() {
        let y = body.y + line_no as u16;
        let r = app.timeline.at(app.view.rows[vi] as usize);
        let store = app.timeline.store(r);
        let i = r.row as usize;
        let marked = app.crit.marks.contains(&r);
        let cells = cells(
            app,
            store,
            i,
            marked,
            &app.timeline.sessions[r.session as usize].label,
        );
        let base = row_style(store, i);
        let line = cols.line(&cells, |c| cell_style(c, store, i, base, marked));
        buf.set_line(body.x, y, &line, body.width);
        if vi == app.cursor {
            let bg = if focused {
                Color::Indexed(24)
            } else {
                Color::Indexed(238)
            };
            let row = Rect::new(body.x, y, body.width, 1);
            buf.set_style(row, Style::default().bg(bg).add_modifier(Modifier::BOLD));
        }
    }
}

fn empty_message(app: &App) -> String {
    if !app.timeline.is_empty() {
        return format!(
            "nothing in the view: {} rows hidden (/ filter, e errors, M marked, c clear; C shows cleared)",
            app.timeline.len()
        );
    }
    let loading = app
        .timeline
        .sessions
        .iter()
        .any(|s| matches!(s.feed, SourceState::Loading | SourceState::Live));
    if loading {
        "no messages yet: waiting for traffic".into()
    } else {
        "this session has no messages".into()
    }
}

/// Column 0 is the mark, 1 #, 2 session, 3 time, 4 direction, 5 kind, 6 method, 7 id,
/// 8 latency, 9 size.
fn cells(app: &App, store: &Store, i: usize, marked: bool, session: &str) -> [String; 10] {
    let row = store.row(i);
    let (dir, method) = match row.kind {
        Kind::Stderr => ("!".to_owned(), oneline(store.body(i))),
        Kind::Noise => (row.dir.arrow().to_owned(), oneline(store.body(i))),
        _ => (
            row.dir.arrow().to_owned(),
            store.method(i).unwrap_or_default().to_owned(),
        ),
    };
    let latency = match (row.kind, store.status(i)) {
        (Kind::Request, Status::Pending) => "pending".to_owned(),
        (Kind::Request, Status::Cancelled) if store.pair(i).is_none() => "cancel".to_owned(),
        // Not zero: unknown, the log has no times.
        _ if store.untimed() && store.pair(i).is_some() => "–".to_owned(),
        _ if row.kind == Kind::Request || row.kind.is_response() => store
            .latency(i)
            .map(crate::fmt::latency)
            .unwrap_or_default(),
        _ => String::new(),
    };
    let time = match app.time {
        TimeFormat::Absolute => time_text(app, row.t, false),
        TimeFormat::Relative => {
            let mut t = time_text(app, row.t, true);
            t.truncate(t.len().saturating_sub(3));
            t
        }
    };
    [
        marker(store, i, marked).into(),
        row.seq.to_string(),
        session.to_owned(),
        time,
        dir,
        super::super::labels::short_kind(row.kind, store.protocol).to_owned(),
        method,
        store.id(i).map(|id| id.to_string()).unwrap_or_default(),
        latency,
        crate::fmt::size(u64::from(row.len)),
    ]
}

/// Column 0: a mark; what rpctap did to the row (`+` injected, `‖` held, then `✎` edited,
/// `⊘` dropped, `↵` answered, `↺` a response rpctap took for itself); or a row that breaks
/// a conformance rule (`✗` error, `!` warning).
fn marker(store: &Store, i: usize, marked: bool) -> &'static str {
    let problems = store.problems_of(i);
    if marked {
        "▌"
    } else if let Some(m) = super::super::labels::interactive_mark(store, i) {
        m
    } else if problems
        .iter()
        .any(|p| p.violation.rule.severity == crate::check::Severity::Error)
    {
        "✗"
    } else if !problems.is_empty() {
        "!"
    } else {
        " "
    }
}

fn cell_style(col: usize, store: &Store, i: usize, base: Style, marked: bool) -> Style {
    use crate::session::Flags;
    let row = store.row(i);
    match col {
        // What `interactive_mark` draws a mark for (without looking up its release).
        0 if !marked
            && row
                .flags
                .has(Flags::HELD | Flags::DIVERTED | Flags::INJECTED) =>
        {
            Style::default()
                .fg(Color::LightCyan)
                .add_modifier(Modifier::BOLD)
        }
        0 if !marked && row.flags.has(Flags::VIOLATION) => Style::default().fg(Color::LightRed),
        0 => Style::default().fg(Color::LightYellow),
        1 if marked => Style::default().fg(Color::LightYellow),
        1 | 3 | 9 => dim(),
        2 => Style::default().fg(Color::Blue),
        4 if row.kind == Kind::Stderr => Style::default().fg(Color::LightRed),
        4 => Style::default().fg(match row.dir {
            crate::record::Dir::C2s => Color::LightBlue,
            crate::record::Dir::S2c => Color::LightMagenta,
        }),
        5 if base == Style::default() => Style::default().fg(match row.kind {
            Kind::Request => Color::LightBlue,
            Kind::Notification => Color::Cyan,
            _ => Color::Green,
        }),
        6 if base == Style::default() && row.kind == Kind::Notification => Style::default(),
        7 | 8 if base == Style::default() => Style::default().fg(Color::Gray),
        _ => base,
    }
}

/// The first line of a text, with control characters made visible, for the method column.
fn oneline(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    text.chars()
        .map(|c| match c {
            '\n' => '⏎',
            c if c.is_control() => '·',
            c => c,
        })
        .collect()
}

/// Column positions for a list of a given width.
struct Columns {
    /// (column, width, right-aligned) for the columns shown.
    shown: Vec<(usize, usize, bool)>,
}

impl Columns {
    fn new(width: usize, merged: bool) -> Columns {
        let mut shown = vec![(0, 1, false), (1, SEQ, true)];
        if merged {
            shown.push((2, SESSION, false));
        }
        shown.extend([(3, TIME, true), (4, 1, false), (5, KIND, false)]);
        let tail = [(7, ID, true), (8, LATENCY, true), (9, SIZE, true)];
        let fixed: usize = shown.iter().chain(&tail).map(|c| c.1 + 1).sum();
        // Narrow lists drop the size, then the id, before squeezing the method.
        let mut tail: Vec<_> = tail.to_vec();
        let mut room = width.saturating_sub(fixed);
        while room < 16 && !tail.is_empty() {
            let gone = tail.pop().map_or(0, |c| c.1 + 1);
            room += gone;
        }
        shown.push((6, room.max(1), false));
        shown.extend(tail);
        Columns { shown }
    }

    fn line(&self, cells: &[String; 10], style: impl Fn(usize) -> Style) -> Line<'static> {
        let mut spans = Vec::with_capacity(self.shown.len() * 2);
        for &(col, w, right) in &self.shown {
            spans.push(Span::styled(fit(&cells[col], w, right), style(col)));
            if col != 0 {
                spans.push(Span::raw(" "));
            }
        }
        Line::from(spans)
    }
}

/// `s` cut or padded to exactly `w` columns; cut text ends in `…`.
pub(super) fn fit(s: &str, w: usize, right: bool) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::with_capacity(w + 4);
    let mut used = 0;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= w {
        let pad = " ".repeat(w - total);
        return if right { pad + s } else { s.to_owned() + &pad };
    }
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out.push_str(&" ".repeat(w.saturating_sub(used + 1)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_pads_aligns_and_cuts() {
        assert_eq!(fit("ab", 4, false), "ab  ");
        assert_eq!(fit("ab", 4, true), "  ab");
        assert_eq!(fit("abcdef", 4, false), "abc…");
        assert_eq!(fit("日本語", 4, false), "日… ");
    }

    #[test]
    fn narrow_lists_drop_columns_before_squeezing_the_method() {
        let wide = Columns::new(120, false);
        assert!(wide.shown.iter().any(|c| c.0 == 9));
        let narrow = Columns::new(60, false);
        assert!(!narrow.shown.iter().any(|c| c.0 == 9), "size dropped");
        let method = narrow.shown.iter().find(|c| c.0 == 6).unwrap();
        assert!(method.1 >= 16);
    }
}
