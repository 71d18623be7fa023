//! The processes of the end-to-end benchmark other than the load generator: an echo server
//! and a plain byte relay, both run by re-executing the benchmark binary with a mode
//! argument, and the frame helpers (Content-Length and newline-delimited JSON) they share
//! with the load generator.
//!
//! The relay is the baseline the shim is held to: the least a forwarding process can do
//! (two threads, 64 KiB buffers, no decoding), so that what is left is the shim's own cost.
//! Neither the echo server nor the load generator ever holds a whole message: a body is
//! streamed through, keeping only its first bytes (where the id is), so that their memory
//! and copying stay small next to what is measured, whatever the message size.

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
/// What a request body starts with, up to its id (the echo server answers those only).
const REQUEST_HEAD: &[u8] = br#"{"jsonrpc":"2.0","id":"#;
const RESULT_HEAD: &[u8] = br#","result":""#;
/// How many bytes of each body the readers keep: enough for the head and the id.
pub const KEEP: usize = 48;
/// The bodies' text: source code as a JSON string, with the escapes (`\n`, `\"`, `\\`,
/// `\t`) a `didOpen` or a tool result carries, so that validating a body is not the easy
/// case of a run of letters.
const PATTERN: &[u8] = br#"    if (a < b) { return \"x\\n\"; }\n\tlet v = [1, 2];\n"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Content-Length headers (LSP, DAP).
    Lsp,
    /// One JSON text per line (MCP stdio).
    Ndjson,
}

impl Framing {
    pub const ALL: [Framing; 2] = [Framing::Lsp, Framing::Ndjson];

    pub fn name(self) -> &'static str {
        match self {
            Framing::Lsp => "LSP",
            Framing::Ndjson => "NDJSON",
        }
    }

    pub fn arg(self) -> &'static str {
        match self {
            Framing::Lsp => "lsp",
            Framing::Ndjson => "ndjson",
        }
    }

    pub fn parse(s: &str) -> Option<Framing> {
        Framing::ALL.into_iter().find(|f| f.arg() == s)
    }

    /// Writes the framing around a body of `len` bytes: before it, then after it.
    fn head(self, len: usize, out: &mut Vec<u8>) {
        if self == Framing::Lsp {
            out.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
        }
    }

    fn tail(self) -> &'static [u8] {
        match self {
            Framing::Lsp => b"",
            Framing::Ndjson => b"\n",
        }
    }
}

/// Our own stdin and stdout as plain files: no `Stdin` line buffer, no `Stdout` line
/// flushing, so reads and writes are the sizes we ask for.
fn std_files() -> io::Result<(File, File)> {
    let stdin = File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    Ok((stdin, stdout))
}

/// JSON string text of exactly `len` bytes: whole copies of `PATTERN` (so no escape is
/// cut), then letters.
pub struct Fill {
    big: Vec<u8>,
}

impl Fill {
    pub fn new() -> Fill {
        let copies = BUF / PATTERN.len() + 1;
        Fill {
            big: PATTERN.repeat(copies),
        }
    }

    pub fn write(&self, w: &mut impl Write, mut len: usize) -> io::Result<()> {
        while len >= self.big.len() {
            w.write_all(&self.big)?;
            len -= self.big.len();
        }
        let whole = len - len % PATTERN.len();
        w.write_all(&self.big[..whole])?;
        w.write_all(&b"x".repeat(len - whole))
    }
}

/// A message frame whose body is exactly `len` bytes: a request (`bench/echo`, with an id)
/// or a notification (`bench/push`).
pub struct Template {
    pub frame: Vec<u8>,
    /// Where the id's digits start in `frame`, for a request.
    id_at: Option<usize>,
}

