//! `jq:<program>` predicates: compiling a jq program with the jaq crates and running it on
//! one message body. A body matches when the program yields a truthy value (anything but
//! `false` and `null`) before it yields an error or ends, which is what jq's
//! `select(program)` would keep.
//!
//! Not responsible for: finding where the program ends in the expression (see `lexer`).

use jaq_core::data::JustLut;
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{compile, Compiler, Ctx, ValT as _, Vars};
use jaq_json::Val;

type Data = JustLut<Val>;

/// A compiled jq program.
pub struct Jq {
    filter: jaq_core::Filter<Data>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jq")
    }
}

/// A compile error: the character offset in the program where it is, and what went wrong.
pub type JqError = (usize, String);

/// The character offset of `part`, a slice of `whole`.
fn offset(whole: &str, part: &str) -> usize {
    let start = load::span(whole, part).start.min(whole.len());
    whole[..start].chars().count()
}

impl Jq {
    pub fn compile(code: &str) -> Result<Jq, JqError> {
        too_deep(code)?;
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errs| load_error(code, errs))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| compile_error(code, errs))?;
        Ok(Jq { filter })
    }

    /// Runs the program on a JSON body; a body that is not JSON never matches.
    pub fn matches(&self, body: &[u8]) -> bool {
        // jaq's JSON reader recurses per level; serde_json (used everywhere else) stops at
        // 128 levels, so bodies deeper than that are not JSON as far as filters go.
        if nesting(body) > 128 {
            return false;
        }
        let Ok(input) = jaq_json::read::parse_single(body) else {
            return false;
        };
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        for out in self.filter.id.run((ctx, input)) {
            match jaq_core::unwrap_valr(out) {
                Ok(v) if v.as_bool() => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }
}

/// The deepest nesting of arrays and objects in a JSON text (strings skipped).
fn nesting(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_str => escaped = true,
            b'"' => in_str = !in_str,
            b'[' | b'{' if !in_str => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' if !in_str => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// jaq parses by recursion; very deep nesting would overflow the stack, so refuse it first.
fn too_deep(code: &str) -> Result<(), JqError> {
    const MAX: usize = 100;
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (at, c) in code.chars().enumerate() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => {
                depth += 1;
                if depth > MAX {
                    return Err((
                        at,
                        format!("jq: program nested too deeply (more than {MAX} levels)"),
                    ));
                }
            }
            ')' | ']' | '}' if !in_str => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn load_error(code: &str, errs: load::Errors<&str, ()>) -> JqError {
    let first = errs.into_iter().next().map(|(_, e)| e);
    match first {
        Some(load::Error::Lex(es)) => match es.first() {
            Some((expect, at)) => (
                offset(code, at),
                format!("jq: expected {}", lex_expect(expect)),
            ),
            None => (0, "jq: cannot read the program".into()),
        },
        Some(load::Error::Parse(es)) => match es.first() {
            Some((expect, found)) if found.is_empty() => (
                offset(code, found),
                format!("jq: expected {} at the end of the program", expect.as_str()),
            ),
            Some((expect, found)) => (
                offset(code, found),
                format!("jq: expected {}, found '{found}'", expect.as_str()),
            ),
            None => (0, "jq: cannot parse the program".into()),
        },
        Some(load::Error::Io(es)) => (
            0,
            match es.first() {
                Some((path, why)) => format!("jq: cannot load module '{path}': {why}"),
                None => "jq: cannot load a module".into(),
            },
        ),
        None => (0, "jq: cannot load the program".into()),
    }
}

fn lex_expect(e: &load::lex::Expect<&str>) -> String {
    match e {
        load::lex::Expect::Delim(open) => format!("a match for '{open}'"),
        other => other.as_str().to_owned(),
    }
}

fn compile_error(code: &str, errs: compile::Errors<&str, ()>) -> JqError {
    let first = errs
        .into_iter()
        .next()
        .and_then(|(_, e)| e.into_iter().next());
    match first {
        Some((name, undefined)) => {
            let what = match undefined {
                compile::Undefined::Var => "variable",
                compile::Undefined::Label => "label",
                compile::Undefined::Mod => "module",
                compile::Undefined::Filter(_) => "filter",
                _ => "name",
            };
            (offset(code, name), format!("jq: undefined {what} '{name}'"))
        }
        None => (0, "jq: cannot compile the program".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthy_outputs_match() {
        let jq = Jq::compile(".params.x > 3").unwrap();
        assert!(jq.matches(br#"{"params":{"x":4}}"#));
        assert!(!jq.matches(br#"{"params":{"x":2}}"#));
        assert!(!jq.matches(b"not json"));
        let any = Jq::compile(".items[] | .label == \"b\"").unwrap();
        assert!(any.matches(br#"{"items":[{"label":"a"},{"label":"b"}]}"#));
        let re = Jq::compile(r#".uri | test("main\\.rs$")"#).unwrap();
        assert!(re.matches(br#"{"uri":"file:///src/main.rs"}"#));
    }

    #[test]
    fn deep_bodies_do_not_match() {
        let jq = Jq::compile("true").unwrap();
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(!jq.matches(deep.as_bytes()));
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(jq.matches(ok.as_bytes()));
        assert_eq!(nesting(br#"{"a":"[[[{","b":[[1]]}"#), 3);
    }

    #[test]
    fn errors_stop_at_no_match() {
        let jq = Jq::compile(".a.b").unwrap();
        assert!(!jq.matches(br#"{"a":"string"}"#));
    }

    #[test]
    fn compile_errors_have_offsets() {
        let (at, msg) = Jq::compile(".a | nosuch(1)").unwrap_err();
        assert_eq!((at, msg.as_str()), (5, "jq: undefined filter 'nosuch'"));
        let (at, msg) = Jq::compile(".a ==").unwrap_err();
        assert_eq!(at, 5, "{msg}");
        assert!(msg.contains("expected term"), "{msg}");
    }

    #[test]
    fn filters_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Jq>();
    }
}
