//! The pump's framed mode (interactive control, issue 16): while a lane has control work,
//! its pump forwards whole frames, decoded by a `wire::Decoder` of its own, and between
//! two frames writes injected messages, holds frames the intercept matches, releases held
//! ones and diverts responses to requests rpctap injected.
//!
//! Entering it mid-stream, the pump asks the recorder (which has decoded every byte
//! forwarded so far) where the stream stands (`TapMsg::Sync`), forwards the rest of a
//! partial frame as it comes, and frames from the boundary on. Everything the peer gets is
//! offered to the tap in the order it is written, so the recording's lines per direction
//! are in wire order. Without work it returns to the byte pump, after forwarding what its
//! decoder still buffers.

use super::pump::{Pump, SyncState, TapMsg};
use crate::control::protocol::Reply;
use crate::control::state::{Control, Job};
use crate::proxy::Lane;
use crate::record::{Dir, Mark, Micros, Release, ReleaseAction};
use crate::wire::{Boundary, Decoder, Frame, FrameKind, Framing, Limits};
use bytes::{Bytes, BytesMut};
use std::fs::File;
use std::io::Read;

/// The message direction of a lane (none for stderr, which control never touches).
pub(super) fn dir_of(lane: Lane) -> Option<Dir> {
    match lane {
        Lane::C2s => Some(Dir::C2s),
        Lane::S2c => Some(Dir::S2c),
        Lane::Stderr => None,
    }
}

/// A body's wire bytes in `framing` (what rpctap itself writes to a peer).
fn encoded(framing: Framing, body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() + 32);
    crate::wire::encode(framing, body, &mut out);
    Bytes::from(out)
}

/// What of a frame begun before framed mode is still to be forwarded as it comes.
enum Raw {
    None,
    Bytes(u64),
    Line,
}

struct Framed {
    dir: Dir,
    decoder: Decoder,
    buf: BytesMut,
    /// The first bytes in `buf` were forwarded before framed mode (a `Boundary::Seed`).
    already: usize,
    raw: Raw,
    /// The peer is between two frames: an injected frame may be written.
    clean: bool,
    /// Body bytes of an oversized Content-Length frame still to pass.
    skip_left: u64,
    /// The framing to write in before this lane's own is known.
    fallback: Framing,
}

/// Forwards frame by frame until `dir` has no control work; false when the source ended.
pub(super) fn run<F: FnOnce()>(
    p: &mut Pump<'_, F>,
    src: &File,
    dst: &File,
    control: &Control,
    dir: Dir,
) -> bool {
    let mut f = Framed::start(p, dir);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        control.framing(dir);
        if f.at_boundary() {
            while let Some(job) = control.next_job(dir) {
                f.job(p, dst, job);
            }
            if control.leave_framed(dir) {
                f.forward_rest(p, dst);
                return true;
            }
        }
        match crate::os::wait_readable_or(src, control.wake_fd(dir)) {
            Err(_) => return f.end(p, dst),
            Ok(true) => {
                control.drain_wake(dir);
                continue;
            }
            Ok(false) => {}
        }
        let n = loop {
            match (&*src).read(&mut chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break 0,
                Ok(n) => break n,
            }
        };
        if n == 0 {
            return f.end(p, dst);
        }
        f.feed(p, dst, control, &chunk[..n]);
    }
}

impl Framed {
    /// Asks the recorder where the stream stands and sets up to frame from there.
    fn start<F: FnOnce()>(p: &Pump<'_, F>, dir: Dir) -> Framed {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        p.tap.send(TapMsg::Sync(p.lane, tx));
        // Without a recorder (it has stopped: the session is ending) nothing is decoded
        // any more; frames are taken to start here.
        let st = rx.recv().unwrap_or(SyncState {
            boundary: Boundary::Frame,
            framing: None,
            other: None,
        });
        let mut f = Framed {
            dir,
            decoder: Decoder::new(st.framing, Limits::default()),
            buf: BytesMut::new(),
            already: 0,
            raw: Raw::None,
            clean: true,
            skip_left: 0,
            fallback: st.framing.or(st.other).unwrap_or(Framing::Lsp),
        };
        match st.boundary {
            Boundary::Frame => {}
            Boundary::Remaining(n) => f.raw = Raw::Bytes(n),
            Boundary::Line => f.raw = Raw::Line,
            Boundary::Seed(seed) => {
                f.already = seed.len();
                f.buf.extend_from_slice(&seed);
            }
        }
        f.clean = matches!(f.raw, Raw::None) && f.already == 0;
        f
    }

    fn at_boundary(&self) -> bool {
        self.clean && matches!(self.raw, Raw::None) && self.already == 0
    }

