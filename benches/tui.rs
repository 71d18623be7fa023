//! TUI benchmark (PRODUCT §10): a generated recording of 1,000,000 LSP messages is opened
//! through the TUI's own path (file source task → channel → `App::update`), then measured:
//! open time, peak resident memory against the file size, frame render time on a 200×50
//! `TestBackend`, filter and search time; then the timeline (`T`) and stats (`S`) views:
//! the time to build the timeline's index and the statistics on first showing, their frame
//! times, and the index's size. The baseline is the time to read the file's lines from
//! the same disk cache in the same run.
//!
//! Run: `cargo bench --bench tui`. `RPCTAP_BENCH_MESSAGES=N` for another size,
//! `RPCTAP_BENCH_KEEP=PATH` to write (and keep) the recording there, `RPCTAP_BENCH_OPEN_ONLY=1`
//! to stop after the open (for a profiler). Results go to `docs/benchmarks.md` by hand.
//! Peak memory is the process's `VmHWM`, so the open is measured first, before anything else
//! can raise it; the recording is written line by line and takes little memory.

use rpctap::tui::app::{Query, Tab};
use rpctap::tui::chart::{ChartAction, Mode};
use rpctap::tui::{Action, App, Screen, Source, TestScreen, Update};
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

// A list of steps, one per figure: splitting it would only scatter the list.
#[allow(clippy::too_many_lines)]
fn main() {
    let n: usize = std::env::var("RPCTAP_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var_os("RPCTAP_BENCH_KEEP") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.jsonl"),
    };
    let t = Instant::now();
    generate(&path, n);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "generated {n} messages, {:.1} MB, in {:.2?}",
        size as f64 / 1e6,
        t.elapsed()
    );
    let rss_before = status_kb("VmRSS");

    // The TUI's open path; memory first, while nothing else has raised the peak.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cpu_before = cpu_time();
    let (mut app, open, first_rows) = rt.block_on(open(&path));
    let open_cpu = cpu_time().saturating_sub(cpu_before);
    let hwm = status_kb("VmHWM");
    assert_eq!(app.timeline.len(), n, "every message loaded");

    if std::env::var_os("RPCTAP_BENCH_OPEN_ONLY").is_some() {
        println!("open {open:?}, peak RSS {hwm} kB");
        return;
    }
    let baseline = read_lines(&path);
    let (frame_move, frame_still) = frames(&mut app);
    let filter = time(|| {
        app.crit.filter = Some(query("textDocument/hover"));
        app.rebuild_view();
    });
    let filtered = app.view.len();
    app.crit.filter = None;
    app.rebuild_view();
    // A word that occurs nowhere: the search walks every row.
    app.search = Some(query("no-such-word"));
    let search = time(|| app.update(Action::SearchNext(true)));
    app.search = None;
    let charts = charts(&mut app);

    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("\n| measure | result | target |\n|---|---|---|");
    println!(
        "| recording | {n} messages, {:.0} MB | |",
        size as f64 / 1e6
    );
    println!("| baseline: read the file's lines | {} | |", ms(baseline));
    println!(
        "| open (all rows in the view) | {} ({:.1}× baseline) | ≤ 3 s |",
        ms(open),
        open.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "| CPU time of the open (all threads) | {} | |",
        ms(open_cpu)
    );
    println!("| first rows on screen | {} | |", ms(first_rows));
    println!(
        "| peak RSS (VmHWM) | {:.0} MB = {:.2}× the file (before open: {:.0} MB) | ≤ 1.5× |",
        mb(hwm),
        hwm as f64 * 1024.0 / size as f64,
        mb(rss_before)
    );
    println!(
        "| frame 200×50, selection moves (detail rebuilt) | mean {} · max {} | ≤ 5 ms |",
        us(frame_move.0),
        us(frame_move.1)
    );
    println!(
        "| frame 200×50, redraw | mean {} · max {} | ≤ 5 ms |",
        us(frame_still.0),
        us(frame_still.1)
    );
    println!(
        "| filter `textDocument/hover` ({filtered} rows pass) | {} | ≤ 300 ms |",
        ms(filter)
    );
    println!(
        "| search, no match (walks all rows) | {} | ≤ 500 ms |",
        ms(search)
    );
    println!(
        "| timeline: first `T` (index of {} items, {:.1} MB) | {} | |",
        charts.items,
        charts.index_bytes as f64 / 1e6,
        ms(charts.index)
    );
    for (what, (mean, max, cpu)) in [
        ("timeline, selection moves", charts.timeline_move),
        ("timeline, redraw", charts.timeline_still),
        ("stats, selection moves", charts.stats_move),
        ("stats, redraw", charts.stats_still),
    ] {
        println!(
            "| frame 200×50, {what} | mean {} · max {} · CPU {} a frame | ≤ 5 ms |",
            us(mean),
            us(max),
            us(cpu)
        );
    }
    println!(
        "| stats: first `S` (statistics of all rows) | {} | |",
        ms(charts.stats)
    );
}

