//! `rpctap mock FILE`: be the server on stdio, answering from a recording. Unmatched
//! requests are summarised on stderr at the end.

use crate::cli::MockArgs;
use crate::replay::{default_param_ignores, mock, parse_path, MockOptions};
use crate::session::load;
use std::process::ExitCode;

pub fn run(args: &MockArgs) -> anyhow::Result<ExitCode> {
    let mut ignore = default_param_ignores();
    for p in &args.ignore {
        ignore.push(parse_path(p).map_err(|e| anyhow::anyhow!("bad --ignore: {e}"))?);
    }
    let store = load(&args.file)?;
    if !(0..store.len())
        .any(|i| store.row(i).dir == crate::record::Dir::S2c && store.row(i).kind.is_response())
    {
        anyhow::bail!(
            "cannot mock '{}': the recording has no server responses",
            args.file.display()
        );
    }
    let opts = MockOptions {
        unmatched: args.unmatched,
        ignore,
    };
    let stats = mock(
        &store,
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        &opts,
    )?;
    if !stats.unmatched.is_empty() {
        let more = stats.unmatched_total - stats.unmatched.len();
        eprintln!(
            "rpctap mock: {} request(s) had no recorded match: {}{}",
            stats.unmatched_total,
            stats.unmatched.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
