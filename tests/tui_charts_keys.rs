//! The timeline (`T`) and stats (`S`) views driven by keys through the event loop, without
//! a terminal: zoom, pan, jump to the list, the filter, sorting, help, and both views
//! reached from the hub.

mod support;

use crossterm::event::KeyCode;
use rpctap::tui::chart::Mode;
use rpctap::tui::{Action, App, Feeds};
use std::path::Path;
use support::*;

fn span(app: &App) -> i64 {
    app.charts.spans.window.expect("a window chosen").span
}

#[tokio::test]
async fn zoom_and_pan_through_the_loop() {
    let (mut app, mut screen, mut feeds) = setup(160, 30);
    keys(&mut app, &mut screen, &mut feeds, typed("T")).await;
    assert_eq!(app.charts.mode, Mode::Timeline);
    assert!(app.charts.spans.window.is_none(), "fits the rows at first");
    keys(&mut app, &mut screen, &mut feeds, typed("+")).await;
    let zoomed = span(&app);
    keys(&mut app, &mut screen, &mut feeds, typed("--")).await;
    assert_eq!(span(&app), zoomed * 4, "- doubles the window, + halves it");
    let before = app.charts.spans.window.unwrap();
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Right)]).await;
    let after = app.charts.spans.window.unwrap();
    assert_eq!(
        after.start - before.start,
        before.span / 4,
        "a quarter window"
    );
    assert_eq!(after.span, before.span);
    keys(&mut app, &mut screen, &mut feeds, typed("hh")).await;
    assert_eq!(
        app.charts.spans.window.unwrap().start,
        before.start - before.span / 4
    );
    // What is drawn follows: the title names the window.
    let title = lines(&screen)[1].clone();
    let shown = rpctap::fmt::latency(before.span);
    assert!(title.contains(&format!("({shown})")), "{title}");
    keys(&mut app, &mut screen, &mut feeds, typed("0")).await;
    assert!(app.charts.spans.window.is_none(), "0 fits again");
}

#[tokio::test]
async fn enter_jumps_to_the_message_in_the_list() {
    let (mut app, mut screen, mut feeds) = setup(160, 30);
    keys(&mut app, &mut screen, &mut feeds, typed("Tjjjjj")).await;
    // Items: initialize, initialized, registerCapability, didOpen, publishDiagnostics,
    // hover (responses are drawn on their requests' rows; stderr and noise are not items).
    assert_eq!(selected_seq(&app), Some(10));
    let rows = lines(&screen);
    let selected = rows
        .iter()
        .position(|l| l.contains("textDocument/hover"))
        .unwrap();
    let bg = screen.backend().buffer()[(2, u16::try_from(selected).unwrap())].bg;
    assert_eq!(
        bg,
        ratatui::style::Color::Indexed(24),
        "the hover row is highlighted"
    );
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Enter)]).await;
    assert_eq!(app.charts.mode, Mode::List);
    assert_eq!(selected_seq(&app), Some(10));
    let list = lines(&screen);
    assert!(
        list[1].starts_with("─ Messages  10/29"),
        "the list is back, on the hover request:\n{}",
        list.join("\n")
    );
    // From a stderr line (not an item) the timeline highlights the item before it, and
    // Enter selects that item's message; from a response, the list stays on it.
    select_seq(&mut app, 16);
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('T'), key(KeyCode::Enter)],
    )
    .await;
    assert_eq!(
        selected_seq(&app),
        Some(15),
        "the failing semanticTokens request"
    );
    select_seq(&mut app, 11);
    keys(
        &mut app,
        &mut screen,
        &mut feeds,
        vec![k('T'), key(KeyCode::Enter)],
    )
    .await;
    assert_eq!(
        selected_seq(&app),
        Some(11),
        "the hover response stays selected"
    );
    // Back in the timeline, G goes to the last item; T from there returns to the list.
    keys(&mut app, &mut screen, &mut feeds, typed("TG")).await;
    assert_eq!(selected_seq(&app), Some(28), "exit, the last notification");
    keys(&mut app, &mut screen, &mut feeds, typed("T")).await;
    assert_eq!(app.charts.mode, Mode::List);
}

#[tokio::test]
async fn the_filter_applies_to_the_timeline() {
    let (mut app, mut screen, mut feeds) = setup(160, 30);
    let mut input = typed("T/method:textDocument/hover");
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert_eq!(app.view.len(), 2, "the hover request and its response");
    assert_eq!(app.charts.spans.items.len(), 1, "one bar for the pair");
    let rows = lines(&screen);
    let bars = rows.iter().filter(|l| l.contains('━')).count();
    assert_eq!(bars, 1, "{}", rows.join("\n"));
    // Responses alone: each is drawn as the bar of its (hidden) request.
    let mut input = vec![k('/'), ctrl('u')];
    input.extend(typed("kind:response"));
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    let responses = app.view.len();
    assert_eq!(app.charts.spans.items.len(), responses);
    assert!(lines(&screen)[1].contains("filter \"kind:response\""));
    // e (errors only) too; and clearing the filter brings every item back.
    let mut input = vec![k('/'), ctrl('u'), key(KeyCode::Enter), k('e')];
    input.push(k('G'));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert!(app.crit.errors_only);
    // The failed semanticTokens request (its error response on its row), and the error
    // answering the cancelled completion (drawn as the bar of its hidden request).
    assert_eq!(app.view.len(), 3);
    assert_eq!(app.charts.spans.items.len(), 2);
}