    /// Takes a chunk read from the source: the rest of a partial frame goes on as is,
    /// then each complete frame is forwarded or taken.
    fn feed<F: FnOnce()>(
        &mut self,
        p: &mut Pump<'_, F>,
        dst: &File,
        control: &Control,
        chunk: &[u8],
    ) {
        let mut rest = chunk;
        let raw_len = match self.raw {
            Raw::None => 0,
            Raw::Bytes(n) => usize::try_from(n).map_or(rest.len(), |n| n.min(rest.len())),
            Raw::Line => memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1),
        };
        if raw_len > 0 || !matches!(self.raw, Raw::None) {
            p.forward(dst, Bytes::copy_from_slice(&rest[..raw_len]));
            let ended = match &mut self.raw {
                Raw::Bytes(n) => {
                    *n -= raw_len as u64;
                    *n == 0
                }
                Raw::Line => rest[..raw_len].last() == Some(&b'\n'),
                Raw::None => true,
            };
            if ended {
                self.raw = Raw::None;
                self.clean = true;
            }
            rest = &rest[raw_len..];
        }
        if !matches!(self.raw, Raw::None) {
            return;
        }
        self.buf.extend_from_slice(rest);
        while let Some(frame) = self.decoder.decode(&mut self.buf) {
            self.frame(p, dst, control, frame);
        }
    }

    // The frame is consumed here: what is forwarded is built from it.
    #[allow(clippy::needless_pass_by_value)]
    fn frame<F: FnOnce()>(
        &mut self,
        p: &mut Pump<'_, F>,
        dst: &File,
        control: &Control,
        frame: Frame,
    ) {
        let framing = self.decoder.framing().unwrap_or(self.fallback);
        let mut wire = Vec::with_capacity(frame.wire_len());
        frame.write_wire(&mut wire);
        let wire = Bytes::from(wire);
        self.note_end(&frame, framing);
        if self.already > 0 {
            // Begun before framed mode: its first bytes are on their way already.
            let skip = self.already.min(wire.len());
            self.already -= skip;
            if skip < wire.len() {
                p.forward(dst, wire.slice(skip..));
            }
            return;
        }
        if frame.kind == FrameKind::Message
            && control.take_frame(self.dir, Micros::now(), framing, &wire, &frame.body)
        {
            p.taken(wire.len());
            return;
        }
        p.forward(dst, wire);
    }

    /// Whether the peer is between frames once `frame` is written.
    fn note_end(&mut self, frame: &Frame, framing: Framing) {
        let last = frame
            .tail
            .last()
            .or(frame.body.last())
            .or(frame.head.last());
        match (&frame.kind, framing) {
            (FrameKind::Oversized { len }, Framing::Lsp) => {
                self.skip_left = len.unwrap_or(0);
                self.clean = self.skip_left == 0;
            }
            (FrameKind::Skipped, Framing::Lsp) => {
                self.skip_left = self.skip_left.saturating_sub(frame.body.len() as u64);
                self.clean = self.skip_left == 0;
            }
            (FrameKind::Message, Framing::Lsp) => self.clean = true,
            (FrameKind::Oversized { .. }, Framing::Ndjson) => self.clean = false,
            _ => self.clean = last == Some(&b'\n'),
        }
    }

    /// Does one job between two frames.
    fn job<F: FnOnce()>(&mut self, p: &mut Pump<'_, F>, dst: &File, job: Job) {
        let framing = self.decoder.framing().unwrap_or(self.fallback);
        let t = Micros::now();
        match job {
            Job::Inject { body, done } => {
                let wire = encoded(framing, &body);
                let mark = Mark {
                    injected: true,
                    ..Mark::default()
                };
                p.tap.send(TapMsg::Marked(p.lane, t, wire.clone(), mark));
                p.write(dst, t, &wire);
                if let Some((conn, req)) = done {
                    conn.reply(&Reply::ok(req));
                }
            }
            Job::Release { hold, wire, edited } => {
                let action = match edited {
                    Some(_) => ReleaseAction::Edit,
                    None => ReleaseAction::Forward,
                };
                let bytes = match &edited {
                    Some(body) => encoded(framing, body),
                    None => wire,
                };
                p.tap.send(TapMsg::Release(Release {
                    t,
                    dir: self.dir,
                    hold,
                    action,
                    body: edited,
                }));
                p.write(dst, t, &bytes);
            }
        }
    }

    /// The source ended: what the decoder holds goes on as it is.
    fn end<F: FnOnce()>(&mut self, p: &mut Pump<'_, F>, dst: &File) -> bool {
        self.forward_rest(p, dst);
        false
    }

    /// What the decoder still buffers goes on as it is (leaving framed mode, or the end).
    fn forward_rest<F: FnOnce()>(&mut self, p: &mut Pump<'_, F>, dst: &File) {
        let rest = self.buf.split().freeze();
        if !rest.is_empty() {
            p.forward(dst, rest);
        }
    }
}
