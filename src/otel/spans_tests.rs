use super::*;
use crate::record::{MessageEvent, SessionInfo};
use crate::wire::Framing;
use bytes::Bytes;
use opentelemetry::Value;

fn info(protocol: Option<&str>) -> Event {
    Event::Session(SessionInfo {
        id: "20260101-000000-1".into(),
        name: "srv".into(),
        command: vec!["srv".into()],
        cwd: String::new(),
        pid: 1,
        started: "2026-01-01T00:00:00.000000Z".into(),
        protocol: protocol.map(str::to_owned),
    })
}

fn msg(seq: u64, t: i64, dir: Dir, body: &str) -> Event {
    Event::Message(MessageEvent {
        seq,
        t: Micros(1_767_225_600_000_000 + t),
        dir,
        framing: Framing::Ndjson,
        body: Bytes::copy_from_slice(body.as_bytes()),
        headers: None,
        redacted: false,
        oversized: None,
        mark: Default::default(),
    })
}

fn attr<'a>(s: &'a SpanData, key: &str) -> Option<&'a Value> {
    s.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn run(events: &[Event], options: SpanOptions) -> (Vec<SpanData>, SpanMaker) {
    let mut maker = SpanMaker::new(options);
    let mut out = Vec::new();
    for e in events {
        maker.event(e, &mut out);
    }
    maker.finish(None, &mut out);
    (out, maker)
}

#[test]
fn a_pair_is_one_span_from_request_to_response() {
    let (spans, maker) = run(
        &[
            info(None),
            msg(
                1,
                0,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#,
            ),
            msg(
                2,
                1500,
                Dir::S2c,
                r#"{"jsonrpc":"2.0","id":1,"result":null}"#,
            ),
            msg(
                3,
                2000,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/definition"}"#,
            ),
            msg(
                4,
                2600,
                Dir::S2c,
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no such method"}}"#,
            ),
        ],
        SpanOptions::default(),
    );
    let names: Vec<&str> = spans.iter().map(|s| &*s.name).collect();
    assert_eq!(
        names,
        [
            "textDocument/hover",
            "textDocument/definition",
            "session srv"
        ]
    );
    let hover = &spans[0];
    assert_eq!(hover.span_kind, SpanKind::Server);
    assert_eq!(
        hover.end_time.duration_since(hover.start_time).unwrap(),
        Duration::from_micros(1500)
    );
    assert_eq!(hover.status, Status::Unset);
    assert_eq!(attr(hover, "rpc.system.name"), Some(&"jsonrpc".into()));
    assert_eq!(
        attr(hover, "rpc.method"),
        Some(&"textDocument/hover".into())
    );
    assert_eq!(attr(hover, "jsonrpc.request.id"), Some(&"1".into()));
    assert_eq!(attr(hover, "jsonrpc.protocol.version"), Some(&"2.0".into()));
    assert_eq!(attr(hover, "network.transport"), Some(&"pipe".into()));
    assert_eq!(
        attr(hover, "rpctap.request.body"),
        None,
        "bodies only on opt-in"
    );
    let def = &spans[1];
    assert_eq!(def.status, Status::error("no such method"));
    assert_eq!(
        attr(def, "rpc.response.status_code"),
        Some(&"-32601".into())
    );
    assert_eq!(attr(def, "error.type"), Some(&"-32601".into()));
    let root = &spans[2];
    assert_eq!(hover.parent_span_id, root.span_context.span_id());
    assert_eq!(hover.span_context.trace_id().to_string(), maker.trace_id());
    assert_eq!(root.parent_span_id, SpanId::INVALID);
}

#[test]
fn unanswered_and_cancelled_requests_end_in_error_at_exit() {
    let (spans, _) = run(
        &[
            msg(
                1,
                0,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#,
            ),
            msg(
                2,
                10,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":"b","method":"slower"}"#,
            ),
            msg(
                3,
                20,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"b"}}"#,
            ),
            msg(
                4,
                90,
                Dir::S2c,
                r#"{"jsonrpc":"2.0","method":"window/logMessage","params":{}}"#,
            ),
        ],
        SpanOptions::default(),
    );
    let by = |n: &str| spans.iter().find(|s| s.name == n).unwrap();
    assert_eq!(attr(by("slow"), "error.type"), Some(&"unanswered".into()));
    assert!(matches!(by("slow").status, Status::Error { .. }));
    assert_eq!(attr(by("slower"), "error.type"), Some(&"cancelled".into()));
    assert_eq!(attr(by("slower"), "jsonrpc.request.id"), Some(&"b".into()));
    // Unanswered spans end with the session (here, its last event).
    assert_eq!(
        by("slow")
            .end_time
            .duration_since(by("slow").start_time)
            .unwrap(),
        Duration::from_micros(90)
    );
    let notes = by("notifications");
    let names: Vec<&str> = notes.events.iter().map(|e| &*e.name).collect();
    assert_eq!(names, ["$/cancelRequest", "window/logMessage"]);
}

