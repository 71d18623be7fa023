//! `rpctap cat`: print recordings (in any format `record::open` reads) as readable lines,
//! JSONL, JSON, a VS Code trace or a HAR log, optionally filtered (`--filter`), or rebuild
//! the exact byte stream of one direction (`--wire`, never filtered: it must stay
//! byte-exact).

use crate::cli::{CatArgs, CatFormat, WireDir};
use crate::filter::Filter;
use crate::record::export::{write_vscode, Har};
use crate::record::{encode_event, open, wire_bytes, Dir, Event, ReleaseAction};
use crate::rpc::Kind;
use crate::session::{describe, Store};
use anyhow::anyhow;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: &CatArgs) -> anyhow::Result<ExitCode> {
    let filter = super::parse_filter(args.filter.as_deref())?;
    let filter = filter.as_ref();
    if filter.is_some() && matches!(args.format, CatFormat::Vscode | CatFormat::Har) {
        anyhow::bail!(
            "--filter applies to the pretty, jsonl and json formats, not to vscode or har"
        );
    }
    let stdout = std::io::stdout();
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut json_first = true;
    if args.format == CatFormat::Json && args.wire.is_none() {
        out.write_all(b"[")?;
    }
    let mut har = Har::new();
    let mut left_out = 0;
    for path in &args.files {
        match (args.wire, args.format) {
            (Some(dir), _) => wire(path, dir, &mut out)?,
            (None, CatFormat::Jsonl) => jsonl(path, filter, &mut out)?,
            (None, CatFormat::Pretty) => super::cat_pretty::pretty(path, filter, color, &mut out)?,
            (None, CatFormat::Json) => json(
                &super::load_checked(path, filter)?,
                filter,
                &mut json_first,
                &mut out,
            )?,
            (None, CatFormat::Vscode) => {
                left_out += write_vscode(&super::load_checked(path, filter)?, &mut out)?
            }
            (None, CatFormat::Har) => har.add(&super::load_checked(path, filter)?),
        }
    }
    match args.format {
        _ if args.wire.is_some() => {}
        CatFormat::Json => out.write_all(b"]\n")?,
        CatFormat::Har => har.write(&mut out)?,
        _ => {}
    }
    if left_out > 0 {
        eprintln!("rpctap: warning: {left_out} message(s) (noise, batches, non-JSON bodies) have no place in a VS Code trace and were left out");
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn events(path: &Path) -> anyhow::Result<impl Iterator<Item = anyhow::Result<Event>> + '_> {
    let (_, events) = open(path).map_err(|e| anyhow!(describe(path, &e)))?;
    Ok(events.map(move |r| r.map_err(|e| anyhow!(describe(path, &e)))))
}

fn wire(path: &Path, dir: WireDir, out: &mut impl Write) -> anyhow::Result<()> {
    let want = match dir {
        WireDir::C2s => Dir::C2s,
        WireDir::S2c => Dir::S2c,
    };
    let (format, events) = open(path).map_err(|e| anyhow!(describe(path, &e)))?;
    // Bytes past this offset of the stream never reached the peer: they are not part of
    // what it received.
    let cut = undelivered_from(path, want)?;
    let (mut oversized, mut lost, mut redacted) = (0u64, 0u64, 0u64);
    // The offset in the stream as the pump saw it: what is written plus what was lost.
    let mut at = 0u64;
    let mut buf = Vec::new();
    // Another tool's log (or one converted to JSONL, whose header says `import-`) holds
    // messages, not bytes: the framing written here is rpctap's.
    let mut rebuilt = (format != crate::record::Format::Rpctap).then(|| format.describe());
    // Held messages waiting for their `release` line: its wire bytes and framing.
    let mut held = std::collections::HashMap::new();
    for event in events {
        buf.clear();
        match event.map_err(|e| anyhow!(describe(path, &e)))? {
            // Held and diverted messages came from the peer's side of the stream but did not
            // go on at that point: they count toward its offset, not toward what was received.
            Event::Message(m) if m.dir == want && (m.mark.held.is_some() || m.mark.diverted) => {
                let mut bytes = Vec::new();
                wire_bytes(m.framing, m.headers.as_deref(), &m.body, &mut bytes);
                at += bytes.len() as u64;
                if let Some(hold) = m.mark.held {
                    held.insert(hold, (m.framing, bytes));
                }
                continue;
            }
            // What rpctap wrote is part of what the peer received, not of the source stream.
            Event::Message(m) if m.dir == want && m.mark.injected => {
                if cut.is_none_or(|c| at < c) {
                    wire_bytes(m.framing, m.headers.as_deref(), &m.body, &mut buf);
                    out.write_all(&buf)?;
                }
                continue;
            }
            Event::Release(r) if r.dir == want => {
                let Some((framing, original)) = held.remove(&r.hold) else {
                    continue;
                };
                match (r.action, &r.body) {
                    (ReleaseAction::Forward, _) => out.write_all(&original)?,
                    (ReleaseAction::Edit, Some(body)) => {
                        crate::wire::encode(framing, body, &mut buf);
                        out.write_all(&buf)?;
                    }
                    _ => {}
                }
                continue;
            }
            Event::Session(info) if info.id.starts_with("import-") => {
                rebuilt.get_or_insert("converted log");
                continue;
            }
            Event::Message(m) if m.dir == want => {
                if m.oversized.is_some() {
                    oversized += 1;
                }
                if m.redacted {
                    redacted += 1;
                }
                wire_bytes(m.framing, m.headers.as_deref(), &m.body, &mut buf);
            }
            Event::Noise(n) if n.dir == want => {
                redacted += u64::from(crate::record::redact::is_placeholder(&n.text));
                buf.extend_from_slice(&n.text);
            }
            Event::Gap(g) if g.dir == Some(want) => {
                lost += g.bytes;
                at += g.bytes;
                continue;
            }
            _ => continue,
        }
        if let Some(cut) = cut {
            buf.truncate(cut.saturating_sub(at) as usize);
        }
        at += buf.len() as u64;
        out.write_all(&buf)?;
    }
    if oversized > 0 {
        eprintln!("rpctap: warning: {oversized} oversized message(s) were not recorded; the stream is incomplete");
    }
    if lost > 0 {
        eprintln!("rpctap: warning: {lost} bytes of {} were forwarded but not recorded (see the gap lines); the stream is incomplete", want.as_str());
    }
    if redacted > 0 {
        eprintln!("rpctap: warning: {redacted} message(s) or noise were redacted when recorded; their bytes differ from the wire");
    }
    if let Some(what) = rebuilt {
        eprintln!("rpctap: note: '{}' ({what}) holds messages, not bytes: this stream is rebuilt from them, not what was on the wire", path.display());
    }
    Ok(())
}

/// Where the recording says `dir` stopped reaching its peer. Only recordings that have an
/// `undelivered` line are read twice; the first look is a byte search.
fn undelivered_from(path: &Path, dir: Dir) -> anyhow::Result<Option<u64>> {
    if !file_mentions(path, b"\"undelivered\"")? {
        return Ok(None);
    }
    for event in events(path)? {
        if let Event::Undelivered(u) = event? {
            if u.dir == dir {
                return Ok(Some(u.from));
            }
        }
    }
    Ok(None)
}

/// Does the file hold `needle` anywhere? Read in pieces, never whole.
fn file_mentions(path: &Path, needle: &[u8]) -> anyhow::Result<bool> {
    use std::io::Read;
    let io = |e| anyhow!(describe(path, &crate::record::ReadError::Io(e)));
    let mut f = crate::record::open_regular(path).map_err(io)?;
    let finder = memchr::memmem::Finder::new(needle);
    let mut buf = vec![0u8; 1 << 20];
    let mut kept = 0;
    loop {
        let n = f.read(&mut buf[kept..]).map_err(io)?;
        if n == 0 {
            return Ok(false);
        }
        let end = kept + n;
        if finder.find(&buf[..end]).is_some() {
            return Ok(true);
        }
        // Keep the tail in case the needle straddles two reads.
        kept = needle.len().min(end) - 1;
        buf.copy_within(end - kept..end, 0);
    }
}

/// The rows `filter` accepts, or all of them.
fn selected(store: &Store, filter: Option<&Filter>) -> Vec<usize> {
    match filter {
        Some(f) => f.select(store),
        None => (0..store.len()).collect(),
    }
}

/// Re-encodes each line. With a filter, the file is first loaded to decide which rows pass
/// (a request's status depends on later lines), then streamed again keeping those rows and
/// every line that is not a row (session header, exit, gaps).
fn jsonl(path: &Path, filter: Option<&Filter>, out: &mut impl Write) -> anyhow::Result<()> {
    let keep = match filter {
        Some(f) => {
            let store = super::load_checked(path, Some(f))?;
            let mut keep = vec![false; store.len()];
            for i in f.select(&store) {
                keep[i] = true;
            }
            Some(keep)
        }
        None => None,
    };
    let mut buf = Vec::new();
    let mut row = 0;
    for event in events(path)? {
        let event = event?;
        // The store makes exactly one row of each message, noise and stderr line.
        if matches!(
            event,
            Event::Message(_) | Event::Noise(_) | Event::Stderr(_)
        ) {
            row += 1;
            if keep
                .as_ref()
                .is_some_and(|k| !k.get(row - 1).copied().unwrap_or(false))
            {
                continue;
            }
        }
        buf.clear();
        encode_event(&mut buf, &event);
        out.write_all(&buf)?;
    }
    Ok(())
}

fn json(
    store: &Store,
    filter: Option<&Filter>,
    first: &mut bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for i in selected(store, filter) {
        let row = store.row(i);
        let body = store.body(i);
        let text = String::from_utf8_lossy(body);
        let msg: serde_json::Value =
            serde_json::from_slice(body).unwrap_or(serde_json::Value::String(text.into_owned()));
        let v = serde_json::json!({
            "seq": row.seq, "t": row.t.to_rfc3339(),
            "dir": if row.kind == Kind::Stderr { "stderr" } else { row.dir.as_str() },
            "kind": row.kind.as_str(), "method": store.method(i),
            "id": store.id(i).map(|id| id.to_string()),
            "status": store.status(i).as_str(), "latency_us": store.latency(i), "msg": msg,
        });
        if !std::mem::take(first) {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, &v)?;
    }
    Ok(())
}
