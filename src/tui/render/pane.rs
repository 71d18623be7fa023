//! The detail pane (tabs and the lines `App::prepare` built) and the stderr pane.

use super::list::{title, title_style};
use super::Areas;
use crate::rpc::Kind;
use crate::tui::app::{App, Pane, Tab};
use crate::tui::detail::time_text;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

/// Column of the first tab title within the detail's title line (after `─ `).
pub const TABS_X: u16 = 2;

pub fn tab_label(t: Tab) -> String {
    let n = Tab::ALL.iter().position(|&x| x == t).unwrap_or(0) + 1;
    format!(" {n} {} ", t.title())
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn draw(app: &App, areas: &Areas, buf: &mut Buffer) {
    let area = areas.detail;
    let focused = app.focus == Pane::Detail;
    let text_row = app.selected().is_some_and(|r| {
        matches!(
            app.timeline.store(r).row(r.row as usize).kind,
            Kind::Noise | Kind::Stderr
        )
    });
    let mut spans = Vec::new();
    for t in Tab::ALL {
        let mut label = tab_label(t);
        if t == Tab::Body && text_row {
            label = label.replace("JSON", "Text");
        }
        let style = if t == app.tab {
            title_style(focused).add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(Color::Gray)
        };
        spans.push(Span::styled(label, style));
    }
    let text = areas.detail_text();
    let lines = app.detail_lines();
    let scroll = app
        .detail_scroll
        .min(lines.len().saturating_sub(text.height as usize));
    if lines.len() > text.height as usize {
        let last = (scroll + text.height as usize).min(lines.len());
        spans.push(Span::styled(
            format!("  lines {}-{last} of {}", scroll + 1, lines.len()),
            dim(),
        ));
    }
    title(area, spans, focused, buf);
    if areas.side_by_side {
        let rule = if focused {
            Color::Cyan
        } else {
            Color::DarkGray
        };
        for y in text.y..text.bottom() {
            buf.set_string(area.x, y, "│", Style::default().fg(rule));
        }
    }
    if app.selected().is_none() {
        buf.set_string(text.x + 1, text.y, "no message selected", dim());
        return;
    }
    for (n, line) in lines
        .iter()
        .skip(scroll)
        .take(text.height as usize)
        .enumerate()
    {
        buf.set_line(text.x, text.y + n as u16, line, text.width);
    }
}

/// The child's stderr up to the selected row, so a traceback shows beside the request
/// that caused it.
pub fn stderr(app: &App, area: Rect, buf: &mut Buffer) {
    let sel = app.selected();
    let s = sel.map_or(0, |r| r.session as usize);
    let Some(session) = app.timeline.sessions.get(s) else {
        return;
    };
    let rows = &session.stderr;
    let upto = match sel {
        Some(r) => rows.partition_point(|&x| x <= r.row),
        None => rows.len(),
    };
    let what = format!(
        "  {upto} of {} lines, up to the selected message",
        rows.len()
    );
    title(
        area,
        vec![
            Span::styled("stderr", title_style(false)),
            Span::styled(what, dim()),
        ],
        false,
        buf,
    );
    let h = area.height.saturating_sub(1) as usize;
    let from = upto.saturating_sub(h);
    for (n, &row) in rows[from..upto].iter().enumerate() {
        let i = row as usize;
        let t = time_text(app, session.store.row(i).t, false);
        let text = String::from_utf8_lossy(session.store.body(i)).replace(['\n', '\r'], " ");
        let y = area.y + 1 + n as u16;
        let selected = sel.is_some_and(|r| r.row == row);
        let style = if selected {
            Style::default()
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        buf.set_string(area.x, y, format!("{t:>12} "), dim());
        buf.set_stringn(
            area.x + 13,
            y,
            text,
            area.width.saturating_sub(13) as usize,
            style,
        );
    }
    if rows.is_empty() {
        buf.set_string(
            area.x + 2,
            area.y + 1,
            "the server wrote nothing to stderr",
            dim(),
        );
    }
}
