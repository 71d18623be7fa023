//! The hub: the sessions of this machine (`crate::catalog`), live and recorded, newest
//! first. Enter opens the selected one — or, when some are marked with Space, the marked
//! ones merged with a session column.
//!
//! While the hub is shown the event loop lists the sessions again about once a second
//! (`REFRESH`), so shims appear as they start and turn ended as they exit; the cursor and
//! the marks stay on their sessions (named by recording, else socket) across listings.

use super::source::{Source, Target};
use crate::catalog::{Catalog, Entry, State};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the shown hub is listed again.
pub const REFRESH: Duration = Duration::from_secs(1);

pub struct Hub {
    /// Where recordings are looked for, shown in the title.
    pub dir: PathBuf,
    pub items: Vec<Entry>,
    pub cursor: usize,
    /// The keys (`Entry::key`) of the items marked with Space.
    pub marks: HashSet<PathBuf>,
    /// A listing has arrived; until then the hub says it is looking.
    pub loaded: bool,
    /// Lists the sessions (shared with the loop's listing task). `None` for a fixed list,
    /// which is never refreshed.
    pub catalog: Option<Arc<Mutex<Catalog>>>,
    /// Why a directory was not read at the last listing (`Catalog::refused`): shown, since
    /// a hub that silently lists nothing from it looks like no shim is running.
    pub refused: Vec<String>,
}

impl Hub {
    /// A hub that lists what `catalog` finds, first when the loop starts.
    pub fn watch(catalog: Catalog) -> Hub {
        Hub {
            dir: catalog.sessions_dir.clone(),
            items: Vec::new(),
            cursor: 0,
            marks: HashSet::new(),
            loaded: false,
            catalog: Some(Arc::new(Mutex::new(catalog))),
            refused: Vec::new(),
        }
    }

    /// The sessions of the state and runtime directories (§3).
    pub fn from_env() -> Hub {
        Hub::watch(Catalog::from_env())
    }

    /// A fixed list, never refreshed.
    pub fn with(dir: PathBuf, items: Vec<Entry>) -> Hub {
        Hub {
            dir,
            items,
            cursor: 0,
            marks: HashSet::new(),
            loaded: true,
            catalog: None,
            refused: Vec::new(),
        }
    }

    pub fn selected(&self) -> Option<&Entry> {
        self.items.get(self.cursor)
    }

    /// The first item shown when `rows` fit: the cursor stays on the last row at most.
    pub fn top(&self, rows: usize) -> usize {
        self.cursor.saturating_sub(rows.saturating_sub(1))
    }

    pub fn step(&mut self, by: isize) {
        let last = self.items.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(by).min(last);
    }

    /// Takes the reasons of a new listing; false when they are the same.
    pub fn set_refused(&mut self, refused: Vec<String>) -> bool {
        let changed = refused != self.refused;
        self.refused = refused;
        changed
    }

    /// Takes a new listing, keeping the cursor on the same session (or, if it went, at
    /// the same place) and the marks of sessions still listed. False when nothing changed.
    pub fn set_items(&mut self, items: Vec<Entry>) -> bool {
        let first = !self.loaded;
        self.loaded = true;
        if items == self.items {
            return first;
        }
        let keep = self.selected().map(|e| e.key().to_path_buf());
        self.items = items;
        let found = keep.and_then(|k| self.items.iter().position(|e| e.key() == k));
        self.cursor = found.unwrap_or(self.cursor.min(self.items.len().saturating_sub(1)));
        let listed: HashSet<&std::path::Path> = self.items.iter().map(Entry::key).collect();
        self.marks.retain(|k| listed.contains(k.as_path()));
        true
    }

    pub fn toggle_mark(&mut self) {
        let Some(key) = self.selected().map(|e| e.key().to_path_buf()) else {
            return;
        };
        if !self.marks.remove(&key) {
            self.marks.insert(key);
        }
    }

    pub fn is_marked(&self, e: &Entry) -> bool {
        self.marks.contains(e.key())
    }

    /// What Enter opens: the marked sessions in list order, else the selected one; or why
    /// there is nothing to open.
    pub fn targets(&self) -> Result<Vec<Target>, String> {
        let chosen: Vec<&Entry> = if self.marks.is_empty() {
            self.selected().into_iter().collect()
        } else {
            self.items.iter().filter(|e| self.is_marked(e)).collect()
        };
        if chosen.is_empty() {
            return Err("no session to open".into());
        }
        chosen.into_iter().map(target).collect()
    }
}

/// How an entry is viewed: its recording, followed while the shim runs (the file's tail
/// is the live traffic); without a recording, the live feed itself.
fn target(e: &Entry) -> Result<Target, String> {
    let live = e.state == State::Live;
    let source = match (&e.recording, &e.socket) {
        (Some(path), _) => Source::File {
            path: path.clone(),
            follow: live,
        },
        (None, Some(socket)) if live => Source::Live {
            socket: socket.clone(),
        },
        _ => {
            return Err(format!(
                "'{}' was not recorded and has ended: nothing left to show",
                e.info.name
            ))
        }
    };
    Ok(Target {
        label: e.info.name.clone(),
        source,
    })
}

impl super::App {
    /// Enter on the hub: views the chosen sessions, or says why it cannot.
    pub(super) fn hub_open(&mut self) {
        if self.page != super::app::Page::Hub {
            return;
        }
        match self.hub.as_ref().map(Hub::targets) {
            Some(Ok(targets)) => self.effects.push(super::app::Effect::Open(targets)),
            Some(Err(why)) => self.set_status(why, true),
            None => {}
        }
    }
}
