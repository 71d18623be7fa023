//! `rpctap replay` against servers that misbehave, through the real binary: a slow one,
//! one that exits early, one that dies mid-message, one that closes its stdout, one that
//! stops answering, one that answers twice or with ids it was never sent, and two that
//! flood (notifications, responses to ids never sent). Each run must end by itself, say
//! what happened, fail `--check` when the server did wrong, leave no server process
//! behind, and bound its CPU time — `wait4`'s rusage of the replay process, never the wall
//! clock: almost none while it waits, and under a flood a small cost per message, well
//! under the flood's duration.

mod common;

use common::*;
use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
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
        let _ = write!(
            text,
            r#"{{"seq":{seq},"t":"{}","dir":"c2s","framing":"ndjson","msg":{{"jsonrpc":"2.0","id":{id},"method":"test/m{id}","params":{{}}}}}}"#,
            t(id * 10)
        );
        text.push('\n');
        seq += 1;
        let _ = write!(
            text,
            r#"{{"seq":{seq},"t":"{}","dir":"s2c","framing":"ndjson","msg":{{"jsonrpc":"2.0","id":{id},"result":{{"n":{id}}}}}}}"#,
            t(id * 10 + 5)
        );
        text.push('\n');
    }
    text.push_str(r#"{"type":"exit","t":"2026-01-01T00:00:01.000000Z","code":0,"signal":null}"#);
    text.push('\n');
    let path = dir.join("rec.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// A shell server: its pid goes to the file `$PIDS` (where a body adds the pids of what
/// it starts); `answer` prints the recorded answer to the request on `$l`; `body` is what
/// it does with its input.
fn server(dir: &Path, body: &str) -> Vec<String> {
    let pids = dir.join("pids");
    let script = format!(
        r#"PIDS='{pids}'; echo $$ >> "$PIDS"
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
    /// User + system CPU time of the replay process, all its threads, in seconds
    /// (`wait4`'s rusage: exact, not sampled).
    cpu: f64,
    /// The server's messages the replay read, counted in its `--record` file.
    from_server: u64,
    /// Seconds from the first to the last of them, by their recorded times.
    server_span: f64,
}

/// Replays the test recording (with `opts` and `--record`) into a shell server running
/// `body`, waits for the replay with `wait4` (killing it, and failing, if it hangs), and
/// checks that the server left no process behind: what every case here needs.
// The replay is reaped by `wait4` (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn misbehaving(opts: &[&str], body: &str) -> Run {
    let dir = temp();
    let rec = recording(dir.path());
    let replayed = dir.path().join("replayed.jsonl");
    let mut child = rpctap(dir.path())
        .arg("replay")
        .arg(&rec)
        .args(["--grace", "0.2", "--record"])
        .arg(&replayed)
        .args(opts)
        .arg("--")
        .args(server(dir.path(), body))
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
    let waited = wait_killing_on_hang(child.id());
    let (from_server, server_span) = server_messages(&replayed);
    let run = Run {
        code: ExitStatus::from_raw(waited.status).code().unwrap_or(-1),
        stdout: reader.join().unwrap(),
        cpu: waited.cpu.as_secs_f64(),
        from_server,
        server_span,
    };
    eprintln!(
        "replay CPU {:.3}s; {} server messages over {:.3}s",
        run.cpu, run.from_server, run.server_span
    );
    assert_no_server_left(dir.path());
    run
}

/// `wait4` on the replay, with a watchdog that kills it after `HANG`.
fn wait_killing_on_hang(pid: u32) -> rpctap::os::Waited {
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let hung = watch.recv_timeout(HANG).is_err();
        if hung {
            rpctap::os::signal(pid, 9);
        }
        hung
    });
    let waited = rpctap::os::wait_usage(pid).expect("wait4 on the replay");
    done.send(()).unwrap();
    assert!(!watchdog.join().unwrap(), "replay {pid} hung");
    waited
}

/// How many server-to-client messages a recording holds, and the seconds between the
/// first and the last.
fn server_messages(recording: &Path) -> (u64, f64) {
    let text = std::fs::read_to_string(recording).unwrap_or_default();
    let times: Vec<f64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["dir"] == "s2c" && v.get("msg").is_some())
        .filter_map(|v| v["t"].as_str().and_then(seconds_of_day))
        .collect();
    let span = match (times.first(), times.last()) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    (times.len() as u64, span)
}

/// `HH:MM:SS.ffffff` of an RFC 3339 time, in seconds (a test run does not cross midnight
/// often enough to matter; if it does, the span is negative and the bound using it fails
/// loudly).
fn seconds_of_day(t: &str) -> Option<f64> {
    let clock = t.split_once('T')?.1.trim_end_matches('Z');
    let mut parts = clock.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
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
    assert!(
        run.cpu < server_sleeps / 10.0,
        "replay used {:.2}s of CPU while the server slept {server_sleeps}s\n{}",
        run.cpu,
        run.stdout
    );
}

/// CPU time an uneventful replay of the test recording may take: start-up, reading the
/// recording, writing `--record`, the report (measured: 0.013-0.025 s in a debug build).
const BASE_CPU: f64 = 0.1;
/// CPU time a replay may take per message the server sends: decoding, matching or
/// counting, recording (measured: about 8 us in a debug build).
const CPU_PER_MESSAGE: f64 = 40e-6;

