//! Writes a session as VS Code's LSP text trace (verbose), the format
//! vscode-languageclient writes to its output channel, so the tools and people used to
//! reading those logs can read rpctap sessions, and `record::import` reads them back.
//!
//! Where VS Code's own output loses information, this writer keeps it in a form the
//! format's readers still accept: a result that is present but falsy is written as
//! `Result: …` (VS Code says "No result returned."), and a response the client sent with
//! an error says ` Request failed: message (code).` as received ones do. Times are local
//! times of day, as VS Code logs them. DAP messages are written with their commands and
//! events as methods. Stderr lines become `[Info  - …]` lines; noise, batches and
//! non-JSON bodies have no place in the format and are left out (and counted).

use super::{id_text, payload};
use crate::record::{Dir, Micros};
use crate::rpc::Kind;
use crate::session::Store;
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

/// `JSON.stringify(value, null, 4)`.
fn pretty(v: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    let _ = v.serialize(&mut ser);
    String::from_utf8(out).unwrap_or_default()
}

/// `toLocaleTimeString()` in an en-US locale: `9:05:01 AM`.
fn clock(t: Micros) -> String {
    t.datetime()
        .with_timezone(&chrono::Local)
        .format("%-I:%M:%S %p")
        .to_string()
}

fn failed(error: &Value) -> String {
    let message = match &error["message"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    format!(" Request failed: {message} ({}).", error["code"])
}

/// Writes the whole store; returns how many rows had no place in the format.
pub fn write_vscode(store: &Store, out: &mut impl Write) -> std::io::Result<usize> {
    let mut left_out = 0;
    for i in 0..store.len() {
        let row = store.row(i);
        let t = clock(row.t);
        if row.kind == Kind::Stderr {
            let text = String::from_utf8_lossy(store.body(i));
            writeln!(out, "[Info  - {t}] {}", text.trim_end())?;
            continue;
        }
        let Some(p) = payload(store, i) else {
            left_out += 1;
            continue;
        };
        let method = store.method(i).unwrap_or("");
        let id = id_text(store, i);
        let sending = row.dir == Dir::C2s;
        let verb = if sending { "Sending" } else { "Received" };
        let ms = store.latency(i).map_or(0, |us| us / 1000);
        let (header, data) = match row.kind {
            Kind::Request => (
                format!("{verb} request '{method} - ({id})'."),
                p.params.map(|v| format!("Params: {}", pretty(&v))),
            ),
            Kind::Notification => (
                format!("{verb} notification '{method}'."),
                Some(p.params.map_or_else(
                    || "No parameters provided.".to_owned(),
                    |v| format!("Params: {}", pretty(&v)),
                )),
            ),
            Kind::Response | Kind::Error => {
                let fail = p.error.as_ref().map(failed).unwrap_or_default();
                let header = match (sending, store.pair(i)) {
                    (false, Some(_)) => {
                        format!("Received response '{method} - ({id})' in {ms}ms.{fail}")
                    }
                    (false, None) => {
                        format!("Received response {id} without active response promise.{fail}")
                    }
                    (true, _) => format!(
                        "Sending response '{method} - ({id})'. Processing request took {ms}ms{fail}"
                    ),
                };
                let data = match (&p.error, &p.result) {
                    (Some(e), _) => e.get("data").map(|d| format!("Error data: {}", pretty(d))),
                    (None, Some(r)) if !r.is_null() => Some(format!("Result: {}", pretty(r))),
                    (None, _) => Some("No result returned.".to_owned()),
                };
                (header, data)
            }
            _ => {
                left_out += 1;
                continue;
            }
        };
        writeln!(out, "[Trace - {t}] {header}")?;
        if let Some(data) = data {
            // vscode-jsonrpc's data ends with "\n\n" and the channel adds a newline.
            write!(out, "{data}\n\n\n")?;
        }
    }
    Ok(left_out)
}
