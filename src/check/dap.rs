//! DAP rules: `seq` per direction, `request_seq` pairing, the initialization order
//! (initialize → response → `initialized` event → configurationDone), and the schema.

use super::{rules, schemas, Msg, Out};
use crate::record::Dir;
use std::collections::HashMap;

/// Requests waiting for a response, per direction; beyond, new ones are not paired.
const MAX_WAITING: usize = 1 << 16;

#[derive(Debug, Clone, Default)]
pub(crate) struct Lifecycle {
    last_seq: [Option<i64>; 2],
    /// seq → command of requests waiting, per direction of the request.
    waiting: [HashMap<i64, String>; 2],
    requested: bool,
    init_answered: bool,
    initialized_event: bool,
}

impl Lifecycle {
    pub fn message(&mut self, msg: &Msg, out: &mut Out) {
        let obj = msg.value;
        let ty = obj.get("type").and_then(|v| v.as_str()).unwrap_or_default();
        self.seq(msg, out);
        let seq = obj.get("seq").and_then(|v| v.as_i64());
        let name = match ty {
            "request" | "response" => obj.get("command"),
            "event" => obj.get("event"),
            _ => None,
        }
        .and_then(|v| v.as_str())
        .unwrap_or_default();
        let success = obj.get("success").and_then(|v| v.as_bool()).unwrap_or(true);
        match ty {
            "request" => self.request(msg.dir, seq, name, out),
            "response" => self.response(msg, name, success, out),
            "event" if name == "initialized" && msg.dir == Dir::S2c => {
                if !self.init_answered {
                    out.push(
                        &rules::DAP_INIT_ORDER,
                        "the initialized event before the initialize response",
                    );
                }
                self.initialized_event = true;
            }
            _ => {}
        }
        schemas::check_dap(msg.value, ty, name, success, out);
    }

    fn seq(&mut self, msg: &Msg, out: &mut Out) {
        let d = msg.dir as usize;
        let Some(seq) = msg.value.get("seq").and_then(|v| v.as_i64()) else {
            return; // the schema says what is wrong with it
        };
        let want = self.last_seq[d].map_or(1, |s| s + 1);
        if seq != want {
            let after = match self.last_seq[d] {
                Some(s) => format!("after {s}"),
                None => "as the first".to_owned(),
            };
            out.push(
                &rules::DAP_SEQ,
                format!("seq {seq} {after} (expected {want})"),
            );
        }
        self.last_seq[d] = Some(seq);
    }

    fn request(&mut self, dir: Dir, seq: Option<i64>, command: &str, out: &mut Out) {
        if dir == Dir::C2s {
            if !self.requested && command != "initialize" {
                out.push(
                    &rules::DAP_INIT_ORDER,
                    format!("the first request is {command}, not initialize"),
                );
            } else if self.requested && command == "initialize" {
                out.push(&rules::DAP_INIT_ORDER, "a second initialize request");
            }
            if command == "configurationDone" && !self.initialized_event {
                out.push(
                    &rules::DAP_INIT_ORDER,
                    "configurationDone before the initialized event",
                );
            }
            self.requested = true;
        }
        if let Some(seq) = seq {
            let w = &mut self.waiting[dir as usize];
            if w.len() < MAX_WAITING {
                w.insert(seq, command.to_owned());
            }
        }
    }

    fn response(&mut self, msg: &Msg, command: &str, success: bool, out: &mut Out) {
        let Some(rs) = msg.value.get("request_seq").and_then(|v| v.as_i64()) else {
            return;
        };
        match self.waiting[msg.dir.other() as usize].remove(&rs) {
            Some(c) if c == command => {
                if c == "initialize" && msg.dir == Dir::S2c && success {
                    self.init_answered = true;
                }
            }
            Some(c) => out.push(
                &rules::DAP_REQUEST_SEQ,
                format!("the response to request {rs} ({c}) says command {command:?}"),
            ),
            None => out.push(
                &rules::DAP_REQUEST_SEQ,
                format!("request_seq {rs} names no request of the other side still waiting"),
            ),
        }
    }
}
