//! The Problems overlay: one line per conformance violation, the selection highlighted.

use super::super::app::App;
use super::super::problems::{entries, problem};
use crate::check::Severity;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

/// The number of problems of the viewed sessions, for the list's title.
pub fn count(app: &App) -> usize {
    app.timeline
        .sessions
        .iter()
        .map(|s| s.store.problems.all().len())
        .sum()
}

pub fn draw(app: &App, screen: Rect, buf: &mut Buffer) {
    let Some(selected) = app.problems else { return };
    let list = entries(app);
    let w = screen.width.saturating_sub(4).max(20).min(screen.width);
    let h = screen.height.saturating_sub(4).max(5).min(screen.height);
    let area = super::centred_overlay(screen, w, h, buf);
    let block = Block::default().borders(Borders::ALL).title(format!(
        " Problems: {}  (j/k move, Enter go to message, Esc/P close) ",
        list.len()
    ));
    let inner = block.inner(area);
    block.render(area, buf);
    let rows = inner.height as usize;
    let top = selected.saturating_sub(rows.saturating_sub(1));
    for (n, e) in list.iter().enumerate().skip(top).take(rows) {
        let p = problem(app, *e);
        let v = &p.violation;
        let (glyph, color) = match v.rule.severity {
            Severity::Error => ("✗ error  ", Color::LightRed),
            Severity::Warning => ("! warning", Color::LightYellow),
        };
        let seq = if v.seq == 0 {
            "session".to_owned()
        } else {
            format!("#{}", v.seq)
        };
        let mut line = Line::from(vec![
            Span::styled(format!("{glyph} "), Style::default().fg(color)),
            Span::styled(format!("{seq:>8} "), Style::default().fg(Color::Gray)),
            Span::styled(
                format!("{:<26} ", v.rule.id),
                Style::default().fg(Color::Cyan),
            ),
            Span::raw(
                crate::check::report::clip(&v.message, 400)
                    .escape_debug()
                    .to_string(),
            ),
        ]);
        if n == selected {
            line = line.style(Style::default().add_modifier(Modifier::REVERSED));
        }
        let y = inner.y + (n - top) as u16;
        buf.set_line(inner.x, y, &line, inner.width);
    }
}
