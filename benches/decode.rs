//! Decoder benchmarks: the per-byte and per-message costs on the shim's decoding path.
//!
//! Each decoder is fed a stream of many frames in 64 KiB pieces, as a pipe delivers them,
//! and is measured against a baseline that only copies the same bytes, in the same piece
//! sizes, into a `BytesMut` (the copy every decoder loop makes anyway). The ratio of the two
//! is the number to watch; absolute figures depend on the machine.
//!
//! Run: `cargo bench --bench decode` (criterion filters work as usual, e.g.
//! `cargo bench --bench decode -- content_length`). With `RPCTAP_BENCH_DOCS=docs/benchmarks.md`
//! the `## Decoders` section of that file is rewritten from this run's results
//! (`scripts/bench-decode.sh` does that).

#[path = "support/docs.rs"]
mod docs;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput};
use rpctap::record::{encode_event, encode_message_head, Dir, Event, MessageEvent, Micros};
use rpctap::rpc::classify;
use rpctap::session::Store;
use rpctap::wire::{ContentLengthDecoder, Decode, Decoder, Framing, Limits, NdjsonDecoder};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What a pipe typically hands a `read` of a 64 KiB buffer.
const READ_SIZE: usize = 64 * 1024;
const LARGE_BODY: usize = 1024 * 1024;
const SMALL_BODY: usize = 200;
/// Every stream is about this long, so per-iteration times stay comparable.
const STREAM_BYTES: usize = 8 * 1024 * 1024;

/// A JSON-RPC body of exactly `len` bytes: a `didOpen` whose text fills the rest.
fn body(len: usize, id: usize) -> Vec<u8> {
    let head = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"file:///src/m{id}.rs","languageId":"rust","version":1,"text":""#
    );
    let tail = r#""}}}"#;
    let fill = len.saturating_sub(head.len() + tail.len());
    let text: Vec<u8> = b"fn main() { println!(\\\"hi\\\"); }\\n"
        .iter()
        .copied()
        .cycle()
        .take(fill)
        .collect();
    let mut out = head.into_bytes();
    out.extend_from_slice(&text);
    out.extend_from_slice(tail.as_bytes());
    // A fill cut in the middle of an escape would make invalid JSON; pad with spaces
    // inside the string instead of ending on a lone backslash.
    while out[out.len() - tail.len() - 1] == b'\\' {
        let i = out.len() - tail.len() - 1;
        out[i] = b' ';
    }
    out
}

/// A stream of frames with bodies of `len` bytes, about `STREAM_BYTES` long.
fn stream(framing: Framing, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(STREAM_BYTES + len + 64);
    let mut id = 0;
    while out.len() < STREAM_BYTES {
        let b = body(len, id % 1000);
        match framing {
            Framing::Lsp => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
                out.extend_from_slice(&b);
            }
            Framing::Ndjson => {
                out.extend_from_slice(&b);
                out.push(b'\n');
            }
        }
        id += 1;
    }
    out
}

/// A client's message with `body`, as the recorder makes it.
fn message(seq: u64, body: Bytes) -> MessageEvent {
    MessageEvent {
        seq,
        t: Micros::now(),
        dir: Dir::C2s,
        framing: Framing::Lsp,
        body,
        headers: None,
        redacted: false,
        oversized: None,
        mark: rpctap::record::Mark::default(),
    }
}

/// The baseline: copy each read into the buffer, then let it go, as a decoder loop would
/// once it has handed out the frames.
fn copy_only(input: &[u8], buf: &mut BytesMut) -> usize {
    let mut n = 0;
    for piece in input.chunks(READ_SIZE) {
        buf.extend_from_slice(piece);
        n += buf.split().freeze().len();
    }
    n
}

