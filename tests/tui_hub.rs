//! The hub of live and recorded sessions with real shims: the catalog behind it, the loop
//! refreshing it while shims start and exit — a hub started before a shim shows it live,
//! then ended with its exit code — and the live-feed source that views a shim without a
//! recording. (The screen without processes: `tui_hub_screen.rs`.)

mod common;
mod support;

use common::{BIN, HANG};
use crossterm::event::KeyCode;
use futures::future::join;
use rpctap::catalog::{Catalog, Entry, State};
use rpctap::record::{Event, Micros};
use rpctap::rpc::Protocol;
use rpctap::tui::app::Page;
use rpctap::tui::hub::Hub;
use rpctap::tui::{run, App, Feed, Feeds, Source, Update};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

/// An LSP `initialize` request as one line: `cat` echoes it, so the session has two
/// messages and speaks LSP.
const INIT: &[u8] =
    b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":{}}}\n";
const PING: &[u8] = b"{\"jsonrpc\":\"2.0\",\"method\":\"demo/ping\"}\n";

/// A shim named `name` around `sh -c 'cat; exit CODE'`, whose stdin the test holds.
fn shim(home: &Path, name: &str, extra: &[&str], code: i32) -> Child {
    Command::new(BIN)
        .env("RPCTAP_HOME", home)
        .args(["--name", name])
        .args(extra)
        .args(["--", "sh", "-c", &format!("cat; exit {code}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the shim")
}

/// Closes the shim's stdin (so `cat` ends) and returns its exit code.
async fn finish(child: &mut Child) -> Option<i32> {
    drop(child.stdin.take());
    let status = tokio::time::timeout(HANG, child.wait()).await;
    status.expect("the shim exits").expect("wait").code()
}

fn catalog(home: &Path) -> Catalog {
    Catalog::new(home.join("sessions"), home.join("run"))
}

/// Lists until `pred` holds (the shims start and end in their own time).
async fn listed(c: &mut Catalog, what: &str, pred: impl Fn(&[Entry]) -> bool) -> Vec<Entry> {
    let start = std::time::Instant::now();
    loop {
        let list = c.list();
        if pred(&list) {
            return list;
        }
        assert!(start.elapsed() < HANG, "never listed: {what}: {list:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn named<'a>(list: &'a [Entry], name: &str) -> &'a Entry {
    list.iter()
        .find(|e| e.info.name == name)
        .unwrap_or_else(|| panic!("{name} not listed: {list:#?}"))
}

fn exited(code: i32) -> impl Fn(&State) -> bool {
    move |s| matches!(s, State::Exited(e) if e.code == Some(code))
}

/// The screen row that shows `name`, if any.
fn row_of<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_merges_live_shims_with_their_recordings() {
    let home = common::temp();
    let sessions = home.path().join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let copied = sessions.join("20261121-100000-demo-4242.jsonl");
    std::fs::copy(fixture(), &copied).unwrap();
    std::fs::write(sessions.join("notes.jsonl"), "not a recording\n").unwrap();
    let elsewhere = home.path().join("elsewhere.jsonl");
    let away_arg = elsewhere.to_str().unwrap();
    let mut recorded = shim(home.path(), "recorded", &[], 0);
    let mut unrecorded = shim(home.path(), "unrecorded", &["--no-record"], 5);
    let mut away = shim(home.path(), "away", &["--record", away_arg], 6);
    let stdin = recorded.stdin.as_mut().unwrap();
    stdin.write_all(INIT).await.unwrap();
    stdin.flush().await.unwrap();

    let mut c = catalog(home.path());
    let list = listed(
        &mut c,
        "three live shims, the LSP one with 2 messages",
        |l| {
            l.iter().filter(|e| e.state == State::Live).count() == 3
                && l.iter().any(|e| {
                    e.info.name == "recorded" && e.summary.as_ref().is_some_and(|s| s.messages == 2)
                })
        },
    )
    .await;
    assert_eq!(list.len(), 4, "the fixture and three shims: {list:#?}");
    let starts: Vec<Micros> = list
        .iter()
        .map(|e| Micros::parse(&e.info.started).unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // A live shim recording in the state directory is one entry, with both.
    let r = named(&list, "recorded");
    assert!(r.socket.is_some());
    assert_eq!(
        r.recording.as_deref().and_then(Path::parent),
        Some(sessions.as_path())
    );
    let s = r.summary.as_ref().unwrap();
    assert_eq!(
        (s.protocol, s.errors, s.exit),
        (Some(Protocol::Lsp), 0, None)
    );
    // Shims recording elsewhere, or not at all, are entries of their own.
    let u = named(&list, "unrecorded");
    assert_eq!((u.recording.as_ref(), u.summary.as_ref()), (None, None));
    assert_eq!(
        named(&list, "away").recording.as_deref(),
        Some(elsewhere.as_path())
    );
    // The recording's counts are those the viewer shows once it has read the file.
    let viewer = fixture_app(80, 24).timeline.sessions[0].counts;
    let demo = named(&list, "demo");
    let s = demo.summary.as_ref().unwrap();
    assert_eq!((s.messages, s.errors), (viewer.messages, viewer.errors));
    assert!(exited(0)(&demo.state));
    assert_eq!(demo.recording.as_deref(), Some(copied.as_path()));

    let codes = (
        finish(&mut recorded).await,
        finish(&mut unrecorded).await,
        finish(&mut away).await,
    );
    assert_eq!(codes, (Some(0), Some(5), Some(6)));
    let list = listed(&mut c, "the shims ended", |l| {
        l.iter().all(|e| e.state != State::Live)
    })
    .await;
    assert!(exited(0)(&named(&list, "recorded").state));
    assert!(
        exited(6)(&named(&list, "away").state),
        "a recording elsewhere still tells how its shim ended"
    );
    assert_eq!(
        named(&list, "unrecorded").state,
        State::Gone,
        "a shim that recorded nothing stays listed once seen"
    );
    assert_eq!(list.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_started_before_the_shim_shows_it_live_then_its_exit_code() {
    let home = common::temp();
    let mut app = App::hub(Hub::watch(catalog(home.path())));
    let (mut screen, mut frames) = WatchedScreen::new(160, 20);
    let (keys, input) = key_channel();
    let mut feeds = Feeds::new();
    let driver = async {
        shown(&mut frames, "the empty hub", |s| {
            s.contains("no sessions yet")
        })
        .await;
        let mut child = shim(home.path(), "early", &[], 3);
        shown(&mut frames, "the shim, live", |s| {
            row_of(s, "early").is_some_and(|r| r.contains("● live"))
        })
        .await;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(INIT).await.unwrap();
        stdin.flush().await.unwrap();
        shown(&mut frames, "its protocol, from its traffic", |s| {
            row_of(s, "early").is_some_and(|r| r.contains("LSP"))
        })
        .await;
        assert_eq!(finish(&mut child).await, Some(3));
        shown(&mut frames, "the shim, ended with its exit code", |s| {
            row_of(s, "early").is_some_and(|r| r.contains("ended · exit 3"))
        })
        .await;
        keys.send(k('q')).unwrap();
    };
    let ui = run(&mut app, &mut screen, input, &mut feeds);
    let (done, ()) = tokio::time::timeout(HANG, join(ui, driver))
        .await
        .expect("bounded");
    done.unwrap();
    let items = &app.hub.as_ref().unwrap().items;
    assert_eq!(items.len(), 1);
    let s = items[0].summary.as_ref().unwrap();
    assert_eq!((s.messages, s.protocol), (2, Some(Protocol::Lsp)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_opens_a_session_without_recording_through_its_live_feed() {
    let home = common::temp();
    let mut app = App::hub(Hub::watch(catalog(home.path())));
    let (mut screen, mut frames) = WatchedScreen::new(160, 24);
    let (keys, input) = key_channel();
    let mut feeds = Feeds::new();
    let driver = async {
        let mut child = shim(home.path(), "feedonly", &["--no-record"], 4);
        shown(&mut frames, "the shim, live and not recorded", |s| {
            row_of(s, "feedonly")
                .is_some_and(|r| r.contains("● live") && r.contains("(not recorded)"))
        })
        .await;
        keys.send(key(KeyCode::Enter)).unwrap();
        shown(&mut frames, "the viewer attached", |s| {
            s.lines()
                .next()
                .is_some_and(|h| h.contains("feedonly") && h.contains("● live"))
        })
        .await;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(PING).await.unwrap();
        stdin.flush().await.unwrap();
        shown(&mut frames, "its traffic, live", |s| {
            s.matches("demo/ping").count() >= 2 && s.contains("2 msgs")
        })
        .await;
        assert_eq!(finish(&mut child).await, Some(4));
        shown(&mut frames, "the exit in the viewer's header", |s| {
            s.lines()
                .next()
                .is_some_and(|h| h.contains("ended · exit 4"))
        })
        .await;
        keys.send(k('q')).unwrap();
        shown(&mut frames, "back on the hub, the session ended", |s| {
            row_of(s, "feedonly").is_some_and(|r| r.contains("ended · not recorded"))
        })
        .await;
        keys.send(key(KeyCode::Enter)).unwrap();
        shown(&mut frames, "why it cannot be opened now", |s| {
            s.contains("was not recorded and has ended")
        })
        .await;
        keys.send(k('q')).unwrap();
    };
    let ui = run(&mut app, &mut screen, input, &mut feeds);
    let (done, ()) = tokio::time::timeout(HANG, join(ui, driver))
        .await
        .expect("bounded");
    done.unwrap();
    assert_eq!(app.page, Page::Hub);
}

/// The live source on its own, against a real shim's socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_source_reads_a_shim_without_recording_until_its_exit() {
    let home = common::temp();
    let mut child = shim(home.path(), "fed", &["--no-record"], 0);
    let socket = home
        .path()
        .join("run")
        .join(format!("{}.sock", child.id().unwrap()));
    let start = std::time::Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < HANG, "no socket");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stdin = child.stdin.as_mut().unwrap();
    stdin.write_all(INIT).await.unwrap();
    stdin.write_all(PING).await.unwrap();
    stdin.flush().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    Source::Live { socket }.spawn(0, tx);
    let mut events = Vec::new();
    let mut closed = false;
    let end = loop {
        let Feed { update, .. } = tokio::time::timeout(HANG, rx.recv())
            .await
            .expect("bounded")
            .expect("the source ends with an update");
        match update {
            Update::Events(e) => events.extend(e),
            Update::CaughtUp if !closed => {
                // Everything so far is in: end the session while attached.
                closed = true;
                assert_eq!(finish(&mut child).await, Some(0));
            }
            Update::CaughtUp | Update::Skipped { .. } => {}
            end => break end,
        }
    };
    assert!(matches!(end, Update::Ended), "{end:?}");
    assert!(matches!(&events[0], Event::Session(i) if i.name == "fed"));
    let messages = events
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count();
    assert_eq!(messages, 4, "two requests and their echoes");
    assert!(matches!(events.last(), Some(Event::Exit(e)) if e.code == Some(0)));
}

/// The hub says why it lists nothing from a directory, as `rpctap ls` does on stderr
/// (issue 12): a runtime directory that is a link, a sessions directory others may write
/// to. A reason goes when the directory is fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_shows_why_it_refused_a_directory() {
    use std::os::unix::fs::PermissionsExt;
    let home = common::temp();
    let sessions = home.path().join("sessions");
    std::fs::create_dir(&sessions).unwrap();
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o777)).unwrap();
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, home.path().join("run")).unwrap();
    let mut app = App::hub(Hub::watch(catalog(home.path())));
    let (mut screen, mut frames) = WatchedScreen::new(160, 20);
    let (keys, input) = key_channel();
    let mut feeds = Feeds::new();
    let link = format!(
        "⚠ not listed: '{}' is a symbolic link",
        home.path().join("run").display()
    );
    let open = format!("⚠ not listed: '{}'", sessions.display());
    let driver = async {
        let both = shown(&mut frames, "both reasons", |s| {
            s.contains(&link) && s.contains(&open)
        })
        .await;
        assert!(both.contains("no sessions yet"), "{both}");
        let reason = both.lines().find(|l| l.contains(&open)).unwrap();
        assert!(reason.contains("refusing to use it"), "{reason}");
        std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o700)).unwrap();
        shown(&mut frames, "the fixed directory's reason gone", |s| {
            s.contains(&link) && !s.contains(&open)
        })
        .await;
        keys.send(k('q')).unwrap();
    };
    let ui = run(&mut app, &mut screen, input, &mut feeds);
    let (done, ()) = tokio::time::timeout(HANG, join(ui, driver))
        .await
        .expect("bounded");
    done.unwrap();
}
