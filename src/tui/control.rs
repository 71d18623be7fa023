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

use super::source::{Feed, Source, Update};
use crate::record::Dir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

/// The longest line accepted from the shim: a held message can be large, but not unbounded.
pub const MAX_LINE: usize = 64 << 20;

/// What the shim said, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The reply to command `id`: `Ok` with the reply object, or the shim's one-line error.
    Reply {
        id: u64,
        result: Result<Value, String>,
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
    /// Microseconds since the epoch.
    pub t: i64,
    /// The body: JSON, or the text of a body that is not JSON.
    pub body: Result<Value, String>,
}

/// The control socket of a viewed session: `<pid>.ctl` beside the live feed's `<pid>.sock`;
/// for a recording, the one of the shim whose pid its header names.
pub fn socket_for(source: Option<&Source>, pid: Option<u32>) -> Option<PathBuf> {
    match (source, pid) {
        (Some(Source::Live { socket }), _) => Some(socket.with_extension("ctl")),
        (_, Some(pid)) if pid != 0 => Some(crate::live::runtime_dir().join(format!("{pid}.ctl"))),
        _ => None,
    }
}

/// Parses one line from the shim; `None` for a line that is neither a reply nor an event
/// this viewer knows (a newer shim's), which is skipped.
pub fn parse(line: &[u8]) -> Option<Incoming> {
    let v: Value = serde_json::from_slice(line).ok()?;
    if let Some(id) = v.get("id").and_then(Value::as_u64) {
        let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
        let result = if ok {
            Ok(v)
        } else {
            let e = v.get("error").and_then(Value::as_str);
            Err(e
                .unwrap_or("the shim refused without saying why")
                .to_owned())
        };
        return Some(Incoming::Reply { id, result });
    }
    if v.get("event").and_then(Value::as_str) != Some("held") {
        return None;
    }
    let body = match (v.get("body"), v.get("text").and_then(Value::as_str)) {
        (Some(b), _) => Ok(b.clone()),
        (None, Some(t)) => Err(t.to_owned()),
        (None, None) => Err(String::new()),
    };
    Some(Incoming::Held(HeldMessage {
        hold: v.get("hold")?.as_u64()?,
        dir: Dir::parse(v.get("dir")?.as_str()?)?,
        t: v.get("t").and_then(Value::as_i64).unwrap_or(0),
        body,
    }))
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

    /// Queues one command (a JSON object); false if the connection has ended.
    pub fn send(&self, command: &Value) -> bool {
        let mut line = command.to_string().into_bytes();
        line.push(b'\n');
        self.tx.send(line).is_ok()
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
        return Err(std::io::Error::other("a line from the shim is over 64 MiB"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replies_and_held_events_and_skips_the_rest() {
        let ok = parse(br#"{"id":3,"ok":true,"reply":{"id":1,"result":2}}"#).unwrap();
        assert!(
            matches!(ok, Incoming::Reply { id: 3, result: Ok(v) } if v["reply"]["result"] == 2)
        );
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
