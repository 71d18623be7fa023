//! `rpctap ui A B --diff` headless: the comparison of the real pylsp and pyright captures
//! drawn on a `TestBackend`, driven by keys through the view's own loop.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rpctap::commands::diff::{load_and_compare, DiffArgs};
use rpctap::replay::Change;
use rpctap::tui::diff::{run, DiffView};
use std::path::Path;

fn view(a: &str, b: &str) -> DiffView {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let args = DiffArgs {
        a: assets.join(a),
        b: assets.join(b),
        check: false,
        format: rpctap::cli::ReportFormat::Text,
        ignore: Vec::new(),
        ignore_params: Vec::new(),
    };
    let (sa, sb, cmp) = load_and_compare(&args).unwrap();
    DiffView::new(sa, sb, (a.into(), b.into()), cmp)
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn screen(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_differences_of_pylsp_and_pyright_are_listed_and_shown() {
    let mut v = view("pylsp-session.jsonl", "pyright-session.jsonl");
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    // j selects the second difference (hover); the stream ends before q.
    run(&mut v, &mut t, futures::stream::iter(vec![Ok(key('j'))]))
        .await
        .unwrap();
    let s = screen(&t);
    assert!(
        s.contains("diff pylsp-session.jsonl → pyright-session.jsonl"),
        "{s}"
    );
    assert!(
        s.contains("5 matched, 1 alike, 4 changed, 0 added, 0 removed"),
        "{s}"
    );
    for method in [
        "initialize",
        "textDocument/hover",
        "textDocument/completion",
    ] {
        assert!(s.contains(&format!("~ changed {method}")), "{method}: {s}");
    }
    assert!(matches!(v.selected(), Some(Change::Changed(..))));
    assert!(s.contains("A textDocument/hover #"), "{s}");
    assert!(s.contains("~ .result.contents.value"), "{s}");
    assert!(s.contains("latency p50 of this method"), "{s}");
    assert!(!v.quit);
    run(&mut v, &mut t, futures::stream::iter(vec![Ok(key('q'))]))
        .await
        .unwrap();
    assert!(v.quit);
}

#[tokio::test]
async fn a_request_only_one_side_has_shows_its_request_and_response() {
    let mut v = view("pylsp-session.jsonl", "mcp-everything-session.jsonl");
    let mut t = Terminal::new(TestBackend::new(120, 60)).unwrap();
    // G: the last difference, a request of A that B lacks.
    run(&mut v, &mut t, futures::stream::iter(vec![Ok(key('G'))]))
        .await
        .unwrap();
    let s = screen(&t);
    assert!(matches!(v.selected(), Some(Change::Removed(_))), "{s}");
    assert!(s.contains("only in A"), "{s}");
    assert!(s.contains("request") && s.contains("response"), "{s}");
    assert!(s.contains("+ added") && s.contains("- removed"), "{s}");
}

#[tokio::test]
async fn identical_sessions_say_so() {
    let mut v = view("pyright-session.jsonl", "pyright-session.jsonl");
    let mut t = Terminal::new(TestBackend::new(100, 20)).unwrap();
    run(&mut v, &mut t, futures::stream::iter(Vec::new()))
        .await
        .unwrap();
    assert!(screen(&t).contains("No differences"));
}
