//! The one JSON scanner: a fast check that a body is exactly one JSON value on one line,
//! so that the recorder can embed it verbatim (`"msg":<body>`), and the same walk reporting
//! its tokens to a `Tokens` sink (the checker builds its tree from them). It runs on every
//! recorded message, so the recorder's walk builds nothing, and string contents are skipped
//! 64 bytes at a time.
//!
//! Accepted by `is_one_line_json`: what `serde_json` accepts as a whole document, without
//! surrounding whitespace, without line breaks between tokens (they would split the
//! recording's line), and nested at most 120 deep (`serde_json` refuses deeper documents
//! when the line is read). A sink may ask for `serde_json`'s whole grammar instead
//! (`Tokens::LINE_BREAKS`, `PAIRED_SURROGATES`, `MAX_DEPTH`).

/// What a walk reports, in document order, each with its span `at..end` in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Null,
    Bool(bool),
    /// Valid JSON number syntax.
    Number,
    /// A string, its quotes included in the span; `escapes` if it holds any.
    Str {
        escapes: bool,
    },
    /// An array (`object` false) or object begins; its members follow, then `Close`.
    Open {
        object: bool,
    },
    Close,
}

/// A walk's sink and grammar. The recorder's `()` takes nothing and compiles to the bare
/// check; a sink refuses the document by returning false (e.g. offsets too large for it).
pub(crate) trait Tokens {
    /// Line breaks allowed between tokens and around the value (`serde_json`'s grammar),
    /// rather than the recording's one-line form.
    const LINE_BREAKS: bool = false;
    /// A `\\u` escape of a UTF-16 surrogate must be one of a high-low pair, as
    /// `serde_json` requires of the strings it reads (its raw values do not).
    const PAIRED_SURROGATES: bool = false;
    /// Containers nested deeper than this are refused.
    const MAX_DEPTH: usize = 120;

    fn token(&mut self, _token: Token, _at: usize, _end: usize) -> bool {
        true
    }
}

impl Tokens for () {}

/// Is `b` one JSON value, with no leading or trailing whitespace and no line break?
pub fn is_one_line_json(b: &[u8]) -> bool {
    let padded = |c: Option<&u8>| matches!(c, Some(b' ' | b'\t') | None);
    !padded(b.first())
        && !padded(b.last())
        // Bytes outside strings are checked as ASCII tokens, so only a string that holds
        // bytes of 0x80 or more needs the UTF-8 check (most bodies have none).
        && walk_bytes(b, &mut ())
            .is_some_and(|non_ascii| !non_ascii || std::str::from_utf8(b).is_ok())
}

/// Walks `text` as one JSON value (with the whitespace `T` allows around it), reporting
/// its tokens to `sink`; false as soon as `text` is not JSON or the sink refuses.
pub(crate) fn walk<T: Tokens>(text: &str, sink: &mut T) -> bool {
    walk_bytes(text.as_bytes(), sink).is_some()
}

/// `walk` over bytes not yet known to be UTF-8: whether a string holds a byte of 0x80 or
/// more (`None`: not JSON, or the sink refused). Such bytes are accepted only in strings.
fn walk_bytes<T: Tokens>(b: &[u8], sink: &mut T) -> Option<bool> {
    let mut p = Parser {
        b,
        i: 0,
        depth: 0,
        non_ascii: false,
        sink,
    };
    p.ws();
    let json = p.value() && {
        p.ws();
        p.i == b.len()
    };
    json.then_some(p.non_ascii)
}

/// How many bytes a string is scanned by at once.
const BLOCK: usize = 64;

/// How many bytes of a string are looked at one by one before it is scanned by blocks.
const SHORT: usize = 24;

/// The most blocks of a long string classified at once (`os::json_blocks`).
const BATCH: usize = 16;

/// Where the scan of a string stands, from block to block.
struct Scan {
    /// The string's first byte (after its quote).
    start: usize,
    /// The block being scanned.
    at: usize,
    /// Whether the block's first byte is escaped (`escaped`).
    carry: u64,
    /// The string holds an escape.
    escapes: bool,
    /// Where the `u` of the low surrogate that must follow a high one is.
    low_at: Option<usize>,
}

/// `os::json_bytes` of what is left of `b` from `at` on: a whole block, or the tail padded
/// with plain bytes; and how many of the block's bytes are `b`'s.
fn block_at(b: &[u8], at: usize) -> (crate::os::JsonBytes, usize) {
    if let Some(block) = b
        .get(at..at + BLOCK)
        .and_then(|s| <&[u8; BLOCK]>::try_from(s).ok())
    {
        (crate::os::json_bytes(block), BLOCK)
    } else {
        let rest = &b[at.min(b.len())..];
        let mut block = [b'a'; BLOCK];
        block[..rest.len()].copy_from_slice(rest);
        (crate::os::json_bytes(&block), rest.len())
    }
}

/// The bytes of a block that a backslash escapes, given its backslashes and whether the
/// block's first byte is escaped (`carry`, updated for the next block). Branch-free, as in
/// simdjson: in a run of backslashes every other one escapes the next byte, so a run's
/// parity decides whether the byte after it is escaped.
fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    const ODD: u64 = 0xaaaa_aaaa_aaaa_aaaa;
    if backslash == 0 {
        return std::mem::take(carry);
    }
    let starts = backslash & !*carry;
    let codes = (((starts << 1) | ODD).wrapping_sub(starts)) ^ ODD;
    let escaped = codes ^ (backslash | *carry);
    *carry = (codes & backslash) >> 63;
    escaped
}

