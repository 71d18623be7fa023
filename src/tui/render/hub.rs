//! The hub screen: recordings to open.

use super::list::{title, title_style};
use super::Areas;
use crate::tui::app::App;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

pub fn draw(app: &App, areas: &Areas, buf: &mut Buffer) {
    let Some(hub) = &app.hub else { return };
    let bar = Style::default().bg(Color::Indexed(236)).fg(Color::Gray);
    buf.set_style(areas.header, bar);
    let head = Line::from(vec![
        Span::styled(" rpctap ", bar.fg(Color::Cyan).add_modifier(Modifier::BOLD)),
        Span::styled(
            "sessions",
            bar.fg(Color::White).add_modifier(Modifier::BOLD),
        ),
    ]);
    buf.set_line(0, 0, &head, areas.header.width);
    let area = areas.hub();
    let what = format!("  {} recordings in {}", hub.items.len(), hub.dir.display());
    title(
        area,
        vec![
            Span::styled("Recordings", title_style(true)),
            Span::styled(what, Style::default().fg(Color::Gray)),
        ],
        true,
        buf,
    );
    let dim = Style::default().fg(Color::DarkGray);
    if hub.items.is_empty() {
        let y = area.y + 2;
        buf.set_string(area.x + 2, y, "no recordings yet.", Style::default());
        let tip = "Put `rpctap --` before a server command in your editor or MCP client config;";
        buf.set_string(area.x + 2, y + 1, tip, dim);
        buf.set_string(area.x + 2, y + 2, "or open a file: rpctap open FILE", dim);
        return;
    }
    let header = format!(
        "{:<20} {:<19} {:>8}  {}",
        "name", "started", "lines", "command"
    );
    buf.set_string(
        area.x + 1,
        area.y + 1,
        header,
        dim.add_modifier(Modifier::BOLD),
    );
    let rows = areas.hub_rows();
    let top = hub.top(rows);
    for (n, item) in hub.items.iter().enumerate().skip(top).take(rows) {
        let y = area.y + 2 + (n - top) as u16;
        let started = crate::record::Micros::parse(&item.info.started)
            .map(|t| {
                t.datetime()
                    .with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let text = format!(
            "{:<20} {started:<19} {:>8}  {}   {}",
            item.info.name,
            item.lines,
            item.info.command.join(" "),
            item.path.display()
        );
        let style = if n == hub.cursor {
            Style::default()
                .bg(Color::Indexed(24))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        buf.set_stringn(
            area.x + 1,
            y,
            text,
            area.width.saturating_sub(1) as usize,
            style,
        );
    }
}
