//! Frames ⇄ bytes, the other way: the exact wire bytes of a message in one framing, with
//! its recorded header or the canonical one.

use super::Framing;

/// The header a plain encoder would write for a body of `len` bytes.
pub fn canonical_head(len: usize) -> String {
    format!("Content-Length: {len}\r\n\r\n")
}

/// Is `head` exactly `canonical_head(len)`? Checked without building it: the recorder
/// asks for every Content-Length message.
pub fn is_canonical_head(head: &[u8], len: usize) -> bool {
    let Some(rest) = head.strip_prefix(b"Content-Length: ") else {
        return false;
    };
    let Some(digits) = rest.strip_suffix(b"\r\n\r\n") else {
        return false;
    };
    let mut buf = [0u8; 20];
    decimal(len as u64, &mut buf) == digits
}

/// The decimal digits of `n`, written into the end of `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// The exact wire bytes of a message: its header (recorded or canonical) and body for
/// Content-Length framing; its body and line terminator for newline framing.
pub fn wire_bytes(framing: Framing, headers: Option<&[u8]>, body: &[u8], out: &mut Vec<u8>) {
    match framing {
        Framing::Lsp => {
            match headers {
                Some(h) => out.extend_from_slice(h),
                None => out.extend_from_slice(canonical_head(body.len()).as_bytes()),
            }
            out.extend_from_slice(body);
        }
        Framing::Ndjson => {
            out.extend_from_slice(body);
            out.extend_from_slice(headers.unwrap_or(b"\n"));
        }
    }
}

/// Appends `body` framed as a plain encoder would (canonical header, or a newline).
/// `body` must not contain a newline for newline framing (compact JSON never does).
pub fn encode(framing: Framing, body: &[u8], out: &mut Vec<u8>) {
    wire_bytes(framing, None, body, out);
}

/// `body` framed as `encode` does, as a new buffer.
pub fn framed(framing: Framing, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    encode(framing, body, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_heads_are_recognised_without_building_them() {
        for len in [0, 7, 10, 99, 1 << 20, usize::MAX >> 1] {
            assert!(is_canonical_head(canonical_head(len).as_bytes(), len));
            assert!(!is_canonical_head(canonical_head(len + 1).as_bytes(), len));
        }
        assert!(!is_canonical_head(b"content-length: 7\r\n\r\n", 7));
        assert!(!is_canonical_head(b"Content-Length: 07\r\n\r\n", 7));
        assert!(!is_canonical_head(b"Content-Length: 7\n\n", 7));
    }
}
