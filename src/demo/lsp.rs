//! The demo server's language "intelligence": hover, completion, definition, symbols and
//! diagnostics computed from a document's text with simple line scanning.
//!
//! Deliberately naive (no parser): answers only need to be plausible and deterministic, and
//! depend on the position asked about, so recorded sessions look like real ones and replays
//! can be compared. Positions count characters, which equals LSP's UTF-16 units for the
//! ASCII demo file.

use serde_json::{json, Value};

/// LSP `SymbolKind` / `CompletionItemKind` numbers used here.
const ITEM_KINDS: &[(&str, u64, u64)] = &[
    // (keyword, SymbolKind, CompletionItemKind)
    ("fn", 12, 3),
    ("struct", 23, 22),
    ("enum", 10, 13),
    ("const", 14, 21),
];

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier under `(line, character)`: the word and its start and end characters.
pub fn word_at(text: &str, line: usize, character: usize) -> Option<(&str, usize, usize)> {
    let l = text.lines().nth(line)?;
    let chars: Vec<(usize, char)> = l.char_indices().collect();
    let at = |i: usize| chars.get(i).is_some_and(|&(_, c)| is_ident(c));
    // The cursor may sit just after a word (as after typing it).
    let pos = if at(character) {
        character
    } else if character > 0 && at(character - 1) {
        character - 1
    } else {
        return None;
    };
    let start = (0..=pos).rev().take_while(|&i| at(i)).last()?;
    let end = (pos..chars.len()).take_while(|&i| at(i)).last()? + 1;
    let byte = |i: usize| chars.get(i).map_or(l.len(), |&(b, _)| b);
    Some((&l[byte(start)..byte(end)], start, end))
}

fn range(line: usize, start: usize, end_line: usize, end: usize) -> Value {
    json!({
        "start": {"line": line, "character": start},
        "end": {"line": end_line, "character": end},
    })
}

/// A declaration found by scanning: `fn`, `struct`, `enum`, `const` items and `let` bindings.
struct Decl<'a> {
    keyword: &'static str,
    name: &'a str,
    line: usize,
    start: usize,
    /// The line of the item's closing brace (the item's own line for one-liners).
    last_line: usize,
}

fn declarations(text: &str) -> Vec<Decl<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        let indent = l.len() - l.trim_start().len();
        let mut words = l.split_whitespace();
        let Some(first) = words.next() else { continue };
        let keyword = match first {
            "fn" => "fn",
            "struct" => "struct",
            "enum" => "enum",
            "const" => "const",
            "let" => "let",
            _ => continue,
        };
        let mut name = words.next().unwrap_or("");
        if keyword == "let" && name == "mut" {
            name = words.next().unwrap_or("");
        }
        let len = name.find(|c: char| !is_ident(c)).unwrap_or(name.len());
        let name = &name[..len];
        if name.is_empty() {
            continue;
        }
        let start = l.find(name).unwrap_or(indent);
        let last_line = if l.trim_end().ends_with('{') {
            (n + 1..lines.len())
                .find(|&m| lines[m].trim_end() == format!("{}}}", &l[..indent]))
                .unwrap_or(n)
        } else {
            n
        };
        out.push(Decl {
            keyword,
            name,
            line: n,
            start,
            last_line,
        });
    }
    out
}

fn describe(word: &str) -> Option<&'static str> {
    Some(match word {
        "main" => "```rust\nfn main()\n```\n\nThe entry point of the demo program.",
        "greet" => "```rust\nfn greet(name: &str) -> String\n```\n\nBuilds a greeting for `name`.",
        "area" => "```rust\nfn area(shape: &Shape) -> i64\n```\n\nThe area of a shape, in whole units.",
        "Point" => "```rust\nstruct Point { x: i64, y: i64 }\n```\n\nA point on the demo plane.",
        "Shape" => "```rust\nenum Shape { Circle(Point, i64), Square(Point, i64) }\n```",
        "println" => "```rust\nmacro_rules! println\n```\n\nPrints to the standard output, with a newline.",
        "format" => "```rust\nmacro_rules! format\n```\n\nCreates a `String` using interpolation of runtime expressions.",
        "HashMap" => "```rust\nstd::collections::HashMap<K, V>\n```\n\nA hash map implemented with quadratic probing and SIMD lookup.",
        "String" => "```rust\nstd::string::String\n```\n\nA UTF-8–encoded, growable string.",
        "unwrap" => "```rust\npub fn unwrap(self) -> T\n```\n\nReturns the contained `Some` value, **panicking** on `None`.",
        _ => return None,
    })
}

/// `textDocument/hover`: markdown about the word under the cursor, or null.
pub fn hover(text: &str, line: usize, character: usize) -> Value {
    let Some((word, start, end)) = word_at(text, line, character) else {
        return Value::Null;
    };
    let value = match describe(word) {
        Some(doc) => doc.to_owned(),
        None => format!(
            "```rust\n{word}\n```\n\n`{word}`: used on line {}, column {}.",
            line + 1,
            start + 1
        ),
    };
    json!({
        "contents": {"kind": "markdown", "value": value},
        "range": range(line, start, line, end),
    })
}

