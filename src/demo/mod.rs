//! The built-in demo: a small LSP-like server (`rpctap demo-server`) and a scripted client
//! (`rpctap demo-client`, and `client::drive` for callers in the library) that talk a
//! realistic session over stdio.
//!
//! They exist so a new user can watch real traffic (`rpctap demo`), and so tests, replay and
//! benchmarks have a real child process with controllable misbehaviour (slow answers,
//! crashes, noise on stdout, altered or dropped answers).
//!
//! Not responsible for: proxying or recording (the demo only ever speaks the protocol).
//!
//! A fixture, not the product: nothing outside `demo/` but the command line (`cli`,
//! `commands/`) may name it, which `tests/boundaries.rs` checks. It stays a module of the
//! one crate rather than a workspace crate because `rpctap demo` runs it from the same
//! binary (`current_exe() demo-server`), and the product's tests and benchmarks spawn it
//! the same way; the boundary is what a crate would have bought.

pub mod client;
mod client_cmd;
mod echo;
mod io;
mod lsp;
mod script;
pub mod server;

pub use client::{drive, ClientOpts, Report};
pub use client_cmd::{run as run_client, DemoClientArgs};
pub use server::{run as run_server, DemoServerArgs};

use crate::wire::Framing;
use serde_json::{json, Value};

/// A framing the demo can write (it always reads with auto-detection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoFraming {
    /// `Content-Length` headers (LSP, DAP).
    Lsp,
    /// One JSON message per line (MCP stdio).
    Ndjson,
}

impl From<DemoFraming> for Framing {
    fn from(f: DemoFraming) -> Framing {
        match f {
            DemoFraming::Lsp => Framing::Lsp,
            DemoFraming::Ndjson => Framing::Ndjson,
        }
    }
}

/// Does `pattern` (from `--alter`/`--drop`) name `method`? Either the whole method or its
/// last path segment, so `hover` names `textDocument/hover`.
fn names_method(pattern: &str, method: &str) -> bool {
    pattern == method || method.rsplit('/').next() == Some(pattern)
}

/// A subtly different value for `--alter`: the last string gets a suffix; failing that the
/// first number grows by one; failing that the value is wrapped.
fn altered(mut v: Value) -> Value {
    fn last_string(v: &mut Value) -> bool {
        match v {
            Value::String(s) => {
                s.push_str(" (altered)");
                true
            }
            Value::Array(a) => a.iter_mut().rev().any(last_string),
            Value::Object(o) => o.values_mut().rev().any(last_string),
            _ => false,
        }
    }
    fn first_number(v: &mut Value) -> bool {
        match v {
            Value::Number(n) => {
                *n = match n.as_i64() {
                    Some(i) => (i + 1).into(),
                    None => serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0) + 1.0)
                        .unwrap_or_else(|| 0.into()),
                };
                true
            }
            Value::Array(a) => a.iter_mut().any(first_number),
            Value::Object(o) => o.values_mut().any(first_number),
            _ => false,
        }
    }
    if last_string(&mut v) || first_number(&mut v) {
        return v;
    }
    match v {
        Value::Bool(b) => Value::Bool(!b),
        other => json!({"altered": other}),
    }
}

#[cfg(test)]
mod tests {
    use super::{altered, names_method};
    use serde_json::json;

    #[test]
    fn alterations_are_small_and_deterministic() {
        let hover = json!({"contents": {"kind": "markdown", "value": "fn main()"}, "range": {"start": {"line": 0}}});
        assert_eq!(
            altered(hover),
            json!({"contents": {"kind": "markdown", "value": "fn main() (altered)"}, "range": {"start": {"line": 0}}})
        );
        assert_eq!(
            altered(json!([{"a": 1}, {"b": [2, 3.5]}])),
            json!([{"a": 2}, {"b": [2, 3.5]}])
        );
        assert_eq!(altered(json!([1.5])), json!([2.5]));
        assert_eq!(altered(json!(true)), json!(false));
        assert_eq!(altered(json!(null)), json!({"altered": null}));
        assert_eq!(altered(json!([])), json!({"altered": []}));
    }

    #[test]
    fn method_patterns() {
        assert!(names_method("hover", "textDocument/hover"));
        assert!(names_method("textDocument/hover", "textDocument/hover"));
        assert!(names_method("demo/slow", "demo/slow"));
        assert!(!names_method("slow", "demo/slowly"));
        assert!(!names_method("Document/hover", "textDocument/hover"));
    }
}

#[cfg(test)]
mod session_tests;
