//! Other tools' logs as rpctap events: the format is recognised from a file's first bytes,
//! so every command that reads a recording reads them all without a flag.
//!
//! One file per format. Each importer turns a whole file into the same `Event`s a
//! recording holds: a synthesised session header, then messages with rebuilt JSON-RPC
//! bodies (direction c2s = sent by the client). rpctap's own JSONL is streamed by
//! `Reader`; the other formats are small enough to be read whole.
//!
//! Not responsible for: writing other formats (see `record::export`).

mod lsp_devtools;
mod mcpsnoop;
mod sqlite;
mod vscode_json;
mod vscode_text;

use super::{Dir, Event, MessageEvent, Micros, ReadError, Reader, SessionInfo, StderrEvent};
use crate::wire::Framing;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::io::BufRead;
use std::path::Path;

/// A file format rpctap reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rpctap,
    VscodeText,
    VscodeJson,
    LspDevtoolsJsonl,
    LspDevtoolsSqlite,
    Mcpsnoop,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::Rpctap => "rpctap recording",
            Format::VscodeText => "VS Code LSP trace (text)",
            Format::VscodeJson => "VS Code LSP trace (JSON)",
            Format::LspDevtoolsJsonl => "lsp-devtools JSONL",
            Format::LspDevtoolsSqlite => "lsp-devtools SQLite",
            Format::Mcpsnoop => "mcpsnoop session log",
        }
    }
}

/// How many bytes of a file detection looks at: enough for the first entry of a trace
/// (a VS Code `initialize` can be long) without reading a whole large file.
pub const SNIFF: usize = 256 * 1024;

/// Recognises a format from the first bytes of a file (`head`, up to `SNIFF` of them).
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"SQLite format 3\0") {
        return Some(Format::LspDevtoolsSqlite);
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())?;
    if first.starts_with(b"[") && !first.starts_with(b"[{") {
        vscode_text::entry_prefix(first)?;
        // An output channel starts with `[Info  - …]` lines in either format: the first
        // entry holding a message decides.
        let decided = head.split(|&b| b == b'\n').find_map(|l| {
            let rest = vscode_text::entry_prefix(l.trim_ascii())?;
            if rest.trim_ascii_start().starts_with(b"{") {
                Some(Format::VscodeJson)
            } else if l.starts_with(b"[Trace - ") {
                Some(Format::VscodeText)
            } else {
                None
            }
        });
        return Some(decided.unwrap_or(Format::VscodeText));
    }
    // A JSON line, possibly cut short by SNIFF: look at its keys only.
    let keys = top_level_keys(first);
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("rpctap") {
        Some(Format::Rpctap)
    } else if has("isLSPMessage") {
        Some(Format::VscodeJson)
    } else if has("session_id") && has("direction") {
        Some(Format::Mcpsnoop)
    } else if has("jsonrpc") || (has("source") && (has("message") || has("body"))) {
        Some(Format::LspDevtoolsJsonl)
    } else {
        None
    }
}

/// The keys of a JSON object's first level, read from text that may be cut short.
fn top_level_keys(line: &[u8]) -> Vec<String> {
    use serde::de::{IgnoredAny, MapAccess, Visitor};
    struct Keys<'a>(&'a mut Vec<String>);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<String>()? {
                self.0.push(k);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut keys = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(line);
    // An error (the line was cut) still leaves the keys read before it.
    let _ = serde::Deserializer::deserialize_map(&mut de, Keys(&mut keys));
    keys
}

/// A stream of events from any supported format.
pub type Events = Box<dyn Iterator<Item = Result<Event, ReadError>>>;

/// Opens a file of any supported format.
pub fn open(path: &Path) -> Result<(Format, Events), ReadError> {
    let (format, opened) = open_any(path)?;
    let events: Events = match opened {
        Opened::Stream(reader) => Box::new(reader),
        Opened::Imported(events, _) => Box::new(events.into_iter().map(Ok)),
    };
    Ok((format, events))
}

/// Opens an imported format (not rpctap's own) with the line of the file each event
/// came from (for SQLite, the row; 0 for the synthesised session header).
pub fn open_with_lines(path: &Path) -> Result<(Vec<Event>, Vec<usize>), ReadError> {
    match open_any(path)?.1 {
        Opened::Imported(events, context) => {
            let lines = context.lines.into_inner();
            Ok((events, lines))
        }
        Opened::Stream(reader) => {
            let events: Vec<Event> = reader.collect::<Result<_, _>>()?;
            let lines = (1..=events.len()).collect();
            Ok((events, lines))
        }
    }
}

