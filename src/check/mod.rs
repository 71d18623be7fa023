//! Protocol conformance: every message of a session checked against JSON-RPC 2.0, the
//! lifecycle of its protocol (LSP, MCP, DAP) and the official schemas shipped under
//! `assets/schemas/`.
//!
//! A `Checker` is fed a session's events in recording order and says, per event, which
//! rules it breaks. It is the one implementation behind `rpctap check`, the shim's live
//! checking (`live`) and the TUI's marker column and Problems view; it keeps bounded state
//! (the requests still waiting, a window of recently answered ids) so a live session of
//! any length checks in constant memory.
//!
//! Not responsible for: reading files (callers feed events), output formats (`report`).

mod dap;
mod file;
mod json;
mod jsonrpc;
pub mod live;
mod lsp;
mod mcp;
mod metamodel;
pub mod report;
pub mod rules;
mod schemas;

pub use file::check_file;
pub use rules::{Rule, Severity};

use crate::record::{Dir, Event, MessageEvent};
use crate::rpc::Protocol;
use crate::wire::Framing;
use json::{Doc, Json};

/// One broken rule, at one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static Rule,
    /// The `seq` of the event that breaks it (0: the session as a whole, e.g. its exit).
    pub seq: u64,
    /// What is wrong, in one line, naming the member at fault.
    pub message: String,
}

/// Violations counted by severity: the one tally of `stats`, live checking and a store's
/// problems.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub errors: u64,
    pub warnings: u64,
}

impl Counts {
    pub fn add(&mut self, found: &[Violation]) {
        for v in found {
            match v.rule.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
            }
        }
    }
}

/// Which rules a run reports: `--rule` keeps only those named, `--ignore` drops some.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    /// Every id must name a rule (or a prefix of rules ending in `/`, e.g. `schema/`).
    pub fn validate(&self) -> Result<(), String> {
        for id in self.only.iter().chain(&self.ignore) {
            let known = rules::ALL
                .iter()
                .any(|r| r.id == id || (id.ends_with('/') && r.id.starts_with(id.as_str())));
            if !known {
                return Err(format!(
                    "unknown rule '{id}' (see `rpctap check --list-rules`)"
                ));
            }
        }
        Ok(())
    }

    pub fn accepts(&self, rule: &Rule) -> bool {
        let hit = |id: &String| rule.id == id || (id.ends_with('/') && rule.id.starts_with(id));
        (self.only.is_empty() || self.only.iter().any(hit)) && !self.ignore.iter().any(hit)
    }
}

/// A message as the sub-checkers see it: parsed once, with its place in the session.
pub(crate) struct Msg<'a> {
    pub dir: Dir,
    /// The message, a JSON object.
    pub value: Json<'a>,
}

/// Collects the violations of one event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Out {
    seq: u64,
    list: Vec<Violation>,
    /// Events were skipped: rules that judge a message by what came before are silent.
    history_lost: bool,
}

/// The rules that need the whole history of the session to judge a message.
static HISTORY_RULES: &[&Rule] = &[
    &rules::UNKNOWN_RESPONSE,
    &rules::DUPLICATE_RESPONSE,
    &rules::DUPLICATE_ID,
    &rules::LSP_INITIALIZE,
    &rules::LSP_INITIALIZED,
    &rules::LSP_AFTER_SHUTDOWN,
    &rules::LSP_EXIT_CODE,
    &rules::LSP_CANCEL_UNKNOWN,
    &rules::MCP_INIT_FIRST,
    &rules::MCP_INITIALIZED,
    &rules::MCP_CAPABILITY,
    &rules::DAP_SEQ,
    &rules::DAP_REQUEST_SEQ,
    &rules::DAP_INIT_ORDER,
];

impl Out {
    pub fn push(&mut self, rule: &'static Rule, message: impl Into<String>) {
        if self.history_lost && HISTORY_RULES.iter().any(|r| r.id == rule.id) {
            return;
        }
        self.list.push(Violation {
            rule,
            seq: self.seq,
            message: message.into(),
        });
    }
}

