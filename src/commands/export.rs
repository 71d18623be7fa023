//! `rpctap export --otlp URL FILE...`: sends recorded sessions to an OpenTelemetry
//! collector with their original timestamps, one trace per file. Prints one line per file
//! (spans sent, trace id) on stdout.

use crate::otel::{export_events, Exporter, SpanOptions};
use crate::session::describe;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The collector's base URL (OTLP over HTTP; `/v1/traces` is appended). Default:
    /// $`OTEL_EXPORTER_OTLP_ENDPOINT`.
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// Also send message bodies as span attributes (as recorded: a recording made with
    /// --redact holds redacted bodies).
    #[arg(long)]
    pub otlp_bodies: bool,
    /// `service.name` of the spans (default: each session's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Recordings, in any format rpctap reads.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let url = crate::otel::endpoint(args.otlp.as_deref())
        .map_err(|e| anyhow::anyhow!("--otlp {e}"))?
        .ok_or_else(|| {
            anyhow::anyhow!("no collector given: use --otlp URL or set OTEL_EXPORTER_OTLP_ENDPOINT")
        })?;
    let mut exporter = Exporter::new(&url, "rpctap").map_err(anyhow::Error::msg)?;
    for path in &args.files {
        let (_, events) =
            crate::record::open(path).map_err(|e| anyhow::anyhow!(describe(path, &e)))?;
        let events = events.map(|e| e.map_err(|e| anyhow::anyhow!(describe(path, &e))));
        let options = SpanOptions {
            bodies: args.otlp_bodies,
        };
        let done = export_events(&mut exporter, events, options, args.name.as_deref())?;
        println!(
            "{}: {} spans sent to {} (trace {})",
            path.display(),
            done.spans,
            exporter.url(),
            done.trace_id
        );
    }
    Ok(ExitCode::SUCCESS)
}
