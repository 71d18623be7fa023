//! Intercept through the real binary: a Rust controller (`rpctap::control::client`) on a
//! shim's control socket holds messages of a real child's session and forwards, edits,
//! drops and answers them; hanging up releases what it held. `cat --wire` must still
//! equal what each peer read, and the recording must say what happened.

mod common;
mod control_common;

use common::{temp, wire};
use control_common::{frame, Shim};
use rpctap::control::client::Client;
use rpctap::control::protocol::{Command, Event, Lanes};
use rpctap::record::Dir;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

fn request(id: u64, method: &str) -> Vec<u8> {
    frame(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":{}}))
}

fn ok(c: &mut Client, cmd: Command) {
    let r = c.call(cmd, WAIT).expect("reply");
    assert!(r.ok, "{r:?}");
}

/// The next held event: (hold, direction, body).
fn held(c: &mut Client) -> (u64, Dir, Value) {
    match c
        .next_event(WAIT)
        .expect("read")
        .expect("a held event in time")
    {
        Event::Held {
            hold, dir, body, ..
        } => (hold, dir, body.expect("JSON body")),
    }
}

fn echo(id: u64, method: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"result":{"echo":method,"params":{}}})
}

#[test]
fn held_messages_are_forwarded_edited_dropped_answered_and_released_on_hang_up() {
    let dir = temp();
    let shim = Shim::start(dir.path());
    let mut c = Client::connect(&shim.control).unwrap();
    let bad = c
        .call(
            Command::Intercept {
                filter: "((".into(),
                to: Lanes::Server,
            },
            WAIT,
        )
        .unwrap();
    assert!(!bad.ok && bad.error.unwrap().contains("bad filter"));
    ok(
        &mut c,
        Command::Intercept {
            filter: "method:held/*".into(),
            to: Lanes::Server,
        },
    );
    let mut other = Client::connect(&shim.control).unwrap();
    let refused = other
        .call(
            Command::Intercept {
                filter: "method:*".into(),
                to: Lanes::Both,
            },
            WAIT,
        )
        .unwrap();
    assert!(!refused.ok, "only one controller intercepts at a time");
    drop(other);

    // Held, while other traffic goes on.
    shim.write(&request(1, "held/a"));
    let (h1, d1, b1) = held(&mut c);
    assert_eq!((d1, b1["method"].as_str()), (Dir::C2s, Some("held/a")));
    shim.write(&request(2, "free/x"));
    assert_eq!(shim.wait_frames(1), [echo(2, "free/x")]);
    ok(&mut c, Command::Forward { hold: h1 });
    assert_eq!(shim.wait_frames(2)[1], echo(1, "held/a"));

    // Edited.
    shim.write(&request(3, "held/b"));
    let (h2, _, mut b2) = held(&mut c);
    b2["method"] = "edited/b".into();
    ok(&mut c, Command::Edit { hold: h2, body: b2 });
    assert_eq!(shim.wait_frames(3)[2], echo(3, "edited/b"));

    // Dropped, then answered by the controller: the server sees neither.
    shim.write(&request(4, "held/c"));
    let (h3, _, _) = held(&mut c);
    ok(&mut c, Command::Drop { hold: h3 });
    shim.write(&request(5, "held/d"));
    let (h4, _, _) = held(&mut c);
    ok(
        &mut c,
        Command::Answer {
            hold: h4,
            body: json!({"result":"mine"}),
        },
    );
    assert_eq!(
        shim.wait_frames(4)[3],
        json!({"jsonrpc":"2.0","result":"mine","id":5})
    );
    let twice = c.call(Command::Forward { hold: h4 }, WAIT).unwrap();
    assert!(!twice.ok, "a decided hold is gone");

    // Released when the controller hangs up.
    shim.write(&request(6, "held/e"));
    let _ = held(&mut c);
    drop(c);
    assert_eq!(shim.wait_frames(5)[4], echo(6, "held/e"));

    // The intercept went with it: another controller may set one, here on responses.
    let mut c = Client::connect(&shim.control).unwrap();
    ok(
        &mut c,
        Command::Intercept {
            filter: r#".result.echo == "s2c/x""#.into(),
            to: Lanes::Client,
        },
    );
    shim.write(&request(7, "s2c/x"));
    let (h5, d5, _) = held(&mut c);
    assert_eq!(d5, Dir::S2c);
    ok(
        &mut c,
        Command::Edit {
            hold: h5,
            body: json!({"jsonrpc":"2.0","id":7,"result":"edited"}),
        },
    );
    assert_eq!(
        shim.wait_frames(6)[5],
        json!({"jsonrpc":"2.0","id":7,"result":"edited"})
    );
    drop(c);

    let (stdout, log, rec) = shim.finish();
    let server_read = String::from_utf8_lossy(&log).into_owned();
    assert!(!server_read.contains("held/c") && !server_read.contains("held/d"));
    assert!(!server_read.contains("\"held/b\"") && server_read.contains("edited/b"));
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
    let actions: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(r#"{"type":"release""#))
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            match v["action"].as_str().unwrap() {
                "forward" => "forward",
                "edit" => "edit",
                "drop" => "drop",
                "answer" => "answer",
                other => panic!("{other}"),
            }
        })
        .collect();
    assert_eq!(
        actions,
        ["forward", "edit", "drop", "answer", "forward", "edit"]
    );
    assert_eq!(text.matches(r#""held":"#).count(), 6, "{text}");
    assert_eq!(
        text.matches(r#""origin":"rpctap""#).count(),
        1,
        "the answer: {text}"
    );
}
