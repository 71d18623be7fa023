//! `rpctap demo-server`: a small LSP-like server on stdio, with switches for the ways real
//! servers misbehave (slowness, crashes, logs on stdout, altered or missing answers).
//!
//! The reading loop owns the session state (open documents, the server's own requests) and
//! answers fast requests itself; a request with a delay is answered by a thread of its own,
//! so slow work never blocks other requests and `$/cancelRequest` can cut it short. All
//! output goes through `io::Out`, one whole frame at a time.
//!
//! Not responsible for: the lean `--echo` mode (see `echo`), the language answers
//! themselves (see `lsp`).

use super::io::Out;
use super::{altered, echo, lsp, names_method, DemoFraming};
use crate::rpc::{classify, Id, Kind};
use crate::wire::FrameKind;
use crate::wire::FrameReader;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The status a `--crash-after` crash exits with (`EX_SOFTWARE`).
pub const CRASH_EXIT: i32 = 70;

/// The token of the progress the server creates after `initialized`.
const PROGRESS_TOKEN: &str = "rpctap-demo-server/progress";

#[derive(Debug, Clone, Default, clap::Args)]
pub struct DemoServerArgs {
    /// Framing to answer in (default: whatever the client used; input is always
    /// auto-detected, so forcing the other one makes the directions mismatch).
    #[arg(long, value_enum)]
    pub framing: Option<DemoFraming>,
    /// Status to exit with on `exit` or at the end of input.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub exit_code: u8,
    /// Extra delay before every hover answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub slow_ms: u64,
    /// Write a log line on stderr for every message received.
    #[arg(long)]
    pub stderr_chatter: bool,
    /// Print plain log lines on stdout between frames (protocol noise).
    #[arg(long)]
    pub stdout_logs: bool,
    /// After N messages received, write half of a response frame and exit with status 70.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub crash_after: Option<u64>,
    /// Answer METHOD (or any method ending in /METHOD) with a subtly different result.
    /// Repeatable.
    #[arg(long, value_name = "METHOD")]
    pub alter: Vec<String>,
    /// Never answer or act on METHOD (or any method ending in /METHOD). Repeatable.
    #[arg(long = "drop", value_name = "METHOD")]
    pub drop_methods: Vec<String>,
    /// Lean echo server for benchmarks: answer every request with its params as the result
    /// and nothing else (notifications other than `exit` are ignored; only --framing,
    /// --exit-code and --crash-after apply).
    #[arg(long)]
    pub echo: bool,
}

/// Runs the server on this process's stdin and stdout.
pub fn run(args: &DemoServerArgs) -> anyhow::Result<ExitCode> {
    // Write to our own handle on fd 1: std's stdout is line-buffered and would split or
    // delay frames; `Out` flushes whole frames itself.
    use std::os::fd::AsFd;
    let stdout = std::fs::File::from(io::stdout().as_fd().try_clone_to_owned()?);
    let code = serve(io::stdin().lock(), Box::new(stdout), args)?;
    Ok(ExitCode::from(code))
}