#[test]
fn server_requests_are_client_spans_and_ids_are_per_direction() {
    let (spans, _) = run(
        &[
            msg(1, 0, Dir::C2s, r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#),
            msg(
                2,
                5,
                Dir::S2c,
                r#"{"jsonrpc":"2.0","id":1,"method":"workspace/configuration"}"#,
            ),
            msg(3, 7, Dir::C2s, r#"{"jsonrpc":"2.0","id":1,"result":[]}"#),
            msg(4, 9, Dir::S2c, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
        ],
        SpanOptions::default(),
    );
    assert_eq!(spans[0].name, "workspace/configuration");
    assert_eq!(spans[0].span_kind, SpanKind::Client);
    assert_eq!(spans[1].name, "a");
    assert_eq!(spans[1].span_kind, SpanKind::Server);
    assert_eq!(
        spans[1]
            .end_time
            .duration_since(spans[1].start_time)
            .unwrap(),
        Duration::from_micros(9)
    );
}

#[test]
fn mcp_spans_carry_the_mcp_conventions() {
    let (spans, _) = run(
        &[
            info(None),
            msg(
                1,
                0,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"#,
            ),
            msg(
                2,
                5,
                Dir::S2c,
                r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26"}}"#,
            ),
            msg(
                3,
                9,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}}"#,
            ),
            msg(
                4,
                19,
                Dir::S2c,
                r#"{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}"#,
            ),
            msg(
                5,
                20,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://static/1"}}"#,
            ),
            msg(6, 25, Dir::S2c, r#"{"jsonrpc":"2.0","id":2,"result":{}}"#),
            msg(
                7,
                30,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"simple"}}"#,
            ),
            msg(8, 35, Dir::S2c, r#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
        ],
        SpanOptions { bodies: true },
    );
    let init = &spans[0];
    assert_eq!(attr(init, "mcp.method.name"), Some(&"initialize".into()));
    assert_eq!(
        attr(init, "mcp.session.id"),
        Some(&"20260101-000000-1".into())
    );
    let tool = &spans[1];
    assert_eq!(tool.name, "tools/call echo");
    assert_eq!(
        attr(tool, "gen_ai.operation.name"),
        Some(&"execute_tool".into())
    );
    assert_eq!(attr(tool, "gen_ai.tool.name"), Some(&"echo".into()));
    assert_eq!(
        attr(tool, "mcp.protocol.version"),
        Some(&"2025-03-26".into()),
        "the negotiated one"
    );
    assert_eq!(attr(tool, "error.type"), Some(&"tool_error".into()));
    assert_eq!(
        attr(tool, "gen_ai.tool.call.arguments"),
        Some(&r#"{"message":"hi"}"#.into())
    );
    assert!(attr(tool, "rpctap.response.body").is_some());
    // The traceparent in params._meta makes the caller's span the parent.
    assert_eq!(
        tool.span_context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(tool.parent_span_id.to_string(), "b7ad6b7169203331");
    assert!(tool.parent_span_is_remote);
    assert_eq!(
        attr(&spans[2], "mcp.resource.uri"),
        Some(&"test://static/1".into())
    );
    assert_eq!(spans[3].name, "prompts/get simple");
    assert_eq!(
        attr(&spans[3], "gen_ai.prompt.name"),
        Some(&"simple".into())
    );
}

#[test]
fn hostile_bodies_leave_facts_out_and_never_panic() {
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"x","params":{{"v":"{}"}}}}"#,
        "é".repeat(20_000)
    );
    let (spans, _) = run(
        &[
            msg(
                1,
                0,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1,2]}"#,
            ),
            msg(
                2,
                1,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":7}}"#,
            ),
            msg(3, 2, Dir::C2s, "{not json"),
            msg(
                4,
                3,
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":3,"method":"m","params":{"_meta":{"traceparent":"00-zz-yy-01"}}}"#,
            ),
            msg(5, 4, Dir::C2s, &long),
        ],
        SpanOptions { bodies: true },
    );
    assert_eq!(spans.len(), 5, "four unanswered requests and the root");
    let big = spans.iter().find(|s| s.name == "x").unwrap();
    let Some(Value::String(body)) = attr(big, "rpctap.request.body") else {
        panic!("no body")
    };
    assert!(body.as_str().len() <= attrs::MAX_BODY_ATTRIBUTE + '…'.len_utf8());
    assert!(parse_traceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01").is_none());
    assert!(parse_traceparent("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_none());
}

#[test]
fn notifications_leave_in_bounded_spans() {
    let mut events = vec![info(Some("lsp"))];
    for i in 0..300 {
        events.push(msg(
            i,
            i as i64,
            Dir::S2c,
            r#"{"jsonrpc":"2.0","method":"window/logMessage"}"#,
        ));
    }
    let (spans, _) = run(&events, SpanOptions::default());
    let counts: Vec<usize> = spans
        .iter()
        .filter(|s| s.name == "notifications")
        .map(|s| s.events.len())
        .collect();
    assert_eq!(counts, [128, 128, 44]);
}

#[test]
fn a_server_that_never_answers_cannot_grow_the_exporter() {
    let mut maker = SpanMaker::new(SpanOptions::default());
    let mut out = Vec::new();
    for i in 0..(MAX_OPEN as u64 + 5) {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"m"}}"#);
        maker.event(&msg(i, i as i64, Dir::C2s, &body), &mut out);
    }
    maker.finish(None, &mut out);
    assert_eq!(out.len(), MAX_OPEN + 1, "the tracked requests and the root");
    let root = out.last().unwrap();
    assert_eq!(
        attr(root, "rpctap.untracked_requests"),
        Some(&Value::I64(5))
    );
    assert_eq!(
        attr(root, "rpctap.requests"),
        Some(&Value::I64(MAX_OPEN as i64 + 5))
    );
}
