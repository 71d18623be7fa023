//! JSON paths (`.result.serverInfo.version`, `.items[0].label`, `.items[].data`), removing
//! what a comparison should ignore, and a readable diff of two JSON values.

use serde_json::Value;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// Every element of an array.
    Each,
}

pub type JsonPath = Vec<Step>;

/// Parses `.a.b[0].c[]`; the leading dot is optional.
pub fn parse_path(text: &str) -> Result<JsonPath, String> {
    let mut steps = Vec::new();
    let mut rest = text.strip_prefix('.').unwrap_or(text);
    if rest.is_empty() {
        return Err(format!("empty JSON path {text:?}"));
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("missing ']' in {text:?}"))?;
            let inner = &r[..end];
            steps.push(match inner {
                "" | "*" => Step::Each,
                n => Step::Index(
                    n.parse()
                        .map_err(|_| format!("bad index [{n}] in {text:?}"))?,
                ),
            });
            rest = r[end + 1..].strip_prefix('.').unwrap_or(&r[end + 1..]);
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        if end == 0 {
            return Err(format!("empty key in {text:?}"));
        }
        steps.push(Step::Key(rest[..end].to_owned()));
        rest = rest[end..].strip_prefix('.').unwrap_or(&rest[end..]);
    }
    Ok(steps)
}

/// Removes whatever `path` points at (every match, for `[]`).
pub fn remove_path(v: &mut Value, path: &[Step]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match (first, v) {
        (Step::Key(k), Value::Object(map)) if rest.is_empty() => {
            map.shift_remove(k);
        }
        (Step::Key(k), Value::Object(map)) => {
            if let Some(child) = map.get_mut(k) {
                remove_path(child, rest);
            }
        }
        (Step::Index(i), Value::Array(items)) if rest.is_empty() && *i < items.len() => {
            items[*i] = Value::Null;
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(child) = items.get_mut(*i) {
                remove_path(child, rest);
            }
        }
        (Step::Each, Value::Array(items)) if rest.is_empty() => items.clear(),
        (Step::Each, Value::Array(items)) => items.iter_mut().for_each(|c| remove_path(c, rest)),
        _ => {}
    }
}

/// Lines such as `~ .result.contents.value: "a" → "b"`, `- .result.x: 1`, `+ .result.y: 2`;
/// at most `limit` lines (the last says how many more there were).
pub fn diff(old: &Value, new: &Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    walk(old, new, &mut String::new(), &mut out);
    if out.len() > limit {
        let more = out.len() - limit;
        out.truncate(limit);
        out.push(format!("… and {more} more difference(s)"));
    }
    out
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

fn walk(old: &Value, new: &Value, path: &mut String, out: &mut Vec<String>) {
    let at = |p: &str| {
        if p.is_empty() {
            ".".to_owned()
        } else {
            p.to_owned()
        }
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                match b.get(k) {
                    Some(vb) => walk(va, vb, path, out),
                    None => out.push(format!("- {}: {}", at(path), short(va))),
                }
                path.truncate(len);
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("+ {}.{k}: {}", path, short(vb)));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => walk(x, y, path, out),
                    (Some(x), None) => out.push(format!("- {}: {}", at(path), short(x))),
                    (None, Some(y)) => out.push(format!("+ {}: {}", at(path), short(y))),
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        (a, b) if a != b => out.push(format!("~ {}: {} → {}", at(path), short(a), short(b))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_parse_and_remove() {
        let p = parse_path(".result.items[].data").unwrap();
        assert_eq!(
            p,
            vec![
                Step::Key("result".into()),
                Step::Key("items".into()),
                Step::Each,
                Step::Key("data".into())
            ]
        );
        let mut v = json!({"result":{"items":[{"data":1,"l":"a"},{"data":2,"l":"b"}]}});
        remove_path(&mut v, &p);
        assert_eq!(v, json!({"result":{"items":[{"l":"a"},{"l":"b"}]}}));
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("").is_err());
        assert_eq!(
            parse_path("a[2]").unwrap(),
            vec![Step::Key("a".into()), Step::Index(2)]
        );
    }

    #[test]
    fn diffs_are_readable() {
        let d = diff(
            &json!({"a":1,"b":[1,2],"c":"x"}),
            &json!({"a":2,"b":[1],"d":true,"c":"x"}),
            10,
        );
        assert_eq!(d, vec!["~ .a: 1 → 2", "- .b[1]: 2", "+ .d: true"]);
        assert!(diff(&json!({"a":1}), &json!({"a":1}), 10).is_empty());
    }
}
