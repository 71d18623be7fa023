//! The held messages (`H`): what the shim's intercept holds for this viewer, and the
//! decisions on them — forward, edit then forward, drop, forward all, answer. Each
//! decision is a control command (`interact`); the entry leaves the list when the shim
//! confirms it.
//!
//! Not responsible for: setting the intercept (`interact`), drawing (`render::interact`).

use super::app::App;
use super::compose::{self, peer_of, Compose, Purpose};
use super::control::HeldMessage;
use super::interact::Pending;
use crate::control::protocol::Command;
use serde_json::Value;

/// A held message and the session whose shim holds it.
#[derive(Debug, Clone)]
pub struct Held {
    pub session: usize,
    pub msg: HeldMessage,
}

impl Held {
    /// `textDocument/hover #3`, or what the body is when it is not a request.
    pub fn summary(&self) -> String {
        let Ok(v) = &self.msg.body else {
            return "(not JSON)".into();
        };
        let method = v.get("method").and_then(Value::as_str);
        let id = v.get("id").map(Value::to_string);
        match (method, id) {
            (Some(m), Some(id)) => format!("{m} #{id}"),
            (Some(m), None) => m.to_owned(),
            (None, Some(id)) => format!("response #{id}"),
            (None, None) => "message".into(),
        }
    }

    /// A request (it has a method and an id): it can be answered.
    pub fn is_request(&self) -> bool {
        self.msg
            .body
            .as_ref()
            .is_ok_and(|v| v.get("method").is_some() && v.get("id").is_some())
    }

    pub fn text(&self) -> String {
        match &self.msg.body {
            Ok(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            Err(t) => t.clone(),
        }
    }
}

/// A decision on a held message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Forward,
    Drop,
    ForwardAll,
}

impl App {
    /// `H`: opens or closes the held-messages view.
    pub(super) fn toggle_held(&mut self) {
        self.act.held_view = match self.act.held_view {
            Some(_) => None,
            None if self.act.held.is_empty() && self.act.intercept.is_none() => {
                self.set_status("nothing held: i sets an intercept filter", false);
                None
            }
            None => Some(0),
        };
    }

    pub(super) fn held_move(&mut self, by: isize) {
        let n = self.act.held.len();
        if let Some(sel) = &mut self.act.held_view {
            *sel = sel.saturating_add_signed(by).min(n.saturating_sub(1));
        }
    }

    fn held_selected(&self) -> Option<&Held> {
        self.act.held.get(self.act.held_view?)
    }

    /// `a`, `d`, `A` in the held view.
    pub(super) fn decide(&mut self, d: Decision) {
        if d == Decision::ForwardAll {
            // The shim may hold messages whose events are still on their way: with an
            // intercept set, the command goes even when the list is empty.
            let session = self.act.held.first().map(|h| h.session);
            let Some(session) = session.or(self.act.intercept.as_ref().map(|i| i.0)) else {
                return self.set_status("nothing held", false);
            };
            self.command(
                session,
                Command::ForwardAll,
                Pending::Decide {
                    hold: u64::MAX,
                    what: "forwarded",
                },
            );
            return;
        }
        let Some(h) = self.held_selected() else {
            return;
        };
        let (session, hold) = (h.session, h.msg.hold);
        let (cmd, what) = match d {
            Decision::Forward => (Command::Forward { hold }, "forwarded"),
            _ => (Command::Drop { hold }, "dropped"),
        };
        self.command(session, cmd, Pending::Decide { hold, what });
    }

    /// `e` (edit then forward) and `r` (answer) in the held view: the compose view for it.
    pub(super) fn held_compose(&mut self, answer: bool) {
        let Some(h) = self.held_selected().cloned() else {
            return;
        };
        let to = peer_of(h.msg.dir);
        let c = if answer {
            if !h.is_request() {
                return self.set_status("only a held request can be answered", true);
            }
            let request = h.msg.body.as_ref().cloned().unwrap_or_default();
            Compose::new(
                h.session,
                to,
                Purpose::Answer(h.msg.hold),
                &compose::answer_template(&request),
            )
        } else {
            Compose::new(h.session, to, Purpose::Edit(h.msg.hold), &h.text())
        };
        self.act.compose = Some(c);
    }

    pub(super) fn fix_held_selection(&mut self) {
        let n = self.act.held.len();
        if let Some(sel) = &mut self.act.held_view {
            *sel = (*sel).min(n.saturating_sub(1));
        }
    }
}
