//! Hostile command lines and inputs through the real binary: FIFOs and devices where a
//! recording should be, numeric options out of range, usage errors, and commands that
//! cannot be run. Each must end at once with one clear line and the documented code.

mod common;

use common::*;
use std::process::Command;

/// Runs with a hang guard and stdin closed; returns (code, stdout, stderr).
fn run(cmd: Command) -> (Option<i32>, String, String) {
    let out = run_with_input(cmd, Vec::new(), 1);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line_error(what: &str, (code, _, err): &(Option<i32>, String, String), want: &str) {
    assert_eq!(*code, Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: not one line:\n{err}");
    assert!(err.starts_with("rpctap: "), "{what}: {err}");
    assert!(err.contains(want), "{what}: {err:?} lacks {want:?}");
}

#[test]
fn a_fifo_without_writer_is_refused_by_every_reader_not_waited_on() {
    let dir = temp();
    let fifo = path(&dir, "rec.jsonl");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let f = fifo.to_str().unwrap();
    let runs: &[&[&str]] = &[
        &["cat", f],
        &["cat", "--format", "jsonl", f],
        &["cat", "--wire", "c2s", f],
        &["stats", f],
        &["replay", f, "--", "cat"],
        &["mock", f],
        &["open", f],
        &["ui", f],
    ];
    for args in runs {
        let mut cmd = rpctap(dir.path());
        cmd.args(*args);
        assert_one_line_error(
            &format!("{args:?}"),
            &run(cmd),
            "a FIFO, not a regular file",
        );
    }
    let mut cmd = rpctap(dir.path());
    cmd.args(["cat", "/dev/zero"]);
    assert_one_line_error("a device", &run(cmd), "a device, not a regular file");
}

#[test]
fn numeric_options_out_of_range_are_usage_errors_not_panics() {
    let dir = temp();
    let cases: &[&[&str]] = &[
        &["--grace", "1e19", "--", "true"],
        &["--grace", "-1", "--", "true"],
        &["--grace", "NaN", "--", "true"],
        &["--grace", "inf", "--", "true"],
        &["--max-message-size", "0", "--", "true"],
        &["--max-message-size", "-5", "--", "true"],
        &["--max-message-size", "99999999999999999999", "--", "true"],
        &["replay", "x.jsonl", "--timeout", "1e300", "--", "true"],
        &["replay", "x.jsonl", "--grace", "-0.5", "--", "true"],
        &["replay", "x.jsonl", "--pace", "0", "--", "true"],
        &["replay", "x.jsonl", "--pace", "1e-300", "--", "true"],
        &["demo", "--pace-ms", "18446744073709551615"],
    ];
    for args in cases {
        let mut cmd = rpctap(dir.path());
        cmd.args(*args);
        assert_one_line_error(&format!("{args:?}"), &run(cmd), "invalid value");
    }
    // In range, the same options work.
    let mut cmd = rpctap(dir.path());
    cmd.args([
        "--no-record",
        "--no-live",
        "--grace",
        "0.5",
        "--max-message-size",
        "10",
    ]);
    cmd.args(["--", "true"]);
    assert_eq!(run(cmd).0, Some(0));
}

#[test]
fn max_message_size_holds_for_ndjson_lines_arriving_in_one_read() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"{}\"}}\n",
        "a".repeat(500)
    );
    let input = format!("{big}{{\"jsonrpc\":\"2.0\",\"method\":\"small\"}}\n").into_bytes();
    let mut cmd = rpctap(dir.path());
    cmd.arg("--record").arg(&rec);
    cmd.args([
        "--no-live",
        "--framing",
        "ndjson",
        "--max-message-size",
        "100",
        "--",
        "cat",
    ]);
    let out = run_with_input(cmd, input.clone(), input.len());
    assert!(out.stdout == input, "forwarding ignores the decoding limit");
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        !text.contains("aaaaaaaaaa"),
        "the oversized body was recorded:\n{text}"
    );
    assert!(text.contains("\"oversized\""), "{text}");
    assert!(text.contains("\"method\":\"small\""), "{text}");
}

#[test]
fn usage_errors_are_one_line_that_starts_with_the_error() {
    let dir = temp();
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus", "--", "true"], "unexpected argument '--bogus'"),
        (&["cat"], "required arguments were not provided: <FILE>"),
        (
            &["cat", "--format", "nope", "x"],
            "invalid value 'nope' for '--format",
        ),
        (&["stats", "--what", "x"], "see 'rpctap stats --help'"),
        (&["replay", "x.jsonl"], "<CMD>"),
        (&["cat", "--filter", "((", "x"], "bad filter"),
    ];
    for (args, want) in cases {
        let mut cmd = rpctap(dir.path());
        cmd.args(*args);
        assert_one_line_error(&format!("{args:?}"), &run(cmd), want);
    }
    // Help still goes to stdout, whole, with success.
    let mut cmd = rpctap(dir.path());
    cmd.args(["cat", "--help"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, Some(0));
    assert!(out.lines().count() > 5, "{out}");
}

#[test]
fn a_command_that_cannot_be_run_exits_127_and_one_that_cannot_be_executed_126() {
    let dir = temp();
    let mut cmd = rpctap(dir.path());
    cmd.args(["--no-record", "--no-live", "--", "/nonexistent/server"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, Some(127), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let script = path(&dir, "server.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap(); // mode 0644: not executable
    let mut cmd = rpctap(dir.path());
    cmd.args(["--no-record", "--no-live", "--"]).arg(&script);
    let (code, _, err) = run(cmd);
    if code == Some(0) {
        eprintln!("skipped the 126 case: this user may execute any file");
        return;
    }
    assert_eq!(code, Some(126), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn ls_escapes_what_recordings_name_before_it_reaches_the_terminal() {
    let dir = temp();
    let sessions = dir.path().join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    for d in [dir.path(), sessions.as_path()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let header = r#"{"rpctap":1,"type":"session","id":"x","name":"n\u001b]0;PWNED\u0007","command":["srv\u009b2J","--x"],"cwd":"/","pid":0,"started":"2026-12-01T09:00:00.000000Z"}"#;
    let exit = r#"{"type":"exit","t":"2026-12-01T09:00:01.000000Z","code":0,"signal":null}"#;
    std::fs::write(sessions.join("a.jsonl"), format!("{header}\n{exit}\n")).unwrap();
    let mut cmd = rpctap(dir.path());
    cmd.arg("ls");
    let (code, out, err) = run(cmd);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("n\\x1b]0;PWNED\\x07"), "{out}");
    assert!(out.contains("srv\\u{9b}2J --x"), "{out}");
    assert!(
        !out.contains('\x1b') && !out.contains('\x07') && !out.contains('\u{9b}'),
        "{out:?}"
    );
}
