//! Encodes events as recording lines. Bodies that are valid single-line JSON are embedded
//! verbatim (same bytes, same key order, same number spelling); anything else is kept
//! exactly as a string (`raw`) or, when not UTF-8, as base64 (`raw_b64`).

use super::{Event, MessageEvent};
use crate::wire::decimal;
use base64::Engine;

/// Can this body be embedded as-is, and still be one line that reads back identically?
fn embeddable(body: &[u8]) -> bool {
    super::validate::is_one_line_json(body)
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// `,"<key>":"text"` or `,"<key>_b64":"…"` for text that may not be UTF-8.
fn push_text(out: &mut Vec<u8>, key: &str, bytes: &[u8]) {
    out.push(b',');
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            push_str(out, key);
            out.push(b':');
            push_str(out, s);
        }
        Err(_) => {
            push_str(out, &format!("{key}_b64"));
            out.push(b':');
            push_str(
                out,
                &base64::engine::general_purpose::STANDARD.encode(bytes),
            );
        }
    }
}

fn push_prefix(out: &mut Vec<u8>, seq: u64, t: super::Micros, dir: &str) {
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(decimal(seq, &mut [0; 20]));
    out.extend_from_slice(b",\"t\":\"");
    t.write_rfc3339(out);
    out.extend_from_slice(b"\",\"dir\":\"");
    out.extend_from_slice(dir.as_bytes());
    out.push(b'"');
}

/// What ends a message line whose body is embedded verbatim.
pub const MESSAGE_TAIL: &[u8] = b"}\n";

/// Encodes a message's line around its body. When the body can be embedded verbatim,
/// `out` receives everything before it and the line is `out ++ body ++ MESSAGE_TAIL`, so
/// that a large body need not be copied into a line; otherwise (`false`) `out` receives
/// the whole line.
pub fn encode_message_head(out: &mut Vec<u8>, m: &MessageEvent) -> bool {
    push_prefix(out, m.seq, m.t, m.dir.as_str());
    out.extend_from_slice(b",\"framing\":\"");
    out.extend_from_slice(m.framing.as_str().as_bytes());
    out.push(b'"');
    if let Some(h) = &m.headers {
        push_text(out, "headers", h);
    }
    if m.redacted {
        out.extend_from_slice(b",\"redacted\":true");
    }
    push_mark(out, &m.mark);
    if let Some(len) = m.oversized {
        out.extend_from_slice(b",\"oversized\":");
        match len {
            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
    } else if embeddable(&m.body) {
        out.extend_from_slice(b",\"msg\":");
        return true;
    } else {
        push_text(out, "raw", &m.body);
    }
    out.extend_from_slice(MESSAGE_TAIL);
    false
}

/// The fields interactive control adds to a message line (none for plain traffic).
fn push_mark(out: &mut Vec<u8>, mark: &super::Mark) {
    if mark.injected {
        out.extend_from_slice(b",\"origin\":\"rpctap\"");
    }
    if let Some(n) = mark.held {
        out.extend_from_slice(b",\"held\":");
        out.extend_from_slice(decimal(n, &mut [0; 20]));
    }
    if mark.diverted {
        out.extend_from_slice(b",\"diverted\":true");
    }
}

fn push_release(out: &mut Vec<u8>, r: &super::Release) {
    out.extend_from_slice(b"{\"type\":\"release\",\"t\":\"");
    r.t.write_rfc3339(out);
    out.extend_from_slice(b"\",\"dir\":\"");
    out.extend_from_slice(r.dir.as_str().as_bytes());
    out.extend_from_slice(b"\",\"hold\":");
    out.extend_from_slice(decimal(r.hold, &mut [0; 20]));
    out.extend_from_slice(b",\"action\":\"");
    out.extend_from_slice(r.action.as_str().as_bytes());
    out.push(b'"');
    match &r.body {
        Some(b) if embeddable(b) => {
            out.extend_from_slice(b",\"body\":");
            out.extend_from_slice(b);
        }
        Some(b) => push_text(out, "body_raw", b),
        None => {}
    }
    out.extend_from_slice(b"}\n");
}

fn push_message(out: &mut Vec<u8>, m: &MessageEvent) {
    if encode_message_head(out, m) {
        out.extend_from_slice(&m.body);
        out.extend_from_slice(MESSAGE_TAIL);
    }
}

/// Appends one event as one line (with its newline) to `out`.
pub fn encode_event(out: &mut Vec<u8>, event: &Event) {
    match event {
        Event::Session(info) => {
            let mut v = serde_json::to_value(info).unwrap_or_default();
            if let Some(map) = v.as_object_mut() {
                map.shift_insert(0, "rpctap".into(), 1.into());
                map.shift_insert(1, "type".into(), "session".into());
            }
            let _ = serde_json::to_writer(&mut *out, &v);
            out.push(b'\n');
        }
        Event::Message(m) => push_message(out, m),
        Event::Noise(n) => {
            push_prefix(out, n.seq, n.t, n.dir.as_str());
            push_text(out, "noise", &n.text);
            out.extend_from_slice(b"}\n");
        }
        Event::Stderr(s) => {
            push_prefix(out, s.seq, s.t, "stderr");
            push_text(out, "text", &s.text);
            out.extend_from_slice(b"}\n");
        }
        Event::Exit(e) => {
            let v = serde_json::json!({
                "type": "exit", "t": e.t.to_rfc3339(), "code": e.code, "signal": e.signal,
            });
            let _ = serde_json::to_writer(&mut *out, &v);
            out.push(b'\n');
        }
        Event::Gap(g) => {
            let v = serde_json::json!({
                "type": "gap", "t": g.t.to_rfc3339(), "dir": g.dir.map(|d| d.as_str()),
                "bytes": g.bytes, "reason": g.reason,
            });
            let _ = serde_json::to_writer(&mut *out, &v);
            out.push(b'\n');
        }
        Event::Undelivered(u) => {
            let v = serde_json::json!({
                "type": "undelivered", "t": u.t.to_rfc3339(), "dir": u.dir.as_str(), "from": u.from,
            });
            let _ = serde_json::to_writer(&mut *out, &v);
            out.push(b'\n');
        }
        Event::Release(r) => push_release(out, r),
    }
}
