//! `rpctap check`: conformance of recordings, as text, JSON, SARIF or `JUnit`. Exit 0 when
//! no error-level result, 1 when there are, 2 on usage or input errors.

use crate::check::{self, report, rules, Selection};
use crate::cli::{CheckArgs, CheckFormat};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.list_rules {
        for r in rules::ALL {
            writeln!(
                out,
                "{:<28} {:<7} {}\n{:<36} {}",
                r.id,
                r.severity.as_str(),
                r.summary,
                "",
                r.link
            )?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let select = Selection {
        only: args.rules.clone(),
        ignore: args.ignore.clone(),
    };
    select.validate().map_err(|e| anyhow::anyhow!(e))?;
    let mut reports = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let r = check::check_file(path, &select)
            .map_err(|e| anyhow::anyhow!(crate::session::describe(path, &e)))?;
        reports.push(r);
    }
    match args.format {
        CheckFormat::Text => report::text(&reports, &mut out)?,
        CheckFormat::Json => report::json(&reports, &mut out)?,
        CheckFormat::Sarif => report::sarif(&reports, &mut out)?,
        CheckFormat::Junit => report::junit(&reports, &mut out)?,
    }
    out.flush()?;
    Ok(if report::errors(&reports) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
