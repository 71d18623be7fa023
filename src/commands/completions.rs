//! `rpctap completions SHELL` and the hidden `rpctap man`: shell completions and the
//! manual page, both generated from the clap definition in `cli.rs`, so they can never
//! disagree with the command line they describe.

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::files;
use anyhow::Context;
use clap::CommandFactory;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "rpctap", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = Cli::command();
    match &args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&page)?;
            out.flush()?;
        }
        Some(dir) => write_pages(cmd, dir)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes one page per visible command into `dir`, as `clap_mangen::generate_to` names
/// them, but never over an existing file or through a link: each page is created
/// exclusively (`files::create_exclusive`). A page that exists is an error naming it,
/// and the pages this run already created are removed, so a failed run leaves the
/// folder as it found it.
fn write_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create '{}'", dir.display()))?;
    let pages = render_pages(cmd)?;
    let mut created: Vec<PathBuf> = Vec::with_capacity(pages.len());
    for (name, text) in pages {
        let path = dir.join(name);
        if let Err(e) = write_page(&path, &text) {
            for done in &created {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
        created.push(path);
    }
    Ok(())
}

fn write_page(path: &Path, text: &[u8]) -> anyhow::Result<()> {
    let mut file = files::create_exclusive(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AlreadyExists {
            " (remove it, or write into an empty folder)"
        } else {
            ""
        };
        anyhow::Error::new(e).context(format!(
            "cannot create manual page '{}'{hint}",
            path.display()
        ))
    })?;
    file.write_all(text)
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write manual page '{}'", path.display()))
}

/// Every page as (file name, roff), the command's visible subcommands first, the same
/// set and names as `clap_mangen::generate_to`.
fn render_pages(cmd: clap::Command) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    fn collect(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            collect(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut text = Vec::new();
        man.render(&mut text)?;
        out.push((man.get_filename(), text));
        Ok(())
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect(cmd, &mut pages).context("cannot render the manual pages")?;
    Ok(pages)
}
