//! The attributes of a span, named by the OpenTelemetry semantic conventions: RPC and
//! JSON-RPC (`rpc.system.name`, `rpc.method`, `jsonrpc.request.id`,
//! `jsonrpc.protocol.version`, `rpc.response.status_code`, `error.type`,
//! `network.transport`) and MCP (`mcp.method.name`, `mcp.session.id`, `mcp.resource.uri`, `gen_ai.operation.name`, `gen_ai.tool.name`,
//! `gen_ai.prompt.name`). Names the conventions lack are under `rpctap.`.
//!
//! Reads only the few params fields that name something (a borrowed probe, `params` is
//! not built as a `Value`); bodies go into attributes only when the caller passes them.

use crate::record::Dir;
use crate::rpc::{Id, Protocol};
use opentelemetry::KeyValue;
use serde::Deserialize;
use std::borrow::Cow;

/// A body put into an attribute is cut to this many bytes (at a character boundary).
pub const MAX_BODY_ATTRIBUTE: usize = 16 * 1024;

/// What a request's params say that a span shows.
#[derive(Debug, Default, Clone)]
pub struct RequestFacts {
    /// `params.name`: the tool of `tools/call`, the prompt of `prompts/get`.
    pub name: Option<String>,
    /// `params.uri` (MCP resources).
    pub uri: Option<String>,
    /// `params._meta.traceparent`.
    pub traceparent: Option<String>,
    /// `params.protocolVersion` of an MCP `initialize`.
    pub protocol_version: Option<String>,
    pub method_is_initialize: bool,
    pub method_is_tool_call: bool,
    /// `params.arguments` of `tools/call`, raw, when bodies are exported.
    pub arguments: Option<String>,
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    uri: Option<Cow<'a, str>>,
    #[serde(rename = "protocolVersion", borrow)]
    protocol_version: Option<Cow<'a, str>>,
    #[serde(rename = "_meta", borrow)]
    meta: Option<Meta<'a>>,
    #[serde(borrow)]
    arguments: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow)]
    traceparent: Option<Cow<'a, str>>,
}

/// The facts of one request body; anything unexpected (params an array, a name that is
/// not a string) just leaves a fact out.
pub fn request_facts(body: &[u8]) -> RequestFacts {
    let probe: Probe = if let Ok(p) = serde_json::from_slice(body) {
        p
    } else {
        // Params of another shape (an array, a non-string name): only the method counts.
        #[derive(Deserialize)]
        struct MethodOnly<'a> {
            #[serde(borrow)]
            method: Option<Cow<'a, str>>,
        }
        match serde_json::from_slice::<MethodOnly>(body) {
            Ok(m) => Probe {
                method: m.method,
                params: None,
            },
            Err(_) => return RequestFacts::default(),
        }
    };
    let method = probe.method.as_deref().unwrap_or_default();
    let mut facts = RequestFacts {
        method_is_initialize: method == "initialize",
        method_is_tool_call: method == "tools/call",
        ..RequestFacts::default()
    };
    if let Some(p) = probe.params {
        facts.name = p.name.map(Cow::into_owned);
        facts.uri = p.uri.map(Cow::into_owned);
        facts.protocol_version = p.protocol_version.map(Cow::into_owned);
        facts.traceparent = p.meta.and_then(|m| m.traceparent).map(Cow::into_owned);
        facts.arguments = p.arguments.map(|a| a.get().to_owned());
    }
    facts
}

/// `tools/call get_weather`, `prompts/get summarize`, else the method (the MCP and RPC
/// conventions' span names).
pub fn span_name(method: &str, mcp: bool, facts: &RequestFacts) -> String {
    match (&facts.name, mcp, method) {
        (Some(target), true, "tools/call" | "prompts/get") => format!("{method} {target}"),
        _ => method.to_owned(),
    }
}

/// The attributes every rpctap span carries.
pub fn common(protocol: Option<Protocol>) -> Vec<KeyValue> {
    let mut v = vec![
        KeyValue::new(
            "rpc.system.name",
            if protocol == Some(Protocol::Dap) {
                "dap"
            } else {
                "jsonrpc"
            },
        ),
        KeyValue::new("network.transport", "pipe"),
    ];
    if let Some(p) = protocol {
        v.push(KeyValue::new("rpctap.protocol", p.as_str()));
    }
    v
}

/// What `request` needs to know.
pub struct RequestContext<'a> {
    pub method: &'a str,
    pub id: &'a Id,
    pub dir: Dir,
    pub protocol: Option<Protocol>,
    pub session_id: Option<&'a str>,
    pub facts: &'a RequestFacts,
    /// The request body, when bodies are exported.
    pub body: Option<&'a [u8]>,
}

