//! Interactive debugging through the TUI's event loop (issue 16): compose and send, resend
//! with the replay diff, intercept, and the held messages' forward / edit / drop / answer.
//!
//! The shim here is a stand-in on a real Unix socket speaking `control::protocol`: it
//! records every command the viewer sends and answers as a shim would, so each test checks
//! the exact commands a key sequence produces. (`tests/tmux/` drives the real binary
//! against a real shim.)

mod support;

use crossterm::event::KeyCode;
use rpctap::control::protocol::{to_line, Command, Event, Peer, Reply, Request};
use rpctap::record::{Dir, Event as RecEvent};
use rpctap::tui::{App, Feeds, Session, Source, Target};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::mpsc;
use support::*;

/// What the stand-in shim does with a command.
type Script = Box<dyn FnMut(&Request, &mut dyn Write) + Send>;

/// A stand-in shim: `<dir>/1.ctl` (the viewer derives it from the feed's `1.sock`).
/// Returns the feed socket's path and a channel of the commands received.
fn stand_in(dir: &std::path::Path, mut script: Script) -> (PathBuf, mpsc::Receiver<Request>) {
    let listener = UnixListener::bind(dir.join("1.ctl")).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((s, _)) = listener.accept() else {
            return;
        };
        let mut w = s.try_clone().unwrap();
        for line in BufReader::new(s).lines() {
            let Ok(line) = line else { return };
            let req: Request =
                serde_json::from_str(&line).expect("the viewer sends protocol lines");
            script(&req, &mut w);
            if tx.send(req).is_err() {
                return;
            }
        }
    });
    (dir.join("1.sock"), rx)
}

fn ok(w: &mut dyn Write, r: Reply) {
    w.write_all(&to_line(&r)).unwrap();
}

/// The fixture's session (without its exit: the session is running), viewed as live.
fn live_app(feed: PathBuf) -> App {
    let mut all = fixture_events();
    all.retain(|e| !matches!(e, RecEvent::Exit(_)));
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, all));
    app.opened = vec![Target {
        label: "demo".into(),
        source: Source::Live { socket: feed },
    }];
    app
}

