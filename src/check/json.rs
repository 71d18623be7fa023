//! A borrowed JSON tree for the checker: a message body parsed once into a flat list of
//! nodes (a tape) that refers to the body's own text for strings, so checking a message
//! allocates nothing once the list has grown to the size of the largest message.
//!
//! Why not `serde_json::Value`: with the `preserve_order` feature every object is an
//! `IndexMap` (a hash table, `SipHash` of every key, an owned `String` per key and per
//! string value); building and freeing those trees was about 60 % of `rpctap check`'s
//! time. Here an object is its run of key and value nodes, looked up by a linear scan —
//! JSON-RPC objects have a handful of members. The text is walked by the recorder's JSON
//! scanner (`record::validate`, strings skipped 64 bytes at a time, `serde_json`'s grammar),
//! and a string with escapes is unescaped only when it is read (`as_str`): most long
//! strings, a document's text, are checked for being strings and never read. The MCP and
//! DAP JSON Schemas still need a `Value` (`Json::to_value`).
//!
//! Not responsible for: keeping any tree past the next `Doc::parse`.

use crate::record::validate::{self, Token, Tokens};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::sync::OnceLock;

/// One node of the tape. A container's members follow it (an object's as key, value
/// pairs), and `end` is the index just past its last descendant.
#[derive(Debug, Clone, Copy)]
enum Node {
    Null,
    Bool(bool),
    /// A non-negative integer (what `serde_json` reads as `u64`).
    U(u64),
    /// A negative integer.
    I(i64),
    F(f64),
    /// Text at `at..at + len` of the body; if it holds escapes, `esc` is its slot in
    /// `Doc::unescaped` (else `PLAIN`).
    Str {
        at: u32,
        len: u32,
        esc: u32,
    },
    Arr {
        len: u32,
        end: u32,
    },
    Obj {
        len: u32,
        end: u32,
    },
}

/// `Node::Str::esc` of a string without escapes.
const PLAIN: u32 = u32::MAX;

/// The reusable storage of parsed bodies.
#[derive(Debug, Default, Clone)]
pub(crate) struct Doc {
    nodes: Vec<Node>,
    /// One slot per string that holds escapes: its text, once read.
    unescaped: Vec<OnceLock<Box<str>>>,
    /// The containers being built: their node and how many nodes they hold directly.
    open: Vec<(u32, u32)>,
}

impl Doc {
    /// Parses `body` (replacing what was parsed before). Bad JSON is `serde_json`'s error,
    /// which says what is wrong and where.
    pub fn parse<'d>(&'d mut self, body: &'d str) -> Result<Json<'d>, serde_json::Error> {
        self.nodes.clear();
        self.unescaped.clear();
        self.open.clear();
        let mut build = Build { doc: self, body };
        if !validate::walk(body, &mut build) {
            let why = serde_json::from_str::<Value>(body).err();
            return Err(why.unwrap_or_else(|| {
                serde::de::Error::custom("a message of 4 GiB or more, or nested too deep")
            }));
        }
        Ok(Json {
            doc: self,
            src: body,
            i: 0,
        })
    }
}

/// A value in a parsed body: a cheap handle (copy it freely).
#[derive(Clone, Copy)]
pub(crate) struct Json<'d> {
    doc: &'d Doc,
    src: &'d str,
    i: u32,
}

