//! The TUI's state: the sessions and their view, the selection, panes, prompt, status —
//! and the parts of updating it that keep the view consistent as rows arrive.
//!
//! The loop owns one `App`; only `update` (in `update.rs`) changes it, and rendering reads
//! it. The detail pane's wrapped lines are cached here by `prepare`, which the loop calls
//! once before each frame, so a frame never parses JSON.

use super::detail::{self, DetailKey};
use super::hub::Hub;
use super::prompt::Prompt;
use super::query::{Predicate, QueryError};
use super::source::{Feed, Target, Update};
use super::view::{Ref, Session, SourceState, Timeline, View};
use ratatui::text::Line;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a status message stays.
pub const STATUS_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Detail,
}

/// The detail pane's tabs. Noise and stderr rows show their text under `Body`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Body,
    Pair,
    Wire,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Body, Tab::Pair, Tab::Wire];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Body => "JSON",
            Tab::Pair => "Pair",
            Tab::Wire => "Wire",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFormat {
    /// Local time of day.
    Absolute,
    /// Seconds since the session started.
    Relative,
}

/// Which screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Hub,
    Viewer,
}

/// Work for the loop, which owns the terminal and the sources.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Write the view to this file.
    Save(PathBuf),
    /// View these sessions (from the hub, or again to reattach), replacing the current.
    Open(Vec<Target>),
    /// Leave the viewer for the hub.
    Back,
    /// Write this control command to the shim of session `session` (its socket).
    /// The shim is found by its live feed's socket, or by the recording's session id.
    Control {
        session: usize,
        socket: Option<PathBuf>,
        session_id: Option<String>,
        request: crate::control::protocol::Request,
    },
    /// Edit this text in `$EDITOR` (the compose view's); the result comes back as
    /// `Action::Edited`.
    External(String),
    Quit,
}

/// A filter or search: its text and compiled form.
pub struct Query {
    pub text: String,
    pub pred: Predicate,
}

/// What decides whether a row is in the view.
#[derive(Default)]
pub struct Criteria {
    /// Per session: rows below this index were cleared from the view (`c`).
    pub cut: Vec<usize>,
    pub errors_only: bool,
    pub marked_only: bool,
    pub marks: HashSet<Ref>,
    pub filter: Option<Query>,
}

impl Criteria {
    pub fn passes(&self, tl: &Timeline, pos: usize) -> bool {
        let r = tl.at(pos);
        if (r.row as usize) < self.cut.get(r.session as usize).copied().unwrap_or(0) {
            return false;
        }
        if self.marked_only && !self.marks.contains(&r) {
            return false;
        }
        let store = tl.store(r);
        if self.errors_only && !store.is_error(r.row as usize) {
            return false;
        }
        self.filter
            .as_ref()
            .is_none_or(|f| (f.pred)(store, r.row as usize))
    }

    /// Whether a row's verdict can change after it was decided (its response arrived).
    fn status_dependent(&self) -> bool {
        self.errors_only || self.filter.is_some()
    }

    pub fn is_cleared(&self) -> bool {
        self.cut.iter().any(|&c| c > 0)
    }
}

/// A transient message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub since: Option<Instant>,
}

