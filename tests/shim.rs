//! The shim through the real binary with real child processes: byte-exact forwarding in
//! both directions, recordings that rebuild the wire, and the process lifecycle.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

/// A stream with everything a decoder finds hard: odd headers, garbage, non-UTF-8 bytes,
/// batches, string ids, a body with a newline, and a final frame cut short.
fn hard_lsp_stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(lsp(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
    ));
    s.extend(b"content-length: 43\nContent-Type: application/vscode-jsonrpc; charset=utf-8\n\n");
    s.extend(br#"{"jsonrpc":"2.0","id":"a","method":"x/y"}  "#);
    s.extend(b"garbage \xff\xfe between frames\n");
    s.extend(lsp("[{\"jsonrpc\":\"2.0\",\"method\":\"a\"},\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"b\"}]"));
    s.extend(b"Content-Length: 5\r\n\r\n\xff\xfe\xfd{}");
    s.extend(b"Content-Length: 50\r\n\r\n{\"cut\":");
    s
}

fn hard_ndjson_stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}\n");
    s.extend(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\r\n");
    s.extend(b"\n[INFO] a log line on stdout\n");
    s.extend(b"{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"tools/list\",\"params\":{\"x\":\"\xc3\xa9\"}}\n");
    s.extend(b"not json \xff\n{\"unterminated\":");
    s
}

fn echo_through_shim(input: &[u8], chunk: usize, extra: &[&str]) {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let mut cmd = rpctap(dir.path());
    cmd.arg("--record")
        .arg(&rec)
        .args(extra)
        .args(["--", "cat"]);
    let out = run_with_input(cmd, input.to_vec(), chunk);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == input,
        "stdout differs from what the parent sent"
    );
    assert!(
        out.stderr.is_empty(),
        "rpctap wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wire(dir.path(), &rec, "c2s") == input,
        "recording does not rebuild c2s"
    );
    assert!(
        wire(dir.path(), &rec, "s2c") == input,
        "recording does not rebuild s2c"
    );
}

#[test]
fn lsp_stream_is_byte_exact_byte_by_byte() {
    echo_through_shim(&hard_lsp_stream(), 1, &[]);
}

#[test]
fn lsp_stream_is_byte_exact_in_large_writes() {
    echo_through_shim(&hard_lsp_stream().repeat(50), 4096, &[]);
}

#[test]
fn ndjson_stream_is_byte_exact() {
    echo_through_shim(&hard_ndjson_stream(), 3, &[]);
    echo_through_shim(&hard_ndjson_stream(), 1 << 16, &["--framing", "ndjson"]);
}

#[test]
fn twenty_megabyte_message_both_ways() {
    let body = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"{}\"}}",
        "x".repeat(20 * 1024 * 1024)
    );
    let mut input = lsp(&body);
    input.extend(lsp(r#"{"jsonrpc":"2.0","method":"after"}"#));
    echo_through_shim(&input, 1 << 16, &[]);
}

#[test]
fn oversized_messages_are_forwarded_and_flagged() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let input = [
        lsp(&format!("{{\"big\":\"{}\"}}", "y".repeat(5000))),
        lsp("{}"),
    ]
    .concat();
    let mut cmd = rpctap(dir.path());
    cmd.arg("--record")
        .arg(&rec)
        .args(["--max-message-size", "1000", "--", "cat"]);
    let out = run_with_input(cmd, input.clone(), 700);
    assert!(out.stdout == input);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(text.contains("\"oversized\":5010}"), "{text}");
}

#[test]
fn a_megabyte_of_stderr_in_one_burst_does_not_deadlock() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let mut cmd = rpctap(dir.path());
    let script = "head -c 1000000 /dev/zero | tr '\\0' 'e' | fold -w 1000 >&2; cat";
    cmd.arg("--record")
        .arg(&rec)
        .args(["--", "sh", "-c", script]);
    let input = lsp(r#"{"jsonrpc":"2.0","method":"ping"}"#);
    let out = run_with_input(cmd, input.clone(), 1 << 16);
    assert_eq!(out.stdout, input);
    let es = memchr::memchr_iter(b'e', &out.stderr).count();
    assert_eq!(es, 1_000_000, "stderr passed through whole");
    let text = std::fs::read_to_string(&rec).unwrap();
    assert_eq!(text.matches("\"dir\":\"stderr\"").count(), 1000);
}

#[test]
fn a_child_that_never_reads_stdin_still_talks() {
    let dir = temp();
    let script = "for i in 1 2 3; do echo \"{\\\"n\\\":$i}\"; done; exec sleep 30";
    let mut child = rpctap(dir.path())
        .args(["--no-record", "--grace", "0.2", "--", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The parent writes 1 MB that nobody reads; the writes block on a full pipe.
    std::thread::spawn(move || {
        let _ = stdin.write_all(&vec![b'{'; 1 << 20]);
    });
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line);
        }
    });
    for i in 1..=3 {
        let line = rx
            .recv_timeout(HANG)
            .expect("a line from the child")
            .unwrap();
        assert_eq!(line, format!("{{\"n\":{i}}}"));
    }
    common::signal(child.id(), "TERM");
    wait_bounded(&mut child, HANG);
}

#[test]
fn child_exiting_mid_message() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let script = r#"printf 'Content-Length: 100\r\n\r\n{"jsonrpc":"2.0","id":1,"res'"#;
    let out = run_with_input(
        {
            let mut c = rpctap(dir.path());
            c.arg("--record").arg(&rec).args(["--", "sh", "-c", script]);
            c
        },
        Vec::new(),
        1,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"Content-Length: 100\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"res"
    );
    assert_eq!(wire(dir.path(), &rec, "s2c"), out.stdout);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(text.lines().last().unwrap().contains("\"type\":\"exit\""));
}

