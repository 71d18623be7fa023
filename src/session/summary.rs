//! A recording summarised without loading it — its header, message and error counts,
//! protocol and exit line — for lists of sessions (the hub, `rpctap ls`).
//!
//! The scan looks at each line's prefix as the recorder writes it (`seq`, `t`, `dir`,
//! `framing`, then `msg` last) and searches bodies with `memmem`; only the few bodies that
//! could decide something (the first messages, for the protocol; candidates for an error)
//! are classified. Counts follow the viewer's header where that is cheap: messages are all
//! frames (not noise, not stderr); errors are error responses (JSON-RPC `error`, DAP
//! `"success": false`) and bodies recorded as `raw` that are not valid JSON-RPC.
//!
//! `Summaries` caches scans per file and, when a file grew, reads only what was appended,
//! so refreshing a list once a second costs a `stat` per unchanged file.
//!
//! Not responsible for: finding recordings or live sessions (see `crate::catalog`).

use crate::record::{parse_line, Event, Exit, Line, Lines, SessionInfo};
use crate::rpc::{classify, Kind, Protocol};
use memchr::memmem;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Messages classified to recognise the protocol before giving up on it.
const PROTOCOL_PROBES: u32 = 64;
const CHUNK: usize = 1 << 20;

/// What a list shows about one recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub info: SessionInfo,
    pub messages: u64,
    pub errors: u64,
    /// Named in the header (`--protocol`), else recognised from the first messages.
    pub protocol: Option<Protocol>,
    /// The last `exit` line, if the shim wrote one.
    pub exit: Option<Exit>,
    /// Bytes the gap lines say were forwarded but not recorded.
    pub gap_bytes: u64,
    /// Conformance violations at error level (`rpctap check`).
    pub problems: u64,
    /// Why the session ended without running, from the exit line's `error` (the command
    /// could not be started): clients hide the shim's stderr, so lists show this instead.
    pub failure: Option<String>,
}

/// What identifies a version of a file: when one of these changes, the file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// A scan in progress: the summary of the complete lines before `offset`.
#[derive(Debug, Clone)]
struct Scan {
    stamp: Stamp,
    /// `None` until the header line has been read; `Err` when line 1 is not one.
    summary: Option<Result<Summary, ()>>,
    offset: u64,
    probes: u32,
    /// Conformance checking, resumed with the scan (boxed: the scan is cloned rarely).
    checker: Box<crate::check::Checker>,
}

impl Scan {
    fn new(stamp: Stamp) -> Scan {
        Scan {
            stamp,
            summary: None,
            offset: 0,
            probes: 0,
            checker: Box::default(),
        }
    }

    /// Reads the complete lines after `offset`; a last line still being written is left
    /// for the next time.
    fn advance(&mut self, path: &Path) -> std::io::Result<()> {
        if matches!(self.summary, Some(Err(()))) {
            return Ok(());
        }
        let mut f = crate::record::open_regular(path)?;
        f.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::with_capacity(
            CHUNK.min(
                usize::try_from(self.stamp.len)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            ),
        );
        loop {
            let start = buf.len();
            buf.resize(start + CHUNK, 0);
            let n = f.read(&mut buf[start..])?;
            buf.truncate(start + n);
            if n == 0 {
                return Ok(());
            }
            let mut split = crate::record::lines::split(&buf);
            for line in split.by_ref() {
                self.line(line);
                if matches!(self.summary, Some(Err(()))) {
                    return Ok(());
                }
            }
            let consumed = split.consumed();
            self.offset += consumed as u64;
            buf.drain(..consumed);
        }
    }

