//! One file per subcommand, wiring the library's pieces together. `main` maps results to
//! exit codes: 0 success, 1 a check failed, 2 usage or input error; the shim exits with
//! its child's code.

mod cat;
mod cat_pretty;
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
pub mod send;
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

/// A recording's events (any format `record::open` reads), each error naming the file.
fn read_events(
    path: &std::path::Path,
) -> anyhow::Result<impl Iterator<Item = anyhow::Result<crate::record::Event>> + '_> {
    let describe = move |e| anyhow::anyhow!(crate::session::describe(path, &e));
    let (_, events) = crate::record::open(path).map_err(describe)?;
    Ok(events.map(move |r| r.map_err(describe)))
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
        Err(e) if e.use_stderr() => {
            eprintln!("rpctap: {}", usage_line(&e.render().to_string()));
            return ExitCode::from(USAGE);
        }
        Err(e) => {
            // --help and --version: clap's text on stdout, as it is.
            let _ = e.print();
            return ExitCode::SUCCESS;
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
    crate::log::init();
    match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rpctap: {e:#}");
            ExitCode::from(USAGE)
        }
    }
}

/// clap's multi-line usage error as the one line README promises: the error, the values
/// it lists, its tip, and where to read more (`rpctap cat --help`).
fn usage_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("bad arguments");
    let mut out = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    let (mut listed, mut tips) = (Vec::new(), Vec::new());
    for l in lines.take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more")) {
        match l.strip_prefix("tip:") {
            Some(tip) => tips.push(tip.trim().to_owned()),
            None => listed.push(l.to_owned()),
        }
    }
    if !listed.is_empty() {
        out = format!("{out} {}", listed.join(", "));
    }
    for tip in tips {
        out.push_str(&format!(" ({tip})"));
    }
    format!("{out}; see '{} --help'", help_target())
}

/// `rpctap` or `rpctap SUBCOMMAND`, as the command line names it.
fn help_target() -> String {
    use clap::CommandFactory;
    let cli = Cli::command();
    let named = std::env::args()
        .skip(1)
        .take_while(|a| a != "--")
        .find(|a| !a.starts_with('-'))
        .filter(|a| cli.find_subcommand(a).is_some());
    match named {
        Some(sub) => format!("rpctap {sub}"),
        None => "rpctap".into(),
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
        Some(Command::Send(args)) => send::run(&args),
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
