//! The hub screen: live and recorded sessions, one row each — state, name, protocol,
//! message and error counts, start, command and recording.

use super::list::{title, title_style};
use super::Areas;
use crate::catalog::{Entry, State};
use crate::tui::app::App;
use crate::tui::hub::Hub;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::fmt::Write as _;

/// Column widths; the recording's path takes what is left.
const MARK: usize = 2;
const STATE: usize = 21;
const NAME: usize = 18;
const PROTO: usize = 6;
const COUNT: usize = 8;
const STARTED: usize = 19;
const COMMAND: usize = 24;
/// Terminals at least this wide show when each session started.
const WIDE: u16 = 120;

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn draw(app: &App, areas: &Areas, buf: &mut Buffer) {
    let Some(hub) = &app.hub else { return };
    let bar = Style::default().bg(Color::Indexed(236)).fg(Color::Gray);
    buf.set_style(areas.header, bar);
    let live = hub.items.iter().filter(|e| e.state == State::Live).count();
    let mut head = vec![
        Span::styled(" rpctap ", bar.fg(Color::Cyan).add_modifier(Modifier::BOLD)),
        Span::styled(
            "sessions",
            bar.fg(Color::White).add_modifier(Modifier::BOLD),
        ),
    ];
    if live > 0 {
        head.push(Span::styled(
            format!("  ● {live} live"),
            bar.fg(Color::LightGreen).add_modifier(Modifier::BOLD),
        ));
    }
    buf.set_line(0, 0, &Line::from(head), areas.header.width);
    let area = areas.hub();
    let mut what = format!("  {} in {}", hub.items.len(), hub.dir.display());
    if !hub.marks.is_empty() {
        let _ = write!(
            what,
            "  ·  {} marked: Enter opens them merged",
            hub.marks.len()
        );
    }
    title(
        area,
        vec![
            Span::styled("Sessions", title_style(true)),
            Span::styled(what, Style::default().fg(Color::Gray)),
        ],
        true,
        buf,
    );
    // The reasons take the last rows, so they show however long the list is.
    let noted = refused(hub, area, buf);
    let area = ratatui::layout::Rect {
        height: area.height - noted,
        ..area
    };
    if hub.items.is_empty() {
        empty(hub, area, buf);
        return;
    }
    // Narrow terminals leave out the start time rather than the command.
    let wide = area.width >= WIDE;
    let header = format!(
        "{:MARK$}{:<STATE$} {:<NAME$} {:<PROTO$} {:>COUNT$} {:>COUNT$}  {}{:<COMMAND$}  {}",
        "",
        "state",
        "name",
        "proto",
        "messages",
        "errors",
        if wide { "started              " } else { "" },
        "command",
        "recording"
    );
    buf.set_string(
        area.x,
        area.y + 1,
        header,
        dim().add_modifier(Modifier::BOLD),
    );
    let rows = area.height.saturating_sub(2) as usize;
    let top = hub.top(rows);
    for (n, item) in hub.items.iter().enumerate().skip(top).take(rows) {
        let y = area.y + 2 + (n - top) as u16;
        let mut text = row(item, hub, wide);
        if n == hub.cursor {
            let sel = Style::default()
                .bg(Color::Indexed(24))
                .add_modifier(Modifier::BOLD);
            buf.set_style(
                ratatui::layout::Rect {
                    y,
                    height: 1,
                    ..area
                },
                sel,
            );
            text = text.patch_style(sel);
        }
        buf.set_line(area.x, y, &text, area.width);
    }
}

fn row(e: &Entry, hub: &Hub, wide: bool) -> Line<'static> {
    let state_style = match e.state {
        State::Live => Style::default()
            .fg(Color::LightGreen)
            .add_modifier(Modifier::BOLD),
        s if s.failed() => Style::default().fg(Color::LightRed),
        _ => Style::default().fg(Color::Gray),
    };
    let s = e.summary.as_ref();
    let count = |n: Option<u64>| n.map_or(String::new(), |n| n.to_string());
    let errors = s.map(|s| s.errors);
    let proto = s
        .and_then(|s| s.protocol)
        .map_or(String::new(), |p| p.as_str().to_uppercase());
    let err_style = if errors.unwrap_or(0) > 0 {
        Style::default().fg(Color::LightRed)
    } else {
        Style::default()
    };
    // Recordings in the listed directory (named in the title) go by their file name.
    let place = match &e.recording {
        Some(p) if p.parent() == Some(hub.dir.as_path()) => p
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        Some(p) => p.display().to_string(),
        None => "(not recorded)".into(),
    };
    let started = if wide {
        format!("{:<STARTED$}  ", crate::fmt::date_time(&e.info.started))
    } else {
        String::new()
    };
    Line::from(vec![
        Span::styled(
            format!("{:MARK$}", if hub.is_marked(e) { "✓" } else { "" }),
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("{:<STATE$} ", e.state.text()), state_style),
        Span::styled(
            format!("{:<NAME$} ", clip(&e.info.name, NAME)),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("{proto:<PROTO$} ")),
        Span::raw(format!("{:>COUNT$} ", count(s.map(|s| s.messages)))),
        Span::styled(format!("{:>COUNT$}", count(errors)), err_style),
        Span::styled(
            // A gap (bytes not recorded) outweighs conformance violations (`rpctap check`).
            if s.is_some_and(|s| s.gap_bytes > 0) {
                "⚠ "
            } else if s.is_some_and(|s| s.problems > 0) {
                "✗ "
            } else {
                "  "
            },
            Style::default().fg(Color::LightRed),
        ),
        Span::raw(started),
        Span::raw(format!(
            "{:<COMMAND$}  ",
            clip(&e.info.command.join(" "), COMMAND)
        )),
        // Why it never ran (the client hid the shim's stderr) matters more than where
        // its three-line recording is.
        match s.and_then(|s| s.failure.as_deref()) {
            Some(why) => Span::styled(why.to_owned(), Style::default().fg(Color::LightRed)),
            None => Span::styled(place, dim()),
        },
    ])
}

/// Why directories were not read (`Hub::refused`), one line each on the area's last
/// rows, as `rpctap ls` prints them; returns how many rows they took.
fn refused(hub: &Hub, area: ratatui::layout::Rect, buf: &mut Buffer) -> u16 {
    const MOST: u16 = 3;
    let count = u16::try_from(hub.refused.len()).unwrap_or(MOST);
    // The title and the column header stay.
    let rows = count.min(MOST).min(area.height.saturating_sub(3));
    let top = area.y + area.height - rows;
    for (y, why) in (top..).zip(hub.refused.iter().take(usize::from(rows))) {
        let text = format!("⚠ not listed: {}", crate::fmt::printable(why));
        let line = Line::styled(text, Style::default().fg(Color::LightRed));
        buf.set_line(area.x + 2, y, &line, area.width.saturating_sub(2));
    }
    rows
}

/// `s` cut to `width` characters, the cut shown with `…`.
fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn empty(hub: &Hub, area: ratatui::layout::Rect, buf: &mut Buffer) {
    let y = area.y + 2;
    if !hub.loaded {
        buf.set_string(area.x + 2, y, "looking for sessions…", dim());
        return;
    }
    buf.set_string(area.x + 2, y, "no sessions yet.", Style::default());
    let tips = [
        "Put `rpctap --` before a server command in your editor or MCP client config:",
        "its session shows here, live, as soon as it starts.",
        "Or try `rpctap demo`, or open a file: rpctap open FILE",
    ];
    for (i, tip) in tips.iter().enumerate() {
        buf.set_string(area.x + 2, y + 1 + i as u16, tip, dim());
    }
}