    fn line(&mut self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        let s = match &mut self.summary {
            None => {
                // The header decides with the policy every reader shares.
                self.summary = Some(match Lines::new().complete(line) {
                    Some(Line::Event(Event::Session(info))) => Ok(Summary {
                        protocol: info.protocol.as_deref().and_then(Protocol::parse),
                        info,
                        messages: 0,
                        errors: 0,
                        exit: None,
                        gap_bytes: 0,
                        problems: 0,
                        failure: None,
                    }),
                    _ => Err(()),
                });
                return;
            }
            Some(Ok(s)) => s,
            Some(Err(())) => return,
        };
        if line.starts_with(b"{\"type\":") {
            match parse_line(line) {
                Ok(Event::Exit(e)) => {
                    s.problems += errors(self.checker.exit(e.code));
                    s.exit = Some(e);
                    s.failure = exit_error(line);
                }
                Ok(Event::Gap(g)) => {
                    self.checker.lost_history();
                    s.gap_bytes += g.bytes;
                }
                _ => {}
            }
            return;
        }
        // Conformance needs every message and noise line parsed: the hub pays it once per
        // file (the scan resumes where it stopped).
        if let Ok(ev @ (Event::Message(_) | Event::Noise(_))) = parse_line(line) {
            s.problems += errors(self.checker.event(&ev));
        }
        // `"dir":"` cannot occur inside a string value (its quotes would be escaped), so
        // the first one is the line's own.
        let Some(at) = memmem::find(line, b"\"dir\":\"") else {
            return;
        };
        let rest = &line[at + 7..];
        let Some(rest) = rest
            .strip_prefix(b"c2s\",")
            .or_else(|| rest.strip_prefix(b"s2c\","))
        else {
            return; // stderr
        };
        if rest.starts_with(b"\"noise") {
            return;
        }
        s.messages += 1;
        let body = match memmem::find(rest, b"\"msg\":") {
            // The recorder writes `msg` last: the body runs to the line's closing brace.
            Some(m) => std::borrow::Cow::Borrowed(&rest[m + 6..rest.len().saturating_sub(1)]),
            // `raw`: the body was not one line of JSON. Rare, so read properly.
            None if memmem::find(rest, b"\"raw").is_some() => match parse_line(line) {
                Ok(Event::Message(m)) => std::borrow::Cow::Owned(m.body.to_vec()),
                _ => return,
            },
            None => return, // oversized: not decoded
        };
        let mut kind = None;
        if s.protocol.is_none() && self.probes < PROTOCOL_PROBES {
            self.probes += 1;
            let c = classify(&body);
            s.protocol = c.protocol;
            kind = Some(c.kind);
        }
        let raw = matches!(body, std::borrow::Cow::Owned(_));
        if raw || key_then(&body, b"\"error\"", b"{") || key_then(&body, b"\"success\"", b"false") {
            let kind = kind.unwrap_or_else(|| classify(&body).kind);
            if kind == Kind::Error || (raw && kind == Kind::Invalid) {
                s.errors += 1;
            }
        }
    }
}

fn errors(found: &[crate::check::Violation]) -> u64 {
    found
        .iter()
        .filter(|v| v.rule.severity == crate::check::Severity::Error)
        .count() as u64
}

/// The `error` of an exit line, made one line and bounded for a list.
fn exit_error(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ExitError {
        error: Option<String>,
    }
    let e = serde_json::from_slice::<ExitError>(line).ok()?.error?;
    let one_line: String = e.chars().filter(|c| !c.is_control()).take(300).collect();
    Some(one_line)
}

/// Whether `key`, a colon and `value` follow each other somewhere in `body` (JSON allows
/// whitespace between them).
fn key_then(body: &[u8], key: &[u8], value: &[u8]) -> bool {
    memmem::find_iter(body, key).any(|at| {
        let rest = body[at + key.len()..].trim_ascii_start();
        rest.strip_prefix(b":")
            .is_some_and(|r| r.trim_ascii_start().starts_with(value))
    })
}

/// Summaries of recordings, each rescanned only as far as its file changed.
#[derive(Default)]
pub struct Summaries {
    scans: HashMap<PathBuf, Scan>,
}

impl Summaries {
    pub fn new() -> Summaries {
        Summaries::default()
    }

