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

/// A `TestScreen` that publishes the text of every frame it draws, so that a test can wait
/// for what the loop shows while the loop runs.
pub struct WatchedScreen {
    pub inner: TestScreen,
    tx: tokio::sync::watch::Sender<String>,
}

impl WatchedScreen {
    pub fn new(width: u16, height: u16) -> (WatchedScreen, tokio::sync::watch::Receiver<String>) {
        let (tx, rx) = tokio::sync::watch::channel(String::new());
        let inner = TestScreen::new(width, height);
        (WatchedScreen { inner, tx }, rx)
    }
}

impl Screen for WatchedScreen {
    fn size(&self) -> std::io::Result<(u16, u16)> {
        self.inner.size()
    }

    fn draw(&mut self, app: &App) -> std::io::Result<()> {
        self.inner.draw(app)?;
        self.tx.send_replace(lines(&self.inner).join("\n"));
        Ok(())
    }

    fn copy(&mut self, text: &str) -> std::io::Result<()> {
        self.inner.copy(text)
    }
}

/// Waits until a drawn frame satisfies `pred` (a hang guard of `limit`); returns that frame.
pub async fn shown(
    rx: &mut tokio::sync::watch::Receiver<String>,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let found = {
        let wait = rx.wait_for(|s| pred(s));
        match tokio::time::timeout(Duration::from_secs(60), wait).await {
            Ok(Ok(screen)) => Some(screen.clone()),
            _ => None,
        }
    };
    found.unwrap_or_else(|| panic!("never shown: {what}; last frame:\n{}", rx.borrow().as_str()))
}

/// Keys the test sends while the loop runs.
pub fn key_channel() -> (
    tokio::sync::mpsc::UnboundedSender<TermEvent>,
    impl futures::Stream<Item = std::io::Result<TermEvent>> + Unpin,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stream =
        futures::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|k| (Ok(k), rx)) },
        );
    (tx, Box::pin(stream))
}

/// A hub entry for a recording that has ended, summarised as the catalog would.
pub fn ended_entry(path: &Path) -> rpctap::catalog::Entry {
    let summary = rpctap::session::summarize(path).expect("a recording");
    let exit = summary.exit.expect("an exit line");
    rpctap::catalog::Entry {
        info: summary.info.clone(),
        recording: Some(path.to_path_buf()),
        socket: None,
        summary: Some(summary),
        state: rpctap::catalog::State::Exited(exit),
    }
}

/// The events of a real capture in `assets/`.
pub fn asset_events(name: &str) -> Vec<Event> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name);
    read_file(&path).unwrap().map(Result::unwrap).collect()
}

/// A real capture, fully read, in an app of this size.
pub fn asset_app(name: &str, width: u16, height: u16) -> App {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, asset_events(name)));
    app.update(Action::Feed(Feed {
        session: 0,
        update: Update::Ended,
    }));
    app.time = TimeFormat::Relative;
    app.update(Action::Resize(width, height));
    app
}

/// One key through `update`, without the loop.
pub fn press(app: &mut App, c: char) {
    if let crossterm::event::Event::Key(k) = k(c) {
        app.update(Action::Key(k));
    }
}

/// The loop running on `app` (in a task) with keys the test sends while it runs, and the
/// text of each frame drawn.
pub struct Running {
    pub keys: tokio::sync::mpsc::UnboundedSender<crossterm::event::Event>,
    pub frames: tokio::sync::watch::Receiver<String>,
    pub task: tokio::task::JoinHandle<App>,
}

impl Running {
    pub fn start(mut feeds: Feeds, mut app: App) -> Running {
        let (keys, input) = key_channel();
        let (mut screen, frames) = WatchedScreen::new(120, 36);
        let task = tokio::spawn(async move {
            run(&mut app, &mut screen, input, &mut feeds).await.unwrap();
            app
        });
        Running { keys, frames, task }
    }

    pub fn press(&self, keys: Vec<crossterm::event::Event>) {
        for k in keys {
            self.keys.send(k).unwrap();
        }
    }

    pub async fn shown(&mut self, what: &str) -> String {
        let w = what.to_owned();
        shown(&mut self.frames, what, move |s| s.contains(&w)).await
    }

    /// Ctrl-C: closes an open compose view, then quits from anywhere.
    pub async fn quit(self) -> App {
        // The second is not read when the first quits.
        let _ = self.keys.send(ctrl('c'));
        let _ = self.keys.send(ctrl('c'));
        tokio::time::timeout(std::time::Duration::from_secs(20), self.task)
            .await
            .expect("the loop ends")
            .unwrap()
    }
}
