//! The recorder: turns the pumps' copies into session events and writes them out.
//!
//! It runs on its own thread, off the forwarding path. Per direction it keeps a decoder;
//! stderr is split into lines. Every event is encoded once as a recording line and handed
//! to each sink (the file, and live viewers). Sinks are flushed at least every 100 ms.
//! A failing sink warns once on stderr and is dropped; forwarding is never affected.

use super::pump::{Lane, TapMsg};
use super::tap::{Batch, TapReceiver};
use crate::live::{Backlog, Publisher};
use crate::record::{
    canonical_head, encode_event, Dir, Event, Gap, MessageEvent, Micros, NoiseEvent, SessionInfo,
    StderrEvent,
};
use crate::wire::{Decoder, Frame, FrameKind, Framing, Limits};
use bytes::{Bytes, BytesMut};
use std::io::Write;
use std::time::{Duration, Instant};

const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// A stderr line longer than this is recorded in pieces.
const MAX_STDERR_LINE: usize = 64 * 1024;

/// The recording file (or, with `--no-record`, an unnamed temporary file that only
/// serves live viewers their backlog).
pub struct FileSink {
    /// `None` for the unnamed temporary file.
    pub path: Option<std::path::PathBuf>,
    out: std::io::BufWriter<std::fs::File>,
    /// Bytes handed to `out` so far.
    written: u64,
}

impl FileSink {
    /// `file` must be open for reading too: live viewers read their backlog from it.
    pub fn new(path: Option<std::path::PathBuf>, file: std::fs::File) -> FileSink {
        FileSink {
            path,
            out: std::io::BufWriter::with_capacity(256 * 1024, file),
            written: 0,
        }
    }

    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.written += line.len() as u64;
        self.out.write_all(line)
    }

    fn warn(&self, e: &std::io::Error) {
        if let Some(p) = &self.path {
            eprintln!(
                "rpctap: warning: recording to '{}' failed: {}; forwarding continues without recording",
                p.display(),
                crate::session::io_message(e)
            );
        }
    }

    /// Flushes and returns what a new viewer needs to read the session so far.
    fn backlog(&mut self) -> std::io::Result<Backlog> {
        self.out.flush()?;
        Ok(Backlog {
            file: self.out.get_ref().try_clone()?,
            len: self.written,
        })
    }
}

pub struct RecorderConfig {
    pub framing: Option<Framing>,
    pub limits: Limits,
    pub redact: Vec<String>,
    /// Live consumers of the recorded events (conformance checks, OpenTelemetry export).
    pub observers: Vec<Box<dyn Observer>>,
}

/// Watches the session's events as they are recorded, after redaction, in recording order.
/// Called on the recorder's thread, never on a pump's: an observer must not block (hand
/// heavy work to a thread of its own through a bounded queue, and count what it drops).
pub trait Observer: Send {
    fn event(&mut self, event: &Event);
    /// The session ended (after its exit event, or when the recorder stops).
    fn finish(&mut self) {}
}

struct Direction {
    decoder: Decoder,
    buf: BytesMut,
    /// When this direction's last bytes were read: what is left in `buf` at end of file
    /// arrived then (not when the recorder got to it, which may be after the exit).
    last: Micros,
}

pub struct Recorder {
    dirs: [Direction; 2],
    stderr: BytesMut,
    /// When the last stderr bytes were read (see `Direction::last`).
    stderr_last: Micros,
    seq: u64,
    redact: Vec<String>,
    file: Option<FileSink>,
    live: Option<Publisher>,
    observers: Vec<Box<dyn Observer>>,
    line: Vec<u8>,
}

impl Recorder {
    pub fn new(
        config: RecorderConfig,
        file: Option<FileSink>,
        live: Option<Publisher>,
    ) -> Recorder {
        let dir = || Direction {
            decoder: Decoder::new(config.framing, config.limits),
            buf: BytesMut::new(),
            last: Micros::default(),
        };
        Recorder {
            dirs: [dir(), dir()],
            stderr: BytesMut::new(),
            stderr_last: Micros::default(),
            seq: 0,
            redact: config.redact,
            file,
            live,
            observers: config.observers,
            line: Vec::with_capacity(4096),
        }
    }