pub fn id_text(id: &Id) -> String {
    match id {
        Id::Num(n) => n.to_string(),
        Id::Str(s) => s.clone(),
    }
}

/// The attributes of a request's span, known when the request is seen.
pub fn request(r: &RequestContext) -> Vec<KeyValue> {
    let mut v = common(r.protocol);
    v.push(KeyValue::new("rpc.method", r.method.to_owned()));
    v.push(KeyValue::new("jsonrpc.request.id", id_text(r.id)));
    v.push(KeyValue::new("rpctap.direction", r.dir.as_str()));
    if r.protocol != Some(Protocol::Dap) {
        v.push(KeyValue::new("jsonrpc.protocol.version", "2.0"));
    }
    if r.protocol == Some(Protocol::Mcp) {
        mcp(&mut v, r);
    }
    if let Some(body) = r.body {
        v.push(KeyValue::new("rpctap.request.body", cut(body)));
        if let (true, Some(args)) = (r.facts.method_is_tool_call, &r.facts.arguments) {
            v.push(KeyValue::new(
                "gen_ai.tool.call.arguments",
                cut(args.as_bytes()),
            ));
        }
    }
    v
}

fn mcp(v: &mut Vec<KeyValue>, r: &RequestContext) {
    v.push(KeyValue::new("mcp.method.name", r.method.to_owned()));
    if let Some(id) = r.session_id {
        v.push(KeyValue::new("mcp.session.id", id.to_owned()));
    }
    if let Some(uri) = &r.facts.uri {
        v.push(KeyValue::new("mcp.resource.uri", uri.clone()));
    }
    match (r.method, &r.facts.name) {
        ("tools/call", Some(tool)) => {
            v.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
            v.push(KeyValue::new("gen_ai.tool.name", tool.clone()));
        }
        ("prompts/get", Some(prompt)) => {
            v.push(KeyValue::new("gen_ai.prompt.name", prompt.clone()));
        }
        _ => {}
    }
}

/// The attributes of a notification's span event.
pub fn notification(
    method: &str,
    dir: Dir,
    protocol: Option<Protocol>,
    body: Option<&[u8]>,
) -> Vec<KeyValue> {
    let mut v = vec![
        KeyValue::new("rpc.method", method.to_owned()),
        KeyValue::new("rpctap.direction", dir.as_str()),
    ];
    if protocol == Some(Protocol::Mcp) {
        v.push(KeyValue::new("mcp.method.name", method.to_owned()));
    }
    if let Some(body) = body {
        v.push(KeyValue::new("rpctap.body", cut(body)));
    }
    v
}

/// The response's body (and for `tools/call` its result) as attributes.
pub fn response_body(v: &mut Vec<KeyValue>, facts: &RequestFacts, body: &[u8]) {
    v.push(KeyValue::new("rpctap.response.body", cut(body)));
    if facts.method_is_tool_call {
        #[derive(Deserialize)]
        struct R<'a> {
            #[serde(borrow)]
            result: Option<&'a serde_json::value::RawValue>,
        }
        if let Ok(R { result: Some(r) }) = serde_json::from_slice(body) {
            v.push(KeyValue::new(
                "gen_ai.tool.call.result",
                cut(r.get().as_bytes()),
            ));
        }
    }
}

/// `result.protocolVersion` of an `initialize` response (MCP's negotiated revision).
pub fn negotiated_version(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct R<'a> {
        #[serde(borrow)]
        result: Option<V<'a>>,
    }
    #[derive(Deserialize)]
    struct V<'a> {
        #[serde(rename = "protocolVersion", borrow)]
        protocol_version: Option<Cow<'a, str>>,
    }
    let r: R = serde_json::from_slice(body).ok()?;
    r.result?.protocol_version.map(Cow::into_owned)
}

/// A `tools/call` result with `isError: true` (MCP reports tool failures this way).
pub fn is_tool_error(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct R {
        result: Option<T>,
    }
    #[derive(Deserialize)]
    struct T {
        #[serde(rename = "isError")]
        is_error: Option<bool>,
    }
    serde_json::from_slice::<R>(body)
        .ok()
        .and_then(|r| r.result)
        .and_then(|t| t.is_error)
        .unwrap_or(false)
}

/// Text of at most `MAX_BODY_ATTRIBUTE` bytes, cut at a character boundary, marked `…`.
fn cut(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= MAX_BODY_ATTRIBUTE {
        return text.into_owned();
    }
    let mut end = MAX_BODY_ATTRIBUTE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
