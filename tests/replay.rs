//! `replay` and `mock` through the binary, against the built-in demo server and client
//! (real processes): matches, diffs, missing responses, server requests with rewritten
//! ids, pacing, mock answers, unmatched policy, and bad recordings.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Records the scripted demo session through the shim.
fn record_demo(dir: &Path) -> PathBuf {
    let rec = dir.join("demo.jsonl");
    let out = rpctap(dir)
        .args(["demo-client", "--", BIN, "--record"])
        .arg(&rec)
        .args(["--", BIN, "demo-server"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo session failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The recording pairs every request with its answer, in causal order.
    let stats = rpctap(dir).arg("stats").arg(&rec).output().unwrap();
    let stats = String::from_utf8(stats.stdout).unwrap();
    assert!(!stats.contains("pending"), "{stats}");
    assert!(stats.contains("1 cancelled request(s)"), "{stats}");
    rec
}

fn replay(dir: &Path, rec: &Path, opts: &[&str], server: &[&str]) -> (i32, String) {
    let out = rpctap(dir)
        .arg("replay")
        .arg(rec)
        .args(opts)
        .args(["--", BIN, "demo-server"])
        .args(server)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn replay_into_the_same_server_matches_everything() {
    let dir = temp();
    let rec = record_demo(dir.path());
    let (code, out) = replay(dir.path(), &rec, &["--check"], &[]);
    assert_eq!(code, 0, "{out}");
    let first = out.lines().next().unwrap();
    assert!(
        first.ends_with("matched, 0 differing, 0 missing, 0 extra"),
        "{out}"
    );
    assert!(
        out.contains("2 server requests answered from the recording, 0 without"),
        "{out}"
    );
    let (code, json) = replay(dir.path(), &rec, &["--report", "json"], &[]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["clean"], true);
    assert!(v["matched"].as_u64().unwrap() >= 15, "{json}");
    assert_eq!(v["matched"], v["compared"]);
}

#[test]
fn a_changed_result_and_a_dropped_response_are_reported() {
    let dir = temp();
    let rec = record_demo(dir.path());
    let (code, out) = replay(
        dir.path(),
        &rec,
        &["--check", "--timeout", "1"],
        &["--alter", "hover", "--drop", "definition"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("differing: textDocument/hover"), "{out}");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("~ .result")),
        "a diff line: {out}"
    );
    assert!(out.contains("missing: textDocument/definition"), "{out}");
    // Without --check the report is the same, and the exit code 0.
    let (code, _) = replay(dir.path(), &rec, &["--timeout", "1"], &["--alter", "hover"]);
    assert_eq!(code, 0);
    // --only compares just what the filter selects.
    let (code, out) = replay(
        dir.path(),
        &rec,
        &["--check", "--only", "method:textDocument/completion"],
        &["--alter", "hover"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("2 responses compared: 2 matched"), "{out}");
    let (code, _) = replay(dir.path(), &rec, &["--only", "method:("], &[]);
    assert_eq!(code, 2, "a bad filter is an input error");
    // --ignore takes the altered part out of the comparison.
    let (code, out) = replay(
        dir.path(),
        &rec,
        &["--check", "--ignore", ".result"],
        &["--alter", "hover"],
    );
    assert_eq!(code, 0, "{out}");
}

/// Rewrites the ids of recorded server-to-client requests and of the client's answers.
fn rename_server_request_ids(rec: &Path, out: &Path) {
    let text = std::fs::read_to_string(rec).unwrap();
    let mut renamed = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let is_server_request =
                v["dir"] == "s2c" && v["msg"]["method"].is_string() && v["msg"]["id"].is_number();
            let is_client_answer =
                v["dir"] == "c2s" && v["msg"]["method"].is_null() && v["msg"]["id"].is_number();
            if is_server_request || is_client_answer {
                let id = v["msg"]["id"].as_i64().unwrap();
                v["msg"]["id"] = format!("recorded-{id}").into();
                renamed += 1;
            }
            v.to_string()
        })
        .collect();
    assert!(renamed >= 4, "the demo has server requests");
    std::fs::write(out, lines.join("\n") + "\n").unwrap();
}

#[test]
fn server_requests_are_answered_under_the_new_ids() {
    let dir = temp();
    let rec = record_demo(dir.path());
    let renamed = dir.path().join("renamed.jsonl");
    rename_server_request_ids(&rec, &renamed);
    let new = dir.path().join("new.jsonl");
    let (code, out) = replay(
        dir.path(),
        &renamed,
        &["--check", "--record", new.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    // In the replayed session every server request got its answer under its own id.
    let stats = rpctap(dir.path()).arg("stats").arg(&new).output().unwrap();
    let stats = String::from_utf8(stats.stdout).unwrap();
    assert!(
        stats.contains("workspace/configuration") && !stats.contains("pending"),
        "{stats}"
    );
    let wire = String::from_utf8(wire(dir.path(), &new, "c2s")).unwrap();
    assert!(
        !wire.contains("recorded-"),
        "answers went out with the recorded ids"
    );
}

#[test]
fn pace_recorded_keeps_the_recorded_gaps() {
    let dir = temp();
    let rec = dir.path().join("gaps.jsonl");
    std::fs::write(&rec, concat!(
        r#"{"rpctap":1,"type":"session","id":"g","name":"g","command":["x"],"cwd":"/","pid":1,"started":"2026-11-21T10:00:00.000000Z"}"#, "\n",
        r#"{"seq":1,"t":"2026-11-21T10:00:00.000000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","id":1,"method":"demo/echo","params":{"n":1}}}"#, "\n",
        r#"{"seq":2,"t":"2026-11-21T10:00:00.001000Z","dir":"s2c","framing":"lsp","msg":{"jsonrpc":"2.0","id":1,"result":{"n":1}}}"#, "\n",
        r#"{"seq":3,"t":"2026-11-21T10:00:01.200000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","id":2,"method":"demo/echo","params":{"n":2}}}"#, "\n",
        r#"{"seq":4,"t":"2026-11-21T10:00:01.201000Z","dir":"s2c","framing":"lsp","msg":{"jsonrpc":"2.0","id":2,"result":{"n":2}}}"#, "\n",
    )).unwrap();
    let gap = |pace: &str| {
        let new = dir.path().join(format!("paced-{pace}.jsonl"));
        let (code, out) = replay(
            dir.path(),
            &rec,
            &["--check", "--pace", pace, "--record", new.to_str().unwrap()],
            &[],
        );
        assert_eq!(code, 0, "{out}");
        let text = std::fs::read_to_string(&new).unwrap();
        let times: Vec<i64> = text
            .lines()
            .filter(|l| l.contains("\"dir\":\"c2s\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                chrono::DateTime::parse_from_rfc3339(v["t"].as_str().unwrap())
                    .unwrap()
                    .timestamp_micros()
            })
            .collect();
        times[1] - times[0]
    };
    // Lower bounds only: a loaded machine can make a replay slower, never faster.
    assert!(gap("recorded") >= 1_200_000);
    assert!(gap("2") >= 600_000);
}

#[test]
fn mock_serves_the_demo_client_from_a_recording() {
    let dir = temp();
    let rec = record_demo(dir.path());
    let out = rpctap(dir.path())
        .args(["demo-client", "--", BIN, "mock"])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo client against mock: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mock_unmatched_requests_follow_the_policy() {
    let dir = temp();
    let rec = record_demo(dir.path());
    let input = [
        lsp(r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#),
        lsp(r#"{"jsonrpc":"2.0","id":2,"method":"nobody/knows","params":{}}"#),
    ]
    .concat();
    for (policy, expect_error) in [("error", true), ("ignore", false)] {
        let mut cmd = rpctap(dir.path());
        cmd.args(["mock", "--unmatched", policy]).arg(&rec);
        let out = run_with_input(cmd, input.clone(), 1 << 16);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("\"id\":1,") || text.contains("\"id\":1}"),
            "hover answered under id 1: {text}"
        );
        assert_eq!(
            text.contains("no nobody/knows request"),
            expect_error,
            "{policy}: {text}"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("nobody/knows"));
    }
}

#[test]
fn bad_recordings_are_clear_errors() {
    let dir = temp();
    let only_server = dir.path().join("server-only.jsonl");
    std::fs::write(&only_server, concat!(
        r#"{"rpctap":1,"type":"session","id":"g","name":"g","command":["x"],"cwd":"/","pid":1,"started":"2026-11-21T10:00:00.000000Z"}"#, "\n",
        r#"{"seq":1,"t":"2026-11-21T10:00:00.000000Z","dir":"s2c","framing":"lsp","msg":{"jsonrpc":"2.0","method":"x"}}"#, "\n",
    )).unwrap();
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello world\n").unwrap();
    for (file, want) in [
        (&only_server, "no client-to-server messages"),
        (&junk, "unknown format (expected an rpctap recording"),
    ] {
        let out = rpctap(dir.path())
            .arg("replay")
            .arg(file)
            .args(["--", BIN, "demo-server"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("rpctap: ") && err.contains(want) && err.lines().count() == 1,
            "{err}"
        );
    }
    let out = rpctap(dir.path())
        .arg("mock")
        .arg(&only_server)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no server responses"));
}

#[test]
fn mock_reports_an_unmatched_request_as_it_happens() {
    use std::io::{BufRead, Write};
    let dir = temp();
    let rec = record_demo(dir.path());
    let mut mock = rpctap(dir.path())
        .arg("mock")
        .arg(&rec)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = mock.stdin.take().unwrap();
    let stderr = std::io::BufReader::new(mock.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    stdin
        .write_all(&lsp(
            r#"{"jsonrpc":"2.0","id":7,"method":"nobody/knows","params":{}}"#,
        ))
        .unwrap();
    // Still running, input still open: the line is already there.
    let line = rx
        .recv_timeout(HANG)
        .expect("a line on stderr while mock runs");
    assert!(
        line.contains("nobody/knows") && line.contains("#7"),
        "{line}"
    );
    drop(stdin);
    let status = wait_bounded(&mut mock, HANG);
    assert!(status.success());
    let summary: Vec<String> = rx.iter().collect();
    assert!(
        summary
            .iter()
            .any(|l| l.contains("1 request(s) had no recorded match: nobody/knows")),
        "{summary:?}"
    );
}
