//! Redaction (`--redact KEY`): what the recording and the live feed hold instead of the
//! values of secret JSON object keys. The wire is never touched; only recorded copies are.
//!
//! A key matches on its decoded text, so `"tok\u0065n"` is the key `token`. A body that is
//! valid JSON keeps its own bytes (key order, number spelling, whitespace) except for each
//! redacted value, which becomes `"«redacted»"`. A body that cannot be parsed (not JSON,
//! not UTF-8, a fragment after a gap) cannot be searched for keys, so it is replaced by a
//! placeholder stating its length — and so is noise — unless the user opted out with
//! `--redact-keep-unparsed`. Stderr lines are not redacted (see docs/security.md).
//!
//! The scan is one pass without recursion: memory is linear in the body, whatever its
//! nesting. Not responsible for: deciding what is recorded (see `proxy::recorder`).

use bytes::Bytes;
use serde::de::IgnoredAny;

/// The JSON value that stands for a redacted one.
pub const REDACTED_VALUE: &str = "\"«redacted»\"";
/// How every placeholder for a whole body or noise starts.
pub const PLACEHOLDER_PREFIX: &str = "«redacted: ";

/// The keys to redact and what to do with bodies that cannot be searched for them.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    keys: Vec<String>,
    /// Record unparsable bodies and noise as they are (`--redact-keep-unparsed`).
    keep_unparsed: bool,
}

impl Redactor {
    pub fn new(keys: Vec<String>, keep_unparsed: bool) -> Redactor {
        Redactor {
            keys,
            keep_unparsed,
        }
    }

    /// Whether any key is redacted at all.
    pub fn is_active(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The body to record for a message body, and whether it differs from the wire's.
    pub fn message(&self, body: Bytes) -> (Bytes, bool) {
        if !self.is_active() || body.is_empty() {
            return (body, false);
        }
        if !is_json(&body) {
            if self.keep_unparsed {
                return (body, false);
            }
            let text = format!("{PLACEHOLDER_PREFIX}{} bytes, not valid JSON»", body.len());
            return (Bytes::from(text), true);
        }
        match redact_valid(&self.keys, &body) {
            Some(out) => (Bytes::from(out), true),
            None => (body, false),
        }
    }

    /// The text to record for bytes outside any frame.
    pub fn noise(&self, text: Bytes) -> Bytes {
        if !self.is_active() || self.keep_unparsed || text.is_empty() {
            return text;
        }
        Bytes::from(format!(
            "{PLACEHOLDER_PREFIX}{} bytes outside any frame»",
            text.len()
        ))
    }
}

/// One JSON value, in UTF-8 (`serde_json` alone lets bad UTF-8 inside strings pass when it
/// only skips over a value).
pub fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|s| serde_json::from_str::<IgnoredAny>(s).is_ok())
}

/// Whether recorded noise text is a redaction placeholder (its bytes differ from the wire).
pub fn is_placeholder(text: &[u8]) -> bool {
    text.starts_with(PLACEHOLDER_PREFIX.as_bytes())
}

