//! OpenTelemetry export into a real backend: Arize Phoenix (`phoenix serve`, installed by
//! scripts/interop-setup.sh into `.cache/interop/phoenix`), started here on a free
//! loopback port with its data in a temporary directory. The live shim (a recorded MCP
//! session served by `rpctap mock`, plus one request the recording lacks) and `rpctap
//! export` (a recorded pylsp session) send spans; the test reads them back through
//! Phoenix's REST API (`/v1/projects/default/spans`) and checks names, attributes,
//! durations and statuses.
//!
//! Skips without the install, unless `RPCTAP_INTEROP=require` (CI), when it fails.

mod common;

use common::*;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Phoenix takes tens of seconds to start on a busy machine; a hang guard, not a measure.
const START_LIMIT: Duration = Duration::from_secs(240);
/// Ingestion is asynchronous: spans appear shortly after they are accepted.
const INGEST_LIMIT: Duration = Duration::from_secs(60);

fn phoenix_bin() -> Option<PathBuf> {
    let root = std::env::var_os("RPCTAP_INTEROP_CACHE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/interop"),
        PathBuf::from,
    );
    let bin = root.join("phoenix/bin/phoenix");
    if root.join("ready").is_file() && bin.is_file() {
        return Some(bin);
    }
    let why = format!(
        "{} has no Phoenix install; run scripts/interop-setup.sh",
        root.display()
    );
    assert!(
        std::env::var("RPCTAP_INTEROP").as_deref() != Ok("require"),
        "RPCTAP_INTEROP=require but {why}"
    );
    let _ = writeln!(std::io::stderr(), "phoenix test SKIPPED: {why}");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `phoenix serve`, stopped (its whole process group) when dropped.
struct Phoenix {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

fn start(bin: &Path) -> Phoenix {
    use std::os::unix::process::CommandExt;
    let dir = temp();
    let port = free_port();
    let child = Command::new(bin)
        .arg("serve")
        .current_dir(dir.path())
        .env("PHOENIX_HOST", "127.0.0.1")
        .env("PHOENIX_PORT", port.to_string())
        .env("PHOENIX_GRPC_PORT", free_port().to_string())
        .env("PHOENIX_WORKING_DIR", dir.path())
        .env("PHOENIX_TELEMETRY_ENABLED", "false")
        .env("DO_NOT_TRACK", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("phoenix.log")).unwrap())
        .process_group(0)
        .spawn()
        .expect("start phoenix serve");
    let mut p = Phoenix { child, port, dir };
    let started = Instant::now();
    while get(port, "/healthz").is_none() {
        if let Ok(Some(status)) = p.child.try_wait() {
            let log = std::fs::read_to_string(p.dir.path().join("phoenix.log")).unwrap_or_default();
            panic!("phoenix exited ({status}) before answering:\n{log}");
        }
        assert!(
            started.elapsed() < START_LIMIT,
            "phoenix did not start within {START_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    p
}

/// A plain HTTP/1.1 GET on loopback: the body of a 200 answer.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Some(dechunk(body));
    }
    Some(body.to_owned())
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// Every span of the default project.
fn all_spans(port: u16) -> Vec<Value> {
    let mut spans = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/v1/projects/default/spans?limit=500".to_owned();
        if let Some(c) = &cursor {
            let _ = write!(path, "&cursor={c}");
        }
        let Some(body) = get(port, &path) else {
            return spans;
        };
        let page: Value = serde_json::from_str(&body).expect("Phoenix's spans as JSON");
        spans.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.replace('=', "%3D")),
            None => return spans,
        }
    }
}

/// The spans of the trace whose root is `session NAME`, once `count` of them are there.
fn trace(port: u16, name: &str, count: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let spans = all_spans(port);
        let root = spans
            .iter()
            .find(|s| s["name"] == format!("session {name}").as_str());
        if let Some(root) = root {
            let id = root["context"]["trace_id"].clone();
            let of: Vec<Value> = spans
                .iter()
                .filter(|s| s["context"]["trace_id"] == id)
                .cloned()
                .collect();
            if of.len() >= count {
                return of;
            }
        }
        assert!(
            started.elapsed() < INGEST_LIMIT,
            "Phoenix shows no complete trace for {name} within {INGEST_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// An attribute as Phoenix shows it, whether it kept the dotted key or nested it.
fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    let attrs = &span["attributes"];
    if let Some(v) = attrs.get(key) {
        return v;
    }
    key.split('.').fold(attrs, |v, k| &v[k])
}

fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans.iter().find(|s| s["name"] == name).unwrap_or_else(|| {
        panic!(
            "no span {name:?} in {:?}",
            spans.iter().map(|s| &s["name"]).collect::<Vec<_>>()
        )
    })
}

