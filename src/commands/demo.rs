//! `rpctap demo`: the built-in demo client and server talk a realistic LSP session through
//! the shim (`demo-client -- rpctap --record FILE -- rpctap demo-server`), while the TUI
//! follows the recording live. Quitting the TUI ends the demo: the client is terminated,
//! which takes the shim (parent-death notice) and the server (stdin EOF) with it.

use crate::cli::DemoArgs;
use std::io::IsTerminal;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the demo needs a terminal (run it in one, not through a pipe)");
    }
    let exe = std::env::current_exe()?;
    crate::paths::ensure_private_dir(&crate::paths::state_dir())?;
    crate::paths::ensure_private_dir(&crate::paths::sessions_dir())?;
    let vars = crate::files::Vars {
        name: "demo",
        pid: std::process::id(),
        time: crate::record::Micros::now(),
    };
    // The shim creates it (exclusively); the name carries this process's pid, so it is free.
    let recording = crate::paths::sessions_dir().join(vars.default_file_name());
    let mut cmd = Command::new(&exe);
    cmd.args([
        "demo-client",
        "--repeat",
        "--pace-ms",
        &args.pace_ms.to_string(),
        "--",
    ])
    .arg(&exe)
    .args(["--name", "demo", "--record"])
    .arg(&recording)
    .arg("--")
    .arg(&exe)
    .args(["demo-server", "--stderr-chatter", "--slow-ms", "40"])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    crate::os::configure_child(&mut cmd);
    let mut client = cmd.spawn()?;
    let viewed = crate::tui::run_file(&recording, true);
    crate::os::signal(client.id(), libc::SIGTERM);
    let until = Instant::now() + Duration::from_secs(5);
    while client.try_wait()?.is_none() {
        if Instant::now() > until {
            crate::os::signal_group(client.id(), libc::SIGKILL);
            let _ = client.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    viewed?;
    eprintln!(
        "rpctap: the demo session was recorded to {}",
        recording.display()
    );
    Ok(ExitCode::SUCCESS)
}
