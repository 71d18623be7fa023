//! The timeline (`T`) and stats (`S`) views: snapshots on the real captures in `assets/`
//! (pylsp, MCP server-everything, debugpy), and keys through the event loop — zoom, pan,
//! jump to the list, the filter — without a terminal.

mod support;

use crossterm::event::KeyCode;
use rpctap::record::{read_file, Event};
use rpctap::tui::app::TimeFormat;
use rpctap::tui::chart::Mode;
use rpctap::tui::{Action, App, Feed, Feeds, Session, TestScreen, Update};
use std::path::Path;
use support::*;

fn asset_events(name: &str) -> Vec<Event> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name);
    read_file(&path).unwrap().map(Result::unwrap).collect()
}

/// A real capture, fully read, in an app of this size.
fn asset_app(name: &str, width: u16, height: u16) -> App {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, asset_events(name)));
    app.update(Action::Feed(Feed {
        session: 0,
        update: Update::Ended,
    }));
    app.time = TimeFormat::Relative;
    app.update(Action::Resize(width, height));
    app
}

fn press(app: &mut App, c: char) {
    if let crossterm::event::Event::Key(k) = support::k(c) {
        app.update(Action::Key(k));
    }
}

#[test]
fn timeline_of_pylsp() {
    let mut app = asset_app("pylsp-session.jsonl", 160, 30);
    press(&mut app, 'T');
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn timeline_of_mcp_everything() {
    let mut app = asset_app("mcp-everything-session.jsonl", 160, 30);
    press(&mut app, 'T');
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn timeline_of_debugpy() {
    let mut app = asset_app("debugpy-session.jsonl", 200, 50);
    press(&mut app, 'T');
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn stats_of_pylsp() {
    let mut app = asset_app("pylsp-session.jsonl", 160, 30);
    press(&mut app, 'S');
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn stats_of_mcp_everything() {
    let mut app = asset_app("mcp-everything-session.jsonl", 160, 30);
    press(&mut app, 'S');
    insta::assert_snapshot!(draw(&mut app).backend());
}

#[test]
fn stats_of_debugpy() {
    let mut app = asset_app("debugpy-session.jsonl", 200, 50);
    press(&mut app, 'S');
    insta::assert_snapshot!(draw(&mut app).backend());
}

/// The test fixture has every kind of item: errors, a pending and a cancelled request, a
/// server-to-client request, notifications both ways.
#[test]
fn timeline_marks_errors_pending_cancelled_and_server_requests() {
    let mut app = fixture_app(160, 30);
    press(&mut app, 'T');
    let screen = draw(&mut app);
    insta::assert_snapshot!(screen.backend());
    let rows = lines(&screen);
    let row = |method: &str| {
        rows.iter()
            .find(|l| l.contains(method))
            .unwrap_or_else(|| panic!("{method} in\n{}", rows.join("\n")))
            .clone()
    };
    assert!(
        row("← workspace/configuration").contains('═'),
        "s2c: double bar"
    );
    assert!(row("textDocument/documentSymbol").contains('▶'), "pending");
    assert!(row("textDocument/semanticTokens").contains('✗'), "error");
    assert!(row("textDocument/completion").contains('✕'), "cancelled");
}

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
    let bg = screen.backend().buffer()[(2, selected as u16)].bg;
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

/// A live session: a pending request's bar runs to now and grows as the clock moves; the
/// header shows the rates per direction.
#[test]
fn live_pending_bars_grow_and_the_header_shows_rates() {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    let evs = fixture_events();
    // Up to the pending documentSymbol request (seq 24), then the feed is caught up.
    let upto = evs
        .iter()
        .position(|e| matches!(e, Event::Message(m) if m.seq == 24))
        .unwrap();
    let t24 = match &evs[upto] {
        Event::Message(m) => m.t.0,
        _ => unreachable!(),
    };
    app.update(events(0, evs[..=upto].to_vec()));
    app.update(Action::Feed(Feed {
        session: 0,
        update: Update::CaughtUp,
    }));
    app.time = TimeFormat::Relative;
    app.update(Action::Resize(200, 30));
    assert!(app.wants_frame(), "the clock runs while live");
    press(&mut app, 'T');
    press(&mut app, 'G');
    app.charts.rates.now = Some(t24 + 2_000_000);
    let before = lines(&draw(&mut app));
    let row = |rows: &[String]| {
        rows.iter()
            .find(|l| l.contains("textDocument/documentSymbol"))
            .unwrap()
            .clone()
    };
    assert!(row(&before).contains("pending 2.00s"), "{}", row(&before));
    app.charts.rates.now = Some(t24 + 3_000_000);
    let after = lines(&draw(&mut app));
    assert!(row(&after).contains("pending 3.00s"), "{}", row(&after));
    let bar = |l: &str| l.matches('━').count();
    assert!(bar(&row(&after)) >= bar(&row(&before)), "the bar grows");
    // Zoomed in and following (f), the window's right part is the live edge.
    press(&mut app, '+');
    press(&mut app, 'f');
    assert!(app.follow);
    let w = |app: &App| rpctap::tui::chart::spans::window(app, 0..1);
    let now = t24 + 3_000_000;
    assert_eq!(
        w(&app).end() - now,
        w(&app).span / 10,
        "the edge near the right"
    );
    app.charts.rates.now = Some(now + 5_000_000);
    assert_eq!(
        w(&app).end() - (now + 5_000_000),
        w(&app).span / 10,
        "and it moves"
    );
    // The header: a sparkline and a rate per direction, for the seconds before now.
    let header = &after[0];
    assert!(header.contains("● live"), "{header}");
    assert!(header.contains("→ ") && header.contains("/s"), "{header}");
    assert!(header.contains("pending"), "the pending count: {header}");
}

/// `rpctap stats --format json` prints the numbers the S view shows.
#[test]
fn stats_json_has_the_numbers_of_the_stats_view() {
    for name in [
        "pylsp-session.jsonl",
        "mcp-everything-session.jsonl",
        "debugpy-session.jsonl",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets")
            .join(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rpctap"))
            .args(["stats", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut app = asset_app(name, 160, 40);
        press(&mut app, 'S');
        draw(&mut app);
        let t = &app.charts.table;
        let methods = json["methods"].as_array().unwrap();
        assert_eq!(methods.len(), t.len(), "{name}");
        assert_eq!(json["messages"].as_u64(), Some(t.messages));
        for line in t.lines.as_ref().unwrap() {
            let dir = if line.arrow == "→" { "c2s" } else { "s2c" };
            let m = methods
                .iter()
                .find(|m| m["method"] == line.method.as_str() && m["dir"] == dir)
                .unwrap_or_else(|| panic!("{} in {name}", line.method));
            let s = &line.stats;
            assert_eq!(m["requests"].as_u64(), Some(s.requests));
            assert_eq!(m["notifications"].as_u64(), Some(s.notifications));
            assert_eq!(m["errors"].as_u64(), Some(s.errors));
            for (q, key) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
                assert_eq!(m["latency_us"][key].as_i64(), s.quantile(q), "{key}");
            }
            assert_eq!(m["latency_us"]["max"].as_i64(), s.max());
        }
    }
}

#[test]
fn an_empty_view_says_so_in_both_views() {
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(Action::Resize(100, 24));
    press(&mut app, 'T');
    assert!(lines(&draw(&mut app))
        .join("\n")
        .contains("nothing in the view"));
    press(&mut app, 'S');
    assert!(lines(&draw(&mut app))
        .join("\n")
        .contains("no requests or notifications in the view"));
    let _ = (Feeds::new(), TestScreen::new(1, 1));
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

/// An 80×24 terminal: the timeline's gutter keeps the method names, the stats table its
/// percentiles (pending, cancelled and p90 give way; the histogram still marks p90).
#[test]
fn both_views_fit_80x24() {
    let mut app = asset_app("mcp-everything-session.jsonl", 80, 24);
    press(&mut app, 'T');
    insta::assert_snapshot!("timeline_80x24", draw(&mut app).backend());
    press(&mut app, 'S');
    press(&mut app, 'G');
    insta::assert_snapshot!("stats_80x24", draw(&mut app).backend());
}

/// Times at the two ends of the calendar, a response before its request, zoom and pan to
/// the limits: the views draw without overflowing.
#[test]
fn hostile_times_do_not_break_the_views() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("far.jsonl");
    let recording = [
        r#"{"rpctap":1,"type":"session","id":"x","name":"far","command":["x"],"cwd":"/","pid":1,"started":"0001-01-01T00:00:00.000000Z"}"#,
        r#"{"seq":1,"t":"9999-12-31T23:59:59.999999Z","dir":"c2s","framing":"ndjson","msg":{"jsonrpc":"2.0","id":1,"method":"a"}}"#,
        r#"{"seq":2,"t":"0001-01-01T00:00:00.000000Z","dir":"s2c","framing":"ndjson","msg":{"jsonrpc":"2.0","id":1,"result":1}}"#,
        r#"{"seq":3,"t":"0001-01-01T00:00:00.000000Z","dir":"c2s","framing":"ndjson","msg":{"jsonrpc":"2.0","id":2,"method":"b"}}"#,
        r#"{"seq":4,"t":"9999-12-31T23:59:59.999999Z","dir":"c2s","framing":"ndjson","msg":{"jsonrpc":"2.0","method":"n"}}"#,
    ];
    std::fs::write(&path, recording.join("\n") + "\n").unwrap();
    let evs: Vec<Event> = read_file(&path).unwrap().map(Result::unwrap).collect();
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, evs));
    app.update(Action::Resize(120, 30));
    press(&mut app, 'T');
    draw(&mut app);
    for keys in [
        "+++++++++++++++++++++++++++++++++++",
        "llllllllll",
        "-----------------------------------------",
        "hhhhhhhhhhhhhhhhhhhhhhhhh",
        "jjjGg0",
    ] {
        for c in keys.chars() {
            press(&mut app, c);
        }
        let shown = lines(&draw(&mut app)).join("\n");
        assert!(shown.contains("─ Timeline"), "{shown}");
    }
    press(&mut app, 'S');
    let shown = lines(&draw(&mut app)).join("\n");
    assert!(shown.contains("─ Stats  3 methods"), "{shown}");
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

/// The timeline's index, kept up to date as rows arrive, equals one built from scratch:
/// with a filter whose verdicts change as responses arrive (rows leave the view), and with
/// two sessions whose rows arrive out of time order (the view is cut and rescanned).
#[test]
fn the_incremental_index_matches_a_rebuilt_one() {
    use rpctap::tui::chart::spans::Spans;
    let check = |app: &mut App, what: &str| {
        draw(app);
        let mut fresh = Spans::default();
        fresh.activate();
        fresh.sync(&app.view, &app.timeline, 0);
        assert_eq!(app.charts.spans.items, fresh.items, "{what}");
    };
    let evs = fixture_events();
    // One session, filters whose verdicts change as answers arrive: a pending request
    // leaves the middle of the view (stderr lines after it stay), or a request answered
    // with an error enters it.
    for text in ["status:pending | kind:stderr", "status:error | kind:stderr"] {
        let mut app = App::new(vec![Session::new("", None, 0)]);
        app.update(Action::Resize(120, 30));
        press(&mut app, 'T');
        app.crit.filter = Some(rpctap::tui::app::Query {
            text: text.into(),
            pred: rpctap::tui::query::compile(text).unwrap(),
        });
        app.rebuild_view();
        for (n, e) in evs.iter().enumerate() {
            app.update(events(0, vec![e.clone()]));
            check(&mut app, &format!("{text}: after event {n}"));
        }
        assert!(!app.charts.spans.items.is_empty());
    }
    // Two sessions, the second's rows arriving late, in three batches.
    let mut app = App::new(vec![Session::new("", None, 0), Session::new("", None, 0)]);
    app.update(Action::Resize(120, 30));
    press(&mut app, 'T');
    app.update(events(0, evs.clone()));
    check(&mut app, "the first session");
    for part in evs.chunks(11) {
        app.update(events(1, part.to_vec()));
        check(&mut app, "late rows of the second session");
    }
    assert_eq!(app.charts.spans.items.len(), 32, "16 items each");
}

/// With `--filter`, the JSON says which rows it summarised, as the text output does.
#[test]
fn stats_json_names_its_filter() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pylsp-session.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rpctap"))
        .args(["stats", "--format", "json", "--filter", "method:initialize"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["filter"]["expr"], "method:initialize");
    assert_eq!(json["filter"]["rows"], 2, "the request and its response");
    assert_eq!(json["methods"].as_array().unwrap().len(), 1);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_rpctap"))
        .args(["stats", "--format", "yaml"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown format is a usage error"
    );
}
