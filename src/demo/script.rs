//! What the demo client says: the steps of a realistic editor session on one small Rust
//! file, and the endless editing of `repeat` mode.
//!
//! Each step records what it saw in the `Report`; a wrong answer is noted there rather than
//! stopping the session, so one report lists everything that went wrong.

use super::client::{Halt, Session, EXPECTED_SERVER_REQUESTS};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

pub const DEMO_URI: &str = "file:///demo/src/main.rs";

/// The file the client opens.
pub const DEMO_TEXT: &str = r#"use std::collections::HashMap;

/// A point on the demo plane.
struct Point {
    x: i64,
    y: i64,
}

enum Shape {
    Circle(Point, i64),
    Square(Point, i64),
}

const GREETING: &str = "Hello";

fn greet(name: &str) -> String {
    format!("{GREETING}, {name}!")
}

fn area(shape: &Shape) -> i64 {
    match shape {
        Shape::Circle(_, r) => 3 * r * r,
        Shape::Square(_, s) => s * s,
    }
}

fn main() {
    let mut counts: HashMap<String, i64> = HashMap::new();
    let origin = Point { x: 0, y: 0 };
    // TODO: read names from the command line
    let who = std::env::args().nth(1).unwrap();
    println!("{}", greet(&who));
    counts.insert(who, area(&Shape::Square(origin, 2)));
}
"#;

/// The line an edit inserts after (and removes again, in `repeat` mode).
const EDIT_AFTER: &str = "    let origin = Point { x: 0, y: 0 };\n";
const EDIT_LINE: &str = "    let home = std::env::var(\"HOME\").unwrap();\n";

/// The LSP position of `needle`'s first occurrence in the demo file, moved `offset`
/// characters right.
fn at(needle: &str, offset: usize) -> Value {
    let (line, col) = DEMO_TEXT
        .lines()
        .enumerate()
        .find_map(|(n, l)| l.find(needle).map(|c| (n, c)))
        .unwrap_or_else(|| panic!("{needle:?} is not in the demo file"));
    json!({"line": line, "character": col + offset})
}

fn doc_position(pos: Value) -> Value {
    let mut v = json!({"textDocument": {"uri": DEMO_URI}});
    v["position"] = pos;
    v
}

fn error_code(response: &Value) -> Option<i64> {
    response["error"]["code"].as_i64()
}

/// Runs the whole session. With `repeat`, edits go on after the script until the server
/// goes away (a normal end) or `stop` is set (then the server is shut down properly).
pub(crate) fn run<W: Write>(s: &mut Session<'_, W>) -> Result<(), Halt> {
    match steps(s) {
        Ok(()) if s.opts.repeat => {
            s.report.completed = true;
            match repeat(s) {
                Halt::Gone(_) => return Ok(()),
                Halt::Stopped => {}
                failed @ Halt::Failed(_) => return Err(failed),
            }
            shutdown(s)
        }
        Ok(()) => {
            shutdown(s)?;
            s.report.completed = true;
            Ok(())
        }
        Err(Halt::Stopped) => {
            // Leave the server in a clean state even when cut short.
            shutdown(s)?;
            Err(Halt::Stopped)
        }
        Err(e) => Err(e),
    }
}

fn shutdown<W: Write>(s: &mut Session<'_, W>) -> Result<(), Halt> {
    let r = s.call("shutdown", Value::Null)?;
    if r.get("error").is_some() {
        return Err(Halt::Failed(format!("shutdown failed: {}", r["error"])));
    }
    s.notify("exit", Value::Null)
}

fn steps<W: Write>(s: &mut Session<'_, W>) -> Result<(), Halt> {
    let pace = s.opts.pace;
    initialize(s)?;
    s.pause(pace)?;
    s.notify("initialized", json!({}))?;
    s.pause(pace)?;
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": DEMO_URI, "languageId": "rust", "version": 1, "text": DEMO_TEXT}}),
    )?;
    s.pause(pace)?;

    // Hovers where an editor user would rest the mouse; the blank line answers null.
    for (needle, offset) in [
        ("fn greet", 4),
        ("greet(&who)", 1),
        ("println!", 3),
        ("origin", 2),
        ("HashMap::new", 4),
        ("unwrap()", 2),
    ] {
        hover(s, at(needle, offset))?;
        s.pause(pace)?;
    }
    hover(s, json!({"line": 1, "character": 0}))?;
    s.pause(pace)?;

    for (needle, offset) in [("greet(&who)", 2), ("counts.insert", 0)] {
        let r = s.call("textDocument/completion", doc_position(at(needle, offset)))?;
        s.report.completion_items += r["result"]["items"].as_array().map_or(0, Vec::len);
        s.pause(pace)?;
    }

    let r = s.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": DEMO_URI}}),
    )?;
    s.report.symbols += r["result"].as_array().map_or(0, Vec::len);
    s.pause(pace)?;

    for (needle, offset) in [("greet(&who)", 1), ("area(&Shape", 0)] {
        let r = s.call("textDocument/definition", doc_position(at(needle, offset)))?;
        if r["result"].is_object() || r["result"].is_array() {
            s.report.definitions += 1;
        }
        s.pause(pace)?;
    }

    edit(s, 2, true)?;
    s.pause(pace)?;

    // Slow work with progress reporting.
    s.call(
        "demo/slow",
        json!({"ms": 300, "workDoneToken": "rpctap-demo-client/slow"}),
    )?;
    s.pause(pace)?;
    s.call(
        "demo/echo",
        json!({"text": "hello, rpctap", "n": [1, 2, 3]}),
    )?;
    s.pause(pace)?;

    let r = s.call("demo/fail", json!({"reason": "showing an error response"}))?;
    s.report.fail_error = r.get("error").is_some();
    s.pause(pace)?;
    let r = s.call("demo/noSuchMethod", json!({}))?;
    s.report.method_not_found = error_code(&r) == Some(-32601);
    s.pause(pace)?;

    // A request the user gives up on: long enough that only cancellation answers it soon.
    let id = s.request("demo/slow", json!({"ms": 600_000}))?;
    s.pause(pace)?;
    s.notify("$/cancelRequest", json!({"id": id_value(&id)}))?;
    let r = s.response(&id, "demo/slow (cancelled)")?;
    s.report.cancelled = error_code(&r) == Some(-32800);
    s.pause(pace)?;

    // Both arrive asynchronously; give them a bounded chance before judging.
    s.wait_for(|r| r.diagnostics > 0 && r.server_requests_answered >= EXPECTED_SERVER_REQUESTS)?;
    Ok(())
}

