//! Helpers shared by the TUI tests: the fixture loaded into an `App`, keys as terminal
//! events, and drawing onto a `TestBackend`.
#![allow(dead_code)]

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use rpctap::record::{read_file, Event};
use rpctap::tui::app::TimeFormat;
use rpctap::tui::{run, Action, App, Feed, Feeds, Screen, Session, TestScreen, Update};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lsp-session.jsonl")
}

pub fn fixture_events() -> Vec<Event> {
    read_file(&fixture()).unwrap().map(Result::unwrap).collect()
}

pub fn events(session: usize, events: Vec<Event>) -> Action {
    Action::Feed(Feed {
        session,
        update: Update::Events(events),
    })
}

/// The fixture, fully read, with relative times (so that snapshots do not depend on the
/// time zone).
pub fn fixture_app(width: u16, height: u16) -> App {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, fixture_events()));
    app.update(Action::Feed(Feed {
        session: 0,
        update: Update::Ended,
    }));
    app.time = TimeFormat::Relative;
    app.update(Action::Resize(width, height));
    app
}

/// Draws the app as the loop does (prepare, then render).
pub fn draw(app: &mut App) -> TestScreen {
    let (w, h) = app.size;
    let mut screen = TestScreen::new(w, h);
    app.prepare();
    screen.draw(app).unwrap();
    screen
}

/// The screen's text, one string per row.
pub fn lines(screen: &TestScreen) -> Vec<String> {
    let buf = screen.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

pub fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> TermEvent {
    TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// One key event per character.
pub fn typed(s: &str) -> Vec<TermEvent> {
    s.chars().map(|c| key(KeyCode::Char(c))).collect()
}

/// The sequence number of the selected row.
pub fn selected_seq(app: &App) -> Option<u64> {
    let r = app.selected()?;
    Some(app.timeline.store(r).row(r.row as usize).seq)
}

/// Selects the row with this sequence number (which must be in the view).
pub fn select_seq(app: &mut App, seq: u64) {
    let i = (0..app.view.len())
        .find(|&i| {
            let r = app.timeline.at(app.view.rows[i] as usize);
            app.timeline.store(r).row(r.row as usize).seq == seq
        })
        .expect("row in view");
    app.update(Action::Select(i));
}

/// Runs the loop until the keys run out (or `q`), bounded in time.
pub async fn keys(app: &mut App, screen: &mut TestScreen, feeds: &mut Feeds, keys: Vec<TermEvent>) {
    let input = futures::stream::iter(keys.into_iter().map(Ok));
    tokio::time::timeout(Duration::from_secs(20), run(app, screen, input, feeds))
        .await
        .expect("the loop returns")
        .expect("no terminal error");
}

/// The fixture in an app, a test screen of the same size, and a channel.
pub fn setup(width: u16, height: u16) -> (App, TestScreen, Feeds) {
    (
        fixture_app(width, height),
        TestScreen::new(width, height),
        Feeds::new(),
    )
}

pub fn k(c: char) -> TermEvent {
    key(KeyCode::Char(c))
}
