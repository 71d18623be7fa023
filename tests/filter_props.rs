//! Property tests of the filter language on generated sessions: the boolean laws hold
//! (`!(!e)` ≡ `e`, `&` and `|` commute, De Morgan), combinators agree with set operations on
//! their operands' results, and `select` agrees with `matches`.

use bytes::Bytes;
use proptest::prelude::*;
use rpctap::filter::Filter;
use rpctap::record::{Dir, Event, MessageEvent, Micros, NoiseEvent, StderrEvent};
use rpctap::session::Store;
use rpctap::wire::Framing;
use std::collections::BTreeSet;

/// One step of a generated session.
#[derive(Debug, Clone)]
enum Step {
    Request {
        c2s: bool,
        method: usize,
        id: Id,
        line: u8,
        context: bool,
    },
    Result {
        c2s: bool,
        id: Id,
        empty: bool,
    },
    Error {
        c2s: bool,
        id: Id,
        code: i32,
    },
    Notification {
        c2s: bool,
        method: usize,
        uri: usize,
    },
    Cancel {
        id: Id,
    },
    Stderr(usize),
    Noise(usize),
}

#[derive(Debug, Clone)]
enum Id {
    Num(i64),
    Str(&'static str),
}

impl Id {
    fn json(&self) -> String {
        match self {
            Id::Num(n) => n.to_string(),
            Id::Str(s) => format!("{s:?}"),
        }
    }
}

const METHODS: &[&str] = &["a/one", "a/two", "b", "box/x", "$/cancelRequest"];
const URIS: &[&str] = &["file:///foo.rs", "file:///bar.rs", "file:///Foo.rs"];
const TEXTS: &[&str] = &["warn: foo", "panic at line 2", "Loading…"];

fn id() -> impl Strategy<Value = Id> {
    prop_oneof![
        (0i64..4).prop_map(Id::Num),
        prop::sample::select(vec!["1", "a", "b"]).prop_map(Id::Str),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), 0..4usize, id(), 0u8..4, any::<bool>()).prop_map(
            |(c2s, method, id, line, context)| Step::Request { c2s, method, id, line, context }
        ),
        3 => (any::<bool>(), id(), any::<bool>()).prop_map(|(c2s, id, empty)| Step::Result { c2s, id, empty }),
        1 => (any::<bool>(), id(), prop::sample::select(vec![-32601, -32800, 1]))
            .prop_map(|(c2s, id, code)| Step::Error { c2s, id, code }),
        2 => (any::<bool>(), 0..4usize, 0..URIS.len())
            .prop_map(|(c2s, method, uri)| Step::Notification { c2s, method, uri }),
        1 => id().prop_map(|id| Step::Cancel { id }),
        1 => (0..TEXTS.len()).prop_map(Step::Stderr),
        1 => (0..TEXTS.len()).prop_map(Step::Noise),
    ]
}

/// The events of a session (a `Store` is built from them in each test, as it has no `Debug`
/// for proptest to print on failure).
fn session() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((step(), 0i64..300_000), 0..40).prop_map(|steps| {
        let mut t = 1_700_000_000_000_000i64;
        steps
            .into_iter()
            .enumerate()
            .map(|(seq, (step, dt))| {
                t += dt;
                event(seq as u64 + 1, Micros(t), step)
            })
            .collect()
    })
}

fn store(events: &[Event]) -> Store {
    let mut store = Store::new();
    for e in events {
        store.push(e.clone());
    }
    store
}

