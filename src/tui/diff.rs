//! `rpctap ui A B --diff`: two sessions compared (`replay::compare`, the comparison
//! `rpctap diff` prints), shown as a list of differences — changed, added, removed — and
//! the selected one in detail: its diff lines, or the request and response only one side
//! has. Read-only and static, so its loop is simpler than the viewer's: draw, wait for a
//! key, update, draw.
//!
//! Not responsible for: comparing (see `replay::compare`), live sessions.

use crate::fmt::printable;
use crate::replay::{describe, Change, Comparison, LatencyChange};
use crate::session::Store;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::{Frame, Terminal};

/// Body lines shown per side in the detail pane at most.
const MAX_BODY_LINES: usize = 400;

/// The state of the diff view.
pub struct DiffView {
    a: Store,
    b: Store,
    /// The file names of A and B, for the header.
    names: (String, String),
    cmp: Comparison,
    selected: usize,
    /// Lines scrolled in the detail pane.
    scroll: u16,
    pub quit: bool,
}

impl DiffView {
    pub fn new(a: Store, b: Store, names: (String, String), cmp: Comparison) -> DiffView {
        DiffView {
            a,
            b,
            names,
            cmp,
            selected: 0,
            scroll: 0,
            quit: false,
        }
    }

    pub fn selected(&self) -> Option<&Change> {
        self.cmp.changes.get(self.selected)
    }

    /// Applies one key.
    pub fn key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let last = self.cmp.changes.len().saturating_sub(1);
        let before = self.selected;
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => self.quit = true,
            KeyCode::Char('j') | KeyCode::Down => self.selected = (self.selected + 1).min(last),
            KeyCode::Char('k') | KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Char('g') | KeyCode::Home => self.selected = 0,
            KeyCode::Char('G') | KeyCode::End => self.selected = last,
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Char('J') => self.scroll = self.scroll.saturating_add(1),
            KeyCode::Char('K') => self.scroll = self.scroll.saturating_sub(1),
            _ => {}
        }
        if self.selected != before {
            self.scroll = 0;
        }
    }

    fn header(&self) -> Line<'static> {
        let c = &self.cmp;
        Line::from(vec![
            Span::styled(
                format!(
                    " diff {} → {} ",
                    printable(&self.names.0),
                    printable(&self.names.1)
                ),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                " {} matched, {} alike, {} changed, {} added, {} removed",
                c.matched,
                c.same,
                c.count(|x| matches!(x, Change::Changed(..))),
                c.count(|x| matches!(x, Change::Added(_))),
                c.count(|x| matches!(x, Change::Removed(_))),
            )),
        ])
    }

    fn item(&self, change: &Change) -> ListItem<'static> {
        let (mark, color, store, row) = match change {
            Change::Changed(_, rb, _) => ("~ changed", Color::Yellow, &self.b, *rb),
            Change::Added(rb) => ("+ added  ", Color::Green, &self.b, *rb),
            Change::Removed(ra) => ("- removed", Color::Red, &self.a, *ra),
        };
        let method = printable(store.method(row).unwrap_or("?"));
        let latency = match change {
            Change::Changed(ra, rb, _) => format!(
                "{} → {}",
                lat(self.a.latency(*ra)),
                lat(self.b.latency(*rb))
            ),
            _ => lat(store.latency(row)),
        };
        ListItem::new(Line::from(vec![
            Span::styled(format!("{mark} "), Style::new().fg(color)),
            Span::raw(format!("{method:<40} ")),
            Span::styled(latency, Style::new().add_modifier(Modifier::DIM)),
        ]))
    }

    /// The detail of the selected difference.
    pub fn detail(&self) -> Vec<Line<'static>> {
        let Some(change) = self.selected() else {
            return vec![Line::from(
                "No differences: B answers every request of A alike.",
            )];
        };
        let mut out = Vec::new();
        match change {
            Change::Changed(ra, rb, lines) => {
                out.push(Line::from(format!(
                    "A {}   B {}",
                    describe(&self.a, *ra),
                    describe(&self.b, *rb)
                )));
                out.push(Line::from(""));
                for l in lines {
                    let color = match l.chars().next() {
                        Some('+') => Color::Green,
                        Some('-') => Color::Red,
                        _ => Color::Yellow,
                    };
                    out.push(Line::styled(printable(l), Style::new().fg(color)));
                }
            }
            Change::Added(rb) => Self::one_side(&mut out, "only in B", &self.b, *rb),
            Change::Removed(ra) => Self::one_side(&mut out, "only in A", &self.a, *ra),
        }
        if let Some(l) = self.method_of(change).and_then(|m| self.cmp.latency.get(m)) {
            out.push(Line::from(""));
            out.push(Line::styled(
                format!(
                    "latency p50 of this method: {} → {}",
                    lat(LatencyChange::p50(&l.a)),
                    lat(LatencyChange::p50(&l.b))
                ),
                Style::new().add_modifier(Modifier::DIM),
            ));
        }
        out
    }

    fn method_of(&self, change: &Change) -> Option<&str> {
        match change {
            Change::Changed(_, rb, _) | Change::Added(rb) => self.b.method(*rb),
            Change::Removed(ra) => self.a.method(*ra),
        }
    }

    fn one_side(out: &mut Vec<Line<'static>>, what: &str, store: &Store, row: usize) {
        out.push(Line::from(format!("{} — {what}", describe(store, row))));
        for (title, body) in [
            ("request", Some(store.body(row))),
            ("response", store.pair(row).map(|p| store.body(p))),
        ] {
            out.push(Line::from(""));
            out.push(Line::styled(
                title.to_owned(),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            let Some(body) = body else {
                out.push(Line::from("(never answered)"));
                continue;
            };
            let text = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
            out.extend(
                text.lines()
                    .take(MAX_BODY_LINES)
                    .map(|l| Line::from(printable(l))),
            );
        }
    }

    /// Draws the view; never changes it.
    pub fn render(&self, f: &mut Frame) {
        let [header, list, detail, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Percentage(40),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(f.area());
        f.render_widget(Paragraph::new(self.header()), header);
        let items: Vec<ListItem> = self.cmp.changes.iter().map(|c| self.item(c)).collect();
        let mut state = ListState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(
            List::new(items)
                .block(Block::new().borders(Borders::TOP).title(" differences "))
                .highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
            list,
            &mut state,
        );
        f.render_widget(
            Paragraph::new(self.detail())
                .block(Block::new().borders(Borders::TOP).title(" detail "))
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0)),
            detail,
        );
        f.render_widget(
            Paragraph::new(" j/k select  PgUp/PgDn J/K scroll detail  g/G first/last  q quit")
                .style(Style::new().add_modifier(Modifier::DIM)),
            footer,
        );
    }
}

fn lat(us: Option<i64>) -> String {
    us.map_or("-".into(), crate::fmt::latency)
}

/// Draws, then applies each key until `q`. Input is a parameter, so tests drive it
/// without a terminal.
pub async fn run<B: Backend>(
    view: &mut DiffView,
    terminal: &mut Terminal<B>,
    mut input: impl Stream<Item = std::io::Result<Event>> + Unpin,
) -> std::io::Result<()> {
    terminal.draw(|f| view.render(f))?;
    while let Some(event) = input.next().await {
        match event? {
            Event::Key(k) => view.key(k),
            Event::Resize(..) => {}
            _ => continue,
        }
        if view.quit {
            break;
        }
        terminal.draw(|f| view.render(f))?;
    }
    Ok(())
}