#[tokio::test]
async fn stats_view_sorts_and_opens_the_timeline_of_a_method() {
    let (mut app, mut screen, mut feeds) = setup(160, 40);
    keys(&mut app, &mut screen, &mut feeds, typed("S")).await;
    assert_eq!(app.charts.mode, Mode::Stats);
    let first = |app: &App| app.charts.table.lines.as_ref().unwrap()[0].method.clone();
    assert_eq!(first(&app), "$/cancelRequest", "by method name first");
    // o: count, errors, p50, p90, p99 (the slowest first).
    keys(&mut app, &mut screen, &mut feeds, typed("ooooo")).await;
    assert_eq!(app.charts.table.sort.name(), "p99");
    let lines_ = app.charts.table.lines.clone().unwrap();
    let p99: Vec<i64> = lines_
        .iter()
        .map(|l| l.stats.quantile(0.99).unwrap_or(-1))
        .collect();
    assert!(p99.windows(2).all(|w| w[0] >= w[1]), "{p99:?}");
    keys(&mut app, &mut screen, &mut feeds, typed("O")).await;
    assert_eq!(
        app.charts.table.lines.as_ref().unwrap()[0].method,
        lines_.last().unwrap().method,
        "O reverses"
    );
    assert!(lines(&screen)[1].contains("sorted by p99 ▲"));
    // Enter: the timeline of the selected method, by a filter.
    keys(&mut app, &mut screen, &mut feeds, typed("Og")).await;
    let slowest = first(&app);
    keys(&mut app, &mut screen, &mut feeds, vec![key(KeyCode::Enter)]).await;
    assert_eq!(app.charts.mode, Mode::Timeline);
    assert_eq!(
        app.crit.filter.as_ref().unwrap().text,
        format!("method:{slowest}")
    );
}

#[tokio::test]
async fn help_lists_the_views_keys() {
    let (mut app, mut screen, mut feeds) = setup(80, 24);
    keys(&mut app, &mut screen, &mut feeds, typed("?")).await;
    assert!(lines(&screen)
        .iter()
        .any(|l| l.contains("timeline / stats view")));
    keys(&mut app, &mut screen, &mut feeds, typed("?T?")).await;
    let shown = lines(&screen).join("\n");
    assert!(
        shown.contains("zoom in / out") && shown.contains("pan the time axis"),
        "{shown}"
    );
    keys(&mut app, &mut screen, &mut feeds, typed("?S?")).await;
    assert!(lines(&screen).join("\n").contains("reverse the order"));
}

/// From the hub: Enter opens a recording, `T` and `S` show its views, `q` goes back to the
/// hub, which opens the next session in the list again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_are_reachable_from_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("pylsp.jsonl");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pylsp-session.jsonl");
    std::fs::copy(src, &a).unwrap();
    let hub = rpctap::tui::hub::Hub::with(dir.path().into(), vec![ended_entry(&a)]);
    let mut app = App::hub(hub);
    let (mut screen, mut frames) = WatchedScreen::new(160, 30);
    let (keys, input) = key_channel();
    let mut feeds = Feeds::new();
    let driver = async {
        shown(&mut frames, "the hub", |s| s.contains("pylsp")).await;
        keys.send(key(KeyCode::Enter)).unwrap();
        shown(&mut frames, "the recording", |s| {
            s.contains("ended · exit 0")
        })
        .await;
        keys.send(k('T')).unwrap();
        let tl = shown(&mut frames, "its timeline", |s| {
            s.contains("─ Timeline  1/9")
        })
        .await;
        assert!(tl.contains("textDocument/completion"), "{tl}");
        keys.send(k('S')).unwrap();
        shown(&mut frames, "its stats", |s| {
            s.contains("─ Stats  9 methods")
        })
        .await;
        keys.send(k('q')).unwrap();
        shown(&mut frames, "the hub again", |s| !s.contains("─ Stats")).await;
        keys.send(key(KeyCode::Enter)).unwrap();
        let list = shown(&mut frames, "the list again", |s| s.contains("─ Messages")).await;
        assert!(!list.contains("─ Stats"), "a new viewer starts on the list");
        keys.send(ctrl('c')).unwrap();
    };
    let ui = rpctap::tui::run(&mut app, &mut screen, input, &mut feeds);
    let (done, ()) = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        futures::future::join(ui, driver).await
    })
    .await
    .expect("bounded");
    done.unwrap();
}

/// A filter typed in the stats view changes its numbers at once (only live growth waits
/// for the next second).
#[tokio::test]
async fn the_filter_applies_to_the_stats_view_at_once() {
    let (mut app, mut screen, mut feeds) = setup(160, 40);
    keys(&mut app, &mut screen, &mut feeds, typed("S")).await;
    assert_eq!(app.charts.table.len(), 15);
    app.update(Action::Tick(std::time::Instant::now()));
    let mut input = typed("/method:initialize,shutdown");
    input.push(key(KeyCode::Enter));
    keys(&mut app, &mut screen, &mut feeds, input).await;
    assert_eq!(app.charts.table.len(), 2);
    let shown = lines(&screen).join("\n");
    assert!(shown.contains("─ Stats  2 methods · 4 messages"), "{shown}");
}
