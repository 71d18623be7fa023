//! The views that draw time and numbers rather than messages: the timeline (`T`, each
//! request a bar on a shared time axis) and the stats view (`S`, per-method counts and
//! latency distributions), plus the live rates of the header's sparklines.
//!
//! Both views show the rows of the app's `View`, so the filter, errors-only and marks
//! apply to them, and both share the list's selection: Enter in the timeline lands on the
//! same message in the list. State and key handling live here; drawing is in
//! `render::timeline`, `render::stats` and `render::spark`.

// Chart arithmetic: seconds in a fixed ring, columns of the chart's area and row indices
// of the store (u32 by design, see `session::store`) cross integer widths here, all
// bounded by the ring, the area or the store; float scales saturate when cast.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

pub mod rates;
pub mod spans;
pub mod table;

use super::app::{App, Pane, Query};
use super::update::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the viewer's body shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The message list and the detail pane.
    #[default]
    List,
    Timeline,
    Stats,
}

/// The charts' state, owned by the `App`.
#[derive(Default)]
pub struct Charts {
    pub mode: Mode,
    pub spans: spans::Spans,
    pub table: table::Table,
    pub rates: rates::Rates,
    /// The quarter second of the last redraw the clock asked for while live.
    last_beat: Option<i64>,
}

/// What the chart keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartAction {
    /// `T` / `S`: show this view, or the list when it is showing.
    Toggle(Mode),
    /// Move the selection by this many items or lines.
    Move(isize),
    /// Move by this many screens.
    Page(isize),
    /// `+` (1) zooms in, `-` (-1) out.
    Zoom(i32),
    /// `←` (-1) / `→` (1): a quarter of the window.
    Pan(i32),
    /// `0`: fit the rows shown.
    Fit,
    /// `o` / `<` `>`: the next or previous sort column; 0 reverses (`O`).
    Sort(isize),
    /// Enter.
    Open,
}

/// Keys that mean something else in the timeline and stats views, and `T`/`S` anywhere in
/// the viewer; `None` leaves the key to the list's map (filter, search, follow, marks…).
pub fn key(app: &App, k: KeyEvent) -> Option<Action> {
    use KeyCode::{Char, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Up};
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    let act = match (app.charts.mode, k.code) {
        (_, Char('T')) => ChartAction::Toggle(Mode::Timeline),
        (_, Char('S')) => ChartAction::Toggle(Mode::Stats),
        (Mode::List, _) => return None,
        (_, Esc) => ChartAction::Toggle(app.charts.mode),
        (_, Char('j') | Down) => ChartAction::Move(1),
        (_, Char('k') | Up) => ChartAction::Move(-1),
        (_, PageDown | Char(' ')) => ChartAction::Page(1),
        (_, PageUp) => ChartAction::Page(-1),
        (_, Char('g') | Home) => ChartAction::Move(isize::MIN / 2),
        (_, Char('G') | End) => ChartAction::Move(isize::MAX / 2),
        (_, Enter) => ChartAction::Open,
        (Mode::Timeline, Char('+' | '=')) => ChartAction::Zoom(1),
        (Mode::Timeline, Char('-' | '_')) => ChartAction::Zoom(-1),
        (Mode::Timeline, Char('h') | Left) => ChartAction::Pan(-1),
        (Mode::Timeline, Char('l') | Right) => ChartAction::Pan(1),
        (Mode::Timeline, Char('0' | 'z')) => ChartAction::Fit,
        (Mode::Stats, Char('o' | '>') | Right) => ChartAction::Sort(1),
        (Mode::Stats, Char('<') | Left) => ChartAction::Sort(-1),
        (Mode::Stats, Char('O')) => ChartAction::Sort(0),
        _ => return None,
    };
    Some(Action::Chart(act))
}

