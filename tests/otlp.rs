//! OpenTelemetry export through the real binary to a real OTLP/HTTP receiver on loopback
//! (this test's own, decoding the protobuf it is sent): the live shim with real servers
//! (the demo language server, and `rpctap mock` serving a recorded MCP session), `rpctap
//! export` of recordings, a stalled collector that must not slow forwarding, and bad
//! endpoints. The same is checked against Arize Phoenix in tests/phoenix.rs.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, Span};
use prost::Message;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// One span as received, with its resource's `service.name`.
#[derive(Debug, Clone)]
struct Got {
    service: String,
    span: Span,
}

impl Got {
    fn attr(&self, key: &str) -> Option<String> {
        self.span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.clone())
            .map(|v| match v {
                AnyValue::StringValue(s) => s,
                AnyValue::IntValue(i) => i.to_string(),
                AnyValue::BoolValue(b) => b.to_string(),
                other => format!("{other:?}"),
            })
    }
    fn micros(&self) -> u64 {
        (self.span.end_time_unix_nano - self.span.start_time_unix_nano) / 1000
    }
}

/// An OTLP/HTTP receiver: `answer` false holds every request without a reply.
struct Receiver {
    url: String,
    rx: mpsc::Receiver<(String, Vec<u8>)>,
}

fn receiver(answer: bool) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || serve(stream, answer, &tx));
        }
    });
    Receiver { url, rx }
}

/// Reads HTTP/1.1 requests on one connection; each body goes to `tx` with its path.
fn serve(stream: TcpStream, answer: bool, tx: &mpsc::Sender<(String, Vec<u8>)>) {
    let mut out = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let _ = tx.send((path, body));
        if !answer {
            // Hold the connection open, never answering, until the client gives up.
            let _ = r.read_to_end(&mut Vec::new());
            return;
        }
        let reply =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

impl Receiver {
    /// Every span received so far (waiting up to `HANG` for a first request).
    fn spans(&self, first_wait: Duration) -> Vec<Got> {
        let mut got = Vec::new();
        let mut wait = first_wait;
        while let Ok((path, body)) = self.rx.recv_timeout(wait) {
            assert_eq!(path, "/v1/traces");
            let req = ExportTraceServiceRequest::decode(&body[..]).expect("OTLP protobuf");
            for rs in req.resource_spans {
                let service = rs
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        AnyValue::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                for ss in rs.scope_spans {
                    for span in ss.spans {
                        got.push(Got {
                            service: service.clone(),
                            span,
                        });
                    }
                }
            }
            wait = Duration::from_millis(300);
        }
        got
    }
}

fn by_name<'a>(spans: &'a [Got], name: &str) -> &'a Got {
    spans
        .iter()
        .find(|s| s.span.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} among {:?}", names(spans)))
}

fn names(spans: &[Got]) -> Vec<&str> {
    spans.iter().map(|s| s.span.name.as_str()).collect()
}

