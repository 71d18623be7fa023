//! Issue 14.8 and the TUI's `w` (issue 12.1) through the event loop with a test backend:
//! a new search starts empty and stays with its sessions, `e` twice keeps the selection,
//! follow starts the same way from the hub and from `open`, `\/` shows as `/`, DAP reads
//! as DAP, and a saved view never replaces a file.

mod support;

use crossterm::event::KeyCode;
use rpctap::tui::app::Page;
use rpctap::tui::{App, Feeds, Session, TestScreen};
use std::io::Write;
use std::path::Path;
use support::*;

#[tokio::test]
async fn ctrl_f_opens_an_empty_search() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    let mut input = typed("n");
    input.extend(typed("didOpen"));
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert_eq!(
        app.search.as_ref().map(|s| s.text.as_str()),
        Some("didOpen")
    );
    keys(&mut app, &mut screen, &mut feeds, vec![ctrl('f')]).await;
    assert_eq!(app.prompt.as_ref().map(|p| p.text.as_str()), Some(""));
    // The last search is in the history.
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Up)]).await;
    assert_eq!(
        app.prompt.as_ref().map(|p| p.text.as_str()),
        Some("didOpen")
    );
}

#[tokio::test]
async fn a_search_does_not_carry_over_into_another_session() {
    let hub = rpctap::tui::hub::Hub::with("/state".into(), vec![ended_entry(&fixture())]);
    let mut app = App::hub(hub);
    let (mut screen, mut feeds) = (TestScreen::new(100, 20), Feeds::new());
    let mut input = vec![key(KeyCode::Enter), ctrl('f')];
    input.extend(typed("didOpen"));
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert!(app.search.is_some());
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('q'), key(KeyCode::Enter)],
    )
    .await;
    assert_eq!(app.page, Page::Viewer);
    assert!(
        app.search.is_none(),
        "the search followed into another view"
    );
    // `n` asks for a new one instead of searching for the old text.
    keys(&mut app, &mut screen, &mut feeds, vec![k('n')]).await;
    assert_eq!(app.prompt.as_ref().map(|p| p.text.as_str()), Some(""));
}

#[tokio::test]
async fn pressing_e_twice_keeps_the_selection() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    select_seq(&mut app, 3);
    let before = app.selected();
    keys(&mut app, &mut screen, &mut feeds, vec![k('e')]).await;
    assert!(app.crit.errors_only);
    assert_ne!(
        app.selected(),
        before,
        "row 3 is no error: the selection moved"
    );
    keys(&mut app, &mut screen, &mut feeds, vec![k('e')]).await;
    assert_eq!(app.selected(), before);
    // A row chosen in the errors-only view stays chosen.
    keys(&mut app, &mut screen, &mut feeds, vec![k('e'), k('j')]).await;
    let chosen = app.selected();
    keys(&mut app, &mut screen, &mut feeds, vec![k('e')]).await;
    assert_eq!(app.selected(), chosen);
}

/// A one-session app over `events`, fully read.
fn app_of(events: Vec<rpctap::record::Event>) -> App {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(support::events(0, events));
    // Wide enough for the header to show the framing of both directions.
    app.update(rpctap::tui::Action::Resize(140, 24));
    app
}

fn read(text: &str) -> Vec<rpctap::record::Event> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.jsonl");
    std::fs::write(&p, text).unwrap();
    rpctap::record::read_file(&p)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

const HEAD: &str = r#"{"rpctap":1,"type":"session","id":"x","name":"t","command":["t"],"cwd":"/","pid":1,"started":"2026-01-10T10:00:00.000000Z"}"#;

