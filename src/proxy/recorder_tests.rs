//! The recorder's buffers: a large frame is decoded into one buffer of its size, and
//! that buffer takes the next large frames once the frame is written.

use super::*;

fn recorder() -> Recorder {
    recorder_for(Framing::Lsp)
}

fn recorder_for(framing: Framing) -> Recorder {
    let config = RecorderConfig {
        framing: Some(framing),
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

fn line(len: usize) -> Vec<u8> {
    let mut l = format!(
        r#"{{"jsonrpc":"2.0","method":"m","params":"{}"}}"#,
        "b".repeat(len)
    )
    .into_bytes();
    l.push(b'\n');
    l
}

/// Large messages one after the other, as a pipe delivers them (64 KiB chunks): the second
/// one is decoded in the allocation of the first, and after a pause that is let go.
#[test]
fn the_next_large_frame_reuses_the_buffer_of_the_last_one() {
    for (framing, wire) in [
        (Framing::Lsp, [frame(1_500_000), frame(1_400_000)]),
        (Framing::Ndjson, [line(1_500_000), line(1_400_000)]),
    ] {
        let mut r = recorder_for(framing);
        let mut first = wire[0].chunks(64 * 1024).peekable();
        let mut at = None;
        while let Some(c) = first.next() {
            if first.peek().is_none() {
                // Where the first frame's buffer starts, once it has all but its last chunk.
                at = Some(r.dirs[Dir::C2s as usize].buf.as_ptr());
            }
            r.data(Lane::C2s, Micros::now(), Bytes::copy_from_slice(c));
        }
        assert_eq!(r.seq, 1, "{framing:?}: the first frame was recorded");
        let mut second = wire[1].chunks(64 * 1024);
        r.data(
            Lane::C2s,
            Micros::now(),
            Bytes::copy_from_slice(second.next().unwrap()),
        );
        assert_eq!(
            Some(r.dirs[Dir::C2s as usize].buf.as_ptr()),
            at,
            "{framing:?}: a new buffer"
        );
        for c in second {
            r.data(Lane::C2s, Micros::now(), Bytes::copy_from_slice(c));
        }
        assert_eq!(r.seq, 2, "{framing:?}: the second frame was recorded");
        r.release_buffers();
        assert_eq!(r.dirs[Dir::C2s as usize].buf.capacity(), 0);
    }
}

#[test]
fn a_buffer_much_larger_than_its_frames_is_kept_only_while_small() {
    // Sized for its frame (Content-Length), or grown by doubling to 2 MiB (a 1 MiB line).
    assert!(worth_keeping(20 << 20, 20 << 20));
    assert!(worth_keeping(2 << 20, (1 << 20) + 40));
    // Grown to 32 MiB around a 20 MiB line: two of them would break the memory bound.
    assert!(!worth_keeping(32 << 20, 20 << 20));
    // Small buffers are not worth it: their frames are decoded in the pump's chunks.
    assert!(!worth_keeping(64 << 10, 60 << 10));
}
