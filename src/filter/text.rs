//! How text is matched: method-name globs, smart-case substrings and regexes.
//!
//! Substrings follow ripgrep's `--smart-case`: a needle without an uppercase letter matches
//! regardless of case, one with an uppercase letter matches exactly. Exact needles use
//! `memchr::memmem` (the common case for camelCase LSP names, and the fastest); case-folded
//! ones use the `regex` crate, whose literal prefilters keep them close to memmem speed.

use memchr::memmem;
use regex::bytes::{Regex, RegexBuilder};

/// A method-name pattern: `*` is any run of characters (slashes included), `?` is one
/// character, everything else matches itself. Without wildcards, the whole name must be equal.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    wild: bool,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_owned(),
            wild: pattern.contains(['*', '?']),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        if !self.wild {
            return self.pattern == name;
        }
        // The classic linear-time wildcard match: on a mismatch, backtrack to just after
        // the last `*` and let it swallow one more character.
        let p: Vec<char> = self.pattern.chars().collect();
        let n: Vec<char> = name.chars().collect();
        let (mut pi, mut ni) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ni < n.len() {
            if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == n[ni])) {
                pi += 1;
                ni += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, ni));
                pi += 1;
            } else if let Some((sp, sn)) = star {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

/// A text test over bytes.
#[derive(Debug, Clone)]
pub enum Text {
    /// Boxed: a `Finder` is ten times the size of a `Regex` handle.
    Exact(Box<memmem::Finder<'static>>),
    /// A literal matched regardless of case.
    Folded(Regex),
    Pattern(Regex),
}

/// A regex error: character offset in the pattern and a one-line message.
pub type RegexError = (usize, String);

impl Text {
    /// A substring with smart case.
    pub fn substring(needle: &str) -> Text {
        let folds = needle
            .chars()
            .any(|c| c.is_lowercase() && c.to_uppercase().ne([c]));
        let has_upper = needle.chars().any(char::is_uppercase);
        if has_upper || !folds {
            return Text::Exact(Box::new(
                memmem::Finder::new(needle.as_bytes()).into_owned(),
            ));
        }
        let re = RegexBuilder::new(&regex::escape(needle))
            .case_insensitive(true)
            .build();
        match re {
            Ok(re) => Text::Folded(re),
            // An escaped literal only fails on size limits; exact matching is the fallback.
            Err(_) => Text::Exact(Box::new(
                memmem::Finder::new(needle.as_bytes()).into_owned(),
            )),
        }
    }

    /// A regex with flags `i` (ignore case), `m` (multi-line), `s` (`.` matches newlines).
    pub fn regex(pattern: &str, flags: &str) -> Result<Text, RegexError> {
        let (i, m, s) = (
            flags.contains('i'),
            flags.contains('m'),
            flags.contains('s'),
        );
        // regex-syntax gives the error's position, which the `regex` crate's message only
        // draws as ASCII art.
        let checked = regex_syntax::ParserBuilder::new()
            .case_insensitive(i)
            .multi_line(m)
            .dot_matches_new_line(s)
            .utf8(false)
            .build()
            .parse(pattern);
        if let Err(e) = checked {
            let (offset, kind) = match &e {
                regex_syntax::Error::Parse(e) => (e.span().start.offset, e.kind().to_string()),
                regex_syntax::Error::Translate(e) => (e.span().start.offset, e.kind().to_string()),
                other => (0, other.to_string()),
            };
            let at = pattern[..offset.min(pattern.len())].chars().count();
            return Err((at, format!("invalid regex: {kind}")));
        }
        RegexBuilder::new(pattern)
            .case_insensitive(i)
            .multi_line(m)
            .dot_matches_new_line(s)
            .build()
            .map(Text::Pattern)
            .map_err(|e| (0, format!("invalid regex: {}", first_line(&e.to_string()))))
    }

    /// A substring rather than a regex: if it occurs in a part of a text, it occurs in the
    /// whole text (not so for `/^x$/`).
    pub fn is_literal(&self) -> bool {
        !matches!(self, Text::Pattern(_))
    }

    pub fn is_match(&self, hay: &[u8]) -> bool {
        match self {
            Text::Exact(f) => f.find(hay).is_some(),
            Text::Folded(re) | Text::Pattern(re) => re.is_match(hay),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = |p: &str, n: &str| Glob::new(p).matches(n);
        assert!(g("textDocument/*", "textDocument/hover"));
        assert!(!g("textDocument/*", "workspace/symbol"));
        assert!(g("*/did*", "textDocument/didOpen"));
        assert!(g("tools/?all", "tools/call"));
        assert!(!g("hover", "textDocument/hover"));
        assert!(g("*hover", "textDocument/hover"));
        assert!(g("a*b*c", "aXbYbZc"));
        assert!(!g("a*b*c", "aXbYbZ"));
        assert!(g("*", ""));
    }

    #[test]
    fn smart_case() {
        let t = |n: &str, h: &str| Text::substring(n).is_match(h.as_bytes());
        assert!(t("hover", "textDocument/Hover"));
        assert!(!t("Hover", "textDocument/hover"));
        assert!(t("Hover", "textDocument/Hover"));
        assert!(t("-32601", "code:-32601"));
        assert!(t("", "anything"));
    }

    #[test]
    fn regex_errors_have_positions() {
        let (at, msg) = Text::regex("ab(c", "").unwrap_err();
        assert_eq!(at, 2);
        assert!(msg.starts_with("invalid regex: unclosed group"), "{msg}");
        assert!(Text::regex("é+x", "i").unwrap().is_match("ÉÉX".as_bytes()));
    }
}
