//! `Decoder::boundary`: where a stream stands after a prefix of it was decoded, for the
//! shim's pump taking over the framing mid-stream.

use super::{Boundary, Decoder, Framing, Limits};
use bytes::{Bytes, BytesMut};

/// Decodes `input` (all frames out) and reports the boundary, as the recorder does.
fn after(framing: Option<Framing>, limits: Limits, input: &[u8]) -> Boundary {
    let mut d = Decoder::new(framing, limits);
    let mut buf = BytesMut::from(input);
    let mut clean = true;
    while let Some(f) = d.decode(&mut buf) {
        let last = f.tail.last().or(f.body.last()).or(f.head.last());
        clean = match (&f.kind, d.framing()) {
            (super::FrameKind::Message | super::FrameKind::Skipped, Some(Framing::Lsp)) => true,
            (super::FrameKind::Oversized { .. }, _) => false,
            _ => last == Some(&b'\n'),
        };
    }
    d.boundary(&buf, clean)
}

#[test]
fn content_length_positions() {
    let lsp = Some(Framing::Lsp);
    let l = Limits::default();
    assert_eq!(after(lsp, l, b""), Boundary::Frame);
    assert_eq!(
        after(lsp, l, b"Content-Length: 2\r\n\r\n{}"),
        Boundary::Frame
    );
    assert_eq!(
        after(lsp, l, b"Content-Length: 10\r\n\r\nabc"),
        Boundary::Remaining(7)
    );
    assert_eq!(
        after(lsp, l, b"Content-Length: 2\r\n\r\n{}Content-Len"),
        Boundary::Seed(Bytes::from_static(b"Content-Len"))
    );
    let small = Limits {
        max_header: 64,
        max_body: 4,
    };
    assert_eq!(
        after(lsp, small, b"Content-Length: 10\r\n\r\nabc"),
        Boundary::Remaining(7)
    );
    assert_eq!(after(lsp, l, b"log line\n"), Boundary::Frame);
}

#[test]
fn newline_positions() {
    let nd = Some(Framing::Ndjson);
    let l = Limits::default();
    assert_eq!(after(nd, l, b"{}\n"), Boundary::Frame);
    assert_eq!(after(nd, l, b"{}\n{\"a\""), Boundary::Line);
    let small = Limits {
        max_header: 4,
        max_body: 4,
    };
    // A long line that is not JSON is passed on as noise before its newline.
    assert_eq!(after(nd, small, b"not json at all"), Boundary::Line);
    assert_eq!(after(nd, small, b"{\"long\":1}"), Boundary::Line);
}

#[test]
fn before_the_framing_is_known_the_bytes_are_handed_over() {
    assert_eq!(after(None, Limits::default(), b""), Boundary::Frame);
    assert_eq!(
        after(None, Limits::default(), b"Cont"),
        Boundary::Seed(Bytes::from_static(b"Cont"))
    );
}
