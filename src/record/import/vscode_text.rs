//! VS Code LSP traces in text format (`"<lang>.trace.server": "verbose"`), as
//! vscode-languageclient writes them to its output channel:
//!
//! ```text
//! [Trace - 10:00:00 AM] Sending request 'initialize - (0)'.
//! Params: {
//!     "processId": 1
//! }
//!
//!
//! [Trace - 10:00:00 AM] Received response 'initialize - (0)' in 12ms.
//! Result: {...}
//! [Trace - 10:00:01 AM] Received response 'textDocument/hover - (3)' in 5ms. Request failed: boom (-32603).
//! ```
//!
//! The log is the client's: "Sending" is client to server. Only a time of day is logged,
//! so the date is the file's modification date, in local time; a response's time is its
//! request's plus the logged latency, which is finer than the log's whole seconds.
//! Other entries (`[Info  - …]`, server `$/logTrace` text) are skipped.

use super::{bad, id_value, lines, Builder, Context, Parts};
use crate::record::{Dir, Event, Micros, ReadError};
use crate::wire::Framing;
use chrono::{Local, NaiveTime, TimeZone};
use serde_json::Value;
use std::collections::HashMap;

const KINDS: &[&str] = &["Trace", "Info", "Warn", "Error", "Debug", "LSP"];

/// For a line that starts a VS Code output-channel entry (`[Trace - 10:00:00 AM] …`), the
/// text after the bracket.
pub(super) fn entry_prefix(line: &[u8]) -> Option<&[u8]> {
    // The prefix is ASCII and short: look at the valid UTF-8 start of the line only.
    let head = &line[..line.len().min(64)];
    let s = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let (_, _, rest_at) = split_entry(s)?;
    Some(&line[rest_at..])
}

/// `[Kind - time] rest` → (kind, time, byte offset of rest).
fn split_entry(line: &str) -> Option<(&str, &str, usize)> {
    let inner = line.strip_prefix('[')?;
    let (kind, after) = inner.split_once(" - ")?;
    if !KINDS.contains(&kind.trim_end()) {
        return None;
    }
    let close = after.find(']')?;
    let time = &after[..close];
    let rest_at = line.len() - after.len() + close + 1;
    let rest_at = rest_at + usize::from(line[rest_at..].starts_with(' '));
    Some((kind.trim_end(), time, rest_at))
}

/// `10:00:00 AM`, `4:05:06.123 pm`, `16:11:00` → time of day.
fn time_of_day(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    let (clock, meridiem) = match text.rsplit_once(' ') {
        Some((c, m)) => (c, Some(m.to_ascii_lowercase().replace('.', ""))),
        None => (text, None),
    };
    let mut t = NaiveTime::parse_from_str(clock, "%H:%M:%S%.f").ok()?;
    match meridiem.as_deref() {
        Some("am") if t.format("%H").to_string() == "12" => t -= chrono::Duration::hours(12),
        Some("pm") if t.format("%H").to_string() != "12" => t += chrono::Duration::hours(12),
        None | Some("am" | "pm") => {}
        Some(_) => return None,
    }
    Some(t)
}

/// Turns times of day into instants on the file's date, stepping into the next day
/// when the clock goes backwards (a session across midnight).
struct Clock {
    day: chrono::NaiveDate,
    last: Option<chrono::NaiveDateTime>,
}

impl Clock {
    fn new(modified: Micros) -> Clock {
        Clock {
            day: modified.datetime().with_timezone(&Local).date_naive(),
            last: None,
        }
    }

    fn at(&mut self, t: NaiveTime) -> Micros {
        let mut dt = self.day.and_time(t);
        if let Some(last) = self.last {
            if dt < last {
                self.day = self.day.succ_opt().unwrap_or(self.day);
                dt = self.day.and_time(t);
            }
        }
        self.last = Some(dt);
        let utc = Local
            .from_local_datetime(&dt)
            .earliest()
            .map_or(0, |d| d.timestamp_micros());
        Micros(utc)
    }
}

