//! Which protocol a session speaks, recognised from its method names.

/// The protocols rpctap knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Lsp,
    Mcp,
    Dap,
    JsonRpc,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Lsp => "lsp",
            Protocol::Mcp => "mcp",
            Protocol::Dap => "dap",
            Protocol::JsonRpc => "jsonrpc",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        [
            Protocol::Lsp,
            Protocol::Mcp,
            Protocol::Dap,
            Protocol::JsonRpc,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// What a JSON-RPC method name (and, for `initialize`, its params) says.
    pub fn from_method(method: &str, params: Option<&str>) -> Option<Protocol> {
        const LSP: &[&str] = &[
            "textDocument/",
            "workspace/",
            "window/",
            "$/",
            "client/",
            "telemetry/",
            "callHierarchy/",
            "typeHierarchy/",
            "completionItem/",
            "codeAction/",
            "codeLens/",
            "inlayHint/",
            "documentLink/",
            "notebookDocument/",
        ];
        const MCP: &[&str] = &[
            "tools/",
            "resources/",
            "prompts/",
            "notifications/",
            "sampling/",
            "logging/",
            "roots/",
            "completion/",
            "elicitation/",
        ];
        if method == "initialize" {
            return match params {
                Some(p) if p.contains("\"protocolVersion\"") => Some(Protocol::Mcp),
                Some(p) if p.contains("\"capabilities\"") => Some(Protocol::Lsp),
                _ => None,
            };
        }
        if LSP.iter().any(|p| method.starts_with(p))
            || matches!(method, "initialized" | "shutdown" | "exit")
        {
            Some(Protocol::Lsp)
        } else if MCP.iter().any(|p| method.starts_with(p)) || method == "ping" {
            Some(Protocol::Mcp)
        } else {
            None
        }
    }
}
