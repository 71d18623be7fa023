//! lsp-devtools `record --to-sqlite` databases, in both schemas it has written:
//!
//! - lsp-devtools 0.4: `messages(metadata JSON, headers JSON, body JSON)`, where
//!   `metadata` holds `source` (client 2, server 3) and `timestamp`
//!   (`2024-05-01 10:00:00.123456+00:00`), and `body` the whole message.
//! - earlier releases: `protocol(session, timestamp REAL, source TEXT, id TEXT,
//!   method TEXT, params TEXT, result TEXT, error TEXT)`, one column per message part,
//!   a falsy result stored as NULL.
//!
//! Rows are read in insertion order (`rowid`). The database is opened read-only.

use super::lsp_devtools::{parse_time, source_dir};
use super::{id_value, Builder, Context, Parts};
use crate::record::{Event, Micros, ReadError};
use crate::wire::Framing;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use std::path::Path;

// By value: it is used as `map_err(db_error)`.
#[allow(clippy::needless_pass_by_value)]
fn db_error(e: rusqlite::Error) -> ReadError {
    ReadError::Other(format!("cannot read the SQLite database: {e}"))
}

pub(super) fn import(path: &Path, context: &Context) -> Result<Vec<Event>, ReadError> {
    let db =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(db_error)?;
    let has = |table: &str| -> Result<bool, ReadError> {
        db.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(db_error)
    };
    let mut b = Builder::new();
    b.protocol = Some("lsp");
    if has("messages")? {
        messages(&db, &mut b, context)?;
    } else if has("protocol")? {
        protocol(&db, &mut b, context)?;
    } else {
        return Err(ReadError::Other(
            "a SQLite database without lsp-devtools' \"messages\" or \"protocol\" table".into(),
        ));
    }
    Ok(b.finish(context))
}

/// Row numbers in errors count from 1, as a reader counts them.
fn row_error(row: usize, reason: impl Into<String>) -> ReadError {
    ReadError::Other(format!("row {row}: {}", reason.into()))
}

fn messages(db: &Connection, b: &mut Builder, context: &Context) -> Result<(), ReadError> {
    let mut stmt = db
        .prepare("SELECT metadata, body FROM messages ORDER BY rowid")
        .map_err(db_error)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
            ))
        })
        .map_err(db_error)?;
    let mut t = context.modified;
    for (i, row) in rows.enumerate() {
        let (meta, body) = row.map_err(db_error)?;
        let meta: Value = serde_json::from_str(meta.as_deref().unwrap_or("{}"))
            .map_err(|e| row_error(i + 1, format!("bad metadata: {e}")))?;
        let body = body.ok_or_else(|| row_error(i + 1, "no message body"))?;
        serde_json::from_str::<serde::de::IgnoredAny>(&body)
            .map_err(|e| row_error(i + 1, format!("bad message body: {e}")))?;
        let dir = meta
            .get("source")
            .and_then(source_dir)
            .ok_or_else(|| row_error(i + 1, "no client/server source"))?;
        if let Some(at) = meta.get("timestamp").and_then(parse_time) {
            t = at;
        }
        b.line = i + 1;
        b.message(t, dir, Framing::Lsp, body.into_bytes());
    }
    Ok(())
}

fn protocol(db: &Connection, b: &mut Builder, context: &Context) -> Result<(), ReadError> {
    type Row = (
        Option<f64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut stmt = db
        .prepare(
            "SELECT timestamp, source, CAST(id AS TEXT), method, params, result, error \
             FROM protocol ORDER BY rowid",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map([], |r| -> rusqlite::Result<Row> {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(db_error)?;
    for (i, row) in rows.enumerate() {
        let (ts, source, id, method, params, result, error) = row.map_err(db_error)?;
        let json = |col: &str, v: Option<String>| -> Result<Option<Value>, ReadError> {
            v.map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| row_error(i + 1, format!("bad {col}: {e}")))
        };
        let dir = source
            .map(Value::String)
            .as_ref()
            .and_then(source_dir)
            .ok_or_else(|| row_error(i + 1, "no client/server source"))?;
        let t = ts.map_or(context.modified, |s| Micros::from_units(s, 1e6));
        let mut parts = Parts {
            id: id.as_deref().map(id_value),
            params: json("params", params)?,
            ..Parts::default()
        };
        match method {
            Some(m) => parts.method = Some(m),
            None if parts.id.is_some() => {
                parts.error = json("error", error)?;
                parts.result = Some(json("result", result)?);
            }
            None => return Err(row_error(i + 1, "neither a method nor an id")),
        }
        b.line = i + 1;
        b.message(t, dir, Framing::Lsp, parts.body());
    }
    Ok(())
}
