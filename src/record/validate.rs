//! A fast check that a body is exactly one JSON value on one line, so that the recorder
//! can embed it verbatim (`"msg":<body>`). It runs on every recorded message, so it only
//! validates — no values are built — and it skips over string contents with `memchr`.
//!
//! Accepted: what serde_json accepts as a whole document, without surrounding whitespace,
//! without line breaks between tokens (they would split the recording's line), and nested
//! at most `MAX_DEPTH` deep (serde_json refuses deeper documents when the line is read).

const MAX_DEPTH: usize = 120;

/// Is `b` one JSON value, with no leading or trailing whitespace and no line break?
pub fn is_one_line_json(b: &[u8]) -> bool {
    if std::str::from_utf8(b).is_err() {
        return false;
    }
    let mut p = Parser { b, i: 0, depth: 0 };
    match b.first() {
        Some(b' ' | b'\t') | None => return false,
        _ => {}
    }
    p.value() && p.i == b.len()
}

/// Can `c` not stand for itself inside a JSON string?
fn is_special(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

/// Where the first byte that `is_special` is, in one pass: 32-byte blocks are tested with
/// a branch-free fold the compiler turns into vector compares, and only the block that has
/// one is searched byte by byte. (Was memchr2 for the quote and backslash, then a second
/// pass for control bytes: the top entry of the recorder's profile on large bodies.)
fn special(b: &[u8]) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = b.chunks_exact(BLOCK);
    let mut at = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |m, &c| m | is_special(c)) {
            return block.iter().position(|&c| is_special(c)).map(|i| at + i);
        }
        at += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&c| is_special(c))
        .map(|i| at + i)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Spaces and tabs only: a line break would end the recording's line.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> bool {
        match self.peek() {
            Some(b'{') => self.container(b'}', true),
            Some(b'[') => self.container(b']', false),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    fn container(&mut self, close: u8, object: bool) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return false;
        }
        self.i += 1;
        self.ws();
        if !self.eat(close) {
            loop {
                if object {
                    if self.peek() != Some(b'"') || !self.string() {
                        return false;
                    }
                    self.ws();
                    if !self.eat(b':') {
                        return false;
                    }
                    self.ws();
                }
                if !self.value() {
                    return false;
                }
                self.ws();
                if self.eat(close) {
                    break;
                }
                if !self.eat(b',') {
                    return false;
                }
                self.ws();
            }
        }
        self.depth -= 1;
        true
    }

    fn string(&mut self) -> bool {
        self.i += 1;
        loop {
            let rest = &self.b[self.i..];
            // The first byte that ends the run of plain string bytes: a quote, a backslash,
            // or a raw control character (line breaks among them), which is not allowed.
            let Some(at) = special(rest) else {
                return false;
            };
            if rest[at] < 0x20 {
                return false;
            }
            self.i += at + 1;
            if rest[at] == b'"' {
                return true;
            }
            match self.peek() {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                Some(b'u') => {
                    let hex = self.b.get(self.i + 1..self.i + 5);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return false;
                    }
                    self.i += 5;
                }
                _ => return false,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> bool {
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.eat(b'.') && self.digits() == 0 {
            return false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the recorder needs: serde_json reads it as one value with nothing around it,
    /// and it holds no line break.
    fn reference(b: &[u8]) -> bool {
        let Ok(raw) = serde_json::from_slice::<&serde_json::value::RawValue>(b) else {
            return false;
        };
        raw.get().len() == b.len() && !b.contains(&b'\n') && !b.contains(&b'\r')
    }

    #[test]
    fn table() {
        for (text, ok) in [
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"x":[1,-2.5e3,true,false,null,"é\u00e9\n"]}}"#,
                true,
            ),
            ("[]", true),
            ("{}", true),
            ("[ 1 , { \"a\" : [ ] } ]", true),
            ("\"str\"", true),
            ("0", true),
            ("-0.0e-0", true),
            (" {}", false),
            ("{} ", false),
            ("{}\n", false),
            ("{\n}", false),
            ("{\"a\":1,}", false),
            ("[1,]", false),
            ("01", false),
            ("1.", false),
            ("1e", false),
            ("\"a\tb\"", false),
            ("\"\\x\"", false),
            ("\"\\u12g4\"", false),
            ("{\"a\" 1}", false),
            ("{1:2}", false),
            ("tru", false),
            ("nul", false),
            ("{}{}", false),
            ("", false),
        ] {
            assert_eq!(is_one_line_json(text.as_bytes()), ok, "{text:?}");
            assert_eq!(
                reference(text.as_bytes()),
                ok,
                "reference disagrees on {text:?}"
            );
        }
        assert!(!is_one_line_json(b"\"\xff\""));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(!is_one_line_json(deep.as_bytes()));
    }

    #[test]
    fn the_first_special_byte_is_found_anywhere() {
        let mut v = vec![b'a'; 100];
        assert_eq!(special(&v), None);
        for i in 0..100 {
            for c in [0u8, 0x0a, 0x1f, b'"', b'\\'] {
                v[i] = c;
                assert_eq!(special(&v), Some(i), "{c:#x} at {i}");
                v[i + 1..].iter_mut().for_each(|x| *x = b'"');
                assert_eq!(special(&v), Some(i), "a later one hides nothing");
                v.iter_mut().for_each(|x| *x = b'a');
            }
        }
        let high: Vec<u8> = (0x20..=0xff).filter(|&c| c != b'"' && c != b'\\').collect();
        assert_eq!(special(&high), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_serde_json(text in r#"[\[\]{}":,0-9a-z\\. \t\n-]{0,24}"#) {
            prop_assert_eq!(is_one_line_json(text.as_bytes()), reference(text.as_bytes()), "{:?}", text);
        }

        #[test]
        fn agrees_on_real_json(v in arb_json()) {
            let text = serde_json::to_string(&v).unwrap();
            prop_assert!(is_one_line_json(text.as_bytes()));
        }
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(".*", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
