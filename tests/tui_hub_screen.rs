//! The hub's screen and keys without processes: a snapshot of live and ended sessions,
//! the empty hub, and marking sessions to open them merged.

mod common;
mod support;

use crossterm::event::KeyCode;
use rpctap::catalog::{Catalog, Entry, Listing, State};
use rpctap::record::{Exit, Micros, SessionInfo};
use rpctap::rpc::Protocol;
use rpctap::session::Summary;
use rpctap::tui::app::Page;
use rpctap::tui::hub::Hub;
use rpctap::tui::view::SourceState;
use rpctap::tui::{Action, App, Feed, Feeds, Source, Target, TestScreen, Update};
use std::path::PathBuf;
use support::*;

#[tokio::test]
async fn space_marks_sessions_and_enter_opens_them_merged() {
    let dir = common::temp();
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    std::fs::copy(fixture(), &a).unwrap();
    let text = std::fs::read_to_string(fixture()).unwrap();
    std::fs::write(
        &b,
        text.replacen("\"name\":\"demo\"", "\"name\":\"other\"", 1),
    )
    .unwrap();
    let hub = Hub::with(dir.path().into(), vec![ended_entry(&a), ended_entry(&b)]);
    let mut app = App::hub(hub);
    let (mut screen, mut feeds) = (TestScreen::new(120, 20), Feeds::new());
    // Space marks and moves down; the second Space marks the second session.
    keys(&mut app, &mut screen, &mut feeds, vec![k(' '), k(' ')]).await;
    let marked = lines(&screen).join("\n");
    assert!(
        marked.contains("2 marked: Enter opens them merged"),
        "{marked}"
    );
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Enter)]).await;
    assert_eq!((app.page, app.timeline.sessions.len()), (Page::Viewer, 2));
    let header = lines(&draw(&mut app)).remove(0);
    assert!(header.contains("2 sessions: demo, other"), "{header}");
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('q'), k('k'), k(' ')],
    )
    .await;
    assert_eq!(app.page, Page::Hub);
    assert_eq!(app.hub.as_ref().unwrap().marks.len(), 1, "Space unmarks");
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Enter)]).await;
    assert_eq!(app.timeline.sessions.len(), 1, "the one still marked");
    assert_eq!(app.timeline.sessions[0].path.as_deref(), Some(b.as_path()));
}

fn info(name: &str, command: &str, started: &str) -> SessionInfo {
    SessionInfo {
        id: name.into(),
        name: name.into(),
        command: command.split(' ').map(str::to_owned).collect(),
        cwd: "/tmp".into(),
        pid: 1,
        started: format!("2026-11-21T{started}.000000Z"),
        protocol: None,
    }
}

fn entry(
    info: SessionInfo,
    counts: Option<(u64, u64, Option<Protocol>)>,
    state: State,
    recorded: bool,
) -> Entry {
    let recording = recorded.then(|| {
        let hms: String = info.started[11..19].chars().filter(|c| *c != ':').collect();
        PathBuf::from(format!(
            "/state/sessions/20261121-{hms}-{}-1.jsonl",
            info.name
        ))
    });
    let socket = Some(PathBuf::from(format!("/run/rpctap/{}.sock", info.name)));
    let summary = counts.map(|(messages, errors, protocol)| Summary {
        info: info.clone(),
        messages,
        errors,
        protocol,
        exit: None,
        gap_bytes: 0,
        problems: 0,
        failure: None,
    });
    Entry {
        info,
        recording,
        socket,
        summary,
        state,
    }
}

fn exit(code: Option<i32>, signal: Option<i32>) -> State {
    State::Exited(Exit {
        t: Micros(0),
        code,
        signal,
    })
}

