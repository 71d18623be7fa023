//! The TUI's one step from text to predicate, used by the `/` filter line and by `n`/`N`
//! search. Everything else in the TUI only sees `compile` and `QueryError`, so the filter
//! language (`crate::filter`) replaces the body of this file and nothing else.
//!
//! Until then a query is a list of words, each of which must occur, case-insensitively,
//! in the row's method name or in its body (for noise and stderr rows, their text).
//! `"two words"` is one phrase; `\"` inside quotes is a quote. An unterminated quote is an
//! error at its column.

use crate::session::Store;

/// Whether row `i` of a store matches.
pub type Predicate = Box<dyn Fn(&Store, usize) -> bool + Send + Sync>;

/// Why an expression does not compile, and where (0-based character column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

/// Compiles a query. The empty query matches everything.
pub fn compile(text: &str) -> Result<Predicate, QueryError> {
    let words = split(text)?;
    let needles: Vec<Needle> = words.into_iter().map(Needle::new).collect();
    Ok(Box::new(move |store: &Store, i: usize| {
        needles
            .iter()
            .all(|n| store.method(i).is_some_and(|m| n.find(m.as_bytes())) || n.find(store.body(i)))
    }))
}

fn split(text: &str) -> Result<Vec<String>, QueryError> {
    let mut words = Vec::new();
    let mut chars = text.chars().enumerate().peekable();
    while let Some(&(col, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' if chars.peek().is_some_and(|&(_, n)| n == '"' || n == '\\') => {
                        word.extend(chars.next().map(|(_, n)| n));
                    }
                    c => word.push(c),
                }
            }
            if !closed {
                return Err(QueryError {
                    column: col,
                    message: "unterminated quote".into(),
                });
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    Ok(words)
}

/// A case-insensitive substring search. ASCII needles (the common case) compare bytes
/// without allocating; others lower-case the haystack.
struct Needle {
    lower: Vec<u8>,
    ascii: bool,
}

impl Needle {
    fn new(word: String) -> Needle {
        let ascii = word.is_ascii();
        Needle {
            lower: word.to_lowercase().into_bytes(),
            ascii,
        }
    }

    fn find(&self, hay: &[u8]) -> bool {
        let n = &self.lower;
        if n.is_empty() {
            return true;
        }
        if !self.ascii {
            let hay = String::from_utf8_lossy(hay).to_lowercase();
            return memchr::memmem::find(hay.as_bytes(), n).is_some();
        }
        let (lo, up) = (n[0], n[0].to_ascii_uppercase());
        let last = match hay.len().checked_sub(n.len()) {
            Some(l) => l,
            None => return false,
        };
        memchr::memchr2_iter(lo, up, &hay[..=last])
            .any(|at| hay[at..at + n.len()].eq_ignore_ascii_case(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Dir, Event, MessageEvent, Micros};
    use crate::wire::Framing;

    fn store(bodies: &[&str]) -> Store {
        let mut s = Store::new();
        for (i, b) in bodies.iter().enumerate() {
            s.push(Event::Message(MessageEvent {
                seq: i as u64 + 1,
                t: Micros(i as i64),
                // Alternate directions so that responses pair with requests.
                dir: if i % 2 == 0 { Dir::C2s } else { Dir::S2c },
                framing: Framing::Lsp,
                body: bytes::Bytes::copy_from_slice(b.as_bytes()),
                headers: None,
                redacted: false,
                oversized: None,
            }));
        }
        s
    }

    #[test]
    fn words_must_all_occur_in_method_or_body_ignoring_case() {
        let s = store(&[
            r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"uri":"A.py"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":"Straße"}"#,
        ]);
        let m = |q: &str| -> Vec<usize> {
            let p = compile(q).unwrap();
            (0..s.len()).filter(|&i| p(&s, i)).collect()
        };
        assert_eq!(
            m("HOVER"),
            [0, 1],
            "the response carries its request's method"
        );
        assert_eq!(m("hover a.py"), [0]);
        assert_eq!(m("hover missing"), Vec::<usize>::new());
        assert_eq!(m("STRASSE"), Vec::<usize>::new());
        assert_eq!(m("STRAßE"), [1]);
        assert_eq!(m(r#""2.0\",\"id""#), [0, 1]);
        assert_eq!(m(""), [0, 1]);
    }

    #[test]
    fn unterminated_quote_is_an_error_at_its_column() {
        let e = compile(r#"hover "abc"#).err().unwrap();
        assert_eq!(e.column, 6);
        assert!(e.message.contains("quote"));
    }
}
