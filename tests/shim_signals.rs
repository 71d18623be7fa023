//! A terminating signal sent to the shim reaches the child; a child that ignores it is
//! stopped as on stdin EOF (grace, SIGTERM, grace, SIGKILL) while rpctap's stdin stays
//! open, and rpctap exits with the child's status. Through the real binary.

mod common;

use common::*;
use std::process::Stdio;
use std::time::Duration;

/// Starts `rpctap -- sh -c SCRIPT` with its stdin held open; returns once the child has
/// run `ready` (which writes its pid), so its traps are in place.
fn start(trap: &str, grace: &str) -> (std::process::Child, std::process::ChildStdin, u32) {
    let dir = temp();
    let pidfile = dir.path().join("child.pid");
    let script = format!(
        "{trap}; echo $$ > '{}'; while :; do sleep 0.1; done",
        pidfile.display()
    );
    let mut shim = rpctap(dir.path())
        .args(["--no-record", "--grace", grace, "--", "sh", "-c"])
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdin = shim.stdin.take().unwrap();
    let mut child_pid = None;
    for _ in 0..500 {
        child_pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        if child_pid.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (shim, stdin, child_pid.expect("the child started"))
}

/// Sends `signal_name` to a shim whose child ignores INT, TERM and HUP and never reads its
/// stdin, while rpctap's stdin stays open; returns rpctap's exit code.
fn signalled(signal_name: &str) -> i32 {
    let (mut shim, _stdin, child_pid) = start("trap '' INT TERM HUP", "0.3");
    signal(shim.id(), signal_name);
    let status = wait_bounded(&mut shim, HANG);
    assert!(
        wait_gone(child_pid, Duration::from_secs(5)),
        "child {child_pid} left behind"
    );
    status.code().unwrap_or(-1)
}

#[test]
fn sigterm_to_a_child_that_ignores_it_escalates_to_sigkill() {
    let code = signalled("TERM");
    // The child ignored SIGTERM too and died of SIGKILL: 128 + 9.
    assert_eq!(code, 137);
}

#[test]
fn sigint_and_sighup_escalate_the_same_way() {
    assert_eq!(signalled("INT"), 137);
    assert_eq!(signalled("HUP"), 137);
}

#[test]
fn a_child_that_honours_the_signal_gives_its_own_status() {
    let (mut shim, _stdin, _) = start("trap 'exit 42' TERM", "30");
    signal(shim.id(), "TERM");
    let status = wait_bounded(&mut shim, HANG);
    assert_eq!(status.code(), Some(42));
}

#[test]
fn a_stream_of_signals_does_not_hold_the_escalation_back() {
    let (mut shim, _stdin, child_pid) = start("trap '' INT TERM HUP", "0.3");
    let pid = shim.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Faster than the grace: each signal arrives before the next step is due.
            while !done.load(std::sync::atomic::Ordering::Relaxed) && !is_gone(pid) {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let status = wait_bounded(&mut shim, HANG);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
    assert_eq!(status.code(), Some(137));
    assert!(wait_gone(child_pid, Duration::from_secs(5)));
}
