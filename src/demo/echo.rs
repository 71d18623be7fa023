//! `rpctap demo-server --echo`: the leanest useful server, for benchmarks. Every request is
//! answered with its own params as the result; nothing else is sent.
//!
//! The answer is assembled from the request's raw `id` and `params` text without building a
//! JSON tree, and output is flushed only when no further input is already buffered, so the
//! server costs as little as possible on both throughput and ping-pong latency.

use super::server::{DemoServerArgs, CRASH_EXIT};
use crate::wire::{encode, FrameReader};
use crate::wire::{FrameKind, Framing};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::{self, BufWriter, Read, Write};

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

pub fn serve(
    input: impl Read,
    output: Box<dyn Write + Send>,
    args: &DemoServerArgs,
) -> io::Result<u8> {
    let mut src = FrameReader::new(input, None);
    let mut out = BufWriter::with_capacity(256 * 1024, output);
    let mut framing: Option<Framing> = args.framing.map(Into::into);
    let mut received = 0;
    let mut body = Vec::new();
    let mut frame_bytes = Vec::new();
    loop {
        let frame = if let Some(f) = src.buffered() {
            f
        } else {
            // About to block on input: everything answered so far must be on its way.
            out.flush()?;
            match src.next_frame()? {
                Some(f) => f,
                None => break,
            }
        };
        if frame.kind != FrameKind::Message {
            continue;
        }
        let framing = *framing.get_or_insert_with(|| src.framing().unwrap_or(Framing::Lsp));
        received += 1;
        let Ok(probe) = serde_json::from_slice::<Probe>(&frame.body) else {
            continue;
        };
        let id = match (probe.id, probe.method.as_deref()) {
            (Some(id), Some(_)) => id.get(),
            (None, Some("exit")) => break,
            // The crash still needs a response to cut in half.
            _ if args.crash_after == Some(received) => "null",
            _ => continue,
        };
        body.clear();
        body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
        body.extend_from_slice(id.as_bytes());
        body.extend_from_slice(br#","result":"#);
        body.extend_from_slice(probe.params.map_or("null", RawValue::get).as_bytes());
        body.push(b'}');
        frame_bytes.clear();
        encode(framing, &body, &mut frame_bytes);
        if args.crash_after == Some(received) {
            out.write_all(&frame_bytes[..frame_bytes.len() / 2])?;
            out.flush()?;
            std::process::exit(CRASH_EXIT);
        }
        out.write_all(&frame_bytes)?;
    }
    out.flush()?;
    Ok(args.exit_code)
}
