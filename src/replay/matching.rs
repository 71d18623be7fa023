//! Which recorded client message a new one corresponds to: the same method and equal
//! params after normalisation first, then the next unused one of that method. `mock`
//! answers with the match; `diff` pairs the requests of two sessions with it.
//!
//! Not responsible for: what is done with a match, or which paths are ignored (callers
//! pass them: `default_param_ignores` plus `--ignore`).

use super::normalize::{remove_path, JsonPath};
use crate::session::Store;
use serde_json::Value;
use std::collections::HashMap;

/// What to do once every recorded message of a method has been matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUsedUp {
    /// Match the last one again (a mock keeps answering a client that asks more often).
    ReuseLast,
    /// No match (a comparison counts the extra message as added).
    Nothing,
}

/// Recorded messages by method, in order, each matched at most once (but see `WhenUsedUp`).
pub struct Matcher {
    by_method: HashMap<String, Vec<usize>>,
    used: Vec<bool>,
}

/// The `params` of a recorded message (`null` when it has none).
pub fn params_of(store: &Store, row: usize) -> Value {
    serde_json::from_slice::<Value>(store.body(row))
        .ok()
        .and_then(|mut v| v.get_mut("params").map(Value::take))
        .unwrap_or(Value::Null)
}

fn normalized(v: &Value, ignore: &[JsonPath]) -> Value {
    let mut v = v.clone();
    for p in ignore {
        remove_path(&mut v, p);
    }
    v
}

impl Matcher {
    pub fn new(store: &Store) -> Matcher {
        Matcher {
            by_method: HashMap::new(),
            used: vec![false; store.len()],
        }
    }

    /// Makes a recorded row a candidate (rows are added in recording order).
    pub fn add(&mut self, store: &Store, row: usize) {
        self.by_method
            .entry(store.method(row).unwrap_or_default().to_owned())
            .or_default()
            .push(row);
    }

    /// The recorded row matching `method` with `params`, now used.
    pub fn find(
        &mut self,
        store: &Store,
        method: &str,
        params: &Value,
        ignore: &[JsonPath],
        used_up: WhenUsedUp,
    ) -> Option<usize> {
        let candidates = self.by_method.get(method)?;
        let wanted = normalized(params, ignore);
        let found = candidates
            .iter()
            .copied()
            .find(|&r| !self.used[r] && normalized(&params_of(store, r), ignore) == wanted)
            .or_else(|| candidates.iter().copied().find(|&r| !self.used[r]))
            .or_else(|| match used_up {
                WhenUsedUp::ReuseLast => candidates.last().copied(),
                WhenUsedUp::Nothing => None,
            })?;
        self.used[found] = true;
        Some(found)
    }

    /// Candidates never matched, in recording order.
    pub fn unused(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .by_method
            .values()
            .flatten()
            .copied()
            .filter(|&r| !self.used[r])
            .collect();
        rows.sort_unstable();
        rows
    }
}
