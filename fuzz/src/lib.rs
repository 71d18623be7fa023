//! Shared by the decoder fuzz targets: turns fuzz input into a read pattern and limits,
//! feeds a decoder the way the recorder does, and checks the framing invariant.

use bytes::BytesMut;
pub use rpctap::wire::Decode;
use rpctap::wire::Limits;

/// The first two bytes choose how the rest is cut into reads and which limits apply, so
/// the fuzzer explores split points and the oversized paths as well as content.
pub struct Setup<'a> {
    pub read_size: usize,
    pub limits: Limits,
    pub stream: &'a [u8],
}

impl<'a> Setup<'a> {
    pub fn from(data: &'a [u8]) -> Option<Setup<'a>> {
        let (&[reads, limits], stream) = data.split_first_chunk::<2>()?;
        let read_size = match reads % 8 {
            0 => 1,
            1 => 2,
            2 => 3,
            3 => 7,
            4 => 64,
            5 => 4096,
            _ => 1 + reads as usize,
        };
        let limits = if limits & 1 == 0 {
            Limits::default()
        } else {
            // Tiny limits reach the oversized and header-cap paths with short inputs.
            Limits {
                max_header: 8 + (limits as usize >> 1) % 64,
                max_body: (limits as usize >> 4) % 32,
            }
        };
        Some(Setup {
            read_size,
            limits,
            stream,
        })
    }
}

/// Feeds the stream in reads and checks, whatever the input: the frames' bytes, in order,
/// are exactly the input; and a frame covering no bytes is never followed by another (so
/// a caller's `while let Some(frame)` loop always ends).
pub fn check_decoder(setup: &Setup, mut decoder: impl Decode) {
    let mut buf = BytesMut::new();
    let mut out = Vec::with_capacity(setup.stream.len());
    let mut frames = Vec::new();
    for piece in setup.stream.chunks(setup.read_size) {
        buf.extend_from_slice(piece);
        let mut empty_in_a_row = 0;
        while let Some(frame) = decoder.decode(&mut buf) {
            empty_in_a_row = if frame.wire_len() == 0 {
                empty_in_a_row + 1
            } else {
                0
            };
            assert!(
                empty_in_a_row <= 1,
                "decoder yields empty frames without progress"
            );
            frame.write_wire(&mut out);
        }
    }
    decoder.finish(&mut buf, &mut frames);
    for frame in &frames {
        frame.write_wire(&mut out);
    }
    assert!(
        buf.is_empty(),
        "finish left {} bytes in the buffer",
        buf.len()
    );
    assert!(
        out == setup.stream,
        "frames do not concatenate to the input"
    );
}