pub struct App {
    pub page: Page,
    pub hub: Option<Hub>,
    /// The viewer was opened from the hub: `q` goes back to it.
    pub from_hub: bool,
    /// What the viewed sessions were opened from, in session order (for reattaching).
    pub opened: Vec<Target>,
    pub timeline: Timeline,
    pub view: View,
    pub crit: Criteria,
    pub search: Option<Query>,
    /// Index into `view.rows` of the selected row.
    pub cursor: usize,
    /// View index of the list's first visible row.
    pub top: usize,
    pub follow: bool,
    pub focus: Pane,
    pub tab: Tab,
    pub detail_scroll: usize,
    pub time: TimeFormat,
    pub stderr_pane: bool,
    pub help: bool,
    /// The Problems view is open, with this line selected.
    pub problems: Option<usize>,
    pub prompt: Option<Prompt>,
    /// Whether the prompt's text compiles, checked as it is typed.
    pub prompt_error: Option<QueryError>,
    /// The filter text before the prompt opened, restored by Esc.
    pub(super) filter_before: Option<String>,
    pub filter_history: Vec<String>,
    pub search_history: Vec<String>,
    pub status: Option<Status>,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub effects: Vec<Effect>,
    /// The timeline and stats views, and the header's rates.
    pub charts: super::chart::Charts,
    pub(super) detail_key: Option<DetailKey>,
    pub(super) detail_lines: Vec<Line<'static>>,
    pub(super) now: Option<Instant>,
    pub(super) dirty: bool,
    /// While errors-only is on: the selection before it was turned on, and the one it
    /// landed on; `e` again goes back to the first unless the user moved since.
    pub(super) errors_from: Option<(Option<Ref>, Option<Ref>)>,
    /// Compose, resend, intercept and held messages (`interact`).
    pub act: super::interact::Interact,
}

impl App {
    /// A viewer over these sessions (rows may already be in them, or arrive later).
    pub fn new(sessions: Vec<Session>) -> App {
        let n = sessions.len();
        let mut app = App {
            page: Page::Viewer,
            hub: None,
            from_hub: false,
            opened: Vec::new(),
            timeline: Timeline::new(sessions),
            view: View::default(),
            crit: Criteria {
                cut: vec![0; n],
                ..Criteria::default()
            },
            search: None,
            cursor: 0,
            top: 0,
            follow: false,
            focus: Pane::List,
            tab: Tab::Body,
            detail_scroll: 0,
            problems: None,
            time: TimeFormat::Absolute,
            stderr_pane: false,
            help: false,
            prompt: None,
            prompt_error: None,
            filter_before: None,
            filter_history: Vec::new(),
            search_history: Vec::new(),
            status: None,
            errors_from: None,
            size: (80, 24),
            effects: Vec::new(),
            charts: Default::default(),
            detail_key: None,
            detail_lines: Vec::new(),
            now: None,
            dirty: true,
            act: Default::default(),
        };
        app.rebuild_view();
        app
    }

    /// The hub: a list of recordings to open.
    pub fn hub(hub: Hub) -> App {
        let mut app = App::new(Vec::new());
        app.page = Page::Hub;
        app.hub = Some(hub);
        app
    }

    /// Replaces the sessions being viewed (the hub opened a recording).
    pub fn open(&mut self, sessions: Vec<Session>) {
        let n = sessions.len();
        self.timeline = Timeline::new(sessions);
        self.crit.cut = vec![0; n];
        self.crit.marks.clear();
        self.crit.marked_only = false;
        // A search belongs to the sessions it was typed for.
        self.search = None;
        self.errors_from = None;
        (self.cursor, self.top, self.detail_scroll) = (0, 0, 0);
        self.charts = Default::default();
        // What was held, composed or intercepted belonged to the sessions' connections,
        // which the loop drops with their feeds.
        self.act = Default::default();
        self.page = Page::Viewer;
        self.rebuild_view();
    }

    /// `r`: after the live feed cut this viewer off, opens the same sessions again (the
    /// feed starts over with the whole session).
    pub(super) fn reattach(&mut self) {
        // (`r` reaches here through `resend` when a feed was cut off.)
        let cut = self
            .timeline
            .sessions
            .iter()
            .any(|s| s.feed == SourceState::CutOff);
        if cut && !self.opened.is_empty() {
            self.effects.push(Effect::Open(self.opened.clone()));
        } else {
            self.set_status(
                "r reattaches a live session that cut this viewer off",
                false,
            );
        }
    }

    /// The selected row.
    pub fn selected(&self) -> Option<Ref> {
        let pos = *self.view.rows.get(self.cursor)?;
        Some(self.timeline.at(pos as usize))
    }

