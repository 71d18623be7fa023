//! `rpctap [OPTS] CMD...` (a `--` before CMD is optional) and `rpctap proxy`: the shim.
//! Resolves options into a `ShimConfig` and runs it; writes nothing of its own to stdout.
//! A command that cannot be started still leaves a recording that says why.

use crate::cli::{FramingArg, ProtocolArg, ProxyArgs};
use crate::files::Vars;
use crate::proxy::{FileSink, Observer, RecorderConfig, ShimConfig};
use crate::record::{Micros, SessionInfo};
use crate::wire::{Framing, Limits};
use std::process::ExitCode;
use std::time::Duration;

/// The live conformance checker, when `--check` asks for it.
fn check_observer(check: bool) -> Vec<Box<dyn crate::proxy::Observer>> {
    let mut list: Vec<Box<dyn crate::proxy::Observer>> = Vec::new();
    if check {
        list.push(Box::new(crate::check::live::LiveCheck::to_stderr()));
    }
    list
}

pub fn run(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    if args.command.is_empty() {
        anyhow::bail!("no server command given: use `rpctap proxy [OPTIONS] CMD [ARGS]...`");
    }
    crate::os::tune_allocator();
    if !(args.grace.is_finite() && args.grace >= 0.0) {
        anyhow::bail!("--grace must be a number of seconds, not {}", args.grace);
    }
    // Before anything is created: a bad --otlp is a usage error.
    let mut observers: Vec<Box<dyn Observer>> = otel_observer(&args)?.into_iter().collect();
    observers.extend(check_observer(args.check));
    let started = Micros::now();
    let name = args.name.clone().unwrap_or_else(|| {
        std::path::Path::new(&args.command[0])
            .file_name()
            .map_or_else(
                || args.command[0].clone(),
                |n| n.to_string_lossy().into_owned(),
            )
    });
    let info = SessionInfo {
        id: format!(
            "{}-{}",
            started.datetime().format("%Y%m%d-%H%M%S"),
            std::process::id()
        ),
        name: name.clone(),
        command: args.command.clone(),
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        pid: std::process::id(),
        started: started.to_rfc3339(),
        protocol: match args.protocol {
            ProtocolArg::Auto => None,
            p => Some(format!("{p:?}").to_lowercase()),
        },
    };
    let vars = Vars {
        name: &name,
        pid: std::process::id(),
        time: started,
    };
    let file = (!args.no_record)
        .then(|| open_recording(args.record.as_deref(), &vars))
        .flatten();
    let framing = match args.framing {
        FramingArg::Auto => None,
        FramingArg::Lsp => Some(Framing::Lsp),
        FramingArg::Ndjson => Some(Framing::Ndjson),
    };
    let witness = file.as_ref().and_then(|(_, f)| f.try_clone().ok());
    let info_copy = info.clone();
    let config = ShimConfig {
        command: args.command,
        info,
        recorder: RecorderConfig {
            framing,
            limits: Limits {
                max_body: args.max_message_size,
                ..Limits::default()
            },
            redact: crate::record::Redactor::new(args.redact, args.redact_keep_unparsed),
            observers,
        },
        file: file.map(|(path, f)| FileSink::new(Some(path), f)),
        live: !args.no_live,
        grace: Duration::from_secs_f64(args.grace),
    };
    match crate::proxy::run(config) {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(e) => {
            let (code, message) = (e.exit_code(), e.to_string());
            eprintln!("rpctap: {message}");
            // MCP clients and editors hide our stderr: the recording says why, for the
            // hub and `ls` to show.
            if let Some(f) = witness {
                let _ = write_failed_start(f, &info_copy, code, &message);
            }
            Ok(ExitCode::from(code))
        }
    }
}

/// The OpenTelemetry exporter, when `--otlp` or `OTEL_EXPORTER_OTLP_ENDPOINT` asks for
/// one. A bad `--otlp` is a usage error; a bad environment variable only a warning, so
/// that a stray variable never keeps a server from starting.
fn otel_observer(args: &ProxyArgs) -> anyhow::Result<Option<Box<dyn Observer>>> {
    let url = match crate::otel::endpoint(args.otlp.as_deref()) {
        Ok(Some(url)) => url,
        Ok(None) if args.otlp_bodies => {
            anyhow::bail!("--otlp-bodies needs --otlp URL (or OTEL_EXPORTER_OTLP_ENDPOINT)")
        }
        Ok(None) => return Ok(None),
        Err(e) if args.otlp.is_some() => anyhow::bail!("--otlp {e}"),
        Err(e) => {
            eprintln!("rpctap: warning: {e}; OpenTelemetry export is off");
            return Ok(None);
        }
    };
    let exporter = match crate::otel::Exporter::new(&url, "rpctap") {
        Ok(x) => x,
        Err(e) if args.otlp.is_some() => anyhow::bail!(e),
        Err(e) => {
            eprintln!("rpctap: warning: {e}; OpenTelemetry export is off");
            return Ok(None);
        }
    };
    let options = crate::otel::SpanOptions {
        bodies: args.otlp_bodies,
    };
    match crate::otel::LiveExport::start(exporter, options) {
        Ok(live) => Ok(Some(Box::new(live))),
        Err(e) => {
            eprintln!("rpctap: warning: cannot start the OpenTelemetry exporter: {e}");
            Ok(None)
        }
    }
}

/// Creates the recording (a warning, not an error, when that fails: forwarding comes
/// first) and says on stderr when it is not at the path asked for.
fn open_recording(
    requested: Option<&std::path::Path>,
    vars: &Vars,
) -> Option<(std::path::PathBuf, std::fs::File)> {
    match crate::files::create_recording(requested, vars) {
        Ok(created) => {
            if let Some(notice) = created.notice() {
                eprintln!("rpctap: {notice}");
            }
            Some((created.path, created.file))
        }
        Err(e) => {
            eprintln!("rpctap: warning: {e:#}; forwarding continues without recording");
            None
        }
    }
}

/// A recording of a command that could not be started: the session line, rpctap's error
/// as a stderr line, and an exit line with the code and the error.
fn write_failed_start(
    mut file: std::fs::File,
    info: &SessionInfo,
    code: u8,
    message: &str,
) -> std::io::Result<()> {
    use crate::record::{encode_event, Event, StderrEvent};
    use std::io::Write;
    let t = Micros::now();
    let mut out = Vec::new();
    encode_event(&mut out, &Event::Session(info.clone()));
    let text = format!("rpctap: {message}");
    let stderr = StderrEvent {
        seq: 1,
        t,
        text: bytes::Bytes::from(text),
    };
    encode_event(&mut out, &Event::Stderr(stderr));
    let exit = serde_json::json!({
        "type": "exit", "t": t.to_rfc3339(), "code": code, "signal": null, "error": message,
    });
    serde_json::to_writer(&mut out, &exit)?;
    out.push(b'\n');
    file.write_all(&out)?;
    file.sync_data()
}
