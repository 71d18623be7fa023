//! A session in other tools' formats: VS Code's LSP text trace and HAR 1.2.
//!
//! Exporters work from a loaded `Store`, not from the event stream, because both formats
//! need what pairing knows: a response's method and latency. rpctap's own JSONL and the
//! pretty listing are written by `commands::cat`.
//!
//! Not responsible for: reading formats (see `record::import`).

mod har;
mod vscode;

pub use har::Har;
pub use vscode::write_vscode;

use crate::rpc::Kind;
use crate::session::Store;
use serde_json::Value;

/// An id as logs and URLs show it: strings without quotes.
pub(crate) fn id_text(store: &Store, i: usize) -> String {
    match store.id(i) {
        Some(crate::rpc::Id::Str(s)) => s,
        Some(id) => id.to_string(),
        None => "null".into(),
    }
}

/// A message's parts as JSON-RPC names them, whether it was JSON-RPC or DAP on the wire
/// (DAP's `arguments`/`body` become `params`/`result`, a failed response an error).
pub(crate) struct Payload {
    pub params: Option<Value>,
    pub result: Option<Value>,
    pub error: Option<Value>,
}

pub(crate) fn payload(store: &Store, i: usize) -> Option<Payload> {
    let mut v: Value = serde_json::from_slice(store.body(i)).ok()?;
    let obj = v.as_object_mut()?;
    let dap = obj.contains_key("seq") && !obj.contains_key("jsonrpc");
    if !dap {
        return Some(Payload {
            params: obj.remove("params"),
            result: obj.remove("result"),
            error: obj.remove("error"),
        });
    }
    let kind = store.row(i).kind;
    Some(match kind {
        Kind::Request => Payload {
            params: obj.remove("arguments"),
            result: None,
            error: None,
        },
        Kind::Notification => Payload {
            params: obj.remove("body"),
            result: None,
            error: None,
        },
        Kind::Error => Payload {
            params: None,
            result: None,
            // DAP errors have no code; 0 stands for "none given".
            error: Some(serde_json::json!({
                "code": 0,
                "message": obj.remove("message").unwrap_or(Value::Null),
            })),
        },
        _ => Payload {
            params: None,
            result: Some(obj.remove("body").unwrap_or(Value::Null)),
            error: None,
        },
    })
}
