//! The timeline view (`T`): one row per request, drawn as a bar from its send to its
//! response on a shared time axis, like a browser's network waterfall. Notifications are
//! ticks; pending requests run to the live edge; errors, cancellations and
//! server-to-client requests have their own colour and glyph. Above the rows, an overview
//! of the whole session (where the window is) and the axis.
//!
//! Only the rows on screen are resolved, and the overview costs two binary searches per
//! column, so a frame costs the same with a hundred requests or a million.

use super::list::{fit, title, title_style};
use crate::record::Dir;
use crate::rpc::Protocol;
use crate::session::Status;
use crate::tui::app::App;
use crate::tui::chart::spans::{self, Item, Shape, Window};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

/// Lines above the rows: title, overview, axis.
const HEAD: u16 = 3;
/// Columns at least between two axis labels.
const LABEL_GAP: i64 = 14;

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// The rows of items, below the title, overview and axis.
pub fn rows_area(body: Rect) -> Rect {
    let skip = HEAD.min(body.height);
    Rect {
        y: body.y + skip,
        height: body.height - skip,
        ..body
    }
}

/// Columns left of the bars: arrow, method, and (when wide enough) latency.
fn gutter(width: u16) -> u16 {
    (width / 4).clamp(24.min(width), 44)
}

/// Gutters narrower than this leave the latency to the text after the bar.
const GUTTER_LATENCY: u16 = 32;

pub fn draw(app: &App, body: Rect, buf: &mut Buffer) {
    let sp = &app.charts.spans;
    let rows = rows_area(body);
    let sel = sp.selected(app);
    let top = sp.top_for(sel, rows.height as usize);
    let shown = top..(top + rows.height as usize).min(sp.items.len());
    let w = spans::window(app, shown.clone());
    draw_title(app, body, sel, w, buf);
    if body.height < HEAD + 1 {
        return;
    }
    let g = gutter(body.width);
    let bars = Rect {
        x: body.x + g,
        width: body.width - g,
        ..rows
    };
    if bars.width < 4 {
        return;
    }
    overview(
        app,
        w,
        Rect {
            y: body.y + 1,
            height: 1,
            ..bars
        },
        buf,
    );
    buf.set_string(body.x + 1, body.y + 1, "overview", dim());
    let ticks = axis(
        app,
        w,
        Rect {
            y: body.y + 2,
            height: 1,
            ..bars
        },
        buf,
    );
    if app.timeline.sessions.iter().any(|s| s.store.untimed()) {
        let msg = "this log has no times (every message got the file's): nothing to place on a \
                   time axis; S counts its messages";
        buf.set_string(rows.x + 2, rows.y, msg, dim());
        return;
    }
    if sp.items.is_empty() {
        let msg = if app.view.is_empty() {
            "nothing in the view (/ filter, e errors)"
        } else {
            "no requests or notifications in the view"
        };
        buf.set_string(rows.x + 2, rows.y, msg, dim());
        return;
    }
    let edge = spans::edge(app);
    for (n, k) in shown.enumerate() {
        let y = rows.y + n as u16;
        let it = spans::item(app, k);
        for &c in &ticks {
            buf.set_string(bars.x + c, y, "┊", Style::default().fg(Color::Indexed(238)));
        }
        label(app, &it, Rect::new(body.x, y, g, 1), buf);
        bar(
            &it,
            w,
            edge,
            Rect {
                y,
                height: 1,
                ..bars
            },
            buf,
        );
        if Some(k) == sel {
            let row = Rect::new(body.x, y, body.width, 1);
            buf.set_style(
                row,
                Style::default()
                    .bg(Color::Indexed(24))
                    .add_modifier(Modifier::BOLD),
            );
        }
    }
}

fn draw_title(app: &App, area: Rect, sel: Option<usize>, w: Window, buf: &mut Buffer) {
    let sp = &app.charts.spans;
    let zero = app.timeline.start();
    let mut facts = vec![format!("{}/{}", sel.map_or(0, |s| s + 1), sp.items.len())];
    facts.push(format!(
        "{} … {} ({})",
        spans::axis_label(w.start, zero, w.span / 100),
        spans::axis_label(w.end(), zero, w.span / 100),
        crate::fmt::latency(w.span)
    ));
    if let Some(f) = &app.crit.filter {
        facts.push(format!("filter \"{}\"", f.text));
    }
    if app.crit.errors_only {
        facts.push("errors only".into());
    }
    if app.follow {
        facts.push("following".into());
    }
    let spans = vec![
        Span::styled("Timeline", title_style(true)),
        Span::styled(
            format!("  {}", facts.join(" · ")),
            Style::default().fg(Color::Gray),
        ),
    ];
    title(area, spans, true, buf);
}