/// Serves one client on `input`/`output` until `exit` or the end of input; returns the
/// status to exit with.
pub fn serve(
    input: impl Read,
    output: Box<dyn Write + Send>,
    args: &DemoServerArgs,
) -> io::Result<u8> {
    if args.echo {
        return echo::serve(input, output, args);
    }
    let out = Arc::new(Out::new(
        output,
        args.framing.map(Into::into),
        args.stdout_logs,
    ));
    let mut server = Server {
        args,
        out: out.clone(),
        docs: HashMap::new(),
        delayed: Arc::new(Mutex::new(HashMap::new())),
        sent: HashMap::new(),
        next_id: 1,
        progress_token: None,
        shut_down: false,
    };
    if args.stdout_logs {
        out.text("demo-server log: starting up\n")?;
    }
    let mut src = FrameReader::new(input, None);
    let mut received = 0;
    while let Some(frame) = src.next_frame()? {
        if frame.kind != FrameKind::Message {
            server.chatter(format_args!("ignoring {} bytes of noise", frame.wire_len()));
            continue;
        }
        if let Some(framing) = src.framing() {
            out.adopt_framing(framing);
        }
        received += 1;
        if args.crash_after == Some(received) {
            let id = serde_json::from_slice::<Value>(&frame.body)
                .ok()
                .and_then(|m| m.get("id").cloned())
                .unwrap_or(Value::Null);
            server.chatter(format_args!("crashing after {received} messages"));
            out.crash(
                &json!({"jsonrpc": "2.0", "id": id, "result": {"note": "the demo server crashes while writing this"}}),
                CRASH_EXIT,
            );
        }
        if server.handle(&frame.body)? == Flow::Exit {
            out.close();
            return Ok(args.exit_code);
        }
    }
    if let Some(why) = &src.truncated {
        server.chatter(format_args!("input ended badly: {why}"));
    }
    out.close();
    Ok(args.exit_code)
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Exit,
}

/// A JSON-RPC error: code, message.
type RpcError = (i64, String);

struct Server<'a> {
    args: &'a DemoServerArgs,
    out: Arc<Out>,
    /// Open documents: uri → text.
    docs: HashMap<String, String>,
    /// Requests being answered by their own thread, with the switch that cancels them.
    delayed: Arc<Mutex<HashMap<Id, Sender<()>>>>,
    /// Requests this server sent to the client, awaiting answers: id → method.
    sent: HashMap<Id, &'static str>,
    next_id: i64,
    /// The progress token the client accepted, for slow work it did not give one for.
    progress_token: Option<Value>,
    shut_down: bool,
}

fn id_of(v: &Value) -> Option<Id> {
    match v {
        Value::Number(n) => n.as_i64().map(Id::Num),
        Value::String(s) => Some(Id::Str(s.clone())),
        _ => None,
    }
}

fn response(id: &Value, outcome: Result<Value, RpcError>) -> Value {
    match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        }
    }
}

fn notification(method: &str, params: Value) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "method": method});
    m["params"] = params;
    m
}

