//! The one incremental reader of recording lines, shared by the file reader
//! (`record::Reader`), the TUI's file and live sources and the hub's summary scan, so that
//! every reader treats a line the same way:
//!
//! - lines end with `\n` (a `\r` before it and trailing blanks are ignored), blank lines
//!   are skipped, and lines are numbered from 1 as an editor shows them;
//! - line 1 must be a session header, else the input is not a recording at all;
//! - a complete line that does not read is `Bad`, with its number and the reason: never
//!   dropped silently (a viewer reports and skips it; a converter stops on it);
//! - a last line without its newline was cut off mid-write (the shim was killed): it is
//!   kept if it reads and skipped otherwise.
//!
//! Pure: it is handed bytes and never performs I/O.

use super::{parse_line, Event};

/// What one line is.
#[derive(Debug)]
pub enum Line {
    Event(Event),
    /// A complete line that does not read.
    Bad {
        line: usize,
        reason: String,
    },
    /// Line 1 is not a session header.
    NotARecording,
}

/// The complete lines at the front of a buffer, each without its newline; `consumed` says
/// how many bytes they covered, so the caller can drop them and keep the partial rest.
pub struct Split<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Splits the complete lines off the front of `buf`.
pub fn split(buf: &[u8]) -> Split<'_> {
    Split { buf, pos: 0 }
}

impl Split<'_> {
    /// Bytes of `buf` the lines returned so far covered, newlines included.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let nl = memchr::memchr(b'\n', rest)?;
        self.pos += nl + 1;
        Some(rest[..nl].trim_ascii_end())
    }
}

/// Numbers and parses lines with the policy above.
#[derive(Debug, Default)]
pub struct Lines {
    line_no: usize,
}

impl Lines {
    pub fn new() -> Lines {
        Lines::default()
    }

    /// Lines seen so far.
    pub fn line_no(&self) -> usize {
        self.line_no
    }

    /// One complete line (without its newline); `None` for a blank line.
    pub fn complete(&mut self, line: &[u8]) -> Option<Line> {
        self.line_no += 1;
        let line = line.trim_ascii_end();
        if line.is_empty() {
            return None;
        }
        Some(match (parse_line(line), self.line_no) {
            (Ok(ev @ Event::Session(_)), 1) => Line::Event(ev),
            (_, 1) => Line::NotARecording,
            (Ok(ev), _) => Line::Event(ev),
            (Err(reason), line) => Line::Bad { line, reason },
        })
    }

    /// What was left after the end of the input: a last line cut off mid-write, kept only
    /// if it reads. `None` when nothing usable is left.
    pub fn cut_off(&mut self, rest: &[u8]) -> Option<Line> {
        let line = rest.trim_ascii_end();
        if line.is_empty() {
            return None;
        }
        self.line_no += 1;
        match (parse_line(line), self.line_no) {
            (Ok(ev @ Event::Session(_)), 1) => Some(Line::Event(ev)),
            (_, 1) => Some(Line::NotARecording),
            (Ok(ev), _) => Some(Line::Event(ev)),
            (Err(_), _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"{"rpctap":1,"type":"session","id":"x","name":"t","command":["s"],"started":"2026-11-21T10:00:00.000000Z"}"#;
    const MSG: &str = r#"{"seq":1,"t":"2026-11-21T10:00:00.000001Z","dir":"c2s","framing":"ndjson","msg":{"a":1}}"#;

    fn kinds(text: &str) -> Vec<String> {
        let mut lines = Lines::new();
        let mut split = split(text.as_bytes());
        let mut out: Vec<String> = split
            .by_ref()
            .filter_map(|l| lines.complete(l))
            .map(|l| match l {
                Line::Event(_) => "event".into(),
                Line::Bad { line, .. } => format!("bad {line}"),
                Line::NotARecording => "not".into(),
            })
            .collect();
        let rest = &text.as_bytes()[split.consumed()..];
        if let Some(l) = lines.cut_off(rest) {
            out.push(match l {
                Line::Event(_) => "last".into(),
                _ => "other".into(),
            });
        }
        out
    }

    #[test]
    fn one_policy_for_every_kind_of_line() {
        let ok = kinds(&format!("{HEAD}\r\n\n{MSG}\nnot json\n{MSG}"));
        assert_eq!(ok.len(), 4, "{ok:?}");
        assert_eq!(
            ok[2], "bad 4",
            "blank lines count, as an editor numbers them"
        );
        assert_eq!(ok[3], "last", "a cut-off last line that reads is kept");
        let cut = kinds(&format!("{HEAD}\n{MSG}\n{{\"seq\":2,\"t\""));
        assert_eq!(
            cut.len(),
            2,
            "a cut-off last line that does not read is skipped"
        );
        assert_eq!(kinds(&format!("{MSG}\n{HEAD}\n"))[0], "not");
        assert_eq!(kinds("hello")[0], "other");
    }
}
