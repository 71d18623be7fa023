//! Filter speed on a 1,000,000-message LSP-like session built in memory.
//!
//! Each filter is measured next to a baseline from the same run, so the figures read as
//! ratios on whatever machine runs them: a bare loop reading each row's interned method
//! (the floor for `method:`), `memchr::memmem` over every body (the floor for a substring),
//! and a full `serde_json::Value` parse of every body (what a naive JSON-path filter costs).
//! Results go in docs/benchmarks.md, section "Filter".

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rpctap::filter::Filter;
use rpctap::record::{Dir, Event, MessageEvent, Micros};
use rpctap::session::Store;
use rpctap::wire::Framing;
use std::time::Duration;

const MESSAGES: usize = 1_000_000;

/// A ten-message cycle of editor traffic: edits, completions, hovers, diagnostics, a
/// definition request answered with an error, progress.
fn session() -> Store {
    let mut store = Store::with_capacity(MESSAGES * 230);
    let mut seq = 0u64;
    let mut push = |store: &mut Store, dir: Dir, body: String| {
        seq += 1;
        store.push(Event::Message(MessageEvent {
            seq,
            t: Micros(1_700_000_000_000_000 + seq as i64 * 1_000),
            dir,
            framing: Framing::Lsp,
            body: Bytes::from(body),
            headers: None,
            redacted: false,
            oversized: None,
            mark: Default::default(),
        }));
    };
    let mut id = 0u64;
    while store.len() < MESSAGES {
        let n = store.len();
        let uri = format!("file:///home/dev/project/src/module_{}.rs", n / 10 % 50);
        let line = n % 400;
        push(
            &mut store,
            Dir::C2s,
            format!(
                r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{uri}","version":{n}}},"contentChanges":[{{"range":{{"start":{{"line":{line},"character":4}},"end":{{"line":{line},"character":4}}}},"text":"x"}}]}}}}"#
            ),
        );
        id += 1;
        push(
            &mut store,
            Dir::C2s,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/completion","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":{line},"character":5}},"context":{{"triggerKind":1}}}}}}"#
            ),
        );
        push(
            &mut store,
            Dir::S2c,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"isIncomplete":false,"items":[{{"label":"println!","kind":3}},{{"label":"format!","kind":3}},{{"label":"vec!","kind":3}}]}}}}"#
            ),
        );
        id += 1;
        push(
            &mut store,
            Dir::C2s,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":{line},"character":9}}}}}}"#
            ),
        );
        push(
            &mut store,
            Dir::S2c,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"contents":{{"kind":"markdown","value":"```rust\nfn helper_{line}(x: u32) -> u32\n```"}}}}}}"#
            ),
        );
        push(
            &mut store,
            Dir::S2c,
            format!(
                r#"{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":"{uri}","diagnostics":[{{"range":{{"start":{{"line":{line},"character":0}},"end":{{"line":{line},"character":8}}}},"severity":2,"message":"unused variable"}}]}}}}"#
            ),
        );
        id += 1;
        push(
            &mut store,
            Dir::C2s,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/definition","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":{line},"character":2}}}}}}"#
            ),
        );
        push(
            &mut store,
            Dir::S2c,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32601,"message":"Unhandled method textDocument/definition"}}}}"#
            ),
        );
        push(
            &mut store,
            Dir::S2c,
            format!(
                r#"{{"jsonrpc":"2.0","method":"$/progress","params":{{"token":"indexing","value":{{"kind":"report","percentage":{}}}}}}}"#,
                n % 100
            ),
        );
        push(
            &mut store,
            Dir::C2s,
            format!(
                r#"{{"jsonrpc":"2.0","method":"textDocument/didSave","params":{{"textDocument":{{"uri":"{uri}"}}}}}}"#
            ),
        );
    }
    store
}

fn bench(c: &mut Criterion) {
    let store = session();
    let mut g = c.benchmark_group("filter_1M");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));

    let completion = (0..)
        .map_while(|m| store.method_name(m).map(|n| (m, n)))
        .find(|(_, n)| *n == "textDocument/completion")
        .map(|(m, _)| m)
        .expect("the session has completions");
    g.bench_function("baseline: method id scan", |b| {
        b.iter(|| {
            let hits: Vec<usize> = (0..store.len())
                .filter(|&i| store.row(i).method == completion)
                .collect();
            black_box(hits)
        })
    });
    let finder = memchr::memmem::Finder::new("println");
    g.bench_function("baseline: memmem over bodies", |b| {
        b.iter(|| {
            let hits: Vec<usize> = (0..store.len())
                .filter(|&i| finder.find(store.body(i)).is_some())
                .collect();
            black_box(hits)
        })
    });
    g.bench_function("baseline: serde_json::Value parse of every body", |b| {
        b.iter(|| {
            let hits: Vec<usize> = (0..store.len())
                .filter(|&i| {
                    serde_json::from_slice::<serde_json::Value>(store.body(i))
                        .is_ok_and(|v| v["error"]["code"] == -32601)
                })
                .collect();
            black_box(hits)
        })
    });

    for expr in [
        "method:textDocument/completion",
        "method:textDocument/* & !kind:notification & latency>0ms",
        "println",
        "didSave",
        r#".error.code == -32601"#,
        r#".params.textDocument.uri ~ "module_7.rs""#,
        r#"method:textDocument/hover & .params.position.line > 300"#,
    ] {
        let f = Filter::parse(expr).expect("benchmark filters parse");
        let n = f.select(&store).len();
        g.bench_function(format!("select {expr}  ({n} rows)"), |b| {
            b.iter(|| black_box(f.select(&store)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
