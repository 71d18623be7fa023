//! The shim's end of the control socket, `<runtime dir>/<pid>.ctl`: created 0600 (bound
//! under a umask of 0o177, so there is no moment at which it is more open) in the private
//! runtime directory, and a connection is served only when its peer runs as this user
//! (`SO_PEERCRED`). One thread reads each connection's commands and another writes its
//! lines, so that nothing on the forwarding path ever waits for a controller.

use super::protocol::{to_line, Command, Reply, Request, MAX_LINE};
use super::state::{Conn, Control};
use crate::record::ReleaseAction;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Lines waiting for a controller that is slow to read; past this it is cut off.
const QUEUE: usize = 4096;
/// How long an injected request waits for its response when the command does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The bound control socket; removed when dropped.
pub struct Server {
    pub path: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds `<dir>/<pid>.ctl` and serves it on a thread of its own.
pub fn bind(dir: &Path, control: Arc<Control>) -> std::io::Result<Server> {
    crate::paths::ensure_private_dir(dir).map_err(std::io::Error::other)?;
    let path = dir.join(format!("{}.ctl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let old = crate::os::umask(0o177);
    let bound = UnixListener::bind(&path);
    crate::os::umask(old);
    let listener = bound?;
    let server = Server { path };
    std::thread::Builder::new()
        .name("control-accept".into())
        .spawn(move || accept(&listener, &control))?;
    Ok(server)
}

fn accept(listener: &UnixListener, control: &Arc<Control>) {
    let ids = AtomicU64::new(0);
    for stream in listener.incoming().map_while(Result::ok) {
        // Another user's process must not steer this session, whatever the file's mode.
        if crate::os::peer_uid(&stream).ok() != Some(crate::os::euid()) {
            continue;
        }
        let id = ids.fetch_add(1, Ordering::Relaxed) + 1;
        let control = control.clone();
        let _ = std::thread::Builder::new()
            .name("control".into())
            .spawn(move || serve(stream, id, &control));
    }
}

/// Serves one controller until it hangs up; then what it held goes on.
fn serve(stream: UnixStream, id: u64, control: &Arc<Control>) {
    let (Ok(writer), Ok(sock)) = (stream.try_clone(), stream.try_clone()) else {
        return;
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("control-write".into())
        .spawn(move || {
            let mut w = writer;
            for line in rx {
                if w.write_all(&line).is_err() {
                    let _ = w.shutdown(std::net::Shutdown::Both);
                    break;
                }
            }
        });
    if spawned.is_err() {
        return;
    }
    let conn = Arc::new(Conn { id, tx, sock });
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => break,
            Ok(_) if line.last() != Some(&b'\n') => {
                if line.len() > MAX_LINE {
                    conn.reply(&Reply::error(
                        0,
                        format!("command longer than {MAX_LINE} bytes"),
                    ));
                }
                break;
            }
            Ok(_) => command(control, &conn, &line),
        }
    }
    control.disconnect(&conn);
    let _ = conn.sock.shutdown(std::net::Shutdown::Both);
}

/// Handles one command line; every command gets exactly one reply (a `send` of a
/// request gets it when the response comes).
fn command(control: &Arc<Control>, conn: &Arc<Conn>, line: &[u8]) {
    let req: Request = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => {
            // Answer with its id when the line has one, so the controller can match it.
            let id = serde_json::from_slice::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("id").and_then(serde_json::Value::as_u64))
                .unwrap_or(0);
            conn.reply(&Reply::error(id, format!("bad command: {e}")));
            return;
        }
    };
    let id = req.id;
    let done = match req.cmd {
        Command::Send {
            to,
            message,
            timeout_ms,
        } => {
            let timeout = timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis);
            // The reply comes from the pump (written, or the response) or the timeout.
            match control.send(conn, id, to, message, timeout) {
                Ok(()) => return,
                Err(e) => Err(e),
            }
        }
        Command::Intercept { filter, to } => match control.intercept(conn, id, &filter, to) {
            Ok(true) => return,
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        Command::Forward { hold } => control.decide(conn, hold, ReleaseAction::Forward, None),
        Command::Edit { hold, body } => control.decide(conn, hold, ReleaseAction::Edit, Some(body)),
        Command::Drop { hold } => control.decide(conn, hold, ReleaseAction::Drop, None),
        Command::Answer { hold, body } => {
            control.decide(conn, hold, ReleaseAction::Answer, Some(body))
        }
        Command::ForwardAll => {
            control.forward_all(conn);
            Ok(())
        }
    };
    conn.send(to_line(&match done {
        Ok(()) => Reply::ok(id),
        Err(e) => Reply::error(id, e),
    }));
}
