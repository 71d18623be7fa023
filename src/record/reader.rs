//! Reads recordings line by line, with the policy of `record::lines`: a truncated last line
//! (the shim was killed mid-write) is kept if it reads and skipped otherwise; any other bad
//! line is an error naming its line number.

use super::lines::{Line as Parsed, Lines};
use super::{
    Dir, Event, Exit, Gap, Mark, MessageEvent, Micros, NoiseEvent, Release, ReleaseAction,
    SessionInfo, StderrEvent, Undelivered,
};
use crate::wire::Framing;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {reason}")]
    BadLine { line: usize, reason: String },
    #[error("not an rpctap recording (line 1 is not a session header)")]
    NotARecording,
    #[error("the file is empty")]
    Empty,
    #[error(
        "unknown format (expected an rpctap recording, a VS Code LSP trace, lsp-devtools or mcpsnoop logs)"
    )]
    UnknownFormat,
    /// A failure an importer describes in full.
    #[error("{0}")]
    Other(String),
}

#[derive(Deserialize)]
struct Line<'a> {
    rpctap: Option<u32>,
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    seq: Option<u64>,
    #[serde(borrow)]
    t: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dir: Option<Cow<'a, str>>,
    #[serde(borrow)]
    framing: Option<Cow<'a, str>>,
    #[serde(borrow)]
    msg: Option<&'a RawValue>,
    #[serde(borrow)]
    raw: Option<Cow<'a, str>>,
    #[serde(borrow)]
    raw_b64: Option<Cow<'a, str>>,
    #[serde(borrow)]
    headers: Option<Cow<'a, str>>,
    #[serde(borrow)]
    headers_b64: Option<Cow<'a, str>>,
    #[serde(default)]
    redacted: bool,
    #[serde(default, deserialize_with = "some_value")]
    #[allow(clippy::option_option)] // absent, `null` (length unknown) and a length differ
    oversized: Option<Option<u64>>,
    #[serde(borrow)]
    noise: Option<Cow<'a, str>>,
    #[serde(borrow)]
    noise_b64: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text_b64: Option<Cow<'a, str>>,
    code: Option<i32>,
    signal: Option<i32>,
    bytes: Option<u64>,
    from: Option<u64>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    origin: Option<Cow<'a, str>>,
    held: Option<u64>,
    #[serde(default)]
    diverted: bool,
    hold: Option<u64>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
    #[serde(borrow)]
    body_raw: Option<Cow<'a, str>>,
    #[serde(borrow)]
    body_raw_b64: Option<Cow<'a, str>>,
}

/// Distinguishes `"oversized": null` (present, length unknown) from absent.
#[allow(clippy::option_option)]
fn some_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

fn text(plain: Option<Cow<str>>, b64: Option<Cow<str>>) -> Result<Option<Bytes>, String> {
    if let Some(s) = plain {
        return Ok(Some(Bytes::copy_from_slice(s.as_bytes())));
    }
    match b64 {
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(|v| Some(Bytes::from(v)))
            .map_err(|e| format!("bad base64: {e}")),
        None => Ok(None),
    }
}

fn raw_bytes(raw: Option<&RawValue>) -> Option<&[u8]> {
    raw.map(|r| r.get().as_bytes())
}

/// A body embedded in a line, as its text.
type Body<'a> = Option<&'a [u8]>;

/// A line's fields and its bodies (`msg`, a release's `body`): read from the skeleton when
/// the skim found the bodies and the skeleton reads, else from the line as it is.
fn fields<'a>(
    line: &'a [u8],
    skimmed: Option<&'a super::skim::Skimmed>,
) -> Result<(Line<'a>, Body<'a>, Body<'a>), String> {
    if let Some(s) = skimmed {
        if let Ok(l) = serde_json::from_slice::<Line>(&s.skeleton) {
            // (A body under a key spelt with escapes was read by serde_json.)
            let span =
                |r: &Option<std::ops::Range<usize>>, read| r.clone().map(|r| &line[r]).or(read);
            let (msg, body) = (
                span(&s.msg, raw_bytes(l.msg)),
                span(&s.body, raw_bytes(l.body)),
            );
            return Ok((l, msg, body));
        }
    }
    let l: Line = serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let (msg, body) = (raw_bytes(l.msg), raw_bytes(l.body));
    Ok((l, msg, body))
}

