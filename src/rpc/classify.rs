//! Classification of one message body.
//!
//! A borrowed probe struct deserialises only the fields that decide what a message is
//! (`jsonrpc`, `id`, `method`, presence of `result`/`error`, DAP's `type`/`seq`/`command`);
//! `params` and `result` are skipped, except `params` of a cancellation, whose target id
//! is read.

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

use super::Protocol;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Request,
    Notification,
    /// A response carrying a result (DAP: `success: true`).
    Response,
    /// A response carrying an error (DAP: `success: false`).
    Error,
    /// A JSON array of messages.
    Batch,
    /// JSON that is not a JSON-RPC or DAP message, or not JSON at all.
    Invalid,
    /// Bytes outside any frame.
    Noise,
    /// A line the child wrote to stderr.
    Stderr,
    /// A message larger than the decoding limit, forwarded but not decoded.
    Oversized,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Notification => "notification",
            Kind::Response => "response",
            Kind::Error => "error",
            Kind::Batch => "batch",
            Kind::Invalid => "invalid",
            Kind::Noise => "noise",
            Kind::Stderr => "stderr",
            Kind::Oversized => "oversized",
        }
    }

    pub fn is_response(self) -> bool {
        matches!(self, Kind::Response | Kind::Error)
    }
}

/// A request id: JSON-RPC allows numbers and strings, and `1` is not `"1"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id {
    Num(i64),
    Str(String),
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Num(n) => write!(f, "{n}"),
            Id::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// The decisive facts about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub kind: Kind,
    pub method: Option<String>,
    /// The request's id, or for a response the id of the request it answers.
    pub id: Option<Id>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    /// For a cancellation notification, the id of the request it cancels.
    pub cancels: Option<Id>,
    /// What this message says about the protocol in use, if anything.
    pub protocol: Option<Protocol>,
    /// Why a message is `Invalid`.
    pub reason: Option<&'static str>,
}

/// Marks a field as present, whatever its value (even `null`).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawId<'a> {
    Num(i64),
    #[serde(borrow)]
    Str(Cow<'a, str>),
    Other(IgnoredAny),
}

impl RawId<'_> {
    fn to_id(&self) -> Option<Id> {
        match self {
            RawId::Num(n) => Some(Id::Num(*n)),
            RawId::Str(s) => Some(Id::Str(s.to_string())),
            RawId::Other(_) => None,
        }
    }
}

#[derive(Deserialize, Default)]
struct ErrorProbe<'a> {
    code: Option<i64>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(default)]
    jsonrpc: Present,
    #[serde(borrow)]
    id: Option<RawId<'a>>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    #[serde(default)]
    result: Present,
    #[serde(borrow)]
    error: Option<ErrorProbe<'a>>,
    // DAP
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    seq: Option<i64>,
    request_seq: Option<i64>,
    #[serde(borrow)]
    command: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
    success: Option<bool>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CancelParams<'a> {
    #[serde(borrow)]
    id: Option<RawId<'a>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<RawId<'a>>,
}

fn invalid(reason: &'static str) -> Classified {
    Classified {
        kind: Kind::Invalid,
        method: None,
        id: None,
        error_code: None,
        error_message: None,
        cancels: None,
        protocol: None,
        reason: Some(reason),
    }
}

/// Classifies one body.
pub fn classify(body: &[u8]) -> Classified {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => Classified {
                kind: Kind::Batch,
                reason: None,
                ..invalid("")
            },
            Err(_) => invalid("not valid JSON"),
        };
    }
    let probe: Probe = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) if e.is_data() => return invalid("not a JSON object"),
        Err(_) => return invalid("not valid JSON"),
    };
    if let Some(ty) = probe.ty.as_deref() {
        if probe.seq.is_some() && !probe.jsonrpc.0 {
            return classify_dap(ty, &probe);
        }
    }
    let id = probe.id.as_ref().and_then(RawId::to_id);
    let bad_id = probe.id.is_some() && id.is_none();
    let method = probe.method.as_deref().map(str::to_owned);
    let mut out = Classified {
        id,
        reason: None,
        ..invalid("")
    };
    if let Some(m) = &method {
        out.protocol = Protocol::from_method(m, probe.params.map(RawValue::get));
        if bad_id {
            return invalid("id must be a number or a string");
        }
        out.kind = if probe.id.is_some() {
            Kind::Request
        } else {
            Kind::Notification
        };
        if matches!(m.as_str(), "$/cancelRequest" | "notifications/cancelled") {
            out.cancels = probe
                .params
                .and_then(|p| serde_json::from_str::<CancelParams>(p.get()).ok())
                .and_then(|c| c.id.or(c.request_id))
                .and_then(|id| id.to_id());
        }
        out.method = method;
    } else if let Some(err) = probe.error {
        out.kind = Kind::Error;
        out.error_code = err.code;
        out.error_message = err.message.map(Cow::into_owned);
    } else if probe.result.0 {
        out.kind = Kind::Response;
        if out.id.is_none() {
            return invalid("response without an id");
        }
    } else if !probe.jsonrpc.0 {
        return invalid("not a JSON-RPC message");
    } else {
        return invalid("neither method nor result nor error");
    }
    out
}

