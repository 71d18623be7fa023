//! Splits a filter expression into tokens, each with the column where it starts.
//!
//! The lexer is context-sensitive in two places, because the language is meant to be typed
//! without quoting: after a field prefix such as `method:` the value runs to the next space,
//! parenthesis, `&` or `|` (so `method:textDocument/*` needs no quotes), and after `jq:` the
//! rest is a jq program (see [`Lexer::jq_source`]). Everything else is decided by the first
//! character of a token. Not responsible for: what tokens mean (see `parser`).

use super::token::{err, Field, Op, Seg, Tok, Token};
use super::FilterError;

pub struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

/// Characters that end a bare word: spaces, grouping, boolean and comparison operators.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || "()&|!\"~<>=".contains(c)
}

/// Characters that end a field value: only spaces, grouping and boolean operators, so that
/// globs and ids may contain anything else.
fn ends_value(c: char) -> bool {
    c.is_whitespace() || "()&|".contains(c)
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Lexer {
    pub fn new(text: &str) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    /// All tokens, ending with `Eof`.
    pub fn tokens(mut self) -> Result<Vec<Token>, FilterError> {
        let mut out = Vec::new();
        loop {
            let t = self.next_token()?;
            let done = t.tok == Tok::Eof;
            let field = match t.tok {
                Tok::Field(f) => Some(f),
                _ => None,
            };
            out.push(t);
            match field {
                Some(Field::Jq) => out.push(self.jq_source()?),
                Some(_) => {
                    if let Some(v) = self.value()? {
                        out.push(v);
                    }
                }
                None => {}
            }
            if done {
                return Ok(out);
            }
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn token(&self, tok: Tok, start: usize) -> Token {
        Token {
            tok,
            col: start + 1,
            end: self.pos + 1,
        }
    }

    fn next_token(&mut self) -> Result<Token, FilterError> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek(0) else {
            return Ok(self.token(Tok::Eof, start));
        };
        let two = |s: &Self, next: char| s.peek(1) == Some(next);
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '&' => (Tok::And, if two(self, '&') { 2 } else { 1 }),
            '|' => (Tok::Or, if two(self, '|') { 2 } else { 1 }),
            '!' if two(self, '=') => (Tok::Op(Op::Ne), 2),
            '!' if two(self, '~') => (Tok::Op(Op::NotMatch), 2),
            '!' => (Tok::Not, 1),
            '=' => (Tok::Op(Op::Eq), if two(self, '=') { 2 } else { 1 }),
            '<' if two(self, '=') => (Tok::Op(Op::Le), 2),
            '<' => (Tok::Op(Op::Lt), 1),
            '>' if two(self, '=') => (Tok::Op(Op::Ge), 2),
            '>' => (Tok::Op(Op::Gt), 1),
            '~' => (Tok::Op(Op::Match), 1),
            '"' => return self.string().map(|s| self.token(Tok::Str(s), start)),
            '/' => return self.regex(),
            '.' => return self.path(),
            _ => return self.word(),
        };
        self.pos += len;
        Ok(self.token(tok, start))
    }

    /// A word, or a field prefix when the word is an identifier followed by `:`.
    fn word(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        if self.peek(0).is_some_and(ident_start) {
            let mut end = start;
            while self.chars.get(end).copied().is_some_and(ident_char) {
                end += 1;
            }
            if self.chars.get(end) == Some(&':') {
                let name: String = self.chars[start..end].iter().collect();
                let Some(field) = Field::parse(&name) else {
                    return Err(err(
                        start + 1,
                        format!(
                            "unknown field '{name}:' (expected {}; put text that contains ':' in quotes)",
                            Field::NAMES
                        ),
                    ));
                };
                self.pos = end + 1;
                return Ok(self.token(Tok::Field(field), start));
            }
        }
        while self.peek(0).is_some_and(|c| !ends_word(c)) {
            self.pos += 1;
        }
        let w: String = self.chars[start..self.pos].iter().collect();
        Ok(self.token(Tok::Word(w), start))
    }

    /// The value right after a field prefix: a quoted string or a run up to a space,
    /// parenthesis, `&` or `|`. `None` when nothing follows the colon.
    fn value(&mut self) -> Result<Option<Token>, FilterError> {
        let start = self.pos;
        match self.peek(0) {
            Some('"') => {
                let s = self.string()?;
                Ok(Some(self.token(Tok::Str(s), start)))
            }
            Some(c) if !ends_value(c) => {
                while self.peek(0).is_some_and(|c| !ends_value(c)) {
                    self.pos += 1;
                }
                let w: String = self.chars[start..self.pos].iter().collect();
                Ok(Some(self.token(Tok::Word(w), start)))
            }
            _ => Ok(None),
        }
    }

    /// The jq program after `jq:`: a quoted string, a parenthesised group (parentheses
    /// inside jq strings do not count), or else the rest of the expression up to a `)` that
    /// it did not open.
    fn jq_source(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        match self.peek(0) {
            Some('"') => {
                let s = self.string()?;
                // The program's text starts after the opening quote; escapes may shift
                // columns inside it, which only matters for jq's own error positions.
                Ok(Token {
                    tok: Tok::Jq(s),
                    col: start + 2,
                    end: self.pos + 1,
                })
            }
            Some('(') => {
                let mut depth = 0usize;
                let mut in_str = false;
                while let Some(c) = self.peek(0) {
                    self.pos += 1;
                    match c {
                        '\\' if in_str => self.pos += 1,
                        '"' => in_str = !in_str,
                        '(' if !in_str => depth += 1,
                        ')' if !in_str => {
                            depth -= 1;
                            if depth == 0 {
                                let s: String = self.chars[start..self.pos].iter().collect();
                                return Ok(self.token(Tok::Jq(s), start));
                            }
                        }
                        _ => {}
                    }
                }
                Err(err(
                    start + 1,
                    "unclosed '(' after 'jq:': expected a matching ')'",
                ))
            }
            // The rest of the expression, except that a ')' closing a group opened before
            // `jq:` ends the program: `(jq:.a == 1) & x` reads as it looks.
            _ => {
                let (mut depth, mut in_str) = (0usize, false);
                while let Some(c) = self.peek(0) {
                    match c {
                        '\\' if in_str => self.pos += 1,
                        '"' => in_str = !in_str,
                        '(' if !in_str => depth += 1,
                        ')' if !in_str && depth == 0 => break,
                        ')' if !in_str => depth -= 1,
                        _ => {}
                    }
                    self.pos += 1;
                }
                self.pos = self.pos.min(self.chars.len());
                let s: String = self.chars[start..self.pos].iter().collect();
                Ok(self.token(Tok::Jq(s), start))
            }
        }
    }

    /// A "string" with JSON escapes; `self.pos` is on the opening quote.
    fn string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(err(
                    open + 1,
                    "unterminated string: expected a closing '\"'",
                ));
            };
            self.pos += 1;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let esc_col = self.pos;
                    let Some(e) = self.peek(0) else {
                        return Err(err(
                            open + 1,
                            "unterminated string: expected a closing '\"'",
                        ));
                    };
                    self.pos += 1;
                    match e {
                        '"' | '\\' | '/' => out.push(e),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => out.push(self.unicode_escape(esc_col)?),
                        other => {
                            return Err(err(
                                esc_col,
                                format!("unknown escape '\\{other}' in string (expected one of \\\" \\\\ \\/ \\n \\t \\r \\b \\f \\uXXXX)"),
                            ))
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// The XXXX of `\uXXXX` (and a following low surrogate when XXXX is a high one).
    fn unicode_escape(&mut self, esc_col: usize) -> Result<char, FilterError> {
        let bad = || err(esc_col, "bad '\\u' escape: expected 4 hex digits");
        let hex4 = |s: &mut Self| -> Result<u32, FilterError> {
            let digits: String = s
                .chars
                .get(s.pos..s.pos + 4)
                .ok_or_else(bad)?
                .iter()
                .collect();
            let v = u32::from_str_radix(&digits, 16).map_err(|_| bad())?;
            s.pos += 4;
            Ok(v)
        };
        let hi = hex4(self)?;
        if (0xD800..0xDC00).contains(&hi) && self.peek(0) == Some('\\') && self.peek(1) == Some('u')
        {
            self.pos += 2;
            let lo = hex4(self)?;
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
            return char::from_u32(c).ok_or_else(bad);
        }
        char::from_u32(hi).ok_or_else(|| err(esc_col, "bad '\\u' escape: not a character"))
    }

    /// `/pattern/flags`; `self.pos` is on the opening slash.
    fn regex(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        self.pos += 1;
        let mut pattern = String::new();
        loop {
            match self.peek(0) {
                None => return Err(err(start + 1, "unterminated regex: expected a closing '/'")),
                Some('/') => break,
                Some('\\') if self.peek(1) == Some('/') => {
                    pattern.push('/');
                    self.pos += 2;
                }
                Some('\\') if self.peek(1).is_some() => {
                    pattern.push('\\');
                    pattern.push(self.chars[self.pos + 1]);
                    self.pos += 2;
                }
                Some(c) => {
                    pattern.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        let flags_start = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            let c = self.chars[self.pos];
            if !"ims".contains(c) {
                return Err(err(
                    self.pos + 1,
                    format!("unknown regex flag '{c}' (expected i, m or s)"),
                ));
            }
            self.pos += 1;
        }
        let flags = self.chars[flags_start..self.pos].iter().collect();
        Ok(self.token(Tok::Regex { pattern, flags }, start))
    }

    /// `.key`, `."key"`, `[N]`, `["key"]`, repeated; `self.pos` is on the first dot.
    fn path(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        let mut segs = Vec::new();
        loop {
            match self.peek(0) {
                Some('.') => {
                    self.pos += 1;
                    match self.peek(0) {
                        Some('"') => segs.push(Seg::Key(self.string()?)),
                        Some(c) if ident_start(c) => {
                            let k = self.pos;
                            while self.peek(0).is_some_and(ident_char) {
                                self.pos += 1;
                            }
                            segs.push(Seg::Key(self.chars[k..self.pos].iter().collect()));
                        }
                        // `.[0]`, as jq writes it.
                        Some('[') => {}
                        _ => {
                            return Err(err(
                                self.pos + 1,
                                "expected a key name after '.' (use .\"key\" for other characters)",
                            ))
                        }
                    }
                }
                Some('[') => {
                    let open = self.pos;
                    self.pos += 1;
                    if self.peek(0) == Some('"') {
                        segs.push(Seg::Key(self.string()?));
                    } else {
                        let k = self.pos;
                        if self.peek(0) == Some('-') {
                            self.pos += 1;
                        }
                        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                            self.pos += 1;
                        }
                        let n: String = self.chars[k..self.pos].iter().collect();
                        let Ok(n) = n.parse::<i64>() else {
                            return Err(err(
                                k + 1,
                                "expected an array index or a \"key\" after '['",
                            ));
                        };
                        segs.push(Seg::Index(n));
                    }
                    if self.peek(0) != Some(']') {
                        return Err(err(
                            self.pos + 1,
                            format!("expected ']' to close the '[' at column {}", open + 1),
                        ));
                    }
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if self.peek(0).is_some_and(|c| !ends_word(c)) {
            return Err(err(
                self.pos + 1,
                format!(
                    "unexpected '{}' in a JSON path (use .\"key\" for keys with other characters)",
                    self.chars[self.pos]
                ),
            ));
        }
        Ok(self.token(Tok::Path(segs), start))
    }
}

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
