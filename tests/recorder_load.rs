//! The recorder under load and under a failing disk, through the real binary: large and
//! many messages recorded whole (the wire rebuilt from the recording equals what crossed),
//! and a disk that fills up mid-session leaves forwarding unharmed, one warning, gap lines
//! that count what is missing, and a readable file.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn ndjson(n: usize, size: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            let head = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"load","params":""#);
            let mut m = head.into_bytes();
            m.resize(size - 3, b'x');
            m.extend_from_slice(b"\"}\n");
            m
        })
        .collect()
}

fn lsp_frames(n: usize, size: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            let head = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"load","params":""#);
            let mut body = head.into_bytes();
            body.resize(size - 2, b'y');
            body.extend_from_slice(b"\"}");
            let mut f = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
            f.extend_from_slice(&body);
            f
        })
        .collect()
}

struct Kept {
    messages: usize,
    gaps: Vec<rpctap::record::Gap>,
}

fn read_back(file: &Path) -> Kept {
    let mut kept = Kept {
        messages: 0,
        gaps: Vec::new(),
    };
    for event in rpctap::record::read_file(file).expect("open the recording") {
        match event.expect("every line of the recording reads back") {
            rpctap::record::Event::Message(_) => kept.messages += 1,
            rpctap::record::Event::Gap(g) => kept.gaps.push(g),
            _ => {}
        }
    }
    kept
}

/// Both directions (cat echoes) recorded whole, and rebuilt byte for byte.
fn recorded_whole(input: &[u8], n: usize) {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let mut cmd = rpctap(dir.path());
    cmd.arg("--record")
        .arg(&rec)
        .args(["--no-live", "--", "cat"]);
    let out = run_with_input(cmd, input.to_vec(), 1 << 20);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == input, "forwarding changed the bytes");
    let kept = read_back(&rec);
    assert!(kept.gaps.is_empty(), "gaps: {:?}", kept.gaps);
    assert_eq!(kept.messages, 2 * n);
    assert!(
        wire(dir.path(), &rec, "c2s") == input,
        "c2s rebuilt differs"
    );
    assert!(
        wire(dir.path(), &rec, "s2c") == input,
        "s2c rebuilt differs"
    );
}

#[test]
fn eight_messages_of_eight_megabytes_are_recorded_whole() {
    recorded_whole(&lsp_frames(8, 8 << 20), 8);
}

#[test]
fn a_hundred_thousand_small_messages_unpaced_are_all_recorded() {
    recorded_whole(&ndjson(100_000, 200), 100_000);
}

/// A small tmpfs, mounted for the test (needs root); unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        if rpctap::os::euid() != 0 {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here");
            return None;
        }
        Some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_disk_leaves_forwarding_unharmed_and_a_readable_file_that_counts_the_loss() {
    let Some(fs) = Tmpfs::mount("2m") else {
        return;
    };
    let home = temp();
    let rec = fs.0.path().join("rec.jsonl");
    let input = ndjson(4000, 2000); // 8 MB each way, four times the disk
    let mut cmd = rpctap(home.path());
    cmd.arg("--record")
        .arg(&rec)
        .args(["--no-live", "--", "cat"]);
    let out = run_with_input(cmd, input.clone(), 64 * 1024);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == input, "forwarding was harmed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("rpctap: warning").count(),
        1,
        "one warning, not: {stderr}"
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");

    let kept = read_back(&rec);
    assert!(!kept.gaps.is_empty(), "no gap line");
    for dir in ["c2s", "s2c"] {
        let lost: u64 = kept
            .gaps
            .iter()
            .filter(|g| g.dir.map(rpctap::record::Dir::as_str) == Some(dir))
            .map(|g| g.bytes)
            .sum();
        let rebuilt = wire(home.path(), &rec, dir).len() as u64;
        assert_eq!(
            rebuilt + lost,
            input.len() as u64,
            "{dir}: recorded bytes and counted losses add up to what crossed"
        );
    }
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.contains("\"type\":\"exit\"")),
        "the exit line is kept, but the file ends: {}",
        text.lines()
            .rev()
            .take(3)
            .map(|l| &l[..l.len().min(200)])
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn bytes_the_child_never_took_are_not_part_of_the_rebuilt_wire() {
    use std::io::{BufRead, BufReader, Write};
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    // The server reads one line, closes its stdin, says so, and lingers.
    let mut shim = rpctap(dir.path())
        .arg("--record")
        .arg(&rec)
        .args(["--no-live", "--", "sh", "-c"])
        .arg("read -r l; exec 0<&-; echo '{\"jsonrpc\":\"2.0\",\"method\":\"ready\"}'; sleep 1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = shim.stdin.take().unwrap();
    let first = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}\n";
    stdin.write_all(first).unwrap();
    let mut ready = String::new();
    BufReader::new(shim.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert!(ready.contains("ready"), "{ready}");
    // The child's stdin is closed now: these are forwarded into nothing.
    for id in 2..4 {
        let _ = writeln!(
            stdin,
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"b\"}}"
        );
    }
    drop(stdin);
    wait_bounded(&mut shim, HANG);
    assert!(
        wire(dir.path(), &rec, "c2s") == first,
        "only what the child took is on its wire"
    );
    assert_eq!(
        read_back(&rec).messages,
        4,
        "all three requests are still recorded"
    );
}