/// Parses one line (without its newline).
pub fn parse_line(line: &[u8]) -> Result<Event, String> {
    let skimmed = super::skim::skim(line);
    let (l, msg, body) = fields(line, skimmed.as_ref())?;
    let time = |t: &Option<Cow<str>>| -> Result<Micros, String> {
        let t = t.as_deref().ok_or("missing \"t\"")?;
        Micros::parse(t).ok_or_else(|| format!("bad time {t:?}"))
    };
    match l.ty.as_deref() {
        Some("session") => {
            if l.rpctap != Some(1) {
                return Err(format!("unsupported format version {:?}", l.rpctap));
            }
            let info: SessionInfo = serde_json::from_slice(line).map_err(|e| e.to_string())?;
            return Ok(Event::Session(info));
        }
        Some("exit") => {
            return Ok(Event::Exit(Exit {
                t: time(&l.t)?,
                code: l.code,
                signal: l.signal,
            }))
        }
        Some("gap") => {
            return Ok(Event::Gap(Gap {
                t: time(&l.t)?,
                dir: l.dir.as_deref().and_then(Dir::parse),
                bytes: l.bytes.unwrap_or(0),
                reason: l.reason.map(Cow::into_owned).unwrap_or_default(),
            }))
        }
        Some("undelivered") => {
            let dir = l.dir.as_deref().and_then(Dir::parse).ok_or("bad \"dir\"")?;
            return Ok(Event::Undelivered(Undelivered {
                t: time(&l.t)?,
                dir,
                from: l.from.ok_or("missing \"from\"")?,
            }));
        }
        Some("release") => {
            let dir = l.dir.as_deref().and_then(Dir::parse).ok_or("bad \"dir\"")?;
            let action = l.action.as_deref().and_then(ReleaseAction::parse);
            let body = match body {
                Some(raw) => Some(Bytes::copy_from_slice(raw)),
                None => text(l.body_raw, l.body_raw_b64)?,
            };
            return Ok(Event::Release(Release {
                t: time(&l.t)?,
                dir,
                hold: l.hold.ok_or("missing \"hold\"")?,
                action: action.ok_or("missing or bad \"action\"")?,
                body,
            }));
        }
        Some(other) => return Err(format!("unknown line type {other:?}")),
        None => {}
    }
    let seq = l.seq.ok_or("missing \"seq\"")?;
    let t = time(&l.t)?;
    let dir_text = l.dir.as_deref().ok_or("missing \"dir\"")?;
    if dir_text == "stderr" {
        let text = text(l.text, l.text_b64)?.ok_or("stderr line without \"text\"")?;
        return Ok(Event::Stderr(StderrEvent { seq, t, text }));
    }
    let dir = Dir::parse(dir_text).ok_or_else(|| format!("bad dir {dir_text:?}"))?;
    if let Some(text) = text(l.noise, l.noise_b64)? {
        return Ok(Event::Noise(NoiseEvent { seq, t, dir, text }));
    }
    let framing = l
        .framing
        .as_deref()
        .and_then(Framing::parse)
        .ok_or("missing or bad \"framing\"")?;
    let body = match (msg, text(l.raw, l.raw_b64)?) {
        (Some(raw), _) => Bytes::copy_from_slice(raw),
        (None, Some(b)) => b,
        (None, None) if l.oversized.is_some() => Bytes::new(),
        (None, None) => return Err("message line without \"msg\", \"raw\" or \"oversized\"".into()),
    };
    Ok(Event::Message(MessageEvent {
        seq,
        t,
        dir,
        framing,
        body,
        headers: text(l.headers, l.headers_b64)?,
        redacted: l.redacted,
        oversized: l.oversized,
        mark: Mark {
            injected: l.origin.as_deref() == Some("rpctap"),
            held: l.held,
            diverted: l.diverted,
        },
    }))
}

