//! Table tests of the filter language on hand-written LSP, MCP and DAP sessions
//! (`tests/fixtures/*.jsonl`). Expected results are the `seq` numbers of the matching lines,
//! read off the fixture files.

use rpctap::filter::Filter;
use rpctap::session::{load, Store};
use std::path::Path;

fn fixture(name: &str) -> Store {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    load(&path).unwrap_or_else(|e| panic!("{name}: {e:#}"))
}

/// Runs each case both ways (`select` over the store, `matches` row by row): they must agree.
fn check(file: &str, cases: &[(&str, &[u64])]) {
    let store = fixture(file);
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let f = Filter::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
        let got: Vec<u64> = f.select(&store).iter().map(|&i| store.row(i).seq).collect();
        let one_by_one: Vec<u64> = (0..store.len())
            .filter(|&i| f.matches(&store, i))
            .map(|i| store.row(i).seq)
            .collect();
        if got != *want || one_by_one != got {
            failures.push(format!(
                "{file}: {expr:?}\n   want {want:?}\n   select {got:?}\n   matches {one_by_one:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn lsp_summary_predicates() {
    check(
        "lsp.jsonl",
        &[
            ("", &(1..=21).collect::<Vec<_>>()),
            ("method:textDocument/completion", &[9, 12, 15, 17]),
            (
                "method:textDocument/*",
                &[5, 6, 7, 8, 9, 12, 13, 14, 15, 17, 21],
            ),
            // Responses carry their request's method.
            ("method:initialize", &[1, 3]),
            ("method:window/workDoneProgress/create", &[10, 11]),
            ("method:*/didOpen,initialized", &[4, 5]),
            ("method:hover", &[]),
            ("method:*hover", &[6, 8]),
            ("method:textDocument/?over", &[6, 8]),
            ("dir:c2s", &[1, 4, 5, 6, 9, 11, 13, 15, 16, 19, 21]),
            // stderr counts as server to client.
            ("dir:s2c", &[2, 3, 7, 8, 10, 12, 14, 17, 18, 20]),
            ("kind:request", &[1, 6, 9, 10, 13, 15, 19, 21]),
            ("kind:response", &[3, 8, 11, 12, 14, 17, 20]),
            ("kind:result", &[3, 8, 11, 12, 20]),
            ("kind:error", &[14, 17]),
            ("kind:notification", &[4, 5, 7, 16]),
            ("kind:stderr", &[2]),
            ("kind:noise", &[18]),
            ("kind:stderr,noise", &[2, 18]),
            // 1 and "1" are different ids.
            ("id:1", &[1, 3]),
            ("id:\"1\"", &[19, 20]),
            ("id:p-1", &[10, 11]),
            ("id:\"p-1\"", &[10, 11]),
            ("id:3,5", &[9, 12, 15, 17]),
            ("status:ok", &[1, 3, 6, 8, 9, 10, 11, 12, 19, 20]),
            ("status:error", &[13, 14, 17]),
            ("status:pending", &[21]),
            ("status:cancelled", &[15]),
            ("latency>100ms", &[1, 3, 9, 12]),
            ("latency>=120ms", &[1, 3, 9, 12]),
            ("latency>120ms", &[9, 12]),
            ("latency<10ms", &[13, 14, 19, 20]),
            ("latency<=10ms", &[10, 11, 13, 14, 19, 20]),
            ("latency==0.45s", &[9, 12]),
            ("latency<5000us", &[19, 20]),
            ("latency>400", &[9, 12]),
            (
                "latency!=30ms",
                &[1, 3, 9, 10, 11, 12, 13, 14, 15, 17, 19, 20],
            ),
            ("size>150", &[5, 9]),
            ("size>=150", &[5, 9, 13, 15]),
            ("size>0.15kb", &[5, 9]),
            ("size<30", &[2, 18]),
            ("size<=0.042KB", &[2, 11, 18, 20]),
        ],
    );
}

#[test]
fn lsp_body_predicates() {
    check(
        "lsp.jsonl",
        &[
            ("main.rs", &[5, 6, 7, 9, 21]),
            // Smart case: lowercase matches any case, uppercase matches exactly.
            ("main", &[5, 6, 7, 8, 9, 19, 21]),
            ("Main", &[19]),
            // Bare words search stderr and noise too.
            ("starting", &[2]),
            ("\"Loading workspace\"", &[18]),
            (r"/-328\d\d/", &[17]),
            ("/LOADING/i", &[18]),
            (r#"/^\{"jsonrpc":"2.0","method"/"#, &[4, 5, 7, 16]),
            (r#".params.textDocument.uri ~ "main.rs""#, &[5, 6, 9, 21]),
            (r".params.textDocument.uri ~ /lib\.rs$/", &[13, 15]),
            (
                r#".params.textDocument.uri !~ "main.rs""#,
                &[1, 3, 4, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20],
            ),
            (".error.code == -32601", &[14]),
            (".error.code != null", &[14, 17]),
            (".error.code < -32700", &[17]),
            (r#".result.items[0].label == "println!""#, &[12]),
            (".result.items[0].label != null", &[12]),
            (r#".result.items[-1].label == "print!""#, &[12]),
            ("has(.params.context)", &[9]),
            (".result.capabilities.hoverProvider", &[3]),
            (".result.isIncomplete == false", &[12]),
            // `has` sees a present null; `== null` also holds for a missing key.
            ("has(.result)", &[3, 8, 11, 12, 20]),
            (
                ".result == null",
                &[1, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 19, 21],
            ),
            (".params.position.line > 0", &[13, 15]),
            (".params.position.line >= 0", &[6, 9, 13, 15]),
            (".method == initialize", &[1]),
            (r#".id == "1""#, &[19, 20]),
            (".id == 1", &[1, 3]),
            (r#".params["textDocument"]."uri" ~ lib"#, &[13, 15]),
            ("jq:.params.position.character > 4", &[9, 13]),
            (r#"jq:".result.items | length == 2""#, &[12]),
            (r#"jq:.error.message | test("cancel")"#, &[17]),
            (r"kind:response jq:((.error.code // 0) < 0)", &[14, 17]),
            // Unparenthesised, the program runs to a ')' it did not open.
            (
                r"(jq:.error.code != null and .error.code < -32700) | id:1",
                &[1, 3, 17],
            ),
        ],
    );
}

#[test]
fn lsp_combinators() {
    check(
        "lsp.jsonl",
        &[
            ("kind:request & !status:ok", &[13, 15, 21]),
            ("kind:request !status:ok", &[13, 15, 21]),
            ("kind:request and not status:ok", &[13, 15, 21]),
            (
                "method:textDocument/completion | kind:error",
                &[9, 12, 14, 15, 17],
            ),
            // `&` binds tighter than `|`.
            (
                "kind:request | kind:notification & dir:s2c",
                &[1, 6, 7, 9, 10, 13, 15, 19, 21],
            ),
            ("(kind:request | kind:notification) & dir:s2c", &[7, 10]),
            ("!dir:c2s", &[2, 3, 7, 8, 10, 12, 14, 17, 18, 20]),
            ("!!kind:error", &[14, 17]),
            ("not (kind:request or kind:response)", &[2, 4, 5, 7, 16, 18]),
            (
                "kind:request && latency>100ms || kind:error",
                &[1, 9, 14, 17],
            ),
            // Body and summary predicates mixed in any order give the same rows.
            ("main.rs kind:request", &[6, 9, 21]),
            ("kind:request main.rs", &[6, 9, 21]),
            (
                r#"(.params.textDocument.uri ~ "lib.rs" | id:"1") & !kind:request"#,
                &[20],
            ),
            // pair(): the other half of an exchange.
            ("pair(.params.textDocument.uri ~ lib.rs)", &[14, 17]),
            (
                ".params.textDocument.uri ~ lib.rs | pair(.params.textDocument.uri ~ lib.rs)",
                &[13, 14, 15, 17],
            ),
            ("kind:request pair(kind:error)", &[13, 15]),
            ("pair(pair(id:2))", &[6, 8]),
            ("status:pending pair(kind:response)", &[]),
            ("!pair(kind:request) & kind:response", &[]),
        ],
    );
}

#[test]
fn mcp_session() {
    check(
        "mcp.jsonl",
        &[
            ("method:tools/call", &[6, 8, 9, 11, 14]),
            ("method:tools/*", &[4, 5, 6, 8, 9, 11, 14]),
            ("method:notifications/*", &[3, 10, 15]),
            ("method:tools/call & latency>1s", &[6, 8]),
            (".params.name == read_file", &[6]),
            (".params.arguments.query ~ todo", &[9]),
            (".params.arguments.query ~ Todo", &[]),
            (".result.isError == true", &[11]),
            ("id:\"call-3\"", &[9, 11]),
            ("id:call-3", &[9, 11]),
            ("id:2", &[6, 8]),
            ("id:0", &[1, 2]),
            ("status:cancelled", &[14]),
            ("status:pending", &[16]),
            ("status:pending,cancelled", &[14, 16]),
            ("kind:error", &[13]),
            ("status:error", &[12, 13]),
            (
                r#"jq:.result.content[0].text | contains("localhost")"#,
                &[8],
            ),
            (
                r#"id:"call-3" | .params.progressToken == "call-3""#,
                &[9, 10, 11],
            ),
            ("has(.params.requestId)", &[15]),
            ("kind:noise", &[17]),
            ("debug", &[17]),
            ("kind:stderr | kind:noise", &[7, 17]),
        ],
    );
}

#[test]
fn dap_session() {
    check(
        "dap.jsonl",
        &[
            ("method:launch", &[4, 5]),
            ("method:stopped", &[8]),
            ("kind:event", &[3, 8]),
            ("kind:notification", &[3, 8]),
            ("kind:error", &[7]),
            ("status:error", &[6, 7]),
            (".success == false", &[7]),
            (".body.reason == breakpoint", &[8]),
            (".arguments.threadId == 1", &[9, 12]),
            ("id:3", &[6, 7]),
            ("status:pending", &[12]),
            ("latency>100ms", &[4, 5]),
            (".body.stackFrames[0].name == main", &[11]),
            ("kind:stderr", &[10]),
            ("symbols", &[10]),
            ("dir:s2c & kind:response", &[2, 5, 7, 11]),
        ],
    );
}

#[test]
fn needs_body_tells_summary_filters_apart() {
    for (expr, body) in [
        ("method:x* & latency>1s | !kind:error", false),
        ("id:1 status:pending size>10", false),
        ("method:x word", true),
        ("!(.a == 1)", true),
        ("jq:.a", true),
        ("/x/", true),
    ] {
        assert_eq!(Filter::parse(expr).unwrap().needs_body(), body, "{expr}");
    }
}

#[test]
fn select_range_sees_only_its_rows() {
    let store = fixture("lsp.jsonl");
    let f = Filter::parse("kind:request").unwrap();
    assert_eq!(f.select_range(&store, 5..10), vec![5, 8, 9]);
    assert_eq!(f.select_range(&store, 20..100), vec![20]);
    assert!(!f.matches(&store, 1000));
}
