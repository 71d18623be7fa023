//! The timeline view's index and time window: which rows of the view are drawn as a row of
//! the timeline (an item), and which stretch of time the axis shows.
//!
//! An item is a request (a bar from its send to its response), a notification (a tick),
//! a response whose request is not in the view (the bar of that request), an orphan
//! response or an invalid message (ticks). Responses whose request is in the view are
//! drawn on their request's row, so they are not items of their own. The index holds one
//! `u32` (a view index) per item and is kept up to date incrementally, so a frame only
//! looks at the rows on screen.
//!
//! Not responsible for: drawing (see `render::timeline`), the filter (the app's `View`).

use crate::record::{Dir, Micros};
use crate::rpc::Kind;
use crate::session::Status;
use crate::tui::app::App;
use crate::tui::view::{Ref, SourceState, Timeline, View};

/// The narrowest and widest time window the zoom allows, in µs.
pub const MIN_SPAN: i64 = 10;
pub const MAX_SPAN: i64 = 30 * 86_400 * 1_000_000;

/// A stretch of the time axis, in µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub span: i64,
}

impl Window {
    pub fn end(&self) -> i64 {
        self.start.saturating_add(self.span)
    }

    /// The column (0..width) of time `t`, or where it would be off either edge.
    pub fn col(&self, t: i64, width: u16) -> i64 {
        let d = i128::from(t) - i128::from(self.start);
        let c = d * i128::from(width) / i128::from(self.span.max(1));
        c.clamp(-1, i128::from(width)) as i64
    }

    /// The time at the left edge of column `c`.
    pub fn time_at(&self, c: u16, width: u16) -> i64 {
        let d = i128::from(self.span) * i128::from(c) / i128::from(width.max(1));
        self.start.saturating_add(d as i64)
    }

    /// This window zoomed by `factor` (< 1 zooms in) keeping time `at` where it is.
    #[must_use]
    pub fn zoom(&self, factor: f64, at: i64) -> Window {
        let span = ((self.span as f64 * factor).round() as i64).clamp(MIN_SPAN, MAX_SPAN);
        let left = (at.saturating_sub(self.start)) as f64 / self.span.max(1) as f64;
        let start = at.saturating_sub((left.clamp(0.0, 1.0) * span as f64) as i64);
        Window { start, span }
    }
}

/// What an item is drawn as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Request,
    Notification,
    /// A response no request was seen for.
    Orphan,
    /// An invalid, oversized or batch message: a tick.
    Other,
}

/// One row of the timeline, resolved from the store for drawing.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// The view index the item stands for (where Enter goes in the list).
    pub view: usize,
    /// The row the item is drawn from: the request of a bar, else the message itself.
    pub row: Ref,
    pub start: i64,
    /// The response's time, for an answered request.
    pub end: Option<i64>,
    pub shape: Shape,
    pub status: Status,
    /// The direction of the request (or message): server-to-client requests differ.
    pub dir: Dir,
    /// A pending request whose answer may be in a gap of the recording.
    pub lost: bool,
}

/// The timeline view's state.
#[derive(Default)]
pub struct Spans {
    /// Built on first use: a viewer that never opens the timeline keeps no index.
    pub active: bool,
    /// View indices of the items, ascending.
    pub items: Vec<u32>,
    /// View rows below this have been indexed.
    synced: usize,
    /// First item row shown.
    pub top: usize,
    /// The axis, once the user zoomed or panned; `None` fits the rows shown.
    pub window: Option<Window>,
}

impl Spans {
    /// Brings the index up to date with the view; `changed` is the view's `take_changed`.
    pub fn sync(&mut self, view: &View, tl: &Timeline, changed: usize) {
        if !self.active {
            return;
        }
        let from = changed.min(self.synced).min(view.len());
        let keep = self.items.partition_point(|&v| (v as usize) < from);
        self.items.truncate(keep);
        for v in from..view.len() {
            if is_item(view, tl, v) {
                self.items.push(v as u32);
            }
        }
        self.synced = view.len();
    }

    /// Starts indexing (the timeline was opened).
    pub fn activate(&mut self) {
        if !self.active {
            self.active = true;
            self.synced = 0;
            self.items.clear();
        }
    }

