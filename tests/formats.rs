//! Other tools' formats, read through the same door as recordings: each fixture in
//! `tests/fixtures/formats/` (written from the format's description, or captured with
//! the real tool) loads with the right messages, directions and pairs; malformed files
//! fail with one line naming the line at fault; unknown files say what was expected.

mod common;

use common::*;
use rpctap::record::{open, Dir, Event, Format};
use rpctap::rpc::Kind;
use rpctap::session::{load, Stats, Status, Store};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

/// (direction, kind, method) of every row, for compact comparisons.
fn rows(store: &Store) -> Vec<(Dir, Kind, String)> {
    (0..store.len())
        .map(|i| {
            let r = store.row(i);
            (r.dir, r.kind, store.method(i).unwrap_or("").to_owned())
        })
        .collect()
}

fn body(store: &Store, i: usize) -> serde_json::Value {
    serde_json::from_slice(store.body(i)).expect("a JSON body")
}

fn format_of(path: &Path) -> Format {
    open(path).map(|(f, _)| f).expect("opens")
}

#[test]
fn vscode_text_trace_rebuilds_every_message() {
    use Dir::*;
    use Kind::*;
    let path = fixture("vscode-text.log");
    assert_eq!(format_of(&path), Format::VscodeText);
    let store = load(&path).unwrap();
    let want = [
        (C2s, Request, "initialize"),
        (S2c, Response, "initialize"),
        (C2s, Notification, "initialized"),
        (S2c, Request, "workspace/configuration"),
        (C2s, Response, "workspace/configuration"),
        (C2s, Notification, "textDocument/didOpen"),
        (S2c, Notification, "textDocument/publishDiagnostics"),
        (C2s, Request, "textDocument/hover"),
        (S2c, Error, "textDocument/hover"),
        (C2s, Request, "textDocument/definition"),
        (S2c, Error, "textDocument/definition"),
        (C2s, Request, "shutdown"),
        (S2c, Response, "shutdown"),
        (C2s, Notification, "exit"),
    ];
    let got = rows(&store);
    let got: Vec<_> = got.iter().map(|(d, k, m)| (*d, *k, m.as_str())).collect();
    assert_eq!(got, want);
    // Params and results come back whole; latency comes from "in 312ms".
    assert_eq!(body(&store, 0)["params"]["processId"], 4242);
    assert_eq!(body(&store, 1)["result"]["serverInfo"]["name"], "demo-ls");
    assert_eq!(store.latency(1), Some(312_000));
    assert_eq!(store.latency(4), Some(3_000));
    assert_eq!(
        body(&store, 8)["error"],
        serde_json::json!({"code": -32603, "message": "Internal error: no (such) symbol"})
    );
    assert_eq!(
        body(&store, 10)["error"],
        serde_json::json!({"code": -32800, "message": "Request cancelled", "data": {"retry": false}})
    );
    assert_eq!(body(&store, 12)["result"], serde_json::Value::Null);
    assert!(body(&store, 13).get("params").is_none());
    // The session crosses midnight: time still moves forward.
    let times: Vec<i64> = store.rows().iter().map(|r| r.t.0).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(Stats::compute(&store, None).pending.is_empty());
}