/// Requests over the whole session, one column per stretch of time, with the window
/// highlighted.
fn overview(app: &App, w: Window, area: Rect, buf: &mut Buffer) {
    const BARS: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    let items = &app.charts.spans.items;
    let (Some(&first), Some(&last)) = (items.first(), items.last()) else {
        return;
    };
    let t0 = spans::view_time(app, first as usize);
    let t1 = spans::edge(app).max(spans::view_time(app, last as usize));
    let whole = Window {
        start: t0,
        span: t1.saturating_sub(t0).max(1),
    };
    let at = |t: i64| items.partition_point(|&v| spans::view_time(app, v as usize) < t);
    let counts: Vec<usize> = (0..area.width)
        .map(|c| {
            let (a, b) = (
                whole.time_at(c, area.width),
                whole.time_at(c + 1, area.width),
            );
            let end = if c + 1 == area.width { b + 1 } else { b };
            at(end).saturating_sub(at(a))
        })
        .collect();
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let (w0, w1) = (
        whole.col(w.start, area.width),
        whole.col(w.end(), area.width),
    );
    for (c, &n) in counts.iter().enumerate() {
        let inside = (c as i64) >= w0.min(i64::from(area.width) - 1) && (c as i64) <= w1.max(w0);
        let style = if inside {
            Style::default().fg(Color::White).bg(Color::Indexed(238))
        } else {
            Style::default().fg(Color::Blue)
        };
        let glyph = match n {
            0 => " ",
            n => BARS[(n * 8).div_ceil(max).clamp(1, 8) - 1],
        };
        buf.set_string(area.x + c as u16, area.y, glyph, style);
    }
}

/// The axis labels; returns the columns of the ticks, for the grid.
fn axis(app: &App, w: Window, area: Rect, buf: &mut Buffer) -> Vec<u16> {
    let step = spans::tick_step((w.span.saturating_mul(LABEL_GAP) / i64::from(area.width)).max(1));
    let zero = app.timeline.start();
    // Ticks fall on round times since the session's start, as the labels are written.
    let from = w.start.saturating_sub(zero.0);
    let mut t = zero
        .0
        .saturating_add(from.div_euclid(step).saturating_mul(step));
    let mut cols = Vec::new();
    while t < w.end() {
        let c = w.col(t, area.width);
        if c >= 0 && c < i64::from(area.width) {
            let c = c as u16;
            let text = format!("╵{}", spans::axis_label(t, zero, step));
            buf.set_string(area.x + c, area.y, &text, dim());
            cols.push(c);
        }
        match t.checked_add(step) {
            Some(n) => t = n,
            None => break,
        }
    }
    cols
}

/// The gutter: direction, method, latency or state.
fn label(app: &App, it: &Item, area: Rect, buf: &mut Buffer) {
    let store = app.timeline.store(it.row);
    let i = it.row.row as usize;
    let row = store.row(i);
    let arrow = Style::default().fg(match row.dir {
        Dir::C2s => Color::LightBlue,
        Dir::S2c => Color::LightMagenta,
    });
    let what = match (it.shape, it.status, it.end) {
        (Shape::Request, Status::Pending, _) if it.lost => "in a gap?".to_owned(),
        (Shape::Request, Status::Pending, _) => "pending".to_owned(),
        (Shape::Request, Status::Cancelled, None) => "cancel".to_owned(),
        (Shape::Request, _, Some(e)) => crate::fmt::latency(e.saturating_sub(it.start)),
        // DAP's notifications are its events.
        (Shape::Notification, ..) if store.protocol == Some(Protocol::Dap) => "event".to_owned(),
        (Shape::Notification, ..) => "notif".to_owned(),
        (Shape::Orphan, ..) => "orphan".to_owned(),
        _ => "invalid".to_owned(),
    };
    let method = store.method(i).unwrap_or(match it.shape {
        Shape::Other => "(invalid)",
        _ => "?",
    });
    // Merged sessions: which one the request belongs to, before its method.
    let method = if app.timeline.is_merged() {
        let label = &app.timeline.sessions[it.row.session as usize].label;
        format!("{}: {method}", fit(label, 8, false).trim_end())
    } else {
        method.to_owned()
    };
    let with_latency = area.width >= GUTTER_LATENCY;
    let lw = if with_latency { 9 } else { 0 };
    let mw = (area.width as usize).saturating_sub(2 + lw + 1);
    let style = status_style(it, row.dir);
    let name_style = match it.shape {
        Shape::Notification => Style::default().fg(Color::Gray),
        _ => Style::default(),
    };
    buf.set_string(area.x, area.y, format!("{} ", row.dir.arrow()), arrow);
    buf.set_string(area.x + 2, area.y, fit(&method, mw, false), name_style);
    if with_latency {
        buf.set_string(
            area.x + 2 + mw as u16,
            area.y,
            format!("{} ", fit(&what, lw, true)),
            style,
        );
    }
}

