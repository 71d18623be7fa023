//! What a recording must hold after a run: every message the load generator sent and
//! received, in both directions, no gap, and `rpctap cat --wire c2s|s2c` equal to the bytes
//! that crossed (compared by fingerprint and length, so gigabytes are never held).
//!
//! The messages are counted with the project's own reader while the two `cat --wire`
//! processes run beside it: the check reads a large recording three times, and the three
//! readings overlap instead of adding up.

use crate::e2e_proc::shim;
use crate::wire_hash::{digest_of, Digest};
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

/// What crossed the wire in one run, as the load generator saw it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traffic {
    pub c2s: Digest,
    pub s2c: Digest,
    pub c2s_msgs: u64,
    pub s2c_msgs: u64,
}

/// What a recording kept, next to what crossed.
#[derive(Debug, Clone, Default)]
pub struct RecordingCheck {
    pub expected: Traffic,
    pub c2s_msgs: u64,
    pub s2c_msgs: u64,
    pub gaps: u64,
    pub lost_bytes: u64,
    pub noise: u64,
    /// Bytes on disk under the session's directory (the recording and anything beside it).
    pub disk_bytes: u64,
    pub c2s_wire: Digest,
    pub s2c_wire: Digest,
    /// What went wrong reading it back (a reader error, `cat` failing, its warnings).
    pub problems: Vec<String>,
    /// How long reading it back took (the cost of this check, not of the shim).
    pub secs: f64,
}

impl RecordingCheck {
    pub fn c2s_wire_ok(&self) -> bool {
        self.c2s_wire == self.expected.c2s
    }

    pub fn s2c_wire_ok(&self) -> bool {
        self.s2c_wire == self.expected.s2c
    }

    /// Everything that crossed is in the recording, and nothing else.
    pub fn complete(&self) -> bool {
        self.c2s_msgs == self.expected.c2s_msgs
            && self.s2c_msgs == self.expected.s2c_msgs
            && self.gaps == 0
            && self.noise == 0
            && self.c2s_wire_ok()
            && self.s2c_wire_ok()
            && self.problems.is_empty()
    }

    /// One line saying what differs, for a loud message on stderr.
    pub fn mismatch(&self) -> String {
        let mut parts = self.differences();
        parts.extend(self.problems.iter().cloned());
        parts.join("; ")
    }

    /// What differs, short enough for a table cell: counts, gaps, noise, which stream
    /// (or, when those agree, what went wrong reading it back).
    pub fn summary(&self) -> String {
        let parts = self.differences();
        if parts.is_empty() {
            self.problems.join("; ")
        } else {
            parts.join("; ")
        }
    }

    fn differences(&self) -> Vec<String> {
        let mut parts = Vec::new();
        let e = &self.expected;
        if self.c2s_msgs != e.c2s_msgs || self.s2c_msgs != e.s2c_msgs {
            parts.push(format!(
                "messages c2s {} of {}, s2c {} of {}",
                self.c2s_msgs, e.c2s_msgs, self.s2c_msgs, e.s2c_msgs
            ));
        }
        if self.gaps > 0 {
            parts.push(format!(
                "{} gaps ({:.1} MB not recorded)",
                self.gaps,
                self.lost_bytes as f64 / 1e6
            ));
        }
        if self.noise > 0 {
            parts.push(format!("{} noise lines", self.noise));
        }
        for (dir, got, want) in [("c2s", self.c2s_wire, e.c2s), ("s2c", self.s2c_wire, e.s2c)] {
            if got != want {
                parts.push(format!(
                    "cat --wire {dir} differs from the wire ({} of {} bytes{})",
                    got.len,
                    want.len,
                    if got.len == want.len {
                        ", other content"
                    } else {
                        ""
                    }
                ));
            }
        }
        parts
    }
}

/// Reads the recording at `path` back and compares it with `expected`.
pub fn check_recording(dir: &Path, path: &Path, expected: Traffic) -> RecordingCheck {
    let start = std::time::Instant::now();
    let mut check = RecordingCheck {
        expected,
        disk_bytes: disk_usage(dir),
        ..RecordingCheck::default()
    };
    let cats = ["c2s", "s2c"].map(|d| {
        thread::spawn({
            let path = path.to_owned();
            move || cat_wire(&path, d)
        })
    });
    if let Err(e) = count(path, &mut check) {
        check.problems.push(format!("reading it back: {e}"));
    }
    let [c2s, s2c] = cats.map(|t| {
        t.join()
            .unwrap_or_else(|_| Err(io::Error::other("panicked")))
    });
    for (dir, result, slot) in [
        ("c2s", c2s, &mut check.c2s_wire),
        ("s2c", s2c, &mut check.s2c_wire),
    ] {
        match result {
            Ok((digest, warning)) => {
                *slot = digest;
                if let Some(w) = warning {
                    check.problems.push(format!("cat --wire {dir}: {w}"));
                }
            }
            Err(e) => check.problems.push(format!("cat --wire {dir}: {e}")),
        }
    }
    check.secs = start.elapsed().as_secs_f64();
    check
}

/// Counts the recording's messages per direction, its gaps and its noise.
fn count(path: &Path, check: &mut RecordingCheck) -> Result<(), String> {
    use rpctap::record::{Dir, Event};
    let reader = rpctap::record::read_file(path).map_err(|e| e.to_string())?;
    for event in reader {
        match event.map_err(|e| e.to_string())? {
            Event::Message(m) if m.dir == Dir::C2s => check.c2s_msgs += 1,
            Event::Message(_) => check.s2c_msgs += 1,
            Event::Gap(g) => {
                check.gaps += 1;
                check.lost_bytes += g.bytes;
            }
            Event::Noise(_) => check.noise += 1,
            _ => {}
        }
    }
    Ok(())
}

/// `rpctap cat --wire DIR FILE`: the fingerprint of its output, and the first line of
/// anything it said on stderr (a warning means it knows the stream is incomplete).
fn cat_wire(path: &Path, dir: &str) -> io::Result<(Digest, Option<String>)> {
    let mut child = Command::new(shim())
        .args(["cat", "--wire", dir])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = child.stderr.take().ok_or(io::ErrorKind::BrokenPipe)?;
    let errs = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.by_ref().take(64 * 1024).read_to_string(&mut s);
        s
    });
    let digest = digest_of(child.stdout.take().ok_or(io::ErrorKind::BrokenPipe)?);
    let status = child.wait()?;
    let said = errs.join().unwrap_or_default();
    let first = said.lines().next().map(str::to_owned);
    let digest = digest?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "exited with {status}: {}",
            first.unwrap_or_default()
        )));
    }
    Ok((digest, first))
}

/// Bytes of the regular files under `dir`, recursively.
fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => disk_usage(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}