#[test]
fn vscode_json_trace_with_and_without_channel_prefixes() {
    use Dir::*;
    for name in ["vscode-json.log", "vscode-json-bare.jsonl"] {
        let path = fixture(name);
        assert_eq!(format_of(&path), Format::VscodeJson, "{name}");
        let store = load(&path).unwrap();
        let dirs: Vec<Dir> = store.rows().iter().map(|r| r.dir).collect();
        assert_eq!(dirs, [C2s, S2c, C2s, S2c, C2s, S2c, C2s, S2c], "{name}");
        assert_eq!(store.latency(1), Some(312_000), "{name}");
        assert_eq!(store.status(6), Status::Error, "{name}");
        assert_eq!(store.status(3), Status::Ok, "{name}: string ids pair");
        // The message is kept exactly as logged.
        let text = std::fs::read_to_string(&path).unwrap();
        let first = std::str::from_utf8(store.body(0)).unwrap();
        assert!(
            first.starts_with(r#"{"jsonrpc""#) && text.contains(first),
            "{name}"
        );
    }
}

#[test]
fn lsp_devtools_bare_bodies_get_inferred_directions() {
    use Dir::*;
    let path = fixture("lsp-devtools.jsonl");
    assert_eq!(format_of(&path), Format::LspDevtoolsJsonl);
    let store = load(&path).unwrap();
    let dirs: Vec<Dir> = store.rows().iter().map(|r| r.dir).collect();
    assert_eq!(dirs, [C2s, S2c, C2s, S2c, C2s, S2c, C2s, S2c, C2s]);
    assert!(Stats::compute(&store, None).pending.is_empty());
    // Bodies are kept byte for byte (Python's spacing included).
    assert!(store.body(0).starts_with(br#"{"id": 1, "params""#));
}

#[test]
fn lsp_devtools_lines_with_source_and_time() {
    let store = load(&fixture("lsp-devtools-wrapped.jsonl")).unwrap();
    let dirs: Vec<Dir> = store.rows().iter().map(|r| r.dir).collect();
    assert_eq!(dirs, [Dir::C2s, Dir::S2c, Dir::C2s, Dir::S2c]);
    assert_eq!(store.latency(0), Some(150_000));
}

/// A copy in a temporary folder: `SQLite` may write beside a database it opens.
fn copy_to_temp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    let to = path(dir, name);
    std::fs::copy(fixture(name), &to).unwrap();
    to
}

#[test]
fn lsp_devtools_sqlite_captured_with_the_real_tool() {
    let dir = temp();
    let db = copy_to_temp(&dir, "lsp-devtools-0.4.sqlite");
    assert_eq!(format_of(&db), Format::LspDevtoolsSqlite);
    let store = load(&db).unwrap();
    assert_eq!(store.len(), 14);
    let stats = Stats::compute(&store, None);
    assert!(stats.pending.is_empty());
    let methods: Vec<_> = (0..store.len()).filter_map(|i| store.method(i)).collect();
    for m in ["initialize", "textDocument/hover", "shutdown", "exit"] {
        assert!(methods.contains(&m), "{m}");
    }
    assert_eq!(store.row(1).dir, Dir::S2c);
    assert!(store.latency(1).unwrap() > 0);
}

#[test]
fn lsp_devtools_sqlite_in_the_older_protocol_schema() {
    let dir = temp();
    let db = path(&dir, "old.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE protocol (session TEXT, timestamp REAL, source TEXT, id TEXT NULL,
           method TEXT NULL, params TEXT NULL, result TEXT NULL, error TEXT NULL);
         INSERT INTO protocol VALUES
           ('s', 1700000000.0, 'client', 1, 'initialize', '{\"capabilities\": {}}', NULL, NULL),
           ('s', 1700000000.25, 'server', 1, NULL, NULL, '{\"capabilities\": {}}', NULL),
           ('s', 1700000001.0, 'client', NULL, 'initialized', '{}', NULL, NULL),
           ('s', 1700000002.0, 'client', 2, 'shutdown', NULL, NULL, NULL),
           ('s', 1700000002.5, 'server', 2, NULL, NULL, NULL, NULL),
           ('s', 1700000003.0, 'client', 'x', 'textDocument/hover', '{}', NULL, NULL),
           ('s', 1700000003.1, 'server', 'x', NULL, NULL, NULL,
              '{\"code\": -32601, \"message\": \"nope\"}');",
    )
    .unwrap();
    drop(conn);
    let store = load(&db).unwrap();
    assert_eq!(store.len(), 7);
    assert_eq!(store.latency(1), Some(250_000));
    assert_eq!(
        body(&store, 3),
        serde_json::json!({"jsonrpc":"2.0","id":2,"method":"shutdown"})
    );
    assert_eq!(body(&store, 4)["result"], serde_json::Value::Null);
    assert_eq!(store.status(5), Status::Error);
    assert_eq!(store.id(5).map(|i| i.to_string()), Some("\"x\"".into()));
}

#[test]
fn mcpsnoop_envelopes_keep_command_stderr_and_non_json_lines() {
    use Kind::*;
    let path = fixture("mcpsnoop.jsonl");
    assert_eq!(format_of(&path), Format::Mcpsnoop);
    let (_, events) = open(&path).unwrap();
    let events: Vec<Event> = events.collect::<Result<_, _>>().unwrap();
    let Event::Session(info) = &events[0] else {
        panic!("no session header")
    };
    assert_eq!(info.name, "everything");
    assert_eq!(info.command[0], "npx");
    assert_eq!(info.cwd, "/home/u");
    let store = load(&path).unwrap();
    let kinds: Vec<Kind> = store.rows().iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            Request,
            Stderr,
            Response,
            Notification,
            Request,
            Invalid,
            Response,
            Request
        ]
    );
    assert_eq!(store.latency(0), Some(150_000));
    let stats = Stats::compute(&store, None);
    assert_eq!(stats.pending.len(), 1, "tools/call #2 was never answered");
}

