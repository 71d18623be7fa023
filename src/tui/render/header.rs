//! The header line (session, command, protocol, framing per direction, counts, state) and
//! the footer line (the prompt, or the status message, or key hints).

use crate::tui::app::App;
use crate::tui::prompt::PromptKind;
use crate::tui::view::{Counts, SourceState as Feed};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

fn bar() -> Style {
    Style::default().bg(Color::Indexed(236)).fg(Color::Gray)
}

fn sep() -> Span<'static> {
    Span::styled(" │ ", bar().fg(Color::DarkGray))
}

/// Header parts, each with a priority: when the line is too wide, parts are dropped from
/// the highest number down, so the state and error counts survive an 80-column terminal.
struct Parts(Vec<(u8, Vec<Span<'static>>)>);

impl Parts {
    fn add(&mut self, prio: u8, spans: Vec<Span<'static>>) {
        self.0.push((prio, spans));
    }

    fn fit(mut self, width: usize) -> Line<'static> {
        let w = |p: &Parts| -> usize { p.0.iter().flat_map(|(_, s)| s).map(Span::width).sum() };
        while w(&self) > width {
            let Some(worst) = self.0.iter().map(|(p, _)| *p).max().filter(|&p| p > 0) else {
                break;
            };
            let at = self.0.iter().rposition(|(p, _)| *p == worst).unwrap_or(0);
            self.0.remove(at);
        }
        Line::from(self.0.into_iter().flat_map(|(_, s)| s).collect::<Vec<_>>())
    }
}

// One span after the other, in the order they show.
#[allow(clippy::too_many_lines)]
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, bar());
    let sessions = &app.timeline.sessions;
    let mut parts = Parts(Vec::new());
    let strong = bar().fg(Color::White).add_modifier(Modifier::BOLD);
    parts.add(
        0,
        vec![Span::styled(
            " rpctap ",
            bar().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        )],
    );
    let mut total = Counts::default();
    for s in sessions {
        let c = s.counts;
        total.messages += c.messages;
        total.requests += c.requests;
        total.answered += c.answered;
        total.errors += c.errors;
        total.stderr += c.stderr;
        total.noise += c.noise;
    }
    match sessions.as_slice() {
        [s] => {
            parts.add(0, vec![Span::styled(s.label.clone(), strong)]);
            if let Some(info) = &s.store.info {
                parts.add(
                    5,
                    vec![Span::styled(format!("  {}", info.command.join(" ")), bar())],
                );
            }
            if let Some(p) = s.store.protocol {
                parts.add(
                    2,
                    vec![
                        sep(),
                        Span::styled(p.as_str().to_uppercase(), bar().fg(Color::White)),
                    ],
                );
            }
            let proto = s.store.protocol;
            let f = |d: Option<crate::wire::Framing>| {
                d.map_or("?", |f| crate::tui::labels::framing(f, proto))
            };
            let [c2s, s2c] = s.store.framing;
            if c2s.is_some() || s2c.is_some() {
                let text = format!("→ {}  ← {}", f(c2s), f(s2c));
                match (c2s, s2c) {
                    (Some(a), Some(b)) if a != b => {
                        let warn = bar().fg(Color::LightRed).add_modifier(Modifier::BOLD);
                        parts.add(
                            0,
                            vec![
                                sep(),
                                Span::styled(text, warn),
                                Span::styled(" ⚠ framing mismatch", warn),
                            ],
                        );
                    }
                    _ => parts.add(3, vec![sep(), Span::styled(text, bar())]),
                }
            }
        }
        many => {
            let names: Vec<&str> = many.iter().map(|s| s.label.as_str()).collect();
            let text = format!("{} sessions: {}", many.len(), names.join(", "));
            parts.add(0, vec![Span::styled(text, strong)]);
        }
    }
    parts.add(
        0,
        vec![
            sep(),
            Span::styled(format!("{} msgs", total.messages), bar()),
        ],
    );
    let lost: u64 = sessions.iter().map(|s| s.store.gap_bytes()).sum();
    if lost > 0 {
        let text = format!("⚠ {} not recorded", crate::fmt::size(lost));
        parts.add(
            0,
            vec![sep(), Span::styled(text, bar().fg(Color::LightRed))],
        );
    }
    for (n, what, color, prio) in [
        (total.errors, "errors", Color::LightRed, 0),
        (total.pending(), "pending", Color::Yellow, 0),
        (total.stderr, "stderr", Color::Gray, 4),
        (total.noise, "noise", Color::DarkGray, 4),
    ] {
        if n > 0 {
            let spans = vec![
                Span::styled(" · ", bar()),
                Span::styled(format!("{n} {what}"), bar().fg(color)),
            ];
            parts.add(prio, spans);
        }
    }
    for (prio, spans) in super::header_parts(app, bar()) {
        parts.add(prio, spans);
    }
    // The state goes last but must survive: give it the top priority.
    parts.add(0, vec![sep(), state(app)]);
    buf.set_line(area.x, area.y, &parts.fit(area.width as usize), area.width);
}

