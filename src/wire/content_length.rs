//! `Content-Length` framing (LSP, DAP): a header block, a blank line, then exactly N bytes.
//!
//! Header names are matched case-insensitively, lines may end in CRLF or LF, and extra
//! headers are allowed. The header bytes are kept exactly as received in `Frame::head`, so
//! odd spellings survive a round trip. Bytes that cannot start a header become noise, and
//! decoding re-synchronises on the next line or on the next `Content-Length` text.

use super::{Decode, DecodeError, Frame, FrameKind, Limits};
use bytes::{Bytes, BytesMut};

#[derive(Debug)]
pub struct ContentLengthDecoder {
    limits: Limits,
    /// A complete header already parsed, waiting for its body: (header length, body length).
    pending: Option<(usize, usize)>,
    /// Body bytes of an oversized message still to pass over.
    skipping: u64,
}

/// What the bytes at the start of the buffer are.
enum Scan {
    /// More bytes are needed to tell.
    Incomplete,
    /// The first `n` bytes are noise.
    Noise(usize),
    /// A complete header block of `head` bytes announcing a body of `len` bytes.
    Header { head: usize, len: u64 },
}

impl ContentLengthDecoder {
    pub fn new(limits: Limits) -> Self {
        ContentLengthDecoder {
            limits,
            pending: None,
            skipping: 0,
        }
    }
}

impl ContentLengthDecoder {
    /// A header was read and its body is awaited: the buffer was sized for the frame.
    pub(super) fn sized_for_frame(&self) -> bool {
        self.pending.is_some()
    }

    /// Bytes still to come of the frame in progress, when its length is known (a parsed
    /// header waiting for its body, or an oversized body being passed over); `buffered`
    /// is what the caller's buffer holds of it.
    pub(super) fn remaining(&self, buffered: usize) -> Option<u64> {
        if self.skipping > 0 {
            return Some(self.skipping.saturating_sub(buffered as u64));
        }
        self.pending
            .map(|(head, len)| (head + len).saturating_sub(buffered) as u64)
    }
}

impl Decode for ContentLengthDecoder {
    fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        if self.skipping > 0 {
            if buf.is_empty() {
                return None;
            }
            let n = usize::try_from(self.skipping).map_or(buf.len(), |s| s.min(buf.len()));
            self.skipping -= n as u64;
            let piece = buf.split_to(n).freeze();
            return Some(Frame::new(
                FrameKind::Skipped,
                Bytes::new(),
                piece,
                Bytes::new(),
            ));
        }
        if self.pending.is_none() {
            if buf.is_empty() {
                return None;
            }
            match scan(buf, self.limits.max_header) {
                Scan::Incomplete => return None,
                Scan::Noise(n) => return Some(Frame::noise(buf.split_to(n).freeze())),
                Scan::Header { head, len } => {
                    let fits = usize::try_from(len)
                        .ok()
                        .filter(|&n| n <= self.limits.max_body);
                    let Some(body_len) = fits else {
                        self.skipping = len;
                        let head = buf.split_to(head).freeze();
                        return Some(Frame::new(
                            FrameKind::Oversized { len: Some(len) },
                            head,
                            Bytes::new(),
                            Bytes::new(),
                        ));
                    };
                    self.pending = Some((head, body_len));
                }
            }
        }
        let (head, len) = self.pending?;
        if buf.len() < head + len {
            if buf.capacity() < head + len {
                // Exactly the frame's size, in a buffer of its own: growing in place could
                // double it, or keep the previous frame's pages alive in front of it.
                let mut whole = BytesMut::with_capacity(head + len);
                whole.extend_from_slice(buf);
                *buf = whole;
            }
            return None;
        }
        self.pending = None;
        let head = buf.split_to(head).freeze();
        let body = buf.split_to(len).freeze();
        Some(Frame::new(FrameKind::Message, head, body, Bytes::new()))
    }

    /// Drains the leftovers at end of stream as noise, reporting a frame cut short.
    fn finish(&mut self, buf: &mut BytesMut, frames: &mut Vec<Frame>) -> Option<DecodeError> {
        let cut_short = self.skipping > 0 || !buf.is_empty();
        let buffered = buf.len();
        if !buf.is_empty() {
            frames.push(Frame::noise(buf.split().freeze()));
        }
        self.pending = None;
        self.skipping = 0;
        cut_short.then_some(DecodeError::UnexpectedEof { buffered })
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Position of `content-length` (any case) in `hay`, if any.
pub(crate) fn find_content_length(hay: &[u8]) -> Option<usize> {
    const NEEDLE: &[u8] = b"content-length";
    memchr::memchr2_iter(b'c', b'C', hay).find(|&i| {
        hay.len() - i >= NEEDLE.len() && hay[i..i + NEEDLE.len()].eq_ignore_ascii_case(NEEDLE)
    })
}

/// Splits `Name: value` into its parts if the line has that form.
fn header_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = memchr::memchr(b':', line)?;
    let name = &line[..colon];
    (!name.is_empty() && name.iter().all(|&b| is_token(b))).then(|| (name, &line[colon + 1..]))
}

/// Noise length for a first line that is not a header: up to a later `Content-Length`
/// on the same line, or the whole line.
fn noise_in_line(line_with_nl: &[u8]) -> usize {
    match find_content_length(line_with_nl) {
        Some(pos) if pos > 0 => pos,
        _ => line_with_nl.len(),
    }
}

