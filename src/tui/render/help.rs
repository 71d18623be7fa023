//! The `?` overlay: every key of what is showing (hub, list, timeline, stats), in two
//! columns that fit an 80×24 terminal.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

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
    ("f", "follow (on when live)"),
    ("t", "absolute/relative time"),
    ("s", "stderr pane"),
    ("T  S", "timeline / stats view"),
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
    (">", "compose and send"),
    ("r", "resend / reattach"),
    ("i", "intercept filter"),
    ("H", "held: a e d A r"),
    ("?", "this help"),
    ("q", "quit"),
];

/// The timeline's keys; the list's filter, search, marks and follow work there too.
const TIMELINE_LEFT: &[(&str, &str)] = &[
    ("j k ↑ ↓", "select a request"),
    ("PgUp PgDn", "page"),
    ("g G Home End", "first / last"),
    ("+ -", "zoom in / out"),
    ("h l ← →", "pan the time axis"),
    ("0 z", "fit the rows shown"),
    ("f", "follow the live edge"),
    ("Enter", "this message in the list"),
    ("mouse", "wheel, click"),
];

const TIMELINE_RIGHT: &[(&str, &str)] = &[
    ("━ ═", "request → / ←, send→answer"),
    ("▶", "pending (grows live)"),
    ("✗ ✕", "error / cancelled"),
    ("● ◆", "notification → / ←"),
    ("/ e", "filter / errors only"),
    ("n N p", "search / pair"),
    ("S", "stats view"),
    ("T Esc", "back to the list"),
    ("?", "this help"),
    ("q", "quit"),
];

/// The stats view's keys.
const STATS_LEFT: &[(&str, &str)] = &[
    ("j k ↑ ↓", "select a method"),
    ("PgUp PgDn", "page"),
    ("g G Home End", "first / last"),
    ("o > →  < ←", "sort: next / previous"),
    ("O", "reverse the order"),
    ("Enter", "timeline of this method"),
    ("mouse", "wheel, click"),
];

const STATS_RIGHT: &[(&str, &str)] = &[
    ("█ ▓ ▒ ░", "≤p50 ≤p90 ≤p99 ≤max"),
    ("axis", "latency, logarithmic"),
    ("/ e", "filter / errors only"),
    ("T", "timeline view"),
    ("S Esc", "back to the list"),
    ("?", "this help"),
    ("q", "quit"),
];

/// Which keys the overlay lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Hub,
    Viewer,
    Timeline,
    Stats,
}

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

/// The keys of what is showing.
pub fn draw(screen: Rect, buf: &mut Buffer, keys: Keys) {
    let (left, right) = match keys {
        Keys::Hub => (HUB_LEFT, HUB_RIGHT),
        Keys::Viewer => (LEFT, RIGHT),
        Keys::Timeline => (TIMELINE_LEFT, TIMELINE_RIGHT),
        Keys::Stats => (STATS_LEFT, STATS_RIGHT),
    };
    let w = 78.min(screen.width);
    let h = (left.len().max(right.len()) as u16 + 4).min(screen.height);
    let area = super::centred_overlay(screen, w, h, buf);
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
