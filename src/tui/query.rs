//! The TUI's one step from text to predicate, used by the `/` filter line and by `n`/`N`
//! search: the filter language (`crate::filter`, see docs/filters.md). Everything else in
//! the TUI only sees `compile` and `QueryError`.

use crate::filter::Filter;
use crate::session::Store;

/// Whether row `i` of a store matches.
pub type Predicate = Box<dyn Fn(&Store, usize) -> bool + Send + Sync>;

/// Why an expression does not compile, and where (0-based character column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

/// Compiles a filter expression. The empty expression matches everything.
pub fn compile(text: &str) -> Result<Predicate, QueryError> {
    let filter = Filter::parse(text).map_err(|e| QueryError {
        column: e.column.saturating_sub(1),
        message: e.message,
    })?;
    Ok(Box::new(move |store: &Store, i: usize| {
        filter.matches(store, i)
    }))
}
