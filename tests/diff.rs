//! `rpctap diff` on real captures: the interop driver's LSP steps recorded against pylsp
//! and against pyright (assets/, from scripts/capture-samples.sh), and against an MCP
//! session that shares nothing with them.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

fn diff(args: &[&str], a: &str, b: &str) -> (Option<i32>, String, String) {
    let home = temp();
    let out = rpctap(home.path())
        .arg("diff")
        .args(args)
        .arg(asset(a))
        .arg(asset(b))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn pylsp_against_pyright_shows_what_each_server_answers_differently() {
    let (code, text, err) = diff(&[], "pylsp-session.jsonl", "pyright-session.jsonl");
    assert_eq!(
        code,
        Some(0),
        "without --check a difference is not a failure: {err}"
    );
    // The same five requests in both: initialize, hover, completion, documentSymbol,
    // shutdown; only shutdown (a null result) is answered alike.
    assert!(
        text.starts_with("5 requests matched: 1 answered alike, 4 changed; 0 added, 0 removed"),
        "{text}"
    );
    for method in [
        "initialize",
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/documentSymbol",
    ] {
        assert!(
            text.contains(&format!("\nchanged: {method} #")),
            "{method}: {text}"
        );
    }
    // pylsp's hover is its docstring; pyright's is a signature with a range.
    assert!(
        text.contains("~ .result.contents.value: \"```python\\ngreet(name)"),
        "{text}"
    );
    assert!(text.contains("+ .result.range:"), "{text}");
    // Ids differ between any two sessions and are not reported as differences.
    assert!(!text.contains("~ .id:"), "{text}");
    assert!(text.contains("latency p50 (A → B):"), "{text}");

    let (code, _, _) = diff(&["--check"], "pylsp-session.jsonl", "pyright-session.jsonl");
    assert_eq!(code, Some(1));
}

#[test]
fn the_json_report_matches_the_text_and_names_both_sides() {
    let (code, json, _) = diff(
        &["--format", "json"],
        "pylsp-session.jsonl",
        "pyright-session.jsonl",
    );
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["matched"], 5);
    assert_eq!(v["same"], 1);
    assert_eq!(v["clean"], false);
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 4);
    let hover = changed
        .iter()
        .find(|c| c["a"]["method"] == "textDocument/hover")
        .unwrap();
    assert_eq!(hover["b"]["method"], "textDocument/hover");
    assert!(
        hover["a"]["seq"].as_u64() != hover["b"]["seq"].as_u64()
            || hover["a"]["id"] != hover["b"]["id"]
    );
    assert!(hover["diff"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().starts_with("~ .result.contents.value")));
    let lat = &v["latency_us"]["textDocument/hover"];
    assert!(lat["a_p50"].as_i64().unwrap() > 0 && lat["b_p50"].as_i64().unwrap() > 0);
    assert_eq!(lat["a_count"], 1);
}

#[test]
fn a_session_against_itself_is_clean_and_ignores_apply() {
    let (code, text, _) = diff(
        &["--check"],
        "pyright-session.jsonl",
        "pyright-session.jsonl",
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.starts_with("5 requests matched: 5 answered alike, 0 changed"),
        "{text}"
    );
    // Ignoring what differs leaves only the rest: hover without its contents and range.
    let (_, json, _) = diff(
        &[
            "--format",
            "json",
            "--ignore",
            ".result.contents",
            "--ignore",
            ".result.range",
        ],
        "pylsp-session.jsonl",
        "pyright-session.jsonl",
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v["changed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["a"]["method"] != "textDocument/hover"));
    assert_eq!(v["same"], 2);
}

#[test]
fn sessions_of_different_protocols_share_only_initialize() {
    let (code, json, _) = diff(
        &["--format", "json", "--check"],
        "pylsp-session.jsonl",
        "mcp-everything-session.jsonl",
    );
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["matched"], 1, "both begin with an initialize");
    assert_eq!(v["changed"][0]["a"]["method"], "initialize");
    let store = |f: &str| rpctap::session::load(&asset(f)).unwrap();
    let requests = |s: &rpctap::session::Store| {
        (0..s.len())
            .filter(|&i| s.row(i).kind == rpctap::rpc::Kind::Request)
            .count()
    };
    assert_eq!(
        v["removed"].as_array().unwrap().len(),
        requests(&store("pylsp-session.jsonl")) - 1
    );
    assert_eq!(
        v["added"].as_array().unwrap().len(),
        requests(&store("mcp-everything-session.jsonl")) - 1
    );
}

#[test]
fn bad_input_is_a_one_line_usage_error() {
    let home = temp();
    let missing = path(&home, "missing.jsonl");
    for args in [
        vec![
            "diff".into(),
            missing.display().to_string(),
            asset("pylsp-session.jsonl").display().to_string(),
        ],
        vec![
            "diff".into(),
            "--ignore".into(),
            "a[x]".into(),
            asset("pylsp-session.jsonl").display().to_string(),
            asset("pylsp-session.jsonl").display().to_string(),
        ],
    ] {
        let out = rpctap(home.path()).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("rpctap: "), "{err}");
    }
}
