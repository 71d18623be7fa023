//! JSON paths over message bodies (`.params.textDocument.uri`, `.result.items[0]`) and the
//! tests applied to the value found (`==`, `~`, `has(…)`, …).
//!
//! A path is resolved in one pass over the raw body without building a `serde_json::Value`:
//! a chain of `DeserializeSeed`s descends into the one key or index each step names, skips
//! everything else with `IgnoredAny`, and hands back the found value's raw text borrowed from
//! the body. That keeps a path filter over a million bodies allocation-free in the common case.
//!
//! Before any parsing, a [`PathPred`] rules out most bodies by a byte search: a test that
//! needs the value to exist needs its last key to occur as `"key"` in the body, and a `~`
//! with a substring needs that substring, unless the body has a backslash (an escape could
//! spell either differently), in which case it is parsed.
//!
//! Semantics follow jq where they can: a missing key, an index out of range, or a step into a
//! scalar all yield "missing", which compares like `null` (`.x == null` and `.x != 1` hold
//! when `.x` is missing). Numbers compare by value (`1 == 1.0`).

use super::text::Text;
use super::token::Seg;
use memchr::memmem::Finder;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Number;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
}

/// What is asked of the value at a path.
#[derive(Debug, Clone)]
pub enum Test {
    /// `has(.p)`: present, even if `null`.
    Has,
    /// `.p` alone: present and neither `null` nor `false`.
    Truthy,
    Eq(Lit),
    Ne(Lit),
    /// `<`, `<=`, `>`, `>=` against a number or a string.
    Order(fn(Ordering) -> bool, Lit),
    /// `~`: a string's content, or any other value's JSON text, matches.
    Match(Text),
    NotMatch(Text),
}

/// A JSON path and the test on its value, with the byte searches that rule bodies out.
#[derive(Debug, Clone)]
pub struct PathPred {
    segs: Vec<Seg>,
    test: Test,
    /// `"key"` for the path's last key, when the test fails on a missing value.
    key: Option<Box<Finder<'static>>>,
}

impl PathPred {
    pub fn new(segs: Vec<Seg>, test: Test) -> PathPred {
        let needs_value = match &test {
            Test::Eq(lit) => *lit != Lit::Null,
            Test::Ne(lit) => *lit == Lit::Null,
            Test::NotMatch(_) => false,
            Test::Has | Test::Truthy | Test::Order(..) | Test::Match(_) => true,
        };
        let last_key = segs.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k),
            Seg::Index(_) => None,
        });
        // A key JSON must escape cannot be searched for as written.
        let key = last_key
            .filter(|k| {
                needs_value && !k.contains(|c: char| c == '"' || c == '\\' || c.is_control())
            })
            .map(|k| Box::new(Finder::new(format!("\"{k}\"").as_bytes()).into_owned()));
        PathPred { segs, test, key }
    }

    pub fn matches(&self, body: &[u8]) -> bool {
        let ruled_out = |absent: bool| absent && memchr::memchr(b'\\', body).is_none();
        if let Some(key) = &self.key {
            if ruled_out(key.find(body).is_none()) {
                return false;
            }
        }
        if let Test::Match(t) = &self.test {
            if t.is_literal() && ruled_out(!t.is_match(body)) {
                return false;
            }
        }
        test(body, &self.segs, &self.test)
    }
}

/// The outcome of resolving a path in a body.
#[derive(Debug)]
pub enum Lookup<'b> {
    Found(&'b RawValue),
    Missing,
    /// The body is not JSON at all.
    NotJson,
}

/// Resolves `segs` in `body`.
pub fn lookup<'b>(body: &'b [u8], segs: &[Seg]) -> Lookup<'b> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = At(segs)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match found {
        Ok(Some(v)) => Lookup::Found(v),
        Ok(None) => Lookup::Missing,
        Err(_) => Lookup::NotJson,
    }
}

