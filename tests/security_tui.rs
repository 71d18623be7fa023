//! The TUI in a real terminal (tmux) on a recording whose shim was killed: no exit line
//! and no shim behind the file is "ended (no exit recorded)", not "● live" forever.

mod common;
mod tmux;

use common::*;
use std::ffi::OsStr;
use std::process::Stdio;
use tmux::Tmux;

#[test]
fn a_recording_whose_shim_was_killed_ends_without_an_exit_line() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    // A real shim, recording, with its stdin held open so that it keeps running.
    let mut shim = rpctap(dir.path())
        .arg("--record")
        .arg(&rec)
        .args(["--no-live", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::fs::metadata(&rec).map_or(0, |m| m.len()) == 0 {
        assert!(started.elapsed() < HANG, "the shim never wrote its header");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let Some(tmux) = Tmux::start("noexit", dir.path(), &[OsStr::new("open"), rec.as_os_str()])
    else {
        eprintln!("skipped: tmux is not installed");
        let _ = shim.kill();
        let _ = shim.wait();
        return;
    };
    // While the shim runs, the file is live.
    tmux.wait_for("● live");
    signal(shim.id(), "KILL");
    wait_bounded(&mut shim, HANG);
    let screen = tmux.wait_for("ended (no exit recorded)");
    assert!(!screen.contains("● live"), "{screen}");
    assert!(
        std::fs::read_to_string(&rec).unwrap().lines().count() == 1,
        "no exit line was written"
    );
}
