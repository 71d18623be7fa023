//! The demo server and client as real processes: `rpctap demo-client` driving
//! `rpctap demo-server`, and the server's switches checked by writing frames to its stdin
//! and decoding its stdout with the crate's own decoder.
//!
//! Every wait is bounded by `HANG_GUARD`, only there to turn a hang into a failure.

use bytes::BytesMut;
use rpctap::rpc::{classify, Kind};
use rpctap::wire::{Decoder, Frame, FrameKind, Limits};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rpctap");
const HANG_GUARD: Duration = Duration::from_secs(30);

fn wait_guarded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `rpctap ARGS` with `input` on its stdin.
fn run(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The server may exit (on `exit`) before reading everything: ignore EPIPE.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let status = wait_guarded(&mut child);
    writer.join().unwrap();
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn demo_client(client_args: &[&str], server_args: &[&str]) -> Output {
    let mut args = vec!["demo-client"];
    args.extend(client_args);
    args.extend(["--", BIN, "demo-server"]);
    args.extend(server_args);
    run(&args, Vec::new())
}

fn lsp(msgs: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        let body = m.to_string();
        out.extend(format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes());
    }
    out
}

fn ndjson(msgs: &[Value]) -> Vec<u8> {
    msgs.iter()
        .flat_map(|m| format!("{m}\n").into_bytes())
        .collect()
}

/// All frames of a finished stream, and whether it ended mid-frame.
fn frames(bytes: &[u8]) -> (Vec<Frame>, bool) {
    let mut decoder = Decoder::new(None, Limits::default());
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = decoder.decode(&mut buf) {
        out.push(f);
    }
    let (rest, error) = decoder.finish(&mut buf);
    out.extend(rest);
    (out, error.is_some())
}

fn messages(bytes: &[u8]) -> Vec<Value> {
    frames(bytes)
        .0
        .iter()
        .filter(|f| f.kind == FrameKind::Message)
        .map(|f| serde_json::from_slice(&f.body).unwrap())
        .collect()
}

fn answer(msgs: &[Value], id: i64) -> Option<&Value> {
    msgs.iter()
        .find(|m| m["id"] == id && m.get("method").is_none())
}

fn request(id: i64, method: &str, params: Value) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
    m["params"] = params;
    m
}

fn notify(method: &str, params: Value) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "method": method});
    m["params"] = params;
    m
}

const URI: &str = "file:///t/main.rs";
const TEXT: &str = "fn main() {\n    let x = Some(1).unwrap();\n}\n";

/// initialize, didOpen, a hover on `main` (id 2), `middle` (ids from 3), shutdown, exit.
fn session(middle: &[Value]) -> Vec<Value> {
    let mut msgs = vec![
        request(1, "initialize", json!({"capabilities": {}})),
        notify("initialized", json!({})),
        notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": URI, "languageId": "rust", "version": 1, "text": TEXT}}),
        ),
        request(
            2,
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 4}}),
        ),
    ];
    msgs.extend_from_slice(middle);
    msgs.push(request(99, "shutdown", Value::Null));
    msgs.push(notify("exit", Value::Null));
    msgs
}

#[test]
fn demo_client_drives_demo_server() {
    let out = demo_client(&[], &[]);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert!(out.stdout.is_empty(), "the client writes nothing on stdout");
}

#[test]
fn demo_client_in_ndjson() {
    let out = demo_client(&["--framing", "ndjson"], &["--stdout-logs"]);
    assert!(out.status.success(), "{}", out.stderr);
}

#[test]
fn exit_code_propagates() {
    let out = run(&["demo-server", "--exit-code", "3"], lsp(&session(&[])));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        answer(&messages(&out.stdout), 99).unwrap()["result"],
        Value::Null
    );

    let out = demo_client(&["--expect-exit", "3"], &["--exit-code", "3"]);
    assert!(out.status.success(), "{}", out.stderr);
    let out = demo_client(&[], &["--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        "rpctap: demo-client: the server exited with status 3, expected 0\n"
    );
}

