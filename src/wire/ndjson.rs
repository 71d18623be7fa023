//! Newline-delimited JSON framing (MCP stdio): one message per line.
//!
//! A line ends at `\n`; a `\r` before it is kept as part of the terminator. Blank lines and
//! lines that cannot start a JSON value are noise. A line longer than the body limit is
//! reported as `Oversized` and passed over in pieces until its newline.

use super::{Decode, DecodeError, Frame, FrameKind, Limits};
use bytes::{Bytes, BytesMut};

#[derive(Debug)]
pub struct NdjsonDecoder {
    limits: Limits,
    /// How far the buffer was already searched for a newline, so long lines stay linear.
    scanned: usize,
    /// Passing over the rest of an oversized line.
    skipping: bool,
}

/// Does this text start like a JSON object or array (after whitespace)? `[INFO]`-style log
/// prefixes are not accepted as arrays.
pub(crate) fn looks_like_json(text: &[u8]) -> Option<bool> {
    let mut it = text.iter().copied().skip_while(u8::is_ascii_whitespace);
    match it.next()? {
        b'{' => Some(true),
        b'[' => {
            let next = it.find(|b| !b.is_ascii_whitespace())?;
            Some(matches!(
                next,
                b'{' | b'[' | b'"' | b']' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
            ))
        }
        _ => Some(false),
    }
}

impl NdjsonDecoder {
    pub fn new(limits: Limits) -> Self {
        NdjsonDecoder {
            limits,
            scanned: 0,
            skipping: false,
        }
    }
}

impl NdjsonDecoder {
    /// Passing over the rest of an oversized line.
    pub(super) fn skipping(&self) -> bool {
        self.skipping
    }
}

impl Decode for NdjsonDecoder {
    fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if buf.is_empty() {
            return None;
        }
        let found = memchr::memchr(b'\n', &buf[self.scanned..]).map(|i| self.scanned + i);
        if self.skipping {
            let n = found.map_or(buf.len(), |i| i + 1);
            self.skipping = found.is_none();
            self.scanned = 0;
            let piece = buf.split_to(n).freeze();
            return Some(Frame::new(
                FrameKind::Skipped,
                Bytes::new(),
                piece,
                Bytes::new(),
            ));
        }
        let Some(nl) = found else {
            self.scanned = buf.len();
            if looks_like_json(buf) == Some(false) && buf.len() > self.limits.max_header {
                // A long line that is not a message: no need to hold it for its newline.
                self.scanned = 0;
                return Some(Frame::noise(buf.split().freeze()));
            }
            if buf.len() > self.limits.max_body {
                self.scanned = 0;
                self.skipping = true;
                return Some(Frame::new(
                    FrameKind::Oversized { len: None },
                    Bytes::new(),
                    Bytes::new(),
                    Bytes::new(),
                ));
            }
            return None;
        };
        self.scanned = 0;
        // A whole line in one read is held to the same limit as one arriving in pieces.
        let body_len = nl - usize::from(nl > 0 && buf[nl - 1] == b'\r');
        if body_len > self.limits.max_body && looks_like_json(&buf[..nl]) == Some(true) {
            self.skipping = true;
            return Some(Frame::new(
                FrameKind::Oversized { len: None },
                Bytes::new(),
                Bytes::new(),
                Bytes::new(),
            ));
        }
        let line = buf.split_to(nl + 1).freeze();
        Some(split_line(line))
    }

    /// At end of stream, a last line without its newline is still delivered.
    fn finish(&mut self, buf: &mut BytesMut, frames: &mut Vec<Frame>) -> Option<DecodeError> {
        self.scanned = 0;
        if buf.is_empty() {
            return None;
        }
        let buffered = buf.len();
        let rest = buf.split().freeze();
        if self.skipping {
            self.skipping = false;
            frames.push(Frame::new(
                FrameKind::Skipped,
                Bytes::new(),
                rest,
                Bytes::new(),
            ));
        } else {
            frames.push(split_line(rest));
        }
        Some(DecodeError::UnexpectedEof { buffered })
    }
}

/// A line with its terminator (if any) as a message or noise frame.
fn split_line(line: Bytes) -> Frame {
    if looks_like_json(&line) != Some(true) {
        return Frame::noise(line);
    }
    let term = if line.ends_with(b"\r\n") {
        2
    } else if line.ends_with(b"\n") {
        1
    } else {
        0
    };
    let body = line.slice(..line.len() - term);
    let tail = line.slice(line.len() - term..);
    Frame::new(FrameKind::Message, Bytes::new(), body, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], chunk: usize, limits: Limits) -> Vec<Frame> {
        let mut d = NdjsonDecoder::new(limits);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(f) = d.decode(&mut buf) {
                out.push(f);
            }
        }
        d.finish(&mut buf, &mut out);
        out
    }

    #[test]
    fn lines_crlf_blank_and_logs() {
        let input = b"{\"a\":1}\r\n\n[INFO] started\n[1,2]\n";
        let frames = decode_all(input, 1, Limits::default());
        let summary: Vec<_> = frames
            .iter()
            .map(|f| (f.kind.clone(), f.body.clone(), f.tail.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    FrameKind::Message,
                    Bytes::from_static(b"{\"a\":1}"),
                    Bytes::from_static(b"\r\n")
                ),
                (FrameKind::Noise, Bytes::from_static(b"\n"), Bytes::new()),
                (
                    FrameKind::Noise,
                    Bytes::from_static(b"[INFO] started\n"),
                    Bytes::new()
                ),
                (
                    FrameKind::Message,
                    Bytes::from_static(b"[1,2]"),
                    Bytes::from_static(b"\n")
                ),
            ]
        );
    }

    #[test]
    fn very_long_line_is_linear_and_whole() {
        let mut input = b"{\"x\":\"".to_vec();
        input.extend(std::iter::repeat_n(b'a', 5_000_000));
        input.extend_from_slice(b"\"}\n");
        let frames = decode_all(&input, 4096, Limits::default());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].body.len(), input.len() - 1);
    }

    #[test]
    fn oversized_line_is_skipped_to_newline() {
        let limits = Limits {
            max_header: 64,
            max_body: 10,
        };
        let frames = decode_all(b"{\"aaaaaaaaaaaaaaaaaaaaaa\":1}\n{}\n", 5, limits);
        assert_eq!(frames[0].kind, FrameKind::Oversized { len: None });
        assert_eq!(frames.last().unwrap().body, Bytes::from_static(b"{}"));
    }

    #[test]
    fn oversized_line_in_one_read_is_oversized_too() {
        let limits = Limits {
            max_header: 64,
            max_body: 10,
        };
        let input = b"{\"aaaaaaaaaaaaaaaaaaaaaa\":1}\r\n{}\n";
        let frames = decode_all(input, input.len(), limits);
        assert_eq!(frames[0].kind, FrameKind::Oversized { len: None });
        assert_eq!(frames[1].kind, FrameKind::Skipped);
        assert_eq!(frames.last().unwrap().body, Bytes::from_static(b"{}"));
        let mut wire = Vec::new();
        frames.iter().for_each(|f| f.write_wire(&mut wire));
        assert_eq!(wire, input);
    }

    #[test]
    fn last_line_without_newline_at_eof() {
        let frames = decode_all(b"{}\n{\"id\":1}", 3, Limits::default());
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].kind, FrameKind::Message);
        assert!(frames[1].tail.is_empty());
    }
}