enum Opened {
    Stream(Reader<std::io::BufReader<std::fs::File>>),
    Imported(Vec<Event>, Context),
}

fn open_any(path: &Path) -> Result<(Format, Opened), ReadError> {
    let file = super::open_regular(path)?;
    let meta = file.metadata()?;
    let mut reader = std::io::BufReader::with_capacity(SNIFF, file);
    let head = reader.fill_buf()?;
    if head.is_empty() {
        return Err(ReadError::Empty);
    }
    let format = detect(head).ok_or(ReadError::UnknownFormat)?;
    if format == Format::Rpctap {
        return Ok((format, Opened::Stream(Reader::new(reader))));
    }
    let context = Context {
        name: path
            .file_stem()
            .map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned()),
        modified: meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(Micros(0), |d| Micros(d.as_micros() as i64)),
        lines: Default::default(),
    };
    let events = if format == Format::LspDevtoolsSqlite {
        drop(reader);
        sqlite::import(path, &context)?
    } else {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        std::io::Read::read_to_end(&mut reader, &mut bytes)?;
        import_bytes(format, &bytes, &context)?
    };
    Ok((format, Opened::Imported(events, context)))
}

/// Imports a whole file already in memory (any text format).
pub fn import_bytes(
    format: Format,
    bytes: &[u8],
    context: &Context,
) -> Result<Vec<Event>, ReadError> {
    match format {
        Format::Rpctap => Reader::new(bytes).collect(),
        Format::VscodeText => vscode_text::import(bytes, context),
        Format::VscodeJson => vscode_json::import(bytes, context),
        Format::LspDevtoolsJsonl => lsp_devtools::import(bytes, context),
        Format::Mcpsnoop => mcpsnoop::import(bytes, context),
        Format::LspDevtoolsSqlite => Err(ReadError::UnknownFormat),
    }
}

/// What an importer knows about the file besides its content.
#[derive(Debug, Clone)]
pub struct Context {
    /// The file's stem, used as the session name.
    pub name: String,
    /// When the file was last written: the date for formats that log only a time of day,
    /// and the time of formats that log none.
    pub modified: Micros,
    /// Filled by the import: the line (or row) each event came from, in event order.
    pub lines: std::cell::RefCell<Vec<usize>>,
}

/// Collects an import's events and puts a session header in front of them.
pub(crate) struct Builder {
    events: Vec<Event>,
    seq: u64,
    started: Option<Micros>,
    pub command: Vec<String>,
    pub cwd: String,
    pub protocol: Option<&'static str>,
    /// The line (or row) of the file the next event comes from.
    pub line: usize,
    lines: Vec<usize>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            events: Vec::new(),
            seq: 0,
            started: None,
            command: Vec::new(),
            cwd: String::new(),
            protocol: None,
            line: 0,
            lines: Vec::new(),
        }
    }

    fn next(&mut self, t: Micros) -> u64 {
        self.lines.push(self.line);
        self.started.get_or_insert(t);
        self.seq += 1;
        self.seq
    }

    pub fn message(&mut self, t: Micros, dir: Dir, framing: Framing, body: Vec<u8>) {
        let seq = self.next(t);
        self.events.push(Event::Message(MessageEvent {
            seq,
            t,
            dir,
            framing,
            body: Bytes::from(body),
            headers: None,
            redacted: false,
            oversized: None,
            mark: Default::default(),
        }));
    }

    pub fn stderr(&mut self, t: Micros, text: &str) {
        let seq = self.next(t);
        self.events.push(Event::Stderr(StderrEvent {
            seq,
            t,
            text: Bytes::copy_from_slice(text.as_bytes()),
        }));
    }

    pub fn finish(self, context: &Context) -> Vec<Event> {
        let started = self.started.unwrap_or(context.modified);
        let info = SessionInfo {
            id: format!("import-{}", context.name),
            name: context.name.clone(),
            command: self.command,
            cwd: self.cwd,
            pid: 0,
            started: started.to_rfc3339(),
            protocol: self.protocol.map(str::to_owned),
        };
        let mut lines = context.lines.borrow_mut();
        lines.clear();
        lines.push(0);
        lines.extend(self.lines);
        let mut events = Vec::with_capacity(self.events.len() + 1);
        events.push(Event::Session(info));
        events.extend(self.events);
        events
    }
}

