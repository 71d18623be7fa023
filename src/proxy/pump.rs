//! The forwarding pumps. Each stream has its own thread so that no pipe can fill while
//! another is being read (the deadlock lesson). A pump reads and writes the bytes on at
//! once; the same buffer (shared, not copied) goes to the recorder through the `Tap`, which
//! never blocks: past a memory bound, chunks wait in a spill file instead.

use bytes::{Bytes, BytesMut};
use std::io::{Read, Write};

pub use super::tap::Tap;
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
    /// Chunks wait in the spill file, up to this offset (see `tap`).
    Spilled(u64),
    /// Bytes that were forwarded but could not be kept for recording: the spill file
    /// failed with this error.
    Lost(Lane, Micros, u64, std::io::ErrorKind),
    /// The destination refused a write: the lane's bytes from this stream offset on never
    /// reached the peer (they are still recorded).
    Undelivered(Lane, Micros, u64),
    Eof(Lane),
    Exit(crate::record::Exit),
    /// A live viewer connected.
    Attach(std::os::unix::net::UnixStream),
}

const READ_SIZE: usize = 64 * 1024;

/// Writes all of `chunk`; on failure, how much of it was written.
fn write_all(dst: &mut impl Write, chunk: &[u8]) -> Result<(), usize> {
    let mut done = 0;
    while done < chunk.len() {
        match dst.write(&chunk[done..]) {
            Ok(0) => return Err(done),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(done),
        }
    }
    dst.flush().map_err(|_| done)
}

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
    // Bytes of this stream read so far: where an undelivered tail starts.
    let mut offset = 0u64;
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
        let t = Micros::now();
        tap.offer(lane, t, chunk.clone());
        if sink_ok {
            if let Err(delivered) = write_all(&mut dst, &chunk) {
                sink_ok = false;
                tap.send(TapMsg::Undelivered(lane, t, offset + delivered as u64));
                if let Some(f) = on_sink_closed.take() {
                    f();
                }
            }
        }
        offset += n as u64;
    }
    tap.send(TapMsg::Eof(lane));
    if sink_ok {
        PumpEnd::SourceClosed
    } else {
        PumpEnd::SinkClosed
    }
}
