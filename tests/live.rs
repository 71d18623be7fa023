//! The live feed through the real binary: backlog + live lines equal the recording, a
//! stalled viewer is cut off without slowing the shim, discovery, and permissions.

mod common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A shim around `cat` whose stdin the test holds.
fn cat_shim(home: &Path, rec: &Path) -> Child {
    rpctap(home)
        .arg("--record")
        .arg(rec)
        .args(["--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn socket_of(home: &Path, pid: u32) -> PathBuf {
    let sock = home.join("run").join(format!("{pid}.sock"));
    let start = Instant::now();
    // The discovery file is written just after the bind: wait for both.
    while !sock.exists() || !sock.with_extension("json").exists() {
        assert!(start.elapsed() < HANG, "no socket at {}", sock.display());
        std::thread::sleep(Duration::from_millis(10));
    }
    sock
}

fn drain_stdout(child: &mut Child) -> std::thread::JoinHandle<Vec<u8>> {
    let mut out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    })
}

fn read_all(mut s: UnixStream) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = s.read_to_end(&mut v);
        v
    })
}

fn line(i: usize) -> Vec<u8> {
    format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"m/{i}\"}}\n").into_bytes()
}

#[test]
fn a_viewer_attaching_mid_session_gets_exactly_the_recording() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let mut shim = cat_shim(dir.path(), &rec);
    let out = drain_stdout(&mut shim);
    let mut stdin = shim.stdin.take().unwrap();
    for i in 0..50 {
        stdin.write_all(&line(i)).unwrap();
    }
    stdin.flush().unwrap();
    let early = read_all(UnixStream::connect(socket_of(dir.path(), shim.id())).unwrap());
    std::thread::sleep(Duration::from_millis(50));
    let late = read_all(UnixStream::connect(socket_of(dir.path(), shim.id())).unwrap());
    for i in 50..100 {
        stdin.write_all(&line(i)).unwrap();
    }
    drop(stdin);
    assert_eq!(wait_bounded(&mut shim, HANG).code(), Some(0));
    out.join().unwrap();
    let recording = std::fs::read(&rec).unwrap();
    assert_eq!(
        memchr::memchr_iter(b'\n', &recording).count(),
        202,
        "session + 200 messages + exit"
    );
    assert!(
        early.join().unwrap() == recording,
        "early viewer differs from the recording"
    );
    assert!(
        late.join().unwrap() == recording,
        "late viewer differs from the recording"
    );
    assert!(
        !socket_of_exists(dir.path(), shim.id()),
        "socket left behind"
    );
}

fn socket_of_exists(home: &Path, pid: u32) -> bool {
    home.join("run").join(format!("{pid}.sock")).exists()
}

#[test]
fn a_stalled_viewer_never_slows_the_shim_and_gets_everything_when_it_reads() {
    let dir = temp();
    let rec = path(&dir, "rec.jsonl");
    let mut shim = cat_shim(dir.path(), &rec);
    let mut out = shim.stdout.take().unwrap();
    let sock = socket_of(dir.path(), shim.id());
    let stalled = UnixStream::connect(&sock).unwrap();
    let good = read_all(UnixStream::connect(&sock).unwrap());
    // ~24 MB each way, unpaced: far more than a socket buffer holds for the stalled viewer.
    let payload = "x".repeat(4000);
    let sent: Vec<u8> = (0..6000)
        .flat_map(|i| format!("{{\"jsonrpc\":\"2.0\",\"method\":\"load\",\"params\":{{\"i\":{i},\"p\":\"{payload}\"}}}}\n").into_bytes())
        .collect();
    // Forwarding finishes (every byte comes back through cat) while the stalled viewer has
    // read nothing.
    let (tx, rx) = std::sync::mpsc::channel();
    let want = sent.len();
    std::thread::spawn(move || {
        let mut v = vec![0; want];
        let _ = tx.send(out.read_exact(&mut v).map(|()| v));
        let _ = out.read_to_end(&mut Vec::new());
    });
    let mut stdin = shim.stdin.take().unwrap();
    stdin.write_all(&sent).unwrap();
    let forwarded = rx
        .recv_timeout(HANG)
        .expect("forwarding waited for the stalled viewer")
        .unwrap();
    assert!(forwarded == sent, "forwarding was affected");
    drop(stdin);
    // Now it reads: it gets the whole recording, as the reading viewer did.
    let stalled = read_all(stalled);
    assert_eq!(wait_bounded(&mut shim, HANG).code(), Some(0));
    let recording = std::fs::read(&rec).unwrap();
    assert!(
        !recording.windows(12).any(|w| w == b"\"type\":\"gap\""),
        "a gap was recorded"
    );
    // Session line, 6000 messages each way (cat echoes), exit line.
    assert_eq!(memchr::memchr_iter(b'\n', &recording).count(), 12002);
    assert!(
        good.join().unwrap() == recording,
        "the reading viewer missed events"
    );
    let stalled = stalled.join().unwrap();
    assert!(
        stalled == recording,
        "the stalled viewer missed events: {} of {} bytes",
        stalled.len(),
        recording.len()
    );
}

