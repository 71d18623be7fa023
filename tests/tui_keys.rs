//! Key-driven tests through the event loop: keys are a stream, the screen a
//! `TestBackend`; no terminal and no sleeping.

mod support;

use crossterm::event::{Event as TermEvent, KeyCode, KeyModifiers};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use rpctap::record::{read_file, Event};
use rpctap::tui::app::{Pane, Tab};
use support::*;

#[tokio::test]
async fn navigation_keys_move_the_selection_and_scroll_the_detail() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    keys(&mut app, &mut screen, &mut feeds, typed("jjj")).await;
    assert_eq!(selected_seq(&app), Some(4));
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![key(KeyCode::Up), k('k')],
    )
    .await;
    assert_eq!(selected_seq(&app), Some(2));
    keys(&mut app, &mut screen, &mut feeds, vec![k('G')]).await;
    assert_eq!(selected_seq(&app), Some(29));
    assert!(
        app.top > 0 && app.cursor < app.top + app.list_height(),
        "selection on screen"
    );
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Home)]).await;
    assert_eq!((selected_seq(&app), app.top), (Some(1), 0));
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![key(KeyCode::PageDown)],
    )
    .await;
    assert_eq!(app.cursor, app.list_height());
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![key(KeyCode::End), key(KeyCode::PageUp), k('g')],
    )
    .await;
    assert_eq!(app.cursor, 0);
    // Enter goes to the detail, where j/k scroll instead of moving the selection.
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![key(KeyCode::Enter), k('j'), k('j')],
    )
    .await;
    assert_eq!(
        (app.focus, app.detail_scroll, app.cursor),
        (Pane::Detail, 2, 0)
    );
    keys(&mut app, &mut screen, &mut feeds, vec![k('G')]).await;
    let h = rpctap::tui::render::layout(&app).detail_text().height as usize;
    assert_eq!(
        app.detail_scroll,
        app.detail_lines().len() - h,
        "End shows the last line"
    );
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![key(KeyCode::Tab), k('3'), k('l')],
    )
    .await;
    assert_eq!(
        (app.focus, app.tab),
        (Pane::List, Tab::Body),
        "tabs wrap around"
    );
    assert!(screen.frames > 0);
}

#[tokio::test]
async fn pair_jump_goes_between_request_and_response() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    select_seq(&mut app, 10);
    keys(&mut app, &mut screen, &mut feeds, vec![k('p')]).await;
    assert_eq!(selected_seq(&app), Some(11));
    keys(&mut app, &mut screen, &mut feeds, vec![k('p')]).await;
    assert_eq!(selected_seq(&app), Some(10));
    select_seq(&mut app, 24);
    keys(&mut app, &mut screen, &mut feeds, vec![k('p')]).await;
    assert_eq!(selected_seq(&app), Some(24));
    assert!(app.status.as_ref().unwrap().text.contains("pending"));
    // A pair hidden by the view is not jumped to; the status says why. Only the request's
    // body holds `"method":"textDocument/hover"`.
    let mut input = typed(r#"/"\"method\":\"textDocument/hover""#);
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert_eq!(app.view.len(), 1);
    keys(&mut app, &mut screen, &mut feeds, vec![k('p')]).await;
    assert_eq!(selected_seq(&app), Some(10));
    let status = app.status.clone().unwrap();
    assert_eq!(
        (status.text.as_str(), status.error),
        ("its pair #11 is hidden by the view", true)
    );
}

#[tokio::test]
async fn search_finds_rows_off_screen_and_wraps() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    let mut input = typed("nmethod:shutdown");
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert_eq!(selected_seq(&app), Some(26), "far below the first screen");
    assert!(app.cursor >= app.top && app.cursor < app.top + app.list_height());
    keys(&mut app, &mut screen, &mut feeds, vec![k('n')]).await;
    assert_eq!(
        selected_seq(&app),
        Some(27),
        "the response carries its request's method"
    );
    keys(&mut app, &mut screen, &mut feeds, vec![k('n')]).await;
    assert_eq!(selected_seq(&app), Some(26));
    assert!(app.status.as_ref().unwrap().text.contains("wrapped"));
    keys(&mut app, &mut screen, &mut feeds, vec![k('N')]).await;
    assert_eq!(
        selected_seq(&app),
        Some(27),
        "backwards, wrapping at the top"
    );
    assert!(app.status.as_ref().unwrap().text.contains("wrapped"));
    keys(&mut app, &mut screen, &mut feeds, vec![k('N')]).await;
    assert_eq!(selected_seq(&app), Some(26));
    // Matches hidden by the view are counted, not selected.
    let mut input = vec![k('e'), ctrl('f'), ctrl('u')];
    input.extend(typed("didOpen"));
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    let status = app.status.clone().unwrap();
    assert!(
        status.error && status.text.contains("1 matching rows, all hidden"),
        "{status:?}"
    );
}