#[tokio::test]
async fn pretty_json_shows_escaped_slashes_as_slashes() {
    let line = r#"{"seq":1,"t":"2026-01-10T10:00:00.000000Z","dir":"c2s","framing":"lsp","msg":{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"uri":"file:\/\/\/src\/main.rs"}}}"#;
    let mut app = app_of(read(&format!("{HEAD}\n{line}\n")));
    let shown = lines(&draw(&mut app)).join("\n");
    assert!(shown.contains(r#""uri": "file:///src/main.rs""#), "{shown}");
}

#[tokio::test]
async fn dap_sessions_read_as_dap_with_events_and_content_length() {
    let dap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dap.jsonl");
    let events = rpctap::record::read_file(&dap)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut app = app_of(events);
    let shown = lines(&draw(&mut app));
    let header = &shown[0];
    assert!(header.contains("DAP"), "{header}");
    assert!(
        header.contains("→ Content-Length  ← Content-Length") && !header.contains("lsp"),
        "{header}"
    );
    let stopped = shown.iter().find(|l| l.contains("stopped")).unwrap();
    assert!(stopped.contains("event"), "{stopped}");
    // The detail of an event says so, and names the framing as DAP does.
    select_seq(&mut app, 3);
    let detail = lines(&draw(&mut app)).join("\n");
    assert!(detail.contains("← event  initialized"), "{detail}");
    assert!(detail.contains("· Content-Length"), "{detail}");
    assert!(!detail.contains("notification") && !detail.contains("· lsp"));
}

#[test]
fn follow_starts_on_for_a_recording_still_written_as_in_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("live.jsonl");
    let mut shim = std::process::Command::new(env!("CARGO_BIN_EXE_rpctap"))
        .env("RPCTAP_HOME", dir.path())
        .arg("--record")
        .arg(&rec)
        .arg("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::fs::read(&rec).map_or(true, |b| !b.contains(&b'\n')) {
        assert!(start.elapsed().as_secs() < 60, "no recording header");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(rpctap::catalog::recording_is_live(&rec));
    // The hub calls the same shim live.
    let mut catalog =
        rpctap::catalog::Catalog::new(dir.path().join("sessions"), dir.path().join("run"));
    let listed = catalog.list();
    let entry = listed
        .iter()
        .find(|e| e.recording.as_deref() == Some(&*rec));
    assert_eq!(
        entry.map(|e| e.state),
        Some(rpctap::catalog::State::Live),
        "{listed:?}"
    );
    let mut stdin = shim.stdin.take().unwrap();
    stdin.write_all(b"{}\n").unwrap();
    drop(stdin);
    assert!(shim.wait().unwrap().success());
    assert!(!rpctap::catalog::recording_is_live(&rec));
}

#[tokio::test]
async fn w_never_replaces_a_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("view.jsonl");
    std::fs::write(&taken, "keep").unwrap();
    let (mut app, mut screen, mut feeds) = setup(120, 24);
    let mut input = vec![k('w'), ctrl('u')];
    input.extend(typed(taken.to_str().unwrap()));
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert_eq!(std::fs::read(&taken).unwrap(), b"keep");
    let new = dir.path().join("view-1.jsonl");
    let status = app.status.clone().unwrap();
    assert!(
        !status.error && status.text.contains("view-1.jsonl") && status.text.contains("exists"),
        "{status:?}"
    );
    let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved = rpctap::session::load(&new).unwrap();
    assert_eq!(saved.len(), app.view.len());
}

#[tokio::test]
async fn a_log_without_times_shows_dashes_and_a_rebuilt_wire() {
    let log =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/lsp-devtools.jsonl");
    let (_, events) = rpctap::record::open(&log).unwrap();
    let mut app = app_of(events.map(Result::unwrap).collect());
    let shown = lines(&draw(&mut app));
    let row = shown.iter().find(|l| l.contains("← resp")).unwrap();
    assert!(row.contains('–') && !row.contains("0µs"), "{row}");
    let detail = shown.join("\n");
    assert!(detail.contains("latency – (no times"), "{detail}");
    let (mut screen, mut feeds) = (TestScreen::new(140, 24), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, vec![k('3')]).await;
    let wire = lines(&draw(&mut app)).join("\n");
    assert!(
        wire.contains("rebuilt from an imported log") && !wire.contains("on the wire,"),
        "{wire}"
    );
}

#[test]
fn the_hub_shows_why_a_command_could_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rpctap"))
        .env("RPCTAP_HOME", dir.path())
        .args(["--name", "broken", "/no/such/server"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let sessions = dir.path().join("sessions");
    let mut catalog = rpctap::catalog::Catalog::new(sessions.clone(), dir.path().join("run"));
    let hub = rpctap::tui::hub::Hub::with(sessions, catalog.list());
    let mut app = App::hub(hub);
    app.update(rpctap::tui::Action::Resize(180, 10));
    let shown = lines(&draw(&mut app)).join("\n");
    let row = shown.lines().find(|l| l.contains("broken")).unwrap_or("");
    assert!(
        row.contains("exit 127")
            && row.contains("cannot run '/no/such/server': No such file or directory"),
        "{shown}"
    );
}