fn recv(rx: &mpsc::Receiver<Request>) -> Request {
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("the viewer sent a command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_sends_the_edited_request_and_shows_its_reply() {
    let dir = tempfile::tempdir().unwrap();
    let script: Script = Box::new(|req, w| {
        if let Command::Send { message, .. } = &req.cmd {
            let reply = json!({"jsonrpc": "2.0", "id": message["id"], "result": {"echo": message["method"]}});
            ok(w, Reply::with_reply(req.id, reply));
        }
    });
    let (feed, rx) = stand_in(dir.path(), script);
    let mut app = live_app(feed);
    app.update(rpctap::tui::Action::First);
    let mut r = Running::start(Feeds::new(), app);
    // `>` from the first row (initialize): its body is the template; Ctrl-N an empty
    // request, into whose method name "ping" is typed.
    r.press(vec![k('>')]);
    r.shown("compose → server").await;
    r.press(vec![
        ctrl('n'),
        key(KeyCode::Up),
        key(KeyCode::Up),
        key(KeyCode::End),
    ]);
    r.press(vec![key(KeyCode::Left), key(KeyCode::Left)]);
    r.press(typed("ping"));
    r.press(vec![ctrl('s')]);
    let sent = recv(&rx);
    assert_eq!(
        sent.cmd,
        Command::Send {
            to: Peer::Server,
            message: json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {}}),
            timeout_ms: Some(30_000),
        }
    );
    let screen = r.shown("\"echo\": \"ping\"").await;
    assert!(screen.contains("reply"), "{screen}");
    // Ctrl-T sends the next one to the client instead.
    r.press(vec![ctrl('t'), ctrl('s')]);
    assert!(matches!(
        recv(&rx).cmd,
        Command::Send {
            to: Peer::Client,
            ..
        }
    ));
    r.press(vec![key(KeyCode::Esc)]);
    let app = r.quit().await;
    assert!(app.act.compose.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_is_refused_with_its_position_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (feed, rx) = stand_in(dir.path(), Box::new(|_, _| {}));
    let mut r = Running::start(Feeds::new(), live_app(feed));
    r.press(vec![k('>'), ctrl('n')]);
    r.press(typed("oops"));
    r.press(vec![ctrl('s')]);
    let screen = r.shown("not JSON: line").await;
    assert!(screen.contains("column"), "{screen}");
    r.quit().await;
    assert!(rx.try_recv().is_err(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_shows_the_new_response_beside_the_old_with_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let script: Script = Box::new(|req, w| {
        if let Command::Send { message, .. } = &req.cmd {
            let reply = json!({"jsonrpc": "2.0", "id": message["id"], "result": {"contents": {"kind": "markdown", "value": "changed"}}});
            ok(w, Reply::with_reply(req.id, reply));
        }
    });
    let (feed, rx) = stand_in(dir.path(), script);
    let mut app = live_app(feed);
    select_seq(&mut app, 10); // textDocument/hover, id 2
    let mut r = Running::start(Feeds::new(), app);
    r.press(vec![k('r')]);
    let sent = recv(&rx);
    let Command::Send { to, message, .. } = sent.cmd else {
        panic!("{:?}", sent.cmd)
    };
    assert_eq!(to, Peer::Server);
    assert_eq!(message["method"], "textDocument/hover");
    assert_eq!(
        message["id"], 2,
        "the recorded request as it was: the shim renumbers it"
    );
    let screen = r.shown("new response").await;
    assert!(screen.contains("recorded response"), "{screen}");
    let screen = r.shown("difference(s)").await;
    assert!(screen.contains("~ .result.contents.value"), "{screen}");
    r.press(vec![key(KeyCode::Esc)]);
    let app = r.quit().await;
    assert!(app.act.resend.is_none());
}

/// Held messages pushed after the intercept is set: a request and a notification.
fn intercepting_shim() -> Script {
    Box::new(|req, w| match &req.cmd {
        Command::Intercept { .. } => {
            ok(w, Reply::ok(req.id));
            for (hold, body) in [
                (
                    1,
                    json!({"jsonrpc": "2.0", "id": 9, "method": "textDocument/hover", "params": {}}),
                ),
                (
                    2,
                    json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {}}),
                ),
                (
                    3,
                    json!({"jsonrpc": "2.0", "method": "$/progress", "params": {}}),
                ),
                (
                    4,
                    json!({"jsonrpc": "2.0", "method": "window/logMessage", "params": {}}),
                ),
            ] {
                let e = Event::Held {
                    hold,
                    dir: Dir::C2s,
                    t: 5,
                    body: Some(body),
                    text: None,
                };
                w.write_all(&to_line(&e)).unwrap();
            }
        }
        _ => ok(w, Reply::ok(req.id)),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intercept_then_answer_edit_drop_and_forward_held_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (feed, rx) = stand_in(dir.path(), intercepting_shim());
    let mut r = Running::start(Feeds::new(), live_app(feed));
    // `i`: the filter prompt, checked as typed.
    r.press(vec![k('i')]);
    r.press(typed("method:textDocument/*"));
    r.press(vec![key(KeyCode::Enter)]);
    let sent = recv(&rx);
    assert!(
        matches!(&sent.cmd, Command::Intercept { filter, .. } if filter == "method:textDocument/*"),
        "{:?}",
        sent.cmd
    );
    r.shown("4 held: H").await;
    r.press(vec![k('H')]);
    r.shown("Held: 4").await;
    // Answer the held request: the template carries its id; "null" becomes "42".
    r.press(vec![k('r')]);
    r.shown("answer held #1").await;
    r.press(vec![key(KeyCode::End)]);
    r.press(vec![key(KeyCode::Up), key(KeyCode::End)]);
    for _ in 0..4 {
        r.press(vec![key(KeyCode::Backspace)]);
    }
    r.press(typed("42"));
    r.press(vec![ctrl('s')]);
    let answer = recv(&rx);
    assert_eq!(
        answer.cmd,
        Command::Answer {
            hold: 1,
            body: json!({"jsonrpc": "2.0", "id": 9, "result": 42})
        }
    );
    r.shown("Held: 3").await;
    // Edit the next (the didChange notification): its method renamed, then forwarded.
    r.press(vec![k('e')]);
    r.shown("edit held #2").await;
    r.press(vec![ctrl('n')]);
    let screen = r.shown("edit held #2").await;
    assert!(
        screen.contains("didChange"),
        "Ctrl-N does not replace a held message: {screen}"
    );
    r.press(vec![key(KeyCode::Up), key(KeyCode::Up), key(KeyCode::End)]);
    r.press(vec![key(KeyCode::Left), key(KeyCode::Left)]);
    r.press(typed("X"));
    r.press(vec![ctrl('s')]);
    let edit = recv(&rx);
    let Command::Edit { hold: 2, body } = edit.cmd else {
        panic!("{:?}", edit.cmd)
    };
    assert_eq!(body["method"], "textDocument/didChangeX");
    r.shown("Held: 2").await;
    // Drop one, forward all the rest.
    r.press(vec![k('d')]);
    assert_eq!(recv(&rx).cmd, Command::Drop { hold: 3 });
    r.shown("Held: 1").await;
    r.press(vec![k('A')]);
    assert_eq!(recv(&rx).cmd, Command::ForwardAll);
    r.shown("1 held message(s) forwarded").await;
    let app = r.quit().await;
    assert!(app.act.held.is_empty());
    assert_eq!(
        app.act.intercept.as_ref().map(|i| i.1.as_str()),
        Some("method:textDocument/*")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_says_why_and_a_gone_shim_clears_what_was_held() {
    let dir = tempfile::tempdir().unwrap();
    let (feed, rx) = stand_in(
        dir.path(),
        Box::new(|req, w| {
            ok(
                w,
                Reply::error(req.id, "another viewer holds the intercept"),
            )
        }),
    );
    let mut r = Running::start(Feeds::new(), live_app(feed.clone()));
    r.press(vec![k('i')]);
    r.press(typed("kind:request"));
    r.press(vec![key(KeyCode::Enter)]);
    recv(&rx);
    r.shown("intercept refused: another viewer holds the intercept")
        .await;
    r.quit().await;
    // No shim at all: the viewer says so on the first command.
    let none = tempfile::tempdir().unwrap();
    // (The first row, initialize, is selected: a request.)
    let mut r = Running::start(Feeds::new(), live_app(none.path().join("1.sock")));
    r.press(vec![k('r')]);
    r.shown("cannot control this session").await;
    r.quit().await;
}

#[tokio::test]
async fn a_recording_of_an_ended_session_cannot_be_controlled() {
    let (mut app, mut screen, mut feeds) = setup(100, 30);
    keys(&mut app, &mut screen, &mut feeds, vec![k('r')]).await;
    let shown = lines(&screen).join("\n");
    assert!(shown.contains("this session has ended"), "{shown}");
    assert!(app.effects.is_empty());
    // Composing says so in the compose view, and sends nothing either.
    keys(&mut app, &mut screen, &mut feeds, vec![k('>'), ctrl('s')]).await;
    let shown = lines(&screen).join("\n");
    assert!(
        shown.contains("compose → server") && shown.contains("✗ this session has ended"),
        "{shown}"
    );
    assert!(app.effects.is_empty());
}

/// A recording with every mark: an injected request and its diverted answer, held
/// messages forwarded, edited, dropped and answered, and one still held.
fn marked_session() -> Vec<RecEvent> {
    let head = r#"{"rpctap":1,"type":"session","id":"m","name":"marks","command":["srv"],"started":"2026-11-21T10:00:00.000000Z"}"#;
    let msg = |seq: u32, dir: &str, extra: &str, body: &str| {
        format!(
            r#"{{"seq":{seq},"t":"2026-11-21T10:00:00.{seq:06}Z","dir":"{dir}","framing":"ndjson"{extra},"msg":{body}}}"#
        )
    };
    let release = |hold: u32, action: &str| {
        format!(
            r#"{{"type":"release","t":"2026-11-21T10:00:01.000000Z","dir":"c2s","hold":{hold},"action":"{action}"}}"#
        )
    };
    let lines = [
        head.to_owned(),
        msg(1, "c2s", r#","origin":"rpctap""#, r#"{"jsonrpc":"2.0","id":"rpctap-1-1","method":"injected/ping"}"#),
        msg(2, "s2c", r#","diverted":true"#, r#"{"jsonrpc":"2.0","id":"rpctap-1-1","result":1}"#),
        msg(3, "c2s", r#","held":1"#, r#"{"jsonrpc":"2.0","method":"held/forwarded"}"#),
        msg(4, "c2s", r#","held":2"#, r#"{"jsonrpc":"2.0","method":"held/edited"}"#),
        msg(5, "c2s", r#","held":3"#, r#"{"jsonrpc":"2.0","method":"held/dropped"}"#),
        msg(6, "c2s", r#","held":4"#, r#"{"jsonrpc":"2.0","id":7,"method":"held/answered"}"#),
        msg(7, "c2s", r#","held":5"#, r#"{"jsonrpc":"2.0","method":"held/waiting"}"#),
        release(1, "forward"),
        r#"{"type":"release","t":"2026-11-21T10:00:01.000000Z","dir":"c2s","hold":2,"action":"edit","body":{"jsonrpc":"2.0","method":"held/edited2"}}"#.to_owned(),
        release(3, "drop"),
        release(4, "answer"),
        msg(8, "s2c", r#","origin":"rpctap""#, r#"{"jsonrpc":"2.0","id":7,"result":42}"#),
    ];
    lines
        .iter()
        .map(|l| match rpctap::record::parse_line(l.as_bytes()) {
            Ok(e) => e,
            other => panic!("{l}: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn injected_held_edited_dropped_answered_and_diverted_rows_are_marked() {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, marked_session()));
    let (mut screen, mut feeds) = (support_screen(), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    let shown = lines(&screen);
    let row = |method: &str| {
        shown
            .iter()
            .find(|l| l.contains(method))
            .unwrap_or_else(|| panic!("{method} not shown:\n{}", shown.join("\n")))
            .trim_start()
            .chars()
            .next()
            .unwrap()
    };
    assert_eq!(row("injected/ping"), '+');
    assert_eq!(row("held/forwarded"), '»');
    assert_eq!(row("held/edited"), '✎');
    assert_eq!(row("held/dropped"), '⊘');
    assert_eq!(row("held/answered"), '↵');
    assert_eq!(row("held/waiting"), '‖');
    // The detail says it in words: the diverted answer, then the answered request.
    select_seq(&mut app, 2);
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    let text = lines(&screen).join("\n");
    assert!(text.contains("it reached no peer"), "{text}");
    select_seq(&mut app, 6);
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    let text = lines(&screen).join("\n");
    assert!(text.contains("answered by hand"), "{text}");
}

fn support_screen() -> rpctap::tui::TestScreen {
    rpctap::tui::TestScreen::new(120, 30)
}
