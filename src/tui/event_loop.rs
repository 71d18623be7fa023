//! The one loop that owns the `App`: it selects over terminal input, the sources' channel
//! and a frame clock, applies each through `App::update`, runs the effects that need the
//! terminal or the sources, and draws — only when something changed, at most once a frame.
//!
//! Input is a parameter (any `Stream` of crossterm events), so tests drive the loop with a
//! list of keys, without a terminal and without sleeping.
//!
//! While a watching hub is shown, a timer lists its sessions about once a second; the
//! listing runs on the blocking pool (it reads files) and arrives as another branch.

use super::app::{App, Effect, Page};
use super::control::{Connection, Incoming};
use super::save;
use super::source::{Feed, Source};
use super::term::Screen;
use super::update::Action;
use crate::catalog::Entry;
use crate::control::protocol::Request;
use crossterm::event::Event as TermEvent;
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

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
    /// Control connections to the sessions' shims, by session, opened on first use; they
    /// end with the feeds (the shim then releases what they held).
    controls: HashMap<usize, Connection>,
}

impl Default for Feeds {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL);
        Feeds {
            tx,
            rx,
            controls: HashMap::new(),
        }
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

    /// Writes a command to session `session`'s shim, connecting (again) if needed.
    fn control(
        &mut self,
        session: usize,
        socket: Option<PathBuf>,
        id: Option<String>,
        request: &Request,
    ) -> Result<(), String> {
        if let Some(c) = self.controls.get(&session) {
            if c.send(request) {
                return Ok(());
            }
        }
        let path = super::control::resolve(socket.as_deref(), id.as_deref())?;
        let c = Connection::open(path, session, self.tx.clone());
        c.send(request);
        self.controls.insert(session, c);
        Ok(())
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
    frame.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut refresh = tokio::time::interval(super::hub::REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut listing: Option<JoinHandle<Vec<Entry>>> = None;
    loop {
        for _ in 0..FEED_BUDGET {
            match feeds.rx.try_recv() {
                Ok(f) => app.update(Action::Feed(f)),
                Err(_) => break,
            }
        }
        if effects(app, screen, feeds, &mut refresh)? {
            return Ok(());
        }
        tokio::select! {
            biased;
            ev = input.next() => match ev {
                Some(Ok(ev)) => app.update(to_action(ev)),
                Some(Err(e)) => return Err(e),
                None => {
                    // The input ended (a test's keys ran out): show the final state.
                    if let Some(Ok(items)) = futures::future::OptionFuture::from(listing).await {
                        app.update(Action::HubListing(items));
                    }
                    effects(app, screen, feeds, &mut refresh)?;
                    return draw(app, screen, true);
                }
            },
            Some(f) = feeds.rx.recv() => app.update(Action::Feed(f)),
            // Not polled unless a listing runs (the precondition is checked first).
            done = async { listing.as_mut().expect("a listing runs").await }, if listing.is_some() => {
                listing = None;
                if let Ok(items) = done {
                    app.update(Action::HubListing(items));
                }
            }
            _ = refresh.tick(), if listing.is_none() && app.page == Page::Hub && watching(app) => {
                listing = start_listing(app);
            }
            // The clock runs only while there is something to draw or a status to expire,
            // so an idle viewer does not wake up.
            now = frame.tick(), if app.wants_frame() => {
                app.update(Action::Tick(now.into_std()));
                draw(app, screen, false)?;
            }
        }
    }
}

fn watching(app: &App) -> bool {
    app.hub.as_ref().is_some_and(|h| h.catalog.is_some())
}

/// Lists the hub's sessions off the loop, if the hub watches a catalog.
fn start_listing(app: &App) -> Option<JoinHandle<Vec<Entry>>> {
    let catalog = app.hub.as_ref()?.catalog.clone()?;
    Some(tokio::task::spawn_blocking(move || {
        // A listing that panicked leaves the catalog as usable as before.
        let mut c = catalog.lock().unwrap_or_else(|e| e.into_inner());
        c.list()
    }))
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
fn effects<S: Screen>(
    app: &mut App,
    screen: &mut S,
    feeds: &mut Feeds,
    refresh: &mut Interval,
) -> io::Result<bool> {
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
                    Ok((n, created)) => {
                        let abs = std::path::absolute(&created.path).unwrap_or(created.path);
                        let taken = match created.instead_of {
                            Some(_) => format!(" ('{}' exists)", path.display()),
                            None => String::new(),
                        };
                        (format!("saved {n} rows to {}{taken}", abs.display()), false)
                    }
                    Err(e) => (format!("cannot save to '{}': {e:#}", path.display()), true),
                };
                app.set_status(msg.0, msg.1);
            }
            Effect::Open(targets) => {
                // A new channel: the previous sessions' sources stop when their sends fail.
                *feeds = Feeds::new();
                app.open(targets.iter().map(super::target_session).collect());
                app.from_hub = app.hub.is_some();
                // Live traffic is what one opens a live session for: follow it.
                app.follow = targets.iter().any(|t| t.source.is_live());
                for (i, t) in targets.iter().enumerate() {
                    feeds.spawn(t.source.clone(), i);
                }
                app.opened = targets;
            }
            Effect::Control {
                session,
                socket,
                session_id,
                request,
            } => {
                if let Err(why) = feeds.control(session, socket, session_id, &request) {
                    let update = super::source::Update::Control(Incoming::Closed(why));
                    app.update(Action::Feed(Feed { session, update }));
                }
            }
            Effect::External(text) => {
                screen.suspend()?;
                let edited = super::external::edit(&text);
                screen.resume()?;
                app.update(Action::Edited(edited));
            }
            Effect::Back => {
                *feeds = Feeds::new();
                app.open(Vec::new());
                app.opened.clear();
                app.page = Page::Hub;
                app.from_hub = false;
                // What changed while the viewer was shown is listed at once.
                refresh.reset_immediately();
            }
        }
        app.dirty = true;
    }
    Ok(false)
}
