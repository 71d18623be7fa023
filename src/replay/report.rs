//! Compares a replay's responses with the recorded ones and reports: matched, differing
//! (with readable diffs), missing (never answered), extra, and latency per method.

use super::engine::{Ending, Outcome};
use super::normalize::{diff, parse_path, remove_path, JsonPath};
use super::script::Script;
use crate::record::Exit;
use crate::rpc::{Kind, Protocol};
use crate::session::Store;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;

/// Selects rows of a store (`--only`).
pub type RowFilter = dyn Fn(&Store, usize) -> bool;

/// One request of the recording, as the report names it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    pub method: String,
    pub id: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub compared: usize,
    pub matched: usize,
    pub differing: Vec<(Entry, Vec<String>)>,
    pub missing: Vec<Entry>,
    /// Responses the recording did not have (the first of them, when a server floods).
    pub extra: Vec<String>,
    /// How many there were in all.
    pub extra_total: usize,
    pub server_requests_answered: usize,
    pub unanswered_server_requests: Vec<String>,
    /// All of them, when there were more than the list holds.
    pub unanswered_total: usize,
    /// Per method: recorded and replayed latencies in µs.
    pub latency: BTreeMap<String, (Vec<i64>, Vec<i64>)>,
    pub exit: Option<Exit>,
    /// What went wrong with the server itself (it exited early, closed its stdout, cut a
    /// message short, or exited with another code than recorded): one sentence each.
    pub server_problems: Vec<String>,
    /// How the server ended when nothing was wrong with it.
    pub server_note: Option<String>,
}

/// What a comparison ignores by default, per protocol.
pub fn default_ignores(protocol: Option<Protocol>) -> Vec<JsonPath> {
    let paths: &[&str] = match protocol {
        Some(Protocol::Lsp) => &[".result.serverInfo.version"],
        Some(Protocol::Mcp) => &[".result.serverInfo"],
        Some(Protocol::Dap) => &[".seq"],
        _ => &[],
    };
    paths.iter().filter_map(|p| parse_path(p).ok()).collect()
}

/// A body as compared: parsed (or, if not JSON, its text) with the `ignore` paths removed.
pub fn normalized(body: &[u8], ignore: &[JsonPath]) -> Value {
    let mut v = serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    for p in ignore {
        remove_path(&mut v, p);
    }
    v
}

impl Report {
    pub fn build(
        store: &Store,
        script: &Script,
        outcome: &Outcome,
        ignore: &[JsonPath],
        only: Option<&RowFilter>,
    ) -> Report {
        let mut r = Report {
            server_requests_answered: outcome.server_requests_answered,
            unanswered_server_requests: outcome.unanswered_server_requests.clone(),
            unanswered_total: outcome.unanswered_total,
            exit: outcome.exit,
            ..Report::default()
        };
        r.judge_server(store, outcome);
        for step in &script.steps {
            let row = step.row;
            if store.row(row).kind != Kind::Request || only.is_some_and(|f| !f(store, row)) {
                continue;
            }
            let Some(id) = store.id(row) else { continue };
            let entry = Entry {
                seq: store.row(row).seq,
                method: store.method(row).unwrap_or("?").to_owned(),
                id: id.to_string(),
            };
            let replayed = outcome.responses.get(&id);
            let Some(recorded) = store.pair(row) else {
                if replayed.is_some() {
                    r.extra.push(format!(
                        "{} #{} was answered; the recording has no answer",
                        entry.method, entry.id
                    ));
                }
                continue;
            };
            r.compared += 1;
            let lat = r.latency.entry(entry.method.clone()).or_default();
            if let Some(l) = store.latency(row) {
                lat.0.push(l);
            }
            let Some((at, body)) = replayed else {
                r.missing.push(entry);
                continue;
            };
            if let Some(sent) = outcome.sent.get(&row) {
                lat.1
                    .push(i64::try_from(at.saturating_sub(*sent).as_micros()).unwrap_or(i64::MAX));
            }
            let (old, new) = (
                normalized(store.body(recorded), ignore),
                normalized(body, ignore),
            );
            if old == new {
                r.matched += 1;
            } else {
                r.differing.push((entry, diff(&old, &new, 20)));
            }
        }
        r.extra_total = r.extra.len() + outcome.stray_total;
        for body in &outcome.stray {
            r.extra.push(format!(
                "an unexpected response: {}",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(120)
                    .collect::<String>()
            ));
        }
        let more = outcome.stray_total.saturating_sub(outcome.stray.len());
        if more > 0 {
            r.extra.push(format!("{more} more unexpected responses"));
        }
        r
    }

