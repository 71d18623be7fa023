//! `rpctap ui [FILE]...`: the TUI on several recordings merged by time, or with none, the
//! hub of live and recorded sessions.

use crate::cli::UiArgs;
use std::process::ExitCode;

pub fn run(args: &UiArgs) -> anyhow::Result<ExitCode> {
    if args.files.is_empty() {
        crate::tui::run_hub()?;
    } else {
        for f in &args.files {
            super::open::check(f)?;
        }
        crate::tui::run_files(&args.files, args.follow)?;
    }
    Ok(ExitCode::SUCCESS)
}