impl Server<'_> {
    fn chatter(&self, what: std::fmt::Arguments) {
        if self.args.stderr_chatter {
            eprintln!("rpctap-demo-server: {what}");
        }
    }

    fn handle(&mut self, body: &[u8]) -> io::Result<Flow> {
        let c = classify(body);
        let msg: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let method = c.method.as_deref().unwrap_or("");
        match c.kind {
            Kind::Request | Kind::Notification => {
                self.chatter(format_args!(
                    "<- {} {method}{}",
                    c.kind.as_str(),
                    c.id.as_ref()
                        .map_or(String::new(), |id| format!(" id={id}"))
                ));
                if self
                    .args
                    .drop_methods
                    .iter()
                    .any(|p| names_method(p, method))
                {
                    self.chatter(format_args!("dropping {method}"));
                    return Ok(Flow::Continue);
                }
                let params = msg.get("params").cloned().unwrap_or(Value::Null);
                match c.id {
                    Some(id) if c.kind == Kind::Request => {
                        self.request(&msg["id"], id, method, params)?;
                    }
                    _ => return self.notification(method, &params),
                }
            }
            Kind::Response | Kind::Error => self.answered(c.id, c.kind),
            Kind::Batch => self.out.send(&response(
                &Value::Null,
                Err((-32600, "batches are not supported".into())),
            ))?,
            _ => {
                let error = if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
                    (-32700, "parse error: not valid JSON".to_owned())
                } else {
                    let reason = c.reason.unwrap_or("not a JSON-RPC message");
                    (-32600, format!("invalid request: {reason}"))
                };
                self.out.send(&response(&Value::Null, Err(error)))?;
            }
        }
        Ok(Flow::Continue)
    }

    fn request(&mut self, raw_id: &Value, id: Id, method: &str, params: Value) -> io::Result<()> {
        let mut delay = 0;
        let mut progress = None;
        let outcome = match method {
            "initialize" => Ok(initialize_result()),
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            _ if self.shut_down => Err((-32600, "the server is shutting down".into())),
            "textDocument/hover" => {
                delay = self.args.slow_ms;
                Ok(self.at_position(&params, lsp::hover))
            }
            "textDocument/completion" => Ok(self.at_position(&params, lsp::completion)),
            "textDocument/definition" => {
                let uri = params["textDocument"]["uri"].as_str().unwrap_or("");
                Ok(self.at_position(&params, |text, l, c| lsp::definition(uri, text, l, c)))
            }
            "textDocument/documentSymbol" => {
                Ok(self.doc(&params).map_or(Value::Null, lsp::document_symbols))
            }
            "demo/echo" => Ok(params),
            "demo/slow" => {
                delay = params["ms"].as_u64().unwrap_or(1000);
                progress = params
                    .get("workDoneToken")
                    .cloned()
                    .or_else(|| self.progress_token.clone());
                Ok(json!({"slept_ms": delay}))
            }
            "demo/fail" => Err((
                params["code"].as_i64().unwrap_or(-32000),
                "demo/fail always fails".to_owned(),
            )),
            _ => Err((-32601, format!("method not found: {method}"))),
        };
        let outcome = match outcome {
            Ok(v) if self.args.alter.iter().any(|p| names_method(p, method)) => Ok(altered(v)),
            other => other,
        };
        let reply = response(raw_id, outcome);
        if delay == 0 {
            return self.out.send(&reply);
        }
        self.answer_later(
            raw_id.clone(),
            id,
            method,
            reply,
            Duration::from_millis(delay),
            progress,
        );
        Ok(())
    }

    /// Answers on a thread after `delay`, or with -32800 as soon as the request is
    /// cancelled. Reports progress around the wait when there is a token for it.
    fn answer_later(
        &self,
        raw_id: Value,
        id: Id,
        method: &str,
        reply: Value,
        delay: Duration,
        token: Option<Value>,
    ) {
        let (cancel, cancelled) = mpsc::channel();
        let delayed = self.delayed.clone();
        // Registered before the next message is read, so a cancel that follows always finds it.
        delayed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), cancel);
        let out = self.out.clone();
        let title = method.to_owned();
        std::thread::spawn(move || {
            let progress = |value: Value| {
                if let Some(token) = &token {
                    let _ = out.send(&notification(
                        "$/progress",
                        json!({"token": token, "value": value}),
                    ));
                }
            };
            progress(
                json!({"kind": "begin", "title": title, "cancellable": true, "percentage": 0}),
            );
            let was_cancelled = match cancelled.recv_timeout(delay) {
                Ok(()) => true,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => false,
            };
            delayed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
            let reply = if was_cancelled {
                progress(json!({"kind": "end", "message": "cancelled"}));
                response(&raw_id, Err((-32800, "request cancelled".into())))
            } else {
                progress(json!({"kind": "end", "message": "done"}));
                reply
            };
            let _ = out.send(&reply);
        });
    }

    fn doc(&self, params: &Value) -> Option<&str> {
        let uri = params["textDocument"]["uri"].as_str()?;
        self.docs.get(uri).map(String::as_str)
    }

    /// Calls `f(text, line, character)` for a position request (an unknown document reads as
    /// empty).
    fn at_position(&self, params: &Value, f: impl Fn(&str, usize, usize) -> Value) -> Value {
        let pos = &params["position"];
        let line = pos["line"]
            .as_u64()
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let character = pos["character"]
            .as_u64()
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        f(self.doc(params).unwrap_or(""), line, character)
    }

    fn notification(&mut self, method: &str, params: &Value) -> io::Result<Flow> {
        match method {
            "exit" => return Ok(Flow::Exit),
            "initialized" => {
                self.send_request(
                    "workspace/configuration",
                    json!({"items": [{"section": "rpctapDemo"}]}),
                )?;
                self.send_request(
                    "window/workDoneProgress/create",
                    json!({"token": PROGRESS_TOKEN}),
                )?;
                self.log(3, "rpctap demo server ready")?;
            }
            "textDocument/didOpen" | "textDocument/didChange" => {
                let doc = &params["textDocument"];
                let Some(uri) = doc["uri"].as_str() else {
                    return Ok(Flow::Continue);
                };
                // Full synchronisation (what `initialize` announced): the last whole text wins.
                let text = doc["text"].as_str().or_else(|| {
                    params["contentChanges"]
                        .as_array()?
                        .iter()
                        .rev()
                        .find(|c| c.get("range").is_none())?["text"]
                        .as_str()
                });
                if let Some(text) = text {
                    self.docs.insert(uri.to_owned(), text.to_owned());
                }
                if method.ends_with("didOpen") {
                    let lines = self.docs.get(uri).map_or(0, |t| t.lines().count());
                    self.log(4, &format!("opened {uri} ({lines} lines)"))?;
                }
                self.publish(uri, doc.get("version").cloned())?;
            }
            "textDocument/didClose" => {
                if let Some(uri) = params["textDocument"]["uri"].as_str() {
                    self.docs.remove(uri);
                    self.out.send(&notification(
                        "textDocument/publishDiagnostics",
                        json!({"uri": uri, "diagnostics": []}),
                    ))?;
                }
            }
            "$/cancelRequest" => {
                let target = id_of(&params["id"]);
                let switch = target.as_ref().and_then(|id| {
                    let mut delayed = self
                        .delayed
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    delayed.remove(id)
                });
                match switch {
                    Some(cancel) => {
                        let _ = cancel.send(());
                    }
                    None => self.chatter(format_args!("nothing to cancel for {}", params["id"])),
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn send_request(&mut self, method: &'static str, params: Value) -> io::Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        self.sent.insert(Id::Num(id), method);
        let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
        m["params"] = params;
        self.out.send(&m)
    }

    fn log(&self, level: u8, message: &str) -> io::Result<()> {
        self.out.send(&notification(
            "window/logMessage",
            json!({"type": level, "message": message}),
        ))
    }

    fn publish(&self, uri: &str, version: Option<Value>) -> io::Result<()> {
        let text = self.docs.get(uri).map_or("", String::as_str);
        let mut params = json!({"uri": uri, "diagnostics": lsp::diagnostics(text)});
        if let Some(v) = version {
            params["version"] = v;
        }
        self.out
            .send(&notification("textDocument/publishDiagnostics", params))
    }

    /// The client answered one of this server's requests.
    fn answered(&mut self, id: Option<Id>, kind: Kind) {
        match id.and_then(|id| self.sent.remove(&id)) {
            Some("window/workDoneProgress/create") if kind == Kind::Response => {
                self.progress_token = Some(json!(PROGRESS_TOKEN));
            }
            Some(method) => self.chatter(format_args!("client answered {method}")),
            None => self.chatter(format_args!("an answer to no request of ours")),
        }
    }
}

fn initialize_result() -> Value {
    json!({
        "capabilities": {
            "positionEncoding": "utf-16",
            "textDocumentSync": {"openClose": true, "change": 1},
            "hoverProvider": true,
            "completionProvider": {"triggerCharacters": [".", ":"], "resolveProvider": false},
            "definitionProvider": true,
            "documentSymbolProvider": true,
            "experimental": {"rpctapDemo": {"methods": ["demo/echo", "demo/slow", "demo/fail"]}},
        },
        "serverInfo": {"name": "rpctap-demo-server", "version": env!("CARGO_PKG_VERSION")},
    })
}
