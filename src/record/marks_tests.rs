//! Round trips of the fields interactive control adds to a recording (issue 16): the
//! marks on message lines and the `release` line.

use super::ReleaseAction;
use super::{encode_event, parse_line, Dir, Event, Mark, MessageEvent, Micros, Release};
use crate::wire::Framing;
use bytes::Bytes;

fn line_of(event: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    encode_event(&mut out, event);
    assert_eq!(out.pop(), Some(b'\n'));
    out
}

fn message(mark: Mark) -> Event {
    Event::Message(MessageEvent {
        seq: 3,
        t: Micros(1_700_000_000_000_000),
        dir: Dir::S2c,
        framing: Framing::Lsp,
        body: Bytes::from_static(br#"{"jsonrpc":"2.0","id":"rpctap-1-1","result":null}"#),
        headers: None,
        redacted: false,
        oversized: None,
        mark,
    })
}

#[test]
fn marks_are_written_only_when_set_and_read_back() {
    let plain = line_of(&message(Mark::default()));
    let text = String::from_utf8(plain.clone()).unwrap();
    assert!(!text.contains("origin") && !text.contains("held") && !text.contains("diverted"));
    for mark in [
        Mark {
            injected: true,
            ..Mark::default()
        },
        Mark {
            held: Some(7),
            ..Mark::default()
        },
        Mark {
            diverted: true,
            ..Mark::default()
        },
    ] {
        let line = line_of(&message(mark));
        let text = String::from_utf8(line.clone()).unwrap();
        assert_eq!(
            text.contains(r#""origin":"rpctap""#),
            mark.injected,
            "{text}"
        );
        assert_eq!(text.contains(r#""held":7"#), mark.held.is_some(), "{text}");
        assert_eq!(text.contains(r#""diverted":true"#), mark.diverted, "{text}");
        assert_eq!(parse_line(&line).unwrap(), message(mark));
    }
}

#[test]
fn release_lines_round_trip() {
    for (action, body) in [
        (ReleaseAction::Forward, None),
        (
            ReleaseAction::Edit,
            Some(Bytes::from_static(br#"{"a":[1,2]}"#)),
        ),
        (ReleaseAction::Edit, Some(Bytes::from_static(b"not json\n"))),
        (ReleaseAction::Drop, None),
        (ReleaseAction::Answer, None),
    ] {
        let event = Event::Release(Release {
            t: Micros(1_700_000_000_000_001),
            dir: Dir::C2s,
            hold: 4,
            action,
            body,
        });
        let line = line_of(&event);
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(text.starts_with(r#"{"type":"release","#), "{text}");
        assert_eq!(parse_line(&line).unwrap(), event, "{text}");
    }
    assert!(
        parse_line(br#"{"type":"release","t":"2024-01-01T00:00:00Z","dir":"c2s","hold":1}"#)
            .is_err()
    );
    assert!(parse_line(
        br#"{"type":"release","t":"2024-01-01T00:00:00Z","dir":"c2s","action":"drop"}"#
    )
    .is_err());
}

#[test]
fn the_filter_words_select_marked_rows() {
    let mut store = crate::session::Store::new();
    for (seq, mark) in [
        Mark::default(),
        Mark {
            injected: true,
            ..Mark::default()
        },
        Mark {
            held: Some(1),
            ..Mark::default()
        },
        Mark {
            diverted: true,
            ..Mark::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let Event::Message(mut m) = message(mark) else {
            unreachable!()
        };
        m.seq = seq as u64 + 1;
        store.push(Event::Message(m));
    }
    let select = |text: &str| crate::filter::Filter::parse(text).unwrap().select(&store);
    assert_eq!(select("injected"), [1]);
    assert_eq!(select("held"), [2]);
    assert_eq!(select("diverted"), [3]);
    assert_eq!(select("!injected & !held & !diverted"), [0]);
    assert_eq!(store.held, [(2, 1)]);
}
