//! The demo server's output: whole frames in one framing, written under one lock by the
//! reading loop and the threads doing slow work. Frames are read with `wire::FrameReader`,
//! the crate's own decoder, so the demo exercises the same code the proxy does and
//! tolerates whatever framing a client (or a replay) sends.

use crate::wire::{encode, Framing};
use std::io::{self, Write};
use std::sync::Mutex;

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
        self.sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
