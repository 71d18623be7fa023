//! The stats view (`S`): per method, the counts, errors and latency percentiles of
//! `rpctap stats` (the same computation), each with a percentile bar on one logarithmic
//! axis shared by all methods; below, the selected method's latency histogram with
//! p50, p90 and p99 marked.

use super::list::{fit, title, title_style};
use crate::session::MethodStats;
use crate::tui::app::App;
use crate::tui::chart::table::{Line as TableLine, SortBy};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Number columns: (title, width, sort column).
const NUMBERS: [(&str, usize, Option<SortBy>); 9] = [
    ("count", 7, Some(SortBy::Count)),
    ("notif", 6, None),
    ("errors", 6, Some(SortBy::Errors)),
    ("pend", 5, None),
    ("canc", 5, None),
    ("p50", 8, Some(SortBy::P50)),
    ("p90", 8, Some(SortBy::P90)),
    ("p99", 8, Some(SortBy::P99)),
    ("max", 8, Some(SortBy::Max)),
];
/// Below this width the pending, cancelled and p90 columns are left out (the histogram
/// still marks p90), so that the other percentiles fit an 80-column terminal.
const WIDE: u16 = 120;

/// The number columns shown at this width (indices into `NUMBERS`).
fn shown(width: u16) -> &'static [usize] {
    if width >= WIDE {
        &[0, 1, 2, 3, 4, 5, 6, 7, 8]
    } else {
        &[0, 1, 2, 5, 7, 8]
    }
}

/// The shades of a percentile bar: up to p50, p90, p99 and the maximum.
const SHADES: [(&str, Color); 4] = [
    ("█", Color::Green),
    ("▓", Color::Yellow),
    ("▒", Color::LightRed),
    ("░", Color::DarkGray),
];

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// (table, histogram) parts of the body.
pub fn split(body: Rect) -> (Rect, Option<Rect>) {
    if body.height < 18 {
        return (body, None);
    }
    let hh = (body.height / 3).clamp(8, 14);
    let table = Rect {
        height: body.height - hh,
        ..body
    };
    let hist = Rect {
        y: body.y + table.height,
        height: hh,
        ..body
    };
    (table, Some(hist))
}

/// The table's lines, below its title and column header.
pub fn rows_area(body: Rect) -> Rect {
    let (table, _) = split(body);
    let skip = 2.min(table.height);
    Rect {
        y: table.y + skip,
        height: table.height - skip,
        ..table
    }
}

/// A logarithmic axis over latencies in µs.
#[derive(Clone, Copy)]
struct LogAxis {
    lo: f64,
    hi: f64,
    width: u16,
}

impl LogAxis {
    fn over(lo: i64, hi: i64, width: u16) -> LogAxis {
        let lo = (lo.max(1) as f64).log10().floor();
        let hi = (hi.max(1) as f64).log10().ceil().max(lo + 1.0);
        LogAxis { lo, hi, width }
    }

    fn col(&self, us: i64) -> u16 {
        let x = ((us.max(1) as f64).log10() - self.lo) / (self.hi - self.lo);
        ((x * f64::from(self.width.saturating_sub(1))).round() as u16).min(self.width - 1)
    }

    /// The latency at the left edge of column `c`.
    fn at(&self, c: u16) -> f64 {
        let x = f64::from(c) / f64::from(self.width.max(1));
        10f64.powf(self.lo + x * (self.hi - self.lo))
    }

    /// Decade labels (`1ms`, `10ms`…) on one line of `width` columns.
    fn labels(&self) -> Vec<(u16, String)> {
        (self.lo as i64..=self.hi as i64)
            .map(|d| {
                let us = 10i64.pow(d.clamp(0, 15) as u32);
                (self.col(us), decade(us))
            })
            .collect()
    }
}

/// `1µs` … `100ms`, `1s`, `10s`: a power of ten of µs, as short as it goes.
fn decade(us: i64) -> String {
    match us {
        u if u >= 1_000_000 => format!("{}s", u / 1_000_000),
        u if u >= 1_000 => format!("{}ms", u / 1_000),
        u => format!("{u}µs"),
    }
}

/// Axis labels on line `y` from column `x`, each moved left if it would not fit.
fn draw_labels(a: LogAxis, x: u16, y: u16, buf: &mut Buffer) {
    for (c, text) in a.labels() {
        let text = format!("╵{text}");
        let w = text.chars().count() as u16;
        let c = c.min(a.width.saturating_sub(w));
        buf.set_string(x + c, y, text, dim());
    }
}