#[test]
fn malformed_files_name_the_line_at_fault() {
    let cases = [
        ("bad-vscode-text-json.log", "line 5: bad JSON"),
        (
            "bad-vscode-text-entry.log",
            "line 1: cannot read trace entry",
        ),
        ("bad-vscode-text-time.log", "line 2: bad time"),
        ("bad-vscode-json.log", "line 4: not a JSON trace entry"),
        ("bad-lsp-devtools.jsonl", "line 3: not a JSON message"),
        ("bad-mcpsnoop.jsonl", "line 4: unknown direction"),
    ];
    let dir = temp();
    for (name, want) in cases {
        for cmd in ["stats", "cat"] {
            let out = rpctap(dir.path())
                .arg(cmd)
                .arg(fixture(name))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {name}: {err}");
            assert!(err.contains(want), "{cmd} {name}: {err}");
            assert_eq!(err.lines().count(), 1, "{cmd} {name}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn an_unknown_format_says_what_was_expected() {
    let dir = temp();
    for args in [&["stats"][..], &["cat"], &["cat", "--format", "jsonl"]] {
        let out = rpctap(dir.path())
            .args(args)
            .arg(fixture("unknown.txt"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("rpctap: cannot read '")
                && err.contains("unknown.txt': unknown format (expected an rpctap recording, a VS Code LSP trace, lsp-devtools or mcpsnoop logs)"),
            "{err}"
        );
    }
}

#[test]
fn every_command_reads_every_format_without_a_flag() {
    let dir = temp();
    let db = copy_to_temp(&dir, "lsp-devtools-0.4.sqlite");
    let files = [
        fixture("vscode-text.log"),
        fixture("vscode-json.log"),
        fixture("lsp-devtools.jsonl"),
        fixture("mcpsnoop.jsonl"),
        db,
    ];
    for f in &files {
        for args in [
            &["stats"][..],
            &["cat", "--color", "never"],
            &["cat", "--format", "json"],
            &["cat", "--format", "jsonl"],
        ] {
            let out = rpctap(dir.path()).args(args).arg(f).output().unwrap();
            assert!(
                out.status.success(),
                "{args:?} {}: {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.stdout.is_empty());
        }
        // Converted to rpctap JSONL, the import reads back as the same messages.
        let out = rpctap(dir.path())
            .args(["cat", "--format", "jsonl"])
            .arg(f)
            .output()
            .unwrap();
        let converted = path(&dir, "converted.jsonl");
        std::fs::write(&converted, &out.stdout).unwrap();
        let (a, b) = (load(f).unwrap(), load(&converted).unwrap());
        assert_eq!(format_of(&converted), Format::Rpctap);
        assert_eq!(a.len(), b.len());
        for i in 0..a.len() {
            assert_eq!(a.body(i), b.body(i));
            assert_eq!(a.row(i).dir, b.row(i).dir);
        }
    }
}
