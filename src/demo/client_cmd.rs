//! `rpctap demo-client -- CMD...`: spawns a server, drives it with the scripted client,
//! waits for it to exit, and judges the session: exit 0 when the script completed, every
//! expectation held and the server exited as expected; 1 with a one-line reason otherwise.

use super::client::{drive, ClientOpts};
use super::DemoFraming;
use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct DemoClientArgs {
    /// Pause between scripted steps, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub pace_ms: u64,
    /// After the script, keep editing and hovering once a second until the server goes away.
    #[arg(long)]
    pub repeat: bool,
    /// Framing the client writes.
    #[arg(long, value_enum, default_value = "lsp")]
    pub framing: DemoFraming,
    /// Seconds to wait for any one answer, and for the server to exit at the end.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,
    /// The exit status the server must end with (128+N for death by signal N).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub expect_exit: i32,
    /// The server command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub fn run(args: &DemoClientArgs) -> anyhow::Result<ExitCode> {
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout must be a positive number of seconds")?;
    let (child, pipes) = crate::child::spawn(
        &args.command,
        (crate::child::Output::Piped, crate::child::Output::Inherit),
        |_| {},
    )?;
    let stdout = pipes.stdout.context("the server has no stdout pipe")?;
    let opts = ClientOpts {
        pace: Duration::from_millis(args.pace_ms),
        repeat: args.repeat,
        framing: args.framing.into(),
        timeout,
        ..ClientOpts::default()
    };
    let report = drive(stdout, &*pipes.stdin, &opts);
    // The script is over: the server must exit on its closed stdin within the timeout.
    let stopped = child.stop(timeout);
    let report = report?;
    let status = stopped
        .status
        .filter(|_| !stopped.signalled)
        .map(crate::child::shell_code);
    let problem = match (report.problem(), status) {
        (Some(why), Some(code)) => Some(format!("{why} (the server exited with status {code})")),
        (Some(why), None) => Some(format!(
            "{why} (the server did not exit in time and was killed)"
        )),
        (None, None) => Some(format!(
            "the server did not exit within {:.1}s after its input closed",
            timeout.as_secs_f64()
        )),
        (None, Some(code)) if code != args.expect_exit => Some(format!(
            "the server exited with status {code}, expected {}",
            args.expect_exit
        )),
        (None, Some(_)) => None,
    };
    match problem {
        None => Ok(ExitCode::SUCCESS),
        Some(why) => {
            eprintln!("rpctap: demo-client: {why}");
            Ok(ExitCode::from(1))
        }
    }
}