/// One trace entry: its header line number, time, message and the text after it.
struct Entry<'a> {
    line: usize,
    t: Micros,
    message: &'a str,
    data: String,
    data_line: usize,
}

fn entries<'a>(text: &'a [u8], context: &Context) -> Result<Vec<Entry<'a>>, ReadError> {
    let mut clock = Clock::new(context.modified);
    let mut out: Vec<Entry> = Vec::new();
    let mut skipping = true;
    for (n, raw, _) in lines(text) {
        let line = std::str::from_utf8(raw).map_err(|_| bad(n, "not UTF-8 text"))?;
        match split_entry(line) {
            Some((kind, time, at)) => {
                skipping = kind != "Trace";
                if skipping {
                    continue;
                }
                let tod = time_of_day(time).ok_or_else(|| bad(n, format!("bad time {time:?}")))?;
                out.push(Entry {
                    line: n,
                    t: clock.at(tod),
                    message: &line[at..],
                    data: String::new(),
                    data_line: n + 1,
                });
            }
            None if skipping => {}
            None => {
                let e = out.last_mut().expect("not skipping after an entry");
                e.data.push_str(line);
                e.data.push('\n');
            }
        }
    }
    Ok(out)
}

/// `'method - (id)'` → (method, id); `'method'` → (method, None).
fn quoted(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let s = s.strip_prefix('\'')?;
    let end = s.rfind('\'')?;
    let (inner, rest) = (&s[..end], &s[end + 1..]);
    match inner.rsplit_once(" - (") {
        Some((m, id)) if id.ends_with(')') => Some((m, Some(&id[..id.len() - 1]), rest)),
        _ => Some((inner, None, rest)),
    }
}

/// ` Request failed: message (code).` at the end of a response line.
fn failure(rest: &str) -> Option<(String, i64)> {
    let at = rest.find(" Request failed: ")?;
    let f = rest[at + " Request failed: ".len()..].trim_end();
    let f = f.strip_suffix(").")?;
    let (msg, code) = f.rsplit_once(" (")?;
    Some((msg.to_owned(), code.parse().ok()?))
}

