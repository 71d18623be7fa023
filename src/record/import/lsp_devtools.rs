//! lsp-devtools `record --to-file` logs: one JSON value per line.
//!
//! lsp-devtools 0.4 writes each message with its default format string
//! `{message:jsonl}`: the bare JSON-RPC body, with no direction and no time. Its own
//! format strings (`-f`) can add them, so a line may also be an object with a `source`
//! (`"client"`/`"server"`, or the agent's numbers 2/3), the body under `message` or `body`,
//! and an optional `timestamp`. A bare body's direction is inferred: a response travels
//! against its request; a request or notification goes the way its method does in LSP
//! (or MCP), client to server unless the method is one servers send. Without times every
//! message gets the file's modification time, so latencies read as zero.

use super::{bad, lines, Builder, Context};
use crate::record::{Dir, Event, Micros, ReadError};
use crate::rpc::{classify, Id, Kind};
use crate::wire::Framing;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;

/// Methods a server sends to its client.
fn server_sends(method: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "window/",
        "client/",
        "telemetry/",
        "notifications/resources/",
        "notifications/tools/",
        "notifications/prompts/",
        "sampling/",
        "elicitation/",
    ];
    const EXACT: &[&str] = &[
        "textDocument/publishDiagnostics",
        "workspace/configuration",
        "workspace/applyEdit",
        "workspace/workspaceFolders",
        "$/logTrace",
        "$/progress",
        "notifications/message",
        "roots/list",
    ];
    PREFIXES.iter().any(|p| method.starts_with(p))
        || EXACT.contains(&method)
        || (method.starts_with("workspace/") && method.ends_with("/refresh"))
}

/// Infers directions of bare messages, remembering requests to place their responses.
#[derive(Default)]
pub(super) struct Directions {
    open: HashMap<Id, Dir>,
}

impl Directions {
    pub fn of(&mut self, body: &[u8]) -> Dir {
        let c = classify(body);
        match c.kind {
            Kind::Request | Kind::Notification => {
                let dir = match c.method.as_deref() {
                    Some(m) if server_sends(m) => Dir::S2c,
                    _ => Dir::C2s,
                };
                if let (Kind::Request, Some(id)) = (c.kind, c.id) {
                    self.open.insert(id, dir);
                }
                dir
            }
            Kind::Response | Kind::Error => {
                c.id.and_then(|id| self.open.remove(&id))
                    .map_or(Dir::S2c, Dir::other)
            }
            _ => Dir::C2s,
        }
    }
}

/// `"client"`/`"server"` or lsp-devtools' `MessageSource` numbers (client 2, server 3).
pub(super) fn source_dir(v: &Value) -> Option<Dir> {
    match v {
        Value::String(s) if s.eq_ignore_ascii_case("client") => Some(Dir::C2s),
        Value::String(s) if s.eq_ignore_ascii_case("server") => Some(Dir::S2c),
        Value::Number(n) if n.as_u64() == Some(2) => Some(Dir::C2s),
        Value::Number(n) if n.as_u64() == Some(3) => Some(Dir::S2c),
        _ => None,
    }
}

/// Seconds since the epoch (Python's `time.time()`), RFC 3339, or Python's
/// `str(datetime)` (`2024-05-01 10:00:00.123456+00:00`).
pub(super) fn parse_time(v: &Value) -> Option<Micros> {
    match v {
        Value::Number(n) => n.as_f64().map(|s| Micros::from_units(s, 1e6)),
        Value::String(s) => Micros::parse(s).or_else(|| {
            chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z")
                .ok()
                .map(|d| Micros(d.timestamp_micros()))
        }),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    source: Option<Value>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
    timestamp: Option<Value>,
    metadata: Option<Value>,
}

pub(super) fn import(text: &[u8], context: &Context) -> Result<Vec<Event>, ReadError> {
    let mut b = Builder::new();
    let mut dirs = Directions::default();
    let mut t = context.modified;
    for (n, line, complete) in lines(text) {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let w: Wrapped = match serde_json::from_slice(line) {
            Ok(w) => w,
            Err(_) if !complete => break,
            Err(e) => {
                return Err(bad(
                    n,
                    format!("not a JSON message: {}", super::json_reason(&e)),
                ))
            }
        };
        let meta = w.metadata.as_ref();
        let source = w
            .source
            .as_ref()
            .or_else(|| meta.and_then(|m| m.get("source")));
        let stamp = w
            .timestamp
            .as_ref()
            .or_else(|| meta.and_then(|m| m.get("timestamp")));
        if let Some(at) = stamp.and_then(parse_time) {
            t = at;
        }
        let (body, dir) = match (w.message.or(w.body), source) {
            (Some(body), Some(src)) => {
                let dir = source_dir(src)
                    .ok_or_else(|| bad(n, format!("unknown message source {src}")))?;
                (body.get().as_bytes(), dir)
            }
            (Some(_), None) => return Err(bad(n, "a wrapped message without its \"source\"")),
            // A bare JSON-RPC body.
            (None, _) => (line, dirs.of(line)),
        };
        b.line = n;
        b.message(t, dir, Framing::Lsp, body.to_vec());
    }
    Ok(b.finish(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_follow_methods_and_requests() {
        use Dir::*;
        let mut d = Directions::default();
        let dirs: Vec<Dir> = [
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":9,"method":"workspace/configuration","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":9,"result":[]}"#,
            r#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{}}"#,
            r#"{"jsonrpc":"2.0","method":"workspace/semanticTokens/refresh","id":3}"#,
        ]
        .iter()
        .map(|b| d.of(b.as_bytes()))
        .collect();
        assert_eq!(dirs, [C2s, S2c, S2c, C2s, S2c, S2c]);
    }

    #[test]
    fn times_in_the_shapes_python_writes() {
        let want = Some(Micros(1_700_000_000_250_000));
        assert_eq!(parse_time(&serde_json::json!(1_700_000_000.25)), want);
        assert_eq!(parse_time(&"2023-11-14 22:13:20.250000+00:00".into()), want);
        assert_eq!(parse_time(&"2023-11-14T22:13:20.25Z".into()), want);
        assert_eq!(parse_time(&"soon".into()), None);
    }
}
