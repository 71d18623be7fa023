//! The TUI's conformance display: the marker column, the Problems view (`P`), jumping to
//! a problem's message, and the `violation` / `rule:` filters.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rpctap::tui::prompt::PromptKind;
use rpctap::tui::{Action, App};
use support::*;

fn press(app: &mut App, code: KeyCode) {
    let k = KeyEvent::new(code, KeyModifiers::NONE);
    if let Some(a) = rpctap::tui::keys::key(app, k) {
        app.update(a);
    }
}

fn set_filter(app: &mut App, text: &str) {
    app.update(Action::OpenPrompt(PromptKind::Filter));
    for c in text.chars() {
        app.update(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
}

#[test]
fn problems_view_lists_violations_and_enter_selects_the_message() {
    let mut app = fixture_app(120, 30);
    let screen = lines(&draw(&mut app));
    assert!(screen[1].contains("2 problem(s): P"), "{}", screen[1]);
    // The noise row carries the error marker in column 0.
    let noise = screen
        .iter()
        .find(|l| l.contains("pylsp: loading plugins"))
        .unwrap();
    assert!(noise.starts_with('✗'), "{noise}");

    press(&mut app, KeyCode::Char('P'));
    let overlay = lines(&draw(&mut app));
    assert!(
        overlay.iter().any(|l| l.contains("Problems: 2")),
        "{overlay:#?}"
    );
    assert!(overlay.iter().any(|l| l.contains("framing/noise")));
    assert!(overlay.iter().any(|l| l.contains("jsonrpc/shape")));

    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert!(app.problems.is_none(), "Enter closes the view");
    assert_eq!(
        selected_seq(&app),
        Some(26),
        "the second problem is the shutdown request"
    );
    let after = lines(&draw(&mut app));
    assert!(!after.iter().any(|l| l.contains("Problems: 2")));

    press(&mut app, KeyCode::Char('P'));
    press(&mut app, KeyCode::Esc);
    assert!(app.problems.is_none(), "Esc closes the view");
}

#[test]
fn the_filter_selects_violations_and_rules() {
    for (text, want) in [
        ("violation", 2),
        ("rule:framing/noise", 1),
        ("rule:jsonrpc/*", 1),
        ("!violation", 27),
    ] {
        // A fresh viewer each time: the prompt opens with the current filter's text.
        let mut app = fixture_app(120, 30);
        set_filter(&mut app, text);
        assert_eq!(app.view.len(), want, "{text}");
    }
}
