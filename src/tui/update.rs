//! `App::update`: every change to the TUI's state goes through one plain `match` over
//! `Action`. Work that needs the terminal or the sources (copying, saving, opening) is
//! handed to the loop as an `Effect`.

use super::app::{App, Effect, Pane, Tab, TimeFormat, STATUS_FOR};
use super::prompt::PromptKind;
use super::source::Feed;
use super::view::Ref;
use crossterm::event::{KeyEvent, MouseEvent};
use std::time::Instant;

#[derive(Debug)]
pub enum Action {
    /// Terminal input, mapped by `keys` to one of the actions below.
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Feed(Feed),
    /// The frame clock; expires status messages.
    Tick(Instant),
    /// `q`: back to the hub when the viewer came from it, else quit.
    Quit,
    /// Quit from anywhere (Ctrl-C).
    Exit,
    Move(isize),
    Page(isize),
    First,
    Last,
    /// Select this view index (a click).
    Select(usize),
    Scroll(isize),
    ScrollPage(isize),
    SwitchPane,
    FocusPane(Pane),
    FocusDetail,
    Escape,
    SetTab(Tab),
    StepTab(isize),
    PairJump,
    ToggleFollow,
    OpenPrompt(PromptKind),
    PromptKey(KeyEvent),
    /// `n` (true) / `N` (false).
    SearchNext(bool),
    ToggleErrors,
    ToggleMark,
    ToggleMarkedOnly,
    ClearView,
    ShowAll,
    ToggleStderr,
    ToggleTime,
    Copy,
    ToggleHelp,
    /// `P`: the Problems view.
    ToggleProblems,
    ProblemsMove(isize),
    /// Enter in the Problems view: select the problem's message.
    ProblemsJump,
    HubMove(isize),
    /// A click on this row of the hub's list (0: the first row shown).
    HubClick(usize),
    /// Space: mark or unmark the hub's selected session for opening merged.
    HubMark,
    HubOpen,
    /// A new listing of the hub's sessions.
    HubListing(Vec<crate::catalog::Entry>),
    /// `r`: read the sessions again after the live feed cut this viewer off.
    Reattach,
    /// The timeline and stats views (`T`, `S` and their keys).
    Chart(super::chart::ChartAction),
    /// `>`: the compose view.
    Compose,
    /// A key while the compose view is open.
    ComposeKey(KeyEvent),
    /// What `$EDITOR` left in the compose view's file, or why it failed.
    Edited(Result<String, String>),
    /// `r` on a request: send it again (on a cut-off feed: reattach).
    Resend,
    /// Close the resend comparison.
    CloseResend,
    ResendScroll(isize),
    /// `H`: the held messages.
    ToggleHeld,
    HeldMove(isize),
    /// `a`, `d`, `A` in the held view.
    Decide(super::interact::Decision),
    /// `e` (false) or `r` (true: answer) in the held view.
    HeldCompose(bool),
}