/// The body with the value of every matching key replaced, or `None` when no key matched.
/// `b` must be one valid JSON value.
fn redact_valid(keys: &[String], b: &[u8]) -> Option<Vec<u8>> {
    let cheap = memchr::memchr(b'\\', b).is_none();
    if cheap
        && !keys
            .iter()
            .any(|k| memchr::memmem::find(b, k.as_bytes()).is_some())
    {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    // Whether each open container is an object; a string read where a key may stand is one.
    let mut objects: Vec<bool> = Vec::new();
    let mut key_next = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                objects.push(true);
                key_next = true;
            }
            b'[' => {
                objects.push(false);
                key_next = false;
            }
            b'}' | b']' => {
                objects.pop();
                key_next = false;
            }
            b',' => key_next = objects.last() == Some(&true),
            b'"' => {
                let end = string_end(b, i);
                let matched = key_next && key_matches(keys, &b[i..end]);
                key_next = false;
                if !matched {
                    i = end;
                    continue;
                }
                let colon = skip_ws(b, end);
                let start = skip_ws(b, colon + 1);
                let stop = value_end(b, start);
                let o = out.get_or_insert_with(|| Vec::with_capacity(b.len()));
                o.extend_from_slice(&b[copied..start]);
                o.extend_from_slice(REDACTED_VALUE.as_bytes());
                copied = stop;
                i = stop;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let mut o = out?;
    o.extend_from_slice(&b[copied.min(b.len())..]);
    Some(o)
}

/// Whether a string token (quotes included) decodes to one of `keys`.
fn key_matches(keys: &[String], token: &[u8]) -> bool {
    let inner = &token[1.min(token.len())..token.len().saturating_sub(1).max(1)];
    if memchr::memchr(b'\\', inner).is_none() {
        return keys.iter().any(|k| k.as_bytes() == inner);
    }
    // A key with a lone surrogate escape does not decode, and equals no key a user can type.
    serde_json::from_slice::<String>(token).is_ok_and(|k| keys.contains(&k))
}

/// The index just past the string token starting at `i` (an opening quote).
fn string_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() && b[j] != b'"' {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    (j + 1).min(b.len())
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index just past the JSON value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        None => i,
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            j
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(keys: &[&str], body: &str) -> (String, bool) {
        let r = Redactor::new(
            keys.iter().map(std::string::ToString::to_string).collect(),
            false,
        );
        let (out, changed) = r.message(Bytes::copy_from_slice(body.as_bytes()));
        (String::from_utf8(out.to_vec()).unwrap(), changed)
    }

    #[test]
    fn replaces_values_anywhere_and_keeps_the_rest_as_sent() {
        let (out, changed) = redact(
            &["token"],
            r#"{"a" : {"token": "s3cret","b":[{"token":{"x":[1,"}"]}}]},"c":2.50}"#,
        );
        assert!(changed);
        assert_eq!(
            out,
            r#"{"a" : {"token": "«redacted»","b":[{"token":"«redacted»"}]},"c":2.50}"#
        );
        assert_eq!(
            redact(&["token"], r#"{"a" : 1}"#),
            (r#"{"a" : 1}"#.into(), false)
        );
    }

    #[test]
    fn matches_the_decoded_key_not_its_spelling() {
        let (out, changed) = redact(&["token"], r#"{"tok\u0065n":"s3cret","n":"token"}"#);
        assert!(changed);
        assert_eq!(out, r#"{"tok\u0065n":"«redacted»","n":"token"}"#);
        // A value that reads like a key is not a key.
        let (out, changed) = redact(&["token"], r#"["token",{"k":"token"}]"#);
        assert!(!changed, "{out}");
    }

    #[test]
    fn unparsable_bodies_become_a_placeholder_unless_kept() {
        let (out, changed) = redact(&["token"], r#"{"token":"s3cret""#);
        assert!(changed);
        assert_eq!(out, "«redacted: 17 bytes, not valid JSON»");
        let keep = Redactor::new(vec!["token".into()], true);
        let body = Bytes::from_static(b"\xff{\"token\":1}");
        assert_eq!(keep.message(body.clone()), (body, false));
        let r = Redactor::new(vec!["token".into()], false);
        assert!(is_placeholder(&r.noise(Bytes::from_static(b"token=abc\n"))));
        let off = Redactor::default();
        assert_eq!(&off.noise(Bytes::from_static(b"x"))[..], b"x");
    }

    #[test]
    fn bad_utf8_inside_a_string_is_not_json() {
        let (out, changed) = redact(&["token"], "{\"a\":\"x\"}");
        assert!(!changed, "{out}");
        let r = Redactor::new(vec!["token".into()], false);
        let (out, changed) = r.message(Bytes::from_static(b"{\"a\":\"\x9e\",\"token\":1}"));
        assert!(changed && is_placeholder(&out));
    }

    #[test]
    fn deep_nesting_is_linear() {
        let depth = 200_000;
        let body = format!("{}{{\"token\":1}}{}", "[".repeat(depth), "]".repeat(depth));
        let (out, changed) = redact(&["token"], &body);
        assert!(changed);
        assert_eq!(out.len(), body.len() - 1 + REDACTED_VALUE.len());
    }
}
