//! The framing invariant: whatever the input and however it is split into reads, the bytes
//! of all frames, concatenated, equal the input exactly.

use super::{Decoder, Framing, Limits};
use bytes::BytesMut;
use proptest::prelude::*;

/// Pieces that make decoders work hard: valid frames, near-misses and garbage.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z{}\\[\\]\":, ]{0,20}"
            .prop_map(|s| format!("Content-Length: {}\r\n\r\n{s}", s.len()).into_bytes()),
        "[a-z{}\":, ]{0,20}".prop_map(|s| format!(
            "content-length:{}\nContent-Type: x\n\n{s}",
            s.len()
        )
        .into_bytes()),
        "[a-z0-9\":, ]{0,20}".prop_map(|s| format!("{{\"k\":\"{s}\"}}\n").into_bytes()),
        Just(b"\r\n".to_vec()),
        Just(b"Content-Length: 99999999999999999999999\r\n\r\n".to_vec()),
        Just(b"Content-Length: 40\r\n\r\n".to_vec()),
        Just(b"[INFO] log line\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn run(input: &[u8], cuts: &[usize], framing: Option<Framing>, limits: Limits) -> Vec<u8> {
    let mut decoder = Decoder::new(framing, limits);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    for cut in cuts {
        buf.extend_from_slice(&input[at..cut.max(at)]);
        at = cut.max(at);
        while let Some(frame) = decoder.decode(&mut buf) {
            frame.write_wire(&mut out);
        }
    }
    let (rest, _) = decoder.finish(&mut buf);
    for frame in rest {
        frame.write_wire(&mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn frames_concatenate_to_input(
        pieces in proptest::collection::vec(piece(), 0..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        framing in prop_oneof![Just(None), Just(Some(Framing::Lsp)), Just(Some(Framing::Ndjson))],
        small in any::<bool>(),
    ) {
        let input: Vec<u8> = pieces.concat();
        let limits = if small { Limits { max_header: 24, max_body: 16 } } else { Limits::default() };
        prop_assert_eq!(run(&input, &cuts, framing, limits), input);
    }
}
