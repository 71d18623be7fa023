//! The control channel's wire format: newline-delimited JSON, one object per line, both
//! ways. A controller sends [`Request`]s (a client-chosen `id` plus a `cmd`), the shim
//! answers each with exactly one [`Reply`] carrying the same `id`, and pushes [`Event`]s
//! (an `event` field, no `id`) to a connection that holds an intercept.
//!
//! Only types and their (de)serialisation live here, shared by the shim's server and
//! `control::client`; no I/O, no policy.

use crate::record::Dir;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest control line either side accepts, so a hostile peer cannot grow memory.
pub const MAX_LINE: usize = 16 << 20;

/// The peer a message is injected toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    /// The child: the message travels client to server (`c2s`).
    Server,
    /// The parent: the message travels server to client (`s2c`).
    Client,
}

impl Peer {
    /// The direction a message written to this peer travels.
    pub fn dir(self) -> Dir {
        match self {
            Peer::Server => Dir::C2s,
            Peer::Client => Dir::S2c,
        }
    }

    pub fn parse(s: &str) -> Option<Peer> {
        match s {
            "server" => Some(Peer::Server),
            "client" => Some(Peer::Client),
            _ => None,
        }
    }
}

/// Which direction(s) an intercept holds messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lanes {
    /// Messages on their way to the server (`c2s`).
    Server,
    /// Messages on their way to the client (`s2c`).
    Client,
    #[default]
    Both,
}

impl Lanes {
    /// Whether messages travelling in `dir` are subject to the intercept.
    pub fn covers(self, dir: Dir) -> bool {
        matches!(
            (self, dir),
            (Lanes::Both, _) | (Lanes::Server, Dir::C2s) | (Lanes::Client, Dir::S2c)
        )
    }
}

/// One command line from a controller: `{"id":N,"cmd":...,...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the controller; echoed in the one reply.
    pub id: u64,
    #[serde(flatten)]
    pub cmd: Command,
}

/// What a controller asks the shim to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Inject a JSON-RPC message toward `to`. A request's id is replaced by one the shim
    /// owns; the reply carries its response with the original id restored, or a timeout.
    Send {
        to: Peer,
        message: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Hold messages matching `filter` (the filter language) in `to`; empty clears.
    Intercept {
        filter: String,
        #[serde(default)]
        to: Lanes,
    },
    /// Let a held message go on unchanged.
    Forward { hold: u64 },
    /// Replace a held message's body, then forward it.
    Edit { hold: u64, body: Value },
    /// Discard a held message: no peer ever sees it.
    Drop { hold: u64 },
    /// Forward every message this connection holds.
    ForwardAll,
    /// Answer a held request with `body` (the whole response) toward whoever sent it;
    /// the request is not forwarded.
    Answer { hold: u64, body: Value },
}

/// The one answer to a [`Request`]: `{"id":N,"ok":true,...}` or `ok:false` with `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: u64,
    pub ok: bool,
    /// One line saying what went wrong, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The response to an injected request, its original id restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Value>,
}

impl Reply {
    pub fn ok(id: u64) -> Reply {
        Reply {
            id,
            ok: true,
            error: None,
            reply: None,
        }
    }

    pub fn with_reply(id: u64, reply: Value) -> Reply {
        Reply {
            reply: Some(reply),
            ..Reply::ok(id)
        }
    }

    pub fn error(id: u64, error: impl Into<String>) -> Reply {
        Reply {
            id,
            ok: false,
            error: Some(error.into()),
            reply: None,
        }
    }
}

/// Something the shim pushes unasked to an intercepting connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A message matched the intercept and waits for a decision (`forward`, `edit`,
    /// `drop`, `answer`, `forward_all`).
    Held {
        hold: u64,
        #[serde(with = "dir_name")]
        dir: Dir,
        /// Microseconds since the session started, as in the recording.
        t: u64,
        /// The message, when its body is JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
        /// The body as text, when it is not JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
}

/// A line from the shim: a reply to a command, or a pushed event.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerLine {
    Reply(Reply),
    Event(Event),
}

/// Why a control line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("control line is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("control line has neither \"id\" nor \"event\"")]
    Neither,
}

impl ServerLine {
    /// Parses one line the shim sent: an object with `event` is an event, else a reply.
    pub fn parse(line: &[u8]) -> Result<ServerLine, LineError> {
        let v: Value = serde_json::from_slice(line)?;
        if v.get("event").is_some() {
            Ok(ServerLine::Event(serde_json::from_value(v)?))
        } else if v.get("id").is_some() {
            Ok(ServerLine::Reply(serde_json::from_value(v)?))
        } else {
            Err(LineError::Neither)
        }
    }
}

/// One line (newline included) for any of the protocol's objects.
pub fn to_line<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these types cannot fail: string keys, no non-finite floats we made.
    let mut out = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    out.push(b'\n');
    out
}

