//! Decides a direction's framing from its first bytes.
//!
//! The first line that starts like JSON means newline framing; the first `Content-Length`
//! means header framing. Log lines before either are skipped over, so a server that prints
//! a banner on stdout is still recognised.

use super::content_length::find_content_length;
use super::ndjson::looks_like_json;
use super::Framing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    Undecided,
    Decided(Framing),
}

/// Looks at what has arrived so far. Once `cap` bytes (if non-zero) arrived without a
/// decision, newline framing is assumed, which turns everything unrecognised into noise.
pub fn detect(buf: &[u8], cap: usize) -> Detection {
    let mut start = 0;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i + 1);
        let line = &buf[start..end];
        if find_content_length(line).is_some() {
            return Detection::Decided(Framing::Lsp);
        }
        if looks_like_json(line) == Some(true) {
            return Detection::Decided(Framing::Ndjson);
        }
        start = end;
    }
    if cap > 0 && buf.len() >= cap {
        return Detection::Decided(Framing::Ndjson);
    }
    Detection::Undecided
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_from_first_bytes() {
        assert_eq!(
            detect(b"Content-Length: 3\r\n", 100),
            Detection::Decided(Framing::Lsp)
        );
        assert_eq!(
            detect(b"content-length", 100),
            Detection::Decided(Framing::Lsp)
        );
        assert_eq!(
            detect(b"{\"jsonrpc\"", 100),
            Detection::Decided(Framing::Ndjson)
        );
        assert_eq!(
            detect(b"banner\n[INFO] x\n{", 100),
            Detection::Decided(Framing::Ndjson)
        );
        assert_eq!(detect(b"banner\nConte", 100), Detection::Undecided);
        assert_eq!(detect(b"   ", 100), Detection::Undecided);
        assert_eq!(detect(b"xxxxx", 5), Detection::Decided(Framing::Ndjson));
    }
}
