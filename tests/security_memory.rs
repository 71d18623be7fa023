//! Hostile shapes through the real binary, measured: a 400 KB recording of messages nested
//! 100,000 deep must not make `cat`, `stats`, filters, jq or the TUI's pretty, pair and
//! wire views take memory quadratic in the depth (it took `rpctap open` past 6 GB).
//! Peak resident memory is measured (getrusage of the child, or /proc for the TUI); no
//! wall-clock time is asserted.

mod common;
mod tmux;

use common::*;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tmux::Tmux;

/// Peak RSS allowed, in KiB, for a debug build reading the deep file. The quadratic
/// printer needed gigabytes; linear costs a few tens of megabytes.
const BOUND_KB: i64 = 300 * 1024;

const DEPTH: usize = 100_000;

fn deep_recording(dir: &Path) -> std::path::PathBuf {
    let header = r#"{"rpctap":1,"type":"session","id":"d","name":"deep","command":["x"],"cwd":"/","pid":0,"started":"2026-12-01T09:00:00.000000Z"}"#;
    let arrays = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let objects = format!("{}1{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH));
    let mut text = format!("{header}\n");
    for (seq, (dir, body)) in [("c2s", arrays), ("s2c", objects)].into_iter().enumerate() {
        let _ = writeln!(text, "{{\"seq\":{},\"t\":\"2026-12-01T09:00:00.00000{}Z\",\"dir\":\"{dir}\",\"framing\":\"ndjson\",\"msg\":{body}}}",
            seq + 1,
            seq + 1
        );
    }
    let path = dir.join("deep.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `cmd` to its end and returns its exit code and peak resident memory in KiB.
fn peak_rss(mut cmd: Command) -> (i32, i64) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        let mut child = child;
        if rx.recv_timeout(HANG).is_err() {
            let _ = child.kill();
        }
    });
    let waited = rpctap::os::wait_peak_rss(pid);
    let _ = tx.send(());
    guard.join().unwrap();
    let (status, kb) = waited.expect("wait4");
    assert!(
        libc::WIFEXITED(status),
        "killed (status {status:#x}): hung or aborted"
    );
    (libc::WEXITSTATUS(status), kb)
}

#[test]
fn cat_stats_filters_and_jq_stay_linear_on_deep_nesting() {
    let dir = temp();
    let file = deep_recording(dir.path());
    let runs: &[&[&str]] = &[
        &["cat"],
        &["cat", "--format", "json"],
        &["cat", "--format", "jsonl"],
        &["cat", "--filter", ".a.a.a == 1"],
        &["cat", "--filter", "has(.a)"],
        &["cat", "--filter", "jq:.a"],
        &["cat", "--filter", "pair(.a == 1)"],
        &["stats"],
    ];
    for args in runs {
        let mut cmd = rpctap(dir.path());
        cmd.args(*args).arg(&file);
        let (code, kb) = peak_rss(cmd);
        assert!(code == 0 || code == 2, "{args:?} exited {code}");
        eprintln!("{args:?}: peak {kb} KiB");
        assert!(kb < BOUND_KB, "{args:?} peaked at {kb} KiB");
    }
}

fn vm_hwm_kb(pid: &str) -> i64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_tui_pretty_pair_and_wire_views_stay_linear_on_deep_nesting() {
    let dir = temp();
    let file = deep_recording(dir.path());
    let Some(tmux) = Tmux::start("mem", dir.path(), &[OsStr::new("open"), file.as_os_str()]) else {
        eprintln!("skipped: tmux is not installed");
        return;
    };
    let pid = tmux.pane_pid();
    tmux.wait_for("batch");
    let steps = [
        ("Tab", "\n  [\n"),
        ("2", "a batch has no response"),
        ("3", "200001 bytes on the wire"),
        ("Tab", "Messages  1/2"),
        ("j", "Messages  2/2"),
        ("Tab", "600002 bytes on the wire"),
        ("1", "\"a\": {"),
        ("2", "a invalid has no response"),
    ];
    for (key, shown) in steps {
        let ok = tmux
            .cmd()
            .args(["send-keys", "-t", "s", key])
            .status()
            .unwrap();
        assert!(ok.success());
        tmux.wait_for(shown);
        // The detail pane is built when the key is handled; give the frame after it time.
        std::thread::sleep(Duration::from_millis(300));
        let kb = vm_hwm_kb(&pid);
        eprintln!("open, after {key}: peak {kb} KiB");
        assert!(kb < BOUND_KB, "after {key}: peak {kb} KiB");
    }
}
