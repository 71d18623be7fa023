//! The processes of the end-to-end benchmark other than the load generator: an echo server
//! and a plain byte relay, both run by re-executing the benchmark binary with a mode
//! argument, and the Content-Length frame helpers they share with the load generator.
//!
//! The relay is the baseline the shim is held to: the least a forwarding process can do
//! (two threads, 64 KiB buffers, no decoding), so that what is left is the shim's own cost.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};

/// The buffer size of every copy loop and reader, as a pipe delivers data.
pub const BUF: usize = 64 * 1024;
/// Ids have a fixed width so that a frame's length does not depend on its id.
pub const FIRST_ID: u64 = 1_000_000_000;
const ID_DIGITS: usize = 10;

/// Our own stdin and stdout as plain files: no `Stdin` line buffer, no `Stdout` line
/// flushing, so reads and writes are the sizes we ask for.
fn std_files() -> io::Result<(File, File)> {
    let stdin = File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    Ok((stdin, stdout))
}

/// A request frame (header and body) whose body is exactly `len` bytes.
pub struct Template {
    pub frame: Vec<u8>,
    /// Where the id's digits start in `frame`.
    id_at: usize,
    /// Where the id's digits start in a body (request and response alike).
    pub body_id_at: usize,
}

impl Template {
    pub fn new(len: usize) -> Template {
        let prefix =
            format!(r#"{{"jsonrpc":"2.0","id":{FIRST_ID},"method":"bench/echo","params":""#);
        let body_id_at = prefix.find(r#""id":"#).unwrap_or(0) + 5;
        assert!(
            len >= prefix.len() + 2,
            "a body of {len} bytes is too short"
        );
        let mut body = prefix.into_bytes();
        body.resize(len - 2, b'x');
        body.extend_from_slice(b"\"}");
        let mut frame = format!("Content-Length: {len}\r\n\r\n").into_bytes();
        let id_at = frame.len() + body_id_at;
        frame.extend_from_slice(&body);
        Template {
            frame,
            id_at,
            body_id_at,
        }
    }

    /// The frame, with `id` written in.
    pub fn with_id(&mut self, id: u64) -> &[u8] {
        self.frame[self.id_at..self.id_at + ID_DIGITS].copy_from_slice(&digits(id));
        &self.frame
    }
}

/// The fixed-width decimal digits of an id, without allocating: the load generator does
/// this for millions of messages and should stay light next to what it measures.
fn digits(mut id: u64) -> [u8; ID_DIGITS] {
    let mut out = [b'0'; ID_DIGITS];
    for d in out.iter_mut().rev() {
        *d = b'0' + (id % 10) as u8;
        id /= 10;
    }
    out
}

/// Reads one frame's header block; the body length, or `None` at a clean end of stream.
pub fn read_head(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<usize>> {
    let mut len = None;
    let mut started = false;
    loop {
        line.clear();
        if r.read_until(b'\n', line)? == 0 {
            if started {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            return Ok(None);
        }
        started = true;
        let l = line.trim_ascii_end();
        if l.is_empty() {
            if let Some(n) = len {
                return Ok(Some(n));
            }
            continue;
        }
        if let Some((name, value)) = l.split_at_checked(15) {
            if name.eq_ignore_ascii_case(b"content-length:") {
                let n = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok());
                len = Some(n.ok_or_else(|| io::Error::other("bad Content-Length"))?);
            }
        }
    }
}

/// Reads one response of `len` bytes into `body` and checks that it answers `id`.
pub fn read_response(
    r: &mut impl BufRead,
    line: &mut Vec<u8>,
    body: &mut Vec<u8>,
    id: u64,
    body_id_at: usize,
) -> io::Result<()> {
    let len = read_head(r, line)?.ok_or(io::ErrorKind::UnexpectedEof)?;
    body.resize(len, 0);
    r.read_exact(body)?;
    if body.get(body_id_at..body_id_at + ID_DIGITS) != Some(&digits(id)[..]) {
        return Err(io::Error::other(format!(
            "response out of order: expected id {id}"
        )));
    }
    Ok(())
}

/// The echo server: answers each Content-Length request with a JSON-RPC response of the
/// same size and the same id. It flushes only when no more input is buffered, as a real
/// server does, so pipelined requests are answered in batches and a lone one at once.
pub fn echo_server() -> io::Result<()> {
    let (stdin, stdout) = std_files()?;
    let mut r = BufReader::with_capacity(BUF, stdin);
    let mut w = BufWriter::with_capacity(BUF, stdout);
    let fill = vec![b'x'; BUF];
    let (mut line, mut body) = (Vec::new(), Vec::new());
    while let Some(len) = read_head(&mut r, &mut line)? {
        body.resize(len, 0);
        r.read_exact(&mut body)?;
        // Keep `{"jsonrpc":"2.0","id":N,` and answer with a result string of the same length.
        let keep = memchr::memmem::find(&body, br#","method""#).map_or(0, |i| i + 1);
        write!(w, "Content-Length: {len}\r\n\r\n")?;
        w.write_all(&body[..keep])?;
        w.write_all(br#""result":""#)?;
        let mut left = len.saturating_sub(keep + 12);
        while left > 0 {
            let n = left.min(fill.len());
            w.write_all(&fill[..n])?;
            left -= n;
        }
        w.write_all(b"\"}")?;
        if r.buffer().is_empty() {
            w.flush()?;
        }
    }
    w.flush()
}

/// Copies `r` to `w` through one 64 KiB buffer until `r` ends.
fn copy(mut r: impl Read, mut w: impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
    }
}

/// The baseline relay: spawns `cmd` and copies stdin → child and child → stdout on two
/// threads. Its exit code is the child's.
pub fn relay(cmd: &[OsString]) -> io::Result<i32> {
    let (stdin, stdout) = std_files()?;
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let to_child = child.stdin.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let from_child = child.stdout.take().ok_or(io::ErrorKind::BrokenPipe)?;
    // Dropping `to_child` at the end of the copy closes the child's stdin, as a shim does.
    let up = std::thread::spawn(move || copy(stdin, to_child));
    let down = std::thread::spawn(move || copy(from_child, stdout));
    let _ = up.join();
    let _ = down.join();
    Ok(child.wait()?.code().unwrap_or(1))
}
