//! Text from recordings made safe for a terminal. A recording is hostile input: a body,
//! a method name or a session name can hold escape sequences that retitle the window,
//! move the cursor or hide what follows. Human-readable output (`cat`, `stats`, `ls`)
//! passes such text through here; the byte-faithful outputs (`--format jsonl|json`,
//! `--wire`) never do.
//!
//! Escaped: C0 controls and DEL (`\n`, `\r`, `\t`, else `\x1b`), C1 controls (`\u{9b}`,
//! which some terminals read as CSI), bidirectional overrides and isolates (they reorder
//! what is shown), and bytes that are not UTF-8 (`\xff`). Everything else is kept.

use std::borrow::Cow;
use std::fmt::Write;

/// `bytes` as text that cannot control a terminal.
pub fn terminal(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return terminal_str(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        push_escaped(&mut out, chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// `s` as text that cannot control a terminal; borrowed when nothing needs escaping.
pub fn terminal_str(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    push_escaped(&mut out, s);
    Cow::Owned(out)
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && unsafe_char(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_escapes_and_bad_bytes_are_made_visible() {
        assert_eq!(terminal(b"plain \xc3\xa9t\xc3\xa9"), "plain été");
        assert!(matches!(terminal(b"plain"), Cow::Borrowed(_)));
        assert_eq!(
            terminal(b"\x1b]0;pwned\x07a\r\nb\tc\x7f"),
            "\\x1b]0;pwned\\x07a\\r\\nb\\tc\\x7f"
        );
        assert_eq!(
            terminal("\u{9b}2J x\u{202e}y".as_bytes()),
            "\\u{9b}2J x\\u{202e}y"
        );
        assert_eq!(terminal(b"ok\xff\xfe"), "ok\\xff\\xfe");
    }
}
