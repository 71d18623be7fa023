//! Writes sessions as a HAR 1.2 log (the HTTP Archive format browsers' developer tools
//! and many traffic viewers read): one entry per request/response pair, so the tools
//! people already use for HTTP can sort and inspect JSON-RPC exchanges.
//!
//! The mapping: the request's method becomes the URL path
//! (`http://rpctap.invalid/textDocument/hover`, `.invalid` being a name that never
//! resolves), its id a query parameter; the request body is the POST data and the
//! response body the content; status 200 for a result, 500 for an error; `time` and
//! `timings.wait` are the latency. Direction and session are headers and comments.
//! Requests never answered have no response to show and are left out.

use crate::record::Dir;
use crate::session::Store;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write;

/// A HAR log being assembled from one or more sessions.
#[derive(Default)]
pub struct Har {
    entries: Vec<(i64, Value)>,
    sessions: Vec<String>,
}

/// Keeps a method name readable in a URL path while escaping what would break it.
fn url_path(method: &str) -> String {
    let mut out = String::with_capacity(method.len());
    for b in method.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/$!*'(),;=+:@".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn millis(us: i64) -> f64 {
    us as f64 / 1000.0
}

impl Har {
    pub fn new() -> Har {
        Har::default()
    }

    /// Adds every answered request of `store`.
    pub fn add(&mut self, store: &Store) {
        let session = store
            .info
            .as_ref()
            .map_or_else(String::new, |i| i.name.clone());
        self.sessions.push(session.clone());
        for i in 0..store.len() {
            let row = store.row(i);
            let Some(p) = store.pair(i) else { continue };
            if !matches!(row.kind, crate::rpc::Kind::Request) {
                continue;
            }
            let method = store.method(i).unwrap_or("");
            let id = super::id_text(store, i);
            let request = String::from_utf8_lossy(store.body(i));
            let response = String::from_utf8_lossy(store.body(p));
            let error = store.is_error(p);
            let wait = millis(store.latency(i).unwrap_or(0));
            let dir = match row.dir {
                Dir::C2s => "client to server",
                Dir::S2c => "server to client",
            };
            let entry = json!({
                "startedDateTime": row.t.datetime().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "time": wait,
                "request": {
                    "method": "POST",
                    "url": format!("http://rpctap.invalid/{}?id={}", url_path(method), url_path(&id)),
                    "httpVersion": "JSON-RPC",
                    "cookies": [],
                    "headers": [
                        {"name": "Content-Type", "value": "application/json"},
                        {"name": "X-Rpctap-Direction", "value": dir},
                    ],
                    "queryString": [{"name": "id", "value": id}],
                    "postData": {"mimeType": "application/json", "text": request},
                    "headersSize": -1,
                    "bodySize": store.body(i).len(),
                },
                "response": {
                    "status": if error { 500 } else { 200 },
                    "statusText": if error { "Error" } else { "OK" },
                    "httpVersion": "JSON-RPC",
                    "cookies": [],
                    "headers": [{"name": "Content-Type", "value": "application/json"}],
                    "content": {
                        "size": store.body(p).len(),
                        "mimeType": "application/json",
                        "text": response,
                    },
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": store.body(p).len(),
                },
                "cache": {},
                "timings": {"send": 0, "wait": wait, "receive": 0},
                "comment": format!("{session} #{} {method}", row.seq),
            });
            self.entries.push((row.t.0, entry));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the log as pretty JSON, entries in time order.
    pub fn write(mut self, out: &mut impl Write) -> std::io::Result<()> {
        self.entries.sort_by_key(|(t, _)| *t);
        let log = json!({
            "log": {
                "version": "1.2",
                "creator": {"name": "rpctap", "version": env!("CARGO_PKG_VERSION")},
                "comment": format!("JSON-RPC sessions: {}", self.sessions.join(", ")),
                "entries": self.entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
            }
        });
        serde_json::to_writer_pretty(&mut *out, &log)?;
        out.write_all(b"\n")
    }
}
