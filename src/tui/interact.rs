//! Interactive debugging in the viewer (issue 16, `docs/interactive.md`): compose and send
//! (`>`), resend a recorded request (`r`), the intercept filter (`i`) and the held messages
//! (`H`: forward, edit, drop, forward all, answer). Each becomes a control command for the
//! session's shim (`Effect::Control`); its reply comes back as `Update::Control` and is
//! matched to what asked for it here.
//!
//! Not responsible for: the connection (`control`), drawing (`render::interact`), the
//! compose view's text (`compose`), the decisions on held messages (`held`).

use super::app::{App, Effect};
use super::compose::{self, peer_of, Compose, ComposeKey, Purpose};
use super::control::Incoming;
pub use super::held::{Decision, Held};
use crate::control::protocol::{Command, Lanes, Request};
use crate::rpc::Kind;
use serde_json::Value;
use std::collections::HashMap;

/// How long the shim waits for the answer to a request sent from the TUI.
pub const SEND_TIMEOUT_MS: u64 = 30_000;
/// Held messages kept in the list at most (the shim holds them; this is only the view).
pub const MAX_HELD: usize = 10_000;

/// The interactive state of the viewer.
#[derive(Default)]
pub struct Interact {
    next_id: u64,
    pending: HashMap<u64, Pending>,
    pub compose: Option<Compose>,
    /// Messages the shim holds for this viewer, oldest first.
    pub held: Vec<Held>,
    /// The held-messages view is open, with this entry selected.
    pub held_view: Option<usize>,
    /// The intercept filter in force: (session, filter text).
    pub intercept: Option<(usize, String)>,
    pub resend: Option<Resend>,
}

/// A recorded request sent again, and what came back.
pub struct Resend {
    pub session: usize,
    /// The request's row, and its recorded response's.
    pub request: usize,
    pub old: Option<usize>,
    /// The new response (the shim restores the request's own id), or why there is none.
    pub new: Option<Result<Value, String>>,
    pub scroll: usize,
}

/// What a command was sent for.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    Send,
    Resend,
    Intercept(String),
    Decide { hold: u64, what: &'static str },
}

impl App {
    /// Sends `command` to the shim of session `session`, remembering what for.
    pub(super) fn command(&mut self, session: usize, cmd: Command, why: Pending) -> Option<u64> {
        let s = self.timeline.sessions.get(session)?;
        if s.store.exit.is_some() {
            self.set_status("this session has ended: nothing to send to", true);
            return None;
        }
        let socket = match self.opened.get(session).map(|t| &t.source) {
            Some(super::source::Source::Live { socket }) => Some(socket.clone()),
            _ => None,
        };
        let session_id = s.store.info.as_ref().map(|i| i.id.clone());
        if socket.is_none() && session_id.is_none() {
            self.set_status("this session names no shim: nothing to send to", true);
            return None;
        }
        self.act.next_id += 1;
        let id = self.act.next_id;
        self.act.pending.insert(id, why);
        let request = Request { id, cmd };
        self.effects.push(Effect::Control {
            session,
            socket,
            session_id,
            request,
        });
        Some(id)
    }

    /// The session of the selection (or the first).
    fn current_session(&self) -> usize {
        self.selected().map_or(0, |r| r.session as usize)
    }

    /// `>`: the compose view, from the selected message or an empty request.
    pub(super) fn open_compose(&mut self) {
        let (session, to, text) = match self.selected() {
            Some(r) => {
                let store = self.timeline.store(r);
                let row = store.row(r.row as usize);
                let message = !matches!(row.kind, Kind::Noise | Kind::Stderr | Kind::Oversized);
                let text = if message {
                    compose::pretty(store.body(r.row as usize))
                } else {
                    compose::EMPTY_REQUEST.to_owned()
                };
                (r.session as usize, peer_of(row.dir), text)
            }
            None => (
                0,
                crate::control::protocol::Peer::Server,
                compose::EMPTY_REQUEST.to_owned(),
            ),
        };
        self.act.compose = Some(Compose::new(session, to, Purpose::Send, &text));
    }

