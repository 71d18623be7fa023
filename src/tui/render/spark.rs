//! The header's live rates: per direction, a sparkline of messages per second and one of
//! bytes per second over the last seconds, with the last second's figures. Shown only
//! while a session is live; the counts come from `chart::rates`, kept as rows arrive.

use crate::record::Dir;
use crate::tui::app::App;
use crate::tui::chart::rates::sparkline;
use crate::tui::chart::spans::is_live;
use ratatui::style::{Color, Style};
use ratatui::text::Span;

/// Seconds a sparkline covers.
const SECONDS: usize = 10;

/// Header parts with their priority (higher is dropped first when the line is too wide):
/// message rates survive longer than byte rates.
pub fn header_parts(app: &App, bar: Style) -> Vec<(u8, Vec<Span<'static>>)> {
    if !is_live(app) {
        return Vec::new();
    }
    let rates = &app.charts.rates;
    let Some(end) = rates.end_second() else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    for (dir, color) in [
        (Dir::C2s, Color::LightBlue),
        (Dir::S2c, Color::LightMagenta),
    ] {
        let msgs = rates.series(dir, end, SECONDS, false);
        let bytes = rates.series(dir, end, SECONDS, true);
        let last = |v: &[u64]| v.last().copied().unwrap_or(0);
        parts.push((
            3,
            vec![
                Span::styled(format!("  {} ", dir.arrow()), bar.fg(color)),
                Span::styled(sparkline(&msgs), bar.fg(color)),
                Span::styled(format!(" {}/s", last(&msgs)), bar),
            ],
        ));
        parts.push((
            6,
            vec![
                Span::styled(" ", bar),
                Span::styled(sparkline(&bytes), bar.fg(Color::Indexed(109))),
                Span::styled(format!(" {}/s", crate::fmt::size(last(&bytes))), bar),
            ],
        ));
    }
    parts
}
