//! Two sessions side by side (`rpctap diff A B`, `rpctap ui A B --diff`): each request of
//! B is matched to one of A as `mock` matches (`matching`: method and normalised params,
//! then method and order), per direction; matched responses are compared after the same
//! normalisation as replay's report (`report::normalized`, `default_ignores`, plus the
//! ids, which differ between any two sessions).
//!
//! Not responsible for: printing (see `commands::diff`) or drawing (see `tui::diff`).

use super::matching::{params_of, Matcher, WhenUsedUp};
use super::normalize::{diff, parse_path, JsonPath};
use super::report::{default_ignores, normalized};
use crate::record::Dir;
use crate::rpc::Kind;
use crate::session::Store;
use std::collections::BTreeMap;

/// How one request differs between the sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// In B only (a row of B).
    Added(usize),
    /// In A only (a row of A).
    Removed(usize),
    /// In both, answered differently: the rows of A and B, and readable diff lines.
    Changed(usize, usize, Vec<String>),
}

/// Median latencies (µs) of one method in A and in B.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyChange {
    pub a: Vec<i64>,
    pub b: Vec<i64>,
}

impl LatencyChange {
    pub fn p50(v: &[i64]) -> Option<i64> {
        let mut v = v.to_vec();
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied()
    }
}

#[derive(Debug, Default)]
pub struct Comparison {
    /// Requests found in both sessions.
    pub matched: usize,
    /// Of those, answered alike.
    pub same: usize,
    /// In B's order, then what only A had in A's order.
    pub changes: Vec<Change>,
    /// Per method (matched requests only, so that like is compared with like).
    pub latency: BTreeMap<String, LatencyChange>,
}

impl Comparison {
    pub fn is_clean(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn count(&self, which: fn(&Change) -> bool) -> usize {
        self.changes.iter().filter(|c| which(c)).count()
    }
}

/// Paths removed from responses before comparing: the protocol's defaults, the ids, and
/// the user's `--ignore`.
pub fn response_ignores(store: &Store, extra: &[JsonPath]) -> Vec<JsonPath> {
    let mut v = default_ignores(store.protocol);
    v.extend(
        [".id", ".seq", ".request_seq"]
            .iter()
            .filter_map(|p| parse_path(p).ok()),
    );
    v.extend(extra.iter().cloned());
    v
}

fn requests(store: &Store, dir: Dir) -> impl Iterator<Item = usize> + '_ {
    (0..store.len()).filter(move |&i| {
        let r = store.row(i);
        r.kind == Kind::Request && r.dir == dir
    })
}

/// Compares B against A. `params_ignore` applies to request params when matching,
/// `response_ignore` to responses when comparing.
pub fn compare(
    a: &Store,
    b: &Store,
    params_ignore: &[JsonPath],
    response_ignore: &[JsonPath],
) -> Comparison {
    let mut out = Comparison::default();
    let mut removed = Vec::new();
    for dir in [Dir::C2s, Dir::S2c] {
        let mut matcher = Matcher::new(a);
        requests(a, dir).for_each(|r| matcher.add(a, r));
        for rb in requests(b, dir) {
            let method = b.method(rb).unwrap_or_default();
            let params = params_of(b, rb);
            match matcher.find(a, method, &params, params_ignore, WhenUsedUp::Nothing) {
                None => out.changes.push(Change::Added(rb)),
                Some(ra) => {
                    out.matched += 1;
                    pair(&mut out, a, ra, b, rb, response_ignore);
                }
            }
        }
        removed.extend(matcher.unused());
    }
    removed.sort_unstable();
    out.changes.extend(removed.into_iter().map(Change::Removed));
    out
}

fn pair(out: &mut Comparison, a: &Store, ra: usize, b: &Store, rb: usize, ignore: &[JsonPath]) {
    let method = b.method(rb).unwrap_or_default().to_owned();
    let lines = match (a.pair(ra), b.pair(rb)) {
        (Some(pa), Some(pb)) => {
            let lat = out.latency.entry(method).or_default();
            lat.a.extend(a.latency(ra));
            lat.b.extend(b.latency(rb));
            diff(
                &normalized(a.body(pa), ignore),
                &normalized(b.body(pb), ignore),
                20,
            )
        }
        (None, None) => Vec::new(),
        (Some(_), None) => vec!["- answered in A, never answered in B".to_owned()],
        (None, Some(_)) => vec!["+ never answered in A, answered in B".to_owned()],
    };
    if lines.is_empty() {
        out.same += 1;
    } else {
        out.changes.push(Change::Changed(ra, rb, lines));
    }
}

/// `textDocument/hover #3 (seq 7)`, printable.
pub fn describe(store: &Store, row: usize) -> String {
    let id = store.id(row).map(|i| i.to_string()).unwrap_or_default();
    crate::fmt::printable(&format!(
        "{} #{id} (seq {})",
        store.method(row).unwrap_or("?"),
        store.row(row).seq
    ))
}