#[test]
fn exit_codes_propagate() {
    let dir = temp();
    for (script, code) in [
        ("exit 3", 3),
        ("kill -9 $$", 137),
        ("kill -15 $$", 143),
        ("cat >/dev/null; exit 0", 0),
    ] {
        let mut cmd = rpctap(dir.path());
        cmd.args(["--no-record", "--", "sh", "-c", script]);
        let out = run_with_input(cmd, Vec::new(), 1);
        assert_eq!(out.status.code(), Some(code), "for {script}");
    }
}

#[test]
fn a_command_that_cannot_run_is_a_clear_error() {
    let dir = temp();
    let out = rpctap(dir.path())
        .args(["--no-record", "--", "/no/such/server"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "rpctap: cannot run '/no/such/server': No such file or directory"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn stdin_eof_reaches_the_child_and_its_code_is_ours() {
    let dir = temp();
    let mut cmd = rpctap(dir.path());
    cmd.args([
        "--no-record",
        "--",
        "sh",
        "-c",
        "n=$(wc -c); echo got $n; exit 5",
    ]);
    let out = run_with_input(cmd, b"12345".to_vec(), 2);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "got 5");
}

/// Starts a shim whose child reports its pid and traps signals; returns (shim, child pid,
/// stdout lines).
fn trapping_shim(dir: &std::path::Path) -> (std::process::Child, u32, mpsc::Receiver<String>) {
    let script = "trap 'echo got-TERM; exit 0' TERM; trap 'echo got-INT; exit 0' INT; echo $$; \
                  while :; do sleep 0.05; done";
    let mut child = rpctap(dir)
        .args(["--no-record", "--", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let pid = rx.recv_timeout(HANG).unwrap().parse().unwrap();
    (child, pid, rx)
}

#[test]
fn sigterm_and_sigint_are_forwarded() {
    let dir = temp();
    for sig in ["TERM", "INT"] {
        let (mut shim, _pid, lines) = trapping_shim(dir.path());
        common::signal(shim.id(), sig);
        assert_eq!(lines.recv_timeout(HANG).unwrap(), format!("got-{sig}"));
        assert_eq!(wait_bounded(&mut shim, HANG).code(), Some(0));
    }
}

#[test]
fn sigkill_of_the_shim_takes_the_child_along() {
    let dir = temp();
    let (mut shim, pid, _lines) = trapping_shim(dir.path());
    shim.kill().unwrap();
    shim.wait().unwrap();
    assert!(
        wait_gone(pid, Duration::from_secs(2)),
        "child {pid} outlived the shim"
    );
}

#[test]
fn death_of_the_shims_parent_with_stdin_open_ends_both() {
    let dir = temp();
    // sh is the shim's parent; it passes our stdin pipe on, so stdin stays open.
    let script =
        format!("'{BIN}' --no-record --grace 1 -- sh -c 'echo $$; exec sleep 60' & echo $!; wait");
    let mut parent = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("RPCTAP_HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _keep_stdin_open = parent.stdin.take();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let first: u32 = lines.next().unwrap().unwrap().parse().unwrap();
    let second: u32 = lines.next().unwrap().unwrap().parse().unwrap();
    parent.kill().unwrap();
    parent.wait().unwrap();
    for pid in [first, second] {
        assert!(
            wait_gone(pid, Duration::from_secs(5)),
            "process {pid} survived its parent's death"
        );
    }
}

/// Ping-pong through an echoing child: each request is answered the moment it is
/// written, so a recorder that learned of the request after forwarding it could record
/// the echo first. Every echo must come after the message it echoes.
#[test]
fn the_recording_is_causal_under_ping_pong() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let mut child = rpctap(dir.path())
        .arg("--record")
        .arg(&rec)
        .args(["--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for i in 0..300 {
        stdin
            .write_all(format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"p\"}}\n").as_bytes())
            .unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains(&format!("\"id\":{i},")));
    }
    drop(stdin);
    assert!(wait_bounded(&mut child, HANG).success());
    let text = std::fs::read_to_string(&rec).unwrap();
    let dirs: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"msg\""))
        .map(|l| {
            if l.contains("\"dir\":\"c2s\"") {
                "c2s"
            } else {
                "s2c"
            }
        })
        .collect();
    let expected: Vec<&str> = (0..300).flat_map(|_| ["c2s", "s2c"]).collect();
    assert!(dirs == expected, "messages out of causal order: {dirs:?}");
}

#[test]
fn an_unwritable_recording_warns_once_and_forwarding_goes_on() {
    let dir = temp();
    let input = [
        lsp(r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#),
        lsp(r#"{"jsonrpc":"2.0","id":2,"method":"b"}"#),
    ]
    .concat();
    let mut cmd = rpctap(dir.path());
    cmd.args(["--record", "/proc/no/such/dir/rec.jsonl", "--", "cat"]);
    let out = run_with_input(cmd, input.clone(), 7);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == input, "forwarding was affected");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("rpctap: warning: cannot record to '/proc/no/such/dir/rec.jsonl'")
            && err.contains("forwarding continues"),
        "{err}"
    );
}

#[test]
fn redacted_values_never_reach_the_recording_but_do_reach_the_server() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let input = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"token\":\"s3cret\",\"n\":1}}\n".to_vec();
    let mut cmd = rpctap(dir.path());
    cmd.arg("--record")
        .arg(&rec)
        .args(["--redact", "token", "--", "cat"]);
    let out = run_with_input(cmd, input.clone(), 1 << 16);
    assert!(out.stdout == input, "the wire keeps the secret");
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        !text.contains("s3cret")
            && text.contains("«redacted»")
            && text.contains("\"redacted\":true"),
        "{text}"
    );
}
