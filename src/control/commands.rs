//! The control connections' side of `Control`: what each command does to the shared
//! state (inject, intercept, decide a held message, hang up). The pumps' side, and the
//! state itself, are in `state`.

use super::protocol::{Lanes, Peer, Reply};
use super::state::MAX_OUTSTANDING;
use super::state::{other, Conn, Control, Deferred, Held, Intercept, Job, Outstanding, State};
use crate::filter::Filter;
use crate::proxy::TapMsg;
use crate::record::{Dir, Micros, Release, ReleaseAction};
use bytes::Bytes;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

impl Control {
    /// Injects `message` toward `to`. A request gets an id rpctap owns and its reply
    /// when the response comes (or a timeout); anything else is answered once written.
    pub fn send(
        self: &Arc<Self>,
        conn: &Arc<Conn>,
        req: u64,
        to: Peer,
        message: Value,
        timeout: Duration,
    ) -> Result<(), String> {
        let Value::Object(mut msg) = message else {
            return Err("the message must be a JSON-RPC object".into());
        };
        let dir = to.dir();
        let is_request = msg.contains_key("method") && msg.get("id").is_some_and(|v| !v.is_null());
        let mut s = self.lock();
        if !is_request {
            let body = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
            s.jobs[dir as usize].push_back(Job::Inject {
                body,
                done: Some((conn.clone(), req)),
            });
            self.signal(dir);
            return Ok(());
        }
        if s.outstanding.len() >= MAX_OUTSTANDING {
            return Err(format!(
                "{MAX_OUTSTANDING} injected requests are still unanswered; not sending more"
            ));
        }
        s.next_inject += 1;
        let id = format!("{}{}", self.prefix, s.next_inject);
        let original = msg
            .insert("id".into(), Value::String(id.clone()))
            .unwrap_or(Value::Null);
        let body = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
        s.outstanding.insert(
            id.clone(),
            Outstanding {
                original,
                to: Some((conn.clone(), req)),
                lane: other(dir),
            },
        );
        // Written only once the response's lane frames: were it still the byte pump, a
        // quick response could pass to the peer in the same chunk as other bytes.
        s.deferred[other(dir) as usize].push(Deferred::Request(Job::Inject { body, done: None }));
        self.signal(other(dir));
        drop(s);
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("send-timeout".into())
            .spawn(move || {
                std::thread::sleep(timeout);
                me.expire(&id, timeout);
            });
        if spawned.is_err() {
            self.expire_now(conn, req);
        }
        Ok(())
    }

    /// The wait for injected request `id` is over: its controller is told, and a late
    /// response is still diverted (and recorded), never forwarded.
    fn expire(&self, id: &str, timeout: Duration) {
        let waiter = self
            .lock()
            .outstanding
            .get_mut(id)
            .and_then(|o| o.to.take());
        if let Some((conn, req)) = waiter {
            conn.reply(&Reply::error(
                req,
                format!("timeout after {} ms", timeout.as_millis()),
            ));
        }
    }

    fn expire_now(&self, conn: &Conn, req: u64) {
        let mut s = self.lock();
        for o in s.outstanding.values_mut() {
            if o.to
                .as_ref()
                .is_some_and(|(c, r)| c.id == conn.id && *r == req)
            {
                o.to = None;
            }
        }
        conn.reply(&Reply::error(
            req,
            "cannot wait for the response (no thread)",
        ));
    }

    /// Sets (or, with an empty filter, clears) `conn`'s intercept. `Ok(true)`: the reply
    /// is sent once the lanes it covers frame, so that nothing sent after it passes unseen.
    pub fn intercept(
        &self,
        conn: &Arc<Conn>,
        id: u64,
        filter: &str,
        lanes: Lanes,
    ) -> Result<bool, String> {
        let filter = if filter.trim().is_empty() {
            None
        } else {
            Some(Filter::parse(filter).map_err(|e| format!("bad filter: {e}"))?)
        };
        let mut s = self.lock();
        if let Some(i) = &s.intercept {
            if i.conn.id != conn.id {
                return Err("another controller holds the intercept".into());
            }
        }
        let mut rest: Vec<Dir> = [Dir::C2s, Dir::S2c]
            .into_iter()
            .filter(|d| filter.is_some() && lanes.covers(*d))
            .collect();
        s.intercept = filter.map(|filter| Intercept {
            conn: conn.clone(),
            filter,
            lanes,
        });
        for dir in [Dir::C2s, Dir::S2c] {
            self.signal(dir);
        }
        let Some(first) = rest.pop() else {
            return Ok(false);
        };
        s.deferred[first as usize].push(Deferred::Reply {
            conn: conn.clone(),
            id,
            rest,
        });
        Ok(true)
    }