    /// Names what the server did: how and when it ended, compared with the recording.
    fn judge_server(&mut self, store: &Store, outcome: &Outcome) {
        let how = match outcome.exit.map(|e| (e.code, e.signal)) {
            Some((Some(c), _)) => format!("exited with code {c}"),
            Some((None, Some(s))) => format!("was killed by signal {s}"),
            _ => "could not be reaped".to_owned(),
        };
        let progress = format!(
            "after {} of {} requests",
            outcome.answered_at_end, outcome.requests
        );
        match outcome.ending {
            Ending::Exited => self
                .server_problems
                .push(format!("server {how} {progress} were answered")),
            Ending::StdoutClosed => self.server_problems.push(format!(
                "server closed its stdout {progress} were answered (then {how})"
            )),
            Ending::Completed if outcome.forced => {
                self.server_note = Some(format!(
                    "server did not exit when its stdin closed, and was stopped ({how})"
                ));
            }
            Ending::Completed => {
                let recorded = store.exit.and_then(|e| e.code);
                let now = outcome.exit.and_then(|e| e.code);
                match (recorded, now) {
                    (Some(a), Some(b)) if a != b => self
                        .server_problems
                        .push(format!("server {how}; the recorded server exited with {a}")),
                    _ => self.server_note = Some(format!("server {how}")),
                }
            }
        }
        if let Some(why) = &outcome.truncated {
            self.server_problems
                .push(format!("server's output is cut short: {why}"));
        }
    }

    /// No differences of any kind.
    pub fn is_clean(&self) -> bool {
        self.server_problems.is_empty()
            && self.differing.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.unanswered_server_requests.is_empty()
    }

    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} responses compared: {} matched, {} differing, {} missing, {} extra",
            self.compared,
            self.matched,
            self.differing.len(),
            self.missing.len(),
            self.extra_total
        )?;
        writeln!(
            out,
            "{} server requests answered from the recording, {} without a recorded answer{}",
            self.server_requests_answered,
            self.unanswered_total,
            if self.unanswered_server_requests.is_empty() {
                String::new()
            } else {
                let more = self.unanswered_total - self.unanswered_server_requests.len();
                let more = if more > 0 {
                    format!(", {more} more")
                } else {
                    String::new()
                };
                format!(" ({}{more})", self.unanswered_server_requests.join(", "))
            }
        )?;
        for (e, lines) in &self.differing {
            writeln!(out, "\ndiffering: {} #{} (seq {})", e.method, e.id, e.seq)?;
            for l in lines {
                writeln!(out, "    {l}")?;
            }
        }
        for e in &self.missing {
            writeln!(
                out,
                "\nmissing: {} #{} (seq {}) was never answered",
                e.method, e.id, e.seq
            )?;
        }
        for x in &self.extra {
            writeln!(out, "\nextra: {x}")?;
        }
        if !self.latency.is_empty() {
            writeln!(out, "\nlatency p50 (recorded → replayed):")?;
            for (method, (rec, rep)) in &self.latency {
                writeln!(out, "    {method:<40} {:>9} → {:<9}", p50(rec), p50(rep))?;
            }
        }
        if let Some(note) = &self.server_note {
            writeln!(out, "\n{note}")?;
        }
        for p in &self.server_problems {
            writeln!(out, "\n{p}")?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        let entry = |e: &Entry| json!({"seq": e.seq, "method": e.method, "id": e.id});
        json!({
            "compared": self.compared,
            "matched": self.matched,
            "differing": self.differing.iter().map(|(e, d)| { let mut v = entry(e); v["diff"] = json!(d); v }).collect::<Vec<_>>(),
            "missing": self.missing.iter().map(entry).collect::<Vec<_>>(),
            "extra": self.extra,
            "extra_total": self.extra_total,
            "server_requests_answered": self.server_requests_answered,
            "unanswered_server_requests": self.unanswered_server_requests,
            "latency_us": self.latency.iter().map(|(m, (a, b))| (m.clone(), json!({"recorded_p50": median(a), "replayed_p50": median(b)}))).collect::<serde_json::Map<_, _>>(),
            "exit": self.exit.map(|e| json!({"code": e.code, "signal": e.signal})),
            "server_problems": self.server_problems,
            "server_note": self.server_note,
            "clean": self.is_clean(),
        })
    }
}

fn median(v: &[i64]) -> Option<i64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied()
}

fn p50(v: &[i64]) -> String {
    median(v).map_or("-".into(), crate::fmt::latency)
}
