//! The official JSON Schemas of MCP (one per revision) and DAP, shipped under
//! `assets/schemas/` and compiled on first use with the `jsonschema` crate; and which
//! definition a message is checked against.
//!
//! MCP: a request or notification as a whole against the definition whose `method` is a
//! constant equal to its method; a result against the request's `…Result` definition.
//! DAP: a request, response or event against `<Command>Request`, `<Command>Response`,
//! `<Event>Event`. Methods and commands a schema does not name are extensions: skipped.

use super::json::Json;
use super::jsonrpc::Shape;
use super::{rules, Msg, Out, Rule};
use jsonschema::{Draft, Validator, ValidatorMap};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A compiled schema document and its method tables.
pub(crate) struct Schema {
    map: ValidatorMap,
    /// `#/definitions/` or `#/$defs/`.
    prefix: &'static str,
    /// method (or DAP command / event) → definition name.
    requests: HashMap<String, String>,
    notifications: HashMap<String, String>,
    has: std::collections::HashSet<String>,
}

/// A schema's method tables while it loads.
#[derive(Default)]
struct Tables {
    requests: HashMap<String, String>,
    notifications: HashMap<String, String>,
}

/// The MCP revisions shipped, oldest first.
pub const MCP_REVISIONS: &[&str] = &[
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

fn mcp_text(rev: &str) -> Option<&'static str> {
    Some(match rev {
        "2024-11-05" => include_str!("../../assets/schemas/mcp/2024-11-05/schema.json"),
        "2025-03-26" => include_str!("../../assets/schemas/mcp/2025-03-26/schema.json"),
        "2025-06-18" => include_str!("../../assets/schemas/mcp/2025-06-18/schema.json"),
        "2025-11-25" => include_str!("../../assets/schemas/mcp/2025-11-25/schema.json"),
        "2026-07-28" => include_str!("../../assets/schemas/mcp/2026-07-28/schema.json"),
        _ => return None,
    })
}

static MCP: [OnceLock<Schema>; 5] = [const { OnceLock::new() }; 5];
static DAP: OnceLock<Schema> = OnceLock::new();

pub(crate) fn mcp(rev: &str) -> Option<&'static Schema> {
    let i = MCP_REVISIONS.iter().position(|r| *r == rev)?;
    let text = mcp_text(rev)?;
    Some(MCP[i].get_or_init(|| Schema::mcp(text)))
}

pub(crate) fn dap() -> &'static Schema {
    DAP.get_or_init(|| {
        Schema::dap(include_str!(
            "../../assets/schemas/dap/debugAdapterProtocol.json"
        ))
    })
}

impl Schema {
    fn compile(doc: &Value) -> (ValidatorMap, &'static str) {
        let draft = match doc["$schema"].as_str().unwrap_or_default() {
            s if s.contains("draft-04") => Draft::Draft4,
            s if s.contains("draft-07") => Draft::Draft7,
            _ => Draft::Draft202012,
        };
        let prefix = if doc.get("$defs").is_some() {
            "#/$defs/"
        } else {
            "#/definitions/"
        };
        let map = jsonschema::options()
            .with_draft(draft)
            .build_map(doc)
            .expect("the shipped schema compiles");
        (map, prefix)
    }

    fn defs(doc: &Value) -> &serde_json::Map<String, Value> {
        static EMPTY: OnceLock<serde_json::Map<String, Value>> = OnceLock::new();
        doc.get("$defs")
            .or_else(|| doc.get("definitions"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Default::default))
    }

    /// Compiles a schema document; `tables` puts each definition (name, body) in the
    /// method tables it belongs to.
    fn load(text: &str, tables: impl Fn(&str, &Value, &mut Tables)) -> Schema {
        let doc: Value = serde_json::from_str(text).expect("the shipped schema is JSON");
        let (map, prefix) = Schema::compile(&doc);
        let mut t = Tables::default();
        for (name, def) in Schema::defs(&doc) {
            tables(name, def, &mut t);
        }
        Schema {
            map,
            prefix,
            requests: t.requests,
            notifications: t.notifications,
            has: Schema::defs(&doc).keys().cloned().collect(),
        }
    }

    /// MCP: a definition whose `method` is a constant names a request or notification.
    fn mcp(text: &str) -> Schema {
        Schema::load(text, |name, def, t| {
            let Some(method) = def["properties"]["method"]["const"].as_str() else {
                return;
            };
            if name.ends_with("Request") {
                t.requests.insert(method.to_owned(), name.to_owned());
            } else if name.ends_with("Notification") {
                t.notifications.insert(method.to_owned(), name.to_owned());
            }
        })
    }