#[test]
fn the_live_shim_sends_a_span_per_pair_of_a_real_lsp_session() {
    let home = temp();
    let rec = receiver(true);
    let status = rpctap(home.path())
        .args([
            "demo-client",
            "--",
            BIN,
            "--otlp",
            &rec.url,
            "--name",
            "demo-otel",
        ])
        .args(["--no-live", "--record"])
        .arg(path(&home, "s.jsonl"))
        .args(["--", BIN, "demo-server"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // The shim has exited: whatever it sent is here.
    let spans = rec.spans(HANG);
    let hover = by_name(&spans, "textDocument/hover");
    assert_eq!(hover.service, "demo-otel");
    assert_eq!(hover.span.kind, SpanKind::Server as i32);
    assert_eq!(hover.attr("rpc.system.name").as_deref(), Some("jsonrpc"));
    assert_eq!(
        hover.attr("rpc.method").as_deref(),
        Some("textDocument/hover")
    );
    assert_eq!(
        hover.attr("jsonrpc.protocol.version").as_deref(),
        Some("2.0")
    );
    assert_eq!(hover.attr("network.transport").as_deref(), Some("pipe"));
    assert!(hover.attr("jsonrpc.request.id").is_some());
    assert_eq!(
        hover.attr("rpctap.request.body"),
        None,
        "bodies only with --otlp-bodies"
    );
    let root = by_name(&spans, "session demo-otel");
    assert_eq!(hover.span.trace_id, root.span.trace_id);
    assert_eq!(hover.span.parent_span_id, root.span.span_id);
    // Durations are the recorded latencies: check them against the recording.
    let store = rpctap::session::load(&path(&home, "s.jsonl")).unwrap();
    let recorded: Vec<u64> = (0..store.len())
        .filter(|&i| {
            store.method(i) == Some("textDocument/hover")
                && store.row(i).kind == rpctap::rpc::Kind::Request
        })
        .filter_map(|i| store.latency(i))
        .map(|l| u64::try_from(l).unwrap())
        .collect();
    let sent: Vec<u64> = spans
        .iter()
        .filter(|s| s.span.name == "textDocument/hover")
        .map(Got::micros)
        .collect();
    assert_eq!(sent, recorded);
    assert!(spans.iter().any(|s| s.span.name == "notifications"
        && s.span
            .events
            .iter()
            .any(|e| e.name == "textDocument/didOpen")));
}

/// The c2s half of a recording, as the bytes a client sent.
fn client_bytes(home: &Path, file: &Path) -> Vec<u8> {
    wire(home, file, "c2s")
}

#[test]
fn a_recorded_mcp_session_served_by_mock_carries_the_mcp_conventions() {
    let home = temp();
    let rec = receiver(true);
    let asset = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mcp-everything-session.jsonl");
    let mut cmd = rpctap(home.path());
    cmd.args([
        "--otlp",
        &rec.url,
        "--otlp-bodies",
        "--no-record",
        "--no-live",
        "--name",
        "mcp",
    ])
    .args(["--", BIN, "mock"])
    .arg(&asset);
    let out = run_with_input(cmd, client_bytes(home.path(), &asset), 4096);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spans = rec.spans(HANG);
    let echo = by_name(&spans, "tools/call echo");
    assert_eq!(echo.attr("mcp.method.name").as_deref(), Some("tools/call"));
    assert_eq!(
        echo.attr("gen_ai.operation.name").as_deref(),
        Some("execute_tool")
    );
    assert_eq!(echo.attr("gen_ai.tool.name").as_deref(), Some("echo"));
    assert!(echo
        .attr("mcp.protocol.version")
        .is_some_and(|v| v.starts_with("20")));
    assert!(echo.attr("mcp.session.id").is_some());
    assert!(echo
        .attr("gen_ai.tool.call.arguments")
        .is_some_and(|a| a.contains("message")));
    assert!(echo.attr("rpctap.response.body").is_some());
    let read = spans
        .iter()
        .find(|s| s.span.name == "resources/read")
        .expect("a resources/read span");
    assert!(read.attr("mcp.resource.uri").is_some());
    assert!(spans
        .iter()
        .filter(|s| s.span.name != "notifications" && !s.span.name.starts_with("session"))
        .all(|s| s.span.status.as_ref().map_or(0, |st| st.code) != StatusCode::Error as i32));
}

#[test]
fn export_sends_recordings_with_their_original_times() {
    let home = temp();
    let rec = receiver(true);
    let asset = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pylsp-session.jsonl");
    let out = rpctap(home.path())
        .args(["export", "--otlp", &rec.url])
        .arg(&asset)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let spans = rec.spans(HANG);
    let trace = hex(&spans[0].span.trace_id);
    assert!(line.contains(&format!("{} spans", spans.len())), "{line}");
    assert!(line.contains(&trace), "{line}");
    let store = rpctap::session::load(&asset).unwrap();
    let init_row = (0..store.len())
        .find(|&i| store.method(i) == Some("initialize"))
        .unwrap();
    let init = by_name(&spans, "initialize");
    assert_eq!(
        init.span.start_time_unix_nano / 1000,
        u64::try_from(store.row(init_row).t.0).unwrap()
    );
    assert_eq!(
        init.micros(),
        u64::try_from(store.latency(init_row).unwrap()).unwrap()
    );
    assert_eq!(init.service, "pylsp");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn a_stalled_collector_never_slows_forwarding_and_drops_are_counted() {
    let home = temp();
    let rec = receiver(false);
    let mut child = rpctap(home.path())
        .args(["--otlp", &rec.url, "--no-record", "--no-live", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = String::new();
        let _ = err.read_to_string(&mut v);
        v
    });
    let mut input = b"{\"jsonrpc\":\"2.0\",\"method\":\"first\"}\n".to_vec();
    stdin.write_all(&input).unwrap();
    // The exporter's first request is now held by the collector: everything after it
    // queues behind a stalled export.
    rec.rx.recv_timeout(HANG).expect("a first export request");
    let flood: Vec<u8> = (0..30_000)
        .flat_map(|i| {
            format!("{{\"jsonrpc\":\"2.0\",\"method\":\"note\",\"params\":{{\"n\":{i}}}}}\n")
                .into_bytes()
        })
        .collect();
    stdin.write_all(&flood).unwrap();
    input.extend_from_slice(&flood);
    drop(stdin);
    let status = wait_bounded(&mut child, HANG);
    let forwarded = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    assert!(status.success());
    assert!(
        forwarded == input,
        "forwarding must be byte-exact whatever the exporter does"
    );
    assert_eq!(stderr.matches("dropping events").count(), 1, "{stderr}");
    assert!(stderr.contains("dropped"), "{stderr}");
    assert!(
        stderr.lines().count() <= 4,
        "a few warnings, not one per event: {stderr}"
    );
}

#[test]
fn bad_endpoints_are_one_line_errors() {
    let home = temp();
    let asset = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pylsp-session.jsonl");
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let cases: [(&[&str], &str); 4] = [
        (
            &["export", "--otlp", "https://collector:4318"],
            "only http://",
        ),
        (
            &["export", "--otlp", "collector:4318"],
            "not an http:// URL",
        ),
        (&["export"], "no collector given"),
        (&["export", "--otlp", &closed], "failed"),
    ];
    for (args, wanted) in cases {
        let out = rpctap(home.path())
            .args(args)
            .arg(&asset)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("rpctap: ") && err.contains(wanted),
            "{args:?}: {err}"
        );
    }
    // The shim: a bad --otlp is a usage error before anything starts...
    let out = rpctap(home.path())
        .args(["--otlp", "ftp://x", "--no-record", "--", "cat"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rpctap(home.path())
        .args(["--otlp-bodies", "--no-record", "--", "cat"])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--otlp-bodies needs --otlp"));
    // ...but a stray environment variable only warns: the server still runs.
    let mut cmd = rpctap(home.path());
    cmd.args(["--no-record", "--no-live", "--", "cat"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url");
    let out = run_with_input(
        cmd,
        b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n".to_vec(),
        64,
    );
    assert!(out.status.success());
    assert_eq!(out.stdout, b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("OpenTelemetry export is off"));
}

#[test]
fn the_standard_environment_variable_turns_export_on() {
    let home = temp();
    let rec = receiver(true);
    let mut cmd = Command::new(BIN);
    cmd.env("RPCTAP_HOME", home.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{}/", rec.url))
        .args(["--no-record", "--no-live", "--name", "envy", "--", "cat"]);
    let out = run_with_input(
        cmd,
        b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n".to_vec(),
        64,
    );
    assert!(out.status.success());
    let spans = rec.spans(HANG);
    let services: HashMap<&str, usize> = spans.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(s.service.as_str()).or_default() += 1;
        m
    });
    assert_eq!(
        services.get("envy"),
        Some(&spans.len()),
        "{:?}",
        names(&spans)
    );
    by_name(&spans, "session envy");
}

#[test]
fn bodies_are_sent_only_on_opt_in_and_always_redacted() {
    let home = temp();
    let secret = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"login\",\"params\":{\"token\":\"hunter2\",\"user\":\"me\"}}\n";
    for bodies in [false, true] {
        let rec = receiver(true);
        let mut cmd = rpctap(home.path());
        cmd.args([
            "--otlp",
            &rec.url,
            "--redact",
            "token",
            "--no-record",
            "--no-live",
        ]);
        if bodies {
            cmd.arg("--otlp-bodies");
        }
        cmd.args(["--", "cat"]);
        let out = run_with_input(cmd, secret.to_vec(), 64);
        assert_eq!(out.stdout, secret, "the wire is never redacted");
        let spans = rec.spans(HANG);
        let login = spans
            .iter()
            .find(|s| {
                s.span.name == "login" && s.attr("rpctap.direction").as_deref() == Some("c2s")
            })
            .unwrap_or_else(|| panic!("{:?}", names(&spans)));
        let everything = format!("{spans:?}");
        assert!(
            !everything.contains("hunter2"),
            "a redacted value left the machine"
        );
        match login.attr("rpctap.request.body") {
            Some(body) => {
                assert!(bodies);
                assert!(
                    body.contains("«redacted»") && body.contains("\"user\":\"me\""),
                    "{body}"
                );
            }
            None => assert!(!bodies, "--otlp-bodies sends the body"),
        }
    }
}
