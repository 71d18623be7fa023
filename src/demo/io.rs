//! Frame I/O shared by the demo server and client: reading whole frames from a blocking byte
//! stream with the crate's own `wire::Decoder`, and writing whole frames in one framing.
//!
//! Using the real decoder here means the demo exercises the same code the proxy does, and
//! the demo server tolerates whatever framing a client (or a replay) sends.

use crate::wire::{DecodeError, Decoder, Frame, Framing, Limits};
use bytes::BytesMut;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Mutex;

/// Appends one framed message to `out`. Content-Length framing uses the canonical header
/// spelling; `body` must not contain a newline for newline framing (compact JSON never does).
pub fn encode(framing: Framing, body: &[u8], out: &mut Vec<u8>) {
    crate::record::wire_bytes(framing, None, body, out);
}

/// Blocking frame reader over any `Read`.
pub struct FrameSource<R> {
    reader: R,
    buf: BytesMut,
    scratch: Vec<u8>,
    decoder: Decoder,
    /// Frames drained by `Decoder::finish` once the stream ended.
    tail: VecDeque<Frame>,
    ended: bool,
    /// Why the stream ended badly (in the middle of a frame), once it has.
    pub truncated: Option<DecodeError>,
}

impl<R: Read> FrameSource<R> {
    pub fn new(reader: R, framing: Option<Framing>) -> Self {
        FrameSource {
            reader,
            buf: BytesMut::new(),
            scratch: vec![0; 64 * 1024],
            decoder: Decoder::new(framing, Limits::default()),
            tail: VecDeque::new(),
            ended: false,
            truncated: None,
        }
    }

    /// The framing the peer uses, once the first frame told.
    pub fn framing(&self) -> Option<Framing> {
        self.decoder.framing()
    }

    /// The next frame already buffered, without reading (so a caller can flush its own
    /// output before it blocks).
    pub fn buffered(&mut self) -> Option<Frame> {
        if let Some(f) = self.tail.pop_front() {
            return Some(f);
        }
        self.decoder.decode(&mut self.buf)
    }

    /// The next frame, reading as needed; `None` once the stream has ended.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(f) = self.buffered() {
                return Ok(Some(f));
            }
            if self.ended {
                return Ok(None);
            }
            let n = match self.reader.read(&mut self.scratch) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.ended = true;
                let (frames, error) = self.decoder.finish(&mut self.buf);
                self.tail.extend(frames);
                self.truncated = error;
            } else {
                self.buf.extend_from_slice(&self.scratch[..n]);
            }
        }
    }
}

/// The server's output, shared by the reading loop and the threads doing slow work. Every
/// write happens under one lock, so frames are never interleaved.
pub struct Out {
    sink: Mutex<Sink>,
}

struct Sink {
    writer: Box<dyn Write + Send>,
    /// Known once the client's first frame arrived, or forced by `--framing`.
    framing: Option<Framing>,
    /// A log line is printed before every frame (`--stdout-logs`): deliberate noise.
    log_lines: bool,
    frames: u64,
    /// Set at exit: later writes from still-running threads are dropped, so the process
    /// never ends in the middle of a frame it chose to write.
    closed: bool,
}

impl Out {
    pub fn new(writer: Box<dyn Write + Send>, framing: Option<Framing>, log_lines: bool) -> Out {
        Out {
            sink: Mutex::new(Sink {
                writer,
                framing,
                log_lines,
                frames: 0,
                closed: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sink> {
        // A thread that panicked mid-write leaves a frame half written either way; carrying
        // on is no worse than poisoning every later write.
        self.sink.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Uses the client's framing unless one was forced or already chosen.
    pub fn adopt_framing(&self, framing: Framing) {
        let mut sink = self.lock();
        sink.framing.get_or_insert(framing);
    }

    /// Writes plain text (a banner, a log line) outside any frame.
    pub fn text(&self, text: &str) -> io::Result<()> {
        let mut sink = self.lock();
        if sink.closed {
            return Ok(());
        }
        sink.writer.write_all(text.as_bytes())?;
        sink.writer.flush()
    }

    /// Writes one whole message frame and flushes it.
    pub fn send(&self, msg: &serde_json::Value) -> io::Result<()> {
        let body = serde_json::to_vec(msg).map_err(io::Error::other)?;
        let mut sink = self.lock();
        if sink.closed {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(body.len() + 32);
        if sink.log_lines {
            sink.frames += 1;
            let what = msg
                .get("method")
                .and_then(|m| m.as_str())
                .map_or_else(|| "response".to_owned(), str::to_owned);
            let line = format!("demo-server log: frame {} ({what})\n", sink.frames);
            bytes.extend_from_slice(line.as_bytes());
        }
        encode(sink.framing.unwrap_or(Framing::Lsp), &body, &mut bytes);
        sink.writer.write_all(&bytes)?;
        sink.writer.flush()
    }

    /// Writes the first half of `msg`'s frame, flushes, and never returns: the process
    /// exits with `code` while holding the lock, so nothing else is written after it.
    pub fn crash(&self, msg: &serde_json::Value, code: i32) -> ! {
        let body = serde_json::to_vec(msg).unwrap_or_default();
        let mut sink = self.lock();
        let mut bytes = Vec::new();
        encode(sink.framing.unwrap_or(Framing::Lsp), &body, &mut bytes);
        let _ = sink.writer.write_all(&bytes[..bytes.len() / 2]);
        let _ = sink.writer.flush();
        std::process::exit(code)
    }

    /// Flushes and refuses all later writes.
    pub fn close(&self) {
        let mut sink = self.lock();
        let _ = sink.writer.flush();
        sink.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::FrameKind;

    fn frames(framing: Framing, bodies: &[&str], chunk: usize) -> Vec<(FrameKind, String)> {
        let mut wire = b"a log line\n".to_vec();
        for b in bodies {
            encode(framing, b.as_bytes(), &mut wire);
        }
        // A reader that returns at most `chunk` bytes per call, to split frames.
        struct Chunked(Vec<u8>, usize);
        impl Read for Chunked {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(self.0.len()).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let mut src = FrameSource::new(Chunked(wire, chunk), None);
        let mut got = Vec::new();
        while let Some(f) = src.next_frame().unwrap() {
            got.push((f.kind, String::from_utf8_lossy(&f.body).into_owned()));
        }
        assert_eq!(src.framing(), Some(framing));
        assert_eq!(src.truncated, None);
        got
    }

    #[test]
    fn encoded_frames_decode_back_in_both_framings() {
        let bodies = [r#"{"jsonrpc":"2.0","id":1,"result":null}"#, r#"{"a":"ü"}"#];
        for framing in [Framing::Lsp, Framing::Ndjson] {
            for chunk in [1, 7, 4096] {
                let got = frames(framing, &bodies, chunk);
                let messages: Vec<_> = got
                    .iter()
                    .filter(|(k, _)| *k == FrameKind::Message)
                    .map(|(_, b)| b.as_str())
                    .collect();
                assert_eq!(messages, bodies, "{framing:?} in chunks of {chunk}");
                assert_eq!(got[0], (FrameKind::Noise, "a log line\n".to_owned()));
            }
        }
    }

    #[test]
    fn a_stream_cut_mid_frame_is_reported() {
        let mut src = FrameSource::new(&b"Content-Length: 10\r\n\r\n{\"a\""[..], None);
        while src.next_frame().unwrap().is_some() {}
        assert!(src.truncated.is_some());
    }
}