fn micros(span: &Value) -> i64 {
    let t = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(span[k].as_str().unwrap())
            .unwrap()
            .timestamp_micros()
    };
    t("end_time") - t("start_time")
}

#[test]
fn phoenix_shows_the_live_shims_and_the_exported_spans() {
    let Some(bin) = phoenix_bin() else { return };
    let phoenix = start(&bin);
    let url = format!("http://127.0.0.1:{}", phoenix.port);
    let home = temp();
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");

    // Live: a recorded MCP client against `rpctap mock` of the same recording, through
    // the shim, plus one request the recording has no answer for.
    let mcp = assets.join("mcp-everything-session.jsonl");
    let mut input = wire(home.path(), &mcp, "c2s");
    input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"tools/nothing\"}\n");
    let mut cmd = rpctap(home.path());
    cmd.args([
        "--otlp",
        &url,
        "--no-live",
        "--name",
        "phoenix-mcp",
        "--record",
    ])
    .arg(path(&home, "live.jsonl"))
    .args(["--", BIN, "mock"])
    .arg(&mcp);
    let out = run_with_input(cmd, input, 4096);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // From a file: a recorded pylsp session, with its original times.
    let pylsp = assets.join("pylsp-session.jsonl");
    let out = rpctap(home.path())
        .args(["export", "--otlp", &url, "--name", "phoenix-pylsp-export"])
        .arg(&pylsp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Exported spans name their session `session pylsp`: the recording's name.

    let live_store = rpctap::session::load(&path(&home, "live.jsonl")).unwrap();
    let requests = (0..live_store.len())
        .filter(|&i| live_store.row(i).kind == rpctap::rpc::Kind::Request)
        .count();
    let live = trace(phoenix.port, "phoenix-mcp", requests + 1);
    let echo = named(&live, "tools/call echo");
    assert_eq!(attr(echo, "rpc.system.name"), "jsonrpc");
    assert_eq!(attr(echo, "rpc.method"), "tools/call");
    assert_eq!(attr(echo, "mcp.method.name"), "tools/call");
    assert_eq!(attr(echo, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(attr(echo, "gen_ai.tool.name"), "echo");
    assert_eq!(attr(echo, "network.transport"), "pipe");
    assert_eq!(attr(echo, "jsonrpc.protocol.version"), "2.0");
    assert!(attr(echo, "mcp.protocol.version")
        .as_str()
        .is_some_and(|v| v.starts_with("20")));
    assert!(attr(echo, "mcp.session.id").is_string());
    assert!(attr(echo, "jsonrpc.request.id").is_string());
    assert_ne!(echo["status_code"], "ERROR");
    assert!(attr(named(&live, "resources/read"), "mcp.resource.uri").is_string());
    let missing = named(&live, "tools/nothing");
    assert_eq!(missing["status_code"], "ERROR");
    assert_eq!(attr(missing, "rpc.response.status_code"), "-32601");
    assert_eq!(attr(missing, "error.type"), "-32601");
    assert_eq!(attr(missing, "jsonrpc.request.id"), "99");
    // Durations are the latencies the recording shows.
    let tools_call = (0..live_store.len())
        .find(|&i| {
            live_store.row(i).kind == rpctap::rpc::Kind::Request
                && live_store.method(i) == Some("tools/call")
                && String::from_utf8_lossy(live_store.body(i)).contains("\"echo\"")
        })
        .unwrap();
    assert_eq!(micros(echo), live_store.latency(tools_call).unwrap());

    let exported_store = rpctap::session::load(&pylsp).unwrap();
    let requests = (0..exported_store.len())
        .filter(|&i| exported_store.row(i).kind == rpctap::rpc::Kind::Request)
        .count();
    let exported = trace(phoenix.port, "pylsp", requests + 1);
    let hover = named(&exported, "textDocument/hover");
    assert_eq!(attr(hover, "rpc.method"), "textDocument/hover");
    assert_eq!(attr(hover, "rpc.system.name"), "jsonrpc");
    assert_eq!(hover["status_code"], "UNSET");
    let row = (0..exported_store.len())
        .find(|&i| exported_store.method(i) == Some("textDocument/hover"))
        .unwrap();
    assert_eq!(micros(hover), exported_store.latency(row).unwrap());
    let start = chrono::DateTime::parse_from_rfc3339(hover["start_time"].as_str().unwrap())
        .unwrap()
        .timestamp_micros();
    assert_eq!(start, exported_store.row(row).t.0, "the original timestamp");
}