#[test]
fn ls_marks_live_sessions_and_ended_ones() {
    let dir = temp();
    let mut shim = rpctap(dir.path())
        .args(["--name", "watched", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    socket_of(dir.path(), shim.id());
    let ls =
        |home: &Path| String::from_utf8(rpctap(home).arg("ls").output().unwrap().stdout).unwrap();
    let listing = ls(dir.path());
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("live ") && l.contains("watched")),
        "{listing}"
    );
    drop(shim.stdin.take());
    wait_bounded(&mut shim, HANG);
    let listing = ls(dir.path());
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("ended") && l.contains("watched")),
        "{listing}"
    );
}

#[test]
fn stale_files_of_a_dead_shim_are_cleaned_up() {
    let dir = temp();
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A pid that cannot be running: beyond pid_max.
    let stale = run.join("99999999.json");
    std::fs::write(&stale, br#"{"rpctap":1,"type":"session","id":"x","name":"ghost","command":["x"],"started":"2026-01-01T00:00:00.000000Z"}"#).unwrap();
    // A real socket: only files of the kinds a shim makes are removed (issue 12).
    drop(std::os::unix::net::UnixListener::bind(run.join("99999999.sock")).unwrap());
    let out = rpctap(dir.path()).arg("ls").output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ghost"));
    assert!(!stale.exists() && !run.join("99999999.sock").exists());
}

#[test]
fn permissions_are_private_and_unsafe_directories_are_refused() {
    let dir = temp();
    let mut shim = cat_shim(dir.path(), &path(&dir, "rec.jsonl"));
    let sock = socket_of(dir.path(), shim.id());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sock), 0o600);
    assert_eq!(mode(&dir.path().join("run")), 0o700);
    assert_eq!(mode(&sock.with_extension("json")), 0o600);
    drop(shim.stdin.take());
    wait_bounded(&mut shim, HANG);

    // A world-writable runtime directory is refused; forwarding goes on regardless.
    std::fs::set_permissions(
        dir.path().join("run"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let mut cmd = rpctap(dir.path());
    cmd.args(["--no-record", "--", "cat"]);
    let out = run_with_input(cmd, line(1), 64);
    assert_eq!(out.stdout, line(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("writable by others") && err.contains("refusing"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one warning line: {err}");
}

/// Under `umask 000` a socket bound and then chmodded by path is 0777 for a moment, and
/// the chmod would follow a link put there in between; this one is created 0600 (issue 12).
/// strace shows the syscalls: the bind, and no chmod of any kind on the socket.
#[test]
fn the_socket_is_created_private_with_no_chmod_even_under_umask_000() {
    let dir = temp();
    let trace = path(&dir, "trace");
    let script = "umask 000; exec \"$0\" \"$@\"";
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=%file,bind", "-o"])
        .arg(&trace)
        .args(["sh", "-c", script, BIN, "--no-record", "--", "cat"])
        .env("RPCTAP_HOME", dir.path());
    let out = match cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn() {
        Ok(child) => run_child_with_input(child, &line(1)),
        Err(e) => return eprintln!("skipped: strace cannot run here ({e})"),
    };
    let Ok(trace) = std::fs::read_to_string(&trace) else {
        return eprintln!("skipped: strace wrote no trace (ptrace not permitted?)");
    };
    assert_eq!(out, line(1), "forwarding goes on under strace");
    let bind = trace
        .lines()
        .find(|l| l.contains("bind(") && l.contains(".sock"));
    assert!(bind.is_some(), "no bind seen:\n{trace}");
    let chmods: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("chmod") && l.contains(".sock"))
        .collect();
    assert!(chmods.is_empty(), "the socket was chmodded: {chmods:?}");
}

fn run_child_with_input(mut child: Child, input: &[u8]) -> Vec<u8> {
    let mut stdin = child.stdin.take().unwrap();
    let out = drain_stdout(&mut child);
    stdin.write_all(input).unwrap();
    drop(stdin);
    wait_bounded(&mut child, HANG);
    out.join().unwrap()
}

/// The mode the socket is born with, seen from outside under `umask 000`, and the umask
/// rpctap was given still applies to the rest of the process.
#[test]
fn the_socket_is_0600_from_its_first_sighting_under_umask_000() {
    use std::os::unix::fs::FileTypeExt;
    let dir = temp();
    let mut shim = std::process::Command::new("sh")
        .args([
            "-c",
            "umask 000; exec \"$0\" \"$@\"",
            BIN,
            "--no-record",
            "--",
            "cat",
        ])
        .env("RPCTAP_HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sock = dir.path().join("run").join(format!("{}.sock", shim.id()));
    let start = Instant::now();
    let mut seen = Vec::new();
    while seen.len() < 100 {
        assert!(start.elapsed() < HANG, "no socket at {}", sock.display());
        if let Ok(meta) = std::fs::symlink_metadata(&sock) {
            assert!(meta.file_type().is_socket());
            seen.push(meta.permissions().mode() & 0o777);
        }
    }
    let odd: Vec<String> = seen
        .iter()
        .filter(|&&m| m != 0o600)
        .map(|m| format!("{m:o}"))
        .collect();
    assert!(odd.is_empty(), "modes seen besides 600: {odd:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", shim.id())).unwrap();
    assert!(status.contains("Umask:\t0000"), "{status}");
    drop(shim.stdin.take());
    wait_bounded(&mut shim, HANG);
}
