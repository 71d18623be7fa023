//! The controller's end of a shim's control socket (`<pid>.ctl`): connect, send
//! commands, read their replies and the events the shim pushes. Used by `rpctap send` and
//! by the TUI; blocking I/O with optional timeouts, so a caller may run it on a thread of
//! its own. No policy here beyond matching replies to commands by id.

use super::protocol::{to_line, Command, Event, Reply, Request, ServerLine, MAX_LINE};
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// A connection to one shim's control socket.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    /// Events read while waiting for a reply, handed out by `next_event` in order.
    events: VecDeque<Event>,
    /// Replies read while waiting for another one (a caller that pipelines commands).
    replies: VecDeque<Reply>,
}

/// Why talking to the shim failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("control socket {path}: {source}")]
    Connect { path: String, source: io::Error },
    #[error("control connection: {0}")]
    Io(#[from] io::Error),
    #[error("the shim closed the control connection")]
    Closed,
    #[error("timed out waiting for the shim")]
    Timeout,
    #[error("bad line from the shim: {0}")]
    Line(#[from] super::protocol::LineError),
    #[error("a line from the shim is longer than {MAX_LINE} bytes")]
    TooLong,
}

impl Client {
    /// Connects to a control socket (the `control` path of a session's discovery file).
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::with_capacity(1 << 16, stream),
            writer,
            next_id: 1,
            events: VecDeque::new(),
            replies: VecDeque::new(),
        })
    }

    /// Sends `cmd` without waiting; returns the id its reply will carry.
    pub fn submit(&mut self, cmd: Command) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.writer.write_all(&to_line(&Request { id, cmd }))?;
        Ok(id)
    }

    /// Sends `cmd` and waits for its reply (at most `timeout`, or for ever with `None`).
    /// Events that arrive meanwhile are kept for `next_event`.
    pub fn call(&mut self, cmd: Command, timeout: Option<Duration>) -> Result<Reply, ClientError> {
        let id = self.submit(cmd)?;
        self.wait_reply(id, timeout)
    }

    /// Waits for the reply to command `id`, keeping other lines for later.
    pub fn wait_reply(&mut self, id: u64, timeout: Option<Duration>) -> Result<Reply, ClientError> {
        if let Some(i) = self.replies.iter().position(|r| r.id == id) {
            return Ok(self.replies.remove(i).expect("position is in range"));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            match self.read_line(deadline)? {
                ServerLine::Reply(r) if r.id == id => return Ok(r),
                ServerLine::Reply(r) => self.replies.push_back(r),
                ServerLine::Event(e) => self.events.push_back(e),
            }
        }
    }

    /// The next pushed event (kept ones first); `Ok(None)` when `timeout` passes first.
    /// Replies read meanwhile are kept for `wait_reply`.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, ClientError> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            match self.read_line(deadline) {
                Ok(ServerLine::Event(e)) => return Ok(Some(e)),
                Ok(ServerLine::Reply(r)) => self.replies.push_back(r),
                Err(ClientError::Timeout) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line from the shim, whatever it is, ignoring what earlier waits kept.
    /// For a caller (the TUI's reader thread) that routes lines itself.
    pub fn next_line(&mut self, timeout: Option<Duration>) -> Result<ServerLine, ClientError> {
        if let Some(r) = self.replies.pop_front() {
            return Ok(ServerLine::Reply(r));
        }
        if let Some(e) = self.events.pop_front() {
            return Ok(ServerLine::Event(e));
        }
        self.read_line(timeout.map(|t| Instant::now() + t))
    }

    /// A second handle on the socket for writing, so one thread can read lines while
    /// another submits commands (ids are then the caller's to choose: see `submit_with`).
    pub fn writer(&self) -> Result<UnixStream, ClientError> {
        Ok(self.writer.try_clone()?)
    }

    fn read_line(&mut self, deadline: Option<Instant>) -> Result<ServerLine, ClientError> {
        let mut line = Vec::new();
        loop {
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ClientError::Timeout);
                    }
                    Some(left)
                }
                None => None,
            };
            self.reader.get_ref().set_read_timeout(wait)?;
            let limit = (MAX_LINE + 1 - line.len()) as u64;
            match (&mut self.reader).take(limit).read_until(b'\n', &mut line) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(_) if line.last() == Some(&b'\n') => {
                    return Ok(ServerLine::parse(&line)?);
                }
                Ok(_) if line.len() > MAX_LINE => return Err(ClientError::TooLong),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    // What was read so far stays in `line`; a deadline that passed ends it.
                    if deadline.is_none() {
                        continue;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Writes one command with a caller-chosen id on a handle from `Client::writer`.
pub fn submit_with(writer: &mut UnixStream, id: u64, cmd: Command) -> io::Result<()> {
    writer.write_all(&to_line(&Request { id, cmd }))
}

/// Why `find_session` found no session to talk to.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("no live session (start one with `rpctap -- COMMAND`)")]
    NoneLive,
    #[error("no live session named or with pid {0:?} (see `rpctap ls`)")]
    NoSuch(String),
    #[error("live session {0:?} has no control socket (its shim is older than `rpctap send`)")]
    NoControl(String),
    #[error("runtime directory: {0}")]
    Dir(#[from] crate::paths::DirError),
}

/// The live session `selector` names (its name, or its pid as `ls` and the hub show
/// them; the shim's own pid also matches); the newest one without a selector. Returns the
/// session and its control socket.
pub fn find_session(
    selector: Option<&str>,
) -> Result<(crate::live::LiveSession, std::path::PathBuf), FindError> {
    let sessions = crate::live::live_sessions_checked(&crate::live::runtime_dir())?;
    let shim_pid = |s: &crate::live::LiveSession| {
        s.socket
            .file_stem()
            .and_then(|f| f.to_str())
            .map(str::to_owned)
    };
    let found = match selector {
        None => sessions.into_iter().next().ok_or(FindError::NoneLive)?,
        Some(sel) => sessions
            .into_iter()
            .find(|s| {
                s.info.name == sel
                    || s.info.pid.to_string() == sel
                    || shim_pid(s).as_deref() == Some(sel)
            })
            .ok_or_else(|| FindError::NoSuch(sel.to_owned()))?,
    };
    match found.control.clone() {
        Some(ctl) => Ok((found, ctl)),
        None => Err(FindError::NoControl(found.info.name.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::Event;
    use std::os::unix::net::UnixListener;

    /// A stand-in shim: answers the first command with an event, a stray reply, then
    /// its reply; the second command it never answers.
    fn fake_shim(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("1.ctl");
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let req: Request = serde_json::from_str(&line).unwrap();
            w.write_all(br#"{"event":"held","hold":3,"dir":"c2s","t":1,"text":"x"}"#)
                .unwrap();
            w.write_all(b"\n{\"id\":99,\"ok\":true}\n").unwrap();
            w.write_all(&to_line(&Reply::error(req.id, "no such hold")))
                .unwrap();
            line.clear();
            let _ = r.read_line(&mut line);
            let _ = r.read_line(&mut line);
        });
        path
    }

    #[test]
    fn replies_match_by_id_and_events_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Client::connect(&fake_shim(dir.path())).unwrap();
        let r = c
            .call(Command::Forward { hold: 3 }, Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(
            (r.id, r.ok, r.error.as_deref()),
            (1, false, Some("no such hold"))
        );
        let e = c.next_event(Some(Duration::from_millis(1))).unwrap();
        assert!(matches!(e, Some(Event::Held { hold: 3, .. })));
        assert_eq!(c.wait_reply(99, None).unwrap().id, 99);
        let unanswered = c.call(Command::ForwardAll, Some(Duration::from_millis(50)));
        assert!(matches!(unanswered, Err(ClientError::Timeout)));
    }

    #[test]
    fn a_missing_socket_is_a_connect_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Client::connect(&dir.path().join("none.ctl")).err().unwrap();
        assert!(err.to_string().contains("none.ctl"), "{err}");
    }
}
