//! The Problems view (`P`): every conformance violation of the viewed sessions, in
//! session order, with the rule, severity and message; Enter selects the message in the
//! list (clearing criteria that hide it is up to the user: the status line says so).
//!
//! Not responsible for: finding violations (`Store::check` runs as rows are ingested).

use super::app::App;
use super::view::Ref;
use crate::session::{Problem, NONE};

/// One line of the view: the session, and the problem's index in its store's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub session: u32,
    pub index: usize,
}

/// Every problem of every viewed session.
pub fn entries(app: &App) -> Vec<Entry> {
    let mut out = Vec::new();
    for (s, session) in app.timeline.sessions.iter().enumerate() {
        for index in 0..session.store.problems.all().len() {
            out.push(Entry {
                session: u32::try_from(s).unwrap_or(u32::MAX),
                index,
            });
        }
    }
    out
}

pub fn problem(app: &App, e: Entry) -> &Problem {
    &app.timeline.sessions[e.session as usize]
        .store
        .problems
        .all()[e.index]
}

impl App {
    /// Some session still has rows to check.
    pub fn checking(&self) -> bool {
        self.timeline
            .sessions
            .iter()
            .any(|s| s.store.check_pending())
    }

    /// On each frame: checks another slice of the sessions' backlog. When a backlog is
    /// done and the filter tests violations, the view is rebuilt to include them.
    pub fn check_tick(&mut self) -> bool {
        let mut added = false;
        let mut finished = false;
        for s in &mut self.timeline.sessions {
            if !s.store.check_pending() {
                continue;
            }
            added |= s.store.check_for(Some(super::view::CHECK_FRAME)) > 0;
            finished |= !s.store.check_pending();
        }
        let filtered = self
            .crit
            .filter
            .as_ref()
            .is_some_and(|f| f.text.contains("violation") || f.text.contains("rule:"));
        if finished && filtered {
            self.rebuild_view();
        }
        added || finished
    }

    /// `P`: opens or closes the view.
    pub fn toggle_problems(&mut self) {
        self.problems = match self.problems {
            Some(_) => None,
            None if entries(self).is_empty() => {
                self.set_status("no conformance problems in these sessions", false);
                None
            }
            None => Some(0),
        };
    }

    pub fn problems_move(&mut self, by: isize) {
        let n = entries(self).len();
        if let Some(sel) = &mut self.problems {
            *sel = sel.saturating_add_signed(by).min(n.saturating_sub(1));
        }
    }

    /// Enter: closes the view and selects the problem's message in the list.
    pub fn problems_jump(&mut self) {
        let Some(sel) = self.problems else { return };
        let Some(&e) = entries(self).get(sel) else {
            return;
        };
        self.problems = None;
        let row = problem(self, e).row;
        if row == NONE {
            self.set_status(
                "this problem concerns the session as a whole (its exit)",
                false,
            );
            return;
        }
        let target = Ref {
            session: e.session,
            row,
        };
        if !self.select_ref(target) {
            self.set_status(
                "that message is hidden by the current view (Esc, C or / to show it)",
                false,
            );
        }
    }
}
