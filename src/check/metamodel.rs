//! The LSP metaModel, interpreted: its small type language (base types, references to
//! structures, enumerations and aliases, `or`/`and`, arrays, maps, tuples, literals) is
//! compiled once into a table of types, and params and results are matched against it.
//!
//! Structures are open (LSP lets peers add properties), so only the properties the model
//! names are checked. A message is checked against 3.17 first; one that only 3.18 accepts
//! conforms too (LSP has no version negotiation: a peer may use 3.18 additions at will).

use super::json::Json;
use super::jsonrpc::Shape;
use super::{rules, Out};
use crate::record::Dir;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A compiled type.
#[derive(Debug)]
enum Ty {
    /// `LSPAny`, or a type the interpreter does not model: accepts everything.
    Any,
    Null,
    Bool,
    Str,
    Int,
    UInt,
    Decimal,
    Named(usize),
    Array(Box<Ty>),
    Map(Box<Ty>),
    And(Vec<Ty>),
    Or(Vec<Ty>),
    Tuple(Vec<Ty>),
    Literal(Vec<Prop>),
    StrLit(String),
    IntLit(i64),
    BoolLit(bool),
}

#[derive(Debug)]
struct Prop {
    name: String,
    ty: Ty,
    optional: bool,
}

#[derive(Debug)]
enum Named {
    Struct {
        props: Vec<Prop>,
        parents: Vec<Ty>,
    },
    Enum {
        values: Vec<Value>,
        open: bool,
        base: Ty,
    },
    Alias(Ty),
}

/// One version of the model.
pub(crate) struct Model {
    names: Vec<(String, Named)>,
    /// method → (params, result)
    requests: HashMap<String, (Option<Ty>, Option<Ty>)>,
    notifications: HashMap<String, Option<Ty>>,
}

static V317: OnceLock<Model> = OnceLock::new();
static V318: OnceLock<Model> = OnceLock::new();

fn v317() -> &'static Model {
    V317.get_or_init(|| Model::load(include_str!("../../assets/schemas/lsp/3.17/metaModel.json")))
}

fn v318() -> &'static Model {
    V318.get_or_init(|| Model::load(include_str!("../../assets/schemas/lsp/3.18/metaModel.json")))
}

/// Why a value does not conform.
#[derive(Debug, PartialEq)]
struct Failure {
    why: String,
    /// It would conform if `null` were allowed for optional properties.
    only_nulls: bool,
}

/// Which part of a message is checked.
#[derive(Clone, Copy)]
enum Part {
    Params,
    Result,
}

/// Checks params (requests, notifications) and results against the metaModel.
pub(crate) fn check_message(_dir: Dir, shape: &Shape, out: &mut Out) {
    let (method, part, value) = match shape {
        Shape::Request { method, params } | Shape::Notification { method, params } => {
            (*method, Part::Params, *params)
        }
        Shape::Response {
            method: Some(m),
            result: Some(r),
            ..
        } => (m.as_str(), Part::Result, Some(*r)),
        _ => return,
    };
    let notification = matches!(shape, Shape::Notification { .. });
    let Some(err) = v317().check(method, notification, part, value) else {
        return;
    };
    let err = match v318().check(method, notification, part, value) {
        None => return,
        // 3.18 may accept more than 3.17 with only nulls left: report against it.
        Some(e318) if e318.only_nulls && !err.only_nulls => e318,
        Some(_) => err,
    };
    let what = match part {
        Part::Params => "params",
        Part::Result => "result",
    };
    let rule = if err.only_nulls {
        &rules::SCHEMA_LSP_NULL
    } else {
        &rules::SCHEMA_LSP
    };
    out.push(rule, format!("{method} {what}: {}", err.why));
}

