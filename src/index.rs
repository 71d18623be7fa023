//! The index of recordings written outside the state directory (`--record PATH`,
//! `replay --record`), so that the hub and `rpctap ls` keep listing them after their shim
//! has gone (issue 14.2).
//!
//! The index is a directory, `<state dir>/index/`, with one small file per recording,
//! named after the recording's identity (`<dev>-<ino>`) and holding its absolute path.
//! A directory of files needs no lock: concurrent shims each create their own entry
//! (exclusively, see `files`), and a reader removes the entries whose recording is gone or
//! is no longer the same file (same path, another inode: a different session).
//!
//! Not responsible for: the recordings in `sessions/` (listed by reading that directory),
//! reading a recording's contents.

use anyhow::Context;
use std::fs::{File, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Entries read at most: an index is pruned as it is read, so this only bounds a hostile one.
const MAX_ENTRIES: usize = 10_000;
/// Longest path an entry may hold.
const MAX_ENTRY_LEN: u64 = 64 * 1024;

/// `<state dir>/index`.
pub fn index_dir() -> PathBuf {
    crate::paths::state_dir().join("index")
}

/// Adds `recording` (just created as `file`) to the index, unless it is in the state
/// directory's `sessions/`, which is listed anyway.
pub fn add(recording: &Path, file: &File) -> anyhow::Result<()> {
    add_to(&index_dir(), &crate::paths::sessions_dir(), recording, file)
}

/// `add` with explicit directories (for tests).
pub fn add_to(index: &Path, sessions: &Path, recording: &Path, file: &File) -> anyhow::Result<()> {
    let absolute = std::path::absolute(recording)
        .with_context(|| format!("cannot resolve '{}'", recording.display()))?;
    let parent_id = absolute
        .parent()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| (m.dev(), m.ino()));
    let sessions_id = std::fs::metadata(sessions).ok().map(|m| (m.dev(), m.ino()));
    if parent_id.is_some() && parent_id == sessions_id {
        return Ok(());
    }
    crate::paths::ensure_private_dir(index)?;
    let meta = file.metadata()?;
    let entry = index.join(entry_name(&meta));
    // An entry of the same device and inode is left by a recording since deleted, whose
    // inode the new file reuses: it names a file that is gone, so it goes. (Only a regular
    // file is removed; the directory is private to the user.)
    if std::fs::symlink_metadata(&entry).is_ok_and(|m| m.file_type().is_file()) {
        let _ = std::fs::remove_file(&entry);
    }
    let mut out = crate::files::create_exclusive(&entry)
        .with_context(|| format!("cannot create '{}'", entry.display()))?;
    std::io::Write::write_all(&mut out, absolute.as_os_str().as_bytes())?;
    Ok(())
}

fn entry_name(meta: &Metadata) -> String {
    format!("{}-{}", meta.dev(), meta.ino())
}

/// The indexed recordings that still exist, with their metadata. Entries whose recording
/// is gone, is not a regular file any more, or is another file now, are removed.
pub fn list(index: &Path) -> Vec<(PathBuf, Metadata)> {
    let Ok(dir) = std::fs::read_dir(index) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.filter_map(Result::ok).take(MAX_ENTRIES) {
        let path = entry.path();
        match read_entry(&path) {
            Some(Resolved::Listed(recording, meta)) => out.push((recording, meta)),
            Some(Resolved::Stale) => {
                let _ = std::fs::remove_file(&path);
            }
            None => {}
        }
    }
    out
}

enum Resolved {
    Listed(PathBuf, Metadata),
    Stale,
}

/// Reads one entry; `None` for what is not an entry rpctap wrote (left alone).
fn read_entry(path: &Path) -> Option<Resolved> {
    let own = std::fs::symlink_metadata(path).ok()?;
    if !own.is_file() || own.uid() != crate::os::euid() || own.len() > MAX_ENTRY_LEN {
        return None;
    }
    let name = path.file_name()?.to_str()?;
    let bytes = std::fs::read(path).ok()?;
    let recording = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
    let Ok(meta) = std::fs::symlink_metadata(&recording) else {
        return Some(Resolved::Stale);
    };
    if !meta.is_file() || entry_name(&meta) != name {
        return Some(Resolved::Stale);
    }
    Some(Resolved::Listed(recording, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_list_until_their_file_is_replaced_or_gone() {
        let dir = tempfile::tempdir().unwrap();
        let (index, sessions) = (dir.path().join("index"), dir.path().join("sessions"));
        std::fs::create_dir(&sessions).unwrap();
        let rec = dir.path().join("a.jsonl");
        let f = crate::files::create_exclusive(&rec).unwrap();
        add_to(&index, &sessions, &rec, &f).unwrap();
        let inside = sessions.join("b.jsonl");
        let g = crate::files::create_exclusive(&inside).unwrap();
        add_to(&index, &sessions, &inside, &g).unwrap();
        let listed: Vec<PathBuf> = list(&index).into_iter().map(|(p, _)| p).collect();
        assert_eq!(listed, vec![rec.clone()]);
        // Same path, another file (the old one still exists, so the inode differs).
        std::fs::rename(&rec, dir.path().join("old")).unwrap();
        std::fs::write(&rec, "x").unwrap();
        assert!(list(&index).is_empty());
        assert_eq!(std::fs::read_dir(&index).unwrap().count(), 0);
    }
}
