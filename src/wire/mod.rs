//! Bytes ⇄ frames: the framing layer of a JSON-RPC stdio stream.
//!
//! Pure and incremental: a decoder (`Decode`) is fed whatever `read` returned and hands
//! back complete frames. It never performs I/O and never changes bytes. The invariant every decoder keeps,
//! tested with proptest: the bytes of all frames it yields, concatenated, equal its input.
//!
//! Also the way back (`encode`: a body's exact wire bytes) and, for peers that block on
//! their input, `FrameReader` (a `Read` plus a decoder).
//!
//! Not responsible for: what a body means (see `rpc`), forwarding (see `proxy`).

mod content_length;
mod detect;
mod encode;
mod ndjson;
mod reader;

pub use content_length::ContentLengthDecoder;
pub use detect::{detect, Detection};
pub(crate) use encode::decimal;
pub use encode::{canonical_head, encode, framed, is_canonical_head, wire_bytes};
pub use ndjson::NdjsonDecoder;
pub use reader::FrameReader;

use bytes::{Bytes, BytesMut};

/// How messages are delimited on one direction of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// `Content-Length: N` headers, then N bytes of body (LSP, DAP).
    Lsp,
    /// One JSON value per line (MCP stdio).
    Ndjson,
}

impl Framing {
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Lsp => "lsp",
            Framing::Ndjson => "ndjson",
        }
    }

    pub fn parse(s: &str) -> Option<Framing> {
        match s {
            "lsp" => Some(Framing::Lsp),
            "ndjson" => Some(Framing::Ndjson),
            _ => None,
        }
    }
}

/// What a frame holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameKind {
    /// A complete message body (not yet known to be valid JSON).
    Message,
    /// Bytes outside any frame: log lines on stdout, garbage, blank lines.
    Noise,
    /// The header of a message whose body exceeds the decoding limit (its length when the
    /// framing says it). The body follows
    /// as `Skipped` frames, streamed, never buffered whole.
    Oversized { len: Option<u64> },
    /// A piece of an oversized body.
    Skipped,
}

/// One unit of a decoded stream. `head ++ body ++ tail` are the exact bytes consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameKind,
    /// Header block (Content-Length framing) including the blank line; empty otherwise.
    pub head: Bytes,
    /// The body, the noise text, or the skipped piece.
    pub body: Bytes,
    /// Line terminator (newline framing); empty otherwise.
    pub tail: Bytes,
}

impl Frame {
    fn new(kind: FrameKind, head: Bytes, body: Bytes, tail: Bytes) -> Frame {
        Frame {
            kind,
            head,
            body,
            tail,
        }
    }

    pub(crate) fn noise(body: Bytes) -> Frame {
        Frame::new(FrameKind::Noise, Bytes::new(), body, Bytes::new())
    }

    /// Total bytes this frame covers on the wire.
    pub fn wire_len(&self) -> usize {
        self.head.len() + self.body.len() + self.tail.len()
    }

    /// Appends the exact wire bytes of this frame to `out`.
    pub fn write_wire(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&self.body);
        out.extend_from_slice(&self.tail);
    }
}

/// A decoding problem that is reported but never stops the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("stream ended in the middle of a frame ({buffered} bytes buffered)")]
    UnexpectedEof { buffered: usize },
}

/// Limits applied while decoding. Forwarding has none.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest header block accepted before its bytes are treated as noise.
    pub max_header: usize,
    /// Largest body decoded; larger ones are reported as `Oversized` and passed over.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header: 8 * 1024,
            max_body: 64 * 1024 * 1024,
        }
    }
}

/// What every framing's decoder does, as tokio-util's `Decoder` does for its codecs, but
/// pure: fed whatever `read` returned, it hands back complete frames and never changes a
/// byte. The frames of a stream, concatenated, are the stream.
pub trait Decode {
    /// Decodes the next frame from `buf`, or `None` until one is complete.
    fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame>;
    /// Called once the stream has ended: appends what is left to `frames` (noise for an
    /// incomplete frame) and says whether the stream ended mid-frame.
    fn finish(&mut self, buf: &mut BytesMut, frames: &mut Vec<Frame>) -> Option<DecodeError>;
}

/// Where a decoder stands in its stream, for a forwarder that takes over the framing in
/// the middle of it (the shim's pump when control work starts): what of the current frame
/// is still to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boundary {
    /// Between two frames.
    Frame,
    /// Inside a frame of known length: this many bytes of it are still to come.
    Remaining(u64),
    /// Inside a line: the frame ends with the next newline.
    Line,
    /// Inside a header, or before the framing is known: these bytes (already forwarded)
    /// begin the next frame; a decoder fed them first finds where it ends.
    Seed(Bytes),
}

