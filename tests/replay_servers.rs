//! `rpctap replay` against servers that misbehave, through the real binary: a slow one,
//! one that exits early, one that dies mid-message, one that closes its stdout, one that
//! stops answering, one that answers twice or with ids it was never sent, and one that
//! floods notifications. Each run must end by itself, say what happened, fail `--check`
//! when the server did wrong, leave no server process behind, and (except under a flood,
//! where decoding is real work) spend almost no CPU time while it waits — read from
//! /proc for the replay process, never the wall clock.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Requests in the test recording.
const REQUESTS: u64 = 5;

/// A recording of an NDJSON session: `REQUESTS` requests, each answered before the next
/// is sent, and a clean exit.
fn recording(dir: &Path) -> PathBuf {
    let mut text = String::from(
        r#"{"rpctap":1,"type":"session","id":"t","name":"t","command":["t"],"cwd":"/","pid":1,"started":"2026-01-01T00:00:00.000000Z"}"#,
    );
    text.push('\n');
    let mut seq = 0;
    for id in 1..=REQUESTS {
        let t = |ms: u64| format!("2026-01-01T00:00:00.{:06}Z", ms * 1000);
        seq += 1;
        text.push_str(&format!(
            r#"{{"seq":{seq},"t":"{}","dir":"c2s","framing":"ndjson","msg":{{"jsonrpc":"2.0","id":{id},"method":"test/m{id}","params":{{}}}}}}"#,
            t(id * 10)
        ));
        text.push('\n');
        seq += 1;
        text.push_str(&format!(
            r#"{{"seq":{seq},"t":"{}","dir":"s2c","framing":"ndjson","msg":{{"jsonrpc":"2.0","id":{id},"result":{{"n":{id}}}}}}}"#,
            t(id * 10 + 5)
        ));
        text.push('\n');
    }
    text.push_str(r#"{"type":"exit","t":"2026-01-01T00:00:01.000000Z","code":0,"signal":null}"#);
    text.push('\n');
    let path = dir.join("rec.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// A shell server: `$PIDS` gets its pid; `answer` prints the recorded answer to the
/// request on `$l`; `body` is what it does with its input.
fn server(dir: &Path, body: &str) -> Vec<String> {
    let pids = dir.join("pids");
    let script = format!(
        r#"echo $$ >> '{pids}'
id_of() {{ printf '%s' "$1" | sed -n 's/.*"id":\([0-9]*\).*/\1/p'; }}
answer() {{ printf '{{"jsonrpc":"2.0","id":%s,"result":{{"n":%s}}}}\n' "$1" "$1"; }}
{body}"#,
        pids = pids.display()
    );
    vec!["sh".into(), "-c".into(), script]
}

struct Run {
    code: i32,
    stdout: String,
    /// User + system CPU time of the replay process, in seconds.
    cpu: f64,
}

/// Runs `rpctap replay`, sampling its CPU time from /proc while it runs.
fn replay(dir: &Path, opts: &[&str], server: &[String]) -> Run {
    let rec = recording(dir);
    let mut child = rpctap(dir)
        .arg("replay")
        .arg(&rec)
        .args(["--grace", "0.2"])
        .args(opts)
        .arg("--")
        .args(server)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let cpu = cpu_until_exit(child.id());
    let status = child.wait().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: reader.join().unwrap(),
        cpu,
    }
}

/// The CPU time (user + system, all threads, in seconds) of process `pid` as last seen
/// alive: /proc/PID/stat is read every 10 ms until the process is a zombie, whose stat no
/// longer holds its times. What it burns after the last sample is missed (at most one
/// interval); a replay that spins while it waits shows up all the same.
fn cpu_until_exit(pid: u32) -> f64 {
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    let start = std::time::Instant::now();
    let mut last = 0.0;
    loop {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return last;
        };
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        // After the command: state is field 3, utime 14 and stime 15 (1-based, man proc).
        if fields[0] == "Z" {
            return last;
        }
        let ticks = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        last = ticks / hz;
        assert!(start.elapsed() < HANG, "replay {pid} hung");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every process the server recorded in its pid file is gone.
fn assert_no_server_left(dir: &Path) {
    let pids = std::fs::read_to_string(dir.join("pids")).expect("the server started");
    for pid in pids.split_whitespace() {
        let pid: u32 = pid.parse().unwrap();
        assert!(
            wait_gone(pid, Duration::from_secs(5)),
            "server process {pid} left behind"
        );
    }
}

/// Waiting for a server costs (almost) no CPU: well under the time the server sleeps.
fn assert_idle(run: &Run, server_sleeps: f64) {
    eprintln!(
        "replay CPU time {:.3}s (the server slept {server_sleeps}s)",
        run.cpu
    );
    assert!(
        run.cpu < server_sleeps / 10.0,
        "replay used {:.2}s of CPU while the server slept {server_sleeps}s\n{}",
        run.cpu,
        run.stdout
    );
}

#[test]
fn a_slow_server_is_waited_for_without_cpu() {
    let dir = temp();
    let body = r#"while IFS= read -r l; do
  id=$(id_of "$l")
  [ "$id" = 2 ] && sleep 1.5
  answer "$id"
done"#;
    let run = replay(dir.path(), &["--check"], &server(dir.path(), body));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("5 responses compared: 5 matched"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("server exited with code 0"),
        "{}",
        run.stdout
    );
    assert_idle(&run, 1.5);
    assert_no_server_left(dir.path());
}

#[test]
fn a_server_that_exits_early_is_named_and_fails_the_check() {
    let dir = temp();
    let body = r#"n=0
while IFS= read -r l; do
  n=$((n+1)); [ $n -gt 2 ] && { sleep 1; exit 3; }
  answer "$(id_of "$l")"
done"#;
    let run = replay(dir.path(), &["--check"], &server(dir.path(), body));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("server exited with code 3 after 2 of 5 requests were answered"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("missing: test/m3"), "{}", run.stdout);
    assert_idle(&run, 1.0);
    assert_no_server_left(dir.path());
}

#[test]
fn a_server_that_crashes_mid_message_is_reported() {
    let dir = temp();
    let body = r#"n=0
while IFS= read -r l; do
  n=$((n+1))
  if [ $n -gt 2 ]; then sleep 1; printf '{"jsonrpc":"2.0","id":3,"res'; exit 70; fi
  answer "$(id_of "$l")"
done"#;
    let run = replay(dir.path(), &["--check"], &server(dir.path(), body));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("server exited with code 70 after 2 of 5"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("server's output is cut short"),
        "{}",
        run.stdout
    );
    assert_idle(&run, 1.0);
    assert_no_server_left(dir.path());
}

#[test]
fn a_server_that_closes_stdout_is_stopped() {
    let dir = temp();
    let pids = dir.path().join("pids");
    let body = format!(
        r#"trap '' TERM
n=0
while IFS= read -r l; do
  n=$((n+1))
  if [ $n -gt 2 ]; then
    sleep 1
    exec >&-
    sleep 1000 & echo $! >> '{}'
    while :; do sleep 0.2; done
  fi
  answer "$(id_of "$l")"
done"#,
        pids.display()
    );
    let run = replay(dir.path(), &["--check"], &server(dir.path(), &body));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("server closed its stdout after 2 of 5 requests were answered"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("killed by signal 9"), "{}", run.stdout);
    assert_idle(&run, 1.0);
    assert_no_server_left(dir.path());
}

#[test]
fn a_server_that_stops_answering_times_out_per_request() {
    let dir = temp();
    // Reads nothing, ignores its closed stdin and SIGTERM: only SIGKILL ends it.
    let body = "trap '' TERM\nwhile :; do sleep 0.2; done";
    let run = replay(
        dir.path(),
        &["--check", "--timeout", "0.3"],
        &server(dir.path(), body),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("5 missing"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "did not exit when its stdin closed, and was stopped (was killed by signal 9)"
        ),
        "{}",
        run.stdout
    );
    // Five timeouts of 0.3 s and a grace of 0.2 s twice: 1.9 s of waiting.
    assert_idle(&run, 1.9);
    assert_no_server_left(dir.path());
}

#[test]
fn answers_twice_or_to_unknown_ids_are_extra() {
    let dir = temp();
    let twice = r#"while IFS= read -r l; do
  id=$(id_of "$l"); [ "$id" = 1 ] && sleep 1; answer "$id"; answer "$id"
done"#;
    let run = replay(dir.path(), &["--check"], &server(dir.path(), twice));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("5 matched, 0 differing, 0 missing, 5 extra"),
        "{}",
        run.stdout
    );
    assert_idle(&run, 1.0);
    assert_no_server_left(dir.path());

    let dir = temp();
    let strangers = r#"while IFS= read -r l; do answer "$(( $(id_of "$l") + 100 ))"; done"#;
    let run = replay(
        dir.path(),
        &["--check", "--timeout", "0.3"],
        &server(dir.path(), strangers),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("0 matched, 0 differing, 5 missing, 5 extra"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(r#""id":101"#), "{}", run.stdout);
    assert_idle(&run, 1.5);
    assert_no_server_left(dir.path());
}

#[test]
fn a_flooding_server_does_not_keep_replay_alive() {
    let dir = temp();
    // Answers everything, then floods notifications forever, deaf to SIGTERM.
    let body = r#"trap '' TERM
n=0
while IFS= read -r l; do
  n=$((n+1)); answer "$(id_of "$l")"
  [ $n -eq 5 ] && exec yes '{"jsonrpc":"2.0","method":"log","params":{"x":1}}'
done"#;
    let run = replay(dir.path(), &["--check"], &server(dir.path(), body));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("5 responses compared: 5 matched"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("was stopped"), "{}", run.stdout);
    assert_no_server_left(dir.path());
}

#[test]
fn a_flood_of_unexpected_responses_is_counted_not_kept() {
    let dir = temp();
    let body = r#"while IFS= read -r l; do
  id=$(id_of "$l"); answer "$id"
  i=0; while [ $i -lt 500 ]; do answer 999; i=$((i+1)); done
done"#;
    let run = replay(dir.path(), &["--check"], &server(dir.path(), body));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("5 matched, 0 differing, 0 missing, 2500 extra"),
        "{}",
        &run.stdout[..run.stdout.len().min(2000)]
    );
    let listed = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("extra: "))
        .count();
    assert_eq!(listed, 101, "100 kept and one line for the rest");
    assert!(run.stdout.contains("extra: 2400 more unexpected responses"));
    assert_no_server_left(dir.path());
}
