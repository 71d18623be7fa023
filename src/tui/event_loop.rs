//! The one loop that owns the `App`: it selects over terminal input, the sources' channel
//! and a frame clock, applies each through `App::update`, runs the effects that need the
//! terminal or the sources, and draws — only when something changed, at most once a frame.
//!
//! Input is a parameter (any `Stream` of crossterm events), so tests drive the loop with a
//! list of keys, without a terminal and without sleeping.

use super::app::{App, Effect, Page};
use super::save;
use super::source::{Feed, Source};
use super::term::Screen;
use super::update::Action;
use crossterm::event::Event as TermEvent;
use futures::{Stream, StreamExt};
use std::io;
use std::time::Duration;
use tokio::sync::mpsc;

/// At most this often a frame is drawn (about 30 per second).
pub const FRAME: Duration = Duration::from_millis(33);
/// Batches taken from the sources before input is looked at again: keeps keys responsive
/// while a large recording loads.
const FEED_BUDGET: usize = 8;
/// Batches the sources may queue ahead of the loop.
const CHANNEL: usize = 16;

/// The channel the sources send on, and the receiving end the loop reads.
pub struct Feeds {
    tx: mpsc::Sender<Feed>,
    rx: mpsc::Receiver<Feed>,
}

impl Default for Feeds {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL);
        Feeds { tx, rx }
    }
}

impl Feeds {
    pub fn new() -> Feeds {
        Feeds::default()
    }

    /// A sender for a source feeding session `session` of the app (e.g. a test).
    pub fn sender(&self) -> mpsc::Sender<Feed> {
        self.tx.clone()
    }

    /// Starts a source feeding session `session`.
    pub fn spawn(&self, source: Source, session: usize) {
        source.spawn(session, self.tx.clone());
    }
}

/// Runs until the user quits or the input ends. The caller sets up and restores the
/// terminal; `screen` only draws.
pub async fn run<S, I>(
    app: &mut App,
    screen: &mut S,
    mut input: I,
    feeds: &mut Feeds,
) -> io::Result<()>
where
    S: Screen,
    I: Stream<Item = io::Result<TermEvent>> + Unpin,
{
    let (w, h) = screen.size()?;
    app.update(Action::Resize(w, h));
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        for _ in 0..FEED_BUDGET {
            match feeds.rx.try_recv() {
                Ok(f) => app.update(Action::Feed(f)),
                Err(_) => break,
            }
        }
        if effects(app, screen, feeds)? {
            return Ok(());
        }
        tokio::select! {
            biased;
            ev = input.next() => match ev {
                Some(Ok(ev)) => app.update(to_action(ev)),
                Some(Err(e)) => return Err(e),
                None => {
                    // The input ended (a test's keys ran out): show the final state.
                    effects(app, screen, feeds)?;
                    return draw(app, screen, true);
                }
            },
            Some(f) = feeds.rx.recv() => app.update(Action::Feed(f)),
            // The clock runs only while there is something to draw or a status to expire,
            // so an idle viewer does not wake up.
            now = frame.tick(), if app.wants_frame() => {
                app.update(Action::Tick(now.into_std()));
                draw(app, screen, false)?;
            }
        }
    }
}

fn to_action(ev: TermEvent) -> Action {
    match ev {
        TermEvent::Key(k) => Action::Key(k),
        TermEvent::Mouse(m) => Action::Mouse(m),
        TermEvent::Resize(w, h) => Action::Resize(w, h),
        // Focus changes and pastes change nothing; a tick keeps the match total.
        _ => Action::Tick(std::time::Instant::now()),
    }
}

fn draw<S: Screen>(app: &mut App, screen: &mut S, force: bool) -> io::Result<()> {
    if app.take_dirty() || force {
        // Resize events can be missed or late; draw for the size the screen has.
        let size = screen.size()?;
        if size != app.size {
            app.update(Action::Resize(size.0, size.1));
        }
        app.prepare();
        screen.draw(app)?;
    }
    Ok(())
}

/// Runs the effects `update` asked for; true when the loop should end.
fn effects<S: Screen>(app: &mut App, screen: &mut S, feeds: &mut Feeds) -> io::Result<bool> {
    for effect in std::mem::take(&mut app.effects) {
        match effect {
            Effect::Quit => return Ok(true),
            Effect::Copy(text) => {
                let msg = match screen.copy(&text) {
                    Ok(()) => (
                        format!(
                            "copied {} to the clipboard (OSC 52)",
                            crate::fmt::size(text.len() as u64)
                        ),
                        false,
                    ),
                    Err(e) => (format!("copy failed: {e}"), true),
                };
                app.set_status(msg.0, msg.1);
            }
            Effect::Save(path) => {
                let msg = match save::write_view(app, &path) {
                    Ok(n) => {
                        let abs = std::path::absolute(&path).unwrap_or(path);
                        (format!("saved {n} rows to {}", abs.display()), false)
                    }
                    Err(e) => (format!("cannot save to '{}': {e}", path.display()), true),
                };
                app.set_status(msg.0, msg.1);
            }
            Effect::Open(path) => {
                // A new channel: the previous session's source stops when its sends fail.
                *feeds = Feeds::new();
                app.open(vec![super::file_session(&path)]);
                app.from_hub = true;
                feeds.spawn(Source::File { path, follow: true }, 0);
            }
            Effect::Back => {
                *feeds = Feeds::new();
                app.open(Vec::new());
                app.page = Page::Hub;
                app.from_hub = false;
            }
        }
        app.dirty = true;
    }
    Ok(false)
}
