//! Frames → messages: classifies a body as JSON-RPC 2.0 or DAP without building a full
//! `serde_json::Value`, and recognises the protocol a session speaks.
//!
//! Not responsible for: pairing requests with responses (see `session`).

mod classify;
mod protocol;

pub use classify::{classify, Classified, Id, Kind};
pub use protocol::Protocol;
