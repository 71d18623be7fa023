//! The `?` overlay: every key, in two columns that fit an 80×24 terminal.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

const LEFT: &[(&str, &str)] = &[
    ("j k ↑ ↓", "move / scroll"),
    ("PgUp PgDn", "page"),
    ("g G Home End", "first / last"),
    ("Tab", "switch pane"),
    ("Enter", "list → detail"),
    ("Esc", "back to list"),
    ("1 2 3  h l", "JSON / pair / wire"),
    ("p", "jump to pair"),
    ("P", "conformance problems"),
    ("f", "follow new messages"),
    ("t", "absolute/relative time"),
    ("s", "stderr pane"),
    ("mouse", "wheel, click"),
];

const RIGHT: &[(&str, &str)] = &[
    ("/", "filter (↑↓ history)"),
    ("n N", "search next / prev"),
    ("Ctrl-F", "new search"),
    ("e", "errors only"),
    ("m", "mark / unmark"),
    ("M", "marked only"),
    ("c", "clear view"),
    ("C", "show cleared rows"),
    ("y", "copy (OSC 52)"),
    ("w", "save view (JSONL)"),
    ("r", "reattach a cut-off feed"),
    ("?", "this help"),
    ("q", "quit"),
];

/// The hub's keys.
const HUB_LEFT: &[(&str, &str)] = &[
    ("j k ↑ ↓", "move"),
    ("PgUp PgDn", "page"),
    ("g G Home End", "first / last"),
    ("mouse", "wheel, click"),
];

const HUB_RIGHT: &[(&str, &str)] = &[
    ("Enter", "open (marked: merged)"),
    ("Space", "mark / unmark"),
    ("?", "this help"),
    ("q", "quit (viewer: back here)"),
];

/// The keys of the hub (`hub`) or of the viewer.
pub fn draw(screen: Rect, buf: &mut Buffer, hub: bool) {
    let (left, right) = if hub {
        (HUB_LEFT, HUB_RIGHT)
    } else {
        (LEFT, RIGHT)
    };
    let w = 78.min(screen.width);
    let h = (left.len().max(right.len()) as u16 + 4).min(screen.height);
    let area = Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    );
    Clear.render(area, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(Color::Cyan))
        .title(Span::styled(
            " keys ",
            Style::default().add_modifier(Modifier::BOLD),
        ))
        .title_bottom(Line::from(" any key closes ").right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    let half = inner.width / 2;
    for (col, keys) in [(0, left), (half, right)] {
        for (n, (k, what)) in keys.iter().enumerate() {
            let y = inner.y + 1 + n as u16;
            if y >= inner.bottom() {
                break;
            }
            let line = Line::from(vec![
                Span::styled(format!(" {k:>12} "), Style::default().fg(Color::Cyan)),
                Span::raw(*what),
            ]);
            buf.set_line(inner.x + col, y, &line, half);
        }
    }
}
