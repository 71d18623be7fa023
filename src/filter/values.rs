//! The values of fields and comparisons: `kind:request,notification`, `id:"x"`,
//! `latency>1.5s`, `size>10kb`, and bare literals on the right of `==`.
//!
//! Not responsible for: where a value may appear (see `parser`).

use super::ast::{Pred, STATUS_CANCELLED, STATUS_ERROR, STATUS_OK, STATUS_PENDING};
use super::jq::Jq;
use super::path::Lit;
use super::text::Glob;
use super::token::{err, Field, Tok, Token};
use super::FilterError;
use crate::record::Dir;
use crate::rpc::{Id, Kind};
use std::sync::Arc;

type Result<T> = std::result::Result<T, FilterError>;

/// The predicate for `field:value`; `slots` numbers method predicates.
pub fn field(f: Field, value: &Token, slots: &mut usize) -> Result<Pred> {
    if let Tok::Jq(src) = &value.tok {
        let jq = Jq::compile(src).map_err(|(at, msg)| err(value.col + at, msg))?;
        return Ok(Pred::Jq(Arc::new(jq)));
    }
    let items = items(value)?;
    let mut mask = 0u16;
    let one = |bit: Option<u16>, what: &str, col: usize, expected: &str| {
        bit.ok_or_else(|| {
            err(
                col,
                format!("unknown {} '{what}' (expected {expected})", f.as_str()),
            )
        })
    };
    match f {
        Field::Method => {
            let slot = *slots;
            *slots += 1;
            let globs = items.iter().map(|(s, _)| Glob::new(s)).collect();
            Ok(Pred::Method { globs, slot })
        }
        Field::Id => {
            let quoted = matches!(value.tok, Tok::Str(_));
            let ids = items
                .into_iter()
                .map(|(s, _)| match s.parse::<i64>() {
                    Ok(n) if !quoted => Id::Num(n),
                    _ => Id::Str(s),
                })
                .collect();
            Ok(Pred::Id(ids))
        }
        Field::Dir => {
            for (s, col) in &items {
                let d = Dir::parse(s).map(|d| 1u16 << d as u8);
                mask |= one(d, s, *col, "c2s or s2c")?;
            }
            Ok(Pred::Dir(u8::try_from(mask).unwrap_or(u8::MAX)))
        }
        Field::Kind => {
            for (s, col) in &items {
                mask |= one(kind_bits(s), s, *col, KIND_NAMES)?;
            }
            Ok(Pred::Kind(mask))
        }
        Field::Status => {
            for (s, col) in &items {
                let bit = match s.as_str() {
                    "ok" => Some(STATUS_OK),
                    "error" => Some(STATUS_ERROR),
                    "pending" => Some(STATUS_PENDING),
                    "cancelled" | "canceled" => Some(STATUS_CANCELLED),
                    _ => None,
                };
                mask |= one(
                    bit.map(u16::from),
                    s,
                    *col,
                    "ok, error, pending or cancelled",
                )?;
            }
            Ok(Pred::Status(u8::try_from(mask).unwrap_or(u8::MAX)))
        }
        Field::Rule => Ok(Pred::Violation(Some(
            items.iter().map(|(s, _)| Glob::new(s)).collect(),
        ))),
        Field::Jq => Err(err(value.col, "expected a jq program")),
    }
}

const KIND_NAMES: &str =
    "request, response, result, error, notification, batch, invalid, noise, stderr or oversized";

fn kind_bits(s: &str) -> Option<u16> {
    let bit = |k: Kind| 1u16 << k as u8;
    Some(match s {
        "request" => bit(Kind::Request),
        "notification" | "event" => bit(Kind::Notification),
        // Every response, whatever it carries; `result` and `error` narrow it.
        "response" => bit(Kind::Response) | bit(Kind::Error),
        "result" => bit(Kind::Response),
        "error" => bit(Kind::Error),
        "batch" => bit(Kind::Batch),
        "invalid" => bit(Kind::Invalid),
        "noise" => bit(Kind::Noise),
        "stderr" => bit(Kind::Stderr),
        "oversized" => bit(Kind::Oversized),
        _ => return None,
    })
}

/// A field value split on commas (`kind:request,notification`), each with its column.
/// A quoted value is one item, commas included.
fn items(v: &Token) -> Result<Vec<(String, usize)>> {
    match &v.tok {
        Tok::Str(s) => Ok(vec![(s.clone(), v.col)]),
        Tok::Word(w) => {
            let mut out = Vec::new();
            let mut col = v.col;
            for part in w.split(',') {
                if part.is_empty() {
                    return Err(err(
                        col,
                        "expected a value here (an empty item in a ',' list)",
                    ));
                }
                out.push((part.to_owned(), col));
                col += part.chars().count() + 1;
            }
            Ok(out)
        }
        _ => Ok(Vec::new()),
    }
}

pub const DURATIONS: &[(&str, f64)] = &[
    ("us", 1.0),
    ("µs", 1.0),
    ("ms", 1e3),
    ("s", 1e6),
    ("min", 6e7),
];
pub const SIZES: &[(&str, f64)] = &[
    ("b", 1.0),
    ("k", 1e3),
    ("kb", 1e3),
    ("kib", 1024.0),
    ("m", 1e6),
    ("mb", 1e6),
    ("mib", 1_048_576.0),
    ("g", 1e9),
    ("gb", 1e9),
    ("gib", 1_073_741_824.0),
];

/// `1.5s` → `1_500_000` with `DURATIONS`; a number without a unit is scaled by `default`.
pub fn parse_scaled(v: &Token, units: &[(&str, f64)], default: u64) -> Option<u64> {
    let Tok::Word(w) = &v.tok else { return None };
    let split = w
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(w.len());
    let (num, unit) = w.split_at(split);
    let n: f64 = num.parse().ok()?;
    let scale = if unit.is_empty() {
        default as f64
    } else {
        let unit = unit.to_ascii_lowercase();
        units.iter().find(|(u, _)| *u == unit)?.1
    };
    let v = (n * scale).round();
    // In range and whole, checked just before: the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

/// A bare word on the right of `==`: `null`, `true`, `false`, a number, or else a string.
pub fn literal(w: &str) -> Lit {
    match w {
        "null" => Lit::Null,
        "true" => Lit::Bool(true),
        "false" => Lit::Bool(false),
        _ => match serde_json::from_str::<serde_json::Number>(w) {
            Ok(n) => Lit::Num(n),
            Err(_) => Lit::Str(w.to_owned()),
        },
    }
}
