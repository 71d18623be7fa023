//! JSON-RPC 2.0 rules: the shape of requests, notifications and responses, ids, the
//! error object, pairing of responses with requests, and the framing of bodies.

use super::json::Json;
use super::{rules, Msg, Out};
use crate::record::Dir;
use crate::wire::Framing;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// How many answered (and sent) ids per direction are remembered to recognise a second
/// answer; an older one answered again reads as an unknown response. Bounded memory on
/// long sessions: 16k keys are about 0.5 MB per table (a live checker keeps up to four).
const ANSWERED_WINDOW: usize = 1 << 14;
/// Requests waiting for an answer tracked per direction; beyond, new ones are not paired.
const MAX_WAITING: usize = 1 << 16;

/// What a message is, with the parts the lifecycle and schema rules look at.
pub(crate) enum Shape<'a> {
    Request {
        method: &'a str,
        params: Option<Json<'a>>,
    },
    Notification {
        method: &'a str,
        params: Option<Json<'a>>,
    },
    Response {
        /// The method of the request it answers, when that request was seen.
        method: Option<String>,
        result: Option<Json<'a>>,
        id: Json<'a>,
    },
    /// Too broken for any further rule.
    Broken,
}

/// A request waiting for its answer.
#[derive(Debug, Clone)]
struct Waiting {
    method: String,
}

/// An id as the pairing tables keep it: a 64-bit hash, keyed per session (so that a peer
/// cannot aim at collisions). Why not the id's text: the windows hold up to 64k ids per
/// direction, and a `String` twice per id (list and set) made a live checker's memory
/// 20 MB on a long pipelined session; a `u64` is 8 bytes, allocates nothing, and a
/// collision (odds about n²/2⁶⁵) could at worst misreport one pairing.
type Key = u64;

/// Tables whose keys are already hashes.
type Keyed<V> = HashMap<Key, V, BuildHasherDefault<Identity>>;

/// The hasher of `Keyed` tables: a key is its own hash.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in rather than lose it.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Requests and their answers, per direction of the request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pairing {
    waiting: [Keyed<Waiting>; 2],
    answered: [Recent; 2],
    /// Every id a side used for a request (bounded like `answered`), for cancellations.
    sent: [Recent; 2],
    hasher: RandomState,
}

/// A bounded set remembering the most recent keys.
#[derive(Debug, Clone, Default)]
struct Recent {
    order: VecDeque<Key>,
    set: HashSet<Key, BuildHasherDefault<Identity>>,
}

impl Recent {
    fn insert(&mut self, key: Key) {
        if self.set.insert(key) {
            self.order.push_back(key);
            if self.order.len() > ANSWERED_WINDOW {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// An id as a map key: `1` and `"1"` differ.
pub(crate) fn key(id: Json) -> String {
    id.to_string()
}

impl Pairing {
    /// Did `dir` ever send a request with this id (as far as the window reaches)?
    pub fn sent(&self, dir: Dir, id: Json) -> bool {
        // A request still waiting is known however long ago it was sent.
        let k = self.hash(id);
        self.waiting[dir as usize].contains_key(&k) || self.sent[dir as usize].set.contains(&k)
    }

    /// The table key of an id: `1` and `"1"` differ, as `1` and `1.0` do.
    fn hash(&self, id: Json) -> Key {
        let mut h = self.hasher.build_hasher();
        if let Some(s) = id.as_str() {
            h.write_u8(1);
            h.write(s.as_bytes());
        } else if let Some(n) = id.as_u64() {
            h.write_u8(2);
            h.write_u64(n);
        } else {
            h.write_u8(3);
            h.write(id.to_string().as_bytes());
        }
        h.finish()
    }

    /// Checks the JSON-RPC shape of one message object and pairs it.
    pub fn shape<'a>(&mut self, msg: &Msg<'a>, out: &mut Out) -> Shape<'a> {
        let obj = msg.value;
        match obj.get("jsonrpc") {
            None => out.push(&rules::VERSION, "no \"jsonrpc\" member"),
            Some(v) if v.as_str() == Some("2.0") => {}
            Some(v) => out.push(&rules::VERSION, format!("\"jsonrpc\" is {v}, not \"2.0\"")),
        }
        let params = obj.get("params");
        if let Some(p) = params {
            if !p.is_object() && !p.is_array() {
                out.push(&rules::SHAPE, "`params` is neither an object nor an array");
            }
        }
        match obj.get("method").map(|m| m.as_str()) {
            Some(Some(method)) => self.call(msg, method, params, out),
            Some(None) => {
                out.push(&rules::SHAPE, "`method` is not a string");
                Shape::Broken
            }
            None => self.response(msg, out),
        }
    }

    fn call<'a>(
        &mut self,
        msg: &Msg<'a>,
        method: &'a str,
        params: Option<Json<'a>>,
        out: &mut Out,
    ) -> Shape<'a> {
        if msg.value.contains_key("result") || msg.value.contains_key("error") {
            out.push(
                &rules::SHAPE,
                "a message with `method` carries no `result` or `error`",
            );
        }
        let Some(id) = msg.value.get("id") else {
            return Shape::Notification { method, params };
        };
        if !id_type(id, out) {
            return Shape::Broken;
        }
        if id.is_null() {
            out.push(&rules::ID_STYLE, "a request with a null id");
        }
        let d = msg.dir as usize;
        let k = self.hash(id);
        if self.waiting[d].contains_key(&k) {
            out.push(
                &rules::DUPLICATE_ID,
                format!(
                    "id {id} is already used by a request of this side still waiting for its answer"
                ),
            );
        } else if self.waiting[d].len() < MAX_WAITING {
            self.waiting[d].insert(
                k,
                Waiting {
                    method: method.to_owned(),
                },
            );
        }
        self.sent[d].insert(k);
        Shape::Request { method, params }
    }

