//! `w`: writes the rows of the current view as an rpctap recording, which `rpctap open`
//! and `rpctap cat` read back. A merged view is written as one session, renumbered.

use super::app::App;
use crate::record::{encode_event, Event, MessageEvent, NoiseEvent, SessionInfo, StderrEvent};
use crate::rpc::Kind;
use crate::session::Flags;
use bytes::Bytes;
use std::io::Write;
use std::path::Path;

/// Writes the view to a new file at `path` (see `crate::files`: never over an existing
/// file or through a link); returns the number of rows written and where they went.
pub fn write_view(app: &App, path: &Path) -> anyhow::Result<(usize, crate::files::Created)> {
    let vars = crate::files::Vars {
        name: app
            .timeline
            .sessions
            .first()
            .map_or("view", |s| s.label.as_str()),
        pid: std::process::id(),
        time: crate::record::Micros::now(),
    };
    let created = crate::files::create(path, &vars)?;
    let mut out = std::io::BufWriter::new(&created.file);
    let tl = &app.timeline;
    let merged = tl.is_merged();
    let mut info = tl
        .sessions
        .iter()
        .find_map(|s| s.store.info.clone())
        .unwrap_or_else(|| SessionInfo {
            id: String::new(),
            name: "rpctap".into(),
            command: Vec::new(),
            cwd: String::new(),
            pid: 0,
            started: tl.start().to_rfc3339(),
            protocol: None,
        });
    if merged {
        let names: Vec<&str> = tl.sessions.iter().map(|s| s.label.as_str()).collect();
        info.name = names.join("+");
        info.started = tl.start().to_rfc3339();
    }
    let mut buf = Vec::with_capacity(1 << 16);
    encode_event(&mut buf, &Event::Session(info));
    for (n, &pos) in app.view.rows.iter().enumerate() {
        let r = tl.at(pos as usize);
        let store = tl.store(r);
        let i = r.row as usize;
        let row = store.row(i);
        let seq = if merged { n as u64 + 1 } else { row.seq };
        let body = Bytes::copy_from_slice(store.body(i));
        let ev = match row.kind {
            Kind::Noise => Event::Noise(NoiseEvent {
                seq,
                t: row.t,
                dir: row.dir,
                text: body,
            }),
            Kind::Stderr => Event::Stderr(StderrEvent {
                seq,
                t: row.t,
                text: body,
            }),
            kind => Event::Message(MessageEvent {
                seq,
                t: row.t,
                dir: row.dir,
                framing: row.framing.unwrap_or(crate::wire::Framing::Lsp),
                body,
                headers: store.headers(i).map(Bytes::copy_from_slice),
                redacted: row.flags.has(Flags::REDACTED),
                oversized: (kind == Kind::Oversized).then_some(None),
                mark: Default::default(),
            }),
        };
        encode_event(&mut buf, &ev);
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    if let [only] = tl.sessions.as_slice() {
        if let Some(exit) = only.store.exit {
            encode_event(&mut buf, &Event::Exit(exit));
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    drop(out);
    Ok((app.view.len(), created))
}