/// A per-direction decoder that detects its framing from the first bytes unless told.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    limits: Limits,
}

#[derive(Debug)]
enum State {
    Detecting,
    Lsp(ContentLengthDecoder),
    Ndjson(NdjsonDecoder),
}

impl Decoder {
    pub fn new(framing: Option<Framing>, limits: Limits) -> Decoder {
        let state = match framing {
            None => State::Detecting,
            Some(Framing::Lsp) => State::Lsp(ContentLengthDecoder::new(limits)),
            Some(Framing::Ndjson) => State::Ndjson(NdjsonDecoder::new(limits)),
        };
        Decoder { state, limits }
    }

    /// The framing in use, once known.
    pub fn framing(&self) -> Option<Framing> {
        match self.state {
            State::Detecting => None,
            State::Lsp(_) => Some(Framing::Lsp),
            State::Ndjson(_) => Some(Framing::Ndjson),
        }
    }

    /// Where the stream stands after every complete frame was taken out of `buf` (what is
    /// left is the frame in progress). `clean` says the last frame ended the way frames
    /// end (a message, or noise up to a newline), not in the middle of a line.
    pub fn boundary(&self, buf: &[u8], clean: bool) -> Boundary {
        match &self.state {
            State::Detecting if buf.is_empty() => Boundary::Frame,
            State::Detecting => Boundary::Seed(Bytes::copy_from_slice(buf)),
            State::Lsp(d) => match d.remaining(buf.len()) {
                Some(n) if n > 0 || !buf.is_empty() => Boundary::Remaining(n),
                Some(_) | None if buf.is_empty() && clean => Boundary::Frame,
                Some(_) | None if buf.is_empty() => Boundary::Line,
                // A header in progress: at most `max_header` bytes.
                _ => Boundary::Seed(Bytes::copy_from_slice(buf)),
            },
            State::Ndjson(d) if d.skipping() || !buf.is_empty() || !clean => Boundary::Line,
            State::Ndjson(_) => Boundary::Frame,
        }
    }

    /// Whether the buffer was sized for the frame in progress (its Content-Length header
    /// was read): the caller should keep that buffer as it is.
    pub fn sized_for_frame(&self) -> bool {
        matches!(&self.state, State::Lsp(d) if d.sized_for_frame())
    }

    /// Forgets any partial frame after bytes were lost, so decoding re-synchronises.
    pub fn reset(&mut self) {
        match &mut self.state {
            State::Detecting => {}
            State::Lsp(d) => *d = ContentLengthDecoder::new(self.limits),
            State::Ndjson(d) => *d = NdjsonDecoder::new(self.limits),
        }
    }

    /// Decodes the next frame from `buf`, or `None` until one is complete.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if let State::Detecting = self.state {
            match detect(buf, self.limits.max_header * 8) {
                Detection::Undecided => return None,
                Detection::Decided(f) => *self = Decoder::new(Some(f), self.limits),
            }
        }
        match &mut self.state {
            State::Detecting => None,
            State::Lsp(d) => Decode::decode(d, buf),
            State::Ndjson(d) => Decode::decode(d, buf),
        }
    }

    /// `Decode::finish`, returning the frames (the trait's form, which appends to a
    /// caller's vector, is what generic code uses).
    pub fn finish(&mut self, buf: &mut BytesMut) -> (Vec<Frame>, Option<DecodeError>) {
        let mut frames = Vec::new();
        if let State::Detecting = self.state {
            let framing = match detect(buf, 0) {
                Detection::Decided(f) => f,
                Detection::Undecided => Framing::Ndjson,
            };
            *self = Decoder::new(Some(framing), self.limits);
        }
        while let Some(f) = self.decode(buf) {
            frames.push(f);
        }
        let error = match &mut self.state {
            State::Detecting => None,
            State::Lsp(d) => Decode::finish(d, buf, &mut frames),
            State::Ndjson(d) => Decode::finish(d, buf, &mut frames),
        };
        (frames, error)
    }
}

impl Decode for Decoder {
    fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        Decoder::decode(self, buf)
    }

    fn finish(&mut self, buf: &mut BytesMut, frames: &mut Vec<Frame>) -> Option<DecodeError> {
        let (rest, error) = Decoder::finish(self, buf);
        frames.extend(rest);
        error
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod boundary_tests;
