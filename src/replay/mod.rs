//! Replay a recording into a server (`replay`) and serve a client from one (`mock`).
//!
//! - `normalize`: JSON paths to ignore, normalisation and readable JSON diffs.
//! - `script`: what the recorded client sent, in order, with the causality between
//!   messages, and the recorded answers to server-to-client requests.
//! - `engine`: drives a fresh server with the script and collects what it answers.
//! - `server`: the server as one inbox of events (messages, end of output, exit).
//! - `progress`: the progress line on stderr.
//! - `report`: compares, and prints the report (text or JSON).
//! - `mock`: acts as the server on stdio, answering from the recording.
//! - `matching`: which recorded client message a new one corresponds to (mock, diff).
//! - `compare`: two sessions side by side (`rpctap diff`), with the report's normalisation.

mod compare;
mod engine;
mod matching;
mod mock;
mod normalize;
mod progress;
mod report;
mod script;
mod server;

pub use compare::{compare, describe, response_ignores, Change, Comparison, LatencyChange};
pub use engine::{replay, Ending, Outcome, Pace, ReplayOptions};

/// Why a replay or a mock could not run (a server that misbehaves is not an error: it is
/// what the report is for).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the recording has no client-to-server messages to replay")]
    NothingToReplay,
    #[error("no server command given: use `rpctap replay FILE -- CMD...`")]
    NoCommand,
    #[error(transparent)]
    Spawn(#[from] crate::child::SpawnError),
    /// `--record` could not be opened.
    #[error(transparent)]
    Record(Box<dyn std::error::Error + Send + Sync>),
    /// Mock's stdin or stdout failed.
    #[error("mock's stdio: {0}")]
    Io(#[from] std::io::Error),
}
pub use mock::{default_param_ignores, mock, MockOptions, MockStats, Unmatched};
pub use normalize::{diff, parse_path, remove_path, JsonPath};
pub use report::{default_ignores, normalized, Report, RowFilter};

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
