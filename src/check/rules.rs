//! The catalogue of conformance rules: an id, a severity, one line saying what the rule
//! asks, and the spec section it comes from. `docs/conformance.md` lists the same rules
//! with an example each (a test keeps the two in step).

/// How bad a violation is: `rpctap check` exits 1 only on errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One rule of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, `area/name`, as `--rule`, `--ignore` and the filter's `rule:` take it.
    pub id: &'static str,
    pub severity: Severity,
    /// What the rule asks, in one line.
    pub summary: &'static str,
    /// The spec section the rule comes from.
    pub link: &'static str,
}

const JSONRPC: &str = "https://www.jsonrpc.org/specification";
const MCP: &str = "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle";

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $summary:literal, $link:expr;)*) => {
        $(pub static $name: Rule = Rule {
            id: $id,
            severity: Severity::$sev,
            summary: $summary,
            link: $link,
        };)*
        /// Every rule, in the order the documentation lists them.
        pub static ALL: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    INVALID_JSON = "jsonrpc/invalid-json", Error,
        "a message body must be valid JSON", JSONRPC;
    VERSION = "jsonrpc/version", Error,
        "every message has \"jsonrpc\": \"2.0\"", JSONRPC;
    SHAPE = "jsonrpc/shape", Error,
        "a message is a request, a notification or a response: `method` a string, `params` an object or array", JSONRPC;
    ID_TYPE = "jsonrpc/id-type", Error,
        "an id is a string, a number or null", JSONRPC;
    ID_STYLE = "jsonrpc/id-style", Warning,
        "a request id should not be null and numbers should not have fractional parts", JSONRPC;
    RESULT_XOR_ERROR = "jsonrpc/result-xor-error", Error,
        "a response has exactly one of `result` and `error`", JSONRPC;
    ERROR_OBJECT = "jsonrpc/error-object", Error,
        "an error has an integer `code` and a string `message`", JSONRPC;
    UNKNOWN_RESPONSE = "jsonrpc/unknown-response", Error,
        "a response answers a request of the other side that is still waiting", JSONRPC;
    DUPLICATE_RESPONSE = "jsonrpc/duplicate-response", Error,
        "a request is answered once", JSONRPC;
    DUPLICATE_ID = "jsonrpc/duplicate-id", Error,
        "a side does not reuse the id of its own request still waiting for an answer", JSONRPC;
    BATCH = "jsonrpc/batch", Error,
        "a batch is a non-empty array of messages (and the protocol allows batches)", JSONRPC;
    CONTENT_LENGTH = "framing/content-length", Error,
        "Content-Length equals the number of bytes of the body", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#headerPart";
    CHARSET = "framing/charset", Error,
        "the Content-Type charset is utf-8", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#headerPart";
    NDJSON = "framing/ndjson", Error,
        "newline-delimited JSON carries one message per line, with no newline inside it", "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio";
    FRAMING_MISMATCH = "framing/mismatch", Error,
        "both directions of a session use the same framing", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#baseProtocol";
    NOISE = "framing/noise", Error,
        "nothing but messages is written on the protocol stream (logs belong on stderr)", "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio";
    LSP_INITIALIZE = "lsp/initialize", Error,
        "`initialize` comes first and once; only the server's window/showMessage(Request), window/logMessage, telemetry/event and $/progress may precede its response", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#initialize";
    LSP_INITIALIZED = "lsp/initialized", Error,
        "the client sends `initialized` once, after the initialize response and before anything else", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#initialized";
    LSP_AFTER_SHUTDOWN = "lsp/after-shutdown", Error,
        "after `shutdown` the client sends nothing but `exit`", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#shutdown";
    LSP_EXIT_CODE = "lsp/exit-code", Warning,
        "the server exits with 0 after shutdown, 1 on an exit without shutdown", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#exit";
    LSP_CANCEL_UNKNOWN = "lsp/cancel-unknown", Warning,
        "`$/cancelRequest` names a request that was sent", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#cancelRequest";
    MCP_INIT_FIRST = "mcp/initialize-first", Error,
        "the client's first request is `initialize`, and only pings precede its response", MCP;
    MCP_VERSION = "mcp/protocol-version", Error,
        "initialize names a protocolVersion, the server answers with one (a revision rpctap knows is checked by its schema)", "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#version-negotiation";
    MCP_INITIALIZED = "mcp/initialized", Error,
        "the client sends notifications/initialized after the initialize response, before other requests", MCP;
    MCP_CAPABILITY = "mcp/capability", Error,
        "a side uses only the capabilities its peer declared in initialize", "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#capability-negotiation";
    DAP_SEQ = "dap/seq", Error,
        "`seq` starts at 1 and grows by one with every message a side sends", "https://microsoft.github.io/debug-adapter-protocol/specification#Base_Protocol_ProtocolMessage";
    DAP_REQUEST_SEQ = "dap/request-seq", Error,
        "a response's `request_seq` and `command` name a request of the other side still waiting", "https://microsoft.github.io/debug-adapter-protocol/specification#Base_Protocol_Response";
    DAP_INIT_ORDER = "dap/initialize-order", Error,
        "`initialize` comes first; the `initialized` event follows its response; `configurationDone` follows the event", "https://microsoft.github.io/debug-adapter-protocol/overview#initialization";
    SCHEMA_LSP = "schema/lsp", Error,
        "params and results match the LSP metaModel (3.17, or 3.18)", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.18/metaModel/metaModel.json";
    SCHEMA_LSP_NULL = "schema/lsp-null", Warning,
        "an optional property without a value is left out, not sent as null (unless the metaModel allows null)", "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/#baseTypes";
    SCHEMA_MCP = "schema/mcp", Error,
        "messages match the MCP schema.json of the negotiated revision", "https://github.com/modelcontextprotocol/modelcontextprotocol/tree/main/schema";
    SCHEMA_DAP = "schema/dap", Error,
        "messages match debugAdapterProtocol.json", "https://microsoft.github.io/debug-adapter-protocol/specification";
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}
