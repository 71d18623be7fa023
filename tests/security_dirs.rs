//! The runtime and state directories through the real binary, as an attacker on the same
//! machine would prepare them: a symbolic link where `rpctap/` should be, a directory
//! another user owns, planted stale files. `ls` (the hub's listing) and the shim apply
//! the same checks (`lstat`, owner, mode), and only a dead shim's own files are removed.

mod common;

use common::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// A pid that no process has (beyond the kernel's limit).
const DEAD_PID: u32 = 4_194_305;

/// `rpctap` with XDG directories under `root` (no `RPCTAP_HOME`, so the runtime directory
/// is `$XDG_RUNTIME_DIR/rpctap`).
fn xdg_rpctap(root: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("RPCTAP_HOME")
        .env("HOME", root)
        .env("XDG_STATE_HOME", root.join("state"))
        .env("XDG_RUNTIME_DIR", root.join("xdg"));
    cmd
}

fn mkdir_private(p: &Path) {
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// A directory of someone else's files that rpctap must never touch.
fn victim(root: &Path) -> std::path::PathBuf {
    let v = root.join("victim");
    mkdir_private(&v);
    std::fs::write(v.join(format!("{DEAD_PID}.json")), "{}").unwrap();
    std::fs::write(v.join(format!("{DEAD_PID}.sock")), "precious").unwrap();
    std::fs::write(v.join("notes.json"), "precious").unwrap();
    v
}

fn victim_intact(v: &Path) {
    for f in [
        format!("{DEAD_PID}.json"),
        format!("{DEAD_PID}.sock"),
        "notes.json".into(),
    ] {
        assert!(
            v.join(&f).exists(),
            "{f} was deleted from the victim directory"
        );
    }
    let count = std::fs::read_dir(v).unwrap().count();
    assert_eq!(count, 3, "something was created in the victim directory");
}

#[test]
fn ls_and_the_shim_refuse_a_symlinked_runtime_directory() {
    let root = temp();
    let v = victim(root.path());
    mkdir_private(&root.path().join("xdg"));
    symlink(&v, root.path().join("xdg/rpctap")).unwrap();
    let out = xdg_rpctap(root.path()).arg("ls").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("is a symbolic link; refusing"), "{err}");
    victim_intact(&v);
    // The shim refuses the same directory: it forwards, without a live feed there.
    let mut shim = xdg_rpctap(root.path());
    shim.args(["--no-record", "--", "true"]);
    let out = run_with_input(shim, Vec::new(), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    victim_intact(&v);
}

#[test]
fn ls_and_the_shim_refuse_a_symlinked_sessions_directory() {
    let root = temp();
    let v = root.path().join("victim");
    mkdir_private(&v);
    let rec = "{\"rpctap\":1,\"type\":\"session\",\"id\":\"x\",\"name\":\"planted\",\"command\":[\"x\"],\"cwd\":\"/\",\"pid\":0,\"started\":\"2026-12-01T09:00:00.000000Z\"}\n";
    std::fs::write(v.join("a.jsonl"), rec).unwrap();
    let home = root.path().join("home");
    mkdir_private(&home);
    symlink(&v, home.join("sessions")).unwrap();
    let out = rpctap(&home).arg("ls").output().unwrap();
    let (stdout, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !stdout.contains("planted"),
        "listed through the link:\n{stdout}"
    );
    assert!(err.contains("symbolic link"), "{err}");
    let mut shim = rpctap(&home);
    shim.args(["--no-live", "--", "true"]);
    let out = run_with_input(shim, Vec::new(), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(
        std::fs::read_dir(&v).unwrap().count(),
        1,
        "recorded through the link"
    );
}

#[test]
fn only_a_dead_shims_own_files_are_removed() {
    let root = temp();
    let run = root.path().join("xdg/rpctap");
    mkdir_private(&root.path().join("xdg"));
    mkdir_private(&run);
    let precious = root.path().join("precious.txt");
    std::fs::write(&precious, "keep").unwrap();
    // A dead shim's real files: a regular discovery file and a socket.
    std::fs::write(run.join(format!("{DEAD_PID}.json")), "{}").unwrap();
    drop(std::os::unix::net::UnixListener::bind(run.join(format!("{DEAD_PID}.sock"))).unwrap());
    // Not a shim's: a link where a discovery file would be, a regular file as a socket.
    let other = DEAD_PID + 1;
    symlink(&precious, run.join(format!("{other}.json"))).unwrap();
    std::fs::write(run.join(format!("{other}.sock")), "not a socket").unwrap();
    let out = xdg_rpctap(root.path()).arg("ls").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !run.join(format!("{DEAD_PID}.json")).exists(),
        "stale file kept"
    );
    assert!(
        !run.join(format!("{DEAD_PID}.sock")).exists(),
        "stale socket kept"
    );
    assert!(std::fs::symlink_metadata(run.join(format!("{other}.json"))).is_ok());
    assert!(run.join(format!("{other}.sock")).exists());
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep");
}

/// A throwaway user, deleted when dropped.
struct User(String, u32);

impl User {
    fn create() -> Option<User> {
        let name = format!("rpsec{}", std::process::id());
        let made = Command::new("useradd")
            .args(["-M", "-N", "-s", "/bin/false", &name])
            .status();
        if !made.is_ok_and(|s| s.success()) {
            return None;
        }
        let out = Command::new("id").args(["-u", &name]).output().ok()?;
        let uid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        Some(User(name, uid))
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.0).status();
    }
}

#[test]
fn directories_another_user_made_are_refused_by_both_sides() {
    if rpctap::os::euid() != 0 {
        eprintln!("skipped: creating another user needs root (CI runs as root)");
        return;
    }
    let Some(user) = User::create() else {
        eprintln!("skipped: useradd is not available");
        return;
    };
    let root = temp();
    // A shared, sticky directory like /tmp, where the other user prepares rpctap's
    // directories before the victim's first run.
    let xdg = root.path().join("xdg");
    std::fs::create_dir(&xdg).unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let as_user = |args: &[&str]| {
        use std::os::unix::process::CommandExt;
        let ok = Command::new(args[0])
            .args(&args[1..])
            .uid(user.1)
            .status()
            .unwrap();
        assert!(ok.success(), "{args:?} as {}", user.0);
    };
    let run = xdg.join("rpctap");
    let run_s = run.to_str().unwrap();
    as_user(&["mkdir", "-m", "700", run_s]);
    let planted = format!("{run_s}/{DEAD_PID}.json");
    as_user(&["sh", "-c", &format!("echo '{{}}' > {planted}")]);
    let out = xdg_rpctap(root.path()).arg("ls").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("owned by uid {}", user.1)), "{err}");
    assert!(
        Path::new(&planted).exists(),
        "ls deleted another user's file"
    );
    let mut shim = xdg_rpctap(root.path());
    shim.args(["--no-record", "--", "true"]);
    let out = run_with_input(shim, Vec::new(), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("owned by uid"), "{err}");
    let entries = std::fs::read_dir(&run).unwrap().count();
    assert_eq!(
        entries, 1,
        "the shim published into another user's directory"
    );
}
