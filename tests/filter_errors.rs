//! Malformed filter expressions: each error names a column and what was expected there,
//! and no input, however broken, makes the parser or the evaluator panic.

use proptest::prelude::*;
use rpctap::filter::Filter;
use rpctap::session::load;
use std::path::Path;

#[test]
fn errors_name_the_column_and_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        (".error.code ==", 15, "expected a value after '=='"),
        (".error.code == )", 16, "expected a value after '=='"),
        ("method:", 8, "expected a value after 'method:'"),
        ("method: foo", 8, "expected a value after 'method:'"),
        ("id:", 4, "expected a value after 'id:'"),
        (
            "kind:reqest",
            6,
            "unknown kind 'reqest' (expected request, response",
        ),
        ("kind:request,bogus", 14, "unknown kind 'bogus'"),
        ("kind:,x", 6, "empty item"),
        ("dir:up", 5, "unknown dir 'up' (expected c2s or s2c)"),
        ("status:done", 8, "unknown status 'done'"),
        ("methd:foo", 1, "unknown field 'methd:'"),
        (
            "(kind:error",
            12,
            "expected ')' to close the '(' at column 1",
        ),
        ("(a (b c)", 9, "expected ')' to close the '(' at column 1"),
        ("kind:error)", 11, "unexpected ')'"),
        ("()", 2, "expected an expression inside"),
        ("a &", 4, "expected an expression after '&'"),
        ("a | | b", 5, "expected an expression after '|', found '|'"),
        ("!", 2, "expected an expression after '!'"),
        ("not", 4, "expected an expression after 'not'"),
        ("and b", 1, "found 'and'"),
        ("a or", 5, "expected an expression after 'or'"),
        (
            "== 3",
            1,
            "'==' needs a JSON path, 'latency' or 'size' on its left",
        ),
        ("method:x == 3", 10, "'==' needs a JSON path"),
        ("(a == 3)", 4, "'==' needs a JSON path"),
        ("\"abc", 1, "unterminated string"),
        ("\"\\q\"", 2, "unknown escape '\\q'"),
        ("\"\\u12\"", 2, "bad '\\u' escape"),
        ("/abc", 1, "unterminated regex"),
        ("/ab(c/", 4, "invalid regex: unclosed group"),
        ("/a\\/b(/", 6, "invalid regex: unclosed group"),
        ("/a/q", 4, "unknown regex flag 'q'"),
        (". == 1", 2, "expected a key name after '.'"),
        (".a[x]", 4, "expected an array index"),
        (".a[0", 5, "expected ']' to close the '[' at column 3"),
        (".a-b", 3, "unexpected '-' in a JSON path"),
        ("latency>fast", 9, "expected a duration like 100ms"),
        ("latency>", 9, "expected a value after '>'"),
        ("latency~1", 8, "'~' compares text"),
        ("size>10pc", 6, "expected a size like 512, 10kb or 1mb"),
        (".a < foo", 6, "expected a number or a \"string\" after '<'"),
        (".a == /x/", 4, "a /regex/ needs '~', not '=='"),
        (".a ~ (", 6, "expected a \"string\" or a /regex/ after '~'"),
        ("has(x)", 5, "expected a JSON path"),
        ("pair()", 6, "expected an expression inside pair( )"),
        (
            "x pair(kind:error",
            18,
            "expected ')' to close the 'pair(' at column 3",
        ),
        ("has(.a", 7, "expected ')' after the path"),
        ("jq:", 4, "expected a jq program after 'jq:'"),
        ("jq:  ", 4, "expected a jq program after 'jq:'"),
        ("jq:.a | nosuch", 9, "jq: undefined filter 'nosuch'"),
        (
            "kind:error jq:\".a | nosuch\"",
            21,
            "jq: undefined filter 'nosuch'",
        ),
        ("jq:(.a ==", 4, "unclosed '(' after 'jq:'"),
        ("jq:.a ==", 9, "jq: expected term"),
        // Columns count characters, not bytes.
        ("\"üü\" ==", 6, "'==' needs a JSON path"),
    ];
    let mut failures = Vec::new();
    for &(expr, col, msg) in cases {
        match Filter::parse(expr) {
            Ok(_) => failures.push(format!("{expr:?}: parsed, expected an error")),
            Err(e) if e.column != col || !e.message.contains(msg) => failures.push(format!(
                "{expr:?}: got column {} {:?}, want column {col} containing {msg:?}",
                e.column, e.message
            )),
            Err(e) => assert_eq!(e.to_string(), format!("{} at column {col}", e.message)),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = Filter::parse(&deep).unwrap_err();
    assert_eq!(e.column, 101, "{e}");
    assert!(e.message.contains("nested too deeply"), "{e}");
    assert!(Filter::parse(&"!".repeat(100_000)).is_err());
    let jq = format!("jq:{}.{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = Filter::parse(&jq).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
    assert_eq!(e.column, 104, "{e}");
    let fine = format!("{}a{}", "(".repeat(50), ")".repeat(50));
    assert!(Filter::parse(&fine).is_ok());
}

#[test]
fn the_documented_example() {
    let e = Filter::parse(".error.code == & x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a value after '==' (a number, \"string\", true, false or null) at column 16"
    );
}

/// Text built from the language's own pieces, so that random inputs reach deep into the
/// grammar rather than failing on the first character.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "(",
        ")",
        "!",
        "&",
        "|",
        "&&",
        "||",
        "==",
        "!=",
        "<",
        ">=",
        "~",
        "!~",
        "=",
        " ",
        " ",
        "\"",
        "\\",
        "/",
        ".",
        "[",
        "]",
        "-1",
        "0",
        "1.5",
        ",",
        ":",
        "*",
        "?",
        "method:",
        "kind:",
        "dir:",
        "id:",
        "status:",
        "jq:",
        "has",
        "latency",
        "size",
        "not",
        "and",
        "or",
        "ms",
        "kb",
        "foo",
        "é",
        ".a",
        ".b[0]",
        "\"x\"",
        "/x/i",
        "request",
        "c2s",
        "null",
        "true",
        "{",
        "}",
        "$",
        "\u{1F600}",
        "\t",
        "\u{0}",
    ])
}

proptest! {
    // Failures are not persisted: proptest finds no lib.rs beside integration tests.
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_always_points_inside(pieces in prop::collection::vec(piece(), 0..12)) {
        check_input(&pieces.concat());
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
        check_input(&text);
    }
}

fn check_input(text: &str) {
    match Filter::parse(text) {
        Ok(f) => {
            let store =
                load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lsp.jsonl"))
                    .expect("fixture loads");
            let _ = f.select(&store);
        }
        Err(e) => {
            let len = text.chars().count();
            assert!(
                (1..=len + 1).contains(&e.column),
                "{text:?}: column {} outside 1..={}",
                e.column,
                len + 1
            );
            assert!(!e.message.is_empty());
            assert!(!e.message.contains('\n'), "{text:?}: {:?}", e.message);
        }
    }
}
