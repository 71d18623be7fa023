//! The overlays of interactive debugging: the compose view (the message being written, its
//! error, the reply), the held messages (a list and the selected body), and the resend
//! comparison (the recorded response beside the new one, and the replay diff of the two).

use super::super::app::App;
use super::super::compose::Compose;
use super::super::interact::Resend;
use crate::fmt::printable;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

/// Lines of a body shown at most in an overlay.
const MAX_LINES: usize = 2000;

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// The overlay's box: most of the screen, centred.
fn boxed(screen: Rect, title: &str, keys: &str, buf: &mut Buffer) -> Rect {
    let w = screen.width.saturating_sub(4).max(20).min(screen.width);
    let h = screen.height.saturating_sub(2).max(5).min(screen.height);
    let area = super::centred_overlay(screen, w, h, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(Color::LightYellow))
        .title(Span::styled(
            format!(" {} ", printable(title)),
            Style::default().add_modifier(Modifier::BOLD),
        ))
        .title_bottom(Line::from(format!(" {keys} ")).right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// Text lines into `area` from line `skip`, control characters made visible.
fn text(lines: &[String], skip: usize, area: Rect, style: Style, buf: &mut Buffer) {
    for (n, l) in lines
        .iter()
        .skip(skip)
        .take(area.height as usize)
        .enumerate()
    {
        buf.set_stringn(
            area.x,
            area.y + n as u16,
            printable(l),
            area.width as usize,
            style,
        );
    }
}

fn split_lines(s: &str) -> Vec<String> {
    s.lines().take(MAX_LINES).map(str::to_owned).collect()
}

/// Draws whichever interactive overlay is open; returns where the compose cursor is.
pub fn draw(app: &App, screen: Rect, buf: &mut Buffer) -> Option<Position> {
    if let Some(r) = &app.act.resend {
        resend(app, r, screen, buf);
    } else if app.act.held_view.is_some() {
        held(app, screen, buf);
    }
    app.act.compose.as_ref().map(|c| compose(c, screen, buf))
}

fn compose(c: &Compose, screen: Rect, buf: &mut Buffer) -> Position {
    let keys = match c.purpose {
        super::super::compose::Purpose::Send => {
            "Ctrl-S send  Ctrl-T server/client  Ctrl-O $EDITOR  Ctrl-N empty request  Esc close"
        }
        _ => "Ctrl-S send  Ctrl-O $EDITOR  Esc cancel",
    };
    let inner = boxed(screen, &c.title(), keys, buf);
    let reply_h = match (&c.reply, c.waiting) {
        (None, None) => 0,
        _ => (inner.height / 3).max(2),
    };
    let status_h = u16::from(c.error.is_some());
    let edit = Rect {
        height: inner.height.saturating_sub(reply_h + status_h),
        ..inner
    };
    let top = c.editor.top.min(c.editor.row);
    let top = if c.editor.row >= top + edit.height as usize {
        c.editor.row + 1 - edit.height as usize
    } else {
        top
    };
    text(c.editor.lines(), top, edit, Style::default(), buf);
    if let Some(e) = &c.error {
        let y = edit.y + edit.height;
        buf.set_stringn(
            inner.x,
            y,
            format!("✗ {}", printable(e)),
            inner.width as usize,
            Style::default().fg(Color::LightRed),
        );
    }
    if reply_h > 0 {
        let area = Rect {
            y: inner.y + inner.height - reply_h,
            height: reply_h,
            ..inner
        };
        let (head, lines, style) = match (&c.reply, c.waiting) {
            (_, Some(_)) => ("sent: waiting for the reply…".to_owned(), Vec::new(), dim()),
            (Some(Ok(r)), _) => (
                "reply".to_owned(),
                split_lines(r),
                Style::default().fg(Color::LightGreen),
            ),
            (Some(Err(e)), _) => (format!("no reply: {e}"), Vec::new(), dim()),
            (None, None) => (String::new(), Vec::new(), dim()),
        };
        super::list::title(
            Rect { height: 1, ..area },
            vec![Span::styled(
                printable(&head),
                Style::default().add_modifier(Modifier::BOLD),
            )],
            false,
            buf,
        );
        let body = Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        text(&lines, 0, body, style, buf);
    }
    let line = &c.editor.lines()[c.editor.row];
    let col: usize = line
        .chars()
        .take(c.editor.col)
        .map(|ch| unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0))
        .sum();
    let y = edit.y + (c.editor.row - top).min(edit.height.saturating_sub(1) as usize) as u16;
    let x = (edit.x as usize + col).min(edit.right().saturating_sub(1) as usize) as u16;
    Position::new(x, y)
}

fn held(app: &App, screen: Rect, buf: &mut Buffer) {
    let sel = app.act.held_view.unwrap_or(0);
    let list = &app.act.held;
    let filter = app
        .act
        .intercept
        .as_ref()
        .map_or("no intercept".to_owned(), |i| {
            format!("intercept \"{}\"", i.1)
        });
    let title = format!("Held: {}  ·  {filter}", list.len());
    let keys = "a forward  e edit  d drop  A all  r answer  i filter  Esc close";
    let inner = boxed(screen, &title, keys, buf);
    if list.is_empty() {
        let msg = "nothing held yet: matching messages wait here until you decide";
        buf.set_stringn(inner.x + 1, inner.y, msg, inner.width as usize, dim());
        return;
    }
    let rows = (inner.height / 3).max(1) as usize;
    let top = sel.saturating_sub(rows.saturating_sub(1));
    for (n, h) in list.iter().enumerate().skip(top).take(rows) {
        let mut line = Line::from(vec![
            Span::styled(
                format!("‖ #{:<4} ", h.msg.hold),
                Style::default().fg(Color::LightYellow),
            ),
            Span::styled(
                format!("{} ", h.msg.dir.arrow()),
                Style::default().fg(Color::LightBlue),
            ),
            Span::raw(printable(&h.summary())),
        ]);
        if n == sel {
            line = line.style(Style::default().add_modifier(Modifier::REVERSED));
        }
        buf.set_line(inner.x, inner.y + (n - top) as u16, &line, inner.width);
    }
    let y = inner.y + rows as u16;
    super::list::title(
        Rect::new(inner.x, y, inner.width, 1),
        vec![Span::raw("body")],
        false,
        buf,
    );
    if let Some(h) = list.get(sel) {
        let body = Rect::new(
            inner.x,
            y + 1,
            inner.width,
            inner.bottom().saturating_sub(y + 1),
        );
        text(&split_lines(&h.text()), 0, body, Style::default(), buf);
    }
}

fn resend(app: &App, r: &Resend, screen: Rect, buf: &mut Buffer) {
    let Some(session) = app.timeline.sessions.get(r.session) else {
        return;
    };
    let store = &session.store;
    let what = crate::replay::describe(store, r.request);
    let inner = boxed(
        screen,
        &format!("resend {what}"),
        "j/k scroll  Esc close",
        buf,
    );
    let half = inner.width / 2;
    let old: Vec<String> = match r.old {
        Some(p) => split_lines(&super::super::compose::pretty(store.body(p))),
        None => vec!["(never answered)".into()],
    };
    let new: Vec<String> = match &r.new {
        None => vec!["waiting for the new response…".into()],
        Some(Ok(v)) => split_lines(&serde_json::to_string_pretty(v).unwrap_or_default()),
        Some(Err(e)) => vec![format!("no response: {e}")],
    };
    let diff = diff_lines(app, r);
    let diff_h = (diff.len() as u16 + 1).min(inner.height / 3).max(2);
    let body_h = inner.height.saturating_sub(diff_h + 1);
    for (x, w, head, lines) in [
        (inner.x, half, "recorded response", &old),
        (inner.x + half, inner.width - half, "new response", &new),
    ] {
        super::list::title(
            Rect::new(x, inner.y, w, 1),
            vec![Span::raw(head)],
            false,
            buf,
        );
        let area = Rect::new(x, inner.y + 1, w.saturating_sub(1), body_h);
        text(lines, r.scroll, area, Style::default(), buf);
    }
    let y = inner.y + 1 + body_h;
    let summary = match (&r.new, diff.is_empty()) {
        (None, _) => "diff".to_owned(),
        (Some(_), true) => "diff: alike (after the replay's normalisation)".to_owned(),
        (Some(_), false) => format!("diff: {} difference(s)", diff.len()),
    };
    super::list::title(
        Rect::new(inner.x, y, inner.width, 1),
        vec![Span::raw(summary)],
        false,
        buf,
    );
    for (n, l) in diff.iter().take(diff_h as usize - 1).enumerate() {
        let color = match l.chars().next() {
            Some('+') => Color::Green,
            Some('-') => Color::Red,
            _ => Color::Yellow,
        };
        buf.set_stringn(
            inner.x,
            y + 1 + n as u16,
            printable(l),
            inner.width as usize,
            Style::default().fg(color),
        );
    }
}

/// The replay's diff of the recorded and the new response (ids and the protocol's
/// volatile fields ignored, as `rpctap replay` and `rpctap diff` ignore them).
pub fn diff_lines(app: &App, r: &Resend) -> Vec<String> {
    let Some(Ok(new)) = &r.new else {
        return Vec::new();
    };
    let store = &app.timeline.sessions[r.session].store;
    let ignore = crate::replay::response_ignores(store, &[]);
    let new_bytes = new.to_string();
    let new = crate::replay::normalized(new_bytes.as_bytes(), &ignore);
    let old = match r.old {
        Some(p) => crate::replay::normalized(store.body(p), &ignore),
        None => serde_json::Value::Null,
    };
    crate::replay::diff(&old, &new, 50)
}
