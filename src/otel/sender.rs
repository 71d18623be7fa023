//! Sending spans: the OTLP/HTTP (protobuf) exporter of `opentelemetry-otlp`, driven from
//! a thread of rpctap's own, and the shim's live observer that feeds that thread.
//!
//! The live path never slows forwarding: the recorder hands each event to a bounded queue
//! (bounded in events and in body bytes) and moves on; when the queue is full the event is
//! dropped and counted, with one warning. The exporter thread pairs, batches (up to
//! `BATCH` spans or every `FLUSH_EVERY`) and sends; a failing backend costs spans, never
//! forwarding.

use super::spans::{SpanMaker, SpanOptions};
use crate::proxy::Observer;
use crate::record::{Event, Micros};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Spans sent in one request at most.
pub const BATCH: usize = 512;
/// A partial batch (and the notifications gathered so far) is sent this often.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How long one export request may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Events waiting for the exporter thread at most, and their body bytes at most.
const QUEUE_EVENTS: usize = 8192;
const QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// When the session ends, the last spans get this long to leave before the shim exits.
/// Short: the supervisor gives the recorder (and so its observers, then live viewers)
/// about two seconds without progress before it exits anyway.
const FINISH_WAIT: Duration = Duration::from_millis(800);

/// The OTLP endpoint: `base` is a collector's base URL (as `OTEL_EXPORTER_OTLP_ENDPOINT`
/// means), to which `/v1/traces` is appended.
pub fn traces_url(base: &str) -> Result<String, String> {
    let base = base.trim();
    let rest = base.strip_prefix("http://").ok_or_else(|| {
        if base.starts_with("https://") {
            format!("'{base}': only http:// endpoints are supported (no TLS); send to a local collector")
        } else {
            format!("'{base}' is not an http:// URL")
        }
    })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("'{base}' has no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(format!("'{base}': a base URL takes no query or fragment"));
    }
    Ok(format!("{}/v1/traces", base.trim_end_matches('/')))
}

/// Where spans go: the `--otlp` base URL, else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
/// (the full URL, as the standard says), else `OTEL_EXPORTER_OTLP_ENDPOINT` (a base).
/// `None`: export is off.
pub fn endpoint(arg: Option<&str>) -> Result<Option<String>, String> {
    if let Some(base) = arg {
        return traces_url(base).map(Some);
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(full) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        // Checked as a base would be, then used as given.
        traces_url(&full).map_err(|e| format!("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT {e}"))?;
        return Ok(Some(full.trim().to_owned()));
    }
    match var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Some(base) => traces_url(&base)
            .map(Some)
            .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT {e}")),
        None => Ok(None),
    }
}

/// An OTLP/HTTP exporter with the runtime its HTTP client needs.
pub struct Exporter {
    url: String,
    runtime: tokio::runtime::Runtime,
    inner: opentelemetry_otlp::SpanExporter,
    /// Spans accepted by the backend, and spans lost to failed requests.
    pub sent: u64,
    pub failed: u64,
    /// The first failure, kept to say once.
    pub first_error: Option<String>,
}

impl Exporter {
    pub fn new(url: &str, service_name: &str) -> Result<Exporter, String> {
        // hyper's client runs on a tokio runtime: a small one of its own, off every
        // other thread's.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the OpenTelemetry exporter: {e}"))?;
        let mut inner = {
            let _guard = runtime.enter();
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(url)
                .with_timeout(EXPORT_TIMEOUT)
                .build()
                .map_err(|e| format!("bad OpenTelemetry endpoint '{url}': {e}"))?
        };
        inner.set_resource(&resource(service_name));
        Ok(Exporter {
            url: url.to_owned(),
            runtime,
            inner,
            sent: 0,
            failed: 0,
            first_error: None,
        })
    }