    fn response<'a>(&mut self, msg: &Msg<'a>, out: &mut Out) -> Shape<'a> {
        let obj = msg.value;
        let (result, error) = (obj.get("result"), obj.get("error"));
        let Some(id) = obj.get("id") else {
            let what = if result.is_some() || error.is_some() {
                "a response without an id (null when the request's id could not be read)"
            } else {
                "neither a request, a notification nor a response"
            };
            out.push(&rules::SHAPE, what);
            return Shape::Broken;
        };
        match (result, error) {
            (Some(_), Some(_)) => out.push(
                &rules::RESULT_XOR_ERROR,
                "a response with both `result` and `error`",
            ),
            (None, None) => out.push(
                &rules::RESULT_XOR_ERROR,
                "a response with neither `result` nor `error`",
            ),
            _ => {}
        }
        if let Some(e) = error {
            error_object(e, out);
        }
        if !id_type(id, out) {
            return Shape::Broken;
        }
        // A null id answers a request whose id could not be read: nothing to pair.
        let method = if id.is_null() {
            None
        } else {
            self.pair(msg.dir, id, out)
        };
        Shape::Response { method, result, id }
    }

    /// Pairs a response travelling `dir` with a request that travelled the other way.
    fn pair(&mut self, dir: Dir, id: Json, out: &mut Out) -> Option<String> {
        let r = dir.other() as usize;
        let k = self.hash(id);
        match self.waiting[r].remove(&k) {
            Some(w) => {
                self.answered[r].insert(k);
                Some(w.method)
            }
            None if self.answered[r].set.contains(&k) => {
                out.push(
                    &rules::DUPLICATE_RESPONSE,
                    format!("request {id} was already answered"),
                );
                None
            }
            None => {
                out.push(
                    &rules::UNKNOWN_RESPONSE,
                    format!("no request with id {id} was sent by the other side"),
                );
                None
            }
        }
    }
}

/// Checks an id's type; false when it is unusable.
fn id_type(id: Json, out: &mut Out) -> bool {
    match id {
        _ if id.is_string() || id.is_null() => true,
        n if n.is_number() => {
            if !n.is_integer() {
                out.push(&rules::ID_STYLE, format!("id {n} has a fractional part"));
            }
            true
        }
        other => {
            out.push(
                &rules::ID_TYPE,
                format!(
                    "id {} is not a string, a number or null",
                    super::report::clip(&other.to_string(), 40)
                ),
            );
            false
        }
    }
}

fn error_object(e: Json, out: &mut Out) {
    if !e.is_object() {
        return out.push(&rules::ERROR_OBJECT, "`error` is not an object");
    }
    match e.get("code") {
        Some(n) if n.as_i64().is_some() => {}
        Some(v) => out.push(
            &rules::ERROR_OBJECT,
            format!("`error.code` {v} is not an integer"),
        ),
        None => out.push(&rules::ERROR_OBJECT, "`error` has no `code`"),
    }
    match e.get("message") {
        Some(m) if m.is_string() => {}
        Some(_) => out.push(&rules::ERROR_OBJECT, "`error.message` is not a string"),
        None => out.push(&rules::ERROR_OBJECT, "`error` has no `message`"),
    }
}