#[tokio::test]
async fn marks_and_marked_only() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    select_seq(&mut app, 10);
    keys(&mut app, &mut screen, &mut feeds, typed("mjjm")).await;
    keys(&mut app, &mut screen, &mut feeds, vec![k('M')]).await;
    let seqs: Vec<u64> = app.view.rows.iter().map(|&p| u64::from(p) + 1).collect();
    assert_eq!(seqs, [10, 12]);
    assert_eq!(selected_seq(&app), Some(12));
    // Unmarking in the marked-only view removes the row from it.
    keys(&mut app, &mut screen, &mut feeds, vec![k('m')]).await;
    assert_eq!(app.view.len(), 1);
    keys(&mut app, &mut screen, &mut feeds, vec![k('M')]).await;
    assert_eq!(app.view.len(), 29);
}

#[tokio::test]
async fn filter_line_checks_as_you_type_applies_restores_and_remembers() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        typed("/method:textDocument/hover"),
    )
    .await;
    assert_eq!(app.view.len(), 2, "small sessions filter as you type");
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Esc)]).await;
    assert_eq!(
        (app.view.len(), app.prompt.is_none()),
        (29, true),
        "Esc restores"
    );
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        typed("/method:textDocument/hover"),
    )
    .await;
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Enter)]).await;
    assert_eq!(app.view.len(), 2);
    assert_eq!(app.status.as_ref().unwrap().text, "filter: 2 of 29 rows");
    // An invalid expression keeps the line open and says where.
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('/'), k(' '), k('"'), k('x'), key(KeyCode::Enter)],
    )
    .await;
    assert!(app.prompt.is_some());
    assert_eq!(app.prompt_error.as_ref().map(|e| e.column), Some(26));
    assert_eq!(app.view.len(), 2, "the invalid text changed nothing");
    // History: ↑ brings back the last filter.
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![ctrl('u'), key(KeyCode::Up), key(KeyCode::Enter)],
    )
    .await;
    assert_eq!(
        app.crit.filter.as_ref().map(|f| f.text.as_str()),
        Some("method:textDocument/hover")
    );
    // The empty filter shows everything.
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('/'), ctrl('u'), key(KeyCode::Enter)],
    )
    .await;
    assert_eq!(app.view.len(), 29);
}

#[tokio::test]
async fn copy_and_save_the_view() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    select_seq(&mut app, 10);
    keys(&mut app, &mut screen, &mut feeds, vec![k('y')]).await;
    assert!(
        screen.copied[0].starts_with(r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover""#)
    );
    assert!(app.status.as_ref().unwrap().text.contains("OSC 52"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hover.jsonl");
    let mut input = typed("/method:textDocument/hover");
    input.extend([key(KeyCode::Enter), k('w'), ctrl('u')]);
    input.extend(typed(path.to_str().unwrap()));
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    let status = app.status.clone().unwrap();
    assert!(
        status.text.starts_with("saved 2 rows to ") && status.text.ends_with("hover.jsonl"),
        "{status:?}"
    );
    let saved: Vec<Event> = read_file(&path).unwrap().map(Result::unwrap).collect();
    assert!(matches!(&saved[0], Event::Session(i) if i.name == "demo"));
    let seqs: Vec<u64> = saved[1..3]
        .iter()
        .map(|e| match e {
            Event::Message(m) => m.seq,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs, [10, 11]);
    assert_eq!(saved.len(), 4, "session, two messages, exit");
}

#[tokio::test]
async fn q_quits_at_once_and_help_swallows_one_key() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('?'), k('j'), k('j'), k('q'), k('j')],
    )
    .await;
    assert!(!app.help);
    assert_eq!(
        selected_seq(&app),
        Some(2),
        "the first j closed the help; nothing after q ran"
    );
}

#[tokio::test]
async fn mouse_clicks_select_and_the_wheel_scrolls() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    let body = rpctap::tui::render::layout(&app).list_body();
    let at = |kind, row| {
        TermEvent::Mouse(MouseEvent {
            kind,
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![at(MouseEventKind::Down(MouseButton::Left), body.y + 4)],
    )
    .await;
    assert_eq!(selected_seq(&app), Some(5));
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![at(MouseEventKind::ScrollDown, body.y)],
    )
    .await;
    assert_eq!(selected_seq(&app), Some(8));
    let detail = rpctap::tui::render::layout(&app).detail_text();
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![at(MouseEventKind::Down(MouseButton::Left), detail.y + 2)],
    )
    .await;
    assert_eq!(app.focus, Pane::Detail);
    screen.terminal.backend_mut().resize(100, 30);
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![TermEvent::Resize(100, 30)],
    )
    .await;
    assert_eq!(app.size, (100, 30));
    assert_eq!(screen.backend().buffer().area.width, 100);
}
