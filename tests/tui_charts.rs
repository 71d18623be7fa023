//! The timeline (`T`) and stats (`S`) views drawn: snapshots on the real captures in
//! `assets/` (pylsp, MCP server-everything, debugpy) and the fixture, live bars and rates,
//! `rpctap stats --format json` against the stats view, hostile times, and the timeline's
//! incremental index. (Keys through the event loop: `tui_charts_keys.rs`.)

mod support;

use rpctap::record::{read_file, Event};
use rpctap::tui::app::TimeFormat;
use rpctap::tui::{Action, App, Feed, Session, Update};
use std::path::Path;
use support::*;

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
    let shown = lines(&draw(&mut app)).join("\n");
    assert!(
        shown.contains("→ demo: initialize"),
        "the session before the method:\n{shown}"
    );
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

/// A recording with a gap: the stats view says it is incomplete (as `rpctap stats` does),
/// the request whose answer may be in the gap is not pending, and the timeline says so.
#[test]
fn gaps_make_both_views_say_what_may_be_missing() {
    let mut evs = fixture_events();
    let at = evs
        .iter()
        .position(|e| matches!(e, Event::Message(m) if m.seq == 25))
        .unwrap();
    let t = match &evs[at] {
        Event::Message(m) => m.t,
        _ => unreachable!(),
    };
    evs.insert(
        at,
        Event::Gap(rpctap::record::Gap {
            t,
            dir: Some(rpctap::record::Dir::S2c),
            bytes: 4096,
            reason: "test".into(),
        }),
    );
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, evs));
    app.update(Action::Resize(200, 30));
    press(&mut app, 'S');
    let shown = lines(&draw(&mut app)).join("\n");
    assert!(
        shown.contains("⚠ incomplete: 4.1kB not recorded, 1 requests' answers possibly lost"),
        "{shown}"
    );
    let symbol = app
        .charts
        .table
        .lines
        .as_ref()
        .unwrap()
        .iter()
        .find(|l| l.method == "textDocument/documentSymbol")
        .unwrap();
    assert_eq!(symbol.stats.pending, 0, "not counted as pending");
    press(&mut app, 'T');
    let shown = lines(&draw(&mut app));
    let row = shown
        .iter()
        .find(|l| l.contains("textDocument/documentSymbol"))
        .unwrap();
    assert!(
        row.contains("in a gap?") && row.contains("answer possibly in a gap"),
        "{row}"
    );
}

/// A log without times (lsp-devtools `--to-file`): the timeline says it cannot place its
/// messages; the stats view counts them, with no latencies.
#[test]
fn a_log_without_times_has_no_timeline_but_stats() {
    let log =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/lsp-devtools.jsonl");
    let (_, evs) = rpctap::record::open(&log).unwrap();
    let mut app = App::new(vec![Session::new("", None, 0)]);
    app.update(events(0, evs.map(Result::unwrap).collect()));
    app.update(Action::Resize(160, 30));
    press(&mut app, 'T');
    let shown = lines(&draw(&mut app)).join("\n");
    assert!(shown.contains("this log has no times"), "{shown}");
    press(&mut app, 'S');
    let shown = lines(&draw(&mut app)).join("\n");
    assert!(shown.contains("─ Stats"), "{shown}");
    let t = &app.charts.table;
    assert!(
        !t.is_empty()
            && t.lines
                .as_ref()
                .unwrap()
                .iter()
                .all(|l| l.stats.max().is_none())
    );
}
