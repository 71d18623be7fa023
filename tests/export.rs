//! Export: `cat --format vscode` reads back through the VS Code importer as the same
//! messages, and `cat --format har` is a HAR 1.2 log with one entry per answered request.
//! Both run on the real captures in `assets/`.

mod common;

use common::*;
use rpctap::rpc::Kind;
use rpctap::session::{load, Stats, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

fn cat(dir: &Path, format: &str, file: &Path) -> Vec<u8> {
    let out = rpctap(dir)
        .args(["cat", "--format", format])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cat --format {format} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Indices of the rows that are JSON-RPC messages (stderr and noise have no place in
/// a VS Code trace).
fn messages(store: &Store) -> Vec<usize> {
    (0..store.len())
        .filter(|&i| !matches!(store.row(i).kind, Kind::Stderr | Kind::Noise))
        .collect()
}

#[test]
fn vscode_trace_round_trips_to_the_same_messages() {
    let dir = temp();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/vscode-text.log");
    for file in [
        asset("pylsp-session.jsonl"),
        asset("mcp-everything-session.jsonl"),
        fixture,
    ] {
        let trace = path(&dir, "trace.log");
        std::fs::write(&trace, cat(dir.path(), "vscode", &file)).unwrap();
        let (a, b) = (load(&file).unwrap(), load(&trace).unwrap());
        let (ia, ib) = (messages(&a), messages(&b));
        assert_eq!(ia.len(), ib.len(), "{}", file.display());
        for (&i, &j) in ia.iter().zip(&ib) {
            let what = format!("{} row {i}", file.display());
            let (ra, rb) = (a.row(i), b.row(j));
            assert_eq!((ra.dir, ra.kind), (rb.dir, rb.kind), "{what}");
            assert_eq!(a.method(i), b.method(j), "{what}");
            assert_eq!(a.id(i), b.id(j), "{what}");
            let va: Value = serde_json::from_slice(a.body(i)).unwrap();
            let vb: Value = serde_json::from_slice(b.body(j)).unwrap();
            assert_eq!(va, vb, "{what}");
            // Latencies survive to the millisecond the format keeps.
            assert_eq!(
                a.latency(i).map(|us| us / 1000),
                b.latency(j).map(|us| us / 1000),
                "{what}"
            );
        }
    }
}

#[test]
fn har_has_one_entry_per_answered_request() {
    let dir = temp();
    for name in [
        "pylsp-session.jsonl",
        "mcp-everything-session.jsonl",
        "debugpy-session.jsonl",
    ] {
        let file = asset(name);
        let har: Value =
            serde_json::from_slice(&cat(dir.path(), "har", &file)).expect("HAR is JSON");
        let log = &har["log"];
        assert_eq!(log["version"], "1.2");
        assert_eq!(log["creator"]["name"], "rpctap");
        let entries = log["entries"].as_array().expect("entries");
        let store = load(&file).unwrap();
        let answered: usize = Stats::compute(&store, None)
            .methods
            .values()
            .map(|m| m.latencies.len())
            .sum();
        assert!(answered > 0);
        assert_eq!(entries.len(), answered, "{name}");
        for e in entries {
            let url = e["request"]["url"].as_str().unwrap();
            let sent: Value =
                serde_json::from_str(e["request"]["postData"]["text"].as_str().unwrap()).unwrap();
            let got: Value =
                serde_json::from_str(e["response"]["content"]["text"].as_str().unwrap()).unwrap();
            let method = sent
                .get("method")
                .or_else(|| sent.get("command"))
                .and_then(Value::as_str)
                .unwrap();
            assert!(
                url.starts_with(&format!("http://rpctap.invalid/{method}?id=")),
                "{url}"
            );
            assert!(got.is_object());
            assert!(e["time"].as_f64().unwrap() >= 0.0);
            assert_eq!(e["time"], e["timings"]["wait"]);
            assert!(e["startedDateTime"].as_str().unwrap().ends_with('Z'));
        }
    }
}

#[test]
fn har_of_several_files_is_one_log_in_time_order() {
    let dir = temp();
    let out = rpctap(dir.path())
        .args(["cat", "--format", "har"])
        .arg(asset("pylsp-session.jsonl"))
        .arg(asset("mcp-everything-session.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let har: Value = serde_json::from_slice(&out.stdout).unwrap();
    let times: Vec<&str> = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["startedDateTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(times.len() > 10);
}