impl Model {
    fn load(text: &str) -> Model {
        let doc: Value = serde_json::from_str(text).expect("the shipped metaModel is JSON");
        let mut index = HashMap::new();
        for section in ["structures", "enumerations", "typeAliases"] {
            for item in doc[section].as_array().into_iter().flatten() {
                if let Some(name) = item["name"].as_str() {
                    let next = index.len();
                    index.entry(name.to_owned()).or_insert(next);
                }
            }
        }
        let b = Builder { index: &index };
        let mut names: Vec<Option<(String, Named)>> = (0..index.len()).map(|_| None).collect();
        for s in doc["structures"].as_array().into_iter().flatten() {
            let parents = ["extends", "mixins"]
                .iter()
                .flat_map(|k| s[k].as_array().into_iter().flatten())
                .map(|t| b.ty(t))
                .collect();
            let props = b.props(&s["properties"]);
            b.put(&mut names, s, Named::Struct { props, parents });
        }
        for e in doc["enumerations"].as_array().into_iter().flatten() {
            let values = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v["value"].clone())
                .collect();
            let open = e["supportsCustomValues"].as_bool().unwrap_or(false);
            let base = b.ty(&e["type"]);
            b.put(&mut names, e, Named::Enum { values, open, base });
        }
        for a in doc["typeAliases"].as_array().into_iter().flatten() {
            let ty = match a["name"].as_str() {
                Some("LSPAny" | "LSPObject" | "LSPArray") => Ty::Any,
                _ => b.ty(&a["type"]),
            };
            b.put(&mut names, a, Named::Alias(ty));
        }
        let names = names
            .into_iter()
            .map(|n| n.unwrap_or_else(|| (String::new(), Named::Alias(Ty::Any))))
            .collect();
        let opt = |v: &Value| (!v.is_null() && !v.is_array()).then(|| b.ty(v));
        let requests = doc["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let m = r["method"].as_str()?.to_owned();
                Some((m, (opt(&r["params"]), opt(&r["result"]))))
            })
            .collect();
        let notifications = doc["notifications"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| Some((n["method"].as_str()?.to_owned(), opt(&n["params"]))))
            .collect();
        Model {
            names,
            requests,
            notifications,
        }
    }

    /// `None` when the value conforms (or the method is not in the model); else why not.
    fn check(
        &self,
        method: &str,
        notification: bool,
        part: Part,
        value: Option<Json>,
    ) -> Option<Failure> {
        let ty = if notification {
            self.notifications.get(method)?.as_ref()
        } else {
            let (p, r) = self.requests.get(method)?;
            match part {
                Part::Params => p.as_ref(),
                Part::Result => r.as_ref(),
            }
        };
        let Some(ty) = ty else {
            // No params defined: anything goes (`void` results are `null`).
            return None;
        };
        let value = match (value, part) {
            (Some(v), _) => v,
            (None, Part::Params) => {
                return Some(Failure {
                    why: "missing (the method takes params)".into(),
                    only_nulls: false,
                })
            }
            (None, Part::Result) => Json::null(),
        };
        if self.matches(ty, value) {
            return None;
        }
        let mut path = String::new();
        let why = self.explain(ty, value, &mut path).1;
        Some(Failure {
            why,
            only_nulls: self.fits(ty, value, true),
        })
    }

    fn named(&self, i: usize) -> &Named {
        &self.names[i].1
    }

    /// The fast path: does `v` conform to `ty`? No allocation.
    fn matches(&self, ty: &Ty, v: Json) -> bool {
        self.fits(ty, v, false)
    }

    /// `lenient` accepts `null` for an optional property whatever its type.
    fn fits(&self, ty: &Ty, v: Json, lenient: bool) -> bool {
        match ty {
            Ty::Any => true,
            Ty::Null => v.is_null(),
            Ty::Bool => v.is_boolean(),
            Ty::Str => v.is_string(),
            Ty::Int => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Ty::UInt => v.as_u64().is_some_and(|n| i32::try_from(n).is_ok()),
            Ty::Decimal => v.is_number(),
            Ty::StrLit(s) => v.as_str() == Some(s),
            Ty::IntLit(n) => v.as_i64() == Some(*n),
            Ty::BoolLit(b) => v.as_bool() == Some(*b),
            Ty::Array(el) => v.is_array() && v.items().all(|x| self.fits(el, x, lenient)),
            Ty::Map(val) => v.is_object() && v.entries().all(|(_, x)| self.fits(val, x, lenient)),
            Ty::Tuple(items) => {
                v.is_array()
                    && v.len() == items.len()
                    && v.items().zip(items).all(|(x, t)| self.fits(t, x, lenient))
            }
            Ty::And(all) => all.iter().all(|t| self.fits(t, v, lenient)),
            Ty::Or(any) => any.iter().any(|t| self.fits(t, v, lenient)),
            Ty::Literal(props) => v.is_object() && self.props_fit(props, v, lenient),
            Ty::Named(i) => match self.named(*i) {
                Named::Alias(t) => self.fits(t, v, lenient),
                Named::Enum { values, open, base } => {
                    if *open {
                        self.fits(base, v, lenient)
                    } else {
                        values.iter().any(|x| v.equals(x))
                    }
                }
                Named::Struct { props, parents } => {
                    v.is_object()
                        && self.props_fit(props, v, lenient)
                        && parents.iter().all(|p| self.fits(p, v, lenient))
                }
            },
        }
    }

    fn props_match(&self, props: &[Prop], v: Json) -> bool {
        self.props_fit(props, v, false)
    }

    fn props_fit(&self, props: &[Prop], v: Json, lenient: bool) -> bool {
        props.iter().all(|p| match v.get(&p.name) {
            Some(x) if x.is_null() && lenient && p.optional => true,
            Some(x) => self.fits(&p.ty, x, lenient),
            None => p.optional,
        })
    }

    /// The slow path, taken once a value failed: says where and why, with the depth of
    /// the place (to pick the alternative of an `or` that got furthest).
    fn explain(&self, ty: &Ty, v: Json, path: &mut String) -> (usize, String) {
        let (depth, text) = self.explain_at(ty, v, path);
        (depth, text)
    }

    fn explain_at(&self, ty: &Ty, v: Json, path: &mut String) -> (usize, String) {
        let depth = path.matches(['.', '[']).count();
        let at = |path: &str| {
            if path.is_empty() {
                String::new()
            } else {
                format!("at {path}: ")
            }
        };
        let done = |s: String| (depth, s);
        match ty {
            Ty::Array(el) if v.is_array() => {
                for (i, x) in v.items().enumerate() {
                    if !self.matches(el, x) {
                        return self.nested(el, x, path, &format!("[{i}]"));
                    }
                }
            }
            Ty::Map(val) if v.is_object() => {
                for (k, x) in v.entries() {
                    if !self.matches(val, x) {
                        return self.nested(val, x, path, &format!("[{k:?}]"));
                    }
                }
            }
            Ty::And(all) => {
                if let Some(t) = all.iter().find(|t| !self.matches(t, v)) {
                    return self.explain(t, v, path);
                }
            }
            Ty::Or(any) => {
                // The alternative of the same JSON type that fails deepest explains best.
                // Prefer an alternative that only a null spoils (the warning's case).
                let lenient = any.iter().any(|t| self.fits(t, v, true));
                let best = any
                    .iter()
                    .filter(|t| {
                        if lenient {
                            self.fits(t, v, true)
                        } else {
                            self.kind_fits(t, v)
                        }
                    })
                    .map(|t| self.explain(t, v, path))
                    .max_by_key(|(d, _)| *d);
                return best.unwrap_or_else(|| {
                    done(format!(
                        "{}{} matches none of the {} alternatives",
                        at(path),
                        describe(v),
                        any.len()
                    ))
                });
            }
            Ty::Literal(props) if v.is_object() => return self.explain_props(props, v, path),
            Ty::Named(i) => {
                let (name, named) = &self.names[*i];
                match named {
                    Named::Alias(t) => return self.explain(t, v, path),
                    Named::Struct { props, parents } if v.is_object() => {
                        if !self.props_match(props, v) {
                            return self.explain_props(props, v, path);
                        }
                        if let Some(p) = parents.iter().find(|p| !self.matches(p, v)) {
                            return self.explain(p, v, path);
                        }
                    }
                    Named::Enum { .. } => {
                        return done(format!(
                            "{}{} is not a value of the enumeration {name}",
                            at(path),
                            describe(v)
                        ));
                    }
                    // A struct, given something that is not an object.
                    Named::Struct { .. } => {
                        return done(format!("{}{} is not a {name}", at(path), describe(v)))
                    }
                }
            }
            _ => {}
        }
        done(format!(
            "{}expected {}, found {}",
            at(path),
            self.type_name(ty),
            describe(v)
        ))
    }

    fn nested(&self, ty: &Ty, v: Json, path: &mut String, step: &str) -> (usize, String) {
        let len = path.len();
        path.push_str(step);
        let s = self.explain(ty, v, path);
        path.truncate(len);
        s
    }

    fn explain_props(&self, props: &[Prop], v: Json, path: &mut String) -> (usize, String) {
        for p in props {
            match v.get(&p.name) {
                Some(x) if !self.matches(&p.ty, x) => {
                    return self.nested(&p.ty, x, path, &format!(".{}", p.name));
                }
                None if !p.optional => {
                    let at = if path.is_empty() {
                        "the object".to_owned()
                    } else {
                        path.clone()
                    };
                    let depth = path.matches(['.', '[']).count() + 1;
                    return (
                        depth,
                        format!("{at} lacks the required property {:?}", p.name),
                    );
                }
                _ => {}
            }
        }
        (0, "does not conform".into())
    }

    /// Could `v` be of this type, judging by its JSON type only?
    fn kind_fits(&self, ty: &Ty, v: Json) -> bool {
        match ty {
            Ty::Any => true,
            Ty::Null => v.is_null(),
            Ty::Bool | Ty::BoolLit(_) => v.is_boolean(),
            Ty::Str | Ty::StrLit(_) => v.is_string(),
            Ty::Int | Ty::UInt | Ty::Decimal | Ty::IntLit(_) => v.is_number(),
            Ty::Array(_) | Ty::Tuple(_) => v.is_array(),
            Ty::Map(_) | Ty::Literal(_) => v.is_object(),
            Ty::And(all) => all.iter().all(|t| self.kind_fits(t, v)),
            Ty::Or(any) => any.iter().any(|t| self.kind_fits(t, v)),
            Ty::Named(i) => match self.named(*i) {
                Named::Alias(t) => self.kind_fits(t, v),
                Named::Enum { base, .. } => self.kind_fits(base, v),
                Named::Struct { .. } => v.is_object(),
            },
        }
    }

    fn type_name(&self, ty: &Ty) -> String {
        match ty {
            Ty::Any => "anything".into(),
            Ty::Null => "null".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Str => "a string".into(),
            Ty::Int => "an integer (32-bit)".into(),
            Ty::UInt => "an unsigned integer (31-bit)".into(),
            Ty::Decimal => "a number".into(),
            Ty::StrLit(s) => format!("{s:?}"),
            Ty::IntLit(n) => n.to_string(),
            Ty::BoolLit(b) => b.to_string(),
            Ty::Array(_) | Ty::Tuple(_) => "an array".into(),
            Ty::Map(_) | Ty::Literal(_) => "an object".into(),
            Ty::And(_) | Ty::Or(_) => "one of several types".into(),
            Ty::Named(i) => self.names[*i].0.clone(),
        }
    }
}