/// An iterator over the events of a recording, with the line policy of `record::lines`;
/// it stops at the first bad line (a converter must not silently drop one).
pub struct Reader<R> {
    inner: R,
    lines: Lines,
    buf: Vec<u8>,
    /// The last line was cut short and skipped.
    pub truncated: bool,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    /// The 1-based number of the line the last event came from.
    pub fn line(&self) -> usize {
        self.lines.line_no()
    }

    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            lines: Lines::new(),
            buf: Vec::with_capacity(4096),
            truncated: false,
            done: false,
        }
    }

    fn next_event(&mut self) -> Result<Option<Event>, ReadError> {
        loop {
            self.buf.clear();
            let n = self.inner.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                if self.lines.line_no() == 0 {
                    return Err(ReadError::Empty);
                }
                return Ok(None);
            }
            let line = if self.buf.last() == Some(&b'\n') {
                self.lines.complete(&self.buf[..n - 1])
            } else {
                let last = self.lines.cut_off(&self.buf);
                self.truncated = last.is_none() && !self.buf.trim_ascii().is_empty();
                last
            };
            return match line {
                None => continue,
                Some(Parsed::Event(ev)) => Ok(Some(ev)),
                Some(Parsed::NotARecording) => Err(ReadError::NotARecording),
                Some(Parsed::Bad { line, reason }) => Err(ReadError::BadLine { line, reason }),
            };
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Event, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_event().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

/// Opens a recording for reading.
pub fn read_file(path: &Path) -> Result<Reader<std::io::BufReader<std::fs::File>>, ReadError> {
    let file = super::open_regular(path)?;
    Ok(Reader::new(std::io::BufReader::with_capacity(
        1 << 16,
        file,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a line's reading gives: its bodies and `seq`, or the error.
    type Read = Result<(Option<Vec<u8>>, Option<Vec<u8>>, Option<u64>), String>;

    /// `parse_line` as it reads a line without the skim.
    fn plain(line: &[u8]) -> Read {
        let (l, msg, body) = fields(line, None)?;
        Ok((msg.map(<[u8]>::to_vec), body.map(<[u8]>::to_vec), l.seq))
    }

    fn skimmed(line: &[u8]) -> Read {
        let s = super::super::skim::skim(line);
        let (l, msg, body) = fields(line, s.as_ref())?;
        Ok((msg.map(<[u8]>::to_vec), body.map(<[u8]>::to_vec), l.seq))
    }

    fn member() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just(r#""msg""#),
            Just(r#""body""#),
            Just(r#""m\u0073g""#),
            Just(r#""seq""#),
            Just(r#""x""#),
        ];
        let value = prop_oneof![
            Just("1".to_owned()),
            Just(r#""s""#.to_owned()),
            Just("null".to_owned()),
            Just(r#"{"msg":[1,{"body":2}],"k":"\"}"}"#.to_owned()),
            (0usize..3000)
                .prop_map(|n| format!(r#"{{"t":"{}\n\u00e9\ud800"}}"#, "a\\\"".repeat(n))),
        ];
        (key, value).prop_map(|(k, v)| format!("{k}:{v}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Whatever the members, their order, repeats and nesting: the skim reads a long
        /// line as serde_json alone does, or leaves it to it.
        #[test]
        fn the_skim_reads_a_line_as_serde_json_does(
            members in proptest::collection::vec(member(), 0..5),
            pad in 4096usize..6000,
            top_array in proptest::bool::weighted(0.1),
        ) {
            let mut items = members;
            items.push(format!(r#""pad":"{}""#, "p".repeat(pad)));
            let line = if top_array {
                format!("[{}]", items.join(","))
            } else {
                format!("{{{}}}", items.join(","))
            };
            prop_assert_eq!(skimmed(line.as_bytes()), plain(line.as_bytes()), "{}", &line[..200.min(line.len())]);
        }
    }
}
