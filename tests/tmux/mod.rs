//! A private tmux server running the real binary in a real terminal, for the security
//! tests that must see the TUI (memory of its views, its header): started with a socket
//! of its own so that tests run in parallel, killed when dropped.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux(String);

impl Tmux {
    /// `rpctap ARGS` in a 120x40 terminal with its state directory in `home`; `None`
    /// when tmux is not installed.
    pub fn start(name: &str, home: &Path, args: &[&OsStr]) -> Option<Tmux> {
        Command::new("tmux").arg("-V").output().ok()?;
        let t = Tmux(format!("rpctap-sec-{name}-{}", std::process::id()));
        let quote = |s: &OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
        let mut command = format!(
            "RPCTAP_HOME={} exec {}",
            quote(home.as_os_str()),
            quote(OsStr::new(super::common::BIN))
        );
        for a in args {
            command.push(' ');
            command.push_str(&quote(a));
        }
        let ok = t
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                "s",
                "-x",
                "120",
                "-y",
                "40",
                &command,
            ])
            .status()
            .ok()?;
        assert!(ok.success(), "tmux new-session failed");
        Some(t)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.0]);
        c
    }

    /// The pid of the process in the pane (rpctap, which the shell exec'd).
    pub fn pane_pid(&self) -> String {
        let out = self
            .cmd()
            .args(["display", "-p", "-t", "s", "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn keys(&self, key: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "s", key])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "s"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (with a hang guard) until the screen shows `what`; returns that screen.
    pub fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < super::common::HANG,
                "never shown: {what}\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}
