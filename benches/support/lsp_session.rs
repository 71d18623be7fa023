//! The generated recording of the check benchmark: the editor-like LSP session of
//! `benches/tui.rs` (the same mix of messages), behind an initialize handshake so that it
//! is a conforming session.

use std::io::Write;
use std::path::Path;

/// A session shaped like an editor's: hovers, completions (larger answers), edits,
/// diagnostics, definitions, logs and stderr lines.
pub fn generate(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(out, r#"{{"rpctap":1,"type":"session","id":"bench","name":"bench","command":["pylsp"],"cwd":"/tmp","pid":1,"started":"2026-11-21T10:00:00.000000Z"}}"#).unwrap();
    let items: String = (0..12)
        .map(|i| format!(r#"{{"label":"item_{i}","kind":6,"detail":"def item_{i}(self, value: int) -> str","sortText":"a{i:04}"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let t0 = rpctap::record::Micros(1_795_255_200_000_000).to_rfc3339();
    for (seq, dir, msg) in [
        (
            1,
            "c2s",
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"processId":1,"rootUri":"file:///tmp/project","capabilities":{}}}"#,
        ),
        (
            2,
            "s2c",
            r#"{"jsonrpc":"2.0","id":0,"result":{"capabilities":{"hoverProvider":true}}}"#,
        ),
        (
            3,
            "c2s",
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ),
    ] {
        writeln!(
            out,
            r#"{{"seq":{seq},"t":"{t0}","dir":"{dir}","framing":"lsp","msg":{msg}}}"#
        )
        .unwrap();
    }
    let mut id = 0u64;
    for seq in 4..=n as u64 {
        let t = rpctap::record::Micros(1_795_255_200_000_000 + i64::try_from(seq).unwrap() * 100)
            .to_rfc3339();
        let uri = format!("file:///tmp/project/module_{}.py", seq % 97);
        let head = |dir: &str| format!(r#"{{"seq":{seq},"t":"{t}","dir":"{dir}""#);
        let line = match seq % 10 {
            1 => {
                id += 1;
                format!(
                    r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":{},"character":14}}}}}}}}"#,
                    head("c2s"),
                    seq % 400
                )
            }
            2 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"result":{{"contents":{{"kind":"markdown","value":"```python\ndef handler(request: Request) -> Response\n```\nHandles one request."}}}}}}}}"#,
                head("s2c")
            ),
            3 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{uri}","version":{seq}}},"contentChanges":[{{"range":{{"start":{{"line":4,"character":4}},"end":{{"line":4,"character":9}}}},"text":"value"}}]}}}}}}"#,
                head("c2s")
            ),
            4 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":"{uri}","diagnostics":[{{"range":{{"start":{{"line":4,"character":4}},"end":{{"line":4,"character":11}}}},"severity":2,"source":"pyflakes","message":"local variable 'value' is assigned to but never used"}}]}}}}}}"#,
                head("s2c")
            ),
            5 => {
                id += 1;
                format!(
                    r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"method":"textDocument/completion","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":8,"character":5}},"context":{{"triggerKind":2,"triggerCharacter":"."}}}}}}}}"#,
                    head("c2s")
                )
            }
            6 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"result":{{"isIncomplete":false,"items":[{items}]}}}}}}"#,
                head("s2c")
            ),
            7 => {
                id += 1;
                format!(
                    r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"method":"textDocument/definition","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":12,"character":20}}}}}}}}"#,
                    head("c2s")
                )
            }
            8 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"result":[{{"uri":"{uri}","range":{{"start":{{"line":1,"character":0}},"end":{{"line":1,"character":12}}}}}}]}}}}"#,
                head("s2c")
            ),
            9 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","method":"window/logMessage","params":{{"type":4,"message":"pylsp: linting {uri} took 3 ms"}}}}}}"#,
                head("s2c")
            ),
            _ => format!(
                r#"{},"text":"2026-11-21 10:00:00,000 DEBUG pylsp.config: plugin settings for {uri}"}}"#,
                head("stderr")
            ),
        };
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    writeln!(
        out,
        r#"{{"type":"exit","t":"2026-11-21T12:00:00.000000Z","code":0,"signal":null}}"#
    )
    .unwrap();
    out.flush().unwrap();
}
