//! The terminal UI: a two-pane viewer of sessions (PRODUCT §7) — the message list and the
//! selected message — with a header, a footer, filter, search, marks and follow.
//!
//! Shape: sources (`source`) read events off the UI loop and send them in batches; one
//! loop (`event_loop`) owns the `App` and applies input, batches and the frame clock
//! through `App::update` (`update`); `render` draws the `App` without changing it.
//!
//! Entry points: `view_files` (async, for callers already inside a tokio runtime, such as
//! `rpctap demo`), `run_file`/`run_files`/`run_hub` (blocking, building their own runtime).

pub mod app;
pub mod chart;
pub mod compose;
pub mod control;
pub mod detail;
pub mod diff;
pub mod editor;
pub mod event_loop;
mod external;
mod filtering;
mod held;
pub mod hub;
pub mod interact;
pub mod json;
pub mod keys;
pub mod labels;
mod live_source;
pub mod problems;
pub mod prompt;
pub mod query;
pub mod render;
pub mod save;
pub mod source;
pub mod term;
pub mod text;
pub mod update;
pub mod view;

pub use app::App;
pub use event_loop::{run, Feeds};
pub use source::{Feed, Source, Target, Update};
pub use term::{Screen, TestScreen, Tty};
pub use update::Action;
pub use view::Session;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// A session for a recording file, its store sized for the file.
pub fn file_session(path: &Path) -> Session {
    let size = std::fs::metadata(path).map_or(0, |m| m.len() as usize);
    // Until the recording's header is read, the file name labels it.
    let label = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    Session::new(label.unwrap_or_default(), Some(path.to_path_buf()), size)
}

/// A session for a target, labelled with the target's label until its header names it.
pub fn target_session(t: &Target) -> Session {
    let mut s = match &t.source {
        Source::File { path, .. } => file_session(path),
        Source::Live { .. } => Session::new("", None, 0),
    };
    if !t.label.is_empty() {
        s.label = t.label.clone();
    }
    s
}

/// Shows recordings until the user quits: one file, or several merged by time with a
/// session column. Each file is followed while it is written (until its `exit` line), so
/// the recording of a running shim shows live. The selection follows new messages from the
/// start with `follow`, or when a file is still being written (the hub's rule). Must run inside a multi-threaded tokio runtime.
pub async fn view_files(paths: &[PathBuf], follow: bool) -> anyhow::Result<()> {
    let targets: Vec<Target> = paths
        .iter()
        .map(|path| Target {
            label: String::new(),
            source: Source::File {
                path: path.clone(),
                follow: true,
            },
        })
        .collect();
    let mut app = App::new(targets.iter().map(target_session).collect());
    // The hub's rule: a session still being written opens following its new messages.
    app.follow = follow || paths.iter().any(|p| crate::catalog::recording_is_live(p));
    let feeds = Feeds::new();
    for (i, t) in targets.iter().enumerate() {
        feeds.spawn(t.source.clone(), i);
    }
    app.opened = targets;
    interactive(app, feeds).await
}

/// The hub: live and recorded sessions, refreshed while shown; Enter opens, `q` comes back.
pub async fn view_hub() -> anyhow::Result<()> {
    interactive(App::hub(hub::Hub::from_env()), Feeds::new()).await
}

async fn interactive(mut app: App, mut feeds: Feeds) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the TUI needs a terminal; to print a recording use `rpctap cat`");
    }
    let mut tty = Tty::enter().map_err(|e| anyhow::anyhow!("cannot set up the terminal: {e}"))?;
    let input = crossterm::event::EventStream::new();
    // SIGTERM and SIGHUP (the terminal closing) end the viewer like `q`, so that the
    // terminal is restored; in raw mode Ctrl-C arrives as a key, not as SIGINT.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let result = tokio::select! {
        r = event_loop::run(&mut app, &mut tty, input, &mut feeds) => r,
        _ = term.recv() => Ok(()),
        _ = hup.recv() => Ok(()),
    };
    drop(tty);
    result.map_err(|e| anyhow::anyhow!("terminal: {e}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the runtime: {e}"))
}

/// Blocking `view_files` for one recording: returns when the user quits.
pub fn run_file(path: &Path, follow: bool) -> anyhow::Result<()> {
    run_files(&[path.to_path_buf()], follow)
}

/// Blocking `view_files`.
pub fn run_files(paths: &[PathBuf], follow: bool) -> anyhow::Result<()> {
    runtime()?.block_on(view_files(paths, follow))
}

/// Blocking `view_hub`.
pub fn run_hub() -> anyhow::Result<()> {
    runtime()?.block_on(view_hub())
}

/// `rpctap ui A B --diff`: the comparison of two sessions until the user quits.
pub fn run_diff(mut view: diff::DiffView) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the TUI needs a terminal; to print the comparison use `rpctap diff`");
    }
    runtime()?.block_on(async {
        let mut tty =
            Tty::enter().map_err(|e| anyhow::anyhow!("cannot set up the terminal: {e}"))?;
        let input = crossterm::event::EventStream::new();
        let r = diff::run(&mut view, tty.terminal(), input).await;
        drop(tty);
        r.map_err(|e| anyhow::anyhow!("terminal: {e}"))
    })
}
