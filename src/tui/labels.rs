//! Names shown for a message's kind and framing, in the words of the session's protocol:
//! a DAP event is an `event`, not a notification, and DAP's Content-Length framing is not
//! called `lsp` (the name the recording format gives it, kept in files).

use crate::rpc::{Kind, Protocol};
use crate::wire::Framing;

/// The kind, spelled out (detail pane).
pub fn kind(kind: Kind, protocol: Option<Protocol>) -> &'static str {
    match (kind, protocol) {
        (Kind::Notification, Some(Protocol::Dap)) => "event",
        (k, _) => k.as_str(),
    }
}

/// The kind in at most six columns (message list).
pub fn short_kind(kind: Kind, protocol: Option<Protocol>) -> &'static str {
    match kind {
        Kind::Request => "req",
        Kind::Notification if protocol == Some(Protocol::Dap) => "event",
        Kind::Notification => "notif",
        Kind::Response => "resp",
        Kind::Error => "error",
        Kind::Batch => "batch",
        Kind::Invalid => "inval",
        Kind::Noise => "noise",
        Kind::Stderr => "stderr",
        Kind::Oversized => "big",
    }
}

/// The framing: `lsp` in an LSP session, `Content-Length` in any other (DAP).
pub fn framing(framing: Framing, protocol: Option<Protocol>) -> &'static str {
    match (framing, protocol) {
        (Framing::Lsp, Some(Protocol::Lsp)) | (Framing::Lsp, None) => "lsp",
        (Framing::Lsp, Some(_)) => "Content-Length",
        (Framing::Ndjson, _) => "ndjson",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dap_has_events_and_content_length() {
        let dap = Some(Protocol::Dap);
        assert_eq!(kind(Kind::Notification, dap), "event");
        assert_eq!(short_kind(Kind::Notification, dap), "event");
        assert_eq!(framing(Framing::Lsp, dap), "Content-Length");
        assert_eq!(framing(Framing::Lsp, Some(Protocol::Lsp)), "lsp");
        assert_eq!(
            kind(Kind::Notification, Some(Protocol::Mcp)),
            "notification"
        );
    }
}
