//! Sending spans: where to (`endpoint`, from `--otlp` or the standard variables), and the
//! OTLP/HTTP (protobuf) exporter of `opentelemetry-otlp` on a small tokio runtime of its
//! own. A failed request is counted and reported; the caller decides whether it is fatal
//! (`rpctap export`) or only costs spans (the live shim, see `live`).

use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use opentelemetry_sdk::Resource;
use std::time::Duration;

/// Spans sent in one request at most.
pub const BATCH: usize = 512;
/// How long one export request may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

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