/// A flood is real work per message but costs nothing while the replay waits: at most
/// `BASE_CPU` plus `CPU_PER_MESSAGE` per message the server sent, and well under the
/// flood's duration, nearly all of which a replay that spun (or decoded an endless flood
/// it no longer needs) would burn. Robust to a loaded machine: load stretches the flood's
/// duration, not the replay's CPU time.
fn assert_flood_cheap(run: &Run) {
    let budget = BASE_CPU + run.from_server as f64 * CPU_PER_MESSAGE;
    assert!(
        run.from_server > 1000,
        "a flood: {} messages",
        run.from_server
    );
    assert!(
        run.cpu <= budget,
        "replay used {:.3}s of CPU for {} server messages (budget {budget:.3}s)",
        run.cpu,
        run.from_server
    );
    assert!(
        run.cpu < run.server_span / 4.0,
        "replay used {:.3}s of CPU during a flood of {:.3}s",
        run.cpu,
        run.server_span
    );
}

#[test]
fn a_slow_server_is_waited_for_without_cpu() {
    let body = r#"while IFS= read -r l; do
  id=$(id_of "$l")
  [ "$id" = 2 ] && sleep 1.5
  answer "$id"
done"#;
    let run = misbehaving(&["--check"], body);
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
}

#[test]
fn a_server_that_exits_early_is_named_and_fails_the_check() {
    let body = r#"n=0
while IFS= read -r l; do
  n=$((n+1)); [ $n -gt 2 ] && { sleep 1; exit 3; }
  answer "$(id_of "$l")"
done"#;
    let run = misbehaving(&["--check"], body);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("server exited with code 3 after 2 of 5 requests were answered"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("missing: test/m3"), "{}", run.stdout);
    assert_idle(&run, 1.0);
}

#[test]
fn a_server_that_crashes_mid_message_is_reported() {
    let body = r#"n=0
while IFS= read -r l; do
  n=$((n+1))
  if [ $n -gt 2 ]; then sleep 1; printf '{"jsonrpc":"2.0","id":3,"res'; exit 70; fi
  answer "$(id_of "$l")"
done"#;
    let run = misbehaving(&["--check"], body);
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
}

#[test]
fn a_server_that_closes_stdout_is_stopped() {
    let body = r#"trap '' TERM
n=0
while IFS= read -r l; do
  n=$((n+1))
  if [ $n -gt 2 ]; then
    sleep 1
    exec >&-
    sleep 1000 & echo $! >> "$PIDS"
    while :; do sleep 0.2; done
  fi
  answer "$(id_of "$l")"
done"#;
    let run = misbehaving(&["--check"], body);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("server closed its stdout after 2 of 5 requests were answered"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("killed by signal 9"), "{}", run.stdout);
    assert_idle(&run, 1.0);
}

#[test]
fn a_server_that_stops_answering_times_out_per_request() {
    // Reads nothing, ignores its closed stdin and SIGTERM: only SIGKILL ends it.
    let body = "trap '' TERM\nwhile :; do sleep 0.2; done";
    let run = misbehaving(&["--check", "--timeout", "0.3"], body);
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
}

#[test]
fn answers_twice_or_to_unknown_ids_are_extra() {
    let twice = r#"while IFS= read -r l; do
  id=$(id_of "$l"); [ "$id" = 1 ] && sleep 1; answer "$id"; answer "$id"
done"#;
    let run = misbehaving(&["--check"], twice);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("5 matched, 0 differing, 0 missing, 5 extra"),
        "{}",
        run.stdout
    );
    assert_idle(&run, 1.0);

    let strangers = r#"while IFS= read -r l; do answer "$(( $(id_of "$l") + 100 ))"; done"#;
    let run = misbehaving(&["--check", "--timeout", "0.3"], strangers);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("0 matched, 0 differing, 5 missing, 5 extra"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(r#""id":101"#), "{}", run.stdout);
    assert_idle(&run, 1.5);
}

#[test]
fn a_flooding_server_does_not_keep_replay_alive() {
    // Answers everything, then floods notifications forever, deaf to SIGTERM.
    let body = r#"trap '' TERM
n=0
while IFS= read -r l; do
  n=$((n+1)); answer "$(id_of "$l")"
  [ $n -eq 5 ] && exec yes '{"jsonrpc":"2.0","method":"log","params":{"x":1}}'
done"#;
    let run = misbehaving(&["--check"], body);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("5 responses compared: 5 matched"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("was stopped"), "{}", run.stdout);
    assert_flood_cheap(&run);
}

#[test]
fn a_flood_of_unexpected_responses_is_counted_not_kept() {
    // Each answer comes after 0.2 s, then 500 answers to an id never sent.
    let body = r#"while IFS= read -r l; do
  id=$(id_of "$l"); sleep 0.2; answer "$id"
  i=0; while [ $i -lt 500 ]; do answer 999; i=$((i+1)); done
done"#;
    let run = misbehaving(&["--check"], body);
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
    assert_flood_cheap(&run);
}
