//! VS Code LSP traces in JSON format (`"<lang>.trace.server": {"format": "json"}`): one
//! object per entry, as vscode-jsonrpc's `logLSPMessage` builds it,
//!
//! ```text
//! [LSP   - 10:00:00 AM] {"isLSPMessage":true,"type":"send-request","message":{...},"timestamp":1700000000000}
//! ```
//!
//! with or without the output channel's `[LSP   - time] ` prefix. `type` is
//! send-request / receive-response / send-notification / receive-notification /
//! receive-request / send-response; "send" is client to server. `message` is the whole
//! JSON-RPC message and is kept byte for byte; `timestamp` is in milliseconds.

use super::{bad, lines, vscode_text::entry_prefix, Builder, Context};
use crate::record::{Dir, Event, Micros, ReadError};
use crate::wire::Framing;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "isLSPMessage", default)]
    is_lsp_message: bool,
    #[serde(rename = "type", default)]
    ty: String,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    timestamp: Option<f64>,
}

pub(super) fn import(text: &[u8], context: &Context) -> Result<Vec<Event>, ReadError> {
    let mut b = Builder::new();
    let mut last = context.modified;
    for (n, line, complete) in lines(text) {
        let line = line.trim_ascii();
        let json = match entry_prefix(line) {
            Some(rest) => rest.trim_ascii(),
            None => line,
        };
        if !json.starts_with(b"{") {
            continue; // `[Info  - …]` lines and other output-channel text
        }
        let entry: Entry = match serde_json::from_slice(json) {
            Ok(e) => e,
            Err(_) if !complete => break, // a log cut short while being written
            Err(e) => {
                return Err(bad(
                    n,
                    format!("not a JSON trace entry: {}", super::json_reason(&e)),
                ))
            }
        };
        if !entry.is_lsp_message {
            continue;
        }
        let dir = match entry.ty.split_once('-') {
            Some(("send", _)) => Dir::C2s,
            Some(("receive", _)) => Dir::S2c,
            _ => return Err(bad(n, format!("unknown entry type {:?}", entry.ty))),
        };
        let message = entry
            .message
            .ok_or_else(|| bad(n, "entry without \"message\""))?;
        if let Some(ms) = entry.timestamp {
            last = Micros::from_units(ms, 1000.0);
        }
        b.line = n;
        b.message(last, dir, Framing::Lsp, message.get().as_bytes().to_vec());
    }
    Ok(b.finish(context))
}
