//! A new user's first hour (issue 14) and safe file creation (issue 12.1), through the
//! real binary: the server command without `--`, recordings never overwritten or
//! followed through links, placeholders, directories, the index of recordings kept
//! elsewhere, and a command that cannot start.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const REQ: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `rpctap ARGS` with `lsp(REQ)` on stdin.
fn shim(home: &Path, args: &[&str]) -> Output {
    let mut cmd = rpctap(home);
    cmd.args(args);
    run_with_input(cmd, lsp(REQ), 1 << 16)
}

#[test]
fn the_server_command_needs_no_dashes_and_keeps_its_options() {
    let dir = temp();
    let rec = path(&dir, "r.jsonl");
    let rec_s = rec.to_str().unwrap();
    // Options after the command are the server's, even rpctap's own names.
    let out = shim(
        dir.path(),
        &[
            "--record", rec_s, "printf", "%s|", "--help", "--record", "x",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, b"--help|--record|x|");
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.contains(r#""command":["printf","%s|","--help","--record","x"]"#),
        "{text}"
    );
    // `--` stays the explicit form, and a second one belongs to the server.
    let out = shim(
        dir.path(),
        &["--no-record", "--", "printf", "%s|", "--", "-v"],
    );
    assert_eq!(out.stdout, b"--|-v|");
    // `proxy` takes the command the same way.
    let out = shim(dir.path(), &["proxy", "--no-record", "cat"]);
    assert_eq!(out.stdout, lsp(REQ));
}

#[test]
fn subcommand_names_win_and_dashes_reach_a_server_named_like_one() {
    let dir = temp();
    // `cat` is rpctap's: it wants files.
    let out = shim(dir.path(), &["cat"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // `-- cat` is the server `cat`, which echoes the request back.
    let out = shim(dir.path(), &["--no-record", "--", "cat"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, lsp(REQ));
    // A mistyped rpctap option before the command is an error, not a command.
    let out = shim(dir.path(), &["--recrod", "x", "cat"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--recrod"), "{}", stderr(&out));
}

#[test]
fn options_without_a_command_are_a_one_line_usage_error() {
    let dir = temp();
    let rec = path(&dir, "r.jsonl");
    for args in [
        vec!["--"],
        vec!["--record", rec.to_str().unwrap()],
        vec!["--no-record", "--"],
        vec!["proxy"],
    ] {
        let out = shim(dir.path(), &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("rpctap: no server command given"), "{err}");
        assert!(!err.contains("terminal"), "{err}");
    }
    assert!(!rec.exists(), "a usage error left a recording");
}

#[test]
fn an_existing_recording_is_never_overwritten() {
    let dir = temp();
    let rec = path(&dir, "s.jsonl");
    std::fs::write(&rec, "yesterday's session\n").unwrap();
    std::fs::set_permissions(&rec, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = shim(dir.path(), &["--record", rec.to_str().unwrap(), "cat"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, lsp(REQ));
    assert_eq!(std::fs::read(&rec).unwrap(), b"yesterday's session\n");
    assert_eq!(mode(&rec), 0o644, "the existing file's mode was changed");
    let new = path(&dir, "s-1.jsonl");
    let err = stderr(&out);
    assert_eq!(
        err.trim_end(),
        format!(
            "rpctap: '{}' exists; writing '{}' instead",
            rec.display(),
            new.display()
        )
    );
    assert_eq!(mode(&new), 0o600);
    assert_eq!(wire(dir.path(), &new, "c2s"), lsp(REQ));
}

#[test]
fn a_planted_symlink_is_not_followed() {
    let dir = temp();
    let victim = path(&dir, "victim");
    std::fs::write(&victim, "precious").unwrap();
    let rec = path(&dir, "rec.jsonl");
    std::os::unix::fs::symlink(&victim, &rec).unwrap();
    // A dangling link too: following it would create the file it points to.
    let dangling = path(&dir, "dangling.jsonl");
    let planted = path(&dir, "planted");
    std::os::unix::fs::symlink(&planted, &dangling).unwrap();
    for link in [&rec, &dangling] {
        let out = shim(dir.path(), &["--record", link.to_str().unwrap(), "cat"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(stderr(&out).contains("exists; writing"), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(!planted.exists(), "the dangling link was followed");
    assert!(std::fs::symlink_metadata(&rec).unwrap().is_symlink());
    for new in ["rec-1.jsonl", "dangling-1.jsonl"] {
        let new = path(&dir, new);
        assert_eq!(mode(&new), 0o600);
        assert!(!std::fs::symlink_metadata(&new).unwrap().is_symlink());
    }
}

#[test]
fn a_directory_gets_a_new_file_and_placeholders_are_expanded() {
    let dir = temp();
    let recs = path(&dir, "recs");
    std::fs::create_dir(&recs).unwrap();
    for _ in 0..2 {
        let out = shim(dir.path(), &["--record", recs.to_str().unwrap(), "cat"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let names: Vec<String> = std::fs::read_dir(&recs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names
        .iter()
        .all(|n| n.contains("-cat-") && Path::new(n).extension().is_some_and(|e| e == "jsonl")));

    let template = format!("{}/{{name}}-{{pid}}-{{time}}.jsonl", dir.path().display());
    let out = shim(
        dir.path(),
        &["--record", &template, "--name", "my lsp", "cat"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let made: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("my_lsp-"))
        .collect();
    let [name] = made.as_slice() else {
        panic!("{made:?}")
    };
    let parts: Vec<&str> = name.trim_end_matches(".jsonl").split('-').collect();
    // my_lsp, pid, YYYYMMDD, HHMMSS
    assert_eq!(parts.len(), 4, "{name}");
    assert!(parts[1].parse::<u32>().is_ok() && parts[2].len() == 8 && parts[3].len() == 6);
}

#[test]
fn concurrent_sessions_to_one_path_both_survive() {
    let dir = temp();
    let rec = path(&dir, "same.jsonl");
    let rec_s = rec.to_str().unwrap().to_owned();
    let home = dir.path().to_path_buf();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (home, rec_s) = (home.clone(), rec_s.clone());
            std::thread::spawn(move || shim(&home, &["--record", &rec_s, "cat"]))
        })
        .collect();
    for r in runs {
        assert_eq!(r.join().unwrap().status.code(), Some(0));
    }
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files {
        assert_eq!(wire(dir.path(), f, "c2s"), lsp(REQ), "{}", f.display());
    }
}

fn ls(home: &Path) -> String {
    let out = rpctap(home).arg("ls").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn recordings_elsewhere_stay_listed_until_they_are_gone_or_replaced() {
    let dir = temp();
    let home = path(&dir, "home");
    let elsewhere = path(&dir, "work");
    std::fs::create_dir(&elsewhere).unwrap();
    let rec = elsewhere.join("e.jsonl");
    let out = shim(
        &home,
        &["--record", rec.to_str().unwrap(), "--name", "far", "cat"],
    );
    assert_eq!(out.status.code(), Some(0));
    let listed = ls(&home);
    assert!(
        listed.contains("far") && listed.contains(&*rec.to_string_lossy()),
        "{listed}"
    );
    // Another file at the same path is not that session: its row goes.
    std::fs::rename(&rec, elsewhere.join("moved")).unwrap();
    std::fs::write(&rec, "not a recording\n").unwrap();
    let listed = ls(&home);
    assert!(!listed.contains("far"), "a stale row stayed: {listed}");
    assert_eq!(std::fs::read_dir(home.join("index")).unwrap().count(), 0);
}

#[test]
fn a_command_that_cannot_start_leaves_its_error_for_ls() {
    let dir = temp();
    let home = path(&dir, "home");
    let out = shim(&home, &["--name", "broken", "/no/such/server", "--stdio"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out).trim_end(),
        "rpctap: cannot run '/no/such/server': No such file or directory"
    );
    let listed = ls(&home);
    let row = listed.lines().find(|l| l.contains("broken")).unwrap_or("");
    assert!(
        row.contains("exit 127") && row.contains("cannot run '/no/such/server'"),
        "{listed}"
    );
    // The recording is one a reader understands: its stderr line says why.
    let files: Vec<_> = std::fs::read_dir(home.join("sessions")).unwrap().collect();
    let file = files[0].as_ref().unwrap().path();
    let cat = rpctap(&home).arg("cat").arg(&file).output().unwrap();
    assert_eq!(cat.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&cat.stdout).contains("cannot run"));
}

#[test]
fn replay_record_never_overwrites() {
    let dir = temp();
    let home = path(&dir, "home");
    let first = path(&dir, "first.jsonl");
    let out = shim(&home, &["--record", first.to_str().unwrap(), "cat"]);
    assert_eq!(out.status.code(), Some(0));
    let target = path(&dir, "replayed.jsonl");
    std::fs::write(&target, "keep").unwrap();
    let out = rpctap(&home)
        .arg("replay")
        .arg(&first)
        .arg("--record")
        .arg(&target)
        .args(["--timeout", "5", "--", "cat"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    let new = path(&dir, "replayed-1.jsonl");
    assert!(String::from_utf8_lossy(&out.stderr).contains("replayed-1.jsonl"));
    assert_eq!(mode(&new), 0o600);
    // `cat` echoes the request back, which replay answers too: the c2s stream begins
    // with the replayed request.
    assert!(wire(&home, &new, "c2s").starts_with(&lsp(REQ)));
}

fn devtools_log() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/lsp-devtools.jsonl")
}

#[test]
fn a_log_without_times_has_no_latencies_and_its_wire_is_rebuilt() {
    let dir = temp();
    let stats = rpctap(dir.path())
        .arg("stats")
        .arg(devtools_log())
        .output()
        .unwrap();
    assert_eq!(stats.status.code(), Some(0));
    let text = String::from_utf8_lossy(&stats.stdout);
    let row = text.lines().find(|l| l.contains("initialize")).unwrap();
    assert!(
        !text.contains("0µs") && row.trim_end().ends_with('-'),
        "{text}"
    );

    let wire = rpctap(dir.path())
        .args(["cat", "--wire", "c2s"])
        .arg(devtools_log())
        .output()
        .unwrap();
    assert_eq!(wire.status.code(), Some(0));
    let err = String::from_utf8_lossy(&wire.stderr);
    assert!(
        err.contains("rebuilt") && err.contains("not what was on the wire"),
        "{err}"
    );
    // Converted to a recording, it is still a rebuilt one.
    let jsonl = path(&dir, "converted.jsonl");
    let conv = rpctap(dir.path())
        .args(["cat", "--format", "jsonl"])
        .arg(devtools_log())
        .output()
        .unwrap();
    std::fs::write(&jsonl, conv.stdout).unwrap();
    let wire = rpctap(dir.path())
        .args(["cat", "--wire", "c2s"])
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wire.stderr).contains("rebuilt"));
    // A recording rpctap made says nothing of the kind.
    let rec = path(&dir, "real.jsonl");
    shim(dir.path(), &["--record", rec.to_str().unwrap(), "cat"]);
    let wire = rpctap(dir.path())
        .args(["cat", "--wire", "c2s"])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(wire.stderr.is_empty());
}

#[test]
fn replay_of_a_log_without_times_reports_no_recorded_latency() {
    let dir = temp();
    let out = rpctap(dir.path())
        .arg("replay")
        .arg(devtools_log())
        .args(["--report", "json", "--timeout", "5", "--"])
        .arg(BIN)
        .arg("mock")
        .arg(devtools_log())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let init = &report["latency_us"]["initialize"];
    assert!(init["recorded_p50"].is_null(), "{report:#}");
    assert!(init["replayed_p50"].is_number(), "{report:#}");
}

#[test]
fn the_exit_line_comes_after_the_last_output_in_order_and_time() {
    let dir = temp();
    // Unterminated last lines are only complete at end of file, which the recorder may
    // reach after the child's exit was noted.
    let script = r#"echo '{"a":1}'; printf 'last words' >&2; printf '{"b":2}'; exit 3"#;
    for n in 0..5 {
        let rec = path(&dir, &format!("r{n}.jsonl"));
        let out = shim(
            dir.path(),
            &["--record", rec.to_str().unwrap(), "sh", "-c", script],
        );
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(
            out.stdout,
            br#"{"a":1}
{"b":2}"#
        );
        let text = std::fs::read_to_string(&rec).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let last = lines.last().unwrap();
        assert_eq!(last["type"], "exit", "{text}");
        assert_eq!(last["code"], 3);
        let exit_t = last["t"].as_str().unwrap();
        for l in &lines[1..lines.len() - 1] {
            // RFC 3339 with microseconds in UTC: text order is time order.
            assert!(
                l["t"].as_str().unwrap() <= exit_t,
                "after the exit: {l}\n{text}"
            );
        }
        assert!(text.contains(r#""text":"last words""#), "{text}");
        assert!(text.contains(r#""msg":{"b":2}"#), "{text}");
    }
}

#[test]
fn another_users_planted_file_and_link_in_a_shared_directory_are_left_alone() {
    use std::os::unix::fs::MetadataExt;
    if rpctap::os::euid() != 0 {
        eprintln!("skipped: giving files to another user needs root");
        return;
    }
    let nobody = 65534;
    let dir = temp();
    // A shared /tmp: world-writable and sticky.
    let shared = path(&dir, "tmp");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let planted = shared.join("session.jsonl");
    std::fs::write(&planted, "").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&planted, Some(nobody), Some(nobody)).unwrap();
    let target = path(&dir, "root-only");
    std::fs::write(&target, "secret").unwrap();
    let link = shared.join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(nobody), Some(nobody)).unwrap();
    for p in [&planted, &link] {
        let out = shim(dir.path(), &["--record", p.to_str().unwrap(), "cat"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    // The other user's file got nothing and kept its owner and mode.
    let meta = std::fs::metadata(&planted).unwrap();
    assert_eq!((meta.len(), meta.uid(), mode(&planted)), (0, nobody, 0o666));
    assert_eq!(std::fs::read(&target).unwrap(), b"secret");
    for new in ["session-1.jsonl", "link-1.jsonl"] {
        let new = shared.join(new);
        let meta = std::fs::symlink_metadata(&new).unwrap();
        assert!(meta.is_file());
        assert_eq!((meta.uid(), mode(&new)), (0, 0o600));
        assert_eq!(wire(dir.path(), &new, "c2s"), lsp(REQ));
    }
}
