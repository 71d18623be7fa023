//! Every filter the documentation shows must do what it says: the cookbook's filters parse
//! and run on the fixture sessions, and the error examples print what the page claims.

use rpctap::filter::Filter;
use rpctap::session::load;
use std::path::Path;

fn page() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/filters.md"))
        .expect("docs/filters.md")
}

/// The lines of the section that starts with `## {title}`.
fn section(page: &str, title: &str) -> Vec<String> {
    page.lines()
        .skip_while(|l| *l != format!("## {title}"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .map(str::to_owned)
        .collect()
}

/// Code spans (`…`) of a Markdown table cell, with `\|` unescaped.
fn code_spans(cell: &str) -> Vec<String> {
    let cell = cell.replace("\\|", "|");
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn cookbook_filters_parse_and_run() {
    let stores: Vec<_> = ["lsp.jsonl", "mcp.jsonl", "dap.jsonl"]
        .iter()
        .map(|f| {
            load(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures")
                    .join(f),
            )
            .unwrap()
        })
        .collect();
    let mut filters = Vec::new();
    for row in section(&page(), "Cookbook")
        .iter()
        .filter(|l| l.starts_with("| "))
    {
        let cells: Vec<&str> = row.split(" | ").collect();
        if let Some(cell) = cells.get(1) {
            filters.extend(code_spans(cell));
        }
    }
    assert!(filters.len() > 20, "found {filters:?}");
    let mut matched_somewhere = 0;
    for text in &filters {
        let f = Filter::parse(text).unwrap_or_else(|e| panic!("cookbook filter {text:?}: {e}"));
        if stores.iter().any(|s| !f.select(s).is_empty()) {
            matched_somewhere += 1;
        }
    }
    // Most recipes should find something in the fixtures (some need traffic they lack).
    assert!(
        matched_somewhere * 3 > filters.len() * 2,
        "{matched_somewhere} of {}",
        filters.len()
    );
}

#[test]
fn error_examples_are_what_rpctap_prints() {
    let lines = section(&page(), "Errors");
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("$ rpctap cat s.jsonl --filter '") else {
            continue;
        };
        let expr = rest.strip_suffix('\'').expect("quoted filter");
        let err = Filter::parse(expr).expect_err(expr);
        assert_eq!(lines[i + 1], format!("rpctap: bad filter: {err}"), "{expr}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
