//! Opens a recording file into a `Store`, with errors a user can act on.

use super::Store;
use crate::record::{open, ReadError};
use std::path::Path;

/// `cannot open 'x': No such file or directory` rather than `... (os error 2)`.
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// A user-facing description of a read failure on `path`.
pub fn describe(path: &Path, e: &ReadError) -> String {
    match e {
        ReadError::Io(io) => format!("cannot open '{}': {}", path.display(), io_message(io)),
        other => format!("cannot read '{}': {other}", path.display()),
    }
}

/// Reads a whole recording, in any format `record::open` recognises. A truncated last
/// line is skipped; any other bad line fails.
pub fn load(path: &Path) -> anyhow::Result<Store> {
    let size =
        std::fs::metadata(path).map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
    let mut store = Store::with_capacity(size);
    let (_, events) = open(path).map_err(|e| anyhow::anyhow!(describe(path, &e)))?;
    for event in events {
        store.push(event.map_err(|e| anyhow::anyhow!(describe(path, &e)))?);
    }
    Ok(store)
}