    pub(super) fn compose_key(&mut self, k: crossterm::event::KeyEvent) {
        let Some(c) = self.act.compose.as_mut() else {
            return;
        };
        match c.key(k) {
            ComposeKey::Submit(message) => self.submit_compose(message),
            ComposeKey::Cancel => self.act.compose = None,
            ComposeKey::External => {
                let text = c.editor.text();
                self.effects.push(Effect::External(text));
            }
            ComposeKey::Edited | ComposeKey::Ignored => {}
        }
    }

    /// The text `$EDITOR` left (or why it failed).
    pub(super) fn edited(&mut self, result: Result<String, String>) {
        let Some(c) = self.act.compose.as_mut() else {
            return;
        };
        match result {
            Ok(text) => {
                c.editor.set_text(&text);
                c.error = compose::parse_message(&text).err();
            }
            Err(e) => c.error = Some(e),
        }
    }

    fn submit_compose(&mut self, message: Value) {
        let Some(c) = self.act.compose.as_ref() else {
            return;
        };
        let (session, to, purpose) = (c.session, c.to, c.purpose);
        match purpose {
            Purpose::Send => {
                let cmd = Command::Send {
                    to,
                    message,
                    timeout_ms: Some(SEND_TIMEOUT_MS),
                };
                let id = self.command(session, cmd, Pending::Send);
                // Refused before sending (the session ended): said in the view itself.
                let refused = id
                    .is_none()
                    .then(|| self.status.as_ref().map(|s| s.text.clone()));
                if let Some(c) = self.act.compose.as_mut() {
                    c.waiting = id;
                    c.reply = None;
                    c.error = refused.flatten();
                }
            }
            Purpose::Edit(hold) | Purpose::Answer(hold) => {
                let (cmd, what) = if matches!(purpose, Purpose::Edit(_)) {
                    let cmd = Command::Edit {
                        hold,
                        body: message,
                    };
                    (cmd, "edited and forwarded")
                } else {
                    let cmd = Command::Answer {
                        hold,
                        body: message,
                    };
                    (cmd, "answered")
                };
                self.command(session, cmd, Pending::Decide { hold, what });
                self.act.compose = None;
            }
        }
    }

    /// `r`: the selected request sent again (the shim gives it a fresh id), its new response
    /// shown beside the recorded one. After a live feed cut this viewer off, `r` reattaches.
    pub(super) fn resend(&mut self) {
        let cut = self
            .timeline
            .sessions
            .iter()
            .any(|s| s.feed == super::view::SourceState::CutOff);
        if cut {
            return self.reattach();
        }
        let Some(r) = self.selected() else { return };
        let store = self.timeline.store(r);
        let i = r.row as usize;
        if store.row(i).kind != Kind::Request {
            return self.set_status("r resends a request: select one", false);
        }
        let Ok(message) = serde_json::from_slice::<Value>(store.body(i)) else {
            return self.set_status("this request is not JSON: nothing to resend", true);
        };
        let to = peer_of(store.row(i).dir);
        let old = store.pair(i);
        let cmd = Command::Send {
            to,
            message,
            timeout_ms: Some(SEND_TIMEOUT_MS),
        };
        if self
            .command(r.session as usize, cmd, Pending::Resend)
            .is_some()
        {
            self.act.resend = Some(Resend {
                session: r.session as usize,
                request: i,
                old,
                new: None,
                scroll: 0,
            });
        }
    }

    /// `i` submitted: sets (or with an empty filter clears) the intercept.
    pub(super) fn set_intercept(&mut self, filter: String) {
        let session = self
            .act
            .intercept
            .as_ref()
            .map_or_else(|| self.current_session(), |i| i.0);
        let cmd = Command::Intercept {
            filter: filter.clone(),
            to: Lanes::Both,
        };
        self.command(session, cmd, Pending::Intercept(filter));
    }

