//! One file per subcommand, wiring the library's pieces together. `main` maps results to
//! exit codes: 0 success, 1 a check failed, 2 usage or input error; the shim exits with
//! its child's code.

mod cat;
mod check;
mod completions;
mod demo;
pub mod diff;
pub mod export;
mod ls;
mod mock;
mod open;
mod proxy;
mod replay;
mod stats;
mod ui;

use crate::cli::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// A failure caused by the user's input (bad file, bad expression): exit code 2.
pub const USAGE: u8 = 2;

/// Parses a `--filter` argument; a bad one is a usage error naming the column.
fn parse_filter(text: Option<&str>) -> anyhow::Result<Option<crate::filter::Filter>> {
    text.map(crate::filter::Filter::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("bad filter: {e}"))
}

/// Loads a recording; checks its conformance when the filter tests it (`violation`,
/// `rule:`).
fn load_checked(
    path: &std::path::Path,
    filter: Option<&crate::filter::Filter>,
) -> anyhow::Result<crate::session::Store> {
    let mut store = crate::session::load(path)?;
    if filter.is_some_and(crate::filter::Filter::needs_check) {
        store.check();
    }
    Ok(store)
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    // Options without a command are a mistake, not a request for the hub (`rpctap` alone).
    if cli.command.is_none() && cli.proxy.command.is_empty() && std::env::args_os().len() > 1 {
        eprintln!(
            "rpctap: no server command given: use `rpctap [OPTIONS] CMD [ARGS]...` \
             (`rpctap` alone opens the hub)"
        );
        return ExitCode::from(USAGE);
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rpctap: {e:#}");
            ExitCode::from(USAGE)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Cat(args)) => cat::run(&args),
        Some(Command::Stats(args)) => stats::run(&args),
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Ls(args)) => ls::run(&args),
        Some(Command::Proxy(args)) => proxy::run(args),
        Some(Command::Completions(args)) => completions::completions(&args),
        Some(Command::Man(args)) => completions::man(&args),
        Some(Command::Replay(args)) => replay::run(&args),
        Some(Command::Mock(args)) => mock::run(&args),
        Some(Command::Diff(args)) => diff::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::DemoServer(args)) => crate::demo::run_server(&args),
        Some(Command::DemoClient(args)) => crate::demo::run_client(&args),
        None if !cli.proxy.command.is_empty() => proxy::run(cli.proxy),
        Some(Command::Open(args)) => open::run(&args),
        Some(Command::Demo(args)) => demo::run(&args),
        Some(Command::Ui(args)) => ui::run(&args),
        None => {
            crate::tui::run_hub()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
