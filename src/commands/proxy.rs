//! `rpctap [OPTS] -- CMD...` and `rpctap proxy`: the shim. Resolves options into a
//! `ShimConfig` and runs it; writes nothing of its own to stdout.

use crate::cli::{FramingArg, ProtocolArg, ProxyArgs};
use crate::proxy::{default_record_path, open_recording, FileSink, RecorderConfig, ShimConfig};
use crate::record::{Micros, SessionInfo};
use crate::wire::{Framing, Limits};
use std::process::ExitCode;
use std::time::Duration;

/// The recorder's live consumers the options ask for.
fn observers(check: bool) -> Vec<Box<dyn crate::proxy::Observer>> {
    let mut list: Vec<Box<dyn crate::proxy::Observer>> = Vec::new();
    if check {
        match crate::check::live::LiveCheck::to_stderr() {
            Ok(c) => list.push(Box::new(c)),
            Err(e) => {
                eprintln!("rpctap: warning: cannot start checking: {e}; forwarding continues")
            }
        }
    }
    list
}

pub fn run(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    if args.command.is_empty() {
        anyhow::bail!("no server command given: use `rpctap [OPTIONS] -- CMD [ARGS]...`");
    }
    if !(args.grace.is_finite() && args.grace >= 0.0) {
        anyhow::bail!("--grace must be a number of seconds, not {}", args.grace);
    }
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
    let mut file = None;
    if !args.no_record {
        let (path, default_location) = match &args.record {
            Some(p) => (p.clone(), false),
            None => (default_record_path(&name, started), true),
        };
        match open_recording(&path, default_location) {
            Ok(f) => file = Some(FileSink::new(Some(path), f)),
            Err(e) => eprintln!("rpctap: warning: {e:#}; forwarding continues without recording"),
        }
    }
    let framing = match args.framing {
        FramingArg::Auto => None,
        FramingArg::Lsp => Some(Framing::Lsp),
        FramingArg::Ndjson => Some(Framing::Ndjson),
    };
    let config = ShimConfig {
        command: args.command,
        info,
        recorder: RecorderConfig {
            framing,
            limits: Limits {
                max_body: args.max_message_size,
                ..Limits::default()
            },
            redact: args.redact,
            observers: observers(args.check),
        },
        file,
        live: !args.no_live,
        grace: Duration::from_secs_f64(args.grace),
    };
    match crate::proxy::run(config) {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(crate::proxy::SpawnError(code, message)) => {
            eprintln!("rpctap: {message}");
            Ok(ExitCode::from(code))
        }
    }
}