/// Replaces local date-times (`YYYY-MM-DD HH:MM:SS`) so snapshots do not depend on the
/// time zone.
fn scrub_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd";
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let fits = b.len() - i >= SHAPE.len()
            && SHAPE.iter().zip(&b[i..]).all(|(s, c)| match s {
                b'd' => c.is_ascii_digit(),
                s => s == c,
            });
        if fits {
            out.push_str("YYYY-MM-DD hh:mm:ss");
            i += SHAPE.len();
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn hub_with_live_and_ended_sessions() {
    let lsp = Some(Protocol::Lsp);
    let mcp = Some(Protocol::Mcp);
    let items = vec![
        entry(
            info("livecheck", "rpctap demo-server", "10:05:00"),
            Some((1204, 0, lsp)),
            State::Live,
            true,
        ),
        entry(
            info("files", "npx mcp-files /srv", "10:04:00"),
            None,
            State::Live,
            false,
        ),
        entry(
            info("pylsp", "pylsp -v", "10:03:00"),
            Some((29, 2, lsp)),
            exit(Some(0), None),
            true,
        ),
        entry(
            info("tools", "python tools.py", "10:02:00"),
            Some((12, 1, mcp)),
            exit(Some(3), None),
            true,
        ),
        entry(
            info("a-very-long-session-name", "gopls", "10:01:00"),
            Some((7, 0, lsp)),
            exit(None, Some(9)),
            true,
        ),
        entry(
            info("clangd", "clangd", "10:00:30"),
            Some((3, 0, None)),
            State::NoExit,
            true,
        ),
        entry(info("old", "mcp-old", "10:00:00"), None, State::Gone, false),
    ];
    let mut hub = Hub::with("/state/sessions".into(), items);
    hub.toggle_mark();
    hub.step(2);
    hub.toggle_mark();
    let mut app = App::hub(hub);
    app.update(Action::Resize(160, 12));
    let text = lines(&draw(&mut app)).join("\n");
    insta::assert_snapshot!(scrub_times(&text));
    // 80 columns: the start time gives way to the command.
    app.update(Action::Resize(80, 12));
    let narrow = lines(&draw(&mut app));
    assert!(!narrow[2].contains("started"), "{}", narrow[2]);
    assert!(narrow[5].contains(" 2  pylsp -v"), "{}", narrow[5]);
}

#[test]
fn an_empty_hub_says_how_sessions_get_there() {
    let home = common::temp();
    let catalog = Catalog::new(home.path().join("sessions"), home.path().join("run"));
    let mut looking = App::hub(Hub::watch(catalog));
    looking.update(Action::Resize(100, 10));
    assert!(lines(&draw(&mut looking))
        .join("\n")
        .contains("looking for sessions…"));
    looking.update(Action::HubListing(Listing::default()));
    let text = lines(&draw(&mut looking)).join("\n");
    assert!(text.contains("no sessions yet."), "{text}");
    assert!(
        text.contains("Put `rpctap --` before a server command"),
        "{text}"
    );
}

#[tokio::test]
async fn a_viewer_cut_off_by_the_shim_says_so_and_r_reattaches() {
    let target = Target {
        label: "fed".into(),
        source: Source::Live {
            socket: "/nonexistent/1.sock".into(),
        },
    };
    let mut app = App::new(vec![rpctap::tui::target_session(&target)]);
    app.opened = vec![target.clone()];
    app.update(events(0, fixture_events()[..5].to_vec()));
    let (mut screen, mut feeds) = (TestScreen::new(120, 20), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, vec![k('r')]).await;
    assert_eq!(app.timeline.len(), 4, "nothing to reattach yet");
    let reason = "this viewer fell more than 8 MB behind and was cut off; reattach to continue";
    app.update(Action::Feed(Feed {
        session: 0,
        update: Update::CutOff(reason.into()),
    }));
    let shown = lines(&draw(&mut app));
    assert!(shown[0].contains("cut off · r reattaches"), "{}", shown[0]);
    assert!(
        shown[19].contains("cut off; reattach to continue: press r"),
        "{}",
        shown[19]
    );
    keys(&mut app, &mut screen, &mut feeds, vec![k('r')]).await;
    assert_eq!(app.opened, vec![target]);
    assert_eq!(
        app.timeline.len(),
        0,
        "the session is read again from its start"
    );
    assert_ne!(app.timeline.sessions[0].feed, SourceState::CutOff);
}
