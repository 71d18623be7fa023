//! Issue 16's interop check: a real pylsp under a real pygls client through the shim,
//! while `rpctap send` injects a `textDocument/hover` request. `send` prints the hover
//! result; the client's own results equal a direct run; the client reads nothing it did
//! not ask for (its stdin is teed to a file and compared with `cat --wire s2c`), and the
//! recording shows the injected request and its answer, marked.
//!
//! Needs the programs of `scripts/interop-setup.sh` (see tests/interop.rs); without them
//! it says so and skips, unless `RPCTAP_INTEROP=require`.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SESSION_LIMIT: Duration = Duration::from_secs(240);

fn cache_root() -> Option<PathBuf> {
    let root = std::env::var_os("RPCTAP_INTEROP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/interop"));
    if root.join("ready").is_file() {
        return Some(root);
    }
    let why = format!(
        "{} has no completed install; run scripts/interop-setup.sh",
        root.display()
    );
    if std::env::var("RPCTAP_INTEROP").as_deref() == Ok("require") {
        panic!("RPCTAP_INTEROP=require but {why}");
    }
    let _ = writeln!(std::io::stderr(), "interop test SKIPPED: {why}");
    None
}

/// Starts the LSP driver against `server`; `pause` makes it wait before shutting down.
fn driver(
    root: &Path,
    workspace: &Path,
    out: &Path,
    server: &[String],
    pause: Option<&Path>,
) -> std::process::Child {
    std::fs::create_dir_all(workspace).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/driver.py");
    let mut cmd = Command::new(root.join("venv/bin/python"));
    cmd.arg(script)
        .arg("lsp")
        .arg("--workspace")
        .arg(workspace)
        .arg("--out")
        .arg(out)
        .arg("--")
        .args(server)
        .env("RPCTAP_HOME", workspace.join("rpctap-home"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = pause {
        cmd.env("INTEROP_PAUSE_DIR", p);
    }
    cmd.spawn().expect("spawn the interop driver")
}

fn finish(mut child: std::process::Child, out: &Path) -> (Value, String) {
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut v = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut v);
        v
    });
    let status = wait_bounded(&mut child, SESSION_LIMIT);
    let stderr = err.join().unwrap();
    assert!(status.success(), "driver failed ({status}):\n{stderr}");
    let text = std::fs::read_to_string(out).expect("driver result");
    (serde_json::from_str(&text).unwrap(), stderr)
}

fn wait_for(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            start.elapsed() < SESSION_LIMIT,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn send_injects_a_hover_into_pygls_driving_pylsp() {
    let Some(root) = cache_root() else {
        return;
    };
    let dir = temp();
    let pylsp = root.join("venv/bin/pylsp").display().to_string();
    let direct = driver(
        &root,
        &path(&dir, "direct"),
        &path(&dir, "direct.json"),
        std::slice::from_ref(&pylsp),
        None,
    );
    let (direct, _) = finish(direct, &path(&dir, "direct.json"));

    // The client reads the shim's stdout through tee: `client-read.bin` is what it got.
    let rec = path(&dir, "rec.jsonl");
    let client_read = path(&dir, "client-read.bin");
    let tapped_cmd = format!(
        "'{BIN}' --record '{}' -- '{pylsp}' | tee '{}'",
        rec.display(),
        client_read.display()
    );
    let workspace = path(&dir, "tapped");
    let pause = path(&dir, "pause");
    std::fs::create_dir_all(&pause).unwrap();
    let tapped = driver(
        &root,
        &workspace,
        &path(&dir, "tapped.json"),
        &["sh".into(), "-c".into(), tapped_cmd],
        Some(&pause),
    );
    let uri = wait_for(&pause.join("opened"));
    // While the client sends its own hover, completion and symbols requests.
    let hover = json!({"jsonrpc":"2.0","id":1,"method":"textDocument/hover",
        "params":{"textDocument":{"uri":uri},"position":{"line":4,"character":5}}});
    let sent = rpctap(&workspace.join("rpctap-home"))
        .args(["send", "--timeout", "60", &hover.to_string()])
        .output()
        .unwrap();
    std::fs::write(pause.join("go"), "go").unwrap();
    let (tapped, stderr) = finish(tapped, &path(&dir, "tapped.json"));
    assert!(
        sent.status.success(),
        "send: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let reply: Value = serde_json::from_slice(&sent.stdout).expect("send prints the response");
    assert_eq!(reply["id"], 1, "{reply}");
    let contents = reply["result"]["contents"].to_string();
    assert!(contents.contains("greet"), "the hover of `greet`: {reply}");

    assert!(
        direct == tapped,
        "results differ\ndirect: {direct:#}\ntapped: {tapped:#}"
    );
    let got = std::fs::read(&client_read).unwrap();
    assert!(
        !String::from_utf8_lossy(&got).contains("rpctap-"),
        "the client got an injected response"
    );
    assert_eq!(
        wire(dir.path(), &rec, "s2c"),
        got,
        "cat --wire s2c is what the client read"
    );
    assert!(
        !stderr.contains("rpctap-"),
        "the client complained: {stderr}"
    );

    let text = std::fs::read_to_string(&rec).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let injected: Vec<&Value> = lines.iter().filter(|l| l["origin"] == "rpctap").collect();
    assert_eq!(injected.len(), 1, "{text}");
    assert_eq!(injected[0]["dir"], "c2s");
    assert_eq!(injected[0]["msg"]["method"], "textDocument/hover");
    let id = injected[0]["msg"]["id"].clone();
    assert!(id.as_str().is_some_and(|s| s.starts_with("rpctap-")));
    let answers: Vec<&Value> = lines.iter().filter(|l| l["diverted"] == true).collect();
    assert_eq!(answers.len(), 1, "{text}");
    assert_eq!(
        (&answers[0]["dir"], &answers[0]["msg"]["id"]),
        (&json!("s2c"), &id)
    );
}