    /// Decides the fate of held message `hold`, which `conn` must hold.
    pub fn decide(
        &self,
        conn: &Conn,
        hold: u64,
        action: ReleaseAction,
        body: Option<Value>,
    ) -> Result<(), String> {
        let mut s = self.lock();
        match s.holds.get(&hold) {
            Some(h) if h.conn == conn.id => {}
            Some(_) => return Err(format!("hold {hold} belongs to another controller")),
            None => return Err(format!("no held message {hold}")),
        }
        let Some(h) = s.holds.remove(&hold) else {
            unreachable!("looked up above")
        };
        self.release(&mut s, hold, h, action, body);
        Ok(())
    }

    fn release(
        &self,
        s: &mut State,
        hold: u64,
        h: Held,
        action: ReleaseAction,
        body: Option<Value>,
    ) {
        let compact = |v: &Value| Bytes::from(serde_json::to_vec(v).unwrap_or_default());
        match action {
            ReleaseAction::Forward | ReleaseAction::Edit => {
                let edited = match (action, &body) {
                    (ReleaseAction::Edit, Some(b)) => Some(compact(b)),
                    _ => None,
                };
                s.jobs[h.dir as usize].push_back(Job::Release {
                    hold,
                    wire: h.wire,
                    edited,
                });
                self.signal(h.dir);
            }
            ReleaseAction::Drop | ReleaseAction::Answer => {
                self.tap.send(TapMsg::Release(Release {
                    t: Micros::now(),
                    dir: h.dir,
                    hold,
                    action,
                    body: None,
                }));
                if action == ReleaseAction::Answer {
                    let answer = answer_for(&h.body, body.unwrap_or(Value::Null));
                    let back = other(h.dir);
                    s.jobs[back as usize].push_back(Job::Inject {
                        body: compact(&answer).to_vec(),
                        done: None,
                    });
                    self.signal(back);
                }
            }
        }
    }

    /// Forwards every message `conn` holds, in the order they were held.
    pub fn forward_all(&self, conn: &Conn) {
        let mut s = self.lock();
        let mine: Vec<u64> = s
            .holds
            .iter()
            .filter(|(_, h)| h.conn == conn.id)
            .map(|(n, _)| *n)
            .collect();
        for hold in mine {
            if let Some(h) = s.holds.remove(&hold) {
                self.release(&mut s, hold, h, ReleaseAction::Forward, None);
            }
        }
    }

    /// `conn` hung up: what it holds goes on, its intercept is cleared, and responses to
    /// its injected requests are diverted to nowhere.
    pub fn disconnect(&self, conn: &Conn) {
        self.forward_all(conn);
        let mut s = self.lock();
        if s.intercept.as_ref().is_some_and(|i| i.conn.id == conn.id) {
            s.intercept = None;
        }
        for o in s.outstanding.values_mut() {
            if o.to.as_ref().is_some_and(|(c, _)| c.id == conn.id) {
                o.to = None;
            }
        }
        for dir in [Dir::C2s, Dir::S2c] {
            self.signal(dir);
        }
    }
}

/// The response a controller wrote for a held request: its object, with the request's
/// id and `"jsonrpc"` filled in when it leaves them out.
fn answer_for(request: &[u8], answer: Value) -> Value {
    let Value::Object(mut a) = answer else {
        return answer;
    };
    let id = serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|r| r.get("id").cloned());
    if let (false, Some(id)) = (a.contains_key("id"), id) {
        a.insert("id".into(), id);
    }
    if !a.contains_key("jsonrpc") {
        a.shift_insert(0, "jsonrpc".into(), "2.0".into());
    }
    Value::Object(a)
}