/// A body that is not JSON: a framing mistake when the body holds one complete message
/// plus more (or is one cut short), plain invalid JSON otherwise.
pub(crate) fn unparsable(framing: Framing, body: &[u8], e: &serde_json::Error, out: &mut Out) {
    let mut values =
        serde_json::Deserializer::from_slice(body).into_iter::<serde::de::IgnoredAny>();
    let first_ok = matches!(values.next(), Some(Ok(_)));
    let end = values.byte_offset();
    match framing {
        Framing::Lsp if first_ok => out.push(
            &rules::CONTENT_LENGTH,
            format!(
                "Content-Length says {} bytes but the JSON message ends after {end}",
                body.len()
            ),
        ),
        Framing::Lsp if e.is_eof() => out.push(
            &rules::CONTENT_LENGTH,
            format!(
                "Content-Length says {} bytes, which cut the JSON message short",
                body.len()
            ),
        ),
        Framing::Ndjson if first_ok => {
            out.push(&rules::NDJSON, "more than one JSON value on one line");
        }
        Framing::Ndjson if e.is_eof() => {
            out.push(&rules::NDJSON, "a JSON message broken over several lines");
        }
        _ => out.push(
            &rules::INVALID_JSON,
            format!("not valid JSON: {}", crate::record::import::json_reason(e)),
        ),
    }
}

/// Header rules: the Content-Type charset.
pub(crate) fn headers(raw: &[u8], out: &mut Out) {
    let text = String::from_utf8_lossy(raw);
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("content-type") {
            continue;
        }
        let charset = value.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
        });
        // The spec accepts "utf8" for backwards compatibility.
        if let Some(cs) = charset.filter(|c| c != "utf-8" && c != "utf8") {
            out.push(
                &rules::CHARSET,
                format!("Content-Type charset is {cs:?}; only utf-8 is defined"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Checker;
    use super::ANSWERED_WINDOW;
    use crate::record::Dir;
    use crate::wire::Framing;

    /// Feeds one message; the ids of the rules it breaks.
    fn feed(c: &mut Checker, seq: &mut u64, dir: Dir, body: &str) -> Vec<&'static str> {
        *seq += 1;
        let found = c.message_parts(*seq, dir, Framing::Lsp, body.as_bytes(), None);
        found.iter().map(|v| v.rule.id).collect()
    }

    #[test]
    fn a_request_still_waiting_stays_known_after_the_window_has_moved_on() {
        let (mut c, mut seq) = (Checker::new(), 0);
        let handshake = [
            (
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}"#,
            ),
            (
                Dir::S2c,
                r#"{"jsonrpc":"2.0","id":0,"result":{"capabilities":{}}}"#,
            ),
            (
                Dir::C2s,
                r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
            ),
            (
                Dir::C2s,
                r#"{"jsonrpc":"2.0","id":"old","method":"custom/slow"}"#,
            ),
        ];
        for (dir, body) in handshake {
            assert_eq!(
                feed(&mut c, &mut seq, dir, body),
                Vec::<&str>::new(),
                "{body}"
            );
        }
        for id in 1..=ANSWERED_WINDOW + 10 {
            let ask = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"custom/x"}}"#);
            let answer = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":null}}"#);
            assert!(feed(&mut c, &mut seq, Dir::C2s, &ask).is_empty());
            assert!(feed(&mut c, &mut seq, Dir::S2c, &answer).is_empty());
        }
        let cancel = r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"old"}}"#;
        assert!(feed(&mut c, &mut seq, Dir::C2s, cancel).is_empty());
        // The first answered id has left the window: a second answer to it is unknown;
        // a recent one is a duplicate.
        let again = |id: usize| format!(r#"{{"jsonrpc":"2.0","id":{id},"result":null}}"#);
        let recent = ANSWERED_WINDOW;
        assert_eq!(
            feed(&mut c, &mut seq, Dir::S2c, &again(recent)),
            ["jsonrpc/duplicate-response"]
        );
        assert_eq!(
            feed(&mut c, &mut seq, Dir::S2c, &again(1)),
            ["jsonrpc/unknown-response"]
        );
    }
}