/// The mouse in the chart views: the wheel moves the selection, a click selects a row.
pub fn mouse(app: &App, m: crossterm::event::MouseEvent) -> Option<Action> {
    use crossterm::event::{MouseButton, MouseEventKind};
    let rows = super::render::chart_rows(app);
    match m.kind {
        MouseEventKind::ScrollDown => Some(Action::Chart(ChartAction::Move(3))),
        MouseEventKind::ScrollUp => Some(Action::Chart(ChartAction::Move(-3))),
        MouseEventKind::Down(MouseButton::Left)
            if rows.contains(ratatui::layout::Position::new(m.column, m.row)) =>
        {
            let (top, sel) = if app.charts.mode == Mode::Timeline {
                let sp = &app.charts.spans;
                let sel = sp.selected(app);
                (sp.top_for(sel, rows.height as usize), sel.unwrap_or(0))
            } else {
                let t = &app.charts.table;
                (t.top_for(rows.height as usize), t.cursor)
            };
            let at = top + (m.row - rows.y) as usize;
            Some(Action::Chart(ChartAction::Move(at as isize - sel as isize)))
        }
        _ => None,
    }
}

/// Footer hints for the chart views.
pub fn hints(app: &App) -> Option<&'static str> {
    match app.charts.mode {
        Mode::List => None,
        Mode::Timeline => Some(
            "+/-:zoom  ←/→:pan  0:fit  Enter:list  f:follow  /:filter  S:stats  T/Esc:list  ?:help",
        ),
        Mode::Stats => {
            Some("o/</>:sort  O:reverse  Enter:timeline of method  /:filter  T:timeline  S/Esc:list  ?:help")
        }
    }
}

impl App {
    pub(super) fn chart(&mut self, a: ChartAction) {
        self.sync_charts();
        match (self.charts.mode, a) {
            (_, ChartAction::Toggle(m)) => self.show(m),
            (Mode::Timeline, ChartAction::Move(n)) => self.timeline_move(n),
            (Mode::Timeline, ChartAction::Page(n)) => {
                let h = super::render::chart_rows(self).height.max(1) as isize;
                self.timeline_move(n.saturating_mul(h));
            }
            (Mode::Timeline, ChartAction::Zoom(z)) => self.zoom(z),
            (Mode::Timeline, ChartAction::Pan(p)) => self.pan(p),
            (Mode::Timeline, ChartAction::Fit) => self.charts.spans.window = None,
            (Mode::Timeline, ChartAction::Open) => self.timeline_open(),
            (Mode::Stats, ChartAction::Move(n)) => self.table_move(n),
            (Mode::Stats, ChartAction::Page(n)) => {
                let h = super::render::chart_rows(self).height.max(1) as isize;
                self.table_move(n.saturating_mul(h));
            }
            (Mode::Stats, ChartAction::Sort(s)) => {
                self.charts.table.resort(s);
                let t = &self.charts.table;
                let order = if t.reversed { "reversed" } else { "" };
                self.set_status(format!("sorted by {} {order}", t.sort.name()), false);
            }
            (Mode::Stats, ChartAction::Open) => self.stats_open(),
            _ => {}
        }
    }

    /// Brings the charts' indexes up to date with the view and the sessions; the loop
    /// calls it before each frame (through `prepare`), the chart keys before acting.
    pub(super) fn sync_charts(&mut self) {
        let changed = self.view.take_changed();
        self.charts.spans.sync(&self.view, &self.timeline, changed);
        self.charts.table.note(changed, self.view.len());
        // Rates are shown only while live; until then nothing is counted.
        if spans::is_live(self) {
            self.charts.rates.sync(&self.timeline.sessions);
        }
        if self.charts.mode == Mode::Stats && self.charts.table.due(self.now) {
            let (stats, rows) = table::compute(self);
            self.charts.table.set(stats, rows, self.now);
        }
    }

    /// The frame clock: the wall clock for the live edge and the rates. True when a
    /// redraw is due (while live: sparklines every second, growing bars four times a
    /// second in the timeline).
    pub(super) fn chart_tick(&mut self) -> bool {
        if !spans::is_live(self) {
            return false;
        }
        let wall = crate::record::Micros::now().0;
        self.charts.rates.now = Some(wall);
        let beat = match self.charts.mode {
            Mode::Timeline => wall.div_euclid(250_000),
            _ => wall.div_euclid(1_000_000),
        };
        self.charts.last_beat.replace(beat) != Some(beat)
    }

    /// Whether the frame clock must run although nothing changed: something is live.
    pub fn charts_animate(&self) -> bool {
        spans::is_live(self)
    }

