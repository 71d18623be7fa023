//! Reading a long recording line fast: the message bodies it embeds (`"msg"`, and a
//! release's `"body"`) are most of its bytes, and `serde_json` checks a raw value byte by
//! byte (about 1 GB/s on escape-dense text, two thirds of `rpctap check`'s time). The JSON
//! scanner (`record::validate`, 64 bytes at a time) checks the whole line and finds where
//! those values are; `serde_json` then reads only the rest, a skeleton of the line with
//! each body replaced by `0`.
//!
//! Not responsible for: what the fields mean (`record::reader`). Short lines are left to
//! `serde_json` alone, which reads them as fast.

use super::validate::{self, Token, Tokens};
use std::ops::Range;

/// Lines shorter than this are not skimmed.
const LONG: usize = 4096;

/// Where a line's bodies are, and the skeleton `serde_json` is to read instead of it.
#[derive(Debug, Default)]
pub struct Skimmed {
    pub msg: Option<Range<usize>>,
    pub body: Option<Range<usize>>,
    pub skeleton: Vec<u8>,
}

/// Skims `line` if it is long, valid JSON (as `serde_json` reads a line: whitespace and
/// unpaired surrogates in raw values allowed) and names each body at most once; `None`
/// leaves the line to `serde_json` as it is, which then says what is wrong with it.
pub fn skim(line: &[u8]) -> Option<Skimmed> {
    if line.len() < LONG {
        return None;
    }
    let mut find = Find {
        line,
        ..Find::default()
    };
    let text = std::str::from_utf8(line).ok()?;
    if !validate::walk(text, &mut find) || find.repeated {
        return None;
    }
    // A `null` is what serde_json reads as an absent member: it stays in the skeleton.
    let not_null = |r: &Range<usize>| &line[r.clone()] != b"null";
    let (msg, body) = (find.msg.filter(not_null), find.body.filter(not_null));
    let mut spans: Vec<Range<usize>> = msg.iter().chain(&body).cloned().collect();
    spans.sort_by_key(|r| r.start);
    let mut skeleton = Vec::with_capacity(LONG);
    let mut from = 0;
    for r in &spans {
        skeleton.extend_from_slice(&line[from..r.start]);
        skeleton.push(b'0');
        from = r.end;
    }
    skeleton.extend_from_slice(&line[from..]);
    Some(Skimmed {
        msg,
        body,
        skeleton,
    })
}

/// Which member of the line's object is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Slot {
    #[default]
    Other,
    Msg,
    Body,
}

/// The scanner's sink: follows the top-level object's members.
#[derive(Debug, Default)]
struct Find<'a> {
    line: &'a [u8],
    depth: usize,
    /// The top-level value is an object (its members are what is looked for).
    object: bool,
    /// At depth 1, the next token is a key.
    key_next: bool,
    /// The member whose value is being read, and where that value began.
    slot: Slot,
    value_at: usize,
    msg: Option<Range<usize>>,
    body: Option<Range<usize>>,
    /// A body's key appeared twice (`serde_json` refuses that; let it say so).
    repeated: bool,
}

impl Find<'_> {
    /// The value of the current member ended at `end`.
    fn value_done(&mut self, end: usize) {
        let span = self.value_at..end;
        let place = match self.slot {
            Slot::Msg => &mut self.msg,
            Slot::Body => &mut self.body,
            Slot::Other => return,
        };
        self.repeated |= place.replace(span).is_some();
        self.slot = Slot::Other;
    }
}

