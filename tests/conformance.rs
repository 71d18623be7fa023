//! Conformance checking: a violating session per rule (tests/fixtures/conformance), the
//! real captures in assets/, and `rpctap check` through the binary (formats, exit codes,
//! rule selection, bad input).

mod common;

use common::*;
use rpctap::check::{check_file, rules, Selection, Severity};
use std::path::{Path, PathBuf};

fn fixture(rule: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(format!("{}.jsonl", rule.replace('/', "--")))
}

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

#[test]
fn every_rule_has_a_violating_session_that_breaks_it() {
    for rule in rules::ALL {
        let path = fixture(rule.id);
        let report = check_file(&path, &Selection::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let hits: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.violation.rule.id == rule.id)
            .collect();
        assert!(
            !hits.is_empty(),
            "{} is not reported on its fixture",
            rule.id
        );
        // The fixture breaks its own rule, not a pile of others (the schema rule may
        // restate a lifecycle fault).
        let others: Vec<_> = report
            .findings
            .iter()
            .filter(|f| {
                f.violation.rule.id != rule.id && !f.violation.rule.id.starts_with("schema/")
            })
            .map(|f| f.violation.rule.id)
            .collect();
        assert!(others.is_empty(), "{}: also {others:?}", rule.id);
        assert!(
            hits.iter().all(|f| f.line >= 2),
            "{}: lines {hits:?}",
            rule.id
        );
    }
}

#[test]
fn clean_sessions_of_each_protocol_have_no_result() {
    for name in ["clean-lsp", "clean-mcp", "clean-dap"] {
        let report = check_file(&fixture(name), &Selection::default()).unwrap();
        assert!(report.findings.is_empty(), "{name}: {:?}", report.findings);
        assert!(report.messages > 4);
    }
}

