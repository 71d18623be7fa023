//! Interactive debugging through the TUI's event loop against a real shim and a real child
//! (issue 16): the test is the shim's client (its parent, on stdin/stdout), the demo server
//! is the child, and the viewer attaches to the shim's live feed and control socket. A
//! held request is answered by hand and the client gets exactly that answer; a held
//! notification is edited, another dropped; a request composed in the viewer is answered
//! to the viewer and never reaches the client.

mod common;
mod support;

use crossterm::event::KeyCode;
use rpctap::tui::{App, Feeds, Session, Source, Target};
use rpctap::wire::FrameReader;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

/// The shim under test, its stdin, and what its stdout delivers to the client.
struct Shim {
    child: Child,
    stdin: std::process::ChildStdin,
    out: mpsc::Receiver<Value>,
    socket: PathBuf,
}

impl Shim {
    fn start(home: &Path) -> Shim {
        let mut child = common::rpctap(home)
            .args(["--name", "tuishim", "--", common::BIN, "demo-server"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, out) = mpsc::channel();
        std::thread::spawn(move || {
            let mut frames = FrameReader::new(stdout, None);
            while let Ok(Some(f)) = frames.next_frame() {
                let Ok(v) = serde_json::from_slice::<Value>(&f.body) else {
                    continue;
                };
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let socket = home.join("run").join(format!("{}.sock", child.id()));
        let start = Instant::now();
        while !socket.with_extension("ctl").exists() {
            assert!(
                start.elapsed() < common::HANG,
                "the shim never published its sockets"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Shim {
            child,
            stdin,
            out,
            socket,
        }
    }

    fn send(&mut self, v: Value) {
        self.stdin.write_all(&common::lsp(&v.to_string())).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next message the client receives (a hang guard, not a timing assertion).
    fn next(&self) -> Value {
        self.out
            .recv_timeout(common::HANG)
            .expect("the client gets a message")
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn viewer(shim: &Shim) -> Running {
    let source = Source::Live {
        socket: shim.socket.clone(),
    };
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.opened = vec![Target {
        label: "tuishim".into(),
        source: source.clone(),
    }];
    let feeds = Feeds::new();
    feeds.spawn(source, 0);
    Running::start(feeds, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_edit_drop_and_compose_through_a_real_shim() {
    let home = tempfile::tempdir().unwrap();
    let mut shim = Shim::start(home.path());
    shim.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    assert_eq!(shim.next()["id"], 1);
    let mut r = viewer(&shim);
    r.shown("initialize").await;

    // Intercept what goes to the server under textDocument/.
    r.press(vec![k('i')]);
    r.press(typed("dir:c2s method:textDocument/*"));
    r.press(vec![key(KeyCode::Enter)]);
    r.shown("intercepting").await;

    // A hover request is held; answered by hand, the client gets that very answer.
    shim.send(json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": "file:///demo/src/main.rs"}, "position": {"line": 0, "character": 4}}}));
    r.shown("1 held: H").await;
    r.press(vec![k('H'), k('r')]);
    r.shown("answer held #").await;
    r.press(vec![key(KeyCode::Up), key(KeyCode::End)]);
    for _ in 0..4 {
        r.press(vec![key(KeyCode::Backspace)]);
    }
    r.press(typed("\"by hand\""));
    r.press(vec![ctrl('s')]);
    let answer = shim.next();
    assert_eq!(
        answer,
        json!({"jsonrpc": "2.0", "id": 2, "result": "by hand"})
    );

    // Two didChange notifications are held: the first edited in place, the second dropped.
    for version in [7, 8] {
        shim.send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": "file:///demo/src/main.rs", "version": version}, "contentChanges": []}}));
    }
    r.shown("Held: 2").await;
    r.press(vec![k('e')]);
    r.shown("edit held #").await;
    // The body's `"version": 7` line: the cursor starts at the end; up to it, then 7 → 70.
    r.press(vec![key(KeyCode::Up); 4]);
    r.press(vec![key(KeyCode::End)]);
    r.press(typed("0"));
    let screen = r.shown("\"version\": 70").await;
    assert!(screen.contains("edit held #"), "{screen}");
    r.press(vec![ctrl('s')]);
    r.shown("edited and forwarded").await;
    r.press(vec![k('d')]);
    r.shown("dropped").await;
    r.press(vec![
        key(KeyCode::Esc),
        k('i'),
        ctrl('u'),
        key(KeyCode::Enter),
    ]);
    r.shown("intercept cleared").await;

    // A request composed in the viewer: its reply shows there, and the client gets none.
    r.press(vec![k('>'), ctrl('n')]);
    r.press(vec![key(KeyCode::Up), key(KeyCode::Up), key(KeyCode::End)]);
    r.press(vec![key(KeyCode::Left), key(KeyCode::Left)]);
    r.press(typed("demo/unknown"));
    r.press(vec![ctrl('s')]);
    r.shown("\"code\": -32601").await;
    r.press(vec![key(KeyCode::Esc)]);
    // The client's own next request is answered; before it, the client received only the
    // server's own notifications (diagnostics for the edits), nothing it did not ask for.
    shim.send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}));
    loop {
        let m = shim.next();
        if m["id"] == 3 {
            break;
        }
        assert!(
            m.get("id").is_none() && m.get("method").is_some(),
            "the client got {m}"
        );
    }
    r.shown("shutdown").await;
    let app = r.quit().await;

    // The rows the viewer shows are marked: the answer and the composed request injected,
    // the composed request's response diverted, the held ones with what became of them.
    let store = &app.timeline.sessions[0].store;
    let mark = |method: &str| {
        (0..store.len())
            .filter(|&i| store.method(i) == Some(method))
            .map(|i| rpctap::tui::labels::interactive_mark(store, i).unwrap_or(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        mark("textDocument/hover"),
        ["↵", "+"],
        "held then answered; the answer injected"
    );
    assert_eq!(mark("textDocument/didChange"), ["✎", "⊘"]);
    assert_eq!(mark("demo/unknown"), ["+", "↺"]);
}