impl App {
    pub fn update(&mut self, action: Action) {
        if !matches!(
            action,
            Action::Tick(_) | Action::Feed(_) | Action::HubListing(_)
        ) {
            self.dirty = true;
        }
        match action {
            Action::Key(k) => {
                if let Some(a) = super::keys::key(self, k) {
                    self.update(a);
                }
            }
            Action::Mouse(m) => {
                if let Some(a) = super::keys::mouse(self, m) {
                    self.update(a);
                }
            }
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.scroll_into_view();
            }
            Action::Feed(f) => self.ingest(f),
            Action::Tick(now) => {
                self.now = Some(now);
                // A status set before the clock first ran starts its time now.
                if let Some(s) = self.status.as_mut() {
                    s.since.get_or_insert(now);
                }
                let expired = self.status.as_ref().is_some_and(|s| {
                    s.since
                        .is_some_and(|t| now.saturating_duration_since(t) >= STATUS_FOR)
                });
                if expired {
                    self.status = None;
                    self.dirty = true;
                }
                if self.chart_tick() {
                    self.dirty = true;
                }
                if self.check_tick() {
                    self.dirty = true;
                }
            }
            Action::Quit if self.from_hub => self.effects.push(Effect::Back),
            Action::Quit | Action::Exit => self.effects.push(Effect::Quit),
            Action::Move(n) => self.move_to(self.cursor.saturating_add_signed(n)),
            Action::Page(n) => {
                let h = self.list_height().max(1) as isize;
                self.move_to(self.cursor.saturating_add_signed(n * h));
            }
            Action::First => self.move_to(0),
            Action::Last => {
                self.cursor = self.view.len().saturating_sub(1);
                self.after_move();
            }
            Action::Select(i) if i < self.view.len() => {
                self.focus = Pane::List;
                self.move_to(i);
            }
            Action::Select(_) => {}
            Action::Scroll(n) => self.scroll_detail(n),
            Action::ScrollPage(n) => {
                let h = super::render::layout(self).detail_text().height.max(1) as isize;
                self.scroll_detail(n * h);
            }
            Action::SwitchPane => {
                self.focus = match self.focus {
                    Pane::List => Pane::Detail,
                    Pane::Detail => Pane::List,
                }
            }
            Action::FocusPane(p) => self.focus = p,
            Action::FocusDetail => self.focus = Pane::Detail,
            Action::Escape => {
                if self.focus == Pane::Detail {
                    self.focus = Pane::List;
                } else if self.search.take().is_some() {
                    self.set_status("search cleared", false);
                } else {
                    self.status = None;
                }
            }
            Action::SetTab(t) => {
                self.tab = t;
                self.detail_scroll = 0;
            }
            Action::StepTab(d) => {
                let i = Tab::ALL.iter().position(|&t| t == self.tab).unwrap_or(0) as isize;
                self.tab = Tab::ALL[(i + d).rem_euclid(Tab::ALL.len() as isize) as usize];
                self.detail_scroll = 0;
            }
            Action::PairJump => self.pair_jump(),
            Action::ToggleFollow => {
                self.follow = !self.follow;
                if self.follow {
                    self.cursor = self.view.len().saturating_sub(1);
                    self.after_move();
                }
                let on = if self.follow { "on" } else { "off" };
                self.set_status(format!("follow {on}"), false);
            }
            Action::OpenPrompt(kind) => self.open_prompt(kind),
            Action::PromptKey(k) => self.prompt_key(k),
            Action::SearchNext(forward) => match &self.search {
                Some(_) => self.search(forward),
                None => self.open_prompt(PromptKind::Search),
            },
            Action::ToggleErrors => {
                let before = self.selected();
                self.crit.errors_only = !self.crit.errors_only;
                self.rebuild_view();
                if self.crit.errors_only {
                    self.errors_from = Some((before, self.selected()));
                } else if let Some((Some(from), landed)) = self.errors_from.take() {
                    // Back to where the user was, unless they chose another row since.
                    if landed == before && !self.follow {
                        self.reselect(Some(from));
                    }
                }
                let what = if self.crit.errors_only {
                    format!("errors only: {} rows", self.view.len())
                } else {
                    "errors and everything else".to_owned()
                };
                self.set_status(what, false);
            }
            Action::ToggleMark => self.toggle_mark(),
            Action::ToggleMarkedOnly => {
                if !self.crit.marked_only && self.crit.marks.is_empty() {
                    self.set_status("no marked rows: mark some with m first", true);
                } else {
                    self.crit.marked_only = !self.crit.marked_only;
                    self.rebuild_view();
                }
            }
            Action::ClearView => {
                let before = self.view.len();
                self.crit.cut = self
                    .timeline
                    .sessions
                    .iter()
                    .map(|s| s.store.len())
                    .collect();
                self.rebuild_view();
                self.set_status(
                    format!(
                        "view cleared ({before} rows hidden, nothing deleted): C shows them again"
                    ),
                    false,
                );
            }
            Action::ShowAll => {
                self.crit.cut.iter_mut().for_each(|c| *c = 0);
                self.rebuild_view();
                self.set_status("cleared rows shown again", false);
            }
            Action::ToggleStderr => {
                self.stderr_pane = !self.stderr_pane;
                self.scroll_into_view();
            }
            Action::ToggleTime => {
                self.time = match self.time {
                    TimeFormat::Absolute => TimeFormat::Relative,
                    TimeFormat::Relative => TimeFormat::Absolute,
                }
            }
            Action::Copy => self.copy(),
            Action::ToggleHelp => self.help = !self.help,
            Action::ToggleProblems => self.toggle_problems(),
            Action::ProblemsMove(n) => self.problems_move(n),
            Action::ProblemsJump => self.problems_jump(),
            Action::HubMove(n) => {
                if let Some(h) = &mut self.hub {
                    h.step(n);
                }
            }
            Action::HubClick(row) => {
                let rows = super::render::layout(self).hub_rows();
                if let Some(h) = &mut self.hub {
                    let i = h.top(rows) + row;
                    if i < h.items.len() {
                        h.cursor = i;
                    }
                }
            }
            Action::HubMark => {
                if let Some(h) = &mut self.hub {
                    h.toggle_mark();
                    h.step(1);
                }
            }
            Action::HubOpen => self.hub_open(),
            Action::HubListing(items) => {
                if let Some(h) = &mut self.hub {
                    self.dirty |= h.set_items(items);
                }
            }
            Action::Reattach => self.reattach(),
            Action::Chart(a) => self.chart(a),
            Action::Compose => self.open_compose(),
            Action::ComposeKey(k) => self.compose_key(k),
            Action::Edited(r) => self.edited(r),
            Action::Resend => self.resend(),
            Action::CloseResend => self.act.resend = None,
            Action::ResendScroll(n) => {
                if let Some(r) = self.act.resend.as_mut() {
                    r.scroll = r.scroll.saturating_add_signed(n);
                }
            }
            Action::ToggleHeld => self.toggle_held(),
            Action::HeldMove(n) => self.held_move(n),
            Action::Decide(d) => self.decide(d),
            Action::HeldCompose(answer) => self.held_compose(answer),
        }
    }

    pub(super) fn move_to(&mut self, i: usize) {
        if self.follow {
            self.follow = false;
            self.set_status("follow off", false);
        }
        self.cursor = i.min(self.view.len().saturating_sub(1));
        self.after_move();
    }

    fn after_move(&mut self) {
        self.detail_scroll = 0;
        self.scroll_into_view();
    }

    fn scroll_detail(&mut self, n: isize) {
        self.prepare();
        let h = super::render::layout(self).detail_text().height as usize;
        let max = self.detail_lines().len().saturating_sub(h);
        self.detail_scroll = self.detail_scroll.saturating_add_signed(n).min(max);
    }

    /// Selects `r` if the view shows it; says why not otherwise.
    pub(super) fn select_ref(&mut self, r: Ref) -> bool {
        let found = self.timeline.pos_of(r).map(|p| self.view.find(p));
        match found {
            Some(Ok(i)) => {
                self.move_to(i);
                true
            }
            _ => false,
        }
    }

    fn pair_jump(&mut self) {
        let Some(r) = self.selected() else { return };
        let store = self.timeline.store(r);
        let Some(p) = store.pair(r.row as usize) else {
            let why = match store.status(r.row as usize) {
                crate::session::Status::Pending => "pending: no response yet",
                crate::session::Status::Cancelled => "cancelled: no response",
                _ if store.row(r.row as usize).kind.is_response() => {
                    "no request with this id was seen"
                }
                _ => "not part of a request/response pair",
            };
            self.set_status(why, false);
            return;
        };
        let seq = store.row(p).seq;
        let target = Ref {
            session: r.session,
            row: p as u32,
        };
        if !self.select_ref(target) {
            self.set_status(format!("its pair #{seq} is hidden by the view"), true);
        }
    }

    fn toggle_mark(&mut self) {
        let Some(r) = self.selected() else { return };
        if !self.crit.marks.remove(&r) {
            self.crit.marks.insert(r);
        }
        if self.crit.marked_only {
            self.rebuild_view();
        }
    }

    fn copy(&mut self) {
        let Some(r) = self.selected() else { return };
        let store = self.timeline.store(r);
        let i = r.row as usize;
        let bytes = match (self.tab, store.pair(i)) {
            (Tab::Wire, _) => store.wire(i),
            (Tab::Pair, Some(p)) => {
                let (a, b) = if p < i { (p, i) } else { (i, p) };
                [store.body(a), b"\n", store.body(b)].concat()
            }
            _ => store.body(i).to_vec(),
        };
        self.effects
            .push(Effect::Copy(String::from_utf8_lossy(&bytes).into_owned()));
    }
}
