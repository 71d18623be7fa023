//! Session events → OpenTelemetry spans, the same way for a live shim and a recording.
//!
//! One trace per session: a root span for the session (sent when it ends), a span per
//! request/response pair (from the request to its response; an error status for an error
//! response, or for a request cancelled or unanswered when the session ends), and the
//! notifications as span events, gathered on short "notifications" spans so that they
//! reach the backend while the session runs and memory stays bounded. A `traceparent` in
//! a request's `params._meta` makes its span a child of the caller's span instead.
//!
//! Spans describe the wrapped server's side of each exchange (its `service.name` is the
//! session's name): a client request is a SERVER span, a server-to-client request a
//! CLIENT span. Pure: no I/O, no clock; times are the recorded ones.
//!
//! Not responsible for: sending (see `sender`), reading recordings (see `record`).

use super::attrs::{self, RequestFacts};
use crate::record::{Dir, Event, Micros, SessionInfo};
use crate::rpc::{classify, Id, Kind, Protocol};
use crate::session::OpenRequests;
use opentelemetry::trace::{
    Event as SpanEvent, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SpanData, SpanEvents, SpanLinks};
use std::time::{Duration, SystemTime};

/// Notifications gathered on one "notifications" span at most; a fuller one is closed.
const NOTES_PER_SPAN: usize = 128;
/// Requests waiting for an answer that are tracked at most: a server that never answers
/// must not grow the exporter without bound. Further requests are counted, not spanned.
pub const MAX_OPEN: usize = 10_000;

/// A request waiting for its response.
struct Open {
    context: SpanContext,
    parent: SpanContext,
    start: Micros,
    name: String,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    cancelled: bool,
    facts: RequestFacts,
}

/// What the sender asks of the span maker.
#[derive(Debug, Clone, Default)]
pub struct SpanOptions {
    /// Put request and response bodies into attributes (`--otlp-bodies`).
    pub bodies: bool,
}

/// Turns one session's events into finished spans.
pub struct SpanMaker {
    options: SpanOptions,
    ids: RandomIdGenerator,
    scope: InstrumentationScope,
    /// The session span: every span without a `traceparent` is its child.
    root: SpanContext,
    info: Option<SessionInfo>,
    protocol: Option<Protocol>,
    mcp_version: Option<String>,
    /// The time of the first and the latest event seen.
    first: Option<Micros>,
    last: Micros,
    open: OpenRequests<Id, Open>,
    notes: Vec<SpanEvent>,
    requests: u64,
    /// Requests not tracked because `MAX_OPEN` were waiting.
    untracked: u64,
}

pub fn system_time(t: Micros) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_micros(u64::try_from(t.0).unwrap_or(0))
}

fn context(trace: TraceId, span: SpanId, remote: bool) -> SpanContext {
    SpanContext::new(
        trace,
        span,
        TraceFlags::SAMPLED,
        remote,
        TraceState::default(),
    )
}

impl SpanMaker {
    pub fn new(options: SpanOptions) -> SpanMaker {
        let ids = RandomIdGenerator::default();
        let root = context(ids.new_trace_id(), ids.new_span_id(), false);
        SpanMaker {
            options,
            ids,
            scope: InstrumentationScope::builder("rpctap")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            root,
            info: None,
            protocol: None,
            mcp_version: None,
            first: None,
            last: Micros(0),
            open: OpenRequests::default(),
            notes: Vec::new(),
            requests: 0,
            untracked: 0,
        }
    }

    /// The session's name, once its first line was seen.
    pub fn session(&self) -> Option<&SessionInfo> {
        self.info.as_ref()
    }

    /// The trace every span of this session belongs to (unless a `traceparent` said
    /// otherwise), as 32 hex digits.
    pub fn trace_id(&self) -> String {
        self.root.trace_id().to_string()
    }

    /// Feeds one event; finished spans are appended to `out`.
    pub fn event(&mut self, event: &Event, out: &mut Vec<SpanData>) {
        if let Some(t) = event.time() {
            self.first.get_or_insert(t);
            self.last = self.last.max(t);
        }
        match event {
            Event::Session(info) => {
                if let Some(p) = info.protocol.as_deref().and_then(Protocol::parse) {
                    self.protocol = Some(p);
                }
                self.info = Some(info.clone());
            }
            Event::Message(m) if m.oversized.is_none() => self.message(m.dir, m.t, &m.body, out),
            _ => {}
        }
    }