    /// The intercept's text, for the prompt.
    pub(super) fn intercept_text(&self) -> String {
        self.act
            .intercept
            .as_ref()
            .map(|i| i.1.clone())
            .unwrap_or_default()
    }

    /// What the shim said on session `session`'s control connection.
    pub(super) fn control_in(&mut self, session: usize, incoming: Incoming) {
        match incoming {
            Incoming::Reply { id, result } => {
                let Some(why) = self.act.pending.remove(&id) else {
                    return;
                };
                self.replied(session, id, why, result);
            }
            Incoming::Held(msg) => {
                if self.act.held.len() >= MAX_HELD {
                    return;
                }
                let h = Held { session, msg };
                let note = format!(
                    "held #{} {} {}: H to decide",
                    h.msg.hold,
                    h.msg.dir.arrow(),
                    h.summary()
                );
                self.act.held.push(h);
                // A note never hides an error the user has not read yet.
                if !self.status.as_ref().is_some_and(|s| s.error) {
                    self.set_status(crate::fmt::printable(&note), false);
                }
            }
            Incoming::Closed(why) => {
                // The shim released what it held for this connection and cleared its intercept.
                self.act.held.retain(|h| h.session != session);
                if self.act.intercept.as_ref().is_some_and(|i| i.0 == session) {
                    self.act.intercept = None;
                }
                self.act.pending.clear();
                if let Some(r) = self.act.resend.as_mut().filter(|r| r.new.is_none()) {
                    r.new = Some(Err(why.clone()));
                }
                if let Some(c) = self.act.compose.as_mut().filter(|c| c.waiting.is_some()) {
                    c.waiting = None;
                    c.reply = Some(Err(why.clone()));
                }
                self.fix_held_selection();
                if why != "closed" {
                    self.set_status(why, true);
                }
            }
        }
    }

    fn replied(
        &mut self,
        session: usize,
        id: u64,
        why: Pending,
        result: Result<Option<Value>, String>,
    ) {
        match why {
            Pending::Send => {
                let reply = result;
                let line = match &reply {
                    Ok(Some(r)) => format!("reply: {}", crate::fmt::printable(&r.to_string())),
                    Ok(None) => "sent".to_owned(),
                    Err(e) => format!("send failed: {e}"),
                };
                let failed = reply.is_err();
                if let Some(c) = self.act.compose.as_mut().filter(|c| c.waiting == Some(id)) {
                    c.waiting = None;
                    c.reply = Some(reply.map(|r| {
                        r.map_or("(a notification: no reply)".into(), |r| {
                            serde_json::to_string_pretty(&r).unwrap_or_default()
                        })
                    }));
                }
                self.set_status(line, failed);
            }
            Pending::Resend => {
                if let Some(r) = self.act.resend.as_mut().filter(|r| r.session == session) {
                    r.new = Some(result.map(|v| v.unwrap_or(Value::Null)));
                }
            }
            Pending::Intercept(filter) => match result {
                Ok(_) if filter.trim().is_empty() => {
                    self.act.intercept = None;
                    self.set_status("intercept cleared: everything flows", false);
                }
                Ok(_) => {
                    let note = format!("intercepting \"{filter}\": matching messages are held (H)");
                    self.act.intercept = Some((session, filter));
                    self.set_status(crate::fmt::printable(&note), false);
                }
                Err(e) => self.set_status(format!("intercept refused: {e}"), true),
            },
            Pending::Decide { hold, what } => match result {
                Ok(_) => {
                    if hold == u64::MAX {
                        let n = self
                            .act
                            .held
                            .iter()
                            .filter(|h| h.session == session)
                            .count();
                        self.act.held.retain(|h| h.session != session);
                        self.set_status(format!("{n} held message(s) forwarded"), false);
                    } else {
                        self.act
                            .held
                            .retain(|h| !(h.session == session && h.msg.hold == hold));
                        self.set_status(format!("held #{hold} {what}"), false);
                    }
                    self.fix_held_selection();
                }
                Err(e) => self.set_status(format!("held #{hold}: {e}"), true),
            },
        }
    }
}