/// Checks one session, event by event.
#[derive(Debug, Clone)]
pub struct Checker {
    protocol: Option<Protocol>,
    framing: [Option<Framing>; 2],
    rpc: jsonrpc::Pairing,
    lsp: lsp::Lifecycle,
    mcp: mcp::Lifecycle,
    dap: dap::Lifecycle,
    out: Out,
    /// The parsed body of the message being checked (its storage reused).
    doc: Doc,
}

impl Default for Checker {
    fn default() -> Self {
        Checker::new()
    }
}

impl Checker {
    pub fn new() -> Checker {
        Checker {
            protocol: None,
            framing: [None, None],
            rpc: jsonrpc::Pairing::default(),
            lsp: lsp::Lifecycle::default(),
            mcp: mcp::Lifecycle::default(),
            dap: dap::Lifecycle::default(),
            out: Out::default(),
            doc: Doc::default(),
        }
    }

    /// Some events will never be seen (the live checker fell behind): from now on only
    /// the rules that judge a message on its own report.
    pub fn lost_history(&mut self) {
        self.out.history_lost = true;
        self.rpc = jsonrpc::Pairing::default();
    }

    /// The protocol the session was recognised as speaking, once known.
    pub fn protocol(&self) -> Option<Protocol> {
        self.protocol
    }

    /// The violations of this event (empty for most).
    pub fn event(&mut self, event: &Event) -> &[Violation] {
        self.out.list.clear();
        match event {
            Event::Noise(n) => return self.noise(n.seq, n.dir, &n.text),
            Event::Exit(e) => return self.exit(e.code),
            Event::Session(info) => {
                self.protocol = info.protocol.as_deref().and_then(Protocol::parse);
            }
            Event::Message(m) => {
                self.out.seq = m.seq;
                self.message(m);
            }
            // Bytes were lost: what depends on history can no longer be judged.
            Event::Gap(_) => self.lost_history(),
            Event::Stderr(_) | Event::Undelivered(_) | Event::Release(_) => {}
        }
        &self.out.list
    }

    /// The violations of bytes outside any message.
    pub fn noise(&mut self, seq: u64, dir: Dir, text: &[u8]) -> &[Violation] {
        self.out.list.clear();
        self.out.seq = seq;
        let who = match dir {
            Dir::C2s => "the client",
            Dir::S2c => "the server",
        };
        let shown = String::from_utf8_lossy(text);
        let shown = shown.trim();
        if !shown.is_empty() {
            self.out.push(
                &rules::NOISE,
                format!(
                    "{who} wrote {} byte(s) outside any message: {:?}",
                    text.len(),
                    report::clip(shown, 60)
                ),
            );
        }
        &self.out.list
    }

    /// The violations of the server's exit (seq 0: the session as a whole).
    pub fn exit(&mut self, code: Option<i32>) -> &[Violation] {
        self.out.list.clear();
        self.out.seq = 0;
        if self.protocol == Some(Protocol::Lsp) {
            self.lsp.exit(code, &mut self.out);
        }
        &self.out.list
    }

    fn message(&mut self, m: &MessageEvent) {
        if m.oversized.is_some() {
            return;
        }
        self.parts(m.dir, m.framing, &m.body, m.headers.as_deref());
    }

    /// The violations of one message given by its parts (for callers that keep messages
    /// in their own form, such as the session store).
    pub fn message_parts(
        &mut self,
        seq: u64,
        dir: Dir,
        framing: Framing,
        body: &[u8],
        headers: Option<&[u8]>,
    ) -> &[Violation] {
        self.out.list.clear();
        self.out.seq = seq;
        self.parts(dir, framing, body, headers);
        &self.out.list
    }

