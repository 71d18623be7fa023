//! A borrowed JSON tree for the checker: a message body parsed once into a flat list of
//! nodes (a tape) that refers to the body's own text for strings, so checking a message
//! allocates nothing once the list has grown to the size of the largest message.
//!
//! Why not `serde_json::Value`: with the `preserve_order` feature every object is an
//! `IndexMap` (a hash table, `SipHash` of every key, an owned `String` per key and per
//! string value); building and freeing those trees was about 60 % of `rpctap check`'s
//! time. Here an object is its run of key and value nodes, looked up by a linear scan —
//! JSON-RPC objects have a handful of members. Strings with escapes are unescaped into one
//! side buffer. The MCP and DAP JSON Schemas still need a `Value` (`Json::to_value`).
//!
//! Not responsible for: JSON syntax (`serde_json`'s parser reads the text, with its
//! recursion limit), or keeping any tree past the next `Doc::parse`.

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

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
    /// Text at `at..at + len` of the body, or of `Doc::unescaped` when `owned`.
    Str {
        at: u32,
        len: u32,
        owned: bool,
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

/// The reusable storage of parsed bodies.
#[derive(Debug, Default, Clone)]
pub(crate) struct Doc {
    nodes: Vec<Node>,
    /// Strings that held escapes, unescaped, one after the other.
    unescaped: String,
}

impl Doc {
    /// Parses `body` (replacing what was parsed before); the root is `Json::root`.
    pub fn parse<'d>(&'d mut self, body: &'d str) -> Result<Json<'d>, serde_json::Error> {
        self.nodes.clear();
        self.unescaped.clear();
        let mut de = serde_json::Deserializer::from_str(body);
        Build {
            doc: self,
            base: body.as_ptr() as usize,
        }
        .deserialize(&mut de)?;
        de.end()?;
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
            unescaped: String::new(),
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
        match self.node() {
            Node::Str { at, len, owned } => {
                let (at, len) = (at as usize, len as usize);
                let text = if owned { &self.doc.unescaped } else { self.src };
                text.get(at..at + len)
            }
            _ => None,
        }
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
            if let Node::Str { at, len, owned } = self.doc.nodes[k as usize] {
                if len as usize == key.len() && self.bytes(at, len, owned) == key.as_bytes() {
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

    fn bytes(&self, at: u32, len: u32, owned: bool) -> &'d [u8] {
        let text = if owned {
            self.doc.unescaped.as_bytes()
        } else {
            self.src.as_bytes()
        };
        let at = at as usize;
        text.get(at..at + len as usize).unwrap_or_default()
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

/// Appends one value (and its members) to the tape.
struct Build<'a> {
    doc: &'a mut Doc,
    /// The address of the body's first byte: borrowed strings are placed by it.
    base: usize,
}

impl Build<'_> {
    fn push(&mut self, node: Node) {
        self.doc.nodes.push(node);
    }

    fn reborrow(&mut self) -> Build<'_> {
        Build {
            doc: self.doc,
            base: self.base,
        }
    }

    /// Fills in a container's length and end once its members are on the tape.
    fn close(&mut self, at: usize, count: u32) {
        let end = u32::try_from(self.doc.nodes.len()).unwrap_or(u32::MAX);
        self.doc.nodes[at] = match self.doc.nodes[at] {
            Node::Arr { .. } => Node::Arr { len: count, end },
            _ => Node::Obj { len: count, end },
        };
    }
}

impl Build<'_> {
    /// A string at `at` of the body (or of the unescaped text when `owned`).
    fn string<E: serde::de::Error>(&mut self, at: usize, len: usize, owned: bool) -> Result<(), E> {
        let (Ok(at), Ok(len)) = (u32::try_from(at), u32::try_from(len)) else {
            return Err(too_large());
        };
        self.push(Node::Str { at, len, owned });
        Ok(())
    }
}

/// What does not fit the tape's 32-bit offsets (a body of 4 GiB or more).
fn too_large<E: serde::de::Error>() -> E {
    E::custom("a message of 4 GiB or more")
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(mut self) -> Result<(), E> {
        self.push(Node::Null);
        Ok(())
    }

    fn visit_bool<E>(mut self, b: bool) -> Result<(), E> {
        self.push(Node::Bool(b));
        Ok(())
    }

    fn visit_u64<E>(mut self, n: u64) -> Result<(), E> {
        self.push(Node::U(n));
        Ok(())
    }

    fn visit_i64<E>(mut self, n: i64) -> Result<(), E> {
        self.push(if n >= 0 {
            Node::U(n.unsigned_abs())
        } else {
            Node::I(n)
        });
        Ok(())
    }

    fn visit_f64<E>(mut self, x: f64) -> Result<(), E> {
        self.push(Node::F(x));
        Ok(())
    }

    fn visit_borrowed_str<E: serde::de::Error>(mut self, s: &'de str) -> Result<(), E> {
        let at = (s.as_ptr() as usize).wrapping_sub(self.base);
        self.string(at, s.len(), false)
    }

    fn visit_str<E: serde::de::Error>(mut self, s: &str) -> Result<(), E> {
        let at = self.doc.unescaped.len();
        self.doc.unescaped.push_str(s);
        self.string(at, s.len(), true)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let at = self.doc.nodes.len();
        self.push(Node::Arr { len: 0, end: 0 });
        let mut count = 0u32;
        while seq.next_element_seed(self.reborrow())?.is_some() {
            count += 1;
        }
        self.close(at, count);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let at = self.doc.nodes.len();
        self.push(Node::Obj { len: 0, end: 0 });
        let mut count = 0u32;
        while map.next_key_seed(self.reborrow())?.is_some() {
            map.next_value_seed(self.reborrow())?;
            count += 1;
        }
        self.close(at, count);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Value, Doc) {
        let v: Value = serde_json::from_str(text).unwrap();
        let mut doc = Doc::default();
        doc.parse(text).unwrap();
        (v, doc)
    }

    #[test]
    fn a_parsed_body_reads_as_serde_json_reads_it() {
        let text = r#"{"a":[1,-2,3.5,"x\ny",{"b":null,"c":true}],"d":"é","a2":{},"e":[]}"#;
        let (v, mut doc) = both(text);
        let j = doc.parse(text).unwrap();
        assert_eq!(j.to_value(), v);
        assert!(j.equals(&v));
        assert_eq!(j.to_string(), v.to_string());
        let a = j.get("a").unwrap();
        assert_eq!(a.len(), 5);
        let items: Vec<String> = a.items().map(|x| x.to_string()).collect();
        assert_eq!(
            items,
            ["1", "-2", "3.5", "\"x\\ny\"", r#"{"b":null,"c":true}"#]
        );
        assert_eq!(a.items().nth(3).unwrap().as_str(), Some("x\ny"));
        assert_eq!(a.items().nth(1).unwrap().as_i64(), Some(-2));
        assert_eq!(a.items().nth(1).unwrap().as_u64(), None);
        assert!(a.items().nth(4).unwrap().get("b").unwrap().is_null());
        assert_eq!(j.get("d").unwrap().as_str(), Some("é"));
        assert!(j.get("zz").is_none());
        assert!(j.get("a2").unwrap().is_object() && j.get("e").unwrap().is_array());
        let keys: Vec<&str> = j.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "d", "a2", "e"]);
    }

    #[test]
    fn a_repeated_key_reads_as_its_last_value() {
        let text = r#"{"k":1,"k":2}"#;
        let (v, mut doc) = both(text);
        let j = doc.parse(text).unwrap();
        assert_eq!(j.get("k").unwrap().as_i64(), v["k"].as_i64());
    }

    #[test]
    fn bad_json_is_an_error_and_the_doc_is_reusable() {
        let mut doc = Doc::default();
        assert!(doc.parse(r#"{"a":1"#).is_err());
        assert!(doc.parse(r#"{"a":1} x"#).is_err());
        assert!(doc.parse(&"[".repeat(200)).is_err(), "nesting is bounded");
        let j = doc.parse(r"[true]").unwrap();
        assert_eq!(j.items().next().unwrap().as_bool(), Some(true));
    }
}