    /// Sends one batch; the first failure is said on stderr, later ones only counted.
    pub fn send_or_warn(&mut self, batch: &mut Vec<SpanData>) {
        let first = self.first_error.is_none();
        if let Err(e) = self.send(batch) {
            if first {
                eprintln!(
                    "rpctap: warning: OpenTelemetry: {e}; spans are dropped until it recovers"
                );
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `service.name` of the spans sent from now on.
    pub fn set_service(&mut self, name: &str) {
        self.inner.set_resource(&resource(name));
    }

    /// Sends one batch (emptying it); a failure is counted and returned.
    pub fn send(&mut self, batch: &mut Vec<SpanData>) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let n = batch.len() as u64;
        let spans = std::mem::take(batch);
        match self.runtime.block_on(self.inner.export(spans)) {
            Ok(()) => {
                self.sent += n;
                Ok(())
            }
            Err(e) => {
                self.failed += n;
                let e = format!("sending spans to {} failed: {e}", self.url);
                self.first_error.get_or_insert_with(|| e.clone());
                Err(e)
            }
        }
    }
}

fn resource(service_name: &str) -> Resource {
    Resource::builder()
        .with_service_name(service_name.to_owned())
        .build()
}

/// The shim's observer: queues events for the exporter thread.
pub struct LiveExport {
    tx: Option<SyncSender<Event>>,
    queued: Arc<AtomicUsize>,
    dropped: u64,
    done: Option<mpsc::Receiver<Exporter>>,
}

impl LiveExport {
    /// Starts the exporter thread.
    pub fn start(exporter: Exporter, options: SpanOptions) -> std::io::Result<LiveExport> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_EVENTS);
        let (done_tx, done) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        std::thread::Builder::new()
            .name("rpctap-otlp".into())
            .spawn(move || {
                let exporter = run(exporter, SpanMaker::new(options), &rx, &q);
                let _ = done_tx.send(exporter);
            })?;
        Ok(LiveExport {
            tx: Some(tx),
            queued,
            dropped: 0,
            done: Some(done),
        })
    }

    fn drop_one(&mut self) {
        if self.dropped == 0 {
            eprintln!(
                "rpctap: warning: OpenTelemetry export is behind; dropping events (forwarding is not affected)"
            );
        }
        self.dropped += 1;
    }
}

fn size(event: &Event) -> usize {
    match event {
        Event::Message(m) => m.body.len(),
        _ => 64,
    }
}

impl Observer for LiveExport {
    fn event(&mut self, event: &Event) {
        if matches!(event, Event::Noise(_) | Event::Stderr(_) | Event::Gap(_)) {
            return;
        }
        let Some(tx) = &self.tx else { return };
        let n = size(event);
        if self.queued.load(Ordering::Relaxed) + n > QUEUE_BYTES {
            return self.drop_one();
        }
        // Added before sending so that the thread's subtraction never goes below zero.
        self.queued.fetch_add(n, Ordering::Relaxed);
        match tx.try_send(event.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.queued.fetch_sub(n, Ordering::Relaxed);
                self.drop_one();
            }
            Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(n, Ordering::Relaxed);
                self.tx = None;
            }
        }
    }

    fn finish(&mut self) {
        self.tx = None;
        // Said first: the shim may exit while the last spans are being sent.
        if self.dropped > 0 {
            eprintln!(
                "rpctap: warning: OpenTelemetry export dropped {} events it could not keep up with",
                self.dropped
            );
        }
        let Some(done) = self.done.take() else { return };
        match done.recv_timeout(FINISH_WAIT) {
            Ok(exporter) => {
                if let Some(e) = &exporter.first_error {
                    eprintln!(
                        "rpctap: warning: OpenTelemetry: {} of {} spans not delivered ({e})",
                        exporter.failed,
                        exporter.sent + exporter.failed
                    );
                }
            }
            Err(_) => eprintln!(
                "rpctap: warning: OpenTelemetry: the last spans were still being sent at exit"
            ),
        }
    }
}

/// The exporter thread: until the queue closes, pair and batch; then close what is open.
fn run(
    mut exporter: Exporter,
    mut maker: SpanMaker,
    rx: &mpsc::Receiver<Event>,
    queued: &AtomicUsize,
) -> Exporter {
    let mut batch = Vec::new();
    let mut exit: Option<Micros> = None;
    let mut next_flush = Instant::now() + FLUSH_EVERY;
    loop {
        match rx.recv_timeout(next_flush.saturating_duration_since(Instant::now())) {
            Ok(event) => {
                queued.fetch_sub(size(&event), Ordering::Relaxed);
                if let Event::Exit(e) = &event {
                    exit = Some(e.t);
                }
                if let Event::Session(info) = &event {
                    exporter.set_service(&info.name);
                }
                maker.event(&event, &mut batch);
                if batch.len() >= BATCH {
                    exporter.send_or_warn(&mut batch);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        // Checked after every event too: under steady traffic the queue is never empty
        // long enough for the timeout to fire.
        if Instant::now() >= next_flush {
            maker.flush_notifications(&mut batch);
            exporter.send_or_warn(&mut batch);
            next_flush = Instant::now() + FLUSH_EVERY;
        }
    }
    maker.finish(exit, &mut batch);
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(BATCH));
        exporter.send_or_warn(&mut batch);
        batch = rest;
    }
    exporter
}