    /// Receives from the pumps until the exit event (or until every sender is gone).
    pub fn run(mut self, info: SessionInfo, mut rx: TapReceiver) {
        self.emit(&Event::Session(info));
        let mut last_flush = Instant::now();
        let mut batch = Vec::new();
        'run: loop {
            let wait = FLUSH_EVERY.saturating_sub(last_flush.elapsed());
            if rx.next_batch(&mut batch, wait) == Batch::Closed {
                break;
            }
            for msg in batch.drain(..) {
                match msg {
                    TapMsg::Data(lane, t, bytes) => self.data(lane, t, &bytes),
                    TapMsg::Lost(lane, t, n) => self.lost(lane, t, n),
                    TapMsg::Eof(lane) => self.eof(lane),
                    TapMsg::Attach(stream) => self.attach(stream),
                    TapMsg::Exit(exit) => {
                        for lane in [Lane::C2s, Lane::S2c, Lane::Stderr] {
                            self.eof(lane);
                        }
                        self.emit(&Event::Exit(exit));
                        break 'run;
                    }
                }
            }
            if last_flush.elapsed() >= FLUSH_EVERY {
                self.flush();
                last_flush = Instant::now();
            }
        }
        self.flush();
        for o in &mut self.observers {
            o.finish();
        }
        if let Some(live) = self.live.take() {
            live.finish();
        }
    }

    fn attach(&mut self, stream: std::os::unix::net::UnixStream) {
        let backlog = match self.file.as_mut().map(FileSink::backlog) {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                if let Some(f) = self.file.take() {
                    f.warn(&e);
                }
                None
            }
            None => None,
        };
        if let Some(live) = &mut self.live {
            live.attach(stream, backlog);
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn emit(&mut self, event: &Event) {
        self.line.clear();
        encode_event(&mut self.line, event);
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_line(&self.line) {
                f.warn(&e);
                self.file = None;
            }
        }
        if let Some(live) = &mut self.live {
            live.publish(&self.line);
        }
        for o in &mut self.observers {
            o.event(event);
        }
    }

    fn flush(&mut self) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.out.flush() {
                f.warn(&e);
                self.file = None;
            }
        }
    }

    fn data(&mut self, lane: Lane, t: Micros, bytes: &[u8]) {
        let dir = match lane {
            Lane::C2s => Dir::C2s,
            Lane::S2c => Dir::S2c,
            Lane::Stderr => {
                self.stderr.extend_from_slice(bytes);
                self.stderr_last = t;
                self.stderr_lines(t, false);
                return;
            }
        };
        self.dirs[dir as usize].buf.extend_from_slice(bytes);
        self.dirs[dir as usize].last = t;
        loop {
            let d = &mut self.dirs[dir as usize];
            let Some(frame) = d.decoder.decode(&mut d.buf) else {
                break;
            };
            let framing = d.decoder.framing().unwrap_or(Framing::Ndjson);
            self.frame(dir, t, framing, frame);
        }
    }

    fn frame(&mut self, dir: Dir, t: Micros, framing: Framing, frame: Frame) {
        let event = match frame.kind {
            FrameKind::Skipped => return,
            FrameKind::Noise => Event::Noise(NoiseEvent {
                seq: self.next_seq(),
                t,
                dir,
                text: frame.body,
            }),
            FrameKind::Message | FrameKind::Oversized { .. } => {
                let oversized = match frame.kind {
                    FrameKind::Oversized { len } => Some(len),
                    _ => None,
                };
                // An oversized frame's canonical header announces its length, not 0.
                let announced = oversized.flatten().map_or(frame.body.len(), |n| n as usize);
                let headers = match framing {
                    Framing::Lsp if frame.head[..] != *canonical_head(announced).as_bytes() => {
                        Some(frame.head.clone())
                    }
                    Framing::Ndjson if oversized.is_none() && &frame.tail[..] != b"\n" => {
                        Some(frame.tail.clone())
                    }
                    _ => None,
                };
                let (body, redacted) = redact(&self.redact, frame.body);
                Event::Message(MessageEvent {
                    seq: self.next_seq(),
                    t,
                    dir,
                    framing,
                    body,
                    headers,
                    redacted,
                    oversized,
                })
            }
        };
        self.emit(&event);
    }

    fn lost(&mut self, lane: Lane, t: Micros, n: u64) {
        let dir = match lane {
            Lane::C2s => Some(Dir::C2s),
            Lane::S2c => Some(Dir::S2c),
            Lane::Stderr => None,
        };
        if let Some(dir) = dir {
            let d = &mut self.dirs[dir as usize];
            d.buf.clear();
            d.decoder.reset();
        } else {
            self.stderr.clear();
        }
        let reason = "the recorder fell behind; bytes were forwarded but not recorded".to_owned();
        self.emit(&Event::Gap(Gap {
            t,
            dir,
            bytes: n,
            reason,
        }));
    }

    fn eof(&mut self, lane: Lane) {
        let dir = match lane {
            Lane::C2s => Dir::C2s,
            Lane::S2c => Dir::S2c,
            Lane::Stderr => return self.stderr_lines(self.stderr_last, true),
        };
        let d = &mut self.dirs[dir as usize];
        let t = d.last;
        if d.buf.is_empty() && d.decoder.framing().is_some() {
            return;
        }
        let (frames, _) = d.decoder.finish(&mut d.buf);
        let framing = d.decoder.framing().unwrap_or(Framing::Ndjson);
        for frame in frames {
            self.frame(dir, t, framing, frame);
        }
    }

    fn stderr_lines(&mut self, t: Micros, at_eof: bool) {
        loop {
            let end = match memchr::memchr(b'\n', &self.stderr) {
                Some(i) => i + 1,
                None if self.stderr.len() > MAX_STDERR_LINE => self.stderr.len(),
                None if at_eof && !self.stderr.is_empty() => self.stderr.len(),
                None => return,
            };
            let line = self.stderr.split_to(end).freeze();
            let text = trim_eol(line);
            let seq = self.next_seq();
            self.emit(&Event::Stderr(StderrEvent { seq, t, text }));
        }
    }
}