/// `textDocument/completion`: the file's items, some keywords and macros, filtered by the
/// word being typed.
pub fn completion(text: &str, line: usize, character: usize) -> Value {
    let prefix = word_at(text, line, character)
        .filter(|&(_, start, _)| start < character)
        .map_or("", |(w, start, _)| &w[..(character - start).min(w.len())]);
    let mut items: Vec<Value> = Vec::new();
    for d in declarations(text) {
        if let Some(&(_, _, kind)) = ITEM_KINDS.iter().find(|k| k.0 == d.keyword) {
            items.push(json!({"label": d.name, "kind": kind, "detail": format!("{} {}", d.keyword, d.name)}));
        }
    }
    for kw in ["fn", "let", "match", "struct", "impl"] {
        items.push(json!({"label": kw, "kind": 14}));
    }
    for mac in ["println", "format", "vec"] {
        items.push(json!({
            "label": format!("{mac}!"),
            "kind": 15,
            "insertText": format!("{mac}!($0)"),
            "insertTextFormat": 2,
        }));
    }
    items.retain(|i| i["label"].as_str().is_some_and(|l| l.starts_with(prefix)));
    json!({"isIncomplete": false, "items": items})
}

/// `textDocument/definition`: where the word under the cursor is declared, or null.
pub fn definition(uri: &str, text: &str, line: usize, character: usize) -> Value {
    let Some((word, ..)) = word_at(text, line, character) else {
        return Value::Null;
    };
    declarations(text)
        .into_iter()
        .find(|d| d.name == word)
        .map_or(Value::Null, |d| {
            json!({"uri": uri, "range": range(d.line, d.start, d.line, d.start + d.name.len())})
        })
}

/// `textDocument/documentSymbol`: the file's items as `DocumentSymbol`s.
pub fn document_symbols(text: &str) -> Value {
    let lines: Vec<&str> = text.lines().collect();
    let symbols: Vec<Value> = declarations(text)
        .into_iter()
        .filter_map(|d| {
            let &(_, kind, _) = ITEM_KINDS.iter().find(|k| k.0 == d.keyword)?;
            let end = lines.get(d.last_line).map_or(0, |l| l.len());
            Some(json!({
                "name": d.name,
                "detail": d.keyword,
                "kind": kind,
                "range": range(d.line, 0, d.last_line, end),
                "selectionRange": range(d.line, d.start, d.line, d.start + d.name.len()),
            }))
        })
        .collect();
    Value::Array(symbols)
}

/// The diagnostics of a document: one warning per `unwrap()`, one hint per `TODO`.
pub fn diagnostics(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (n, l) in text.lines().enumerate() {
        if let Some(at) = l.find(".unwrap()") {
            out.push(json!({
                "range": range(n, at + 1, n, at + ".unwrap()".len()),
                "severity": 2,
                "code": "demo::unwrap",
                "source": "rpctap-demo",
                "message": "called `unwrap()`: this panics when the value is missing",
            }));
        }
        if let Some(at) = l.find("TODO") {
            out.push(json!({
                "range": range(n, at, n, l.len()),
                "severity": 4,
                "source": "rpctap-demo",
                "message": "unfinished work: a TODO comment",
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::script::DEMO_TEXT;

    fn find(needle: &str) -> (usize, usize) {
        DEMO_TEXT
            .lines()
            .enumerate()
            .find_map(|(n, l)| l.find(needle).map(|c| (n, c)))
            .unwrap()
    }

    #[test]
    fn words_under_the_cursor() {
        assert_eq!(word_at("let ab_c = 1;", 0, 5), Some(("ab_c", 4, 8)));
        assert_eq!(word_at("let ab_c = 1;", 0, 8), Some(("ab_c", 4, 8)));
        assert_eq!(word_at("let ab_c = 1;", 0, 10), None);
        assert_eq!(word_at("x", 3, 0), None);
    }

    #[test]
    fn hover_depends_on_position() {
        let (l, c) = find("greet(&who)");
        let h = hover(DEMO_TEXT, l, c + 1);
        assert!(h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("fn greet"));
        assert_eq!(h["range"]["start"]["character"], c);
        let (l, c) = find("origin");
        assert!(hover(DEMO_TEXT, l, c).to_string().contains("origin"));
        assert_eq!(hover(DEMO_TEXT, 1, 0), Value::Null, "blank line");
    }

    #[test]
    fn definition_finds_declarations() {
        let (l, c) = find("area(&Shape");
        let d = definition("file:///x.rs", DEMO_TEXT, l, c);
        let (dl, dc) = find("fn area");
        assert_eq!(
            d["range"]["start"],
            json!({"line": dl, "character": dc + 3})
        );
        assert_eq!(definition("u", DEMO_TEXT, l, c + 6), {
            // `Shape` is an enum declared near the top.
            let (sl, sc) = find("enum Shape");
            json!({"uri": "u", "range": range(sl, sc + 5, sl, sc + 10)})
        });
    }

    #[test]
    fn symbols_span_their_items() {
        let s = document_symbols(DEMO_TEXT);
        let names: Vec<_> = s
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Point", "Shape", "GREETING", "greet", "area", "main"]
        );
        let main = &s[5];
        assert_eq!(main["kind"], 12);
        let last = DEMO_TEXT.lines().count() - 1;
        assert_eq!(main["range"]["end"]["line"], last);
    }

    #[test]
    fn completion_filters_by_prefix() {
        let text = "fn greet() {}\nfn main() {\n    gr\n}\n";
        let c = completion(text, 2, 6);
        let labels: Vec<_> = c["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["greet"]);
        assert!(completion(text, 3, 1)["items"].as_array().unwrap().len() > 5);
    }

    #[test]
    fn diagnostics_for_unwrap_and_todo() {
        let d = diagnostics(DEMO_TEXT);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0]["severity"], 4);
        assert_eq!(d[1]["code"], "demo::unwrap");
        assert!(diagnostics("fn main() {}").is_empty());
    }
}