    /// DAP: a definition whose `allOf` part fixes `command` (requests) or `event`.
    fn dap(text: &str) -> Schema {
        Schema::load(text, |name, def, t| {
            for part in def["allOf"].as_array().into_iter().flatten() {
                let props = &part["properties"];
                if let Some(cmd) = props["command"]["enum"][0].as_str() {
                    if name.ends_with("Request") {
                        t.requests.insert(cmd.to_owned(), name.to_owned());
                    }
                }
                if let Some(ev) = props["event"]["enum"][0].as_str() {
                    t.notifications.insert(ev.to_owned(), name.to_owned());
                }
            }
        })
    }

    fn validator(&self, def: &str) -> Option<&Validator> {
        self.map.get(&format!("{}{def}", self.prefix))
    }

    /// `None` when `value` conforms to `def` (or `def` is unknown); else the first error.
    fn check(&self, def: &str, value: &Value) -> Option<String> {
        let v = self.validator(def)?;
        if v.is_valid(value) {
            return None;
        }
        let e = v.validate(value).err()?;
        let path = e.instance_path().to_string();
        let text = super::report::clip(&e.to_string(), 160);
        Some(if path.is_empty() {
            format!("{text} (against {def})")
        } else {
            format!("at {path}: {text} (against {def})")
        })
    }

    /// The first of `defs` that exists and accepts the value, or the first one's error.
    fn check_any(&self, defs: &[String], value: &Value) -> Option<String> {
        let mut first = None;
        for d in defs.iter().filter(|d| self.has.contains(*d)) {
            match self.check(d, value) {
                None => return None,
                Some(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first
    }
}

fn report(out: &mut Out, rule: &'static Rule, what: &str, err: Option<String>) {
    if let Some(e) = err {
        out.push(rule, format!("{what}: {e}"));
    }
}

/// Checks an MCP message against the schema of revision `rev` (if shipped).
pub(crate) fn check_mcp(rev: &str, msg: &Msg, shape: &Shape, out: &mut Out) {
    let Some(schema) = mcp(rev) else {
        return;
    };
    let whole = || msg.value.to_value();
    match shape {
        Shape::Request { method, .. } => {
            if let Some(def) = schema.requests.get(*method) {
                report(out, &rules::SCHEMA_MCP, method, schema.check(def, &whole()));
            }
        }
        Shape::Notification { method, .. } => {
            if let Some(def) = schema.notifications.get(*method) {
                report(out, &rules::SCHEMA_MCP, method, schema.check(def, &whole()));
            }
        }
        Shape::Response {
            method: Some(method),
            result: Some(result),
            ..
        } => {
            let Some(def) = schema.requests.get(method.as_str()) else {
                return;
            };
            let base = def.trim_end_matches("Request");
            // A task-augmented call answers with CreateTaskResult (2025-11-25); a call
            // that needs input with InputRequiredResult (2026-07-28).
            let defs = [
                format!("{base}Result"),
                "EmptyResult".to_owned(),
                "CreateTaskResult".to_owned(),
                "InputRequiredResult".to_owned(),
            ];
            let defs = if schema.has.contains(&defs[0]) {
                [&defs[0..1], &defs[2..]].concat()
            } else {
                defs[1..].to_vec()
            };
            report(
                out,
                &rules::SCHEMA_MCP,
                &format!("{method} result"),
                schema.check_any(&defs, &result.to_value()),
            );
        }
        _ => {}
    }
}

/// Checks a DAP message as a whole. `command` is the request's for a response.
pub(crate) fn check_dap(value: Json, ty: &str, name: &str, success: bool, out: &mut Out) {
    let schema = dap();
    let def = match ty {
        "request" => schema.requests.get(name).cloned(),
        "event" => schema.notifications.get(name).cloned(),
        "response" if !success => Some("ErrorResponse".to_owned()),
        "response" => schema
            .requests
            .get(name)
            .map(|d| format!("{}Response", d.trim_end_matches("Request"))),
        _ => None,
    };
    let Some(def) = def else {
        return;
    };
    report(
        out,
        &rules::SCHEMA_DAP,
        &format!("{name} {ty}"),
        schema.check(&def, &value.to_value()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_schema_compiles_and_names_its_methods() {
        for rev in MCP_REVISIONS {
            let s = mcp(rev).unwrap();
            assert!(s.requests.contains_key("tools/call"), "{rev}");
            assert!(
                s.notifications.contains_key("notifications/cancelled"),
                "{rev}"
            );
        }
        let d = dap();
        assert_eq!(
            d.requests.get("initialize").map(String::as_str),
            Some("InitializeRequest")
        );
        assert_eq!(
            d.notifications.get("stopped").map(String::as_str),
            Some("StoppedEvent")
        );
    }
}