fn trim_eol(line: Bytes) -> Bytes {
    let mut end = line.len();
    if line[..end].ends_with(b"\n") {
        end -= 1;
    }
    if line[..end].ends_with(b"\r") {
        end -= 1;
    }
    line.slice(..end)
}

/// Replaces the values of the given object keys, anywhere in the body, by "«redacted»".
/// Returns the body unchanged (same bytes) when nothing matched.
fn redact(keys: &[String], body: Bytes) -> (Bytes, bool) {
    if keys.is_empty()
        || !keys
            .iter()
            .any(|k| memchr::memmem::find(&body, k.as_bytes()).is_some())
    {
        return (body, false);
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (body, false);
    };
    fn walk(v: &mut serde_json::Value, keys: &[String]) -> bool {
        match v {
            serde_json::Value::Object(map) => {
                let mut changed = false;
                for (k, v) in map.iter_mut() {
                    if keys.iter().any(|r| r == k) {
                        *v = serde_json::Value::String("«redacted»".into());
                        changed = true;
                    } else {
                        changed |= walk(v, keys);
                    }
                }
                changed
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |c, v| walk(v, keys) | c)
            }
            _ => false,
        }
    }
    if !walk(&mut value, keys) {
        return (body, false);
    }
    match serde_json::to_vec(&value) {
        Ok(v) => (Bytes::from(v), true),
        Err(_) => (body, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_values_and_keeps_others() {
        let body = Bytes::from_static(br#"{"a":{"token":"s3cret","b":[{"token":1}]},"c":2}"#);
        let (out, changed) = redact(&["token".into()], body);
        assert!(changed);
        assert_eq!(
            &out[..],
            r#"{"a":{"token":"«redacted»","b":[{"token":"«redacted»"}]},"c":2}"#.as_bytes()
        );
        let untouched = Bytes::from_static(br#"{"a" : 1}"#);
        assert_eq!(
            redact(&["token".into()], untouched.clone()),
            (untouched, false)
        );
    }
}
