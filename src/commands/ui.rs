//! `rpctap ui [FILE]...`: the TUI on several recordings merged by time, or with none, the
//! hub of live and recorded sessions; with `--diff`, two recordings compared.

use crate::cli::UiArgs;
use std::process::ExitCode;

pub fn run(args: &UiArgs) -> anyhow::Result<ExitCode> {
    if args.diff {
        let [a, b] = &args.files[..] else {
            anyhow::bail!("--diff compares two recordings: `rpctap ui A B --diff`");
        };
        let diff = super::diff::DiffArgs {
            a: a.clone(),
            b: b.clone(),
            check: false,
            format: crate::cli::ReportFormat::Text,
            ignore: Vec::new(),
            ignore_params: Vec::new(),
        };
        let (sa, sb, cmp) = super::diff::load_and_compare(&diff)?;
        let names = (a.display().to_string(), b.display().to_string());
        crate::tui::run_diff(crate::tui::diff::DiffView::new(sa, sb, names, cmp))?;
    } else if args.files.is_empty() {
        crate::tui::run_hub()?;
    } else {
        for f in &args.files {
            super::open::check(f)?;
        }
        crate::tui::run_files(&args.files, args.follow)?;
    }
    Ok(ExitCode::SUCCESS)
}
