//! The TUI's control connection to a running shim (issue 16, `docs/interactive.md`): one
//! Unix-socket connection per viewed session, opened on first use, speaking the control
//! protocol (newline-delimited JSON: commands with an `id` and one reply each, and pushed
//! `held` events). It runs as a task off the UI loop: lines to write arrive on a channel,
//! what the shim says goes back as `Update::Control` on the sources' channel, so the loop
//! sees it like any other feed.
//!
//! The connection lives as long as the viewer's `Feeds`: opening other sessions drops it,
//! and the shim then releases what this viewer held and clears its intercept.
//!
//! Not responsible for: what the commands mean to the viewer (`interact`), nor the shim's
//! side of the protocol (`crate::control`).

use super::source::{Feed, Update};
use crate::control::protocol::{to_line, Request};
use crate::record::Dir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

/// The longest line accepted from the shim (the protocol's bound).
pub const MAX_LINE: usize = crate::control::protocol::MAX_LINE;

/// What the shim said, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The reply to command `id`: `Ok` with the response to an injected request (if any),
    /// or the shim's one-line error.
    Reply {
        id: u64,
        result: Result<Option<Value>, String>,
    },
    /// A message the intercept holds, waiting for a decision.
    Held(HeldMessage),
    /// The connection could not be opened, or ended (the shim exited): why.
    Closed(String),
}

/// A held message as the shim pushed it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldMessage {
    pub hold: u64,
    pub dir: Dir,
    /// Microseconds since the Unix epoch (as `record::Micros`).
    pub t: u64,
    /// The body: JSON, or the text of a body that is not JSON.
    pub body: Result<Value, String>,
}

/// Where the control socket of a viewed session is: the live session (from its discovery
/// file) whose feed socket is `socket` or whose session id is `id`; else `<pid>.ctl`
/// beside the feed's `<pid>.sock`.
pub fn resolve(socket: Option<&Path>, id: Option<&str>) -> Result<PathBuf, String> {
    let live = crate::live::live_sessions();
    let found = live
        .iter()
        .find(|s| socket.is_some_and(|p| s.socket == p) || id.is_some_and(|id| s.info.id == id));
    match (found, socket) {
        (Some(s), _) => s.control.clone().ok_or_else(|| {
            "this session's shim has no control socket (it is older than interactive debugging)"
                .to_owned()
        }),
        (None, Some(p)) => Ok(p.with_extension("ctl")),
        (None, None) => Err("this recording's shim is not running: nothing to send to".to_owned()),
    }
}

/// Parses one line from the shim; `None` for a line that is neither a reply nor an event
/// this viewer knows (a newer shim's), which is skipped.
pub fn parse(line: &[u8]) -> Option<Incoming> {
    use crate::control::protocol::{Event, ServerLine};
    Some(match ServerLine::parse(line).ok()? {
        ServerLine::Reply(r) => Incoming::Reply {
            id: r.id,
            result: if r.ok {
                Ok(r.reply)
            } else {
                Err(r
                    .error
                    .unwrap_or_else(|| "the shim refused without saying why".into()))
            },
        },
        ServerLine::Event(Event::Held {
            hold,
            dir,
            t,
            body,
            text,
        }) => Incoming::Held(HeldMessage {
            hold,
            dir,
            t,
            body: body.ok_or_else(|| text.unwrap_or_default()),
        }),
    })
}

/// A running connection: write a command with `send`.
pub struct Connection {
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl Connection {
    /// Connects (in a task) to `socket` on behalf of session `session`; what the shim says
    /// arrives on `feeds`. The task ends when the shim closes, when this `Connection` is
    /// dropped, or when nobody reads `feeds` any more.
    pub fn open(socket: PathBuf, session: usize, feeds: mpsc::Sender<Feed>) -> Connection {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let why = run(&socket, rx, session, &feeds).await;
            let update = Update::Control(Incoming::Closed(why));
            let _ = feeds.send(Feed { session, update }).await;
        });
        Connection { tx }
    }

    /// Queues one command; false if the connection has ended.
    pub fn send(&self, request: &Request) -> bool {
        self.tx.send(to_line(request)).is_ok()
    }
}

/// Runs the connection; returns why it ended.
async fn run(
    socket: &Path,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    session: usize,
    feeds: &mpsc::Sender<Feed>,
) -> String {
    let stream = match UnixStream::connect(socket).await {
        Ok(s) => s,
        Err(e) => {
            return format!(
                "cannot control this session ('{}': {}); is it a live shim of this rpctap version?",
                socket.display(),
                crate::session::io_message(&e)
            )
        }
    };
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(bytes) => {
                    if let Err(e) = write.write_all(&bytes).await {
                        return format!("the control connection failed: {e}");
                    }
                }
                None => return "closed".to_owned(),
            },
            n = read_line(&mut read, &mut line) => match n {
                Ok(0) => return "the shim closed the control connection (the session ended)".to_owned(),
                Ok(_) => {
                    if let Some(incoming) = parse(&line) {
                        let update = Update::Control(incoming);
                        if feeds.send(Feed { session, update }).await.is_err() {
                            return "closed".to_owned();
                        }
                    }
                    line.clear();
                }
                Err(e) => return format!("the control connection failed: {e}"),
            },
            _ = feeds.closed() => return "closed".to_owned(),
        }
    }
}

/// Reads one line into `line` (without growing past `MAX_LINE`); 0 at the end.
async fn read_line(
    read: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    let n = read
        .take((MAX_LINE - line.len().min(MAX_LINE)) as u64 + 1)
        .read_until(b'\n', line)
        .await?;
    if line.len() > MAX_LINE {
        return Err(std::io::Error::other("a line from the shim is over 16 MiB"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replies_and_held_events_and_skips_the_rest() {
        let ok = parse(br#"{"id":3,"ok":true,"reply":{"id":1,"result":2}}"#).unwrap();
        assert!(matches!(ok, Incoming::Reply { id: 3, result: Ok(Some(v)) } if v["result"] == 2));
        let err = parse(br#"{"id":4,"ok":false,"error":"timeout after 5 ms"}"#).unwrap();
        assert_eq!(
            err,
            Incoming::Reply {
                id: 4,
                result: Err("timeout after 5 ms".into())
            }
        );
        let held = parse(br#"{"event":"held","hold":7,"dir":"c2s","t":5,"body":{"method":"x"}}"#);
        assert!(
            matches!(held, Some(Incoming::Held(h)) if h.hold == 7 && h.dir == Dir::C2s && h.body.is_ok())
        );
        let text = parse(br#"{"event":"held","hold":8,"dir":"s2c","t":5,"text":"oops"}"#);
        assert!(matches!(text, Some(Incoming::Held(h)) if h.body == Err("oops".into())));
        assert_eq!(parse(br#"{"event":"later"}"#), None);
        assert_eq!(parse(b"not json"), None);
        assert_eq!(parse(br#"{"event":"held","hold":1,"dir":"up"}"#), None);
    }
}
