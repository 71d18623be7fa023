//! OpenTelemetry export: each request/response pair of a session becomes a span with the
//! semantic conventions' attributes, sent over OTLP/HTTP (protobuf) to any collector,
//! live from the shim (`--otlp`) or from recordings (`rpctap export`).
//!
//! - `attrs`: attribute names and values (RPC, JSON-RPC, MCP conventions).
//! - `spans`: session events → spans, pure; the one place the span tree is decided.
//! - `sender`: the endpoint, and the OTLP exporter.
//! - `live`: the shim's observer: a bounded, never-blocking queue and the exporter thread.
//!
//! Not responsible for: redaction (the recorder redacts before any observer sees an
//! event), pairing rules (`session::OpenRequests`), reading files (`record`).

mod attrs;
mod live;
mod sender;
mod spans;

pub use attrs::MAX_BODY_ATTRIBUTE;
pub use live::LiveExport;
pub use sender::{endpoint, traces_url, Exporter, BATCH};
pub use spans::{parse_traceparent, SpanMaker, SpanOptions};

use crate::record::Event;

/// What sending one session's events produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub spans: u64,
    /// The session's trace, as 32 hex digits.
    pub trace_id: String,
}

/// Sends one recorded session with its original timestamps, in batches, waiting for each
/// (nothing is dropped: a failed request fails the export). `service` overrides the
/// session's name as `service.name`.
pub fn export_events(
    exporter: &mut Exporter,
    events: impl Iterator<Item = anyhow::Result<Event>>,
    options: SpanOptions,
    service: Option<&str>,
) -> anyhow::Result<Exported> {
    let mut maker = SpanMaker::new(options);
    let mut batch = Vec::new();
    let mut spans = 0u64;
    let mut exit = None;
    if let Some(name) = service {
        exporter.set_service(name);
    }
    for event in events {
        let event = event?;
        match &event {
            Event::Session(info) if service.is_none() => exporter.set_service(&info.name),
            Event::Exit(e) => exit = Some(e.t),
            _ => {}
        }
        maker.event(&event, &mut batch);
        if batch.len() >= BATCH {
            spans += batch.len() as u64;
            exporter.send(&mut batch).map_err(anyhow::Error::msg)?;
        }
    }
    maker.finish(exit, &mut batch);
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(BATCH));
        spans += batch.len() as u64;
        exporter.send(&mut batch).map_err(anyhow::Error::msg)?;
        batch = rest;
    }
    Ok(Exported {
        spans,
        trace_id: maker.trace_id(),
    })
}
