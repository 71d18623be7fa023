//! Runs a parsed filter against the rows of a `Store`.
//!
//! Summary predicates read only the fixed-size row; body predicates read the arena. For a
//! whole-store pass, method globs are first resolved into one table per predicate over the
//! store's interned method names, so `method:` costs one array lookup per row whatever the
//! glob. Not responsible for: parsing (see `parser`).

use super::ast::{Cost, Expr, Pred, STATUS_CANCELLED, STATUS_ERROR, STATUS_OK, STATUS_PENDING};
use crate::rpc::{Id, Kind};
use crate::session::{Status, Store, NONE};
use std::ops::Range;

/// One evaluation pass over one store.
pub struct Ctx<'s> {
    pub store: &'s Store,
    /// `methods[slot][m]`: does method predicate `slot` accept interned method `m`?
    /// Empty for single-row checks, which match the name directly.
    methods: Vec<Vec<bool>>,
}

impl<'s> Ctx<'s> {
    /// A context for checking a few rows.
    pub fn single(store: &'s Store) -> Ctx<'s> {
        Ctx {
            store,
            methods: Vec::new(),
        }
    }

    /// A context for many rows: resolves every method predicate against every method name
    /// the store has interned.
    pub fn bulk(store: &'s Store, expr: &Expr) -> Ctx<'s> {
        let mut names = Vec::new();
        while let Some(n) = store.method_name(names.len() as u32) {
            names.push(n);
        }
        let mut methods = Vec::new();
        collect_method_tables(expr, &names, &mut methods);
        Ctx { store, methods }
    }
}

fn collect_method_tables(expr: &Expr, names: &[&str], out: &mut Vec<Vec<bool>>) {
    match expr {
        Expr::All => {}
        Expr::And(es) | Expr::Or(es) => {
            for e in es {
                collect_method_tables(e, names, out);
            }
        }
        Expr::Not(e) | Expr::Pred(Pred::Pair(e)) => collect_method_tables(e, names, out),
        Expr::Pred(Pred::Method { globs, slot }) => {
            if out.len() <= *slot {
                out.resize(*slot + 1, Vec::new());
            }
            out[*slot] = names
                .iter()
                .map(|n| globs.iter().any(|g| g.matches(n)))
                .collect();
        }
        Expr::Pred(_) => {}
    }
}

/// Messages carry JSON bodies; noise and stderr carry text, and oversized rows nothing.
fn is_message(kind: Kind) -> bool {
    !matches!(kind, Kind::Noise | Kind::Stderr | Kind::Oversized)
}

fn status_bit(s: Status) -> u8 {
    match s {
        Status::Ok => STATUS_OK,
        Status::Error => STATUS_ERROR,
        Status::Pending => STATUS_PENDING,
        Status::Cancelled => STATUS_CANCELLED,
        Status::None => 0,
    }
}

impl Expr {
    pub fn eval(&self, cx: &Ctx, i: usize) -> bool {
        match self {
            Expr::All => true,
            Expr::And(es) => es.iter().all(|e| e.eval(cx, i)),
            Expr::Or(es) => es.iter().any(|e| e.eval(cx, i)),
            Expr::Not(e) => !e.eval(cx, i),
            Expr::Pred(p) => p.eval(cx, i),
        }
    }
}

impl Pred {
    fn eval(&self, cx: &Ctx, i: usize) -> bool {
        let store = cx.store;
        let row = store.row(i);
        match self {
            Pred::Method { globs, slot } => {
                if row.method == NONE {
                    return false;
                }
                if let Some(&hit) = cx
                    .methods
                    .get(*slot)
                    .and_then(|t| t.get(row.method as usize))
                {
                    return hit;
                }
                store
                    .method_name(row.method)
                    .is_some_and(|n| globs.iter().any(|g| g.matches(n)))
            }
            Pred::Dir(mask) => mask & (1 << row.dir as u8) != 0,
            Pred::Kind(mask) => mask & (1 << row.kind as u8) != 0,
            Pred::Id(ids) => match (row.id, ids.as_slice()) {
                (crate::session::IdKey::None, _) => false,
                // Numeric ids compare without touching the string table.
                (crate::session::IdKey::Num(n), ids) => ids.contains(&Id::Num(n)),
                _ => store.id(i).is_some_and(|id| ids.contains(&id)),
            },
            Pred::Status(mask) => mask & status_bit(store.status(i)) != 0,
            Pred::Latency(accept, us) => store.latency(i).is_some_and(|l| accept(l.cmp(us))),
            Pred::Size(accept, n) => accept(u64::from(row.len).cmp(n)),
            Pred::Text(t) => t.is_match(store.body(i)),
            Pred::Path(p) => is_message(row.kind) && p.matches(store.body(i)),
            Pred::Jq(jq) => is_message(row.kind) && jq.matches(store.body(i)),
            Pred::Pair(e) => store.pair(i).is_some_and(|p| e.eval(cx, p)),
            Pred::Violation(None) => row.flags.has(crate::session::Flags::VIOLATION),
            Pred::Flag(bit) => row.flags.has(*bit),
            Pred::Violation(Some(globs)) => store
                .problems_of(i)
                .iter()
                .any(|p| globs.iter().any(|g| g.matches(p.violation.rule.id))),
        }
    }
}

/// Below this many rows a body filter runs on the calling thread: spawning costs more.
const PARALLEL_MIN: usize = 1 << 16;

/// Every row of `rows` that `expr` accepts, in order.
///
/// Filters that read bodies are split over the available cores in contiguous chunks;
/// summary-only filters are memory-bound and stay on one thread.
pub fn select(expr: &Expr, store: &Store, rows: Range<usize>) -> Vec<usize> {
    let rows = rows.start.min(store.len())..rows.end.min(store.len());
    if let Expr::All = expr {
        return rows.collect();
    }
    let cx = Ctx::bulk(store, expr);
    let threads = if expr.cost() > Cost::Summary && rows.len() >= PARALLEL_MIN {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    } else {
        1
    };
    let run = |e: &Expr, r: Range<usize>| r.filter(|&i| e.eval(&cx, i)).collect::<Vec<_>>();
    if threads == 1 {
        return run(expr, rows);
    }
    let chunk = rows.len().div_ceil(threads);
    let chunks: Vec<Range<usize>> = (0..threads)
        .map(|k| {
            let start = rows.start + k * chunk;
            start.min(rows.end)..(start + chunk).min(rows.end)
        })
        .collect();
    std::thread::scope(|s| {
        let run = &run;
        let spawned: Vec<_> = chunks
            .iter()
            .map(|r| {
                let mine = r.clone();
                // Each thread gets its own copy: a `Regex` keeps a scratch cache that is
                // fast for the thread that first uses it and lock-guarded for the others.
                let e = expr.clone();
                // If the OS refuses a thread, that chunk runs here instead.
                std::thread::Builder::new()
                    .spawn_scoped(s, move || run(&e, mine))
                    .map_err(|_| r.clone())
            })
            .collect();
        let mut out = Vec::new();
        for h in spawned {
            match h {
                Ok(h) => match h.join() {
                    Ok(part) => out.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(r) => out.extend(run(expr, r)),
            }
        }
        out
    })
}
