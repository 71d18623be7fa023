//! The real captures in `assets/` (pylsp driven by pygls, server-everything driven by the
//! MCP SDK, debugpy driven by a minimal IDE; see scripts/capture-samples.sh) read back
//! complete through `stats` and `cat`.

mod common;

use common::*;
use rpctap::session::{load, Stats};
use std::path::{Path, PathBuf};

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

fn run(dir: &Path, args: &[&str], file: &Path) -> String {
    let out = rpctap(dir).args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn each_sample_is_a_complete_session() {
    let dir = temp();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "pylsp-session.jsonl",
            "lsp",
            &[
                "initialize",
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/documentSymbol",
                "shutdown",
            ],
        ),
        (
            "mcp-everything-session.jsonl",
            "mcp",
            &[
                "initialize",
                "tools/list",
                "tools/call",
                "resources/list",
                "resources/read",
                "prompts/list",
            ],
        ),
        (
            "debugpy-session.jsonl",
            "dap",
            &[
                "initialize",
                "launch",
                "setBreakpoints",
                "configurationDone",
                "stackTrace",
                "continue",
            ],
        ),
    ];
    for (name, protocol, methods) in cases {
        let file = asset(name);
        let store = load(&file).unwrap();
        assert_eq!(
            store.protocol.map(rpctap::rpc::Protocol::as_str),
            Some(*protocol),
            "{name}"
        );
        let stats = Stats::compute(&store, None);
        assert!(stats.pending.is_empty(), "{name}: pending requests");
        assert_eq!(stats.invalid, 0, "{name}");
        assert_eq!(store.exit.and_then(|e| e.code), Some(0), "{name}");
        let text = run(dir.path(), &["stats"], &file);
        for m in *methods {
            assert!(
                text.contains(&format!("→ {m} ")),
                "{name}: stats lacks {m}:\n{text}"
            );
        }
        assert!(!text.contains("pending"), "{name}: {text}");
        let json: serde_json::Value =
            serde_json::from_str(&run(dir.path(), &["cat", "--format", "json"], &file)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), store.len(), "{name}");
        let pretty = run(dir.path(), &["cat", "--color", "never"], &file);
        assert!(pretty.contains("server exited with code 0"), "{name}");
    }
}

#[test]
fn the_lsp_sample_rebuilds_its_wire_bytes() {
    let dir = temp();
    let file = asset("pylsp-session.jsonl");
    let c2s = wire(dir.path(), &file, "c2s");
    let s2c = wire(dir.path(), &file, "s2c");
    // pygls and pylsp both send a Content-Type header, kept as recorded.
    assert!(c2s.starts_with(b"Content-Length: "));
    assert!(s2c.windows(13).any(|w| w == b"Content-Type:"));
    let store = load(&file).unwrap();
    let bodies: usize = (0..store.len())
        .filter(|&i| store.row(i).kind != rpctap::rpc::Kind::Stderr)
        .map(|i| store.body(i).len())
        .sum();
    assert!(c2s.len() + s2c.len() > bodies);
}
