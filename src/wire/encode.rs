//! Frames ⇄ bytes, the other way: the exact wire bytes of a message in one framing, with
//! its recorded header or the canonical one.

use super::Framing;

/// The header a plain encoder would write for a body of `len` bytes.
pub fn canonical_head(len: usize) -> String {
    format!("Content-Length: {len}\r\n\r\n")
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