#[test]
fn a_crashing_server_fails_the_client_cleanly() {
    let out = demo_client(&[], &["--crash-after", "4"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("rpctap: demo-client: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("cut off mid-frame"), "{}", out.stderr);
    assert!(out.stderr.contains("status 70"), "{}", out.stderr);

    // Four messages in: the hover (id 2) is answered with half a frame.
    let out = run(&["demo-server", "--crash-after", "4"], lsp(&session(&[])));
    assert_eq!(out.status.code(), Some(70));
    let (frames, cut_short) = frames(&out.stdout);
    assert!(cut_short, "the stream ends mid-frame");
    // The partial frame, header and half a body, is left over as noise.
    let last = frames.last().unwrap();
    assert_eq!(last.kind, FrameKind::Noise);
    assert!(last.body.starts_with(b"Content-Length: "));
    assert_eq!(answer(&messages(&out.stdout), 2), None);
}

#[test]
fn stdout_logs_are_noise_between_frames() {
    for (framing, input) in [
        ("lsp", lsp(&session(&[]))),
        ("ndjson", ndjson(&session(&[]))),
    ] {
        let out = run(&["demo-server", "--stdout-logs"], input);
        assert!(out.status.success(), "{framing}: {}", out.stderr);
        let (frames, cut_short) = frames(&out.stdout);
        assert!(!cut_short);
        let noise: Vec<_> = frames
            .iter()
            .filter(|f| f.kind == FrameKind::Noise)
            .collect();
        let msgs: Vec<_> = frames
            .iter()
            .filter(|f| f.kind == FrameKind::Message)
            .collect();
        assert!(
            noise.len() > msgs.len(),
            "{framing}: a banner and a line per frame"
        );
        for n in noise {
            let text = std::str::from_utf8(&n.body).unwrap();
            assert!(
                text.starts_with("demo-server log: ") && text.ends_with('\n'),
                "{text:?}"
            );
        }
        for m in &msgs {
            assert_ne!(classify(&m.body).kind, Kind::Invalid, "{framing}");
        }
        assert!(answer(&messages(&out.stdout), 2).unwrap()["result"].is_object());
    }
}

#[test]
fn answers_in_the_client_framing_unless_forced() {
    let out = run(&["demo-server"], ndjson(&session(&[])));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("Content-Length"));
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }

    let out = run(&["demo-server"], lsp(&session(&[])));
    assert!(out.stdout.starts_with(b"Content-Length: "));

    let out = run(&["demo-server", "--framing", "ndjson"], lsp(&session(&[])));
    assert!(out.stdout.starts_with(b"{"));
    assert_eq!(
        answer(&messages(&out.stdout), 99).unwrap()["result"],
        Value::Null
    );
}

#[test]
fn alter_changes_only_the_named_method() {
    let plain = messages(&run(&["demo-server"], lsp(&session(&[]))).stdout);
    let altered = messages(&run(&["demo-server", "--alter", "hover"], lsp(&session(&[]))).stdout);
    assert_eq!(
        answer(&plain, 1),
        answer(&altered, 1),
        "initialize is unchanged"
    );
    let (p, a) = (
        &answer(&plain, 2).unwrap()["result"],
        &answer(&altered, 2).unwrap()["result"],
    );
    assert_ne!(p, a);
    assert_eq!(p["range"], a["range"], "subtly: only the text differs");
}

#[test]
fn drop_leaves_requests_unanswered() {
    let middle = [request(3, "demo/echo", json!({"a": 1}))];
    let out = run(&["demo-server", "--drop", "hover"], lsp(&session(&middle)));
    assert!(out.status.success());
    let msgs = messages(&out.stdout);
    assert!(answer(&msgs, 1).is_some());
    assert_eq!(answer(&msgs, 2), None, "the hover is never answered");
    assert_eq!(answer(&msgs, 3).unwrap()["result"], json!({"a": 1}));

    let out = demo_client(&["--timeout", "1"], &["--drop", "textDocument/hover"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr
            .contains("no answer to textDocument/hover (id 2)"),
        "{}",
        out.stderr
    );
}

#[test]
fn errors_echo_and_chatter() {
    let middle = [
        request(3, "no/such", json!({})),
        request(4, "demo/fail", json!({"code": -32099})),
        request(5, "demo/echo", json!([1, "two"])),
    ];
    // Broken JSON right before shutdown and exit.
    let msgs = session(&middle);
    let (body, end) = msgs.split_at(msgs.len() - 2);
    let mut input = lsp(body);
    input.extend_from_slice(b"Content-Length: 5\r\n\r\n{oops");
    input.extend_from_slice(b"Content-Length: 4\r\n\r\nnull");
    input.extend(lsp(end));
    let out = run(&["demo-server", "--stderr-chatter"], input);
    let msgs = messages(&out.stdout);
    assert_eq!(answer(&msgs, 3).unwrap()["error"]["code"], -32601);
    assert_eq!(answer(&msgs, 4).unwrap()["error"]["code"], -32099);
    assert_eq!(answer(&msgs, 5).unwrap()["result"], json!([1, "two"]));
    let codes: Vec<_> = msgs
        .iter()
        .filter(|m| m["id"].is_null() && m.get("error").is_some())
        .map(|m| m["error"]["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [-32700, -32600], "parse error, then invalid request");
    assert!(out
        .stderr
        .contains("rpctap-demo-server: <- request initialize id=1\n"));
    // After `initialized`, the server asks the client things and diagnoses the file.
    let methods: Vec<_> = msgs.iter().filter_map(|m| m["method"].as_str()).collect();
    for m in [
        "workspace/configuration",
        "window/workDoneProgress/create",
        "window/logMessage",
        "textDocument/publishDiagnostics",
    ] {
        assert!(methods.contains(&m), "{m} in {methods:?}");
    }
}

/// A server kept running while the test talks to it.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
}

impl Live {
    fn spawn(args: &[&str]) -> Live {
        let mut child = Command::new(BIN)
            .arg("demo-server")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut decoder = Decoder::new(None, Limits::default());
            let mut buf = BytesMut::new();
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                buf.extend_from_slice(&chunk[..n]);
                while let Some(f) = decoder.decode(&mut buf) {
                    if f.kind == FrameKind::Message {
                        let _ = tx.send(serde_json::from_slice(&f.body).unwrap());
                    }
                }
            }
        });
        Live { child, stdin, rx }
    }

    fn send(&mut self, msg: Value) {
        self.stdin
            .as_mut()
            .unwrap()
            .write_all(&lsp(&[msg]))
            .unwrap();
    }

    /// The next answer from the server, skipping its requests and notifications.
    fn next_answer(&self) -> Value {
        loop {
            let m = self.rx.recv_timeout(HANG_GUARD).expect("an answer in time");
            if m.get("method").is_none() {
                return m;
            }
        }
    }

    fn finish(mut self) -> ExitStatus {
        self.stdin = None;
        wait_guarded(&mut self.child)
    }
}