    fn parts(&mut self, dir: Dir, framing: Framing, body: &[u8], headers: Option<&[u8]>) {
        self.framing_mismatch(dir, framing);
        if let Some(h) = headers {
            jsonrpc::headers(h, &mut self.out);
        }
        let mut doc = std::mem::take(&mut self.doc);
        match parse(&mut doc, body) {
            Ok(value) if value.is_array() => self.batch(dir, value),
            Ok(value) if value.is_object() => self.object(dir, value),
            Ok(_) => self.out.push(
                &rules::SHAPE,
                "a message is a JSON object (or a batch array)",
            ),
            Err(e) => jsonrpc::unparsable(framing, body, &e, &mut self.out),
        }
        self.doc = doc;
    }

    fn framing_mismatch(&mut self, dir: Dir, framing: Framing) {
        let i = dir as usize;
        if self.framing[i].is_some() {
            return;
        }
        self.framing[i] = Some(framing);
        if let Some(other) = self.framing[1 - i] {
            if other != framing {
                self.out.push(
                    &rules::FRAMING_MISMATCH,
                    format!(
                        "{} frames its messages as {}, the other side as {}",
                        dir.as_str(),
                        framing.as_str(),
                        other.as_str()
                    ),
                );
            }
        }
    }

    fn batch(&mut self, dir: Dir, items: Json) {
        if items.len() == 0 {
            return self.out.push(&rules::BATCH, "an empty batch");
        }
        let forbidden = match self.protocol {
            Some(Protocol::Lsp) => Some("LSP has no batches"),
            Some(Protocol::Dap) => Some("DAP has no batches"),
            Some(Protocol::Mcp) if self.mcp.forbids_batches() => {
                Some("MCP removed batches in revision 2025-06-18")
            }
            _ => None,
        };
        if let Some(why) = forbidden {
            self.out.push(&rules::BATCH, why);
        }
        for item in items.items() {
            if item.is_object() {
                self.object(dir, item);
            } else {
                self.out
                    .push(&rules::BATCH, "a batch element is not a message object");
            }
        }
    }

    fn object(&mut self, dir: Dir, value: Json) {
        let msg = Msg { dir, value };
        if self.protocol.is_none() {
            self.protocol = recognise(value);
        }
        if self.protocol == Some(Protocol::Dap) {
            return self.dap.message(&msg, &mut self.out);
        }
        let shape = self.rpc.shape(&msg, &mut self.out);
        match self.protocol {
            Some(Protocol::Lsp) => self.lsp.message(&msg, &shape, &self.rpc, &mut self.out),
            Some(Protocol::Mcp) => self.mcp.message(&msg, &shape, &mut self.out),
            _ => {}
        }
    }
}

/// What one message says about the protocol in use.
fn recognise(obj: Json) -> Option<Protocol> {
    if obj.contains_key("type") && obj.contains_key("seq") && !obj.contains_key("jsonrpc") {
        return Some(Protocol::Dap);
    }
    let method = obj.get("method")?.as_str()?;
    if method == "initialize" {
        let params = obj.get("params")?;
        if params.get("protocolVersion").is_some() {
            return Some(Protocol::Mcp);
        }
        return params.get("capabilities").map(|_| Protocol::Lsp);
    }
    if method == "server/discover" {
        return Some(Protocol::Mcp);
    }
    Protocol::from_method(method, None)
}

/// Parses a body into `doc`. A body that is not UTF-8 is not JSON either: `serde_json`
/// says where it fails.
fn parse<'d>(doc: &'d mut Doc, body: &'d [u8]) -> Result<Json<'d>, serde_json::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => doc.parse(text),
        Err(_) => Err(serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .err()
            .unwrap_or_else(|| serde::de::Error::custom("not UTF-8"))),
    }
}

/// Checks a whole stream of events; the violations in event order.
pub fn check_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<Violation> {
    let mut checker = Checker::new();
    let mut all = Vec::new();
    for e in events {
        all.extend_from_slice(checker.event(e));
    }
    all
}
