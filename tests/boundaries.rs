//! Layering rules of the source tree, checked on the files themselves so that a change
//! that crosses a boundary fails here rather than in a review:
//!
//! - child processes are started only by `src/child.rs` (one lifecycle: own process
//!   group, parent-death signal, stop sequence);
//! - the demo (`src/demo/`) is a fixture: only the command line wiring may name it, never
//!   the product's modules.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(file relative to src/, line number, line)` for each line of the product's sources
/// that contains `needle`, outside comments.
fn uses(needle: &str) -> Vec<(String, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(needle) {
                found.push((rel.clone(), i + 1, line.trim().to_owned()));
            }
        }
    }
    found
}

#[test]
fn only_child_rs_starts_processes() {
    for needle in ["Command::new(", "std::process::Command", "configure_child("] {
        let outside: Vec<_> = uses(needle)
            .into_iter()
            .filter(|(f, _, _)| f != "child.rs" && f != "os/mod.rs")
            .collect();
        assert!(
            outside.is_empty(),
            "{needle} outside src/child.rs: {outside:#?}"
        );
    }
}

#[test]
fn the_product_does_not_depend_on_the_demo() {
    let outside: Vec<_> = uses("demo::")
        .into_iter()
        .filter(|(f, _, _)| {
            !(f.starts_with("demo/") || f == "cli.rs" || f.starts_with("commands/"))
        })
        .collect();
    assert!(outside.is_empty(), "the demo is used by: {outside:#?}");
}