/// Feeds `input` in reads of `READ_SIZE` and counts the frames `decode` yields.
fn feed(
    input: &[u8],
    mut decode: impl FnMut(&mut BytesMut) -> Option<rpctap::wire::Frame>,
) -> usize {
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let mut frames = 0;
    for piece in input.chunks(READ_SIZE) {
        buf.extend_from_slice(piece);
        while let Some(f) = decode(&mut buf) {
            black_box(&f);
            frames += 1;
        }
    }
    frames
}

fn decoders(c: &mut Criterion) {
    for (label, len) in [("1MB", LARGE_BODY), ("200B", SMALL_BODY)] {
        let lsp = stream(Framing::Lsp, len);
        let nd = stream(Framing::Ndjson, len);
        let mut g = c.benchmark_group(format!("decode_{label}"));
        g.throughput(Throughput::Bytes(lsp.len() as u64));
        g.bench_function("memcpy_baseline", |b| {
            let mut buf = BytesMut::with_capacity(READ_SIZE);
            b.iter(|| copy_only(black_box(&lsp), &mut buf));
        });
        g.bench_function("content_length", |b| {
            b.iter(|| {
                let mut d = ContentLengthDecoder::new(Limits::default());
                feed(black_box(&lsp), |buf| d.decode(buf))
            });
        });
        g.bench_function("auto_content_length", |b| {
            b.iter(|| {
                let mut d = Decoder::new(None, Limits::default());
                feed(black_box(&lsp), |buf| d.decode(buf))
            });
        });
        // What the shim's recorder does with each chunk, short of the file write: decode,
        // then encode every message as a recording line (its ceiling in messages/s).
        g.bench_function("decode_and_record", |b| {
            let mut line = Vec::with_capacity(len + 256);
            b.iter(|| {
                let mut d = Decoder::new(None, Limits::default());
                let mut seq = 0;
                feed(black_box(&lsp), |buf| {
                    let frame = d.decode(buf)?;
                    seq += 1;
                    line.clear();
                    encode_event(&mut line, &Event::Message(message(seq, frame.body.clone())));
                    Some(frame)
                })
            });
        });
        // The recorder's check that each body can be embedded verbatim, alone: the
        // validator (`encode_message_head` validates the body and writes only the head).
        let messages: Vec<MessageEvent> = {
            let mut d = Decoder::new(None, Limits::default());
            let mut out = Vec::new();
            feed(&lsp, |buf| {
                let frame = d.decode(buf)?;
                out.push(message(out.len() as u64, frame.body.clone()));
                Some(frame)
            });
            out
        };
        g.bench_function("embed_check", |b| {
            let mut line = Vec::with_capacity(256);
            b.iter(|| {
                messages
                    .iter()
                    .filter(|m| {
                        line.clear();
                        encode_message_head(&mut line, black_box(m))
                    })
                    .count()
            });
        });
        // The newline stream is a few bytes shorter (no headers): its own throughput.
        g.throughput(Throughput::Bytes(nd.len() as u64));
        g.bench_function("ndjson", |b| {
            b.iter(|| {
                let mut d = NdjsonDecoder::new(Limits::default());
                feed(black_box(&nd), |buf| d.decode(buf))
            });
        });
        g.finish();
    }
}