fn state(app: &App) -> Span<'static> {
    let sessions = &app.timeline.sessions;
    let feeds: Vec<&Feed> = sessions.iter().map(|s| &s.feed).collect();
    let live = bar().fg(Color::LightGreen).add_modifier(Modifier::BOLD);
    if let Some(Feed::Failed(_)) = feeds.iter().find(|f| matches!(f, Feed::Failed(_))) {
        return Span::styled("source failed", bar().fg(Color::LightRed));
    }
    if feeds.iter().any(|f| **f == Feed::CutOff) {
        return Span::styled("cut off · r reattaches", bar().fg(Color::LightRed));
    }
    if feeds.iter().any(|f| **f == Feed::Loading) {
        return Span::styled("loading…", bar().fg(Color::Yellow));
    }
    if feeds.iter().any(|f| **f == Feed::Live) {
        return Span::styled("● live", live);
    }
    match sessions.as_slice() {
        [s] => {
            let text = match s.store.exit {
                Some(e) => match (e.code, e.signal) {
                    (_, Some(sig)) => format!("ended · killed by signal {sig}"),
                    (Some(c), None) => format!("ended · exit {c}"),
                    (None, None) => "ended".into(),
                },
                None => "ended (no exit recorded)".into(),
            };
            let failed = s
                .store
                .exit
                .is_some_and(|e| e.signal.is_some() || e.code.unwrap_or(0) != 0);
            Span::styled(
                text,
                bar().fg(if failed { Color::LightRed } else { Color::Gray }),
            )
        }
        _ => Span::styled("ended", bar()),
    }
}

pub fn prompt_prefix(kind: PromptKind) -> String {
    format!("{}: ", kind.label())
}

const HINTS: &str =
    "?:help  /:filter  n:search  f:follow  e:errors  p:pair  1-3:tabs  Tab:pane  q:quit";
const SHORT_HINTS: &str = "?:help  /:filter  n:search  f:follow  e:errors  p:pair  q:quit";
const HUB_HINTS: &str =
    "Enter:open  Space:mark (Enter opens marked merged)  j/k:move  ?:help  q:quit";

pub fn footer(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    buf.set_style(area, Style::default());
    let line = if let Some(p) = &app.prompt {
        let mut spans = vec![Span::styled(
            prompt_prefix(p.kind),
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        )];
        let err_col = app.prompt_error.as_ref().map(|e| e.column);
        for (i, c) in p.text.chars().enumerate() {
            let style = if Some(i) == err_col {
                Style::default().bg(Color::Red).fg(Color::White)
            } else {
                Style::default()
            };
            spans.push(Span::styled(c.to_string(), style));
        }
        match (&app.prompt_error, p.kind) {
            (_, PromptKind::Save) => spans.push(Span::styled("   Enter: save  Esc: cancel", dim())),
            (Some(e), _) => spans.push(Span::styled(
                format!("   ✗ column {}: {}", e.column + 1, e.message),
                Style::default().fg(Color::LightRed),
            )),
            (None, _) => spans.push(Span::styled("   ✓", Style::default().fg(Color::LightGreen))),
        }
        Line::from(spans)
    } else if let Some(s) = &app.status {
        let color = if s.error {
            Color::LightRed
        } else {
            Color::LightGreen
        };
        let mut spans = filter_spans(app);
        spans.push(Span::styled(s.text.clone(), Style::default().fg(color)));
        Line::from(spans)
    } else {
        let hints = if app.hub.is_some() && app.page == crate::tui::app::Page::Hub {
            HUB_HINTS
        } else if let Some(h) = crate::tui::chart::hints(app) {
            h
        } else if (area.width as usize) < HINTS.len() {
            SHORT_HINTS
        } else {
            HINTS
        };
        let mut spans = filter_spans(app);
        spans.push(Span::styled(hints, dim()));
        Line::from(spans)
    };
    buf.set_line(area.x, area.y, &line, area.width);
}

/// The filter in force, at the start of the footer.
fn filter_spans(app: &App) -> Vec<Span<'static>> {
    match &app.crit.filter {
        Some(f) if app.page == crate::tui::app::Page::Viewer => vec![
            Span::styled(
                "/",
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(f.text.clone(), Style::default().fg(Color::Cyan)),
            Span::raw("   "),
        ],
        _ => Vec::new(),
    }
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}