/// What a rebuilt JSON-RPC message carries besides `jsonrpc`.
#[derive(Default)]
pub(crate) struct Parts {
    pub id: Option<Value>,
    pub method: Option<String>,
    pub params: Option<Value>,
    /// `Some(None)` is a response whose result is `null`.
    pub result: Option<Option<Value>>,
    pub error: Option<Value>,
}

impl Parts {
    /// The message as compact JSON, keys in the order JSON-RPC libraries write them.
    pub fn body(self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("jsonrpc".into(), "2.0".into());
        if let Some(id) = self.id {
            m.insert("id".into(), id);
        }
        if let Some(method) = self.method {
            m.insert("method".into(), method.into());
        }
        if let Some(p) = self.params {
            m.insert("params".into(), p);
        }
        if let Some(e) = self.error {
            m.insert("error".into(), e);
        } else if let Some(r) = self.result {
            m.insert("result".into(), r.unwrap_or(Value::Null));
        }
        serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
    }
}

/// An id as logs print it (`5`, `abc`): a number when it reads as one.
pub(crate) fn id_value(text: &str) -> Value {
    match text.parse::<i64>() {
        Ok(n) => n.into(),
        Err(_) => text.into(),
    }
}

/// Lines of a text file with their 1-based numbers, whether each ended with a newline,
/// and without their line terminators.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8], bool)> {
    let mut rest = bytes;
    let mut n = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        n += 1;
        let (line, complete) = match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let l = &rest[..i];
                rest = &rest[i + 1..];
                (l, true)
            }
            None => (std::mem::take(&mut rest), false),
        };
        Some((n, line.strip_suffix(b"\r").unwrap_or(line), complete))
    })
}

/// A JSON error without serde's position, which counts from the start of the value
/// rather than the file: callers say where in the file instead.
pub(crate) fn json_reason(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &s[..i], e.column()),
        None => s,
    }
}

pub(crate) fn bad(line: usize, reason: impl Into<String>) -> ReadError {
    ReadError::BadLine {
        line,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_its_first_line() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (
                b"{\"rpctap\":1,\"type\":\"session\"}\n",
                Some(Format::Rpctap),
            ),
            (
                b"[Trace - 10:00:00 AM] Sending request 'initialize - (0)'.\n",
                Some(Format::VscodeText),
            ),
            (
                b"\n[Info  - 9:59:59 AM] Starting\n",
                Some(Format::VscodeText),
            ),
            (
                b"[LSP   - 10:00:00 AM] {\"isLSPMessage\":true}\n",
                Some(Format::VscodeJson),
            ),
            (
                b"[Info  - 1:00:00 PM] Start\n[LSP   - 1:00:00 PM] {}\n",
                Some(Format::VscodeJson),
            ),
            (
                b"{\"isLSPMessage\":true,\"type\":\"send-request\"}\n",
                Some(Format::VscodeJson),
            ),
            (
                b"{\"session_id\":\"s\",\"seq\":1,\"direction\":\"c2s\"}\n",
                Some(Format::Mcpsnoop),
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n",
                Some(Format::LspDevtoolsJsonl),
            ),
            (
                b"{\"source\":\"client\",\"message\":{}}\n",
                Some(Format::LspDevtoolsJsonl),
            ),
            (b"SQLite format 3\0rest", Some(Format::LspDevtoolsSqlite)),
            (b"hello world\n", None),
            (b"{\"x\":1}\n", None),
            (b"[1,2,3]\n", None),
            (b"[Tracer] nothing\n", None),
        ];
        for (head, want) in cases {
            assert_eq!(detect(head), *want, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn a_first_line_cut_short_still_shows_its_keys() {
        assert_eq!(
            detect(b"{\"isLSPMessage\":true,\"message\":{\"params\":{\"a\":"),
            Some(Format::VscodeJson)
        );
    }

    #[test]
    fn rebuilt_bodies_keep_json_rpc_key_order() {
        let body = Parts {
            id: Some(id_value("7")),
            method: Some("m".into()),
            params: Some(serde_json::json!({"b":1,"a":2})),
            ..Parts::default()
        }
        .body();
        assert_eq!(
            body,
            br#"{"jsonrpc":"2.0","id":7,"method":"m","params":{"b":1,"a":2}}"#
        );
        let body = Parts {
            id: Some(id_value("x")),
            result: Some(None),
            ..Parts::default()
        }
        .body();
        assert_eq!(body, br#"{"jsonrpc":"2.0","id":"x","result":null}"#);
    }
}
