//! mcpsnoop session logs: one envelope per line, as mcpsnoop's proxy writes them
//! (`internal/proxy/frame.go`, `Envelope`):
//!
//! ```text
//! {"session_id":"…","server_label":"…","seq":1,"ts":"<RFC 3339, ns>","direction":"c2s","transport":"stdio","raw":{…}}
//! ```
//!
//! `direction` is `c2s`, `s2c`, `stderr` (the line is in `text`) or `meta` (`raw` holds
//! the session's `command` and `cwd`). `raw` is the JSON-RPC message exactly as seen and
//! is kept byte for byte; a line that was not JSON is in `text`. MCP over stdio is
//! newline-delimited, so messages are recorded with that framing.

use super::{bad, lines, Builder, Context};
use crate::record::{Dir, Event, Micros, ReadError};
use crate::wire::Framing;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    server_label: String,
    ts: Option<String>,
    direction: String,
    #[serde(borrow)]
    raw: Option<&'a RawValue>,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    cwd: String,
}

pub(super) fn import(bytes: &[u8], context: &Context) -> Result<Vec<Event>, ReadError> {
    let mut b = Builder::new();
    b.protocol = Some("mcp");
    let mut t = context.modified;
    let mut label = None;
    for (n, line, complete) in lines(bytes) {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let env: Envelope = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(_) if !complete => break, // the proxy was stopped mid-write
            Err(e) => {
                return Err(bad(
                    n,
                    format!("not an mcpsnoop envelope: {}", super::json_reason(&e)),
                ))
            }
        };
        if let Some(ts) = &env.ts {
            t = Micros::parse(ts).ok_or_else(|| bad(n, format!("bad time {ts:?}")))?;
        }
        if label.is_none() && !env.server_label.is_empty() {
            label = Some(env.server_label.clone());
        }
        let body = || match env.raw {
            Some(raw) => raw.get().as_bytes().to_vec(),
            None => env.text.as_bytes().to_vec(),
        };
        b.line = n;
        match env.direction.as_str() {
            "c2s" => b.message(t, Dir::C2s, Framing::Ndjson, body()),
            "s2c" => b.message(t, Dir::S2c, Framing::Ndjson, body()),
            "stderr" => b.stderr(t, env.text.trim_end_matches(['\r', '\n'])),
            "meta" => {
                if let Some(raw) = env.raw {
                    let meta: Meta = serde_json::from_str(raw.get())
                        .map_err(|e| bad(n, format!("bad session meta: {e}")))?;
                    b.command = meta.command;
                    b.cwd = meta.cwd;
                }
            }
            other => return Err(bad(n, format!("unknown direction {other:?}"))),
        }
    }
    let mut context = context.clone();
    if let Some(label) = label {
        context.name = label;
    }
    Ok(b.finish(&context))
}
