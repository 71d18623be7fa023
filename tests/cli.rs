//! `cat` and `stats` through the binary: formats, exit codes, and bad input — missing
//! files, directories, empty files, random bytes, truncated and corrupt recordings.

mod common;

use common::*;

const SESSION: &str = r#"{"rpctap":1,"type":"session","id":"t","name":"t","command":["srv"],"cwd":"/","pid":1,"started":"2026-11-21T10:00:00.000000Z"}
{"seq":1,"t":"2026-11-21T10:00:00.001000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}}
{"seq":2,"t":"2026-11-21T10:00:00.011000Z","dir":"s2c","framing":"lsp","msg":{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}}
{"seq":3,"t":"2026-11-21T10:00:00.020000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","id":"h","method":"textDocument/hover","params":{}}}
{"seq":4,"t":"2026-11-21T10:00:00.030000Z","dir":"s2c","framing":"lsp","msg":{"jsonrpc":"2.0","id":"h","error":{"code":-32601,"message":"nope"}}}
{"seq":5,"t":"2026-11-21T10:00:00.040000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","id":2,"method":"textDocument/completion","params":{}}}
{"seq":6,"t":"2026-11-21T10:00:00.050000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}}
{"seq":7,"t":"2026-11-21T10:00:00.060000Z","dir":"s2c","noise":"log line\n"}
{"seq":8,"t":"2026-11-21T10:00:00.070000Z","dir":"stderr","text":"warming up"}
{"type":"exit","t":"2026-11-21T10:00:01.000000Z","code":0,"signal":null}
"#;

fn run(args: &[&str], file: &std::path::Path) -> (i32, String, String) {
    let dir = temp();
    let out = rpctap(dir.path()).args(args).arg(file).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cat_pretty_shows_kinds_pairs_and_latency() {
    let dir = temp();
    let f = path(&dir, "s.jsonl");
    std::fs::write(&f, SESSION).unwrap();
    let (code, out, err) = run(&["cat", "--color", "never"], &f);
    assert_eq!((code, err.as_str()), (0, ""));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 9, "{out}");
    assert!(
        lines[1].contains("← response") && lines[1].contains("initialize #1 (10.0ms)"),
        "{}",
        lines[1]
    );
    assert!(
        lines[3].contains("error") && lines[3].contains("textDocument/hover #\"h\""),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains("[cancelled]"), "{}", lines[4]);
    assert!(lines[7].contains("! stderr") && lines[7].contains("warming up"));
    assert!(lines[8].contains("server exited with code 0"));
    let (_, colored, _) = run(&["cat", "--color", "always"], &f);
    assert!(
        colored.contains("\x1b[31m"),
        "errors are red when colour is on"
    );
}

#[test]
fn cat_jsonl_round_trips_and_json_is_valid() {
    let dir = temp();
    let f = path(&dir, "s.jsonl");
    std::fs::write(&f, SESSION).unwrap();
    let (code, out, _) = run(&["cat", "--format", "jsonl"], &f);
    assert_eq!(code, 0);
    assert_eq!(out, SESSION);
    let (code, out, _) = run(&["cat", "--format", "json"], &f);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 8);
    assert_eq!(v[1]["latency_us"], 10_000);
    assert_eq!(v[4]["status"], "cancelled");
}

#[test]
fn stats_counts_errors_latency_pending_cancelled() {
    let dir = temp();
    let f = path(&dir, "s.jsonl");
    std::fs::write(&f, SESSION).unwrap();
    let (code, out, _) = run(&["stats"], &f);
    assert_eq!(code, 0);
    let row = |m: &str| {
        out.lines()
            .find(|l| l.contains(m))
            .unwrap_or_else(|| panic!("no {m} in {out}"))
            .to_owned()
    };
    let init_row = row("initialize");
    let init: Vec<&str> = init_row.split_whitespace().collect();
    assert_eq!(init[2..5], ["1", "0", "0"]);
    assert_eq!(init[5], "10.0ms");
    let hover: Vec<String> = row("hover").split_whitespace().map(str::to_owned).collect();
    assert_eq!(hover[4], "1", "one error: {out}");
    assert!(out.contains("1 cancelled request(s):"), "{out}");
}

#[test]
fn bad_inputs_are_one_line_errors_with_exit_2() {
    let dir = temp();
    let empty = path(&dir, "empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let random = path(&dir, "random.bin");
    std::fs::write(
        &random,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let corrupt = path(&dir, "corrupt.jsonl");
    let mut lines: Vec<&str> = SESSION.lines().collect();
    lines[3] = "{\"seq\":3,\"t\":\"never\",\"dir\":\"c2s\"}";
    std::fs::write(&corrupt, lines.join("\n") + "\n").unwrap();
    let cases = [
        (
            dir.path().join("missing.jsonl"),
            "No such file or directory",
        ),
        (dir.path().to_path_buf(), "is a directory"),
        (empty, "the file is empty"),
        (random, "unknown format (expected an rpctap recording"),
        (corrupt, "line 4: bad time \"never\""),
    ];
    for cmd in [
        &["cat"][..],
        &["stats"],
        &["cat", "--wire", "c2s"],
        &["cat", "--format", "jsonl"],
    ] {
        for (file, want) in &cases {
            let (code, out, err) = run(cmd, file);
            assert_eq!(code, 2, "{cmd:?} {file:?}");
            assert!(
                out.is_empty() || cmd.contains(&"jsonl") || cmd.contains(&"--wire"),
                "{cmd:?}: {out}"
            );
            assert_eq!(err.lines().count(), 1, "{cmd:?} {file:?}: {err}");
            assert!(
                err.starts_with("rpctap: ") && err.contains(want),
                "{cmd:?} {file:?}: {err}"
            );
        }
    }
}

#[test]
fn a_truncated_last_line_is_a_correct_partial_result() {
    let dir = temp();
    let f = path(&dir, "cut.jsonl");
    let cut = &SESSION[..SESSION.find("{\"seq\":5").unwrap() + 30];
    std::fs::write(&f, cut).unwrap();
    let (code, out, err) = run(&["cat", "--color", "never"], &f);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out.lines().count(), 4);
    let (code, wire, _) = run(&["cat", "--wire", "c2s"], &f);
    assert_eq!(code, 0);
    assert!(wire.ends_with("\"params\":{}}") && wire.matches("Content-Length").count() == 2);
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp();
    let out = rpctap(dir.path()).args(["cat"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rpctap(dir.path())
        .args(["cat", "--bogus", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rpctap(dir.path()).args(["--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}