/// What the chart views cost on the loaded recording.
struct ChartFigures {
    items: usize,
    index_bytes: usize,
    index: Duration,
    timeline_move: Figures,
    timeline_still: Figures,
    stats: Duration,
    stats_move: Figures,
    stats_still: Figures,
}

fn charts(app: &mut App) -> ChartFigures {
    let chart = |a| Action::Chart(a);
    let index = time(|| app.update(chart(ChartAction::Toggle(Mode::Timeline))));
    let sp = &app.charts.spans;
    let (items, index_bytes) = (sp.items.len(), sp.items.capacity() * 4);
    // From the middle of the million, one item further each frame.
    app.update(Action::Select(app.view.len() / 2));
    let (timeline_move, timeline_still) = frames_with(app, |_| chart(ChartAction::Move(1)));
    app.update(chart(ChartAction::Zoom(1)));
    let stats = time(|| app.update(chart(ChartAction::Toggle(Mode::Stats))));
    // Up and down the table of methods, so that the selection changes each frame.
    let (stats_move, stats_still) = frames_with(app, |n| {
        chart(ChartAction::Move(if n % 8 < 4 { 1 } else { -1 }))
    });
    ChartFigures {
        items,
        index_bytes,
        index,
        timeline_move,
        timeline_still,
        stats,
        stats_move,
        stats_still,
    }
}

/// Mean and max wall time of a frame, and the process's CPU time per frame: on a shared
/// machine the max says how long the thread waited for a core, the CPU time what the
/// frame cost.
type Figures = (Duration, Duration, Duration);

const FRAMES: u32 = 500;

/// Figures of 500 frames each preceded by `step(n)`, and of 500 unchanged redraws.
fn frames_with(app: &mut App, step: impl Fn(usize) -> Action) -> (Figures, Figures) {
    let mut screen = TestScreen::new(200, 50);
    let mut moving = Vec::new();
    let cpu = cpu_time();
    for n in 0..FRAMES as usize {
        moving.push(time(|| {
            app.update(step(n));
            app.prepare();
            screen.draw(app).unwrap();
        }));
    }
    let moving_cpu = cpu_time().saturating_sub(cpu) / FRAMES;
    let mut still = Vec::new();
    let cpu = cpu_time();
    for _ in 0..FRAMES {
        still.push(time(|| screen.draw(app).unwrap()));
    }
    let still_cpu = cpu_time().saturating_sub(cpu) / FRAMES;
    (figures(&moving, moving_cpu), figures(&still, still_cpu))
}

fn figures(v: &[Duration], cpu: Duration) -> Figures {
    let sum: Duration = v.iter().sum();
    (
        sum / u32::try_from(v.len()).unwrap(),
        v.iter().copied().max().unwrap_or_default(),
        cpu,
    )
}

fn query(text: &str) -> Query {
    Query {
        text: text.into(),
        pred: rpctap::tui::query::compile(text).unwrap(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// User and system CPU time of the whole process so far (/proc/self/stat, in ticks of
/// 10 ms): with other work on the machine, this says what the open costs regardless of
/// what it had to wait for.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((field(11) + field(12)) * 10)
}

/// A field of /proc/self/status, in kB.
fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix("kB")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn open(path: &Path) -> (App, Duration, Duration) {
    let t = Instant::now();
    let mut app = App::new(vec![rpctap::tui::file_session(path)]);
    app.update(Action::Resize(200, 50));
    // The loop's channel, read here without a terminal: the same batches, the same update.
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    Source::File {
        path: path.to_path_buf(),
        follow: false,
    }
    .spawn(0, tx);
    let mut first = None;
    while let Some(feed) = rx.recv().await {
        let end = matches!(feed.update, Update::Ended | Update::Failed(_));
        app.update(Action::Feed(feed));
        if first.is_none() && !app.view.is_empty() {
            first = Some(t.elapsed());
        }
        if end {
            break;
        }
    }
    (app, t.elapsed(), first.unwrap_or_default())
}

fn read_lines(path: &Path) -> Duration {
    time(|| {
        let f = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path).unwrap());
        let mut n = 0usize;
        for line in f.split(b'\n') {
            n += line.unwrap().len();
        }
        assert!(n > 0);
    })
}

