//! Whole frames from a blocking byte stream: a `Read` and the auto-detecting `Decoder`,
//! for the peers that block on their input (the demo server and client, mock).
//!
//! Not responsible for: the shim's streams, which are pumped (forwarded first) and decoded
//! on the recorder's side (see `proxy`).

use super::{DecodeError, Decoder, Frame, Framing, Limits};
use bytes::BytesMut;
use std::collections::VecDeque;
use std::io::{self, Read};

/// Blocking frame reader over any `Read`.
pub struct FrameReader<R> {
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

impl<R: Read> FrameReader<R> {
    pub fn new(reader: R, framing: Option<Framing>) -> Self {
        FrameReader {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{encode, FrameKind};

    fn frames(framing: Framing, bodies: &[&str], chunk: usize) -> Vec<(FrameKind, String)> {
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
        let mut wire = b"a log line\n".to_vec();
        for b in bodies {
            encode(framing, b.as_bytes(), &mut wire);
        }
        let mut src = FrameReader::new(Chunked(wire, chunk), None);
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
        let mut src = FrameReader::new(&b"Content-Length: 10\r\n\r\n{\"a\""[..], None);
        while src.next_frame().unwrap().is_some() {}
        assert!(src.truncated.is_some());
    }
}