impl Tokens for Find<'_> {
    const LINE_BREAKS: bool = true;
    /// `serde_json`'s recursion limit.
    const MAX_DEPTH: usize = 127;

    fn token(&mut self, token: Token, at: usize, end: usize) -> bool {
        match token {
            Token::Open { object } => {
                if self.depth == 0 {
                    (self.object, self.key_next) = (object, true);
                } else if self.depth == 1 && self.object {
                    self.value_at = at;
                }
                self.depth += 1;
            }
            Token::Close => {
                self.depth -= 1;
                if self.depth == 1 && self.object {
                    self.value_done(end);
                    self.key_next = true;
                }
            }
            _ if self.depth != 1 || !self.object => {}
            Token::Str { escapes } if self.key_next => {
                // An escaped key is never taken for a body: `serde_json` reads it as it
                // is, only slower.
                self.slot = match (escapes, &self.line[at..end]) {
                    (false, b"\"msg\"") => Slot::Msg,
                    (false, b"\"body\"") => Slot::Body,
                    _ => Slot::Other,
                };
                self.key_next = false;
            }
            _ => {
                self.value_at = at;
                self.value_done(end);
                self.key_next = true;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{parse_line, Event};

    /// A body of at least `LONG` bytes, escapes and all.
    fn long_body() -> String {
        format!(
            r#"{{"jsonrpc":"2.0","method":"m","params":{{"text":"{}","n":[1,{{"msg":2}}]}}}}"#,
            r#"a\"b\\c\n\u00e9\ud800 "#.repeat(300)
        )
    }

    fn line(fields: &str) -> String {
        format!(
            r#"{{"seq":3,"t":"2026-12-01T10:00:00.000001Z","dir":"c2s","framing":"lsp"{fields}}}"#
        )
    }

    #[test]
    fn a_long_line_reads_its_body_from_where_the_skim_found_it() {
        let body = long_body();
        for text in [
            line(&format!(r#","msg":{body}"#)),
            // The body first, other members after it, whitespace between tokens.
            format!(
                "{{ \"msg\" :\n{body} , \"seq\":3,\"t\":\"2026-12-01T10:00:00.000001Z\",\"dir\":\"c2s\",\"framing\":\"lsp\",\"x\":{{\"msg\":1}} }}"
            ),
        ] {
            let s = skim(text.as_bytes()).expect("skimmed");
            assert_eq!(&text[s.msg.clone().unwrap()], body);
            assert!(s.skeleton.len() < 200, "{}", String::from_utf8_lossy(&s.skeleton));
            let Ok(Event::Message(m)) = parse_line(text.as_bytes()) else {
                panic!("{text}")
            };
            assert_eq!(&m.body[..], body.as_bytes());
            assert_eq!(m.seq, 3);
        }
    }

    #[test]
    fn what_the_skim_does_not_take_is_read_as_before() {
        let body = long_body();
        // A key spelt with an escape is still `msg` to serde_json.
        let escaped = line(&format!(r#","m\u0073g":{body}"#));
        assert!(skim(escaped.as_bytes()).unwrap().msg.is_none());
        let Ok(Event::Message(m)) = parse_line(escaped.as_bytes()) else {
            panic!()
        };
        assert_eq!(&m.body[..], body.as_bytes());
        // Twice: serde_json's error.
        let twice = line(&format!(r#","msg":{body},"msg":1"#));
        assert!(skim(twice.as_bytes()).is_none());
        let err = parse_line(twice.as_bytes()).unwrap_err();
        assert!(err.contains("duplicate field"), "{err}");
        // Not JSON, or not an object: serde_json says so.
        let cut = &line(&format!(r#","msg":{body}"#))[..5000];
        assert!(skim(cut.as_bytes()).is_none());
        assert!(parse_line(cut.as_bytes())
            .unwrap_err()
            .contains("not a JSON object"));
        let array = format!("[{body}]");
        assert!(skim(array.as_bytes()).unwrap().msg.is_none());
        assert!(parse_line(array.as_bytes()).is_err());
        // A type error in a field is reported as for a short line.
        let bad = line(&format!(r#","msg":{body},"held":"x""#));
        assert!(parse_line(bad.as_bytes())
            .unwrap_err()
            .contains("invalid type"));
    }

    #[test]
    fn a_release_line_reads_its_body_too() {
        let body = long_body();
        let text = format!(
            r#"{{"type":"release","t":"2026-12-01T10:00:00.000001Z","dir":"s2c","hold":1,"action":"edit","body":{body}}}"#
        );
        let s = skim(text.as_bytes()).unwrap();
        assert_eq!(&text[s.body.unwrap()], body);
        let Ok(Event::Release(r)) = parse_line(text.as_bytes()) else {
            panic!()
        };
        assert_eq!(r.body.as_deref(), Some(body.as_bytes()));
    }
}
