//! The compose view's state: a message being written to send toward a peer, to replace a
//! held message (edit), or to answer a held request; its template, its keys, and turning
//! the text into the JSON that goes out.
//!
//! Not responsible for: sending (`interact` turns a submitted message into a control
//! command), drawing (`render::compose`), nor editing keys (`editor`).

use super::editor::Editor;
use crate::record::Dir;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;

pub use crate::control::protocol::Peer;

/// `server` or `client`.
pub fn peer_name(p: Peer) -> &'static str {
    match p {
        Peer::Server => "server",
        Peer::Client => "client",
    }
}

/// The peer a message travelling `dir` reaches.
pub fn peer_of(dir: Dir) -> Peer {
    match dir {
        Dir::C2s => Peer::Server,
        Dir::S2c => Peer::Client,
    }
}

fn other(p: Peer) -> Peer {
    match p {
        Peer::Server => Peer::Client,
        Peer::Client => Peer::Server,
    }
}

/// What the composed message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Inject it (`send`).
    Send,
    /// Replace held message N and forward it (`edit`).
    Edit(u64),
    /// Answer held request N with it (`answer`).
    Answer(u64),
}

/// What a key in the compose view asks for.
#[derive(Debug, PartialEq)]
pub enum ComposeKey {
    /// The text changed or the cursor moved.
    Edited,
    /// Send the message (the text parsed).
    Submit(Value),
    Cancel,
    /// Edit the text in `$EDITOR`.
    External,
    Ignored,
}

/// The empty request the view starts from when nothing is selected.
pub const EMPTY_REQUEST: &str =
    "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"method\": \"\",\n  \"params\": {}\n}";

pub struct Compose {
    /// The viewed session the message is for.
    pub session: usize,
    pub to: Peer,
    pub purpose: Purpose,
    pub editor: Editor,
    /// Why the last submit was refused (the text is not a JSON object).
    pub error: Option<String>,
    /// The request was sent and its reply is awaited (the command id).
    pub waiting: Option<u64>,
    /// The reply to the last message sent: its JSON text, or why there is none.
    pub reply: Option<Result<String, String>>,
}

impl Compose {
    pub fn new(session: usize, to: Peer, purpose: Purpose, text: &str) -> Compose {
        Compose {
            session,
            to,
            purpose,
            editor: Editor::new(text),
            error: None,
            waiting: None,
            reply: None,
        }
    }

    /// The title of the view.
    pub fn title(&self) -> String {
        match self.purpose {
            Purpose::Send => format!("compose → {}", peer_name(self.to)),
            Purpose::Edit(h) => format!(
                "edit held #{h}, then forward it to the {}",
                peer_name(self.to)
            ),
            Purpose::Answer(h) => format!(
                "answer held #{h} (the response goes back to the {})",
                peer_name(self.to)
            ),
        }
    }

    /// Applies a key.
    pub fn key(&mut self, k: KeyEvent) -> ComposeKey {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Esc => ComposeKey::Cancel,
            KeyCode::Char('c') if ctrl => ComposeKey::Cancel,
            KeyCode::Char('s') if ctrl => self.submit(),
            KeyCode::F(5) => self.submit(),
            KeyCode::Char('o') if ctrl => ComposeKey::External,
            KeyCode::Char('t') if ctrl && self.purpose == Purpose::Send => {
                self.to = other(self.to);
                ComposeKey::Edited
            }
            KeyCode::Char('n') if ctrl && self.purpose == Purpose::Send => {
                // The empty request is the usual start: one to the server.
                self.editor.set_text(EMPTY_REQUEST);
                self.to = Peer::Server;
                self.error = None;
                ComposeKey::Edited
            }
            _ if self.editor.key(k) => {
                self.error = None;
                ComposeKey::Edited
            }
            _ => ComposeKey::Ignored,
        }
    }

    fn submit(&mut self) -> ComposeKey {
        match parse_message(&self.editor.text()) {
            Ok(v) => {
                self.error = None;
                ComposeKey::Submit(v)
            }
            Err(e) => {
                self.error = Some(e);
                ComposeKey::Edited
            }
        }
    }
}

/// The text as a message: a JSON object (or a batch array); otherwise why not, with the
/// line and column of a syntax error.
pub fn parse_message(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => Ok(v),
        Ok(_) => Err("a JSON-RPC message is a JSON object".into()),
        Err(e) => Err(format!(
            "not JSON: line {} column {}: {}",
            e.line(),
            e.column(),
            crate::fmt::printable(&e.to_string())
        )),
    }
}

/// A message as the compose view shows it: pretty JSON, or the text as it is.
pub fn pretty(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}

/// The response that answers `request` (its id, a `null` result) for the user to fill in.
pub fn answer_template(request: &Value) -> String {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let v = serde_json::json!({"jsonrpc": "2.0", "id": id, "result": null});
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn submits_json_objects_only_and_says_where_text_is_wrong() {
        let mut c = Compose::new(0, Peer::Server, Purpose::Send, "{\"a\":");
        assert_eq!(c.key(ctrl('s')), ComposeKey::Edited);
        assert!(
            c.error.as_deref().unwrap().starts_with("not JSON: line 1"),
            "{:?}",
            c.error
        );
        c.key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE));
        c.key(KeyEvent::new(KeyCode::Char('}'), KeyModifiers::NONE));
        assert_eq!(c.error, None, "typing clears the error");
        assert_eq!(
            c.key(ctrl('s')),
            ComposeKey::Submit(serde_json::json!({"a": 1}))
        );
        c.editor.set_text("3");
        c.key(ctrl('s'));
        assert_eq!(
            c.error.as_deref(),
            Some("a JSON-RPC message is a JSON object")
        );
    }

    #[test]
    fn the_peer_toggles_only_when_sending() {
        let mut c = Compose::new(0, Peer::Server, Purpose::Send, "");
        c.key(ctrl('t'));
        assert_eq!(c.to, Peer::Client);
        let mut e = Compose::new(0, Peer::Server, Purpose::Edit(3), "");
        e.key(ctrl('t'));
        assert_eq!(e.to, Peer::Server);
        c.key(ctrl('n'));
        assert_eq!(c.editor.text(), EMPTY_REQUEST);
    }

    #[test]
    fn the_answer_template_carries_the_request_id() {
        let t = answer_template(&serde_json::json!({"id": "x", "method": "m"}));
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"jsonrpc": "2.0", "id": "x", "result": null})
        );
    }
}
