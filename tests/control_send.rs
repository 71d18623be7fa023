//! `rpctap send` through the real binary: a shim in front of a real child (a Python
//! server that logs what it reads), injections concurrent with the client's own traffic.
//! The client must receive nothing it did not ask for, `send` must print the response
//! with its own id, and `cat --wire` must equal what each peer read.

mod common;
mod control_common;

use common::{rpctap, temp, wire};
use control_common::{frames_of, lines_of, Shim};
use serde_json::{json, Value};

fn send(shim: &Shim, args: &[&str]) -> std::process::Output {
    rpctap(shim.home())
        .arg("send")
        .args(args)
        .output()
        .expect("run rpctap send")
}

#[test]
fn injected_requests_are_answered_to_send_and_never_reach_the_client() {
    injections_concurrent_with_the_client(false);
}

#[test]
fn injections_into_a_newline_delimited_session() {
    injections_concurrent_with_the_client(true);
}

fn injections_concurrent_with_the_client(ndjson: bool) {
    let dir = temp();
    let shim = Shim::start_framed(dir.path(), ndjson);
    // The client's requests, each written in two pieces (split inside the frame) while
    // the injections run: frames are injected only between the client's frames.
    let client =
        shim.spawn_client((1..=40).map(
            |i| json!({"jsonrpc":"2.0","id":i,"method":format!("client/m{i}"),"params":{"i":i}}),
        ));
    // Once the lane's framing is known (an injection before any traffic is framed as the
    // other direction is, else with Content-Length).
    shim.wait_frames(1);
    let sends: Vec<_> = (0..8)
        .map(|k| {
            // The same id as the client's first request: the shim's own ids cannot collide.
            let msg = json!({"jsonrpc":"2.0","id":1,"method":"inj/hover","params":{"k":k}});
            let out = send(&shim, &["--timeout", "20", &msg.to_string()]);
            assert!(
                out.status.success(),
                "send failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).expect("send prints JSON")
        })
        .collect();
    client.join().unwrap();
    for (k, reply) in sends.iter().enumerate() {
        assert_eq!(
            reply,
            &json!({"jsonrpc":"2.0","id":1,"result":{"echo":"inj/hover","params":{"k":k}}})
        );
    }
    let (stdout, log, rec) = shim.finish();
    let got = if ndjson {
        lines_of(&stdout)
    } else {
        frames_of(&stdout)
    };
    let want: Vec<Value> = (1..=40)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"result":{"echo":format!("client/m{i}"),"params":{"i":i}}}))
        .collect();
    assert_eq!(got, want, "the client received exactly its own responses");
    assert_eq!(
        wire(dir.path(), &rec, "c2s"),
        log,
        "cat --wire c2s is what the server read"
    );
    assert_eq!(
        wire(dir.path(), &rec, "s2c"),
        stdout,
        "cat --wire s2c is what the client read"
    );
    let text = std::fs::read_to_string(&rec).unwrap();
    let injected = text
        .lines()
        .filter(|l| l.contains(r#""origin":"rpctap""#))
        .count();
    let diverted = text
        .lines()
        .filter(|l| l.contains(r#""diverted":true"#))
        .count();
    assert_eq!((injected, diverted), (8, 8), "{text}");
}

#[test]
fn a_request_sent_to_the_client_gets_the_clients_answer() {
    let dir = temp();
    let shim = Shim::start(dir.path());
    let msg = json!({"jsonrpc":"2.0","id":7,"method":"client/ask","params":{"q":1}});
    let out = send(
        &shim,
        &["--to", "client", "--timeout", "20", &msg.to_string()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply, json!({"jsonrpc":"2.0","id":7,"result":"answered"}));
    let (stdout, log, rec) = shim.finish();
    let got = frames_of(&stdout);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["method"], "client/ask");
    assert!(got[0]["id"]
        .as_str()
        .is_some_and(|s| s.starts_with("rpctap-")));
    // The client's answer went to rpctap, not to the server.
    assert!(!String::from_utf8_lossy(&log).contains("answered"));
    assert_eq!(wire(dir.path(), &rec, "c2s"), log);
    assert_eq!(wire(dir.path(), &rec, "s2c"), stdout);
}

#[test]
fn notifications_timeouts_and_bad_input() {
    let dir = temp();
    let shim = Shim::start(dir.path());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&shim.control)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the control socket is the owner's only"
    );
    let meta: Value =
        serde_json::from_slice(&std::fs::read(shim.control.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(meta["control"], shim.control.display().to_string());
    let note = json!({"jsonrpc":"2.0","method":"note/x","params":{}});
    // The session named by the shim's pid, as `ls` and the hub show it.
    let pid = shim
        .control
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let out = send(&shim, &[&pid, &note.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let silent = json!({"jsonrpc":"2.0","id":3,"method":"noanswer"});
    let out = send(&shim, &["--timeout", "0.3", &silent.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timeout after 300 ms"));

    for bad in [
        &["{not json"][..],
        &["[1,2]"],
        &["nosuch", "{}"],
        &["--timeout", "-1", "{}"],
    ] {
        let out = send(&shim, bad);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    let nobody = temp();
    let out = rpctap(nobody.path()).args(["send", "{}"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no live session"));
    let (_, log, _) = shim.finish();
    assert!(String::from_utf8_lossy(&log).contains("note/x"));
}
