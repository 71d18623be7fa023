//! `rpctap send [SESSION] [--to server|client] [--timeout S] JSON`: injects one JSON-RPC
//! message into a live session through its control socket (`control::client`). A
//! request's response is printed on stdout (exit 0; 1 for an error response or a
//! timeout); a notification returns once written. Usage and input errors (bad JSON, no
//! such session) exit 2.

use crate::control::client::{find_session, Client};
use crate::control::protocol::{Command, Peer};
use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum To {
    Server,
    Client,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// [SESSION] JSON: the session (a name or pid as `rpctap ls` shows them; the newest
    /// live session when left out) and the message (`-` reads it from stdin).
    #[arg(value_name = "ARGS", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// The peer the message goes to.
    #[arg(long, value_enum, default_value = "server")]
    pub to: To,
    /// How long to wait for the response to a request, in seconds.
    #[arg(long, value_name = "S", default_value = "10")]
    pub timeout: f64,
}

/// Largest message read from stdin.
const MAX_MESSAGE: u64 = 16 << 20;

pub fn run(args: &SendArgs) -> anyhow::Result<ExitCode> {
    let (session, text) = match args.args.as_slice() {
        [json] => (None, json.as_str()),
        [session, json] => (Some(session.as_str()), json.as_str()),
        _ => bail!("usage: rpctap send [SESSION] JSON"),
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 86_400.0) {
        bail!("--timeout must be a number of seconds between 0 and 86400");
    }
    let message = parse_message(text)?;
    let (live, socket) = find_session(session)?;
    let mut client =
        Client::connect(&socket).with_context(|| format!("session {:?}", live.info.name))?;
    let timeout = Duration::from_secs_f64(args.timeout);
    let to = match args.to {
        To::Server => Peer::Server,
        To::Client => Peer::Client,
    };
    let cmd = Command::Send {
        to,
        message,
        timeout_ms: Some(timeout.as_millis().max(1) as u64),
    };
    // The shim says when its own wait ends; this one only covers a shim that went away.
    let reply = client
        .call(cmd, Some(timeout + Duration::from_secs(5)))
        .map_err(|e| anyhow!("session {:?}: {e}", live.info.name))?;
    if !reply.ok {
        let why = reply.error.unwrap_or_else(|| "failed".into());
        eprintln!("rpctap: send: {why}");
        return Ok(ExitCode::from(1));
    }
    let Some(response) = reply.reply else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &response)?;
    writeln!(out)?;
    out.flush()?;
    Ok(if response.get("error").is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The message argument (or stdin for `-`): one JSON object.
fn parse_message(text: &str) -> anyhow::Result<serde_json::Value> {
    let owned;
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .take(MAX_MESSAGE + 1)
            .read_to_string(&mut buf)
            .context("reading the message from stdin")?;
        if buf.len() as u64 > MAX_MESSAGE {
            bail!("the message on stdin is longer than {MAX_MESSAGE} bytes");
        }
        owned = buf;
        owned.as_str()
    } else {
        text
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| anyhow!("the message is not JSON: {e}"))?;
    if !value.is_object() {
        bail!("the message must be a JSON-RPC object, like {{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"...\"}}");
    }
    Ok(value)
}