    fn message(&mut self, dir: Dir, t: Micros, body: &[u8], out: &mut Vec<SpanData>) {
        let c = classify(body);
        if self.protocol.is_none() {
            self.protocol = c.protocol;
        }
        if let Some(target) = c.cancels.clone() {
            if let Some(open) = self.open.get_mut(dir, target) {
                open.cancelled = true;
            }
        }
        match (c.kind, c.method, c.id) {
            (Kind::Request, Some(method), Some(id)) => self.request(dir, t, &method, id, body, out),
            (Kind::Notification, Some(method), _) => self.notification(dir, t, method, body, out),
            (kind @ (Kind::Response | Kind::Error), _, Some(id)) => {
                let Some(open) = self.open.response(dir, id) else {
                    return;
                };
                let outcome = if kind == Kind::Error {
                    Outcome::Error(c.error_code, c.error_message)
                } else {
                    Outcome::Result
                };
                out.push(self.finish_span(open, t, &outcome, Some(body)));
            }
            _ => {}
        }
    }

    fn request(
        &mut self,
        dir: Dir,
        t: Micros,
        method: &str,
        id: Id,
        body: &[u8],
        out: &mut Vec<SpanData>,
    ) {
        self.requests += 1;
        if self.open.len() >= MAX_OPEN {
            self.untracked += 1;
            return;
        }
        let facts = attrs::request_facts(body);
        if facts.method_is_initialize && self.mcp_version.is_none() {
            // The revision the client asks for, until the answer says which one it got.
            self.mcp_version.clone_from(&facts.protocol_version);
        }
        let parent = facts
            .traceparent
            .as_deref()
            .and_then(parse_traceparent)
            .unwrap_or_else(|| self.root.clone());
        let span = context(parent.trace_id(), self.ids.new_span_id(), false);
        let mcp = self.protocol == Some(Protocol::Mcp);
        let session_id = self.info.as_ref().map(|i| i.id.as_str());
        let attributes = attrs::request(&attrs::RequestContext {
            method,
            id: &id,
            dir,
            protocol: self.protocol,
            session_id,
            facts: &facts,
            body: self.options.bodies.then_some(body),
        });
        let open = Open {
            context: span,
            parent,
            start: t,
            name: attrs::span_name(method, mcp, &facts),
            kind: match dir {
                Dir::C2s => SpanKind::Server,
                Dir::S2c => SpanKind::Client,
            },
            attributes,
            cancelled: false,
            facts,
        };
        if let Some(previous) = self.open.request(dir, id, open) {
            // Its answer can no longer be told apart from the new request's.
            out.push(self.finish_span(previous, t, &Outcome::Unanswered("duplicate id"), None));
        }
    }

    fn notification(
        &mut self,
        dir: Dir,
        t: Micros,
        method: String,
        body: &[u8],
        out: &mut Vec<SpanData>,
    ) {
        let attributes = attrs::notification(
            &method,
            dir,
            self.protocol,
            self.options.bodies.then_some(body),
        );
        self.notes
            .push(SpanEvent::new(method, system_time(t), attributes, 0));
        if self.notes.len() >= NOTES_PER_SPAN {
            self.flush_notifications(out);
        }
    }