/// Applies `test` to the value at `segs` in `body`. Bodies that are not JSON never match.
pub fn test(body: &[u8], segs: &[Seg], test: &Test) -> bool {
    match lookup(body, segs) {
        Lookup::NotJson => false,
        Lookup::Missing => match test {
            Test::Eq(lit) => *lit == Lit::Null,
            Test::Ne(lit) => *lit != Lit::Null,
            Test::NotMatch(_) => true,
            Test::Has | Test::Truthy | Test::Order(..) | Test::Match(_) => false,
        },
        Lookup::Found(raw) => {
            let raw = raw.get();
            match test {
                Test::Has => true,
                Test::Truthy => raw != "null" && raw != "false",
                Test::Eq(lit) => equals(raw, lit),
                Test::Ne(lit) => !equals(raw, lit),
                Test::Order(accept, lit) => order(raw, lit).is_some_and(accept),
                Test::Match(t) => t.is_match(text_of(raw).as_bytes()),
                Test::NotMatch(t) => !t.is_match(text_of(raw).as_bytes()),
            }
        }
    }
}

/// A string's content (escapes resolved), or any other value's JSON text.
fn text_of(raw: &str) -> Cow<'_, str> {
    if !raw.starts_with('"') {
        return Cow::Borrowed(raw);
    }
    if !raw.contains('\\') {
        return Cow::Borrowed(&raw[1..raw.len() - 1]);
    }
    serde_json::from_str::<String>(raw).map_or(Cow::Borrowed(raw), Cow::Owned)
}

fn number(raw: &str) -> Option<Number> {
    if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        serde_json::from_str(raw).ok()
    } else {
        None
    }
}

pub fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn equals(raw: &str, lit: &Lit) -> bool {
    match lit {
        Lit::Null => raw == "null",
        Lit::Bool(true) => raw == "true",
        Lit::Bool(false) => raw == "false",
        Lit::Num(n) => number(raw).and_then(|v| compare_numbers(&v, n)) == Some(Ordering::Equal),
        Lit::Str(s) => raw.starts_with('"') && text_of(raw) == s.as_str(),
    }
}

fn order(raw: &str, lit: &Lit) -> Option<Ordering> {
    match lit {
        Lit::Num(n) => compare_numbers(&number(raw)?, n),
        Lit::Str(s) if raw.starts_with('"') => Some(text_of(raw).as_ref().cmp(s.as_str())),
        _ => None,
    }
}

/// Descends along the remaining steps; the value is `None` when a step finds nothing.
struct At<'p>(&'p [Seg]);

impl<'de> DeserializeSeed<'de> for At<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.0.split_first() {
            None => <&'de RawValue as serde::Deserialize>::deserialize(d).map(Some),
            Some((seg, rest)) => d.deserialize_any(Step { seg, rest }),
        }
    }
}

struct Step<'p> {
    seg: &'p Seg,
    rest: &'p [Seg],
}

/// Compares a map key with the wanted one without allocating when it has no escapes.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

