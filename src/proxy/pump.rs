//! The forwarding pumps. Each stream has its own thread so that no pipe can fill while
//! another is being read (the deadlock lesson). A pump reads and writes the bytes on at
//! once; the same buffer (shared, not copied) goes to the recorder through the `Tap`, which
//! never blocks: past a memory bound, bytes are counted as lost instead.

use bytes::{Bytes, BytesMut};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;

use crate::record::Micros;

/// Which stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Parent → child stdin.
    C2s,
    /// Child stdout → parent.
    S2c,
    /// Child stderr.
    Stderr,
}

/// What the pumps (and the supervisor) tell the recorder.
#[derive(Debug)]
pub enum TapMsg {
    Data(Lane, Micros, Bytes),
    /// Bytes that were forwarded but could not be queued for recording.
    Lost(Lane, Micros, u64),
    Eof(Lane),
    Exit(crate::record::Exit),
    /// A live viewer connected.
    Attach(std::os::unix::net::UnixStream),
}

/// The recorder's inbox, with a bound on the bytes waiting in it.
#[derive(Clone)]
pub struct Tap {
    tx: Sender<TapMsg>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

impl Tap {
    pub fn new(tx: Sender<TapMsg>, limit: usize) -> Tap {
        Tap {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            limit,
        }
    }

    /// Offers a chunk without ever waiting.
    pub fn offer(&self, lane: Lane, t: Micros, bytes: Bytes) {
        let n = bytes.len();
        if self.queued.fetch_add(n, Ordering::Relaxed) + n > self.limit {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            let _ = self.tx.send(TapMsg::Lost(lane, t, n as u64));
            return;
        }
        let _ = self.tx.send(TapMsg::Data(lane, t, bytes));
    }

    /// The recorder calls this once it is done with `n` bytes.
    pub fn release(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn send(&self, msg: TapMsg) {
        let _ = self.tx.send(msg);
    }
}

const READ_SIZE: usize = 64 * 1024;

/// What stopped a pump.
#[derive(Debug, PartialEq, Eq)]
pub enum PumpEnd {
    /// The source reached end of file (or failed to read).
    SourceClosed,
    /// The destination refused a write (its reader is gone); the source was drained to EOF.
    SinkClosed,
}

/// Copies `src` to `dst` until `src` ends, offering each chunk to the tap as it goes.
/// When `dst` fails, the pump keeps reading (and recording) so that the writer on the
/// other side never blocks on a full pipe, and reports `SinkClosed` at the end.
pub fn pump(
    mut src: impl Read,
    mut dst: impl Write,
    lane: Lane,
    tap: &Tap,
    on_sink_closed: impl FnOnce(),
) -> PumpEnd {
    let mut buf = BytesMut::zeroed(READ_SIZE);
    let mut sink_ok = true;
    let mut on_sink_closed = Some(on_sink_closed);
    loop {
        if buf.len() < READ_SIZE / 16 {
            buf = BytesMut::zeroed(READ_SIZE);
        }
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = buf.split_to(n).freeze();
        // Queued (never waiting, no copy) just before the write rather than after it: a
        // peer's answer to these bytes can only be read after the write, so the recording
        // can never show an answer before the message it answers.
        tap.offer(lane, Micros::now(), chunk.clone());
        if sink_ok && (dst.write_all(&chunk).is_err() || dst.flush().is_err()) {
            sink_ok = false;
            if let Some(f) = on_sink_closed.take() {
                f();
            }
        }
    }
    tap.send(TapMsg::Eof(lane));
    if sink_ok {
        PumpEnd::SourceClosed
    } else {
        PumpEnd::SinkClosed
    }
}
