//! `--redact` through the real shim: no spelling of a key, no unparsable body and no noise
//! line lets a secret into the recording, while the wire still carries it unchanged.

mod common;

use common::*;

const SECRET: &str = "s3cret-value";

/// Every way a secret used to slip past `--redact token` (issue 12, item 4).
fn leaky_ndjson() -> Vec<u8> {
    let mut s = Vec::new();
    // The key spelled with an escape.
    s.extend(format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{{\"tok\\u0065n\":\"{SECRET}\"}}}}\n").as_bytes());
    // The plain key, deep inside a batch, with a non-string value holding the secret.
    s.extend(format!("[{{\"jsonrpc\":\"2.0\",\"method\":\"b\",\"params\":[{{\"token\":{{\"v\":\"{SECRET}\"}}}}]}}]\n").as_bytes());
    // Not valid JSON (a trailing comma).
    s.extend(
        format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":\"c\",\"params\":{{\"token\":\"{SECRET}\",}}}}\n"
        )
        .as_bytes(),
    );
    // Not UTF-8.
    s.extend(b"{\"jsonrpc\":\"2.0\",\"method\":\"d\",\"params\":{\"token\":\"\xff");
    s.extend(SECRET.as_bytes());
    s.extend(b"\"}}\n");
    // A log line on stdout (noise).
    s.extend(format!("[debug] using token={SECRET}\n").as_bytes());
    // A fragment cut short at the end of the stream.
    s.extend(format!("{{\"token\":\"{SECRET}").as_bytes());
    s
}

fn record(extra: &[&str]) -> (tempfile::TempDir, String, Output, Vec<u8>) {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let input = leaky_ndjson();
    let mut cmd = rpctap(dir.path());
    cmd.arg("--record")
        .arg(&rec)
        .args(["--framing", "ndjson", "--redact", "token"])
        .args(extra)
        .args(["--", "cat"]);
    let out = run_with_input(cmd, input.clone(), 1 << 16);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(std::fs::read(&rec).unwrap()).unwrap();
    (dir, text, out, input)
}

#[test]
fn no_spelling_of_a_key_and_no_unparsable_body_leaks_the_secret() {
    let (dir, text, out, input) = record(&[]);
    assert!(out.stdout == input, "the wire is never redacted");
    assert!(!text.contains(SECRET), "secret recorded:\n{text}");
    // The escaped key keeps its spelling; its value is replaced in place.
    assert!(text.contains(r#"{"tok\u0065n":"«redacted»"}"#), "{text}");
    assert!(text.contains(r#"[{"token":"«redacted»"}]"#), "{text}");
    // Unparsable bodies and noise leave a placeholder with their length.
    assert!(text.contains("bytes, not valid JSON»"), "{text}");
    assert!(text.contains("bytes outside any frame»"), "{text}");
    // Every line is still a valid recording line, and the reader accepts the file.
    let cat = rpctap(dir.path())
        .args(["cat", "--format", "jsonl"])
        .arg(path(&dir, "rec.jsonl"))
        .output()
        .unwrap();
    assert!(
        cat.status.success(),
        "{}",
        String::from_utf8_lossy(&cat.stderr)
    );
    assert!(!String::from_utf8_lossy(&cat.stdout).contains(SECRET));
    // Rebuilding the wire says it differs, for messages and for noise.
    let wire = rpctap(dir.path())
        .args(["cat", "--wire", "s2c"])
        .arg(path(&dir, "rec.jsonl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&wire.stderr);
    assert!(err.contains("redacted when recorded"), "{err}");
}

#[test]
fn the_opt_out_keeps_unparsable_bodies_but_still_redacts_json() {
    let (_dir, text, _out, _input) = record(&["--redact-keep-unparsed"]);
    assert!(text.contains(r#"{"tok\u0065n":"«redacted»"}"#), "{text}");
    assert!(!text.contains("bytes, not valid JSON»"), "{text}");
    assert!(
        text.contains(&format!("token={SECRET}")),
        "noise kept as asked:\n{text}"
    );
}

#[test]
fn the_opt_out_needs_redact() {
    let dir = temp();
    let out = rpctap(dir.path())
        .args(["--redact-keep-unparsed", "--", "cat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
