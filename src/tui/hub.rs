//! The hub: the recordings in the state directory, one of which Enter opens. (Live
//! sessions join this list when the live feed exists.)

use crate::commands::{recordings, Listed};
use std::path::PathBuf;

pub struct Hub {
    /// Where the recordings were looked for, shown when there are none.
    pub dir: PathBuf,
    pub items: Vec<Listed>,
    pub cursor: usize,
}

impl Hub {
    /// Lists the recordings of the state directory, newest first.
    pub fn load() -> Hub {
        Hub::with(crate::paths::sessions_dir(), recordings())
    }

    pub fn with(dir: PathBuf, items: Vec<Listed>) -> Hub {
        Hub {
            dir,
            items,
            cursor: 0,
        }
    }

    pub fn selected(&self) -> Option<&Listed> {
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
}