fn classify_dap(ty: &str, probe: &Probe) -> Classified {
    let mut out = Classified {
        protocol: Some(Protocol::Dap),
        reason: None,
        ..invalid("")
    };
    match ty {
        "request" => {
            out.kind = Kind::Request;
            out.id = probe.seq.map(Id::Num);
            out.method = probe.command.as_deref().map(str::to_owned);
            if out.method.as_deref() == Some("cancel") {
                out.cancels = probe
                    .arguments
                    .and_then(|a| serde_json::from_str::<CancelParams>(a.get()).ok())
                    .and_then(|c| c.request_id)
                    .and_then(|id| id.to_id());
            }
        }
        "response" => {
            out.kind = if probe.success == Some(false) {
                out.error_message = probe.message.as_deref().map(str::to_owned);
                Kind::Error
            } else {
                Kind::Response
            };
            out.id = probe.request_seq.map(Id::Num);
            out.method = probe.command.as_deref().map(str::to_owned);
        }
        "event" => {
            out.kind = Kind::Notification;
            out.method = probe.event.as_deref().map(str::to_owned);
        }
        _ => return invalid("unknown DAP message type"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Classified {
        classify(s.as_bytes())
    }

    #[test]
    fn json_rpc_kinds() {
        let r = c(r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"x":[1,2]}}"#);
        assert_eq!(
            (r.kind, r.id, r.method.as_deref()),
            (Kind::Request, Some(Id::Num(1)), Some("textDocument/hover"))
        );
        assert_eq!(r.protocol, Some(Protocol::Lsp));
        let r = c(r#"{"jsonrpc":"2.0","id":"a-1","result":null}"#);
        assert_eq!(
            (r.kind, r.id),
            (Kind::Response, Some(Id::Str("a-1".into())))
        );
        let r = c(r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no such method"}}"#);
        assert_eq!(
            (r.kind, r.error_code, r.error_message.as_deref()),
            (Kind::Error, Some(-32601), Some("no such method"))
        );
        let r = c(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert_eq!(
            (r.kind, r.protocol),
            (Kind::Notification, Some(Protocol::Mcp))
        );
        assert_eq!(c(r#"[{"jsonrpc":"2.0","method":"a"}]"#).kind, Kind::Batch);
    }

    #[test]
    fn cancellations_name_their_target() {
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}"#).cancels,
            Some(Id::Num(7))
        );
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"x"}}"#)
                .cancels,
            Some(Id::Str("x".into()))
        );
    }

    #[test]
    fn dap_messages() {
        let r = c(r#"{"seq":3,"type":"request","command":"launch","arguments":{}}"#);
        assert_eq!(
            (r.kind, r.id, r.method.as_deref(), r.protocol),
            (
                Kind::Request,
                Some(Id::Num(3)),
                Some("launch"),
                Some(Protocol::Dap)
            )
        );
        let r = c(
            r#"{"seq":4,"type":"response","request_seq":3,"success":false,"command":"launch","message":"nope"}"#,
        );
        assert_eq!(
            (r.kind, r.id, r.error_message.as_deref()),
            (Kind::Error, Some(Id::Num(3)), Some("nope"))
        );
        let r = c(r#"{"seq":5,"type":"event","event":"stopped","body":{}}"#);
        assert_eq!(
            (r.kind, r.method.as_deref()),
            (Kind::Notification, Some("stopped"))
        );
        assert_eq!(
            c(r#"{"seq":6,"type":"request","command":"cancel","arguments":{"requestId":3}}"#)
                .cancels,
            Some(Id::Num(3))
        );
    }

    #[test]
    fn invalid_messages_have_reasons() {
        assert_eq!(c("{not json").reason, Some("not valid JSON"));
        assert_eq!(c("42").kind, Kind::Invalid);
        assert_eq!(c(r#"{"jsonrpc":"2.0"}"#).kind, Kind::Invalid);
        assert_eq!(
            c(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#).kind,
            Kind::Invalid
        );
        assert_eq!(classify(b"\xff\xfe").kind, Kind::Invalid);
    }
}