/// `N` in `... in Nms.` or `... took Nms`.
fn millis(rest: &str, marker: &str) -> Option<i64> {
    let at = rest.find(marker)? + marker.len();
    let digits: String = rest[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// What followed an entry: `Params: {…}`, `Result: …`, `Error data: …`, or nothing.
enum Data {
    None,
    Params(Value),
    Result(Value),
    Error(Value),
}

fn data(e: &Entry) -> Result<Data, ReadError> {
    let text = e.data.trim();
    let json = |s: &str| {
        serde_json::from_str::<Value>(s).map_err(|err| {
            bad(
                e.data_line + err.line().saturating_sub(1),
                format!(
                    "bad JSON in the entry of line {}: {}",
                    e.line,
                    super::json_reason(&err)
                ),
            )
        })
    };
    Ok(
        if text.is_empty() || text == "No parameters provided." || text == "No result returned." {
            Data::None
        } else if let Some(s) = text.strip_prefix("Params:") {
            Data::Params(json(s)?)
        } else if let Some(s) = text.strip_prefix("Result:") {
            Data::Result(json(s)?)
        } else if let Some(s) = text.strip_prefix("Error data:") {
            Data::Error(json(s)?)
        } else {
            return Err(bad(
                e.data_line,
                format!("unexpected text after the entry of line {}", e.line),
            ));
        },
    )
}

pub(super) fn import(text: &[u8], context: &Context) -> Result<Vec<Event>, ReadError> {
    let mut b = Builder::new();
    b.protocol = Some("lsp");
    // Open requests by (direction, id text): their method and time.
    let mut open: HashMap<(Dir, String), (String, Micros)> = HashMap::new();
    for e in entries(text, context)? {
        let malformed = || bad(e.line, format!("cannot read trace entry {:?}", e.message));
        let Some((verb, rest)) = e.message.split_once(' ') else {
            continue;
        };
        let kind = match (verb, rest.split_once(' ')) {
            ("Sending" | "Received", Some((k, after))) => (k, after),
            _ => continue, // a server's $/logTrace text or other free text
        };
        let dir = if verb == "Sending" {
            Dir::C2s
        } else {
            Dir::S2c
        };
        let mut parts = Parts::default();
        let mut t = e.t;
        match kind {
            ("request", after) => {
                let (method, id, _) = quoted(after).ok_or_else(malformed)?;
                let id = id.ok_or_else(malformed)?;
                open.insert((dir, id.to_owned()), (method.to_owned(), t));
                parts.id = Some(id_value(id));
                parts.method = Some(method.to_owned());
                if let Data::Params(p) = data(&e)? {
                    parts.params = Some(p);
                }
            }
            ("notification", after) => {
                let (method, _, _) = quoted(after).ok_or_else(malformed)?;
                parts.method = Some(method.to_owned());
                if let Data::Params(p) = data(&e)? {
                    parts.params = Some(p);
                }
            }
            ("response", after) => {
                let (id, rest) = match quoted(after) {
                    Some((_, Some(id), rest)) => (id.to_owned(), rest),
                    // `Received response 5 without active response promise.`
                    _ => match after.split_once(" without active") {
                        Some((id, tail)) => (id.to_owned(), tail),
                        None => return Err(malformed()),
                    },
                };
                let marker = if dir == Dir::S2c { " in " } else { " took " };
                if let (Some(ms), Some((_, sent))) = (
                    millis(rest, marker),
                    open.remove(&(dir.other(), id.clone())),
                ) {
                    t = Micros(sent.0 + ms * 1000);
                }
                parts.id = Some(id_value(&id));
                let fail = failure(rest);
                match (data(&e)?, fail) {
                    (Data::Error(d), f) => {
                        let (message, code) = f.unwrap_or_else(|| (String::new(), 0));
                        parts.error =
                            Some(serde_json::json!({"code": code, "message": message, "data": d}));
                    }
                    (_, Some((message, code))) => {
                        parts.error = Some(serde_json::json!({"code": code, "message": message}));
                    }
                    (Data::Result(r), None) => parts.result = Some(Some(r)),
                    (_, None) => parts.result = Some(None),
                }
            }
            _ => return Err(malformed()),
        }
        b.line = e.line;
        b.message(t, dir, Framing::Lsp, parts.body());
    }
    Ok(b.finish(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_in_both_clocks() {
        let t = |s| time_of_day(s).map(|t| t.format("%H:%M:%S%.3f").to_string());
        assert_eq!(t("10:00:00 AM").as_deref(), Some("10:00:00.000"));
        assert_eq!(t("12:30:01 AM").as_deref(), Some("00:30:01.000"));
        assert_eq!(t("12:30:01 PM").as_deref(), Some("12:30:01.000"));
        assert_eq!(t("4:05:06.250 p.m.").as_deref(), Some("16:05:06.250"));
        assert_eq!(t("16:11:00").as_deref(), Some("16:11:00.000"));
        assert_eq!(t("noon"), None);
    }

    #[test]
    fn entry_headers() {
        assert_eq!(
            split_entry("[Trace - 10:00:00 AM] Sending x"),
            Some(("Trace", "10:00:00 AM", 22))
        );
        assert_eq!(
            split_entry("[LSP   - 16:11:00] {}").map(|e| e.0),
            Some("LSP")
        );
        assert_eq!(split_entry("[Other - 1:00:00] x"), None);
        assert_eq!(quoted("'a/b - (7)'. x"), Some(("a/b", Some("7"), ". x")));
        assert_eq!(quoted("'initialized'."), Some(("initialized", None, ".")));
        assert_eq!(
            failure("' in 5ms. Request failed: no (such) thing (-32601)."),
            Some(("no (such) thing".into(), -32601))
        );
    }
}