#[test]
fn slow_requests_do_not_block_others_and_can_be_cancelled() {
    let mut server = Live::spawn(&["--slow-ms", "600000"]);
    server.send(request(1, "demo/slow", json!({"ms": 600_000})));
    server.send(request(
        2,
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
    ));
    server.send(request(3, "demo/echo", json!("fast")));
    assert_eq!(server.next_answer()["id"], 3, "answered while 1 and 2 wait");
    server.send(notify("$/cancelRequest", json!({"id": 2})));
    let cancelled = server.next_answer();
    assert_eq!(
        (&cancelled["id"], &cancelled["error"]["code"]),
        (&json!(2), &json!(-32800))
    );
    server.send(notify("$/cancelRequest", json!({"id": 1})));
    let cancelled = server.next_answer();
    assert_eq!(
        (&cancelled["id"], &cancelled["error"]["code"]),
        (&json!(1), &json!(-32800))
    );
    assert!(server.finish().success());
}

#[test]
fn echo_mode_answers_params_and_nothing_else() {
    let input = [
        notify("initialized", json!({})),
        request(1, "anything/at-all", json!({"k": [1, 2.5, null]})),
        json!({"jsonrpc": "2.0", "id": "s", "method": "x"}),
        notify("exit", Value::Null),
        request(2, "after/exit", json!({})),
    ];
    for (framing, bytes) in [("lsp", lsp(&input)), ("ndjson", ndjson(&input))] {
        let out = run(&["demo-server", "--echo", "--exit-code", "5"], bytes);
        assert_eq!(out.status.code(), Some(5), "{framing}");
        assert_eq!(
            messages(&out.stdout),
            [
                json!({"jsonrpc": "2.0", "id": 1, "result": {"k": [1, 2.5, null]}}),
                json!({"jsonrpc": "2.0", "id": "s", "result": null}),
            ],
            "{framing}"
        );
    }
}