impl<'de> Visitor<'de> for Step<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let want = match self.seg {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        };
        loop {
            let hit = match want {
                Some(k) => map.next_key_seed(KeyIs(k))?,
                None => map.next_key::<IgnoredAny>()?.map(|_| false),
            };
            match hit {
                None => return Ok(found),
                // A repeated key: the last one wins, as in jq and serde_json.
                Some(true) => found = map.next_value_seed(At(self.rest))?,
                Some(false) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let n = match self.seg {
            Seg::Index(n) => *n,
            Seg::Key(_) => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(None);
            }
        };
        if n < 0 {
            // Counting from the end needs the length: keep every element's raw text.
            let mut all: Vec<&'de RawValue> = Vec::new();
            while let Some(v) = seq.next_element()? {
                all.push(v);
            }
            let Some(i) = all
                .len()
                .checked_sub(usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX))
            else {
                return Ok(None);
            };
            let mut de = serde_json::Deserializer::from_str(all[i].get());
            return At(self.rest)
                .deserialize(&mut de)
                .map_err(de::Error::custom);
        }
        let mut found = None;
        let mut i = 0i64;
        loop {
            if i == n {
                match seq.next_element_seed(At(self.rest))? {
                    Some(v) => found = v,
                    None => return Ok(None),
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(found);
            }
            i += 1;
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &str) -> Vec<Seg> {
        match super::super::lexer::Lexer::new(s).tokens().unwrap()[0]
            .tok
            .clone()
        {
            super::super::token::Tok::Path(p) => p,
            other => panic!("{other:?}"),
        }
    }

    fn found(body: &str, path: &str) -> Option<String> {
        match lookup(body.as_bytes(), &segs(path)) {
            Lookup::Found(v) => Some(v.get().to_owned()),
            Lookup::Missing => None,
            Lookup::NotJson => Some("<not json>".into()),
        }
    }

    #[test]
    fn descends_keys_and_indices() {
        let b = r#"{"a":{"b":[10,{"c":"x"},[1,2]]},"a\u0062":3,"z":null}"#;
        assert_eq!(found(b, ".a.b[1].c").as_deref(), Some("\"x\""));
        assert_eq!(found(b, ".a.b[-1][0]").as_deref(), Some("1"));
        assert_eq!(found(b, ".a.b[-4]"), None);
        assert_eq!(found(b, ".a.b[3]"), None);
        assert_eq!(found(b, ".ab").as_deref(), Some("3"));
        assert_eq!(found(b, ".z").as_deref(), Some("null"));
        assert_eq!(found(b, ".a.b.c"), None);
        assert_eq!(found(b, ".a.b[0].x"), None);
        assert_eq!(found("{\"a\":1", ".a").as_deref(), Some("<not json>"));
        assert_eq!(found("[1] x", ".[0]").as_deref(), Some("<not json>"));
    }

    #[test]
    fn comparisons() {
        let b = br#"{"code":-32601,"n":1.0,"s":"a\"b","t":true,"big":18446744073709551615}"#;
        let t = |p: &str, test: Test| super::test(b, &segs(p), &test);
        let num = |s: &str| Lit::Num(serde_json::from_str(s).unwrap());
        assert!(t(".code", Test::Eq(num("-32601"))));
        assert!(t(".n", Test::Eq(num("1"))));
        assert!(t(".s", Test::Eq(Lit::Str("a\"b".into()))));
        assert!(t(".t", Test::Eq(Lit::Bool(true))));
        assert!(t(".missing", Test::Eq(Lit::Null)));
        assert!(t(".missing", Test::Ne(num("1"))));
        assert!(!t(".missing", Test::Ne(Lit::Null)));
        assert!(t(".big", Test::Order(Ordering::is_gt, num("1"))));
        assert!(t(".code", Test::Order(Ordering::is_lt, num("-32000"))));
        assert!(!t(".s", Test::Order(Ordering::is_lt, num("1"))));
        assert!(t(".s", Test::Match(Text::substring("\"b"))));
        assert!(t(".t", Test::Truthy) && !t(".missing", Test::Truthy));
        assert!(!super::test(
            b"stderr text",
            &segs(".x"),
            &Test::Eq(Lit::Null)
        ));
    }

    #[test]
    fn byte_prefilters_never_hide_a_match() {
        let num = |s: &str| Lit::Num(serde_json::from_str(s).unwrap());
        let p = |path: &str, t: Test| PathPred::new(segs(path), t);
        let code = p(".error.code", Test::Eq(num("-32601")));
        assert!(code.matches(br#"{"error":{"code":-32601}}"#));
        // Escaped key: the plain search fails, the backslash sends it to the parser.
        assert!(code.matches(br#"{"error":{"\u0063ode":-32601}}"#));
        assert!(!code.matches(br#"{"error":{"cod":-32601}}"#));
        let uri = p(".uri", Test::Match(Text::substring("main.rs")));
        assert!(uri.matches(br#"{"uri":"file:///main.rs"}"#));
        assert!(uri.matches(br#"{"uri":"file:\/\/\/main.rs"}"#));
        assert!(uri.matches(br#"{"uri":"file:///m\u0061in.rs"}"#));
        assert!(!uri.matches(br#"{"uri":"file:///lib.rs","x":"main.rs"}"#));
        // Tests that hold on a missing value are never ruled out by the key search.
        assert!(p(".code", Test::Eq(Lit::Null)).matches(b"{}"));
        assert!(p(".code", Test::Ne(num("1"))).matches(b"{}"));
        assert!(p(".code", Test::NotMatch(Text::substring("x"))).matches(b"{}"));
    }
}