    /// The summary of the recording at `path` as it is now (`meta` is its metadata);
    /// `None` when it is not a recording or has no header yet.
    pub fn get(&mut self, path: &Path, meta: &std::fs::Metadata) -> Option<Summary> {
        let stamp = Stamp::of(meta);
        let scan = self
            .scans
            .entry(path.to_path_buf())
            .or_insert_with(|| Scan::new(stamp));
        let same_file = scan.stamp.dev == stamp.dev && scan.stamp.ino == stamp.ino;
        if !same_file || stamp.len < scan.offset {
            // Replaced or truncated: what was counted no longer describes it.
            *scan = Scan::new(stamp);
        }
        if scan.stamp != stamp || scan.summary.is_none() {
            scan.stamp = stamp;
            if scan.advance(path).is_err() {
                self.scans.remove(path);
                return None;
            }
        }
        match &scan.summary {
            Some(Ok(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// Forgets the files `keep` says no; called after a listing so that the cache holds
    /// only what is listed.
    pub fn retain(&mut self, keep: impl Fn(&Path) -> bool) {
        self.scans.retain(|p, _| keep(p));
    }
}

/// Summarises one recording (no cache).
pub fn summarize(path: &Path) -> Option<Summary> {
    let meta = std::fs::metadata(path).ok()?;
    Summaries::new().get(path, &meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const HEAD: &str = r#"{"rpctap":1,"type":"session","id":"x","name":"t","command":["srv"],"started":"2026-11-21T10:00:00.000000Z"}"#;

    fn msg(seq: u64, dir: &str, body: &str) -> String {
        format!(
            r#"{{"seq":{seq},"t":"2026-11-21T10:00:00.{seq:06}Z","dir":"{dir}","framing":"ndjson","msg":{body}}}"#
        )
    }

    fn write(path: &Path, lines: &[String]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    }

    fn get(cache: &mut Summaries, path: &Path) -> Option<Summary> {
        cache.get(path, &std::fs::metadata(path).unwrap())
    }

    #[test]
    fn counts_messages_errors_protocol_and_exit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let lines = vec![
            HEAD.to_owned(),
            msg(1, "c2s", r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            // An error response, with spaces as a client may send it.
            msg(2, "s2c", r#"{"jsonrpc":"2.0","id":1,"error" : {"code":-32601,"message":"no"}}"#),
            // `error` objects below the top level are not errors.
            msg(3, "s2c", r#"{"jsonrpc":"2.0","id":2,"result":{"error":{"x":1}}}"#),
            msg(4, "s2c", r#"{"type":"response","seq":9,"request_seq":3,"success":false,"command":"next"}"#),
            r#"{"seq":5,"t":"2026-11-21T10:00:00.000005Z","dir":"s2c","noise":"\"dir\":\"c2s\",\"msg\":{}"}"#.to_owned(),
            r#"{"seq":6,"t":"2026-11-21T10:00:00.000006Z","dir":"stderr","text":"\"error\":{"}"#.to_owned(),
            // Not JSON: an error; JSON over several lines: not one.
            r#"{"seq":7,"t":"2026-11-21T10:00:00.000007Z","dir":"c2s","framing":"lsp","raw":"{oops"}"#.to_owned(),
            r#"{"seq":8,"t":"2026-11-21T10:00:00.000008Z","dir":"c2s","framing":"lsp","raw":"{\"jsonrpc\":\"2.0\",\n\"method\":\"x\"}"}"#.to_owned(),
            r#"{"seq":9,"t":"2026-11-21T10:00:00.000009Z","dir":"c2s","framing":"lsp","oversized":123}"#.to_owned(),
            r#"{"type":"gap","t":"2026-11-21T10:00:01.000000Z","dir":"c2s","bytes":5,"reason":"x"}"#.to_owned(),
            r#"{"type":"exit","t":"2026-11-21T10:00:02.000000Z","code":null,"signal":9}"#.to_owned(),
        ];
        write(&path, &lines);
        let s = summarize(&path).unwrap();
        assert_eq!((s.messages, s.errors), (7, 3));
        assert_eq!(s.protocol, Some(Protocol::Mcp));
        assert_eq!(s.info.name, "t");
        assert_eq!(s.exit.map(|e| (e.code, e.signal)), Some((None, Some(9))));
    }

    #[test]
    fn a_growing_file_is_read_from_where_the_last_scan_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut cache = Summaries::new();
        std::fs::write(&path, "").unwrap();
        assert_eq!(get(&mut cache, &path), None, "no header yet");
        let m1 = msg(
            1,
            "c2s",
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#,
        );
        // The header and half a message line: the half is not counted.
        std::fs::write(&path, format!("{HEAD}\n{}", &m1[..20])).unwrap();
        let s = get(&mut cache, &path).unwrap();
        assert_eq!((s.messages, s.protocol), (0, None));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(f, "{}", &m1[20..]).unwrap();
        let s = get(&mut cache, &path).unwrap();
        assert_eq!((s.messages, s.protocol), (1, Some(Protocol::Lsp)));
        assert_eq!(
            cache.scans[&path].offset,
            std::fs::metadata(&path).unwrap().len()
        );
        write(
            &path,
            &[msg(
                2,
                "s2c",
                r#"{"jsonrpc":"2.0","id":1,"error":{"code":1}}"#,
            )],
        );
        let s = get(&mut cache, &path).unwrap();
        assert_eq!((s.messages, s.errors, s.exit), (2, 1, None));
        // Replaced by a shorter file: scanned again from the start.
        std::fs::write(&path, format!("{HEAD}\n")).unwrap();
        let s = get(&mut cache, &path).unwrap();
        assert_eq!((s.messages, s.errors), (0, 0));
    }

    #[test]
    fn a_file_that_is_not_a_recording_has_no_summary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "{\"hello\":1}\n").unwrap();
        let mut cache = Summaries::new();
        assert_eq!(get(&mut cache, &path), None);
        assert_eq!(
            get(&mut cache, &path),
            None,
            "and stays so until it changes"
        );
        cache.retain(|_| false);
        assert!(cache.scans.is_empty());
    }
}