pub fn draw(app: &App, body: Rect, buf: &mut Buffer) {
    let t = &app.charts.table;
    let (table, hist) = split(body);
    let lines = t.lines.as_deref().unwrap_or_default();
    let order = if t.reversed { "▲" } else { "▼" };
    let mut facts = vec![
        match lines.len() {
            1 => "1 method".to_owned(),
            n => format!("{n} methods"),
        },
        format!("{} messages", t.messages),
        format!("sorted by {} {order}", t.sort.name()),
    ];
    if let Some(f) = &app.crit.filter {
        facts.push(format!("filter \"{}\"", f.text));
    }
    let mut spans = vec![
        Span::styled("Stats", title_style(true)),
        Span::styled(
            format!("  {}", facts.join(" · ")),
            Style::default().fg(Color::Gray),
        ),
    ];
    if t.gap_bytes > 0 {
        // As `rpctap stats` says INCOMPLETE: the counts miss what the gaps held.
        let text = format!(
            " · ⚠ incomplete: {} not recorded, {} requests' answers possibly lost",
            crate::fmt::size(t.gap_bytes),
            t.unknown
        );
        spans.push(Span::styled(text, Style::default().fg(Color::LightRed)));
    }
    title(table, spans, true, buf);
    if table.height < 3 {
        return;
    }
    let cols = shown(table.width);
    let numbers: usize = cols.iter().map(|&c| NUMBERS[c].1 + 1).sum();
    let mw = (table.width as usize / 4).clamp(12, 40);
    let dist_x = 2 + mw + 1 + numbers + 1;
    let dist_w = (table.width as usize).saturating_sub(dist_x) as u16;
    let (lo, hi) = lines
        .iter()
        .filter_map(|l| Some((*l.stats.latencies.first()?, *l.stats.latencies.last()?)))
        .fold((i64::MAX, 0), |(a, b), (x, y)| (a.min(x), b.max(y)));
    let axis = (dist_w >= 8 && hi > 0).then(|| LogAxis::over(lo, hi, dist_w));
    header(app, table, (mw, cols), dist_x as u16, axis, buf);
    let rows = rows_area(body);
    if lines.is_empty() {
        buf.set_string(
            rows.x + 2,
            rows.y,
            "no requests or notifications in the view",
            dim(),
        );
        return;
    }
    let top = t.top_for(rows.height as usize);
    for (n, line) in lines
        .iter()
        .enumerate()
        .skip(top)
        .take(rows.height as usize)
    {
        let y = rows.y + (n - top) as u16;
        row(line, Rect::new(rows.x, y, rows.width, 1), mw, cols, buf);
        if let Some(a) = axis {
            percentile_bar(&line.stats, a, rows.x + dist_x as u16, y, buf);
        }
        if n == t.cursor {
            buf.set_style(
                Rect::new(rows.x, y, rows.width, 1),
                Style::default()
                    .bg(Color::Indexed(24))
                    .add_modifier(Modifier::BOLD),
            );
        }
    }
    if let (Some(h), Some(line)) = (hist, t.selected()) {
        histogram(line, h, buf);
    }
}

fn header(
    app: &App,
    area: Rect,
    (mw, cols): (usize, &[usize]),
    dist_x: u16,
    axis: Option<LogAxis>,
    buf: &mut Buffer,
) {
    let t = &app.charts.table;
    let head = dim().add_modifier(Modifier::BOLD);
    let sorted = Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    let mut spans = vec![
        Span::raw("  "),
        Span::styled(
            fit("method", mw, false),
            if t.sort == SortBy::Method {
                sorted
            } else {
                head
            },
        ),
        Span::raw(" "),
    ];
    for (name, w, by) in cols.iter().map(|&c| NUMBERS[c]) {
        let style = if by == Some(t.sort) { sorted } else { head };
        spans.push(Span::styled(fit(name, w, true), style));
        spans.push(Span::raw(" "));
    }
    buf.set_line(area.x, area.y + 1, &Line::from(spans), area.width);
    if let Some(a) = axis {
        draw_labels(a, area.x + dist_x, area.y + 1, buf);
        let legend = "█p50 ▓p90 ▒p99 ░max";
        let x = area
            .right()
            .saturating_sub(legend.chars().count() as u16 + 1);
        buf.set_string(x, area.y, format!(" {legend}"), dim());
    }
}

