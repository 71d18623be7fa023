//! `rpctap mock`: be the server on stdio, answering from a recording.
//!
//! Each incoming request is matched to a recorded one — same method and equal params
//! after normalisation first, then the next unused one of that method (then, once all
//! are used, the last one again) — and answered with its recorded response under the
//! incoming id. The server notifications and requests recorded after a client message
//! are emitted after it is matched.

use super::matching::{Matcher, WhenUsedUp};
use super::normalize::{parse_path, JsonPath};
use super::with_id;
use crate::record::Dir;
use crate::rpc::{classify, Id, Kind};
use crate::session::Store;
use crate::wire::{FrameKind, FrameReader, Framing};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unmatched {
    /// Answer with a JSON-RPC error naming the method.
    Error,
    /// Send nothing.
    Ignore,
}

pub struct MockOptions {
    pub unmatched: Unmatched,
    /// Paths removed from params before comparing them.
    pub ignore: Vec<JsonPath>,
}

/// Params paths that differ between runs of the same client.
pub fn default_param_ignores() -> Vec<JsonPath> {
    [
        ".processId",
        ".clientInfo",
        ".workDoneToken",
        ".trace",
        "._meta",
    ]
    .iter()
    .filter_map(|p| parse_path(p).ok())
    .collect()
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct MockStats {
    pub answered: usize,
    /// The requests it could not answer: the first `UNMATCHED_KEPT` (a client may send any
    /// number); `unmatched_total` counts them all.
    pub unmatched: Vec<String>,
    pub unmatched_total: usize,
}

/// Unmatched requests kept for the summary at exit.
pub const UNMATCHED_KEPT: usize = 100;

impl MockStats {
    fn unmatched(&mut self, what: String) {
        self.unmatched_total += 1;
        if self.unmatched.len() < UNMATCHED_KEPT {
            self.unmatched.push(what);
        }
    }
}

struct Index {
    /// Recorded client messages (requests and notifications).
    matcher: Matcher,
    /// Server notifications and requests recorded after each client message, each with
    /// whether it came before that message's response.
    followups: HashMap<usize, Vec<(usize, bool)>>,
    /// Server messages recorded before the client said anything.
    preamble: Vec<usize>,
}

impl Index {
    fn new(store: &Store) -> Index {
        let mut idx = Index {
            matcher: Matcher::new(store),
            followups: HashMap::new(),
            preamble: Vec::new(),
        };
        let mut anchor = None;
        for i in 0..store.len() {
            let row = store.row(i);
            match (row.dir, row.kind) {
                (Dir::C2s, Kind::Request | Kind::Notification) => {
                    idx.matcher.add(store, i);
                    anchor = Some(i);
                }
                (Dir::S2c, Kind::Request | Kind::Notification) => match anchor {
                    Some(a) => {
                        let before = store.pair(a).is_some_and(|resp| resp > i);
                        idx.followups.entry(a).or_default().push((i, before));
                    }
                    None => idx.preamble.push(i),
                },
                _ => {}
            }
        }
        idx
    }

    fn find(
        &mut self,
        store: &Store,
        method: &str,
        params: &Value,
        ignore: &[JsonPath],
    ) -> Option<usize> {
        self.matcher
            .find(store, method, params, ignore, WhenUsedUp::ReuseLast)
    }
}

pub fn mock(
    store: &Store,
    input: impl Read,
    mut output: impl Write,
    opts: &MockOptions,
) -> Result<MockStats, super::ReplayError> {
    let mut idx = Index::new(store);
    let mut stats = MockStats::default();
    let mut src = FrameReader::new(input, None);
    let mut framing = store.framing[Dir::S2c as usize].unwrap_or(Framing::Lsp);
    let send = |out: &mut dyn Write, framing: Framing, body: &[u8]| -> std::io::Result<()> {
        out.write_all(&crate::wire::framed(framing, body))?;
        out.flush()
    };
    for &r in &idx.preamble {
        send(&mut output, framing, store.body(r))?;
    }
    while let Some(f) = src.next_frame()? {
        framing = src.framing().unwrap_or(framing);
        if f.kind != FrameKind::Message {
            continue;
        }
        let c = classify(&f.body);
        if !matches!(c.kind, Kind::Request | Kind::Notification) {
            continue; // the client's answers to recorded server requests
        }
        let method = c.method.clone().unwrap_or_default();
        let params = serde_json::from_slice::<Value>(&f.body)
            .ok()
            .and_then(|mut v| v.get_mut("params").map(Value::take))
            .unwrap_or(Value::Null);
        let id_value = match &c.id {
            Some(Id::Num(n)) => Value::from(*n),
            Some(Id::Str(s)) => Value::from(s.as_str()),
            None => Value::Null,
        };
        match idx.find(store, &method, &params, &opts.ignore) {
            Some(row) => {
                let followups = idx
                    .followups
                    .get(&row)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for &(r, _) in followups.iter().filter(|(_, before)| *before) {
                    send(&mut output, framing, store.body(r))?;
                }
                if c.kind == Kind::Request {
                    if let Some(resp) = store.pair(row) {
                        send(&mut output, framing, &with_id(store.body(resp), &id_value))?;
                        stats.answered += 1;
                    } else {
                        eprintln!(
                            "rpctap mock: {method} #{id_value} was recorded without an answer"
                        );
                        stats.unmatched(format!("{method} (recorded without an answer)"));
                    }
                }
                for &(r, _) in followups.iter().filter(|(_, before)| !*before) {
                    send(&mut output, framing, store.body(r))?;
                }
            }
            None if c.kind == Kind::Request => {
                // Said as it happens (the summary at exit repeats it): a client author
                // watching the mock sees which request it could not answer, and when.
                eprintln!("rpctap mock: no recorded {method} request matches #{id_value}");
                stats.unmatched(method.clone());
                if opts.unmatched == Unmatched::Error {
                    let reply = serde_json::json!({"jsonrpc": "2.0", "id": id_value, "error": {
                            "code": -32601, "message": format!("rpctap mock: the recording has no {method} request")}});
                    send(&mut output, framing, reply.to_string().as_bytes())?;
                }
            }
            None => {}
        }
        if method == "exit" && c.kind == Kind::Notification {
            return Ok(stats);
        }
    }
    Ok(stats)
}
