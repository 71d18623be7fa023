//! The built-in demo: a small LSP-like server (`rpctap demo-server`) and a scripted client
//! (`rpctap demo-client`, and `client::drive` for callers in the library) that talk a
//! realistic session over stdio.
//!
//! They exist so a new user can watch real traffic (`rpctap demo`), and so tests, replay and
//! benchmarks have a real child process with controllable misbehaviour (slow answers,
//! crashes, noise on stdout, altered or dropped answers).
//!
//! Not responsible for: proxying or recording (the demo only ever speaks the protocol).

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

#[cfg(test)]
mod tests {
    use super::names_method;

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
