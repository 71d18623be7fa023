//! Tests of sessions that change while they are viewed, through the event loop: events
//! arrive over the loop's channel or from a followed file. Where time must pass, the
//! clock is paused and advances by itself.

mod support;

use crossterm::event::KeyCode;
use futures::StreamExt;
use rpctap::tui::app::Page;
use rpctap::tui::{run, App, Feed, Feeds, Session, Source, TestScreen, Update};
use std::io::Write;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn arriving_messages_never_move_the_selection_unless_following() {
    let all = fixture_events();
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, all[..10].to_vec()));
    let (mut screen, mut feeds) = (TestScreen::new(80, 24), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, typed("jj")).await;
    let top = app.top;
    feeds
        .sender()
        .send(Feed {
            session: 0,
            update: Update::Events(all[10..20].to_vec()),
        })
        .await
        .unwrap();
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    assert_eq!(app.view.len(), 19, "the new rows are in the view");
    assert_eq!(
        (selected_seq(&app), app.top),
        (Some(3), top),
        "selection and scroll stay"
    );
    keys(&mut app, &mut screen, &mut feeds, vec![k('f')]).await;
    assert_eq!(
        selected_seq(&app),
        Some(19),
        "following jumps to the newest"
    );
    feeds
        .sender()
        .send(Feed {
            session: 0,
            update: Update::Events(all[20..].to_vec()),
        })
        .await
        .unwrap();
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    assert_eq!(selected_seq(&app), Some(29), "and stays on the newest");
    assert!(app.cursor < app.top + app.list_height());
    // Moving stops following.
    keys(&mut app, &mut screen, &mut feeds, vec![k('k')]).await;
    assert!(!app.follow);
    assert_eq!(selected_seq(&app), Some(28));
}

#[tokio::test]
async fn clear_view_hides_what_came_before_and_c_shows_it_again() {
    let all = fixture_events();
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, all[..20].to_vec()));
    let (mut screen, mut feeds) = (TestScreen::new(80, 24), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, vec![k('c')]).await;
    assert!(app.view.is_empty());
    assert_eq!(app.timeline.len(), 19, "nothing deleted");
    feeds
        .sender()
        .send(Feed {
            session: 0,
            update: Update::Events(all[20..23].to_vec()),
        })
        .await
        .unwrap();
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    assert_eq!(app.view.len(), 3, "new rows show");
    assert_eq!(selected_seq(&app), Some(20));
    keys(&mut app, &mut screen, &mut feeds, vec![k('C')]).await;
    assert_eq!(app.view.len(), 22);
    assert_eq!(
        selected_seq(&app),
        Some(20),
        "the selection stays on its row"
    );
}

#[tokio::test]
async fn errors_only_follows_status_changes_of_live_requests() {
    let all = fixture_events();
    let mut app = App::new(vec![Session::new("", None, 0)]);
    // Up to the semanticTokens request (seq 15), before its error response (seq 19).
    app.update(events(0, all[..16].to_vec()));
    let (mut screen, mut feeds) = (TestScreen::new(80, 24), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, vec![k('e')]).await;
    assert_eq!(
        app.view.len(),
        1,
        "the error answering the cancelled completion"
    );
    feeds
        .sender()
        .send(Feed {
            session: 0,
            update: Update::Events(all[16..20].to_vec()),
        })
        .await
        .unwrap();
    keys(&mut app, &mut screen, &mut feeds, vec![]).await;
    let seqs: Vec<u64> = app.view.rows.iter().map(|&p| u64::from(p) + 1).collect();
    assert_eq!(
        seqs,
        [14, 15, 19],
        "the request answered with an error joins the view"
    );
}

/// A file being written: the loop shows lines appended after it started, and follows.
#[tokio::test(start_paused = true)]
async fn a_followed_recording_shows_appended_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.jsonl");
    let text = std::fs::read_to_string(fixture()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, lines[..10].join("\n") + "\n").unwrap();
    let mut app = App::new(vec![rpctap::tui::file_session(&path)]);
    app.follow = true;
    let (mut screen, mut feeds) = (TestScreen::new(120, 30), Feeds::new());
    feeds.spawn(
        Source::File {
            path: path.clone(),
            follow: true,
        },
        0,
    );
    let rest = lines[10..].join("\n") + "\n";
    let input = futures::stream::once(async move {
        // Paused time: this sleep advances the clock while the loop reads the file.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(rest.as_bytes()).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(k('q'))
    })
    .boxed();
    tokio::time::timeout(
        Duration::from_secs(60),
        run(&mut app, &mut screen, input, &mut feeds),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(app.timeline.len(), 29);
    assert_eq!(selected_seq(&app), Some(29), "following");
    assert_eq!(
        app.timeline.sessions[0].feed,
        rpctap::tui::view::SourceState::Ended,
        "exit line read"
    );
    let shown = lines_of(&mut app);
    assert!(shown[0].contains("ended · exit 0"), "{}", shown[0]);
}

fn lines_of(app: &mut App) -> Vec<String> {
    support::lines(&draw(app))
}

#[tokio::test]
async fn the_hub_opens_a_recording_and_q_comes_back() {
    let hub = rpctap::tui::hub::Hub::with("/state".into(), vec![ended_entry(&fixture())]);
    let mut app = App::hub(hub);
    let (mut screen, mut feeds) = (TestScreen::new(100, 20), Feeds::new());
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Enter)]).await;
    assert_eq!((app.page, app.from_hub), (Page::Viewer, true));
    assert_eq!(
        app.timeline.sessions[0].path.as_deref(),
        Some(fixture().as_path())
    );
    keys(&mut app, &mut screen, &mut feeds, vec![k('q')]).await;
    assert_eq!(app.page, Page::Hub);
    assert!(app.timeline.sessions.is_empty());
    keys(&mut app, &mut screen, &mut feeds, vec![k('q'), k('j')]).await;
    assert_eq!(app.page, Page::Hub, "q in the hub quits");
}