fn event(seq: u64, t: Micros, step: Step) -> Event {
    let dir = |c2s: bool| if c2s { Dir::C2s } else { Dir::S2c };
    let (d, body) = match step {
        Step::Request {
            c2s,
            method,
            id,
            line,
            context,
        } => {
            let ctx = if context { r#","context":{"k":1}"# } else { "" };
            (
                dir(c2s),
                format!(
                    r#"{{"jsonrpc":"2.0","id":{},"method":"{}","params":{{"uri":"{}","line":{line}{ctx}}}}}"#,
                    id.json(),
                    METHODS[method],
                    URIS[usize::from(line) % URIS.len()]
                ),
            )
        }
        Step::Result { c2s, id, empty } => {
            let result = if empty {
                "null"
            } else {
                r#"{"items":[{"label":"foo"}]}"#
            };
            (
                dir(c2s),
                format!(
                    r#"{{"jsonrpc":"2.0","id":{},"result":{result}}}"#,
                    id.json()
                ),
            )
        }
        Step::Error { c2s, id, code } => (
            dir(c2s),
            format!(
                r#"{{"jsonrpc":"2.0","id":{},"error":{{"code":{code},"message":"nope"}}}}"#,
                id.json()
            ),
        ),
        Step::Notification { c2s, method, uri } => (
            dir(c2s),
            format!(
                r#"{{"jsonrpc":"2.0","method":"{}","params":{{"uri":"{}"}}}}"#,
                METHODS[method], URIS[uri]
            ),
        ),
        Step::Cancel { id } => (
            Dir::C2s,
            format!(
                r#"{{"jsonrpc":"2.0","method":"$/cancelRequest","params":{{"id":{}}}}}"#,
                id.json()
            ),
        ),
        Step::Stderr(i) => {
            return Event::Stderr(StderrEvent {
                seq,
                t,
                text: Bytes::from_static(TEXTS[i].as_bytes()),
            })
        }
        Step::Noise(i) => {
            return Event::Noise(NoiseEvent {
                seq,
                t,
                dir: Dir::S2c,
                text: Bytes::from_static(TEXTS[i].as_bytes()),
            })
        }
    };
    Event::Message(MessageEvent {
        seq,
        t,
        dir: d,
        framing: Framing::Lsp,
        body: Bytes::from(body),
        headers: None,
        redacted: false,
        oversized: None,
        mark: Default::default(),
    })
}

const ATOMS: &[&str] = &[
    "method:a/*",
    "method:b",
    "method:*o*",
    "dir:c2s",
    "dir:s2c",
    "kind:request",
    "kind:response",
    "kind:error",
    "kind:notification",
    "kind:stderr,noise",
    "id:1",
    "id:\"1\"",
    "id:a",
    "status:ok",
    "status:pending",
    "status:error",
    "status:cancelled",
    "latency>100ms",
    "latency<=50ms",
    "size>80",
    "foo",
    "\"Foo\"",
    "/line\":[02]/",
    ".params.uri ~ foo",
    ".error.code == -32601",
    ".error.code != null",
    ".params.line > 1",
    "has(.params.context)",
    ".result",
    ".result.items[0].label == foo",
    "jq:(.params.line == 2)",
    "pair(kind:error)",
    "pair(.params.line > 1 | foo)",
];

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(ATOMS).prop_map(str::to_owned);
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} & {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} | {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn sel(store: &Store, text: &str) -> BTreeSet<usize> {
    let f = Filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let all: BTreeSet<usize> = f.select(store).into_iter().collect();
    let one: BTreeSet<usize> = (0..store.len()).filter(|&i| f.matches(store, i)).collect();
    assert_eq!(all, one, "select and matches disagree on {text:?}");
    all
}

proptest! {
    // Failures are not persisted: proptest finds no lib.rs beside integration tests.
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn double_negation(events in session(), e in expr()) {
        let store = store(&events);
        prop_assert_eq!(sel(&store, &format!("!(!({e}))")), sel(&store, &e));
    }

    #[test]
    fn and_or_commute(events in session(), a in expr(), b in expr()) {
        let store = store(&events);
        prop_assert_eq!(sel(&store, &format!("({a}) & ({b})")), sel(&store, &format!("({b}) & ({a})")));
        prop_assert_eq!(sel(&store, &format!("({a}) | ({b})")), sel(&store, &format!("({b}) | ({a})")));
    }

    #[test]
    fn de_morgan(events in session(), a in expr(), b in expr()) {
        let store = store(&events);
        prop_assert_eq!(
            sel(&store, &format!("!(({a}) | ({b}))")),
            sel(&store, &format!("!({a}) & !({b})"))
        );
        prop_assert_eq!(
            sel(&store, &format!("!(({a}) & ({b}))")),
            sel(&store, &format!("!({a}) | !({b})"))
        );
    }

    #[test]
    fn combinators_are_set_operations(events in session(), a in expr(), b in expr()) {
        let store = store(&events);
        let (sa, sb) = (sel(&store, &a), sel(&store, &b));
        let all: BTreeSet<usize> = (0..store.len()).collect();
        prop_assert_eq!(sel(&store, &format!("({a}) ({b})")), &sa & &sb);
        prop_assert_eq!(sel(&store, &format!("({a}) or ({b})")), &sa | &sb);
        prop_assert_eq!(sel(&store, &format!("not ({a})")), &all - &sa);
    }
}

/// Large selections of body filters are split over threads; the pieces must come back whole
/// and in order.
#[test]
fn parallel_select_equals_row_by_row() {
    let mut store = Store::new();
    let steps = [
        Step::Request {
            c2s: true,
            method: 0,
            id: Id::Num(1),
            line: 2,
            context: true,
        },
        Step::Result {
            c2s: false,
            id: Id::Num(1),
            empty: false,
        },
        Step::Notification {
            c2s: false,
            method: 3,
            uri: 0,
        },
        Step::Stderr(0),
        Step::Error {
            c2s: true,
            id: Id::Str("a"),
            code: -32601,
        },
    ];
    for seq in 0..70_003u64 {
        let step = steps[(seq * 7 % 5) as usize].clone();
        store.push(event(seq + 1, Micros(seq as i64), step));
    }
    for expr in [
        "foo",
        ".params.line == 2 | .error.code == -32601",
        "kind:request & has(.params.context)",
    ] {
        let f = Filter::parse(expr).unwrap();
        let want: Vec<usize> = (0..store.len()).filter(|&i| f.matches(&store, i)).collect();
        assert!(
            !want.is_empty() && want.len() < store.len(),
            "{expr}: a filter that tells rows apart"
        );
        assert_eq!(f.select(&store), want, "{expr}");
        assert_eq!(
            f.select_range(&store, 3..68_000),
            want.iter()
                .copied()
                .filter(|i| (3..68_000).contains(i))
                .collect::<Vec<_>>()
        );
    }
}
