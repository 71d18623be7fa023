//! Pretty JSON with syntax highlighting, for the one message on screen.
//!
//! It re-indents the body's own tokens instead of re-serialising a parsed value, so key
//! order, number spelling and string escapes are shown exactly as sent — except `\/`,
//! which JSON allows for `/` and which only makes URIs unreadable (`file:\/\/\/src`).

use super::text::Segs;
use ratatui::style::{Color, Modifier, Style};

fn key() -> Style {
    Style::default().fg(Color::Cyan)
}
fn string() -> Style {
    Style::default().fg(Color::Green)
}
fn number() -> Style {
    Style::default().fg(Color::Yellow)
}
fn literal() -> Style {
    Style::default()
        .fg(Color::Magenta)
        .add_modifier(Modifier::BOLD)
}
fn punct() -> Style {
    Style::default()
}
fn depth() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// Levels indented in full; deeper lines stay at this indentation and say their depth.
pub const MAX_INDENT: usize = 32;

/// Appends the pretty lines of `body`, at most `max` of them; returns false (appending
/// nothing) when the body is not one valid JSON value.
pub fn pretty(body: &[u8], out: &mut Vec<Segs>, max: usize) -> bool {
    let limit = out.len() + max;
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return false;
    }
    // Valid JSON is valid UTF-8, so every token below slices on char boundaries.
    let Ok(s) = std::str::from_utf8(body) else {
        return false;
    };
    let b = s.as_bytes();
    let mut p = Printer {
        out,
        line: Vec::new(),
        indent: 0,
    };
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut i = 0;
    while i < b.len() && p.out.len() < limit {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let j = skip_ws(i + 1);
                if b.get(j) == Some(&close) {
                    p.push(if open == b'{' { "{}" } else { "[]" }, punct());
                    i = j + 1;
                } else {
                    p.push(&s[i..=i], punct());
                    p.indent += 1;
                    p.newline();
                    i += 1;
                }
            }
            b'}' | b']' => {
                p.indent = p.indent.saturating_sub(1);
                p.newline();
                p.push(&s[i..=i], punct());
                i += 1;
            }
            b',' => {
                p.push(",", punct());
                p.newline();
                i += 1;
            }
            b':' => {
                p.push(": ", punct());
                i += 1;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                let is_key = b.get(skip_ws(end)) == Some(&b':');
                let token = unescape_slashes(&s[i..end]);
                p.push(&token, if is_key { key() } else { string() });
                i = end;
            }
            c => {
                let mut j = i;
                while j < b.len()
                    && !matches!(
                        b[j],
                        b',' | b':' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n'
                    )
                {
                    j += 1;
                }
                let style = match c {
                    b'-' | b'0'..=b'9' => number(),
                    _ => literal(),
                };
                p.push(&s[i..j], style);
                i = j;
            }
        }
    }
    if p.out.len() < limit {
        p.finish();
    }
    true
}

/// A string token with each `\/` shown as `/` (and every other escape as written).
fn unescape_slashes(token: &str) -> std::borrow::Cow<'_, str> {
    if !token.contains("\\/") {
        return token.into();
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('/') => out.push('/'),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out.into()
}

struct Printer<'a> {
    out: &'a mut Vec<Segs>,
    line: Segs,
    indent: usize,
}

impl Printer<'_> {
    fn push(&mut self, text: &str, style: Style) {
        self.line.push((text.to_owned(), style));
    }

    fn newline(&mut self) {
        let line = std::mem::take(&mut self.line);
        self.out.push(line);
        // Indentation is capped so that a line costs the same however deep it is: full
        // indentation would make memory quadratic in the nesting depth (issue 12).
        if self.indent > MAX_INDENT {
            self.line.push(("  ".repeat(MAX_INDENT), Style::default()));
            self.line.push((format!("↳{} ", self.indent), depth()));
        } else if self.indent > 0 {
            self.line.push(("  ".repeat(self.indent), Style::default()));
        }
    }

    fn finish(&mut self) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.out.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        pretty(body.as_bytes(), &mut out, 1000).then(|| {
            out.iter()
                .map(|segs| segs.iter().map(|(t, _)| t.as_str()).collect())
                .collect()
        })
    }

    #[test]
    fn indents_and_keeps_tokens_as_sent() {
        let got =
            text(r#"{"id":1.50,"a":[],"b":{"k":"x\"y","n":[true,null,-1e3]},"c":{}}"#).unwrap();
        let want = [
            "{",
            r#"  "id": 1.50,"#,
            r#"  "a": [],"#,
            r#"  "b": {"#,
            r#"    "k": "x\"y","#,
            r#"    "n": ["#,
            "      true,",
            "      null,",
            "      -1e3",
            "    ]",
            "  },",
            r#"  "c": {}"#,
            "}",
        ];
        assert_eq!(got, want);
        assert_eq!(text("42").unwrap(), ["42"]);
    }

    #[test]
    fn keys_and_strings_are_told_apart() {
        let mut out = Vec::new();
        assert!(pretty(br#"{"k" : "v"}"#, &mut out, 1000));
        let styles: Vec<_> = out[1].iter().map(|(t, s)| (t.trim(), s.fg)).collect();
        assert_eq!(styles[1], ("\"k\"", Some(Color::Cyan)));
        assert_eq!(styles[3], ("\"v\"", Some(Color::Green)));
    }

    #[test]
    fn escaped_slashes_show_as_slashes_and_other_escapes_stay() {
        let got = text(r#"{"uri":"file:\/\/\/a\\\/b\n"}"#).unwrap();
        assert_eq!(got[1], r#"  "uri": "file:///a\\/b\n""#);
    }

    #[test]
    fn stops_at_the_line_limit() {
        let mut out = Vec::new();
        assert!(pretty(b"[1,2,3,4,5,6]", &mut out, 3));
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn deep_levels_keep_a_bounded_indentation_and_say_their_depth() {
        let depth = 10_000;
        let body = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let mut out = Vec::new();
        assert!(pretty(body.as_bytes(), &mut out, 3 * depth));
        let lines: Vec<String> = out
            .iter()
            .map(|segs| segs.iter().map(|(t, _)| t.as_str()).collect())
            .collect();
        assert_eq!(lines.len(), 2 * depth + 1);
        let widest = lines.iter().map(std::string::String::len).max().unwrap();
        assert!(widest <= 2 * MAX_INDENT + 12, "a line of {widest} bytes");
        assert_eq!(
            lines[depth],
            format!("{}↳{depth} 1", "  ".repeat(MAX_INDENT))
        );
        assert_eq!(lines[MAX_INDENT], format!("{}[", "  ".repeat(MAX_INDENT)));
    }

    #[test]
    fn invalid_json_is_refused() {
        // Found by the fuzzer: serde_json skips bad UTF-8 inside a string it only skips.
        assert!(!pretty(b"\"\x9e\x9e\x9e\x9e\"", &mut Vec::new(), 10));
        assert_eq!(text("{\"a\":"), None);
        assert_eq!(text("not json"), None);
    }
}
