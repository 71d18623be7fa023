//! The events of a session: what a recording file holds line by line, what the live feed
//! sends, and what the session store ingests.

use super::Micros;
use crate::wire::Framing;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The direction a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// Client (the parent) to server (the child).
    C2s,
    /// Server to client.
    S2c,
}

impl Dir {
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::C2s => "c2s",
            Dir::S2c => "s2c",
        }
    }

    pub fn parse(s: &str) -> Option<Dir> {
        match s {
            "c2s" => Some(Dir::C2s),
            "s2c" => Some(Dir::S2c),
            _ => None,
        }
    }

    pub fn other(self) -> Dir {
        match self {
            Dir::C2s => Dir::S2c,
            Dir::S2c => Dir::C2s,
        }
    }

    pub fn arrow(self) -> &'static str {
        match self {
            Dir::C2s => "→",
            Dir::S2c => "←",
        }
    }
}

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub name: String,
    pub command: Vec<String>,
    #[serde(default)]
    pub cwd: String,
    #[serde(default)]
    pub pid: u32,
    /// RFC 3339 with microseconds, UTC.
    pub started: String,
    /// The protocol named with `--protocol`, when not recognised from the traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEvent {
    pub seq: u64,
    pub t: Micros,
    pub dir: Dir,
    pub framing: Framing,
    pub body: Bytes,
    /// Exact header text (Content-Length framing) when it differs from the canonical
    /// `Content-Length: N\r\n\r\n`; the line terminator (newline framing) when not `\n`.
    pub headers: Option<Bytes>,
    /// Set when `--redact` changed the body: the recorded body is not the wire body.
    pub redacted: bool,
    /// The body was larger than the decoding limit: `body` is empty, this is its length
    /// (when the framing announced it).
    pub oversized: Option<Option<u64>>,
    /// What the shim's control channel did with it (injected, held, diverted).
    pub mark: Mark,
}

/// How interactive control touched a message (issue 16). The default is plain traffic,
/// forwarded as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Written by rpctap (`rpctap send`, an answer), not by a peer: `"origin":"rpctap"`.
    pub injected: bool,
    /// Held by an intercept when it arrived: it did not go on then; a `release` line with
    /// this number says what became of it.
    pub held: Option<u64>,
    /// A response to a request rpctap injected: it reached rpctap, never a peer.
    pub diverted: bool,
}

/// What became of a held message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseAction {
    /// Sent on unchanged.
    Forward,
    /// Sent on with the body in the `release` line.
    Edit,
    /// Never sent.
    Drop,
    /// Never sent; rpctap answered it (the answer is an injected message the other way).
    Answer,
}

impl ReleaseAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseAction::Forward => "forward",
            ReleaseAction::Edit => "edit",
            ReleaseAction::Drop => "drop",
            ReleaseAction::Answer => "answer",
        }
    }

    pub fn parse(s: &str) -> Option<ReleaseAction> {
        Some(match s {
            "forward" => ReleaseAction::Forward,
            "edit" => ReleaseAction::Edit,
            "drop" => ReleaseAction::Drop,
            "answer" => ReleaseAction::Answer,
            _ => return None,
        })
    }
}

/// A held message was decided. It is in the recording at the point it reached the peer
/// (forward, edit) or at the decision (drop, answer), so a direction's lines stay in wire
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub t: Micros,
    pub dir: Dir,
    pub hold: u64,
    pub action: ReleaseAction,
    /// The edited message as sent (`edit` only; the held line keeps the original).
    pub body: Option<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoiseEvent {
    pub seq: u64,
    pub t: Micros,
    pub dir: Dir,
    pub text: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StderrEvent {
    pub seq: u64,
    pub t: Micros,
    /// One line, without its line terminator.
    pub text: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub t: Micros,
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// The recorder lost bytes (it fell behind); decoding re-synchronised after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub t: Micros,
    pub dir: Option<Dir>,
    pub bytes: u64,
    pub reason: String,
}

/// The destination refused a write (the peer was gone): the bytes of `dir` from stream
/// offset `from` on were recorded but never reached the peer, so `cat --wire` stops there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undelivered {
    pub t: Micros,
    pub dir: Dir,
    pub from: u64,
}

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Session(SessionInfo),
    Message(MessageEvent),
    Noise(NoiseEvent),
    Stderr(StderrEvent),
    Exit(Exit),
    Gap(Gap),
    Undelivered(Undelivered),
    Release(Release),
}

impl Event {
    pub fn time(&self) -> Option<Micros> {
        match self {
            Event::Session(s) => Micros::parse(&s.started),
            Event::Message(m) => Some(m.t),
            Event::Noise(n) => Some(n.t),
            Event::Stderr(s) => Some(s.t),
            Event::Exit(e) => Some(e.t),
            Event::Gap(g) => Some(g.t),
            Event::Undelivered(u) => Some(u.t),
            Event::Release(r) => Some(r.t),
        }
    }
}
