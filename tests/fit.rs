//! What makes rpctap fit into a system: shell completions and the manual page, both
//! generated from the command line definition, and help written for people.

mod common;

use common::*;

fn stdout_of(args: &[&str]) -> String {
    let dir = temp();
    let out = rpctap(dir.path()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_each_shell() {
    let bash = stdout_of(&["completions", "bash"]);
    assert!(bash.contains("_rpctap()") && bash.contains("complete -F _rpctap"));
    for sub in ["cat", "stats", "completions", "--record", "--format"] {
        assert!(bash.contains(sub), "bash completions lack {sub}");
    }
    assert!(stdout_of(&["completions", "zsh"]).starts_with("#compdef rpctap"));
    assert!(stdout_of(&["completions", "fish"]).contains("complete -c rpctap"));
}

#[test]
fn the_bash_script_is_valid_bash() {
    let dir = temp();
    let script = path(&dir, "rpctap.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .expect("bash is available");
    assert!(status.success());
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let dir = temp();
    let out = rpctap(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_manual_page_is_roff_for_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH rpctap 1"));
    assert!(page.contains(".SH SYNOPSIS") && page.contains(".SH OPTIONS"));
    assert!(page.contains("\\-\\-record"));
    let dir = temp();
    let pages = path(&dir, "man1");
    let out = rpctap(dir.path())
        .arg("man")
        .arg("--dir")
        .arg(&pages)
        .output()
        .unwrap();
    assert!(out.status.success());
    for name in [
        "rpctap.1",
        "rpctap-cat.1",
        "rpctap-stats.1",
        "rpctap-completions.1",
    ] {
        let text = std::fs::read_to_string(pages.join(name)).unwrap_or_default();
        assert!(text.contains(".TH"), "{name} missing or empty");
    }
}

#[test]
fn help_shows_examples_and_where_to_go_next() {
    let help = stdout_of(&["--help"]);
    assert!(help.contains("Examples:"));
    assert!(help.contains("rpctap pylsp"));
    assert!(help.contains("rpctap -- cat"));
    assert!(help.contains("docs/clients.md"));
    let cat = stdout_of(&["cat", "--help"]);
    for f in ["vscode", "har", "VS Code LSP traces", "mcpsnoop"] {
        assert!(cat.contains(f), "cat --help lacks {f}");
    }
}

fn man_into(home: &std::path::Path, pages: &std::path::Path) -> std::process::Output {
    rpctap(home)
        .arg("man")
        .arg("--dir")
        .arg(pages)
        .output()
        .unwrap()
}

#[test]
fn man_dir_never_overwrites_a_page() {
    let dir = temp();
    let pages = path(&dir, "man1");
    assert!(man_into(dir.path(), &pages).status.success());
    let cat = std::fs::read_to_string(pages.join("rpctap-cat.1")).unwrap();
    assert!(cat.contains(".TH"), "the first run wrote real pages");
    // Only the cat page is left, and it is someone's own file now.
    for entry in std::fs::read_dir(&pages).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    std::fs::write(pages.join("rpctap-cat.1"), "mine").unwrap();
    let out = man_into(dir.path(), &pages);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("rpctap-cat.1") && err.contains("exists"),
        "{err}"
    );
    assert_eq!(std::fs::read(pages.join("rpctap-cat.1")).unwrap(), b"mine");
    let left: Vec<_> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["rpctap-cat.1"],
        "the pages written before were removed"
    );
}

#[test]
fn man_dir_does_not_follow_a_planted_link() {
    let dir = temp();
    let pages = path(&dir, "man1");
    std::fs::create_dir(&pages).unwrap();
    let victim = path(&dir, "victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, pages.join("rpctap-stats.1")).unwrap();
    let out = man_into(dir.path(), &pages);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rpctap-stats.1"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let left: Vec<_> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["rpctap-stats.1"],
        "the pages written before were removed"
    );
}
