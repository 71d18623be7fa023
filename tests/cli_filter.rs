//! `rpctap cat --filter` and `rpctap stats --filter` through the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn rpctap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rpctap"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run rpctap")
}

fn lsp() -> String {
    fixture("lsp.jsonl").to_string_lossy().into_owned()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}, stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

/// The `seq` column of `cat`'s pretty lines (the exit line has none).
fn pretty_seqs(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn cat_pretty_filters_by_method_including_responses() {
    let o = rpctap(&["cat", &lsp(), "--filter", "method:textDocument/completion"]);
    let out = stdout(&o);
    assert_eq!(pretty_seqs(&out), vec![9, 12, 15, 17]);
    assert!(out.contains("server exited with code 0"), "{out}");
}

#[test]
fn cat_jsonl_output_is_still_a_recording() {
    let o = rpctap(&["cat", &lsp(), "--format", "jsonl", "--filter", "kind:error"]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].contains(r#""type":"session""#));
    assert!(lines[1].starts_with(r#"{"seq":14,"#));
    assert!(lines[2].starts_with(r#"{"seq":17,"#));
    assert!(lines[3].contains(r#""type":"exit""#));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("errors.jsonl");
    std::fs::write(&path, &out).unwrap();
    let store = rpctap::session::load(&path).unwrap();
    assert_eq!(store.len(), 2);
}

#[test]
fn cat_json_filters_each_file() {
    let mcp = fixture("mcp.jsonl").to_string_lossy().into_owned();
    let o = rpctap(&[
        "cat",
        &lsp(),
        &mcp,
        "--format",
        "json",
        "--filter",
        "kind:error",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let seqs: Vec<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![14, 17, 13]);
}

#[test]
fn cat_json_tells_string_ids_from_numbers() {
    let o = rpctap(&["cat", &lsp(), "--format", "json", "--filter", r#"id:"1""#]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let methods: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, vec!["workspace/symbol", "workspace/symbol"]);
}

#[test]
fn an_empty_filter_keeps_everything() {
    let all = stdout(&rpctap(&["cat", &lsp()]));
    let filtered = stdout(&rpctap(&["cat", &lsp(), "--filter", ""]));
    assert_eq!(all, filtered);
}

#[test]
fn a_bad_filter_is_one_line_and_exit_code_2() {
    let o = rpctap(&["cat", &lsp(), "--filter", ".error.code =="]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "rpctap: bad filter: expected a value after '==' (a number, \"string\", true, false or null) at column 15\n"
    );
    // The expression is checked before any file is read.
    let o = rpctap(&["cat", "/no/such/file", "--filter", "("]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("rpctap: bad filter: "));
}

#[test]
fn filter_conflicts_with_wire() {
    let o = rpctap(&["cat", &lsp(), "--wire", "c2s", "--filter", "kind:request"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be used with"));
}

#[test]
fn stats_counts_only_filtered_rows() {
    let out = stdout(&rpctap(&["stats", &lsp(), "--filter", "dir:c2s"]));
    assert!(
        out.starts_with("filter \"dir:c2s\": 11 of 21 rows\n11 messages,"),
        "{out}"
    );
    assert!(out.contains("textDocument/completion"), "{out}");
    assert!(!out.contains("window/workDoneProgress/create"), "{out}");

    let out = stdout(&rpctap(&["stats", &lsp(), "--filter", "status:pending"]));
    assert!(out.contains("1 pending request(s)"), "{out}");
    assert!(!out.contains("cancelled request(s)"), "{out}");
}

#[test]
fn stats_bad_filter() {
    let o = rpctap(&["stats", &lsp(), "--filter", "kind:reqest"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("rpctap: bad filter: unknown kind 'reqest'"),
        "{err}"
    );
    assert!(err.ends_with(" at column 6\n"), "{err}");
}
