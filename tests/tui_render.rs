//! Snapshots of rendered frames (ratatui `TestBackend`), reviewed like code in
//! `tests/snapshots/`. Times are relative to the session start, so they do not depend on
//! the time zone.

mod support;

use ratatui::style::Color;
use rpctap::tui::app::{Tab, TimeFormat};
use rpctap::tui::prompt::PromptKind;
use rpctap::tui::{Action, App, Feed, Session, Update};
use support::*;

#[test]
fn lsp_session_list_and_detail_200x50() {
    let mut app = fixture_app(200, 50);
    select_seq(&mut app, 10);
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn lsp_session_80x24() {
    let mut app = fixture_app(80, 24);
    select_seq(&mut app, 4);
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn pair_view_shows_request_response_and_latency() {
    let mut app = fixture_app(200, 50);
    select_seq(&mut app, 11);
    app.update(Action::SetTab(Tab::Pair));
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn pair_view_of_a_pending_request() {
    let mut app = fixture_app(120, 30);
    select_seq(&mut app, 24);
    app.update(Action::SetTab(Tab::Pair));
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn wire_view_shows_headers_and_escapes() {
    let mut app = fixture_app(120, 30);
    select_seq(&mut app, 3);
    app.update(Action::SetTab(Tab::Wire));
    let noise = draw(&mut app);
    assert!(
        lines(&noise)
            .iter()
            .any(|l| l.contains("pylsp: loading plugins\\n")),
        "the noise's newline is shown as an escape"
    );
    select_seq(&mut app, 11);
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn errors_only_with_the_stderr_pane() {
    let mut app = fixture_app(160, 40);
    app.update(Action::ToggleErrors);
    app.update(Action::ToggleStderr);
    select_seq(&mut app, 19);
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn help_overlay_80x24() {
    let mut app = fixture_app(80, 24);
    app.update(Action::ToggleHelp);
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn empty_session() {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    let header = fixture_events().into_iter().take(1).collect();
    app.update(events(0, header));
    app.update(Action::Feed(Feed {
        session: 0,
        update: Update::Ended,
    }));
    app.update(Action::Resize(80, 24));
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn filter_prompt_shows_the_error_column() {
    let mut app = fixture_app(80, 24);
    app.update(Action::OpenPrompt(PromptKind::Filter));
    for e in typed("hover \"unterminated") {
        if let crossterm::event::Event::Key(k) = e {
            app.update(Action::Key(k));
        }
    }
    let screen = draw(&mut app);
    let footer = lines(&screen).pop().unwrap();
    assert!(
        footer.starts_with("filter: hover \"unterminated"),
        "{footer}"
    );
    assert!(
        footer.contains("✗ column 7: unterminated string"),
        "{footer}"
    );
    let buf = screen.backend().buffer();
    assert_eq!(
        buf[(8 + 6, 23)].bg,
        Color::Red,
        "the error column is highlighted"
    );
}

#[test]
fn merged_sessions_have_a_session_column() {
    let mut app = App::new(vec![Session::new("", None, 0), Session::new("", None, 0)]);
    let evs = fixture_events();
    app.update(events(0, evs[..12].to_vec()));
    let mut other = evs[..6].to_vec();
    if let rpctap::record::Event::Session(info) = &mut other[0] {
        info.name = "second".into();
    }
    app.update(events(1, other));
    app.time = TimeFormat::Relative;
    app.update(Action::Resize(160, 24));
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn error_pending_and_cancelled_rows_have_their_colours() {
    let mut app = fixture_app(200, 50);
    let screen = draw(&mut app);
    let rows = lines(&screen);
    let fg_of = |seq: &str, text: &str| {
        let y = rows
            .iter()
            // Column 0 is the mark or conformance marker (one character, maybe wide in bytes).
            .position(|l| l.chars().skip(1).take(7).collect::<String>().trim() == seq)
            .unwrap_or_else(|| panic!("row {seq}"));
        let x = rows[y].find(text).unwrap();
        let col = u16::try_from(rows[y][..x].chars().count()).unwrap();
        screen.backend().buffer()[(col, u16::try_from(y).unwrap())].fg
    };
    assert_eq!(fg_of("19", "textDocument/semanticTokens/full"), Color::Red);
    assert_eq!(
        fg_of("15", "textDocument/semanticTokens/full"),
        Color::Red,
        "answered with an error"
    );
    assert_eq!(fg_of("24", "pending"), Color::Yellow);
    assert_eq!(
        fg_of("12", "textDocument/completion"),
        Color::Magenta,
        "cancelled"
    );
    assert_eq!(fg_of("3", "pylsp: loading"), Color::DarkGray, "noise");
}

#[test]
fn filter_line_valid_and_invalid() {
    let mut app = fixture_app(100, 24);
    app.update(Action::OpenPrompt(PromptKind::Filter));
    for e in typed("method:textDocument/* & latency>1ms") {
        if let crossterm::event::Event::Key(k) = e {
            app.update(Action::Key(k));
        }
    }
    insta::assert_snapshot!("filter_line_valid", draw(&mut app).backend());
    for e in typed(" & .error.code ==") {
        if let crossterm::event::Event::Key(k) = e {
            app.update(Action::Key(k));
        }
    }
    insta::assert_snapshot!("filter_line_invalid", draw(&mut app).backend());
}