/// (mean, max) frame times: with the selection moving every frame (so the detail is
/// rebuilt), and redrawing an unchanged screen.
fn frames(app: &mut App) -> ((Duration, Duration), (Duration, Duration)) {
    let mut screen = TestScreen::new(200, 50);
    app.update(Action::Select(app.view.len() / 2));
    app.update(Action::SetTab(Tab::Body));
    let mut moving = Vec::new();
    for _ in 0..500 {
        moving.push(time(|| {
            app.update(Action::Move(1));
            app.prepare();
            screen.draw(app).unwrap();
        }));
    }
    let mut still = Vec::new();
    for _ in 0..500 {
        still.push(time(|| screen.draw(app).unwrap()));
    }
    let stats = |v: &[Duration]| {
        let sum: Duration = v.iter().sum();
        (
            sum / u32::try_from(v.len()).unwrap(),
            v.iter().copied().max().unwrap_or_default(),
        )
    };
    (stats(&moving), stats(&still))
}

/// A session shaped like an editor's: hovers, completions (larger answers), edits,
/// diagnostics, definitions, logs and stderr lines.
fn generate(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(out, r#"{{"rpctap":1,"type":"session","id":"bench","name":"bench","command":["pylsp"],"cwd":"/tmp","pid":1,"started":"2026-11-21T10:00:00.000000Z"}}"#).unwrap();
    let items: String = (0..12)
        .map(|i| format!(r#"{{"label":"item_{i}","kind":6,"detail":"def item_{i}(self, value: int) -> str","sortText":"a{i:04}"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let mut id = 0u64;
    for seq in 1..=n as u64 {
        let t = rpctap::record::Micros(1_795_255_200_000_000 + i64::try_from(seq).unwrap() * 100)
            .to_rfc3339();
        let uri = format!("file:///tmp/project/module_{}.py", seq % 97);
        let head = |dir: &str| format!(r#"{{"seq":{seq},"t":"{t}","dir":"{dir}""#);
        let line = match seq % 10 {
            1 => {
                id += 1;
                format!(
                    r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":{},"character":14}}}}}}}}"#,
                    head("c2s"),
                    seq % 400
                )
            }
            2 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"result":{{"contents":{{"kind":"markdown","value":"```python\ndef handler(request: Request) -> Response\n```\nHandles one request."}}}}}}}}"#,
                head("s2c")
            ),
            3 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{uri}","version":{seq}}},"contentChanges":[{{"range":{{"start":{{"line":4,"character":4}},"end":{{"line":4,"character":9}}}},"text":"value"}}]}}}}}}"#,
                head("c2s")
            ),
            4 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":"{uri}","diagnostics":[{{"range":{{"start":{{"line":4,"character":4}},"end":{{"line":4,"character":11}}}},"severity":2,"source":"pyflakes","message":"local variable 'value' is assigned to but never used"}}]}}}}}}"#,
                head("s2c")
            ),
            5 => {
                id += 1;
                format!(
                    r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"method":"textDocument/completion","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":8,"character":5}},"context":{{"triggerKind":2,"triggerCharacter":"."}}}}}}}}"#,
                    head("c2s")
                )
            }
            6 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"result":{{"isIncomplete":false,"items":[{items}]}}}}}}"#,
                head("s2c")
            ),
            7 => {
                id += 1;
                format!(
                    r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"method":"textDocument/definition","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":12,"character":20}}}}}}}}"#,
                    head("c2s")
                )
            }
            8 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","id":{id},"result":[{{"uri":"{uri}","range":{{"start":{{"line":1,"character":0}},"end":{{"line":1,"character":12}}}}}}]}}}}"#,
                head("s2c")
            ),
            9 => format!(
                r#"{},"framing":"lsp","msg":{{"jsonrpc":"2.0","method":"window/logMessage","params":{{"type":4,"message":"pylsp: linting {uri} took 3 ms"}}}}}}"#,
                head("s2c")
            ),
            _ => format!(
                r#"{},"text":"2026-11-21 10:00:00,000 DEBUG pylsp.config: plugin settings for {uri}"}}"#,
                head("stderr")
            ),
        };
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    writeln!(
        out,
        r#"{{"type":"exit","t":"2026-11-21T12:00:00.000000Z","code":0,"signal":null}}"#
    )
    .unwrap();
    out.flush().unwrap();
}
