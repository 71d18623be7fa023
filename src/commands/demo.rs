//! `rpctap demo`: the built-in demo client and server talk a realistic LSP session through
//! the shim (`demo-client -- rpctap --record FILE -- rpctap demo-server`), while the TUI
//! follows the recording live. Quitting the TUI ends the demo: the client is terminated,
//! which takes the shim (parent-death notice) and the server (stdin EOF) with it.

use crate::cli::DemoArgs;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

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
    let exe = exe.display().to_string();
    let pace = args.pace_ms.to_string();
    let command: Vec<String> = [
        &exe,
        "demo-client",
        "--repeat",
        "--pace-ms",
        &pace,
        "--",
        &exe,
        "--name",
        "demo",
        "--record",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .chain([recording.display().to_string()])
    .chain(
        [
            "--",
            &exe,
            "demo-server",
            "--stderr-chatter",
            "--slow-ms",
            "40",
        ]
        .map(String::from),
    )
    .collect();
    let (client, _pipes) = crate::child::spawn(
        &command,
        (crate::child::Output::Null, crate::child::Output::Null),
        |_| {},
    )?;
    let viewed = crate::tui::run_file(&recording, true);
    // The client takes the shim (parent-death notice) and the server (stdin EOF) along.
    client.terminate(Duration::from_secs(5));
    viewed?;
    eprintln!(
        "rpctap: the demo session was recorded to {}",
        recording.display()
    );
    Ok(ExitCode::SUCCESS)
}