/// Typical LSP traffic: small requests, a notification with a file's text, a completion
/// list, diagnostics, an error.
fn lsp_messages() -> Vec<Vec<u8>> {
    let items: Vec<String> = (0..50)
        .map(|i| format!(r#"{{"label":"item{i}","kind":3,"detail":"fn item{i}(x: u32) -> bool","sortText":"{i:04}"}}"#))
        .collect();
    let diags: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"range":{{"start":{{"line":{i},"character":4}},"end":{{"line":{i},"character":9}}}},"severity":2,"message":"unused variable `x{i}`","source":"rustc"}}"#))
        .collect();
    vec![
        br#"{"jsonrpc":"2.0","id":17,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///src/main.rs"},"position":{"line":10,"character":5}}}"#.to_vec(),
        br#"{"jsonrpc":"2.0","id":17,"result":{"contents":{"kind":"markdown","value":"```rust\nfn main()\n```"},"range":{"start":{"line":10,"character":3},"end":{"line":10,"character":7}}}}"#.to_vec(),
        body(4096, 1),
        format!(r#"{{"jsonrpc":"2.0","id":18,"result":{{"isIncomplete":false,"items":[{}]}}}}"#, items.join(",")).into_bytes(),
        format!(r#"{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":"file:///src/main.rs","diagnostics":[{}]}}}}"#, diags.join(",")).into_bytes(),
        br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":18}}"#.to_vec(),
        br#"{"jsonrpc":"2.0","id":19,"error":{"code":-32801,"message":"content modified"}}"#.to_vec(),
    ]
}

fn message_events(msgs: &[Vec<u8>], copies: usize) -> Vec<Event> {
    (0..copies)
        .flat_map(|k| {
            msgs.iter()
                .enumerate()
                .map(move |(i, m)| (k * msgs.len() + i, m))
        })
        .map(|(seq, m)| {
            Event::Message(MessageEvent {
                seq: seq as u64,
                t: Micros(1_763_700_000_000_000 + i64::try_from(seq).unwrap() * 137),
                dir: if seq % 2 == 0 { Dir::C2s } else { Dir::S2c },
                framing: Framing::Lsp,
                body: Bytes::from(m.clone()),
                headers: None,
                redacted: false,
                oversized: None,
                mark: rpctap::record::Mark::default(),
            })
        })
        .collect()
}

fn per_message(c: &mut Criterion) {
    let msgs = lsp_messages();
    let total: usize = msgs.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("per_message");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("memcpy_baseline", |b| {
        let mut out = Vec::with_capacity(total);
        b.iter(|| {
            out.clear();
            for m in &msgs {
                out.extend_from_slice(black_box(m));
            }
            out.len()
        });
    });
    g.bench_function("classify", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| classify(black_box(m)).kind as usize)
                .sum::<usize>()
        });
    });
    let events = message_events(&msgs, 1);
    g.bench_function("encode_event", |b| {
        let mut out = Vec::with_capacity(total * 2);
        b.iter(|| {
            out.clear();
            for e in &events {
                encode_event(&mut out, black_box(e));
            }
            out.len()
        });
    });
    g.finish();

    // Ingest: a fresh store per batch, so the arena's growth is part of the cost, as it is
    // when a recording is opened.
    let copies = 1000;
    let events = message_events(&msgs, copies);
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Bytes((total * copies) as u64));
    g.bench_function("push", |b| {
        b.iter_batched(
            || events.clone(),
            |events| {
                let mut store = Store::new();
                for e in events {
                    store.push(e);
                }
                store.len()
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

fn config() -> Criterion {
    // The machine is small and shared: short runs, few samples; compare ratios within a run.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

fn main() {
    let started = SystemTime::now();
    // Described before the run, so the load average is the one the run met.
    let machine = docs::machine();
    let mut c = config();
    decoders(&mut c);
    per_message(&mut c);
    c.final_summary();
    // Only a real benchmark run (not `cargo test --benches`) has figures to write.
    let benching = std::env::args().any(|a| a == "--bench");
    if let (true, Some(path)) = (benching, std::env::var_os("RPCTAP_BENCH_DOCS")) {
        let body = report(started, &machine);
        match docs::rewrite_section(Path::new(&path), "## Decoders", &body) {
            Ok(()) => eprintln!("wrote ## Decoders to {}", Path::new(&path).display()),
            Err(e) => eprintln!("cannot write {}: {e}", Path::new(&path).display()),
        }
    }
}

/// Where criterion keeps its results, found the way criterion finds it.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target.join("criterion")
}

/// The median time (ns) of one benchmark measured by this run, if it was.
fn median_ns(group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(name)
        .join("new/estimates.json");
    // Older results of benchmarks this run filtered out must not be reported as new.
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn report(since: SystemTime, machine: &str) -> String {
    let mut rows = Vec::new();
    for (label, len) in [("1MB", LARGE_BODY), ("200B", SMALL_BODY)] {
        let group = format!("decode_{label}");
        let bytes = [Framing::Lsp, Framing::Ndjson].map(|f| stream(f, len).len() as f64);
        let base = median_ns(&group, "memcpy_baseline", since).map(|ns| bytes[0] / ns);
        for (name, what, b) in [
            ("memcpy_baseline", "copy only (baseline)", bytes[0]),
            ("content_length", "Content-Length decoder", bytes[0]),
            (
                "auto_content_length",
                "auto-detecting decoder on Content-Length",
                bytes[0],
            ),
            (
                "decode_and_record",
                "auto decoder + `encode_event` per message (the recorder's work short of the file)",
                bytes[0],
            ),
            (
                "embed_check",
                "validation alone: can each body be embedded verbatim",
                bytes[0],
            ),
            ("ndjson", "NDJSON decoder", bytes[1]),
        ] {
            let Some(ns) = median_ns(&group, name, since) else {
                continue;
            };
            let frames = b / (len as f64);
            rows.push(row(
                &format!("{label} bodies"),
                what,
                b / ns,
                base,
                ns / frames,
            ));
        }
    }
    let msgs = lsp_messages();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let total = bytes as f64;
    let base = median_ns("per_message", "memcpy_baseline", since).map(|ns| total / ns);
    for (group, name, what, scale) in [
        (
            "per_message",
            "memcpy_baseline",
            "copy only (baseline)",
            1.0,
        ),
        ("per_message", "classify", "rpc::classify", 1.0),
        ("per_message", "encode_event", "record::encode_event", 1.0),
        ("store", "push", "session::Store::push", 1000.0),
    ] {
        let Some(ns) = median_ns(group, name, since) else {
            continue;
        };
        let per_msg = ns / (scale * msgs.len() as f64);
        rows.push(row(
            "typical LSP messages",
            what,
            total * scale / ns,
            base,
            per_msg,
        ));
    }
    format!(
        "What is measured: the decoding path's cost per byte and per message, in-process, one core.

- Decoders: a stream of about 8 MiB of Content-Length (or NDJSON) frames with 1 MiB or 200 B
  JSON bodies, fed to the decoder in 64 KiB pieces as a pipe delivers them; every frame is
  taken out of the buffer.
- Baseline: the same bytes copied in the same 64 KiB pieces into a `BytesMut`
  (`extend_from_slice`), the copy any decoder loop makes anyway. \"% of memcpy\" is the
  decoder's throughput divided by the baseline's.
- Per message: seven typical LSP messages (hover request and response, a 4 KiB `didOpen`, a
  50-item completion list, diagnostics, `$/cancelRequest`, an error response; {total} bytes in
  all), classified, encoded as recording lines, and pushed into a fresh session store (1000
  copies per batch); baseline: copying the same bodies into a `Vec`.
- GB/s is 10^9 bytes per second of input; times are criterion's median.

| input | what | GB/s | % of memcpy | ns per message |
|---|---|---:|---:|---:|
{}

Target (PRODUCT §10): decoders ≥ 1 GB/s on large bodies.

Reproduce: `scripts/bench-decode.sh` (runs `cargo bench --bench decode` and rewrites this section).

Machine: {}.
",
        rows.join("\n"),
        machine,
        total = bytes,
    )
}

fn row(input: &str, what: &str, bytes_per_ns: f64, base: Option<f64>, ns_per_msg: f64) -> String {
    let ratio = base.map_or("–".into(), |b| {
        format!("{:.1} %", 100.0 * bytes_per_ns / b)
    });
    format!("| {input} | {what} | {bytes_per_ns:.2} | {ratio} | {ns_per_msg:.0} |")
}
