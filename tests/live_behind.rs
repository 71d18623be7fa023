//! Issue 14.9 through the real shim: a live viewer still behind when the session ends
//! gets the rest while it keeps reading, and one that is stuck sees its feed end with a
//! clear notice, never a cut-off line shown as data.

mod common;

use common::*;
use rpctap::record::Event;
use rpctap::tui::{Feed, Source, Update};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A shim without a recording whose server waits for one line on stdin, then writes
/// `lines` NDJSON messages of about 300 bytes and exits.
fn start(home: &Path, lines: usize) -> (Child, UnixStream) {
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"log","params":"{}"}}"#,
        "x".repeat(250)
    );
    let script = format!("read go; yes '{body}' | head -n {lines}");
    let mut shim = rpctap(home)
        .args(["--no-record", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = home.join("run").join(format!("{}.sock", shim.id()));
    let start = std::time::Instant::now();
    let stream = loop {
        if let Ok(s) = UnixStream::connect(&socket) {
            break s;
        }
        assert!(
            start.elapsed() < HANG,
            "no live socket at {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut out = shim.stdout.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let mut stdin = shim.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    (shim, stream)
}

#[test]
fn a_viewer_that_keeps_reading_gets_the_whole_session() {
    let dir = temp();
    let (mut shim, mut stream) = start(dir.path(), 6000);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    // A slow but steady reader (about a second and a half for the session): it never
    // stops for long.
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(wait_bounded(&mut shim, HANG).success());
    let text = String::from_utf8(got).unwrap();
    assert!(text.ends_with('\n'), "a cut-off line");
    let last = text.lines().last().unwrap();
    assert!(last.starts_with(r#"{"type":"exit""#), "{last}");
    assert_eq!(text.matches(r#""method":"log""#).count(), 6000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_viewer_sees_a_clear_notice_not_a_cut_line() {
    let dir = temp();
    // Far more than a socket buffer holds, and less than the cut-off queue limit.
    let (mut shim, mut stream) = start(dir.path(), 9000);
    // Read nothing until the shim has exited without this viewer.
    let status = tokio::task::spawn_blocking(move || wait_bounded(&mut shim, HANG))
        .await
        .unwrap();
    assert!(status.success());
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    assert!(!got.is_empty());
    // What it received, served to the TUI's live source as the shim served it.
    let served = dir.path().join("served.sock");
    let listener = tokio::net::UnixListener::bind(&served).unwrap();
    let bytes = got.clone();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut s, &bytes)
            .await
            .unwrap();
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    Source::Live { socket: served }.spawn(0, tx);
    let mut messages = 0;
    let end = loop {
        let Feed { update, .. } = tokio::time::timeout(HANG, rx.recv())
            .await
            .expect("the source ends")
            .expect("an update");
        match update {
            Update::Events(events) => {
                for e in events {
                    match e {
                        Event::Message(m) => {
                            assert!(m.body.ends_with(b"}"), "a fragment shown as a message");
                            messages += 1;
                        }
                        Event::Exit(_) => panic!("the stuck viewer got the whole session"),
                        _ => {}
                    }
                }
            }
            Update::CaughtUp => {}
            end => break end,
        }
    };
    assert!(messages > 0 && messages < 9000, "{messages}");
    assert!(
        matches!(&end, Update::Failed(m) if m.contains("ended before the session did")),
        "{end:?}"
    );
}
