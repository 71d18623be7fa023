//! The zero-copy pump behind a recorder that does not read: every byte forwarded, and
//! every byte offered once, in order — through the recorder's pipe while it has room, then
//! through the side pipe into the tap's memory and its spill file.

use super::*;
use crate::proxy::tap::{tap, Batch, SpillItem};
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn a_full_recorder_pipe_sends_chunks_through_the_side_pipe_without_losing_one() {
    let input: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tap(3 << 19, Some(dir.path().to_owned()));
    let (src, mut src_w) = crate::os::recorder_pipe().unwrap();
    let (mut dst_r, dst) = crate::os::recorder_pipe().unwrap();
    let writer = {
        let input = input.clone();
        std::thread::spawn(move || src_w.write_all(&input).unwrap())
    };
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        dst_r.read_to_end(&mut out).unwrap();
        out
    });
    let end = pump_pipes(&src, &dst, Lane::C2s, &tx, None, || {});
    assert_eq!(end, PumpEnd::SourceClosed);
    writer.join().unwrap();
    drop(dst);
    assert!(reader.join().unwrap() == input, "forwarded byte-exact");

    let (mut offered, mut kinds) = (Vec::new(), [0usize; 3]);
    let mut batch = Vec::new();
    'all: loop {
        assert_eq!(
            rx.next_batch(&mut batch, Duration::from_secs(5)),
            Batch::Some
        );
        for msg in batch.drain(..) {
            match msg {
                TapMsg::Piped(_, _, n) => {
                    kinds[0] += 1;
                    offered.extend_from_slice(&rx.read_piped(Lane::C2s, n).unwrap());
                }
                TapMsg::Data(_, _, b) => {
                    kinds[1] += 1;
                    offered.extend_from_slice(&b);
                }
                TapMsg::Spilled(end) => {
                    kinds[2] += 1;
                    rx.read_spill(end, |item| match item {
                        SpillItem::Data(_, _, b) => offered.extend_from_slice(&b),
                        _ => panic!("the spill failed"),
                    });
                }
                TapMsg::Eof(_) => break 'all,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(offered == input, "offered once each, in order");
    assert!(
        kinds.iter().all(|&k| k > 0),
        "pipe, memory and spill: {kinds:?}"
    );
}