    /// Closes the span gathering the notifications seen so far, if any. The sender calls
    /// this on each of its flushes, so notifications reach the backend while the session
    /// runs.
    pub fn flush_notifications(&mut self, out: &mut Vec<SpanData>) {
        if self.notes.is_empty() {
            return;
        }
        let mut events = SpanEvents::default();
        events.events = std::mem::take(&mut self.notes);
        let start = events[0].timestamp;
        let end = events[events.len() - 1].timestamp;
        let mut attributes = attrs::common(self.protocol);
        attributes.push(KeyValue::new(
            "rpctap.notifications",
            i64::try_from(events.len()).unwrap_or(i64::MAX),
        ));
        out.push(SpanData {
            span_context: context(self.root.trace_id(), self.ids.new_span_id(), false),
            parent_span_id: self.root.span_id(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "notifications".into(),
            start_time: start,
            end_time: end,
            attributes,
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: self.scope.clone(),
        });
    }

    /// The session ended at `end` (its exit, or the last event seen): requests still
    /// waiting become error spans, then the notifications and the session span follow.
    pub fn finish(&mut self, end: Option<Micros>, out: &mut Vec<SpanData>) {
        let end = end.unwrap_or(self.last).max(self.last);
        let mut waiting: Vec<Open> = self.open.drain().map(|(_, open)| open).collect();
        waiting.sort_by_key(|o| o.start);
        for open in waiting {
            let why = if open.cancelled {
                "cancelled"
            } else {
                "unanswered"
            };
            out.push(self.finish_span(open, end, &Outcome::Unanswered(why), None));
        }
        self.flush_notifications(out);
        let Some(first) = self.first else { return };
        let info = self.info.as_ref();
        let mut attributes = attrs::common(self.protocol);
        if let Some(i) = info {
            attributes.push(KeyValue::new("rpctap.session.id", i.id.clone()));
            attributes.push(KeyValue::new("process.command_args", i.command.join(" ")));
        }
        attributes.push(KeyValue::new(
            "rpctap.requests",
            i64::try_from(self.requests).unwrap_or(i64::MAX),
        ));
        if self.untracked > 0 {
            attributes.push(KeyValue::new(
                "rpctap.untracked_requests",
                i64::try_from(self.untracked).unwrap_or(i64::MAX),
            ));
        }
        let name = info.map_or_else(|| "session".to_owned(), |i| format!("session {}", i.name));
        out.push(SpanData {
            span_context: self.root.clone(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: system_time(first),
            end_time: system_time(end),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: self.scope.clone(),
        });
    }

    fn finish_span(
        &mut self,
        open: Open,
        end: Micros,
        outcome: &Outcome,
        response: Option<&[u8]>,
    ) -> SpanData {
        let mut attributes = open.attributes;
        if open.facts.method_is_initialize {
            if let Some(v) = response.and_then(attrs::negotiated_version) {
                self.mcp_version = Some(v);
            }
        }
        // Known at the end rather than the start: a client may send its next requests
        // before the answer to `initialize` arrives.
        if let (Some(Protocol::Mcp), Some(v)) = (self.protocol, &self.mcp_version) {
            attributes.push(KeyValue::new("mcp.protocol.version", v.clone()));
        }
        let status = match outcome {
            Outcome::Error(code, message) => {
                if let Some(code) = code {
                    attributes.push(KeyValue::new("rpc.response.status_code", code.to_string()));
                    attributes.push(KeyValue::new("error.type", code.to_string()));
                }
                Status::error(message.clone().unwrap_or_else(|| "error response".into()))
            }
            Outcome::Unanswered(why) => {
                attributes.push(KeyValue::new("error.type", *why));
                Status::error(format!("{why}: no response before the session ended"))
            }
            Outcome::Result
                if open.facts.method_is_tool_call && response.is_some_and(attrs::is_tool_error) =>
            {
                attributes.push(KeyValue::new("error.type", "tool_error"));
                Status::error("the tool reported an error")
            }
            Outcome::Result => Status::Unset,
        };
        if open.cancelled {
            attributes.push(KeyValue::new("rpctap.cancelled", true));
        }
        if let (true, Some(body)) = (self.options.bodies, response) {
            attrs::response_body(&mut attributes, &open.facts, body);
        }
        SpanData {
            span_context: open.context,
            parent_span_id: open.parent.span_id(),
            parent_span_is_remote: open.parent.is_remote(),
            span_kind: open.kind,
            name: open.name.into(),
            start_time: system_time(open.start),
            end_time: system_time(end.max(open.start)),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: self.scope.clone(),
        }
    }
}

enum Outcome {
    Result,
    Error(Option<i64>, Option<String>),
    Unanswered(&'static str),
}

/// `00-<trace id>-<span id>-<flags>` (W3C Trace Context), as a remote parent.
pub fn parse_traceparent(text: &str) -> Option<SpanContext> {
    let mut parts = text.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !(hex(version, 2) && hex(trace, 32) && hex(span, 16) && hex(flags, 2)) || version == "ff" {
        return None;
    }
    let trace = TraceId::from_hex(trace).ok()?;
    let span = SpanId::from_hex(span).ok()?;
    if trace == TraceId::INVALID || span == SpanId::INVALID {
        return None;
    }
    Some(context(trace, span, true))
}

#[cfg(test)]
#[path = "spans_tests.rs"]
mod tests;