impl std::fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl<'d> Json<'d> {
    /// A `null` of no body (what a missing value is checked as).
    pub fn null() -> Json<'static> {
        static NULL: std::sync::OnceLock<Doc> = std::sync::OnceLock::new();
        let doc = NULL.get_or_init(|| Doc {
            nodes: vec![Node::Null],
            ..Doc::default()
        });
        Json { doc, src: "", i: 0 }
    }

    fn node(&self) -> Node {
        self.doc.nodes[self.i as usize]
    }

    fn at(&self, i: u32) -> Json<'d> {
        Json { i, ..*self }
    }

    /// The index just past this node and its members.
    fn skip(&self, i: u32) -> u32 {
        match self.doc.nodes[i as usize] {
            Node::Arr { end, .. } | Node::Obj { end, .. } => end,
            _ => i + 1,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.node(), Node::Null)
    }

    pub fn is_boolean(&self) -> bool {
        matches!(self.node(), Node::Bool(_))
    }

    pub fn is_number(&self) -> bool {
        matches!(self.node(), Node::U(_) | Node::I(_) | Node::F(_))
    }

    /// A number without a fractional part or exponent (as `serde_json` reads integers).
    pub fn is_integer(&self) -> bool {
        matches!(self.node(), Node::U(_) | Node::I(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self.node(), Node::Str { .. })
    }

    pub fn is_array(&self) -> bool {
        matches!(self.node(), Node::Arr { .. })
    }

    pub fn is_object(&self) -> bool {
        matches!(self.node(), Node::Obj { .. })
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.node() {
            Node::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.node() {
            Node::U(n) => i64::try_from(n).ok(),
            Node::I(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self.node() {
            Node::U(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'d str> {
        let Node::Str { at, len, esc } = self.node() else {
            return None;
        };
        let raw = self.src.get(at as usize..at as usize + len as usize)?;
        if esc == PLAIN {
            return Some(raw);
        }
        let slot = self.doc.unescaped.get(esc as usize)?;
        Some(slot.get_or_init(|| unescape(raw)))
    }

    /// The member `key` of an object (the last one, if the key repeats, as `serde_json`
    /// keeps it); `None` for a missing member or a value that is not an object.
    pub fn get(&self, key: &str) -> Option<Json<'d>> {
        // The hot path of the metaModel's structures: lengths first, bytes only then.
        let Node::Obj { end, .. } = self.node() else {
            return None;
        };
        let (mut k, mut found) = (self.i + 1, None);
        while k < end {
            if let Node::Str { at, len, esc } = self.doc.nodes[k as usize] {
                let hit = if esc == PLAIN {
                    len as usize == key.len()
                        && self.src.as_bytes().get(at as usize..(at + len) as usize)
                            == Some(key.as_bytes())
                } else {
                    // An escaped key is longer than its text: compare the text.
                    self.at(k).as_str() == Some(key)
                };
                if hit {
                    found = Some(k + 1);
                }
            }
            k = self.skip(k + 1);
        }
        found.map(|i| self.at(i))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// An object's members in order (nothing for other values).
    pub fn entries(&self) -> impl Iterator<Item = (&'d str, Json<'d>)> + 'd {
        let this = *self;
        self.children(true).map(move |k| {
            let key = this.at(k).as_str().unwrap_or_default();
            (key, this.at(k + 1))
        })
    }

    /// An array's elements in order (nothing for other values).
    pub fn items(&self) -> impl Iterator<Item = Json<'d>> + 'd {
        let this = *self;
        self.children(false).map(move |k| this.at(k))
    }

    /// Where each element of an array starts, or each key of an object (`object`).
    fn children(&self, object: bool) -> impl Iterator<Item = u32> + 'd {
        let this = *self;
        let (mut k, end) = match (self.node(), object) {
            (Node::Arr { end, .. }, false) | (Node::Obj { end, .. }, true) => (self.i + 1, end),
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            let at = (k < end).then_some(k)?;
            // An object's member is a key node, then the value's subtree.
            k = this.skip(if object { k + 1 } else { k });
            Some(at)
        })
    }

    /// The number of elements or members (0 for other values).
    pub fn len(&self) -> usize {
        match self.node() {
            Node::Arr { len, .. } | Node::Obj { len, .. } => len as usize,
            _ => 0,
        }
    }

    /// An owned copy, for what needs a `Value` (the JSON Schema validator, state kept
    /// past this message).
    pub fn to_value(self) -> Value {
        match self.node() {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::U(n) => n.into(),
            Node::I(n) => n.into(),
            Node::F(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            Node::Str { .. } => Value::String(self.as_str().unwrap_or_default().to_owned()),
            Node::Arr { .. } => Value::Array(self.items().map(Json::to_value).collect()),
            Node::Obj { .. } => Value::Object(
                self.entries()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// Is this the same JSON value as `v` (numbers by value, objects whatever the order)?
    pub fn equals(&self, v: &Value) -> bool {
        match (self.node(), v) {
            (Node::Null, Value::Null) => true,
            (Node::Bool(a), Value::Bool(b)) => a == *b,
            // As serde_json compares numbers: 1 is not 1.0.
            (Node::U(a), Value::Number(b)) => b.as_u64() == Some(a),
            (Node::I(a), Value::Number(b)) => b.as_i64() == Some(a),
            (Node::F(a), Value::Number(b)) => b.is_f64() && b.as_f64() == Some(a),
            (Node::Str { .. }, Value::String(s)) => self.as_str() == Some(s.as_str()),
            (Node::Arr { .. }, Value::Array(a)) => {
                self.len() == a.len() && self.items().zip(a).all(|(x, y)| x.equals(y))
            }
            (Node::Obj { .. }, Value::Object(o)) => {
                self.len() == o.len()
                    && self
                        .entries()
                        .all(|(k, x)| o.get(k).is_some_and(|y| x.equals(y)))
            }
            _ => false,
        }
    }
}

/// Compact JSON, as `Value`'s `Display` writes it.
impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.node() {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(b),
            Node::U(n) => s.serialize_u64(n),
            Node::I(n) => s.serialize_i64(n),
            Node::F(x) => s.serialize_f64(x),
            Node::Str { .. } => s.serialize_str(self.as_str().unwrap_or_default()),
            Node::Arr { .. } => {
                let mut seq = s.serialize_seq(Some(self.len()))?;
                for x in self.items() {
                    seq.serialize_element(&x)?;
                }
                seq.end()
            }
            Node::Obj { .. } => {
                let mut map = s.serialize_map(Some(self.len()))?;
                for (k, v) in self.entries() {
                    map.serialize_entry(k, &v)?;
                }
                map.end()
            }
        }
    }
}

/// Puts the scanner's tokens on the tape.
struct Build<'a> {
    doc: &'a mut Doc,
    body: &'a str,
}

impl Build<'_> {
    /// Counts a node as a direct member of the container being built.
    fn member(&mut self) {
        if let Some(top) = self.doc.open.last_mut() {
            top.1 += 1;
        }
    }

    fn push(&mut self, node: Node) -> bool {
        self.member();
        self.doc.nodes.push(node);
        true
    }

    /// Fills in a container's length and end once its members are on the tape.
    fn close(&mut self) -> bool {
        let (Some((at, count)), Ok(end)) =
            (self.doc.open.pop(), u32::try_from(self.doc.nodes.len()))
        else {
            return false;
        };
        let node = &mut self.doc.nodes[at as usize];
        *node = match node {
            Node::Arr { .. } => Node::Arr { len: count, end },
            _ => Node::Obj {
                len: count / 2,
                end,
            },
        };
        true
    }

    fn string(&mut self, at: usize, end: usize, escapes: bool) -> bool {
        let (Ok(at), Ok(len)) = (u32::try_from(at), u32::try_from(end - at)) else {
            return false;
        };
        let esc = if escapes {
            self.doc.unescaped.push(OnceLock::new());
            u32::try_from(self.doc.unescaped.len() - 1).unwrap_or(PLAIN)
        } else {
            PLAIN
        };
        self.push(Node::Str { at, len, esc })
    }
}

impl Tokens for Build<'_> {
    const LINE_BREAKS: bool = true;
    const PAIRED_SURROGATES: bool = true;
    /// `serde_json`'s recursion limit.
    const MAX_DEPTH: usize = 127;

    #[inline]
    fn token(&mut self, token: Token, at: usize, end: usize) -> bool {
        match token {
            Token::Null => self.push(Node::Null),
            Token::Bool(b) => self.push(Node::Bool(b)),
            Token::Number => match number(&self.body[at..end]) {
                Some(n) => self.push(n),
                None => false,
            },
            // The contents, between the quotes.
            Token::Str { escapes } => self.string(at + 1, end - 1, escapes),
            Token::Open { object } => {
                let Ok(at) = u32::try_from(self.doc.nodes.len()) else {
                    return false;
                };
                let (len, end) = (0, 0);
                self.push(if object {
                    Node::Obj { len, end }
                } else {
                    Node::Arr { len, end }
                });
                self.doc.open.push((at, 0));
                true
            }
            Token::Close => self.close(),
        }
    }
}

/// A number's node, as `serde_json` reads the number: integers that fit 64 bits as such
/// (but `-0` as a float), everything else as a finite float.
fn number(text: &str) -> Option<Node> {
    if !text.bytes().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        if text.starts_with('-') {
            if let Ok(n) = text.parse::<i64>() {
                if n != 0 {
                    return Some(Node::I(n));
                }
            }
        } else if let Ok(n) = text.parse::<u64>() {
            return Some(Node::U(n));
        }
    }
    let x = text.parse::<f64>().ok()?;
    x.is_finite().then_some(Node::F(x))
}