    fn show(&mut self, m: Mode) {
        let to = if self.charts.mode == m { Mode::List } else { m };
        self.charts.mode = to;
        match to {
            Mode::List => {
                self.focus = Pane::List;
                self.scroll_into_view();
            }
            Mode::Timeline => {
                self.charts.spans.activate();
                self.sync_charts();
            }
            Mode::Stats => self.sync_charts(),
        }
    }

    fn timeline_move(&mut self, n: isize) {
        let sp = &self.charts.spans;
        let len = sp.items.len();
        if len == 0 {
            return;
        }
        let sel = sp.selected(self).unwrap_or(0);
        let k = sel.saturating_add_signed(n).min(len - 1);
        let v = sp.items[k] as usize;
        self.move_to(v);
        let h = super::render::chart_rows(self).height as usize;
        let top = self.charts.spans.top_for(Some(k), h);
        self.charts.spans.top = top;
        // A window chosen by the user follows the selection when it leaves it.
        if let Some(w) = self.charts.spans.window {
            let it = spans::item(self, k);
            if it.start < w.start || it.start >= w.end() {
                self.charts.spans.window = Some(spans::Window {
                    start: it.start.saturating_sub(w.span / 10),
                    span: w.span,
                });
            }
        }
    }

    /// The window drawn now (for zooming and panning from what is on screen).
    fn shown_window(&self) -> spans::Window {
        let sp = &self.charts.spans;
        let h = super::render::chart_rows(self).height as usize;
        let sel = sp.selected(self);
        let top = sp.top_for(sel, h);
        spans::window(self, top..(top + h).min(sp.items.len()))
    }

    fn zoom(&mut self, z: i32) {
        let w = self.shown_window();
        let sel = self
            .charts
            .spans
            .selected(self)
            .map(|k| spans::item(self, k));
        let anchor = match sel {
            Some(it) if it.start >= w.start && it.start < w.end() => it.start,
            _ => w.start + w.span / 2,
        };
        let factor = if z > 0 { 0.5 } else { 2.0 };
        let new = w.zoom(factor, anchor);
        self.charts.spans.window = Some(new);
        self.set_status(format!("window {}", crate::fmt::latency(new.span)), false);
    }

    fn pan(&mut self, p: i32) {
        let mut w = self.shown_window();
        w.start = w.start.saturating_add(i64::from(p) * (w.span / 4).max(1));
        self.charts.spans.window = Some(w);
        if self.follow {
            self.follow = false;
            self.set_status("follow off", false);
        }
    }

    /// Enter in the timeline: the list, on the selected item's message.
    fn timeline_open(&mut self) {
        let sp = &self.charts.spans;
        if let Some(k) = sp.selected(self) {
            let v = sp.items[k] as usize;
            // The list's selection stays on a response whose request's row was selected;
            // from any other row (stderr, noise) it goes to the highlighted item.
            let same = v == self.cursor || spans::request_in_view(self, self.cursor) == Some(v);
            if !same {
                self.cursor = v;
            }
        }
        self.charts.mode = Mode::List;
        self.focus = Pane::List;
        self.scroll_into_view();
    }

    fn table_move(&mut self, n: isize) {
        let t = &mut self.charts.table;
        t.cursor = t
            .cursor
            .saturating_add_signed(n)
            .min(t.len().saturating_sub(1));
        let h = super::render::chart_rows(self).height as usize;
        let top = self.charts.table.top_for(h);
        self.charts.table.top = top;
    }

    /// Enter in the stats view: the timeline of the selected method (a filter).
    fn stats_open(&mut self) {
        let Some(line) = self.charts.table.selected() else {
            return;
        };
        let special = |c: char| c.is_whitespace() || "()&|,*?\"'!".contains(c);
        if line.method.is_empty() || line.method.contains(special) {
            self.set_status("this method's name cannot be written as a filter", true);
            return;
        }
        // Not `dir:` too: the responses travel the other way, the method selects both.
        let text = format!("method:{}", line.method);
        match super::query::compile(&text) {
            Ok(pred) => {
                self.crit.filter = Some(Query {
                    text: text.clone(),
                    pred,
                });
                self.rebuild_view();
                super::prompt::remember(&mut self.filter_history, &text);
                self.show(Mode::Timeline);
                self.set_status(format!("filter {text}: {} rows", self.view.len()), false);
            }
            Err(e) => self.set_status(format!("cannot filter: {}", e.message), true),
        }
    }
}