impl Template {
    pub fn new(framing: Framing, request: bool, len: usize) -> Template {
        let prefix = if request {
            format!(r#"{{"jsonrpc":"2.0","id":{FIRST_ID},"method":"bench/echo","params":""#)
        } else {
            r#"{"jsonrpc":"2.0","method":"bench/push","params":""#.to_owned()
        };
        assert!(
            len >= prefix.len() + 2 && len >= REQUEST_HEAD.len() + ID_DIGITS + 20,
            "a body of {len} bytes is too short"
        );
        let mut frame = Vec::with_capacity(len + 32);
        framing.head(len, &mut frame);
        let id_at = request.then(|| frame.len() + REQUEST_HEAD.len());
        frame.extend_from_slice(prefix.as_bytes());
        let fill = len - prefix.len() - 2;
        let _ = Fill::new().write(&mut frame, fill);
        frame.extend_from_slice(b"\"}");
        frame.extend_from_slice(framing.tail());
        Template { frame, id_at }
    }

    /// The frame, with `id` written in (a notification has none).
    pub fn with_id(&mut self, id: u64) -> &[u8] {
        if let Some(at) = self.id_at {
            self.frame[at..at + ID_DIGITS].copy_from_slice(&digits(id));
        }
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

/// The id of a request body whose first bytes are `head`, if it is a request.
fn request_id(head: &[u8]) -> Option<&[u8]> {
    head.strip_prefix(REQUEST_HEAD)?.get(..ID_DIGITS)
}

/// Reads one Content-Length header block; the body length, or `None` at a clean end.
fn read_head(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<usize>> {
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

/// Reads frames one at a time, keeping the first `KEEP` bytes of each body and skipping
/// the rest without copying it anywhere.
pub struct FrameReader<R> {
    pub r: BufReader<R>,
    framing: Framing,
    line: Vec<u8>,
    /// The first bytes of the last body read.
    pub head: Vec<u8>,
}

impl<R: Read> FrameReader<R> {
    pub fn new(inner: R, framing: Framing) -> Self {
        FrameReader {
            r: BufReader::with_capacity(BUF, inner),
            framing,
            line: Vec::new(),
            head: Vec::with_capacity(KEEP),
        }
    }

    /// The next body's length, or `None` at a clean end of stream.
    pub fn next(&mut self) -> io::Result<Option<usize>> {
        self.head.clear();
        match self.framing {
            Framing::Lsp => {
                let Some(len) = read_head(&mut self.r, &mut self.line)? else {
                    return Ok(None);
                };
                let mut left = len;
                while left > 0 {
                    let buf = self.r.fill_buf()?;
                    if buf.is_empty() {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    let n = buf.len().min(left);
                    self.keep(n);
                    left -= n;
                }
                Ok(Some(len))
            }
            Framing::Ndjson => {
                let mut len = 0;
                loop {
                    let buf = self.r.fill_buf()?;
                    if buf.is_empty() {
                        return match len {
                            0 => Ok(None),
                            _ => Err(io::ErrorKind::UnexpectedEof.into()),
                        };
                    }
                    if let Some(i) = memchr::memchr(b'\n', buf) {
                        self.keep(i);
                        self.r.consume(1);
                        return Ok(Some(len + i));
                    }
                    let n = buf.len();
                    self.keep(n);
                    len += n;
                }
            }
        }
    }

    /// Keeps what `head` still has room for of the next `n` buffered bytes; consumes them.
    fn keep(&mut self, n: usize) {
        let room = KEEP - self.head.len();
        let buf = self.r.buffer();
        self.head.extend_from_slice(&buf[..n.min(room)]);
        self.r.consume(n);
    }

    /// Reads one response of `len` bytes and checks that it answers `id`.
    pub fn response(&mut self, id: u64, len: usize) -> io::Result<()> {
        let got = self.next()?.ok_or(io::ErrorKind::UnexpectedEof)?;
        if request_id(&self.head) != Some(&digits(id)[..]) || got != len {
            return Err(io::Error::other(format!(
                "expected the response to id {id} ({len} bytes), got {got} bytes: {}",
                String::from_utf8_lossy(&self.head)
            )));
        }
        Ok(())
    }

    /// Reads one `bench/push` notification of `len` bytes.
    pub fn push(&mut self, len: usize) -> io::Result<()> {
        let got = self.next()?.ok_or(io::ErrorKind::UnexpectedEof)?;
        if request_id(&self.head).is_some() || got != len {
            return Err(io::Error::other(format!(
                "expected a {len}-byte notification, got {got} bytes: {}",
                String::from_utf8_lossy(&self.head)
            )));
        }
        Ok(())
    }
}

/// What the echo server sends of its own: `count` notifications of `len` bytes, started
/// once the first request is answered.
#[derive(Clone, Copy)]
pub struct Push {
    pub count: u64,
    pub len: usize,
}

type Out = BufWriter<File>;

/// Writes the response to request `id` (its digits), as long as the request was.
fn respond(w: &mut Out, fill: &Fill, framing: Framing, id: &[u8], len: usize) -> io::Result<()> {
    let mut head = Vec::with_capacity(64);
    framing.head(len, &mut head);
    head.extend_from_slice(REQUEST_HEAD);
    head.extend_from_slice(id);
    head.extend_from_slice(RESULT_HEAD);
    w.write_all(&head)?;
    let fixed = REQUEST_HEAD.len() + ID_DIGITS + RESULT_HEAD.len() + 2;
    fill.write(w, len.saturating_sub(fixed))?;
    w.write_all(b"\"}")?;
    w.write_all(framing.tail())
}

/// The echo server: answers each request with a JSON-RPC response of the same size and
/// id, and ignores notifications. It flushes only when no more input is buffered, as a
/// real server does, so pipelined requests are answered in batches and a lone one at once.
/// With `push`, once the first request is answered a thread sends the notifications while
/// requests keep being read; the next request is answered after the last of them.
pub fn echo_server(framing: Framing, push: Option<Push>) -> io::Result<()> {
    let (stdin, stdout) = std_files()?;
    let mut r = FrameReader::new(stdin, framing);
    let mut w = Some(BufWriter::with_capacity(BUF, stdout));
    let mut pusher: Option<std::thread::JoinHandle<io::Result<Out>>> = None;
    let mut push = push;
    let fill = Fill::new();
    while let Some(len) = r.next()? {
        let Some(id) = request_id(&r.head) else {
            continue;
        };
        if let Some(t) = pusher.take() {
            w = Some(
                t.join()
                    .map_err(|_| io::Error::other("pusher panicked"))??,
            );
        }
        let out = w.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        respond(out, &fill, framing, id, len)?;
        if r.r.buffer().is_empty() || push.is_some() {
            out.flush()?;
        }
        if let Some(p) = push.take() {
            let out = w.take().ok_or(io::ErrorKind::BrokenPipe)?;
            pusher = Some(std::thread::spawn(move || send_pushes(out, framing, p)));
        }
    }
    if let Some(t) = pusher.take() {
        w = Some(
            t.join()
                .map_err(|_| io::Error::other("pusher panicked"))??,
        );
    }
    w.map_or(Ok(()), |mut w| w.flush())
}

fn send_pushes(mut w: Out, framing: Framing, p: Push) -> io::Result<Out> {
    let tpl = Template::new(framing, false, p.len);
    for _ in 0..p.count {
        w.write_all(&tpl.frame)?;
    }
    w.flush()?;
    Ok(w)
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
