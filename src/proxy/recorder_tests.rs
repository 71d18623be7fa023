//! The recorder's buffers: a large frame is decoded into one buffer of its size.

use super::*;

fn recorder() -> Recorder {
    let config = RecorderConfig {
        framing: Some(Framing::Lsp),
        limits: Limits::default(),
        redact: Redactor::new(Vec::new(), false),
        observers: Vec::new(),
    };
    Recorder::new(config, None, None)
}

fn frame(len: usize) -> Vec<u8> {
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"m","params":"{}"}}"#,
        "a".repeat(len)
    );
    let mut f = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    f.extend_from_slice(body.as_bytes());
    f
}

/// The start of a large frame arrives behind the end of another one (pipelined traffic):
/// the buffer the decoder sized for it is kept until the frame is whole, not traded for
/// a smaller one that must then be sized again (once per chunk, as it used to be).
#[test]
fn a_large_frame_in_progress_keeps_the_buffer_sized_for_it() {
    let mut r = recorder();
    let (first, second) = (frame(1_500_000), frame(1_500_000));
    let mut wire = first.clone();
    wire.extend_from_slice(&second);
    let mut chunks = wire.chunks(64 * 1024);
    // Chunks until the first frame is out and the second one's header is in.
    let mut fed = 0;
    while fed < first.len() + 100 {
        let c = chunks.next().unwrap();
        fed += c.len();
        r.data(Lane::C2s, Micros::now(), Bytes::copy_from_slice(c));
    }
    assert_eq!(r.seq, 1, "the first frame was recorded");
    let d = &r.dirs[Dir::C2s as usize];
    assert!(d.buf.capacity() >= second.len(), "{}", d.buf.capacity());
    let at = d.buf.as_ptr();
    for c in chunks.by_ref().take(10) {
        r.data(Lane::C2s, Micros::now(), Bytes::copy_from_slice(c));
        assert_eq!(r.dirs[Dir::C2s as usize].buf.as_ptr(), at, "moved");
    }
    for c in chunks {
        r.data(Lane::C2s, Micros::now(), Bytes::copy_from_slice(c));
    }
    assert_eq!(r.seq, 2, "the second frame was recorded");
}