    /// The item standing for view index `v`: itself, the row of its request, or the
    /// nearest item before it.
    pub fn item_of(&self, app: &App, v: usize) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        let k = self.items.partition_point(|&x| (x as usize) < v);
        if self.items.get(k).is_some_and(|&x| x as usize == v) {
            return Some(k);
        }
        if let Some(pv) = request_in_view(app, v) {
            let j = self.items.partition_point(|&x| (x as usize) < pv);
            if self.items.get(j).is_some_and(|&x| x as usize == pv) {
                return Some(j);
            }
        }
        Some(k.saturating_sub(1).min(self.items.len() - 1))
    }

    /// The selected item: the one standing for the list's selection.
    pub fn selected(&self, app: &App) -> Option<usize> {
        self.item_of(app, app.cursor)
    }

    /// The first item row shown in `height` rows: `top`, moved as little as needed to
    /// show the selection.
    pub fn top_for(&self, sel: Option<usize>, height: usize) -> usize {
        let h = height.max(1);
        let max_top = self.items.len().saturating_sub(h);
        let mut top = self.top.min(max_top);
        if let Some(s) = sel {
            if s < top {
                top = s;
            } else if s >= top + h {
                top = s + 1 - h;
            }
        }
        top
    }
}

/// Whether view index `v` is drawn as a row of its own.
fn is_item(view: &View, tl: &Timeline, v: usize) -> bool {
    let r = tl.at(view.rows[v] as usize);
    let store = tl.store(r);
    let i = r.row as usize;
    match store.row(i).kind {
        Kind::Noise | Kind::Stderr => false,
        Kind::Response | Kind::Error => match store.pair(i) {
            Some(p) => !in_view(view, tl, Ref { row: p as u32, ..r }),
            None => true,
        },
        _ => true,
    }
}

fn in_view(view: &View, tl: &Timeline, r: Ref) -> bool {
    tl.pos_of(r).is_some_and(|p| view.find(p).is_ok())
}

/// For a response at view index `v`, the view index of its request if the view shows it.
pub fn request_in_view(app: &App, v: usize) -> Option<usize> {
    let r = app.timeline.at(*app.view.rows.get(v)? as usize);
    let store = app.timeline.store(r);
    if !store.row(r.row as usize).kind.is_response() {
        return None;
    }
    let p = store.pair(r.row as usize)?;
    let pos = app.timeline.pos_of(Ref { row: p as u32, ..r })?;
    app.view.find(pos).ok()
}

/// The time of the view row at index `v` (the order items are in).
pub fn view_time(app: &App, v: usize) -> i64 {
    let r = app.timeline.at(app.view.rows[v] as usize);
    app.timeline.store(r).row(r.row as usize).t.0
}

/// Resolves item `k` for drawing.
pub fn item(app: &App, k: usize) -> Item {
    let v = app.charts.spans.items[k] as usize;
    let r = app.timeline.at(app.view.rows[v] as usize);
    let store = app.timeline.store(r);
    let i = r.row as usize;
    let row = store.row(i);
    let (row_ref, shape) = match row.kind {
        Kind::Request => (r, Shape::Request),
        Kind::Notification => (r, Shape::Notification),
        k if k.is_response() => match store.pair(i) {
            Some(p) => (Ref { row: p as u32, ..r }, Shape::Request),
            None => (r, Shape::Orphan),
        },
        _ => (r, Shape::Other),
    };
    let ri = row_ref.row as usize;
    let start = store.row(ri).t.0;
    let end = match shape {
        Shape::Request => store.pair(ri).map(|p| store.row(p).t.0),
        _ => None,
    };
    let status = match shape {
        Shape::Request => store.status(ri),
        _ if store.is_error(ri) => Status::Error,
        _ => Status::None,
    };
    Item {
        lost: status == Status::Pending && store.answer_may_be_lost(ri),
        dir: store.row(ri).dir,
        view: v,
        row: row_ref,
        start,
        end,
        shape,
        status,
    }
}

/// Whether any session is live: caught up with its source and still growing (a session
/// still loading its backlog is not yet: its rates and its edge are not now's).
pub fn is_live(app: &App) -> bool {
    app.timeline
        .sessions
        .iter()
        .any(|s| s.feed == SourceState::Live)
}