    /// Whether the frame clock is needed: something to draw, or a status to expire.
    pub fn wants_frame(&self) -> bool {
        self.dirty || self.status.is_some() || self.charts_animate() || self.checking()
    }

    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            since: self.now,
        });
    }

    /// Recomputes the whole view (criteria changed), keeping the selection on the same row
    /// or the nearest one after it.
    pub fn rebuild_view(&mut self) {
        let keep = self.selected();
        self.view = View::default();
        let len = self.timeline.len();
        self.view
            .extend(len, |p| self.crit.passes(&self.timeline, p));
        self.reselect(keep);
    }

    /// Puts the cursor back on `r` (or the nearest row after it) after the view changed.
    pub(super) fn reselect(&mut self, r: Option<Ref>) {
        if self.follow {
            self.cursor = self.view.len().saturating_sub(1);
        } else if let Some(pos) = r.and_then(|r| self.timeline.pos_of(r)) {
            self.cursor = match self.view.find(pos) {
                Ok(i) => i,
                Err(i) => i.min(self.view.len().saturating_sub(1)),
            };
        } else {
            self.cursor = self.cursor.min(self.view.len().saturating_sub(1));
        }
        self.scroll_into_view();
    }

    /// Rows of the list that fit on screen.
    pub fn list_height(&self) -> usize {
        super::render::layout(self).list_rows()
    }

    /// Moves `top` so that the cursor is visible.
    pub fn scroll_into_view(&mut self) {
        let h = self.list_height().max(1);
        let max_top = self.view.len().saturating_sub(h);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + h {
            self.top = self.cursor + 1 - h;
        }
        self.top = self.top.min(max_top);
    }

    /// Takes in what a source sent.
    pub fn ingest(&mut self, feed: Feed) {
        let s = feed.session;
        if s >= self.timeline.sessions.len() {
            return;
        }
        self.dirty = true;
        match feed.update {
            Update::Events(events) => self.ingest_events(s, events),
            Update::CaughtUp => {
                let session = &mut self.timeline.sessions[s];
                if session.feed == SourceState::Loading {
                    session.feed = SourceState::Live;
                }
            }
            Update::Skipped { line, reason } => {
                self.timeline.sessions[s].skipped += 1;
                self.set_status(format!("line {line} skipped: {reason}"), true);
            }
            Update::Ended => self.timeline.sessions[s].feed = SourceState::Ended,
            Update::CutOff(reason) => {
                self.set_status(format!("{reason}: press r"), true);
                self.timeline.sessions[s].feed = SourceState::CutOff;
            }
            Update::Control(incoming) => self.control_in(s, incoming),
            Update::Failed(message) => {
                self.set_status(message.clone(), true);
                self.timeline.sessions[s].feed = SourceState::Failed(message);
            }
        }
    }

    fn ingest_events(&mut self, s: usize, events: Vec<crate::record::Event>) {
        let keep = self.selected();
        let mut touched = Vec::new();
        let first = self.timeline.sessions[s].ingest(events, &mut touched);
        let changed = self.timeline.add_rows(s, first);
        let moved = changed < self.view.scanned;
        if moved {
            self.view.truncate_from(changed);
        }
        let len = self.timeline.len();
        self.view
            .extend(len, |p| self.crit.passes(&self.timeline, p));
        let recheck = self.crit.status_dependent() && !touched.is_empty();
        if recheck {
            for row in touched {
                let r = Ref {
                    session: s as u32,
                    row,
                };
                if let Some(pos) = self.timeline.pos_of(r) {
                    let passes = self.crit.passes(&self.timeline, pos);
                    self.view.recheck(pos, passes);
                }
            }
        }
        if self.follow || moved || recheck {
            self.reselect(keep);
        }
    }

    /// Builds the detail pane's lines for the selection if anything they depend on changed.
    /// The loop calls this once per frame, before drawing.
    pub fn prepare(&mut self) {
        self.sync_charts();
        let area = super::render::layout(self).detail_text();
        let key = self
            .selected()
            .map(|r| detail::key(self, r, area.width as usize));
        if key != self.detail_key {
            self.detail_lines = match key {
                Some(k) => detail::build(self, k),
                None => Vec::new(),
            };
            self.detail_key = key;
        }
    }

    /// The detail lines built by `prepare`.
    pub fn detail_lines(&self) -> &[Line<'static>] {
        &self.detail_lines
    }
}