fn row(line: &TableLine, area: Rect, mw: usize, cols: &[usize], buf: &mut Buffer) {
    let s = &line.stats;
    let lat = |v: Option<i64>| v.map_or("-".to_owned(), crate::fmt::latency);
    let arrow = Style::default().fg(if line.arrow == crate::record::Dir::S2c.arrow() {
        Color::LightMagenta
    } else {
        Color::LightBlue
    });
    let values = [
        s.requests.to_string(),
        s.notifications.to_string(),
        s.errors.to_string(),
        s.pending.to_string(),
        s.cancelled.to_string(),
        lat(s.quantile(0.5)),
        lat(s.quantile(0.9)),
        lat(s.quantile(0.99)),
        lat(s.max()),
    ];
    let mut spans = vec![
        Span::styled(format!("{} ", line.arrow), arrow),
        Span::raw(fit(&line.method, mw, false)),
        Span::raw(" "),
    ];
    for &i in cols {
        let (w, v) = (NUMBERS[i].1, &values[i]);
        let style = match i {
            2 if s.errors > 0 => Style::default().fg(Color::Red),
            3 if s.pending > 0 => Style::default().fg(Color::Yellow),
            4 if s.cancelled > 0 => Style::default().fg(Color::Magenta),
            _ if v == "0" || v == "-" => dim(),
            _ => Style::default(),
        };
        spans.push(Span::styled(fit(v, w, true), style));
        spans.push(Span::raw(" "));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// The latencies from the fastest to the slowest, shaded by percentile.
fn percentile_bar(s: &MethodStats, a: LogAxis, x: u16, y: u16, buf: &mut Buffer) {
    let (Some(&min), Some(max)) = (s.latencies.first(), s.max()) else {
        return;
    };
    let marks = [
        s.quantile(0.5),
        s.quantile(0.9),
        s.quantile(0.99),
        Some(max),
    ];
    let mut from = a.col(min);
    for ((glyph, color), mark) in SHADES.iter().zip(marks) {
        let to = a.col(mark.unwrap_or(max));
        for c in from..=to {
            buf.set_string(x + c, y, glyph, Style::default().fg(*color));
        }
        from = to + 1;
    }
}

/// The selected method's latencies in logarithmic buckets, one column each.
fn histogram(line: &TableLine, area: Rect, buf: &mut Buffer) {
    const EIGHTHS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    let s = &line.stats;
    let head = vec![
        Span::styled(
            format!("Latency of {} {}", line.arrow, line.method),
            title_style(false),
        ),
        Span::styled(
            format!("  {} answered", s.latencies.len()),
            Style::default().fg(Color::Gray),
        ),
    ];
    title(area, head, false, buf);
    let (Some(&min), Some(max)) = (s.latencies.first(), s.max()) else {
        buf.set_string(area.x + 2, area.y + 1, "no answered requests", dim());
        return;
    };
    if area.height < 5 || area.width < 20 {
        return;
    }
    let plot = Rect::new(area.x + 1, area.y + 1, area.width - 2, area.height - 3);
    let a = LogAxis::over(min, max, plot.width);
    let below = |us: f64| s.latencies.partition_point(|&l| (l as f64) < us);
    let counts: Vec<usize> = (0..plot.width)
        .map(|c| {
            let end = if c + 1 == plot.width {
                s.latencies.len()
            } else {
                below(a.at(c + 1))
            };
            end.saturating_sub(below(a.at(c)))
        })
        .collect();
    let peak = counts.iter().copied().max().unwrap_or(1).max(1);
    let h = usize::from(plot.height);
    for (c, &n) in counts.iter().enumerate() {
        // Heights in eighths of a line; any non-empty bucket shows at least one eighth.
        let eighths = if n == 0 {
            0
        } else {
            (n * h * 8).div_ceil(peak).max(1)
        };
        for line_no in 0..h {
            let filled = eighths.saturating_sub(line_no * 8).min(8);
            let y = plot.bottom() - 1 - line_no as u16;
            if filled > 0 {
                buf.set_string(
                    plot.x + c as u16,
                    y,
                    EIGHTHS[filled],
                    Style::default().fg(Color::Cyan),
                );
            }
        }
    }
    marks(s, a, plot.x, plot.bottom(), buf);
    draw_labels(a, plot.x, plot.bottom() + 1, buf);
}

/// `▲p50 12ms` under the histogram at each percentile; percentiles too close to be
/// labelled apart share one label (`▲p90,p99 1.2s` gives the larger).
fn marks(s: &MethodStats, a: LogAxis, x: u16, y: u16, buf: &mut Buffer) {
    let mut groups: Vec<(u16, Vec<&str>, i64, Color)> = Vec::new();
    for (q, name, color) in [
        (0.5, "p50", Color::Green),
        (0.9, "p90", Color::Yellow),
        (0.99, "p99", Color::LightRed),
    ] {
        let Some(v) = s.quantile(q) else { continue };
        let c = a.col(v);
        match groups.last_mut() {
            Some(g) if c < g.0 + label_width(&g.1, g.2) + 1 => {
                g.1.push(name);
                (g.2, g.3) = (v, color);
            }
            _ => groups.push((c, vec![name], v, color)),
        }
    }
    for (c, names, v, color) in groups {
        let text = format!("▲{} {}", names.join(","), crate::fmt::latency(v));
        let c = c.min(a.width.saturating_sub(text.chars().count() as u16));
        buf.set_string(x + c, y, text, Style::default().fg(color));
    }
}

fn label_width(names: &[&str], v: i64) -> u16 {
    let text = format!("▲{} {}", names.join(","), crate::fmt::latency(v));
    text.chars().count() as u16
}
