//! The parsed form of a filter: boolean combinations of predicates, each predicate either a
//! test on a row's summary (method, direction, kind, id, status, latency, size) or a test
//! on its body (text, regex, JSON path, jq).
//!
//! Not responsible for: reading text (see `parser`) or running against a store (see `eval`).

use super::jq::Jq;
use super::path::PathPred;
use super::text::{Glob, Text};
use crate::rpc::Id;
use std::cmp::Ordering;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Expr {
    /// The empty filter.
    All,
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Pred(Pred),
}

/// Accepts an ordering of "row value vs. literal" (`Ordering::is_gt` for `>`).
pub type Cmp = fn(Ordering) -> bool;

#[derive(Debug, Clone)]
pub enum Pred {
    /// Any of the globs matches the row's method (a response's is its request's).
    /// `slot` numbers the method predicates of a filter, for `eval`'s per-store tables.
    Method {
        globs: Vec<Glob>,
        slot: usize,
    },
    /// Bit `1 << Dir as u8` for each accepted direction.
    Dir(u8),
    /// Bit `1 << Kind as u8` for each accepted kind.
    Kind(u16),
    Id(Vec<Id>),
    /// Bits from `STATUS_*`.
    Status(u8),
    /// Microseconds.
    Latency(Cmp, i64),
    /// Body bytes.
    Size(Cmp, u64),
    Text(Text),
    /// Boxed: the largest predicate, and rarer than the summary ones.
    Path(Box<PathPred>),
    /// Shared so that filters clone cheaply; a compiled program is never mutated.
    Jq(Arc<Jq>),
    /// `violation` (`None`) or `rule:ID,…` (globs over rule ids): the row breaks a
    /// conformance rule (the store must have been checked, see `Filter::needs_check`).
    Violation(Option<Vec<Glob>>),
    /// `injected`, `held`, `diverted`: what interactive control did with the row (a
    /// `session::Flags` bit).
    Flag(u8),
    /// `pair(e)`: the row's request or response — the other half of its exchange — is
    /// accepted by `e`. Rows without a pair never match.
    Pair(Box<Expr>),
}

pub const STATUS_OK: u8 = 1;
pub const STATUS_ERROR: u8 = 2;
pub const STATUS_PENDING: u8 = 4;
pub const STATUS_CANCELLED: u8 = 8;

/// How expensive a predicate is; `&` and `|` evaluate cheaper operands first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cost {
    /// Reads only the row's summary.
    Summary,
    /// Scans the body's bytes.
    Scan,
    /// Parses the body as JSON.
    Parse,
    /// Runs a jq program.
    Jq,
}

impl Pred {
    pub fn cost(&self) -> Cost {
        match self {
            Pred::Text(_) => Cost::Scan,
            Pred::Path(..) => Cost::Parse,
            Pred::Jq(_) => Cost::Jq,
            Pred::Pair(e) => e.cost(),
            _ => Cost::Summary,
        }
    }
}

impl Expr {
    /// Does any predicate test conformance results?
    pub fn mentions_violation(&self) -> bool {
        match self {
            Expr::All => false,
            Expr::Pred(Pred::Violation(_)) => true,
            Expr::Pred(Pred::Pair(e)) | Expr::Not(e) => e.mentions_violation(),
            Expr::Pred(_) => false,
            Expr::And(es) | Expr::Or(es) => es.iter().any(Expr::mentions_violation),
        }
    }

    pub fn cost(&self) -> Cost {
        match self {
            Expr::All => Cost::Summary,
            Expr::Pred(p) => p.cost(),
            Expr::Not(e) => e.cost(),
            Expr::And(es) | Expr::Or(es) => {
                es.iter().map(Expr::cost).max().unwrap_or(Cost::Summary)
            }
        }
    }

    /// `a & (b & c)` → `a & b & c`, then cheapest first. Predicates have no side effects,
    /// so the order changes only the speed: a failed summary test spares a body parse.
    pub fn and(items: Vec<Expr>) -> Expr {
        Self::join(items, true)
    }

    /// Like [`Expr::and`]: a passed summary test spares a body parse.
    pub fn or(items: Vec<Expr>) -> Expr {
        Self::join(items, false)
    }

    fn join(items: Vec<Expr>, and: bool) -> Expr {
        let mut flat = Vec::with_capacity(items.len());
        for e in items {
            match e {
                Expr::And(inner) if and => flat.extend(inner),
                Expr::Or(inner) if !and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            return flat.pop().unwrap_or(Expr::All);
        }
        flat.sort_by_key(Expr::cost);
        if and {
            Expr::And(flat)
        } else {
            Expr::Or(flat)
        }
    }
}