fn id_value(id: &crate::rpc::Id) -> Value {
    match id {
        crate::rpc::Id::Num(n) => json!(n),
        crate::rpc::Id::Str(s) => json!(s),
    }
}

fn initialize<W: Write>(s: &mut Session<'_, W>) -> Result<(), Halt> {
    let r = s.call(
        "initialize",
        json!({
            "processId": std::process::id(),
            "clientInfo": {"name": "rpctap-demo-client", "version": env!("CARGO_PKG_VERSION")},
            "rootUri": "file:///demo",
            "workspaceFolders": [{"uri": "file:///demo", "name": "demo"}],
            "capabilities": {
                "workspace": {"configuration": true, "workspaceFolders": true},
                "window": {"workDoneProgress": true},
                "textDocument": {
                    "synchronization": {"didSave": false, "dynamicRegistration": false},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "completion": {"completionItem": {"snippetSupport": true}},
                    "publishDiagnostics": {"relatedInformation": false, "versionSupport": true},
                    "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
                },
            },
            "trace": "off",
        }),
    )?;
    if let Some(e) = r.get("error") {
        return Err(Halt::Failed(format!("initialize failed: {e}")));
    }
    s.report.server_name = r["result"]["serverInfo"]["name"]
        .as_str()
        .map(str::to_owned);
    Ok(())
}

fn hover<W: Write>(s: &mut Session<'_, W>, pos: Value) -> Result<(), Halt> {
    let r = s.call("textDocument/hover", doc_position(pos))?;
    if !r["result"].is_null() {
        s.report.hover_results += 1;
    }
    Ok(())
}

fn edited_text(insert: bool) -> String {
    if insert {
        DEMO_TEXT.replacen(EDIT_AFTER, &format!("{EDIT_AFTER}{EDIT_LINE}"), 1)
    } else {
        DEMO_TEXT.to_owned()
    }
}

/// Sends the whole file with the edit line inserted or removed (full synchronisation).
fn edit<W: Write>(s: &mut Session<'_, W>, version: i64, insert: bool) -> Result<(), Halt> {
    s.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": DEMO_URI, "version": version},
            "contentChanges": [{"text": edited_text(insert)}],
        }),
    )
}

/// Edits and hovers once a second, forever; returns why it stopped.
fn repeat<W: Write>(s: &mut Session<'_, W>) -> Halt {
    let mut version = 3;
    loop {
        if let Err(halt) = edit_and_hover(s, version) {
            return halt;
        }
        s.report.edits += 1;
        version += 1;
    }
}

/// Hover spots for `repeat`, above the edited line so they stay put whichever way the edit
/// goes.
const REPEAT_SPOTS: [(&str, usize); 5] = [
    ("fn greet", 4),
    ("fn area", 4),
    ("HashMap::new", 0),
    ("origin", 1),
    ("GREETING", 2),
];

fn edit_and_hover<W: Write>(s: &mut Session<'_, W>, version: i64) -> Result<(), Halt> {
    s.pause(Duration::from_secs(1))?;
    edit(s, version, version % 2 == 1)?;
    let (needle, offset) = REPEAT_SPOTS[usize::try_from(version).unwrap_or(0) % REPEAT_SPOTS.len()];
    hover(s, at(needle, offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::lsp;

    #[test]
    fn repeat_spots_are_words_above_the_edit() {
        let edit_line =
            usize::try_from(at(EDIT_AFTER.trim(), 0)["line"].as_u64().unwrap()).unwrap();
        for (needle, offset) in REPEAT_SPOTS {
            let pos = at(needle, offset);
            let (line, ch) = (
                usize::try_from(pos["line"].as_u64().unwrap()).unwrap(),
                usize::try_from(pos["character"].as_u64().unwrap()).unwrap(),
            );
            assert!(line <= edit_line, "{needle}");
            assert!(lsp::word_at(DEMO_TEXT, line, ch).is_some(), "{needle}");
        }
    }

    #[test]
    fn the_edit_adds_a_diagnostic_and_reverts() {
        assert_eq!(lsp::diagnostics(&edited_text(true)).len(), 3);
        assert_eq!(edited_text(false), DEMO_TEXT);
    }
}
