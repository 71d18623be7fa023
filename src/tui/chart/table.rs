//! The stats view's state: per-method statistics of the rows in the view (computed by
//! `session::Stats`, the computation `rpctap stats` prints), their sort order and the
//! selected method.
//!
//! The statistics are recomputed only when the view changed: at once when the criteria
//! changed it, at most once a second while rows keep arriving; a frame draws from the
//! cached lines.

use crate::session::{MethodStats, Stats};
use crate::tui::app::App;
use std::time::{Duration, Instant};

/// While the view keeps changing, statistics are recomputed at most this often.
const RECOMPUTE: Duration = Duration::from_secs(1);

/// The columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Method,
    Count,
    Errors,
    P50,
    P90,
    P99,
    Max,
}

impl SortBy {
    pub const ALL: [SortBy; 7] = [
        SortBy::Method,
        SortBy::Count,
        SortBy::Errors,
        SortBy::P50,
        SortBy::P90,
        SortBy::P99,
        SortBy::Max,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SortBy::Method => "method",
            SortBy::Count => "count",
            SortBy::Errors => "errors",
            SortBy::P50 => "p50",
            SortBy::P90 => "p90",
            SortBy::P99 => "p99",
            SortBy::Max => "max",
        }
    }

    /// Numbers sort largest first, names alphabetically.
    fn descending(self) -> bool {
        self != SortBy::Method
    }
}

/// One method's line of the table.
#[derive(Debug, Clone)]
pub struct Line {
    pub arrow: &'static str,
    pub method: String,
    pub stats: MethodStats,
}

#[derive(Default)]
pub struct Table {
    /// The lines, in the current order; `None` until computed.
    pub lines: Option<Vec<Line>>,
    /// Totals of the rows the lines were computed from.
    pub messages: u64,
    /// Bytes the recordings lost (gap lines): the numbers may be incomplete.
    pub gap_bytes: u64,
    /// Requests counted neither as answered nor pending: their answer may be in a gap.
    pub unknown: usize,
    pub sort: SortBy,
    pub reversed: bool,
    /// The selected line.
    pub cursor: usize,
    pub top: usize,
    /// The view gained rows since the lines were computed.
    grown: bool,
    /// Rows of the view were replaced or removed (the criteria changed).
    edited: bool,
    /// The view's length when the lines were computed.
    rows: usize,
    computed: Option<Instant>,
}

impl Table {
    /// Notes a change of the view (`changed` from `View::take_changed`, `len` its length).
    pub fn note(&mut self, changed: usize, len: usize) {
        if changed < self.rows || len < self.rows {
            self.edited = true;
        } else if len != self.rows {
            self.grown = true;
        }
    }

    /// Whether the lines must be (re)computed: never computed, or the view changed and
    /// the last computation is old enough.
    pub fn due(&self, now: Option<Instant>) -> bool {
        let old_enough = match (self.computed, now) {
            (Some(at), Some(now)) => now.saturating_duration_since(at) >= RECOMPUTE,
            _ => true,
        };
        self.lines.is_none() || self.edited || (self.grown && old_enough)
    }

    /// Takes new statistics, computed over `rows` rows of the view.
    pub fn set(&mut self, stats: Stats, rows: usize, now: Option<Instant>) {
        self.messages = stats.messages;
        self.gap_bytes = stats.gap_bytes.iter().sum();
        self.unknown = stats.unknown.len();
        let lines = stats
            .methods
            .into_iter()
            .map(|((arrow, method), stats)| Line {
                arrow,
                method,
                stats,
            })
            .collect();
        let selected = self.selected_key();
        self.lines = Some(lines);
        self.rows = rows;
        (self.grown, self.edited) = (false, false);
        self.computed = now;
        self.order(selected);
    }

    fn selected_key(&self) -> Option<(&'static str, String)> {
        let l = self.lines.as_ref()?.get(self.cursor)?;
        Some((l.arrow, l.method.clone()))
    }

    /// Sorts the lines, keeping the selection on the same method.
    pub fn order(&mut self, keep: Option<(&'static str, String)>) {
        let (sort, reversed) = (self.sort, self.reversed);
        let Some(lines) = self.lines.as_mut() else {
            return;
        };
        let num = |l: &Line| -> i64 {
            let s = &l.stats;
            let q = |v: Option<i64>| v.unwrap_or(-1);
            match sort {
                SortBy::Method => 0,
                SortBy::Count => s.count() as i64,
                SortBy::Errors => s.errors as i64,
                SortBy::P50 => q(s.quantile(0.5)),
                SortBy::P90 => q(s.quantile(0.9)),
                SortBy::P99 => q(s.quantile(0.99)),
                SortBy::Max => q(s.max()),
            }
        };
        lines.sort_by(|a, b| {
            let by_name = (a.method.as_str(), a.arrow).cmp(&(b.method.as_str(), b.arrow));
            let o = if sort.descending() {
                num(b).cmp(&num(a)).then(by_name)
            } else {
                by_name
            };
            if reversed {
                o.reverse()
            } else {
                o
            }
        });
        if let Some((arrow, method)) = keep {
            if let Some(i) = lines
                .iter()
                .position(|l| l.arrow == arrow && l.method == method)
            {
                self.cursor = i;
            }
        }
        self.cursor = self.cursor.min(lines.len().saturating_sub(1));
    }

    /// Steps the sort column (`1` forward, `-1` back), or reverses the order (`0`).
    pub fn resort(&mut self, step: isize) {
        let keep = self.selected_key();
        if step == 0 {
            self.reversed = !self.reversed;
        } else {
            let i = SortBy::ALL
                .iter()
                .position(|&s| s == self.sort)
                .unwrap_or(0) as isize;
            let n = SortBy::ALL.len() as isize;
            self.sort = SortBy::ALL[(i + step).rem_euclid(n) as usize];
            self.reversed = false;
        }
        self.order(keep);
    }

    pub fn len(&self) -> usize {
        self.lines.as_ref().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn selected(&self) -> Option<&Line> {
        self.lines.as_ref()?.get(self.cursor)
    }

    /// The first line shown in `height` lines, moved as little as needed to show the cursor.
    pub fn top_for(&self, height: usize) -> usize {
        let h = height.max(1);
        let mut top = self.top.min(self.len().saturating_sub(h));
        if self.cursor < top {
            top = self.cursor;
        } else if self.cursor >= top + h {
            top = self.cursor + 1 - h;
        }
        top
    }
}

/// Statistics over the rows of the app's view (all its sessions), and the view's length.
pub fn compute(app: &App) -> (Stats, usize) {
    let mut s = Stats::default();
    for &pos in &app.view.rows {
        let r = app.timeline.at(pos as usize);
        s.add(app.timeline.store(r), r.row as usize);
    }
    for session in &app.timeline.sessions {
        s.add_gaps(&session.store);
    }
    s.finish();
    (s, app.view.len())
}
