//! MCP lifecycle rules: initialize first, version negotiation, `notifications/initialized`,
//! capabilities used only when declared; and the hand-off to the schema of the negotiated
//! revision. Revision 2026-07-28 has no initialize: each request names its version and
//! the client's capabilities in `params._meta`.

use super::json::Json;
use super::jsonrpc::{key, Shape};
use super::{rules, schemas, Msg, Out};
use crate::record::Dir;
use serde_json::Value;

/// The request `_meta` key that names the revision in stateless MCP (2026-07-28).
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

#[derive(Debug, Clone, Default)]
pub(crate) struct Lifecycle {
    /// The id of the `initialize` request, while it waits.
    init_id: Option<String>,
    /// The client's requested version, then the negotiated one.
    revision: Option<String>,
    answered: bool,
    initialized: bool,
    /// Requests carry their version in `_meta`: no initialize handshake.
    stateless: bool,
    client_caps: Option<Value>,
    server_caps: Option<Value>,
    /// The client has sent a request other than initialize.
    requested: bool,
}

impl Lifecycle {
    /// Batches were removed in 2025-06-18.
    pub fn forbids_batches(&self) -> bool {
        self.revision.as_deref().is_some_and(|r| r >= "2025-06-18")
    }

    pub fn message(&mut self, msg: &Msg, shape: &Shape, out: &mut Out) {
        match (msg.dir, shape) {
            (Dir::C2s, Shape::Request { method, params }) => {
                self.client_request(msg, method, *params, out);
            }
            (Dir::C2s, Shape::Notification { method, .. }) => {
                if *method == "notifications/initialized" {
                    if !self.answered && !self.stateless {
                        out.push(
                            &rules::MCP_INITIALIZED,
                            "notifications/initialized before the initialize response",
                        );
                    }
                    self.initialized = true;
                }
                self.uses_capability(Dir::C2s, method, false, out);
            }
            (Dir::S2c, Shape::Request { method, .. }) => {
                self.uses_capability(Dir::S2c, method, true, out);
            }
            (Dir::S2c, Shape::Notification { method, .. }) => {
                self.uses_capability(Dir::S2c, method, false, out);
            }
            (Dir::S2c, Shape::Response { id, result, .. }) => {
                self.server_response(*id, *result, out);
            }
            _ => {}
        }
        if let Some(rev) = &self.revision {
            schemas::check_mcp(rev, msg, shape, out);
        }
    }

    fn client_request(&mut self, msg: &Msg, method: &str, params: Option<Json>, out: &mut Out) {
        let meta_version = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(META_VERSION))
            .and_then(|v| v.as_str());
        if let Some(v) = meta_version {
            self.stateless = true;
            self.revision = Some(v.to_owned());
            if let Some(caps) = params
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get("io.modelcontextprotocol/clientCapabilities"))
            {
                self.client_caps = Some(caps.to_value());
            }
        }
        if method == "initialize" {
            if self.requested || self.init_id.is_some() || self.answered {
                out.push(&rules::MCP_INIT_FIRST, "a second initialize request");
            }
            self.init_id = msg.value.get("id").map(key);
            let p = params.filter(super::json::Json::is_object);
            match p
                .and_then(|p| p.get("protocolVersion"))
                .and_then(|v| v.as_str())
            {
                Some(v) => self.revision = Some(v.to_owned()),
                _ => out.push(
                    &rules::MCP_VERSION,
                    "initialize params have no string protocolVersion",
                ),
            }
            self.client_caps = p
                .and_then(|p| p.get("capabilities"))
                .map(super::json::Json::to_value);
            return;
        }
        self.requested = true;
        if self.stateless || method == "ping" {
            return self.uses_capability(Dir::C2s, method, true, out);
        }
        if !self.answered {
            out.push(
                &rules::MCP_INIT_FIRST,
                format!("the client sent {method} before the initialize response"),
            );
        } else if !self.initialized {
            out.push(
                &rules::MCP_INITIALIZED,
                format!("the client sent {method} before notifications/initialized"),
            );
        }
        self.uses_capability(Dir::C2s, method, true, out);
    }

    fn server_response(&mut self, id: Json, result: Option<Json>, out: &mut Out) {
        if let Some(r) = result.filter(|r| r.get("supportedVersions").is_some()) {
            // server/discover (2026-07-28): the server's capabilities.
            self.server_caps = r.get("capabilities").map(super::json::Json::to_value);
        }
        if self.init_id.as_deref() != Some(&key(id)) {
            return;
        }
        self.init_id = None;
        let Some(result) = result else {
            return; // an error: the client may try again
        };
        self.answered = true;
        match result.get("protocolVersion").and_then(|v| v.as_str()) {
            Some(v) => self.revision = Some(v.to_owned()),
            _ => out.push(
                &rules::MCP_VERSION,
                "the initialize result has no string protocolVersion",
            ),
        }
        self.server_caps = result.get("capabilities").map(super::json::Json::to_value);
    }

    /// `method`, sent travelling `dir`, needs a capability declared by the receiver (a
    /// request) or by the sender itself (a notification about its own feature).
    fn uses_capability(&self, dir: Dir, method: &str, request: bool, out: &mut Out) {
        let server = (dir == Dir::C2s) == request;
        let (caps, who) = if server {
            (&self.server_caps, "server")
        } else {
            (&self.client_caps, "client")
        };
        let Some(caps) = caps else {
            return;
        };
        let Some(path) = needed(dir, method, request) else {
            return;
        };
        let mut v = caps;
        for step in path.split('.') {
            match v.get(step) {
                Some(x) if !x.is_null() && x != &Value::Bool(false) => v = x,
                _ => {
                    return out.push(
                        &rules::MCP_CAPABILITY,
                        format!(
                        "{method} needs the {who} capability `{path}`, which it did not declare"
                    ),
                    )
                }
            }
        }
    }
}

/// The capability a method needs of the side receiving it.
fn needed(dir: Dir, method: &str, request: bool) -> Option<&'static str> {
    let prefix = |p: &str| method.starts_with(p);
    Some(match (dir, request) {
        (Dir::C2s, true) => match method {
            "resources/subscribe" | "resources/unsubscribe" => "resources.subscribe",
            "logging/setLevel" => "logging",
            "completion/complete" => "completions",
            _ if prefix("tools/") => "tools",
            _ if prefix("resources/") => "resources",
            _ if prefix("prompts/") => "prompts",
            _ => return None,
        },
        (Dir::C2s, false) => match method {
            "notifications/roots/list_changed" => "roots.listChanged",
            _ => return None,
        },
        (Dir::S2c, true) => match method {
            "sampling/createMessage" => "sampling",
            "roots/list" => "roots",
            "elicitation/create" => "elicitation",
            _ => return None,
        },
        (Dir::S2c, false) => match method {
            "notifications/tools/list_changed" => "tools.listChanged",
            "notifications/prompts/list_changed" => "prompts.listChanged",
            "notifications/resources/list_changed" => "resources.listChanged",
            "notifications/resources/updated" => "resources.subscribe",
            "notifications/message" => "logging",
            _ => return None,
        },
    })
}