/// The colour of an item's bar and state.
fn status_style(it: &Item, dir: Dir) -> Style {
    let fg = match (it.shape, it.status) {
        _ if it.lost => Color::Gray,
        (_, Status::Error) | (Shape::Other, _) => Color::Red,
        (_, Status::Cancelled) => Color::Magenta,
        (_, Status::Pending) => Color::Yellow,
        (Shape::Notification, _) => Color::Cyan,
        (Shape::Orphan, _) => Color::Gray,
        _ if dir == Dir::S2c => Color::LightMagenta,
        _ => Color::Green,
    };
    Style::default().fg(fg)
}

/// The bar (or tick) of one item, clipped to the window, with its latency after it.
fn bar(it: &Item, w: Window, edge: i64, area: Rect, buf: &mut Buffer) {
    let width = i64::from(area.width);
    let dir = it.dir;
    let style = status_style(it, dir);
    let x0 = w.col(it.start, area.width);
    let end = match (it.end, it.status) {
        (Some(e), _) => Some(e),
        (None, Status::Pending) => Some(edge.max(it.start)),
        _ => None,
    };
    let Some(end) = end.filter(|_| it.shape == Shape::Request) else {
        // A tick: notifications, orphans, invalid messages, cancelled unanswered requests.
        let glyph = match (it.shape, it.status) {
            (Shape::Request, _) => "✕",
            (Shape::Notification, _) if dir == Dir::S2c => "◆",
            (Shape::Notification, _) => "●",
            (Shape::Orphan, _) => "◇",
            _ => "✗",
        };
        match x0 {
            x if x < 0 => buf.set_string(area.x, area.y, "‹", style),
            x if x >= width => buf.set_string(area.right() - 1, area.y, "›", style),
            x => buf.set_string(area.x + x as u16, area.y, glyph, style),
        }
        return;
    };
    let x1 = w.col(end, area.width);
    if x1 < 0 {
        buf.set_string(area.x, area.y, "‹", style);
        return;
    }
    if x0 >= width {
        buf.set_string(area.right() - 1, area.y, "›", style);
        return;
    }
    let glyph = if dir == Dir::S2c { "═" } else { "━" };
    let (a, b) = (x0.max(0), x1.min(width - 1));
    for x in a..=b {
        buf.set_string(area.x + x as u16, area.y, glyph, style);
    }
    let cap = match it.status {
        Status::Pending if it.lost => Some("?"),
        Status::Pending => Some("▶"),
        Status::Error => Some("✗"),
        Status::Cancelled => Some("✕"),
        _ => None,
    };
    if let Some(cap) = cap.filter(|_| x1 < width) {
        buf.set_string(area.x + b as u16, area.y, cap, style);
    }
    let text = match (it.status, it.end) {
        (Status::Pending, _) if it.lost => " answer possibly in a gap".to_owned(),
        (Status::Pending, _) => format!(
            " pending {}",
            crate::fmt::latency(edge.saturating_sub(it.start))
        ),
        (_, Some(e)) => format!(" {}", crate::fmt::latency(e.saturating_sub(it.start))),
        _ => String::new(),
    };
    if x1 < width && b + 1 + (text.chars().count() as i64) <= width {
        buf.set_string(area.x + b as u16 + 1, area.y, &text, dim());
    }
}
