//! `rpctap demo-client -- CMD...`: spawns a server, drives it with the scripted client,
//! waits for it to exit, and judges the session: exit 0 when the script completed, every
//! expectation held and the server exited as expected; 1 with a one-line reason otherwise.

use super::client::{drive, ClientOpts};
use super::DemoFraming;
use anyhow::Context;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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

/// The process status as a shell reports it: the exit code, or 128+N after signal N.
fn status_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// Waits for `child` up to `limit`, then kills it.
fn wait_bounded(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn run(args: &DemoClientArgs) -> anyhow::Result<ExitCode> {
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout must be a positive number of seconds")?;
    let (program, rest) = args
        .command
        .split_first()
        .context("no server command given")?;
    let mut child = Command::new(program)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start '{program}'"))?;
    let stdin = child.stdin.take().context("the server has no stdin pipe")?;
    let stdout = child
        .stdout
        .take()
        .context("the server has no stdout pipe")?;
    let opts = ClientOpts {
        pace: Duration::from_millis(args.pace_ms),
        repeat: args.repeat,
        framing: args.framing.into(),
        timeout,
        ..ClientOpts::default()
    };
    let report = drive(stdout, stdin, &opts);
    let status = wait_bounded(&mut child, timeout).context("cannot wait for the server")?;
    let report = report?;
    let status = status.map(status_code);
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
