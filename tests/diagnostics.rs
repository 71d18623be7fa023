//! rpctap's own log: off by default, and with `RPCTAP_LOG=debug` a private file in the
//! state directory that tells the child's lifecycle, while stdout stays the protocol's.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

#[test]
fn rpctap_log_debug_writes_the_lifecycle_to_a_private_file() {
    let dir = temp();
    let log = dir.path().join("rpctap.log");
    let run = |env: Option<&str>| {
        let mut cmd = rpctap(dir.path());
        cmd.args(["--no-record", "--", "sh", "-c", "exit 3"])
            .stdin(Stdio::null())
            .env_remove("RPCTAP_LOG");
        if let Some(v) = env {
            cmd.env("RPCTAP_LOG", v);
        }
        cmd.output().unwrap()
    };
    let quiet = run(None);
    assert_eq!(quiet.status.code(), Some(3));
    assert!(!log.exists(), "no log unless asked for");

    let out = run(Some("debug"));
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty(), "the log never goes to stdout");
    let text = std::fs::read_to_string(&log).expect("the log file");
    for want in ["spawned", "child exited"] {
        assert!(
            text.contains(want),
            "{want:?} missing from the log:\n{text}"
        );
    }
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let bad = run(Some("=[nonsense"));
    assert_eq!(
        bad.status.code(),
        Some(3),
        "a bad filter never stops the shim"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RPCTAP_LOG"));
}

#[test]
fn a_log_file_others_can_read_is_not_written_to() {
    let dir = temp();
    let log = dir.path().join("rpctap.log");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = rpctap(dir.path())
        .args(["--no-record", "--", "true"])
        .env("RPCTAP_LOG", "debug")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "logging never stops the shim");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a private file"));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "");
}