struct Parser<'a, T> {
    b: &'a [u8],
    i: usize,
    depth: usize,
    /// A string held a byte of 0x80 or more.
    non_ascii: bool,
    sink: &'a mut T,
}

impl<T: Tokens> Parser<'_, T> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Spaces and tabs only, unless `T::LINE_BREAKS`: a line break would end the recording's
    /// line.
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if !(c == b' ' || c == b'\t' || (T::LINE_BREAKS && (c == b'\n' || c == b'\r'))) {
                break;
            }
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
            Some(b't') => self.literal(b"true", Token::Bool(true)),
            Some(b'f') => self.literal(b"false", Token::Bool(false)),
            Some(b'n') => self.literal(b"null", Token::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    fn container(&mut self, close: u8, object: bool) -> bool {
        self.depth += 1;
        if self.depth > T::MAX_DEPTH || !self.sink.token(Token::Open { object }, self.i, self.i + 1)
        {
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
        self.sink.token(Token::Close, self.i - 1, self.i)
    }

    /// A string from its opening quote, 64 bytes at a time: its end is the first quote
    /// that is not escaped, and every escape and byte before it is checked with masks, so
    /// an escape costs no step (nor a mispredicted branch) of its own. A string that goes
    /// on past its first block is classified in batches that double up to `BATCH` blocks.
    fn string(&mut self) -> bool {
        let b = self.b;
        let start = self.i + 1;
        // Keys and short values end before any escape: no block needed for them.
        for (k, &c) in b[start..].iter().take(SHORT).enumerate() {
            match c {
                b'"' => {
                    self.i = start + k + 1;
                    return self
                        .sink
                        .token(Token::Str { escapes: false }, start - 1, self.i);
                }
                b'\\' => break,
                c if c < 0x20 => return false,
                c if c >= 0x80 => self.non_ascii = true,
                _ => {}
            }
        }
        let mut scan = Scan {
            start,
            at: start,
            carry: 0,
            escapes: false,
            low_at: None,
        };
        let (m, len) = block_at(b, scan.at);
        if let Some(done) = self.block(&mut scan, m, len) {
            return done;
        }
        let mut batch = [crate::os::JsonBytes::default(); BATCH];
        let mut size = 2;
        loop {
            let whole = (b.len() - scan.at) / BLOCK;
            if whole == 0 {
                let (m, len) = block_at(b, scan.at);
                return self.block(&mut scan, m, len).unwrap_or(false);
            }
            let n = whole.min(size);
            size = (size * 2).min(BATCH);
            crate::os::json_blocks(&b[scan.at..scan.at + n * BLOCK], &mut batch[..n]);
            for &m in &batch[..n] {
                if let Some(done) = self.block(&mut scan, m, BLOCK) {
                    return done;
                }
            }
        }
    }

    /// One block of a string whose first `len` bytes are the text's, classified as `m`:
    /// `Some` once the string ends (whether it and the sink accept it) or is refused;
    /// `None` to go on with the next block.
    // Called for every block of a long string: as a call, it cost as much as classifying
    // the block (1 MiB escape-dense body: 4.5 GiB/s inlined against 3.9 as a call).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn block(&mut self, scan: &mut Scan, m: crate::os::JsonBytes, len: usize) -> Option<bool> {
        let (b, at) = (self.b, scan.at);
        let escaped = escaped(m.backslash, &mut scan.carry);
        let ends = m.quote & !escaped;
        let end = ends.trailing_zeros() as usize;
        if end == BLOCK && len < BLOCK {
            return Some(false);
        }
        let before = if end == BLOCK { !0 } else { (1u64 << end) - 1 };
        // A raw control character (line breaks among them) or a bad escape.
        if (m.control | (escaped & !m.escapable)) & before != 0 {
            return Some(false);
        }
        scan.escapes |= escaped & before != 0;
        self.non_ascii |= m.high & before != 0;
        let mut unicode = escaped & m.u & before;
        while unicode != 0 {
            let j = at + unicode.trailing_zeros() as usize;
            let hex = b.get(j + 1..j + 5);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Some(false);
            }
            if T::PAIRED_SURROGATES && !surrogates_pair(b, j, &mut scan.low_at) {
                return Some(false);
            }
            unicode &= unicode - 1;
        }
        if end == BLOCK {
            scan.at += BLOCK;
            return None;
        }
        if scan.low_at.is_some() {
            return Some(false);
        }
        self.i = at + end + 1;
        let token = Token::Str {
            escapes: scan.escapes,
        };
        Some(self.sink.token(token, scan.start - 1, self.i))
    }

    fn literal(&mut self, word: &[u8], token: Token) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            self.sink.token(token, self.i - word.len(), self.i)
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
        let at = self.i;
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
        self.sink.token(Token::Number, at, self.i)
    }
}

/// Whether the `\\u` escape whose `u` is at `j` (four hex digits follow) keeps surrogates
/// paired, as `serde_json` requires of strings: a high surrogate must be followed at once
/// by a low one (`low_at` remembers where), and a low one must follow a high one.
fn surrogates_pair(b: &[u8], j: usize, low_at: &mut Option<usize>) -> bool {
    let code = b[j + 1..j + 5]
        .iter()
        .fold(0u32, |n, &h| n << 4 | (h as char).to_digit(16).unwrap_or(0));
    let expected = low_at.take();
    if let Some(at) = expected {
        if at != j {
            return false;
        }
    }
    match code {
        0xd800..=0xdbff if expected.is_none() => {
            *low_at = Some(j + 6);
            true
        }
        0xdc00..=0xdfff => expected.is_some(),
        _ => expected.is_none(),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