/// Where pending requests end: now while live, else the end of the recording (its exit,
/// or its last message).
pub fn edge(app: &App) -> i64 {
    let last = app
        .timeline
        .sessions
        .iter()
        .flat_map(|s| {
            let exit = s.store.exit.map(|e| e.t.0);
            let row = s.store.rows().last().map(|r| r.t.0);
            [exit, row]
        })
        .flatten()
        .max()
        .unwrap_or_else(|| app.timeline.start().0);
    match app.charts.rates.now {
        Some(now) if is_live(app) => now.max(last),
        _ => last,
    }
}

/// The window that fits items `rows` (their starts and ends), with a margin.
pub fn fit(app: &App, rows: std::ops::Range<usize>) -> Window {
    let edge = edge(app);
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for k in rows {
        let it = item(app, k);
        let end = match (it.end, it.status) {
            (Some(e), _) => e,
            (None, Status::Pending) => edge,
            _ => it.start,
        };
        lo = lo.min(it.start);
        hi = hi.max(end);
    }
    if lo > hi {
        let t = app.timeline.start().0;
        return Window {
            start: t,
            span: 1_000_000,
        };
    }
    let span = (hi.saturating_sub(lo)).max(MIN_SPAN * 10);
    // Room on the right for the last bar's latency label.
    let span = (span as f64 * 1.25) as i64;
    // A margin on the left, but not before the session's start when the rows are after it.
    let zero = app.timeline.start().0;
    let start = lo.saturating_sub(span / 50);
    let start = if lo >= zero { start.max(zero) } else { start };
    Window {
        start,
        span: span.clamp(MIN_SPAN, MAX_SPAN),
    }
}

/// The window the timeline shows for items `rows`: following the live edge, the user's
/// window, or one that fits the rows.
pub fn window(app: &App, rows: std::ops::Range<usize>) -> Window {
    let sp = &app.charts.spans;
    match sp.window {
        Some(w) if app.follow => {
            let edge = edge(app);
            Window {
                start: edge.saturating_sub(w.span - w.span / 10),
                span: w.span,
            }
        }
        Some(w) => w,
        None => fit(app, rows),
    }
}

/// Relative time `t` since `zero`, with as many decimals as a tick `step` needs.
pub fn axis_label(t: i64, zero: Micros, step: i64) -> String {
    let d = t.saturating_sub(zero.0);
    let sign = if d < 0 { "-" } else { "+" };
    let d = d.unsigned_abs();
    let decimals = match step {
        s if s >= 1_000_000 => 0,
        s if s >= 100_000 => 1,
        s if s >= 10_000 => 2,
        s if s >= 1_000 => 3,
        s if s >= 100 => 4,
        s if s >= 10 => 5,
        _ => 6,
    };
    let secs = d / 1_000_000;
    if decimals == 0 {
        return format!("{sign}{secs}s");
    }
    let frac = (d % 1_000_000) / 10u64.pow(6 - decimals);
    format!("{sign}{secs}.{frac:0w$}s", w = decimals as usize)
}

/// A round tick step (1, 2 or 5 × 10ⁿ µs) at least `min` µs.
pub fn tick_step(min: i64) -> i64 {
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if s >= min {
                return s;
            }
        }
        if step > i64::MAX / 10 {
            return i64::MAX;
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_zoom_keep_the_anchor() {
        let w = Window {
            start: 1_000,
            span: 1_000,
        };
        assert_eq!(w.col(1_000, 100), 0);
        assert_eq!(w.col(1_500, 100), 50);
        assert_eq!(w.col(0, 100), -1, "left of the window");
        assert_eq!(w.col(9_000, 100), 100, "right of the window");
        let z = w.zoom(0.5, 1_500);
        assert_eq!((z.start, z.span), (1_250, 500));
        assert_eq!(z.col(1_500, 100), 50, "the anchor stays in its column");
        assert_eq!(w.zoom(1e-9, 1_500).span, MIN_SPAN);
        assert_eq!(w.time_at(50, 100), 1_500);
    }

    #[test]
    fn ticks_and_labels() {
        assert_eq!(tick_step(7), 10);
        assert_eq!(tick_step(130_000), 200_000);
        assert_eq!(tick_step(i64::MAX), i64::MAX);
        assert_eq!(axis_label(2_500_000, Micros(0), 500_000), "+2.5s");
        assert_eq!(axis_label(1_234, Micros(0), 1_000), "+0.001s");
        assert_eq!(axis_label(3_000_000, Micros(0), 1_000_000), "+3s");
        assert_eq!(axis_label(-20, Micros(0), 10), "-0.00002s");
    }
}
