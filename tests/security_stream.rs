//! Streaming `cat` and `stats` (issue 12, item 11): the same answers as the loaded store
//! on sessions full of pairing corner cases, several files at once, and memory that does
//! not grow with the file (peak RSS of the real binary, measured, not timed).

mod common;

use common::*;
use rpctap::record::{read_file, Event};
use rpctap::session::{Stats, Store};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// A pseudo-random session: requests both ways with numeric and string ids (reused ids
/// too), results, errors, cancellations before and after answers, notifications, noise,
/// stderr, and requests never answered.
#[allow(clippy::many_single_char_names)] // d, t, x: a generator's short-lived parts
fn session(seed: u64, n: usize) -> String {
    let mut x = seed | 1;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut s = String::from(
        r#"{"rpctap":1,"type":"session","id":"s","name":"s","command":["x"],"cwd":"/","pid":0,"started":"2026-12-01T09:00:00.000000Z"}"#,
    );
    s.push('\n');
    for seq in 1..=n {
        let t = format!(
            "2026-12-01T09:00:{:02}.{:06}Z",
            seq / 100_000 % 60,
            seq % 1_000_000
        );
        let dir = if next(4) == 0 { "s2c" } else { "c2s" };
        let back = if dir == "c2s" { "s2c" } else { "c2s" };
        let id = match next(3) {
            0 => format!("\"s{}\"", next(20)),
            _ => next(30).to_string(),
        };
        let method = ["a/b", "c", "textDocument/hover", "x\u{1b}]0;t\u{7}"]
            [usize::try_from(next(4)).unwrap()];
        let method = serde_json::to_string(method).unwrap();
        let (d, msg) = match next(9) {
            0..=2 => (
                dir,
                format!(r#"{{"jsonrpc":"2.0","id":{id},"method":{method}}}"#),
            ),
            3 | 4 => (
                back,
                format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"v":1}}}}"#),
            ),
            5 => (
                back,
                format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-1,"message":"no"}}}}"#),
            ),
            6 => (
                dir,
                format!(r#"{{"jsonrpc":"2.0","method":"$/cancelRequest","params":{{"id":{id}}}}}"#),
            ),
            7 => (dir, format!(r#"{{"jsonrpc":"2.0","method":{method}}}"#)),
            _ if next(40) == 0 => {
                // A gap (the disk failed): answers after it may be lost.
                let gap = format!(
                    r#"{{"type":"gap","t":"{t}","dir":"{back}","bytes":{},"reason":"disk"}}"#,
                    1 + next(99)
                );
                s.push_str(&gap);
                s.push('\n');
                continue;
            }
            _ => {
                let line = if next(2) == 0 {
                    format!(
                        r#"{{"seq":{seq},"t":"{t}","dir":"{dir}","noise":"log \u001b[2J line\n"}}"#
                    )
                } else {
                    format!(r#"{{"seq":{seq},"t":"{t}","dir":"stderr","text":"warn \u0007"}}"#)
                };
                s.push_str(&line);
                s.push('\n');
                continue;
            }
        };
        writeln!(
            s,
            r#"{{"seq":{seq},"t":"{t}","dir":"{d}","framing":"lsp","msg":{msg}}}"#
        )
        .unwrap();
    }
    writeln!(
        s,
        r#"{{"type":"exit","t":"2026-12-01T09:59:00.000000Z","code":0,"signal":null}}"#
    )
    .unwrap();
    s
}

fn store(path: &Path) -> Store {
    let mut store = Store::new();
    for e in read_file(path).unwrap() {
        store.push(e.unwrap());
    }
    store
}

fn streamed(path: &Path) -> Stats {
    Stats::stream(read_file(path).unwrap(), 0).unwrap()
}

#[test]
fn streamed_stats_equal_the_stores_on_pairing_corner_cases() {
    let dir = temp();
    let mut unknown = 0;
    for seed in 1..40u64 {
        let file = path(&dir, &format!("s{seed}.jsonl"));
        std::fs::write(&file, session(seed, 400)).unwrap();
        let (want, got) = (Stats::compute(&store(&file), None), streamed(&file));
        assert_eq!(got.methods, want.methods, "seed {seed}");
        assert_eq!(got.pending, want.pending, "seed {seed}");
        assert_eq!(got.cancelled, want.cancelled, "seed {seed}");
        assert_eq!(got.unknown, want.unknown, "seed {seed}");
        unknown += want.unknown.len();
        assert_eq!(got.gap_bytes, want.gap_bytes, "seed {seed}");
        assert_eq!(
            (got.messages, got.noise, got.stderr, got.invalid),
            (want.messages, want.noise, want.stderr, want.invalid)
        );
        let events: Vec<Event> = read_file(&file).unwrap().map(Result::unwrap).collect();
        assert!(events.len() > 300);
    }
    assert!(
        unknown > 0,
        "no request was left unanswered by a gap: the case is not tested"
    );
}

#[test]
fn streamed_cat_prints_what_the_store_prints_and_escapes_it() {
    let dir = temp();
    for seed in [3u64, 17, 29] {
        let file = path(&dir, &format!("s{seed}.jsonl"));
        std::fs::write(&file, session(seed, 400)).unwrap();
        let cat = |extra: &[&str]| {
            let out = rpctap(dir.path())
                .args(["cat", "--color", "never"])
                .args(extra)
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        // A filter that keeps every row goes through the loaded store.
        let all = cat(&["--filter", "dir:c2s | dir:s2c | kind:stderr"]);
        let streamed = cat(&[]);
        assert_eq!(streamed, all, "seed {seed}");
        assert!(streamed.contains("[pending]") && streamed.contains("[cancelled]"));
        assert!(
            !streamed.contains('\x1b') && !streamed.contains('\x07'),
            "{streamed}"
        );
        assert!(streamed.contains("\\x1b[2J"), "escaped, not dropped");
    }
}

#[test]
fn stats_take_several_files_and_escape_what_they_print() {
    let dir = temp();
    let (a, b) = (path(&dir, "a.jsonl"), path(&dir, "b.jsonl"));
    std::fs::write(&a, session(5, 300)).unwrap();
    std::fs::write(&b, session(6, 300)).unwrap();
    let run = |files: &[&Path], filter: Option<&str>| {
        let mut cmd = rpctap(dir.path());
        cmd.arg("stats").args(files);
        if let Some(f) = filter {
            cmd.args(["--filter", f]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let both = run(&[&a, &b], None);
    assert!(both.starts_with("2 files\n"), "{both}");
    let mut want = streamed(&a);
    want.merge(streamed(&b));
    let first = both.lines().nth(1).unwrap();
    assert_eq!(
        first,
        format!(
            "{} messages, {} noise, {} stderr lines, {} invalid",
            want.messages, want.noise, want.stderr, want.invalid
        )
    );
    assert!(both.contains(&format!("in {}", b.display())), "{both}");
    assert!(
        !both.contains('\x1b') && both.contains("x\\x1b]0;t\\x07"),
        "{both}"
    );
    // Through the store (a filter), the same numbers.
    let filtered = run(&[&a, &b], Some("dir:c2s | dir:s2c | kind:stderr"));
    assert_eq!(
        filtered.lines().skip(1).collect::<Vec<_>>(),
        both.lines().collect::<Vec<_>>()[..]
    );
}

/// Peak RSS of a child in KiB (getrusage via wait4), with a hang guard.
fn peak_rss_kb(mut cmd: std::process::Command) -> i64 {
    use std::process::Stdio;
    let child = cmd
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
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    kb
}

#[test]
fn pretty_cat_and_stats_do_not_hold_the_file() {
    let dir = temp();
    let file = path(&dir, "big.jsonl");
    // About 120 MB: bodies of 4 KB, answered requests.
    let header = r#"{"rpctap":1,"type":"session","id":"b","name":"b","command":["x"],"cwd":"/","pid":0,"started":"2026-12-01T09:00:00.000000Z"}"#;
    let pad = "p".repeat(4000);
    // Written line by line: a child's peak RSS counts this process's at its spawn.
    let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(w, "{header}").unwrap();
    for i in 0..30_000u64 {
        let t = format!("2026-12-01T09:00:00.{:06}Z", i % 1_000_000);
        let (dir, msg) = if i % 2 == 0 {
            (
                "c2s",
                format!(
                    r#"{{"jsonrpc":"2.0","id":{},"method":"m","params":"{pad}"}}"#,
                    i / 2
                ),
            )
        } else {
            (
                "s2c",
                format!(r#"{{"jsonrpc":"2.0","id":{},"result":"{pad}"}}"#, i / 2),
            )
        };
        writeln!(
            w,
            r#"{{"seq":{i},"t":"{t}","dir":"{dir}","framing":"lsp","msg":{msg}}}"#
        )
        .unwrap();
    }
    drop(w);
    let size_kb = i64::try_from(std::fs::metadata(&file).unwrap().len()).unwrap() / 1024;
    for args in [&["cat"][..], &["cat", "--format", "jsonl"], &["stats"]] {
        let mut cmd = rpctap(dir.path());
        cmd.args(args).arg(&file);
        let kb = peak_rss_kb(cmd);
        eprintln!("{args:?} on {size_kb} KiB: peak {kb} KiB");
        assert!(
            kb < size_kb / 2,
            "{args:?} peaked at {kb} KiB for a {size_kb} KiB file"
        );
    }
}

#[test]
fn streamed_cat_and_stats_agree_with_the_store_on_every_fixture_format() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.extend(
        std::fs::read_dir(fixtures.join("formats"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    let dir = temp();
    let run = |args: &[&str], file: &Path| {
        let out = rpctap(dir.path()).args(args).arg(file).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let all = "dir:c2s | dir:s2c | kind:stderr";
    let mut compared = 0;
    for f in files.iter().filter(|f| f.is_file()) {
        let streamed = run(&["cat", "--color", "never"], f);
        if streamed.0 != Some(0) {
            continue; // not a format rpctap reads (a README, say)
        }
        assert_eq!(
            streamed,
            run(&["cat", "--color", "never", "--filter", all], f),
            "{f:?}"
        );
        let stats = run(&["stats"], f).1;
        let filtered = run(&["stats", "--filter", all], f).1;
        assert_eq!(
            filtered.lines().skip(1).collect::<Vec<_>>(),
            stats.lines().collect::<Vec<_>>(),
            "{f:?}"
        );
        compared += 1;
    }
    assert!(compared >= 8, "only {compared} fixtures compared");
}
