//! Replay a recording into a server (`replay`) and serve a client from one (`mock`).
//!
//! - `normalize`: JSON paths to ignore, normalisation and readable JSON diffs.
//! - `script`: what the recorded client sent, in order, with the causality between
//!   messages, and the recorded answers to server-to-client requests.
//! - `engine`: drives a fresh server with the script and collects what it answers.
//! - `report`: compares, and prints the report (text or JSON).
//! - `mock`: acts as the server on stdio, answering from the recording.
//! - `matching`: which recorded client message a new one corresponds to (mock, diff).
//! - `compare`: two sessions side by side (`rpctap diff`), with the report's normalisation.

mod compare;
mod engine;
mod matching;
mod mock;
mod normalize;
mod report;
mod script;

pub use compare::{compare, describe, response_ignores, Change, Comparison, LatencyChange};
pub use engine::{replay, Pace, ReplayOptions};
pub use mock::{default_param_ignores, mock, MockOptions, MockStats, Unmatched};
pub use normalize::{diff, parse_path, remove_path, JsonPath};
pub use report::{default_ignores, normalized, Report, RowFilter};

use crate::wire::Framing;

/// One message as it goes on the wire in `framing`.
pub fn frame(framing: Framing, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    crate::record::wire_bytes(framing, None, body, &mut out);
    out
}

/// `body` with its top-level `id` replaced (JSON-RPC), or `request_seq` (DAP responses).
pub fn with_id(body: &[u8], id: &serde_json::Value) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    if let Some(map) = v.as_object_mut() {
        if map.contains_key("request_seq") {
            map.insert("request_seq".into(), id.clone());
        } else {
            map.insert("id".into(), id.clone());
        }
    }
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}