fn scan(buf: &[u8], max_header: usize) -> Scan {
    let mut start = 0;
    let mut content_length: Option<u64> = None;
    loop {
        let Some(nl) = memchr::memchr(b'\n', &buf[start..]).map(|i| start + i) else {
            let partial = &buf[start..];
            if start == 0 {
                if let Some(pos) = find_content_length(partial).filter(|&p| p > 0) {
                    return Scan::Noise(pos);
                }
                // Noise is held until its newline (so a log line stays one piece), but
                // never beyond the header cap.
                if partial.len() > max_header {
                    return Scan::Noise(partial.len());
                }
            } else if buf.len() > max_header {
                return Scan::Noise(first_line_len(buf));
            }
            return Scan::Incomplete;
        };
        let line = &buf[start..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return match content_length {
                Some(len) => Scan::Header { head: nl + 1, len },
                // A blank line between frames, or a header block without a length.
                None => Scan::Noise(nl + 1),
            };
        }
        let parsed = header_line(line).and_then(|(name, value)| {
            if name.eq_ignore_ascii_case(b"content-length") {
                let len = std::str::from_utf8(value)
                    .ok()?
                    .trim()
                    .parse::<u64>()
                    .ok()?;
                Some(Some(len))
            } else {
                Some(None)
            }
        });
        match parsed {
            Some(Some(len)) if content_length.is_none() => content_length = Some(len),
            Some(Some(_)) => return Scan::Noise(first_line_len(buf)),
            Some(None) => {}
            None if start == 0 => return Scan::Noise(noise_in_line(&buf[..=nl])),
            None => return Scan::Noise(start),
        }
        start = nl + 1;
        if start > max_header {
            return Scan::Noise(first_line_len(buf));
        }
    }
}

fn first_line_len(buf: &[u8]) -> usize {
    memchr::memchr(b'\n', buf).map_or(buf.len(), |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], chunk: usize, limits: Limits) -> Vec<Frame> {
        let mut d = ContentLengthDecoder::new(limits);
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

    fn kinds(frames: &[Frame]) -> Vec<(FrameKind, String)> {
        frames
            .iter()
            .map(|f| {
                (
                    f.kind.clone(),
                    String::from_utf8_lossy(&f.body).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn simple_frames_any_split() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Length: 7\r\n\r\n[1,2,3]";
        for chunk in [1, 2, 3, 7, 100] {
            let frames = decode_all(input, chunk, Limits::default());
            assert_eq!(
                kinds(&frames),
                vec![
                    (FrameKind::Message, "{}".into()),
                    (FrameKind::Message, "[1,2,3]".into())
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn lowercase_lf_and_extra_headers() {
        let input =
            b"content-type: application/vscode-jsonrpc; charset=utf-8\ncontent-length: 2\n\n{}";
        let frames = decode_all(input, 1, Limits::default());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].kind, FrameKind::Message);
        assert_eq!(&frames[0].head[..], &input[..input.len() - 2]);
    }

    #[test]
    fn garbage_between_frames_resyncs() {
        let input = b"hello log\nContent-Length: 2\r\n\r\n{}junkContent-Length: 2\r\n\r\n[]\r\n";
        let frames = decode_all(input, 3, Limits::default());
        assert_eq!(
            kinds(&frames),
            vec![
                (FrameKind::Noise, "hello log\n".into()),
                (FrameKind::Message, "{}".into()),
                (FrameKind::Noise, "junk".into()),
                (FrameKind::Message, "[]".into()),
                (FrameKind::Noise, "\r\n".into()),
            ]
        );
    }

    #[test]
    fn header_block_without_length_is_noise() {
        let frames = decode_all(
            b"Error: boom\n\nContent-Length: 1\n\n1",
            4,
            Limits::default(),
        );
        assert_eq!(frames[0].kind, FrameKind::Noise);
        assert_eq!(frames.last().unwrap().kind, FrameKind::Message);
    }

    #[test]
    fn oversized_body_is_passed_over_in_pieces() {
        let limits = Limits {
            max_header: 1024,
            max_body: 10,
        };
        let mut input = b"Content-Length: 50\r\n\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 50));
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let frames = decode_all(&input, 8, limits);
        assert_eq!(frames[0].kind, FrameKind::Oversized { len: Some(50) });
        let skipped: usize = frames
            .iter()
            .filter(|f| f.kind == FrameKind::Skipped)
            .map(|f| f.body.len())
            .sum();
        assert_eq!(skipped, 50);
        assert!(frames.iter().all(|f| f.body.len() <= 10));
        assert_eq!(frames.last().unwrap().kind, FrameKind::Message);
    }

    #[test]
    fn eof_mid_frame_is_reported() {
        let mut d = ContentLengthDecoder::new(Limits::default());
        let mut buf = BytesMut::from(&b"Content-Length: 10\r\n\r\n{\"a\""[..]);
        assert!(d.decode(&mut buf).is_none());
        let mut frames = Vec::new();
        let err = d.finish(&mut buf, &mut frames);
        assert!(matches!(
            err,
            Some(DecodeError::UnexpectedEof { buffered: 26 })
        ));
        assert_eq!(frames[0].kind, FrameKind::Noise);
    }

    #[test]
    fn twenty_megabyte_body() {
        let body = vec![b'7'; 20 * 1024 * 1024];
        let mut input = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        input.extend_from_slice(&body);
        let frames = decode_all(&input, 65536, Limits::default());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].body.len(), body.len());
    }

    #[test]
    fn huge_header_line_becomes_noise() {
        let limits = Limits {
            max_header: 16,
            max_body: 100,
        };
        let frames = decode_all(b"Xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 4, limits);
        assert!(frames.iter().all(|f| f.kind == FrameKind::Noise));
    }
}
