//! The filter language shared by the TUI's `/`, `cat --filter`, `stats --filter` and
//! (later) `replay --only`: small predicates over a message's summary and body, combined with
//! `!`, `&` (or juxtaposition) and `|`. The grammar and a cookbook are in `docs/filters.md`.
//!
//! ```
//! use rpctap::filter::Filter;
//! let f = Filter::parse(r#"method:textDocument/* & latency>100ms"#).unwrap();
//! assert!(!f.needs_body());
//! let e = Filter::parse(".error.code ==").unwrap_err();
//! assert_eq!(e.to_string(), "expected a value after '==' (a number, \"string\", true, false or null) at column 15");
//! ```
//!
//! Evaluation reads the store's compact rows first and touches bodies only for the predicates
//! that need them, after the cheap ones in the same `&` chain have passed. Not responsible
//! for: the TUI's input line or the commands' flags (they call [`Filter`]).

mod ast;
mod eval;
mod jq;
mod lexer;
mod parser;
mod path;
mod text;
mod token;
mod values;

use crate::session::Store;
use std::ops::Range;

/// A malformed expression: what was expected, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct FilterError {
    /// 1-based, counted in characters (not bytes), pointing at the offending token or just
    /// past the end of the text when something is missing there.
    pub column: usize,
    pub message: String,
}

/// A parsed filter expression.
///
/// `Filter` is `Send + Sync` and cheap to clone, so a UI may evaluate it on another thread.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: ast::Expr,
    text: String,
}

impl Filter {
    /// Parses an expression. Empty (or blank) text is the filter that accepts every row.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        Ok(Filter {
            expr: parser::parse(text)?,
            text: text.to_owned(),
        })
    }

    /// The text the filter was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Accepts every row (the text was blank).
    pub fn is_all(&self) -> bool {
        matches!(self.expr, ast::Expr::All)
    }

    /// Does row `row` of `store` pass?
    ///
    /// A request's status and latency change when its response arrives, so a live view
    /// should re-check pending requests whose state may have moved, not only new rows.
    pub fn matches(&self, store: &Store, row: usize) -> bool {
        row < store.len() && self.expr.eval(&eval::Ctx::single(store), row)
    }

    /// Does any predicate read message bodies (text, regex, JSON path, jq)? When not, the
    /// filter runs on row summaries alone and is cheap enough to re-run on every keystroke.
    /// Does the filter test conformance results (`violation`, `rule:`)? Then the store
    /// must be checked (`Store::check`) before the filter runs.
    pub fn needs_check(&self) -> bool {
        self.expr.mentions_violation()
    }

    pub fn needs_body(&self) -> bool {
        self.expr.cost() > ast::Cost::Summary
    }

    /// The indices of all rows that pass, in order.
    pub fn select(&self, store: &Store) -> Vec<usize> {
        self.select_range(store, 0..store.len())
    }

    /// The indices of the rows in `rows` that pass (e.g. only the rows added since the last
    /// call), in order. Out-of-range indices are ignored.
    pub fn select_range(&self, store: &Store, rows: Range<usize>) -> Vec<usize> {
        eval::select(&self.expr, store, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Filter>();
    }
}
