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

/// What rpctap did to a row (issue 16), as the list's marker: `+` injected, `‖` held (still
/// waiting), `»` held then forwarded, `✎` edited, `⊘` dropped, `↵` answered by the user,
/// `↺` a response rpctap took for itself (it reached no peer).
pub fn interactive_mark(store: &crate::session::Store, i: usize) -> Option<&'static str> {
    use crate::record::ReleaseAction as Released;
    use crate::session::Flags;
    let f = store.row(i).flags;
    if f.has(Flags::HELD) {
        return Some(match store.release(i) {
            None => "‖",
            Some(Released::Forward) => "»",
            Some(Released::Edit) => "✎",
            Some(Released::Drop) => "⊘",
            Some(Released::Answer) => "↵",
        });
    }
    if f.has(Flags::DIVERTED) {
        return Some("↺");
    }
    f.has(Flags::INJECTED).then_some("+")
}

/// The same in words, for the detail pane.
pub fn interactive_note(store: &crate::session::Store, i: usize) -> Option<&'static str> {
    use crate::record::ReleaseAction as Released;
    use crate::session::Flags;
    let f = store.row(i).flags;
    if f.has(Flags::HELD) {
        return Some(match store.release(i) {
            None => "held by the intercept: not forwarded yet",
            Some(Released::Forward) => "held by the intercept, then forwarded as it was",
            Some(Released::Edit) => {
                "held by the intercept, then edited and forwarded (this is the original)"
            }
            Some(Released::Drop) => "held by the intercept, then dropped: the peer never got it",
            Some(Released::Answer) => {
                "held by the intercept, then answered by hand: the server never got it"
            }
        });
    }
    if f.has(Flags::DIVERTED) {
        return Some("the answer to a request rpctap injected: it reached no peer");
    }
    f.has(Flags::INJECTED).then_some("injected by rpctap")
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