#[test]
fn real_captures_have_no_error_level_result() {
    let captures = std::fs::read_dir(asset(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect::<Vec<_>>();
    assert!(captures.len() >= 3, "{captures:?}");
    for path in captures {
        let report = check_file(&path, &Selection::default()).unwrap();
        let errors: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.violation.rule.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        assert!(report.messages > 10, "{}", path.display());
    }
}

#[test]
fn the_one_deviation_of_pylsp_is_a_documented_warning() {
    let report = check_file(&asset("pylsp-session.jsonl"), &Selection::default()).unwrap();
    let ids: Vec<_> = report
        .findings
        .iter()
        .map(|f| f.violation.rule.id)
        .collect();
    assert!(ids.iter().all(|id| *id == "schema/lsp-null"), "{ids:?}");
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/conformance.md"))
            .unwrap();
    assert!(docs.contains("containerName?: string;"));
}

#[test]
fn the_docs_list_every_rule_with_an_example() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/conformance.md"))
            .unwrap();
    for rule in rules::ALL {
        let heading = format!("### `{}` ({})", rule.id, rule.severity.as_str());
        let at = docs
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/conformance.md lacks {heading}"));
        let section = &docs[at..];
        let end = section[3..].find("\n### ").map_or(section.len(), |e| e + 3);
        assert!(
            section[..end].contains(&format!("[{}]", rule.id)),
            "{}: no example output",
            rule.id
        );
    }
}

fn check(args: &[&str]) -> (i32, String, String) {
    let home = temp();
    let out = rpctap(home.path())
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn exit_codes_say_clean_violating_or_bad_input() {
    let clean = fixture("clean-lsp");
    let bad = fixture("jsonrpc/version");
    let warn_only = fixture("jsonrpc/id-style");
    assert_eq!(check(&[path_str(&clean)]).0, 0);
    assert_eq!(check(&[path_str(&warn_only)]).0, 0);
    let (code, out, _) = check(&[path_str(&bad)]);
    assert_eq!(code, 1);
    assert!(out.contains(":2: error[jsonrpc/version]:"), "{out}");
    let (code, _, err) = check(&["/nonexistent/x.jsonl"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("rpctap: cannot open"), "{err}");
    let (code, _, err) = check(&["--rule", "no/such", path_str(&clean)]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule 'no/such'"), "{err}");
    let dir = temp();
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, b"\x00\x01garbage\n").unwrap();
    assert_eq!(check(&[path_str(&junk)]).0, 2);
}

#[test]
fn rule_and_ignore_select_what_is_reported() {
    let f = fixture("mcp/protocol-version");
    let (code, out, _) = check(&["--ignore", "schema/", path_str(&f)]);
    assert_eq!(code, 1);
    assert!(
        out.contains("mcp/protocol-version") && !out.contains("schema/mcp"),
        "{out}"
    );
    let (code, out, _) = check(&["--rule", "schema/mcp", path_str(&f)]);
    assert_eq!(code, 1);
    assert!(
        !out.contains("mcp/protocol-version") && out.contains("schema/mcp"),
        "{out}"
    );
    let (code, _, _) = check(&["--ignore", "mcp/", "--ignore", "schema/", path_str(&f)]);
    assert_eq!(code, 0);
}

#[test]
fn sarif_has_one_located_result_per_violation() {
    let f = fixture("jsonrpc/duplicate-response");
    let (code, out, _) = check(&["--format", "sarif", path_str(&f)]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "rpctap");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["ruleId"], "jsonrpc/duplicate-response");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["region"]["startLine"], 4);
    assert_eq!(loc["artifactLocation"]["uri"], path_str(&f));
    let index = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
    assert_eq!(
        run["tool"]["driver"]["rules"][index]["id"],
        "jsonrpc/duplicate-response"
    );
    // Line 4 of the file is the second answer.
    let line = std::fs::read_to_string(&f)
        .unwrap()
        .lines()
        .nth(3)
        .unwrap()
        .to_owned();
    assert!(line.contains("\"seq\":3"), "{line}");
}

#[test]
fn junit_fails_the_broken_rule_only() {
    let f = fixture("dap/seq");
    let (code, out, _) = check(&["--format", "junit", path_str(&f)]);
    assert_eq!(code, 1);
    assert!(out.starts_with("<?xml"));
    assert_eq!(out.matches("<failure ").count(), 1, "{out}");
    assert!(out.contains(r#"name="dap/seq">"#), "{out}");
    assert!(out.contains(r#"failures="1""#));
    assert_eq!(out.matches("<testcase ").count(), rules::ALL.len());
}

#[test]
fn json_lists_results_per_file() {
    let a = fixture("clean-dap");
    let b = fixture("dap/request-seq");
    let (code, out, _) = check(&["--format", "json", path_str(&a), path_str(&b)]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["errors"], 0);
    assert_eq!(files[1]["errors"], 1);
    assert_eq!(files[1]["results"][0]["rule"], "dap/request-seq");
    assert_eq!(files[1]["results"][0]["line"], 6);
}

#[test]
fn an_imported_log_is_located_at_its_own_lines() {
    // An lsp-devtools log with blank lines and a bad hover: the result names the line of
    // the log, not the message's ordinal.
    let dir = temp();
    let log = dir.path().join("devtools.jsonl");
    std::fs::write(
        &log,
        concat!(
            r#"{"source":"client","message":{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}}"#, "\n",
            "\n\n",
            r#"{"source":"server","message":{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}}"#, "\n",
            r#"{"source":"client","message":{"jsonrpc":"2.0","method":"initialized","params":{}}}"#, "\n",
            "\n",
            r#"{"source":"client","message":{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"position":{"line":0,"character":0}}}}"#, "\n",
        ),
    )
    .unwrap();
    let (code, out, err) = check(&[path_str(&log)]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("devtools.jsonl:7: error[schema/lsp]"), "{out}");
}

#[test]
fn hostile_bodies_never_break_the_checker() {
    // Deep nesting, huge numbers, odd ids and non-UTF-8 raw bodies: results, no panic.
    let dir = temp();
    let f = dir.path().join("hostile.jsonl");
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let lines = [
        r#"{"rpctap":1,"type":"session","id":"h","name":"h","command":["s"],"cwd":"/","pid":1,"started":"2026-01-01T00:00:00.000000Z"}"#.to_owned(),
        format!(r#"{{"seq":1,"t":"2026-01-01T00:00:00.000001Z","dir":"c2s","framing":"lsp","msg":{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"capabilities":{deep}}}}}}}"#),
        r#"{"seq":2,"t":"2026-01-01T00:00:00.000002Z","dir":"s2c","framing":"lsp","msg":{"jsonrpc":"2.0","id":1e400,"result":null}}"#.to_owned(),
        r#"{"seq":3,"t":"2026-01-01T00:00:00.000003Z","dir":"s2c","framing":"lsp","raw_b64":"/w=="}"#.to_owned(),
        r#"{"seq":4,"t":"2026-01-01T00:00:00.000004Z","dir":"c2s","framing":"ndjson","msg":[1,[],{"id":true}]}"#.to_owned(),
    ];
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = check(&[path_str(&f)]);
    assert!(code == 1 || code == 2, "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_shim_checks_live_and_reports_on_stderr() {
    let home = temp();
    let rec = home.path().join("s.jsonl");
    let rec_arg = rec.to_str().unwrap();
    // A method of no known protocol: only the JSON-RPC and framing rules apply, and the
    // echo (`cat`) is a server request of its own, not a violation.
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"hello","params":{}}"#;
    let err = shim_stderr(
        home.path(),
        &[
            "--check",
            "--no-live",
            "--record",
            rec_arg,
            "--",
            "sh",
            "-c",
            "printf 'server ready\\n'; cat",
        ],
        &[body],
    );
    assert!(
        err.contains("rpctap: check: seq 2: error[framing/noise]"),
        "{err}"
    );
    assert!(
        err.contains("rpctap: check: 1 error(s), 0 warning(s)"),
        "{err}"
    );
    // The recording is the same as without checking: `check` finds the same.
    let (code, out, _) = check(&[rec_arg]);
    assert_eq!(code, 1);
    assert!(out.contains("error[framing/noise]"), "{out}");
}

/// Runs the shim with `args`, sends it `bodies` (Content-Length framed) and closes its
/// stdin; its stderr, once it has exited successfully.
fn shim_stderr(home: &Path, args: &[&str], bodies: &[&str]) -> String {
    use std::io::Write;
    let mut child = rpctap(home)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for body in bodies {
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    }
    drop(stdin);
    let status = wait_bounded(&mut child, HANG);
    assert!(status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    err
}

/// `--check` reads the recording; without one (`--no-record --no-live`) it reads a
/// temporary file of the session, and still checks every event.
#[test]
fn the_shim_checks_live_without_a_recording() {
    let home = temp();
    // A response to a request never sent, twice: 2 errors, echoed back by `cat` (as
    // server responses to requests the server never got: 2 more).
    let body = r#"{"jsonrpc":"2.0","id":5,"result":null}"#;
    let err = shim_stderr(
        home.path(),
        &["--check", "--no-live", "--no-record", "--", "cat"],
        &[body, body],
    );
    assert!(err.contains("error[jsonrpc/unknown-response]"), "{err}");
    assert!(
        err.contains("rpctap: check: 4 error(s), 0 warning(s) in 6 event(s)"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(home.path().join("sessions")).map_or(true, |mut d| d.next().is_none()),
        "--no-record wrote a recording"
    );
}

/// The live checker's thread runs under `SCHED_IDLE` (policy 5), so that it only takes CPU
/// time nothing else wants (docs/benchmarks.md, "Live checking").
#[cfg(target_os = "linux")]
#[test]
fn the_live_checker_runs_at_idle_priority() {
    let home = temp();
    let mut child = rpctap(home.path())
        .args(["--check", "--no-live", "--no-record", "--", "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let policy = |stat: &str| -> Option<u32> {
        let (_, rest) = stat.rsplit_once(')')?;
        // After the name, field 3 (state) is the first; the policy is field 41.
        rest.split_whitespace().nth(38)?.parse().ok()
    };
    let deadline = std::time::Instant::now() + HANG;
    let found = loop {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", child.id())).unwrap();
        let checker = tasks.flatten().find(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "rpctap-check")
        });
        let stat = checker.and_then(|t| std::fs::read_to_string(t.path().join("stat")).ok());
        match stat.as_deref().and_then(policy) {
            // The thread names itself before it lowers its priority: look again.
            Some(5) => break Some(5),
            _ if std::time::Instant::now() > deadline => break stat.as_deref().and_then(policy),
            _ => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    };
    drop(child.stdin.take());
    assert!(wait_bounded(&mut child, HANG).success());
    assert_eq!(found, Some(5), "the checker thread's scheduling policy");
}

#[test]
fn cat_and_stats_filter_and_count_violations() {
    let f = fixture("framing/noise");
    let home = temp();
    let out = rpctap(home.path())
        .args(["cat", "--filter", "violation"])
        .arg(&f)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("server starting on port 80"), "{text}");
    assert!(!text.contains("request"), "{text}");
    let out = rpctap(home.path())
        .args(["cat", "--filter", "rule:jsonrpc/*"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("server starting"));
    let out = rpctap(home.path()).arg("stats").arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("conformance: 1 error(s), 0 warning(s)"),
        "{text}"
    );
    let out = rpctap(home.path())
        .args(["stats", "--no-check"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("conformance:"));
}

#[test]
fn the_hub_summary_counts_error_level_violations() {
    let noisy = rpctap::session::summarize(&fixture("framing/noise")).unwrap();
    assert_eq!(noisy.problems, 1);
    // A warning is not counted: the hub's mark means "rpctap check fails".
    let warned = rpctap::session::summarize(&fixture("jsonrpc/id-style")).unwrap();
    assert_eq!(warned.problems, 0);
    let clean = rpctap::session::summarize(&fixture("clean-mcp")).unwrap();
    assert_eq!(clean.problems, 0);
}