fn describe(v: Json) -> String {
    let s = v.to_string();
    super::report::clip(&s, 40)
}

struct Builder<'a> {
    index: &'a HashMap<String, usize>,
}

impl Builder<'_> {
    #[allow(clippy::similar_names)] // `names` is the table, `named` the entry put in it
    fn put(&self, names: &mut [Option<(String, Named)>], item: &Value, named: Named) {
        let name = item["name"].as_str().unwrap_or_default();
        if let Some(&i) = self.index.get(name) {
            names[i].get_or_insert((name.to_owned(), named));
        }
    }

    fn props(&self, v: &Value) -> Vec<Prop> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|p| Prop {
                name: p["name"].as_str().unwrap_or_default().to_owned(),
                ty: self.ty(&p["type"]),
                optional: p["optional"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    fn ty(&self, t: &Value) -> Ty {
        let items = |k: &str| -> Vec<Ty> {
            t[k].as_array()
                .into_iter()
                .flatten()
                .map(|x| self.ty(x))
                .collect()
        };
        match t["kind"].as_str().unwrap_or_default() {
            "base" => match t["name"].as_str().unwrap_or_default() {
                "null" => Ty::Null,
                "boolean" => Ty::Bool,
                "integer" => Ty::Int,
                "uinteger" => Ty::UInt,
                "decimal" => Ty::Decimal,
                // URI, DocumentUri, RegExp, string: URIs are not parsed (clients send
                // `untitled:` and other schemes the metaModel does not constrain).
                _ => Ty::Str,
            },
            "reference" => match t["name"].as_str().and_then(|n| self.index.get(n)) {
                Some(&i) => Ty::Named(i),
                None => Ty::Any,
            },
            "array" => Ty::Array(Box::new(self.ty(&t["element"]))),
            "map" => Ty::Map(Box::new(self.ty(&t["value"]))),
            "and" => Ty::And(items("items")),
            "or" => Ty::Or(items("items")),
            "tuple" => Ty::Tuple(items("items")),
            "literal" => Ty::Literal(self.props(&t["value"]["properties"])),
            "stringLiteral" => Ty::StrLit(t["value"].as_str().unwrap_or_default().to_owned()),
            "integerLiteral" => Ty::IntLit(t["value"].as_i64().unwrap_or_default()),
            "booleanLiteral" => Ty::BoolLit(t["value"].as_bool().unwrap_or_default()),
            _ => Ty::Any,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::json::Doc;
    use serde_json::json;

    /// Checks `v` as the checker would, parsed from its text.
    fn check(m: &Model, method: &str, part: Part, v: &Value) -> Option<Failure> {
        let text = v.to_string();
        let mut doc = Doc::default();
        let j = doc.parse(&text).unwrap();
        m.check(method, false, part, Some(j))
    }

    #[test]
    fn both_models_load_with_their_methods() {
        for m in [v317(), v318()] {
            assert!(m.requests.contains_key("textDocument/hover"));
            assert!(m.notifications.contains_key("textDocument/didOpen"));
        }
    }

    #[test]
    fn hover_params_are_checked_with_a_path() {
        let ok =
            json!({"textDocument": {"uri": "file:///a"}, "position": {"line": 1, "character": 2}});
        assert_eq!(check(v317(), "textDocument/hover", Part::Params, &ok), None);
        let bad = json!({"textDocument": {"uri": "file:///a"}, "position": {"line": "1", "character": 2}});
        let err = check(v317(), "textDocument/hover", Part::Params, &bad)
            .unwrap()
            .why;
        assert!(err.contains(".position.line"), "{err}");
        let missing = json!({"textDocument": {"uri": "file:///a"}});
        let err = check(v317(), "textDocument/hover", Part::Params, &missing)
            .unwrap()
            .why;
        assert!(err.contains("\"position\""), "{err}");
    }

    #[test]
    fn results_may_be_null_where_the_model_says() {
        assert_eq!(
            check(v317(), "textDocument/hover", Part::Result, &Value::Null),
            None
        );
        assert!(check(v317(), "textDocument/hover", Part::Result, &json!(5)).is_some());
        assert_eq!(check(v317(), "shutdown", Part::Result, &Value::Null), None);
    }
}
