//! `rpctap open FILE`: the TUI on one recording.

use crate::cli::OpenArgs;
use crate::record::{open, Event};
use crate::session::describe;
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: &OpenArgs) -> anyhow::Result<ExitCode> {
    check(&args.file)?;
    crate::tui::run_file(&args.file, args.follow)?;
    Ok(ExitCode::SUCCESS)
}

/// Fails with one clear line, before the terminal changes, on a file that cannot be read
/// or is not a recording (in any format `record::open` reads).
pub fn check(path: &Path) -> anyhow::Result<()> {
    let first = open(path).map(|(_, mut events)| events.next());
    match first {
        Ok(Some(Ok(Event::Session(_)))) => Ok(()),
        Ok(Some(Err(e))) | Err(e) => anyhow::bail!(describe(path, &e)),
        _ => anyhow::bail!("cannot read '{}': not an rpctap recording", path.display()),
    }
}