/// The text of a string's contents that the scanner found valid and holding escapes.
fn unescape(raw: &str) -> Box<str> {
    let hex = |at: usize| {
        raw.get(at..at + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut out = String::with_capacity(raw.len());
    let mut rest = 0;
    while let Some(k) = raw[rest..].find('\\') {
        let i = rest + k;
        out.push_str(&raw[rest..i]);
        let (c, used) = match raw.as_bytes().get(i + 1) {
            Some(b'n') => (Some('\n'), 2),
            Some(b't') => (Some('\t'), 2),
            Some(b'r') => (Some('\r'), 2),
            Some(b'b') => (Some('\u{8}'), 2),
            Some(b'f') => (Some('\u{c}'), 2),
            Some(b'u') => match hex(i + 2) {
                Some(high @ 0xd800..=0xdbff) => {
                    let low = hex(i + 8).unwrap_or(0).wrapping_sub(0xdc00);
                    (char::from_u32(0x10000 + ((high - 0xd800) << 10) + low), 12)
                }
                code => (code.and_then(char::from_u32), 6),
            },
            Some(&c) => (Some(char::from(c)), 2),
            None => (None, 1),
        };
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        rest = (i + used).min(raw.len());
    }
    out.push_str(&raw[rest..]);
    out.into_boxed_str()
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