/// `Dir` as the recording spells it ("c2s", "s2c").
mod dir_name {
    use crate::record::Dir;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(dir: &Dir, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(dir.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Dir, D::Error> {
        let s = String::deserialize(d)?;
        Dir::parse(&s).ok_or_else(|| serde::de::Error::custom("dir must be \"c2s\" or \"s2c\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip_request(text: &str, want: Request) {
        let got: Request = serde_json::from_str(text).unwrap();
        assert_eq!(got, want);
        let again: Request = serde_json::from_slice(&to_line(&got)).unwrap();
        assert_eq!(again, want);
    }

    #[test]
    fn commands_read_as_the_design_spells_them() {
        round_trip_request(
            r#"{"id":1,"cmd":"send","to":"server","message":{"jsonrpc":"2.0","id":5,"method":"x"},"timeout_ms":500}"#,
            Request {
                id: 1,
                cmd: Command::Send {
                    to: Peer::Server,
                    message: json!({"jsonrpc":"2.0","id":5,"method":"x"}),
                    timeout_ms: Some(500),
                },
            },
        );
        round_trip_request(
            r#"{"id":2,"cmd":"intercept","filter":"method:initialize","to":"both"}"#,
            Request {
                id: 2,
                cmd: Command::Intercept {
                    filter: "method:initialize".into(),
                    to: Lanes::Both,
                },
            },
        );
        round_trip_request(
            r#"{"id":3,"cmd":"forward","hold":7}"#,
            Request {
                id: 3,
                cmd: Command::Forward { hold: 7 },
            },
        );
        round_trip_request(
            r#"{"id":4,"cmd":"edit","hold":7,"body":{"a":1}}"#,
            Request {
                id: 4,
                cmd: Command::Edit {
                    hold: 7,
                    body: json!({"a":1}),
                },
            },
        );
        round_trip_request(
            r#"{"id":5,"cmd":"drop","hold":8}"#,
            Request {
                id: 5,
                cmd: Command::Drop { hold: 8 },
            },
        );
        round_trip_request(
            r#"{"id":6,"cmd":"forward_all"}"#,
            Request {
                id: 6,
                cmd: Command::ForwardAll,
            },
        );
        round_trip_request(
            r#"{"id":7,"cmd":"answer","hold":9,"body":{"jsonrpc":"2.0","id":1,"result":null}}"#,
            Request {
                id: 7,
                cmd: Command::Answer {
                    hold: 9,
                    body: json!({"jsonrpc":"2.0","id":1,"result":null}),
                },
            },
        );
    }

    #[test]
    fn defaults_and_bad_commands() {
        let r: Request = serde_json::from_str(r#"{"id":1,"cmd":"intercept","filter":""}"#).unwrap();
        assert_eq!(
            r.cmd,
            Command::Intercept {
                filter: String::new(),
                to: Lanes::Both
            }
        );
        let r: Request =
            serde_json::from_str(r#"{"id":1,"cmd":"send","to":"client","message":1}"#).unwrap();
        assert!(matches!(
            r.cmd,
            Command::Send {
                timeout_ms: None,
                ..
            }
        ));
        for bad in [
            r#"{"id":1,"cmd":"explode"}"#,
            r#"{"cmd":"forward_all"}"#,
            r#"{"id":1,"cmd":"send","to":"nobody","message":{}}"#,
            r#"{"id":-1,"cmd":"forward_all"}"#,
            r#"[1,2]"#,
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_and_events_round_trip_through_server_line() {
        let replies = [
            Reply::ok(1),
            Reply::with_reply(2, json!({"jsonrpc":"2.0","id":5,"result":{"x":1}})),
            Reply::error(3, "timeout after 500 ms"),
        ];
        for r in replies {
            let line = to_line(&r);
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(ServerLine::parse(&line).unwrap(), ServerLine::Reply(r));
        }
        let text = br#"{"id":3,"ok":false,"error":"no such hold"}"#;
        let ServerLine::Reply(r) = ServerLine::parse(text).unwrap() else {
            panic!("not a reply")
        };
        assert_eq!(r.error.as_deref(), Some("no such hold"));

        let events = [
            Event::Held {
                hold: 7,
                dir: Dir::C2s,
                t: 1234,
                body: Some(json!({"jsonrpc":"2.0","method":"m"})),
                text: None,
            },
            Event::Held {
                hold: 8,
                dir: Dir::S2c,
                t: 99,
                body: None,
                text: Some("not json".into()),
            },
        ];
        for e in events {
            let line = to_line(&e);
            assert_eq!(ServerLine::parse(&line).unwrap(), ServerLine::Event(e));
        }
        let held = br#"{"event":"held","hold":7,"dir":"s2c","t":5,"body":{"a":1}}"#;
        assert!(matches!(
            ServerLine::parse(held).unwrap(),
            ServerLine::Event(Event::Held {
                hold: 7,
                dir: Dir::S2c,
                ..
            })
        ));
        assert!(ServerLine::parse(b"{}").is_err());
        assert!(ServerLine::parse(b"nope").is_err());
        assert!(ServerLine::parse(br#"{"event":"held","hold":1,"dir":"up","t":0}"#).is_err());
    }

    #[test]
    fn peers_and_lanes() {
        assert_eq!(Peer::Server.dir(), Dir::C2s);
        assert_eq!(Peer::Client.dir(), Dir::S2c);
        assert_eq!(Peer::parse("client"), Some(Peer::Client));
        assert_eq!(Peer::parse("x"), None);
        assert!(Lanes::Both.covers(Dir::C2s) && Lanes::Both.covers(Dir::S2c));
        assert!(Lanes::Server.covers(Dir::C2s) && !Lanes::Server.covers(Dir::S2c));
        assert!(Lanes::Client.covers(Dir::S2c) && !Lanes::Client.covers(Dir::C2s));
    }
}
